"""Settings read from environment variables; the embedded defaults need no servers."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    blob_store: str = "file"  # "file" or "s3"
    blob_dir: Path = field(default=Path("var/blobs"))
    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "etender"
    s3_secure: bool = False
    s3_region: str = "us-east-1"  # told to the client so that it never has to ask the service
    broker_url: str = ""  # empty: tasks run in-process
    task_threads: int = 2  # in-process mode: background threads that run tasks
    max_bid_bytes: int = 2 * 1024**3  # largest sealed bid accepted (issue 3: up to 2 GiB)
    upload_part_bytes: int = 8 * 1024**2  # size of one part of a staged upload, and the most a part may hold
    upload_expiry_seconds: int = 24 * 3600  # a staged upload untouched this long is swept away
    decryption_window_seconds: int = (
        1800  # quorum+bidder: bidders' parts are due this long after the quorum (E31)
    )
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    session_store: str = ""  # empty: files under data_dir; "redis://..." for several web processes
    max_document_bytes: int = 50 * 1024 * 1024
    # Login throttling (accounts.services.LoginPolicy explains it): no account is ever locked.
    login_max_failures: int = 5  # free failures of one account from one address, then a doubling delay
    login_window_seconds: int = 15 * 60  # a failure counts this long
    login_first_delay_seconds: float = 1.0  # the first delay; each further failure doubles it
    login_max_delay_seconds: float = 5 * 60  # the longest delay
    login_address_max_failures: int = 20  # free failures from one address over all accounts
    login_account_max_failures: int = 100  # failures of one account from all addresses before account_delay
    login_account_delay_seconds: float = 2.0  # then: the wait of an address that has failed on the account
    page_size: int = 20
    demo: bool = True
    secure_cookies: bool = False  # true behind HTTPS
    scheduler_interval: float = 5.0  # seconds between deadline tasks; 0: no in-process scheduler
    public_cache_seconds: float = 0.0  # micro-cache of the anonymous public notice list; 0 disables it
    origin: str = "etender.localhost/audit"  # the audit log's checkpoint origin and the signing key's name
    messaging: str = "log"  # outbound adapter: "log" writes messages to the log; "smtp" sends e-mail
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_tls: str = "none"  # "none", "starttls" (upgrade a plain connection) or "ssl" (TLS from the start)
    smtp_sender: str = "etender@localhost"
    smtp_username: str = ""  # empty: no login
    smtp_password: str = ""
    smtp_timeout_seconds: float = 10.0
    public_url: str = "http://127.0.0.1:8000"  # the site's address as people reach it: links in e-mails
    draw_cap_max: int = 0  # expert draws: at most this many seats per expert in draw_cap_days (0: no cap)
    draw_cap_days: int = 365
    # Proxies whose X-Forwarded-For is believed (CIDRs). Empty: no header is believed, the peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    log_format: str = "text"  # "json" for a deployment's log collector (core.logs)
    log_level: str = "WARNING"  # INFO adds one access record per request (web.request_id)
    metrics_token: str = ""  # /metrics answers only a scrape with "Authorization: Bearer <token>"; empty: 404
    body_timeout_seconds: float = 30.0  # a request body that stops arriving for this long is answered 408
    # The centre's sealed evaluation rooms, by name in order (policy: the county centre has three).
    evaluation_rooms: tuple[str, ...] = ("1号评标室", "2号评标室", "3号评标室")
    # The centre's bid-opening rooms, by name in order (policy: the county centre has three; issue 16).
    opening_rooms: tuple[str, ...] = ("1号开标室", "2号开标室", "3号开标室")
    # OCDS open data (opendata/, docs/opendata.md). The ocid prefix must be the one registered with the Open
    # Contracting Partnership; the default is the prefix of the OCDS documentation's examples, for tests and
    # demos only: a deployment that publishes real data sets its own.
    ocid_prefix: str = "ocds-213czf-"
    ocds_publisher: str = "etender"  # the publisher's name in every package
    # The org-id.guide list the parties' unified social credit codes (统一社会信用代码) are given under
    ocds_identifier_scheme: str = "CN-SAIC"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _secret_key(data_dir: Path) -> str:
    """A per-installation secret, created once and kept under the data directory."""
    if value := os.environ.get("ETENDER_SECRET_KEY"):
        return value
    path = data_dir / "keys" / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _networks(value: str) -> tuple[str, ...]:
    """A comma- or space-separated list of CIDRs (a bare address is one host), checked at start-up so that a
    typo fails loudly instead of silently trusting nobody (or everybody)."""
    return tuple(
        str(ipaddress.ip_network(item.strip(), strict=False))
        for item in value.replace(",", " ").split()
        if item.strip()
    )


def _names(value: str) -> tuple[str, ...]:
    """A comma-separated list of names (either comma, 、 or ，), none empty, at least one."""
    names = tuple(n.strip() for n in value.replace("，", ",").replace("、", ",").split(",") if n.strip())
    if not names:
        raise ValueError("ETENDER_EVALUATION_ROOMS names no room")
    return names


def load_settings() -> Settings:
    data_dir = Path(_env("ETENDER_DATA", "./var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        database_url=_env("DATABASE_URL", f"sqlite:///{data_dir / 'etender.db'}"),
        blob_store=_env("ETENDER_BLOB_STORE", "file"),
        blob_dir=Path(_env("ETENDER_BLOB_DIR", str(data_dir / "blobs"))),
        s3_endpoint=_env("S3_ENDPOINT", ""),
        s3_access_key=_env("S3_ACCESS_KEY", ""),
        s3_secret_key=_env("S3_SECRET_KEY", ""),
        s3_bucket=_env("S3_BUCKET", "etender"),
        s3_secure=_env("S3_SECURE", "false").lower() == "true",
        s3_region=_env("S3_REGION", "us-east-1"),
        broker_url=_env("CELERY_BROKER_URL", ""),
        task_threads=int(_env("ETENDER_TASK_THREADS", "2")),
        max_bid_bytes=int(_env("ETENDER_MAX_BID_BYTES", str(2 * 1024**3))),
        upload_part_bytes=int(_env("ETENDER_UPLOAD_PART_BYTES", str(8 * 1024**2))),
        upload_expiry_seconds=int(_env("ETENDER_UPLOAD_EXPIRY_SECONDS", str(24 * 3600))),
        decryption_window_seconds=int(_env("ETENDER_DECRYPTION_WINDOW_SECONDS", "1800")),
        host=_env("HOST", "127.0.0.1"),
        port=int(_env("PORT", "8000")),
        secret_key=_secret_key(data_dir),
        session_store=_env("ETENDER_SESSION_STORE", ""),
        max_document_bytes=int(_env("ETENDER_MAX_DOCUMENT_BYTES", str(50 * 1024 * 1024))),
        demo=_env("ETENDER_DEMO", "true").lower() == "true",
        secure_cookies=_env("ETENDER_SECURE_COOKIES", "false").lower() == "true",
        scheduler_interval=float(_env("ETENDER_SCHEDULER_INTERVAL", "5")),
        public_cache_seconds=float(_env("ETENDER_PUBLIC_CACHE_SECONDS", "2")),
        origin=_env("ETENDER_ORIGIN", "etender.localhost/audit"),
        messaging=_env("ETENDER_MESSAGING", "log"),
        smtp_host=_env("ETENDER_SMTP_HOST", "127.0.0.1"),
        smtp_port=int(_env("ETENDER_SMTP_PORT", "25")),
        smtp_tls=_env("ETENDER_SMTP_TLS", "none"),
        smtp_sender=_env("ETENDER_SMTP_SENDER", "etender@localhost"),
        smtp_username=_env("ETENDER_SMTP_USERNAME", ""),
        smtp_password=_env("ETENDER_SMTP_PASSWORD", ""),
        smtp_timeout_seconds=float(_env("ETENDER_SMTP_TIMEOUT_SECONDS", "10")),
        public_url=_env("ETENDER_PUBLIC_URL", f"http://{_env('HOST', '127.0.0.1')}:{_env('PORT', '8000')}"),
        draw_cap_max=int(_env("ETENDER_DRAW_CAP_MAX", "0")),
        draw_cap_days=int(_env("ETENDER_DRAW_CAP_DAYS", "365")),
        trusted_proxies=_networks(_env("ETENDER_TRUSTED_PROXIES", "")),
        body_timeout_seconds=float(_env("ETENDER_BODY_TIMEOUT_SECONDS", "30")),
        metrics_token=_env("ETENDER_METRICS_TOKEN", ""),
        log_format=_env("ETENDER_LOG_FORMAT", "text"),
        log_level=_env("ETENDER_LOG_LEVEL", "WARNING"),
        evaluation_rooms=_names(_env("ETENDER_EVALUATION_ROOMS", "1号评标室,2号评标室,3号评标室")),
        opening_rooms=_names(_env("ETENDER_OPENING_ROOMS", "1号开标室,2号开标室,3号开标室")),
        ocid_prefix=_env("ETENDER_OCID_PREFIX", "ocds-213czf-"),
        ocds_publisher=_env("ETENDER_OCDS_PUBLISHER", "etender"),
        ocds_identifier_scheme=_env("ETENDER_OCDS_IDENTIFIER_SCHEME", "CN-SAIC"),
    )
