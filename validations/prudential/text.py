"""Numbers as phase-4 messages and finding values print them: no float noise, no exponent."""

from __future__ import annotations

from decimal import Decimal


def number(value: float | Decimal | int, places: int = 10) -> str:
    """``12.5``, ``0.1000000001``, ``320000000``: rounded to ``places`` decimals (enough to show a
    breach by one fen), trailing zeros dropped."""
    text = f"{Decimal(repr(value)) if isinstance(value, float) else Decimal(value):.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(value: float | Decimal | int, places: int = 8) -> str:
    """A decimal share as a percentage: ``0.1`` → ``10%``."""
    scaled = Decimal(repr(value)) * 100 if isinstance(value, float) else Decimal(value) * 100
    return f"{number(scaled, places)}%"


def amount(value: float | Decimal | int) -> str:
    """Yuan with two decimals and thousands separators: ``5,000,000.01``."""
    return f"{Decimal(repr(value)) if isinstance(value, float) else Decimal(value):,.2f}"
