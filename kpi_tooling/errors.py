"""The tooling's one error type: every tool raises a ``ToolingError`` (or a subclass naming what
went wrong) and every entry point prints its message on stderr and exits non-zero.

No module defines an exception class of its own (tests/python/test_tooling_layout.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpi_tooling.bench.measure import Measurement


class ToolingError(RuntimeError):
    """A tool cannot do what it was asked; the message says why (exit 2 unless a tool says)."""


class SetupError(ToolingError):
    """An input (file, database, manifest, argument) is missing or unreadable (exit 2)."""


class SuiteFileError(SetupError):
    """A suite file (``expectations/*.json``) is missing or lacks the required keys."""


class ManifestMissing(SetupError):
    """No dbt manifest (or no declared units in it) to read the declared KPIs from."""


class MarkersMissing(SetupError):
    """A file with a generated block lacks its start/end markers (e.g. README.md's catalogue)."""


class DeclarationError(ToolingError):
    """A declared unit cannot be turned into a GE suite (e.g. a ref not in the manifest)."""


class StepFailed(ToolingError):
    """A benchmark step exited non-zero; its measurement (seconds, peak RSS, exit code) is kept."""

    def __init__(self, message: str, measurement: Measurement) -> None:
        super().__init__(message)
        self.measurement = measurement
