"""The in-browser inclusion-proof check (web/static/js/audit-proof.js, WebCrypto SHA-256) run under Node,
which has the same WebCrypto API: it must accept every proof the Python verifier accepts (the CT known answers
and random trees) and reject a changed leaf, sibling, index or root. The Playwright test of the monitor's page
(tests/e2e/test_monitor_feed.py) runs it in Chromium where that is installed."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from audit import merkle
from tests.factories.merkle import CT_HASHES, CT_INCLUSION, CT_ROOTS, unhex

SCRIPT = Path(__file__).resolve().parents[2] / "web" / "static" / "js" / "audit-proof.js"
HARNESS = """
require(process.argv[1]);
const A = globalThis.etenderAudit;
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
  const out = [];
  for (const c of cases) {
    const leaf = c.entry !== undefined ? await A.leafHash(A.b64(c.entry)) : A.hex(c.leaf);
    out.push(await A.verifyInclusion(leaf, c.index, c.size, c.proof.map(A.hex), A.hex(c.root)));
  }
  console.log(JSON.stringify(out));
})();
"""


def run_js(cases: list[dict[str, object]]) -> list[bool]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "-e", HARNESS, str(SCRIPT)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def case(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> dict[str, object]:
    return {
        "leaf": leaf.hex(),
        "index": index,
        "size": size,
        "proof": [p.hex() for p in proof],
        "root": root.hex(),
    }


def test_ct_known_answers_verify_in_the_browser_code():
    cases = [case(CT_HASHES[i], i, n, unhex(path), bytes.fromhex(CT_ROOTS[n])) for i, n, path in CT_INCLUSION]
    assert run_js(cases) == [True] * len(cases)


def test_random_trees_and_every_kind_of_tampering():
    rng = random.Random(9)
    cases, expected = [], []
    for _ in range(40):
        size = rng.randint(1, 70)
        leaves = [merkle.leaf_hash(rng.randbytes(12)) for _ in range(size)]
        i = rng.randrange(size)
        proof, root = merkle.inclusion_proof(leaves, i, size), merkle.root(leaves)
        cases.append(case(leaves[i], i, size, proof, root))
        expected.append(True)
        cases.append(case(merkle.leaf_hash(b"forged"), i, size, proof, root))
        expected.append(False)
        cases.append(case(leaves[i], i, size, proof, merkle.node_hash(root, root)))
        expected.append(False)
        if proof:
            k = rng.randrange(len(proof))
            bad = [*proof[:k], bytes([proof[k][0] ^ 1]) + proof[k][1:], *proof[k + 1 :]]
            cases.append(case(leaves[i], i, size, bad, root))
            expected.append(False)
        if size > 1:
            j = (i + 1) % size
            cases.append(case(leaves[i], j, size, proof, root))
            expected.append(merkle.verify_inclusion(leaves[i], j, size, proof, root))
    assert run_js(cases) == expected


def test_the_leaf_hash_is_computed_from_the_entry_bytes_as_the_api_serves_them():
    import base64

    entries = [f'{{"index":{i},"tag":"tender.updated"}}'.encode() for i in range(5)]
    leaves = [merkle.leaf_hash(e) for e in entries]
    cases = [
        {
            "entry": base64.b64encode(entries[i]).decode(),
            "index": i,
            "size": 5,
            "proof": [p.hex() for p in merkle.inclusion_proof(leaves, i, 5)],
            "root": merkle.root(leaves).hex(),
        }
        for i in range(5)
    ]
    assert run_js(cases) == [True] * 5


def test_the_address_commitment_is_computed_as_the_python_verifier_computes_it():
    """A monitor's entry page checks the address it is shown against the entry's address_digest."""
    from audit.log import address_digest

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    pairs = [
        ("198.51.100.7", "ffeeddccbbaa99887766554433221100"),
        ("2001:db8::7", "00" * 16),
        ("", "ab" * 16),
    ]
    harness = """
require(process.argv[1]);
const pairs = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
  const out = [];
  for (const [ip, salt] of pairs) out.push(await globalThis.etenderAudit.addressDigest(ip, salt));
  console.log(JSON.stringify(out));
})();
"""
    done = subprocess.run(
        [node, "-e", harness, str(SCRIPT)],
        input=json.dumps(pairs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == [address_digest(salt, ip) for ip, salt in pairs]
