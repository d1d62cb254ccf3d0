"""A read timeout on request bodies.

uvicorn waits for a request's body as long as the client keeps the connection open: a client that announces a
body and never sends it (or sends a byte a minute) holds a web process's connection, and a handler waiting on
it, for ever; a few hundred of them fill the server. Here every wait for the next piece of a body is bounded
by ETENDER_BODY_TIMEOUT_SECONDS: past it the request is answered 408 with the usual error body (JSON under
/api/, the error page elsewhere) and the connection is closed. The
bound is on the silence between pieces, not on the whole body, so a 2 GiB bid on a slow line still arrives.

Once the body is complete the wrapper steps aside: streams (the opening's, the audit feed) keep waiting on
receive() for the client's disconnect, which must not time out. An app-level middleware rather than a server
setting, so that it holds under any ASGI server, `etender serve` and the tests' uvicorn alike (uvicorn has no
body read timeout of its own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from litestar.exceptions import HTTPException

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send


class BodyTimeout(HTTPException):
    status_code = 408


class BodyTimeoutMiddleware:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        complete = False

        async def bounded_receive() -> ReceiveMessage:
            nonlocal complete
            if complete:
                return await receive()
            try:
                with anyio.fail_after(self.seconds):
                    message = await receive()
            except TimeoutError:
                complete = True  # whatever the handler does next, it must not wait on this body again
                # Connection: close, so that the server drops the connection at once instead of waiting
                # (its keep-alive) for the rest of a body that is not coming
                raise BodyTimeout(detail="request body timeout", headers={"Connection": "close"}) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, bounded_receive, send)
