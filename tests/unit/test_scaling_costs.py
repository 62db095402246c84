"""Work that must grow with what is kept or sent, not with everything the reply could hold."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import mockserver.engine.tokens as tokens_module
from mockserver.engine.tokens import Piece, encode, limit_text, split_pieces, truncate_pieces

LONG = " ".join(f"Sentence number {i} says something." for i in range(2000))


def test_a_token_limit_splits_only_the_tokens_it_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    split: list[int] = []
    real = tokens_module.split_pieces

    def counted(text: str, tokens: Sequence[int] | None = None) -> list[Piece]:
        split.append(len(tokens) if tokens is not None else len(encode(text)))
        return real(text, tokens)

    monkeypatch.setattr(tokens_module, "split_pieces", counted)
    kept, used, cut = limit_text(LONG, 16)
    assert cut and used <= 16 and LONG.startswith(kept)
    assert split and max(split) <= 16 + 4, split  # was every token of the text (some 16,000)


@pytest.mark.parametrize(
    "text",
    [LONG, "漢字かな交じり文 🙂🙂🙂 é" * 40, "a" * 3000, "Ünïcödé ✓ " * 300, "🙂" * 500],
)
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 16, 100, 257])
def test_the_kept_text_is_the_whole_split_cut(text: str, limit: int) -> None:
    whole, _ = truncate_pieces(split_pieces(text, encode(text)), limit)
    expected = "".join(piece.text for piece in whole), sum(piece.tokens for piece in whole)
    kept, used, cut = limit_text(text, limit)
    assert (kept, used) == expected
    assert cut == (len(encode(text)) > limit)
