"""Server-side sessions (Litestar's), created only when there is something to keep, and written only when
there is something new to keep.

Litestar stores every empty session and sets a cookie on every response; for the public site that would be
a store write and a cookie per anonymous page view. Here a visitor without a session cookie and with nothing
in the session costs nothing; a session emptied by logout is deleted from the store and its cookie cleared.

Litestar also rewrites a non-empty session (and resends its cookie) on every response, to slide its expiry:
with the file store that is a file write per request, the largest cost of a small logged-in request (a bid
burst is hundreds of them a second). Here an unchanged session is not rewritten: the stored data carries the
time it was last written (`RENEWED`, removed again on load, so handlers never see it), and a response whose
session is unchanged, under the same id, written less than RENEW_EVERY seconds ago, leaves store and cookie
alone. Expiry still slides: a session in use is rewritten, with a fresh max_age for store and cookie, at least
every RENEW_EVERY seconds, so an active session ends at most RENEW_EVERY seconds earlier than one renewed on
every request would (max_age - RENEW_EVERY after the last request, at the least). A changed session (login,
role switch, a flash message set or consumed) is written at once, as before."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import StorageObject
from litestar.stores.file import FileStore
from litestar.types import Empty, Message, ScopeSession

RENEWED = "_renewed"  # stored with the data: when it was last written (Unix seconds)
RENEW_EVERY = 300  # seconds: an unchanged session in use is written again (expiry renewed) at most this often
_LOADED = "etender.session_loaded"  # scope key: (session id, serialised data as loaded, when last written)


def _now() -> float:
    return time.time()


class LazySessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if not session_id:
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        data = await self.get(session_id, store=store)
        if data is None:
            return {}
        loaded: dict[str, Any] = self.deserialize_data(data)
        renewed = loaded.pop(RENEWED, None)
        if isinstance(renewed, (int, float)) and loaded:
            connection.scope[_LOADED] = (
                session_id,
                self.serialize_data(loaded, connection.scope),
                float(renewed),
            )  # type: ignore[literal-required]
        return loaded

    def _unchanged(self, scope_session: dict[str, Any], connection: ASGIConnection) -> bool:
        """True when the session is the one loaded, under the same id, and was written less than RENEW_EVERY
        ago."""
        loaded = cast("tuple[str, bytes, float] | None", connection.scope.get(_LOADED))
        if loaded is None:
            return False
        session_id, data, renewed = loaded
        if connection.cookies.get(self.config.key) != session_id or not 0 <= _now() - renewed < RENEW_EVERY:
            return False
        return bool(self.serialize_data(scope_session, connection.scope) == data)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        has_cookie = bool(connection.cookies.get(self.config.key))
        if not scope_session:
            if not has_cookie:
                return
            scope_session = Empty
        elif isinstance(scope_session, dict):
            if self._unchanged(scope_session, connection):
                return
            scope_session = {**scope_session, RENEWED: int(_now())}
        await super().store_in_message(scope_session, message, connection)


@dataclass
class LazySessionConfig(ServerSideSessionConfig):
    _backend_class = LazySessionBackend  # type: ignore[assignment]


class SessionFileStore(FileStore):
    """Litestar's FileStore, but a session file (a few hundred bytes, from the page cache) is read on the
    event loop: handing the read to a worker thread and back, as FileStore does, costs more than the read
    itself, on every logged-in request. Writes, renewals and deletes stay FileStore's (in a worker thread)."""

    @staticmethod
    async def _load_from_path(path: Any) -> StorageObject | None:
        try:
            with open(path, "rb") as f:  # noqa: ASYNC230 - a small local file: cheaper than a thread hop
                return StorageObject.from_bytes(f.read())
        except FileNotFoundError:
            return None
