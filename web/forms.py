"""How a page runs the action its form posts: the one place that decides what a refusal does to the request.

A handler parses the form, makes one `submit` call, and returns what it gives (design.md: handlers parse,
call one service, and return):

    return submit(
        db, lambda: services.ask_question(db, actor, tender_id, text),
        done=lambda _: redirect(f"/bidder/tenders/{tender_id}#questions", flash=N_("..."), request=request),
        refused=lambda e: _detail(request, db, actor, tender_id,
                                  FormState("question", {"text": text}, e.problems), e.status),
    )

- `call` runs in a savepoint (`db.begin_nested()`): when the service refuses, whatever it wrote is undone and
  the request's own transaction goes on (the framework commits it when the handler returns).
- A refusal that is not about what was typed (NOT_A_FORM_PROBLEM: not found, forbidden, not logged in) is
  raised again, so that the app answers with its error page (or the login page); the whole request is then
  rolled back by the framework.
- Any other DomainError (422 not valid, 409 conflict, 429 too many attempts, ...) is a form problem: `refused`
  gets the error and renders the page again with what the person entered and `e.problems`, answering with
  `e.status`. Close over the entered values in `refused`, so that nothing typed is lost.
- `done` gets what `call` returned and is called only on success: `redirect(..., flash=...)` writes the flash
  into the session, so it must not be built before the action succeeded.
- `problems`: what the handler found while parsing (a date that is not a date). When there are any, `call` is
  not made and `refused` gets them as one ValidationFailed (422), exactly as if the service had refused them.
- A refusal the service marked kept (`DomainError.keep()`: it recorded the refusal and the record must stay,
  a failed login for throttling and the monitors, E49) releases the savepoint instead of rolling it back, so
  the record is committed with the request, as the request's unit of work does for a kept error it sees.

A refused form shown again answers the POST, so its base template puts the page the form was posted from into
the browser's history in place of the POST (web.templating._page_after_post, static/js/after-post.js): a
reload reads that page afresh and never sends the action again, while the answer keeps its status (422, 409)
and everything that was typed.

A page that runs one action per item and reports the refusals together (each uploaded file on its own) calls
`refusal` once per item instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.orm import Session

from core.errors import DomainError, Forbidden, NotAuthenticated, NotFound, Problem, ValidationFailed, is_kept

T = TypeVar("T")
Done = TypeVar("Done")
Again = TypeVar("Again")

# Refusals that are not about what was typed: the error page (403, 404; 401 -> the login page) is the answer.
NOT_A_FORM_PROBLEM = (Forbidden, NotAuthenticated, NotFound)


@dataclass
class FormState:
    """What the person typed into the form that was refused, which form it was, and why."""

    failed: str = ""  # which of the page's forms, e.g. "question" or "register-<lot id>"
    values: dict[str, str] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)

    def fields_in_error(self) -> set[str]:
        return {p.field for p in self.errors if p.field}


def _in_savepoint(db: Session, call: Callable[[], T]) -> T:
    savepoint = db.begin_nested()
    try:
        result = call()
    except DomainError as e:
        if is_kept(e):
            savepoint.commit()
        else:
            savepoint.rollback()
        raise
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def submit(
    db: Session,
    call: Callable[[], T],
    *,
    done: Callable[[T], Done],
    refused: Callable[[DomainError], Again],
    problems: Sequence[Problem] = (),
) -> Done | Again:
    """Run the form's action (see the module's docstring): `done(result)`, or `refused(error)` for a form
    problem."""
    if problems:
        return refused(ValidationFailed(list(problems)))
    try:
        result = _in_savepoint(db, call)
    except NOT_A_FORM_PROBLEM:
        raise
    except DomainError as e:
        return refused(e)
    return done(result)


def refusal(db: Session, call: Callable[[], object]) -> DomainError | None:
    """Run one of several actions of a form in its own savepoint, as `submit` does: the form problem that
    refused it (its writes undone), or None when it was done. Errors that are not form problems are raised
    again."""
    try:
        _in_savepoint(db, call)
    except NOT_A_FORM_PROBLEM:
        raise
    except DomainError as e:
        return e
    return None
