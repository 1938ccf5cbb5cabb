"""How results are shown to a person: the run report and a readable transcript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from core.types import CallMetadata, Role, RunSummary, Transcript

if TYPE_CHECKING:
    from scorecards.store import CallRow


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
