"""Unit tests for core/money.py: amounts are kept in fen, typed and read in yuan."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import format_yuan, parse_yuan, yuan_plain


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("0.00", 0),
        ("0.01", 1),
        ("1", 100),
        ("1.5", 150),
        ("1.50", 150),
        ("1,234.5", 123450),
        ("1,234,567.89", 123456789),
        ("+5", 500),
        ("1，234.56", 123456),  # full-width comma
        ("¥1,000", 100000),
        ("1000元", 100000),
        ("¥ 1,000.00 元", 100000),
        ("  42.10  ", 4210),
        (".5", 50),
        ("-0", 0),
    ],
)
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "   ", "¥", "元", ",", "abc", "1.2.3", "12a", "1 000x"])
def test_parse_yuan_refuses_non_numbers(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


@pytest.mark.parametrize("text", ["-1", "-0.01", "-1,000"])
def test_parse_yuan_refuses_negative_amounts(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_parse_yuan_refuses_non_finite(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


@pytest.mark.parametrize("text", ["0.001", "1.234", "1,000.005"])
def test_parse_yuan_refuses_fractions_of_a_fen(text):
    with pytest.raises(ValueError, match="two decimals"):
        parse_yuan(text)


def test_parse_yuan_keeps_trailing_zero_decimals():
    assert parse_yuan("1.000") == 100


@pytest.mark.parametrize("text", ["1" * 30, "1e999999"])
def test_parse_yuan_absurdly_large_input_raises_value_error(text):
    # From 10**15 yuan on parse_yuan refuses the amount (ValueError "too large") before Decimal's quantize
    # could raise decimal.InvalidOperation; returning a number would let it into a price.
    with pytest.raises(ValueError, match="too large"):
        parse_yuan(text)


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (None, ""),
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (150, "1.50"),
        (123450, "1,234.50"),
        (123456789, "1,234,567.89"),
        (100000000000, "1,000,000,000.00"),
    ],
)
def test_format_yuan(fen, text):
    assert format_yuan(fen) == text


@pytest.mark.parametrize(("fen", "text"), [(None, ""), (0, "0.00"), (123456789, "1234567.89")])
def test_yuan_plain(fen, text):
    assert yuan_plain(fen) == text


# Up to ten trillion yuan: far beyond any real tender.
amounts = st.integers(min_value=0, max_value=10**15)


@given(amounts)
def test_format_then_parse_round_trips(fen):
    assert parse_yuan(format_yuan(fen)) == fen


@given(amounts)
def test_plain_then_parse_round_trips(fen):
    assert parse_yuan(yuan_plain(fen)) == fen


@given(amounts)
def test_format_has_two_decimals_and_grouped_thousands(fen):
    text = format_yuan(fen)
    whole, decimals = text.split(".")
    assert len(decimals) == 2
    groups = whole.split(",")
    assert 1 <= len(groups[0]) <= 3
    assert all(len(g) == 3 for g in groups[1:])
