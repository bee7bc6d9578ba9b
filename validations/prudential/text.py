"""Numbers as phase-4 messages and finding values print them: no float noise, no exponent.

Exact values (Decimal, Fraction, int) are rounded exactly; a float is read as the decimal it prints as.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from validations.exact import round_half_up, to_decimal

Number = float | Decimal | Fraction | int


def _exact(value: Number) -> Decimal | Fraction:
    return Decimal(repr(value)) if isinstance(value, float) else value if isinstance(value, Fraction) else Decimal(value)


def _rounded(value: Decimal | Fraction, places: int) -> Decimal:
    """``value`` to ``places`` decimals, ties to even (as Decimal's formatting does)."""
    if isinstance(value, Fraction):
        return to_decimal(Fraction(round(value * 10**places), 10**places)).quantize(Decimal(1).scaleb(-places))
    return Decimal(f"{value:.{places}f}")


def number(value: Number, places: int = 10) -> str:
    """``12.5``, ``0.1000000001``, ``320000000``: rounded to ``places`` decimals (enough to show a
    breach by one fen), trailing zeros dropped."""
    text = f"{_rounded(_exact(value), places):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(value: Number, places: int = 8) -> str:
    """A decimal share as a percentage: ``0.1`` → ``10%``."""
    return f"{number(_exact(value) * 100, places)}%"


def amount(value: Number) -> str:
    """Yuan with two decimals and thousands separators: ``5,000,000.01`` (an exact value with more
    decimals, such as an exposure under a shared liability, is rounded half-up to the fen)."""
    return f"{round_half_up(_exact(value), 2):,.2f}"
