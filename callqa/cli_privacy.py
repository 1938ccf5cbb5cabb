"""``callqa redact``: hide the personal data of a store made before redaction existed (or under mode "off").

Thin over :mod:`flows.redact_store`; a :class:`~core.errors.CallQAError` becomes a one-line message and exit 1.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from callqa.options import DEFAULT_DB, DbOption, fail
from core.errors import CallQAError

console = Console()


def redact_command(
    db: DbOption = DEFAULT_DB,
    keep_clear: Annotated[bool, typer.Option(
        "--keep-clear", help="Keep the clear text apart (as redaction mode \"both\": only pii:clear roles read it, "
        "every read audited). By default it is gone once redacted.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Redact every stored transcript still in clear, one transaction each: resumable, and a rerun changes nothing.

    Hides phone, ID and card numbers, emails, addresses, names and birth dates in the transcripts, their words,
    the scorecards' quotes and the regression examples; the recordings on disk are not touched (the web player
    silences the spans). Stop the nightly run and the web server first: the store has one writer.
    """
    from flows.redact_store import redact_store
    from scorecards.store.database import Store

    try:
        store = Store(db)
        if progress:
            with Progress(TextColumn("redacting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("redact", total=None)
                done = redact_store(store, keep_clear=keep_clear,
                                    progress=lambda n, total: bar.update(task, completed=n, total=total))
        else:
            done = redact_store(store, keep_clear=keep_clear)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    if not done.of:
        console.print(f"{db}: every transcript is already redacted", highlight=False, soft_wrap=True)
        return
    console.print(f"{db}: {done.transcripts} transcript(s) redacted, {done.spans} span(s) of personal data hidden",
                  highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("redact")(redact_command)
