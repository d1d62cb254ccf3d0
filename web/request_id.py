"""A request id for every request (issue 17): the balancer's X-Request-ID when it sends a well-formed one,
else a new one; answered in X-Request-ID, carried by every log record made while the request runs
(core.logs), and one access record per request on the `etender.access` logger (at INFO: method, route
template, status, milliseconds), so that a person's "it failed at 10:02" can be found in the logs."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import TYPE_CHECKING

from litestar.datastructures import MutableScopeHeaders

from core.logs import request_id

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

access = logging.getLogger("etender.access")
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")  # written into logs as is: nothing else gets in


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = sent if _WELL_FORMED.fullmatch(sent) else uuid.uuid4().hex[:16]
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access.isEnabledFor(logging.INFO):
                access.info(
                    "%s %s %s",
                    scope.get("method"),
                    scope.get("path_template") or scope.get("path"),
                    status,
                    extra={
                        "method": scope.get("method"),
                        "route": scope.get("path_template") or "",
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            request_id.reset(token)
