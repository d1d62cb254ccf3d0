"""The draw's periodic tasks send through the channel composed for the process; without one they fail."""

from __future__ import annotations

import pytest

from evaluation.committee import tasks as committee_tasks


def test_a_draw_task_without_a_channel_fails_rather_than_drop_the_message(monkeypatch):
    monkeypatch.setattr(committee_tasks, "_channel", None)
    with pytest.raises(RuntimeError, match="no messaging channel"):
        committee_tasks.sweep_confirmations()
