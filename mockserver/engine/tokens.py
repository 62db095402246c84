"""Token counting and token-aligned splitting with gpt-4's real tokenizer (cl100k_base).

The BPE engine is ``tiktoken``'s; its vocabulary comes from the cl100k_base rank file that
``bpe-openai`` ships inside its wheel, because ``tiktoken.get_encoding`` downloads the file
on first use, which fails offline. The file is read by path, without importing
``bpe_openai``: its import loads three whole vocabularies into Python objects (about 70 MB
per worker, and a few hundred milliseconds at start) for a file we only need to read once.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import regex  # type: ignore[import-untyped]  # no type information is installed
import tiktoken

from mockserver.pausing import off_loop

ENCODING_NAME = "cl100k_base"

# OpenAI's published way of counting chat prompts for gpt-4 ("How to count tokens with
# tiktoken", OpenAI cookbook): every message costs 3 tokens of framing, a `name` one more,
# and every reply is primed with 3 tokens.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
# The same cookbook's constants for function definitions (gpt-4 / gpt-4o family).
_FUNC_INIT, _PROP_INIT, _PROP_KEY, _ENUM_INIT, _ENUM_ITEM, _FUNC_END = 7, 3, 3, -3, 3, 12


# cl100k_base as OpenAI defines it (tiktoken_ext/openai_public.py).
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
CL100K_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}
RANKS_PACKAGE = "bpe_openai"
RANKS_FILE = ("data", "cl100k_base.tiktoken.gz")


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding, loaded once per process."""
    loaded = tiktoken.Encoding(
        name=ENCODING_NAME,
        pat_str=CL100K_PATTERN,
        mergeable_ranks=_read_ranks(ranks_path()),
        special_tokens=CL100K_SPECIAL_TOKENS,
    )
    # The Encoding keeps the Python dict of the 100,000 ranks only to be pickled
    # (Encoding.__getstate__); its Rust core has its own copy. The mock never pickles it,
    # and the dict costs every worker about 10 MB.
    loaded._mergeable_ranks = {}
    return loaded


def load_tokenizer() -> None:
    """Load the encoding and make the splitter of texts beyond Latin-1, so that no request
    pays for either."""
    encoding()
    _unicode_splitter()


def ranks_path() -> Path:
    """Where the installed ``bpe-openai`` keeps the cl100k_base ranks (found, not imported)."""
    spec = importlib.util.find_spec(RANKS_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the {RANKS_PACKAGE} package (cl100k_base ranks) is not installed")
    return Path(spec.origin).parent.joinpath(*RANKS_FILE)


def _read_ranks(path: Path) -> dict[bytes, int]:
    # The .tiktoken format: one "<base64 token> <rank>" per line.
    ranks: dict[bytes, int] = {}
    with gzip.open(path, "rt", encoding="ascii") as lines:
        for line in lines:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    return ranks


def encode(text: str) -> Sequence[int]:
    """The text's cl100k_base tokens.

    Special-token text ("<|endoftext|>") in user input is counted as plain text, as the
    API does for user content, instead of raising. Load tests send the same requests over
    and over, so the same replies are encoded over and over: short texts are remembered.
    """
    if len(text) <= _CACHED_TEXT:
        return _encode_cached(text)
    if len(text) <= _SLICE_CHARS:
        return _encode_long_cached(text)
    # Off the loop as one call: each call's answer waits its turn behind the loop's
    # ready requests (a 1 MB prompt in sixteen calls took 130 to 150 ms beside small
    # requests, in one 85 to 95).
    return off_loop(_encode_sliced, text)


def _encode_sliced(text: str, limit: float = math.inf) -> list[int]:
    """The text's tokens, slice by slice; only its first slices' once past ``limit`` tokens
    (slices are cut where the pattern cuts, so their tokens are the text's, end to end)."""
    sliced: list[int] = []
    for part in _slices(text):
        sliced.extend(encoding().encode_ordinary(part))
        if len(sliced) > limit:
            break
    return sliced


def count_tokens_up_to(text: str, limit: int) -> int:
    """The text's token count if it is at most ``limit``; past it, a count over ``limit``
    and no larger than the text's: counting stops at the first slice that goes past.

    What a prompt past the context window needs (a refusal that says "at least"): a 1 MB
    prompt was tokenized whole, 16 slices, to learn it was past the window after the first.
    """
    if len(text) <= _SLICE_CHARS:
        return count_tokens(text)
    return len(off_loop(_encode_sliced, text, limit))


# tiktoken's encode_ordinary lets go of the GIL around its work. On a short prompt that work
# is some 3 µs, but with another thread waiting for the GIL (the journal's writer, the
# server's own threads) taking it back cost a request 10 to 40 µs. Short texts are therefore
# split here, by cl100k's pattern, on this thread, and each piece goes to the tokenizer's
# single-piece call, which keeps the GIL: BPE never merges across pieces, so the tokens are
# tiktoken's (tests/unit/test_tokens_hold_the_gil.py).
#
# Latin-1 texts (English and the Western European languages) are split with the standard
# `re`, twice as fast as the `regex` module on them, by the pattern written for Latin-1:
# its letters, numbers and spaces are spelled out below (Unicode's L and N categories and
# its White_Space property, stable for these 256 characters); `$` is the end of the text,
# as in tiktoken's Rust regex, so \Z; the possessive quantifiers, which Python's `re` lacks
# before 3.11, are plain ones here: what follows each can never match what it would give
# back (a letter after an optional non-letter, a line break after a run of neither space
# nor letter nor digit, the end of the text after spaces), so giving back never finds
# another match.
_LETTERS = "A-Za-z\xaa\xb5\xba\xc0-\xd6\xd8-\xf6\xf8-\xff"
_NUMBERS = "0-9\xb2\xb3\xb9\xbc-\xbe"
_SPACES = "\t\n\x0b\x0c\r \x85\xa0"
_LATIN1_PIECES = re.compile(
    rf"'(?i:[sdmt]|ll|ve|re)|[^\r\n{_LETTERS}{_NUMBERS}]?[{_LETTERS}]+|[{_NUMBERS}]{{1,3}}"
    rf"| ?[^{_SPACES}{_LETTERS}{_NUMBERS}]+[\r\n]*|[{_SPACES}]+\Z|[{_SPACES}]*[\r\n]"
    rf"|[{_SPACES}]+(?![^{_SPACES}])|[{_SPACES}]"
)
# Other texts (curly quotes and dashes, Greek, Cyrillic, CJK, emoji) are split by the
# pattern itself with the `regex` module (tiktoken's own dependency, and ours), which
# keeps the GIL when told to (concurrent=False). Its Unicode tables are newer than those
# tiktoken's Rust regex was built with: on characters assigned since (some 17,000, all of
# which this Python's Unicode 14.0 calls unassigned) the two split differently. So a text
# holding a character unassigned in this Python's Unicode, or a lone surrogate (no UTF-8
# for the single-piece call), goes to tiktoken whole; and this path is taken only on the
# Unicode versions checked against tiktoken code point by code point
# (tests/unit/test_tokens_hold_the_gil.py, run on Pythons 3.11, 3.12 and 3.13, with tiktoken
# 0.14 and regex 2026.11). An older tiktoken or regex may know fewer characters than this
# Python does: at start, the newest letters of each version are split both ways, and on any
# difference every text beyond Latin-1 goes to tiktoken.
_CHECKED_UNICODE = frozenset({"14.0.0", "15.0.0", "15.1.0"})
# Letters added in Unicode 14.0 (Arabic, Vithkuqi), 15.0 (Kawi, CJK extension H) and 15.1
# (CJK extension I); those this Python's Unicode assigns are checked.
_NEWEST_LETTERS = "\u0870\U00010570\U00011f04\U00031350\U0002ebf0"
# Characters past the Basic Multilingual Plane (emoji, rare CJK), each looked up on its own:
# a character class of their unassigned ranges would be scanned range by range at every
# character of every text, where the BMP's class is one lookup in a table.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# Longer texts go to tiktoken whole: one hand-off of the GIL is small beside their work.
_SPLIT_HERE_CHARS = 4096
# From this length a text's tokenizing (half a millisecond and more) is done off the event
# loop (mockserver.pausing.off_loop): the loop answers the worker's other requests meanwhile.
_OFF_LOOP_CHARS = 16 * 1024
# Pieces are words, numbers of up to 3 digits, punctuation runs: a few thousand recur.
_CACHED_PIECE = 32


def encode_ordinary(text: str) -> Sequence[int]:
    """tiktoken's ``encode_ordinary``, without letting go of the GIL for a short text."""
    if len(text) <= _SPLIT_HERE_CHARS:
        if text.isascii() or _is_latin1(text):
            pieces = _LATIN1_PIECES.findall(text)
        elif (split := _unicode_splitter()) is not None and split.splits(text):
            pieces = split.pattern.findall(text, concurrent=False)
        else:
            pieces = None
        if pieces is not None:
            return _pieces_tokens(pieces)
    if len(text) >= _OFF_LOOP_CHARS:
        off_loop_tokens: list[int] = off_loop(encoding().encode_ordinary, text)
        return off_loop_tokens
    tokens: list[int] = encoding().encode_ordinary(text)
    return tokens


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


class _UnicodeSplitter(NamedTuple):
    pattern: Any  # cl100k's pattern, compiled by the `regex` module
    unassigned_in_bmp: Any  # re.Pattern: the BMP's unassigned code points and surrogates

    def splits(self, text: str) -> bool:
        """Whether every character of ``text`` is one this path splits as tiktoken does."""
        if self.unassigned_in_bmp.search(text) is not None:
            return False
        return all(unicodedata.category(char) != "Cn" for char in _ASTRAL.findall(text))


@lru_cache(maxsize=1)
def _unicode_splitter() -> _UnicodeSplitter | None:
    """The splitter of texts beyond Latin-1; ``None`` on a Unicode version not checked.

    Made once per process (some 10 ms, a pass over the BMP), when the tokenizer is loaded.
    """
    if unicodedata.unidata_version not in _CHECKED_UNICODE:
        return None
    ranges: list[str] = []
    start = None
    for code in range(0x10001):
        outside = code < 0x10000 and unicodedata.category(chr(code)) in ("Cn", "Cs")
        if outside and start is None:
            start = code
        elif not outside and start is not None:
            ranges.append(f"\\u{start:04x}-\\u{code - 1:04x}")
            start = None
    splitter = _UnicodeSplitter(regex.compile(CL100K_PATTERN), re.compile(f"[{''.join(ranges)}]"))
    for letter in _NEWEST_LETTERS:
        # Only a contraction after it tells a letter from a non-letter by the tokens: in
        # other contexts the pieces differ but their tokens do not (review).
        text = f"x{letter}y {letter}'s {letter}7 {letter}{letter}"
        if splitter.splits(text):
            pieces = splitter.pattern.findall(text, concurrent=False)
            if _pieces_tokens(pieces) != list(encoding().encode_ordinary(text)):
                return None
    return splitter


def _pieces_tokens(pieces: Iterable[str]) -> list[int]:
    """The tokens of pre-tokenized pieces, end to end (BPE never merges across pieces)."""
    encoded: list[int] = []
    for piece in pieces:
        encoded += _piece_tokens(piece) if len(piece) <= _CACHED_PIECE else _bpe(piece)
    return encoded


def _bpe(piece: str) -> list[int]:
    tokens: list[int] = encoding()._core_bpe.encode_single_piece(piece.encode("utf-8"))
    return tokens


@lru_cache(maxsize=8192)
def _piece_tokens(piece: str) -> tuple[int, ...]:
    return tuple(_bpe(piece))


# cl100k's BPE costs more than linear time on one long pre-tokenized piece (a run without
# spaces: 1 MB of "a" takes 0.3 s, 10 MB 7.7 s). Long texts are encoded in slices cut where
# the pattern also cuts, before a space that follows a letter or digit, which gives the same
# tokens; a run longer than a slice with no such place is cut inside it (its count may then
# differ from the real one by a token per cut, past 64 K characters without a space).
_SLICE_CHARS = 64 * 1024


def _slices(text: str) -> Iterator[str]:
    start = 0
    while len(text) - start > _SLICE_CHARS:
        end = start + _SLICE_CHARS
        cut = end
        space = text.rfind(" ", start + 1, end)
        while space > start and not text[space - 1].isalnum():
            space = text.rfind(" ", start + 1, space)
        if space > start:
            cut = space
        yield text[start:cut]
        start = cut
    yield text[start:]


def count_tokens(text: str) -> int:
    if not text:
        return 0
    if len(text) <= _CACHED_TEXT:
        return _count_cached(text)
    return len(encode(text))


@lru_cache(maxsize=1024)
def _count_cached(text: str) -> int:
    parts = _sentences(text)
    if len(parts) == 1:
        # A prompt, often, new on every request of varied traffic: counted without
        # remembering its tokens (a second cache's miss, and the sentences cut again).
        return len(encode_ordinary(text))
    # A reply made of remembered sentences: their counts added, without putting the whole
    # text's tokens together (a new text on every request, on varied traffic).
    return sum(len(_encode_part(part)) for part in parts)


# Texts of at most 1,024 characters (some 250 tokens): at worst about 10 KB of token ids
# and 40 KB of stream pieces each, so the two caches below hold 15 MB per worker at most.
_CACHED_TEXT = 1024


# A few long texts too: a stub's scripted reply (kilobytes, the same on every request it
# answers) was encoded again for each, whatever max_tokens kept of it. At most 64 K
# characters each, so at worst some 4 MB of token ids per worker.
@lru_cache(maxsize=8)
def _encode_long_cached(text: str) -> tuple[int, ...]:
    return tuple(encode_ordinary(text))


@lru_cache(maxsize=512)
def _encode_cached(text: str) -> tuple[int, ...]:
    parts = _sentences(text)
    if len(parts) == 1:  # one sentence (a prompt, often): remembered once, as a whole
        return tuple(encode_ordinary(text))
    return tuple(token for part in parts for token in _encode_part(part))


class Piece(NamedTuple):
    """A token-aligned piece of text: one stream delta, ``tokens`` tokens long.

    ``parts``: each token's own bytes, for a piece of several tokens (a character the
    tokenizer splits); a token's log probability is given per token, not per piece.
    """

    text: str
    tokens: int = 1
    parts: tuple[bytes, ...] = ()


# Where cl100k's pre-tokenizer always cuts: after a punctuation mark, before a space and a
# letter (the punctuation run ends at the space, and " Word" starts a new pre-token, with no
# look-behind in the pattern). BPE never merges across pre-tokens, so a text's tokens are
# its sentences' tokens end to end, and so are its stream pieces (all ASCII at the cut).
# Replies are made of a few template sentences that recur across requests that differ
# (tests/unit/test_token_sentences.py checks the equality): their sentences are remembered,
# where the whole texts, each new, would not be.
# Found as the mark itself (a pattern that starts with a character class is searched for
# that class; one that starts with a look-behind is tried at every position: 1.8 against
# 5.1 µs for a reply of four sentences, two to three texts a request).
_SENTENCE_END = re.compile(r"[.!?](?= [A-Za-z])")
# Sentences remembered are short, so the caches of them stay small: at worst 1 KB of token
# ids, or 15 KB of pieces, each (some 4 MB and 15 MB per worker), typically a tenth of that.
_CACHED_PART = 128


def _sentences(text: str) -> list[str]:
    """``text`` cut after each mark :data:`_SENTENCE_END` finds, each space starting a part."""
    parts = []
    start = 0
    for mark in _SENTENCE_END.finditer(text):
        parts.append(text[start : mark.end()])
        start = mark.end()
    parts.append(text[start:])
    return parts


def _encode_part(part: str) -> Sequence[int]:
    if len(part) <= _CACHED_PART:
        return _encode_part_cached(part)
    return encode_ordinary(part)


@lru_cache(maxsize=4096)
def _encode_part_cached(part: str) -> tuple[int, ...]:
    return tuple(encode_ordinary(part))


def split_pieces(text: str, tokens: Sequence[int] | None = None) -> list[Piece]:
    """Split text into token-aligned pieces that are each valid text.

    A token can end inside a multi-byte character; such tokens are joined with the next
    ones until the bytes decode, so every piece is a whole string (a stream delta).
    ``tokens`` may pass the text's encoding when the caller already has it.
    """
    pieces: list[Piece] = []
    parts: list[bytes] = []
    for token in encode(text) if tokens is None else tokens:
        if not parts:
            whole = _whole_token_piece(token)
            if whole is not None:
                pieces.append(whole)
                continue
        parts.append(_token_bytes(token))
        try:
            joined = b"".join(parts).decode("utf-8")
        except UnicodeDecodeError:
            continue
        pieces.append(Piece(joined, len(parts), tuple(parts)))
        parts = []
    if parts:
        joined = b"".join(parts).decode("utf-8", errors="replace")
        pieces.append(Piece(joined, len(parts), tuple(parts)))
    return pieces


def _token_bytes(token: int) -> bytes:
    token_bytes: bytes = encoding().decode_single_token_bytes(token)
    return token_bytes


# A token's own piece, remembered by token: a varied reply's sentences are new texts made
# of the same few thousand tokens, and making each token's piece again (its bytes looked
# up, decoded, put in a Piece) was half of splitting a new text. Bounded by the vocabulary
# in principle, by this in practice: some 2 MB per worker at most.
@lru_cache(maxsize=16_384)
def _whole_token_piece(token: int) -> Piece | None:
    """The piece a token makes alone; ``None`` for one that ends inside a character."""
    try:
        return Piece(_token_bytes(token).decode("utf-8"))
    except UnicodeDecodeError:
        return None


def pieces_of(text: str) -> tuple[Piece, ...]:
    """:func:`split_pieces`, remembered for short texts (streams repeat the same replies)."""
    if len(text) <= _CACHED_TEXT:
        return _pieces_cached(text)
    return tuple(split_pieces(text))


@lru_cache(maxsize=256)
def _pieces_cached(text: str) -> tuple[Piece, ...]:
    parts = _sentences(text)
    if len(parts) == 1:
        return tuple(split_pieces(text))
    return tuple(piece for part in parts for piece in _part_pieces(part))


def _part_pieces(part: str) -> Sequence[Piece]:
    if len(part) <= _CACHED_PART:
        return _part_pieces_cached(part)
    return split_pieces(part)


@lru_cache(maxsize=1024)
def _part_pieces_cached(part: str) -> tuple[Piece, ...]:
    return tuple(split_pieces(part))


def truncate_pieces(pieces: Sequence[Piece], limit: int | None) -> tuple[list[Piece], bool]:
    """At most ``limit`` tokens of pieces; the flag says whether anything was cut.

    A piece can hold several tokens (see :func:`split_pieces`); the cut never splits one.
    """
    if limit is None:
        return list(pieces), False
    kept: list[Piece] = []
    used = 0
    for piece in pieces:
        if used + piece.tokens > limit:
            return kept, True
        kept.append(piece)
        used += piece.tokens
    return kept, False


# A UTF-8 character is at most 4 bytes, so at most 4 tokens.
_MAX_CHARACTER_TOKENS = 4


def limit_text(text: str, limit: int | None) -> tuple[str, int, bool]:
    """At most ``limit`` tokens of ``text``: (kept text, its token count, whether it was cut)."""
    # Past the slices' length no cache remembers a text's tokens: made once, they give both
    # its count and its cut (it was tokenized twice).
    tokens = encode(text) if len(text) > _SLICE_CHARS else None
    count = count_tokens(text) if tokens is None else len(tokens)
    if limit is None or count <= limit:
        return text, count, False
    if tokens is None:
        tokens = encode(text)
    # Only the tokens kept are split (a short limit on a long text): a piece ending within
    # the limit is the same whatever follows, and one still open at the cut (a character
    # split across tokens) ends past the limit and is dropped anyway.
    head = tokens[: limit + _MAX_CHARACTER_TOKENS]
    kept, _ = truncate_pieces(split_pieces(text, head), limit)
    return "".join(piece.text for piece in kept), sum(piece.tokens for piece in kept), True


def count_message_tokens(messages: Iterable[Any]) -> int:
    """Prompt tokens of chat messages, counted the way OpenAI counts them for gpt-4."""
    total = 0
    for message in messages:
        total += TOKENS_PER_MESSAGE
        if not isinstance(message, Mapping):
            continue
        for key, value in message.items():
            total += count_tokens(content_text(value))
            if key == "name":
                total += TOKENS_PER_NAME
    return total + REPLY_PRIMING_TOKENS


def count_tool_tokens(tools: Iterable[Any]) -> int:
    """Tokens the function definitions add to the prompt (OpenAI cookbook formula)."""
    functions: list[Mapping[str, Any]] = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping):
            functions.append(function)
    if not functions:
        return 0
    total = 0
    for function in functions:
        total += _FUNC_INIT
        description = str(function.get("description") or "").removesuffix(".")
        total += count_tokens(f"{function.get('name', '')}:{description}")
        parameters = function.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
        if isinstance(properties, Mapping) and properties:
            total += _PROP_INIT
            for key, prop in properties.items():
                total += _PROP_KEY
                prop = prop if isinstance(prop, Mapping) else {}
                enum = prop.get("enum")
                if isinstance(enum, list):
                    total += _ENUM_INIT
                    for item in enum:
                        total += _ENUM_ITEM + count_tokens(str(item))
                prop_description = str(prop.get("description") or "").removesuffix(".")
                total += count_tokens(f"{key}:{prop.get('type', '')}:{prop_description}")
    return total + _FUNC_END


def content_text(value: Any) -> str:
    """The text a message field contributes: strings as they are, parts by their text."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        texts = []
        for part in value:
            function = part.get("function") if isinstance(part, Mapping) else None
            if isinstance(function, Mapping):
                # An assistant message's tool_calls: the model wrote the name and arguments.
                texts.append(f"{function.get('name', '')}{function.get('arguments', '')}")
            elif isinstance(part, Mapping):
                texts.append(content_text(part.get("text") or part.get("refusal") or ""))
            else:
                texts.append(content_text(part))
        return "".join(texts)
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)
