"""The mock passes its own contract: `harness contract` and schemathesis's pytest integration
against `harness serve` (gunicorn, real sockets), with streams really exercised."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

from harness.cli import main
from harness.contract import (
    CONTRACT_CHECKS,
    ContractFailure,
    contract_config,
    load_schema,
    run_contract,
)
from harness.spec import load_specs
from tests.fixtures.servers import API_KEY, RunningServer

pytestmark = pytest.mark.slow

EXAMPLES = 15


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_harness_contract_passes_against_the_mock(live_server: RunningServer, mode: str) -> None:
    result = CliRunner().invoke(
        main,
        [
            "contract",
            "--base-url",
            live_server.base_url,
            "--api-key",
            API_KEY,
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            "3",
            "--mode",
            mode,
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        f"OK: 0 new failure(s), 0 known, 0 error(s); {live_server.url}, mode {mode}"
        in result.output
    )


def test_positive_runs_exercise_streams_and_json(live_server: RunningServer) -> None:
    report = run_contract(live_server.url, api_key=API_KEY, max_examples=EXAMPLES, seed=5)
    assert report.ok, (report.new_failures, report.errors)
    assert set(report.operations) == {
        "POST /v1/chat/completions",
        "POST /chat/completions",
        "POST /v1/responses",
    }
    for operation, stats in report.operations.items():
        # The fuzzing phase makes most positive cases streams (the coverage phase's stay JSON).
        assert stats.streamed >= EXAMPLES // 3, (operation, stats)
        assert stats.statuses[200] > stats.streamed, (operation, stats)
        for check in CONTRACT_CHECKS:
            assert stats.checks[check.__name__] > 0, (operation, check.__name__)


# schemathesis's own pytest integration, with our checks and the contract configuration.
# (Loaded at collection: schemathesis.pytest.from_fixture reads `request.node._nodeid`,
# which pytest 9 no longer has.)
_SPECS = load_specs()
_CONFIG = contract_config(max_examples=8, seed=11)
_SCHEMAS = {doc.name: load_schema(doc, _CONFIG) for doc in _SPECS.documents}


@schemathesis.pytest.parametrize(chat=_SCHEMAS["gpt-4"], responses=_SCHEMAS["gpt-4-RESPONSES"])
@settings(max_examples=8, suppress_health_check=list(HealthCheck))
def test_mock_conforms_case_by_case(
    case: schemathesis.Case[Any], live_server: RunningServer
) -> None:
    case.call_and_validate(base_url=live_server.url, headers={"Authorization": f"Bearer {API_KEY}"})


def test_our_checks_run_inside_schemathesis_validation() -> None:
    """`case.validate_response` (what the pytest integration calls) runs our checks."""
    from schemathesis.core.failures import FailureGroup

    from tests.contract import targets

    operation = _SCHEMAS["gpt-4"]["/v1/chat/completions"]["POST"]
    case = operation.Case(
        body={"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        media_type="application/json",
    )
    with targets.broken_target(targets.no_done) as url, pytest.raises(FailureGroup) as caught:
        # Inside: some built-in checks (ignored_auth) send follow-up requests to the target.
        case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"})
    (failure,) = caught.value.exceptions
    assert isinstance(failure, ContractFailure)
    assert failure.check == "stream_conformance"
    assert "does not end with data: [DONE]" in failure.message
