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

import asyncio
import string
import sys
import threading
import time
import unicodedata
from collections.abc import Iterable

import pytest
import regex  # type: ignore[import-untyped]  # no type information is installed
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.engine import tokens
from mockserver.engine.tokens import encode, encoding
from mockserver.pausing import run_pausable


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


def in_contexts(codes: Iterable[int]) -> str:
    return "".join(f"x{c}y {c}7{c}'s{c}\n{c} {c}{c}  {c}" for c in map(chr, codes))


def assigned(code: int) -> bool:
    return unicodedata.category(chr(code)) not in ("Cn", "Cs")


@pytest.mark.skipif(
    unicodedata.unidata_version not in tokens._CHECKED_UNICODE,
    reason="texts beyond Latin-1 go to tiktoken whole on this Unicode version",
)
def test_every_assigned_code_point_splits_as_tiktoken_splits_it() -> None:
    """Each code point this Python's Unicode assigns, in contexts that put it next to
    letters, digits, a contraction, spaces and line breaks, is split on this module's own
    path (never handed to tiktoken) and gives tiktoken's tokens (some 10 s): the check
    behind the Unicode versions that path is taken on. The others are handed to tiktoken."""
    splitter = tokens._unicode_splitter()
    assert splitter is not None
    step = 150  # texts within the split-here limit
    for start in range(0, 0x110000, step):
        codes = [code for code in range(start, min(start + step, 0x110000)) if assigned(code)]
        if not codes:
            continue
        text = in_contexts(codes)
        assert text.isascii() or tokens._is_latin1(text) or splitter.splits(text), hex(start)
        if list(tokens.encode_ordinary(text)) != tiktoken_tokens(text):
            wrong = [
                hex(code)
                for code in codes
                if list(tokens.encode_ordinary(in_contexts([code])))
                != tiktoken_tokens(in_contexts([code]))
            ]
            raise AssertionError(f"split differently from tiktoken: {wrong}")


def test_unassigned_code_points_and_lone_surrogates_go_to_tiktoken() -> None:
    splitter = tokens._unicode_splitter()
    if splitter is None:
        return  # every text beyond Latin-1 does, on this Unicode version
    # The BMP's table holds exactly its unassigned code points and the surrogates.
    in_table = [code for code in range(0x10000) if splitter.unassigned_in_bmp.match(chr(code))]
    assert in_table == [code for code in range(0x10000) if not assigned(code)]
    # Past the BMP each is looked up: one in 97 of planes 1 to 16 (some 11,000 code points).
    for code in range(0x10000, 0x110000, 97):
        assert splitter.splits(f"a{chr(code)}b") == assigned(code), hex(code)
    assert not splitter.splits("lone \ud800 surrogate")


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


def test_a_long_text_is_tokenized_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """From _OFF_LOOP_CHARS, inside run_pausable (a request under the RSGI bridge), the
    tokenizer runs on another thread; shorter texts, and any text outside run_pausable,
    here. The tokens are the same."""
    threads: list[int] = []
    real = encoding()

    class Recording:
        def encode_ordinary(self, text: str) -> list[int]:
            threads.append(threading.get_ident())
            return list(real.encode_ordinary(text))

    monkeypatch.setattr(tokens, "encoding", Recording)
    long_text = "tokens " * (tokens._OFF_LOOP_CHARS // 7 + 1)

    def count_on_the_loop(text: str) -> tuple[int, int]:
        def count() -> tuple[int, int]:
            return tokens.count_tokens(text), threading.get_ident()

        return asyncio.run(run_pausable(count))

    counted, loop_thread = count_on_the_loop(long_text + "a")
    assert counted == len(real.encode_ordinary(long_text + "a"))
    assert threads and loop_thread not in threads
    threads.clear()
    sliced = long_text * 5  # past the slices' length: encoded slice by slice, in one call
    assert len(sliced) > tokens._SLICE_CHARS
    counted, loop_thread = count_on_the_loop(sliced)
    assert counted == len(real.encode_ordinary(sliced))
    assert len(threads) >= 2 and loop_thread not in threads
    threads.clear()
    assert tokens.count_tokens(long_text + "b") == len(real.encode_ordinary(long_text + "b"))
    assert threads == [threading.get_ident()]


def test_a_tokenizer_that_splits_the_newest_letters_otherwise_gets_every_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An older tiktoken (or regex) than the one the check above ran with may not know the
    newest letters of this Python's Unicode: then the splitter is not used at all. The older
    one is played by cl100k's pattern with those letters taken out of \\p{L}."""
    real = encoding()
    older = regex.compile(
        tokens.CL100K_PATTERN.replace(r"\p{L}", rf"[\p{{L}}--[{tokens._NEWEST_LETTERS}]]"),
        flags=regex.V1,
    )

    class Older:
        _core_bpe = real._core_bpe

        def encode_ordinary(self, text: str) -> list[int]:
            return [
                token
                for piece in older.findall(text)
                for token in real._core_bpe.encode_single_piece(piece.encode("utf-8"))
            ]

    if tokens._unicode_splitter() is None:
        pytest.skip("texts beyond Latin-1 go to tiktoken whole on this Unicode version")
    assert Older().encode_ordinary("a'sb 12") == real.encode_ordinary("a'sb 12")
    monkeypatch.setattr(tokens, "encoding", Older)
    tokens._unicode_splitter.cache_clear()
    try:
        assert tokens._unicode_splitter() is None
    finally:
        monkeypatch.undo()
        tokens._unicode_splitter.cache_clear()
    assert tokens._unicode_splitter() is not None
