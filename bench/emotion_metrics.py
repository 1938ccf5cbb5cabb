"""Benchmark: what the emotion and conversation-metrics stages add to the pipeline's time per call.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/emotion_metrics.py [--audio FILE] [--json OUT]

One process, as the nightly flow runs a call: decode the recording, transcribe it (the packaged Whisper base,
int8, the deployment's default settings), label the roles (mono: diarisation with the packaged speaker
embedder), then compute the conversation metrics and the emotion stage (text model + lexicon + acoustic
arousal on the decoded audio). Model loading is timed apart: it happens once per run, not per call.

The emotion stage is timed three ways: its first call in the process (librosa loads its resampler and caches
on first use), the same call again with the utterance texts not yet embedded (the normal case: another call's
texts are new), and once more with every text cached (a re-score after a checklist change). The ratio that
matters is the second against decode + transcribe + roles. Timings are noisy when other work shares the CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from core.types import ModelInfo, Transcript  # noqa: E402
from models.whisper import Recognizer, resolve_model_dir  # noqa: E402  (sets HF_HUB_OFFLINE first)
from pipeline import audio, call, roles, transcribe  # noqa: E402
from pipeline.emotion import EmotionOptions, analyse_emotion  # noqa: E402
from pipeline.metrics import compute_metrics  # noqa: E402

CALL = ROOT / "data" / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    began = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - began


def pipeline_transcript(path: Path, settings: Settings, recognizer: Recognizer, embedder: Any,
                        times: dict[str, float]) -> tuple[Transcript, audio.DecodedAudio]:
    """Decode, transcribe and label one call the way the nightly flow does, recording each stage's time."""
    decoded, times["decode_s"] = timed(lambda: audio.decode(path))
    channels, times["transcribe_s"] = timed(lambda: transcribe.transcribe_audio(
        recognizer, decoded, language="en", settings=settings.transcription))
    if len(channels) >= 2:
        labelled, times["roles_s"] = timed(lambda: roles.label_stereo(channels, settings.roles, ()))
    else:
        labelled, times["roles_s"] = timed(lambda: roles.label_mono(
            channels[0], decoded.channels[0], embedder, settings.roles, ()))
    utterances, decision = labelled
    transcript = call.assemble(utterances, decision, decoded.info, "en", recognizer.info, "{}", "bench")
    return transcript, decoded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audio", type=Path, default=CALL, help="the recording (default: the real 8 kHz call)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args()
    settings = Settings()
    times: dict[str, float] = {}

    from models.emotion import load_text_model
    from models.speaker import SpeakerEmbedder

    recognizer, times["load_whisper_s"] = timed(lambda: Recognizer(
        resolve_model_dir(settings.transcription), compute_type="int8"))
    embedder, times["load_speaker_s"] = timed(SpeakerEmbedder)
    text_model, times["load_emotion_s"] = timed(load_text_model)
    _, times["embed_prototypes_s"] = timed(lambda: text_model.log_probs(["warm-up"]))

    transcript, decoded = pipeline_transcript(args.audio, settings, recognizer, embedder, times)
    pipeline_s = times["decode_s"] + times["transcribe_s"] + times["roles_s"]
    opts = EmotionOptions()
    _, times["metrics_s"] = timed(lambda: compute_metrics(transcript))
    emotion, times["emotion_first_s"] = timed(lambda: analyse_emotion(transcript, decoded.channels, text_model, opts))
    # The same call as if its texts were new (another call's utterances are): a trailing space changes the
    # cache key, not what the model reads.
    fresh = dataclasses.replace(transcript, utterances=tuple(
        dataclasses.replace(u, text=u.text + " ") for u in transcript.utterances))
    _, times["emotion_new_texts_s"] = timed(lambda: analyse_emotion(fresh, decoded.channels, text_model, opts))
    _, times["emotion_cached_s"] = timed(lambda: analyse_emotion(transcript, decoded.channels, text_model, opts))
    _, times["emotion_text_only_cached_s"] = timed(lambda: analyse_emotion(transcript, None, text_model, opts))
    per_call = times["metrics_s"] + times["emotion_new_texts_s"]
    report: dict[str, Any] = {
        "audio": args.audio.name,
        "audio_s": round(decoded.duration, 1),
        "utterances": len(transcript.utterances),
        "times_s": {k: round(v, 3) for k, v in times.items()},
        "pipeline_s": round(pipeline_s, 2),
        "emotion_metrics_s": round(per_call, 3),
        "ratio": round(per_call / pipeline_s, 4),
        "ratio_first_call": round((times["metrics_s"] + times["emotion_first_s"]) / pipeline_s, 4),
        "emotion": emotion.as_metrics(),
        "model": dataclasses.asdict(emotion.model) if isinstance(emotion.model, ModelInfo) else None,
    }
    print(f"{args.audio.name}: {decoded.duration:.0f} s, {len(transcript.utterances)} utterances")
    print("one-off loading: " + ", ".join(f"{k} {times[k]:.2f} s" for k in (
        "load_whisper_s", "load_speaker_s", "load_emotion_s", "embed_prototypes_s")))
    print(f"pipeline per call: decode {times['decode_s']:.2f} s + transcribe {times['transcribe_s']:.2f} s "
          f"+ roles {times['roles_s']:.2f} s = {pipeline_s:.2f} s")
    print(f"metrics {times['metrics_s'] * 1000:.1f} ms; emotion: first call {times['emotion_first_s']:.2f} s, "
          f"new texts {times['emotion_new_texts_s']:.2f} s, cached {times['emotion_cached_s']:.2f} s, "
          f"text only (cached) {times['emotion_text_only_cached_s']:.3f} s")
    print(f"emotion + metrics add {100 * report['ratio']:.1f} % to the pipeline's time per call "
          f"({100 * report['ratio_first_call']:.1f} % on the first call of a process)")
    print("emotion metrics:", json.dumps(report["emotion"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
