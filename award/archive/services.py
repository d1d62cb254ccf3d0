"""Who may download a tender's procedure file, and its build (docs/archive.md).

The file exists once the procedure has ended (tender.lifecycle.FINAL: awarded, failed, cancelled, and its bid
deadline passed, tender.disclosure.phase_of) and only for the tender's agency and purchaser, the monitors and
the centre's administrators (core.disclosure.Fact.archive: it holds the committee's names, the sealed bids and
who bid, E49 archived records; a bidder and the public read the published parts on the notice).

build() writes the ZIP to a file the caller gives (a temporary file the web handler then streams), one file at
a time and one chunk at a time, and, in the caller's transaction, records award.archive.created with the
manifest's SHA-256 and signs a checkpoint that covers it. The service never commits: the handler's transaction
does, before the answer is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from sqlalchemy.orm import Session

from audit import SignedCheckpoint, feed, record, sign_checkpoint
from audit.queries import latest_checkpoint
from award.archive import bundle
from award.archive.events import ArchiveTag
from award.archive.sections import SECTIONS, Context, iso
from core import clock
from core.disclosure import Fact, Phase, first_phase
from core.errors import N_, Conflict, Forbidden, NotFound
from core.identity import Actor
from core.signing import SigningKey
from storage.base import BlobStore
from tender import access, disclosure
from tender.lifecycle import Status
from tender.models import Tender

REFUSALS = {
    "archive_not_ended": N_(
        "The procedure file is made once the procedure has ended (awarded, failed or cancelled after its bid "
        "deadline). Come back then."
    ),
    "archive_not_allowed": N_(
        "Only the tender's agency and purchaser, the monitors and the centre's administrators download the "
        "procedure file. The published parts are on the notice."
    ),
}


def tender_of(session: Session, tender_id: int) -> Tender:
    tender = session.get(Tender, tender_id)
    if tender is None or tender.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


def may_download(session: Session, actor: Actor, tender: Tender) -> bool:
    return disclosure.may_see(session, actor, tender, Fact.archive)


def require_downloadable(session: Session, actor: Actor, tender_id: int) -> Tender:
    """The tender, when `actor` may download its procedure file now; else the refusal that says why."""
    access.require_login(actor)
    tender = tender_of(session, tender_id)
    if may_download(session, actor, tender):
        return tender
    # one of the audiences the file is for, only too early: say when, not "not allowed"
    later = any(first_phase(Fact.archive, a) is not None for a in disclosure.audiences(actor, tender))
    if later and disclosure.phase_of(session, tender) < Phase.final:
        raise Conflict.one("archive_not_ended", REFUSALS["archive_not_ended"])
    raise Forbidden.one("archive_not_allowed", REFUSALS["archive_not_allowed"])


@dataclass(frozen=True)
class Built:
    manifest_sha256: str
    files: int
    entries: int
    audit_index: int
    checkpoint_size: int
    filename: str


def filename_of(tender: Tender) -> str:
    return bundle.safe_name(f"{tender.reference}-archive.zip")


def build(
    session: Session,
    actor: Actor,
    tender_id: int,
    store: BlobStore,
    key: SigningKey,
    origin: str,
    out: IO[bytes],
    verifier_keys: list[str] | None = None,
) -> Built:
    """Write the procedure file of `tender_id` to `out` (seekable) for `actor`, record its creation and sign
    the checkpoint its seal proves every entry against. `verifier_keys`: the keys the seal carries (default:
    the signing key's), so that a reader without the key can still check that the archive is whole."""
    tender = require_downloadable(session, actor, tender_id)
    keys = verifier_keys or [key.verifier.encode()]
    # a checkpoint over the log as it stands, for the documents that carry their own proofs (the report's)
    sign_checkpoint(session, key, origin)
    first = latest_checkpoint(session)
    assert first is not None  # the log holds the tender's own entries at least
    ctx = Context(session, actor, tender, store, first, keys, subjects=[f"tender:{tender.id}"])
    writer = bundle.Writer(out)
    for name, section in SECTIONS:
        for file in section(ctx):
            writer.add(name, file)
    created_at = clock.now()
    header = {
        "format": bundle.FORMAT,
        "version": bundle.VERSION,
        "tender": {
            "id": tender.id,
            "reference": tender.reference,
            "title": tender.title,
            "status": tender.status,
        },
        "origin": origin,
        "subjects": ctx.subjects,
        "created_at": iso(created_at),
        "audit": {"entries": bundle.ENTRIES, "count": len(ctx.indexes)},
    }
    sealed: dict[str, int] = {}

    def seal(manifest_sha256: str) -> dict[str, object]:
        entry = record(
            session,
            ArchiveTag.archive_created,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={
                "manifest_sha256": manifest_sha256,
                "files": len(writer.listed),
                "entries": len(ctx.indexes),
            },
        )
        cp: SignedCheckpoint | None = sign_checkpoint(session, key, origin)
        assert cp is not None  # the log just grew
        sealed.update(index=entry.index, size=cp.size)
        proofs = {
            str(i): [h.hex() for h in feed.inclusion(session, i, cp.size)]
            for i in [*ctx.indexes, entry.index]
        }
        return {
            "format": bundle.SEAL_FORMAT,
            "version": bundle.VERSION,
            "manifest_sha256": manifest_sha256,
            "entry": feed.entry(session, entry.index, None),
            "checkpoint": cp.note,
            "verifier_keys": keys,
            "proofs": proofs,
        }

    sha = writer.finish(header, seal)
    return Built(
        sha, len(writer.listed), len(ctx.indexes), sealed["index"], sealed["size"], filename_of(tender)
    )
