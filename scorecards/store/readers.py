"""Read connections: the database file attached read-only to one in-memory DuckDB the process keeps.

:class:`~scorecards.store.database.Store` opens every read through the one :data:`readers` pool here.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb


class ReadScope:
    """The read connections of one outermost ``reading()`` block, by database path, shared by nested blocks.

    Held in a context variable rather than per thread: a web request's work hops between worker threads
    (FastAPI runs the session lookup and the page in separate calls), and both get a copy of the context.
    """

    def __init__(self) -> None:
        self.cons: dict[Path, duckdb.DuckDBPyConnection] = {}


class _Readers:
    """Read connections as attachments of the database file to one in-memory DuckDB kept by the process.

    Opening a DuckDB database costs several times what attaching a file to a running one and detaching it
    does (docs/operations.md). The file is attached while at least one
    reader uses it and detached when the last one closes, so its lock is held no longer than before: a writer
    in another process gets in as soon as the reads end.

    A store opened with ``read_linger`` (the web server's) keeps the file attached that long after its last
    reader: the next request finds the file open and DuckDB's cache of its blocks warm (the agent home costs
    about half as much). Holding the lock a little longer is safe: no other process can write while the file is
    attached, and a background check detaches it within ~50 ms once a writer elsewhere says it waits
    (:mod:`scorecards.store.locking`), or when a writer of this process wants it (:meth:`detach_idle`).
    """

    _POLL = 0.05  # seconds between checks for a waiting writer while an attachment is idle

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._memory: duckdb.DuckDBPyConnection | None = None
        self._users: dict[str, int] = {}  # attachment name → open cursors (0 while idle)
        # attachment name → (seconds to keep it idle, the check for a waiting writer) of the last attacher
        self._policy: dict[str, tuple[float, Callable[[], bool]]] = {}
        self._idle: dict[str, float] = {}  # attachment name → when its last cursor closed (monotonic)
        self._reaper: threading.Thread | None = None

    def attach(self, path: Path, linger: float = 0.0,
               writer_waiting: Callable[[], bool] = lambda: False) -> duckdb.DuckDBPyConnection:
        """A cursor whose default database is ``path`` (read-only); raises duckdb.Error while it is locked.

        Args:
            linger: seconds to keep the file attached after the last cursor closes.
            writer_waiting: whether a writer elsewhere waits for the file (ends an idle attachment early).
        """
        name = _attachment(path)
        with self._lock:
            if self._memory is None:
                self._memory = duckdb.connect(":memory:")
                # closed before the interpreter tears modules down: a DuckDB left open then makes its
                # bindings print pages of "leaked" warnings at the end of every command
                atexit.register(self.close)
            if name not in self._users:
                quoted = str(path.resolve()).replace("'", "''")
                self._memory.execute(f"ATTACH '{quoted}' AS {name} (READ_ONLY)")
                self._users[name] = 0
            self._users[name] += 1
            self._idle.pop(name, None)
            self._policy[name] = (linger, writer_waiting)
            cursor = self._memory.cursor()
        try:
            cursor.execute(f"USE {name}")
        except BaseException:
            self.release(path, cursor)
            raise
        return cursor

    def close(self) -> None:
        """Close the in-memory database (at exit)."""
        with self._lock:
            if self._memory is not None:
                self._memory.close()
                self._memory = None
                self._users.clear()
                self._idle.clear()

    def release(self, path: Path, cursor: duckdb.DuckDBPyConnection) -> None:
        """Close the cursor; the last one out detaches the file (releasing its lock), now or after the linger."""
        name = _attachment(path)
        cursor.close()
        with self._lock:
            self._users[name] -= 1
            if self._users[name] or self._memory is None:
                return
            if self._policy[name][0] <= 0:
                self._detach(name)
                return
            self._idle[name] = time.monotonic()
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="callqa-read-linger", daemon=True)
                self._reaper.start()

    def detach_idle(self, path: Path) -> None:
        """Detach ``path`` now if no cursor uses it (before a writer of this process opens the file)."""
        with self._lock:
            name = _attachment(path)
            if name in self._idle:
                self._detach(name)

    def _detach(self, name: str) -> None:  # with self._lock held
        del self._users[name]
        self._idle.pop(name, None)
        if self._memory is not None:
            self._memory.execute(f"DETACH {name}")

    def _reap(self) -> None:
        """Detach idle attachments whose linger is over or whose file a writer elsewhere waits for."""
        while True:
            time.sleep(self._POLL)
            with self._lock:
                idle = [(name, since, *self._policy[name]) for name, since in self._idle.items()]
            # the writer check reads a directory: not while holding the lock that every read open takes
            done = {name for name, since, linger, waiting in idle
                    if time.monotonic() - since >= linger or waiting()}
            with self._lock:
                for name in done:
                    if name in self._idle:  # not taken by a new reader meanwhile
                        self._detach(name)
                if not self._idle:
                    self._reaper = None
                    return


def _attachment(path: Path) -> str:
    return "store_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]


readers = _Readers()
