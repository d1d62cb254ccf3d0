"""Unified social credit code (统一社会信用代码), GB 32100-2015."""

from __future__ import annotations

import random

# GB 32100-2015 §4: the 31 characters used, in value order (no I, O, Z, S, V).
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(CHARSET)}
# GB 32100-2015 §5: weights of positions 1..17 (3^(i-1) mod 31).
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def check_character(first17: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why the code is not valid, as a short English reason, or None when it is valid."""
    if len(code) != 18:
        return "it must have 18 characters, it has %d" % len(code)
    bad = sorted({c for c in code if c not in VALUES})
    if bad:
        return "it contains characters not allowed in a credit code: %s" % " ".join(bad)
    if not code[2:8].isdigit():
        return "characters 3 to 8 (the administrative division code) must be digits"
    if check_character(code[:17]) != code[17]:
        return "the check character is wrong (expected %s): the code was mistyped" % check_character(
            code[:17]
        )
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def normalise(code: str) -> str:
    return code.strip().upper().replace(" ", "")


def generate(rng: random.Random, authority: str = "9", kind: str = "1", division: str = "330100") -> str:
    """A valid code (demo data and tests)."""
    body = authority + kind + division + "".join(rng.choice(CHARSET) for _ in range(9))
    return body + check_character(body)
