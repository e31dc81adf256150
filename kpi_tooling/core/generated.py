"""Generated files, written or checked the same way by every generator (raw tables, semantic
layer and definition docs, README catalogue, VARS.md): a file is stale when it is missing or its
text differs from what its one source gives; ``--check`` lists the stale ones and exits 1, and a
write touches only the files whose text changes."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path


def stale(outputs: Mapping[Path, str]) -> list[Path]:
    """The files of ``outputs`` (path -> wanted text) that are missing or differ."""
    return [
        path
        for path, text in outputs.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write_or_check(outputs: Mapping[Path, str], check: bool, regenerate: str) -> int:
    """With ``check``: print each stale file and how to ``regenerate`` it, exit code 1 if any.
    Otherwise write the stale files and return 0."""
    changed = stale(outputs)
    if check:
        for path in changed:
            print(f"{path} is stale: run `{regenerate}`", file=sys.stderr)
        return 1 if changed else 0
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0
