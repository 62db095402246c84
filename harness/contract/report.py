"""The outcome of a contract run as data, and its JUnit XML rendering for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.contract.baseline import KnownFailure


@dataclass
class FoundFailure:
    """One distinct failure: the same check failing the same way counts once, with a tally."""

    operation: str  # "POST /v1/chat/completions"
    check: str
    title: str
    message: str
    reproduce: str | None = None  # a curl command, the key filtered out
    status: int | None = None  # the HTTP status of the (first) failing answer
    occurrences: int = 1
    known: KnownFailure | None = None  # the baseline entry that accepts it

    @property
    def text(self) -> str:
        """What a baseline ``message`` pattern is searched in: title, message, HTTP status."""
        status = f"HTTP {self.status}" if self.status is not None else ""
        return "\n".join(part for part in (self.title, self.message, status) if part)


@dataclass
class OperationStats:
    requests: int = 0
    positive: int = 0
    negative: int = 0
    streamed: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)  # check name -> times it ran


@dataclass
class ContractReport:
    """Everything a run found; :attr:`ok` is what the exit status reports."""

    base_url: str
    mode: str
    seed: int
    max_examples: int
    operations: dict[str, OperationStats] = field(default_factory=dict)
    failures: list[FoundFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # each distinct error once
    error_counts: Counter[str] = field(default_factory=Counter)
    stale_baseline: list[KnownFailure] = field(default_factory=list)
    elapsed: float = 0.0
    # What the run chose to leave out, and why (printed before the summary).
    notes: list[str] = field(default_factory=list)

    @property
    def new_failures(self) -> list[FoundFailure]:
        return [failure for failure in self.failures if failure.known is None]

    @property
    def known_failures(self) -> list[FoundFailure]:
        return [failure for failure in self.failures if failure.known is not None]

    @property
    def ok(self) -> bool:
        return not self.new_failures and not self.errors

    def add_error(self, error: str) -> None:
        if error not in self.error_counts:
            self.errors.append(error)
        self.error_counts[error] += 1

    def stats(self, operation: str) -> OperationStats:
        return self.operations.setdefault(operation, OperationStats())


def write_junit(report: ContractReport, path: Path) -> None:
    """One test suite per operation, one test case per check that ran on it.

    A check with new failures is a ``<failure>``; failures the baseline accepts are listed in
    the test case's ``system-out`` and do not fail it; run errors are ``<error>`` cases.
    """
    root = ET.Element("testsuites", name="harness contract", time=f"{report.elapsed:.3f}")
    for operation, stats in sorted(report.operations.items()):
        suite = ET.SubElement(root, "testsuite", name=operation)
        failed = 0
        for check in sorted(stats.checks):
            case = ET.SubElement(suite, "testcase", classname=operation, name=check)
            found = [f for f in report.failures if f.operation == operation and f.check == check]
            new = [f for f in found if f.known is None]
            if new:
                failed += 1
                body = "\n\n".join(_describe(f) for f in new)
                ET.SubElement(case, "failure", message=new[0].title, type=check).text = body
            known = [f for f in found if f.known is not None]
            if known:
                ET.SubElement(case, "system-out").text = "\n\n".join(
                    f"known failure ({f.known.reason or f.known.describe()}):\n{_describe(f)}"
                    for f in known
                    if f.known is not None
                )
        suite.set("tests", str(len(stats.checks)))
        suite.set("failures", str(failed))
        suite.set("errors", "0")
    if report.errors:
        suite = ET.SubElement(
            root,
            "testsuite",
            name="run",
            tests=str(len(report.errors)),
            errors=str(len(report.errors)),
        )
        for number, error in enumerate(report.errors, 1):
            case = ET.SubElement(suite, "testcase", classname="run", name=f"error {number}")
            ET.SubElement(
                case, "error", message=error.splitlines()[0] if error else "error"
            ).text = error
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")


def _describe(failure: FoundFailure) -> str:
    lines = [failure.title, failure.message, f"seen {failure.occurrences} time(s)"]
    if failure.reproduce:
        lines.append(f"reproduce: {failure.reproduce}")
    return "\n".join(line for line in lines if line)
