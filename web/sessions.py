"""Server-side sessions (Litestar's), created only when there is something to keep.

Litestar stores every empty session and sets a cookie on every response; for the public site that would be
a store write and a cookie per anonymous page view. Here a visitor without a session cookie and with nothing
in the session costs nothing; a session emptied by logout is deleted from the store and its cookie cleared."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession


class LazySessionBackend(ServerSideSessionBackend):
    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        has_cookie = bool(connection.cookies.get(self.config.key))
        if not scope_session:
            if not has_cookie:
                return
            scope_session = Empty
        await super().store_in_message(scope_session, message, connection)


@dataclass
class LazySessionConfig(ServerSideSessionConfig):
    _backend_class = LazySessionBackend  # type: ignore[assignment]
