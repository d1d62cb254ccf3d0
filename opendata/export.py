"""The bulk export of the open data (`etender ocds export --out DIR`, docs/opendata.md): every stored release
as release packages, one package a line (releases.jsonl), and every process's compiled release, one a line
(compiled-releases.jsonl), streamed in batches so that memory stays the same whatever the size.

An export is a snapshot: it takes the feed up to the last release stored when it starts (export.json holds
that position). Interrupted, the next run into the same directory resumes it: it keeps every complete line,
drops a line cut short, and goes on after the last release and the last process written, so no release is
written twice. Once complete, a new run starts a new snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from core import clock
from core.settings import Settings
from opendata import mapping, releases, schema
from opendata.models import OcdsRelease

RELEASES = "releases.jsonl"
COMPILED = "compiled-releases.jsonl"
MANIFEST = "export.json"
PACKAGE_SIZE = 1000  # releases per package line


@dataclass
class Totals:
    releases: int  # to write in this run
    processes: int


@dataclass
class Result:
    releases: int
    packages: int
    compiled: int
    resumed: bool
    max_seq: int


def _complete_lines(path: Path) -> bytes:
    """The file's complete lines; a line cut short by an interruption is dropped from the file."""
    if not path.exists():
        return b""
    data = path.read_bytes()
    keep = data[: data.rfind(b"\n") + 1]
    if len(keep) != len(data):
        with path.open("r+b") as f:
            f.truncate(len(keep))
    return keep


def _last_line(path: Path) -> bytes | None:
    data = _complete_lines(path)
    if not data:
        return None
    lines = data.rstrip(b"\n").rsplit(b"\n", 1)
    return lines[-1]


def _ordered_releases(session: Session, after: int, upto: int, batch: int) -> Iterator[OcdsRelease]:
    for row in releases.stream(session, after=after, batch=batch):
        if row.seq > upto:
            return
        yield row


def _by_process(
    session: Session, after_ocid: str, upto: int, batch: int
) -> Iterator[tuple[str, list[bytes]]]:
    """Each process's releases (up to the snapshot), in ocid order, read in keyset batches of rows."""
    # resuming after a process: none of its releases again (its line is complete)
    ocid, seq = after_ocid, upto if after_ocid else 0
    current: str | None = None
    group: list[bytes] = []
    while True:
        rows = session.execute(
            select(OcdsRelease.ocid, OcdsRelease.seq, OcdsRelease.document)
            .where(OcdsRelease.seq <= upto)
            .where(tuple_(OcdsRelease.ocid, OcdsRelease.seq) > tuple_(ocid, seq))
            .order_by(OcdsRelease.ocid, OcdsRelease.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row_ocid, row_seq, document in rows:
            if row_ocid != current:
                if current is not None:
                    yield current, group
                current, group = row_ocid, []
            group.append(document.encode("utf-8"))
            ocid, seq = row_ocid, row_seq
    if current is not None:
        yield current, group


def plan(session: Session, out: Path) -> tuple[int, int, bool]:
    """(after, upto, resumed): the feed position to go on from, the snapshot's last, whether resuming."""
    manifest = out / MANIFEST
    if manifest.exists():
        state = json.loads(manifest.read_text())
        if not state.get("complete"):
            last = _last_line(out / RELEASES)
            after = 0
            if last is not None:
                last_id = json.loads(last)["releases"][-1]["id"]
                after = session.scalar(select(OcdsRelease.seq).where(OcdsRelease.release_id == last_id)) or 0
            return after, int(state["max_seq"]), True
    upto = session.scalar(select(func.max(OcdsRelease.seq))) or 0
    return 0, upto, False


def export(
    session: Session,
    settings: Settings,
    out: Path,
    *,
    package_size: int = PACKAGE_SIZE,
    batch: int = 1000,
    on_start: Callable[[Totals], None] = lambda totals: None,
    on_release: Callable[[int], None] = lambda n: None,
    on_process: Callable[[int], None] = lambda n: None,
) -> Result:
    out.mkdir(parents=True, exist_ok=True)
    after, upto, resumed = plan(session, out)
    manifest = out / MANIFEST
    manifest.write_text(json.dumps({"max_seq": upto, "complete": False, "version": schema.VERSION}))
    after_ocid = ""
    if resumed and (last := _last_line(out / COMPILED)) is not None:
        after_ocid = json.loads(last)["ocid"]
    total = (
        session.scalar(
            select(func.count(OcdsRelease.seq)).where(OcdsRelease.seq > after, OcdsRelease.seq <= upto)
        )
        or 0
    )
    processes = (
        session.scalar(
            select(func.count(func.distinct(OcdsRelease.ocid))).where(
                OcdsRelease.seq <= upto, OcdsRelease.ocid > after_ocid
            )
        )
        or 0
    )
    on_start(Totals(total, processes))
    mode = "ab" if resumed else "wb"
    written = packages = 0
    base = settings.public_url.rstrip("/")
    with (out / RELEASES).open(mode) as f:
        chunk: list[bytes] = []

        def flush() -> None:
            nonlocal packages
            # the same releases are in the feed: the package names it
            f.write(releases.package_bytes(settings, f"{base}/api/v1/ocds/releases", chunk) + b"\n")
            packages += 1
            on_release(len(chunk))
            chunk.clear()

        for row in _ordered_releases(session, after, upto, batch):
            chunk.append(row.document.encode("utf-8"))
            written += 1
            if len(chunk) >= package_size:
                flush()
        if chunk:
            flush()
    compiled = 0
    encoder = msgspec.json.Encoder(decimal_format="number")
    with (out / COMPILED).open(mode) as f:
        for _ocid, docs in _by_process(session, after_ocid, upto, batch):
            doc: dict[str, Any] = schema.compile_releases([releases.decode(d) for d in docs])
            f.write(encoder.encode(doc) + b"\n")
            compiled += 1
            on_process(1)
    manifest.write_text(
        json.dumps(
            {
                "max_seq": upto,
                "complete": True,
                "version": schema.VERSION,
                "finished": mapping.iso(clock.now()),
            }
        )
    )
    return Result(written, packages, compiled, resumed, upto)
