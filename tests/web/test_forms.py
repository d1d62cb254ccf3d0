"""web.forms.submit and refusal: the savepoint, what is raised again, what is rendered again."""

import pytest
from sqlalchemy import select

from accounts.models import Organisation
from core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    Problem,
    TooManyAttempts,
    ValidationFailed,
)
from web.forms import FormState, refusal, submit


def names(db):
    return sorted(db.scalars(select(Organisation.name)))


def writes_then(make, name, error=None):
    """A service that writes an organisation, then refuses with `error` (or returns the organisation)."""

    def call():
        org = make.org("purchaser", name)
        if error is not None:
            raise error
        return org

    return call


def rendered(e):
    return ("again", e.status, [p.code for p in e.problems])


def test_done_gets_the_result_and_the_writes_stay(db, make):
    make.org("agency", "before")
    out = submit(db, writes_then(make, "kept"), done=lambda org: ("done", org.name), refused=rendered)
    assert out == ("done", "kept")
    db.commit()
    assert names(db) == ["before", "kept"]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationFailed.one("title_missing", "Give the tender a title.", "title"), 422),
        (Conflict.one("not_draft", "Only a draft can be edited."), 409),
        (TooManyAttempts.one("throttled", "Wait."), 429),
        (DomainError.one("refused", "No."), 400),
    ],
)
def test_a_form_problem_is_rendered_again_and_its_writes_undone_while_the_request_goes_on(
    db, make, error, status
):
    make.org("agency", "before")  # the request's own write, before the form's action
    done = []
    out = submit(db, writes_then(make, "undone", error), done=done.append, refused=rendered)
    assert out == ("again", status, [error.problems[0].code])
    assert done == []  # no redirect (and so no flash) for a refused action
    db.commit()  # as the framework does when the handler returns
    assert names(db) == ["before"]


@pytest.mark.parametrize(
    "error",
    [
        Forbidden.one("role_required", "No."),
        NotFound.one("tender_not_found", "No such tender."),
        NotAuthenticated.one("login_required", "Log in."),
    ],
)
def test_what_is_not_a_form_problem_is_raised_again(db, make, error):
    rendered_again = []
    with pytest.raises(type(error)):
        submit(db, writes_then(make, "undone", error), done=lambda _: "done", refused=rendered_again.append)
    assert rendered_again == []
    assert names(db) == []  # the savepoint is rolled back before the error goes on


def test_any_other_exception_goes_on_and_the_savepoint_is_rolled_back(db, make):
    make.org("agency", "before")
    with pytest.raises(RuntimeError):
        submit(db, writes_then(make, "undone", RuntimeError("bug")), done=lambda _: "done", refused=rendered)
    assert names(db) == ["before"]


def test_problems_found_while_parsing_skip_the_call_and_render_as_422(db, make):
    parsed = [Problem("date_invalid", "Not a date.", "start"), Problem("date_invalid", "Not a date.", "end")]
    out = submit(
        db,
        writes_then(make, "never"),
        problems=parsed,
        done=lambda _: "done",
        refused=lambda e: (type(e), e.status, e.problems),
    )
    assert out == (ValidationFailed, 422, parsed)
    assert names(db) == []


def test_a_refusal_that_must_stay_on_record_is_kept_with_the_request(db, make):
    # a failed login records its attempt and raises: the attempt is committed although it is refused (E49)
    error = ValidationFailed.one("login_failed", "Wrong user name or password.").keep()
    out = submit(db, writes_then(make, "attempt", error), done=lambda _: "done", refused=rendered)
    assert out == ("again", 422, ["login_failed"])
    db.commit()
    assert names(db) == ["attempt"]


def test_a_refusal_not_marked_kept_is_undone(db, make):
    error = ValidationFailed.one("title_missing", "Give the tender a title.", "title")
    submit(db, writes_then(make, "undone", error), done=lambda _: "done", refused=rendered)
    db.commit()
    assert names(db) == []


def test_refusal_runs_each_item_on_its_own(db, make):
    bad = ValidationFailed.one("file_type", "Not a PDF.", "document")
    items = [("a", None), ("b", bad), ("c", None)]
    results = [refusal(db, writes_then(make, name, err)) for name, err in items]
    assert results == [None, bad, None]
    db.commit()
    assert names(db) == ["a", "c"]
    with pytest.raises(Forbidden):
        refusal(db, writes_then(make, "d", Forbidden.one("role_required", "No.")))
    assert names(db) == ["a", "c"]


def test_form_state_names_the_fields_in_error():
    problems = [Problem("text_missing", "Ask.", "text"), Problem("late", "Late.")]
    state = FormState("question", {"text": "?"}, problems)
    assert state.fields_in_error() == {"text"}
    assert FormState().fields_in_error() == set()
