"""Errors a person sees. Each has a stable machine code, the field it concerns, and an English message id
that the web layer translates (Chinese first) with its parameters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Self


def N_(message: str) -> str:
    """Mark a message for the translation catalogue without translating it here."""
    return message


@dataclass
class Problem:
    code: str
    message: str
    field: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    rule: str | None = None  # legal source, e.g. "L24"


class DomainError(Exception):
    """A refusal by the service layer. status is the HTTP status the web layer answers with."""

    status = 400
    # kept: this refusal is recorded (its audit entry, a failed login's attempt, is in the session
    # already) and the record must stay. The unit of work that sees it raised (web.deps.provide_db,
    # core.db.transaction, core.db.savepoint) commits, then raises it on; any other error is rolled back.
    # A flag rather than a mixin class: whether a refusal is kept depends on whether it was recorded, not
    # on its kind. The same late bid is a Conflict that a read-only pre-check raises unrecorded and the
    # writing unit of work raises recorded (tender.bids.submission), and its status class stays what it
    # is. A class that is always recorded sets the flag once (tender.opening.ceremony.AuditedRefusal).
    kept = False

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__(
            "; ".join(f"{p.code}: {p.message % p.params if p.params else p.message}" for p in self.problems)
        )

    @classmethod
    def one(
        cls, code: str, message: str, field: str | None = None, rule: str | None = None, **params: Any
    ) -> Self:
        return cls(Problem(code=code, message=message, field=field, params=params, rule=rule))

    def keep(self) -> Self:
        """Mark this refusal kept (see `kept`) once it is recorded: `raise Conflict.one(...).keep()`."""
        self.kept = True
        return self


def is_kept(error: BaseException) -> bool:
    """True for a refusal whose record the unit of work commits although the request failed."""
    return isinstance(error, DomainError) and error.kept


class BadRequest(DomainError):
    """A request no record can answer, refused before any service sees it (a number beyond the database's
    range, a NUL character in an address)."""

    status = 400


class ValidationFailed(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class NotAuthenticated(DomainError):
    status = 401


class TooManyAttempts(DomainError):
    status = 429


class Unavailable(DomainError):
    """A service the request needs (the blob store, the database, the broker) is not answering: 503 with
    Retry-After, the message saying what to do, so that a person is not left with a bare server error."""

    status = 503
    retry_after = 30  # seconds, sent as Retry-After
