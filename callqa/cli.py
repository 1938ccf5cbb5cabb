"""The ``callqa`` command line (placeholder until the commands land)."""

import typer

app = typer.Typer(help="callqa: offline quality inspection of recorded calls.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the version."""
    from callqa import __version__

    typer.echo(__version__)


def main() -> None:
    app()
