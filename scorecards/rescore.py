"""Rescoring stored transcripts with a checklist, the backtest diff, and writing the new scorecards.

Plain Python over the store: transcripts are read in batches with one query per table per batch
(utterances, words, metrics, current scorecards) and grouped here, because a query per call is far too
slow for thousands of calls. Nothing is re-transcribed and no audio is needed. Writing goes through
:meth:`Store.save_scorecards`, which keeps the old scorecard of the same checklist, superseded.
"""

from __future__ import annotations

import gc
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import CallQAError
from core.scorecard import CallScorecard, Evidence, Verdict
from core.transcript_io import transcript_hash
from core.types import CallMetadata, ModelInfo, Role, RoleDecision, Transcript, Utterance, Word
from rules.call import PreparedCall
from rules.engine import score_prepared
from rules.loader import load_checklist, shipped_checklist
from rules.matching import Embedder
from rules.model import Checklist
from rules.normalize import normalize_many
from scorecards.store import ChecklistRecord, Store

BATCH = 500  # transcripts per bulk read: bounds memory (a five-minute call is ~1,000 words)


@dataclass(frozen=True, slots=True)
class StoredCall:
    """A call's current transcript as stored, with what scoring needs besides the words."""

    call_id: str
    transcript_id: str
    transcript: Transcript
    metadata: CallMetadata
    metrics: dict[str, float]
    transcript_hash: str  # the version the stored scorecards name ('' when none was stored)
    # The utterances normalised for matching (rules.normalize.normalize_many), done by the bulk loader once
    # per call whatever the number of checklists and rescoring passes; None: scoring normalises them.
    norm: tuple[str, ...] | None = None
    # The start and end times of all the call's words in order (views of the bulk read's columns), when every
    # utterance has words: scoring finds hold pauses from them without a Python step per word.
    word_times: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = field(
        default=None, compare=False, repr=False
    )


@dataclass(frozen=True, slots=True)
class CurrentCard:
    """The parts of a call's current scorecard a backtest compares against."""

    total: float | None
    needs_review: bool
    verdicts: dict[str, str]  # item id → verdict


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
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 2)


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
        if self.mean_before is None or self.mean_after is None:
            return None
        return round(self.mean_after - self.mean_before, 2)


@dataclass(frozen=True, slots=True)
class Backtest:
    """What a rescoring would change, before anything is written."""

    checklists: tuple[tuple[str, str, str], ...]  # (id, version, content hash)
    scored: int
    unscored: int  # calls no checklist applied to (language not covered)
    changes: tuple[CallChange, ...]
    agents: tuple[AgentChange, ...]
    flip_counts: tuple[tuple[str, str, str, int], ...]  # (item id, before, after, calls), most first


# -- loading -------------------------------------------------------------------------------------------


def current_transcripts(store: Store, languages: Iterable[str] | None = None) -> list[str]:
    """Transcript ids of every call's current transcript (optionally of these languages), by call id."""
    wanted = sorted(set(languages)) if languages is not None else None
    with store.reading() as con:
        rows = con.execute(
            "SELECT transcript_id FROM transcripts WHERE is_current AND (? IS NULL OR list_contains(?, language)) "
            "ORDER BY call_id", [wanted, wanted or []]).fetchall()
    return [r[0] for r in rows]


def load_calls(store: Store, transcript_ids: Sequence[str], *, normalized: bool = True) -> list[StoredCall]:
    """Read these transcripts with their words, metadata and metrics: one query per table for all of them.

    With ``normalized`` (the default) each call's utterances are also normalised for matching, once, here
    (:func:`normalized_calls`); scoring then starts from them."""
    if not transcript_ids:
        return []
    ids = list(transcript_ids)
    with store.reading() as con:
        heads = con.execute(
            "SELECT t.transcript_id, t.call_id, t.model_name, t.model_sha256, t.options, t.code_version, t.language, "
            "t.duration, t.channels, t.role_method, t.agent_speaker, t.role_confidence, t.roles_uncertain, "
            "t.role_reasons, c.external_id, c.agent_id, c.team, c.customer_number, c.started_at, c.direction, "
            "c.queue, c.hangup_by, c.metadata_source FROM transcripts t JOIN calls c ON c.call_id = t.call_id "
            "WHERE t.transcript_id IN (SELECT unnest(?))", [ids]).fetchall()
        utts = con.execute(
            "SELECT transcript_id, idx, start_s, end_s, text, role, role_confidence, confidence, speaker, channel, "
            "language FROM utterances WHERE transcript_id IN (SELECT unnest(?)) ORDER BY transcript_id, idx",
            [ids]).fetchall()
        # Words column-wise (numpy): a fraction of the cost of a Python tuple per word, or of list() per utterance.
        words = con.execute(
            "SELECT transcript_id, utterance_idx, start_s, end_s, text, probability FROM words "
            "WHERE transcript_id IN (SELECT unnest(?)) ORDER BY transcript_id, utterance_idx, idx", [ids]).fetchnumpy()
        metrics = con.execute(
            "SELECT transcript_id, name, value FROM call_metrics WHERE transcript_id IN (SELECT unnest(?))",
            [ids]).fetchall()
        hashes = con.execute(
            "SELECT transcript_id, any_value(transcript_hash) FROM scorecards "
            "WHERE transcript_id IN (SELECT unnest(?)) GROUP BY transcript_id", [ids]).fetchall()
    calls = _assemble(heads, utts, words, metrics, dict(hashes))
    return normalized_calls(calls) if normalized else calls


def normalized_calls(calls: Iterable[StoredCall]) -> list[StoredCall]:
    """The calls with their utterances normalised for matching (``StoredCall.norm``), where not yet done."""
    return [c if c.norm is not None else replace(c, norm=_normalized(c.transcript)) for c in calls]


def _normalized(transcript: Transcript) -> tuple[str, ...]:
    return tuple(normalize_many([u.text for u in transcript.utterances]))


def _assemble(
    heads: list[tuple[Any, ...]],
    utts: list[tuple[Any, ...]],
    words: dict[str, Any],
    metrics: list[tuple[Any, ...]],
    hashes: dict[str, str],
) -> list[StoredCall]:
    by_utt = _words_by_utterance(words)
    times = _word_times_by_transcript(words)
    by_tid: dict[str, list[Utterance]] = defaultdict(list)
    for tid, idx, s, e, text, role, rc, conf, spk, ch, lang in utts:
        by_tid[tid].append(Utterance(s, e, text, Role(role), rc, conf, spk, ch, lang, by_utt.get((tid, idx), ())))
    by_metric: dict[str, dict[str, float]] = defaultdict(dict)
    for tid, name, value in metrics:
        by_metric[tid][name] = value
    calls = []
    for h in heads:
        tid = h[0]
        transcript = Transcript(
            utterances=tuple(by_tid.get(tid, ())), duration=h[7], language=h[6], channels=h[8],
            roles=RoleDecision(h[9] or "none", h[10], h[11] or 0.0, bool(h[12]), tuple(json.loads(h[13]))),
            model=ModelInfo(h[2], h[3]), options=h[4], code_version=h[5],
        )  # fmt: skip
        metadata = CallMetadata(external_id=h[14], agent_id=h[15], team=h[16], customer_number=h[17],
                                started_at=h[18], direction=h[19], queue=h[20], hangup_by=h[21],
                                language=transcript.language, source=h[22])  # fmt: skip
        word_times = times.get(tid)
        if word_times is not None and not all(u.words for u in transcript.utterances):
            word_times = None  # an utterance without words is a span of its own: scoring walks the words
        calls.append(StoredCall(h[1], tid, transcript, metadata, by_metric.get(tid, {}), hashes.get(tid, ""),
                                word_times=word_times))  # fmt: skip
    return sorted(calls, key=lambda c: c.call_id)


def _words_by_utterance(columns: dict[str, Any]) -> dict[tuple[str, int], tuple[Word, ...]]:
    """Words grouped by (transcript id, utterance index); the rows arrive sorted by both."""
    tids, utts = columns["transcript_id"], columns["utterance_idx"]
    if not len(tids):
        return {}
    # Group boundaries found column-wise: a Python step per utterance, not per word.
    change = np.ones(len(tids), dtype=bool)
    change[1:] = (utts[1:] != utts[:-1]) | (tids[1:] != tids[:-1])
    starts = np.flatnonzero(change).tolist()
    words = list(map(Word, *(columns[c].tolist() for c in ("start_s", "end_s", "text", "probability"))))
    keys = zip(tids[starts].tolist(), utts[starts].tolist(), strict=True)
    bounds = zip(starts, [*starts[1:], len(words)], strict=True)
    return {key: tuple(words[i:j]) for key, (i, j) in zip(keys, bounds, strict=True)}


def _word_times_by_transcript(
    columns: dict[str, Any],
) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """Each transcript's word start and end times (slices of the columns; rows sorted by transcript)."""
    tids, starts, ends = columns["transcript_id"], columns["start_s"], columns["end_s"]
    if not len(tids) or isinstance(starts, np.ma.MaskedArray) or isinstance(ends, np.ma.MaskedArray):
        return {}  # no words, or missing times: scoring walks the words
    change = np.ones(len(tids), dtype=bool)
    change[1:] = tids[1:] != tids[:-1]
    first = np.flatnonzero(change).tolist()
    bounds = zip(first, [*first[1:], len(tids)], strict=True)
    return {tid: (starts[i:j], ends[i:j]) for tid, (i, j) in zip(tids[first].tolist(), bounds, strict=True)}


def iter_calls(store: Store, transcript_ids: Sequence[str], batch: int = BATCH) -> Iterator[list[StoredCall]]:
    """The transcripts in batches of ``batch`` (each batch one bulk read)."""
    for i in range(0, len(transcript_ids), batch):
        yield load_calls(store, transcript_ids[i : i + batch])


def current_cards(store: Store, call_ids: Sequence[str]) -> dict[tuple[str, str], CurrentCard]:
    """The current scorecard of each (call id, checklist id) among these calls: two queries in all."""
    if not call_ids:
        return {}
    with store.reading() as con:
        cards = con.execute(
            "SELECT scorecard_id, call_id, checklist_id, total, needs_review FROM scorecards "
            "WHERE is_current AND call_id IN (SELECT unnest(?))", [list(call_ids)]).fetchall()
        verdicts = con.execute(
            "SELECT v.scorecard_id, v.item_id, v.verdict FROM verdicts v JOIN scorecards s "
            "ON s.scorecard_id = v.scorecard_id WHERE s.is_current AND s.call_id IN (SELECT unnest(?))",
            [list(call_ids)]).fetchall()
    by_card: dict[str, dict[str, str]] = defaultdict(dict)
    for sid, item, verdict in verdicts:
        by_card[sid][item] = verdict
    return {
        (cid, chk): CurrentCard(total, bool(review), by_card.get(sid, {})) for sid, cid, chk, total, review in cards
    }


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
    factories: dict[tuple[str, ...], Callable[[], Embedder] | None] = {}  # walking a checklist costs ~0.1 ms
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
    again (3–7 % of scoring time, measured); the objects are handed back to the collector afterwards."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# -- writing ---------------------------------------------------------------------------------------------


def checklist_record(checklist: Checklist) -> ChecklistRecord:
    """What the store keeps of a checklist: id, version, title, content hash and the YAML as scored."""
    path = Path(checklist.path)
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CallQAError(f"{path}: cannot read the checklist to store it ({exc})") from exc
    return ChecklistRecord(checklist.id, checklist.version, checklist.title, checklist.content_hash, str(path),
                           content)  # fmt: skip


def write(store: Store, results: Sequence[Rescored], origin: str, code_version: str) -> int:
    """Store the new scorecards in one transaction (old ones stay, superseded); returns how many were new."""
    records = {r.checklist.content_hash: checklist_record(r.checklist) for r in results}
    cards = [(r.card, records[r.checklist.content_hash], r.transcript_id) for r in results]
    return store.save_scorecards(cards, origin, code_version)


def verdict_counts(results: Sequence[Rescored]) -> dict[str, int]:
    """How many verdicts of each kind the rescoring produced (pass/fail/n/a/uncertain)."""
    counts = Counter(str(v.verdict) for r in results for v in r.card.items)
    return {str(v): counts.get(str(v), 0) for v in Verdict}
