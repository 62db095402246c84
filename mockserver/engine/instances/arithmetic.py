"""Number arithmetic that agrees with jsonschema: bounds, multiples, exact division."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from mockserver.engine.instances.keywords import as_number


def is_multiple(value: int | float, step: int | float) -> bool:
    # Mirrors jsonschema's multipleOf check, float quirks included (0.3 is not a multiple of 0.1).
    if not math.isfinite(value):  # k * step overflowed: JSON has no infinity
        return False
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(step)).denominator == 1
    return value % step == 0


def ceil_div(value: float, step: float) -> int:
    if isinstance(value, int) and isinstance(step, int):
        return -(-value // step)
    try:
        return math.ceil(value / step)
    except OverflowError:  # a tiny step (1e-320): the float quotient is infinite
        return math.ceil(Fraction(value) / Fraction(step))


def floor_div(value: float, step: float) -> int:
    if isinstance(value, int) and isinstance(step, int):
        return value // step
    try:
        return math.floor(value / step)
    except OverflowError:
        return math.floor(Fraction(value) / Fraction(step))


def multiply(k: int, step: int | float) -> int | float:
    """``k * step``; exact through fractions where the float product would overflow."""
    try:
        return k * step
    except OverflowError:  # k is an int beyond the float range
        return float(Fraction(k) * Fraction(step))


def binary_multiples(step: float, window: tuple[float, float]) -> list[float]:
    """Multiples of ``step`` near the ends of ``window``, computed exactly: ``unit = step *
    2**s`` is exact, and so is ``unit * j`` while the significant bits of the step and of
    ``j`` fit in a double's 53 (tried with ``j`` of several widths)."""
    found: list[float] = []
    for end in (window[1], window[0]):
        if end == 0 or step <= 0 or not math.isfinite(end):
            continue
        # log2(|end| / step) without the quotient, which overflows for a tiny step.
        magnitude = math.floor(math.log2(abs(end)) - math.log2(step))
        for bits in (20, 40, 6, 2):
            try:
                unit = math.ldexp(step, max(magnitude - bits, 0))
            except OverflowError:
                continue
            found += [unit * math.floor(end / unit), unit * math.ceil(end / unit)]
    return found


def decimal_places(value: float) -> int:
    exponent = Decimal(repr(value)).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def pick_range(
    lo: float | None, hi: float | None, preferred: tuple[float, float]
) -> tuple[float, float]:
    """Intersect the allowed range with a plausible one; fall back to the edge of the allowed."""
    p_lo, p_hi = preferred
    a = p_lo if lo is None else max(lo, p_lo)
    b = p_hi if hi is None else min(hi, p_hi)
    if a <= b:
        return a, b
    span = p_hi - p_lo
    if lo is None and hi is not None:
        return hi - span, hi
    if hi is None and lo is not None:
        return lo, lo + span
    assert lo is not None and hi is not None
    return lo, min(hi, lo + span)


def numeric_bounds(schema: Mapping[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    """Effective (low, low_exclusive, high, high_exclusive) from the numeric keywords."""
    lo, hi = as_number(schema.get("minimum")), as_number(schema.get("maximum"))
    lo_x = hi_x = False
    ex_lo = as_number(schema.get("exclusiveMinimum"))
    ex_hi = as_number(schema.get("exclusiveMaximum"))
    if ex_lo is not None and (lo is None or ex_lo >= lo):
        lo, lo_x = ex_lo, True
    if ex_hi is not None and (hi is None or ex_hi <= hi):
        hi, hi_x = ex_hi, True
    return lo, lo_x, hi, hi_x


def within(value: float, lo: float | None, lo_x: bool, hi: float | None, hi_x: bool) -> bool:
    if lo is not None and (value <= lo if lo_x else value < lo):
        return False
    return not (hi is not None and (value >= hi if hi_x else value > hi))


def describe_bounds(lo: float | None, lo_x: bool, hi: float | None, hi_x: bool) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'exclusiveMinimum' if lo_x else 'minimum'} {lo}")
    if hi is not None:
        parts.append(f"{'exclusiveMaximum' if hi_x else 'maximum'} {hi}")
    return " and ".join(parts) or "no bounds"
