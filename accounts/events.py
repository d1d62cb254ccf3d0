"""The audit tags accounts record (audit.events explains the vocabulary)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class AccountTag(enum.StrEnum):
    # accounts (E49: every operation with time, address and person)
    auth_login_succeeded = "auth.login.succeeded"
    auth_login_failed = "auth.login.failed"
    auth_login_throttled = "auth.login.throttled"
    auth_logout = "auth.logout"
    org_created = "org.created"
    org_updated = "org.updated"
    user_created = "user.created"
    user_updated = "user.updated"
    user_password_changed = "user.password.changed"
    # the account page's current-password check refused (wrong, or throttled as a login is)
    user_password_change_refused = "user.password.change.refused"
    access_refused = "access.refused"
