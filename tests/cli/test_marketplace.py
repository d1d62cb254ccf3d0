"""`etender marketplace verify-selection RECORD`: 0 for a record that reproduces, 1 naming a changed seed,
coefficient, applicant or quote, or an ill-formed field, 2 for a file that is not JSON."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli.main import main
from marketplace import selection as sel

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


def run(path) -> object:  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["marketplace", "verify-selection", str(path)], catch_exceptions=False)


def test_a_good_record_exits_0(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record()), encoding="utf-8")
    r = run(path)
    assert r.exit_code == 0 and r.output.startswith("OK:"), r.output


def test_a_changed_quote_exits_1_naming_the_difference(tmp_path):
    doc = _record()
    winner = doc["result"]["winner"]
    for a in doc["applicants"]:
        if a["organisation_id"] == winner:
            a["quote_fen"] = 5000
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = run(path)
    assert r.exit_code == 1 and "DIFFERENT: winner differs" in r.output, r.output


def test_a_changed_coefficient_and_a_missing_field(tmp_path):
    doc = _record()
    doc["result"]["coefficient_bp"] += 1
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert "coefficient_bp differs" in run(path).output
    del doc["server_seed"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = run(path)
    assert r.exit_code == 1 and "INVALID:" in r.output and "server_seed" in r.output


def test_not_json_exits_2(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json", encoding="utf-8")
    assert run(path).exit_code == 2
    assert run(tmp_path / "absent.json").exit_code == 2
