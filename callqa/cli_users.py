"""``callqa users …`` (web accounts) and ``callqa rules regressions …`` (corrected verdicts as examples).

Thin over :mod:`scorecards.people.accounts` and :mod:`scorecards.people.review`; a :class:`~core.errors.CallQAError`
becomes a one-line message and exit code 1. A password is typed twice without echo, or generated and
printed once (``--generate``); it is never logged nor stored in clear.
"""

from __future__ import annotations

from typing import Annotated

import typer

from callqa.options import DEFAULT_DB, DbOption, fail
from core.errors import CallQAError
from scorecards.people.accounts import (
    MIN_PASSWORD_LENGTH,
    User,
    add_user,
    disable_user,
    get_user,
    known_teams,
    list_users,
    set_password,
)
from scorecards.store.database import Store

users_app = typer.Typer(help="Accounts of the web app (callqa serve): add, list, passwd, disable.",
                        no_args_is_help=True)  # fmt: skip

NameArg = Annotated[str, typer.Argument(help="The login name (letters, digits, '.', '_', '-'; lower-cased).")]
GenerateOption = Annotated[bool, typer.Option("--generate", help="Generate a strong password and print it once.")]
# The demo database's accounts: fixed passwords, printed by `callqa demo`, for that database only.
DEMO_PASSWORD = "callqa-demo-{role}"




def _password(generate: bool) -> str | None:
    if generate:
        return None
    return str(typer.prompt(f"Password (at least {MIN_PASSWORD_LENGTH} characters)", hide_input=True,
                            confirmation_prompt=True))  # fmt: skip


def _scope(user: User) -> str:
    """What the account sees."""
    if user.role.value == "agent":
        return f"agent {user.agent_id}"
    if user.role.value == "supervisor":
        return f"teams {', '.join(user.teams)}"
    return "every call"


def _describe(user: User) -> str:
    scope = _scope(user)
    state = "  (disabled)" if user.disabled else ""
    return f"{user.user_id:<16} {user.role.value:<10} {scope:<32} {user.language or 'browser':<8}{state}"


@users_app.command("add")
def add_command(
    name: NameArg,
    role: Annotated[str, typer.Option("--role", help="admin, qa, supervisor or agent.")],
    agent_id: Annotated[str | None, typer.Option("--agent-id", help="For an agent: their calls' agent id.")] = None,
    team: Annotated[list[str] | None, typer.Option("--team", help="For a supervisor: a team (repeat).")] = None,
    language: Annotated[str | None, typer.Option("--language", help="zh or en (default: from the browser).")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="Shown in the page header.")] = None,
    generate: GenerateOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Add an account; the password is typed twice (hidden), or generated with --generate."""
    try:
        store = Store(db)
        user, generated = add_user(store, name, role, agent_id=agent_id, teams=team or (),
                                   password=_password(generate), language=language, display_name=display_name)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"added {_describe(user).rstrip()}")
    if generated:
        typer.echo(f"password: {generated}  (shown once: it is not stored, only its hash)")


@users_app.command("list")
def list_command(db: DbOption = DEFAULT_DB) -> None:
    """List the accounts: name, role, what they see, language."""
    try:
        users = list_users(Store(db))
    except CallQAError as exc:
        raise fail(str(exc)) from None
    if not users:
        typer.echo("no accounts yet: `callqa users add NAME --role admin`")
    for user in users:
        typer.echo(_describe(user).rstrip())


@users_app.command("passwd")
def passwd_command(name: NameArg, generate: GenerateOption = False, db: DbOption = DEFAULT_DB) -> None:
    """Set a new password; the account's open sessions end."""
    try:
        store = Store(db)
        if get_user(store, name) is None:
            raise fail(f"no account '{name.strip().lower()}' (`callqa users list`)")
        user, generated = set_password(store, name, _password(generate))
    except CallQAError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"new password for {user.user_id}; their open sessions are ended")
    if generated:
        typer.echo(f"password: {generated}  (shown once: it is not stored, only its hash)")


@users_app.command("disable")
def disable_command(name: NameArg, db: DbOption = DEFAULT_DB) -> None:
    """Disable an account; it can no longer sign in and its open sessions end."""
    try:
        user = disable_user(Store(db), name)
    except CallQAError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"disabled {user.user_id}")


def create_demo_users(store: Store) -> list[str]:
    """The demo database's accounts (made once, when missing); returns the lines telling how to sign in.

    Fixed passwords (``callqa-demo-<role>``) for the demo database only: never use them elsewhere. The
    supervisor sees every team of the demo calls, the agent account the real call's agent (ChrisL).
    """
    teams = known_teams(store) or ("demo",)
    lines = [f"  {'user':<11} {'password':<24} sees"]
    for role, extra in (("admin", {}), ("qa", {}), ("supervisor", {"teams": teams}), ("agent", {"agent_id": "ChrisL"})):
        password = DEMO_PASSWORD.format(role=role)
        user = get_user(store, role)
        if user is None:
            user, _ = add_user(store, role, role, password=password, **extra)
        lines.append(f"  {role:<11} {password:<24} {_scope(user)}")
    return lines


def register(app: typer.Typer) -> None:
    """Mount ``users`` on the main CLI."""
    app.add_typer(users_app, name="users")
