"""Emotion labels where nobody tuned: false alarms on written dialogues, the real call, the Mandarin clips.

The evaluation set (``eval.csv``) measures the classifier on sentences written to sit on one side of a class
boundary. This script measures what a supervisor sees on material the constants were *not* fitted on:

1. **Labelled dialogues** (``tests/data/labelled/{en,zh}/*.json``, 102 calls written for the rule engine, not
   for emotion; text only): the share of AGENT utterances labelled angry and the share with anger >= 0.7 —
   agents there are polite, so both are false-alarm rates — and, for information, the CUSTOMER label
   distribution (some customers there are angry on purpose).
2. **The real call** (``tests/data/real_call_emotion.json``: the pipeline's own transcript of
   ``data/calls/…ChrisL…Mono.wav`` with a human label per utterance), with its audio: label per utterance
   against the human label.
3. **The Mandarin clips** (``data/emotion/field_clips.json``: the pipeline's transcripts of four neutral clips
   in ``data/clips``), with their audio: any utterance labelled angry is a false alarm.

Usage (≈ 30 s on 2 cores; prints a table, ``--json OUT`` writes the figures)::

    HF_HUB_OFFLINE=1 .venv/bin/python tools/emotion/field_check.py [--json OUT] [--per-utterance]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = ROOT / "data" / "emotion"  # the labelled set, lexicon and prototypes this script reads
sys.path.insert(0, str(ROOT))

from core.transcript_io import parse_json  # noqa: E402
from core.types import Role, Transcript, Utterance  # noqa: E402
from models.emotion import LABELS  # noqa: E402
from pipeline import audio  # noqa: E402
from pipeline.emotion import CallEmotion, EmotionOptions, analyse_emotion, default_text_model  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "labelled"
REAL_CALL = ROOT / "tests" / "data" / "real_call_emotion.json"
CLIPS = HERE / "field_clips.json"


def dumped_transcript(data: dict[str, Any]) -> Transcript:
    """A transcript from the dump format of ``real_call_emotion.json`` / ``field_clips.json``."""
    utts = tuple(
        Utterance(start=float(u["start"]), end=float(u["end"]), text=str(u["text"]), role=Role(u["role"]),
                  speaker=str(u["speaker"]), channel=int(u["channel"]), language=str(u.get("language", "")))
        for u in data["utterances"])
    return Transcript(utterances=utts, duration=float(data["duration"]), language=str(data["language"]),
                      channels=int(data.get("channels", 1)))


def analyse_dump(data: dict[str, Any], options: EmotionOptions) -> CallEmotion:
    """The emotion stage on a dumped transcript with its recording (paths relative to the repository)."""
    decoded = audio.decode(ROOT / data["audio"])
    return analyse_emotion(dumped_transcript(data), decoded.channels, default_text_model(), options)


def labelled_dialogues(options: EmotionOptions) -> dict[str, Any]:
    """Part 1: per role and language, the label counts and the anger >= threshold count (text only)."""
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    calls = 0
    for path in sorted(LABELLED.glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("labels", "notes"):  # the rule engine's labels, not part of the transcript format
            data.pop(key, None)
        transcript = parse_json(json.dumps(data), str(path)).transcript
        calls += 1
        emotion = analyse_emotion(transcript, None, default_text_model(), options)
        for u in emotion.utterances:
            key = f"{u.role.value}/{transcript.language}"
            counts[key][u.label] += 1
            counts[key]["n"] += 1
            counts[key]["flag"] += u.anger >= options.angry_threshold
    return {"calls": calls, **{k: dict(v) for k, v in sorted(counts.items())}}


def real_call(options: EmotionOptions, per_utterance: bool) -> dict[str, Any]:
    """Part 2: labels against the human labels."""
    data = json.loads(REAL_CALL.read_text(encoding="utf-8"))
    emotion = analyse_dump(data, options)
    human = [u["label"] for u in data["utterances"]]
    got = [u.label for u in emotion.utterances]
    if per_utterance:
        for u, h, text in zip(emotion.utterances, human, (x["text"] for x in data["utterances"]), strict=True):
            print(f"  {u.index:2d} {u.role.value:8s} {u.label:10s} (human {h:8s}) anger {u.anger:.2f} "
                  f"text {u.text_label:10s} arousal {u.arousal} {list(u.cues)} {text[:60]!r}")
    return {"n": len(got), "disagree": sum(g != h for g, h in zip(got, human, strict=True)),
            "labels": dict(collections.Counter(got)), "angry": got.count("angry"),
            "flag": sum(u.anger >= options.angry_threshold for u in emotion.utterances),
            "agent_negative_tone_max": emotion.agent_negative_tone, "customer_anger_max": emotion.peak_anger,
            "trajectory": emotion.customer_trajectory}


def clips(options: EmotionOptions, per_utterance: bool) -> dict[str, Any]:
    """Part 3: label counts on the neutral Mandarin clips."""
    out: dict[str, Any] = {}
    for name, data in json.loads(CLIPS.read_text(encoding="utf-8")).items():
        emotion = analyse_dump(data, options)
        if per_utterance:
            for u, x in zip(emotion.utterances, data["utterances"], strict=True):
                print(f"  {name} {u.index} {u.role.value:8s} {u.label:10s} anger {u.anger:.2f} {x['text'][:40]!r}")
        out[name] = {"labels": dict(collections.Counter(u.label for u in emotion.utterances)),
                     "max_anger": max((u.anger for u in emotion.utterances), default=0.0)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--per-utterance", action="store_true", help="print every real-call and clip utterance")
    args = ap.parse_args()
    options = EmotionOptions()
    figures = {"labelled": labelled_dialogues(options), "real_call": real_call(options, args.per_utterance),
               "clips": clips(options, args.per_utterance)}
    for key, c in figures["labelled"].items():
        if key == "calls":
            continue
        share = {label: round(c.get(label, 0) / c["n"], 3) for label in LABELS}
        print(f"labelled {key:13s} n={c['n']:4d} angry {share['angry']:.3f} anger>=thr "
              f"{c['flag'] / c['n']:.3f}  labels {share}")
    print("real call:", figures["real_call"])
    print("clips:", figures["clips"])
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
