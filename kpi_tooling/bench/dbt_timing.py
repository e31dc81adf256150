"""Where a dbt step's wall-clock seconds go: start-up and parsing, or the run itself.

dbt writes ``run_results.json`` (``elapsed_time``: the run of the selected nodes, hooks included,
without start-up and project parsing) and, with ``--log-format-file json``, one JSON event per
line in ``<log-path>/dbt.log``. The events give the parse time (from dbt's first event to
``FoundStats``, printed once the manifest is loaded and written) and whether the saved
``partial_parse.msgpack`` was reused: dbt logs ``UnableToPartialParse`` ("Unable to do partial
parsing because ...") when it parses the whole project instead. dbt rotates dbt.log at 10 MB
(into dbt.log.1, ...): the start of a long run is in the rotated files.

What invalidates the saved parse: other ``--vars``, and another profile, which includes the
connection's values (dbt 1.11 hashes ``credentials.connection_info()``), so another DuckDB file
or attached raw file means a full parse.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

# Flags for `dbt <command>` that write the event log read here.
LOG_FLAGS = ("--log-format-file", "json")


def _log_files(log: Path) -> list[Path]:
    """`log` and the files dbt rotated it into (dbt.log.1 the newest of them), oldest first."""
    rotated = [path for path in log.parent.glob(log.name + ".*") if path.suffix[1:].isdigit()]
    rotated.sort(key=lambda path: -int(path.suffix[1:]))
    return [*rotated, log]


def _events(log: Path) -> list[dict]:
    lines = [
        line
        for path in _log_files(log)
        if path.exists()
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    events = []
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            events.append(json.loads(line)["info"])
        except (json.JSONDecodeError, KeyError):
            continue
    return events


def _ts(event: dict) -> datetime:
    return datetime.fromisoformat(event["ts"].replace("Z", "+00:00"))


def detail(
    results: Path, log: Path | None = None, wall_seconds: float | None = None
) -> dict | None:
    """dbt's own timing of one step: ``dbt_elapsed_seconds`` (run_results' elapsed: the model
    time of a ``dbt run``), ``startup_parse_seconds`` (wall clock minus that: Python start-up,
    dbt start-up, parsing, writing the artifacts), ``parse_seconds`` (dbt's first event to
    FoundStats), ``parse`` ("partial" or "full") with ``full_parse_reason``, and how many nodes
    ended in each status (a failed run still writes run_results.json)."""
    if not results.exists():
        return None
    run_results = json.loads(results.read_text(encoding="utf-8"))
    statuses: dict[str, int] = {}
    for node in run_results["results"]:
        statuses[node["status"]] = statuses.get(node["status"], 0) + 1
    elapsed = run_results["elapsed_time"]
    facts: dict = {"dbt_elapsed_seconds": round(elapsed, 2), "node_statuses": statuses}
    if wall_seconds is not None:
        facts["startup_parse_seconds"] = round(max(wall_seconds - elapsed, 0.0), 2)
    if log is not None:
        facts.update(parse_facts(log))
    return facts


def parse_facts(log: Path) -> dict:
    """Parse seconds and form (partial or full) from one dbt invocation's JSON event log."""
    events = _events(log)
    if not events:
        return {}
    facts: dict = {}
    found = next((e for e in events if e.get("name") == "FoundStats"), None)
    if found is not None:
        facts["parse_seconds"] = round((_ts(found) - _ts(events[0])).total_seconds(), 2)
    reasons = [e.get("msg", "") for e in events if e.get("name") == "UnableToPartialParse"]
    partial = any(
        e.get("name") in ("PartialParsingEnabled", "PartialParsingSkipParsing") for e in events
    )
    facts["parse"] = "partial" if partial and not reasons else "full"
    if reasons:
        facts["full_parse_reason"] = reasons[0]
    return facts
