"""Telling people things: an in-product notification (notify) and, through a channel adapter,
an SMS or e-mail. The adapter is chosen by settings.messaging; the default "log" adapter only writes the
message to the log (no gateway is configured in the embedded default).

Outside messages leave only after the transaction commits, so that a refused or rolled-back action never
sends an SMS for something that did not happen."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from accounts.models import Notification, User

log = logging.getLogger("etender.messaging")
_OUTBOX = "etender_outbox"


def notify(
    session: Session, user_ids: set[int], kind: str, title: str, body: str = "", link: str = ""
) -> None:
    for uid in sorted(user_ids):
        session.add(Notification(user_id=uid, kind=kind, title=title, body=body, link=link))


@dataclass(frozen=True)
class Message:
    user_id: int
    phone: str
    email: str
    title: str
    body: str
    link: str


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


class LogChannel:
    """Writes each SMS/e-mail to the log instead of sending it, with the phone number masked."""

    name = "log"

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)
        phone = message.phone[:3] + "****" + message.phone[-4:] if len(message.phone) >= 7 else message.phone
        log.info(
            "message to user %s (sms %s, email %s): %s %s",
            message.user_id,
            phone or "-",
            message.email or "-",
            message.title,
            message.link,
        )


def channel_for(name: str) -> Channel:
    if name == "log":
        return LogChannel()
    raise ValueError(f"unknown messaging adapter {name!r}; set ETENDER_MESSAGING to one of: log")


def _flush(session: Session) -> None:
    for channel, message in session.info.pop(_OUTBOX, []):
        try:
            channel.send(message)
        except Exception:  # noqa: BLE001 - the change is committed; a failed SMS must not hide it
            log.exception("sending a message to user %s failed", message.user_id)


def _drop(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


def tell(
    session: Session,
    channel: Channel,
    user_ids: set[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
) -> None:
    """Notify in the product now (in the caller's transaction) and by the channel after the commit."""
    notify(session, user_ids, kind, title, body, link)
    if not user_ids:
        return
    users = session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id)).all()
    outbox = session.info.setdefault(_OUTBOX, [])
    for user in users:
        outbox.append((channel, Message(user.id, user.phone or "", user.email or "", title, body, link)))
    if not event.contains(session, "after_commit", _flush):
        event.listen(session, "after_commit", _flush)
        event.listen(session, "after_rollback", _drop)
