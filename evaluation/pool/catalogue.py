"""The specialty catalogue: the shipped default (evaluation/data/specialties.csv) and the tree it forms.

The default follows the shape of Chinese comprehensive expert-pool catalogues (综合评标评审专家专业分类标准):
three kinds at the top (A works, B goods, C services), then fields (A01), then the specialties experts are
registered in (A0101). A code's parent is the code without its last two characters; the top codes have one."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluation.pool.models import Specialty

DEFAULT_FILE = Path(__file__).parent / "data" / "specialties.csv"
KINDS = ("works", "goods", "services")


@dataclass(frozen=True)
class Entry:
    code: str
    name_zh: str
    name_en: str
    kind: str

    @property
    def parent_code(self) -> str | None:
        return parent_of(self.code)


def parent_of(code: str) -> str | None:
    return code[:-2] if len(code) > 1 else None


def read_catalogue(path: Path = DEFAULT_FILE) -> list[Entry]:
    """The catalogue file's entries, parents before children; refuses a file whose tree does not hold."""
    with path.open(encoding="utf-8", newline="") as f:
        entries = [
            Entry(r["code"].strip().upper(), r["name_zh"].strip(), r["name_en"].strip(), r["kind"].strip())
            for r in csv.DictReader(f)
        ]
    codes = {e.code for e in entries}
    if len(codes) != len(entries):
        raise ValueError(f"{path}: a code appears twice")
    for e in entries:
        if e.kind not in KINDS:
            raise ValueError(f"{path}: specialty {e.code} has kind {e.kind!r}; use one of {', '.join(KINDS)}")
        if e.parent_code is not None and e.parent_code not in codes:
            raise ValueError(f"{path}: specialty {e.code} has no parent {e.parent_code} in the file")
    return sorted(entries, key=lambda e: (len(e.code), e.code))


def load_catalogue(session: Session, entries: Iterable[Entry] | None = None) -> int:
    """Add the catalogue's specialties that are missing and refresh the names of those present; never
    removes one (experts may hold it). Safe to run at every start. Returns how many were added."""
    wanted = list(entries) if entries is not None else read_catalogue()
    present = {s.code: s for s in session.scalars(select(Specialty))}
    added = 0
    for e in sorted(wanted, key=lambda e: (len(e.code), e.code)):
        row = present.get(e.code)
        if row is None:
            session.add(
                Specialty(
                    code=e.code, parent_code=e.parent_code, name_zh=e.name_zh, name_en=e.name_en, kind=e.kind
                )
            )
            added += 1
        elif (row.name_zh, row.name_en, row.kind) != (e.name_zh, e.name_en, e.kind):
            row.name_zh, row.name_en, row.kind = e.name_zh, e.name_en, e.kind
    session.flush()
    return added


def all_specialties(session: Session) -> list[Specialty]:
    return list(session.scalars(select(Specialty).order_by(Specialty.code)))


def descendants(codes: Iterable[str], code: str) -> set[str]:
    """The code itself and every code below it in the tree."""
    return {c for c in codes if c.startswith(code)}


def leaves(specialties: Iterable[Specialty]) -> list[Specialty]:
    rows = list(specialties)
    parents = {s.parent_code for s in rows if s.parent_code}
    return [s for s in rows if s.code not in parents]


def label(specialty: Specialty, locale: str) -> str:
    return f"{specialty.code} {specialty.name_en if locale == 'en' else specialty.name_zh}"
