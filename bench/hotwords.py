"""Benchmark: the checklists' hint phrases given to the recogniser as hotwords, measured both ways.

    .venv/bin/python bench/hotwords.py [--json FILE]

Every recording is transcribed twice with the packaged Whisper base — without hints and with the shipped
checklists' ``hints`` of its language (what ``transcription.checklist_hints = true`` does) — and each hint
phrase is looked up in both transcripts and in the reference of what was said:

* **recall**: of the (recording, phrase) pairs where the phrase was said, the share found in the transcript;
* **false hearing**: of the pairs where it was not said, the number found in the transcript anyway — a
  greeting or closing "heard" from an agent who did not say it, the error that would pass an agent wrongly;
* the error rate (WER for English, CER for Mandarin) of the whole transcript against the reference: hints
  that help their own words but garble the rest would show here.

Recordings: the rendered calls in tests/data/synth (8 kHz μ-law mono; two agents greet and close by the
book, two greet and close in other words, two never greet, close or thank for the hold), the real clips with
published references in data/clips, and the real call in data/calls, whose reference is only what
data/README.md documents of it (its greeting), so only the documented phrases count there.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import TranscriptionSettings  # noqa: E402
from models.whisper import Recognizer, packaged_model_dir  # noqa: E402  (sets HF_HUB_OFFLINE first)
from pipeline import audio, transcribe  # noqa: E402
from pipeline.textnorm import error_rate, normalize_chinese, normalize_english  # noqa: E402
from rules.loader import load_checklists, shipped_checklist  # noqa: E402
from rules.model import recogniser_hints  # noqa: E402

SYNTH = ROOT / "tests" / "data" / "synth"
CLIPS = ROOT / "data" / "clips"
CALL = ROOT / "data" / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"


@dataclass(frozen=True)
class Recording:
    """One recording, what was said in it (None: unknown) and the phrases whose presence is known."""

    name: str
    path: Path
    language: str
    reference: str | None
    known: tuple[str, ...] | None = None  # only these phrases count (None: all hints)


def recordings() -> list[Recording]:
    out = []
    for name in ("en_bank", "en_variant", "en_nogreet", "zh_broadband", "zh_variant", "zh_nogreet"):
        turns = json.loads((SYNTH / f"{name}.script.json").read_text(encoding="utf-8"))["turns"]
        out.append(Recording(name, SYNTH / f"{name}_mono.wav", name[:2], " ".join(t["text"] for t in turns)))
    with (ROOT / "data" / "SOURCES.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            clip = CLIPS / Path(row["path"]).name
            if clip.exists() and row["reference_text"]:
                text = row["reference_text"].replace("left:", "").replace("| right:", " ")
                out.append(Recording(clip.stem, clip, row["language"], text))
    # data/README.md: "Thank you for calling Big Jim's Auto. This is Travis. How can I help you today?"
    out.append(Recording("real call (auto dealer)", CALL, "en", "thank you for calling how can i help you",
                         known=("thank you for calling", "how can I help you")))
    return out


def normal(text: str, language: str) -> str:
    return normalize_chinese(text) if language == "zh" else " " + " ".join(normalize_english(text)) + " "


def contains(text: str, phrase: str, language: str) -> bool:
    return bool(normal(phrase, language).strip()) and normal(phrase, language) in normal(text, language)


def run(recognizer: Recognizer, rec: Recording, settings: TranscriptionSettings) -> str:
    channels = transcribe.transcribe_audio(recognizer, audio.decode(rec.path), language=rec.language,
                                           settings=settings)
    return " ".join(u.text for ch in channels for u in ch.utterances)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the measurements to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    checklists = {lang: shipped_checklist(lang) for lang in ("zh", "en")}
    hints = recogniser_hints(load_checklists(list(checklists.values())))
    recognizer = Recognizer(packaged_model_dir(), compute_type="int8", cpu_threads=2)
    base = TranscriptionSettings()
    conditions = {"without": base, "with hints": replace(base, hints=hints)}
    rows = []
    for rec in recordings():
        print(f"transcribing {rec.name} …", file=sys.stderr, flush=True)
        row: dict[str, object] = {"recording": rec.name, "language": rec.language}
        for label, settings in conditions.items():
            text = run(recognizer, rec, settings)
            phrases = rec.known if rec.known is not None else hints[rec.language]
            pairs = [(p, contains(rec.reference or "", p, rec.language), contains(text, p, rec.language))
                     for p in phrases]
            row[label] = {
                "text": text,
                "said": sum(s for _, s, _ in pairs),
                "said_and_heard": sum(s and h for _, s, h in pairs),
                "heard_not_said": [p for p, s, h in pairs if h and not s],
                "error_rate": round(error_rate(rec.reference, text, rec.language), 3) if rec.known is None
                and rec.reference else None,
            }
        rows.append(row)
    report(rows, conditions)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def report(rows: list[dict[str, object]], conditions: dict[str, TranscriptionSettings]) -> None:
    print(f"\n{'recording':<34}{'lang':<6}" + "".join(f"{c + ': recall, false, error':>36}" for c in conditions))
    totals = {c: [0, 0, 0] for c in conditions}
    for row in rows:
        cells = []
        for c in conditions:
            r = row[c]
            assert isinstance(r, dict)
            totals[c][0] += r["said"]
            totals[c][1] += r["said_and_heard"]
            totals[c][2] += len(r["heard_not_said"])
            err = "—" if r["error_rate"] is None else f"{r['error_rate']:.3f}"
            cells.append(f"{r['said_and_heard']:>10}/{r['said']:<3}{len(r['heard_not_said']):>8}{err:>10}")
        print(f"{row['recording']:<34}{row['language']:<6}" + "".join(f"{c:>36}" for c in cells))
    for c, (said, heard, false) in totals.items():
        print(f"{c}: recall {heard}/{said} = {heard / said if said else 0:.2f}, false hearing {false}")
    for row in rows:
        for c in conditions:
            r = row[c]
            assert isinstance(r, dict)
            if r["heard_not_said"]:
                print(f"  {c}, {row['recording']}: heard but not said: {', '.join(r['heard_not_said'])}")


if __name__ == "__main__":
    raise SystemExit(main())
