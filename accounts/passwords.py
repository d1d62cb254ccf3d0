"""Passwords: hashing (Argon2id, the library's defaults) and the strength rule (policy)."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from core.errors import N_, Problem

_hasher = PasswordHasher()

# policy: a password has at least MIN_PASSWORD characters and zxcvbn scores it at least MIN_SCORE (0 to 4; 3
# is "safely unguessable: moderate protection from an offline attack", about 10^8 guesses or more). Length
# alone let `aaaaaaaaaa` through; a bidder's account places bids and a key holder's opens them.
MIN_PASSWORD = 10
MIN_SCORE = 3
# zxcvbn's running time grows with the length; what is past this many characters does not change the score.
_SCORED_PREFIX = 100

# zxcvbn's feedback is English; each sentence it can give is a message of ours, so the reader sees it in their
# language (zxcvbn/feedback.py lists them). A sentence not listed here (a newer zxcvbn) is left out: the
# generic message still says the password is refused.
_FEEDBACK = {
    m: m
    for m in (
        N_("Use a few words, avoid common phrases."),
        N_("No need for symbols, digits, or uppercase letters."),
        N_("Add another word or two. Uncommon words are better."),
        N_("Straight rows of keys are easy to guess."),
        N_("Short keyboard patterns are easy to guess."),
        N_("Use a longer keyboard pattern with more turns."),
        N_('Repeats like "aaa" are easy to guess.'),
        N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
        N_("Avoid repeated words and characters."),
        N_('Sequences like "abc" or "6543" are easy to guess.'),
        N_("Avoid sequences."),
        N_("Recent years are easy to guess."),
        N_("Avoid recent years."),
        N_("Avoid years that are associated with you."),
        N_("Dates are often easy to guess."),
        N_("Avoid dates and years that are associated with you."),
        N_("This is a top-10 common password."),
        N_("This is a top-100 common password."),
        N_("This is a very common password."),
        N_("This is similar to a commonly used password."),
        N_("A word by itself is easy to guess."),
        N_("Names and surnames by themselves are easy to guess."),
        N_("Common names and surnames are easy to guess."),
        N_("Capitalization doesn't help very much."),
        N_("All-uppercase is almost as easy to guess as all-lowercase."),
        N_("Reversed words aren't much harder to guess."),
        N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
    )
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def strength_problems(
    password: str, user_inputs: Iterable[str] = (), field: str = "password"
) -> list[Problem]:
    """Why `password` is refused as a new password (policy; empty: it is strong enough). `user_inputs` are
    words an attacker knows about the person (user name, full name, organisation): a password built on them is
    weak."""
    if len(password) < MIN_PASSWORD:
        return [
            Problem(
                "password_short",
                N_("A password needs at least %(n)s characters."),
                field,
                {"n": MIN_PASSWORD},
            )
        ]
    inputs = [word for value in user_inputs for word in (value, *value.split()) if word]
    result = zxcvbn(password[:_SCORED_PREFIX], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return []
    problems = [
        Problem(
            "password_weak",
            N_("This password is too easy to guess; choose a longer or less usual one."),
            field,
        )
    ]
    feedback = result["feedback"]
    for sentence in [feedback.get("warning") or "", *feedback.get("suggestions", [])]:
        if sentence in _FEEDBACK:
            problems.append(Problem("password_weak_why", _FEEDBACK[sentence], field))
    return problems
