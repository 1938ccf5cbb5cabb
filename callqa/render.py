"""How results are shown to a person on the command line: run reports, transcripts, scorecards, agent reports,
backtests and checklist evaluations. Every ``callqa`` command that prints a result renders it here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from core.scorecard import CallScorecard, Evidence, ItemVerdict, Verdict
from core.types import CallMetadata, Role, RunSummary, Transcript

if TYPE_CHECKING:  # the types only: printing a transcript does not load the rule engine or the store
    from flows.rescore import Backtest
    from rules.evaluate import Evaluation, Pair
    from scorecards.people.reports import AgentReport, EmotionFigures, ItemRate
    from scorecards.store.database import CallRow


EXAMPLES = 5  # flipped verdicts quoted in a backtest


def fmt_time(seconds: float) -> str:
    """``m:ss.s`` for times inside a call."""
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def fmt_duration(seconds: float) -> str:
    """``1 h 02 min``, ``4 min 38 s`` or ``12.3 s``."""
    if seconds >= 3600:
        h, rem = divmod(seconds, 3600)
        return f"{int(h)} h {int(rem // 60):02d} min"
    if seconds >= 60:
        m, s = divmod(seconds, 60)
        return f"{int(m)} min {int(s):02d} s"
    return f"{seconds:.1f} s"


def print_run_report(console: Console, summary: RunSummary, calls_by_id: dict[str, str] | None = None) -> None:
    """The report QA staff read after the nightly run: counts, time, speed, and what needs attention."""
    names = calls_by_id or {}
    table = Table(title=f"Run {summary.run_id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("calls done", str(summary.done))
    table.add_row("skipped (already transcribed)", str(summary.skipped))
    table.add_row("failed", f"[red]{len(summary.failed)}[/red]" if summary.failed else "0")
    table.add_row("audio", f"{summary.audio_seconds / 3600:.3f} h ({fmt_duration(summary.audio_seconds)})")
    table.add_row("wall time", fmt_duration(summary.wall_seconds))
    rtf = f"{summary.real_time_factor:.3f}" if summary.audio_seconds else "n/a (nothing transcribed)"
    table.add_row("real-time factor", rtf)
    table.add_row("roles uncertain", str(len(summary.uncertain_roles)))
    console.print(table)
    if len(summary.workers) > 1 or any(" tcp://" in w.worker or " tls://" in w.worker for w in summary.workers):
        shares = Table(title="Calls per worker", title_justify="left")
        for name in ("worker", "calls", "audio h"):
            shares.add_column(name, justify="left" if name == "worker" else "right")
        for w in summary.workers:
            shares.add_row(w.worker, str(w.calls), f"{w.audio_seconds / 3600:.3f}")
        console.print(shares)
    if summary.failed:
        console.print("[bold red]Failed files[/bold red] (fix or remove them; the rest of the batch is stored):")
        for f in summary.failed:
            console.print(f"  {f.path}: [{f.stage}] {f.reason}", markup=False, highlight=False)
    if summary.uncertain_roles:
        console.print("[bold yellow]Calls whose agent/customer roles are uncertain[/bold yellow] (review them):")
        for cid in summary.uncertain_roles:
            console.print(f"  {cid[:12]}  {names.get(cid, '')}", markup=False, highlight=False)


def summary_dict(summary: RunSummary) -> dict[str, object]:
    """The run report as plain data (``callqa run --json-report``)."""
    return {
        "run_id": summary.run_id,
        "started_at": summary.started_at.isoformat(),
        "finished_at": summary.finished_at.isoformat(),
        "done": summary.done,
        "skipped": summary.skipped,
        "failed": [{"path": f.path, "stage": f.stage, "reason": f.reason} for f in summary.failed],
        "audio_hours": round(summary.audio_seconds / 3600, 4),
        "wall_seconds": round(summary.wall_seconds, 2),
        "real_time_factor": round(summary.real_time_factor, 4),
        "uncertain_roles": list(summary.uncertain_roles),
        "workers": [{"worker": w.worker, "calls": w.calls, "audio_hours": round(w.audio_seconds / 3600, 4)}
                    for w in summary.workers],
    }


_ROLE_LABEL = {Role.AGENT: "AGENT", Role.CUSTOMER: "CUSTOMER", Role.UNKNOWN: "UNKNOWN"}


def print_transcript(
    console: Console,
    transcript: Transcript,
    *,
    call_id: str,
    file_name: str,
    metadata: CallMetadata,
    low_confidence: float = 0.5,
    emotions: Mapping[int, tuple[str, float]] | None = None,
) -> None:
    """A transcript as a person reads it: one line per utterance with time, role and text.

    Args:
        emotions: utterance index → (emotion label, anger) as stored; labels other than neutral are noted.
    """
    t = transcript
    console.print(f"[bold]Call {call_id[:12]}[/bold]  {file_name}", highlight=False)
    console.print(
        f"agent {metadata.agent}  ·  {fmt_duration(t.duration)}  ·  language {t.language}  ·  "
        f"{'stereo' if t.channels >= 2 else 'mono'}",
        highlight=False,
    )
    if t.roles:
        flag = " [yellow](uncertain: review)[/yellow]" if t.roles.uncertain else ""
        console.print(
            f"roles: {t.roles.method}, agent = {t.roles.agent_speaker}, confidence {t.roles.confidence:.2f}{flag}",
            highlight=False,
        )
    if t.model:
        console.print(f"model: {t.model.name} ({t.model.sha256[:12]}), code {t.code_version}", style="dim")
    console.print()
    for i, u in enumerate(t.utterances):
        role = _ROLE_LABEL[u.role]
        style = "cyan" if u.role is Role.AGENT else "green" if u.role is Role.CUSTOMER else "white"
        notes = []
        if u.confidence < low_confidence:
            notes.append(f"low confidence {u.confidence:.2f}")
        if u.role_confidence < 0.6:
            notes.append(f"role? {u.role_confidence:.2f}")
        label, anger = (emotions or {}).get(i, ("neutral", 0.0))
        if label != "neutral":
            notes.append(f"{label}, anger {anger:.2f}")
        note = f"  [dim]({'; '.join(notes)})[/dim]" if notes else ""
        console.print(
            f"[dim]{fmt_time(u.start)}–{fmt_time(u.end)}[/dim] [{style}]{role:<8}[/{style}] ",
            end="",
            highlight=False,
        )
        console.print(u.text, end="", markup=False, highlight=False)
        console.print(note, highlight=False)


def calls_table(rows: Sequence[CallRow]) -> Table:
    """``callqa calls`` as a table."""
    table = Table()
    for col in ("call id", "file", "agent", "status", "duration", "lang", "note"):
        table.add_column(col)
    for r in rows:
        note = r.failure_reason or ("roles uncertain" if r.roles_uncertain else "")
        table.add_row(
            r.call_id[:12],
            r.file_name,
            r.agent,
            r.status,
            fmt_duration(r.duration) if r.duration else "",
            r.language or "",
            note,
        )
    return table


# -- scorecards ------------------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    """``m:ss`` for a time in the call."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _quote(e: Evidence) -> str:
    if e.kind in ("metadata", "metric"):
        return e.text
    where = f"{clock(e.start)}" + (f"–{clock(e.end)}" if e.kind == "absent" else "")
    text = f' "{e.text}"' if e.text else ""
    if e.kind == "absent":
        text = f', who said "{e.text}"' if e.text else ""
    return f"[{where}] {e.role}{text}".rstrip() + (f" ({e.note})" if e.note else "")


def _evidence_lines(v: ItemVerdict, most: int) -> list[str]:
    """Up to ``most`` things heard, or else where the item looked and found nothing."""
    shown = [e for e in v.evidence if e.kind != "absent"][:most] or list(v.evidence[:1])
    return [f"    {'looked in' if e.kind == 'absent' else 'heard'}: {_quote(e)}" for e in shown]


def _item_block(v: ItemVerdict, mark: str) -> list[str]:
    lines = [f"{mark} {v.title} ({v.item_id}, {v.points:g} points{', veto' if v.veto else ''})"]
    lines += _evidence_lines(v, 3)
    if v.verdict is not Verdict.PASS:
        lines.append(f"    why: {v.reason}")
    if v.verdict is Verdict.FAIL:
        lines.append(f"    {v.message}")
    return lines


def render_text(card: CallScorecard) -> str:
    """The scorecard as an agent reads it: what was missed, with quote, time and what to say instead."""
    total = "—" if card.total is None else f"{card.total:g}"
    out = [f"Call {card.call_id or '(file)'} — checklist {card.checklist_id} v{card.checklist_version} "
           f"({card.checklist_hash[:12]})",
           f"Score {total}/100, band {card.band or '—'}"
           + (f"; VETO: a veto item failed (score without it: {card.raw_total:g})" if card.veto and card.raw_total
              is not None else "")
           + ("; needs review" if card.needs_review else "")]  # fmt: skip
    if not card.timed:
        out.append("Note: the transcript had no times: a time shown is the line number × 3 s.")
    groups = [(Verdict.FAIL, "✗", "Missed"), (Verdict.UNCERTAIN, "?", "Needs review (no points moved)"),
              (Verdict.PASS, "✓", "Done well"), (Verdict.NA, "–", "Did not apply")]  # fmt: skip
    for verdict, mark, heading in groups:
        items = [v for v in card.items if v.verdict is verdict]
        if not items:
            continue
        out.append(f"\n{heading}:")
        for v in items:
            if verdict is Verdict.NA:
                out.append(f"{mark} {v.title} ({v.item_id})")
            else:
                out.extend(_item_block(v, mark))
    out.append("\nSections: " + ", ".join(f"{s.title} {'—' if s.score is None else f'{s.score:g}'}"
                                           for s in card.sections))  # fmt: skip
    return "\n".join(out)


# -- agent reports and backtests ----------------------------------------------------------------------


def _num(value: float | None, fmt: str = "g") -> str:
    return "—" if value is None else format(value, fmt)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


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
    from scorecards.store.definitions import UPSET_AT_START

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
                    + (f' at {clock(f.start)} "{f.quote}"' if f.quote else "") for f in flips]  # fmt: skip
    return "\n".join(out)


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


# -- checklist evaluations (callqa rules eval) -----------------------------------------------------------


def evaluation_tables(result: Evaluation, min_fail_precision: float) -> list[Table]:
    """Per checklist, per item: pairs, agreement over decided pairs, fails, false deductions, fail precision
    and the share sent to review."""
    below = {(f.checklist_id, f.item_id) for f in result.below(min_fail_precision)}
    tables: dict[str, Table] = {}
    for f in result.items:
        if f.checklist_id not in tables:
            calls = len({p.call for p in result.pairs if p.checklist_id == f.checklist_id})
            table = tables[f.checklist_id] = Table(title=f"{f.checklist_id} ({f.language}): {calls} labelled call(s)")
            table.add_column("item", no_wrap=True)
            for column in ("pairs", "agreement", "fails", "false", "fail prec.", "uncertain"):
                table.add_column(column, justify="right", no_wrap=True)
        precision = _pct(f.fail_precision)
        if (f.checklist_id, f.item_id) in below:
            precision = f"[red]{precision}[/red]"
        tables[f.checklist_id].add_row(f.item_id, str(f.pairs), f"{_pct(f.agreement)} {f.agreed}/{f.decided}",
                                       str(f.fails), str(f.false_deductions), precision,
                                       f"{_pct(f.uncertain_share)} {f.uncertain}")  # fmt: skip
    return list(tables.values())


def disagreement_lines(result: Evaluation) -> list[str]:
    """One block per disagreement: where the label is, label and verdict, the verdict's reason and quote."""
    out = []
    for p in result.disagreements():
        v = p.verdict
        mark = "FALSE DEDUCTION" if p.false_deduction else "disagrees"
        out.append(f"{p.label.where}: {p.call} {p.label.item_id}: labelled {p.label.value}, verdict {v.verdict} "
                   f"({mark})")  # fmt: skip
        out.append(f"    why: {v.reason}")
        out += _evidence_lines(v, 1)
    return out


def _pair_dict(p: Pair) -> dict[str, object]:
    return {"call": p.call, "checklist": p.checklist_id, "item": p.label.item_id, "label": p.label.value,
            "verdict": p.verdict.verdict.value, "where": p.label.where, "false_deduction": p.false_deduction,
            "reason": p.verdict.reason, "evidence": [_quote(e) for e in p.verdict.evidence[:3]]}  # fmt: skip


def evaluation_to_dict(result: Evaluation, min_fail_precision: float) -> dict[str, object]:
    below = {(f.checklist_id, f.item_id) for f in result.below(min_fail_precision)}
    return {
        "calls": result.calls,
        "pairs": len(result.pairs),
        "unlabelled": result.unlabelled,
        "min_fail_precision": min_fail_precision,
        "items": [
            {"checklist": f.checklist_id, "language": f.language, "item": f.item_id, "pairs": f.pairs,
             "decided": f.decided, "agreed": f.agreed, "agreement": f.agreement, "fails": f.fails,
             "false_deductions": f.false_deductions, "fail_precision": f.fail_precision,
             "uncertain": f.uncertain, "uncertain_share": f.uncertain_share,
             "below_gate": (f.checklist_id, f.item_id) in below}
            for f in result.items
        ],
        "disagreements": [_pair_dict(p) for p in result.disagreements()],
    }
