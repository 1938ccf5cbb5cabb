"""Scorecards in the store: saved with their call, read back exactly, superseded by rescoring, never lost."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from core.errors import StoreError
from core.transcript_io import parse_json
from core.types import AudioInfo, ModelInfo, SourceFile, Transcript
from pipeline.emotion import CallEmotion, ClassScores, EmotionOptions, UtteranceEmotion, summarise
from rules.engine import score_call
from rules.loader import load_checklist, shipped_checklist
from scorecards.store.database import ChecklistRecord, MetricsRecord, Store

LABELLED = Path(__file__).resolve().parents[1] / "data" / "labelled"


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
    card = score_call(checklist, transcript, loaded.metadata, call_id=src.sha256, transcript_hash="t1")
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


def _emotion(transcript: Transcript) -> CallEmotion:
    """A hand-made emotion for every utterance: the second one angry with cues, the first one without a voice."""
    utts = []
    for i, u in enumerate(transcript.utterances):
        angry = i == 1
        fused = ClassScores(0.8, 0.1, 0.05, 0.05) if angry else ClassScores(0.01, 0.04, 0.9, 0.05)
        text = ClassScores(0.3, 0.5, 0.1, 0.1) if angry else fused
        utts.append(UtteranceEmotion(i, u.role, u.start, u.end, "angry" if angry else "neutral",
                                     0.8 if angry else 0.9, 0.85 if angry else 0.03, text,
                                     None if i == 0 else 1.25, ("angry:我要投诉", "voice:louder") if angry else (),
                                     fused))
    return summarise(utts, [5] * len(utts), EmotionOptions(), ModelInfo("e5-prototypes", "e" * 64))


def test_utterance_emotions_saved_with_the_call_and_read_back(tmp_path: Path) -> None:
    raw = json.loads((LABELLED / "zh" / "zh_001.json").read_text(encoding="utf-8"))
    raw.pop("labels"), raw.pop("notes", None)
    loaded = parse_json(json.dumps(raw), "zh_001.json")
    transcript = dataclasses.replace(loaded.transcript, model=ModelInfo("whisper", "m" * 64), code_version="v9")
    emotion = _emotion(transcript)
    src = SourceFile("/c/zh_001.wav", "a" * 64, 1, 0.0)
    store = Store(tmp_path / "db.duckdb")
    store.start_run("r1", [], "{}", "v9")
    audio = AudioInfo("pcm", "wav", 8000, 1, transcript.duration)
    tid = store.save_call("r1", src, loaded.metadata, audio, transcript, "o", emotion=emotion)
    rows = store.utterance_emotions(tid)
    n = len(transcript.utterances)
    assert n >= 3 and [r.utterance_idx for r in rows] == list(range(n))
    assert [r.role for r in rows] == [u.role for u in transcript.utterances]
    second = rows[1]
    assert (second.label, second.confidence, second.anger, second.text_label, second.arousal) == (
        "angry", 0.8, 0.85, "frustrated", 1.25)
    assert (second.angry, second.frustrated, second.neutral, second.satisfied) == (0.8, 0.1, 0.05, 0.05)
    assert second.cues == ("angry:我要投诉", "voice:louder")
    assert (rows[0].arousal, rows[0].cues, rows[0].text_label) == (None, (), "neutral")
    options_hash = hashlib.sha256(emotion.options.encode()).hexdigest()[:12]
    assert {r.producer for r in rows} == {f"e5-prototypes@{'e' * 12} options:{options_hash} code:v9"}
    assert store.integrity_problems() == []

    # Saved again (the same transcript id) without emotion: no stale rows survive.
    store.save_call("r1", src, loaded.metadata, audio, transcript, "o")
    assert store.utterance_emotions(tid) == ()
    # An emotion of another transcript is refused before anything is written.
    shorter = dataclasses.replace(transcript, utterances=transcript.utterances[:-1])
    with pytest.raises(StoreError, match=f"{n - 1} utterance\\(s\\) for a transcript of {n}"):
        store.save_call("r1", src, loaded.metadata, audio, transcript, "o", emotion=_emotion(shorter))
    assert store.utterance_emotions(tid) == ()
