"""etender-draw-2, pure: the seed over the server seed and every party's contribution (its test vector
computed here by a few independent lines), the version 2 record's schema, and a verifier that fails when a
contribution is changed, dropped, added or reordered, or when its audit entries are missing, differ or come
in the wrong order. Version 1 records keep verifying as before (tests/evaluation/committee/test_draw.py)."""

from __future__ import annotations

import copy
import hashlib
import json
import struct

from core import fairdraw
from evaluation.committee.draw import (
    ALGORITHM_VERSION,
    TAG_CONTRIBUTION_COMMITTED,
    TAG_CONTRIBUTION_REVEALED,
    Candidate,
    Contribution,
    DrawRequest,
    Quota,
    contribution_log_differences,
    draw,
    feasibility_problems,
    log_differences,
    schema_problems,
    to_record,
    verify,
)

AGENCY = "agency:91330100MA2XXXXXX1"
MONITOR = "monitor:11330100MB0000000X"


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def p(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


# --- the test vector (docs/expert-draw.md) ------------------------------------------------------------------


def test_the_v2_seed_is_the_documented_bytes_computed_independently():
    server_seed = bytes(range(32))
    values = {AGENCY: bytes(range(32, 64)), MONITOR: bytes(range(64, 96))}
    # the pool root of 1, 2, 3 (RFC 9162) by hand
    leaves = [sha(b"\x00" + str(i).encode()) for i in (1, 2, 3)]
    root = sha(b"\x01" + sha(b"\x01" + leaves[0] + leaves[1]) + leaves[2])
    expected = sha(
        p(server_seed)
        + p(b"")
        + p(root)
        + p(b"ZB-2026-0042/draw-2")
        + p(AGENCY.encode())
        + p(values[AGENCY])
        + p(MONITOR.encode())
        + p(values[MONITOR])
    )
    assert expected.hex() == "4ddd813c11f2f8273b51e45f07b540898229c016a9a681c3dea872bdea761bf0"
    assert sha(values[AGENCY]).hex() == "72dbb7336c76780023f83da4c355f2eeea85733b13d3477697917790c1229084"
    # the code under test agrees
    assert fairdraw.pool_root([1, 2, 3]) == root
    pairs = [(AGENCY, values[AGENCY]), (MONITOR, values[MONITOR])]
    assert fairdraw.derive_seed(server_seed, None, root, "ZB-2026-0042/draw-2", pairs) == expected
    ranked = sorted([1, 2, 3, 10, 42], key=lambda i: (sha(expected + struct.pack(">Q", i)), i))
    assert ranked == [3, 2, 42, 10, 1]
    assert fairdraw.rank(expected, [1, 2, 3, 10, 42]) == ranked


def test_the_committee_draw_puts_the_contributions_in_the_seeds_order_itself():
    server_seed = bytes(range(32))
    values = {AGENCY: bytes(range(32, 64)), MONITOR: bytes(range(64, 96))}
    req = DrawRequest("ZB-2026-0042/draw-2", 5, [Quota("A", 1), Quota("B", 4)], 0)
    candidates = [Candidate(i, ("A",) if i == 1 else ("B",)) for i in (1, 2, 3, 10, 42)]
    root = fairdraw.pool_root([1, 2, 3, 10, 42])
    parts = p(server_seed) + p(b"") + p(root) + p(b"ZB-2026-0042/draw-2")
    expected = sha(parts + p(AGENCY.encode()) + p(values[AGENCY]) + p(MONITOR.encode()) + p(values[MONITOR]))
    given = [Contribution(MONITOR, values[MONITOR]), Contribution(AGENCY, values[AGENCY])]  # reversed
    assert draw(req, candidates, server_seed, None, contributions=given).seed == expected


def test_without_contributions_the_seed_is_version_1s():
    root = fairdraw.pool_root([1, 2, 3])
    assert fairdraw.derive_seed(bytes(32), None, root, "r") == fairdraw.derive_seed(
        bytes(32), None, root, "r", []
    )
    assert fairdraw.derive_seed(bytes(32), None, root, "r", [("a", b"x" * 32)]) != fairdraw.derive_seed(
        bytes(32), None, root, "r"
    )


# --- records ------------------------------------------------------------------------------------------------


def pool() -> list[Candidate]:
    out = [Candidate(i, ("civil",)) for i in range(1, 9)] + [Candidate(i, ("power",)) for i in range(50, 56)]
    return [*out, Candidate(99, ("civil", "power"))]


def v2_record() -> dict:
    req = DrawRequest("T-2026-0001/draw-ab12", 5, [Quota("civil", 3), Quota("power", 2)], 3)
    server_seed = sha(b"server")
    values = {AGENCY: sha(b"agency's browser"), MONITOR: sha(b"monitor's browser")}
    contributions = [Contribution(party, value) for party, value in values.items()]
    result = draw(req, pool(), server_seed, None, contributions=contributions)
    logged = [
        {
            "party": party,
            "commitment": sha(value).hex(),
            "value": value.hex(),
            "committed_audit_index": 11 + i,
            "revealed_audit_index": 13 + i,
        }
        for i, (party, value) in enumerate(values.items())
    ]
    record = to_record(req, pool(), server_seed, None, result, contributions=logged)
    record["draw"] = {
        "id": 7,
        "tender": "T-2026-0001",
        "evaluation_date": "2026-06-15",
        "regions": [],
        "exclude_local": False,
        "commitment_audit_index": 10,
        "abandoned_before": 0,
    }
    record["committee"] = []
    record["confirmations"] = []
    return json.loads(json.dumps(record))


def log_of(record: dict) -> dict[int, dict]:
    """The audit entries a v2 record names, as the platform logs them."""
    subject = f"draw:{record['draw']['id']}"
    out = {}
    for c in record["contributions"]:
        out[c["committed_audit_index"]] = {
            "tag": TAG_CONTRIBUTION_COMMITTED,
            "subject": subject,
            "details": {"party": c["party"], "commitment": c["commitment"]},
        }
        out[c["revealed_audit_index"]] = {
            "tag": TAG_CONTRIBUTION_REVEALED,
            "subject": subject,
            "details": {"party": c["party"], "commitment": c["commitment"], "value": c["value"]},
        }
    return out


def test_an_honest_v2_record_is_well_formed_verifies_and_agrees_with_its_log():
    record = v2_record()
    assert record["algorithm_version"] == ALGORITHM_VERSION == "etender-draw-2"
    assert [c["party"] for c in record["contributions"]] == [AGENCY, MONITOR]
    assert schema_problems(record) == []
    assert verify(record) == []
    assert contribution_log_differences(record, 10, log_of(record)) == []


def test_a_changed_contribution_value_is_found():
    record = v2_record()
    record["contributions"][1]["value"] = sha(b"another value").hex()
    problems = verify(record)
    assert any(p.startswith(f"contributions[1] ({MONITOR}): commitment mismatch") for p in problems)
    assert any(p.startswith("seed mismatch") for p in problems)


def test_a_changed_value_with_a_matching_commitment_is_found_by_the_seed_and_the_log():
    record = v2_record()
    value = sha(b"chosen after the fact")
    record["contributions"][0].update(value=value.hex(), commitment=sha(value).hex())
    assert any(p.startswith("seed mismatch") for p in verify(record))
    logged = contribution_log_differences(record, 10, log_of(v2_record()))
    assert any("commitment differs from audit entry 11" in p for p in logged)
    assert any("value differs from audit entry 13" in p for p in logged)


def test_a_dropped_contribution_is_found():
    record = v2_record()
    del record["contributions"][0]
    assert [p.split(":")[0] for p in schema_problems(record)] == ["contributions"]
    problems = verify(record)
    assert any("1 contribution(s)" in p for p in problems)
    assert any(p.startswith("seed mismatch") for p in problems)
    committed = {"index": 10, "details": {"parties": [AGENCY, MONITOR]}}
    assert any(p.startswith("parties differs") for p in log_differences(record, committed, None))


def test_reordered_contributions_are_found():
    record = v2_record()
    record["contributions"].reverse()
    problems = verify(record)
    assert any("not in the seed's order" in p for p in problems)
    assert any(p.startswith("seed mismatch") for p in problems)


def test_an_added_contribution_is_found():
    record = v2_record()
    extra = sha(b"a third party")
    record["contributions"].append(
        {
            "party": "monitor:zz",
            "commitment": sha(extra).hex(),
            "value": extra.hex(),
            "committed_audit_index": 12,
            "revealed_audit_index": 16,
        }
    )
    assert any(p.startswith("seed mismatch") for p in verify(record))
    assert any("no entry 16" in p for p in contribution_log_differences(record, 10, log_of(v2_record())))


def test_a_contribution_twice_is_found():
    record = v2_record()
    record["contributions"][1] = {**record["contributions"][0]}
    assert any("more than once" in p for p in verify(record))


def test_the_v2_schema_names_each_bad_contribution_field():
    record = v2_record()
    record["contributions"][0]["value"] = "ab"
    del record["contributions"][1]["revealed_audit_index"]
    record["contributions"][1]["note"] = "x"
    del record["draw"]["abandoned_before"]
    record["draw"]["commitment_audit_index"] = None
    assert [p.split(":")[0] for p in schema_problems(record)] == [
        "contributions[0].value",
        "contributions[1].note",
        "contributions[1].revealed_audit_index",
        "draw.abandoned_before",
        "draw.commitment_audit_index",
    ]
    # a version 1 record has none of these, and a version 2 one must
    v2 = v2_record()
    del v2["contributions"]
    assert schema_problems(v2) == ["contributions: missing"]
    assert schema_problems({**v2_record(), "algorithm_version": "etender-draw-9"})[0].startswith(
        "algorithm_version:"
    )


def test_the_log_must_hold_each_step_in_order():
    record = v2_record()
    log = log_of(record)
    # a commitment logged before the server's own (entry 10), a reveal before the last commitment
    assert any(
        "not after the server's commitment (entry 12)" in p
        for p in contribution_log_differences(record, 12, log)
    )
    early = copy.deepcopy(record)
    early["contributions"][0]["revealed_audit_index"] = 12
    log_early = {**log, 12: {**log[13], "details": log[13]["details"]}}
    assert any(
        "before the last party committed (entry 12)" in p
        for p in contribution_log_differences(early, 10, log_early)
    )
    # an entry that is missing, or of another tag or subject
    del log[14]
    log[11] = {**log[11], "subject": "draw:8"}
    problems = contribution_log_differences(record, 10, log)
    assert any("no entry 14" in p for p in problems)
    assert any("audit entry 11 is not the commitment" in p for p in problems)


def test_the_committed_entry_must_name_the_parties():
    record = v2_record()
    details = {
        "commitment": record["commitment"],
        "pool_root": record["pool_root"],
        "exclusions_digest": record["exclusions_digest"],
        "request_id": record["request"]["request_id"],
        "algorithm_version": ALGORITHM_VERSION,
        "quotas": record["request"]["quotas"],
        "parties": [AGENCY, MONITOR],
    }
    assert log_differences(record, {"index": 10, "details": details}, None) == [
        "the audit log holds no publication of draw 7's record"
    ]
    del details["parties"]
    assert log_differences(record, {"index": 10, "details": details}, None)[0].startswith("parties differs")


def test_the_feasibility_check_finds_quotas_no_seed_can_fill():
    req = DrawRequest("r", 5, [Quota("A", 3), Quota("B", 2)], 0)
    two_a = [Candidate(1, ("A",)), Candidate(2, ("A",)), Candidate(3, ("B",)), Candidate(4, ("B",))]
    assert feasibility_problems(req, two_a) == [("A", 3, 1)]
    # each quota alone could be filled, but three experts cannot take five seats
    both = [Candidate(i, ("A", "B")) for i in range(3)]
    assert feasibility_problems(req, both) == [("B", 2, 2)]
    assert feasibility_problems(req, [*two_a, Candidate(5, ("A",))]) == []
