"""The container's content rules defined once (tender/bidcontent.py, issue 12): one table of cases
(content_cases.py) gives the same verdict, code and parameters in Python and in the browser's sealer (run
here under Node's JavaScript engine; tests/e2e runs it in Chromium). And every bid that an independent sealer
made, that the keyless upload check accepted and that the opening then revoked (`container_invalid`), is now
refused by the platform's sealers with the code the opening records in its detail."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage.local import LocalBlobStore
from tender import bidcontent, sealing
from tender.opening import decryption
from tests.tender.content_cases import CASES, FILE, PRICE, _many, file, manifest, price, python_verdict

JS = Path(__file__).resolve().parents[2] / "web" / "static" / "js" / "etender-crypto.js"
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("label", "value", "code", "params"), CASES, ids=IDS)
def test_the_python_rules_give_each_case_its_verdict(label, value, code, params):
    got = python_verdict(value)
    assert got["code"] == code, label
    assert params.items() <= got["params"].items(), label
    assert bidcontent.verdict(value) == code


def test_every_code_has_a_case_and_a_message_with_its_parameters():
    codes = {c[2] for c in CASES} - {None}
    # container_sizes needs the sealed content's size: the opening's alone (test below)
    assert codes | {"container_sizes"} == set(bidcontent.CODES)
    for code, message in bidcontent.MESSAGES.items():
        assert set(bidcontent.PARAMS[code]) <= {"n", "name", "limit", "size"}, code
        assert message % {p: "x" for p in bidcontent.PARAMS[code]}


def test_the_trimmed_set_is_javascripts_trim_and_nothing_else():
    """Python's str.strip and JavaScript's trim disagree (U+001C..U+001F, U+0085, U+FEFF): the rules name
    their own set, which is trim's (checked against Node below), so a Python and a JS sealer trim alike."""
    assert bidcontent.trim("\u001c合格\u0085") == "\u001c合格\u0085"  # not trimmed: then refused as control
    assert bidcontent.trim("\ufeff\u3000合格 \n") == "合格"
    assert (
        bidcontent.check_price_form(price(quality_commitment="  合格\u3000"))["quality_commitment"] == "合格"
    )


def test_integers_written_with_a_fraction_are_refused_by_the_opening():
    """A text-level rule the JSON value cannot show in JavaScript (1.0 parses as 1): Python's reader, the
    opening's, refuses it; the platform's sealers never write one."""
    body = json.dumps(manifest()).replace('"duration_days": 60', '"duration_days": 60.0').encode()
    with pytest.raises(bidcontent.ContentInvalid) as e:
        bidcontent.check_manifest(bidcontent.parse_manifest(body))
    assert e.value.code == "container_duration"
    for bad in (b'{"a": NaN}', b"\xef\xbb\xbf{}", b"\xff", b"[1,", b"{" * 100000):
        with pytest.raises(bidcontent.ContentInvalid) as e:
            bidcontent.check_manifest(bidcontent.parse_manifest(bad))
        assert e.value.code == "container_manifest_json"


# ---------------------------------------------------------------- the same table in JavaScript (Node)

NODE_TABLE = """
const C = require(process.argv[1]);
let input = "";
process.stdin.on("data", (d) => (input += d)).on("end", () => {
  const job = JSON.parse(input);
  const out = job.cases.map((m) => { const r = C.checkContainer(m, job.rules); \
return {code: r.code, params: r.params || {}}; });
  const trimmed = job.rules.trimmed;
  let all = "";
  for (let c = 0; c <= 0xffff; c++) all += String.fromCharCode(c);
  const trimSet = Array.from(all).filter((ch) => ch.trim() === "");
  process.stdout.write(JSON.stringify({verdicts: out, trimSet: trimSet.join(""), trimmed}));
});
"""


def run_node(script: str, job: dict[str, Any]) -> Any:
    exe = shutil.which("node")
    if exe is None:
        pytest.skip("node is not installed: the browser's rules are then tested only in tests/e2e")
    result = subprocess.run(
        [exe, "-e", script, str(JS)], input=json.dumps(job), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_browsers_rules_give_the_same_verdicts_codes_and_parameters_as_pythons():
    got = run_node(NODE_TABLE, {"cases": [c[1] for c in CASES], "rules": bidcontent.rules_data()})
    python = [python_verdict(c[1]) for c in CASES]
    differ = [(label, p, j) for label, p, j in zip(IDS, python, got["verdicts"], strict=True) if p != j]
    assert differ == []
    assert sorted(got["trimSet"]) == sorted(bidcontent.TRIMMED)


# ---------------------------------------------------------------- accepted at upload, revoked at the opening


def make_bundle(policy: str = "quorum"):
    keys = [X25519PrivateKey.generate() for _ in range(3)]
    holders = tuple(
        sealing.Holder(i, sealing.key_id(sealing.public_bytes(k)), sealing.public_bytes(k))
        for i, k in enumerate(keys)
    )
    return sealing.KeyBundle(7, (70,), 2, policy, holders), keys


def seal_raw(bundle: sealing.KeyBundle, value: Any, contents: bytes) -> bytes:
    """What an independent sealer that follows only the byte layout writes: any manifest, unchecked."""
    body = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    plaintext = struct.pack(">I", len(body)) + body + contents
    data_key, bid_id, prefix = os.urandom(32), os.urandom(16).hex(), os.urandom(7)
    raw = {
        "format": sealing.FORMAT,
        "version": 1,
        "hpke": sealing.HPKE_SUITE_NAME,
        "tender_id": 7,
        "lot_id": 70,
        "bid_id": bid_id,
        "k": 2,
        "policy": "quorum",
        "holders": [h.key_id for h in bundle.holders],
        "bidder_key": None,
        "parts": sealing.wrap_parts(data_key, 7, 70, bid_id, 2, [h.public_key for h in bundle.holders], None),
        "key_check": sealing.key_check(data_key),
        "chunk_size": 4096,
        "nonce_prefix": prefix.hex(),
        "plaintext_size": len(plaintext),
    }
    head = sealing.canonical_json(raw)
    header = sealing.Header(raw, sealing.PREAMBLE_FIXED.pack(sealing.MAGIC, 1, len(head)) + head)
    out = io.BytesIO()
    out.write(header.preamble)
    sealing.encrypt_payload([plaintext], header, data_key, out.write)
    return out.getvalue()


# the issue's findings: each accepted by the upload check and revoked by the opening before; the JS sealer's
# inputs are files with bytes (its media type defaults to application/octet-stream, so it cannot omit one)
ISSUE_CASES = [
    ("name .", [file(name=".", size=3)], PRICE, "container_file_name_dot"),
    ("name ..", [file(name="..", size=3)], PRICE, "container_file_name_dot"),
    ("name empty", [file(name="", size=3)], PRICE, "container_file_name_empty"),
    (
        "no media type",
        [{k: v for k, v in FILE.items() if k != "media_type"} | {"size": 3}],
        PRICE,
        "container_media_type",
    ),
    ("quality of spaces", [file(size=3)], price(quality_commitment="   "), "container_quality"),
    (
        "manifest over 1 MiB",
        [f | {"size": 0} for f in _many(5000, 250)] + [file(size=3)],
        PRICE,
        "container_manifest_size",
    ),
    (
        "duplicate names (opened before)",
        [file(size=1), file(role="commercial", size=2)],
        PRICE,
        "container_file_name_duplicate",
    ),
]


@pytest.mark.parametrize(("label", "files", "form", "code"), ISSUE_CASES, ids=[c[0] for c in ISSUE_CASES])
def test_a_bid_the_opening_revokes_is_refused_by_the_sealers_with_the_same_code(
    tmp_path, label, files, form, code
):
    bundle, keys = make_bundle()
    value = manifest(price=form, files=files)
    sealed = seal_raw(bundle, value, b"abc")
    # the upload check is keyless (E26): the content is encrypted, so it cannot see any of this
    sealing.inspect(io.BytesIO(sealed), bundle, 70, total_size=len(sealed))
    # the opening revokes it (E31), the rule's code in its detail
    store = LocalBlobStore(tmp_path / "blobs")
    info = store.put([sealed])
    header = sealing.read_header(io.BytesIO(sealed))
    parts = [p for k in keys[:2] for p in sealing.unwrap_parts(header, k)]
    outcome = decryption.decrypt(store, decryption.Job(1, 1, 1, info.key, info.size, parts))
    assert (outcome.status, outcome.code) == ("revoked", "container_invalid")
    assert outcome.detail.startswith(f"container_invalid: {code}:"), outcome.detail
    # the Python sealer (etender bid seal) refuses it with the same code
    entries = [
        sealing.BidFile(
            f["role"], f["name"], f.get("media_type", ""), f["size"], io.BytesIO(b"x" * f["size"])
        )
        for f in files
    ]
    with pytest.raises(bidcontent.ContentInvalid) as e:
        sealing.seal(bundle, 70, entries, form, io.BytesIO())
    assert e.value.code == code
    # and so does the browser's sealer, unless it cannot write the fault at all
    if code != "container_media_type":
        got = run_node(
            NODE_SEAL,
            {"bundle": bundle.to_json(), "files": files, "price": form, "rules": bidcontent.rules_data()},
        )
        assert got == {"code": code}


NODE_SEAL = """
const C = require(process.argv[1]);
let input = "";
process.stdin.on("data", (d) => (input += d)).on("end", async () => {
  const job = JSON.parse(input);
  const files = job.files.map((f) => ({role: f.role, name: f.name, mediaType: f.media_type, \
data: new Uint8Array(f.size)}));
  let out;
  try { await C.sealBid(job.bundle, 70, files, job.price, {rules: job.rules}); out = {code: null}; }
  catch (e) { out = {code: e.code || e.message}; }
  process.stdout.write(JSON.stringify(out));
});
"""


def test_sizes_that_do_not_add_up_are_revoked_as_container_sizes():
    bundle, keys = make_bundle()
    sealed = seal_raw(bundle, manifest(files=[file(size=5)]), b"abc")
    header = sealing.read_header(io.BytesIO(sealed))
    parts = [p for k in keys[1:] for p in sealing.unwrap_parts(header, k)]
    with pytest.raises(sealing.DecryptionFailed) as e:
        sealing.open_bytes(sealed, parts)
    assert e.value.code == "container_invalid" and "container_sizes" in str(e.value)


def test_the_opening_records_the_trimmed_price_form_a_sealer_would_have_written():
    bundle, keys = make_bundle()
    sealed = seal_raw(
        bundle,
        manifest(
            price=price(quality_commitment="\u3000合格 ", bid_security_reference=" BG "), files=[file(size=3)]
        ),
        b"abc",
    )
    header = sealing.read_header(io.BytesIO(sealed))
    opened, contents = sealing.open_bytes(
        sealed, [p for k in keys[:2] for p in sealing.unwrap_parts(header, k)]
    )
    assert opened.price_form["quality_commitment"] == "合格"
    assert opened.price_form["bid_security_reference"] == "BG"
    assert contents == {"技术标.pdf": b"abc"}


def test_a_bid_opened_under_earlier_rules_is_still_read_for_the_evaluation_room():
    """read_file (the evaluation room) reads a bid its opening found valid without judging it again: a bid
    with two files of one name, which the rules as first applied opened, stays readable; a new opening
    revokes it."""
    bundle, keys = make_bundle()
    sealed = seal_raw(bundle, manifest(files=[file(size=1), file(role="commercial", size=2)]), b"abc")
    header = sealing.read_header(io.BytesIO(sealed))
    key = sealing.combine(header, [p for k in keys[:2] for p in sealing.unwrap_parts(header, k)])
    stream = io.BytesIO(sealed)
    sealing.read_header(stream)
    with pytest.raises(sealing.DecryptionFailed, match="container_file_name_duplicate"):
        sealing.open_bid(stream, header, key)
    stream = io.BytesIO(sealed)
    sealing.read_header(stream)
    got: list[bytes] = []
    opened = sealing.open_bid(stream, header, key, lambda f: got.append, judged=True)
    assert [f.size for f in opened.files] == [1, 2] and got == [b"a", b"bc"]
