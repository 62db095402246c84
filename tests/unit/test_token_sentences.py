"""A text's tokens and stream pieces, put together from its remembered sentences, are exact.

``engine.tokens`` cuts a text before each space that follows a punctuation mark and comes
before a letter, and encodes the parts on their own (so the sentences replies share are
remembered across requests that differ). These tests hold that to the tokenizer run on the
whole text: for the mock's own replies, and for any text with sentence-like punctuation.
"""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.engine.text import compose_reply
from mockserver.engine.tokens import _sentences, encode, encoding, pieces_of, split_pieces

QUESTIONS = (
    "What is the status of order {n} in our shop?",
    "Explain caching strategies for web applications. Then compare them, please!",
    "Résumé de la commande n°{n}: où en est-elle? Merci.",
    "hello there",
    "The tool said: 42. Is that right?! Really.",
)


def whole(text: str) -> tuple[list[int], tuple[object, ...]]:
    tokens = encoding().encode_ordinary(text)
    return tokens, tuple(split_pieces(text, tokens))


def test_the_mocks_replies_encode_as_their_whole_text() -> None:
    for seed in range(400):
        question = QUESTIONS[seed % len(QUESTIONS)].format(n=seed)
        after_tool = "Temperature: 21 C. Sunny. Wind 3 km/h." if seed % 7 == 0 else None
        text = compose_reply(random.Random(seed), question, after_tool)
        tokens, pieces = whole(text)
        assert list(encode(text)) == tokens, text
        assert pieces_of(text) == pieces, text


SENTENCE_TEXT = st.lists(
    st.one_of(
        st.sampled_from([". ", "! ", "? ", "?! ", ".. ", " ", ".", "'s ", "\n", "  ", "… "]),
        st.text(min_size=1, max_size=12),
        st.sampled_from(["Word", "a", "I", "the", "Élan", "42", "x"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(SENTENCE_TEXT)
def test_any_text_encodes_as_its_whole_text(text: str) -> None:
    tokens, pieces = whole(text)
    assert list(encode(text)) == tokens
    assert pieces_of(text) == pieces


@settings(max_examples=500, deadline=None)
@given(SENTENCE_TEXT)
def test_a_text_is_cut_before_each_space_between_a_mark_and_a_letter(text: str) -> None:
    """The cut's definition, as a look-behind states it; the code finds the marks instead."""
    cuts = [cut.start() for cut in re.finditer(r"(?<=[.!?]) (?=[A-Za-z])", text)]
    expected = [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert _sentences(text) == expected
