"""``callqa score CALL_ID``, ``callqa agent AGENT_ID`` and ``callqa rescore``: scorecards in the database.

Thin over :mod:`scorecards.people.reports` and :mod:`flows.rescore`. The main CLI mounts ``agent`` and
``rescore`` with :func:`register`; ``score`` lives in :mod:`callqa.cli_rules` (it also scores files) and
calls :func:`show_call` for a call id. A :class:`~core.errors.CallQAError` becomes one message, exit 1.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from callqa.options import DEFAULT_DB, DbOption, fail
from callqa.render import backtest_to_dict, render_agent, render_backtest
from core.errors import CallQAError
from flows.rescore import backtest, checklist_chooser, rescore_store, shipped_chooser, verdict_counts, write
from scorecards.people.reports import agent_report, report_to_dict
from scorecards.store.database import Store

# -- agent AGENT_ID --------------------------------------------------------------------------------------


def agent_command(
    agent_id: Annotated[str, typer.Argument(help="The agent id as in the call metadata.")],
    db: DbOption = DEFAULT_DB,
    days: Annotated[int, typer.Option("--days", help="Days covered, ending on the agent's latest call.")] = 28,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """An agent's scores per day and week beside the team's: pass rate per item, trend, review share, and how
    often the customer was angry and ended calmer, and the agent's negative tone."""
    try:
        report = agent_report(Store(db), agent_id, days=days)
    except CallQAError as exc:
        raise fail(str(exc)) from exc
    typer.echo(json.dumps(report_to_dict(report), ensure_ascii=False, indent=1) if json_out else render_agent(report))


# -- rescore ---------------------------------------------------------------------------------------------


def rescore_command(
    checklist: Annotated[
        Path | None, typer.Option("--checklist", help="Checklist YAML (default: each call's shipped checklist).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Backtest only: show what would change, write nothing.")]
    = False,
    db: DbOption = DEFAULT_DB,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Rescore stored transcripts (no audio, no re-transcription); old scorecards are kept, superseded."""
    from core.version import code_version
    from rules.loader import load_checklist

    try:
        store = Store(db)
        if checklist is not None:  # an invalid checklist fails here, before any call is read
            rules = load_checklist(checklist)
            results, unscored = rescore_store(store, checklist_chooser(rules), rules.languages)
        else:
            results, unscored = rescore_store(store, shipped_chooser())
        result = backtest(results, unscored)
        written = None
        if not dry_run:
            written = write(store, results, f"rescore:{time.strftime('%Y%m%dT%H%M%S')}", code_version())
    except CallQAError as exc:
        raise fail(str(exc)) from exc
    counts = verdict_counts(results)
    if json_out:
        typer.echo(json.dumps(backtest_to_dict(result, counts, written), ensure_ascii=False, indent=1))
    else:
        typer.echo(render_backtest(result, counts, written))


def register(app: typer.Typer) -> None:
    """Mount ``agent`` and ``rescore`` on the main CLI (``score`` is mounted by :mod:`callqa.cli_rules`)."""
    app.command("agent")(agent_command)
    app.command("rescore")(rescore_command)
