"""The DuckDB store: one transaction per call, readers and writers in separate processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.errors import StoreError
from core.types import (
    AudioInfo,
    CallFailure,
    CallMetadata,
    ModelInfo,
    Role,
    RoleDecision,
    RunSummary,
    SourceFile,
    Transcript,
    Utterance,
    Word,
)
from scorecards.store.database import Store

ROOT = Path(__file__).resolve().parents[2]


def make_transcript(n_utts: int = 3, words_per: int = 4) -> Transcript:
    utts = []
    for i in range(n_utts):
        start = i * 5.0
        words = tuple(Word(start + j * 0.5, start + j * 0.5 + 0.4, f"w{j}", 0.9) for j in range(words_per))
        utts.append(Utterance(start, start + 4.0, " ".join(w.text for w in words),
                              Role.AGENT if i % 2 == 0 else Role.CUSTOMER, 0.9, 0.9,
                              f"spk{i % 2}", 0, "en", words))
    return Transcript(tuple(utts), n_utts * 5.0, "en", 1, RoleDecision("content", "spk0", 0.9, False, ("greeting",)),
                      ModelInfo("whisper-base", "m" * 64), '{"beam_size":5}', "0.1.0+test")


def source(i: int) -> SourceFile:
    return SourceFile(f"/calls/{i}.wav", f"{i:064x}", 100 + i, 0.0)


def test_round_trip_exact(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.start_run("r1", ["/calls"], "{}", "v")
    t = make_transcript()
    meta = CallMetadata(external_id="X1", agent_id="A7", queue="billing", hangup_by="customer", source="sidecar")
    store.save_call("r1", source(1), meta, AudioInfo("pcm_u8", "wav", 8000, 1, 15.0), t, "opts")
    got = store.load_transcript(f"{1:064x}"[:8])
    assert got.transcript == t
    assert got.metadata.agent_id == "A7" and got.metadata.queue == "billing" and got.metadata.hangup_by == "customer"
    assert store.load_transcript("X1").call.call_id == f"{1:064x}"
    assert store.load_transcript("1.wav").call.duration == 15.0
    assert store.transcribed_pairs("m" * 64) == {(f"{1:064x}", "opts")}
    assert store.integrity_problems() == []


def test_same_call_twice_is_one_call_and_new_options_keep_history(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.start_run("r1", [], "{}", "v")
    info = AudioInfo("pcm", "wav", 8000, 1, 15.0)
    for _ in range(2):
        store.save_call("r1", source(1), CallMetadata(), info, make_transcript(), "opts")
    store.save_call("r1", source(1), CallMetadata(), info, make_transcript(2), "opts2")
    assert len(store.list_calls()) == 1
    with store.reading() as con:
        assert con.execute("SELECT count(*), sum(is_current::INT) FROM transcripts").fetchone() == (2, 1)
    assert len(store.load_transcript(f"{1:064x}").transcript.utterances) == 2
    assert store.integrity_problems() == []


def test_changed_file_is_a_new_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.start_run("r1", [], "{}", "v")
    info = AudioInfo("pcm", "wav", 8000, 1, 15.0)
    old = source(1)
    new = SourceFile(old.path, "f" * 64, 101, 1.0)
    store.save_call("r1", old, CallMetadata(), info, make_transcript(), "o")
    store.save_call("r1", new, CallMetadata(), info, make_transcript(), "o")
    rows = {c.call_id: c for c in store.list_calls()}
    assert set(rows) == {old.sha256, new.sha256}
    with store.reading() as con:
        prev = con.execute("SELECT previous_call_id FROM calls WHERE call_id = ?", [new.sha256]).fetchone()
    assert prev == (old.sha256,)


def test_failure_is_recorded_and_never_hides_a_transcript(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.start_run("r1", [], "{}", "v")
    store.save_call("r1", source(1), CallMetadata(), AudioInfo("pcm", "wav", 8000, 1, 15.0), make_transcript(), "o")
    store.save_failure("r1", CallFailure("/calls/1.wav", "decode", "disk hiccup", source(1).sha256), source(1))
    store.save_failure("r1", CallFailure("/calls/2.wav", "decode", "empty file", source(2).sha256), source(2))
    store.save_failure("r1", CallFailure("/calls/3.wav", "read", "permission denied"))
    by_id = {c.call_id: c for c in store.list_calls()}
    assert by_id[source(1).sha256].status == "transcribed"
    assert by_id[source(2).sha256].status == "failed"
    assert by_id[source(2).sha256].failure_reason == "empty file"
    assert [f.reason for f in store.failures("r1")] == ["disk hiccup", "empty file", "permission denied"]
    assert store.integrity_problems() == []


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database here yet"):
        Store(tmp_path / "none.duckdb").list_calls()
    with pytest.raises(StoreError, match="no call matches 'abcdef'"):
        store = Store(tmp_path / "db.duckdb")
        store.migrate()
        store.find_call("abcdef")


def test_interrupted_runs_are_marked(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    store.start_run("dead", [], "{}", "v")
    with store.writing() as con:
        con.execute("UPDATE runs SET pid = 999999999 WHERE run_id = 'dead'")
    store.start_run("live", [], "{}", "v")
    import datetime as dt

    now = dt.datetime(2026, 1, 1)
    store.finish_run(RunSummary("live", now, now, 1, 0, (), 10.0, 2.0))
    status = {r["run_id"]: r["status"] for r in store.runs()}
    assert status == {"dead": "interrupted", "live": "finished"}


WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from tests.scorecards.test_store import make_transcript, source
    from core.types import AudioInfo, CallMetadata
    from scorecards.store.database import Store
    store = Store({db!r})
    store.start_run("w", [], "{{}}", "v")
    for i in range({n}):
        store.save_call("w", source(i), CallMetadata(), AudioInfo("pcm", "wav", 8000, 1, 60.0),
                        make_transcript({utts}, {words}), "o")
        print(i, flush=True)
        time.sleep({pause})  # a real run spends seconds on each call between its writes
    """
)


def _writer(tmp_path: Path, n: int, utts: int = 20, words: int = 30, pause: float = 0.0) -> subprocess.Popen[str]:
    code = WRITER.format(root=str(ROOT), db=str(tmp_path / "db.duckdb"),
                         n=n, utts=utts, words=words, pause=pause)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_reader_process_sees_progress_while_writer_process_writes(tmp_path: Path) -> None:
    writer = _writer(tmp_path, n=40, pause=0.05)
    assert writer.stdout is not None
    writer.stdout.readline()  # the first call is stored
    store = Store(tmp_path / "db.duckdb", lock_timeout=30)
    seen = []
    while writer.poll() is None:
        seen.append(len(store.list_calls()))  # must never raise while the other process writes
    writer.wait()
    assert writer.returncode == 0
    seen.append(len(store.list_calls()))
    assert seen == sorted(seen) and seen[0] >= 1 and seen[-1] == 40
    assert len(set(seen)) > 3, f"the reader should have seen intermediate progress: {seen}"


def test_kill_9_mid_write_never_leaves_half_a_call(tmp_path: Path) -> None:
    writer = _writer(tmp_path, n=10_000, utts=60, words=40)
    assert writer.stdout is not None
    for _ in range(5):
        writer.stdout.readline()
    time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    store = Store(tmp_path / "db.duckdb")
    calls = store.list_calls()
    assert len(calls) >= 5
    assert store.integrity_problems() == []
    with store.reading() as con:
        counts = con.execute("SELECT count(*) FROM utterances GROUP BY transcript_id").fetchall()
        words = con.execute("SELECT count(*) FROM words GROUP BY transcript_id").fetchall()
    assert {c[0] for c in counts} == {60} and {w[0] for w in words} == {60 * 40}
    assert len(counts) == len(calls)


def test_a_database_from_an_older_callqa_gets_the_new_tables_on_first_read(tmp_path: Path) -> None:
    import duckdb

    from scorecards.store.migrations import MIGRATIONS

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMP)")
    MIGRATIONS[0][1](con)
    con.execute("INSERT INTO schema_migrations VALUES (?, now())", [MIGRATIONS[0][0]])
    con.close()
    store = Store(path)
    assert store.list_calls() == []
    assert store.current_scorecards("x" * 64) == []  # the scorecard tables exist now
    with store.reading() as c:
        names = [r[0] for r in c.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
    assert names == [m[0] for m in MIGRATIONS]
