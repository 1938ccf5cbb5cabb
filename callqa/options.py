"""What every ``callqa`` command shares: the ``--db`` and ``--config`` options and how an error is printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="CALLQA_DB", help="The DuckDB file (default ./callqa.duckdb or $CALLQA_DB)."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="CALLQA_CONFIG", help="Settings TOML (default ./callqa.toml if present)."),
]
DEFAULT_DB = Path("callqa.duckdb")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise.

    Checklist diagnostics already read ``file:line:column: error: …``, one per line, and are printed as they are.
    """
    first = message.split("\n", 1)[0]
    typer.echo(message if " error: " in first else f"error: {message}", err=True)
    return typer.Exit(code)


ClusterOption = Annotated[
    str | None,
    typer.Option("--cluster", help="Run the per-call work on Dask: local:N worker processes here, or a scheduler "
                                   "such as tcp://HOST:8786 (default: [cluster] address, else in process)."),
]
