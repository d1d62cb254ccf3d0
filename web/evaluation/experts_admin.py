"""Administration of the expert pool: list and search, detail, create and edit, status, employment,
conflicts, unavailable dates, and the bulk import with its report. The services in evaluation.pool and
evaluation.importing check the admin role and validate; these handlers parse, call one service, render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.errors import N_, DomainError, Problem
from core.identity import Actor
from evaluation.pool import catalogue, importing, rules
from evaluation.pool import experts as pool
from evaluation.pool.experts import ConflictInput, EmploymentInput, ExpertInput, ExpertQuery
from evaluation.pool.models import Expert, Specialty
from web.accounts.admin import _CREDIT_CODE_REASONS
from web.deps import _, page, redirect
from web.forms import submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

# Each path has exactly one handler (see web/admin.py): forms post to their own paths.
MAX_IMPORT_BYTES = 64 * 1024 * 1024  # 100,000 experts as CSV are about 15 MB
EXPERT_FIELDS = (
    "name",
    "id_number",
    "title",
    "title_level",
    "years",
    "employer_code",
    "employer_name",
    "region",
    "phone",
    "email",
    "account",
)
SUBFORMS = {
    "status": ("status", "since", "until", "reason"),
    "employment": ("org_code", "org_name", "start", "end", "position"),
    "conflict": ("kind", "org_code", "org_name", "start", "end", "note"),
    "unavailable": ("start", "end", "reason"),
}
_CODE_PROBLEMS = ("employer_code_invalid", "org_code_invalid")


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def _texts(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def localised(request: Request, problems: list[Any]) -> list[Any]:
    """Translate a credit code's reason, which core.credit_code gives in English."""
    out = []
    for p in problems:
        why = p.params.get("why")
        if p.code in _CODE_PROBLEMS and isinstance(why, str):
            for pattern, msgid in _CREDIT_CODE_REASONS:
                m = pattern.match(why)
                if m:
                    p = replace(
                        p,
                        params={
                            **p.params,
                            "why": _(request, msgid, **m.groupdict()) if m.groupdict() else _(request, msgid),
                        },
                    )
                    break
        out.append(p)
    return out


def date_problems(values: dict[str, str], names: dict[str, str]) -> list[Problem]:
    """A date field that holds text but not a date is refused with its own message (not taken as empty)."""
    return [
        Problem("date_invalid", message, name)
        for name, message in names.items()
        if values.get(name) and _date(values[name]) is None
    ]


def specialty_groups(session: Session) -> list[tuple[Specialty, list[Specialty]]]:
    """The catalogue for the specialty picker: each field with its specialties."""
    rows = catalogue.all_specialties(session)
    children: dict[str | None, list[Specialty]] = {}
    for s in rows:
        children.setdefault(s.parent_code, []).append(s)
    groups = []
    for s in rows:
        kids = children.get(s.code, [])
        if s.parent_code is not None and kids:
            groups.append((s, kids))
    return groups


def _names(session: Session) -> dict[str, Specialty]:
    return {s.code: s for s in catalogue.all_specialties(session)}


# ---------------------------------------------------------------- list


@get("/admin/experts", sync_to_thread=True)
def expert_list(
    request: Request,
    db: Session,
    actor: Actor,
    q: str = "",
    specialty: str = "",
    status: str = "",
    region: str = "",
    level: str = "",
) -> Template:
    query = ExpertQuery(
        q=q,
        specialty=specialty,
        status=status if status in rules.STATUSES else "",
        region=region,
        title_level=level if level in rules.TITLE_LEVELS else "",
        page=_int(request.query_params.get("page", "1")) or 1,
    )
    result = pool.search_experts(db, actor, query)
    return page(
        request,
        "admin/experts/list.html",
        result=result,
        q=q,
        specialty=specialty.upper(),
        status=query.status,
        region=region,
        level=query.title_level,
        statuses=rules.STATUSES,
        status_labels=rules.STATUS_LABELS,
        levels=rules.TITLE_LEVELS,
        level_labels=rules.LEVEL_LABELS,
        groups=specialty_groups(db),
        names=_names(db),
        counts=pool.counts_by_status(db, actor),
    )


# ---------------------------------------------------------------- create and edit


def _form(data: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {f: _text(data, f) for f in EXPERT_FIELDS}
    form["specialties"] = [c.upper() for c in _texts(data, "specialties")]
    return form


def _form_of(expert: Expert | None) -> dict[str, Any]:
    if expert is None:
        return {**{f: "" for f in EXPERT_FIELDS}, "title_level": "associate_senior", "specialties": []}
    form: dict[str, Any] = {f: str(getattr(expert, f) or "") for f in EXPERT_FIELDS if f != "account"}
    form["account"] = expert.user.username if expert.user is not None else ""
    form["specialties"] = expert.specialty_codes
    return form


def _input(form: dict[str, Any]) -> ExpertInput:
    return ExpertInput(
        name=form["name"],
        id_number=form["id_number"],
        title=form["title"],
        title_level=form["title_level"],
        years=_int(form["years"]),
        specialties=form["specialties"],
        employer_code=form["employer_code"],
        employer_name=form["employer_name"],
        region=form["region"],
        phone=form["phone"],
        email=form["email"],
        account=form["account"],
    )


def _form_page(
    request: Request,
    db: Session,
    form: dict[str, Any],
    expert_id: int | None,
    errors: list[Problem],
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "admin/experts/form.html",
        status_code=status_code,
        form=form,
        expert_id=expert_id,
        errors=errors,
        levels=rules.TITLE_LEVELS,
        level_labels=rules.LEVEL_LABELS,
        groups=specialty_groups(db),
        min_years=rules.MIN_YEARS,
    )


@get("/admin/experts/new", sync_to_thread=True)
def expert_new(request: Request, db: Session, actor: Actor) -> Template:
    pool.require_admin(actor)
    return _form_page(request, db, _form_of(None), None, [])


@post("/admin/experts/create", sync_to_thread=True)
def expert_create(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    form = _form(data)
    return submit(
        db,
        lambda: pool.create_expert(db, actor, _input(form)),
        done=lambda expert: redirect(
            f"/admin/experts/{expert.id}", flash=N_("The expert was registered in the pool."), request=request
        ),
        refused=lambda e: _form_page(request, db, form, None, localised(request, e.problems), e.status),
    )


@get("/admin/experts/{expert_id:int}/edit", sync_to_thread=True)
def expert_edit(request: Request, db: Session, actor: Actor, expert_id: int) -> Template:
    pool.require_admin(actor)
    expert = pool.get_expert(db, actor, expert_id)
    return _form_page(request, db, _form_of(expert), expert.id, [])


@post("/admin/experts/{expert_id:int}/save", sync_to_thread=True)
def expert_update(
    request: Request, db: Session, actor: Actor, expert_id: int, data: Form
) -> Template | Redirect:
    form = _form(data)
    return submit(
        db,
        lambda: pool.update_expert(db, actor, expert_id, _input(form)),
        done=lambda _: redirect(
            f"/admin/experts/{expert_id}", flash=N_("The expert's record was saved."), request=request
        ),
        refused=lambda e: _form_page(request, db, form, expert_id, localised(request, e.problems), e.status),
    )


# ---------------------------------------------------------------- detail and its small forms


def _detail(
    request: Request,
    db: Session,
    actor: Actor,
    expert_id: int,
    failed: str = "",
    values: dict[str, str] | None = None,
    errors: list[Problem] | None = None,
    status_code: int = 200,
) -> Template:
    pool.require_admin(actor)
    expert = pool.get_expert(db, actor, expert_id)
    return page(
        request,
        "admin/experts/detail.html",
        status_code=status_code,
        expert=expert,
        names=_names(db),
        failed=failed,
        values=values or {},
        errors=errors or [],
        statuses=rules.STATUSES,
        status_labels=rules.STATUS_LABELS,
        level_labels=rules.LEVEL_LABELS,
        conflict_kinds=rules.CONFLICT_KINDS,
        conflict_labels=rules.CONFLICT_LABELS,
        eligible=rules.eligible(expert.title_level, expert.years),
    )


@get("/admin/experts/{expert_id:int}", sync_to_thread=True)
def expert_detail(request: Request, db: Session, actor: Actor, expert_id: int) -> Template:
    return _detail(request, db, actor, expert_id)


DATE_MESSAGES = {
    "since": N_("The start date is not a date; write it as 2026-03-01."),
    "until": N_("The end date is not a date; write it as 2026-05-31."),
    "start": N_("The start date is not a date; write it as 2026-03-01."),
    "end": N_("The end date is not a date; write it as 2026-05-31."),
}


def _subform(data: dict[str, Any], name: str) -> dict[str, str]:
    return {f: _text(data, f) for f in SUBFORMS[name]}


def _again(
    request: Request, db: Session, actor: Actor, expert_id: int, name: str, values: dict[str, str]
) -> Callable[[DomainError], Template]:
    """The expert's page again, with what was typed into the refused form and why it was refused."""
    return lambda e: _detail(
        request,
        db,
        actor,
        expert_id,
        failed=name,
        values=values,
        errors=localised(request, e.problems),
        status_code=e.status,
    )


def _dates(values: dict[str, str], *names: str) -> list[Problem]:
    return date_problems(values, {k: DATE_MESSAGES[k] for k in names})


@post("/admin/experts/{expert_id:int}/status", sync_to_thread=True)
def expert_status(
    request: Request, db: Session, actor: Actor, expert_id: int, data: Form
) -> Template | Redirect:
    values = _subform(data, "status")
    pool.require_admin(actor)  # before the dates are judged: a stranger learns nothing from the form
    return submit(
        db,
        lambda: pool.set_status(
            db,
            actor,
            expert_id,
            values["status"],
            _date(values["since"]),
            _date(values["until"]),
            values["reason"],
        ),
        problems=_dates(values, "since", "until"),
        done=lambda _: redirect(
            f"/admin/experts/{expert_id}", flash=N_("The expert's status was changed."), request=request
        ),
        refused=_again(request, db, actor, expert_id, "status", values),
    )


@post("/admin/experts/{expert_id:int}/employments", sync_to_thread=True)
def expert_employment(
    request: Request, db: Session, actor: Actor, expert_id: int, data: Form
) -> Template | Redirect:
    values = _subform(data, "employment")
    pool.require_admin(actor)
    employment = EmploymentInput(
        values["org_code"],
        values["org_name"],
        _date(values["start"]),
        _date(values["end"]),
        values["position"],
    )
    return submit(
        db,
        lambda: pool.add_employment(db, actor, expert_id, employment),
        problems=_dates(values, "start", "end"),
        done=lambda _: redirect(
            f"/admin/experts/{expert_id}#employment", flash=N_("The employment was added."), request=request
        ),
        refused=_again(request, db, actor, expert_id, "employment", values),
    )


def conflict_input(values: dict[str, str]) -> ConflictInput:
    return ConflictInput(
        values["kind"],
        values["org_code"],
        values["org_name"],
        _date(values["start"]),
        _date(values["end"]),
        values["note"],
    )


@post("/admin/experts/{expert_id:int}/conflicts", sync_to_thread=True)
def expert_conflict(
    request: Request, db: Session, actor: Actor, expert_id: int, data: Form
) -> Template | Redirect:
    values = _subform(data, "conflict")
    pool.require_admin(actor)
    return submit(
        db,
        lambda: pool.declare_conflict(db, actor, expert_id, conflict_input(values)),
        problems=_dates(values, "start", "end"),
        done=lambda _: redirect(
            f"/admin/experts/{expert_id}#conflicts",
            flash=N_("The declared interest was recorded."),
            request=request,
        ),
        refused=_again(request, db, actor, expert_id, "conflict", values),
    )


@post("/admin/experts/{expert_id:int}/unavailable", sync_to_thread=True)
def expert_unavailable(
    request: Request, db: Session, actor: Actor, expert_id: int, data: Form
) -> Template | Redirect:
    values = _subform(data, "unavailable")
    pool.require_admin(actor)
    return submit(
        db,
        lambda: pool.add_unavailability(
            db, actor, expert_id, _date(values["start"]), _date(values["end"]), values["reason"]
        ),
        problems=_dates(values, "start", "end"),
        done=lambda _: redirect(
            f"/admin/experts/{expert_id}#unavailable",
            flash=N_("The unavailable days were recorded."),
            request=request,
        ),
        refused=_again(request, db, actor, expert_id, "unavailable", values),
    )


# ---------------------------------------------------------------- import


def _import_page(
    request: Request,
    status_code: int = 200,
    errors: list[Problem] | None = None,
    report: importing.ImportReport | None = None,
) -> Template:
    return page(
        request,
        "admin/experts/import.html",
        status_code=status_code,
        errors=errors or [],
        report=report,
        columns=importing.COLUMNS,
        max_mb=MAX_IMPORT_BYTES // (1024 * 1024),
    )


@get("/admin/experts/import", sync_to_thread=False)
def import_form(request: Request, actor: Actor) -> Template:
    pool.require_admin(actor)
    return _import_page(request)


@post(
    "/admin/experts/import/upload", sync_to_thread=True, request_max_body_size=MAX_IMPORT_BYTES + 1024 * 1024
)
def import_upload(request: Request, db: Session, actor: Actor, data: Multipart) -> Template:
    pool.require_admin(actor)
    upload = data.get("file")
    if isinstance(upload, list):
        upload = upload[-1] if upload else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(
            request, 422, [Problem("file_missing", N_("Choose the .xlsx or .csv file to import."), "file")]
        )
    try:
        content = upload.file.read(MAX_IMPORT_BYTES + 1)
    finally:
        upload.file.close()
    if len(content) > MAX_IMPORT_BYTES:
        problem = Problem(
            "file_too_large",
            N_("The file is larger than %(mb)s MB; split it into several files."),
            "file",
            {"mb": MAX_IMPORT_BYTES // (1024 * 1024)},
        )
        return _import_page(request, 422, [problem])
    filename = upload.filename
    return submit(
        db,
        lambda: importing.import_experts(db, actor, filename, content),
        done=lambda report: _report_page(request, report),
        refused=lambda e: _import_page(request, e.status, e.problems),
    )


def _report_page(request: Request, report: importing.ImportReport) -> Template:
    report.problems = localised(request, report.problems)  # type: ignore[arg-type]
    return _import_page(request, 200 if report.ok else 422, report=report)


@get("/admin/experts/import/template.csv", sync_to_thread=False)
def import_template_csv(actor: Actor) -> Response[bytes]:
    pool.require_admin(actor)
    return Response(
        importing.template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="expert-import-template.csv"'},
    )


@get("/admin/experts/import/template.xlsx", sync_to_thread=False)
def import_template_xlsx(actor: Actor) -> Response[bytes]:
    pool.require_admin(actor)
    return Response(
        importing.template_xlsx(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": 'attachment; filename="expert-import-template.xlsx"'},
    )


ROUTES = [
    expert_list,
    expert_new,
    expert_create,
    expert_edit,
    expert_update,
    expert_detail,
    expert_status,
    expert_employment,
    expert_conflict,
    expert_unavailable,
    import_form,
    import_upload,
    import_template_csv,
    import_template_xlsx,
]
