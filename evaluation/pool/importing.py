"""Bulk import of experts from Excel (.xlsx) and CSV (UTF-8, or GBK/GB18030 as Chinese Excel saves it).

Every row is checked with the same rules as the form (evaluation.pool.expert_problems). Good rows are kept,
bad rows are named in the report with their row number, column and what to fix. The identity number is the
natural key: importing the same file twice changes nothing; a row whose number is already in the pool
updates that expert. Rows are written in bulk (one INSERT ... RETURNING per chunk), so that 100,000 experts
import in seconds, and the whole import is one audit entry holding the file's SHA-256."""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import marshal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.db import Base
from core.disclosure import Fact
from core.errors import N_, ValidationFailed
from core.identity import Actor
from evaluation.events import EvaluationTag
from evaluation.pool import experts as pool
from evaluation.pool import rules, xlsx_reader
from evaluation.pool.models import Expert, ExpertEmployment, ExpertSpecialty

CHUNK = 2000
MAX_UNZIPPED = 1024 * 1024 * 1024  # an .xlsx of 100,000 experts unpacks to about 65 MB
MAX_REPORTED = 2000  # problems kept in the report; the counts are always complete


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool
    aliases: tuple[str, ...] = ()


COLUMNS = [
    Column("name", "姓名", "Name", True),
    Column(
        "id_number",
        "身份证号",
        "Identity number",
        True,
        ("身份证号码", "证件号码", "证件号", "专家证号", "id number"),
    ),
    Column("title", "职称", "Professional title", True, ("title",)),
    Column("title_level", "职称级别", "Title level", False, ("职称等级", "level")),
    Column("years", "从业年限", "Years in the field", True, ("工作年限", "years")),
    Column("specialties", "专业代码", "Specialty codes", True, ("专业", "评标专业", "specialties")),
    Column("employer_name", "工作单位", "Employer", False, ("单位名称", "employer")),
    Column(
        "employer_code",
        "单位统一社会信用代码",
        "Employer credit code",
        False,
        ("统一社会信用代码", "信用代码"),
    ),
    Column("region", "所在地区", "Region", False, ("地区",)),
    Column("phone", "手机号码", "Mobile phone", False, ("手机", "电话", "联系电话", "phone")),
    Column("email", "电子邮箱", "E-mail", False, ("邮箱", "email", "e-mail")),
]
FIELD_OF_PROBLEM = {"specialties": "specialties"}  # Problem.field -> column key, where they differ


def _norm(header: str) -> str:
    return "".join(str(header).split()).lower().lstrip("\ufeff").rstrip("*")


_ZH = {c.key: c.zh for c in COLUMNS}
_HEADERS: dict[str, str] = {}
for _c in COLUMNS:
    for _h in (_c.key, _c.zh, _c.en, *_c.aliases):
        _HEADERS[_norm(_h)] = _c.key


@dataclass
class RowProblem:
    row: int  # the spreadsheet's row number: the header is row 1
    column: str  # the column's header as the file spells it ('' for the whole row)
    code: str
    message: str  # an English message id, translated where shown
    params: dict[str, Any] = field(default_factory=dict)
    value: str = ""


@dataclass
class ImportReport:
    filename: str
    sha256: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problems_left_out: int = 0
    seconds: float = 0.0
    encoding: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_rows == 0

    @property
    def good_rows(self) -> int:
        return self.created + self.updated + self.unchanged


class FileRefused(ValidationFailed):
    """The file as a whole cannot be read (wrong type, no header, a required column missing)."""


# ---------------------------------------------------------------- reading


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: what Chinese Excel writes as "CSV".
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as e:
        raise FileRefused.one(
            "encoding_unknown",
            N_('The file is neither UTF-8 nor GBK text. Save it from Excel as "CSV UTF-8" or as .xlsx.'),
            "file",
        ) from e


def _csv_rows(data: bytes) -> tuple[Iterator[list[Any]], str]:
    text, encoding = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), encoding


_XLSX_READER = Path(__file__).with_name("xlsx_reader.py")


def _xlsx_too_large() -> FileRefused:
    return FileRefused.one(
        "xlsx_too_large",
        N_("The Excel file unpacks to more than %(mb)s MB; split it into several files."),
        "file",
        mb=MAX_UNZIPPED // (1024 * 1024),
    )


def _xlsx_unreadable() -> FileRefused:
    return FileRefused.one(
        "xlsx_unreadable",
        N_(
            "The Excel file could not be read. Save it again as .xlsx (Excel 2007 or later) and upload it "
            "again.",
        ),
        "file",
    )


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    """The first worksheet's rows, read by python-calamine in a child process (evaluation/pool/xlsx_reader.py
    says why, and what the rows hold). Gaps (rows or cells Excel does not store) come back empty, so that row
    numbers are the sheet's."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            unpacked = sum(info.file_size for info in book.infolist())
            workbook = "xl/workbook.xml" in book.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError) as e:
        raise _xlsx_unreadable() from e
    # A zip bomb is refused by the declared sizes (the zip readers, Python's and calamine's, stop at them);
    # calamine's XML reader resolves no entities of a DTD. A sheet whose grid is too large for memory ends the
    # child process, not this one.
    if unpacked > MAX_UNZIPPED:
        raise _xlsx_too_large()
    if not workbook:
        raise _xlsx_unreadable()  # another zip (.ods, .xlsb, .docx): calamine would read the first two
    with tempfile.TemporaryFile() as errors:
        done = subprocess.run(  # noqa: S603 - this package's own script, run by this interpreter
            [sys.executable, "-P", str(_XLSX_READER)],
            input=data,
            stdout=subprocess.PIPE,
            stderr=errors,
            check=False,
        )
        errors.seek(0)
        said = errors.read()
    if done.returncode == xlsx_reader.TOO_LARGE or (done.returncode < 0 and b"memory allocation" in said):
        raise _xlsx_too_large()
    if done.returncode != xlsx_reader.OK:
        raise _xlsx_unreadable()
    out = io.BytesIO(done.stdout)
    rows: list[list[Any]] = []
    while out.tell() < len(done.stdout):
        rows.append(marshal.load(out))  # noqa: S302 - written by the child above, from values it built
    return iter(rows)


def read_rows(filename: str, data: bytes) -> tuple[Iterator[list[Any]], str]:
    name = filename.lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data), "xlsx"
    if name.endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRefused.one(
            "xls_old",
            N_("Old Excel files (.xls) are not read. Save the sheet as .xlsx or as CSV and upload it again."),
            "file",
        )
    return _csv_rows(data)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(row: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(row):
        key = _HEADERS.get(_norm(_text(cell)))
        if key and key not in found:
            found[key] = i
    missing = [c for c in COLUMNS if c.required and c.key not in found]
    if missing:
        raise FileRefused.one(
            "columns_missing",
            N_(
                "The first row must name the columns; these are missing: %(columns)s. Download the template "
                "to see the expected headers."
            ),
            "file",
            columns="、".join(f"{c.zh} ({c.en})" for c in missing),
        )
    return found


# ---------------------------------------------------------------- one row


def _split_codes(text: str) -> list[str]:
    for sep in ("；", ";", "、", "，", ",", "/", "|"):
        text = text.replace(sep, " ")
    return [c.upper() for c in text.split()]


def parse_row(
    cells: dict[str, Any], specialties: set[str]
) -> tuple[pool.ExpertInput | None, list[tuple[str, str, str, dict[str, Any]]]]:
    """(the expert, problems as (column key, code, message id, params)). Pure."""
    problems: list[tuple[str, str, str, dict[str, Any]]] = []
    raw_id = cells.get("id_number")
    if isinstance(raw_id, int | float) and not isinstance(raw_id, bool) and len(_text(raw_id)) >= 15:
        problems.append(
            (
                "id_number",
                "id_number_as_number",
                N_(
                    "Excel stored the identity number as a number and lost its last digits. Format the "
                    "column as text and type the number again."
                ),
                {},
            )
        )
    text = {k: _text(v) for k, v in cells.items()}
    years: int | None
    try:
        years_text = text.get("years", "").removesuffix("年")
        years = int(float(years_text)) if years_text else None
        if years is not None and float(years_text) != years:
            years = None
    except ValueError:
        years = None
    level_text = text.get("title_level", "")
    level = rules.parse_level(level_text) if level_text else rules.level_of_title(text.get("title", ""))
    if level_text and level is None:
        problems.append(
            (
                "title_level",
                "title_level_invalid",
                N_(
                    "Write the title level as 正高级, 副高级, 中级 or 初级 (or leave it empty to read it "
                    "from the title)."
                ),
                {},
            )
        )
    data = pool.clean(
        pool.ExpertInput(
            name=text.get("name", ""),
            id_number=text.get("id_number", ""),
            title=text.get("title", ""),
            title_level=level or "",
            years=years,
            specialties=_split_codes(text.get("specialties", "")),
            employer_code=text.get("employer_code", ""),
            employer_name=text.get("employer_name", ""),
            region=text.get("region", ""),
            phone=text.get("phone", ""),
            email=text.get("email", ""),
        )
    )
    for p in pool.expert_problems(data, specialties, None, None):
        if p.code == "title_level_invalid" and any(x[1] == "title_level_invalid" for x in problems):
            continue
        if p.code == "title_level_invalid" and not level_text:
            problems.append(
                (
                    "title_level",
                    "title_level_unknown",
                    N_(
                        "The level cannot be read from the title %(title)s; fill in the title level column "
                        "(正高级, 副高级, 中级 or 初级)."
                    ),
                    {"title": data.title},
                )
            )
            continue
        if p.code == "id_number_invalid" and problems and problems[0][1] == "id_number_as_number":
            continue
        problems.append(
            (FIELD_OF_PROBLEM.get(p.field or "", p.field or ""), p.code, p.message, dict(p.params))
        )
    return (None if problems else data), problems


# ---------------------------------------------------------------- the import


def _values(data: pool.ExpertInput) -> dict[str, Any]:
    return {
        "name": data.name,
        "id_number": data.id_number,
        "title": data.title,
        "title_level": data.title_level,
        "years": data.years or 0,
        "employer_code": data.employer_code,
        "employer_name": data.employer_name,
        "region": data.region,
        "phone": data.phone,
        "email": data.email,
    }


EXPERT_COLUMNS = (
    "name",
    "id_number",
    "title",
    "title_level",
    "years",
    "employer_code",
    "employer_name",
    "region",
    "phone",
    "email",
)
COMPARED = (
    "name",
    "title",
    "title_level",
    "years",
    "employer_code",
    "employer_name",
    "region",
    "phone",
    "email",
)


class _Writer:
    """Writes good rows chunk by chunk: inserts the new, updates the changed, skips the unchanged."""

    def __init__(self, session: Session, report: ImportReport):
        self.session = session
        self.report = report
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.today = clock.to_cst(clock.now()).date()
        self.now = clock.now()
        cols = [getattr(Expert, c) for c in ("id", "id_number", *COMPARED)]
        self.existing: dict[str, tuple[Any, ...]] = {
            r[1]: tuple(r) for r in session.execute(select(*cols).where(Expert.id_number.is_not(None)))
        }
        self.codes: dict[int, list[str]] = {}
        for expert_id, code in session.execute(
            select(ExpertSpecialty.expert_id, ExpertSpecialty.specialty_code).order_by(
                ExpertSpecialty.expert_id, ExpertSpecialty.specialty_code
            )
        ):
            self.codes.setdefault(expert_id, []).append(code)

    def _new_ids(self, n: int) -> list[int]:
        """Ids for n new experts, taken before the rows are written so that the dependent rows need no
        RETURNING."""
        if self.postgres:
            return list(
                self.session.scalars(
                    text(
                        "SELECT nextval(pg_get_serial_sequence('experts', 'id')) FROM generate_series(1, :n)"
                    ),
                    {"n": n},
                )
            )
        # SQLite: the unit of work began with BEGIN IMMEDIATE
        # and holds the write lock, so nobody else takes these
        top = int(self.session.scalar(select(func.max(Expert.id))) or 0)
        return list(range(top + 1, top + 1 + n))

    def _insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.postgres:
            # COPY is PostgreSQL's bulk load: an order of magnitude faster than INSERTs for 100,000 rows.
            driver = self.session.connection().connection.driver_connection
            with driver.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
            return
        # SQLite: the driver's executemany, with each value
        # converted as the column type stores it (dates, UTC times)
        columns_of = Base.metadata.tables[table].c
        dialect = self.session.get_bind().dialect
        convert = [columns_of[c].type._cached_bind_processor(dialect) for c in columns]
        if any(convert):
            rows = [tuple(f(v) if f else v for f, v in zip(convert, row, strict=True)) for row in rows]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608 - table and column names are this module's constants
        self.session.connection().connection.driver_connection.executemany(sql, rows)  # type: ignore[union-attr]

    def write(self, rows: list[pool.ExpertInput]) -> None:
        new, changed, respecialised, moved = [], [], [], []
        for data in rows:
            old = self.existing.get(data.id_number)
            if old is None:
                new.append(data)
                continue
            values = _values(data)
            expert_id = old[0]
            fields_differ = any(values[c] != old[2 + i] for i, c in enumerate(COMPARED))
            codes_differ = self.codes.get(expert_id, []) != data.specialties
            if fields_differ:
                changed.append({"id": expert_id, **values, "updated_at": self.now})
                if values["employer_code"] != old[2 + COMPARED.index("employer_code")]:
                    moved.append((expert_id, data.employer_code, data.employer_name))
            if codes_differ:
                respecialised.append((expert_id, data.specialties))
            if fields_differ or codes_differ:
                self.report.updated += 1
            else:
                self.report.unchanged += 1
        if new:
            ids = self._new_ids(len(new))
            by_number = {d.id_number: d for d in new}
            numbers = dict(zip(by_number, ids, strict=True))
            expert_columns = (
                "id",
                *EXPERT_COLUMNS,
                "status",
                "status_since",
                "status_reason",
                "created_at",
                "updated_at",
            )
            self._insert(
                "experts",
                expert_columns,
                [
                    (
                        numbers[n],
                        d.name,
                        d.id_number,
                        d.title,
                        d.title_level,
                        d.years or 0,
                        d.employer_code,
                        d.employer_name,
                        d.region,
                        d.phone,
                        d.email,
                        "active",
                        self.today,
                        "",
                        self.now,
                        self.now,
                    )
                    for n, d in by_number.items()
                ],
            )
            self._insert(
                "expert_specialties",
                ("expert_id", "specialty_code"),
                [(numbers[n], c) for n, d in by_number.items() for c in d.specialties],
            )
            self._insert(
                "expert_employments",
                ("expert_id", "org_code", "org_name", "position"),
                [
                    (numbers[n], d.employer_code, d.employer_name, "")
                    for n, d in by_number.items()
                    if d.employer_code
                ],
            )
            self._insert(
                "expert_status_changes",
                ("expert_id", "status", "since", "reason", "changed_at"),
                [(numbers[n], "active", self.today, "", self.now) for n in by_number],
            )
            for n, d in by_number.items():
                values = _values(d)
                self.existing[n] = (numbers[n], n, *(values[c] for c in COMPARED))
                self.codes[numbers[n]] = list(d.specialties)
            self.report.created += len(new)
        if changed:
            self.session.execute(update(Expert), changed)
        for expert_id, code, name in moved:
            # As in the form: the employment at the former employer
            # ends today, the new one starts (GR9 reads them).
            self.session.execute(
                update(ExpertEmployment)
                .where(
                    ExpertEmployment.expert_id == expert_id,
                    ExpertEmployment.end.is_(None),
                    ExpertEmployment.org_code != code,
                )
                .values(end=self.today)
            )
            if code:
                self._insert(
                    "expert_employments",
                    ("expert_id", "org_code", "org_name", "start", "position"),
                    [(expert_id, code, name, self.today, "")],
                )
        if respecialised:
            self.session.execute(
                delete(ExpertSpecialty).where(ExpertSpecialty.expert_id.in_([e for e, _ in respecialised]))
            )
            self._insert(
                "expert_specialties",
                ("expert_id", "specialty_code"),
                [(e, c) for e, codes in respecialised for c in codes],
            )
            for e, codes in respecialised:
                self.codes[e] = list(codes)


def import_experts(
    session: Session,
    actor: Actor,
    filename: str,
    data: bytes,
    progress: Callable[[int], None] | None = None,
    total_hint: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a file of experts in the caller's transaction. Raises FileRefused when the file as a whole
    cannot be read; otherwise returns the report (bad rows are in it, good rows are written)."""
    pool.require_admin(actor)
    # 100,000 rows make millions of small objects that live to the end: the cyclic collector would walk them
    # again and again for nothing (a third of the time), so it pauses during the import.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _import(session, actor, filename, data, progress, total_hint)
    finally:
        if collecting:
            gc.enable()


def _import(
    session: Session,
    actor: Actor,
    filename: str,
    data: bytes,
    progress: Callable[[int], None] | None,
    total_hint: Callable[[int], None] | None,
) -> ImportReport:
    started = time.perf_counter()
    report = ImportReport(filename=Path(filename).name, sha256=hashlib.sha256(data).hexdigest())
    rows, report.encoding = read_rows(filename, data)
    header_row: list[Any] | None = None
    header_number = 0
    for row in rows:
        header_number += 1
        if any(_text(c) for c in row):
            header_row = row
            break
    if header_row is None:
        raise FileRefused.one(
            "file_empty",
            N_("The file holds no rows. Use the template and fill in one expert per row."),
            "file",
        )
    columns = _header(header_row)
    header_text = {key: _text(header_row[i]) for key, i in columns.items()}
    body = list(rows)
    if total_hint is not None:
        total_hint(len(body))
    specialties = pool.known_specialties(session)
    writer = _Writer(session, report)
    seen: dict[str, int] = {}
    chunk: list[pool.ExpertInput] = []
    done = 0
    for offset, row in enumerate(body):
        number = header_number + 1 + offset  # the sheet's own row number
        done += 1
        if any(_text(c) for c in row):
            report.rows += 1
            cells = {key: (row[i] if i < len(row) else None) for key, i in columns.items()}
            expert, problems = parse_row(cells, specialties)
            if expert is not None and expert.id_number in seen:
                problems = [
                    (
                        "id_number",
                        "id_number_repeated",
                        N_(
                            "The same identity number is already on row %(row)s of this file; keep one row "
                            "per expert."
                        ),
                        {"row": seen[expert.id_number]},
                    )
                ]
                expert = None
            if expert is None:
                report.bad_rows += 1
                for key, code, message, params in problems:
                    if len(report.problems) < MAX_REPORTED:
                        # a column absent from the file (an optional one) is named as the template names it
                        column = header_text.get(key) or _ZH.get(key, key)
                        report.problems.append(
                            RowProblem(number, column, code, message, params, _text(cells.get(key)))
                        )
                    else:
                        report.problems_left_out += 1
            else:
                seen[expert.id_number] = number
                chunk.append(expert)
        if len(chunk) >= CHUNK:
            writer.write(chunk)
            chunk = []
        if progress is not None and done % CHUNK == 0:
            progress(CHUNK)
    if chunk:
        writer.write(chunk)
    if progress is not None and done % CHUNK:
        progress(done % CHUNK)
    report.seconds = time.perf_counter() - started
    record(
        session,
        EvaluationTag.experts_imported,
        actor=actor,
        subject="experts",
        withhold=Fact.expert_pool,  # R46; policy: monitors and administrators only
        details={
            "file": report.filename,
            "sha256": report.sha256,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "bad_rows": report.bad_rows,
        },
    )
    return report


# ---------------------------------------------------------------- the template


EXAMPLE_ROWS = [
    [
        "王建华",
        "330106198001010013",
        "高级工程师",
        "副高级",
        "15",
        "A0101;A0701",
        "某某市建筑设计研究院有限公司",
        "",
        "某某市",
        "13812345678",
        "wangjh@example.com",
    ],
    [
        "李海燕",
        "330127197512120027",
        "主任医师",
        "正高级",
        "22",
        "B0101",
        "某某市第一人民医院",
        "",
        "某某县",
        "13912345678",
        "",
    ],
]


def template_csv() -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([c.zh for c in COLUMNS])
    w.writerows(EXAMPLE_ROWS)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")  # the BOM makes Excel open it as UTF-8


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "专家"
    sheet.append([c.zh for c in COLUMNS])
    for row in EXAMPLE_ROWS:
        sheet.append(row)
    for col, c in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=col).column_letter
        sheet.column_dimensions[letter].width = (
            22 if c.key in ("id_number", "employer_name", "employer_code") else 14
        )
        for r in range(2, 200):
            sheet.cell(
                row=r, column=col
            ).number_format = "@"  # text: Excel keeps all 18 digits of an identity number
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
