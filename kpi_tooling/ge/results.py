"""Plain results of a GE run: what failed, for which KPI and rule, with sample keys."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SAMPLE_SIZE = 5


@dataclass
class ExpectationOutcome:
    """One expectation of one suite."""

    rule: str
    kpi: str
    type: str
    success: bool
    unexpected_count: int | None = None
    sample_keys: list[str] = field(default_factory=list)
    observed_value: Any = None
    details: Any = None
    error: str | None = None


@dataclass
class SuiteOutcome:
    """One suite run against one unit model."""

    suite: str
    model: str
    relation: str
    kpis: list[str]
    success: bool
    row_count: int
    duration_seconds: float
    expectations: list[ExpectationOutcome]
    # the unit's definition, read from its registry entry (or declaration) at run time
    unit_of_output: str = ""

    def failures(self) -> list[ExpectationOutcome]:
        return [item for item in self.expectations if not item.success]


@dataclass(frozen=True)
class SkippedSuite:
    """A suite not run because the project does not build its model (its domain is disabled)."""

    suite: str
    model: str
    reason: str

    def note(self) -> str:
        return f"skipped: {self.model} ({self.reason})"


@dataclass
class Report:
    """Everything ``run_suites`` found; ``to_dict`` is what lands in the results file."""

    suites: list[SuiteOutcome]
    data_docs_index: str | None = None
    skipped: list[SkippedSuite] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(suite.success for suite in self.suites)

    def failure_messages(self) -> list[str]:
        return [failure_message(suite, item) for suite in self.suites for item in suite.failures()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "data_docs_index": self.data_docs_index,
            "suites": [asdict(suite) for suite in self.suites],
            "skipped": [asdict(item) for item in self.skipped],
        }


def jsonable(value: Any) -> Any:
    """GE observed values may hold timestamps or decimals; keep the results file plain JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return str(value)


def failure_message(suite: SuiteOutcome, item: ExpectationOutcome) -> str:
    """``FAIL <kpi> / <model>: rule "<rule>" — <n> offending rows, e.g. <keys>``."""
    head = f'{item.kpi} / {suite.model}: rule "{item.rule}"'
    if item.error:
        return f"ERROR {head} — could not be evaluated: {item.error}"
    if item.unexpected_count is None:
        extra = f" ({item.details})" if item.details else ""
        return f"FAIL {head} — observed {item.observed_value}{extra}"
    rows = "row" if item.unexpected_count == 1 else "rows"
    message = f"FAIL {head} — {item.unexpected_count} offending {rows}"
    if item.sample_keys:
        message += f", e.g. {', '.join(item.sample_keys)}"
    return message
