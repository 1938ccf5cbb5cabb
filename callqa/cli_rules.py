"""``callqa rules check|test|eval`` and ``callqa score --transcript``: checklists as tested code.

The main CLI mounts these with :func:`register`. Every command is thin: it calls the rules library and
prints; a :class:`~core.errors.CallQAError` becomes a one-line (or one-block) message and exit code 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from callqa.options import DEFAULT_DB, DbOption, fail
from callqa.render import disagreement_lines, evaluation_tables, evaluation_to_dict, render_text
from core.errors import CallQAError
from core.scorecard import scorecard_to_dict
from core.transcript_io import read_transcript, transcript_hash
from rules.diagnostics import ChecklistError
from rules.engine import score_call
from rules.evaluate import DEFAULT_MIN_FAIL_PRECISION, evaluate, read_labelled_folder
from rules.examples import run, run_for_item, tally
from rules.loader import check, load_checklist, shipped_checklist
from rules.model import Checklist

if TYPE_CHECKING:
    from scorecards.people.regressions import RegressionExample

rules_app = typer.Typer(help="Validate checklists and run the examples written beside their items.",
                        no_args_is_help=True)  # fmt: skip

PathsArg = Annotated[list[Path], typer.Argument(help="Checklist files or directories (all *.yaml under them).")]




@rules_app.command("check")
def check_command(paths: PathsArg) -> None:
    """Validate checklists: schema and lints, every problem in every file, each as file:line:column."""
    checklists, diagnostics = check(paths)
    if diagnostics:
        raise fail(str(ChecklistError(diagnostics)))
    items = sum(len(c.items) for c in checklists)
    typer.echo(f"ok: {len(checklists)} checklist(s), {items} items")


_DB_HELP = "Also run the regression examples stored in this database (default ./callqa.duckdb or $CALLQA_DB)."


@rules_app.command("test")
def test_command(
    paths: PathsArg,
    db: Annotated[Path, typer.Option("--db", envvar="CALLQA_DB", help=_DB_HELP)] = DEFAULT_DB,
) -> None:
    """Run every item's examples and the stored regression examples; print TP/FP/FN/TN per item.

    Positive = the item fails the call. Regression examples (verdicts overturned by reviewers) are matched
    to the checklists given by checklist id and reported one by one as ``regression:<id>``.
    """
    checklists, diagnostics = check(paths)
    if diagnostics:
        raise fail(str(ChecklistError(diagnostics)))
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
        raise fail(f"regression examples: {exc}") from None
    typer.echo(f"{len(results) - len(wrong) + passed} passed, {len(wrong) + failed} failed")
    if wrong or failed:
        raise typer.Exit(1)


@rules_app.command("eval")
def eval_command(
    labels: Annotated[Path, typer.Argument(metavar="LABELS", help="A folder of transcripts (JSON or 'AGENT: …' "
                      "text), each with NAME.labels.yaml beside it: 'item_id: pass|fail|n/a|unsure' per line.")],
    checklist: Annotated[
        Path | None, typer.Option("--checklist", help="Checklist YAML (default: the shipped one of each call's "
                                  "language).")
    ] = None,
    min_fail_precision: Annotated[
        float, typer.Option("--min-fail-precision", min=0.0, max=1.0,
                            help="Exit 1 when an item's fail precision is below this.")
    ] = DEFAULT_MIN_FAIL_PRECISION,
    json_out: Annotated[bool, typer.Option("--json", help="Print the figures and disagreements as JSON.")] = False,
) -> None:
    """Score labelled calls and compare with the labels: per-item agreement, fail precision, share uncertain.

    Agreement counts the pairs whose label and verdict are both decided; a fail where the label is pass, n/a
    or unsure is a false deduction. Every disagreement is listed with the label's file:line and the quote.
    Exits 1 when an item's fail precision is below --min-fail-precision (default 0.95): run it on reviewed
    calls before publishing a checklist change.
    """
    try:
        calls = read_labelled_folder(labels)
        given = load_checklist(checklist) if checklist is not None else None
        loaded: dict[str, Checklist] = {}

        def checklist_for(language: str) -> Checklist:
            if given is not None:
                return given
            if language not in loaded:
                loaded[language] = load_checklist(shipped_checklist(language))
            return loaded[language]

        result = evaluate(calls, checklist_for)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    below = result.below(min_fail_precision)
    if json_out:
        typer.echo(json.dumps(evaluation_to_dict(result, min_fail_precision), ensure_ascii=False, indent=1))
    else:
        import sys

        from rich.console import Console

        console = Console(width=None if sys.stdout.isatty() else 120)  # a pipe or a file: no 80-column squeeze
        for table in evaluation_tables(result, min_fail_precision):
            console.print(table)
        for line in disagreement_lines(result):
            console.print(line, markup=False, highlight=False, soft_wrap=True)  # a file:line stays whole
        if result.unlabelled:
            console.print(f"{result.unlabelled} item verdict(s) had no label and were not counted", highlight=False)
    if below:
        items = ", ".join(f"{f.checklist_id}/{f.item_id}" for f in below)
        typer.echo(f"fail precision below {min_fail_precision:g}: {items}", err=True)
        raise typer.Exit(1)


def run_regressions(checklists: list[Checklist], db: Path) -> tuple[int, int]:
    """Run the database's regression examples of these checklists; print one line each; (passed, failed)."""
    if not db.is_file():
        typer.echo(f"no database at {db}: inline examples only (--db names one)")
        return 0, 0
    # imported here: checking and testing checklists without a database never loads DuckDB
    from scorecards.people.regressions import as_rule_example, regression_examples
    from scorecards.store.database import Store

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
    db: DbOption = DEFAULT_DB,
) -> None:
    """Show a stored call's scorecards (CALL_ID), or score a transcript file (--transcript) with no database."""
    if (call is None) == (transcript is None):
        raise fail("give either a CALL_ID (a stored call) or --transcript FILE, not both or neither")
    if call is not None:
        if checklist is not None:
            raise fail("--checklist applies to --transcript; to score stored calls with it, run "
                  "`callqa rescore --checklist FILE --dry-run`")  # fmt: skip
        show_call(call, db, json_out)
        return
    assert transcript is not None
    try:
        loaded = read_transcript(transcript)
        path = checklist or shipped_checklist(loaded.transcript.language)
        rules = load_checklist(path)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    card = score_call(rules, loaded.transcript, loaded.metadata, call_id=loaded.call_id or transcript.stem,
                      transcript_hash=transcript_hash(loaded.transcript), timed=loaded.timed)  # fmt: skip
    if json_out:
        typer.echo(json.dumps(scorecard_to_dict(card), ensure_ascii=False, indent=1))
    else:
        typer.echo(render_text(card))


def show_call(ref: str, db: Path, json_out: bool) -> None:
    """Print a stored call's current scorecard(s); ``ref`` is a call id, an id prefix, external id or file name."""
    from scorecards.store.database import Store

    try:
        store = Store(db)
        call = store.find_call(ref)
        cards = store.current_scorecards(call.call_id)
    except CallQAError as exc:
        raise fail(str(exc)) from exc
    if not cards and call.status == "failed":
        raise fail(f"call {call.call_id[:12]} ({call.file_name}) failed and has no scorecard: {call.failure_reason}")
    if not cards:
        raise fail(f"call {call.call_id[:12]} ({call.file_name}) has no scorecard yet; `callqa rescore` scores "
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


# -- rules regressions ------------------------------------------------------------------------------

regressions_app = typer.Typer(help="Verdicts corrected by reviewers, kept as examples the rules must get right.",
                              no_args_is_help=True)  # fmt: skip
ChecklistOption = Annotated[str | None, typer.Option("--checklist", help="Only this checklist id.")]


def _stored_examples(checklist: str | None, db: Path) -> tuple[RegressionExample, ...]:
    from scorecards.people.regressions import regression_examples
    from scorecards.store.database import Store

    try:
        return regression_examples(Store(db), checklist)
    except CallQAError as exc:
        raise fail(str(exc)) from None


@regressions_app.command("export")
def export_command(checklist: ChecklistOption = None, db: DbOption = DEFAULT_DB) -> None:
    """Print the regression examples as YAML in the shape of a checklist item's `examples:`."""
    from scorecards.people.regressions import regressions_yaml

    typer.echo(regressions_yaml(_stored_examples(checklist, db)), nl=False)


@regressions_app.command("list")
def list_regressions_command(checklist: ChecklistOption = None, db: DbOption = DEFAULT_DB) -> None:
    """One line per active regression example: id, checklist/item, engine verdict → corrected verdict."""
    examples = _stored_examples(checklist, db)
    for ex in examples:
        typer.echo(f"{ex.name}  {ex.checklist_id}/{ex.item_id}  {ex.automatic_verdict} → {ex.expect}  "
                   f"{len(ex.lines)} utterance(s), {ex.source}, by {ex.created_by}")  # fmt: skip
    typer.echo(f"{len(examples)} regression example(s)")


def register(app: typer.Typer) -> None:
    """Mount ``rules check|test|eval|regressions`` and ``score`` (a stored call or ``--transcript``) on the main CLI."""
    rules_app.add_typer(regressions_app, name="regressions")
    app.add_typer(rules_app, name="rules")
    app.command("score")(score_command)


app = typer.Typer(help="callqa checklist commands.", no_args_is_help=True)
register(app)

if __name__ == "__main__":
    app()
