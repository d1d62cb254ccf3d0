"""`etender experts verify-draw` (docs/expert-draw.md, "Verifying"): the strict record format (a field deleted
or ill-formed is exit 1 naming it, offline as well), --url against a running platform's public API (exit 0
when it verifies, 1 when the record disagrees with the log, 2 when it cannot be checked) and the local
database mode exiting 2, not crashing, when there is no database."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from audit import checkpoints
from cli.experts import experts
from core.signing import signing_key
from evaluation.committee import draw as pure
from evaluation.committee import draws
from tender import supervision
from tests.factories.experts import drawn
from tests.support import serving


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(experts, ["verify-draw", *args], catch_exceptions=False)


@pytest.fixture
def published(w, settings, tmp_path):  # type: ignore[no-untyped-def]
    """A draw whose tender was cancelled, its record published and covered by a signed checkpoint; yields
    (draw id, record, path of the record file)."""
    data = draws.DrawInput(
        committee_size=5, quotas=[("A", 3), ("B", 2)], evaluation_date=w.eval_day, substitutes=3
    )
    d = drawn(w, data)  # requested, then both parties' contributions
    supervision.cancel(w.db, w.agency, w.tender.id, "The budget was withdrawn")
    assert draws.publish_due_records(w.db) == [d.id]
    doc = draws.public_record(w.db, d.id)
    checkpoints.sign(w.db, signing_key(settings.data_dir, settings.origin), settings.origin)
    w.db.commit()
    path = tmp_path / "record.json"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    return d.id, doc, path


def write(tmp_path, doc, name: str = "changed.json"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False))
    return str(path)


def forged(doc: dict) -> dict:  # type: ignore[type-arg]
    """The record rewritten so that it agrees with itself: another server seed, its commitment and result
    redone."""
    doc = copy.deepcopy(doc)
    seed = bytes(range(32))
    doc["server_seed"], doc["commitment"] = seed.hex(), pure.commitment(seed).hex()
    req = doc["request"]
    request = pure.DrawRequest(
        req["request_id"],
        req["committee_size"],
        [pure.Quota(q["specialty"], q["seats"]) for q in req["quotas"]],
        req["substitutes"],
    )
    candidates = [pure.Candidate(c["expert_id"], tuple(c["specialties"])) for c in doc["candidates"]]
    contributions = [pure.Contribution(c["party"], bytes.fromhex(c["value"])) for c in doc["contributions"]]
    redone = pure.draw(request, candidates, seed, None, contributions=contributions)
    doc["result"] = {
        "seed": redone.seed.hex(),
        "ranking": redone.ranking,
        "members": [list(m) for m in redone.members],
        "substitutes": [list(s) for s in redone.substitutes],
    }
    return doc


# ---------------------------------------------------------------- the record's format, offline


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        (("exclusions_digest",), "exclusions_digest: missing"),
        (("result", "seed"), "result.seed: missing"),
        (("result", "ranking"), "result.ranking: missing"),
        (("draw", "commitment_audit_index"), "draw.commitment_audit_index: missing"),
        (("confirmations",), "confirmations: missing"),
    ],
)
def test_a_record_with_a_documented_field_deleted_is_wrong_even_offline(published, tmp_path, remove, named):
    _, doc, path = published
    assert run("--offline", str(path)).exit_code == 0
    doc = copy.deepcopy(doc)
    parent = doc
    for key in remove[:-1]:
        parent = parent[key]
    del parent[remove[-1]]
    result = run("--offline", write(tmp_path, doc))
    assert result.exit_code == 1
    assert f"INVALID: {named}" in result.output.splitlines()


def test_ill_formed_fields_are_named_and_a_null_detail_does_not_crash(published, tmp_path):
    _, doc, _ = published
    doc = copy.deepcopy(doc)
    doc["exclusions"] = [
        {"expert_id": 999, "reason": "penalty", "rule": "P12", "detail": None},
        {"expert_id": 999, "reason": "penalty", "rule": "P12", "detail": "x"},
    ]
    doc["candidates"][1]["expert_id"] = "7"
    doc["result"]["seed"] = doc["result"]["seed"].upper()
    doc["public_entropy"] = "not hex"
    doc["surprise"] = 1
    result = run("--offline", write(tmp_path, doc))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for field in ("candidates[1].expert_id", "exclusions[0].detail", "public_entropy", "result.seed"):
        assert any(line.startswith(f"INVALID: {field}: ") for line in lines), (field, lines)
    assert "INVALID: surprise: not a field of the record" in lines


def test_every_documented_value_verifies(published, tmp_path):
    # null public entropy, null replaces_position, empty exclusion detail, regions and committee: all as
    # published
    _, doc, path = published
    assert doc["public_entropy"] is None
    assert any(c["replaces_position"] is None for c in doc["confirmations"])
    ok = run("--offline", str(path))
    assert ok.exit_code == 0 and ok.output.startswith("OK:"), ok.output


def test_a_file_that_is_no_json_record_cannot_be_checked(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    assert run("--offline", str(bad)).exit_code == 2
    assert run("--offline", str(tmp_path / "absent.json")).exit_code == 2
    bad.write_text("[]")
    assert run("--offline", str(bad)).exit_code == 1  # JSON, but not a record


# ---------------------------------------------------------------- against a running platform (--url)


def test_verify_against_a_running_platform(published, settings, tmp_path):
    draw_id, doc, path = published
    with serving(settings) as url:
        by_id = run(str(draw_id), "--url", url)
        assert by_id.exit_code == 0, by_id.output + by_id.stderr
        assert f"against {url}" in by_id.output
        by_file = run(str(path), "--url", url)
        assert by_file.exit_code == 0, by_file.output + by_file.stderr

        fake = run(write(tmp_path, forged(doc)), "--url", url)
        assert fake.exit_code == 1  # agrees with itself, not with the commitment logged before the draw
        assert "commitment differs from the audit log's commitment entry" in fake.output
        assert "server_seed differs from the one published" in fake.output
        assert run("--offline", write(tmp_path, forged(doc), "f2.json")).exit_code == 0

        changed = copy.deepcopy(doc)
        changed["confirmations"][0]["status"] = (
            "declined" if changed["confirmations"][0]["status"] != "declined" else "confirmed"
        )
        result = run(write(tmp_path, changed), "--url", url)
        assert result.exit_code == 1 and "SHA-256 differs from the one published" in result.output

        elsewhere = copy.deepcopy(doc)
        elsewhere["draw"]["commitment_audit_index"] = 0
        result = run(write(tmp_path, elsewhere), "--url", url)
        assert result.exit_code == 1 and f"is not the commitment of draw:{draw_id}" in result.output

        unknown = run(str(draw_id + 1000), "--url", url)
        assert unknown.exit_code == 2 and "404" in unknown.stderr
    gone = run(str(path), "--url", url)  # the platform is no longer there
    assert gone.exit_code == 2 and "could not check" in gone.stderr
    assert run(str(path), "--url", "ftp://example").exit_code == 2
    assert run(str(path), "--url", "nowhere").exit_code == 2
    assert CliRunner().invoke(experts, ["verify-draw", str(path), "--url", url, "--offline"]).exit_code == 2


def test_a_publication_not_yet_signed_cannot_be_checked(w, settings, tmp_path):
    data = draws.DrawInput(
        committee_size=5, quotas=[("A", 3), ("B", 2)], evaluation_date=w.eval_day, substitutes=3
    )
    d = drawn(w, data)
    checkpoints.sign(w.db, signing_key(settings.data_dir, settings.origin), settings.origin)
    supervision.cancel(w.db, w.agency, w.tender.id, "The budget was withdrawn")
    doc = draws.public_record(w.db, d.id)  # published after the checkpoint
    w.db.commit()
    path = write(tmp_path, doc)
    with serving(settings) as url:
        # the test's clock stands still (draw_world moved it past the deadline), so the platform does not sign
        # a newer checkpoint on demand: the publication stays outside the signed tree
        result = run(path, "--url", url)
        assert result.exit_code == 2 and "not in the latest signed checkpoint yet" in result.stderr, (
            result.output
        )


# ---------------------------------------------------------------- this platform's own database


def test_without_a_database_the_local_check_exits_2(published, monkeypatch, tmp_path):
    _, _, path = published
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("ETENDER_DATA", str(tmp_path / "elsewhere"))
    result = run(str(path))
    assert result.exit_code == 2 and "--url BASE, or --offline" in result.stderr


def test_the_local_check_compares_the_same_as_the_public_one(published, settings, monkeypatch, tmp_path):
    _, doc, path = published
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ETENDER_DATA", str(settings.data_dir))
    ok = run(str(path))
    assert ok.exit_code == 0 and "against this platform's audit log" in ok.output, ok.output + ok.stderr
    changed = copy.deepcopy(doc)
    changed["committee"] = [
        {"expert_id": doc["candidates"][0]["expert_id"], "name": "Someone", "specialty": "A"}
    ]
    result = run(write(tmp_path, changed))
    assert result.exit_code == 1 and "SHA-256 differs from the one published" in result.output
    other = copy.deepcopy(doc)
    other["draw"]["id"] += 1000
    result = run(write(tmp_path, other, "other.json"))
    assert result.exit_code == 1 and f"no commitment for draw:{other['draw']['id']}" in result.output


# ---------------------------------------------------------------- the contributions (etender-draw-2)


def contribution_changed(doc: dict, how: str) -> dict:  # type: ignore[type-arg]
    doc = copy.deepcopy(doc)
    contributions = doc["contributions"]
    if how == "changed":
        contributions[0]["value"] = "ab" * 32
    elif how == "dropped":
        del contributions[1]
    elif how == "reordered":
        contributions.reverse()
    elif how == "moved":  # another index: the entry there is not this contribution's commitment
        contributions[0]["committed_audit_index"] = doc["draw"]["commitment_audit_index"]
    return doc


@pytest.mark.parametrize(
    ("how", "named"),
    [
        ("changed", "DIFFERENT: contributions[0] (agency:"),
        ("dropped", "INVALID: contributions: "),
        ("reordered", "DIFFERENT: contributions are not in the seed's order"),
    ],
)
def test_a_changed_dropped_or_reordered_contribution_fails_even_offline(published, tmp_path, how, named):
    _, doc, path = published
    ok = run("--offline", str(path))
    assert ok.exit_code == 0 and "contributions: agency:" in ok.output, ok.output
    result = run("--offline", write(tmp_path, contribution_changed(doc, how)))
    assert result.exit_code == 1
    assert any(line.startswith(named) for line in result.output.splitlines()), result.output


def test_the_contributions_are_checked_against_the_log_locally_and_by_url(
    published, settings, monkeypatch, tmp_path
):
    _, doc, path = published
    moved = write(tmp_path, contribution_changed(doc, "moved"))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ETENDER_DATA", str(settings.data_dir))
    local = run(moved)
    assert local.exit_code == 1
    assert "is not the commitment of a contribution" in local.output
    assert "not after the server's commitment" in local.output
    with serving(settings) as url:
        assert run(str(path), "--url", url).exit_code == 0
        remote = run(moved, "--url", url)
        assert remote.exit_code == 1 and "is not the commitment of a contribution" in remote.output
        value = copy.deepcopy(doc)
        seed = bytes(range(32, 64))
        value["contributions"][1]["value"] = seed.hex()
        value["contributions"][1]["commitment"] = pure.sha256(seed).hex()
        result = run(write(tmp_path, value, "value.json"), "--url", url)
        assert result.exit_code == 1
        assert "value differs from audit entry" in result.output and "seed mismatch" in result.output


def test_a_version_1_record_still_verifies(published, tmp_path):
    # a record of a draw made before the contributions existed (an old database's), rebuilt as it was
    _, doc, _ = published
    v1 = forged(doc)
    del v1["contributions"], v1["draw"]["abandoned_before"]
    v1["algorithm_version"] = pure.ALGORITHM_V1
    request = pure.DrawRequest(
        v1["request"]["request_id"],
        v1["request"]["committee_size"],
        [pure.Quota(q["specialty"], q["seats"]) for q in v1["request"]["quotas"]],
        v1["request"]["substitutes"],
    )
    candidates = [pure.Candidate(c["expert_id"], tuple(c["specialties"])) for c in v1["candidates"]]
    redone = pure.draw(request, candidates, bytes.fromhex(v1["server_seed"]), None)
    v1["result"] = {
        "seed": redone.seed.hex(),
        "ranking": redone.ranking,
        "members": [list(m) for m in redone.members],
        "substitutes": [list(s) for s in redone.substitutes],
    }
    result = run("--offline", write(tmp_path, v1, "v1.json"))
    assert result.exit_code == 0 and "etender-draw-1" in result.output, result.output
    v1["contributions"] = doc["contributions"]
    assert run("--offline", write(tmp_path, v1, "v1x.json")).exit_code == 1
