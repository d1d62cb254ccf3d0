"""Requests that no record can answer are refused before a handler runs, with the usual error body.

An address or query with a larger number (Litestar parses
`{id:int}` into Python's unbounded int) used to reach the database and fail there with a 500 on SQLite
("int too large") and on a write on PostgreSQL; a NUL character in an address reached the file system (500 on
a static file) and in a query PostgreSQL, which refuses NUL in text. Here, for every route generically:

- an int path parameter outside 0..2^31-1 is 404: every one is an id or a position stored in an Integer
  column (32 bits on PostgreSQL, where a larger one is "out of range" even below 2^63), so no record has it;
  negative ids are never made either;
- a query parameter the handler declares as an int, outside -2^63..2^63-1, is 400 (parameter_out_of_range);
- a NUL (%00) in the path is 404, in the query 400 (parameter_invalid_character).

Query parameters that handlers take as text and read as numbers themselves are covered by the error handlers
of web.app (an overflow or a value the database refuses is a 400, not a 500)."""

from __future__ import annotations

import types
import typing
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler

from core.errors import N_, BadRequest

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

ID_MAX = 2**31 - 1  # Integer columns: ids, audit indexes, part numbers
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _is_int_type(annotation: Any) -> bool:
    """int, int | None, list[int], Optional[list[int]] (not bool, which is a subclass of int)."""
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        return any(_is_int_type(a) for a in typing.get_args(annotation) if a is not type(None))
    return False


# per handler (weakly: the tests make many apps; an id() could be reused by another handler)
_int_queries: weakref.WeakKeyDictionary[HTTPRouteHandler, frozenset[str]] = weakref.WeakKeyDictionary()


def int_query_names(handler: HTTPRouteHandler) -> frozenset[str]:
    """The query names (aliases included) of the handler's parameters typed as integers; computed once."""
    try:
        names = _int_queries.get(handler)
    except TypeError:  # Litestar's generated OPTIONS handlers take no weak reference; they have no queries
        return _int_names(handler)
    if names is None:
        names = _int_queries[handler] = _int_names(handler)
    return names


def _int_names(handler: HTTPRouteHandler) -> frozenset[str]:
    paths = {p for path in handler.paths for p in _placeholders(path)}
    found = set()
    for name, fd in handler.parsed_fn_signature.parameters.items():
        if name in paths or not _is_int_type(fd.annotation):
            continue
        alias = getattr(fd.kwarg_definition, "query", None)
        found.add(alias or name)
    return frozenset(found)


def _placeholders(path: str) -> list[str]:
    return [
        part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{") and part.endswith("}")
    ]


def _int_value(text: str) -> int | None:
    text = text.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isdigit() and digits.isascii()):
        return None
    if len(digits) > 20:  # out of range anyway, and int() refuses more than 4300 digits
        return INT64_MIN - 1 if text.startswith("-") else INT64_MAX + 1
    return int(text)


class RequestBoundsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            check(scope)
        await self.app(scope, receive, send)


def check(scope: Scope) -> None:
    raw_path = (scope.get("raw_path") or b"").split(b"?", 1)[0]  # some servers keep the query in it
    if "\x00" in scope["path"] or b"%00" in raw_path.lower():
        raise NotFoundException()
    for value in (scope.get("path_params") or {}).values():
        if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= ID_MAX:
            raise NotFoundException()
    query = scope.get("query_string") or b""
    if not query:
        return
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    handler = scope.get("route_handler")
    ints = int_query_names(handler) if isinstance(handler, HTTPRouteHandler) else frozenset()
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise BadRequest.one(
                "parameter_invalid_character",
                N_("The value given for %(name)s contains a character that is not allowed."),
                name.replace("\x00", ""),
                name=name.replace("\x00", ""),
            )
        if (
            name in ints
            and (number := _int_value(value)) is not None
            and not INT64_MIN <= number <= INT64_MAX
        ):
            raise BadRequest.one(
                "parameter_out_of_range", N_("The value given for %(name)s is out of range."), name, name=name
            )
