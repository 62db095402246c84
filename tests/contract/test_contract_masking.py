"""`harness contract` masks the API key only where the key itself stands.

A plain substring replacement turned every "k" of a report into "[Filtered]" when the key was
"k" (`max_to[Filtered]ens`); the key must go, the words around it must stay.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.contract.runner import FILTERED, mask_key
from mockserver import MockConfig, create_app
from tests.contract import targets

SHORT_KEY = "k"


@pytest.mark.parametrize(
    ("text", "key", "masked"),
    [
        ('{"max_tokens": 5}', "k", '{"max_tokens": 5}'),
        ("-H 'Authorization: Bearer k'", "k", f"-H 'Authorization: Bearer {FILTERED}'"),
        ('{"user": "k", "kind": "k2"}', "k", f'{{"user": "{FILTERED}", "kind": "k2"}}'),
        ("/v1/models?key=k&limit=1", "k", f"/v1/models?key={FILTERED}&limit=1"),
        (
            "Bad API key: sk-ab12.",
            "sk-ab12",
            f"Bad API key: {FILTERED}.",
        ),
        ("the key sk-ab12x is another key", "sk-ab12", "the key sk-ab12x is another key"),
        ("token=sk-ab12,next", "sk-ab12", f"token={FILTERED},next"),
        ("no key at all", None, "no key at all"),
    ],
)
def test_the_key_is_masked_where_it_stands_whole(text: str, key: str | None, masked: str) -> None:
    assert mask_key(text, key) == masked


@pytest.mark.slow
def test_a_contract_run_with_a_one_letter_key_keeps_its_words() -> None:
    app = create_app(MockConfig(api_key=SHORT_KEY))
    with targets.broken_target(targets.always_length, app) as url:
        result = CliRunner().invoke(
            main,
            [
                "contract",
                "--base-url",
                url,
                "--api-key",
                SHORT_KEY,
                "--max-examples",
                "4",
                "--seed",
                "7",
            ],
        )
    assert result.exit_code == 1, result.output
    assert "finish_reason_consistency" in result.output
    # The check's message names max_tokens/max_completion_tokens; both must read whole.
    assert "[Filtered]ens" not in result.output, result.output
    assert "max_tokens/max_completion_tokens" in result.output, result.output
    assert f"Bearer {SHORT_KEY}" not in result.output
