"""No early opening (issue 3, E27, design.md "Sealed bids"):

(a) before the deadline, with bids submitted, no GET route of the app shows any role a bid's hash, its sealed
    id, its price or its content, nor who bid; the opening routes refuse;
(b) a copy of the database and the blob store taken before the opening holds no plaintext, and nothing in it
    (every 32-byte value found in any column or key file, tried as a data key and as an X25519 private key)
    decrypts any bid;
(c) with k-1 holders' parts nothing opens."""

from __future__ import annotations

import base64
import binascii
import io
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from core.errors import DomainError
from tender import sealing
from tender.bids.submission import header_of
from tender.models import Bid, OpenedBid
from tender.opening import decryption
from tender.opening import parts as opening_parts
from tender.opening import record as opening_record
from tests.factories.bids import MARKER, header_doc_parts, reach_deadline, statuses, world
from tests.web import matrix
from tests.web.matrix_opening import EARLY

# ---------------------------------------------------------------- (a) every GET route, every role


def _get_paths(e: Any, w: Any) -> list[tuple[str, dict[str, str]]]:
    """Every GET route of the app, its {tender_id} filled with the tender whose bids are sealed, other path
    parameters from the matrix's rows (with their query strings)."""
    rows = {row.path: row for row in matrix.MATRIX if row.method == "GET"}
    out = []
    for method, path in sorted(matrix.app_endpoints(e.app)):
        if method != "GET":
            continue
        row = rows[path]
        probe = matrix.Row("GET", path, row.expect, target=EARLY, params=row.params, query=row.query)
        out.append((matrix.concrete_path(probe, w), row.query))
    return out


def _secrets(e: Any, w: Any, target: str = EARLY) -> dict[str, list[str]]:
    with e.factory() as s:
        sealed = s.scalars(select(Bid).where(Bid.tender_id == getattr(w, target))).all()
        out: dict[str, list[str]] = {"hash": [], "price": [], "content": [MARKER]}
        for bid in sealed:
            out["hash"] += [bid.blob_key, bid.sealed_bid_id]
        for i in range(len(sealed)):  # the prices the matrix world sealed: 900,000 + 1,000 i yuan
            yuan = 900_000 + 1000 * i
            out["price"] += [str(yuan * 100), f"{yuan:,}.00", f"{yuan:.2f}"]
        return out


def test_before_the_deadline_no_route_reveals_a_bid_to_anyone(env):
    w = env.current_world()
    secrets = _secrets(env, w)
    assert len(secrets["hash"]) == 6
    # the check finds what it looks for: the published record of the opened tender shows its hashes and prices
    env.client.cookies.clear()
    published = env.client.get(f"/tenders/{w.opening_done}/opening/record.json").text
    opened = _secrets(env, w, "opening_done")
    assert all(h in published for h in opened["hash"][::2]) and opened["price"][0] in published
    leaks = []
    for role in matrix.ROLES:
        for path, query in _get_paths(env, w):
            client = env.client
            client.cookies.clear()
            client.cookies.set("lang", "en")
            if role != "anonymous":
                uid, acting = w.users[role]
                client.set_session_data({matrix.SESSION_USER: uid, matrix.SESSION_ROLE: acting})
            r = client.get(path, params=query, follow_redirects=False)
            body = r.text
            for kind, values in secrets.items():
                for value in values:
                    if value in body:
                        leaks.append(f"{role} GET {path}: {kind} {value[:16]}")
            if path.startswith(f"/tenders/{getattr(w, EARLY)}/opening/") and not path.endswith(("/stream",)):
                assert r.status_code in (401, 403, 404, 303), f"{role} GET {path}: {r.status_code}"
    assert not leaks, "\n".join(leaks)


# ------------------------------------------------------------ (b) a stolen copy of the database and the blobs


HEX64 = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
B64 = re.compile(r"[A-Za-z0-9_\-+/]{42,44}={0,2}")


def _candidates_in_text(text: str) -> set[bytes]:
    out = set()
    for m in HEX64.findall(text):
        out.add(bytes.fromhex(m))
    for m in B64.findall(text):
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            try:
                raw = decode(m + "=" * (-len(m) % 4))
            except (binascii.Error, ValueError):
                continue
            if len(raw) == 32:
                out.add(raw)
    return out


def _key_material(db_file: Path, data_dir: Path) -> set[bytes]:
    found: set[bytes] = set()
    conn = sqlite3.connect(db_file)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        if len(value) == 32:
                            found.add(value)
                        found |= {value[i : i + 32] for i in range(0, max(0, len(value) - 31), 32)}
                        found |= _candidates_in_text(value.decode("latin-1"))
                    elif isinstance(value, str):
                        found |= _candidates_in_text(value)
    finally:
        conn.close()
    for path in data_dir.rglob("*"):  # the platform's signing keys and secrets
        if not path.is_file() or "blobs" in path.parts:
            continue
        data = path.read_bytes()
        found |= _candidates_in_text(data.decode("latin-1"))
        if b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None)
            found.add(
                key.private_bytes(
                    serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
                )
            )
    return found


def test_a_copy_taken_before_the_opening_decrypts_nothing(db, make, store, settings, tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the copy is of the SQLite file; the PostgreSQL case is the same data")
    w = world(db, make, store, n_bids=3)
    db.close()
    copy = tmp_path / "stolen"
    copy.mkdir()
    db_file = Path(database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        if Path(str(db_file) + suffix).exists():
            shutil.copy(str(db_file) + suffix, copy / (db_file.name + suffix))
    shutil.copytree(settings.data_dir, copy / "data")
    # no plaintext anywhere in the copy
    for path in copy.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), f"plaintext in {path}"
    candidates = _key_material(copy / db_file.name, copy / "data")
    assert len(candidates) > 20, "the search found too little: it is not looking"
    blob_root = copy / "data" / "blobs"
    tried = 0
    for bid in w.bids:
        raw = (blob_root / bid.blob_key[:2] / bid.blob_key).read_bytes()
        header = sealing.read_header(io.BytesIO(raw))
        first = raw[len(header.preamble) : len(header.preamble) + header.chunk_size + sealing.TAG_SIZE]
        slots = header.slots()
        for c in candidates:
            assert sealing.key_check(c) != header.raw["key_check"]
            with pytest.raises(InvalidTag):
                AESGCM(c).decrypt(
                    sealing.chunk_nonce(header.nonce_prefix, 0, False), first, header.preamble_hash
                )
            private = X25519PrivateKey.from_private_bytes(c)
            for slot in slots:
                with pytest.raises((InvalidTag, ValueError)):
                    sealing.SUITE.decrypt(slot.wrapped, private, info=slot.info)
            tried += 1
    assert tried == len(candidates) * len(w.bids)


# ---------------------------------------------------------------- (c) k-1 parts


def test_k_minus_one_parts_open_nothing(db, make, store):
    w = world(db, make, store)
    reach_deadline(db, w)
    docs = header_doc_parts(db, store, w.tender, w.holder_keys[w.centre_user.id], w.bids)
    result = opening_parts.submit_parts(db, w.centre, store, w.tender.id, docs)
    db.commit()
    assert result.accepted == 6 and result.queued == []
    assert decryption.sweep(db)["sent"] == 0
    db.commit()
    assert statuses(db, w) == ["pending"] * 3
    for bid, doc in zip(w.bids, docs, strict=True):
        parts = [
            sealing.UnwrappedPart(p["subset_index"], p["position"], sealing.unb64u(p["part"]))
            for p in doc["parts"]
        ]
        with pytest.raises(sealing.WrongKey) as e:
            sealing.combine(header_of(store, bid), parts)
        assert e.value.code == "quorum_incomplete"
    # and the task, even if asked, puts the bid back rather than opening it
    from tender.opening.decryption import decrypt_bid

    ob_ids = list(db.scalars(select(OpenedBid.id)))
    db.rollback()
    assert {decrypt_bid(i) for i in ob_ids} == {"superseded"}
    assert statuses(db, w) == ["pending"] * 3
    with pytest.raises(DomainError):
        opening_record.published_record(db, w.tender.id)
