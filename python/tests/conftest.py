"""Fixtures: the `capsim` command the package is compared with.

CAPSIM_BIN names it (scripts/python.sh sets it: the binary `cargo test`
built, or one built from the same sources as the wheel)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, *args: object, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(self.path), *map(str, args)], capture_output=True, text=True)
        assert proc.returncode in ok, f"capsim {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}"
        return proc


@pytest.fixture(scope="session")
def cli() -> Cli:
    path = Path(os.environ.get("CAPSIM_BIN") or REPO / "target" / "debug" / "capsim")
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"no capsim binary at {path}: set CAPSIM_BIN (scripts/python.sh does)")
    return Cli(path)
