"""The ``callqa`` command line: thin over the flows, the pipeline and the store.

Every command takes ``--db`` (default ``./callqa.duckdb`` or ``$CALLQA_DB``). Errors a person can fix
are printed as one line and exit with status 1; bad recordings in a batch exit with status 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from callqa.options import DEFAULT_DB, ClusterOption, ConfigOption, DbOption, fail
from core.errors import CallQAError

if TYPE_CHECKING:
    from scorecards.store.database import Store

# Offline by construction: no library may reach a model hub, Prefect stays quiet and local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
# Dask logs every worker start and stop at INFO; a run report is what the operator reads.
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")

app = typer.Typer(
    help="callqa: offline quality inspection of recorded customer-service calls.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
agents_app = typer.Typer(help="Agents: enrol voiceprints used to tell the agent from the customer.",
                         no_args_is_help=True)
app.add_typer(agents_app, name="agents")


def _mount_subcommands() -> None:
    from callqa import cli_eval, cli_privacy, cli_rules, cli_scores, cli_users, cli_web

    cli_privacy.register(app)
    cli_rules.register(app)
    cli_scores.register(app)
    cli_web.register(app)
    cli_users.register(app)
    app.add_typer(cli_eval.app, name="eval")

console = Console()
err = Console(stderr=True)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"




def _check_cluster(cluster: str | None, config: Path | None) -> None:
    """Reject a bad --cluster or [cluster] address (and a bad settings file) before any server starts.

    Raises:
        CallQAError: naming the option or the settings key and the accepted forms.
    """
    from core.config import load_settings
    from flows.cluster import parse_cluster

    if cluster is not None:
        parse_cluster(cluster, "--cluster")
    else:
        parse_cluster(load_settings(str(config) if config else None).cluster.address, "[cluster] address")


def _run_flow(sources: list[str], db: Path, manifest: Path | None, language: str | None,
              config: Path | None, workers: int | None, show_progress: bool, json_report: bool = False,
              cluster: str | None = None) -> int:
    """Run the nightly flow with a progress bar and print the report; returns the exit status."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from callqa.render import print_run_report, summary_dict
    from flows import nightly

    _check_cluster(cluster, config)
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        TextColumn("{task.completed:.1f}/{task.fields[minutes]:.1f} audio min"),
        TimeRemainingColumn(),
        console=err,
        disable=not show_progress,
        transient=False,
    )
    with bar:
        job = bar.add_task("transcribing", total=None, files="", minutes=0.0)

        def on_progress(p: nightly.Progress) -> None:
            # Progress is measured in audio minutes, so the ETA follows the work left, not the file count.
            bar.update(
                job,
                total=p.total_seconds / 60 or None,
                completed=p.seconds_done / 60,
                minutes=p.total_seconds / 60,
                files=f"{p.files_done}/{p.total_files} files",
            )

        nightly.PROGRESS.listener = on_progress
        summary = nightly.nightly_inspection(
            sources=sources,
            db=str(db),
            manifest=str(manifest) if manifest else None,
            language=language,
            config=str(config) if config else None,
            workers=workers,
            cluster=cluster,
        )
    from scorecards.store.database import Store

    if json_report:
        sys.stdout.write(json.dumps(summary_dict(summary), ensure_ascii=False) + "\n")
    else:
        names = {c.call_id: c.file_name for c in Store(db).list_calls()}
        print_run_report(console, summary, names)
    if summary.failed:
        err.print(f"[red]{len(summary.failed)} file(s) failed[/red]: "
                  + ", ".join(Path(f.path).name for f in summary.failed), highlight=False)
        return 2
    return 0


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(help="Recordings and/or directories (searched recursively).")],
    db: DbOption = DEFAULT_DB,
    manifest: Annotated[Path | None, typer.Option(help="CSV of per-call metadata (a 'file' column).")] = None,
    language: Annotated[str | None, typer.Option(help="zh, en or auto (overrides the settings).")] = None,
    workers: Annotated[int | None, typer.Option(help="Calls processed in parallel (default 2).")] = None,
    config: ConfigOption = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    json_report: Annotated[bool, typer.Option("--json-report", help="Print the run report as JSON.")] = False,
    cluster: ClusterOption = None,
) -> None:
    """Run the nightly job now: transcribe, label roles and store every recording under PATHS.

    Calls already transcribed with the same model and options are skipped. Bad files are recorded as
    failed with their reason; the rest of the batch completes and the command exits with status 2.
    With --cluster the per-call work runs on Dask workers; this process alone writes the database.
    """
    if language and language not in {"zh", "en", "auto"}:
        raise fail(f"--language '{language}': use zh, en or auto")
    try:
        code = _run_flow([str(p) for p in paths], db, manifest, language, config, workers, progress, json_report,
                         cluster)
    except (CallQAError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


@app.command()
def demo(
    db: DbOption = DEFAULT_DB,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Run the whole flow on the sample calls in data/ into a fresh database, then show a transcript.

    The database is replaced only if it holds nothing but an earlier demo; anything else is refused.
    """
    from scorecards.store.database import Store

    if not DATA_DIR.is_dir():
        raise fail(f"{DATA_DIR}: the sample recordings are missing; run from a checkout of callqa")
    store = Store(db)
    if db.exists():
        try:
            foreign = [r for r in store.runs(limit=10_000)
                       if any(Path(s).resolve() != DATA_DIR for s in json.loads(r["sources"]))]
        except CallQAError as exc:
            raise fail(f"{db}: cannot read it ({exc}); pass --db with another path") from None
        if foreign:
            raise fail(f"{db} holds calls from other runs; the demo will not overwrite it. "
                        "Pass --db demo.duckdb (or any new path).")
        db.unlink()
        Path(f"{db}.wal").unlink(missing_ok=True)
    console.print(f"[bold]callqa demo[/bold]: {DATA_DIR} → {db}", highlight=False)
    try:
        code = _run_flow([str(DATA_DIR)], db, None, None, None, None, progress)
        _print_demo_transcript(store)
        from callqa.cli_users import create_demo_users

        logins = create_demo_users(store)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    console.print(f"\nNext: `callqa calls --db {db}`, `callqa transcript CALL_ID --db {db}`", highlight=False)
    console.print(f"Web app: `callqa serve --db {db}`; demo accounts (fixed passwords, for this demo database "
                  "only):\n" + "\n".join(logins), highlight=False, markup=False)  # fmt: skip
    raise typer.Exit(code)


def _print_demo_transcript(store: Store) -> None:
    from callqa.render import print_transcript

    calls = store.list_calls(status="transcribed")
    if not calls:
        return
    longest = max(calls, key=lambda c: c.duration or 0.0)
    stored = store.load_transcript(longest.call_id)
    emotions = {e.utterance_idx: (e.label, e.anger) for e in store.utterance_emotions(stored.transcript_id)}
    console.rule("The longest call, with roles")
    print_transcript(console, stored.transcript, call_id=stored.call.call_id, file_name=stored.call.file_name,
                     metadata=stored.metadata, emotions=emotions)
    from callqa.cli_rules import render_text

    for card in store.current_scorecards(longest.call_id):
        console.rule(f"Its scorecard ({card.checklist_id} v{card.checklist_version})")
        console.print(render_text(card), markup=False, highlight=False)


@app.command()
def calls(
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per call, one per line.")] = False,
    status: Annotated[str | None, typer.Option(help="Only calls with this status (transcribed, failed).")] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent's calls.")] = None,
) -> None:
    """List stored calls. Works while a run is writing: shows the calls stored so far."""
    from callqa.render import calls_table
    from scorecards.store.database import Store

    try:
        rows = Store(db).list_calls(status=status, agent=agent)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    if as_json:
        for r in rows:
            sys.stdout.write(json.dumps({
                "call_id": r.call_id, "file": r.file_name, "path": r.source_path, "agent": r.agent,
                "team": r.team, "queue": r.queue, "started_at": r.started_at.isoformat() if r.started_at else None,
                "status": r.status, "duration": r.duration, "language": r.language, "channels": r.channels,
                "failure_reason": r.failure_reason, "roles_uncertain": r.roles_uncertain,
            }, ensure_ascii=False) + "\n")
        return
    console.print(calls_table(rows))
    console.print(f"{len(rows)} call(s)", style="dim")


@app.command()
def transcript(
    call_id: Annotated[str, typer.Argument(help="Call id (or a unique prefix), external id or file name.")],
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Utterances with role, times, text and confidence.")] = False,
) -> None:
    """Show a call's transcript with agent/customer roles."""
    from callqa.render import print_transcript
    from core.transcript_io import to_dict
    from scorecards.store.database import Store

    try:
        store = Store(db)
        stored = store.load_transcript(call_id)
        emotions = {e.utterance_idx: e for e in store.utterance_emotions(stored.transcript_id)}
    except CallQAError as exc:
        raise fail(str(exc)) from None
    if as_json:
        data = to_dict(stored.transcript, metadata=stored.metadata, call_id=stored.call.call_id)
        data["file"] = stored.call.file_name
        for i, utt in enumerate(data["utterances"]):
            if i in emotions:
                utt["emotion"] = {"label": emotions[i].label, "anger": round(emotions[i].anger, 4)}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    print_transcript(console, stored.transcript, call_id=stored.call.call_id, file_name=stored.call.file_name,
                     metadata=stored.metadata, emotions={i: (e.label, e.anger) for i, e in emotions.items()})


@app.command()
def runs(db: DbOption = DEFAULT_DB, limit: Annotated[int, typer.Option(help="How many runs.")] = 20) -> None:
    """Nightly run history: counts, audio hours, wall time, real-time factor."""
    from rich.table import Table

    from scorecards.store.database import Store

    try:
        rows = Store(db).runs(limit)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    table = Table()
    for col in ("run", "started (UTC)", "status", "done", "skipped", "failed", "audio h", "wall s", "RTF"):
        table.add_column(col)
    for r in rows:
        audio, wall = r["audio_seconds"] or 0.0, r["wall_seconds"] or 0.0
        table.add_row(r["run_id"], f"{r['started_at']:%Y-%m-%d %H:%M}", r["status"], str(r["done"]),
                      str(r["skipped"]), str(r["failed"]), f"{audio / 3600:.3f}", f"{wall:.1f}",
                      f"{wall / audio:.3f}" if audio else "")
    console.print(table)


@app.command("check-db")
def check_db(
    db: DbOption = DEFAULT_DB,
    rebuild_summaries: Annotated[bool, typer.Option(
        "--rebuild-summaries", help="First recompute the per-agent-per-day summaries from the base tables.")] = False,
    pii: Annotated[bool, typer.Option(
        help="Also look for personal data the detectors still find in redacted transcripts, and count those "
        "stored in clear.")] = True,
) -> None:
    """Check the database: every table readable, the cross-table invariants hold, no personal data left."""
    from scorecards.store.database import Store

    try:
        store = Store(db)
        if rebuild_summaries:
            store.rebuild_summaries()
            console.print("summaries rebuilt from the base tables", highlight=False)
        problems = store.integrity_problems()
        if pii:
            from flows.redact_store import leftover

            in_clear, found = leftover(store)
            if in_clear:
                err.print(f"[yellow]![/yellow] {in_clear} transcript(s) stored in clear (before redaction, under "
                          "redaction mode \"off\", or by an older redactor): `callqa redact` hides their personal "
                          "data", highlight=False, soft_wrap=True)
            problems += [f"personal data left in a redacted transcript: {f}" for f in found]
    except CallQAError as exc:
        raise fail(str(exc)) from None
    if problems:
        for p in problems:
            err.print(f"[red]✗[/red] {p}", highlight=False)
        raise typer.Exit(1)
    console.print(f"{db}: consistent", highlight=False)


@app.command()
def schedule(
    cron: Annotated[str, typer.Option(help='When to run, as cron, e.g. "0 2 * * *" for 02:00 every night.')],
    source: Annotated[list[Path], typer.Option(help="Directory of recordings (repeatable).")],
    db: DbOption = DEFAULT_DB,
    manifest: Annotated[Path | None, typer.Option(help="CSV of per-call metadata.")] = None,
    config: ConfigOption = None,
    api_url: Annotated[str | None, typer.Option(envvar="PREFECT_API_URL",
                                                help="A Prefect server; default: start a local one.")] = None,
    cluster: ClusterOption = None,
) -> None:
    """Serve the nightly flow on a schedule (runs until stopped with Ctrl-C).

    Schedules need a Prefect server: unless PREFECT_API_URL is set, a local one is started on
    127.0.0.1 (no internet needed) and stopped on exit.
    """
    from flows.schedule import serve_nightly

    try:
        _check_cluster(cluster, config)
        serve_nightly(cron=cron, sources=[str(s.resolve()) for s in source], db=str(db.resolve()),
                      manifest=str(manifest.resolve()) if manifest else None,
                      config=str(config.resolve()) if config else None, api_url=api_url, console=err,
                      cluster=cluster)
    except CallQAError as exc:
        raise fail(str(exc)) from None


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(
    ctx: typer.Context,
    scheduler: Annotated[str, typer.Argument(help="The scheduler's address, e.g. tcp://qa-sched:8786.")],
    nworkers: Annotated[int, typer.Option(help="Worker processes: one per core.")] = os.cpu_count() or 1,
) -> None:
    """Serve a Dask cluster's calls from this machine: NWORKERS single-threaded worker processes.

    The same as `dask worker SCHEDULER --nworkers N --nthreads 1`, without the environment Dask gives its
    processes (aggressive malloc trimming) and without its per-task profiler, which slow calls down by 25 %
    and 10 % (docs/operations.md). Further options are passed to `dask worker`.
    """
    from distributed.cli.dask_worker import main as dask_worker

    from flows.cluster import parse_cluster, plain_worker_environment

    try:
        placement = parse_cluster(scheduler, "SCHEDULER")
    except CallQAError as exc:
        raise fail(str(exc)) from None
    if placement.kind != "remote":
        raise fail(f"SCHEDULER '{scheduler}': give the address of a running `dask scheduler`, "
                   "e.g. tcp://qa-sched:8786")
    if nworkers < 1:
        raise fail(f"--nworkers {nworkers}: at least one worker process")
    plain_worker_environment()
    dask_worker.main([scheduler, "--nworkers", str(nworkers), "--nthreads", "1", *ctx.args])


@agents_app.command("enroll")
def agents_enroll(
    agent_id: Annotated[str, typer.Argument(help="The agent's id, as in the call metadata.")],
    files: Annotated[list[Path], typer.Argument(help="Recordings of the agent alone (10 s or more in all).")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Enrol an agent's voiceprint so mono calls can tell the agent's voice from the customer's."""
    from flows.enroll import enroll_agent

    try:
        seconds = enroll_agent(agent_id, files, db)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    console.print(f"enrolled {agent_id}: {len(files)} file(s), {seconds:.1f} s of speech", highlight=False)


_mount_subcommands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
