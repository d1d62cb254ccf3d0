"""The committee's scoring and ranking pages in the sealed room (evaluation.scoring): the member's score sheet
(saved as they type by /static/js/scoring-autosave.js through the JSON endpoint, or by the form without
script), its submission, the summary and the member's flags, the chair's price corrections and the closing of
the scoring and the ranking; and the scoring's progress (members finished n/m) under /api/v1 for everyone
the disclosure policy lets see the evaluation's progress."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core import money
from core.errors import N_, Problem, ValidationFailed
from core.identity import Actor
from evaluation.room import sessions
from evaluation.scoring import formulas, prices, ranking, sheets
from evaluation.scoring.events import ScoringTag
from web.deps import locale_of, page, redirect
from web.forms import FormState, submit
from web.problems import problems_json

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
JSONBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.JSON)]

# The scoring's audit entries in words, for the monitors' trail and the public log (web.supervision.monitor).
EVENT_LABELS = {
    ScoringTag.seed_committed.value: N_("Fingerprint of the random number for breaking ties fixed"),
    ScoringTag.sheet_started.value: N_("A member started their score sheet"),
    ScoringTag.sheet_submitted.value: N_("A member submitted their score sheet"),
    ScoringTag.price_corrected.value: N_("The committee corrected a bid's price (arithmetic error)"),
    ScoringTag.price_adjusted.value: N_("The committee adjusted a bid's evaluated price"),
    ScoringTag.flag_confirmed.value: N_("A member confirmed a flagged score with a reason"),
    ScoringTag.score_corrected.value: N_("A member corrected a flagged score with a reason"),
}

FLAG_MESSAGES = {
    formulas.FLAG_OBJECTIVE: N_(
        "The members' scores on this objective factor differ (%(values)s): they must be the same. Check the "
        "bid and correct your score if it is wrong."
    ),
    formulas.FLAG_HIGH: N_(
        "Your score %(score)s is abnormally high: the other members' mean is %(others_mean)s (more than "
        "%(allowed)s apart). Confirm it with your reason or correct it."
    ),
    formulas.FLAG_LOW: N_(
        "Your score %(score)s is abnormally low: the other members' mean is %(others_mean)s (more than "
        "%(allowed)s apart). Confirm it with your reason or correct it."
    ),
    formulas.FLAG_RANGE: N_("This score is outside the factor's range: correct it."),
    formulas.FLAG_SUM: N_("The stated total differs from the sum of the scores: correct it."),
}

FAILED_REASONS = {
    formulas.FAILED_ALL_REJECTED: N_("All bids were rejected"),
    formulas.FAILED_TOO_FEW: N_("Fewer than 3 valid bids were left after the review"),
}

TIE_BREAKS = {"price": N_("lower price"), "lottery": N_("lottery")}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _url(tender_id: int) -> str:
    return f"/expert/tenders/{tender_id}/room/scoring"


def _flag_text(f: sheets.FlagView) -> dict[str, Any]:
    figures = dict(f.flag.figures)
    if f.flag.kind == formulas.FLAG_OBJECTIVE:
        # the members' scores without whose they are: a member sees that they differ, not who typed what
        figures = {"values": ", ".join(sorted({str(v) for v in f.flag.figures.values()}))}
    return {k: str(v) for k, v in figures.items()}


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    v = sheets.view(db, actor, tender_id)
    form = form or FormState()
    values = dict(v.values)
    if form.failed == "sheet":
        values.update(form.values)  # what they typed, refused or not, stays in the grid
    names = {b["opened_bid"]: b["bidder"] for b in v.bids}
    return page(
        request,
        "evaluation/scoring.html",
        status_code=status_code,
        v=v,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        values=values,
        field_name=sheets.field_name,
        names=names,
        flag_messages=FLAG_MESSAGES,
        flag_text=_flag_text,
        failed_reasons=FAILED_REASONS,
        tie_breaks=TIE_BREAKS,
        may_fail=formulas.failed(len(v.bids), False) is not None,
        default_candidates=ranking.DEFAULT_CANDIDATES,
    )


@get("/expert/tenders/{tender_id:int}/room/scoring", sync_to_thread=True)
def scoring_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _page(request, db, actor, tender_id)


def _again(
    request: Request, db: Session, actor: Actor, tender_id: int, failed: str, values: dict[str, str]
) -> Any:
    return lambda e: _page(request, db, actor, tender_id, FormState(failed, values, e.problems), e.status)


def _cells(data: dict[str, Any]) -> tuple[list[sheets.EntryIn], dict[str, str]]:
    """The grid's fields (score-<bid>-<factor>) of a posted form."""
    entries, values = [], {}
    for key in data:
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "score" and parts[1].isdigit() and parts[2].isdigit():
            text = _text(data, key)
            entries.append(sheets.EntryIn(int(parts[1]), int(parts[2]), text))
            values[key] = text
    return entries, values


def _save_all(db: Session, actor: Actor, tender_id: int, entries: list[sheets.EntryIn]) -> sheets.Saved:
    saved = sheets.save(db, actor, tender_id, entries)
    if saved.problems:
        # the valid cells are saved (the refusal is kept: the unit of work commits them) and the page shows
        # the refused ones with what was typed
        raise ValidationFailed(saved.problems).keep()
    return saved


@post("/expert/tenders/{tender_id:int}/room/scoring/sheet", sync_to_thread=True)
def save_form(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    """The grid posted without script (the page's autosave uses the JSON endpoint)."""
    entries, values = _cells(data)
    return submit(
        db,
        lambda: _save_all(db, actor, tender_id, entries),
        done=lambda _: redirect(
            _url(tender_id) + "#sheet", flash=N_("Your scores are saved."), request=request
        ),
        refused=_again(request, db, actor, tender_id, "sheet", values),
    )


@post("/expert/tenders/{tender_id:int}/room/scoring/submit", sync_to_thread=True)
def submit_sheet(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"confirm": _text(data, "confirm")}
    problems = (
        []
        if values["confirm"] == "1"
        else [
            Problem(
                "scoring_submit_unconfirmed",
                N_("Tick the box to confirm that your scores are final."),
                "confirm",
            )
        ]
    )
    return submit(
        db,
        lambda: sheets.submit(db, actor, tender_id),
        problems=problems,
        done=lambda _: redirect(
            _url(tender_id),
            flash=N_("Your sheet is submitted. The summary is shown once every member has submitted."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "submit", values),
    )


def _cell(values: dict[str, str]) -> tuple[int, int, list[Problem]]:
    bid, factor = values.get("bid", ""), values.get("factor", "")
    if bid.isdigit() and factor.isdigit():
        return int(bid), int(factor), []
    return 0, 0, [Problem("scoring_no_flag", sheets.REFUSALS["scoring_no_flag"])]


@post("/expert/tenders/{tender_id:int}/room/scoring/flags/confirm", sync_to_thread=True)
def confirm_flag(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("bid", "factor", "reason")}
    bid, factor, problems = _cell(values)
    return submit(
        db,
        lambda: sheets.confirm_flag(db, actor, tender_id, bid, factor, values["reason"]),
        problems=problems,
        done=lambda _: redirect(
            _url(tender_id) + "#flags", flash=N_("Your score is confirmed with your reason."), request=request
        ),
        refused=_again(request, db, actor, tender_id, f"flag-{values['bid']}-{values['factor']}", values),
    )


@post("/expert/tenders/{tender_id:int}/room/scoring/flags/correct", sync_to_thread=True)
def correct_score(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("bid", "factor", "value", "reason")}
    bid, factor, problems = _cell(values)
    return submit(
        db,
        lambda: sheets.correct_score(db, actor, tender_id, bid, factor, values["value"], values["reason"]),
        problems=problems,
        done=lambda _: redirect(
            _url(tender_id) + "#flags",
            flash=N_("Your score is corrected; the old and new values are recorded with your reason."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, f"flag-{values['bid']}-{values['factor']}", values),
    )


@post("/expert/tenders/{tender_id:int}/room/scoring/prices", sync_to_thread=True)
def record_price(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("bid", "kind", "amount", "reason")}
    problems: list[Problem] = []
    amount = 0
    negative = values["amount"].startswith("-")
    try:
        amount = money.parse_yuan(values["amount"].removeprefix("-"))
    except ValueError:
        problems.append(
            Problem(
                "scoring_amount_invalid",
                ranking.REFUSALS["scoring_amount_invalid"]
                if values["kind"] == prices.ADJUSTMENT
                else ranking.REFUSALS["scoring_price_invalid"],
                "amount",
            )
        )
    bid = int(values["bid"]) if values["bid"].isdigit() else 0
    if values["kind"] == prices.ADJUSTMENT:
        action = lambda: ranking.record_adjustment(  # noqa: E731
            db, actor, tender_id, bid, -amount if negative else amount, values["reason"]
        )
    else:
        if negative:
            problems.append(
                Problem("scoring_price_invalid", ranking.REFUSALS["scoring_price_invalid"], "amount")
            )
        action = lambda: ranking.record_correction(db, actor, tender_id, bid, amount, values["reason"])  # noqa: E731
    return submit(
        db,
        action,
        problems=problems,
        done=lambda _: redirect(
            _url(tender_id) + "#prices", flash=N_("Recorded with its reason."), request=request
        ),
        refused=_again(request, db, actor, tender_id, "prices", values),
    )


@post("/expert/tenders/{tender_id:int}/room/scoring/close", sync_to_thread=True)
def close_scoring(request: Request, db: Session, actor: Actor, tender_id: int) -> Template | Redirect:
    return submit(
        db,
        lambda: ranking.close_scoring(db, actor, tender_id),
        done=lambda _: redirect(
            _url(tender_id) + "#ranking",
            flash=N_("The scoring is closed; the ranking is next."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "close-scoring", {}),
    )


@post("/expert/tenders/{tender_id:int}/room/ranking/close", sync_to_thread=True)
def close_ranking(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("candidates", "reject_all")}
    reject = values["reject_all"] == "1"
    count = int(values["candidates"]) if values["candidates"].isdigit() else 0
    problems = (
        []
        if reject or formulas.MIN_CANDIDATES <= count <= formulas.MAX_CANDIDATES
        else [Problem("ranking_candidates", ranking.REFUSALS["ranking_candidates"], "candidates")]
    )
    return submit(
        db,
        lambda: ranking.close_ranking(
            db, actor, tender_id, ranking.RankingInput(candidates=count or 1, reject_all=reject)
        ),
        problems=problems,
        done=lambda _: redirect(
            _url(tender_id) + "#ranking",
            flash=N_("The ranking is closed; the report is next."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "ranking", values),
    )


# ---------------------------------------------------------------- JSON: the autosave and the progress


def _entries(data: Any) -> list[sheets.EntryIn]:
    raw = data.get("entries") if isinstance(data, dict) else None
    problem = Problem(
        "scoring_body",
        N_('Send {"entries": [{"bid": <bid id>, "factor": <factor index>, "value": <score or null>}, ...]}.'),
    )
    if not isinstance(raw, list):
        raise ValidationFailed(problem)
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValidationFailed(problem)
        bid, factor = item.get("bid"), item.get("factor")
        if type(bid) is not int or type(factor) is not int or not 0 <= bid < 2**63 or factor < 0:
            raise ValidationFailed(problem)
        out.append(sheets.EntryIn(bid, factor, item.get("value")))
    return out


def _sheet_json(v: sheets.SheetView) -> dict[str, Any]:
    return {
        "tender": v.tender.reference,
        "step_open": v.step_open,
        "submitted": v.sheet is not None and v.sheet.submitted_at is not None,
        "saved_at": v.sheet.saved_at.isoformat() if v.sheet is not None else None,
        "factors": [
            {"index": i, "name": f.name, "points": f.points, "kind": f.kind} for i, f in enumerate(v.factors)
        ],
        "bids": [b["opened_bid"] for b in v.bids],
        "values": v.values,
        "progress": {"submitted": v.submitted, "members": v.members},
    }


@get("/api/v1/expert/tenders/{tender_id:int}/scoring/sheet", sync_to_thread=True)
def sheet_api(db: Session, actor: Actor, tender_id: int) -> dict[str, Any]:
    """The member's own sheet (nobody else's)."""
    return _sheet_json(sheets.view(db, actor, tender_id))


@post("/api/v1/expert/tenders/{tender_id:int}/scoring/sheet", sync_to_thread=True)
def save_api(request: Request, db: Session, actor: Actor, tender_id: int, data: JSONBody) -> Response[Any]:
    """Save one or many cells (idempotent). 200: all saved; 422: the refused cells' problems (their `field`
    names the cell), every other cell of the request saved all the same."""
    working = sheets.require_member(db, actor, tender_id)  # who may save at all before what they sent
    saved = sheets.save(db, actor, tender_id, _entries(data), working)
    body = {"saved": saved.saved, "saved_at": saved.saved_at.isoformat()}
    if saved.problems:
        body |= problems_json(locale_of(request), saved.problems)
        return Response(body, status_code=422, media_type=MediaType.JSON)  # the unit of work commits the rest
    return Response(body, status_code=200, media_type=MediaType.JSON)


@get("/api/v1/notices/{tender_id:int}/evaluation/scoring", sync_to_thread=True)
def progress_api(db: Session, actor: Actor, tender_id: int) -> dict[str, Any]:
    """Members finished n/m: a count, never names or scores, for whoever may see the evaluation's progress."""
    tender, _ = sessions.progress(db, actor, tender_id)
    sess = sessions.session_of(db, tender.id)
    done, total = sheets.progress(db, sess) if sess is not None else (0, 0)
    return {"tender": tender.reference, "submitted": done, "members": total}


ROUTES: list[Any] = [
    scoring_page,
    save_form,
    submit_sheet,
    confirm_flag,
    correct_score,
    record_price,
    close_scoring,
    close_ranking,
    sheet_api,
    save_api,
    progress_api,
]
