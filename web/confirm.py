"""The confirmation step of an action that cannot be undone (issue 16): publishing a notice starts the legal
clock, closing an opening starts the evaluation, declining a seat hands it to a substitute. The first post
(without `confirmed`) answers with a page that says what follows and posts the same form again with
`confirmed=1`; only that second post runs the action, without JavaScript. A reload of the confirmation page
repeats nothing: it reads the page the action was started from (web/static/js/after-post.js; without
JavaScript it only asks again).

The handler checks who may act before asking (a forbidden person is refused, not asked to confirm)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Request
from litestar.response import Template

from web.deps import page

CONFIRMED = "confirmed"


def confirmed(data: Mapping[str, Any] | None) -> bool:
    return bool(data) and str(data.get(CONFIRMED, "")) == "1"  # type: ignore[union-attr]


def ask(
    request: Request,
    *,
    title: str,
    subject: str,
    consequences: Sequence[str],
    action: str,
    confirm_label: str,
    back: str,
    fields: Mapping[str, str] | None = None,
    danger: bool = False,
) -> Template:
    """The confirmation page: `title` and `consequences` are message keys (shown in the reader's language),
    `subject` what the action is about (a tender's reference and title), `fields` the form's other values,
    posted again unchanged."""
    return page(
        request,
        "confirm.html",
        title=title,
        subject=subject,
        consequences=list(consequences),
        action=action,
        confirm_label=confirm_label,
        back=back,
        fields={k: v for k, v in (fields or {}).items() if k not in (CONFIRMED, "_csrf_token")},
        danger=danger,
    )
