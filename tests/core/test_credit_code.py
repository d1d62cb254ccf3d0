"""Unit and property tests for core/credit_code.py: the unified social credit code, GB 32100-2015."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.credit_code import CHARSET, WEIGHTS, check_character, generate, is_valid, normalise, problem

REAL_CODES = ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"]


def test_charset_is_the_31_characters_of_the_standard():
    assert len(CHARSET) == 31
    assert len(set(CHARSET)) == 31
    for letter in "IOZSV":
        assert letter not in CHARSET


def test_weights_are_powers_of_3_mod_31():
    assert [pow(3, i, 31) for i in range(17)] == WEIGHTS


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert problem(code) is None
    assert is_valid(code)
    assert check_character(code[:17]) == code[17]


def test_check_character_known_value():
    # 91350100M000100Y4 -> 3 (the check character of a published code)
    assert check_character("91350100M000100Y4") == "3"


def test_check_character_when_sum_is_a_multiple_of_31():
    # All zeros: the sum is 0, and the check character is 0 (31 - 0 mod 31 would be 31, out of range).
    assert check_character("0" * 17) == "0"
    assert is_valid("0" * 18)


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433", "91350100M000100Y43 "])
def test_wrong_length(code):
    reason = problem(code)
    assert reason is not None and "18 characters" in reason
    assert not is_valid(code)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters(letter):
    code = "91350100M000100" + letter + "43"
    reason = problem(code)
    assert reason is not None and "not allowed" in reason and letter in reason


def test_lower_case_is_not_allowed_until_normalised():
    assert not is_valid("91350100m000100y43")
    assert is_valid(normalise("91350100m000100y43"))


def test_normalise_strips_spaces_and_upper_cases():
    assert normalise("  9135 0100 m000 100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize("position", range(2, 8))
def test_division_code_must_be_digits(position):
    body = "91350100M000100Y4"
    body = body[:position] + "A" + body[position + 1 :]
    code = body + check_character(body)  # the check character is right: only the division is wrong
    reason = problem(code)
    assert reason is not None and "division" in reason


def test_wrong_check_character_says_which_is_expected():
    reason = problem("91350100M000100Y44")
    assert reason is not None and "expected 3" in reason


@given(
    code=st.sampled_from(REAL_CODES),
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from(CHARSET),
)
def test_every_single_character_change_is_detected(code, position, replacement):
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid(changed)


@given(
    seed=st.integers(),
    position=st.integers(min_value=0, max_value=17),
    shift=st.integers(min_value=1, max_value=30),
)
def test_every_single_character_change_of_a_generated_code_is_detected(seed, position, shift):
    code = generate(random.Random(seed))
    replacement = CHARSET[(CHARSET.index(code[position]) + shift) % 31]
    changed = code[:position] + replacement + code[position + 1 :]
    assert changed != code
    assert not is_valid(changed)


@given(
    seed=st.integers(),
    division=st.from_regex(r"\A[0-9]{6}\Z"),
    authority=st.sampled_from("159Y"),
    kind=st.sampled_from("123"),
)
def test_generate_always_produces_valid_codes(seed, division, authority, kind):
    code = generate(random.Random(seed), authority=authority, kind=kind, division=division)
    assert problem(code) is None
    assert code[:8] == authority + kind + division
    assert len(code) == 18


def test_generate_is_deterministic_per_seed_and_varies_between_seeds():
    assert generate(random.Random(7)) == generate(random.Random(7))
    assert len({generate(random.Random(seed)) for seed in range(50)}) == 50
