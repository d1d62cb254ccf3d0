"""Demo data (filled in by the demo work)."""

from __future__ import annotations

from typing import Any


def load(session: Any, blobs: Any) -> None:
    raise NotImplementedError
