"""Run one benchmark step as a child process: wall-clock seconds and the child's peak RSS.

Each step runs in its own process, so its peak resident set size (``ru_maxrss`` from
``wait4``) is its own: dbt and DuckDB run in one process, GE in another, and so on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Measurement:
    step: str
    seconds: float
    peak_rss_mib: float
    command: str
    ok: bool = True
    detail: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class StepFailed(RuntimeError):
    pass


def run_step(
    step: str,
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
) -> Measurement:
    """Run `cmd`, wait for it with wait4 (its own rusage), raise StepFailed on a non-zero exit."""
    out = open(log, "w", encoding="utf-8") if log else subprocess.DEVNULL  # noqa: SIM115
    started = time.perf_counter()
    try:
        process = subprocess.Popen(
            cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, cwd=cwd
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()
    seconds = time.perf_counter() - started
    # Linux reports ru_maxrss in KiB
    measurement = Measurement(
        step, round(seconds, 2), round(usage.ru_maxrss / 1024, 1), " ".join(cmd)
    )
    if process.returncode != 0:
        tail = log.read_text(encoding="utf-8")[-3000:] if log else ""
        raise StepFailed(f"step {step} failed (exit {process.returncode}): {' '.join(cmd)}\n{tail}")
    print(
        f"  {step}: {seconds:.1f} s, peak RSS {measurement.peak_rss_mib:.0f} MiB", file=sys.stderr
    )
    return measurement
