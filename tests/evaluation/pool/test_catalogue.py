"""The shipped specialty catalogue: a well-formed tree, loaded idempotently."""

from sqlalchemy import func, select

from evaluation.pool import catalogue
from evaluation.pool.models import Specialty


def test_the_default_catalogue_is_a_tree_of_works_goods_and_services():
    entries = catalogue.read_catalogue()
    codes = {e.code for e in entries}
    assert {e.code for e in entries if e.parent_code is None} == {"A", "B", "C"}
    assert {e.kind for e in entries if e.code.startswith("A")} == {"works"}
    assert {e.kind for e in entries if e.code.startswith("B")} == {"goods"}
    assert {e.kind for e in entries if e.code.startswith("C")} == {"services"}
    assert all(e.parent_code in codes for e in entries if e.parent_code)
    leaves = [e for e in entries if not any(o.parent_code == e.code for o in entries)]
    assert len(leaves) >= 50
    assert all(len(e.code) == 5 for e in leaves)  # A -> A01 -> A0101
    assert all(e.name_zh and e.name_en and e.name_zh != e.name_en for e in entries)
    assert next(e for e in entries if e.code == "A0101").name_zh == "建筑工程施工"
    # parents come before children, so that the rows can be inserted in order
    position = {e.code: i for i, e in enumerate(entries)}
    assert all(position[e.parent_code] < position[e.code] for e in entries if e.parent_code)


def test_a_broken_catalogue_file_is_refused_with_the_reason(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name_zh,name_en,kind\nA,工程类,Works,works\nB0101,医学影像设备,Imaging,goods\n",
        encoding="utf-8",
    )
    try:
        catalogue.read_catalogue(bad)
    except ValueError as e:
        assert "B0101 has no parent B01" in str(e)
    else:
        raise AssertionError("an orphan specialty was accepted")


def test_loading_twice_adds_nothing_and_keeps_extra_specialties(db):
    first = catalogue.load_catalogue(db)
    assert first == len(catalogue.read_catalogue())
    db.add(Specialty(code="Z", parent_code=None, name_zh="本地专业", name_en="Local", kind="services"))
    row = db.get(Specialty, "A0101")
    row.name_zh = "改过的名称"
    db.commit()
    assert catalogue.load_catalogue(db) == 0
    db.commit()
    assert db.get(Specialty, "A0101").name_zh == "建筑工程施工"  # the shipped name is restored
    assert db.get(Specialty, "Z") is not None  # never removed: experts may hold it
    assert db.scalar(select(func.count()).select_from(Specialty)) == first + 1
    assert db.get(Specialty, "A0101").parent_code == "A01"


def test_descendants_follow_the_codes():
    codes = [e.code for e in catalogue.read_catalogue()]
    below = catalogue.descendants(codes, "A01")
    assert "A01" in below and "A0101" in below and "A0201" not in below and "A" not in below


def test_the_database_upgrade_command_loads_the_catalogue_idempotently(
    db, database_url, monkeypatch, tmp_path
):
    from click.testing import CliRunner

    from cli.main import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ETENDER_DATA", str(tmp_path))
    for _ in range(2):
        result = CliRunner().invoke(main, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert db.scalar(select(func.count()).select_from(Specialty)) == len(catalogue.read_catalogue())
        db.rollback()
