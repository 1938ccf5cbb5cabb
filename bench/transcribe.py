"""Benchmark: callqa's transcription stage against plain faster-whisper on the same real audio.

    .venv/bin/python bench/transcribe.py [--workers-study] [--json FILE]
    .venv/bin/python bench/transcribe.py --vad-study

The corpus (≈ 19 minutes): the real 8 kHz call in data/calls, the same call re-encoded at test time as
16 kHz PCM, 8 kHz μ-law and MP3 (each counts as a further call), and the clips in data/clips.

* callqa: ``pipeline.transcribe`` with our settings — int8, two single-threaded ctranslate2 workers used
  by two Python threads (two calls at a time), tuned VAD plus safety net, word timestamps.
* plain: what a user of faster-whisper would write — one file at a time, ``WhisperModel(dir,
  cpu_threads=2)`` (default compute type), ``transcribe(path, language=…, beam_size=5, vad_filter=True)``
  with the library's default VAD options.

Printed: wall time of each and their ratio, word error rate on the English clips and character error
rate on the Mandarin ones (published references), agreement of every call version with callqa's
transcript of the original call, and each system's speech coverage (share of the energy envelope's
speech inside a transcribed segment). ``--workers-study`` also measures the real-time factor of one
worker against two on this machine. Timings are noisy when other work shares the CPU: compare ratios.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import TranscriptionSettings  # noqa: E402
from models.whisper import Recognizer, packaged_model_dir  # noqa: E402  (sets HF_HUB_OFFLINE first)
from pipeline import audio, transcribe  # noqa: E402
from pipeline.textnorm import error_rate, wer  # noqa: E402

DATA = ROOT / "data"
CALL = DATA / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
# Re-encodings of the real call: (file name, ffmpeg output options).
VERSIONS = [
    ("call_16k_pcm.wav", ["-ar", "16000", "-c:a", "pcm_s16le"]),
    ("call_8k_mulaw.wav", ["-ar", "8000", "-c:a", "pcm_mulaw"]),
    ("call_16k.mp3", ["-ar", "16000", "-c:a", "libmp3lame", "-b:a", "32k"]),
]


@dataclass(frozen=True)
class Item:
    """One file of the corpus."""

    name: str
    path: Path
    language: str
    reference: str  # published transcript ("" if none); for stereo "left | right"
    is_call: bool
    seconds: float


@dataclass
class Result:
    """What one system made of one file."""

    texts: list[str]  # one per transcribed channel
    coverage: float


def corpus(tmp: Path) -> list[Item]:
    """The real call, its re-encodings (written into ``tmp``) and the clips."""
    if not shutil.which("ffmpeg"):
        sys.exit("bench/transcribe.py needs the ffmpeg command line to re-encode the call")
    items = [Item("call (8 kHz u8 original)", CALL, "en", "", True, audio.probe(CALL).duration)]
    for name, options in VERSIONS:
        out = tmp / name
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(CALL), *options, str(out)], check=True)
        items.append(Item(name, out, "en", "", True, audio.probe(out).duration))
    with open(DATA / "SOURCES.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            clip = DATA / "clips" / Path(row["path"]).name
            if clip.exists():
                items.append(Item(clip.name, clip, row["language"], row["reference_text"], False,
                                  audio.probe(clip).duration))
    return items


def run_callqa(items: list[Item], model: Path, workers: int, cpu_threads: int) -> tuple[float, dict[str, Result]]:
    """Transcribe every item with the pipeline, ``workers`` calls at a time; returns wall seconds and results."""
    recognizer = Recognizer(model, compute_type="int8", cpu_threads=cpu_threads, num_workers=workers)
    settings = TranscriptionSettings()

    def one(item: Item) -> Result:
        channels = transcribe.transcribe_audio(recognizer, audio.decode(item.path), language=item.language,
                                               settings=settings)
        return Result([" ".join(u.text for u in c.utterances) for c in channels],
                      min(c.speech_coverage for c in channels))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, items))
    return time.monotonic() - started, {i.name: r for i, r in zip(items, results, strict=True)}


def run_plain(items: list[Item], model: Path) -> tuple[float, dict[str, Result]]:
    """Transcribe every item one at a time with faster-whisper as its README shows."""
    from faster_whisper import WhisperModel

    whisper = WhisperModel(str(model), device="cpu", cpu_threads=2)
    results = {}
    started = time.monotonic()
    for item in items:
        segments, _ = whisper.transcribe(str(item.path), language=item.language, beam_size=5, vad_filter=True)
        spans = [(s.start, s.end, s.text) for s in segments]
        results[item.name] = Result([" ".join(t.strip() for _, _, t in spans)], _coverage(item, spans))
    return time.monotonic() - started, results


def _coverage(item: Item, spans: list[tuple[float, float, str]]) -> float:
    # faster-whisper mixes stereo down to one channel: measure it against the mix as well.
    mix = np.mean(np.stack(audio.decode(item.path).channels), axis=0).astype(np.float32)
    return transcribe.coverage(audio.energetic_regions(mix), [(a, b) for a, b, _ in spans])


def errors(items: list[Item], results: dict[str, Result], original: str) -> dict[str, float | None]:
    """Error rate per item: against its reference, or (calls) against callqa's transcript of the original."""
    out: dict[str, float | None] = {}
    for item in items:
        texts = results[item.name].texts
        if item.is_call:
            out[item.name] = wer(original, " ".join(texts))
        elif " | " in item.reference:  # stereo: one reference per channel, only if channels were kept
            refs = [r.split(": ", 1)[1] for r in item.reference.split(" | ")]
            out[item.name] = (sum(wer(r, t) for r, t in zip(refs, texts, strict=True)) / len(refs)
                              if len(texts) == len(refs) else None)
        elif item.reference:
            out[item.name] = error_rate(item.reference, " ".join(texts), item.language)
        else:
            out[item.name] = None
    return out


def _fmt(x: float | None) -> str:
    return "   n/a" if x is None else f"{x:6.3f}"


def report(items: list[Item], runs: dict[str, tuple[float, dict[str, Result]]]) -> dict[str, object]:
    """Print the comparison table and return it as data."""
    seconds = sum(i.seconds for i in items)
    original = " ".join(runs["callqa"][1][items[0].name].texts)
    table = {name: errors(items, res, original) for name, (_, res) in runs.items()}
    print(f"\ncorpus: {len(items)} files, {seconds / 60:.1f} min of audio ({sum(i.is_call for i in items)} calls)")
    for name, (wall, _) in runs.items():
        print(f"  {name:<22} wall {wall:7.1f} s   RTF {wall / seconds:.3f}")
    ratio = runs["callqa"][0] / runs["plain"][0]
    print(f"  callqa / plain wall-time ratio: {ratio:.2f} (target ≤ 0.6)")
    print(f"\n{'file':<38} {'measure':<22} {'callqa':>7} {'plain':>7}   coverage callqa / plain")
    for item in items:
        measure = ("WER vs callqa original" if item.is_call else
                   "CER" if item.language == "zh" and item.reference else "WER" if item.reference else "—")
        cov = f"{runs['callqa'][1][item.name].coverage:.3f} / {runs['plain'][1][item.name].coverage:.3f}"
        print(f"{item.name:<38} {measure:<22} {_fmt(table['callqa'][item.name])} {_fmt(table['plain'][item.name])}"
              f"   {cov}")
    return {"audio_seconds": seconds, "wall": {k: v[0] for k, v in runs.items()}, "ratio": ratio,
            "errors": table, "coverage": {k: {n: r.coverage for n, r in v[1].items()} for k, v in runs.items()},
            "items": [asdict(i) | {"path": str(i.path)} for i in items]}


def workers_study(items: list[Item], model: Path, two_workers_wall: float) -> dict[str, float]:
    """Real-time factor of one worker (1 and 2 threads) against two single-threaded workers in parallel."""
    seconds = sum(i.seconds for i in items)
    study = {"2 workers x 1 thread": two_workers_wall / seconds}
    for label, threads in (("1 worker x 1 thread", 1), ("1 worker x 2 threads", 2)):
        study[label] = run_callqa(items, model, 1, threads)[0] / seconds
    print("\nreal-time factor of the callqa stage (lower is faster):")
    for label, rtf in study.items():
        print(f"  {label:<22} {rtf:.3f}")
    return study


def vad_study(model: Path, tmp: Path) -> list[dict[str, object]]:
    """Share of each channel's energetic speech that Silero VAD keeps, per option set, on telephone calls.

    Synthetic calls (the clips in the telephone band at 8 kHz μ-law, one party 12 or 20 dB quieter, mono
    and stereo; built like the tests' calls) and the real call.
    """
    from dataclasses import replace as dc_replace

    from core.config import VadSettings
    from tests.conftest import make_telephone_call
    from tests.pipeline.test_transcribe import EN_TURNS, ZH_TURNS

    recognizer = Recognizer(model, compute_type="int8", cpu_threads=2)
    options = {"library default": VadSettings(threshold=0.5, neg_threshold=0.35, min_silence_duration_ms=2000),
               "0.35/0.2, 1 s": dc_replace(VadSettings(), threshold=0.35, neg_threshold=0.2),
               "callqa": VadSettings()}
    calls = [("real call", CALL)]
    for lang, turns in (("en", EN_TURNS), ("zh", ZH_TURNS)):
        for quiet in (12.0, 20.0):
            for stereo in (False, True):
                name = f"{lang} {'stereo' if stereo else 'mono'} −{quiet:.0f} dB"
                call = make_telephone_call(tmp / f"{lang}-{quiet:.0f}-{int(stereo)}.wav", turns, quiet_db=quiet,
                                           stereo=stereo)
                calls.append((name, call.path))
    rows: list[dict[str, object]] = []
    print(f"\nVAD coverage of the energy envelope's speech ({', '.join(options)}, callqa + safety net):")
    for name, path in calls:
        channels = audio.decode(path).channels
        for i, x in enumerate(channels):
            energy = audio.energetic_regions(x, tuple(c for j, c in enumerate(channels) if j != i))
            row: dict[str, object] = {"call": name, "channel": i, "speech_s": transcribe.total(energy)}
            for label, vad in options.items():
                row[label] = transcribe.coverage(energy, recognizer.speech_regions(x, vad))
            net = transcribe.decode_regions(recognizer.speech_regions(x, VadSettings()), energy, len(x) / 16000)
            row["callqa + safety net"] = transcribe.coverage(energy, net)
            rows.append(row)
            print(f"  {name:<18} ch{i} speech {row['speech_s']:6.1f} s  " +
                  "  ".join(f"{row[k]:.2f}" for k in [*options, "callqa + safety net"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers-study", action="store_true", help="also time one worker against two")
    parser.add_argument("--vad-study", action="store_true", help="only measure VAD coverage on telephone calls")
    parser.add_argument("--json", type=Path, help="write the measurements to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = packaged_model_dir()
    with tempfile.TemporaryDirectory(prefix="callqa-bench-") as tmp:
        if args.vad_study:
            rows = vad_study(model, Path(tmp))
            if args.json:
                args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
            return 0
        items = corpus(Path(tmp))
        runs: dict[str, tuple[float, dict[str, Result]]] = {}
        steps: list[tuple[str, Callable[[], tuple[float, dict[str, Result]]]]] = [
            ("callqa", lambda: run_callqa(items, model, workers=2, cpu_threads=1)),
            ("plain", lambda: run_plain(items, model)),
        ]
        for name, step in steps:
            print(f"running {name} …", file=sys.stderr, flush=True)
            runs[name] = step()
        data = report(items, runs)
        if args.workers_study:
            data["workers_study"] = workers_study(items, model, runs["callqa"][0])
    if args.json:
        args.json.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
