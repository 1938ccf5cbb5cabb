"""Rescoring throughput on a store: ≥ 5,000 stored five-minute transcripts, loaded in bulk and scored.

``python bench/rescore.py [--calls 5000] [--db PATH] [--batch 500]`` builds a temporary DuckDB (unless
``--db`` names an existing one built by an earlier run) with synthetic five-minute calls, half English,
half Mandarin, ~100 utterances each with word times and probabilities (``bench/synthetic_calls.py``),
agents, teams and start times. Then it reads every current transcript back in batches
(``scorecards.store.stored.iter_calls``) and scores each batch with:

* the shipped checklists (each call with the one of its language: exact, fuzzy and regex items), and
* a checklist with a ``similar`` item (``tests/rules/similar/empathy_similar.yaml``), its utterance
  embeddings cached by a warm-up pass over the first batch (what rescoring calls that were embedded before sees).

It prints the load time, the time to normalise the calls' text for matching (once per call, whatever the
checklists; ``load_calls`` does it by default) and the scoring time apart, and calls per second per core
for each and for normalising plus scoring: CPU seconds of this process (``time.process_time``), so other
work on the machine does not count against it. Scoring is one
thread; DuckDB may use more than one for loading, so the load is also given in wall seconds. Then each
scoring line per call as a multiple of a baseline measured in the same run (:func:`baseline`: a fixed
workload that drifts with the machine, not with the scoring code), and whether the target (≥ 1,000 calls/s
per core, shipped checklists) was met.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic_calls import synthetic_call
from flows.rescore import ChecklistChooser, backtest, checklist_chooser, long_lived, score_calls, shipped_chooser, write
from pipeline.metrics import compute_metrics
from rules.loader import load_checklist
from rules.normalize import normalize_many
from scorecards.store.database import Store
from scorecards.store.stored import (
    StoredCall,
    current_cards,
    current_transcripts,
    iter_calls,
    load_calls,
    normalized_calls,
)

SIMILAR = Path(__file__).resolve().parent.parent / "tests" / "rules" / "similar" / "empathy_similar.yaml"
CHUNK = 250  # calls generated and inserted per transaction
TARGET = 1000  # stored calls/s per core with the shipped (exact/fuzzy/regex) checklists: issue #4
BASELINE_CALLS = 200  # calls whose text the baseline normalises


# -- building the store ------------------------------------------------------------------------------------


def _insert(con: Any, table: str, columns: dict[str, list[Any]]) -> None:
    """One INSERT for many rows, given column-wise (named columns: robust to columns added later)."""
    names = ", ".join(columns)
    values = ", ".join("unnest(?)" for _ in columns)
    con.execute(f"INSERT INTO {table} ({names}) SELECT {values}", list(columns.values()))


def _chunk_rows(rng: random.Random, first: int, count: int) -> dict[str, dict[str, list[Any]]]:
    """Rows of ``count`` synthetic calls for the calls, transcripts, utterances and words tables."""
    tables: dict[str, dict[str, list[Any]]] = {name: {} for name in ("calls", "transcripts", "utterances", "words")}

    def add(table: str, **values: Any) -> None:
        for key, value in values.items():
            tables[table].setdefault(key, []).append(value)

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for n in range(first, first + count):
        language = "en" if n % 2 == 0 else "zh"
        transcript = synthetic_call(rng, language)
        call_id = hashlib.sha256(f"bench-call-{n}".encode()).hexdigest()
        tid = call_id[:32]
        agent = f"{language}{n % 40:02d}"
        started = dt.datetime(2025, 1, 1) + dt.timedelta(days=n % 60, hours=8 + n % 10)
        add("calls", call_id=call_id, source_path=f"/bench/{n}.wav", file_name=f"{n}.wav", size_bytes=2_400_000,
            first_run_id="bench", last_run_id="bench", agent_id=agent, team=f"team{n % 40 // 10}",
            started_at=started, direction="inbound", queue="service",
            hangup_by=rng.choice(["customer", "agent"]), metadata_source="manifest", language=language,
            duration=transcript.duration, channels=2, sample_rate=8000, codec="pcm_s16le", status="transcribed",
            updated_at=now)  # fmt: skip
        add("transcripts", transcript_id=tid, call_id=call_id, run_id="bench", created_at=now,
            model_name="bench", model_sha256="0" * 64, options="{}", options_hash="bench", code_version="bench",
            language=language, duration=transcript.duration, channels=2, role_method="channel",
            agent_speaker="ch0", role_confidence=0.95, roles_uncertain=False, role_reasons="[]", is_current=True)
        for ui, u in enumerate(transcript.utterances):
            add("utterances", transcript_id=tid, idx=ui, speaker=f"ch{int(u.role == 'customer')}",
                channel=int(u.role == "customer"), role=str(u.role), role_confidence=u.role_confidence,
                start_s=u.start, end_s=u.end, text=u.text, confidence=u.confidence, language=language)
            for wi, w in enumerate(u.words):
                add("words", transcript_id=tid, utterance_idx=ui, idx=wi, start_s=w.start, end_s=w.end,
                    text=w.text, probability=w.probability)
    return tables


def build(store: Store, calls: int, seed: int = 7) -> float:
    """Fill ``store`` with ``calls`` synthetic calls; returns the wall seconds it took."""
    rng = random.Random(seed)
    t0 = time.perf_counter()
    for first in range(0, calls, CHUNK):
        rows = _chunk_rows(rng, first, min(CHUNK, calls - first))
        with store.writing() as con:
            for table, columns in rows.items():
                _insert(con, table, columns)
    return time.perf_counter() - t0


# -- measuring ---------------------------------------------------------------------------------------------


@dataclass
class Timing:
    calls: int = 0
    utterances: int = 0
    cpu: float = 0.0
    wall: float = 0.0

    def add(self, calls: int, utterances: int, cpu: float, wall: float) -> None:
        self.calls, self.utterances = self.calls + calls, self.utterances + utterances
        self.cpu, self.wall = self.cpu + cpu, self.wall + wall

    def line(self, name: str) -> str:
        per_core = self.calls / self.cpu if self.cpu else float("inf")
        return (f"{name:<34} {self.calls:>6} calls  {self.cpu:7.2f} s CPU  {self.wall:7.2f} s wall  "
                f"{per_core:8,.0f} calls/s per core")  # fmt: skip


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn(*args)
    return out, time.process_time() - c0, time.perf_counter() - w0


def _store_metrics(store: Store, calls: Sequence[StoredCall]) -> list[StoredCall]:
    """Compute and store each call's conversation metrics (the nightly flow stores them with the call)."""
    with_metrics = [replace(c, metrics=compute_metrics(c.transcript).as_dict()) for c in calls]
    columns: dict[str, list[Any]] = {"transcript_id": [], "name": [], "value": [], "producer": []}
    for call in with_metrics:
        for name, value in sorted(call.metrics.items()):
            for key, item in zip(columns, (call.transcript_id, name, float(value), "bench"), strict=True):
                columns[key].append(item)
    with store.writing() as con:
        _insert(con, "call_metrics", columns)
    return with_metrics


def first_pass(store: Store, batch: int) -> tuple[int, float, float]:
    """Store metrics and score every call with the shipped checklists, as the nightly flow would.

    Returns (scorecards written, CPU seconds, wall seconds). This pass also computes each transcript's
    hash (its version) and metrics, which later rescorings read back from the store.
    """
    written, cpu, wall = 0, 0.0, 0.0
    choose = shipped_chooser()
    for calls in iter_calls(store, current_transcripts(store), batch):
        scored, c0, w0 = _timed(_store_metrics, store, calls)
        results, c1, w1 = _timed(score_calls, scored, choose)
        n, c2, w2 = _timed(write, store, results, "bench:first", "bench")
        written, cpu, wall = written + n, cpu + c0 + c1 + c2, wall + w0 + w1 + w2
    return written, cpu, wall


def measure(store: Store, batch: int, choosers: Sequence[tuple[str, ChecklistChooser]]) -> dict[str, Timing]:
    """Load every current transcript in batches and score each batch with every chooser, timing each part."""
    timings = {name: Timing() for name in ("load", "normalise", "backtest diff", *(n for n, _ in choosers))}
    ids, cpu, wall = _timed(current_transcripts, store)
    timings["load"].add(0, 0, cpu, wall)
    for start in range(0, len(ids), batch):
        loaded, cpu, wall = _timed(partial(load_calls, normalized=False), store, ids[start : start + batch])
        utterances = sum(len(c.transcript.utterances) for c in loaded)
        timings["load"].add(len(loaded), utterances, cpu, wall)
        # Normalising the text for matching: once per call, whatever the checklists (load_calls does it by
        # default); timed apart so that it counts neither as reading the store nor as scoring.
        calls, cpu, wall = _timed(normalized_calls, loaded)
        timings["normalise"].add(len(calls), utterances, cpu, wall)
        del loaded
        with long_lived():  # as rescore_store scores a batch
            # The backtest's own part: read the batch's current scorecards, then diff (first checklist set).
            before, cpu_diff, wall_diff = _timed(current_cards, store, [c.call_id for c in calls])
            scored = []
            for name, choose in choosers:
                results, cpu, wall = _timed(score_calls, calls, choose, before)
                timings[name].add(len(calls), utterances, cpu, wall)
                scored.append(results)
            _, cpu, wall = _timed(backtest, scored[0])
            timings["backtest diff"].add(len(calls), utterances, cpu_diff + cpu, wall_diff + wall)
        del calls, scored
    return timings


def baseline(calls: Sequence[StoredCall], rounds: int = 3) -> float:
    """CPU seconds per call to normalise these calls' utterances, best of ``rounds``, with the collector kept
    off the process's objects: a fixed pure-Python workload that the scoring code does not touch, measured
    in the same run, so that it tells how fast the machine runs right now (a shared VM drifts by 10–25 %
    within minutes). The normalise line of :func:`measure` is no such baseline: its garbage collections walk
    whatever the process holds, so it moves with the rest of the code."""
    texts = [u.text for c in calls for u in c.transcript.utterances]
    best = float("inf")
    with long_lived():
        for _ in range(rounds):
            c0 = time.process_time()
            normalize_many(texts)
            best = min(best, time.process_time() - c0)
    return best / max(len(calls), 1)


def _ratios(timings: dict[str, Timing], scored: Sequence[str], per_call: float) -> str:
    """Each scoring line's CPU time per call as a multiple of the baseline's (see :func:`baseline`)."""
    lines = [f"baseline measured in this run (normalising {BASELINE_CALLS} calls' text, best of 3, before and "
             f"after): {per_call * 1e6:,.0f} µs per call; scoring per call as a multiple of it:"]
    for name in scored:
        t = timings[name]
        ratio = t.cpu / t.calls / per_call if t.calls and per_call else float("inf")
        lines.append(f"  {name:<34} {ratio:6.2f}×")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--db", default="", help="reuse (or create) this database instead of a temporary one")
    parser.add_argument("--no-similar", action="store_true", help="skip the similar-sentence checklist")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="callqa-bench-") as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.duckdb"
        store = Store(path)
        if not path.exists():
            seconds = build(store, args.calls)
            print(f"built {path}: {args.calls} synthetic five-minute calls (en/zh) in {seconds:.1f} s")
            written, cpu, wall = first_pass(store, args.batch)
            print(f"first scoring with the shipped checklists, as the nightly flow would: {written} scorecards "
                  f"stored in {cpu:.1f} s CPU, {wall:.1f} s wall")  # fmt: skip
        shipped = shipped_chooser()
        for call in load_calls(store, current_transcripts(store)[:50]):  # both languages: parse YAMLs untimed
            shipped(call)
        choosers: list[tuple[str, ChecklistChooser]] = [("score: shipped (exact/fuzzy/regex)", shipped)]
        if not args.no_similar:
            similar = load_checklist(SIMILAR)
            chooser = checklist_chooser(similar)
            warm = load_calls(store, current_transcripts(store)[: args.batch])
            _, cpu, _ = _timed(score_calls, warm, chooser)  # embeds every distinct utterance once
            print(f"similar checklist: warm-up pass over {len(warm)} calls embedded the distinct utterances "
                  f"in {cpu:.1f} s CPU; the timed pass below uses the cached vectors")  # fmt: skip
            choosers.append(("score: similar (cached embeddings)", chooser))
        reference = load_calls(store, current_transcripts(store)[:BASELINE_CALLS], normalized=False)
        before = baseline(reference)
        timings = measure(store, args.batch, choosers)
        per_call = (before + baseline(reference)) / 2
        del reference
    load = timings["load"]
    print(f"{load.calls} stored calls, {load.utterances / max(load.calls, 1):.0f} utterances each on average")
    for name, timing in timings.items():
        print(timing.line(name))
    normalise, shipped_timing = timings["normalise"], timings[choosers[0][0]]
    both = Timing(shipped_timing.calls, shipped_timing.utterances, normalise.cpu + shipped_timing.cpu,
                  normalise.wall + shipped_timing.wall)  # fmt: skip
    print(both.line("normalise + score: shipped"))
    print(_ratios(timings, [name for name, _ in choosers], per_call))
    shipped_rate = shipped_timing.calls / shipped_timing.cpu if shipped_timing.cpu else float("inf")
    verdict = "met" if shipped_rate >= TARGET else "NOT met"
    print(f"target ≥ {TARGET:,} stored calls/s per core (score: shipped): {verdict} ({shipped_rate:,.0f})")
    if args.json:
        figures = {name: {"calls": t.calls, "cpu_s": round(t.cpu, 3), "wall_s": round(t.wall, 3)}
                   for name, t in timings.items()}  # fmt: skip
        print(json.dumps({**figures, "baseline_cpu_s_per_call": round(per_call, 7)}))


if __name__ == "__main__":
    main()
