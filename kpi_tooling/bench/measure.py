"""Run one benchmark step as a child process: wall-clock seconds and the child's peak RSS.

Each step runs in its own process, so its peak resident set size is its own: dbt and DuckDB
run in one process, GE in another, and so on. Linux starts a child's ``ru_maxrss`` at the size
of the process it was forked from, so the bench (which holds DuckDB and pandas) does not fork
the step itself: it starts this module as a small wrapper (``python -m
kpi_tooling.bench.measure --rss-file F -- cmd ...``), which runs the step and writes the
step's ``RUSAGE_CHILDREN`` peak (the wrapper's own ~10 MiB at most is the floor).
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a command; write its peak RSS (KiB).")
    parser.add_argument("--rss-file", required=True)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    returncode = subprocess.call(cmd)
    # Linux reports ru_maxrss in KiB; the children's peak is the step's own process
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(args.rss_file).write_text(str(peak), encoding="utf-8")
    return returncode


if __name__ == "__main__":
    raise SystemExit(main())
