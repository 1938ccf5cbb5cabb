"""``callqa serve``: the web app for supervisors, agents and QA (see README, "Web app")."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from callqa.options import DEFAULT_DB, DbOption


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 to serve the network).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    session_hours: Annotated[float, typer.Option(help="A session ends this many hours after sign-in.")] = 8.0,
    sample_per_week: Annotated[int, typer.Option(
        help="Calls per agent and week put in the review queue at random, so good calls are heard too.",
    )] = 2,
    anger: Annotated[float, typer.Option(help="Customer anger (0-1) from which a call goes to the queue.")] = 0.7,
    min_agreement: Annotated[float, typer.Option(
        help="Rule health flags items whose reviewers agreed less often than this (0-1).",
    )] = 0.8,
    secure_cookies: Annotated[bool, typer.Option(
        help="Always mark the session cookie Secure (behind an https proxy); default: when the request is https.",
    )] = False,
    pii_clear_role: Annotated[list[str] | None, typer.Option(
        help="A role that may hear recordings and read transcripts with personal data in clear, every access "
        "audited (repeatable; default: admin).",
    )] = None,
) -> None:
    """Serve the web app: review queue, call pages with playback, agent self-view, team heat-map.

    Sign in with an account made by `callqa users add` (or the demo accounts `callqa demo` prints). The
    session secret is $CALLQA_SECRET or a file beside the database (<db>.secret, made once, mode 0600).
    """
    import uvicorn

    from callqa.web.app import create_app
    from callqa.web.context import WebSettings
    from core.errors import CallQAError
    from scorecards.people.access import PII_CLEAR_ROLES

    if not db.exists():
        typer.echo(f"callqa: {db}: no database here; run `callqa demo` or `callqa run PATH` first, or pass --db",
                   err=True)
        raise typer.Exit(1)
    if sample_per_week < 0 or not 0.0 <= anger <= 1.0 or not 0.0 <= min_agreement <= 1.0 or session_hours <= 0:
        typer.echo("callqa: --sample-per-week must be ≥ 0, --anger and --min-agreement between 0 and 1, "
                   "--session-hours above 0", err=True)
        raise typer.Exit(1)
    try:
        settings = WebSettings(session_max_age_s=int(session_hours * 3600),
                               secure_cookies=True if secure_cookies else None, sample_per_agent_week=sample_per_week,
                               anger_threshold=anger, min_agreement=min_agreement,
                               pii_clear_roles=tuple(pii_clear_role) if pii_clear_role else PII_CLEAR_ROLES)
        app = create_app(db, settings=settings)
    except CallQAError as exc:
        typer.echo(f"callqa: {exc}", err=True)
        raise typer.Exit(1) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    typer.echo(f"callqa: serving {db} on http://{host}:{port}/")
    # uvicorn's own access log prints the query string; ours (callqa.web.access) prints the path only.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")


def register(app: typer.Typer) -> None:
    """Mount ``serve`` on the main CLI."""
    app.command("serve")(serve)
