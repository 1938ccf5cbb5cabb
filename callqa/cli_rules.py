"""``callqa rules check``, ``callqa rules test`` and ``callqa score --transcript``: checklists as tested code.

The main CLI mounts these with :func:`register`. Every command is thin: it calls the rules library and
prints; a :class:`~core.errors.CallQAError` becomes a one-line (or one-block) message and exit code 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from core.errors import CallQAError
from core.scorecard import CallScorecard, Evidence, ItemVerdict, Verdict, scorecard_to_dict
from core.transcript_io import read_transcript, transcript_hash
from rules.diagnostics import ChecklistError
from rules.engine import score_call
from rules.examples import run, run_for_item, tally
from rules.loader import check, load_checklist, shipped_checklist
from rules.model import Checklist

rules_app = typer.Typer(help="Validate checklists and run the examples written beside their items.",
                        no_args_is_help=True)  # fmt: skip

PathsArg = Annotated[list[Path], typer.Argument(help="Checklist files or directories (all *.yaml under them).")]


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


@rules_app.command("check")
def check_command(paths: PathsArg) -> None:
    """Validate checklists: schema and lints, every problem in every file, each as file:line:column."""
    checklists, diagnostics = check(paths)
    if diagnostics:
        _fail(str(ChecklistError(diagnostics)))
    items = sum(len(c.items) for c in checklists)
    typer.echo(f"ok: {len(checklists)} checklist(s), {items} items")


_DB_HELP = "Also run the regression examples stored in this database (default ./callqa.duckdb or $CALLQA_DB)."


@rules_app.command("test")
def test_command(
    paths: PathsArg,
    db: Annotated[Path, typer.Option("--db", envvar="CALLQA_DB", help=_DB_HELP)] = Path("callqa.duckdb"),
) -> None:
    """Run every item's examples and the stored regression examples; print TP/FP/FN/TN per item.

    Positive = the item fails the call. Regression examples (verdicts overturned by reviewers) are matched
    to the checklists given by checklist id and reported one by one as ``regression:<id>``.
    """
    checklists, diagnostics = check(paths)
    if diagnostics:
        _fail(str(ChecklistError(diagnostics)))
    results = run(checklists)
    counts = tally(results)
    typer.echo(f"{'checklist':<14} {'item':<26} {'TP':>3} {'FP':>3} {'FN':>3} {'TN':>3} {'other':>6} {'todo':>5}")
    for (checklist_id, item_id), t in counts.items():
        other = f"{t.other_ok}/{t.other_ok + t.other_wrong}"
        typer.echo(f"{checklist_id:<14} {item_id:<26} {t.tp:>3} {t.fp:>3} {t.fn:>3} {t.tn:>3} {other:>6} "
                   f"{t.todo_open:>5}")  # fmt: skip
    wrong = [r for r in results if not r.ok and not r.example.todo]
    for r in wrong:
        typer.echo(f"{r.where}: {r.item.id}: expected {r.example.expect}, got {r.verdict.verdict} "
                   f"({r.verdict.reason})")  # fmt: skip
    for r in results:
        if r.example.todo and r.ok:
            typer.echo(f"{r.where}: {r.item.id}: todo example now gives {r.verdict.verdict}: move it under "
                       f"'{r.example.expect}:'")  # fmt: skip
    try:
        passed, failed = run_regressions(checklists, db)
    except CallQAError as exc:
        _fail(f"regression examples: {exc}")
    typer.echo(f"{len(results) - len(wrong) + passed} passed, {len(wrong) + failed} failed")
    if wrong or failed:
        raise typer.Exit(1)


def run_regressions(checklists: list[Checklist], db: Path) -> tuple[int, int]:
    """Run the database's regression examples of these checklists; print one line each; (passed, failed)."""
    if not db.is_file():
        typer.echo(f"no database at {db}: inline examples only (--db names one)")
        return 0, 0
    # imported here: checking and testing checklists without a database never loads DuckDB
    from scorecards.regressions import as_rule_example, regression_examples
    from scorecards.store import Store

    store = Store(db)
    passed = failed = 0
    for checklist in checklists:
        stored = regression_examples(store, checklist.id)
        for ex in stored:
            try:
                [result] = run_for_item(checklist, ex.item_id, [as_rule_example(ex)])
            except KeyError as exc:
                typer.echo(f"{ex.name}: skipped: {exc.args[0]}")
                continue
            where = f"{ex.name} ({checklist.id}/{ex.item_id}, call {ex.call_id[:12]})"
            if result.ok:
                passed += 1
                typer.echo(f"{where}: ok, {ex.expect}")
            else:
                failed += 1
                typer.echo(f"{where}: expected {ex.expect}, got {result.verdict.verdict} ({result.verdict.reason}); "
                           f"reviewer: {ex.comment}")  # fmt: skip
        typer.echo(f"{checklist.id}: {len(stored)} regression example(s) from {db}")
    return passed, failed


def score_command(
    call: Annotated[
        str | None,
        typer.Argument(metavar="CALL_ID", help="A stored call: id, id prefix (≥ 6 characters), external id or file "
                       "name."),
    ] = None,
    transcript: Annotated[
        Path | None, typer.Option("--transcript", help="Transcript JSON or 'AGENT: …' text file (no database).")
    ] = None,
    checklist: Annotated[
        Path | None, typer.Option("--checklist", help="Checklist YAML (default: the shipped one of its language).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the scorecard as JSON.")] = False,
    db: Annotated[
        Path, typer.Option("--db", envvar="CALLQA_DB", help="The DuckDB file (default ./callqa.duckdb or $CALLQA_DB).")
    ] = Path("callqa.duckdb"),
) -> None:
    """Show a stored call's scorecards (CALL_ID), or score a transcript file (--transcript) with no database."""
    if (call is None) == (transcript is None):
        _fail("give either a CALL_ID (a stored call) or --transcript FILE, not both or neither")
        return
    if call is not None:
        if checklist is not None:
            _fail("--checklist applies to --transcript; to score stored calls with it, run "
                  "`callqa rescore --checklist FILE --dry-run`")  # fmt: skip
            return
        from callqa.cli_scores import show_call

        show_call(call, db, json_out)
        return
    assert transcript is not None
    try:
        loaded = read_transcript(transcript)
        path = checklist or shipped_checklist(loaded.transcript.language)
        rules = load_checklist(path)
    except CallQAError as exc:
        _fail(str(exc))
        return
    card = score_call(rules, loaded.transcript, loaded.metadata, call_id=loaded.call_id or transcript.stem,
                      transcript_hash=transcript_hash(loaded.transcript), timed=loaded.timed)  # fmt: skip
    if json_out:
        typer.echo(json.dumps(scorecard_to_dict(card), ensure_ascii=False, indent=1))
    else:
        typer.echo(render_text(card))


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


def _item_block(v: ItemVerdict, mark: str) -> list[str]:
    lines = [f"{mark} {v.title} ({v.item_id}, {v.points:g} points{', veto' if v.veto else ''})"]
    shown = [e for e in v.evidence if e.kind != "absent"][:3] or list(v.evidence[:1])
    lines += [f"    {'looked in' if e.kind == 'absent' else 'heard'}: {_quote(e)}" for e in shown]
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


def register(app: typer.Typer) -> None:
    """Mount ``rules check``, ``rules test`` and ``score`` (a stored call or ``--transcript``) on the main CLI."""
    app.add_typer(rules_app, name="rules")
    app.command("score")(score_command)


app = typer.Typer(help="callqa checklist commands.", no_args_is_help=True)
register(app)

if __name__ == "__main__":
    app()
