"""The sealed-bid format (tender/sealing.py) and key files (tender/keyfiles.py): round trips, k-1 parts open
nothing, every tampering refused with its reason, and a bid built from docs/sealed-bid-format.md alone
with `cryptography`'s HPKE and AES-GCM (not the project's sealing code) that the platform opens."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tender import bidcontent, keyfiles
from tender import sealing as s

PRICE = {
    "total_price_fen": 98_765_43,
    "duration_days": 90,
    "quality_commitment": "合格",
    "bid_security_reference": "BG-2026-001",
}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "sealed-bid-format.md"


def make_bundle(
    n: int = 3, k: int = 2, policy: str = "quorum", tender_id: int = 41, lots: tuple[int, ...] = (410, 411)
):
    keys = [X25519PrivateKey.generate() for _ in range(n)]
    holders = tuple(
        s.Holder(i, s.key_id(s.public_bytes(key)), s.public_bytes(key), f"holder {i}")
        for i, key in enumerate(keys)
    )
    return s.KeyBundle(tender_id, lots, k, policy, holders, "ET-2026-000041"), keys


def seal_bytes(
    bundle, files: dict[str, bytes], lot: int = 410, bidder=None, chunk_size: int = 1024, price=PRICE
) -> bytes:
    out = io.BytesIO()
    entries = [
        s.BidFile(role, f"{role}.pdf", "application/pdf", len(data), io.BytesIO(data))
        for role, data in files.items()
    ]
    s.seal(
        bundle,
        lot,
        entries,
        price,
        out,
        bidder_public_key=s.public_bytes(bidder) if bidder else None,
        chunk_size=chunk_size,
    )
    return out.getvalue()


def parts_of(data: bytes, *keys) -> list[s.UnwrappedPart]:
    header = s.read_header(io.BytesIO(data))
    return [p for key in keys for p in s.unwrap_parts(header, key)]


FILES = {
    "qualification": b"%PDF-qual" + bytes(range(256)) * 9,
    "technical": b"%PDF-tech" * 500,
    "commercial": b"%PDF-price",
}


def test_round_trip_every_quorum_of_two_of_three_opens_and_reads_the_price_form():
    bundle, keys = make_bundle()
    data = seal_bytes(bundle, FILES)
    header = s.inspect(io.BytesIO(data), bundle, 410)
    assert header.size == len(data) and len(header.slots()) == 3 * 2
    for a, b in itertools.combinations(keys, 2):
        opened, contents = s.open_bytes(data, parts_of(data, a, b))
        assert opened.price_form == PRICE
        assert contents == {f"{role}.pdf": body for role, body in FILES.items()}
        assert [f.sha256 for f in opened.files] == [hashlib.sha256(v).hexdigest() for v in FILES.values()]


@pytest.mark.parametrize(("n", "k"), [(1, 1), (3, 3), (4, 2), (5, 3)])
def test_part_count_is_c_n_k_times_k_and_k_minus_1_holders_open_nothing(n, k):
    bundle, keys = make_bundle(n, k)
    data = seal_bytes(bundle, {"technical": b"x" * 3000})
    header = s.read_header(io.BytesIO(data))
    from math import comb

    assert len(header.slots()) == comb(n, k) * k
    for few in itertools.combinations(keys, k - 1):
        with pytest.raises(s.WrongKey) as e:
            s.combine(header, parts_of(data, *few))
        assert e.value.code == "quorum_incomplete"
    s.combine(header, parts_of(data, *keys[:k]))


def test_quorum_plus_bidder_needs_the_bidder_too():
    bundle, keys = make_bundle(policy="quorum+bidder")
    bidder = X25519PrivateKey.generate()
    data = seal_bytes(bundle, FILES, bidder=bidder)
    header = s.inspect(io.BytesIO(data), bundle)
    assert len(header.slots()) == 3 * 3
    with pytest.raises(s.WrongKey, match="quorum_incomplete"):
        s.combine(header, parts_of(data, *keys))  # all three holders, no bidder: nothing opens (E30)
    opened, _ = s.open_bytes(data, parts_of(data, keys[0], keys[2], bidder))
    assert opened.price_form["total_price_fen"] == PRICE["total_price_fen"]
    with pytest.raises(s.SealedBidInvalid) as e:  # E30: the bidder's own key is required under this policy
        s.inspect(io.BytesIO(seal_bytes(make_bundle()[0], FILES)), bundle)
    assert e.value.code in ("sealed_wrong_keys", "sealed_bidder_key")


def test_a_stranger_key_and_a_wrong_part_are_refused_precisely():
    bundle, keys = make_bundle()
    data = seal_bytes(bundle, FILES)
    header = s.read_header(io.BytesIO(data))
    with pytest.raises(s.WrongKey) as e:
        s.unwrap_parts(header, X25519PrivateKey.generate())
    assert e.value.code == "key_not_in_bid"
    good = s.unwrap_parts(header, keys[0])[0]
    with pytest.raises(s.WrongKey) as e:
        s.check_part(header, s.UnwrappedPart(good.subset_index, good.position, bytes(32)))
    assert e.value.code == "part_commitment_mismatch"
    with pytest.raises(s.WrongKey) as e:
        s.check_part(header, s.UnwrappedPart(99, 0, good.part))
    assert e.value.code == "part_unknown_slot"
    # a part from another bid for the same place is not this bid's part
    other = s.read_header(io.BytesIO(seal_bytes(bundle, FILES)))
    moved = s.unwrap_parts(other, keys[0])[0]
    with pytest.raises(s.WrongKey):
        s.check_part(header, moved)


def _refused(data: bytes, bundle, lot=None) -> str:
    with pytest.raises(s.SealedBidInvalid) as e:
        s.inspect(io.BytesIO(data), bundle, lot, total_size=None)
    assert e.value.problems[0].rule == "E26"
    return e.value.code


def test_inspect_refuses_each_structural_fault_with_its_code():
    bundle, keys = make_bundle()
    data = seal_bytes(bundle, FILES)
    assert _refused(b"%PDF-1.7 an unsealed bid", bundle) == "sealed_not_sealed"
    assert _refused(b"", bundle) == "sealed_not_sealed"
    assert _refused(data[:8] + struct.pack(">H", 2) + data[10:], bundle) == "sealed_version"
    assert _refused(data[:40], bundle) == "sealed_truncated"
    assert _refused(data[:-1], bundle) == "sealed_size_mismatch"
    assert _refused(data + b"\0", bundle) == "sealed_size_mismatch"
    other_tender, _ = make_bundle(tender_id=42)
    assert _refused(seal_bytes(other_tender, FILES), bundle) == "sealed_wrong_tender"
    assert _refused(data, bundle, lot=411) == "sealed_wrong_lot"
    rekeyed = s.KeyBundle(41, (410, 411), 2, "quorum", make_bundle()[0].holders)
    assert _refused(data, rekeyed) == "sealed_wrong_keys"
    assert (
        _refused(data, s.KeyBundle(41, (410, 411), 3, "quorum", bundle.holders)) == "sealed_wrong_threshold"
    )
    assert (
        _refused(data, s.KeyBundle(41, (410, 411), 2, "quorum+bidder", bundle.holders))
        == "sealed_wrong_policy"
    )

    def rewrite(change) -> bytes:  # a header edited and re-framed: the structural check still refuses it
        header = s.read_header(io.BytesIO(data))
        raw = json.loads(json.dumps(header.raw))
        change(raw)
        body = s.canonical_json(raw)
        return s.PREAMBLE_FIXED.pack(s.MAGIC, 1, len(body)) + body + data[len(header.preamble) :]

    assert _refused(rewrite(lambda r: r["parts"].pop()), bundle) == "sealed_part_count"
    assert _refused(rewrite(lambda r: r["parts"][0]["wrapped"].pop()), bundle) in (
        "sealed_part_count",
        "sealed_header_invalid",
    )
    assert _refused(rewrite(lambda r: r.update(chunk_size=7)), bundle) == "sealed_header_invalid"
    assert (
        _refused(rewrite(lambda r: r.update(plaintext_size=r["plaintext_size"] + 1)), bundle)
        == "sealed_size_mismatch"
    )


def _open_error(data: bytes, parts) -> s.DecryptionFailed:
    stream = io.BytesIO(data)
    header = s.read_header(stream)
    key = s.combine(header, parts)
    with pytest.raises(s.DecryptionFailed) as e:
        s.open_bid(stream, header, key)
    return e.value


def test_truncated_reordered_altered_and_extended_payloads_fail_naming_the_chunk():
    bundle, keys = make_bundle()
    data = seal_bytes(bundle, FILES, chunk_size=1024)
    header = s.read_header(io.BytesIO(data))
    parts = parts_of(data, keys[0], keys[1])
    start, block = len(header.preamble), 1024 + 16
    n_chunks = s.chunk_count(header.plaintext_size, 1024)
    assert n_chunks >= 4
    altered = bytearray(data)
    altered[start + 2 * block + 5] ^= 1
    e = _open_error(bytes(altered), parts)
    assert (e.code, e.chunk) == ("chunk_altered", 2)
    swapped = (
        data[:start]
        + data[start + block : start + 2 * block]
        + data[start : start + block]
        + data[start + 2 * block :]
    )
    e = _open_error(swapped, parts)
    assert (e.code, e.chunk) == ("chunk_altered", 0)
    e = _open_error(data[:-5], parts)
    assert (e.code, e.chunk) == ("bid_truncated", n_chunks - 1)
    # cut at a chunk boundary: the new last chunk was not sealed as last (STREAM's last flag)
    last_start = start + (n_chunks - 1) * block
    e = _open_error(data[:last_start], parts)
    assert e.code == "bid_truncated"
    e = _open_error(data + b"tail", parts)
    assert e.code == "bid_trailing_data"
    # a header byte changed: every chunk's AAD is the preamble's hash, so chunk 0 no longer authenticates
    tampered = bytearray(data)
    pos = data.index(b'"quality') if b'"quality' in data else data.index(b'"policy":"quorum"') + 10
    tampered[pos] ^= 0x20
    with pytest.raises((s.DecryptionFailed, s.SealedBidInvalid, s.WrongKey)):
        stream = io.BytesIO(bytes(tampered))
        h = s.read_header(stream)
        s.open_bid(stream, h, s.combine(h, parts))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(0, 5000), min_size=1, max_size=3),
    chunk=st.sampled_from([1024, 1500, 4096]),
    seed=st.binary(min_size=1, max_size=8),
)
def test_any_contents_round_trip_and_any_flipped_bit_is_refused(sizes, chunk, seed):
    bundle, keys = HYPO_BUNDLE
    files = {
        role: (seed * (size // len(seed) + 1))[:size]
        for role, size in zip(("qualification", "technical", "commercial"), sizes, strict=False)
    }
    data = seal_bytes(bundle, files, chunk_size=chunk)
    parts = parts_of(data, keys[1], keys[2])
    _, contents = s.open_bytes(data, parts)
    assert contents == {f"{role}.pdf": body for role, body in files.items()}
    header = s.read_header(io.BytesIO(data))
    flip = len(header.preamble) + (
        int.from_bytes(hashlib.sha256(seed).digest()[:4], "big") % (len(data) - len(header.preamble))
    )
    bad = bytearray(data)
    bad[flip] ^= 0x80
    assert _open_error(bytes(bad), parts).code == "chunk_altered"


HYPO_BUNDLE = make_bundle()


def test_price_form_and_file_names_are_checked_before_sealing():
    """The content rules (tender/bidcontent.py; the whole table in test_content_rules.py) refuse before
    anything is sealed, with the code the opening would record."""
    bundle, _ = make_bundle()

    def code(**kwargs) -> str:  # type: ignore[no-untyped-def]
        with pytest.raises(bidcontent.ContentInvalid) as e:
            seal_bytes(bundle, FILES, **kwargs)
        return e.value.code

    assert code(price={**PRICE, "total_price_fen": 0}) == "container_price"
    assert code(price={**PRICE, "quality_commitment": " "}) == "container_quality"
    assert code(price={**PRICE, "discount": 3}) == "container_price_form"
    with pytest.raises(bidcontent.ContentInvalid) as e:
        s.seal(
            bundle,
            410,
            [s.BidFile("technical", "../x.pdf", "application/pdf", 1, io.BytesIO(b"x"))],
            PRICE,
            io.BytesIO(),
        )
    assert e.value.code == "container_file_name_separator"
    with pytest.raises(ValueError, match="lot"):
        seal_bytes(bundle, FILES, lot=999)


def test_bundle_json_round_trips_and_rejects_a_wrong_key_id():
    bundle, _ = make_bundle()
    assert s.KeyBundle.from_json(json.loads(json.dumps(bundle.to_json()))) == bundle
    bad = bundle.to_json()
    bad["holders"][1]["key_id"] = "00" * 16
    with pytest.raises(ValueError, match="key id"):
        s.KeyBundle.from_json(bad)
    with pytest.raises(ValueError):
        s.check_public_key(bytes(32))  # a low-order point is refused


# ---------------------------------------------------------------- key files


def test_key_file_round_trip_wrong_passphrase_and_tampering():
    private, doc = keyfiles.new_key_file("correct horse battery", label="officer")
    assert doc["kdf"]["iterations"] >= 600_000 and "private" not in json.dumps(doc)
    text = json.dumps(doc)
    assert keyfiles.load(text, "correct horse battery").private_bytes_raw() == private.private_bytes_raw()
    assert keyfiles.public_key_of(text) == (s.key_id(s.public_bytes(private)), s.public_bytes(private))
    with pytest.raises(keyfiles.KeyFileError) as e:
        keyfiles.load(text, "wrong horse battery")
    assert e.value.code == "passphrase_wrong"
    swapped = dict(doc, key_id="00" * 16)
    with pytest.raises(keyfiles.KeyFileError):
        keyfiles.load(swapped, "correct horse battery")
    with pytest.raises(keyfiles.KeyFileError) as e:
        keyfiles.load("{}", "x")
    assert e.value.code == "key_file_invalid"
    with pytest.raises(keyfiles.KeyFileError, match="8"):
        keyfiles.new_key_file("short")


# ---------------------------------------------------------------- the format document, independently


def _doc_b64u(b: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _doc_unb64u(t: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))


DOC_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


def _doc_info(tender: int, lot: int, bid_id: str, subset, position: int, of: int, recipient: str) -> bytes:  # type: ignore[no-untyped-def]
    return (
        f"etender-sealed-bid/v1;tender={tender};lot={lot};bid={bid_id};"
        f"subset={','.join(str(i) for i in subset)};position={position};of={of};recipient={recipient}"
    ).encode()


def seal_from_the_document(
    holder_pubs: list[bytes],
    k: int,
    tender: int,
    lot: int,
    files: list[tuple[str, str, bytes]],
    price_form: dict,  # type: ignore[type-arg]
    chunk_size: int,
    bidder_pub: bytes | None = None,
) -> bytes:
    """docs/sealed-bid-format.md §2-§6 step by step, with `cryptography`'s HPKE and AES-GCM only."""
    import os

    kid = lambda p: hashlib.sha256(p).digest()[:16].hex()  # noqa: E731
    kids = [kid(p) for p in holder_pubs]
    manifest = json.dumps(
        {
            "format": "etender-bid-container",
            "version": 1,
            "price_form": price_form,
            "files": [
                {"role": r, "name": n, "media_type": "application/pdf", "size": len(b)} for r, n, b in files
            ],
        }
    ).encode()
    plaintext = struct.pack(">I", len(manifest)) + manifest + b"".join(b for _, _, b in files)
    data_key, bid_id, prefix = os.urandom(32), os.urandom(16).hex(), os.urandom(7)
    parts_json = []
    for subset in itertools.combinations(range(len(holder_pubs)), k):
        recipients = [(kids[i], holder_pubs[i]) for i in subset]
        if bidder_pub is not None:
            recipients.append((kid(bidder_pub), bidder_pub))
        shares = [os.urandom(32) for _ in recipients[:-1]]
        last = data_key
        for p in shares:
            last = bytes(a ^ b for a, b in zip(last, p, strict=True))
        shares.append(last)
        wrapped, commits = [], []
        for position, ((rid, pub), part) in enumerate(zip(recipients, shares, strict=True)):
            info = _doc_info(tender, lot, bid_id, subset, position, len(recipients), rid)
            wrapped.append(
                _doc_b64u(DOC_SUITE.encrypt(part, X25519PublicKey.from_public_bytes(pub), info=info))
            )
            commits.append(
                hashlib.sha256(b"etender-sealed-bid/v1 part commitment\x00" + info + part).hexdigest()
            )
        parts_json.append({"subset": list(subset), "wrapped": wrapped, "commitments": commits})
    header = {
        "format": "etender-sealed-bid",
        "version": 1,
        "hpke": "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM",
        "tender_id": tender,
        "lot_id": lot,
        "bid_id": bid_id,
        "k": k,
        "policy": "quorum+bidder" if bidder_pub else "quorum",
        "holders": kids,
        "bidder_key": {"key_id": kid(bidder_pub), "public_key": _doc_b64u(bidder_pub)}
        if bidder_pub
        else None,
        "parts": parts_json,
        "key_check": hashlib.sha256(b"etender-sealed-bid/v1 data key check\x00" + data_key).hexdigest(),
        "chunk_size": chunk_size,
        "nonce_prefix": prefix.hex(),
        "plaintext_size": len(plaintext),
    }
    body = json.dumps(header, indent=1).encode()  # any JSON layout: the bytes as written are what is hashed
    preamble = b"ETSEALED" + struct.pack(">HI", 1, len(body)) + body
    aad = hashlib.sha256(preamble).digest()
    chunks = [plaintext[i : i + chunk_size] for i in range(0, len(plaintext), chunk_size)]
    return preamble + b"".join(
        AESGCM(data_key).encrypt(
            prefix + struct.pack(">I", i) + (b"\x01" if i == len(chunks) - 1 else b"\x00"), c, aad
        )
        for i, c in enumerate(chunks)
    )


def open_from_the_document(sealed: bytes, holder_keys: list, bidder_key=None):  # type: ignore[no-untyped-def]
    """docs/sealed-bid-format.md §2-§7 read back with `cryptography` only: the first subset's holders (and the
    bidder) unwrap their parts, the key is combined and checked, the chunks decrypted, the container read.
    Returns (data key, price form, {name: bytes}, chunk count)."""
    assert sealed[:8] == b"ETSEALED"
    version, length = struct.unpack(">HI", sealed[8:14])
    assert version == 1
    preamble = sealed[: 14 + length]
    header = json.loads(preamble[14:])
    entry = header["parts"][0]
    of = len(entry["wrapped"])
    key = bytes(32)
    for position, wrapped in enumerate(entry["wrapped"]):
        if position < len(entry["subset"]):
            private, recipient = (
                holder_keys[entry["subset"][position]],
                header["holders"][entry["subset"][position]],
            )
        else:
            private, recipient = bidder_key, header["bidder_key"]["key_id"]
        info = _doc_info(
            header["tender_id"], header["lot_id"], header["bid_id"], entry["subset"], position, of, recipient
        )
        part = DOC_SUITE.decrypt(_doc_unb64u(wrapped), private, info=info)
        commitment = hashlib.sha256(b"etender-sealed-bid/v1 part commitment\x00" + info + part).hexdigest()
        assert commitment == entry["commitments"][position]
        key = bytes(a ^ b for a, b in zip(key, part, strict=True))
    assert (
        hashlib.sha256(b"etender-sealed-bid/v1 data key check\x00" + key).hexdigest() == header["key_check"]
    )
    size, chunk = header["plaintext_size"], header["chunk_size"]
    count = max(1, -(-size // chunk))
    aad, prefix, at, plain = (
        hashlib.sha256(preamble).digest(),
        bytes.fromhex(header["nonce_prefix"]),
        len(preamble),
        b"",
    )
    for i in range(count):
        n = (size - i * chunk if i == count - 1 else chunk) + 16
        nonce = prefix + struct.pack(">I", i) + (b"\x01" if i == count - 1 else b"\x00")
        plain += AESGCM(key).decrypt(nonce, sealed[at : at + n], aad)
        at += n
    assert at == len(sealed) and len(plain) == size
    (mlen,) = struct.unpack(">I", plain[:4])
    manifest = json.loads(plain[4 : 4 + mlen])
    contents, at = {}, 4 + mlen
    for f in manifest["files"]:
        contents[f["name"]] = plain[at : at + f["size"]]
        at += f["size"]
    assert at == size
    return key, manifest["price_form"], contents, count


@pytest.mark.parametrize(
    ("shape", "chunk_size", "policy"),
    [
        ("one chunk", 4096, "quorum"),
        ("multi-chunk", 1024, "quorum"),
        ("quorum+bidder", 1024, "quorum+bidder"),
    ],
)
def test_a_bid_made_from_the_format_document_alone_opens_on_the_platform(shape, chunk_size, policy):
    """Builds a sealed bid with only `cryptography`'s HPKE and AES-GCM, following docs/sealed-bid-format.md
    step by step (no tender.sealing function is used to make it), then opens it with the platform: the three
    shapes of the worked examples (one chunk, several chunks, quorum+bidder)."""
    text = DOCS.read_text()
    for needle in (
        "ETSEALED",
        "key_check",
        "nonce_prefix",
        "etender-sealed-bid/v1;tender=",
        "part commitment",
        "quorum+bidder",
        "bidder_key",
    ):
        assert needle in text, f"the format document no longer describes {needle}"
    holders = [X25519PrivateKey.generate() for _ in range(3)]
    pubs = [h.public_key().public_bytes_raw() for h in holders]
    bidder = X25519PrivateKey.generate() if policy == "quorum+bidder" else None
    content = b"independent technical proposal" * 100
    sealed = seal_from_the_document(
        pubs,
        2,
        7,
        70,
        [("technical", "tech.pdf", content), ("commercial", "报价.pdf", b"%PDF price")],
        PRICE,
        chunk_size,
        bidder.public_key().public_bytes_raw() if bidder else None,
    )
    kids = [hashlib.sha256(p).digest()[:16].hex() for p in pubs]
    bundle = s.KeyBundle(7, (70,), 2, policy, tuple(s.Holder(i, kids[i], pubs[i]) for i in range(3)))
    header = s.inspect(io.BytesIO(sealed), bundle, 70)
    assert s.chunk_count(header.plaintext_size, chunk_size) == (1 if shape == "one chunk" else 4)
    opened, contents = s.open_bytes(
        sealed, parts_of(sealed, holders[0], holders[2], *([bidder] if bidder else []))
    )
    assert opened.price_form == PRICE and contents == {"tech.pdf": content, "报价.pdf": b"%PDF price"}
    if bidder:
        with pytest.raises(s.WrongKey, match="quorum_incomplete"):
            s.combine(header, parts_of(sealed, *holders))


def worked_examples() -> dict[str, dict]:  # type: ignore[type-arg]
    import re

    text = DOCS.read_text()
    return {
        name: json.loads(body)
        for name, body in re.findall(r"```json (worked-example[\w-]*)\n(.*?)```", text, flags=re.S)
    }


def test_the_document_carries_the_three_worked_examples():
    examples = worked_examples()
    assert set(examples) == {"worked-example", "worked-example-multi-chunk", "worked-example-quorum-bidder"}
    assert examples["worked-example-multi-chunk"]["chunks"] > 2
    assert examples["worked-example-quorum-bidder"]["bundle"]["policy"] == "quorum+bidder"


@pytest.mark.parametrize(
    "name", ["worked-example", "worked-example-multi-chunk", "worked-example-quorum-bidder"]
)
def test_the_worked_examples_in_the_format_document_open(name):
    """docs/sealed-bid-format.md carries complete small bids and their parties' private keys (test only): the
    platform opens each with any quorum, and so does an opener written from the document alone."""
    example = worked_examples()[name]
    sealed = bytes.fromhex(example["sealed_bid_hex"])
    keys = [X25519PrivateKey.from_private_bytes(bytes.fromhex(h)) for h in example["holder_private_keys_hex"]]
    bidder = (
        X25519PrivateKey.from_private_bytes(bytes.fromhex(example["bidder_private_key_hex"]))
        if "bidder_private_key_hex" in example
        else None
    )
    extra = [bidder] if bidder else []
    bundle = s.KeyBundle.from_json(example["bundle"])
    header = s.inspect(io.BytesIO(sealed), bundle)
    assert hashlib.sha256(sealed).hexdigest() == example["sealed_bid_sha256"]
    files = {k: v.encode() for k, v in example["files"].items()}
    for pair in itertools.combinations(keys, 2):
        opened, contents = s.open_bytes(sealed, parts_of(sealed, *pair, *extra))
        assert opened.price_form == example["price_form"] and contents == files
        assert s.combine(header, parts_of(sealed, *pair, *extra)).hex() == example["data_key_hex"]
    if bidder:
        with pytest.raises(s.WrongKey, match="quorum_incomplete"):  # all three holders, no bidder (E30)
            s.combine(header, parts_of(sealed, *keys))
    key, price_form, contents, count = open_from_the_document(sealed, keys, bidder)
    assert key.hex() == example["data_key_hex"] and price_form == example["price_form"] and contents == files
    assert count == example.get("chunks", 1)


# --------------------------------------------------- the browser's implementation, run under Node's WebCrypto

import shutil  # noqa: E402
import subprocess  # noqa: E402

JS = Path(__file__).resolve().parents[2] / "web" / "static" / "js" / "etender-crypto.js"
NODE_DRIVER = """
const C = require(process.argv[1]);
let input = "";
process.stdin.on("data", (d) => (input += d)).on("end", async () => {
  const job = JSON.parse(input);
  const u = (h) => C.unhex(h);
  let out;
  if (job.op === "vector") {
    const sealed = await C.hpkeSeal(u(job.pkR), u(job.info), u(job.aad), u(job.pt), \
{nk: 16, ephemeral: {privateRaw: u(job.skE), publicRaw: u(job.pkE)}});
    const key = {privateKey: await C.importPrivate(u(job.skR), u(job.pkR)), publicRaw: u(job.pkR)};
    const opened = await C.hpkeOpen(key.privateKey, key.publicRaw, u(job.info), u(job.aad), sealed, {nk: 16});
    out = {sealed: C.hex(sealed), opened: C.hex(opened)};
  } else if (job.op === "seal") {
    const files = job.files.map((f) => \
({role: f.role, name: f.name, mediaType: f.media_type, data: u(f.hex)}));
    const opts = {chunkSize: job.chunk_size, rules: job.rules};
    if (job.bidder_public) opts.bidderPublicKey = C.unb64u(job.bidder_public);
    const r = await C.sealBid(job.bundle, job.lot, files, job.price, opts);
    out = {sealed: C.hex(C.concat(...r.parts))};
  } else if (job.op === "unwrap") {
    const key = await C.loadKeyFile(job.key_file, job.passphrase);
    out = await C.unwrapParts(u(job.sealed), key, job.bid);
  } else if (job.op === "keyfile") {
    const made = await C.createKeyFile(job.passphrase, "from js");
    out = made.doc;
  } else if (job.op === "check") {
    try \
{ const key = await C.checkKeyFile(job.key_file, job.passphrase, job.public_key); out = {error: null, \
key_id: key.keyId}; }
    catch (e) { out = {error: e.message}; }
  } else if (job.op === "wrong_passphrase") {
    try { await C.loadKeyFile(job.key_file, "not the passphrase"); out = {error: null}; } catch (e) \
{ out = {error: e.message}; }
  }
  process.stdout.write(JSON.stringify(out));
});
"""


def node(job: dict) -> dict:
    exe = shutil.which("node")
    if exe is None:
        pytest.skip("node is not installed: the browser crypto is then tested only in tests/e2e")
    result = subprocess.run(
        [exe, "-e", NODE_DRIVER, str(JS)], input=json.dumps(job), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_js_hpke_reproduces_rfc9180_a1_base_mode_vector():
    """RFC 9180 A.1.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode): the same KEM, KDF and
    key schedule as the format's suite, whose only difference is the AEAD key length (Nk 32)."""
    got = node(
        {
            "op": "vector",
            "skE": "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
            "pkE": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
            "skR": "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
            "pkR": "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
            "info": "4f6465206f6e2061204772656369616e2055726e",
            "aad": "436f756e742d30",
            "pt": "4265617574792069732074727574682c20747275746820626561757479",
        }
    )
    assert got["sealed"] == (
        "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431"
        "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"
    )
    assert got["opened"] == "4265617574792069732074727574682c20747275746820626561757479"


@pytest.mark.parametrize("policy", ["quorum", "quorum+bidder"])
def test_a_bid_sealed_by_the_js_opens_in_python(policy):
    bundle, keys = make_bundle(policy=policy)
    bidder = X25519PrivateKey.generate() if policy == "quorum+bidder" else None
    files = [
        {
            "role": "technical",
            "name": "技术标.pdf",
            "media_type": "application/pdf",
            "hex": (b"%PDF tech " * 700).hex(),
        },
        {"role": "commercial", "name": "商务标.pdf", "media_type": "application/pdf", "hex": b"%PDF".hex()},
    ]
    got = node(
        {
            "op": "seal",
            "bundle": {"bundle": bundle.to_json()},
            "lot": 411,
            "files": files,
            "price": PRICE,
            "chunk_size": 1024,
            "bidder_public": s.b64u(s.public_bytes(bidder)) if bidder else None,
            "rules": bidcontent.rules_data(),
        }
    )
    sealed = bytes.fromhex(got["sealed"])
    s.inspect(io.BytesIO(sealed), bundle, 411)
    opened, contents = s.open_bytes(sealed, parts_of(sealed, keys[0], keys[1], *([bidder] if bidder else [])))
    assert opened.price_form == PRICE
    assert contents == {"技术标.pdf": b"%PDF tech " * 700, "商务标.pdf": b"%PDF"}


def test_js_loads_a_python_key_file_and_unwraps_parts_python_combines():
    bundle, keys = make_bundle()
    docs = [keyfiles.protect(k, "correct horse battery") for k in keys]
    sealed = seal_bytes(bundle, FILES)
    header = s.read_header(io.BytesIO(sealed))
    parts = []
    for i in (0, 2):
        # the opening page passes the platform's bid number from the headers document; without one there is
        # none
        got = node(
            {
                "op": "unwrap",
                "key_file": docs[i],
                "passphrase": "correct horse battery",
                "sealed": sealed.hex(),
                **({"bid": 77} if i == 0 else {}),
            }
        )
        assert got["key_id"] == bundle.holders[i].key_id and got["tender_id"] == 41
        assert got.get("bid") == (77 if i == 0 else None) and got["bid_id"] == header.bid_id
        parts += [
            s.UnwrappedPart(p["subset_index"], p["position"], s.unb64u(p["part"])) for p in got["parts"]
        ]
    assert s.open_bytes(sealed, parts)[1]["technical.pdf"] == FILES["technical"]
    assert s.combine(header, parts)
    assert node({"op": "wrong_passphrase", "key_file": docs[0]})["error"] == "passphrase_wrong"


def test_a_js_key_file_loads_in_python():
    doc = node({"op": "keyfile", "passphrase": "correct horse battery"})
    private = keyfiles.load(json.dumps(doc), "correct horse battery")
    assert s.key_id(s.public_bytes(private)) == doc["key_id"] and doc["kdf"]["iterations"] == 600_000


def test_js_checks_a_saved_key_file_against_the_public_key_to_register():
    """The key holder page's proof (checkKeyFile): the file opens with its passphrase and holds the private
    key of the public key about to be registered; each way it can fail has its own code."""
    private, doc = keyfiles.new_key_file("correct horse battery")
    public = s.b64u(s.public_bytes(private))
    check = {
        "op": "check",
        "key_file": json.dumps(doc),
        "passphrase": "correct horse battery",
        "public_key": public,
    }
    assert node(check) == {"error": None, "key_id": doc["key_id"]}
    assert node({**check, "public_key": f"  {public}\n"})["error"] is None  # as pasted
    assert node({**check, "passphrase": "not the passphrase"})["error"] == "passphrase_wrong"
    other = s.b64u(s.public_bytes(X25519PrivateKey.generate()))
    assert node({**check, "public_key": other})["error"] == "key_file_other"
    assert node({**check, "public_key": "rubbish!"})["error"] == "key_file_other"
    assert node({**check, "key_file": '{"format": "something else"}'})["error"] == "key_file_invalid"
    assert node({**check, "key_file": "not json"})["error"] == "key_file_invalid"
    # a file whose public key was edited to the one being registered, its private key sealed again to match:
    # Node's WebCrypto already refuses the mismatched pair at import; a WebCrypto that imported it would fail
    # the probe (a value sealed to that public key does not open with the file's key)
    victim = X25519PrivateKey.generate()
    forged = keyfiles.protect(private, "correct horse battery")
    kid, vpub = s.key_id(s.public_bytes(victim)), s.public_bytes(victim)
    salt, nonce = s.unb64u(forged["kdf"]["salt"]), s.unb64u(forged["cipher"]["nonce"])
    wrap = keyfiles._derive("correct horse battery", salt, forged["kdf"]["iterations"])
    forged.update(key_id=kid, public_key=s.b64u(vpub))
    forged["cipher"]["ciphertext"] = s.b64u(
        AESGCM(wrap).encrypt(nonce, private.private_bytes_raw(), keyfiles._aad(kid))
    )
    got = node({**check, "key_file": json.dumps(forged), "public_key": s.b64u(vpub)})
    assert got["error"] in ("key_file_invalid", "key_file_other")


# ------------------------------------------------------------ the opening's fast path (open_bid with a store)


def test_open_bid_without_file_hashes_checks_every_fault_alike():
    """hash_files=False (the opening, which hashes the whole sealed file against its receipt instead): the
    same content reaches the sink, no file hash is made, and every fault is still refused."""
    bundle, keys = make_bundle()
    files = {"qualification": bytes(range(256)) * 40, "technical": b"%PDF-tech" * 3000, "commercial": b""}
    data = seal_bytes(bundle, files, chunk_size=1500)
    parts = parts_of(data, keys[0], keys[2])

    def run(blob: bytes) -> tuple[s.OpenedBid, dict[str, bytes]]:
        stream = io.BytesIO(blob)
        h = s.read_header(stream)
        got: dict[str, bytearray] = {}

        def sink(f: s.OpenedFile):  # type: ignore[no-untyped-def]
            got[f.name] = bytearray()
            return got[f.name].extend

        return s.open_bid(stream, h, s.combine(h, parts), sink, hash_files=False), {
            k: bytes(v) for k, v in got.items()
        }

    opened, got = run(data)
    assert got == {f"{role}.pdf": body for role, body in files.items()} and opened.price_form == PRICE
    assert [f.sha256 for f in opened.files] == ["", "", ""]
    header = s.read_header(io.BytesIO(data))
    bad = bytearray(data)
    bad[len(header.preamble) + 3 * (1500 + 16) + 7] ^= 1
    for blob, code in (
        (bytes(bad), "chunk_altered"),
        (data[:-3], "bid_truncated"),
        (data + b"x", "bid_trailing_data"),
    ):
        with pytest.raises(s.DecryptionFailed) as e:
            run(blob)
        assert e.value.code == code


def test_decrypt_payload_takes_views_and_short_reads():
    """The stream may hand out memoryviews (the opening's hashing reader does) or fewer bytes than asked."""
    bundle, keys = make_bundle()
    data = seal_bytes(bundle, FILES, chunk_size=1024)
    header = s.read_header(io.BytesIO(data))
    key = s.combine(header, parts_of(data, keys[1], keys[2]))

    class Dribble(io.RawIOBase):
        def __init__(self, blob: bytes):
            self.view, self.pos = memoryview(blob), 0

        def read(self, n: int = -1):  # type: ignore[no-untyped-def]
            n = len(self.view) - self.pos if n < 0 else min(n, 700)  # never more than 700 bytes at once
            out = self.view[self.pos : self.pos + n]
            self.pos += len(out)
            return out

    stream = Dribble(data)
    s.read_header(stream)  # type: ignore[arg-type]
    plain = b"".join(s.decrypt_payload(stream, header, key))  # type: ignore[arg-type]
    stream = io.BytesIO(data)
    s.read_header(stream)
    assert plain == b"".join(s.decrypt_payload(stream, header, key)) and len(plain) == header.plaintext_size
