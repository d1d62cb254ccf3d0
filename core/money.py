"""Money is kept in fen (分); people type and read yuan (元)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def parse_yuan(text: str) -> int:
    """'1,234.5' -> 123450 fen. Raises ValueError on anything that is not a non-negative amount."""
    cleaned = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("元", "")
    if not cleaned:
        raise ValueError("empty")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as e:
        raise ValueError("not a number") from e
    if not value.is_finite():
        raise ValueError("not a finite number")
    if value < 0:
        raise ValueError("negative")
    if value >= Decimal(10) ** 15:
        raise ValueError("too large")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("more than two decimals")
    return int((value * 100).to_integral_value(ROUND_HALF_UP))


def format_yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{Decimal(fen) / 100:,.2f}"


def yuan_plain(fen: int | None) -> str:
    """For form fields: no thousands separators."""
    if fen is None:
        return ""
    return f"{Decimal(fen) / 100:.2f}"
