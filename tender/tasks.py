"""Background tasks of the tender package (core/tasks.py explains the contract: ids in, own unit of work,
safe to run twice)."""

from __future__ import annotations
