"""The procedure file's pages (award.archive): its page on a tender (what it holds, who may download it, how
to verify it offline with the platform's verifier key) and the download itself, built for the reader into a
temporary file (one chunk at a time: the sealed bids are not held in memory), answered from that file and
removed once sent. The build records award.archive.created in the request's transaction, which commits before
the answer is sent."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from litestar import Request, get
from litestar.background_tasks import BackgroundTask
from litestar.response import File, Template
from sqlalchemy.orm import Session

from award.archive import services
from award.archive.sections import SECTIONS
from core.errors import N_, DomainError
from core.identity import Actor
from core.signing import signing_key, verifier_keys
from tender import access
from web.deps import page
from web.tender.public import content_disposition

# What each section holds, in the reader's words (the sections' names are award.archive.sections.SECTIONS)
SECTION_LABELS = {
    "notice": N_("The tender notice: its terms, lots and dates, and how it ended"),
    "documents": N_("The tender documents and the clarifications' files, as uploaded"),
    "clarifications": N_("The clarifications and changes, numbered"),
    "questions": N_("The questions and their answers (without who asked)"),
    "objections": N_("The objections to the documents and their answers (without who raised them)"),
    "bids": N_("Every sealed bid as submitted, with its signed receipt"),
    "opening": N_("The opening record, as data and as PDF"),
    "evaluation": N_("The signed evaluation report, its PDF, the members' keys and signatures"),
    "results": N_("The publicity of the candidates, the award and the contract"),
    "audit": N_("The procedure's audit entries, each proved included in the signed audit log"),
}


@get("/tenders/{tender_id:int}/archive", sync_to_thread=True, include_in_schema=False)
def archive_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    """The procedure file's page: the download when the reader may have it, else why not (and when)."""
    access.require_login(actor)
    tender = services.tender_of(db, tender_id)
    refusal = None
    try:
        services.require_downloadable(db, actor, tender_id)
    except DomainError as e:
        refusal = e.problems[0]
    settings = request.app.state.settings
    return page(
        request,
        "award/archive.html",
        tender=tender,
        refusal=refusal,
        sections=[SECTION_LABELS.get(name, name) for name, _ in SECTIONS],
        verifier_keys=[k.encode() for k in verifier_keys(settings.data_dir, settings.origin)],
        filename=services.filename_of(tender),
    )


@get(
    "/tenders/{tender_id:int}/archive.zip",
    sync_to_thread=True,
    include_in_schema=False,
    # it records the download and signs a checkpoint; not from another site's link
    opt={"writes": True, "records": N_("downloaded this procedure file")},
)
def archive_download(request: Request, db: Session, actor: Actor, tender_id: int) -> File:
    settings = request.app.state.settings
    services.require_downloadable(db, actor, tender_id)  # refused before a byte is written
    fd, path = tempfile.mkstemp(prefix="etender-archive-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as out:
            built = services.build(
                db,
                actor,
                tender_id,
                request.app.state.blobs,
                signing_key(settings.data_dir, settings.origin),
                settings.origin,
                out,
                [k.encode() for k in verifier_keys(settings.data_dir, settings.origin)],
            )
    except BaseException:
        os.unlink(path)
        raise
    return File(
        path=path,
        filename=built.filename,
        media_type="application/zip",
        content_disposition_type="attachment",
        headers={
            "Content-Disposition": content_disposition(built.filename, f"archive-{tender_id}"),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Manifest-SHA256": built.manifest_sha256,
        },
        background=BackgroundTask(os.unlink, path),
    )


ROUTES: list[Any] = [archive_page, archive_download]
