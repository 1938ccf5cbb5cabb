"""People who sign in to the web app: accounts with argon2id password hashes.

A clear password is never stored nor logged: only its argon2id hash (argon2-cffi's PasswordHasher).
``session_epoch`` is carried in the web session cookie; bumping it (new password, account disabled)
ends every session of the user.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import Invalid, NotFound
from scorecards.people.access import UserRole, Viewer
from scorecards.store.database import Store

MIN_PASSWORD_LENGTH = 10
LANGUAGES = ("zh", "en")
_NAME = re.compile(r"[a-z0-9._-]{1,64}")
# argon2-cffi's defaults (RFC 9106 low-memory profile: argon2id, t=3, m=64 MiB, p=4).
_HASHER = PasswordHasher()
_COLUMNS = "user_id, display_name, role, agent_id, teams, language, session_epoch, disabled, created_at"


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown names, so a wrong name costs as much time as a wrong password.

    Made on first use, not at import: every ``callqa`` command imports this module.
    """
    return _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class User:
    """An account (without its password hash).

    Attributes:
        user_id: the login name, lower case (letters, digits, ``.``, ``_``, ``-``).
        display_name: shown in the page header.
        role: admin | qa | supervisor | agent.
        agent_id: for an agent account, the agent id whose calls they see.
        teams: for a supervisor, the teams whose calls they see.
        language: zh | en, or None to follow the browser.
        session_epoch: bumped to end every session of the user.
        disabled: a disabled account cannot sign in.
        created_at: when the account was made.
    """

    user_id: str
    display_name: str
    role: UserRole
    agent_id: str | None
    teams: tuple[str, ...]
    language: str | None
    session_epoch: int
    disabled: bool
    created_at: dt.datetime

    @property
    def viewer(self) -> Viewer:
        """What this person may see."""
        return Viewer(self.user_id, self.role, self.agent_id, self.teams)


def add_user(
    store: Store,
    name: str,
    role: UserRole | str,
    *,
    agent_id: str | None = None,
    teams: Sequence[str] = (),
    password: str | None = None,
    language: str | None = None,
    display_name: str | None = None,
) -> tuple[User, str | None]:
    """Create an account.

    Args:
        store: the database.
        name: the login name (lower-cased; letters, digits, ``.``, ``_``, ``-``).
        role: admin | qa | supervisor | agent.
        agent_id: required for an agent account.
        teams: at least one for a supervisor account.
        password: at least MIN_PASSWORD_LENGTH characters; None generates a strong one.
        language: zh | en | None.
        display_name: defaults to the name.

    Returns:
        The user, and the generated password (None when one was given): shown once, never stored.

    Raises:
        Invalid: a bad field (the message names it), or the name is taken.
    """
    user_id = normalise_name(name)
    user_role = _role(role)
    agent = (agent_id or "").strip() or None
    team_list = tuple(dict.fromkeys(t.strip() for t in teams if t.strip()))
    if user_role is UserRole.AGENT and agent is None:
        raise Invalid("agent_id: an agent account needs the agent id whose calls it sees (--agent-id)")
    if user_role is UserRole.SUPERVISOR and not team_list:
        raise Invalid("teams: a supervisor account needs at least one team (--team, repeatable)")
    _check_language(language)
    generated = generate_password() if password is None else None
    secret = generated or password or ""
    check_password(secret)
    row = [user_id, (display_name or "").strip() or user_id, str(user_role),
           agent if user_role is UserRole.AGENT else None,
           json.dumps(list(team_list) if user_role is UserRole.SUPERVISOR else []),
           _HASHER.hash(secret), language, 0, False, _now()]
    with store.writing() as con:
        if con.execute("SELECT 1 FROM users WHERE user_id = ?", [user_id]).fetchone():
            raise Invalid(f"name: there is already an account '{user_id}' (`callqa users list`)")
        con.execute("INSERT INTO users (user_id, display_name, role, agent_id, teams, password_hash, language, "
                    "session_epoch, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    user = get_user(store, user_id)
    assert user is not None
    return user, generated


def normalise_name(name: str) -> str:
    """The login name in lower case; Invalid unless it is 1–64 letters, digits, ``.``, ``_`` or ``-``."""
    user_id = name.strip().lower()
    if not _NAME.fullmatch(user_id):
        raise Invalid(f"name: '{name}' is not a valid login name; use 1-64 letters, digits, '.', '_' or '-'")
    return user_id


def generate_password() -> str:
    """A strong random password (about 120 bits)."""
    return secrets.token_urlsafe(15)


def check_password(password: str) -> None:
    """Invalid when the password is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password: at least {MIN_PASSWORD_LENGTH} characters, please")


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user when the password is right and the account enabled, else None.

    Unknown names cost the same argon2 verification as known ones (against a dummy hash), so the time
    taken does not reveal which names exist. A hash made with older parameters is replaced on success.
    """
    user_id = name.strip().lower()
    with store.reading() as con:
        row = con.execute("SELECT password_hash, disabled FROM users WHERE user_id = ?", [user_id]).fetchone()
    stored = row[0] if row else _dummy_hash()
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row[1]:
        return None
    if _HASHER.check_needs_rehash(stored):
        with store.writing() as con:
            con.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", [_HASHER.hash(password), user_id])
    return get_user(store, user_id)


def get_user(store: Store, user_id: str) -> User | None:
    """The account, or None when there is none such."""
    with store.reading() as con:
        row = con.execute(f"SELECT {_COLUMNS} FROM users WHERE user_id = ?", [user_id.strip().lower()]).fetchone()
    return _user(row) if row else None


def list_users(store: Store) -> tuple[User, ...]:
    """Every account, by name."""
    with store.reading() as con:
        rows = con.execute(f"SELECT {_COLUMNS} FROM users ORDER BY user_id").fetchall()
    return tuple(_user(r) for r in rows)


def set_password(store: Store, name: str, password: str | None = None) -> tuple[User, str | None]:
    """Give an account a new password (None generates one, returned once) and end its sessions.

    Raises:
        NotFound: no such account.
        Invalid: the password is too short.
    """
    generated = generate_password() if password is None else None
    secret = generated or password or ""
    check_password(secret)
    user = _update(store, name, "password_hash = ?, session_epoch = session_epoch + 1", [_HASHER.hash(secret)])
    return user, generated


def set_language(store: Store, name: str, language: str | None) -> User:
    """Set the account's language (zh | en | None to follow the browser).

    Raises:
        NotFound: no such account.
        Invalid: another language.
    """
    _check_language(language)
    return _update(store, name, "language = ?", [language])


def disable_user(store: Store, name: str) -> User:
    """Disable an account and end its sessions.

    Raises:
        NotFound: no such account.
    """
    return _update(store, name, "disabled = TRUE, session_epoch = session_epoch + 1", [])


def end_sessions(store: Store, name: str) -> User:
    """End every session of an account (signing out): a copied session cookie no longer signs anyone in.

    Raises:
        NotFound: no such account.
    """
    return _update(store, name, "session_epoch = session_epoch + 1", [])


def _update(store: Store, name: str, assignments: str, params: list[Any]) -> User:
    user_id = name.strip().lower()
    with store.writing() as con:
        if not con.execute("SELECT 1 FROM users WHERE user_id = ?", [user_id]).fetchone():
            raise NotFound(f"name: no account '{user_id}' (`callqa users list`)")
        con.execute(f"UPDATE users SET {assignments} WHERE user_id = ?", [*params, user_id])
    user = get_user(store, user_id)
    assert user is not None
    return user


def _role(role: UserRole | str) -> UserRole:
    try:
        return UserRole(str(role).strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in UserRole)
        raise Invalid(f"role: '{role}' is not a role; choose one of {choices}") from None


def _check_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise Invalid(f"language: '{language}' is not supported; choose zh or en (or none to follow the browser)")


def _user(row: tuple[Any, ...]) -> User:
    return User(user_id=row[0], display_name=row[1], role=UserRole(row[2]), agent_id=row[3],
                teams=tuple(json.loads(row[4])), language=row[5], session_epoch=int(row[6]),
                disabled=bool(row[7]), created_at=row[8])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def known_teams(store: Store) -> tuple[str, ...]:
    """The teams of the stored calls, sorted (what a supervisor account may be given)."""
    with store.reading() as con:
        rows = con.execute("SELECT DISTINCT team FROM calls WHERE team IS NOT NULL ORDER BY team").fetchall()
    return tuple(str(r[0]) for r in rows)
