"""Chaos in process: the option's checks, the seeded draws, precedence, stubs' own chaos."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from harness.cli import main
from harness.errors import UsageError
from mockserver import MockConfig, create_app
from mockserver.chaos import (
    ChaosError,
    SharedCounter,
    check_rates,
    draw,
    parse_chaos,
    pick_fault,
)
from mockserver.faults import FAULTS, NO_FAULT, read_fault_headers
from tests.fixtures.forks import join_or_kill

HELLO = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}
AUTH = {"Authorization": "Bearer k"}
ALL_FAULTS = ", ".join(sorted(FAULTS))


def chat(client: FlaskClient, **headers: str) -> Any:
    return client.post("/v1/chat/completions", json=HELLO, headers={**AUTH, **headers})


def test_rates_are_read_in_the_registrys_order() -> None:
    assert parse_chaos("disconnect=0.01, rate_limit=0.05") == (
        ("rate_limit", 0.05),
        ("disconnect", 0.01),
    )
    assert parse_chaos("RATE_LIMIT=1") == (("rate_limit", 1.0),)
    assert parse_chaos("") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope=0.1", f"unknown fault 'nope'; faults: {ALL_FAULTS}"),
        ("rate_limit=1.5", "the rate of 'rate_limit' is 1.5, not a number from 0 to 1"),
        ("rate_limit=-0.1", "the rate of 'rate_limit' is -0.1, not a number from 0 to 1"),
        ("rate_limit=nan", "the rate of 'rate_limit' is nan, not a number from 0 to 1"),
        ("rate_limit=lots", "the rate of 'rate_limit' is 'lots', not a number from 0 to 1"),
        ("rate_limit", "'rate_limit' has no rate; write NAME=RATE pairs"),
        ("rate_limit=0.6,timeout=0.5", "the rates add up to 1.1, more than 1"),
        ("rate_limit=0.1,rate_limit=0.2", "fault 'rate_limit' is given twice"),
    ],
)
def test_bad_rates_are_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(ChaosError) as caught:
        parse_chaos(text)
    assert message in str(caught.value)


def test_a_bool_is_not_a_rate() -> None:
    with pytest.raises(ChaosError):
        check_rates({"rate_limit": True})


@pytest.mark.parametrize("env", [False, True])
def test_serve_refuses_bad_chaos_in_one_line_naming_the_faults(env: bool) -> None:
    runner = CliRunner()
    if env:
        result = runner.invoke(main, ["serve"], env={"HARNESS_CHAOS": "nope=0.1"})
    else:
        result = runner.invoke(main, ["serve", "--chaos", "nope=0.1"])
    assert result.exit_code == 2
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert line == f"Error: Invalid value for --chaos: unknown fault 'nope'; faults: {ALL_FAULTS}"


def test_serve_help_names_the_chaos_options_and_variables() -> None:
    output = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200).output
    for text in ("--chaos FAULT=RATE,...", "HARNESS_CHAOS", "--chaos-seed", "HARNESS_CHAOS_SEED"):
        assert text in output


def test_a_bad_config_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="chaos: unknown fault 'nope'"):
        create_app(MockConfig(chaos=(("nope", 0.1),)))


def test_draws_are_fixed_by_seed_and_number_and_spread_evenly() -> None:
    assert draw(7, "requests", 3) == draw(7, "requests", 3)
    assert [draw(7, "requests", n) for n in range(50)] != [
        draw(8, "requests", n) for n in range(50)
    ]
    rolls = [draw(1, "requests", n) for n in range(4000)]
    assert all(0 <= roll < 1 for roll in rolls)
    tenths = Counter(int(roll * 10) for roll in rolls)
    assert all(300 < tenths[bucket] < 500 for bucket in range(10)), tenths


def test_each_fault_owns_a_slice_as_wide_as_its_rate() -> None:
    rates = check_rates({"rate_limit": 0.2, "disconnect": 0.1})
    assert pick_fault(rates, 0.0) is FAULTS["rate_limit"]
    assert pick_fault(rates, 0.19) is FAULTS["rate_limit"]
    assert pick_fault(rates, 0.2) is FAULTS["disconnect"]
    assert pick_fault(rates, 0.31) is None


def _take(path: Path, count: int, out: Any) -> None:
    counter = SharedCounter(path)
    out.put([counter.take() for _ in range(count)])


def test_the_request_counter_hands_each_number_once_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "state.chaos"
    SharedCounter(path).reset()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=_take, args=(path, 100, out)) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        taken = [number for _ in workers for number in out.get(timeout=30)]
    finally:
        exits = [join_or_kill(worker) for worker in workers]
    assert exits == [0, 0, 0]
    assert sorted(taken) == list(range(300))


def test_no_chaos_leaves_the_no_header_path_as_it_was() -> None:
    app = create_app(MockConfig())
    assert app.extensions["mockserver"].chaos is None
    with app.test_request_context("/v1/chat/completions", method="POST"):
        from flask import request

        assert read_fault_headers(request.headers) is NO_FAULT


@pytest.fixture
def always() -> FlaskClient:
    """A mock whose every API request without a fault header is rate limited."""
    return create_app(MockConfig(chaos=(("rate_limit", 1.0),))).test_client()


def test_a_fault_header_always_wins(always: FlaskClient) -> None:
    assert chat(always).status_code == 429
    assert chat(always, **{"X-Mock-Fault": "overloaded"}).status_code == 503
    faults = [entry["fault"] for entry in always.get("/_mock/requests").json["data"]]
    assert faults == ["rate_limit", "overloaded"]


def test_chaos_joins_a_latency_header(always: FlaskClient) -> None:
    assert chat(always, **{"X-Mock-Latency-Ms": "1"}).status_code == 429


def test_admin_routes_are_never_failed(always: FlaskClient) -> None:
    assert always.get("/_mock/health").status_code == 200
    assert always.get("/_mock/requests").status_code == 200
    assert always.post("/_mock/reset").status_code == 200


def test_reset_restarts_the_numbering() -> None:
    client = create_app(MockConfig(chaos=(("server_error", 0.5),), chaos_seed=3)).test_client()
    first = [chat(client).status_code for _ in range(30)]
    client.post("/_mock/reset")
    assert [chat(client).status_code for _ in range(30)] == first
    assert set(first) == {200, 500}


@pytest.fixture(scope="module")
def plain_app() -> Any:
    return create_app(MockConfig())


@pytest.fixture
def plain(plain_app: Any) -> FlaskClient:
    """A mock without server-wide chaos, its stubs and journal emptied."""
    client: FlaskClient = plain_app.test_client()
    client.post("/_mock/reset")
    return client


STUB = {
    "match": {"last_user_message": "Hello"},
    "reply": {"text": "pong", "chaos": {"rate_limit": 0.5}},
}


def stub_run(client: FlaskClient, count: int) -> list[int]:
    assert client.post("/_mock/stubs", json=STUB).status_code == 201
    return [chat(client).status_code for _ in range(count)]


def test_a_stubs_chaos_draws_per_use_and_repeats(plain: FlaskClient) -> None:
    client = plain
    first = stub_run(client, 40)
    assert 8 <= first.count(429) <= 32
    entries = client.get("/_mock/requests").json["data"]
    stub_id = entries[0]["stub_id"]
    assert all(entry["stub_id"] == stub_id for entry in entries)
    assert [entry["fault"] for entry in entries] == [
        "rate_limit" if status == 429 else None for status in first
    ]
    client.post("/_mock/reset")
    # The same stub added again (with a new id) draws the same faults for its uses.
    assert stub_run(client, 40) == first


def test_a_stubs_scripted_reply_is_sent_when_no_fault_is_drawn(plain: FlaskClient) -> None:
    client = plain
    stub_run(client, 0)
    texts = set()
    for _ in range(20):
        reply = chat(client)
        if reply.status_code == 200:
            texts.add(reply.json["choices"][0]["message"]["content"])
    assert texts == {"pong"}


def test_a_stub_with_chaos_alone_answers_as_the_engine_does(plain: FlaskClient) -> None:
    client = plain
    client.post("/_mock/stubs", json={"reply": {"chaos": {"server_error": 0.5}}})
    statuses = [chat(client).status_code for _ in range(20)]
    assert set(statuses) == {200, 500}


def test_a_fault_header_wins_over_a_stubs_chaos(plain: FlaskClient) -> None:
    client = plain
    client.post("/_mock/stubs", json={"reply": {"text": "x", "chaos": {"rate_limit": 1}}})
    assert chat(client, **{"X-Mock-Fault": "server_error"}).status_code == 500


@pytest.mark.parametrize(
    ("chaos", "param", "message"),
    [
        ({"nope": 0.1}, "reply.chaos", f"unknown fault 'nope'; faults: {ALL_FAULTS}"),
        ({"rate_limit": 2}, "reply.chaos.rate_limit", "2 is greater than the maximum of 1"),
        ({"rate_limit": 0.7, "timeout": 0.7}, "reply.chaos", "the rates add up to 1.4"),
        ({}, "reply.chaos", "has less than 1 property"),
    ],
)
def test_a_bad_stub_chaos_is_refused_naming_the_field(
    plain: FlaskClient, chaos: dict[str, Any], param: str, message: str
) -> None:
    reply = plain.post("/_mock/stubs", json={"reply": {"text": "x", "chaos": chaos}})
    assert reply.status_code == 400
    error = reply.json["error"]
    assert error["param"] == param
    assert message in error["message"]
