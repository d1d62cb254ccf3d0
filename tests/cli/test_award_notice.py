"""`etender award verify-notice` (docs/award-notice.md): the documented vector offline with --key, a changed
file refused naming what differs, and a real notice against the running platform (--url): its published key
and its copy of the statement, a notice re-signed with other content named by the fields that differ."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from award.decision import notice_format, services
from award.decision.models import AwardNotice
from cli.award import award
from core.signing import signing_key
from storage import open_store
from storage.base import read_all
from tests.factories.award import award_world, past
from tests.support import serving

DOC = Path(__file__).parents[2] / "docs" / "award-notice.md"
VECTOR_KEY = "etender.example/audit+030601db+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(award, ["verify-notice", *args])


def vector(tmp_path: Path, change: tuple[bytes, bytes] | None = None) -> str:
    found = re.search(r"```notice-vector\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert found
    data = found.group(1).encode()
    if change:
        data = data.replace(*change)
    path = tmp_path / "notice.pdf"
    path.write_bytes(data)
    return str(path)


def test_the_vector_verifies_offline(tmp_path):
    got = run(vector(tmp_path), "--key", VECTOR_KEY)
    assert got.exit_code == 0, got.output
    assert got.output.startswith("VALID:") and "987,654.32" in got.output


def test_a_changed_file_is_refused_naming_what_differs(tmp_path):
    got = run(vector(tmp_path, (b"stand-in", b"stand_in")), "--key", VECTOR_KEY)
    assert got.exit_code == 1 and "PDF's SHA-256" in got.output
    got = run(vector(tmp_path, (b'"rank":1}', b'"rank":2}')), "--key", VECTOR_KEY)
    assert got.exit_code == 1 and "signature does not verify" in got.output
    got = run(vector(tmp_path, (b"%ETENDER-NOTICE", b"%ETENDER-N0TICE")), "--key", VECTOR_KEY)
    assert got.exit_code == 1 and "no etender signature block" in got.output
    assert run(str(tmp_path / "missing.pdf"), "--key", VECTOR_KEY).exit_code == 2
    assert run(vector(tmp_path), "--key", "not a key").exit_code == 2


@pytest.fixture
def issued(db, make, tmp_path, settings):  # type: ignore[no-untyped-def]
    store = open_store(settings)
    w = award_world(db, make, store, tmp_path)
    past(w)
    key = signing_key(settings.data_dir, settings.origin)
    services.confirm(db, w.purchaser, w.tender.id, 1, services.Signer(store, key, settings.origin))
    db.commit()
    notice = db.query(AwardNotice).filter_by(kind="award").one()
    path = tmp_path / f"{notice.number}.pdf"
    path.write_bytes(read_all(store, notice.blob_key))
    return w, key, notice, path


def test_a_notice_against_the_running_platform(issued, settings, tmp_path):
    w, key, notice, path = issued
    with serving(settings) as url:
        got = run(str(path), "--url", url)
        assert got.exit_code == 0, got.output
        assert "the platform's copy is the same" in got.output
        # the platform's own key re-signing other content: the signature holds, the platform's copy differs
        parts = notice_format.split(path.read_bytes())
        body = json.loads(parts.text)
        content = {k: v for k, v in body.items() if k not in ("type", "version", "pdf")}
        content["winner"] = {**content["winner"], "amount_fen": content["winner"]["amount_fen"] - 100}
        forged = tmp_path / "forged.pdf"
        forged.write_bytes(notice_format.sign(content, parts.pdf, key).file)
        got = run(str(forged), "--url", url)
        assert got.exit_code == 1 and "winner.amount_fen" in got.output and "pdf.sha256" not in got.output
