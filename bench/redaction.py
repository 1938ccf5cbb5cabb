"""Benchmark: what redaction adds to a call's pipeline, and to rescoring stored (redacted) transcripts.

    .venv/bin/python bench/redaction.py [--repeat N]

In one run, on the real 4½-minute call in data/calls and the real Mandarin clips in data/clips:

* the per-call work of the nightly flow without the store — decode, transcription, roles, emotion-free
  scoring — timed once per recording (the baseline);
* ``pipeline.redact.redact_transcript`` on each resulting transcript, ``--repeat`` times (mean);
* scoring each transcript with its shipped checklist in clear and redacted (``--repeat`` times each), which is
  what the rescore flow does per stored call.

Printed: seconds per stage and the ratios (redaction / pipeline; redacted / clear scoring). The acceptance
targets are redaction ≤ 5 % of the pipeline and no slowdown of scoring beyond noise. Timings are noisy when
other work shares the CPU: compare the ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from core.types import ModelInfo  # noqa: E402
from flows.nightly import load_engines  # noqa: E402
from pipeline import audio, call, roles, transcribe  # noqa: E402
from pipeline.redact import redact_transcript  # noqa: E402
from rules.engine import score_call  # noqa: E402
from rules.loader import load_checklist, shipped_checklist  # noqa: E402

CALLS = [
    (ROOT / "data" / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav", "en"),
    (ROOT / "data" / "clips" / "wenet_long.wav", "zh"),
    (ROOT / "data" / "clips" / "aishell_BAC009S0724W0121.wav", "zh"),
]


def _mean(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    settings = Settings()
    engines = load_engines(settings, 1)
    print(f"{'recording':44} {'audio s':>7} {'pipeline s':>10} {'redact ms':>9} {'share':>7} "
          f"{'score clear ms':>14} {'score redacted ms':>17} {'ratio':>6}")
    totals = [0.0, 0.0, 0.0, 0.0]
    for path, language in CALLS:
        t0 = time.perf_counter()
        decoded = audio.decode(path)
        channels = transcribe.transcribe_audio(engines.recognizer, decoded, language=language,
                                               settings=settings.transcription)
        utterances, decision = roles.label_mono(channels[0], decoded.channels[0], engines.embedder, settings.roles,
                                                settings.transcription.company_names, None)
        transcript = call.assemble(utterances, decision, decoded.info, language, ModelInfo("base", "x"), "{}", "b")
        checklist = load_checklist(shipped_checklist(language))
        score_call(checklist, transcript)
        pipeline_s = time.perf_counter() - t0
        redact_s = _mean(lambda t=transcript: redact_transcript(t), args.repeat)
        redacted = redact_transcript(transcript).transcript
        clear_s = _mean(lambda t=transcript, c=checklist: score_call(c, t), args.repeat)
        red_s = _mean(lambda t=redacted, c=checklist: score_call(c, t), args.repeat)
        for i, v in enumerate((pipeline_s, redact_s, clear_s, red_s)):
            totals[i] += v
        print(f"{path.name[:44]:44} {decoded.info.duration:7.1f} {pipeline_s:10.2f} {redact_s * 1000:9.2f} "
              f"{redact_s / pipeline_s:7.2%} {clear_s * 1000:14.2f} {red_s * 1000:17.2f} {red_s / clear_s:6.3f}")
    pipeline_s, redact_s, clear_s, red_s = totals
    print(f"{'all':44} {'':7} {pipeline_s:10.2f} {redact_s * 1000:9.2f} {redact_s / pipeline_s:7.2%} "
          f"{clear_s * 1000:14.2f} {red_s * 1000:17.2f} {red_s / clear_s:6.3f}")


if __name__ == "__main__":
    main()
