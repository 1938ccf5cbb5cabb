"""``callqa redact`` on a store made before redaction existed: everything hidden, a rerun changes nothing, a run
killed with SIGKILL resumes, and ``check-db`` reports what is left in clear."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from core.transcript_io import transcript_hash
from core.types import AudioInfo, CallMetadata, SourceFile
from flows.redact_store import leftover, redact_store
from rules.engine import score_call
from rules.loader import load_checklist
from scorecards.store.database import Store
from scorecards.store.stored import checklist_record
from tests.e2e._db import CHECKLIST, build, real_call_transcript
from tests.flows._run import callqa, text_columns_holding

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ["violet", "i-o-l-e-t", "k-i-n-g", "33322222"]


def _callqa(*args: str) -> subprocess.CompletedProcess[str]:
    return callqa(*args, cwd=ROOT)


def _counts(db: Path) -> tuple[int, int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT (SELECT count(*) FROM transcripts), (SELECT count(*) FROM transcript_privacy), "
                          "(SELECT count(*) FROM redactions)").fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_a_store_in_clear_is_redacted_everywhere_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "clear.duckdb"
    build(db, redacted=False)
    assert text_columns_holding(db, ["violet"])  # the transcript, its words and the scorecards' quotes hold the name
    check = _callqa("check-db", "--db", str(db))
    assert check.returncode == 0 and "4 transcript(s) stored in clear" in check.stderr, check.stderr

    res = _callqa("redact", "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "4 transcript(s) redacted" in res.stdout
    assert text_columns_holding(db, SECRETS) == []
    transcripts, marked, spans = _counts(db)
    assert (transcripts, marked) == (4, 4) and spans > 0
    store = Store(db)
    real = store.load_transcript(next(c.call_id for c in store.list_calls() if c.agent_id == "ChrisL"))
    assert "Hello, my name is [NAME], and I bought a car not too long ago" in real.transcript.utterances[1].text
    words = [w.text for u in real.transcript.utterances for w in u.words]
    assert "[NAME]," in words and not [w for w in words if "Violet" in w or "K-I-N-G" in w]
    with store.reading() as con:
        evidence = [r[0] for r in con.execute("SELECT evidence FROM verdicts").fetchall()]
    assert not any("Violet" in e for e in evidence)

    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("SELECT * FROM utterances ORDER BY transcript_id, idx").fetchall()
    again = _callqa("redact", "--db", str(db), "--no-progress")
    assert again.returncode == 0 and "already redacted" in again.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT * FROM utterances ORDER BY transcript_id, idx").fetchall() == before
    assert _counts(db) == (transcripts, marked, spans)
    check = _callqa("check-db", "--db", str(db))
    assert check.returncode == 0 and "stored in clear" not in check.stderr, check.stdout + check.stderr
    assert leftover(store) == (0, [])


def test_keep_clear_keeps_the_clear_text_apart(tmp_path: Path) -> None:
    db = tmp_path / "clear.duckdb"
    build(db, redacted=False)
    store = Store(db)
    done = redact_store(store, keep_clear=True)
    assert (done.transcripts, done.of) == (4, 4)
    with store.reading() as con:
        modes = {r[0] for r in con.execute("SELECT mode FROM transcript_privacy").fetchall()}
        kept = con.execute("SELECT text FROM clear_utterances WHERE contains(text, 'Violet')").fetchall()
    assert modes == {"both"} and kept
    assert [t for t in text_columns_holding(db, ["violet"]) if not t.startswith("clear_utterances.")] == []


def _written(pid: int) -> int:
    """Bytes the process has written so far (Linux /proc), 0 before it starts."""
    try:
        io = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return 0
    return int(next(line.split()[1] for line in io.splitlines() if line.startswith("wchar:")))


def _many_calls(db: Path, n: int) -> None:
    """A store of ``n`` copies of the real call in clear (as before redaction existed), each scored."""
    checklist = load_checklist(CHECKLIST)
    record = checklist_record(checklist)
    transcript = real_call_transcript()
    store = Store(db)
    store.start_run("r", ["x"], "{}", "test")
    meta = CallMetadata(agent_id="A1", team="T", customer_number="13812345678", source="manifest")
    card = score_call(checklist, transcript, meta, call_id="c", transcript_hash=transcript_hash(transcript))
    for i in range(n):
        call_id = f"{i:064x}"
        store.save_call("r", SourceFile(f"/calls/{i}.wav", call_id, 1000, 0.0), meta,
                        AudioInfo("pcm", "wav", 8000, 1, transcript.duration), transcript, "o",
                        scorecards=[(dataclasses.replace(card, call_id=call_id), record)])


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc to see the run's progress")
def test_a_redaction_killed_with_sigkill_resumes_and_stores_each_transcript_once(tmp_path: Path) -> None:
    db = tmp_path / "many.duckdb"
    n = 150
    _many_calls(db, n)
    proc = subprocess.Popen([sys.executable, "-m", "callqa.cli", "redact", "--db", str(db), "--no-progress"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Kill it once it has committed some transcripts (each one commits on its own): when it has written ~1 MB.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and _written(proc.pid) < 1_000_000:
        time.sleep(0.02)
    assert proc.poll() is None, "redact finished before it could be killed: raise n"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    transcripts, marked, _ = _counts(db)
    assert transcripts == n and 0 < marked < n, marked
    res = _callqa("redact", "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert f"{n - marked} transcript(s) redacted" in res.stdout
    transcripts, marked, spans = _counts(db)
    assert (transcripts, marked) == (n, n)
    with duckdb.connect(str(db), read_only=True) as con:
        per = con.execute("SELECT count(*), count(DISTINCT transcript_id) FROM transcript_privacy").fetchone()
        numbers = con.execute("SELECT DISTINCT customer_number FROM calls").fetchall()
        texts = con.execute("SELECT count(DISTINCT text) FROM utterances WHERE idx = 1").fetchone()
    assert per == (n, n) and numbers == [("[PHONE]",)] and texts == (1,)
    assert spans == n * (spans // n)  # the same spans in every copy
    assert text_columns_holding(db, [*SECRETS, "13812345678"]) == []
    check = _callqa("check-db", "--db", str(db))
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(json.dumps(leftover(Store(db)))) == [0, []]
