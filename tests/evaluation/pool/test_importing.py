"""Bulk import of experts: CSV in UTF-8 and GBK, Excel; good rows kept, every bad row named with its row,
column and what to fix; idempotent on the identity number; the `etender experts import` command."""

import csv
import datetime as dt
import io
import random
import zipfile

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from audit.log import AuditEntry
from core import credit_code
from evaluation.pool import catalogue, importing, rules
from evaluation.pool.importing import FileRefused
from evaluation.pool.models import Expert, ExpertSpecialty, ExpertStatusChange

HEADER = [
    "姓名",
    "身份证号",
    "职称",
    "职称级别",
    "从业年限",
    "专业代码",
    "工作单位",
    "单位统一社会信用代码",
    "所在地区",
    "手机号码",
    "电子邮箱",
]


def rid(n: int) -> str:
    first = f"33010619800101{n:03d}"
    return first + rules.resident_id_check(first)


def good(n: int, **changes) -> list[str]:
    row = {
        "姓名": f"专家{n}",
        "身份证号": rid(n),
        "职称": "高级工程师",
        "职称级别": "",
        "从业年限": "12",
        "专业代码": "A0101；A0701",
        "工作单位": "某某市建筑设计研究院有限公司",
        "单位统一社会信用代码": credit_code.generate(random.Random(n)),
        "所在地区": "某某市",
        "手机号码": "13812345678",
        "电子邮箱": "",
    }
    row.update(changes)
    return [row[h] for h in HEADER]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
def admin(make, db):
    catalogue.load_catalogue(db)
    centre = make.org("trading_centre")
    actor = make.actor(make.user(centre, "admin", username="admin"))
    db.commit()
    return actor


def test_good_rows_are_kept_and_every_bad_row_is_named(db, admin):
    rows = [
        good(1),
        good(2, 从业年限="5"),  # row 3: too few years (L37)
        good(3),
        good(
            4, 身份证号=rid(4)[:17] + ("0" if rid(4)[17] != "0" else "1"), 专业代码="A0101 Z999"
        ),  # row 5: two problems
        ["", "", "", "", "", "", "", "", "", "", ""],  # a blank row is skipped, not reported
        good(5, 职称="工程师"),  # row 7: not a senior title
        good(1, 姓名="重复的人"),  # row 8: the same person as row 2
        good(6, 职称="顾问"),  # row 9: level unreadable
    ]
    report = importing.import_experts(db, admin, "experts.csv", csv_bytes(rows))
    db.commit()
    assert (report.rows, report.created, report.bad_rows) == (7, 2, 5)
    assert not report.ok
    found = {(p.row, p.column, p.code) for p in report.problems}
    assert found == {
        (3, "从业年限", "years_too_few"),
        (5, "身份证号", "id_number_invalid"),
        (5, "专业代码", "specialty_unknown"),
        (7, "职称级别", "title_not_senior"),
        (8, "身份证号", "id_number_repeated"),
        (9, "职称级别", "title_level_unknown"),
    }
    repeated = next(p for p in report.problems if p.code == "id_number_repeated")
    assert repeated.params == {"row": 2}
    unknown = next(p for p in report.problems if p.code == "specialty_unknown")
    assert unknown.params["codes"] == "Z999" and unknown.value == "A0101 Z999"
    experts = {e.name: e for e in db.scalars(select(Expert))}
    assert set(experts) == {"专家1", "专家3"}
    assert (
        experts["专家1"].specialty_codes == ["A0101", "A0701"]
        and experts["专家1"].title_level == "associate_senior"
    )
    assert experts["专家1"].employments[0].org_code == experts["专家1"].employer_code
    assert db.scalar(select(func.count()).select_from(ExpertStatusChange)) == 2
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "evaluation.experts.imported"))
    assert (
        entry.details["created"] == 2
        and entry.details["bad_rows"] == 5
        and entry.details["sha256"] == report.sha256
    )


def test_gbk_csv_from_chinese_excel_is_read(db, admin):
    report = importing.import_experts(
        db,
        admin,
        "专家名单.csv",
        csv_bytes([good(1), good(2, 职称级别="正高级", 职称="教授级高级工程师")], "gbk"),
    )
    assert report.encoding == "gb18030" and report.created == 2 and report.ok
    assert db.scalar(select(Expert.title_level).where(Expert.name == "专家2")) == "senior"


def test_importing_again_is_idempotent_and_updates_what_changed(db, admin):
    data = csv_bytes([good(1), good(2), good(3)])
    assert importing.import_experts(db, admin, "a.csv", data).created == 3
    db.commit()
    again = importing.import_experts(db, admin, "a.csv", data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    moved_to = credit_code.generate(random.Random(99))
    changed = importing.import_experts(
        db,
        admin,
        "b.csv",
        csv_bytes(
            [
                good(1, 从业年限="13"),
                good(2, 专业代码="B0101"),
                good(3, 单位统一社会信用代码=moved_to, 工作单位="某某大学"),
                good(4),
            ]
        ),
    )
    db.commit()
    assert (changed.created, changed.updated, changed.unchanged) == (1, 3, 0)
    db.expire_all()
    assert db.scalar(select(Expert.years).where(Expert.name == "专家1")) == 13
    two = db.scalar(select(Expert).where(Expert.name == "专家2"))
    assert two.specialty_codes == ["B0101"]
    assert db.scalar(select(func.count()).select_from(Expert)) == 4
    assert db.scalar(select(func.count()).select_from(ExpertSpecialty)) == 7
    three = db.scalar(select(Expert).where(Expert.name == "专家3"))
    jobs = {j.org_code: j for j in three.employments}
    assert jobs[moved_to].end is None and jobs[moved_to].org_name == "某某大学"
    assert (
        jobs[credit_code.generate(random.Random(3))].end == jobs[moved_to].start
    )  # the former employment closed the same day


def test_excel_files_are_read_and_a_number_mangled_by_excel_is_explained(db, admin):
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "Name",
            "Identity number",
            "Professional title",
            "Title level",
            "Years in the field",
            "Specialty codes",
        ]
    )
    sheet.append(["专家1", rid(1), "高级工程师", "副高级", 12, "A0101"])
    sheet.append(
        [
            "专家2",
            float(rid(2)[:17] + "0") if rid(2)[17] != "X" else 3.30106198001012e17,
            "高级工程师",
            "副高级",
            10,
            "A0102",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    report = importing.import_experts(db, admin, "experts.xlsx", out.getvalue())
    assert report.created == 1 and report.bad_rows == 1
    (p,) = report.problems
    assert (p.row, p.column, p.code) == (3, "Identity number", "id_number_as_number")


def test_the_template_imports_cleanly(db, admin):
    assert importing.import_experts(db, admin, "template.csv", importing.template_csv()).created == 2
    db.rollback()
    report = importing.import_experts(db, admin, "template.xlsx", importing.template_xlsx())
    assert report.created == 2 and report.ok


def test_a_file_that_cannot_be_read_is_refused_as_a_whole(db, admin):
    with pytest.raises(FileRefused) as e:
        importing.import_experts(db, admin, "a.csv", csv_bytes([good(1)], header=["姓名", "手机号码"]))
    assert (
        e.value.problems[0].code == "columns_missing" and "身份证号" in e.value.problems[0].params["columns"]
    )
    with pytest.raises(FileRefused) as e:
        importing.import_experts(db, admin, "a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert e.value.problems[0].code == "xls_old"
    with pytest.raises(FileRefused) as e:
        importing.import_experts(db, admin, "a.csv", b"")
    assert e.value.problems[0].code == "file_empty"


def test_only_administrators_import(db, admin, make):
    expert = make.actor(make.user(None, "expert"))
    with pytest.raises(Exception) as e:
        importing.import_experts(db, expert, "a.csv", csv_bytes([good(1)]))
    assert getattr(e.value, "status", None) == 403


def test_the_command_shows_progress_prints_the_summary_and_fails_on_a_bad_row(
    db, admin, database_url, tmp_path, monkeypatch
):
    from cli.main import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ETENDER_DATA", str(tmp_path))
    path = tmp_path / "experts.csv"
    path.write_bytes(csv_bytes([good(1), good(2, 从业年限="3"), good(3)], "gbk"))
    result = CliRunner().invoke(main, ["experts", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert (
        "3 rows read (gb18030)" in result.output
        and "2 experts added" in result.output
        and "1 bad rows not imported" in result.output
    )
    assert (
        "row 3, column 从业年限: Experts need at least 8 years of work in their field; 3 is not enough."
        in result.output
    )
    path.write_bytes(csv_bytes([good(1), good(3)]))
    result = CliRunner().invoke(main, ["experts", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 experts added, 0 updated, 2 unchanged" in result.output
    result = CliRunner().invoke(main, ["experts", "import", str(path), "--as", "nobody"])
    assert result.exit_code == 2 and "no active administrator" in result.output


def test_excel_row_numbers_are_the_sheets_even_with_blank_rows_and_rich_text(db, admin):
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    book = Workbook()
    sheet = book.active

    def put(row: int, values: list) -> None:
        for column, value in enumerate(values, start=1):
            if value not in (None, ""):
                sheet.cell(row=row, column=column, value=value)

    put(2, HEADER)  # row 1 is left empty: the header is on row 2
    put(3, good(1))
    put(5, good(2, 从业年限="4"))  # row 4 is blank; row 5 is bad
    put(6, good(3))
    sheet["A6"] = CellRichText(TextBlock(InlineFont(b=True), "欧阳"), "晓明")
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    rows = list(importing.read_rows("experts.xlsx", data)[0])
    assert rows[0] == [] and rows[1][:2] == ["姓名", "身份证号"] and rows[5][0] == "欧阳晓明"
    report = importing.import_experts(db, admin, "experts.xlsx", data)
    assert (report.created, report.bad_rows) == (2, 1)
    assert [(p.row, p.column, p.code) for p in report.problems] == [(5, "从业年限", "years_too_few")]
    assert db.scalar(select(Expert.name).where(Expert.id_number == rid(3))) == "欧阳晓明"


# ---------------------------------------------------------------- reading .xlsx as the previous reader did
# The previous reader parsed the sheet's XML with ElementTree; python-calamine reads it now. These pin what
# the importer saw before, where calamine on its own would give something else.


def xlsx(fill, **patches: str) -> bytes:
    """A workbook written by openpyxl; `patches` replace text in the first sheet's XML (a stored form openpyxl
    does not write), as old=new pairs keyed by a label."""
    book = Workbook()
    fill(book)
    out = io.BytesIO()
    book.save(out)
    if not patches:
        return out.getvalue()
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = content.decode()
                for old_new in patches.values():
                    old, new = old_new.split("=>")
                    assert old in xml, old
                    xml = xml.replace(old, new)
                content = xml.encode()
            target.writestr(info, content)
    return patched.getvalue()


def rows_of(data: bytes) -> list[list]:
    rows, kind = importing.read_rows("experts.xlsx", data)
    assert kind == "xlsx"
    return list(rows)


def test_xlsx_numbers_booleans_and_dates_read_as_stored():
    def fill(book):
        s = book.active
        s.append(["int", 12, -7, 0, 13812345678, 1.5, 0.1 + 0.2, 3.30106198001012e17, True, False])
        s.append(
            [dt.date(2020, 1, 1), dt.datetime(2020, 1, 1, 12, 30), dt.time(12, 30), dt.timedelta(hours=36)]
        )
        for col, (value, fmt) in enumerate(
            [
                (43831, "yyyy-mm-dd"),
                (13812345678, "yyyy-mm-dd"),
                (12, "0.00%"),
                (12, "@"),
                (59, "yyyy-mm-dd"),
                (61, "yyyy-mm-dd"),
                (43831.123456789, "yyyy-mm-dd hh:mm:ss"),
                (-1, "yyyy-mm-dd"),
                (-0.5, "hh:mm"),
                (0.25, "hh:mm"),
                (1.5, "[h]:mm"),
            ],
            start=1,
        ):
            s.cell(row=3, column=col, value=value).number_format = fmt

    # whole numbers as int, others as float; a date or time as its serial number whatever the cell's format
    assert rows_of(xlsx(fill)) == [
        ["int", 12, -7, 0, 13812345678, 1.5, 0.3, 3.30106198001012e17, True, False],
        [43831, 43831.52083333334, 0.5208333333333334, 1.5],
        [43831, 13812345678, 12, 12, 59, 61, 43831.123456789, -1, -0.5, 0.25, 1.5],
    ]


def test_xlsx_whole_dates_read_as_serial_numbers_from_what_calamine_makes_of_them():
    # whole numbers only: the sheet's XML is not read again, the serial numbers come from calamine's dates
    def fill(book):
        s = book.active
        s.append([dt.date(2020, 1, 1), dt.date(1900, 1, 1), 12, 13812345678, dt.time(0, 0)])
        for col, value in enumerate([43831, 1, 59, 61, 2958465, 2958466, 13812345678, 0], start=1):
            s.cell(row=2, column=col, value=value).number_format = "yyyy-mm-dd"

    rows = rows_of(xlsx(fill))
    assert rows == [[43831, 1, 12, 13812345678, 0], [43831, 1, 59, 61, 2958465, 2958466, 13812345678, 0]]
    assert all(type(v) is int for row in rows for v in row)


def test_xlsx_dates_of_a_1904_workbook_are_its_own_serial_numbers():
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    def fill(book):
        book.epoch = CALENDAR_MAC_1904
        book.active.append([dt.date(2024, 1, 2), 7])

    data = xlsx(fill)
    assert b"date1904" in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")
    assert rows_of(data) == [[43831, 7]]


def test_xlsx_an_integer_stored_with_all_its_digits_keeps_them(db, admin):
    # Excel and openpyxl store a number as a double (15 to 17 digits); some writers store a 64-bit integer as
    # it is. An identity number so stored is still refused as a number, and shown with the digits in the file.
    number = rid(1)[:17] + "1"

    def fill(book):
        book.active.append(HEADER)
        book.active.append(good(1, 身份证号="ID-HERE"))

    stored = f'<c r="B2"><v>{number}</v></c>'
    data = xlsx(fill, id=f'<c r="B2" t="inlineStr"><is><t>ID-HERE</t></is></c>=>{stored}')
    assert rows_of(data)[1][1] == int(number)
    report = importing.import_experts(db, admin, "experts.xlsx", data)
    (p,) = report.problems
    assert (p.row, p.code, p.value) == (2, "id_number_as_number", number)


def test_xlsx_error_values_are_read_as_their_text(db, admin):
    # calamine returns an error cell (#N/A from a VLOOKUP) as empty; the previous reader gave its text, so
    # that a phone number that is #N/A is a bad phone number, not a missing one
    def fill(book):
        book.active.append(HEADER)
        book.active.append(good(1, 手机号码="#N/A"))
        book.active.append(good(2))

    data = xlsx(fill)
    assert b't="e"' in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert rows_of(data)[1][9] == "#N/A"
    report = importing.import_experts(db, admin, "experts.xlsx", data)
    assert (report.created, report.bad_rows) == (1, 1)
    assert {(p.row, p.column, p.value) for p in report.problems} == {(2, "手机号码", "#N/A")}


def test_xlsx_blank_leading_rows_and_columns_keep_their_places():
    def fill(book):
        s = book.active
        s["C3"] = "x"
        s["E5"] = 1
        s["B4"].number_format = "@"  # a cell stored without a value

    # (the previous reader also kept the cell stored without a value, as None: [None, None] for row 4)
    assert rows_of(xlsx(fill)) == [[], [], [None, None, "x"], [], [None, None, None, None, 1]]


def test_xlsx_the_first_sheet_is_read_not_the_active_or_a_visible_one():
    def fill(book):
        book.active.title = "hidden"
        book.active.append(["first"])
        book.active.sheet_state = "hidden"
        book.create_sheet("shown").append(["second"])
        book.create_sheet("before", 0).append(["really first"])
        book.active = 2

    assert rows_of(xlsx(fill)) == [["really first"]]


XL_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def test_xlsx_shared_strings_cells_without_references_and_formulas():
    def fill(book):
        book.active["A1"] = "placeholder"

    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
        '<c r="D1" t="str"><f>A1</f><v>cached</v></c><c r="E1"><f>1+1</f></c></row>'
        '<row><c><v>2</v></c><c t="inlineStr"><is><t>b</t></is></c></row>'
        '<row r="4"><c r="B4"><v>4</v></c><c><v>5</v></c></row>'
    )
    placeholder = '<row r="1"><c r="A1" t="inlineStr"><is><t>placeholder</t></is></c></row>'
    data = xlsx(fill, data=f"{placeholder}=>{sheet}")
    shared = (
        f"<sst {XL_NS}><si><t>plain</t></si><si><r><t>ri</t></r><r><rPr><b/></rPr><t>ch</t></r></si>"
        '<si><t>base</t><rPh sb="0" eb="1"><t>PH</t></rPh></si></sst>'
    )
    out = io.BytesIO()
    relation = (
        b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings"/></Relationships>'
    )
    source = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", relation)
            target.writestr(info, content)
        target.writestr("xl/sharedStrings.xml", shared)
    # E1 (a formula without its value) was None at the end of row 1; rows end with their last value now
    assert rows_of(out.getvalue()) == [["plain", "rich", "base", "cached"], [2, "b"], [], [None, 4, 5]]


def test_xlsx_a_grid_too_large_for_memory_is_refused_and_this_process_goes_on(db, admin):
    # calamine would allocate the whole grid from A1 to XFD1048576 (550 GB) and abort; the child process that
    # reads the file ends instead, and the file is refused as too large
    def fill(book):
        book.active["A1"] = "姓名"
        book.active["XFD1048576"] = 1

    with pytest.raises(FileRefused) as e:
        importing.import_experts(db, admin, "experts.xlsx", xlsx(fill))
    assert e.value.problems[0].code == "xlsx_too_large"


def test_xlsx_files_that_are_not_workbooks_are_refused_as_unreadable(db, admin):
    book = io.BytesIO()
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    template = importing.template_xlsx()
    broken = bytearray(template)
    start = broken.index(b"xl/worksheets/sheet1.xml") + 60
    broken[start : start + 200] = bytes(200)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100  # an old .xls (or an encrypted .xlsx)
    truncated = template[: len(template) // 2]
    not_zip = b"PK\x03\x04 not a zip"
    for data in (csv_bytes([good(1)]), not_zip, truncated, book.getvalue(), ole, bytes(broken)):
        with pytest.raises(FileRefused) as e:
            importing.import_experts(db, admin, "experts.xlsx", data)
        assert e.value.problems[0].code == "xlsx_unreadable", data[:20]


def test_xlsx_escapes_and_phonetic_guides_read_as_excel_means_them():
    # Where the previous reader was wrong (and disagreed with openpyxl, its own fallback): _x000D_ is how
    # Excel stores a carriage return; a phonetic guide (rPh) is not part of the text, shared or inline.
    def fill(book):
        book.active.append(["a_x000D_b", "placeholder"])

    data = xlsx(fill, rph='<t>placeholder</t>=><t>x</t><rPh sb="0" eb="1"><t>P</t></rPh>')
    assert rows_of(data) == [["a\rb", "x"]]
