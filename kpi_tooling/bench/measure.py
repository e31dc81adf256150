"""Run one benchmark step as a child process: wall-clock seconds and the child's peak RSS.

Each step runs in its own process, so its peak resident set size is its own: dbt and DuckDB
run in one process, GE in another, and so on. Linux starts a child's ``ru_maxrss`` at the size
of the process it was forked from, so the bench (which holds DuckDB and pandas) does not fork
the step itself: it starts this module as a small wrapper (``python -m
kpi_tooling.bench.measure --rss-file F -- cmd ...``), which runs the step and writes the
step's ``RUSAGE_CHILDREN`` peak (the wrapper's own ~10 MiB at most is the floor).

A step's process may start one that it never waits for: PySpark launches the JVM that runs
Spark and lets it exit on its own. Its usage would reach no ``RUSAGE_CHILDREN``, so the wrapper
makes itself the child subreaper (Linux ``prctl``): such an orphan is reparented to the wrapper,
which waits for it (up to ORPHAN_WAIT seconds) before reading the peak.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from kpi_tooling.errors import StepFailed


@dataclass
class Measurement:
    step: str
    seconds: float
    peak_rss_mib: float
    command: str
    detail: dict | None = None
    exit_code: int = 0

    @property
    def failed(self) -> bool:
        return self.exit_code != 0

    def to_dict(self) -> dict:
        return asdict(self)


ROOT = Path(__file__).resolve().parents[2]


def run_step(
    step: str,
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
) -> Measurement:
    """Run `cmd` under the measuring wrapper; raise StepFailed on a non-zero exit."""
    out = open(log, "w", encoding="utf-8") if log else subprocess.DEVNULL  # noqa: SIM115
    with tempfile.TemporaryDirectory() as scratch:
        rss_file = Path(scratch) / "rss"
        wrapper = [sys.executable, "-m", "kpi_tooling.bench.measure", "--rss-file", str(rss_file)]
        started = time.perf_counter()
        try:
            returncode = subprocess.call(
                [*wrapper, "--", *cmd],
                env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
            )
        finally:
            if log:
                out.close()
        seconds = time.perf_counter() - started
        peak_kib = int(rss_file.read_text()) if rss_file.exists() else 0
    measurement = Measurement(
        step, round(seconds, 2), round(peak_kib / 1024, 1), " ".join(cmd), exit_code=returncode
    )
    if returncode != 0:
        tail = log.read_text(encoding="utf-8")[-3000:] if log else ""
        raise StepFailed(
            f"step {step} failed (exit {returncode}): {' '.join(cmd)}\n{tail}", measurement
        )
    print(
        f"  {step}: {seconds:.1f} s, peak RSS {measurement.peak_rss_mib:.0f} MiB", file=sys.stderr
    )
    return measurement


ORPHAN_WAIT = 120.0
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process the subreaper of its descendants (Linux); False where it cannot."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(timeout: float = ORPHAN_WAIT) -> None:
    """Wait for the descendants reparented to this process, so their usage is counted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a command; write its peak RSS (KiB).")
    parser.add_argument("--rss-file", required=True)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    become_subreaper()
    returncode = subprocess.call(cmd)
    reap_orphans()
    # Linux reports ru_maxrss in KiB; the children's peak is the step's own process
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(args.rss_file).write_text(str(peak), encoding="utf-8")
    return returncode


if __name__ == "__main__":
    raise SystemExit(main())
