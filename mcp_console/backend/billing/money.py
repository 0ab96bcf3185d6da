"""Money as billing counts it: exact Decimals, rounded once, to the currency's minor unit."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

# Places kept of a unit price (per request): fractions of a cent are real prices.
UNIT_PRICE_PLACES = 10
UNIT_PRICE_QUANTUM = Decimal(1).scaleb(-UNIT_PRICE_PLACES)
# ISO 4217 currencies whose minor unit is not the cent (every other has two places).
_MINOR_UNITS = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
}
ZERO = Decimal(0)


def minor_unit(currency: str) -> int:
    """How many decimal places an amount in ``currency`` has (2 for USD, 0 for JPY)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def unit_price(value: Decimal) -> Decimal:
    """A unit price as it is stored: exact to ``UNIT_PRICE_PLACES`` places.

    Raises:
        ValueError: ``value`` has more places than that (it would be changed, not kept).
    """
    kept = value.quantize(UNIT_PRICE_QUANTUM)
    if kept != value:
        raise ValueError(f"at most {UNIT_PRICE_PLACES} decimal places")
    return kept


def shown_price(value: Decimal) -> Decimal:
    """A unit price without its stored trailing zeros (``0.0500000000`` reads ``0.05``)."""
    short = value.normalize()
    exponent = short.as_tuple().exponent
    return short.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else short


def amount(exact: Decimal, currency: str) -> Decimal:
    """The amount a person reads: ``exact`` rounded once to the currency's minor unit.

    The rule, written here only: a unit price keeps ``UNIT_PRICE_PLACES`` places; what calls
    cost (calls times unit price) is added up exactly, never from rounded parts; each amount shown
    (a usage row's cost, a total) is rounded from its own exact sum, once, half to even
    (banker's rounding: 0.005 → 0.00, 0.015 → 0.02, so rounding favours neither side). Rows
    rounded so may differ from the rounded total by at most half a minor unit each.
    """
    return exact.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_EVEN)


def allocate(exact: Sequence[Decimal], currency: str) -> list[Decimal]:
    """``exact`` parts rounded so that they add up to their total's ``amount``, exactly.

    The rule for the lines of an invoice: the total is ``amount`` of the exact sum (what the
    calls cost, to the minor unit); each line is its exact cost rounded down to the minor
    unit, and the minor units still missing go one each to the lines that lost most in that
    rounding (the earliest line first among equals). So a line is at most one minor unit
    off its own exact cost and the lines always add up to the total.
    """
    step = Decimal(1).scaleb(-minor_unit(currency))
    total = amount(sum(exact, ZERO), currency)
    parts = [e.quantize(step, rounding=ROUND_FLOOR) for e in exact]
    # Never negative: the total is at least the floor of the sum, and that of the floors.
    missing = int((total - sum(parts, ZERO)) / step)
    for i in sorted(range(len(exact)), key=lambda i: (parts[i] - exact[i], i))[:missing]:
        parts[i] += step
    return parts
