"""Wire schemathesis to the effective specs and a target, and turn its events into a report.

One schemathesis engine run per spec document (its phases: examples, coverage, fuzzing),
configured through schemathesis's own configuration (the ``schemathesis.toml`` keys), with
``response_schema_conformance`` off and our checks (:mod:`harness.contract.checks`) on.
"""

from __future__ import annotations

import copy
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import Failure
from schemathesis.engine import StopReason, events, from_schema
from schemathesis.engine.recorder import CheckFailureInfo, ScenarioRecorder
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from harness.contract.baseline import Baseline, KnownFailure
from harness.contract.checks import MARKER, media_type
from harness.contract.report import ContractReport, FoundFailure
from harness.errors import UsageError
from harness.spec import EVENT_STREAM, SpecDocument

MODES = ("positive", "negative", "all")
DEFAULT_MAX_EXAMPLES = 25
REQUEST_TIMEOUT_S = 60
# schemathesis stops reading a stream after 20 events by default; a stream read in part
# cannot be judged for how it ends, and a real reply easily has hundreds of events.
MAX_STREAM_EVENTS = 100_000
# schemathesis filters any key containing "token" or "key" from reproducers, which would hide
# max_tokens and max_output_tokens; the bearer header is what must never be shown.
SANITIZED_KEYS = ["authorization", "api-key", "x-api-key", "api_key", "cookie", "set-cookie"]
SENSITIVE_MARKERS = ["auth", "secret", "password", "credential", "api-key", "api_key"]
FILTERED = "[Filtered]"
# Characters that can continue a key: the key is masked only where none of them touches it, so
# with a key "k" the "k" of max_tokens stays (a JSON string, a header value or a query value
# holding exactly the key is still masked).
_KEY_CHARACTER = r"[A-Za-z0-9_\-]"
# The phases that send requests (stateful is off), each a batch per operation.
PHASES = ("examples", "coverage", "fuzzing")
# A run stops when this many first answers were all refusals: a wrong key or target.
REFUSED_STOP_AFTER = 3
REFUSALS = (401, 403)
# The check a mock that accepts any key is bound to fail (see target_accepts_any_key).
IGNORED_AUTH = "ignored_auth"
HEALTH_PATH = "/_mock/health"
HEALTH_TIMEOUT_S = 5
ANY_KEY_NOTE = (
    f"{IGNORED_AUTH} not checked: the target is the harness mock started without --api-key, "
    "which accepts any key by design (its /_mock/health says accepts_any_key). Start it "
    "with --api-key KEY to have wrong keys refused and checked."
)


def mask_key(text: str, key: str | None) -> str:
    """``text`` with ``key`` replaced by ``[Filtered]`` wherever it stands as a whole token.

    >>> mask_key('-H "Authorization: Bearer k" -d {"max_tokens": 1, "user": "k"}', "k")
    '-H "Authorization: Bearer [Filtered]" -d {"max_tokens": 1, "user": "[Filtered]"}'
    """
    if not key:
        return text
    pattern = rf"(?<!{_KEY_CHARACTER}){re.escape(key)}(?!{_KEY_CHARACTER})"
    return re.sub(pattern, FILTERED, text)


@dataclass(frozen=True)
class Progress:
    """One finished batch of cases (an operation in one phase), for a progress display."""

    phase: str
    operation: str
    requests: int
    streamed: int
    # "ok", "failed" (a check failed), "error" (e.g. the target did not answer) or
    # "skipped" (the phase had nothing to send for the operation).
    outcome: str
    step: int = 0  # batches finished so far, this one included
    steps: int = 0  # batches in the whole run: operations x phases
    sent: int = 0  # requests answered so far in the run
    failures: int = 0  # distinct failures found so far


def origin_of(base_url: str) -> str:
    """``http://host:port`` or ``.../v1`` -> the URL the specs' paths (``/v1/...``) hang off."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--base-url must be an http(s) URL like http://127.0.0.1:8080, not {base_url!r}"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


# How long the target may take to answer one plain GET before the run is called off.
SILENCE_TIMEOUT_S = 10


def target_silence(base_url: str) -> str | None:
    """Why the run would only wait, or ``None``: a target that takes connections and never
    answers (a hung server, a wrong port behind a proxy) made each batch wait out its
    request timeouts, 16 minutes for ``--max-examples 1``. A refused connection, or any
    answer at all, lets the run go on and report it as it does.
    """
    url = base_url.rstrip("/") + "/models"
    try:
        httpx.get(url, timeout=SILENCE_TIMEOUT_S, follow_redirects=False)
    except httpx.TimeoutException:
        return (
            f"stopped before the run: the target took the connection but did not answer "
            f"GET {url} within {SILENCE_TIMEOUT_S} s. Check --base-url"
        )
    except httpx.ConnectError as exc:
        if url.startswith("https:") and "SSL" in str(exc):
            # Every request would fail alike (hundreds of lines of the same SSL error).
            return (
                f"stopped before the run: no TLS at {origin_of(base_url)} ({exc}); "
                "use http:// for a server without TLS"
            )
    except httpx.HTTPError:
        pass
    return None


def target_accepts_any_key(base_url: str) -> bool:
    """Whether ``base_url`` is this project's mock, started without ``--api-key``.

    Such a mock takes any non-empty key by design, so schemathesis's ``ignored_auth`` check
    (a made-up key must be refused) is bound to fail on it: a newcomer's first
    ``harness serve`` + ``harness contract`` would report it. The mock says so on its health
    route (``accepts_any_key``); anything else (no such route, no such field, no answer)
    keeps the check, so a real target that ignores credentials still fails it.
    """
    try:
        answer = httpx.get(
            origin_of(base_url) + HEALTH_PATH, timeout=HEALTH_TIMEOUT_S, follow_redirects=False
        )
        body = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(body, dict) and body.get("accepts_any_key") is True


def contract_config(
    base_url: str | None = None,
    *,
    api_key: str | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
    workers: int = 1,
    mode: str = "positive",
    skip_checks: Iterable[str] = (),
) -> schemathesis.Config:
    """The schemathesis configuration of a contract run (what ``schemathesis.toml`` would say).

    Without ``base_url`` (pytest integration), pass ``base_url=`` to ``case.call()``.
    """
    if mode not in MODES:
        raise UsageError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    data: dict[str, Any] = {
        "workers": workers,
        # Keep going after a failure, so one known failure cannot hide a new one behind it.
        "continue-on-failure": True,
        "request-timeout": REQUEST_TIMEOUT_S,
        "max-stream-events": MAX_STREAM_EVENTS,
        "generation": {"mode": mode, "max-examples": max_examples, "database": "none"},
        "checks": {
            "response_schema_conformance": {"enabled": False},
            **{name: {"enabled": False} for name in skip_checks},
        },
        "phases": {"stateful": {"enabled": False}},
        "output": {
            "sanitization": {
                "keys-to-sanitize": SANITIZED_KEYS,
                "sensitive-markers": SENSITIVE_MARKERS,
            }
        },
    }
    if base_url is not None:
        data["base-url"] = origin_of(base_url)
    if seed is not None:
        data["seed"] = seed
    if api_key:
        data["headers"] = {"Authorization": f"Bearer {api_key}"}
    return schemathesis.Config.from_dict(data)


def load_schema(
    document: SpecDocument,
    config: schemathesis.Config | None = None,
    *,
    specs_dir: str | None = None,
) -> OpenApiSchema:
    """A schemathesis schema of one effective document, ready for our checks.

    Marks the document so :mod:`harness.contract.checks` knows which harness operation a
    case belongs to (``specs_dir``: the folder it was loaded from, default the shipped specs),
    and makes two thirds of the generated (fuzzing) positive cases streams. ``config``
    defaults to :func:`contract_config` (without a base URL). Request ``format``s stay:
    the harness asserts them as schemathesis does (``harness.schema``), so its negative
    mode's ``url: ""`` must be refused.
    """
    raw = copy.deepcopy(document.effective)
    overlays = bool(document.overlays)
    raw[MARKER] = {"document": document.name, "specs-dir": specs_dir, "overlays": overlays}
    schema = schemathesis.openapi.from_dict(raw, config=config or contract_config())
    schema.hook("flatmap_case")(_force_streams)
    return schema


# How a generated positive case is sent: a stream asking for its usage (chat only: the usage
# chunk and its rules exist only when asked for), a stream, or as generated.
_STREAM_WITH_USAGE, _STREAM, _AS_GENERATED = "stream with usage", "stream", "as generated"


def _force_streams(context: schemathesis.HookContext, case: schemathesis.Case[Any]) -> Any:
    """Turn most generated positive cases into streams (`stream: true`), and some chat
    streams into streams that ask for their usage (`stream_options.include_usage`)."""
    meta = case.meta
    body = case.body
    if meta is None or meta.generation.mode.is_negative or not isinstance(body, dict):
        return st.just(case)
    chat = "messages" in body

    def choose(how: str) -> schemathesis.Case[Any]:
        if how == _STREAM:
            case.body = {**body, "stream": True}
        elif how == _STREAM_WITH_USAGE:
            generated = body.get("stream_options")
            options = generated if isinstance(generated, dict) else {}
            case.body = {
                **body,
                "stream": True,
                "stream_options": {**options, "include_usage": True},
            }
        return case

    # Hypothesis tries its simplest choices first and sampled_from's simplest is the first
    # element, so what is listed first is sent most: about two thirds streams in the fuzzing
    # phase (JSON first gave a third); the coverage phase's cases stay JSON, so both are
    # exercised.
    choices = (_STREAM, _STREAM_WITH_USAGE, _AS_GENERATED) if chat else (_STREAM, _AS_GENERATED)
    return st.sampled_from(choices).map(choose)


def check_names() -> list[str]:
    """Every check name schemathesis knows (built-in and ours), for baseline validation."""
    load_all_checks()  # ours are registered by importing harness.contract.checks, above
    return [*CHECKS.get_all_names(), "max_response_time"]


def run_documents(
    documents: Iterable[SpecDocument],
    report: ContractReport,
    config: schemathesis.Config,
    *,
    baseline: Baseline,
    api_key: str | None,
    specs_dir: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> None:
    """Run the engine over each document, collecting into ``report``.

    Stops early, with an error saying why, when the first answers are all refusals
    (401/403): a wrong key would otherwise be sent hundreds of requests that prove nothing.
    """
    schemas = [load_schema(document, config, specs_dir=specs_dir) for document in documents]
    steps = sum(len(list(schema.get_all_operations())) for schema in schemas) * len(PHASES)
    watch = _RefusalWatch()
    collector = _Collector(report, baseline, api_key, steps, watch)
    for schema in schemas:
        schema.hook("after_call")(watch.hook())
        stream = from_schema(schema).execute()
        watch.on_refused = stream.stop  # the engine checks for a stop before each case
        try:
            for event in stream:
                progress = collector.handle(event)
                if progress is not None and on_progress is not None:
                    on_progress(progress)
        except KeyboardInterrupt:
            stream.stop()
            collector.interrupted = True
        if watch.refused:
            report.add_error(_refused_message(watch.refusals, api_key))
            return
        if collector.interrupted:
            # Not a pass: the operations not reached were never checked (it read "OK", and
            # the next document's run went on).
            report.add_error("interrupted: the run was stopped before it finished")
            return
    report.stale_baseline = [
        entry for entry in baseline.entries if entry not in collector.used_entries
    ]


class _RefusalWatch:
    """Sees every answer as it comes (schemathesis's ``after_call`` hook) and stops the run
    once the first ``REFUSED_STOP_AFTER`` answers were all refusals."""

    def __init__(self) -> None:
        self.refusals: list[int] = []
        self.accepted_any = False
        self.on_refused: Callable[[], None] | None = None

    @property
    def refused(self) -> bool:
        return not self.accepted_any and len(self.refusals) >= REFUSED_STOP_AFTER

    def hook(self) -> Callable[..., None]:
        """The ``after_call`` hook: a function of its own, as schemathesis marks hooks it
        registers (a bound method refuses the attribute)."""

        def after_call(
            context: schemathesis.HookContext, case: schemathesis.Case[Any], response: Any
        ) -> None:
            self.seen(response.status_code)

        return after_call

    def seen(self, status: int) -> None:
        if self.accepted_any:
            return
        if status in REFUSALS:
            self.refusals.append(status)
            if self.refused and self.on_refused is not None:
                self.on_refused()
        else:
            self.accepted_any = True


def _refused_message(statuses: list[int], api_key: str | None) -> str:
    counts = Counter(statuses)
    seen = ", ".join(f"{status}×{n}" for status, n in sorted(counts.items()))
    key = "the key given" if api_key else "no key (none was given)"
    return (
        f"stopped early: the first {len(statuses)} answers were all refusals ({seen}); "
        f"the target does not accept {key}. Check --api-key (or the AIMLAPI_API_KEY variable) "
        "and --base-url"
    )


def new_seed() -> int:
    return random.SystemRandom().randrange(2**31)


class _Collector:
    """Turns engine events into report entries."""

    def __init__(
        self,
        report: ContractReport,
        baseline: Baseline,
        api_key: str | None,
        steps: int = 0,
        watch: _RefusalWatch | None = None,
    ) -> None:
        self.report = report
        self.baseline = baseline
        self.api_key = api_key
        self.used_entries: list[KnownFailure] = []
        self.seen: list[tuple[Failure, FoundFailure]] = []
        self.steps = steps
        self.step = 0
        self.sent = 0
        self.watch = watch
        # Ctrl-C: schemathesis catches it and ends the run with an Interrupted event, as if
        # the run had finished; so does the stop for refusals (see _RefusalWatch).
        self.interrupted = False

    def redact(self, text: str) -> str:
        return mask_key(text, self.api_key)

    def handle(self, event: events.EngineEvent) -> Progress | None:
        if isinstance(event, events.ScenarioFinished) and event.label:
            self.step += 1
            if event.status == "skip":
                return self._progress(event, 0, 0, "skipped")
            return self._scenario(event)
        if isinstance(event, events.Interrupted):
            self.interrupted = True
        elif isinstance(event, events.NonFatalError):
            error = f"{event.label}: {event.info.title}: {event.info.message}"
            self.report.add_error(self.redact(error))
        elif isinstance(event, events.FatalError):
            self.report.add_error(self.redact(f"schemathesis failed: {event.exception}"))
        elif isinstance(event, events.EngineFinished):
            self.report.elapsed += event.running_time
            if event.stop_reason not in (StopReason.COMPLETED, StopReason.INTERRUPTED):
                self.report.add_error(f"the run stopped early: {event.stop_reason.value}")
        return None

    def _scenario(self, event: events.ScenarioFinished) -> Progress:
        recorder = event.recorder
        requests = streamed = 0
        for case_id, node in recorder.cases.items():
            response = _response(recorder, case_id)
            if response is None:
                continue  # never sent (filtered, or the target did not answer)
            case = node.value
            stats = self.report.stats(case.operation.label)
            stats.requests += 1
            requests += 1
            mode = case.meta.generation.mode if case.meta is not None else None
            stats.positive += mode == GenerationMode.POSITIVE
            stats.negative += mode == GenerationMode.NEGATIVE
            stats.statuses[response.status_code] += 1
            if media_type(response) == EVENT_STREAM:
                stats.streamed += 1
                streamed += 1
        failed = False
        for case_id, checks in recorder.checks.items():
            label = recorder.cases[case_id].value.operation.label
            for check in checks:
                self.report.stats(label).checks[check.name] += 1
                if check.failure_info is not None:
                    failed = True
                    answer = _response(recorder, case_id)
                    status = answer.status_code if answer is not None else None
                    self._add_failure(label, check.name, check.failure_info, status)
        outcome = "failed" if failed else "error" if event.status == "error" else "ok"
        if self.watch is not None and self.watch.refused:
            outcome = "refused"
        self.sent += requests
        return self._progress(event, requests, streamed, outcome)

    def _progress(
        self, event: events.ScenarioFinished, requests: int, streamed: int, outcome: str
    ) -> Progress:
        return Progress(
            event.phase.value,
            str(event.label),
            requests,
            streamed,
            outcome,
            step=self.step,
            steps=self.steps,
            sent=self.sent,
            failures=len(self.report.new_failures),
        )

    def _add_failure(
        self, label: str, check: str, info: CheckFailureInfo, status: int | None
    ) -> None:
        failure = info.failure
        # schemathesis's own equality (operation, failure class and its identity key) says
        # when two failures are the same finding.
        for seen, found in self.seen:
            if found.check == check and seen == failure:
                found.occurrences += 1
                return
        entry = FoundFailure(
            operation=label,
            check=check,
            title=self.redact(failure.title),
            message=self.redact(failure.message),
            reproduce=self.redact(info.code_sample) if info.code_sample else None,
            status=status,
        )
        entry.known = self.baseline.match(label, check, entry.text)
        if entry.known is not None and entry.known not in self.used_entries:
            self.used_entries.append(entry.known)
        self.seen.append((failure, entry))
        self.report.failures.append(entry)


def _response(recorder: ScenarioRecorder, case_id: str) -> schemathesis.Response | None:
    interaction = recorder.interactions.get(case_id)
    return interaction.response if interaction is not None else None
