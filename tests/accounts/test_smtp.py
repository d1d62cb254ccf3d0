"""The e-mail channel against a real SMTP server on loopback (aiosmtpd): plain, STARTTLS with a login, and
implicit TLS; each reader gets the message in their own language; nothing leaves before the commit."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from accounts.models import Notification
from accounts.notifications import Message, SmtpChannel, channel_for, tell, tell_address
from core.errors import N_
from core.settings import load_settings

TITLE = N_("%(reference)s %(title)s: the procedure is suspended")


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def _subject(mail: EmailMessage) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def _body(mail: EmailMessage) -> str:
    part = mail.get_payload(decode=True)
    assert isinstance(part, bytes)
    return part.decode(mail.get_content_charset() or "utf-8")


def _certificate(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def _free_port() -> int:
    # aiosmtpd's Controller checks its server by connecting to the port it was given: it cannot take port 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server():  # type: ignore[no-untyped-def]
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_each_reader_gets_the_message_in_their_language_after_the_commit(db, make, smtp_server):
    inbox, port = smtp_server
    zh, en = make.user(None, "bidder"), make.user(None, "bidder")
    zh.email, zh.locale, en.email, en.locale = "zh@example.cn", "zh", "en@example.com", "en"
    nobody = make.user(None, "bidder")  # no address: the in-product notification only
    channel = SmtpChannel("127.0.0.1", port, "etender@centre.example", base_url="http://centre.example")
    params = {"reference": "GX-2026-001", "title": "道路改造"}
    tell(db, channel, {zh.id, en.id, nobody.id}, "tender.suspended", TITLE, "监督指令", "/tenders/1", params)
    assert inbox.mails == []
    stored = db.scalars(select(Notification).where(Notification.user_id == zh.id)).one()
    assert (stored.title, stored.params) == (TITLE, params)
    db.commit()
    by_rcpt = {rcpts[0]: mail for _, rcpts, mail in inbox.mails}
    assert set(by_rcpt) == {"zh@example.cn", "en@example.com"}
    assert _subject(by_rcpt["zh@example.cn"]) == "GX-2026-001 道路改造：招标程序已暂停"
    assert _subject(by_rcpt["en@example.com"]) == "GX-2026-001 道路改造: the procedure is suspended"
    zh_body = _body(by_rcpt["zh@example.cn"])
    assert "监督指令" in zh_body and "http://centre.example/tenders/1" in zh_body and "请勿回复" in zh_body
    assert "please do not reply" in _body(by_rcpt["en@example.com"])
    assert all(mail["From"] == "etender@centre.example" for _, _, mail in inbox.mails)


def test_a_rollback_sends_no_mail(db, make, smtp_server):
    inbox, port = smtp_server
    user = make.user(None, "expert")
    user.email = "x@example.cn"
    db.commit()
    tell(db, SmtpChannel("127.0.0.1", port, "etender@localhost"), {user.id}, "k", TITLE, params={})
    db.rollback()
    db.commit()
    assert inbox.mails == []


def test_someone_without_an_account_is_written_to_by_address(db, smtp_server):
    inbox, port = smtp_server
    channel = SmtpChannel("127.0.0.1", port, "etender@localhost")
    assert not tell_address(db, channel, "  ", "王五", TITLE)
    params = {"reference": "R", "title": "T"}
    assert tell_address(db, channel, "wang@example.cn", "王五", TITLE, params=params)
    db.commit()
    ((_, rcpts, mail),) = inbox.mails
    assert rcpts == ["wang@example.cn"] and _subject(mail) == "R T：招标程序已暂停"
    assert _body(mail).startswith("王五您好：")


def test_starttls_with_a_login(tmp_path):
    cert_file, key_file = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    inbox, logins = Inbox(), []

    def authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"centre",
            b"s3cret",
        )
        logins.append(ok)
        return AuthResult(success=ok)

    controller = Controller(
        inbox,
        hostname="localhost",
        port=(port := _free_port()),
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        channel = SmtpChannel(
            "localhost",
            port,
            "etender@localhost",
            tls="starttls",
            username="centre",
            password="s3cret",
            context=ssl.create_default_context(cafile=str(cert_file)),
        )
        channel.send(Message(1, "", "a@example.cn", TITLE, "", "/", "zh", {"reference": "R", "title": "T"}))
    finally:
        controller.stop()
    assert logins == [True] and len(inbox.mails) == 1


def test_settings_choose_the_channel(tmp_path, monkeypatch):
    for name, value in {
        "ETENDER_DATA": str(tmp_path),
        "ETENDER_MESSAGING": "smtp",
        "ETENDER_SMTP_HOST": "mail.example",
        "ETENDER_SMTP_PORT": "587",
        "ETENDER_SMTP_TLS": "starttls",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.messaging == "smtp"
    channel = channel_for("smtp", settings)
    assert isinstance(channel, SmtpChannel) and (channel.host, channel.port, channel.tls) == (
        "mail.example",
        587,
        "starttls",
    )
    with pytest.raises(ValueError, match="ETENDER_SMTP_TLS"):
        SmtpChannel("h", 25, "s", tls="maybe")
