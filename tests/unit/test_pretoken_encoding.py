"""Short ASCII texts are split into cl100k pre-tokens in Python and each pre-token's BPE
remembered (``engine.tokens._encode_by_pretokens``): the tokens must be tiktoken's for the
whole text, and any other text is tiktoken's own (the regex engines' Unicode tables differ
on rare characters: U+3D000 followed by U+0080 and U+00AA split apart differently)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.engine.tokens import _encode_by_pretokens, encode, encoding

EDGES = (
    "What is the status of order 123456789 in our shop?",
    "I'LL say it's done, we've SEEN they're 'd",
    "tabs\tand  double  spaces   then\n\n\nnewlines \r\n end   ",
    "   leading and trailing   ",
    "Résumé n°42: où en est-elle? Ünïcödé, 日本語のテキスト, emoji 🎉🎉 and ZWJ 👩‍👩‍👧",
    "<|endoftext|> is plain text here <|fim_prefix|>",
    "x" * 200 + " " + "ab1" * 50,
    "1234567 12 1.5e10 -3 +4 0x1F",
    "!!!??? ... --- ***\n",
    "",
)


def test_edge_texts_encode_as_tiktoken_does() -> None:
    for text in EDGES:
        expected = encoding().encode_ordinary(text)
        assert _encode_by_pretokens(text) == expected, text
        assert list(encode(text)) == expected, text


def test_a_text_the_engines_split_differently_is_tiktokens() -> None:
    text = "\U0003d000\x80\xaa"
    assert _encode_by_pretokens(text) == encoding().encode_ordinary(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_any_short_ascii_text_encodes_as_tiktoken_does(text: str) -> None:
    assert _encode_by_pretokens(text) == encoding().encode_ordinary(text)
    assert list(encode(text)) == encoding().encode_ordinary(text)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_any_short_text_encodes_as_tiktoken_does(text: str) -> None:
    assert _encode_by_pretokens(text) == encoding().encode_ordinary(text)
    assert list(encode(text)) == encoding().encode_ordinary(text)


def test_lone_surrogates_encode_as_tiktoken_does() -> None:
    # JSON lets a client send "\ud800"; tiktoken replaces it, it must not be a 500.
    for text in ("hi \ud800 there", "\udfff", "a\ud83d b"):
        assert list(encode(text)) == encoding().encode_ordinary(text), repr(text)
