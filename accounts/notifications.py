"""Telling people things: an in-product notification (notify) and, through a channel adapter, a message that
leaves the product. The adapter is chosen by settings.messaging: "log" (the embedded default: no gateway)
writes each message to the log, "smtp" sends it as e-mail over SMTP.

A notification is stored as a message key with its parameters (N_("%(reference)s: ...")) and rendered in its
reader's language where it is read: the notifications page in the page's language, an e-mail in the
recipient's (User.locale). The body is what a person wrote (a reason, a clarification), shown as written.

Outside messages leave only after the transaction commits, so that a refused or rolled-back action never
sends a message about something that did not happen."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from accounts.models import Notification, User
from core.i18n import DEFAULT_LOCALE, message_text
from core.settings import Settings

log = logging.getLogger("etender.messaging")
_OUTBOX = "etender_outbox"


def notify(
    session: Session,
    user_ids: set[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    params: Mapping[str, Any] | None = None,
) -> None:
    """`title` is a message key (N_), `params` its parameters; `body` is text a person entered."""
    for uid in sorted(user_ids):
        session.add(
            Notification(user_id=uid, kind=kind, title=title, params=dict(params or {}), body=body, link=link)
        )


@dataclass(frozen=True)
class Message:
    """One message to one person: the key and parameters of its title, rendered in `locale` by text()."""

    user_id: int
    phone: str
    email: str
    title: str
    body: str
    link: str
    locale: str = DEFAULT_LOCALE
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""  # the recipient's name, for the greeting of an e-mail

    def text(self) -> str:
        return message_text(self.locale, self.title, self.params)


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


class LogChannel:
    """Writes each message to the log instead of sending it, with the phone number masked."""

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
            message.text(),
            message.link,
        )


# The e-mail's fixed lines, by language (the subject is the notification's title).
_GREETING = {"zh": "{name}您好：", "en": "Dear {name},"}
_FOOTER = {
    "zh": "此邮件由电子招投标平台自动发送，请勿回复。请登录平台查看详情：",
    "en": "This message was sent by the e-tendering platform; please do not reply. Sign in to see more:",
}
_ANONYMOUS = {"zh": "", "en": "Sir or Madam"}


class SmtpChannel:
    """E-mail over SMTP (RFC 5321), plain, STARTTLS or implicit TLS, with an optional login. A person with no
    e-mail address is not written to (the in-product notification stays); a failed send is logged and does not
    undo the committed change (accounts.notifications._flush)."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        tls: str = "none",
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
        base_url: str = "",
        context: ssl.SSLContext | None = None,
    ) -> None:
        if tls not in ("none", "starttls", "ssl"):
            raise ValueError(f"ETENDER_SMTP_TLS must be none, starttls or ssl, not {tls!r}")
        self.host, self.port, self.sender, self.tls = host, port, sender, tls
        self.username, self.password, self.timeout = username, password, timeout
        self.base_url = base_url.rstrip("/")
        self.context = context or ssl.create_default_context()

    def compose(self, message: Message) -> EmailMessage:
        locale = message.locale if message.locale in _GREETING else DEFAULT_LOCALE
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.email
        mail["Subject"] = message.text()
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        name = message.name or _ANONYMOUS[locale]
        lines = [_GREETING[locale].format(name=name) if name else "", "", message.text()]
        if message.body:
            lines += ["", message.body]
        lines += ["", "—", _FOOTER[locale], f"{self.base_url}{message.link or '/'}"]
        mail.set_content("\n".join(lines).lstrip("\n") + "\n")
        return mail

    def send(self, message: Message) -> None:
        if not message.email:
            return
        mail = self.compose(message)
        smtp: smtplib.SMTP
        if self.tls == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.tls == "starttls":
                smtp.starttls(context=self.context)
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(mail)


def channel_for(name: str, settings: Settings | None = None) -> Channel:
    if name == "log":
        return LogChannel()
    if name == "smtp":
        if settings is None:
            raise ValueError("the smtp adapter needs the settings (ETENDER_SMTP_*)")
        return SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
            base_url=settings.public_url,
        )
    raise ValueError(f"unknown messaging adapter {name!r}; set ETENDER_MESSAGING to one of: log, smtp")


def _flush(session: Session) -> None:
    for channel, message in session.info.pop(_OUTBOX, []):
        try:
            channel.send(message)
        except Exception:  # noqa: BLE001 - the change is committed; a failed message must not hide it
            log.exception("sending a message to user %s failed", message.user_id)


def _drop(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


def _queue(session: Session, channel: Channel, messages: list[Message]) -> None:
    session.info.setdefault(_OUTBOX, []).extend((channel, m) for m in messages)
    if not event.contains(session, "after_commit", _flush):
        event.listen(session, "after_commit", _flush)
        event.listen(session, "after_rollback", _drop)


def tell(
    session: Session,
    channel: Channel,
    user_ids: set[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    params: Mapping[str, Any] | None = None,
) -> None:
    """Notify in the product now (in the caller's transaction) and by the channel after the commit, each
    reader in their own language."""
    notify(session, user_ids, kind, title, body, link, params)
    if not user_ids:
        return
    users = session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id)).all()
    _queue(
        session,
        channel,
        [
            Message(
                user.id,
                user.phone or "",
                user.email or "",
                title,
                body,
                link,
                user.locale or DEFAULT_LOCALE,
                dict(params or {}),
                user.full_name or "",
            )
            for user in users
        ],
    )


def tell_address(
    session: Session,
    channel: Channel,
    email: str,
    name: str,
    title: str,
    body: str = "",
    link: str = "",
    params: Mapping[str, Any] | None = None,
) -> bool:
    """A message to someone without an account (a drawn expert known by e-mail only), after the commit, in
    the default language. False: there is no address to write to."""
    if not email.strip():
        return False
    _queue(
        session,
        channel,
        [Message(0, "", email.strip(), title, body, link, DEFAULT_LOCALE, dict(params or {}), name)],
    )
    return True
