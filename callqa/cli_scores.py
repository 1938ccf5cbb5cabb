"""``callqa score CALL_ID``, ``callqa agent AGENT_ID`` and ``callqa rescore``: scorecards in the database.

Thin over :mod:`scorecards.reports` and :mod:`flows.rescore`. The main CLI mounts ``agent`` and
``rescore`` with :func:`register`; ``score`` lives in :mod:`callqa.cli_rules` (it also scores files) and
calls :func:`show_call` for a call id. A :class:`~core.errors.CallQAError` becomes one message, exit 1.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from core.errors import CallQAError
from core.scorecard import scorecard_to_dict
from flows.rescore import Backtest, backtest, checklist_chooser, rescore_store, shipped_chooser, verdict_counts, write
from scorecards.reports import UPSET_AT_START, AgentReport, EmotionFigures, ItemRate, agent_report, report_to_dict
from scorecards.store import Store

DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="CALLQA_DB", help="The DuckDB file (default ./callqa.duckdb or $CALLQA_DB)."),
]
DEFAULT_DB = Path("callqa.duckdb")
EXAMPLES = 5  # flipped verdicts quoted in a backtest


def _fail(message: str) -> typer.Exit:
    # Checklist errors already read "file:line:column: error: …", one per line.
    typer.echo(message if " error: " in message.split("\n", 1)[0] else f"error: {message}", err=True)
    return typer.Exit(1)


def _num(value: float | None, fmt: str = "g") -> str:
    return "—" if value is None else format(value, fmt)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


# -- score CALL_ID ---------------------------------------------------------------------------------------


def show_call(ref: str, db: Path, json_out: bool) -> None:
    """Print a stored call's current scorecard(s); ``ref`` is a call id, an id prefix, external id or file name."""
    from callqa.cli_rules import render_text

    try:
        store = Store(db)
        call = store.find_call(ref)
        cards = store.current_scorecards(call.call_id)
    except CallQAError as exc:
        raise _fail(str(exc)) from exc
    if not cards and call.status == "failed":
        raise _fail(f"call {call.call_id[:12]} ({call.file_name}) failed and has no scorecard: {call.failure_reason}")
    if not cards:
        raise _fail(f"call {call.call_id[:12]} ({call.file_name}) has no scorecard yet; `callqa rescore` scores "
                    "stored transcripts")  # fmt: skip
    if json_out:
        doc = {"call_id": call.call_id, "file_name": call.file_name, "agent_id": call.agent_id, "team": call.team,
               "started_at": call.started_at.isoformat() if call.started_at else None,
               "scorecards": [scorecard_to_dict(c) for c in cards]}  # fmt: skip
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        return
    when = call.started_at.strftime("%Y-%m-%d %H:%M") if call.started_at else "time unknown"
    typer.echo(f"{call.file_name} — agent {call.agent}{f' ({call.team})' if call.team else ''}, {when}")
    for card in cards:
        typer.echo("")
        typer.echo(render_text(card))


# -- agent AGENT_ID --------------------------------------------------------------------------------------


def render_agent(report: AgentReport) -> str:
    """The agent report as a supervisor reads it: totals per day and week beside the team, worst items first."""
    team = f"team {report.team}" if report.team else "all calls"
    t = report.trend
    trend = f"{_num(t.this_mean)} in {t.this_week} vs {_num(t.last_mean)} in {t.last_week}"
    if t.delta is not None:
        trend += f" ({t.delta:+g})"
    out = [f"Agent {report.agent_id} — {report.since} to {report.until}, compared with {team}",
           f"{report.calls} calls, mean {_num(report.mean_total)} (team {_num(report.team_mean_total)} over "
           f"{report.team_calls} calls); needs review {_pct(report.needs_review_share)}",
           f"Trend: {trend}", *_emotion_lines(report.emotion, report.team_emotion)]  # fmt: skip
    for heading, periods in (("Per week", report.weeks), ("Per day", report.days)):
        out += ["", f"{heading} (angry: calls with an angry customer; calmer: upset customers who ended calmer; "
                "tone: agent negative tone):",
                f"  {'':<10} {'calls':>5} {'mean':>6} {'team':>6} {'review':>6} {'angry':>5} {'team':>5} "
                f"{'calmer':>6} {'team':>5} {'tone':>5} {'team':>5}"]  # fmt: skip
        out += [f"  {p.period:<10} {p.calls:>5} {_num(p.mean_total):>6} {_num(p.team_mean_total):>6} "
                f"{_pct(p.needs_review_share):>6} {_pct(p.emotion.angry_customer_share):>5} "
                f"{_pct(p.team_emotion.angry_customer_share):>5} {_pct(p.emotion.calmer_share):>6} "
                f"{_pct(p.team_emotion.calmer_share):>5} {_pct(p.emotion.negative_tone_share):>5} "
                f"{_pct(p.team_emotion.negative_tone_share):>5}" for p in periods]  # fmt: skip
    out += ["", "Items, worst first (pass rate = pass / (pass + fail)):",
            f"  {'item':<34} {'pass':>5} {'fail':>5} {'?':>3} {'rate':>5} {'team':>5}"]  # fmt: skip
    out += [_item_line(r) for r in report.items]
    return "\n".join(out)


def _emotion_lines(mine: EmotionFigures, team: EmotionFigures) -> list[str]:
    """The agent's emotion figures beside the team's, each share with what it is a share of."""
    if not team.calls:
        return ["Customer emotion: no call has an emotion summary"]
    return [
        f"Angry customer: {_pct(mine.angry_customer_share)} of {mine.customer_calls} calls with customer speech "
        f"(team {_pct(team.angry_customer_share)} of {team.customer_calls})",
        f"Ended calmer: {_pct(mine.calmer_share)} of {mine.upset_at_start} calls whose customer was upset at the "
        f"start, anger ≥ {UPSET_AT_START:g} (team {_pct(team.calmer_share)} of {team.upset_at_start})",
        f"Agent negative tone: {_pct(mine.negative_tone_share)} of {mine.calls} calls "
        f"(team {_pct(team.negative_tone_share)} of {team.calls})",
    ]


def _item_line(r: ItemRate) -> str:
    name = f"{r.item_id} ({r.checklist_id})"
    return (f"  {name:<34} {r.passed:>5} {r.failed:>5} {r.uncertain:>3} {_pct(r.pass_rate):>5} "
            f"{_pct(r.team_pass_rate):>5}")  # fmt: skip


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
        raise _fail(str(exc)) from exc
    typer.echo(json.dumps(report_to_dict(report), ensure_ascii=False, indent=1) if json_out else render_agent(report))


# -- rescore ---------------------------------------------------------------------------------------------


def render_backtest(result: Backtest, counts: dict[str, int], written: int | None) -> str:
    """What a rescoring changes: calls, agents, verdict flips per item and direction, a few quoted examples."""
    ids = ", ".join(f"{i} v{v} ({h[:12]})" for i, v, h in result.checklists) or "none"
    out = [f"Rescored {result.scored} scorecard(s) with {ids}; {result.unscored} call(s) in no checklist's language",
           "Verdicts: " + ", ".join(f"{k} {n}" for k, n in counts.items()),
           f"{len(result.changes)} call(s) would change" if written is None else
           f"{len(result.changes)} call(s) changed; {written} scorecard(s) written (old ones kept, superseded)"]
    if result.changes:
        out += ["", "Calls (largest change first):"]
        ranked = sorted(result.changes, key=lambda c: (-abs(c.delta or 0.0), c.call_id))
        out += [f"  {c.call_id[:12]}  {c.agent_id:<12} {c.checklist_id:<12} {_num(c.before):>6} → {_num(c.after):<6}"
                f" {len(c.flips)} flip(s)" for c in ranked[:20]]  # fmt: skip
        if len(ranked) > 20:
            out.append(f"  … and {len(ranked) - 20} more (--json lists all)")
    agents = [a for a in result.agents if a.changed]
    if agents:
        out += ["", "Agents:"]
        out += [f"  {a.agent_id:<12} {a.changed}/{a.calls} calls change, mean {_num(a.mean_before)} → "
                f"{_num(a.mean_after)}" + (f" ({a.delta:+g})" if a.delta is not None else "") for a in agents]
    if result.flip_counts:
        out += ["", "Verdict flips (item: before → after, calls):"]
        out += [f"  {item}: {before} → {after}  {n}" for item, before, after, n in result.flip_counts]
        flips = [f for c in result.changes for f in c.flips if f.before != "none"][:EXAMPLES]
        if flips:
            out += ["", "Examples:"]
            out += [f"  {f.call_id[:12]} {f.item_id}: {f.before} → {f.after}"
                    + (f' at {_clock(f.start)} "{f.quote}"' if f.quote else "") for f in flips]  # fmt: skip
    return "\n".join(out)


def _clock(seconds: float) -> str:
    from callqa.cli_rules import clock

    return clock(seconds)


def backtest_to_dict(result: Backtest, counts: dict[str, int], written: int | None) -> dict[str, object]:
    """The JSON form of a rescoring (``callqa rescore --json``)."""
    return {
        "checklists": [{"id": i, "version": v, "hash": h} for i, v, h in result.checklists],
        "scored": result.scored, "unscored": result.unscored, "verdicts": counts, "written": written,
        "calls": [{"call_id": c.call_id, "agent_id": c.agent_id, "checklist": c.checklist_id, "before": c.before,
                   "after": c.after, "delta": c.delta,
                   "flips": [{"id": f.item_id, "before": f.before, "after": f.after, "quote": f.quote,
                              "start": f.start} for f in c.flips]} for c in result.changes],
        "agents": [{"agent_id": a.agent_id, "calls": a.calls, "changed": a.changed, "mean_before": a.mean_before,
                    "mean_after": a.mean_after, "delta": a.delta} for a in result.agents],
        "flips": [{"id": i, "before": b, "after": a, "calls": n} for i, b, a, n in result.flip_counts],
    }  # fmt: skip


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
        raise _fail(str(exc)) from exc
    counts = verdict_counts(results)
    if json_out:
        typer.echo(json.dumps(backtest_to_dict(result, counts, written), ensure_ascii=False, indent=1))
    else:
        typer.echo(render_backtest(result, counts, written))


def register(app: typer.Typer) -> None:
    """Mount ``agent`` and ``rescore`` on the main CLI (``score`` is mounted by :mod:`callqa.cli_rules`)."""
    app.command("agent")(agent_command)
    app.command("rescore")(rescore_command)
