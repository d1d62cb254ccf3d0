"""The Litestar application: pages and the JSON API under /api/v1."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from litestar import Litestar, MediaType, Request, Response, get
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
from sqlalchemy.exc import DataError

from accounts.notifications import channel_for
from core import db as dbmod
from core import tasks
from core.errors import N_, BadRequest, DomainError, NotAuthenticated, Unavailable
from core.settings import Settings, load_settings
from evaluation.committee import tasks as committee_tasks
from storage import open_store
from web import i18n, metrics, templating
from web.accounts import admin, auth
from web.audit import api as audit_api
from web.audit import pages as audit_pages
from web.body_timeout import BodyTimeoutMiddleware
from web.bounds import RequestBoundsMiddleware
from web.cache import PublicCache
from web.deps import locale_of, provide_actor, provide_db
from web.evaluation import draws as draw_pages
from web.evaluation import expert_portal, experts_admin, experts_api
from web.evaluation import room as evaluation_room
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
from web.tender import agency, api, bidder, bids, keyholder, opening, public

log = logging.getLogger("etender")
HERE = Path(__file__).parent


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def domain_error_handler(request: Request, exc: DomainError) -> Response[Any]:
    locale = locale_of(request)
    # a service that is not answering: say when to come back (browsers' and the upload script's retries)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable) else None
    if _is_api(request):
        return Response(
            problems_json(locale, exc.problems),
            status_code=exc.status,
            media_type=MediaType.JSON,
            headers=headers,
        )
    if isinstance(exc, NotAuthenticated):
        return Redirect(path=f"/login?next={request.url.path}", status_code=303)
    return Template(
        template_name="error.html",
        context={"status": exc.status, "messages": [i18n.problem_text(locale, p) for p in exc.problems]},
        status_code=exc.status,
        headers=headers,
    )


def http_error_handler(request: Request, exc: HTTPException) -> Response[Any]:
    locale = locale_of(request)
    status = exc.status_code
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
            error_json(code, message), status_code=status, media_type=MediaType.JSON, headers=headers
        )
    return Template(
        template_name="error.html",
        context={"status": status, "messages": [message]},
        status_code=status,
        headers=headers,
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
    channel = channel_for(settings.messaging)  # built once: this process's pages and tasks send through it
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
            *auth.ROUTES,
            *public.ROUTES,
            *agency.ROUTES,
            *bidder.ROUTES,
            *keyholder.ROUTES,
            *bids.ROUTES,
            *opening.ROUTES,
            *monitor.ROUTES,
            *admin.ROUTES,
            *experts_admin.ROUTES,
            *expert_portal.ROUTES,
            *api.ROUTES,
            *audit_api.ROUTES,
            *audit_pages.ROUTES,
            *experts_api.ROUTES,
            *draw_pages.ROUTES,
            *evaluation_room.ROUTES,
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
            Exception: server_error_handler,
        },
        openapi_config=OpenAPIConfig(title="etender API", version="1.0.0", path="/schema"),
        state=state,
        lifespan=[_lifespan, _periodic_tasks],
        debug=False,
    )
