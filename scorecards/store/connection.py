"""The DuckDB store: the only module that talks to the database file.

DuckDB locks its file per process, even against read-only openers. So nobody holds a connection for
long: the writer opens the file for one call (one transaction) and closes it, and readers open it
read-only for one query, or one web request (nested ``reading()`` blocks share the outermost one's
connection). Both retry while the other holds the lock, so ``callqa calls`` during a nightly run shows
the calls stored so far instead of failing; a writer kept out announces itself and new reads wait for it
(:mod:`scorecards.store.locking`), so a busy web app cannot starve the nightly run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb

from core.errors import StoreError
from scorecards.store.locking import WriterIntent, wait_for_writers, writer_waiting
from scorecards.store.migrations import MIGRATIONS
from scorecards.store.readers import ReadScope, readers
from scorecards.store.rows import (
    _now,
)

if TYPE_CHECKING:  # only for the signature: importing the emotion stage would load librosa into every reader
    pass

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")
# DuckDB refuses a read-only and a read-write connection to one file in the same process, so a writer in
# this process waits until no read connection is open (read-only ones may be open together).
_process_lock = threading.RLock()  # held by a writer throughout, by a reader only while it opens
# Closing a reader never waits for _process_lock: the web app closes a request's connection on its event loop.
_readers_gone = threading.Condition(threading.Lock())
_open_readers = 0  # read connections open in this process, guarded by _readers_gone


_scope: ContextVar[ReadScope | None] = ContextVar("callqa_read_scope", default=None)
_T = TypeVar("_T")


def _close_readers(scope: ReadScope) -> None:
    global _open_readers
    with _readers_gone:
        for path, con in scope.cons.items():
            readers.release(path, con)
            _open_readers -= 1
        scope.cons.clear()
        _readers_gone.notify_all()


class Connection:
    """The callqa database file's connections: short writes, shared reads, retries while another process
    holds the file, migrations on first write. :class:`Store` adds the tables' reads and writes.

    Args:
        path: the DuckDB file; created (with its schema) by the first writer.
        lock_timeout: seconds to keep retrying while another process holds the file.
        read_linger: seconds to keep the file open after the last read ends, for a long-running reader such
            as the web server (see ``_Readers``); a writer elsewhere that waits still gets in within ~50 ms.
    """

    def __init__(self, path: str | Path, *, lock_timeout: float = 120.0, read_linger: float = 0.0):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.read_linger = read_linger
        self._migrated = False

    # -- connections -------------------------------------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if read_only:
            self._let_writers_in()
            return self._retrying(lambda: duckdb.connect(str(self.path), read_only=True))
        intent = WriterIntent(self.path)  # announced if the file is locked, so readers elsewhere let us in
        try:
            return self._retrying(lambda: duckdb.connect(str(self.path)), on_locked=intent.announce)
        finally:
            intent.withdraw()

    def _let_writers_in(self) -> None:
        wait_for_writers(self.path, timeout=self.lock_timeout, stale_after=self._stale_after)

    def _writer_waiting(self) -> bool:
        return writer_waiting(self.path, stale_after=self._stale_after)

    @property
    def _stale_after(self) -> float:
        return 2 * self.lock_timeout + 60

    def _retrying(self, open_: Callable[[], _T], on_locked: Callable[[], None] | None = None) -> _T:
        """``open_()``, retried while another process holds the file's lock (up to ``lock_timeout``)."""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return open_()
            except duckdb.Error as exc:
                locked = isinstance(exc, duckdb.IOException) and any(m in str(exc) for m in _LOCK_MARKERS)
                if not locked or time.monotonic() > deadline:
                    raise StoreError(
                        f"{self.path}: cannot open the database ({exc}). If a run is in progress, "
                        f"wait for it or raise the lock timeout ({self.lock_timeout:.0f} s)."
                    ) from exc
                if on_locked is not None:
                    on_locked()
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 1.5, 0.25)

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short read-only connection. Raises StoreError when there is no database yet.

        Re-entrant: inside an enclosing ``reading()`` block (in this context: same thread, or work handed
        to a thread with a copy of the context), the enclosing block's connection is used, opened on first
        use and closed when the outermost block ends. A ``writing()`` in between closes it first (DuckDB
        refuses both kinds at once in one process); the next read opens a new one.
        """
        if not self.path.exists():
            raise StoreError(f"{self.path}: no database here yet; run `callqa run PATH` or `callqa demo` first")
        if not self._migrated and self._needs_migration():
            self.migrate()  # a database made by an older callqa gets the newer tables before it is read
        scope = _scope.get()
        if scope is None:  # the outermost block: its scope closes the connection at the end
            with self.read_scope(), self.reading() as con:
                yield con
            return
        yield scope.cons.get(self.path) or self._open_reader(scope)

    def _open_reader(self, scope: ReadScope) -> duckdb.DuckDBPyConnection:
        """A cursor on the process's in-memory database with this file attached read-only (see _Readers)."""
        global _open_readers
        self._let_writers_in()  # a writer elsewhere that waits goes first: reads must not hold the file forever
        with _process_lock:  # not while a writer of this process holds the file
            con = self._retrying(lambda: readers.attach(self.path, self.read_linger, self._writer_waiting))
            with _readers_gone:
                _open_readers += 1
        scope.cons[self.path] = con
        return con

    @staticmethod
    @contextmanager
    def read_scope() -> Iterator[None]:
        """Make every ``reading()`` inside this block (in this context and the threads it hands work to) share
        one read-only connection per database, opened on first use and closed at the end: one per web request.
        """
        if _scope.get() is not None:
            yield
            return
        scope = ReadScope()
        token = _scope.set(scope)
        try:
            yield
        finally:
            _scope.reset(token)
            _close_readers(scope)

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short read-write connection inside one transaction: committed on success, else rolled back."""
        with _process_lock:
            scope = _scope.get()
            if scope is not None:  # this context's own read connection would make the writer wait for itself
                _close_readers(scope)
            with _readers_gone:
                if not _readers_gone.wait_for(lambda: _open_readers == 0, timeout=self.lock_timeout):
                    raise StoreError(f"{self.path}: reads in this process did not finish within "
                                     f"{self.lock_timeout:.0f} s; try again")
            readers.detach_idle(self.path)  # a lingering read attachment would hold the file against us
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = self._open(read_only=False)
            try:
                if not self._migrated:
                    self._migrate(con)
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            finally:
                con.close()

    def _needs_migration(self) -> bool:
        with _process_lock:
            con = self._open(read_only=True)
            try:
                tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
                if "schema_migrations" not in tables:
                    return True
                done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
            finally:
                con.close()
        missing = {name for name, _ in MIGRATIONS} - done
        self._migrated = not missing
        return bool(missing)

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMP)"
        )
        done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
        for name, step in MIGRATIONS:
            if name in done:
                continue
            con.execute("BEGIN TRANSACTION")
            try:
                step(con)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, _now()])
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        self._migrated = True

    def migrate(self) -> list[str]:
        """Create or upgrade the schema; returns the names of all applied migrations."""
        with self.writing() as con:
            return [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
