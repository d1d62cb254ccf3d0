"""Sealed-bid submission (issue 3): resumable chunked upload, receipts, replace and withdraw."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
