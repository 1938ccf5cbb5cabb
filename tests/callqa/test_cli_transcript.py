"""``callqa transcript``: roles, stored emotion labels, and JSON that ``callqa score --transcript`` reads back."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scorecards.store.database import Store

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

CLIP = Path(__file__).resolve().parents[2] / "data" / "clips" / "jfk.flac"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callqa.cli", *args], capture_output=True, text=True, timeout=600)


def test_transcript_json_carries_emotion_and_scores_again(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(CLIP, src)
    db = tmp_path / "db.duckdb"
    assert _cli("run", str(src), "--db", str(db), "--no-progress").returncode == 0
    store = Store(db)
    (call,) = store.list_calls()
    stored = store.load_transcript(call.call_id)
    emotions = store.utterance_emotions(stored.transcript_id)

    res = _cli("transcript", call.call_id[:10], "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["file"] == "jfk.flac" and data["call_id"] == call.call_id
    assert [u["emotion"] for u in data["utterances"]] == [
        {"label": e.label, "anger": round(e.anger, 4)} for e in emotions
    ]
    assert len(emotions) == len(stored.transcript.utterances) > 0

    # What `transcript --json` prints is a transcript file `score` accepts (the extra keys are ignored).
    path = tmp_path / "t.json"
    path.write_text(res.stdout, encoding="utf-8")
    scored = _cli("score", "--transcript", str(path), "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)

    text = _cli("transcript", call.call_id[:10], "--db", str(db))
    assert text.returncode == 0 and "ask not what your country can do for you" in text.stdout.lower()
    for e in emotions:
        if e.label != "neutral":
            assert f"{e.label}, anger {e.anger:.2f}" in text.stdout
