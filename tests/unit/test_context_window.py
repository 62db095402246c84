"""A prompt past the context window is refused after counting no further than needed.

The refusal says "at least N tokens" once counting stops; the count below the window is
exact. Without the stop, a 1 MB prompt of words was tokenized whole (16 slices of 64 K
characters, some 35 ms) to learn what its first slice already told.
"""

from __future__ import annotations

import pytest

from mockserver.engine import context, tokens
from mockserver.engine.tokens import encoding

WINDOW = 8192


@pytest.fixture
def tokenized(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every text handed to tiktoken's encoder, as it is handed."""
    lengths: list[int] = []
    real = encoding()

    class Recording:
        _core_bpe = real._core_bpe
        decode_single_token_bytes = real.decode_single_token_bytes

        def encode_ordinary(self, text: str) -> list[int]:
            lengths.append(len(text))
            return list(real.encode_ordinary(text))

    monkeypatch.setattr(tokens, "encoding", Recording)
    return lengths


def test_a_long_prompt_past_the_window_is_counted_one_slice_at_most(tokenized: list[int]) -> None:
    words = "word " * 200_000  # 1 MB, about 200,000 tokens: under 128 bytes a token
    size = context.prompt_size(
        [{"role": "user", "content": words}], [], WINDOW, body_bytes=len(words) + 60
    )
    assert not size.exact
    framing = tokens.TOKENS_PER_MESSAGE + 1 + tokens.REPLY_PRIMING_TOKENS  # 1: "user"
    assert WINDOW < size.tokens <= len(encoding().encode_ordinary(words)) + framing
    assert sum(tokenized) <= tokens._SLICE_CHARS


def test_a_later_message_is_counted_only_up_to_what_the_window_has_left(
    tokenized: list[int],
) -> None:
    first = "first " * 6_000  # 6,000 tokens: inside the window, counted exactly
    # About 2,048 tokens a slice (runs of spaces merge): the 2,185 or so the window has
    # left are past after two slices, the whole window's 8,192 only after five.
    second = ("a" + " " * 63) * (6 * tokens._SLICE_CHARS // 64)
    size = context.prompt_size(
        [{"role": "user", "content": first}, {"role": "user", "content": second}],
        [],
        WINDOW,
        body_bytes=len(first) + len(second),
    )
    assert not size.exact and size.tokens > WINDOW
    assert sum(tokenized) <= len(first) + 2 * tokens._SLICE_CHARS


TEXT = "Several words, then a number 12345. " * 5_000  # 180 K characters: three slices
# The count after each slice: a limit equal to one must go on to the next slice.
AT_SLICES = [
    sum(len(encoding().encode_ordinary(part)) for part in list(tokens._slices(TEXT))[:end])
    for end in (1, 2, 3)
]


@pytest.mark.parametrize(
    "limit", [-5, 0, 100, 8192, *AT_SLICES, AT_SLICES[0] - 1, AT_SLICES[1] + 1, 10**9]
)
def test_counting_up_to_a_limit_is_exact_below_it_and_a_lower_bound_past_it(
    tokenized: list[int], limit: int
) -> None:
    assert len(TEXT) > 2 * tokens._SLICE_CHARS
    exact = len(encoding().encode_ordinary(TEXT))
    tokenized.clear()
    counted = tokens.count_tokens_up_to(TEXT, limit)
    if exact <= limit:
        assert counted == exact
    else:
        assert limit < counted <= exact
        # Counting stopped at the first slice whose total went past the limit.
        slices = next(end for end, total in enumerate(AT_SLICES, 1) if total > limit)
        assert len(tokenized) == slices
    short = TEXT[:1000]
    assert tokens.count_tokens_up_to(short, limit) == len(encoding().encode_ordinary(short))


def test_a_long_prompt_inside_the_window_is_counted_exactly() -> None:
    # 100 K characters, past one slice, yet 3,200 tokens (runs of spaces merge).
    text = ("a" + " " * 63) * 1_600
    exact = len(encoding().encode_ordinary(text))
    size = context.prompt_size([{"role": "user", "content": text}], [], WINDOW, len(text) + 60)
    assert size.exact
    role = len(encoding().encode_ordinary("user"))
    assert size.tokens == exact + role + tokens.TOKENS_PER_MESSAGE + tokens.REPLY_PRIMING_TOKENS


def test_a_long_reply_cut_at_its_limit_is_tokenized_once(tokenized: list[int]) -> None:
    # A stub's scripted reply past the slices' length, cut at max_tokens.
    text = "A scripted line of the reply. " * 5_000
    kept, count, cut = tokens.limit_text(text, 10)
    assert cut and count <= 10 and text.startswith(kept)
    assert sum(tokenized) == len(text)
