"""Writers first: overlapping reads (a busy web app) cannot keep a writer in another process out of the file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scorecards.store import locking
from scorecards.store.database import Store
from tests._locks import writable_from_another_process

WRITER = """
import sys, time
from scorecards.store.database import Store
t0 = time.monotonic()
with Store(sys.argv[1], lock_timeout=8).writing() as con:
    con.execute("INSERT INTO schema_migrations VALUES ('writer-was-here', now())")
print(f"{time.monotonic() - t0:.3f}")
"""


def _busy_readers(store: Store, stop: threading.Event, errors: list[BaseException]) -> list[threading.Thread]:
    """Two readers in relay, like overlapping web requests: they take turns to close, and each closes only once
    the other has opened again (or after 0.2 s), so without the writer's marker the file is never free."""
    turn = threading.Condition()
    state = {"open": 0, "closer": 0}

    def read(me: int) -> None:
        try:
            while not stop.is_set():
                with store.reading() as con:
                    con.execute("SELECT count(*) FROM schema_migrations").fetchall()
                    with turn:
                        state["open"] += 1
                        turn.notify_all()
                        turn.wait_for(lambda: stop.is_set() or (state["closer"] == me and state["open"] >= 2),
                                      timeout=0.2)  # fmt: skip
                        state["open"] -= 1
                        state["closer"] = 1 - me
                        turn.notify_all()
        except BaseException as exc:  # pragma: no cover - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    return threads


@pytest.mark.parametrize("writers_first", [True, False])
def test_a_waiting_writer_gets_the_file_from_overlapping_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writers_first: bool
) -> None:
    db = tmp_path / "db.duckdb"
    store = Store(db)
    store.migrate()
    if not writers_first:  # the readers ignore the writer's marker: the writer cannot get in (what is fixed)
        monkeypatch.setattr(Store, "_let_writers_in", lambda self: None)
    stop = threading.Event()
    errors: list[BaseException] = []
    threads = _busy_readers(store, stop, errors)
    try:
        time.sleep(0.3)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        res = subprocess.run([sys.executable, "-c", WRITER, str(db)], capture_output=True, text=True, timeout=60,
                             env=env)  # fmt: skip
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    if writers_first:
        assert res.returncode == 0, res.stderr[-1500:]  # in before its 8 s lock timeout, while reads go on
        with store.reading() as con:
            row = con.execute("SELECT count(*) FROM schema_migrations WHERE name = 'writer-was-here'").fetchone()
        assert row == (1,)
    else:
        assert res.returncode != 0 and "cannot open the database" in res.stderr
    assert not list(tmp_path.glob("db.duckdb.writer-waiting.*"))  # the writer withdrew its marker either way


def test_markers_of_dead_or_stuck_writers_are_cleared(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = db.with_name(f"{db.name}.writer-waiting.{int(dead.stdout)}")
    stale.touch()
    assert locking.writer_waiting(db, stale_after=60) is False and not stale.exists()
    live = db.with_name(f"{db.name}.writer-waiting.{os.getppid()}")  # a live process: waiting, until too old
    live.touch()
    assert locking.writer_waiting(db, stale_after=60) is True and live.exists()
    old = time.time() - 120
    os.utime(live, (old, old))
    assert locking.writer_waiting(db, stale_after=60) is False and not live.exists()
    own = db.with_name(f"{db.name}.writer-waiting.{os.getpid()}")  # this process's writer waits by other means
    own.touch()
    assert locking.writer_waiting(db, stale_after=60) is False


def test_a_lingering_read_keeps_the_file_open_then_lets_it_go(tmp_path: Path) -> None:
    """The web server's store keeps the file attached for ``read_linger`` seconds after its last read (a warm
    cache for the next request), then releases it."""
    db = tmp_path / "db.duckdb"
    Store(db).migrate()
    store = Store(db, read_linger=1.5)
    with store.reading() as con:
        con.execute("SELECT count(*) FROM schema_migrations").fetchall()
    started = time.monotonic()
    assert not writable_from_another_process(db)  # still attached after the read
    assert time.monotonic() - started < 1.5, "the probe was too slow to see the linger"
    deadline = time.monotonic() + 10
    while not writable_from_another_process(db):
        assert time.monotonic() < deadline, "the idle attachment was never released"
        time.sleep(0.2)
    with store.reading() as con:  # attached again, and still reads the file
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] > 0


def test_a_writer_elsewhere_gets_a_lingering_file_at_once(tmp_path: Path) -> None:
    """A linger far longer than the writer's lock timeout: the writer still gets in, because its marker ends
    the idle attachment (without that, it would time out after 8 s and exit non-zero)."""
    db = tmp_path / "db.duckdb"
    Store(db).migrate()
    store = Store(db, read_linger=600)
    with store.reading() as con:
        con.execute("SELECT count(*) FROM schema_migrations").fetchall()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    res = subprocess.run([sys.executable, "-c", WRITER, str(db)], capture_output=True, text=True, timeout=60,
                         env=env)  # fmt: skip
    assert res.returncode == 0, res.stderr[-1500:]
    assert float(res.stdout) < 4.0  # in well before its lock timeout
    with store.reading() as con:  # the next read attaches again and sees the write
        row = con.execute("SELECT count(*) FROM schema_migrations WHERE name = 'writer-was-here'").fetchone()
    assert row == (1,)


def test_a_writer_in_this_process_ends_a_lingering_read(tmp_path: Path) -> None:
    """A write by the server itself (a review) detaches the idle read attachment first, and the next read
    sees what was written."""
    db = tmp_path / "db.duckdb"
    store = Store(db, read_linger=600, lock_timeout=8)
    store.migrate()
    with store.reading() as con:
        before = con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    with store.writing() as con:
        con.execute("INSERT INTO schema_migrations VALUES ('this-process', now())")
    with store.reading() as con:
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == before + 1
