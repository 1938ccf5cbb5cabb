"""Rescoring throughput: score many five-minute calls and report calls per second on one core.

``python bench/scoring.py [--calls N] [--language en|zh] [--checklist FILE]`` scores synthetic calls (built
from service sentences, with word times and probabilities, ~300 s and ~100 utterances each), so it runs
without a store; ``bench/rescore.py`` does the same on stored transcripts with :func:`rescore`.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic_calls import synthetic_call
from core.scorecard import CallScorecard
from core.types import CallMetadata, Transcript
from rules.call import PreparedCall
from rules.engine import score_prepared
from rules.loader import load_checklist, shipped_checklist
from rules.match_base import Embedder
from rules.model import Checklist


def _embedder(checklist: Checklist) -> Callable[[], Embedder] | None:
    if not checklist.uses_similar:
        return None
    from models.embedding import shared_embedder

    return shared_embedder


def rescore(
    checklist: Checklist, calls: Iterable[tuple[Transcript, CallMetadata, dict[str, float]]]
) -> Iterator[CallScorecard]:
    """Score stored calls one after another (what a backtest or ``callqa rescore`` runs)."""
    embedder = _embedder(checklist)
    for transcript, metadata, metrics in calls:
        yield score_prepared(checklist, PreparedCall(transcript, metadata, metrics, embedder))


@dataclass(frozen=True, slots=True)
class Throughput:
    calls: int
    utterances: int
    prepare_s: float  # normalising the calls (once per call, whatever the number of checklists)
    score_s: float  # matching and scoring prepared calls

    @property
    def calls_per_s(self) -> float:
        return self.calls / (self.prepare_s + self.score_s)

    @property
    def prepared_calls_per_s(self) -> float:
        return self.calls / self.score_s


def measure(checklist: Checklist, transcripts: Sequence[Transcript]) -> Throughput:
    """Time preparing and scoring every transcript once, on this thread (one core).

    CPU time of this process, not wall time: other work on the machine does not count against it.
    """
    embedder = _embedder(checklist)
    # The transcripts stand for calls streamed from the store: keep the garbage collector from rescanning
    # millions of words held here only because the benchmark made them all up front.
    gc.collect()
    gc.freeze()
    prepare = score = 0.0
    try:
        for transcript in transcripts:  # one call at a time, as a rescoring run streams them
            t0 = time.process_time()
            call = PreparedCall(transcript, CallMetadata(), {}, embedder)
            t1 = time.process_time()
            score_prepared(checklist, call)
            t2 = time.process_time()
            prepare, score = prepare + t1 - t0, score + t2 - t1
    finally:
        gc.unfreeze()
    return Throughput(len(transcripts), sum(len(t.utterances) for t in transcripts), prepare, score)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--language", choices=["en", "zh"], default="en")
    parser.add_argument("--checklist", default="")
    args = parser.parse_args(argv)
    checklist = load_checklist(args.checklist or shipped_checklist(args.language))
    rng = random.Random(7)
    transcripts = [synthetic_call(rng, args.language) for _ in range(args.calls)]
    result = measure(checklist, transcripts)
    if checklist.uses_similar:  # the first pass embedded every new utterance; report the cached rescoring
        result = measure(checklist, transcripts)
        print("similar-sentence items: embeddings cached from a first pass (what rescoring stored calls sees)")
    print(f"{checklist.id}: {result.calls} calls of ~300 s ({result.utterances / result.calls:.0f} utterances each), "
          f"one core: {result.calls_per_s:,.0f} calls/s including normalisation, "
          f"{result.prepared_calls_per_s:,.0f} calls/s on prepared calls "
          f"(prepare {result.prepare_s:.2f} s, score {result.score_s:.2f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
