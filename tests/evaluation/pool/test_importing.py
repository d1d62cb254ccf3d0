"""Bulk import of experts: CSV in UTF-8 and GBK, Excel; good rows kept, every bad row named with its row,
column and what to fix; idempotent on the identity number; the `etender experts import` command."""

import csv
import io
import random

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from audit.log import AuditEntry
from core import credit_code
from evaluation.pool import catalogue, importing, rules
from evaluation.pool.importing import FileRefused
from evaluation.pool.models import Expert, ExpertSpecialty, ExpertStatusChange

HEADER = ["姓名", "身份证号", "职称", "职称级别", "从业年限", "专业代码", "工作单位", "单位统一社会信用代码", "所在地区", "手机号码", "电子邮箱"]


def rid(n: int) -> str:
    first = f"33010619800101{n:03d}"
    return first + rules.resident_id_check(first)


def good(n: int, **changes) -> list[str]:
    row = {
        "姓名": f"专家{n}", "身份证号": rid(n), "职称": "高级工程师", "职称级别": "", "从业年限": "12", "专业代码": "A0101；A0701",
        "工作单位": "某某市建筑设计研究院有限公司", "单位统一社会信用代码": credit_code.generate(random.Random(n)), "所在地区": "某某市",
        "手机号码": "13812345678", "电子邮箱": "",
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
        good(4, 身份证号=rid(4)[:17] + ("0" if rid(4)[17] != "0" else "1"), 专业代码="A0101 Z999"),  # row 5: two problems
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
    assert experts["专家1"].specialty_codes == ["A0101", "A0701"] and experts["专家1"].title_level == "associate_senior"
    assert experts["专家1"].employments[0].org_code == experts["专家1"].employer_code
    assert db.scalar(select(func.count()).select_from(ExpertStatusChange)) == 2
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "evaluation.experts.imported"))
    assert entry.details["created"] == 2 and entry.details["bad_rows"] == 5 and entry.details["sha256"] == report.sha256


def test_gbk_csv_from_chinese_excel_is_read(db, admin):
    report = importing.import_experts(db, admin, "专家名单.csv", csv_bytes([good(1), good(2, 职称级别="正高级", 职称="教授级高级工程师")], "gbk"))
    assert report.encoding == "gb18030" and report.created == 2 and report.ok
    assert db.scalar(select(Expert.title_level).where(Expert.name == "专家2")) == "senior"


def test_importing_again_is_idempotent_and_updates_what_changed(db, admin):
    data = csv_bytes([good(1), good(2), good(3)])
    assert importing.import_experts(db, admin, "a.csv", data).created == 3
    db.commit()
    again = importing.import_experts(db, admin, "a.csv", data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    moved_to = credit_code.generate(random.Random(99))
    changed = importing.import_experts(db, admin, "b.csv", csv_bytes([
        good(1, 从业年限="13"), good(2, 专业代码="B0101"), good(3, 单位统一社会信用代码=moved_to, 工作单位="某某大学"), good(4),
    ]))
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
    assert jobs[credit_code.generate(random.Random(3))].end == jobs[moved_to].start  # the former employment closed the same day


def test_excel_files_are_read_and_a_number_mangled_by_excel_is_explained(db, admin):
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Identity number", "Professional title", "Title level", "Years in the field", "Specialty codes"])
    sheet.append(["专家1", rid(1), "高级工程师", "副高级", 12, "A0101"])
    sheet.append(["专家2", float(rid(2)[:17] + "0") if rid(2)[17] != "X" else 3.30106198001012e17, "高级工程师", "副高级", 10, "A0102"])
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
    assert e.value.problems[0].code == "columns_missing" and "身份证号" in e.value.problems[0].params["columns"]
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


def test_the_command_shows_progress_prints_the_summary_and_fails_on_a_bad_row(db, admin, database_url, tmp_path, monkeypatch):
    from cli.main import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ETENDER_DATA", str(tmp_path))
    path = tmp_path / "experts.csv"
    path.write_bytes(csv_bytes([good(1), good(2, 从业年限="3"), good(3)], "gbk"))
    result = CliRunner().invoke(main, ["experts", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert "3 rows read (gb18030)" in result.output and "2 experts added" in result.output and "1 bad rows not imported" in result.output
    assert "row 3, column 从业年限: Experts need at least 8 years of work in their field; 3 is not enough." in result.output
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
    rows = importing._xlsx_fast(data)
    assert rows[0] == [] and rows[1][:2] == ["姓名", "身份证号"] and rows[5][0] == "欧阳晓明"
    report = importing.import_experts(db, admin, "experts.xlsx", data)
    assert (report.created, report.bad_rows) == (2, 1)
    assert [(p.row, p.column, p.code) for p in report.problems] == [(5, "从业年限", "years_too_few")]
    assert db.scalar(select(Expert.name).where(Expert.id_number == rid(3))) == "欧阳晓明"
