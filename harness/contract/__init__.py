"""Contract runs: property-based tests of a target with schemathesis, on the effective specs.

>>> report = run_contract("http://127.0.0.1:8080/v1", api_key="k")  # doctest: +SKIP
>>> report.ok, [f.check for f in report.new_failures]  # doctest: +SKIP
(True, [])

``run_contract`` drives schemathesis's engine once per spec document; the checks in
:mod:`harness.contract.checks` (registered with ``@schemathesis.check``) judge each answer,
and a :class:`Baseline` accepts known failures of a real target.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.contract.baseline import Baseline, KnownFailure, load_baseline
from harness.contract.checks import CONTRACT_CHECKS, ContractFailure, harness_operation
from harness.contract.report import ContractReport, FoundFailure, OperationStats, write_junit
from harness.contract.runner import (
    ANY_KEY_NOTE,
    DEFAULT_MAX_EXAMPLES,
    IGNORED_AUTH,
    MODES,
    Progress,
    check_names,
    contract_config,
    load_schema,
    new_seed,
    origin_of,
    run_documents,
    target_accepts_any_key,
    target_silence,
)
from harness.spec import load_specs


def run_contract(
    base_url: str,
    *,
    api_key: str | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
    workers: int = 1,
    mode: str = "positive",
    baseline: Path | Baseline | None = None,
    specs_dir: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> ContractReport:
    """Test every operation of the effective specs against ``base_url``.

    ``mode`` is ``positive`` (spec-valid requests: never a 4xx refusal), ``negative``
    (requests the spec forbids: a 4xx JSON error, never a 5xx) or ``all``. Without a
    ``seed`` a random one is drawn and kept in the report, so a run can be repeated.
    Raises :class:`harness.errors.UsageError` for a bad URL, mode or baseline.
    """
    specs = load_specs(specs_dir)
    if isinstance(baseline, Path):
        baseline = load_baseline(baseline, specs, check_names())
    seed = new_seed() if seed is None else seed
    # This project's mock started without --api-key takes any key by design: its
    # ignored_auth failure would be the mock's choice, not a finding (see the function).
    skipped = (IGNORED_AUTH,) if target_accepts_any_key(base_url) else ()
    config = contract_config(
        base_url,
        api_key=api_key,
        max_examples=max_examples,
        seed=seed,
        workers=workers,
        mode=mode,
        skip_checks=skipped,
    )
    report = ContractReport(origin_of(base_url), mode, seed, max_examples)
    if skipped:
        report.notes.append(ANY_KEY_NOTE)
    silence = target_silence(base_url)
    if silence is not None:
        report.add_error(silence)
        return report
    run_documents(
        specs.documents,
        report,
        config,
        baseline=baseline or Baseline(),
        api_key=api_key,
        specs_dir=str(specs_dir) if specs_dir is not None else None,
        on_progress=on_progress,
    )
    _require_answers(report)
    return report


def _require_answers(report: ContractReport) -> None:
    # A run where no spec-valid request was ever answered 2xx tested nothing (a wrong key
    # gets 401 everywhere, which positive_data_acceptance allows); say so instead of passing.
    for operation, stats in report.operations.items():
        answered = sum(n for status, n in stats.statuses.items() if 200 <= status < 300)
        if stats.positive and not answered:
            seen = ", ".join(f"{status}×{n}" for status, n in sorted(stats.statuses.items()))
            report.add_error(
                f"{operation}: none of {stats.positive} spec-valid requests got a 2xx answer "
                f"(statuses: {seen}); check --base-url and --api-key"
            )


__all__ = [
    "CONTRACT_CHECKS",
    "DEFAULT_MAX_EXAMPLES",
    "MODES",
    "Baseline",
    "ContractFailure",
    "ContractReport",
    "FoundFailure",
    "KnownFailure",
    "OperationStats",
    "Progress",
    "check_names",
    "contract_config",
    "harness_operation",
    "load_baseline",
    "load_schema",
    "run_contract",
    "write_junit",
]
