"""Short texts are tokenized without letting go of the GIL, exactly as tiktoken does.

tiktoken's ``encode_ordinary`` releases the GIL around its work. On a short prompt that work
is 3 µs, but handing the GIL back and taking it again, with another thread waiting for it
(the journal's writer, the server's own threads), cost the request 10 to 40 µs in the
varied-traffic benchmark. ``engine.tokens`` splits short Latin-1 texts with the standard
``re``, other short texts with the ``regex`` module told to keep the GIL, and encodes each
piece with the tokenizer's single-piece call (which keeps it too). These tests hold the
tokens to tiktoken's own, character by character, and check that no other thread runs while
a prompt is counted.
"""

from __future__ import annotations

import string
import sys
import threading
import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.engine import tokens
from mockserver.engine.tokens import encode, encoding


def tiktoken_tokens(text: str) -> list[int]:
    return list(encoding().encode_ordinary(text))


LATIN1 = "".join(map(chr, range(256)))
LATIN1_PIECES = st.lists(
    st.one_of(
        st.text(alphabet=string.printable + "\x00\x1c\x1d\x1e\x1f\x7f", max_size=12),
        st.text(alphabet=LATIN1, max_size=12),
        st.text(alphabet=" \t\n\r\x85\xa0\xb2\xb9\xbd\xaa\xb5\xd7\xf7éÀß1'sS", max_size=12),
        st.sampled_from(
            [
                "'s",
                "'S",
                "'ll",
                "'VE",
                "'re",
                "'t",
                "'d",
                "'m",
                "''",
                " ",
                "  ",
                "\n",
                "\r\n",
                " \n",
                "\t",
                "\x0b",
                "\x0c",
                "12345678",
                " 42",
                "...",
                " ?!",
                "a",
                " Word",
                "__init__",
                "x=1;",
                "Résumé",
                " naïve",
                "\xa0€",
                "n°42",
                "½",
            ]
        ),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(LATIN1_PIECES)
def test_latin1_texts_encode_as_tiktoken_encodes_them(text: str) -> None:
    assert list(tokens.encode_ordinary(text)) == tiktoken_tokens(text)


# Beyond Latin-1: the punctuation of English prose, other scripts, emoji, and characters
# that the `regex` module knows and this Python's Unicode does not.
WIDER = "’‘“”—–…•€™αβΩжЯ東京の首都は한국어ไทยعربيहिन्दी😀🎉👍🏽\u200b\u2028\u3000\u0cf3\U00011f04"
WIDER_PIECES = st.lists(
    st.one_of(
        st.text(max_size=8),  # any code point hypothesis draws
        st.text(alphabet=WIDER + " 's1\n", max_size=12),
        st.sampled_from([" “quoted”", "’s", "’S", " — ", "…", "2024年", "١٢٣", " 😀😀", "ſ'ſ"]),
    ),
    max_size=20,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(WIDER_PIECES)
def test_texts_beyond_latin1_encode_as_tiktoken_encodes_them(text: str) -> None:
    assert list(tokens.encode_ordinary(text)) == tiktoken_tokens(text)


def every_code_point_in_contexts(start: int, stop: int) -> str:
    return "".join(
        f"x{c}y {c}7{c}'s{c}\n{c} {c}{c}  {c}"
        for c in map(chr, range(start, stop))
        if not 0xD800 <= ord(c) <= 0xDFFF
    )


@pytest.mark.skipif(
    unicodedata.unidata_version not in tokens._CHECKED_UNICODE,
    reason="texts beyond Latin-1 go to tiktoken whole on this Unicode version",
)
def test_every_code_point_splits_as_tiktoken_splits_it() -> None:
    """Each of the 1,112,064 code points, in contexts that put it next to letters, digits,
    a contraction, spaces and line breaks, gives tiktoken's tokens (some 10 s): the check
    behind the Unicode versions the `regex` path is taken on."""
    step = 150  # texts within the split-here limit
    for start in range(0, 0x110000, step):
        text = every_code_point_in_contexts(start, min(start + step, 0x110000))
        if list(tokens.encode_ordinary(text)) != tiktoken_tokens(text):
            wrong = [
                hex(code)
                for code in range(start, min(start + step, 0x110000))
                if (one := every_code_point_in_contexts(code, code + 1))
                and list(tokens.encode_ordinary(one)) != tiktoken_tokens(one)
            ]
            raise AssertionError(f"split differently from tiktoken: {wrong}")


def test_texts_past_the_fast_paths_limits_still_encode_exactly() -> None:
    for text in (
        "word " * 2000,  # longer than the split done in Python
        "Résumé, naïve café: ça va? " * 3,  # Latin-1
        "注文42の状況は? 🎉 Ωμέγα",  # beyond Latin-1
        "lone \ud800 surrogate",
        "assigned after Unicode 14: \u0cf3 \U00011f04",
        "a" * 5000,
        "x\n" * 10,
        "trailing spaces   ",
        "trailing newline \n",
        "ends in spaces then a newline   \n",
    ):
        assert list(tokens.encode_ordinary(text)) == tiktoken_tokens(text), text[:40]
        assert list(encode(text)) == tiktoken_tokens(text), text[:40]


def test_counting_a_short_prompt_lets_no_other_thread_run() -> None:
    """With the switch interval long, another thread waiting for the GIL runs only when
    the counting lets go of it: a released GIL is seen as the spinner's count moving."""
    spins = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            spins[0] += 1

    tokens.count_tokens("Warm up.")  # the vocabulary's first load reads a file: it lets go
    interval = sys.getswitchinterval()
    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        time.sleep(0.01)  # the spinner is running; this thread takes the GIL back
        sys.setswitchinterval(0.2)
        time.sleep(0.001)  # a sleep lets go: the spinner then waits for the GIL
        before = spins[0]
        for number in range(20):
            tokens.count_tokens(f"What is the status of order {number}{time.time_ns()} now?")
            tokens.count_tokens(f"Où en est la commande n°{number}{time.time_ns()}, merci?")
            tokens.count_tokens(f"What’s “order {number}{time.time_ns()}” — shipped?")
            tokens.count_tokens(f"注文{number}{time.time_ns()}の状況は? 🎉 Ωμέγα")
        after = spins[0]
    finally:
        sys.setswitchinterval(interval)
        stop.set()
        spinner.join()
    assert after == before
