"""What the flow tests share: the CLI run as a newcomer runs it, and a search of every stored text column."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb


def callqa(*args: str, timeout: float = 600, **kw: object) -> subprocess.CompletedProcess[str]:
    """``callqa ARGS…`` in a fresh interpreter, its output captured."""
    return subprocess.run([sys.executable, "-m", "callqa.cli", *args], capture_output=True, text=True,
                          timeout=timeout, **kw)  # type: ignore[call-overload]


def text_columns_holding(db: Path, needles: list[str]) -> list[str]:
    """Every ``table.column: needle`` of text in the database that holds one of ``needles`` (case-insensitive)."""
    found = []
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE data_type = 'VARCHAR'").fetchall()
        for table, column in columns:
            for needle in needles:
                n = con.execute(f'SELECT count(*) FROM "{table}" WHERE contains(lower("{column}"), ?)',
                                [needle.lower()]).fetchone()
                if n and n[0]:
                    found.append(f"{table}.{column}: {needle}")
    return found
