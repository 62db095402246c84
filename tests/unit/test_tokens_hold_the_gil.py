"""Short Latin-1 texts are tokenized without letting go of the GIL, exactly as tiktoken does.

tiktoken's ``encode_ordinary`` (and the ``regex`` module's matching) release the GIL around
their work. On a short prompt that work is 3 µs, but handing the GIL back and taking it
again, with another thread waiting for it (the journal's writer, the server's own threads),
cost the request 10 to 40 µs in the varied-traffic benchmark. ``engine.tokens`` splits short
Latin-1 texts with the standard ``re`` (which keeps the GIL) and encodes each piece with the
tokenizer's single-piece call (which keeps it too). These tests hold the tokens to
tiktoken's own, and check that no other thread runs while a prompt is counted.
"""

from __future__ import annotations

import string
import sys
import threading
import time

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


def test_texts_past_the_fast_paths_limits_still_encode_exactly() -> None:
    for text in (
        "word " * 2000,  # longer than the split done in Python
        "Résumé, naïve café: ça va? " * 3,  # Latin-1
        "注文42の状況は? 🎉 Ωμέγα",  # neither
        "lone \ud800 surrogate",
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
        after = spins[0]
    finally:
        sys.setswitchinterval(interval)
        stop.set()
        spinner.join()
    assert after == before
