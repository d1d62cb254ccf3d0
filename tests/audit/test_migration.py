"""The migration to the Merkle log keeps an existing hash-chain log: its entry bytes are unchanged, so the
tree is rebuilt from them and the migrated log verifies (SQLite; the same SQL runs on PostgreSQL in the
migration test)."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import create_engine, text

from alembic import command
from audit import merkle
from audit.log import canonical
from audit.verify import verify_log
from cli.database import alembic_config
from core.db import make_engine, make_sessionmaker

BEFORE = "5cc29e86b819"


def test_an_existing_chain_log_is_carried_over(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, BEFORE)
    engine = create_engine(url)
    prev = b"\x00" * 32
    docs = []
    with engine.begin() as conn:
        for i in range(11):
            details = {"i": i}
            doc = {
                "index": i,
                "tag": "tender.updated",
                "time": f"2026-01-01T00:00:{i:02d}.000000Z",
                "actor": "alice",
                "actor_id": 7,
                "role": "agency",
                "organisation": 3,
                "ip": "198.51.100.7",
                "subject": "tender:1",
                "details_digest": hashlib.sha256(canonical(details)).hexdigest(),
            }
            raw = canonical(doc)
            h = hashlib.sha256(prev + raw).digest()
            conn.execute(
                text(
                    'INSERT INTO audit_entries ("index", time, tag, actor_user_id, actor, role, '
                    "organisation_id, ip, subject, "
                    "details, details_digest, entry_bytes, prev_hash, hash) VALUES (:i, "
                    ":t, 'tender.updated', 7, 'alice', 'agency', 3, '198.51.100.7', "
                    "'tender:1', :d, :dd, :b, :p, :h)"
                ),
                {
                    "i": i,
                    "t": f"2026-01-01 00:00:{i:02d}.000000",
                    "d": json.dumps(details),
                    "dd": doc["details_digest"],
                    "b": raw,
                    "p": prev,
                    "h": h,
                },
            )
            prev = h
            docs.append(raw)
        conn.execute(text("INSERT INTO audit_head (id, size, last_hash) VALUES (1, 11, :h)"), {"h": prev})
    engine.dispose()
    command.upgrade(cfg, "heads")
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            result = verify_log(session)
            assert result.ok and result.size == 11, result.reason
            from audit.log import AuditHead

            assert session.get(AuditHead, 1).root == merkle.root([merkle.leaf_hash(d) for d in docs])
    finally:
        engine.dispose()
