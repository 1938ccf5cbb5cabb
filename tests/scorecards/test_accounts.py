"""Accounts: names, roles, argon2id hashes, sign-in, sessions ended by passwd and disable."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import pytest
from argon2 import PasswordHasher

from core.errors import Invalid, NotFound
from scorecards.people import accounts
from scorecards.people.access import UserRole, Viewer
from scorecards.people.accounts import (
    MIN_PASSWORD_LENGTH,
    add_user,
    authenticate,
    disable_user,
    get_user,
    list_users,
    set_language,
    set_password,
)
from scorecards.store.database import Store

SECRET = "Correct-Horse-Battery-9"


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "callqa.duckdb")
    store.migrate()
    return store


def test_add_and_authenticate(store: Store) -> None:
    user, generated = add_user(store, "  Li.Wei_01 ", "supervisor", teams=["T1", "T2", "T1"], password=SECRET,
                               language="zh", display_name="李伟")
    assert generated is None
    assert (user.user_id, user.display_name, user.role, user.agent_id, user.teams, user.language,
            user.session_epoch, user.disabled) == ("li.wei_01", "李伟", UserRole.SUPERVISOR, None, ("T1", "T2"), "zh",
                                                   0, False)  # fmt: skip
    assert user.viewer == Viewer("li.wei_01", UserRole.SUPERVISOR, None, ("T1", "T2"))
    assert authenticate(store, "LI.WEI_01", SECRET) == user
    assert authenticate(store, "li.wei_01", SECRET + "x") is None
    assert authenticate(store, "nobody", SECRET) is None
    assert get_user(store, "nobody") is None


def test_generated_password_and_agent_account(store: Store) -> None:
    user, generated = add_user(store, "sam", UserRole.AGENT, agent_id="A1")
    assert generated is not None and len(generated) >= 20
    assert user.viewer == Viewer("sam", UserRole.AGENT, "A1", ())
    assert authenticate(store, "sam", generated) == user
    # an admin keeps no agent id nor teams even when given
    admin, _ = add_user(store, "root", "admin", agent_id="A9", teams=["T1"], password=SECRET)
    assert (admin.agent_id, admin.teams) == (None, ())
    assert [u.user_id for u in list_users(store)] == ["root", "sam"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "bad name", "role": "qa"}, "name: 'bad name'"),
    ({"name": "", "role": "qa"}, "name: ''"),
    ({"name": "x" * 65, "role": "qa"}, "name:"),
    ({"name": "ok", "role": "boss"}, "role: 'boss'"),
    ({"name": "ok", "role": "agent"}, "agent_id"),
    ({"name": "ok", "role": "supervisor", "teams": [" "]}, "teams"),
    ({"name": "ok", "role": "qa", "language": "fr"}, "language: 'fr'"),
    ({"name": "ok", "role": "qa", "password": "short"}, f"at least {MIN_PASSWORD_LENGTH}"),
])
def test_add_rejects(store: Store, kwargs: dict[str, object], message: str) -> None:
    kwargs.setdefault("password", SECRET)
    with pytest.raises(Invalid, match=message):
        add_user(store, **kwargs)  # type: ignore[arg-type]
    assert list_users(store) == ()


def test_name_taken(store: Store) -> None:
    add_user(store, "qa1", "qa", password=SECRET)
    with pytest.raises(Invalid, match="already an account 'qa1'"):
        add_user(store, "QA1", "qa", password=SECRET)


def test_passwd_and_disable_end_sessions(store: Store) -> None:
    add_user(store, "ana", "agent", agent_id="A2", password=SECRET)
    user, generated = set_password(store, "ana", "Another-Secret-42")
    assert (generated, user.session_epoch) == (None, 1)
    assert authenticate(store, "ana", SECRET) is None
    assert authenticate(store, "ana", "Another-Secret-42") == user
    with pytest.raises(Invalid, match="password"):
        set_password(store, "ana", "short")
    user = disable_user(store, "ana")
    assert (user.disabled, user.session_epoch) == (True, 2)
    assert authenticate(store, "ana", "Another-Secret-42") is None
    with pytest.raises(NotFound, match="no account 'ghost'"):
        disable_user(store, "ghost")
    with pytest.raises(NotFound):
        set_password(store, "ghost", SECRET)


def test_set_language(store: Store) -> None:
    add_user(store, "wei", "qa", password=SECRET)
    assert set_language(store, "wei", "en").language == "en"
    assert set_language(store, "wei", None).language is None
    with pytest.raises(Invalid, match="language"):
        set_language(store, "wei", "de")


def test_old_hash_is_replaced_on_sign_in(store: Store) -> None:
    add_user(store, "old", "qa", password=SECRET)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(SECRET)
    with store.writing() as con:
        con.execute("UPDATE users SET password_hash = ? WHERE user_id = 'old'", [weak])
    assert authenticate(store, "old", SECRET) is not None
    stored = _hash(store, "old")
    assert stored != weak and stored.startswith("$argon2id$") and not PasswordHasher().check_needs_rehash(stored)
    assert authenticate(store, "old", SECRET) is not None


def test_password_never_stored_nor_logged(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    add_user(store, "spy", "qa", password=SECRET)
    set_password(store, "spy", SECRET + "-2")
    authenticate(store, "spy", SECRET + "-2")
    authenticate(store, "spy", SECRET)
    data = store.path.read_bytes() + b"".join(p.read_bytes() for p in store.path.parent.glob("*.wal"))
    for secret in (SECRET, SECRET + "-2"):
        assert secret.encode() not in data
        assert secret not in caplog.text
    assert _hash(store, "spy").startswith("$argon2id$")


def test_unknown_names_cost_one_verification(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(store, "known", "qa", password=SECRET)
    hashes: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            hashes.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_HASHER", Counting())
    assert authenticate(store, "unknown", SECRET) is None
    assert authenticate(store, "known", "wrong-password") is None
    assert len(hashes) == 2 and hashes[0] == accounts._dummy_hash() and hashes[1] == _hash(store, "known")
    # the dummy hash has the same parameters as a real one, so it costs the same to verify
    assert hashes[0].split("$")[:4] == hashes[1].split("$")[:4]


def _hash(store: Store, user_id: str) -> str:
    with store.reading() as con:
        row = con.execute("SELECT password_hash FROM users WHERE user_id = ?", [user_id]).fetchone()
    assert row is not None
    return str(row[0])
