"""One platform identity (issue 17): `etender serve` and `etender worker` refuse to start in a process that
holds none of the keys that signed the audit log, instead of signing with a key of their own; every process
given the shared ETENDER_SIGNING_KEYS directory starts."""

from __future__ import annotations

import shutil
from dataclasses import replace

from click.testing import CliRunner

from audit import checkpoints, record
from audit.events import AuditTag
from cli.database import identity_problem
from cli.main import main
from core.identity import SYSTEM
from core.signing import held_keys, rotate, signing_key


def _sign_once(db, settings) -> str:  # type: ignore[no-untyped-def]
    key = signing_key(settings.data_dir, settings.origin)
    record(db, AuditTag.audit_key_rotated, actor=SYSTEM, subject="audit:key", details={})
    checkpoints.sign(db, key, settings.origin)
    db.commit()
    return key.id.hex()


def test_a_fresh_log_lets_the_first_process_make_the_key(db, settings):
    assert identity_problem(settings) is None


def test_a_process_without_the_signing_key_is_refused_and_told_what_to_set(
    db, settings, tmp_path, monkeypatch
):
    monkeypatch.delenv("ETENDER_SIGNING_KEYS", raising=False)
    monkeypatch.delenv("ETENDER_SIGNING_KEY", raising=False)
    kid = _sign_once(db, settings)
    assert identity_problem(settings) is None  # the process that signed

    elsewhere = replace(settings, data_dir=tmp_path / "another-machine")
    problem = identity_problem(elsewhere)
    assert problem is not None and kid in problem and "ETENDER_SIGNING_KEYS" in problem
    assert held_keys(elsewhere.data_dir, elsewhere.origin) == []  # checking made no key of its own
    assert not (tmp_path / "another-machine" / "keys").exists()

    # given the shared directory, the other machine starts, and signs with the platform's key
    monkeypatch.setenv("ETENDER_SIGNING_KEYS", str(settings.data_dir / "keys" / "signing"))
    assert identity_problem(elsewhere) is None
    assert signing_key(elsewhere.data_dir, elsewhere.origin).id.hex() == kid


def test_after_a_rotation_elsewhere_a_process_with_only_the_old_key_is_refused(
    db, settings, tmp_path, monkeypatch
):
    monkeypatch.delenv("ETENDER_SIGNING_KEYS", raising=False)
    _sign_once(db, settings)
    stale = tmp_path / "stale-copy"
    shutil.copytree(settings.data_dir / "keys", stale / "keys")  # a copy taken before the rotation
    new = rotate(settings.data_dir, settings.origin)
    record(db, AuditTag.audit_key_rotated, actor=SYSTEM, subject="audit:key", details={})
    checkpoints.sign(db, new, settings.origin)
    db.commit()
    problem = identity_problem(replace(settings, data_dir=stale))
    assert problem is not None and new.id.hex() in problem


def test_serve_and_worker_refuse_to_start(db, settings, tmp_path, monkeypatch):
    _sign_once(db, settings)
    monkeypatch.setenv("ETENDER_DATA", str(tmp_path / "another-machine"))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ETENDER_ORIGIN", settings.origin)
    monkeypatch.setenv("ETENDER_SECRET_KEY", settings.secret_key)
    monkeypatch.delenv("ETENDER_SIGNING_KEYS", raising=False)
    monkeypatch.delenv("ETENDER_SIGNING_KEY", raising=False)
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://")
    for command in (["serve", "--no-demo"], ["worker"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, (command, result.output)
        assert "ETENDER_SIGNING_KEYS" in result.output, result.output
