"""Writers first: overlapping reads (a busy web app) cannot keep a writer in another process out of the file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scorecards import locking
from scorecards.store import Store

WRITER = """
import sys, time
from scorecards.store import Store
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
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
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
