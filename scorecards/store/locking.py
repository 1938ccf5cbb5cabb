"""Writers first: a writer in another process that waits for the database file stops new readers from starting.

DuckDB lets one process hold its file at a time. Readers (the web app, ``callqa calls``) hold it for a few
milliseconds per request, but requests that overlap keep it attached with no gap, and a writer retrying at
random moments could wait until its lock timeout and lose the night's results for a call. So a writer that
finds the file locked leaves a small marker beside it (``<db>.writer-waiting.<pid>``) until it gets in;
readers about to open the file wait while a live writer's marker is there, the reads already running finish,
the file is released and the writer takes it. A marker left by a killed writer is removed by the next reader.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_SUFFIX = ".writer-waiting."


def _marker(db: Path, pid: int) -> Path:
    return db.with_name(f"{db.name}{_SUFFIX}{pid}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class WriterIntent:
    """A writer's marker: :meth:`announce` when the file is found locked, :meth:`withdraw` once in (or on giving up)."""

    def __init__(self, db: Path) -> None:
        self._path = _marker(db, os.getpid())
        self._announced = False

    def announce(self) -> None:
        if not self._announced:
            self._path.touch()
            self._announced = True

    def withdraw(self) -> None:
        if self._announced:
            self._path.unlink(missing_ok=True)
            self._announced = False


def writer_waiting(db: Path, *, stale_after: float) -> bool:
    """Whether a live writer in another process waits for ``db``; removes markers of dead or stuck writers.

    Args:
        db: the database file.
        stale_after: seconds after which a marker counts as left behind even if its pid is alive (a pid
            may be reused; a real writer gives up and withdraws within its lock timeout).
    """
    waiting = False
    try:
        entries = list(os.scandir(db.parent))
    except FileNotFoundError:
        return False
    prefix = db.name + _SUFFIX
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid_text = entry.name[len(prefix):]
        try:
            pid = int(pid_text)
            age = time.time() - entry.stat().st_mtime
        except (ValueError, FileNotFoundError):
            continue
        if pid == os.getpid():
            continue  # this process's own writer waits for its readers by other means (the store's lock)
        if _pid_alive(pid) and age < stale_after:
            waiting = True
        else:
            Path(entry.path).unlink(missing_ok=True)
    return waiting


def wait_for_writers(db: Path, *, timeout: float, stale_after: float) -> None:
    """Before opening ``db`` to read: let a waiting writer in first (returns after at most ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while writer_waiting(db, stale_after=stale_after) and time.monotonic() < deadline:
        time.sleep(0.02)
