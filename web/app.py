"""The Litestar application: pages and the JSON API under /api/v1."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from litestar import Litestar, MediaType, Request, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError

from accounts import services as accounts
from accounts.notifications import channel_for
from audit.events import RequestTag
from audit.refusals import record_after_rollback
from core import db as dbmod
from core import tasks
from core.disclosure import Fact
from core.errors import N_, BadRequest, DomainError, NotAuthenticated, Problem, Unavailable, is_kept
from core.identity import SYSTEM, Role, anonymous
from core.settings import Settings, load_settings
from evaluation.committee import tasks as committee_tasks
from storage import open_store
from web import i18n, metrics, rule_pages, rule_refs, templating
from web.accounts import admin, auth
from web.audit import api as audit_api
from web.audit import pages as audit_pages
from web.award import archive as award_archive
from web.award import decision as award_decision  # noqa: I001 - issue 14
from web.award import publicity as award_publicity
from web.body_timeout import BodyTimeoutMiddleware
from web.bounds import RequestBoundsMiddleware
from web.cache import PublicCache
from web.deps import (
    SESSION_EPOCH,
    SESSION_ROLE,
    SESSION_USER,
    client_ip,
    locale_of,
    provide_actor,
    provide_db,
)
from web.evaluation import draws as draw_pages
from web.evaluation import expert_portal, experts_admin, experts_api, phone_calls
from web.evaluation import report as evaluation_report
from web.evaluation import review as evaluation_review
from web.evaluation import room as evaluation_room
from web.evaluation import scoring as evaluation_scoring
from web.marketplace import credit_pages as marketplace_credit_pages
from web.marketplace import pages as marketplace_pages
from web.opendata import api as ocds_api
from web.problems import error_json, problems_json
from web.request_id import RequestIdMiddleware
from web.security import (
    SESSION_COOKIE,
    CrossSiteRecording,
    SessionCSRFMiddleware,
    add_security_headers,
    same_site_for_recording,
)
from web.sessions import LazySessionConfig, SessionFileStore
from web.supervision import monitor
from web.supervision import statistics as statistics_pages
from web.supervision import workbenches as role_workbenches
from web.tender import agency, api, bidder, bids, clarification_requests, keyholder, opening, public

log = logging.getLogger("etender")
HERE = Path(__file__).parent


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# ---------------------------------------------------------------- refused attempts (E49)
#
# Every refused write is recorded, here, for every route: where a refusal becomes a response. A service that
# records its own refusal raises it kept (core.errors.DomainError.kept: the unit of work has committed its
# record); any other refusal of a write (not allowed, not found, another organisation's object, not valid)
# and every failed CSRF check is recorded as request.refused / request.csrf.refused, after the request's
# transaction was rolled back (nothing the refused request wrote is kept with it), in a short transaction of
# its own run once the answer is sent (a background task, off the event loop), folded by audit.refusals so
# that repeated attempts cannot flood the log. Withheld as Fact.refusals: never public.

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_RESOURCES = {"tender_id": "tender", "bid_id": "bid", "user_id": "user", "org_id": "organisation"}


def _is_write(request: Request) -> bool:
    handler = request.scope.get("route_handler")
    return request.method not in SAFE_METHODS or bool(handler is not None and handler.opt.get("writes"))


def _refusal_subject(request: Request) -> str:
    """What the refused request was about: the object its path names, else the route."""
    params = request.scope.get("path_params") or {}
    for name, kind in _RESOURCES.items():
        if isinstance(params.get(name), int):
            return f"{kind}:{params[name]}"
    for name, value in params.items():
        if name.endswith("_id") and isinstance(value, int):
            return f"{name[:-3]}:{value}"
    return f"route:{_route(request)}"[:120]


def _route(request: Request) -> str:
    return str(request.scope.get("path_template") or request.url.path)[:100]


def _record_refusal(state: State, session_data: dict[str, Any], ip: str, **kwargs: Any) -> None:
    """The background task: the actor as the request's session names them (loaded again: the request's own
    unit of work is closed), and the refusal recorded in a transaction of its own."""
    try:
        actor = anonymous(ip)
        uid = session_data.get(SESSION_USER)
        if isinstance(uid, int) or (isinstance(uid, str) and uid.isdigit()):
            with state.db() as db:
                epoch = session_data.get(SESSION_EPOCH, 0)
                found = accounts.load_actor(
                    db, int(uid), ip, session_data.get(SESSION_ROLE), epoch if isinstance(epoch, int) else -1
                )
            actor = found or actor
        subject = kwargs.pop("subject")
        if actor.has(Role.bidder):
            # E21/L22: that a company tried something on a tender says it takes part, which not even the
            # monitors may learn before the deadline (Fact.participation). The object goes into the
            # committed confidential part (the alerts read it server-side, the disclosure policy's alerts
            # exception); the entry is about the person.
            kwargs["confidential"], subject = {"object": subject}, f"user:{actor.user_id}"
        record_after_rollback(state.db, actor=actor, subject=subject, withhold=Fact.refusals, **kwargs)
    except Exception:  # noqa: BLE001 - the answer is sent; say why the record failed
        log.exception("could not record a refused request")


def _refusal_task(request: Request, tag: RequestTag, reason: str, details: dict[str, Any]) -> BackgroundTask:
    session = request.scope.get("session")
    return BackgroundTask(
        _record_refusal,
        request.app.state,
        dict(session) if isinstance(session, dict) else {},
        client_ip(request),
        tag=tag,
        subject=_refusal_subject(request),
        details={"method": request.method, "route": _route(request), "reason": reason, **details},
    )


def _record_outage(state: State, service: str, route: str) -> None:
    """The background task of an outage answered 503: one entry per service, folded (audit.refusals) so that a
    burst of bidders meeting the outage is one entry with its count, withheld like refusals."""
    try:
        record_after_rollback(
            state.db,
            tag=RequestTag.request_unavailable,
            actor=SYSTEM,
            subject=f"service:{service}",
            withhold=Fact.refusals,
            details={"service": service, "route": route},
        )
    except Exception:  # noqa: BLE001 - the store may be down with the database; the log says so
        log.exception("could not record an outage")


def outage(request: Request, exc: DomainError) -> BackgroundTask | None:
    """The recording of a 503 for the monitors' alert (None where the database itself is what is down)."""
    if not isinstance(exc, Unavailable) or isinstance(exc, DatabaseUnavailable):
        return None
    service = exc.problems[0].code.removesuffix("_unavailable") if exc.problems else "service"
    return BackgroundTask(_record_outage, request.app.state, service, _route(request))


def refused_write(request: Request, exc: DomainError) -> BackgroundTask | None:
    """The recording of a refused write the service did not record itself (None: nothing to record). A
    service that is not answering (503: the blob store is down) refused nobody."""
    if is_kept(exc) or not _is_write(request) or exc.status >= 500:
        return None
    codes = [p.code for p in exc.problems]
    return _refusal_task(
        request, RequestTag.request_refused, codes[0] if codes else "", {"status": exc.status, "codes": codes}
    )


def domain_error_handler(request: Request, exc: DomainError) -> Response[Any]:
    locale = locale_of(request)
    background = refused_write(request, exc) or outage(request, exc)
    # a service that is not answering: say when to come back (browsers' and the upload script's retries)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable) else None
    if _is_api(request):
        return Response(
            problems_json(locale, exc.problems),
            status_code=exc.status,
            media_type=MediaType.JSON,
            headers=headers,
            background=background,
        )
    if isinstance(exc, NotAuthenticated):
        return Redirect(path=f"/login?next={request.url.path}", status_code=303, background=background)
    return Template(
        template_name="error.html",
        context={
            "status": exc.status,
            "messages": [rule_refs.problem_markup(locale, p) for p in exc.problems],
        },
        status_code=exc.status,
        headers=headers,
        background=background,
    )


def http_error_handler(request: Request, exc: HTTPException) -> Response[Any]:
    locale = locale_of(request)
    status = exc.status_code
    background = None
    if isinstance(exc, ValidationException):
        code, message = (
            "invalid_request",
            i18n.translate(locale, "The request is not valid: %(detail)s", {"detail": exc.detail}),
        )
    elif status == 403 and "csrf" in str(exc.detail).lower():
        code, message = (
            "csrf_failed",
            i18n.translate(
                locale, "The form expired or was sent from another site. Reload the page and try again."
            ),
        )
        background = _refusal_task(request, RequestTag.request_csrf_refused, "csrf_failed", {"status": 403})
    elif status == 404:
        code, message = "not_found", i18n.translate(locale, "This page does not exist.")
    elif status == 408:
        code, message = (
            "request_timeout",
            i18n.translate(
                locale, N_("The request's content stopped arriving. Check the connection and send it again.")
            ),
        )
    elif status == 405:
        code, message = "method_not_allowed", i18n.translate(locale, "This action is not allowed here.")
    elif isinstance(exc, NotAuthorizedException):
        code, message = "login_required", i18n.translate(locale, "Please log in first.")
    elif status >= 500:
        code, message = (
            "server_error",
            i18n.translate(locale, "Something went wrong on our side. Please try again."),
        )
    else:
        code, message = "http_error", str(exc.detail)
    headers = exc.headers or None  # e.g. the body timeout's Connection: close
    if _is_api(request):
        return Response(
            error_json(code, message),
            status_code=status,
            media_type=MediaType.JSON,
            headers=headers,
            background=background,
        )
    return Template(
        template_name="error.html",
        context={"status": status, "messages": [message]},
        status_code=status,
        headers=headers,
        background=background,
    )


def cross_site_handler(request: Request, exc: CrossSiteRecording) -> Response[Any]:
    """web.security.same_site_for_recording refused a GET from another site: the API says so in its usual
    body; a page asks the person to confirm, with a link here (its click is a same-origin request)."""
    locale = locale_of(request)
    if _is_api(request):
        message = i18n.translate(
            locale,
            N_(
                "This request records something under your name and came from another site; it was not "
                "performed. Send it from this site."
            ),
        )
        return Response(
            error_json("cross_site_request", message),
            status_code=403,
            media_type=MediaType.JSON,
            headers={"Cache-Control": "no-store"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Template(
        template_name="confirm_cross_site.html",
        context={"action": exc.action, "target": target},
        status_code=403,
        headers={"Cache-Control": "no-store"},
    )


def data_error_handler(request: Request, exc: Exception) -> Response[Any]:
    """A number too large for the database, or a value it refuses (a NUL in text on PostgreSQL), that reached
    it through a parameter a handler reads itself (web.bounds refuses declared ones earlier): the request's
    fault, answered 400 with the usual body, not a 500. The unit of work has rolled back."""
    log.warning("refused a value the database cannot hold on %s: %s", request.url.path, type(exc).__name__)
    return domain_error_handler(
        request,
        BadRequest.one("value_out_of_range", N_("A value in the request is out of range or malformed.")),
    )


class DatabaseUnavailable(Unavailable):
    def __init__(self) -> None:
        super().__init__(
            Problem(
                "database_unavailable",
                N_(
                    "The platform's database is not answering just now. Try again in a minute; nothing you "
                    "sent before is lost, and a bid that has its receipt stands."
                ),
            )
        )


def database_error_handler(request: Request, exc: Exception) -> Response[Any]:
    """The database could not be reached or is too busy (a connection refused or lost, a lock not granted in
    time): the person gets a 503 saying to try again, with Retry-After, not a bare server error (issue 17).
    The unit of work has rolled back, so nothing half-done stands."""
    log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
    return domain_error_handler(request, DatabaseUnavailable())


def server_error_handler(request: Request, exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s", request.url.path)
    return http_error_handler(request, HTTPException(status_code=500, detail="server error"))


@get("/healthz", sync_to_thread=True, opt={"public": True})
def healthz(state: State) -> Response[dict[str, Any]]:
    out: dict[str, Any] = {}
    ok = True
    try:
        with state.db() as session:
            session.execute(text("SELECT 1"))
        out["database"] = {"status": "ok", "backend": "sqlite" if state.settings.is_sqlite else "postgresql"}
    except Exception as e:  # noqa: BLE001 - health reports any failure
        ok = False
        out["database"] = {"status": "error", "error": type(e).__name__}
    try:
        out["blob_store"] = {"status": state.blobs.check(), "kind": state.settings.blob_store}
    except Exception as e:  # noqa: BLE001
        ok = False
        out["blob_store"] = {"status": "error", "error": type(e).__name__}
    # every service a request may need, each within about a second: the balancer takes a process out of
    # rotation when logins would fail (sessions) or bids could not be opened (broker)
    try:
        out["session_store"] = {"status": _session_store_status(state.settings)}
    except Exception as e:  # noqa: BLE001
        ok = False
        out["session_store"] = {"status": "error", "error": type(e).__name__}
    try:
        out["broker"] = {"status": tasks.broker_status(HEALTH_TIMEOUT_SECONDS)}
    except Exception as e:  # noqa: BLE001
        ok = False
        out["broker"] = {"status": "error", "error": type(e).__name__}
    out["status"] = "ok" if ok else "error"
    return Response(out, status_code=200 if ok else 503)


HEALTH_TIMEOUT_SECONDS = 1.0


def _session_store_status(settings: Settings) -> str:
    if not settings.session_store.startswith("redis://"):
        return "ok"  # files under the data directory, checked with the process's disk
    import redis

    client = redis.Redis.from_url(
        settings.session_store,
        socket_connect_timeout=HEALTH_TIMEOUT_SECONDS,
        socket_timeout=HEALTH_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


@contextlib.asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    try:
        yield
    finally:
        app.state.engine.dispose()


@contextlib.asynccontextmanager
async def _periodic_tasks(app: Litestar) -> AsyncIterator[None]:
    """The periodic tasks (core.tasks.schedule): run here by the in-process scheduler without a broker and
    with ETENDER_SCHEDULER_INTERVAL > 0; with a broker `etender worker --beat` runs them, not this process."""
    stop = tasks.start_periodic(tasks.TASK_MODULES)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(stop)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    tasks.configure(settings)  # background tasks: Celery with CELERY_BROKER_URL, else threads in this process
    # built once: this process's pages and tasks send through it
    channel = channel_for(settings.messaging, settings)
    committee_tasks.use_channel(channel)
    engine = dbmod.make_engine(settings.database_url)
    state = State(
        {
            "settings": settings,
            "engine": engine,
            "db": dbmod.make_sessionmaker(engine),
            "db_read": dbmod.read_only_sessionmaker(engine, per_statement=True),
            "blobs": open_store(settings),
            "public_cache": PublicCache(settings.public_cache_seconds),
            "channel": channel,
        }
    )
    if settings.session_store.startswith("redis://"):
        from litestar.stores.redis import RedisStore

        session_store: Any = RedisStore.with_client(url=settings.session_store, namespace="etender-sessions")
    else:
        session_store = SessionFileStore(settings.data_dir / "sessions")
    sessions = LazySessionConfig(
        store="sessions",
        key=SESSION_COOKIE,
        max_age=8 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    # CSRF: web.security's middleware (tokens bound to the session), inside the session middleware it reads
    csrf = DefineMiddleware(SessionCSRFMiddleware, secret=settings.secret_key, secure=settings.secure_cookies)
    return Litestar(
        route_handlers=[
            healthz,
            *metrics.ROUTES,
            *rule_pages.ROUTES,
            *auth.ROUTES,
            *public.ROUTES,
            *agency.ROUTES,
            *bidder.ROUTES,
            *keyholder.ROUTES,
            *bids.ROUTES,
            *opening.ROUTES,
            *monitor.ROUTES,
            *statistics_pages.ROUTES,
            *admin.ROUTES,
            *experts_admin.ROUTES,
            *expert_portal.ROUTES,
            *api.ROUTES,
            *audit_api.ROUTES,
            *audit_pages.ROUTES,
            *experts_api.ROUTES,
            *draw_pages.ROUTES,
            *phone_calls.ROUTES,
            *evaluation_room.ROUTES,
            *evaluation_report.ROUTES,
            *evaluation_scoring.ROUTES,
            *marketplace_pages.ROUTES,
            *marketplace_credit_pages.ROUTES,
            *evaluation_review.ROUTES,  # issue 13: the review and its clarification requests
            *role_workbenches.ROUTES,  # issue 16: the purchaser's and the centre's workbenches
            *clarification_requests.ROUTES,
            *award_archive.ROUTES,  # issue 14: the procedure file
            *award_publicity.ROUTES,  # issue 14: publicity, objections on results, complaints
            *ocds_api.ROUTES,  # issue 14: OCDS open data (web/opendata/api.py)
            *award_decision.ROUTES,  # issue 14: the award, notices, contract, securities, re-tendering
            create_static_files_router(path="/static", directories=[HERE / "static"], opt={"public": True}),
        ],
        dependencies={"db": Provide(provide_db), "actor": Provide(provide_actor)},
        middleware=[
            RequestIdMiddleware,  # outermost: every log record of the request carries its id
            metrics.PROMETHEUS.middleware,  # every answer counted, refusals included
            RequestBoundsMiddleware,
            DefineMiddleware(BodyTimeoutMiddleware, seconds=settings.body_timeout_seconds),
            sessions.middleware,
            csrf,
        ],
        before_send=[add_security_headers],
        stores={"sessions": session_store},
        template_config=TemplateConfig(
            directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=templating.configure
        ),
        guards=[same_site_for_recording],
        exception_handlers={
            DomainError: domain_error_handler,
            CrossSiteRecording: cross_site_handler,
            HTTPException: http_error_handler,
            OverflowError: data_error_handler,
            DataError: data_error_handler,
            OperationalError: database_error_handler,  # sqlalchemy's: connection refused, lost, locked
            Exception: server_error_handler,
        },
        openapi_config=OpenAPIConfig(title="etender API", version="1.0.0", path="/schema"),
        state=state,
        lifespan=[_lifespan, _periodic_tasks],
        debug=False,
        logging_config=None,  # the process configures logging itself (core.logs, from web.asgi and the CLI)
    )
