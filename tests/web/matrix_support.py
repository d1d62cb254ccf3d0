"""What the authorisation matrix and its per-feature row modules (matrix_bids, matrix_opening) share: the
roles, the cell helpers and the Row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = (
    "anonymous",
    "agencyA",
    "agencyB",
    "purchaser",
    "bidder1",
    "bidder2",
    "monitor",
    "admin",
    "centre",
    "expert",
)


def E(default: str, **cells: str) -> dict[str, str]:  # noqa: N802 - reads as a table
    unknown = set(cells) - set(ROLES)
    assert not unknown, f"unknown roles in the matrix: {unknown}"
    return {role: cells.get(role, default) for role in ROLES}


def public() -> dict[str, str]:
    return E("ok")


def logged_in(cls: str) -> dict[str, str]:
    return E(cls, anonymous="login")


def only(cls: str, *roles: str) -> dict[str, str]:
    """Only these roles get `cls`; everyone else logged in is forbidden; anonymous is sent to log in."""
    return E("forbidden", anonymous="login", **{r: cls for r in roles})


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the route's path template exactly as the app lists it
    expect: dict[str, str]
    target: str = "published"  # which tender fills {tender_id}: published, draft, objected
    form: dict[str, Any] | None = None  # URL-encoded body
    files: dict[str, tuple[str, bytes, str]] | None = None  # multipart body
    params: dict[str, str] = field(default_factory=dict)  # other path parameters -> world attribute
    known_bugs: dict[str, str] = field(default_factory=dict)  # role -> reason (strict xfail)
    keeps_world: bool = (
        False  # a POST that changes only the session or the audit log: no need to rebuild after it
    )
    query: dict[str, str] = field(default_factory=dict)  # query string of a GET
    content: bytes | None = None  # a raw body (chunk uploads), sent with `headers`
    json: Any = None  # a JSON body
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path} [{self.target}]"
