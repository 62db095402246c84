"""Integers and numbers: plausible for the property's name, within the bounds, on the grid."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from itertools import chain
from typing import Any, Final

from mockserver.engine.instances.arithmetic import (
    binary_multiples,
    ceil_div,
    decimal_places,
    describe_bounds,
    floor_div,
    is_multiple,
    multiply,
    numeric_bounds,
    pick_range,
    within,
)
from mockserver.engine.instances.core import GeneratorCore
from mockserver.engine.instances.errors import Retry, UnsatisfiableSchemaError
from mockserver.engine.instances.hints import number_preference
from mockserver.engine.instances.keywords import as_number

# A multipleOf below this overflows value / step for plausible values (see _generate_integer).
TINY_STEP: Final = 1e-300


class NumberMixin(GeneratorCore):
    # -- numbers ------------------------------------------------------------------------------

    def _generate_integer(self, schema: Mapping[str, Any], path: str, hint: str | None) -> int:
        lo, lo_x, hi, hi_x = numeric_bounds(schema)
        low = None if lo is None else (math.floor(lo) + 1 if lo_x else math.ceil(lo))
        high = None if hi is None else (math.ceil(hi) - 1 if hi_x else math.floor(hi))
        if low is not None and high is not None and low > high:
            raise UnsatisfiableSchemaError(
                f"at {path!r}: no integer satisfies {describe_bounds(lo, lo_x, hi, hi_x)}"
            )
        raw_step = as_number(schema.get("multipleOf"))
        step: int | float = 1
        if raw_step is not None and raw_step > 0:
            # An integer is a multiple of p/q (in lowest terms) exactly when p divides it.
            step = raw_step if isinstance(raw_step, int) else Fraction(repr(raw_step)).numerator
            if isinstance(raw_step, float) and raw_step < TINY_STEP:
                # value / step overflows, so jsonschema compares exact binary fractions:
                # 1e-320 is 253 / 2**1071, and its integer multiples are those of 253.
                step = Fraction(raw_step).numerator
        p_lo, p_hi, _ = number_preference(hint)
        window = pick_range(low, high, (p_lo, p_hi))
        value = self._search_multiples(step, raw_step, (low, False, high, False), window, path)
        return int(value)

    def _generate_number(
        self, schema: Mapping[str, Any], path: str, hint: str | None
    ) -> int | float:
        lo, lo_x, hi, hi_x = numeric_bounds(schema)
        if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_x or hi_x))):
            raise UnsatisfiableSchemaError(
                f"at {path!r}: no number satisfies {describe_bounds(lo, lo_x, hi, hi_x)}"
            )
        step = as_number(schema.get("multipleOf"))
        p_lo, p_hi, digits = number_preference(hint)
        a, b = pick_range(lo, hi, (p_lo, p_hi))
        if step is not None and step > 0:
            return self._search_multiples(step, step, (lo, lo_x, hi, hi_x), (a, b), path)
        if a == b and not within(a, lo, lo_x, hi, hi_x):
            # The plausible window shrank onto an exclusive bound: widen it inside the bounds.
            span = p_hi - p_lo
            a, b = (
                (lo, hi)
                if lo is not None and hi is not None
                else ((lo, lo + span) if lo is not None else (b - span, b))
            )
        candidates: list[float] = []
        for _ in range(3):
            drawn = round(self.rng.uniform(a, b), digits)
            candidates.append(int(drawn) if digits == 0 else drawn)
        candidates += [self.rng.uniform(a, b) for _ in range(3)]
        candidates += [a / 2 + b / 2, a, b]
        if lo is not None:
            candidates.append(math.nextafter(lo, math.inf))
        if hi is not None:
            candidates.append(math.nextafter(hi, -math.inf))
        for value in candidates:
            if math.isfinite(value) and within(value, lo, lo_x, hi, hi_x):
                return value
        raise UnsatisfiableSchemaError(
            f"at {path!r}: no number found for {describe_bounds(lo, lo_x, hi, hi_x)}"
        )

    def _search_multiples(
        self,
        step: int | float,
        required_step: Any,
        bounds: tuple[float | None, bool, float | None, bool],
        window: tuple[float, float],
        path: str,
    ) -> int | float:
        """A value k*step inside `bounds`, preferably inside `window`, that jsonschema accepts
        as a multiple of `required_step` (None: any value on the grid)."""
        lo, lo_x, hi, hi_x = bounds
        k_lo, k_hi = _multiplier_range(step, bounds, window)
        ks = [self.rng.randint(k_lo, k_hi) for _ in range(8)]
        small = k_hi - k_lo <= 16
        if small:
            ks += list(range(k_lo, k_hi + 1))
        places = decimal_places(step) if isinstance(step, float) else 0
        candidates = chain.from_iterable(_grid_values(k, step, places) for k in ks)
        if isinstance(step, float):
            # A step of a few significant bits (1e-320 is 2024 * 2**-1074) has multiples
            # that no rounded k * step reaches.
            candidates = chain(candidates, binary_multiples(step, window))
        for value in candidates:
            if within(value, lo, lo_x, hi, hi_x) and (
                required_step is None or is_multiple(value, required_step)
            ):
                return value
        message = (
            f"at {path!r}: no multiple of {required_step} (keyword 'multipleOf') satisfies"
            f" {describe_bounds(lo, lo_x, hi, hi_x)}"
        )
        if small:
            raise UnsatisfiableSchemaError(message)
        raise Retry(message)


def _multiplier_range(
    step: int | float,
    bounds: tuple[float | None, bool, float | None, bool],
    window: tuple[float, float],
) -> tuple[int, int]:
    """The k of the multiples k*step to draw from: those in the plausible `window`, else
    those within the schema's own bounds; one more at each end."""
    lo, _, hi, _ = bounds
    k_lo, k_hi = ceil_div(window[0], step), floor_div(window[1], step)
    if k_lo > k_hi:  # the plausible window holds no multiple: use the schema's own bounds
        b_lo = None if lo is None else ceil_div(lo, step)
        b_hi = None if hi is None else floor_div(hi, step)
        if b_lo is None:
            b_lo = 0 if b_hi is None else b_hi - 3
        if b_hi is None:
            b_hi = b_lo + 3
        k_lo, k_hi = b_lo, b_hi
    # Float division can be off by one ulp at the edges: look one step beyond them.
    return k_lo - 1, k_hi + 1


def _grid_values(k: int, step: int | float, places: int) -> tuple[int | float, ...]:
    """k * step, and for a float first its value rounded to `places`, the step's decimals
    (0.1 * 3 is 0.30000000000000004; 0.3 reads better, if jsonschema accepts it)."""
    exact = multiply(k, step)
    if isinstance(exact, float):
        return (round(exact, places), exact)
    return (exact,)
