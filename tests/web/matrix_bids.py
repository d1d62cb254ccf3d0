"""Rows of the authorisation matrix for issue 3's bids routes, and the world they need.

tests/web/test_authorization_matrix.py adds ROWS to its matrix and calls extend_world(env, session, w) while
building its world (before the commit), so rows may name attributes set here in `params` or `target`."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

ROWS: list[Any] = []


def extend_world(env: Any, session: Any, w: SimpleNamespace) -> None:
    """Add what these rows need to the world (session is open; the caller commits)."""
