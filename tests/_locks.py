"""A probe for the database file's lock, shared by the store tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def writable_from_another_process(path: Path) -> bool:
    """Whether a plain DuckDB connection in another process (no callqa, no marker) can open the file to write."""
    probe = ("import duckdb, sys\ntry:\n    duckdb.connect(sys.argv[1]).close()\n"
             "except duckdb.IOException:\n    sys.exit(3)")
    return subprocess.run([sys.executable, "-c", probe, str(path)], check=False).returncode == 0
