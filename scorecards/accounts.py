"""People who sign in to the web app: accounts with argon2id password hashes.

A clear password is never stored nor logged: only its argon2id hash (argon2-cffi's PasswordHasher).
``session_epoch`` is carried in the web session cookie; bumping it (new password, account disabled)
ends every session of the user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from scorecards.access import UserRole, Viewer
from scorecards.store import Store

MIN_PASSWORD_LENGTH = 10
LANGUAGES = ("zh", "en")


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
    raise NotImplementedError


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user when the password is right and the account enabled, else None.

    Unknown names cost the same argon2 verification as known ones (against a dummy hash), so the time
    taken does not reveal which names exist. A hash made with older parameters is replaced on success.
    """
    raise NotImplementedError


def get_user(store: Store, user_id: str) -> User | None:
    """The account, or None when there is none such."""
    raise NotImplementedError


def list_users(store: Store) -> tuple[User, ...]:
    """Every account, by name."""
    raise NotImplementedError


def set_password(store: Store, name: str, password: str | None = None) -> tuple[User, str | None]:
    """Give an account a new password (None generates one, returned once) and end its sessions.

    Raises:
        NotFound: no such account.
        Invalid: the password is too short.
    """
    raise NotImplementedError


def set_language(store: Store, name: str, language: str | None) -> User:
    """Set the account's language (zh | en | None to follow the browser).

    Raises:
        NotFound: no such account.
        Invalid: another language.
    """
    raise NotImplementedError


def disable_user(store: Store, name: str) -> User:
    """Disable an account and end its sessions.

    Raises:
        NotFound: no such account.
    """
    raise NotImplementedError
