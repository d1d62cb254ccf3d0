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
from tests.factories.accounts import TEST_PASSWORD

IP = "192.0.2.10"


def tags(db) -> list[str]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry.tag).order_by(AuditEntry.index)))


def attempts(db, username: str) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == username)) or 0)


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


def test_throttled_after_five_failures_even_with_the_right_password(db, alice):
    for _ in range(5):
        fail_login(db, "alice")
    with pytest.raises(TooManyAttempts) as e:
        accounts.authenticate(db, "alice", TEST_PASSWORD, IP)
    assert e.value.status == 429
    assert e.value.problems[0].code == "login_throttled"
    assert e.value.problems[0].params == {"minutes": 15}
    assert tags(db) == ["auth.login.failed"] * 5 + ["auth.login.throttled"]
    throttled = db.scalars(select(AuditEntry).where(AuditEntry.tag == "auth.login.throttled")).one()
    assert throttled.details["failures"] == 5
    # the throttled attempt itself does not count as another failure
    assert attempts(db, "alice") == 5


def test_throttle_also_from_another_address(db, alice):
    for i in range(5):
        fail_login(db, "alice", ip=f"198.51.100.{i}")
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(db, "alice", TEST_PASSWORD, "203.0.113.1")


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
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP).id == alice.id


def test_custom_policy(db, alice):
    policy = LoginPolicy(max_failures=2, window=timedelta(minutes=1))
    fail_login(db, "alice", policy=policy)
    fail_login(db, "alice", policy=policy)
    with pytest.raises(TooManyAttempts) as e:
        accounts.authenticate(db, "alice", TEST_PASSWORD, IP, policy)
    assert e.value.problems[0].params == {"minutes": 1}
    clock.shift(timedelta(minutes=1, seconds=1))
    assert accounts.authenticate(db, "alice", TEST_PASSWORD, IP, policy).id == alice.id


def test_one_address_guessing_many_accounts_is_throttled(db, make):
    for i in range(20):
        fail_login(db, f"guess{i}")
    make.user(make.org("bidder"), "bidder", username="bob")
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(db, "bob", TEST_PASSWORD, IP)
    assert accounts.authenticate(db, "bob", TEST_PASSWORD, "192.0.2.99").username == "bob"


def test_logout_is_audited(db, make, alice):
    accounts.logout(db, make.actor(alice))
    assert tags(db) == ["auth.logout"]


# ---------------------------------------------------------------- organisations


def test_create_organisation_normalises_and_audits(db, admin):
    raw = code()
    org = accounts.create_organisation(db, admin, OrgInput(credit_code=" " + raw.lower()[:9] + " " + raw.lower()[9:], name=" Acme Ltd ", kind="bidder"))
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
    accounts.update_organisation(db, admin, org.id, OrgInput(credit_code=raw, name="Acme Group", kind="bidder", active=False))
    assert (org.name, org.active) == ("Acme Group", False)
    assert "org.updated" in tags(db)


def test_update_organisation_kind_locked_once_it_has_users(db, admin, make):
    org = accounts.create_organisation(db, admin, OrgInput(credit_code=code(), name="Acme", kind="bidder"))
    make.user(org, "bidder")
    with pytest.raises(ValidationFailed) as e:
        accounts.update_organisation(db, admin, org.id, OrgInput(credit_code=org.credit_code, name="Acme", kind="agency"))
    assert e.value.problems[0].code == "kind_locked"
    with pytest.raises(NotFound):
        accounts.update_organisation(db, admin, 999_999, OrgInput(credit_code=code(), name="X", kind="bidder"))


def test_only_admins_manage_organisations(db, make):
    agency = make.actor(make.user(make.org("agency"), "agency"))
    with pytest.raises(Forbidden):
        accounts.create_organisation(db, agency, OrgInput(credit_code=code(), name="Acme", kind="bidder"))
    with pytest.raises(Forbidden):
        accounts.list_organisations(db, agency)
    assert db.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == "Acme")) == 0


# ---------------------------------------------------------------- users


def user_input(org_id: int | None, *roles: str, **changes) -> UserInput:  # type: ignore[no-untyped-def]
    data = UserInput(username="wang.wei", full_name="Wang Wei", organisation_id=org_id, roles=list(roles), password="a long password")
    for k, v in changes.items():
        setattr(data, k, v)
    return data


@pytest.mark.parametrize(("kind", "role"), [
    ("agency", "agency"), ("purchaser", "purchaser"), ("purchaser", "project_owner"), ("bidder", "bidder"),
    ("supervisor", "monitor"), ("trading_centre", "centre"), ("trading_centre", "admin"), ("trading_centre", "expert"),
    ("intermediary", "intermediary"), (None, "expert"),
])
def test_create_user_with_a_role_that_fits_the_organisation(db, admin, make, kind, role):
    org = make.org(kind) if kind else None
    user = accounts.create_user(db, admin, user_input(org.id if org else None, role))
    assert user.roles == [role]
    assert verify_password(user.password_hash, "a long password")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "user.created")).one()
    assert "password" not in str(entry.details)


@pytest.mark.parametrize(("kind", "role"), [
    ("agency", "bidder"), ("bidder", "agency"), ("bidder", "monitor"), ("purchaser", "admin"), (None, "bidder"),
    ("supervisor", "expert"), (None, "admin"),
])
def test_create_user_refuses_a_role_that_does_not_fit(db, admin, make, kind, role):
    org = make.org(kind) if kind else None
    with pytest.raises(ValidationFailed) as e:
        accounts.create_user(db, admin, user_input(org.id if org else None, role))
    assert [(p.code, p.params) for p in e.value.problems] == [("role_org_mismatch", {"role": role})]
    assert db.scalar(select(User.id).where(User.username == "wang.wei")) is None


def test_create_user_checks_every_field(db, admin, make):
    make.user(None, "expert", username="taken")
    with pytest.raises(ValidationFailed) as e:
        accounts.create_user(db, admin, user_input(999_999, "emperor", username="taken", full_name=" ", password="short"))
    assert {p.code for p in e.value.problems} == {"username_taken", "full_name_missing", "password_short", "org_not_found", "role_invalid"}
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
        user_input(root.organisation_id, "admin", "centre", username="root", active=False),  # deactivates self
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
    accounts.update_user(db, make.actor(root), other.id, user_input(other.organisation_id, "centre", username="deputy", password="another long one"))
    assert tags(db) == ["user.updated", "user.password.changed", "user.updated"]
    with pytest.raises(NotFound):
        accounts.update_user(db, make.actor(root), 999_999, data)


def test_only_admins_manage_users(db, make):
    agency_user = make.user(make.org("agency"), "agency")
    with pytest.raises(Forbidden):
        accounts.create_user(db, make.actor(agency_user), user_input(None, "expert"))
    with pytest.raises(Forbidden):
        accounts.update_user(db, make.actor(agency_user), agency_user.id, user_input(agency_user.organisation_id, "agency", "admin"))
    with pytest.raises(Forbidden):
        accounts.list_users(db, make.actor(agency_user))


def test_change_password(db, make, alice):
    me = make.actor(alice)
    with pytest.raises(ValidationFailed) as e:
        accounts.change_password(db, me, "wrong", "a brand new password")
    assert e.value.problems[0].code == "password_wrong"
    with pytest.raises(ValidationFailed) as e:
        accounts.change_password(db, me, TEST_PASSWORD, "short")
    assert e.value.problems[0].code == "password_short"
    accounts.change_password(db, me, TEST_PASSWORD, "a brand new password")
    assert accounts.authenticate(db, "alice", "a brand new password", IP).id == alice.id
    assert "user.password.changed" in tags(db)
