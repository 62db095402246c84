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
    assert WINDOW < size.tokens <= len(encoding().encode_ordinary(words))
    assert sum(tokenized) <= tokens._SLICE_CHARS


def test_a_later_message_is_counted_only_up_to_what_the_window_has_left(
    tokenized: list[int],
) -> None:
    first = "first " * 6_000  # about 6,000 tokens: inside the window, counted exactly
    second = "second " * 100_000  # past what is left after the first
    size = context.prompt_size(
        [{"role": "user", "content": first}, {"role": "user", "content": second}],
        [],
        WINDOW,
        body_bytes=len(first) + len(second),
    )
    assert not size.exact and size.tokens > WINDOW
    assert sum(tokenized) <= len(first) + tokens._SLICE_CHARS


@pytest.mark.parametrize("limit", [0, 100, 8192, 10**9])
def test_counting_up_to_a_limit_is_exact_below_it_and_a_lower_bound_past_it(limit: int) -> None:
    text = "Several words, then a number 12345. " * 5_000  # 180 K characters: three slices
    assert len(text) > 2 * tokens._SLICE_CHARS
    exact = len(encoding().encode_ordinary(text))
    counted = tokens.count_tokens_up_to(text, limit)
    if exact <= limit:
        assert counted == exact
    else:
        assert limit < counted <= exact
    short = text[:1000]
    assert tokens.count_tokens_up_to(short, limit) == len(encoding().encode_ordinary(short))


def test_a_long_prompt_inside_the_window_is_counted_exactly() -> None:
    # 100 K characters, past one slice, yet about 1,600 tokens (runs of spaces merge).
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
