"""Logs for operators (issue 17): one line per record, as text for a person at `make run` or as JSON
(python-json-logger) for a deployment's log collector, every record carrying the request id of the request it
belongs to (web.request_id sets it; "-" outside a request). `etender serve` and `etender worker` call
configure() once at start, from ETENDER_LOG_FORMAT and ETENDER_LOG_LEVEL."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str] = ContextVar("etender_request_id", default="-")

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record (a filter on the handler, so that records of every
    logger, the libraries' included, carry it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is written (a test's capture, a redirected stream)."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # type: ignore[no-untyped-def]
        pass


def configure(fmt: str = "text", level: str = "WARNING") -> None:
    if fmt not in ("text", "json"):
        raise ValueError(f"ETENDER_LOG_FORMAT is text or json, not {fmt!r}")
    handler = _Stderr()
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
