"""`etender marketplace verify-selection RECORD`: 0 for a record that reproduces, 1 naming a changed seed,
coefficient, applicant, quote or credit score, or an ill-formed field, 2 for a file that is not JSON."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from cli.main import main
from core import clock
from marketplace import purchases
from marketplace import selection as sel
from tests.factories.marketplace import approved, market_world, purchase_input, select_now
from tests.factories.marketplace_shortlist import credit_firms, shortlisted

SERVER = bytes(range(32))
OWNER = ("owner:91130200MA0000001X", bytes(range(32, 64)))
APPS = [sel.Applicant(1, 1000), sel.Applicant(2, 990), sel.Applicant(3, 1200), sel.Applicant(4, 960)]


def _record() -> dict:
    outcome = sel.select(sel.OPTIMAL, True, APPS, SERVER, "ZJ-1/selection", [OWNER])
    return sel.to_record(
        purchase={"id": 1, "reference": "ZJ-1"},
        method=sel.OPTIMAL,
        state_funds=True,
        request_id="ZJ-1/selection",
        applicants=APPS,
        server_seed=SERVER,
        contributions=[OWNER],
        outcome=outcome,
    )


def run(path, *options: str):  # type: ignore[no-untyped-def]
    args = ["marketplace", "verify-selection", str(path), *options]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def offline(path):  # type: ignore[no-untyped-def]
    return run(path, "--offline")


def test_a_good_record_exits_0(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record()), encoding="utf-8")
    r = offline(path)
    assert r.exit_code == 0 and r.output.startswith("OK:"), r.output


def test_a_changed_quote_exits_1_naming_the_difference(tmp_path):
    doc = _record()
    winner = doc["result"]["winner"]
    for a in doc["applicants"]:
        if a["organisation_id"] == winner:
            a["quote_fen"] = 5000
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = offline(path)
    assert r.exit_code == 1 and "DIFFERENT: winner differs" in r.output, r.output


def test_a_changed_coefficient_and_a_missing_field(tmp_path):
    doc = _record()
    doc["result"]["coefficient_bp"] += 1
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert "coefficient_bp differs" in offline(path).output
    del doc["server_seed"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = offline(path)
    assert r.exit_code == 1 and "INVALID:" in r.output and "server_seed" in r.output


def test_not_json_exits_2(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json", encoding="utf-8")
    assert offline(path).exit_code == 2
    assert offline(tmp_path / "absent.json").exit_code == 2


@pytest.fixture
def selected(db, make, settings, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """A purchase selected on this platform; its record in a file, the CLI pointed at the test database."""
    w = market_world(db, make)
    firms = [approved(db, make, w.admin, f"检测公司{i}") for i in range(3)]
    p = purchases.post(db, w.owner, purchase_input())
    for i, (_, actor) in enumerate(firms):
        purchases.sign_up(db, actor, p.id, 40_000_000 + i * 100_000)
    clock.shift(timedelta(days=3, seconds=1))
    select_now(db, w.owner, p.id)
    doc = purchases.public_record(db, p.id)
    db.commit()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ETENDER_DATA", str(settings.data_dir))
    path = tmp_path / "record.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return doc, path


def test_a_record_of_this_platform_agrees_with_its_audit_log(selected):
    _, path = selected
    r = run(path)
    assert r.exit_code == 0 and "against this platform's audit log" in r.output, r.output


def test_a_record_rewritten_to_agree_with_itself_disagrees_with_the_log(selected, tmp_path):
    doc, _ = selected
    # a new server seed and the results recomputed from it: the record verifies offline, not against the log
    forged_seed = bytes(range(100, 132))
    apps = [sel.Applicant(a["organisation_id"], a["quote_fen"]) for a in doc["applicants"]]
    pairs = [(c["party"], bytes.fromhex(c["value"])) for c in doc["contributions"]]
    outcome = sel.select(doc["method"], doc["state_funds"], apps, forged_seed, doc["request_id"], pairs)
    forged = sel.to_record(
        purchase=doc["purchase"],
        method=doc["method"],
        state_funds=doc["state_funds"],
        request_id=doc["request_id"],
        applicants=apps,
        server_seed=forged_seed,
        contributions=pairs,
        outcome=outcome,
    )
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged), encoding="utf-8")
    assert offline(path).exit_code == 0
    r = run(path)
    assert r.exit_code == 1 and "commitment differs from the audit log's commitment entry" in r.output, (
        r.output
    )


def test_without_a_database_the_log_check_exits_2(selected, monkeypatch, tmp_path):
    _, path = selected
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("ETENDER_DATA", str(tmp_path / "elsewhere"))
    assert run(path).exit_code == 2


@pytest.fixture
def chosen(db, make, settings, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """A credit shortlist (etender-selection-2) chosen on this platform; its record in a file."""
    w = credit_firms(db, make)
    p = shortlisted(w, db)
    purchases.choose(db, w.owner, p.id, purchases.selection_of(db, p).record["result"]["short_list"][0], True)
    doc = purchases.public_record(db, p.id)
    db.commit()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ETENDER_DATA", str(settings.data_dir))
    path = tmp_path / "credit.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return doc, path


def test_a_credit_shortlist_record_agrees_with_the_log_and_a_changed_score_does_not(chosen, tmp_path):
    doc, path = chosen
    r = run(path)
    assert (
        r.exit_code == 0 and "etender-selection-2, credit, against this platform's audit log" in r.output
    ), r.output
    # the lowest score raised to the top: the long list and the short list are re-run from it
    low = min(doc["applicants"], key=lambda a: a["credit_score"])
    low["credit_score"] = 100
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = run(path)
    assert r.exit_code == 1 and "DIFFERENT: long_list differs" in r.output
    assert "applicants_sha256 differs from the audit log's commitment entry" in r.output, r.output
