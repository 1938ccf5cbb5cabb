"""Rescoring stored transcripts with a checklist, the backtest diff, and writing the new scorecards.

The use case over the store: calls are read in bulk (:mod:`scorecards.store.stored`), scored with the engine,
compared with their current scorecards, and written through :meth:`Store.save_scorecards`, which keeps the
old scorecard of the same checklist, superseded. Nothing is re-transcribed and no audio is needed.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from core.errors import CallQAError
from core.scorecard import CallScorecard, Evidence, Verdict, score_change
from core.transcript_io import transcript_hash
from rules.call import PreparedCall
from rules.engine import score_prepared
from rules.loader import load_checklist, shipped_checklist
from rules.match_base import Embedder
from rules.model import Checklist
from scorecards.store.database import Store
from scorecards.store.stored import (
    BATCH,
    CurrentCard,
    StoredCall,
    checklist_record,
    current_cards,
    current_transcripts,
    iter_calls,
)


@dataclass(frozen=True, slots=True)
class Rescored:
    """One call scored with one checklist, beside the call's current scorecard of that checklist id.

    Holds the call's ids, not its transcript: a rescoring of thousands of calls keeps only the cards.
    """

    call_id: str
    transcript_id: str
    agent_id: str  # "unknown" when the metadata names none
    checklist: Checklist
    card: CallScorecard
    before: CurrentCard | None


@dataclass(frozen=True, slots=True)
class Flip:
    """One item whose verdict changes on one call, with the new evidence's first quote."""

    call_id: str
    item_id: str
    before: str  # the old verdict, 'none' when the call had no scorecard of this checklist
    after: str
    quote: str
    start: float


@dataclass(frozen=True, slots=True)
class CallChange:
    """A call whose total or verdicts would change."""

    call_id: str
    agent_id: str
    checklist_id: str
    before: float | None
    after: float | None
    flips: tuple[Flip, ...]

    @property
    def delta(self) -> float | None:
        return score_change(self.before, self.after)


@dataclass(frozen=True, slots=True)
class AgentChange:
    """An agent's mean total before and after, over the calls rescored."""

    agent_id: str
    calls: int
    changed: int
    mean_before: float | None
    mean_after: float | None

    @property
    def delta(self) -> float | None:
        return score_change(self.mean_before, self.mean_after)


@dataclass(frozen=True, slots=True)
class Backtest:
    """What a rescoring would change, before anything is written."""

    checklists: tuple[tuple[str, str, str], ...]  # (id, version, content hash)
    scored: int
    unscored: int  # calls no checklist applied to (language not covered)
    changes: tuple[CallChange, ...]
    agents: tuple[AgentChange, ...]
    flip_counts: tuple[tuple[str, str, str, int], ...]  # (item id, before, after, calls), most first


# -- scoring -------------------------------------------------------------------------------------------


ChecklistChooser = Callable[[StoredCall], Sequence[Checklist]]


def shipped_chooser() -> ChecklistChooser:
    """The default: each call is scored with the shipped checklist of its language (none if there is none)."""
    cache: dict[str, tuple[Checklist, ...]] = {}

    def choose(call: StoredCall) -> tuple[Checklist, ...]:
        language = call.transcript.language
        if language not in cache:
            try:
                cache[language] = (load_checklist(shipped_checklist(language)),)
            except CallQAError:
                cache[language] = ()
        return cache[language]

    return choose


def checklist_chooser(checklist: Checklist) -> ChecklistChooser:
    """``rescore --checklist FILE``: the checklist applies to calls in one of its languages."""
    return lambda call: (checklist,) if call.transcript.language in checklist.languages else ()


def _embedder(checklists: Iterable[Checklist]) -> Callable[[], Embedder] | None:
    if not any(c.uses_similar for c in checklists):
        return None
    from models.embedding import shared_embedder

    return shared_embedder


def score_calls(
    calls: Iterable[StoredCall],
    choose: ChecklistChooser,
    before: dict[tuple[str, str], CurrentCard] | None = None,
    embedder: Callable[[], Embedder] | None = None,
) -> list[Rescored]:
    """Score every call with the checklists ``choose`` gives it (each call normalised once for all of them)."""
    out = []
    factories: dict[tuple[str, ...], Callable[[], Embedder] | None] = {}  # once per set of checklists, not per call
    for call in calls:
        checklists = choose(call)
        if not checklists:
            continue
        key = tuple(c.content_hash for c in checklists)
        if key not in factories:
            factories[key] = embedder or _embedder(checklists)
        prepared = PreparedCall(call.transcript, call.metadata, call.metrics, factories[key], call.norm,
                                call.word_times)  # fmt: skip
        version = call.transcript_hash or transcript_hash(call.transcript)
        for checklist in checklists:
            card = score_prepared(checklist, prepared, call_id=call.call_id, transcript_hash=version)
            out.append(Rescored(call.call_id, call.transcript_id, call.metadata.agent, checklist, card,
                                (before or {}).get((call.call_id, checklist.id))))
    return out


# -- the backtest ----------------------------------------------------------------------------------------


def _first_quote(evidence: Sequence[Evidence]) -> tuple[str, float]:
    shown = [e for e in evidence if e.kind != "absent" and e.text] or list(evidence)
    return (shown[0].text, shown[0].start) if shown else ("", 0.0)


def call_change(r: Rescored) -> CallChange | None:
    """How one rescored call differs from its current scorecard; None when nothing differs."""
    old = r.before
    flips = []
    for v in r.card.items:
        was = old.verdicts.get(v.item_id, "none") if old is not None else "none"
        if was != str(v.verdict):
            quote, start = _first_quote(v.evidence)
            flips.append(Flip(r.call_id, v.item_id, was, str(v.verdict), quote, start))
    before = old.total if old is not None else None
    if not flips and old is not None and before == r.card.total:
        return None
    return CallChange(r.call_id, r.agent_id, r.checklist.id, before, r.card.total, tuple(flips))


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 2) if known else None


def backtest(results: Sequence[Rescored], unscored: int = 0) -> Backtest:
    """Which calls and agents would change, by how much, and which verdicts flip (counts per direction)."""
    changes = [c for c in map(call_change, results) if c is not None]
    changed_calls = {c.call_id for c in changes}
    per_agent: dict[str, list[Rescored]] = defaultdict(list)
    for r in results:
        per_agent[r.agent_id].append(r)
    agents = [
        AgentChange(agent, len({r.call_id for r in rs}), len({r.call_id for r in rs} & changed_calls),
                    _mean([r.before.total if r.before else None for r in rs]), _mean([r.card.total for r in rs]))
        for agent, rs in sorted(per_agent.items())
    ]  # fmt: skip
    counts = Counter((f.item_id, f.before, f.after) for c in changes for f in c.flips)
    flips = sorted(((i, b, a, n) for (i, b, a), n in counts.items()), key=lambda x: (-x[3], x[0], x[1], x[2]))
    ids = sorted({(r.checklist.id, r.checklist.version, r.checklist.content_hash) for r in results})
    return Backtest(tuple(ids), len(results), unscored, tuple(changes), tuple(agents), tuple(flips))


def rescore_store(
    store: Store, choose: ChecklistChooser, languages: Iterable[str] | None = None, batch: int = BATCH
) -> tuple[list[Rescored], int]:
    """Load every current transcript (of these languages) in batches and score it; returns (results, unscored)."""
    results: list[Rescored] = []
    wanted = current_transcripts(store, languages)
    unscored = len(current_transcripts(store)) - len(wanted) if languages is not None else 0
    for calls in iter_calls(store, wanted, batch):
        before = current_cards(store, [c.call_id for c in calls])
        with long_lived():
            scored = score_calls(calls, choose, before)
        unscored += len(calls) - len({r.call_id for r in scored})
        results.extend(scored)
    return results, unscored


@contextmanager
def long_lived() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist now (a loaded batch: millions of words) while the
    block runs. Scoring makes many short-lived objects, and each full collection would walk the whole batch
    again (docs/checklists.md has the cost); the objects are handed back to the collector afterwards."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# -- writing ---------------------------------------------------------------------------------------------


def write(store: Store, results: Sequence[Rescored], origin: str, code_version: str) -> int:
    """Store the new scorecards in one transaction (old ones stay, superseded); returns how many were new."""
    records = {r.checklist.content_hash: checklist_record(r.checklist) for r in results}
    cards = [(r.card, records[r.checklist.content_hash], r.transcript_id) for r in results]
    return store.save_scorecards(cards, origin, code_version)


def verdict_counts(results: Sequence[Rescored]) -> dict[str, int]:
    """How many verdicts of each kind the rescoring produced (pass/fail/n/a/uncertain)."""
    counts = Counter(str(v.verdict) for r in results for v in r.card.items)
    return {str(v): counts.get(str(v), 0) for v in Verdict}
