"""Strings: from a pattern, a format, or the property's name, within the length bounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.generation_limits import check_string_length
from mockserver.engine.instances.core import LOCAL_ATTEMPTS, GeneratorCore
from mockserver.engine.instances.errors import CannotGenerate, Retry, UnsatisfiableSchemaError
from mockserver.engine.instances.format_lengths import format_of_length
from mockserver.engine.instances.formats import FORMATS
from mockserver.engine.instances.hints import hinted_string
from mockserver.engine.instances.regex_strings import search_pattern
from mockserver.engine.instances.vocabulary import WORDS


class StringMixin(GeneratorCore):
    # -- strings ------------------------------------------------------------------------------

    def _generate_string(self, schema: Mapping[str, Any], path: str, hint: str | None) -> str:
        low = schema.get("minLength", 0)
        high = schema.get("maxLength")
        low = low if isinstance(low, int) else 0
        high = high if isinstance(high, int) else None
        if high is not None and low > high:
            raise UnsatisfiableSchemaError(
                f"at {path!r}: minLength {low} is greater than maxLength {high}"
            )
        check_string_length(low, path)
        pattern = schema.get("pattern")
        fmt = schema.get("format")
        maker = FORMATS.get(fmt) if isinstance(fmt, str) else None
        for attempt in range(LOCAL_ATTEMPTS * 2):
            if isinstance(pattern, str):
                # Later attempts push regex repeats towards minLength.
                boost = max(0, attempt - LOCAL_ATTEMPTS + 1)
                floor = low * boost // LOCAL_ATTEMPTS
                try:
                    text = self.xeger(pattern, floor, path, max(low, high or 0))
                except Retry:  # the repeats ran past the length limit: draw again
                    continue
            elif maker is not None:
                text = maker(self.rng)
            else:
                text = self._plain_string(hint, low, high)
            if (
                len(text) >= low
                and (high is None or len(text) <= high)
                and (not isinstance(pattern, str) or search_pattern(pattern, text))
            ):
                self.budget.spend_chars(len(text))
                return text
        if maker is not None and not isinstance(pattern, str):
            return self._format_of_length(str(fmt), low, high, path)
        raise Retry(
            f"at {path!r}: no string found for pattern/format/minLength/maxLength constraints"
        )

    def _format_of_length(self, fmt: str, low: int, high: int | None, path: str) -> str:
        """A value of `fmt` built at a length the natural values miss (an email of at least
        50 characters); the format's own shape decides whether there is one."""
        text = format_of_length(self.rng, fmt, low, high)
        if text is None:
            bounds = f"{low} to {high}" if high is not None else f"at least {low}"
            raise CannotGenerate(
                f"at {path!r}: the mock generates no {fmt!r} string of {bounds} characters"
                " (keywords 'format' / 'minLength' / 'maxLength')"
            )
        self.budget.spend_chars(len(text))
        return text

    def _plain_string(self, hint: str | None, low: int, high: int | None) -> str:
        rng = self.rng
        text = hinted_string(rng, hint) if hint else None
        if text is None:
            text = rng.choice(WORDS)
        if len(text) < low or (high is not None and len(text) > high):
            fitting = [w for w in WORDS if low <= len(w) and (high is None or len(w) <= high)]
            if fitting:
                return rng.choice(fitting)
        while len(text) < low:
            text += " " + rng.choice(WORDS)
        if high is not None and len(text) > high:
            text = text[:high]
            while text.endswith(" ") and len(text) > low:
                text = text[:-1]
        return text
