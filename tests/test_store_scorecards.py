"""Scorecards in the store: saved with their call, read back exactly, superseded by rescoring, never lost."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from callqa.transcript_io import parse_json
from callqa.types import AudioInfo, ModelInfo, SourceFile
from rules.loader import load_checklist, shipped_checklist
from scorecards.store import ChecklistRecord, MetricsRecord, Store

LABELLED = Path(__file__).resolve().parent / "data" / "labelled"


def record(checklist: object) -> ChecklistRecord:
    path = Path(checklist.path)  # type: ignore[attr-defined]
    return ChecklistRecord(checklist.id, checklist.version, checklist.title,  # type: ignore[attr-defined]
                           checklist.content_hash, str(path), path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]


def test_scorecard_round_trip_and_rescore_supersedes(tmp_path: Path) -> None:
    raw = json.loads((LABELLED / "zh" / "zh_001.json").read_text(encoding="utf-8"))
    raw.pop("labels"), raw.pop("notes", None)
    loaded = parse_json(json.dumps(raw), "zh_001.json")
    transcript = dataclasses.replace(loaded.transcript, model=ModelInfo("whisper", "m" * 64), code_version="v")
    checklist = load_checklist(shipped_checklist("zh"))
    src = SourceFile("/c/zh_001.wav", "a" * 64, 1, 0.0)
    card = checklist.score(transcript, loaded.metadata, call_id=src.sha256, transcript_hash="t1")
    store = Store(tmp_path / "db.duckdb")
    store.start_run("r1", [], "{}", "v")
    tid = store.save_call("r1", src, loaded.metadata, AudioInfo("pcm", "wav", 8000, 1, transcript.duration),
                          transcript, "o", scorecards=[(card, record(checklist))],
                          metrics=MetricsRecord({"longest_silence_s": 3.5}, "metrics@v"))
    assert store.current_scorecards(src.sha256) == [card]
    assert store.call_metrics(tid) == {"longest_silence_s": 3.5}

    # Rescoring with a changed checklist keeps the old scorecard, superseded.
    changed = dataclasses.replace(checklist, version="2", content_hash="c" * 64)
    card2 = dataclasses.replace(card, checklist_version="2", checklist_hash="c" * 64)
    assert store.save_scorecards([(card2, record(changed), tid)], "rescore:1", "v") == 1
    assert store.save_scorecards([(card2, record(changed), tid)], "rescore:2", "v") == 0  # nothing new
    assert store.current_scorecards(src.sha256) == [card2]
    history = store.scorecard_history(src.sha256)
    assert [(h["checklist_version"], h["is_current"]) for h in history] == [("2", True), (checklist.version, False)]
    assert store.integrity_problems() == []
