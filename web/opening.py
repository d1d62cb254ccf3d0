"""The opening ceremony (issue 3): check-in, key parts, live record, objections, the PDF record."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
