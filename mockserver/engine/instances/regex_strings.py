"""Strings drawn from a regex (rstr), and regex matching of bounded cost."""

from __future__ import annotations

import random
import string
from itertools import chain
from typing import Any, Final

import regex  # type: ignore[import-untyped]  # no type information is installed
from rstr.xeger import Xeger

from mockserver.engine.generation_limits import MAX_STRING_LENGTH, GenerationBudget, search
from mockserver.engine.instances.errors import Retry, UnsatisfiableSchemaError

# Characters used for regex `.` and negated classes: rstr would use all of string.printable,
# including \x0b and \x0c, which look broken in a mock reply.
REGEX_ALPHABET: Final = string.ascii_letters + string.digits + "-_.,:;!?@#$%&*+=/ "
# How far beyond its minimum a regex repeat (`*`, `+`, `{2,}`) may go: keeps strings short.
REPEAT_SPAN: Final = 6


def search_pattern(pattern: str, text: str) -> bool:
    """``re.search`` with a bounded cost (see generation_limits.search)."""
    try:
        return search(pattern, text)
    except regex.error as exc:
        raise UnsatisfiableSchemaError(f"pattern {pattern!r} is not a valid regex: {exc}") from exc


class ReadableXeger(Xeger):
    """rstr's regex-to-string generator, made reproducible and tidier.

    rstr is used instead of a hand-written regex walker because it already covers Python's whole
    regex parse tree (classes, groups, alternation, back-references) and takes our own
    ``random.Random``.  Two spots in rstr iterate over a ``set`` (the ``\\W`` alphabet and negated
    classes such as ``[^,]``), whose order changes with ``PYTHONHASHSEED``; they are replaced
    here by ordered alphabets so the same seed gives the same string in every process.
    """

    def __init__(self, rng: random.Random, budget: GenerationBudget) -> None:
        super().__init__(rng)
        self.budget = budget
        # Also keeps \W and \s to readable characters (no \r, \x0b, \x0c).
        self._alphabets["nonword"] = " " + string.punctuation.replace("_", "")
        self._alphabets["whitespace"] = " "
        self.repeat_floor = 0
        # Characters emitted by repeats since the last reset: nested repeats multiply, and
        # the cap stops them long before the product (`((a*)*)*` with a floor) is reached.
        self.emitted = 0
        self.cap = MAX_STRING_LENGTH
        cases = dict(self._cases)
        cases["any"] = lambda _value: self._random.choice(REGEX_ALPHABET)
        cases["not_literal"] = lambda value: self._random.choice(
            [c for c in REGEX_ALPHABET if c != chr(value)]
        )
        # Python 3.11's parser knows possessive repeats, atomic groups and conditionals; rstr
        # does not. A string drawn as for a greedy repeat or a plain group may not match the
        # possessive form (`a++a` matches nothing); the final match decides.
        cases["possessive_repeat"] = lambda value: self._handle_repeat(*value)
        cases["atomic_group"] = lambda value: "".join(self._handle_state(i) for i in value)
        cases["groupref_exists"] = self._handle_conditional
        self._cases = cases

    def _handle_conditional(self, value: Any) -> str:
        """``(?(1)yes|no)``: `yes` when group 1 took part in the string drawn so far."""
        group, yes, no = value
        branch = yes if group in self._cache else no
        return "".join(self._handle_state(i) for i in branch or ())

    def _handle_in(self, value: Any) -> Any:
        candidates = list(chain.from_iterable(self._handle_state(i) for i in value))
        if candidates and candidates[0] is False:
            excluded = set(candidates[1:])
            candidates = [c for c in REGEX_ALPHABET if c not in excluded] or [
                c for c in string.printable if c not in excluded
            ]
        return self._random.choice(candidates)

    def _handle_repeat(self, start_range: int, end_range: int, value: str) -> str:
        low = min(end_range, max(start_range, self.repeat_floor))
        times = self._random.randint(low, min(end_range, low + REPEAT_SPAN))
        parts = []
        for _ in range(times):
            part = "".join(self._handle_state(i) for i in value)
            self.emitted += len(part)
            if self.emitted > self.cap:
                raise Retry("regex repeats ran past the length wanted")
            self.budget.check_clock()
            parts.append(part)
        return "".join(parts)
