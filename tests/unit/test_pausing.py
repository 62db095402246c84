"""pause() waits on the event loop inside run_pausable, and is time.sleep anywhere else."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from mockserver.pausing import off_loop, pause, run_pausable


def _paused(seconds: float, value: int) -> int:
    pause(seconds)
    return value


def test_pauses_inside_run_pausable_overlap_on_one_thread() -> None:
    async def main() -> tuple[list[int], float]:
        started = time.monotonic()
        values = await asyncio.gather(*(run_pausable(_paused, 0.3, n) for n in range(20)))
        return values, time.monotonic() - started

    values, took = asyncio.run(main())
    assert values == list(range(20))
    # Twenty pauses of 0.3 s one after the other would take 6 s.
    assert took < 2.0


def test_the_loop_runs_other_work_during_a_pause() -> None:
    async def main() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.ensure_future(tick())
        await run_pausable(_paused, 0.3, 0)
        ticker.cancel()
        return ticks

    assert asyncio.run(main()) >= 5


def test_an_error_after_a_pause_reaches_the_caller_and_the_next_call_runs() -> None:
    def fails() -> None:
        pause(0.01)
        raise ValueError("from the request")

    async def main() -> int:
        with pytest.raises(ValueError, match="from the request"):
            await run_pausable(fails)
        return await run_pausable(_paused, 0.01, 7)

    assert asyncio.run(main()) == 7


def test_a_cancelled_pause_ends_the_call_and_its_runner_serves_the_next() -> None:
    seen: list[str] = []

    def waits_long() -> None:
        try:
            pause(30)
        except asyncio.CancelledError:
            seen.append("cancelled inside the call")
            raise

    async def main() -> int:
        task = asyncio.ensure_future(run_pausable(waits_long))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await run_pausable(_paused, 0.01, 3)

    assert asyncio.run(main()) == 3
    assert seen == ["cancelled inside the call"]


def test_outside_run_pausable_a_pause_sleeps_the_thread() -> None:
    result: list[float] = []

    def in_thread() -> None:
        started = time.monotonic()
        pause(0.2)
        result.append(time.monotonic() - started)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(5)
    assert result and result[0] >= 0.19


def test_off_loop_work_runs_on_a_thread_while_the_loop_serves_others() -> None:
    """The off-loop call waits, on its thread, for an event only the loop sets: on the loop
    itself it would wait out its timeout (and say so)."""
    loop_set = threading.Event()

    def waits_for_the_loop() -> str:
        return "off the loop" if loop_set.wait(timeout=2) else "held the loop"

    async def main() -> str:
        call = asyncio.ensure_future(run_pausable(off_loop, waits_for_the_loop))
        await asyncio.sleep(0.05)  # the call is running
        loop_set.set()  # this coroutine runs only if the loop is free
        return await call

    assert asyncio.run(main()) == "off the loop"


def test_an_off_loop_error_reaches_the_call_and_outside_run_pausable_it_runs_here() -> None:
    def fails() -> None:
        raise ValueError("on the thread")

    def calls_off_loop() -> str:
        with pytest.raises(ValueError, match="on the thread"):
            off_loop(fails)
        return "the call went on"

    assert asyncio.run(run_pausable(calls_off_loop)) == "the call went on"
    here = threading.get_ident()
    assert off_loop(threading.get_ident) == here
