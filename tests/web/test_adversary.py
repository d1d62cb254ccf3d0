"""The adversary suite (issue 12): before a tender's deadline, no public surface lets anyone but the bidder
itself count or name the registrations, downloads or bids of that tender, or see a login or its address.

It is a differential test, so that it finds a leak it was not told to look for: every GET route of the app
(the authorisation matrix's, with the audit API's entries and filtered stream) is read as anonymous and as
every role, then a bidder takes part in the open tenders (registers, downloads, bids, replaces its bid,
logs in, fails a login; an intermediary signs up for an open marketplace purchase with its quote, issue 15),
and everything is read again. For every reader but that bidder each answer must
be the same as before, up to what changes by itself (times, form tokens, the log's size and root, and the
audit entries the log withholds: a leaf hash with no subject, tag or time)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import difflib
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from accounts import services as accounts
from accounts.models import User, actor_for
from audit import feed, record
from audit.log import AuditEntry as AuditEntryRow
from core import clock
from core.errors import DomainError
from core.signing import signing_key
from marketplace import purchases, sealedquotes
from marketplace.models import Purchase, SignUp
from opendata import releases
from tender import participation
from tender import sealing as tender_sealing
from tender.events import TenderTag
from tender.models import Bid, Tender, TenderDocument
from tests.factories.accounts import TEST_PASSWORD
from tests.factories.bids import ensure_registered, submit_bid
from tests.factories.marketplace import QUOTE_PRIVATE_TEXT as QUOTE_KEY_TEXT
from tests.web import matrix
from tests.web.matrix_opening import EARLY
from web.security import CSRF_SEED, issue_csrf_token

ACTING = "bidder2"  # the bidder who takes part between the two readings: its own pages may change
OPEN_TENDERS = ("published", EARLY)  # open for bids, before their deadlines
AUDIT = [("/api/v1/audit/entries", {"start": "0", "end": "1000"})]
# Surfaces that change with every entry anywhere on the platform, whatever it is about: the signed size and
# root of the log. They say that something happened, never what or where.
GROWS_ANYWAY = ("/api/v1/audit/checkpoint", "/api/v1/audit/checkpoints")

TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?|\d{2}:\d{2}(:\d{2})?"
)
TOKEN = re.compile(r'(name="_csrf_token" value="|name="csrf-token" content="|"csrf_token":\s*")[^"]*')
STREAM_ID = re.compile(r"^id: ?\d+$", re.M)
# the public log page names its size, and its link to newer entries follows it
NEWER = re.compile(r'<a href="/audit\?before=">(较新的条目|Newer entries)</a>')  # there are newer ones: any
LOG_SIZE = re.compile(r"(日志共有 |The log holds |href=\"/audit\?before=)\d+")
ROW = re.compile(r"<tr>.*?</tr>", re.S)
FEED_ROW = re.compile(r"<tr data-index=.*?</tr>|<li class=\"alert[^\"]*\">.*?</li>", re.S)
# The monitors' feed: the newest index it shows and how many alerts there are grow with every entry, the
# readers' own refused looks included (like the log's size: that something happened, not what or where)
FEED_COUNTS = re.compile(r'(data-last="|<span class="badge failed">)\d+')
# The monitors' feed shows the newest 100 entries; the entries the steps and the readings add push the oldest
# off its bottom, which says that something happened, not what (like the log's size). Its rows are compared
# from FEED_FLOOR on, set once every reading is in (_probe).
FEED_INDEX = re.compile(r'<tr data-index="(\d+)"')
# Its link to older entries appears once it holds a full page: like the log's size, that says that entries
# were added, not what they are.
FEED_PAGER = re.compile(r'<nav class="pager" id="feed-pages">.*?</nav>', re.S)
FEED_FLOOR = {"index": 0}
# The feed's table names the subjects of the rows it shows (for the live rows' script): the rows are compared
# one by one above the floor, and the rows that fall off the bottom take their subjects' names with them, so
# the map is left out (a withheld entry has no subject to name).
FEED_SUBJECTS = re.compile(r'data-subjects="[^"]*"')


def _entries_shown(entries: list[dict[str, Any]], readers: set[str]) -> list[dict[str, Any]]:
    """The entries that could tell a reader something about the participants: not the withheld ones (only a
    leaf hash, no subject, tag or time: they say that the platform is in use, no more), and not the ones
    the readers' own reading wrote under their own names (a refused look at the sealed headers, E49)."""
    return [e for e in entries if not e.get("withheld") and e.get("decoded", {}).get("actor") not in readers]


def _normalise(path: str, body: str, readers: set[str]) -> str:
    if path == "/api/v1/audit/entries":
        return json.dumps(_entries_shown(json.loads(body)["entries"], readers), sort_keys=True)
    if path.endswith("/stream") and path.startswith("/api/"):
        sent = [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]
        return json.dumps(_entries_shown(sent, readers), sort_keys=True)
    if path.endswith("/stream"):
        body = "\n".join(line for line in body.splitlines() if not line.startswith(("id:", ":")))
    # a monitor's trail row (or feed row, or alert) about a reader's own refused look, under the reader's name
    if path == "/monitor/audit":
        body = FEED_SUBJECTS.sub("", FEED_PAGER.sub("", FEED_COUNTS.sub(r"\1", body)))
        body = FEED_ROW.sub(
            lambda m: "" if any(name in m.group(0) for name in readers - {"anonymous"}) else m.group(0), body
        )
        body = FEED_ROW.sub(
            lambda m: (
                ""
                if (i := FEED_INDEX.match(m.group(0))) and int(i.group(1)) < FEED_FLOOR["index"]
                else m.group(0)
            ),
            body,
        )
    body = ROW.sub(
        lambda m: "" if any(name in m.group(0) for name in readers - {"anonymous"}) else m.group(0), body
    )
    body = NEWER.sub("", LOG_SIZE.sub(r"\1", body))
    return " ".join(STREAM_ID.sub("", TOKEN.sub(r"\1", TIME.sub("<time>", body))).split())


def _log_size(env: Any) -> int:
    with env.factory() as s:
        return feed.size(s)


def _surfaces(env: Any, w: Any) -> list[tuple[str, dict[str, str]]]:
    rows = {row.path: row for row in matrix.MATRIX if row.method == "GET"}
    out: list[tuple[str, dict[str, str]]] = list(AUDIT)
    for method, path in sorted(matrix.app_endpoints(env.app)):
        if method != "GET" or path in GROWS_ANYWAY:
            continue
        row = rows[path]
        targets = OPEN_TENDERS if "{tender_id" in path else (row.target,)
        for target in targets:
            probe = matrix.Row("GET", path, row.expect, target=target, params=row.params, query=row.query)
            query = dict(row.query)
            if path.endswith("/stream"):
                query["max_idle"] = "0"  # one look, then the stream ends
            if path == "/audit":
                # the page of the log up to its size now: newer entries (withheld or the readers' own) push
                # older ones off the newest page, which says that something happened, not what
                query["before"] = str(_log_size(env))
            out.append((matrix.concrete_path(probe, w), query))
    for target in OPEN_TENDERS:  # the public stream, filtered by the tender
        out.append(("/api/v1/audit/stream", {"tender": str(getattr(w, target)), "max_idle": "0"}))
    return out


def _read_all(
    env: Any,
    w: Any,
    surfaces: list[tuple[str, dict[str, str]]],
    dump: dict[tuple[str, str, str], str] | None = None,
) -> dict[tuple[str, str, str], str]:
    seen = {}
    with env.factory() as s:
        ids = [uid for role, (uid, _) in w.users.items() if role != ACTING]
        readers = set(s.scalars(select(User.username).where(User.id.in_(ids)))) | {"anonymous"}
    for role in matrix.ROLES:
        if role == ACTING:
            continue
        for path, query in surfaces:
            client = env.client
            client.cookies.clear()
            client.cookies.set("lang", "zh")
            if role != "anonymous":
                uid, acting = w.users[role]
                client.set_session_data({matrix.SESSION_USER: uid, matrix.SESSION_ROLE: acting})
            r = client.get(path, params=query, follow_redirects=False)
            key = (role, path, json.dumps(query, sort_keys=True))
            text = r.headers.get("content-type", "").startswith(("text/", "application/json"))
            # a binary answer (a spreadsheet template, a PDF) carries its own build time: its status only
            seen[key] = (r.status_code, path, r.text if text else None, readers)
            if dump is not None:
                dump[key] = r.text if text else ""
    return seen


def _normalised(seen: dict[tuple[str, str, str], Any]) -> dict[tuple[str, str, str], str]:
    """The readings as compared, normalised once all are in (the feed's floor depends on the last)."""
    return {
        key: f"{status}\n{_normalise(path, body, readers) if body is not None else ''}"
        for key, (status, path, body, readers) in seen.items()
    }


def _take_part(env: Any, w: Any) -> None:
    """What a bidder does before the deadline, on every open tender: each step is a fact nobody else may
    learn yet (E21, L22)."""
    settings = env.settings
    signer = signing_key(settings.data_dir, settings.origin)
    with env.factory() as s:
        actor = actor_for(s.get(User, w.users[ACTING][0]), "203.0.113.77")
        for target in OPEN_TENDERS:
            tender = s.get(Tender, getattr(w, target))
            lot = tender.lots[0]
            ensure_registered(s, actor, tender.id, lot.id)
            doc = s.scalar(select(TenderDocument).where(TenderDocument.tender_id == tender.id))
            participation.download_document(s, actor, doc.id)
            submit_bid(s, actor, env.app.state.blobs, tender, lot, signer)
            submit_bid(s, actor, env.app.state.blobs, tender, lot, signer, content=b"%PDF replaced")
        # the marketplace (issue 15): an intermediary signs up for the open purchase with its quote
        intermediary = actor_for(s.get(User, w.mp_signer), "203.0.113.77")
        purchases.sign_up(s, intermediary, w.mp_purchase, 987_654)
        # issue 14: the open-data sync, as its periodic task would run now: it must publish nothing of this
        releases.sync(s, settings)
        s.commit()


def _log_in(env: Any, w: Any) -> None:
    """A failed and a good login: their time would tie the bidder to entries about a tender (and the failed
    one may hold a password typed into the name field)."""
    with env.factory() as s:
        person = s.get(User, w.users[ACTING][0])
        try:
            accounts.authenticate(s, person.username, "not the password", "203.0.113.77")
        except DomainError:
            s.commit()  # a refused login is kept
        accounts.authenticate(s, person.username, TEST_PASSWORD, "203.0.113.77")
        s.commit()


def _leaks(before: dict[Any, str], after: dict[Any, str], excused: set[str]) -> list[str]:
    return sorted(
        f"{role} GET {path} {query}"
        for (role, path, query), body in after.items()
        if role not in excused and before[(role, path, query)] != body
    )


def _first_difference(before: dict[Any, str], after: dict[Any, str], leak: str) -> str:
    key = next(k for k in after if f"{k[0]} GET {k[1]} {k[2]}" == leak)
    diff = difflib.unified_diff(
        before[key].replace("<", "\n<").splitlines(),
        after[key].replace("<", "\n<").splitlines(),
        lineterm="",
        n=1,
    )
    return "\n".join(list(diff)[:40])


_PROBES: dict[int, tuple[int, int, list[str], str]] = {}


def _probe(env: Any) -> tuple[int, int, list[str], str]:
    """Read, take part, read, log in, read: once per world (both tests below judge the same readings)."""
    if id(env) in _PROBES:
        return _PROBES[id(env)]
    w = env.current_world()
    with env.factory() as s:
        deadlines = [s.get(Tender, getattr(w, t)).bid_deadline for t in OPEN_TENDERS]
    assert all(d is not None and d > clock.now() + timedelta(minutes=5) for d in deadlines)
    surfaces = _surfaces(env, w)
    raw_first = _read_all(env, w, surfaces)
    _take_part(env, w)
    raw_second = _read_all(env, w, surfaces)
    _log_in(env, w)
    raw_third = _read_all(env, w, surfaces)
    # The monitors' feed shows the newest 100 entries, and the readings themselves add entries (each reader's
    # refused looks, well over 100 over three readings of every surface), which push the oldest rows off its
    # bottom: that says that something happened, not what (like the log's size). So every reading's feed is
    # compared from the rows the last one still shows: the bidder's steps and every reading's new entries.
    FEED_FLOOR["index"] = _log_size(env) - 100
    first, second, third = (_normalised(r) for r in (raw_first, raw_second, raw_third))
    env.world = None  # the world changed: the next module's matrix builds it afresh
    # participation: nobody but the bidder itself (core.disclosure, Fact.participation before the deadline)
    leaks = _leaks(first, second, excused=set())
    # logins: the person, the monitors and the administrators (Fact.login)
    logins = _leaks(second, third, excused={"monitor", "admin"})
    example = (
        _first_difference(first, second, leaks[0])
        if leaks
        else (_first_difference(second, third, logins[0]) if logins else "")
    )
    found = leaks + [f"login: {leak}" for leak in logins]
    print(
        f"adversary suite: {len(surfaces)} surfaces read as {len(matrix.ROLES) - 1} readers ({len(first)} "
        f"answers, three times), {len(OPEN_TENDERS)} open tenders probed, {len(found)} leaks found"
    )
    _PROBES[id(env)] = (len(surfaces), len(first), found, example)
    return _PROBES[id(env)]


def _of_the_log(leak: str) -> bool:
    return " GET /api/v1/audit/" in leak or " GET /monitor/audit" in leak or " GET /audit" in leak


@pytest.mark.timeout(900)
def test_before_the_deadline_no_page_or_api_lets_anyone_count_or_name_the_participants(env):
    _, _, found, example = _probe(env)
    leaks = [leak for leak in found if not _of_the_log(leak)]
    assert not leaks, "\n".join(leaks) + "\n\n" + example


@pytest.mark.timeout(900)
def test_before_the_deadline_the_audit_log_lets_nobody_count_or_name_the_participants(env):
    _, _, found, example = _probe(env)
    leaks = [leak for leak in found if _of_the_log(leak)]
    assert not leaks, "\n".join(leaks) + "\n\n" + example


# ---------------------------------------------------------------- network addresses are never public

FORGED = "203.0.113.77"  # the address _take_part and _log_in act from (an X-Forwarded-For a proxy believed)
CLIENT = "testclient"  # the test client's own address, as the app sees it (Litestar's test transport)


def _refused_over_http(env: Any, w: Any) -> None:
    """Refused attempts from the client's own address: a login form without its token (a failed CSRF check,
    anonymous), a wrong password, and a bidder's attempt on another company's bid (request.refused)."""
    client = env.client
    client.cookies.clear()
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 403
    client.cookies.set("etender_csrf", env.csrf)
    r = client.post(
        "/login",
        data={"username": "nobody", "password": "wrong", "_csrf_token": env.csrf},
        follow_redirects=False,
    )
    assert r.status_code in (401, 422), r.status_code
    with env.factory() as s:
        acting = s.get(User, w.users[ACTING][0])
        bid = s.scalar(select(Bid.id).where(Bid.organisation_id == acting.organisation_id))
    uid, role = w.users["bidder1"]
    client.cookies.clear()
    client.set_session_data({matrix.SESSION_USER: uid, matrix.SESSION_ROLE: role, CSRF_SEED: "adversary"})
    csrf = issue_csrf_token(env.settings.secret_key, "adversary")
    client.cookies.set("etender_csrf", csrf)
    r = client.post(f"/api/v1/bids/{bid}/withdraw", headers={"x-csrftoken": csrf})
    assert r.status_code in (403, 404), r.text


@pytest.mark.timeout(900)
def test_no_public_surface_shows_any_actors_network_address(env):
    """Every GET surface, read by everyone but the monitors and administrators (who see addresses, E49 and
    Fact.login) after entries from a forged address and from the client's own: neither address anywhere."""
    w = env.current_world()
    _take_part(env, w)
    _log_in(env, w)
    _refused_over_http(env, w)
    with env.factory() as s:  # an ordinary entry, neither withheld nor concealed, from each address
        for address in (FORGED, CLIENT):
            agency = actor_for(s.get(User, w.users["agencyA"][0]), address)
            record(s, TenderTag.tender_updated, actor=agency, subject=f"tender:{w.published}", details={})
        s.commit()
    with env.factory() as s:
        recorded = {ip for (ip,) in s.execute(select(AuditEntryRow.address)) if ip}
        tags = set(s.scalars(select(AuditEntryRow.tag).where(AuditEntryRow.address == CLIENT)))
    # the refusals are on record, with the address they came from (the refused write's after the answer)
    assert {FORGED, CLIENT} <= recorded
    assert {"request.csrf.refused", "request.refused", "auth.login.failed"} <= tags
    dump: dict[tuple[str, str, str], str] = {}
    _read_all(env, w, _surfaces(env, w), dump)
    env.world = None
    shown = sorted(
        f"{role} GET {path} {query}: {address}"
        for (role, path, query), body in dump.items()
        if role not in ("monitor", "admin")
        for address in (FORGED, CLIENT)
        if address in body
    )
    assert not shown, "\n".join(shown)
    # and the monitors do see them (so that the reading above could have found them)
    assert any(FORGED in body for (role, path, _), body in dump.items() if role == "monitor")


# ---------------------------------------------------------------- sealed marketplace quotes (issue 15)

QUOTE = 987_654  # fen: the sealed quote the probe below looks for
QUOTE_FORMS = ("987654", "987,654", "9876.54", "9,876.54")
# a quote shown or stored is a number standing alone; the same six digits inside a hash, a key or a
# base64 run on the key-holder pages are chance (one CI run found "987654" in such a run)
_ALONE = "(?<![0-9A-Za-z+/_.,-]){}(?![0-9A-Za-z+/_-])"
QUOTE_SHOWN = re.compile("|".join(_ALONE.format(re.escape(f)) for f in QUOTE_FORMS))
QUOTE_STORED = re.compile("|".join(_ALONE.format(re.escape(f)) for f in QUOTE_FORMS[:2]))
HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
B64U32 = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")


def _database_values(s: Any) -> list[Any]:
    from core.db import Base

    out: list[Any] = []
    for table in Base.metadata.sorted_tables:
        for row in s.execute(table.select()):
            out.extend(v for v in row if v is not None)
    return out


def _candidates(values: list[Any]) -> set[bytes]:
    """Every 32-byte value the database holds, raw, in hex or in base64url: each one tried as the key."""
    found: set[bytes] = set()
    for value in values:
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
            found.update(raw[i : i + 32] for i in range(0, max(len(raw) - 31, 0), 32))
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        found.update(bytes.fromhex(h) for h in HEX32.findall(text))
        for b in B64U32.findall(text):
            with contextlib.suppress(binascii.Error, ValueError):
                found.add(base64.urlsafe_b64decode(b + "="))
    return {c for c in found if len(c) == 32}


@pytest.mark.timeout(900)
def test_before_the_selection_time_no_role_reads_a_sealed_quote(env):
    """A quote is unreadable before the selection time by anyone, the administrator and the platform's
    operator included (marketplace.sealedquotes): no page or API of any role shows it, the database holds it
    only sealed and nothing in the database opens it, and no role (the centre's administrator included) can
    have it opened before the selection time, the purchase's owner with its own key included."""
    w = env.current_world()
    with env.factory() as s:
        intermediary = actor_for(s.get(User, w.mp_signer), "203.0.113.77")
        purchases.sign_up(s, intermediary, w.mp_purchase, QUOTE)
        s.commit()
    dump: dict[tuple[str, str, str], str] = {}
    _read_all(env, w, _surfaces(env, w), dump)
    shown = sorted(
        f"{role} GET {path} {query}" for (role, path, query), body in dump.items() if QUOTE_SHOWN.search(body)
    )
    assert not shown, "\n".join(shown)
    with env.factory() as s:
        values = _database_values(s)
        signup = s.scalar(select(SignUp).where(SignUp.purchase_id == w.mp_purchase))
        sealed = base64.b64decode(signup.sealed_quote)
        assert signup.quote_fen is None and sealed
        # the only clear copy would be the quote's digits somewhere in a row: there is none
        assert not [v for v in values if QUOTE_STORED.search(str(v))]
        header = tender_sealing.read_header(io.BytesIO(sealed))
        keys = _candidates(values)
        assert len(keys) > 50  # the probe finds what it tries: the log's hashes, the seeds, the keys
        opened = []
        for candidate in keys:
            try:
                sealedquotes.open_quote(sealed, X25519PrivateKey.from_private_bytes(candidate))
                opened.append(candidate.hex())
            except (tender_sealing.WrongKey, tender_sealing.DecryptionFailed, ValueError):
                pass
            stream = io.BytesIO(sealed)
            tender_sealing.read_header(stream)
            try:
                list(tender_sealing.decrypt_payload(stream, header, candidate))
                opened.append(candidate.hex())
            except (tender_sealing.DecryptionFailed, InvalidTag, ValueError):
                pass
        assert not opened, opened
        # after the sign-up deadline, before the selection time: nobody has the quotes opened, with the
        # right key or any other; the administrator may not even try (the owner's key, not the centre's)
        purchase = s.get(Purchase, w.mp_purchase)
        owner = actor_for(s.scalar(select(User).where(User.organisation_id == purchase.owner_org_id)))
        clock.shift(purchase.signup_deadline - clock.now() + timedelta(minutes=1))
        try:
            purchases.close_signup(s, owner, purchase.id)
            for role in matrix.ROLES:
                if role == "anonymous":
                    continue
                reader = actor_for(s.get(User, w.users[role][0]))
                with pytest.raises(DomainError):
                    purchases.release_quotes(s, reader, purchase.id, QUOTE_KEY_TEXT)
            with pytest.raises(DomainError) as refused:
                purchases.release_quotes(s, owner, purchase.id, QUOTE_KEY_TEXT)
            assert refused.value.problems[0].code == "quotes_sealed_until_selection"
            assert signup.quote_fen is None and purchase.quote_key_released == ""
        finally:
            s.rollback()
            clock.reset()
    env.world = None
