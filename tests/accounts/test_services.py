"""tender/accounts.py on a real database: login with throttling (every attempt audited, E49), organisation and
user administration."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts import services as accounts
from accounts.models import LoginAttempt, Organisation, User
from accounts.passwords import verify_password
from accounts.services import LoginPolicy, OrgInput, UserInput
from audit.log import AuditEntry
from core import clock, credit_code
from core.errors import Forbidden, NotFound, TooManyAttempts, ValidationFailed
from core.settings import Settings
from tests.factories.accounts import TEST_PASSWORD

IP = "192.0.2.10"


def tags(db) -> list[str]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry.tag).order_by(AuditEntry.index)))


def attempts(db, username: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        db.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == username))
        or 0
    )


def fail_login(db, username: str, ip: str = IP, policy: LoginPolicy | None = None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as e:
        accounts.authenticate(db, username, "wrong password!", ip, policy)
    assert e.value.problems[0].code == "login_failed"


@pytest.fixture
def alice(db, make):  # type: ignore[no-untyped-def]
    user = make.user(make.org("bidder"), "bidder", username="alice")
    db.commit()
    return user


@pytest.fixture
def admin(db, make):  # type: ignore[no-untyped-def]
    user = make.user(make.org("trading_centre"), "admin", username="root")
    return make.actor(user)


def code() -> str:
    return credit_code.generate(random.Random())


# ---------------------------------------------------------------- authenticate


def test_login_succeeds_and_is_audited(db, alice):
    user = accounts.authenticate(db, "  alice ", TEST_PASSWORD, IP)
    assert user.id == alice.id
    assert user.last_login_at is not None
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "auth.login.succeeded")).one()
    assert (entry.actor_user_id, entry.ip, entry.subject) == (alice.id, IP, f"user:{alice.id}")


def test_wrong_password_records_attempt_and_audit_entry(db, alice):
    fail_login(db, "alice")
    assert attempts(db, "alice") == 1
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "auth.login.failed")).one()
    assert (entry.actor, entry.actor_user_id, entry.ip, entry.subject) == ("alice", None, IP, "login:alice")
    assert entry.details == {}


def test_unknown_user_fails_like_a_wrong_password(db, alice):
    with pytest.raises(ValidationFailed) as e:
        accounts.authenticate(db, "mallory", TEST_PASSWORD, IP)
    assert e.value.problems[0].code == "login_failed"
    assert e.value.problems[0].message == "The user name or password is wrong."
    assert attempts(db, "mallory") == 1


def test_inactive_user_is_refused_even_with_the_right_password(db, alice):
    alice.active = False
    db.flush()
    with pytest.raises(ValidationFailed):
        accounts.authenticate(db, "alice", TEST_PASSWORD, IP)
    assert "auth.login.succeeded" not in tags(db)
    assert tags(db) == ["auth.login.failed"]


def later(seconds: float) -> None:
    """Move the frozen clock on (clock.shift moves only a running clock)."""
    clock.freeze(clock.now() + timedelta(seconds=seconds))


def throttled(db, username: str, ip: str = IP, policy: LoginPolicy | None = None) -> int:  # type: ignore[no-untyped-def]
    """The seconds a login attempt (with the right password) is told to wait."""
    with pytest.raises(TooManyAttempts) as e:
        accounts.authenticate(db, username, TEST_PASSWORD, ip, policy)
    assert e.value.status == 429
    assert e.value.problems[0].code == "login_throttled"
    return int(e.value.problems[0].params["seconds"])


def test_five_failures_from_one_address_delay_its_next_attempt_without_locking(db, alice):
    clock.freeze(clock.now())
    for _ in range(5):
        fail_login(db, "alice")
    assert throttled(db, "alice") == 1  # answered at once with the wait, even with the right password
    assert tags(db) == ["auth.login.failed"] * 5 + ["auth.login.throttled"]
    throttled_entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "auth.login.throttled")).one()
    assert throttled_entry.details == {
        "failures": 5,
        "failures_from_address": 5,
        "failures_of_account": 5,
        "wait_seconds": 1,
    }
    # the throttled attempt itself does not count as another failure
    assert attempts(db, "alice") == 5
    later(1)
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP).id == alice.id


def test_each_further_failure_from_the_pair_doubles_the_delay_up_to_the_cap(db, alice):
    clock.freeze(clock.now())
    for _ in range(5):
        fail_login(db, "alice")
    waits = []
    for _ in range(10):
        waits.append(throttled(db, "alice"))
        later(waits[-1])
        fail_login(db, "alice")  # allowed once the wait is over, and wrong again
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]  # capped at max_delay (5 minutes)
    assert throttled(db, "alice") == 300
    later(300)
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP).id == alice.id


def test_a_strangers_failures_from_another_address_do_not_stop_the_owner(db, alice):
    clock.freeze(clock.now())
    for _ in range(10):  # as fast as the stranger may: each attempt once the wait before it is over
        with pytest.raises((ValidationFailed, TooManyAttempts)) as e:
            accounts.authenticate(db, "alice", "wrong password!", "198.51.100.66")
        if isinstance(e.value, TooManyAttempts):
            later(e.value.problems[0].params["seconds"])
            fail_login(db, "alice", ip="198.51.100.66")
    assert throttled(db, "alice", ip="198.51.100.66") > 0  # the stranger is slowed down...
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP).id == alice.id  # ...the owner is not
    # the owner's login forgets the owner's failures only: the stranger's still count against the stranger
    assert attempts(db, "alice") == 10
    assert throttled(db, "alice", ip="198.51.100.66") > 0


def test_four_failures_still_allow_login_and_success_clears_them(db, alice):
    for _ in range(4):
        fail_login(db, "alice")
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP).id == alice.id
    assert attempts(db, "alice") == 0
    for _ in range(4):
        fail_login(db, "alice")
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP).id == alice.id


def test_failures_outside_the_window_do_not_count(db, alice):
    for _ in range(5):
        fail_login(db, "alice")
    clock.shift(timedelta(minutes=15, seconds=1))
    for _ in range(4):
        fail_login(db, "alice")
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP).id == alice.id


def test_custom_policy(db, alice):
    clock.freeze(clock.now())
    policy = LoginPolicy(max_failures=2, window=timedelta(minutes=1), first_delay=timedelta(seconds=10))
    fail_login(db, "alice", policy=policy)
    fail_login(db, "alice", policy=policy)
    assert throttled(db, "alice", policy=policy) == 10
    later(10)
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP, policy).id == alice.id


def test_policy_from_settings_keeps_the_old_setting_names(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        database_url="sqlite://",
        login_max_failures=3,
        login_window_seconds=60,
        login_max_delay_seconds=30,
    )
    policy = LoginPolicy.from_settings(settings)
    assert (policy.max_failures, policy.window, policy.max_delay) == (
        3,
        timedelta(minutes=1),
        timedelta(seconds=30),
    )


def test_backoff_doubles_from_the_first_free_failure_and_stops_at_the_cap():
    first, cap = timedelta(seconds=1), timedelta(minutes=5)
    assert [accounts.backoff(n, 5, first, cap).total_seconds() for n in (0, 4, 5, 6, 7, 13, 14, 10_000)] == [
        0,
        0,
        1,
        2,
        4,
        256,
        300,
        300,
    ]


def test_one_address_guessing_many_accounts_is_slowed_down(db, make):
    clock.freeze(clock.now())
    for i in range(20):
        fail_login(db, f"guess{i}")
    make.user(make.org("bidder"), "bidder", username="bob")
    assert throttled(db, "bob") == 1  # 20 failures from the address over all accounts: its next login waits
    assert accounts.authenticate(db, "bob", TEST_PASSWORD, "192.0.2.99").username == "bob"


def test_guessing_one_account_from_many_addresses_slows_only_addresses_that_failed(db, alice):
    clock.freeze(clock.now())
    policy = LoginPolicy(account_max_failures=6)
    for i in range(6):
        fail_login(db, "alice", ip=f"198.51.100.{i}", policy=policy)
    # the account is under attack: an address that failed on it waits the short account delay...
    assert throttled(db, "alice", ip="198.51.100.0", policy=policy) == 2
    # ...and an address without failures of its own logs in at once
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP, policy).id == alice.id


def test_logout_is_audited(db, make, alice):
    accounts.logout(db, make.actor(alice))
    assert tags(db) == ["auth.logout"]


# ---------------------------------------------------------------- organisations


def test_create_organisation_normalises_and_audits(db, admin):
    raw = code()
    org = accounts.create_organisation(
        db,
        admin,
        OrgInput(credit_code=" " + raw.lower()[:9] + " " + raw.lower()[9:], name=" Acme Ltd ", kind="bidder"),
    )
    assert org.credit_code == raw
    assert org.name == "Acme Ltd"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "org.created")).one()
    assert entry.details == {"credit_code": raw, "name": "Acme Ltd", "kind": "bidder"}


@pytest.mark.parametrize("bad", ["12345", "91330100MA2XXXXX0O", "91330100MA2B3C4D5X"])
def test_create_organisation_refuses_invalid_credit_codes(db, admin, bad):
    with pytest.raises(ValidationFailed) as e:
        accounts.create_organisation(db, admin, OrgInput(credit_code=bad, name="Acme", kind="bidder"))
    p = e.value.problems[0]
    assert (p.code, p.field, p.rule) == ("credit_code_invalid", "credit_code", "GB 32100-2015")
    assert p.params["why"]


def test_wrong_check_character_is_refused(db, admin):
    good = code()
    wrong = good[:17] + next(c for c in credit_code.CHARSET if c != good[17])
    with pytest.raises(ValidationFailed) as e:
        accounts.create_organisation(db, admin, OrgInput(credit_code=wrong, name="Acme", kind="bidder"))
    assert "check character" in e.value.problems[0].params["why"]


def test_credit_code_must_be_unique_and_other_fields_checked(db, admin):
    raw = code()
    org = accounts.create_organisation(db, admin, OrgInput(credit_code=raw, name="Acme", kind="bidder"))
    with pytest.raises(ValidationFailed) as e:
        accounts.create_organisation(db, admin, OrgInput(credit_code=raw.lower(), name=" ", kind="pirate"))
    assert {p.code for p in e.value.problems} == {"credit_code_taken", "name_missing", "kind_invalid"}
    # updating an organisation with its own code is fine
    accounts.update_organisation(
        db, admin, org.id, OrgInput(credit_code=raw, name="Acme Group", kind="bidder", active=False)
    )
    assert (org.name, org.active) == ("Acme Group", False)
    assert "org.updated" in tags(db)


def test_update_organisation_kind_locked_once_it_has_users(db, admin, make):
    org = accounts.create_organisation(db, admin, OrgInput(credit_code=code(), name="Acme", kind="bidder"))
    make.user(org, "bidder")
    with pytest.raises(ValidationFailed) as e:
        accounts.update_organisation(
            db, admin, org.id, OrgInput(credit_code=org.credit_code, name="Acme", kind="agency")
        )
    assert e.value.problems[0].code == "kind_locked"
    with pytest.raises(NotFound):
        accounts.update_organisation(
            db, admin, 999_999, OrgInput(credit_code=code(), name="X", kind="bidder")
        )


def test_only_admins_manage_organisations(db, make):
    agency = make.actor(make.user(make.org("agency"), "agency"))
    with pytest.raises(Forbidden):
        accounts.create_organisation(db, agency, OrgInput(credit_code=code(), name="Acme", kind="bidder"))
    with pytest.raises(Forbidden):
        accounts.list_organisations(db, agency)
    assert db.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == "Acme")) == 0


# ---------------------------------------------------------------- users


def user_input(org_id: int | None, *roles: str, **changes) -> UserInput:  # type: ignore[no-untyped-def]
    data = UserInput(
        username="wang.wei",
        full_name="Wang Wei",
        organisation_id=org_id,
        roles=list(roles),
        password="a long password",
    )
    for k, v in changes.items():
        setattr(data, k, v)
    return data


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        ("agency", "agency"),
        ("purchaser", "purchaser"),
        ("purchaser", "project_owner"),
        ("bidder", "bidder"),
        ("supervisor", "monitor"),
        ("trading_centre", "centre"),
        ("trading_centre", "admin"),
        ("trading_centre", "expert"),
        ("intermediary", "intermediary"),
        (None, "expert"),
    ],
)
def test_create_user_with_a_role_that_fits_the_organisation(db, admin, make, kind, role):
    org = make.org(kind) if kind else None
    user = accounts.create_user(db, admin, user_input(org.id if org else None, role))
    assert user.roles == [role]
    assert verify_password(user.password_hash, "a long password")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "user.created")).one()
    assert "password" not in str(entry.details)


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        ("agency", "bidder"),
        ("bidder", "agency"),
        ("bidder", "monitor"),
        ("purchaser", "admin"),
        (None, "bidder"),
        ("supervisor", "expert"),
        (None, "admin"),
    ],
)
def test_create_user_refuses_a_role_that_does_not_fit(db, admin, make, kind, role):
    org = make.org(kind) if kind else None
    with pytest.raises(ValidationFailed) as e:
        accounts.create_user(db, admin, user_input(org.id if org else None, role))
    assert [(p.code, p.params) for p in e.value.problems] == [("role_org_mismatch", {"role": role})]
    assert db.scalar(select(User.id).where(User.username == "wang.wei")) is None


def test_create_user_checks_every_field(db, admin, make):
    make.user(None, "expert", username="taken")
    with pytest.raises(ValidationFailed) as e:
        accounts.create_user(
            db, admin, user_input(999_999, "emperor", username="taken", full_name=" ", password="short")
        )
    assert {p.code for p in e.value.problems} == {
        "username_taken",
        "full_name_missing",
        "password_short",
        "org_not_found",
        "role_invalid",
    }
    for bad in ("ab", "has space", "x" * 65, "中文名"):
        with pytest.raises(ValidationFailed) as e:
            accounts.create_user(db, admin, user_input(None, "expert", username=bad))
        assert e.value.problems[0].code == "username_invalid"
    with pytest.raises(ValidationFailed) as e:
        accounts.create_user(db, admin, user_input(None))
    assert e.value.problems[0].code == "roles_missing"


def test_update_user_refuses_self_lockout(db, make):
    root = make.user(make.org("trading_centre"), "admin", "centre", username="root")
    me = make.actor(root)
    for data in (
        user_input(root.organisation_id, "centre", username="root"),  # drops own admin role
        user_input(
            root.organisation_id, "admin", "centre", username="root", active=False
        ),  # deactivates self
    ):
        data.password = ""
        with pytest.raises(ValidationFailed) as e:
            accounts.update_user(db, me, root.id, data)
        assert e.value.problems[0].code == "self_lockout"
    db.refresh(root)
    assert root.active and "admin" in root.roles


def test_admin_may_change_and_deactivate_another_admin(db, make):
    root = make.user(make.org("trading_centre"), "admin", username="root")
    other = make.user(make.org("trading_centre"), "admin", username="deputy")
    data = user_input(other.organisation_id, "centre", username="deputy", active=False, password="")
    user = accounts.update_user(db, make.actor(root), other.id, data)
    assert (user.roles, user.active) == (["centre"], False)
    assert verify_password(user.password_hash, TEST_PASSWORD)  # empty password: unchanged
    assert tags(db) == ["user.updated"]
    accounts.update_user(
        db,
        make.actor(root),
        other.id,
        user_input(other.organisation_id, "centre", username="deputy", password="another long one"),
    )
    assert tags(db) == ["user.updated", "user.password.changed", "user.updated"]
    with pytest.raises(NotFound):
        accounts.update_user(db, make.actor(root), 999_999, data)


def test_only_admins_manage_users(db, make):
    agency_user = make.user(make.org("agency"), "agency")
    with pytest.raises(Forbidden):
        accounts.create_user(db, make.actor(agency_user), user_input(None, "expert"))
    with pytest.raises(Forbidden):
        accounts.update_user(
            db,
            make.actor(agency_user),
            agency_user.id,
            user_input(agency_user.organisation_id, "agency", "admin"),
        )
    with pytest.raises(Forbidden):
        accounts.list_users(db, make.actor(agency_user))


def test_change_password(db, make, alice):
    me = make.actor(alice)
    with pytest.raises(ValidationFailed) as e:
        accounts.change_password(db, me, TEST_PASSWORD, "short")
    assert e.value.problems[0].code == "password_short"
    epoch = accounts.change_password(db, me, TEST_PASSWORD, "a brand new password")
    assert epoch == alice.session_epoch == 1
    assert accounts.authenticate(db, "alice", "a brand new password", IP).id == alice.id
    assert "user.password.changed" in tags(db)


def test_a_weak_new_password_is_refused_with_why(db, make, alice):
    with pytest.raises(ValidationFailed) as e:
        accounts.change_password(db, make.actor(alice), TEST_PASSWORD, "aaaaaaaaaa")
    assert [p.code for p in e.value.problems][0] == "password_weak"
    assert 'Repeats like "aaa" are easy to guess.' in [p.message for p in e.value.problems]
    assert all(p.field == "new" for p in e.value.problems)
    assert alice.session_epoch == 0 and verify_password(alice.password_hash, TEST_PASSWORD)


def test_the_current_password_is_refused_as_the_new_one(db, make, alice):
    with pytest.raises(ValidationFailed) as e:
        accounts.change_password(db, make.actor(alice), TEST_PASSWORD, TEST_PASSWORD)
    assert [p.code for p in e.value.problems] == ["password_reused"]


def test_a_wrong_current_password_is_audited_and_throttled_like_a_login(db, make, alice):
    clock.freeze(clock.now())
    me = make.actor(alice)
    for _ in range(5):
        with pytest.raises(ValidationFailed) as e:
            accounts.change_password(db, me, "not my password", "a brand new password")
        assert e.value.problems[0].code == "password_wrong"
        assert e.value.kept  # its attempt and audit entry stay although the change is refused
    with pytest.raises(TooManyAttempts) as throttled_error:
        accounts.change_password(db, me, TEST_PASSWORD, "a brand new password")
    assert throttled_error.value.problems[0].params == {"seconds": 1} and throttled_error.value.kept
    refused = db.scalars(
        select(AuditEntry).where(AuditEntry.tag == "user.password.change.refused").order_by(AuditEntry.index)
    ).all()
    assert [r.details["reason"] for r in refused] == ["current_wrong"] * 5 + ["throttled"]
    assert {(r.subject, r.ip) for r in refused} == {(f"user:{alice.id}", me.ip)}
    # the same failures slow a login from that address down: one budget of guesses, not two
    assert throttled(db, "alice", ip=me.ip) == 1
    later(1)
    accounts.change_password(db, me, TEST_PASSWORD, "a brand new password")
    assert verify_password(alice.password_hash, "a brand new password")


def test_an_administrator_setting_a_password_ends_the_users_sessions(db, make, alice):
    root = make.user(make.org("trading_centre"), "admin", username="root")
    data = user_input(alice.organisation_id, "bidder", username="alice", password="aaaaaaaaaa")
    with pytest.raises(ValidationFailed) as e:
        accounts.update_user(db, make.actor(root), alice.id, data)
    assert "password_weak" in [p.code for p in e.value.problems]
    data.password = "quartz lantern umbrella"
    accounts.update_user(db, make.actor(root), alice.id, data)
    assert alice.session_epoch == 1
    db.flush()  # load_actor reads with a plain query, which does not flush the session
    assert accounts.load_actor(db, alice.id, IP, None, 0) is None
    assert accounts.load_actor(db, alice.id, IP, None, 1) is not None
