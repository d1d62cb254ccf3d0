"""The evaluation report's pages (evaluation.report): the member's report page in the room (the document, the
PDF, the chair's generation, the signing panel: a key made in the browser, then the signature, with a written
dissent if need be), the report's page for everyone who follows the evaluation (how many signed; the document
for who may see it), and under /api/v1 the signing progress and the report bundle that `etender evaluation
verify-report` checks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from audit import sign_checkpoint
from audit.queries import latest_checkpoint
from core import clock
from core.errors import N_, Conflict
from core.identity import Actor
from core.signing import signing_key, verifier_keys
from evaluation.report import progress, rules, signing
from evaluation.report.events import ReportTag
from evaluation.review import rules as review_rules
from evaluation.room import sessions
from evaluation.scoring import formulas
from web.deps import locale_of, page, redirect
from web.evaluation import review as review_pages
from web.evaluation import room as room_pages
from web.evaluation import scoring as scoring_pages
from web.forms import FormState, submit
from web.tender.public import labeller

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

# The report's audit entries in words, for the monitors' trail and the public log (web.supervision.monitor).
EVENT_LABELS = {
    ReportTag.report_generated.value: N_("Evaluation report generated"),
    ReportTag.report_key_registered.value: N_("A member's signing key for the report registered"),
    ReportTag.report_signed.value: N_("A member signed the evaluation report"),
    ReportTag.report_deemed.value: N_("A member who did not sign in time is deemed to agree with the report"),
    ReportTag.report_completed.value: N_("Evaluation report signed by the whole committee"),
}

KIND_LABELS = {rules.SIGNED: N_("Signed"), rules.DEEMED: N_("Deemed to agree")}

# The codes the report's document holds, by their labels (no code is shown raw on a page): the review's and
# the scoring's own tables where the room's pages have them.
REPORT_LABELS: dict[str, dict[str, str]] = {
    "grounds": dict(review_rules.GROUNDS),
    "review_kinds": {
        review_rules.QUALIFICATION: N_("Qualification review"),
        review_rules.COMPLIANCE: N_("Compliance review"),
    },
    "review_outcomes": {"pass": N_("Pass"), "fail": N_("Fail"), "undecided": N_("Undecided")},
    "states": dict(review_pages.STATE_LABELS),
    "assessments": dict(review_pages.ASSESSMENT_LABELS),
    "flags": {
        formulas.FLAG_OBJECTIVE: N_("An objective factor scored differently by the members"),
        formulas.FLAG_HIGH: N_("An abnormally high score"),
        formulas.FLAG_LOW: N_("An abnormally low score"),
        formulas.FLAG_RANGE: N_("A score outside the factor's range"),
        formulas.FLAG_SUM: N_("A total that differs from the sum of the scores"),
    },
    "tie_breaks": dict(scoring_pages.TIE_BREAKS),
    "steps": {"review": N_("Review"), "scoring": N_("Detailed review (scoring)"), "ranking": N_("Ranking")},
}


def at(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A document's time (UTC, "YYYY-MM-DDTHH:MM:SSZ") in China Standard Time, as the pages show times."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return clock.to_cst(parsed).strftime(fmt)


def _document_context() -> dict[str, Any]:
    return {"report_labels": REPORT_LABELS, "at": at}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _url(tender_id: int) -> str:
    return f"/expert/tenders/{tender_id}/room/report"


def _member_page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    v = signing.view(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "evaluation/report.html",
        status_code=status_code,
        v=v,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        kinds=KIND_LABELS,
        prefix=rules.SIGNING_PREFIX,
        member_page=True,
        label=labeller(locale_of(request)),
        **_document_context(),
    )


@get("/expert/tenders/{tender_id:int}/room/report", sync_to_thread=True)
def member_report(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    sessions.workbench(db, actor, tender_id)  # the room's own refusal: the page is for the committee
    return _member_page(request, db, actor, tender_id)


def _again(
    request: Request, db: Session, actor: Actor, tender_id: int, failed: str, values: dict[str, str]
) -> Any:
    return lambda e: _member_page(
        request, db, actor, tender_id, FormState(failed, values, e.problems), e.status
    )


@post("/expert/tenders/{tender_id:int}/room/report/generate", sync_to_thread=True)
def generate(request: Request, db: Session, actor: Actor, tender_id: int) -> Template | Redirect:
    return submit(
        db,
        lambda: signing.generate(db, actor, tender_id, request.app.state.channel),
        done=lambda _: redirect(
            _url(tender_id),
            flash=N_("The evaluation report is generated; every member signs it now."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "generate", {}),
    )


@post("/expert/tenders/{tender_id:int}/room/report/key", sync_to_thread=True)
def register_key(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"public_key": _text(data, "public_key")}
    return submit(
        db,
        lambda: signing.register_key(db, actor, tender_id, values["public_key"]),
        done=lambda _: redirect(
            _url(tender_id) + "#sign",
            flash=N_(
                "Your signing key is registered for your seat; sign the report with it in this browser."
            ),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "key", values),
    )


@post("/expert/tenders/{tender_id:int}/room/report/sign", sync_to_thread=True)
def sign(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("report_sha256", "signature", "dissent")}
    return submit(
        db,
        lambda: signing.sign(
            db,
            actor,
            tender_id,
            signing.Signing(values["report_sha256"], values["signature"], values["dissent"]),
        ),
        done=lambda _: redirect(_url(tender_id), flash=N_("Your signature is recorded."), request=request),
        refused=_again(request, db, actor, tender_id, "sign", values),
    )


# ---------------------------------------------------------------- for everyone who follows the evaluation


@get("/tenders/{tender_id:int}/evaluation/report", sync_to_thread=True)
def report_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    v = signing.view(db, actor, tender_id)
    return page(
        request,
        "evaluation/report_public.html",
        v=v,
        o=progress.overall(db, actor, tender_id)[1],
        step_labels=room_pages.STEP_LABELS,
        kinds=KIND_LABELS,
        member_page=False,
        label=labeller(locale_of(request)),
        errors=[],
        bad=set(),
        **_document_context(),
    )


@get("/tenders/{tender_id:int}/evaluation/report.pdf", sync_to_thread=True)
def report_pdf(db: Session, actor: Actor, tender_id: int) -> Response[bytes]:
    tender, pdf = signing.pdf(db, actor, tender_id)
    if pdf is None:
        raise Conflict.one(
            "pdf_unavailable",
            N_(
                "The PDF cannot be made on this server (the Noto CJK font is not installed); "
                "the report is available as JSON."
            ),
        )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="evaluation-report-{tender.id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@get("/api/v1/notices/{tender_id:int}/evaluation/report", sync_to_thread=True)
def progress_api(db: Session, actor: Actor, tender_id: int) -> dict[str, Any]:
    """How many members have signed the report (counts only: who signed is the committee's)."""
    tender, p = signing.progress(db, actor, tender_id)
    return {
        "tender": tender.reference,
        "generated": p.generated,
        "signed": p.signed,
        "deemed": p.deemed,
        "total": p.total,
        "complete": p.complete,
        "deadline": p.deadline.isoformat() if p.deadline else None,
    }


@get(
    "/api/v1/notices/{tender_id:int}/evaluation/report.json",
    sync_to_thread=True,
    opt={"writes": True},  # a checkpoint covering the report's entries is signed on demand
)
def bundle_api(request: Request, db: Session, actor: Actor, tender_id: int) -> Response[Any]:
    """The report bundle for who may see the report: the document, its hash, the signatures, the deemed
    agreements and their audit entries with inclusion proofs to a signed checkpoint
    (docs/evaluation-report.md)."""
    signing.readable_report(db, actor, tender_id)  # 403/404 before signing anything
    settings = request.app.state.settings
    # a checkpoint that covers every entry written so far (signed only when the log grew since the last one)
    sign_checkpoint(db, signing_key(settings.data_dir, settings.origin), settings.origin)
    checkpoint = latest_checkpoint(db)
    assert checkpoint is not None
    keys = [k.encode() for k in verifier_keys(settings.data_dir, settings.origin)]
    return Response(
        signing.bundle(db, actor, tender_id, checkpoint, keys),
        headers={"Content-Disposition": f'inline; filename="evaluation-report-{tender_id}.json"'},
    )


ROUTES: list[Any] = [
    member_report,
    generate,
    register_key,
    sign,
    report_page,
    report_pdf,
    progress_api,
    bundle_api,
]
