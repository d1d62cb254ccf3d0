"""Notifications: in the product at once, by the SMS/e-mail adapter only after the commit."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from accounts.models import Notification
from accounts.notifications import LogChannel, channel_for, tell


def test_the_default_adapter_only_logs_with_the_phone_masked(db, make, caplog):
    user = make.user(None, "expert")
    user.phone, user.email = "13800138000", "expert@example.com"
    channel = channel_for("log")
    assert isinstance(channel, LogChannel)
    tell(db, channel, {user.id}, "draw.seat", "Please confirm", link="/expert/draws")
    assert db.scalars(select(Notification.title).where(Notification.user_id == user.id)).all() == [
        "Please confirm"
    ]
    assert channel.sent == []  # nothing leaves before the commit
    with caplog.at_level(logging.INFO, logger="etender.messaging"):
        db.commit()
    assert [m.user_id for m in channel.sent] == [user.id]
    assert "138****8000" in caplog.text and "13800138000" not in caplog.text


def test_a_rollback_sends_nothing(db, make):
    user = make.user(None, "expert")
    db.commit()
    channel = LogChannel()
    tell(db, channel, {user.id}, "draw.seat", "Please confirm")
    db.rollback()
    db.commit()
    assert channel.sent == []


def test_an_unknown_adapter_is_refused_by_name():
    with pytest.raises(ValueError, match="ETENDER_MESSAGING"):
        channel_for("carrier-pigeon")
