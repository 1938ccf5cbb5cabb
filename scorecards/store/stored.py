"""What rescoring reads from the store and writes back: stored calls in bulk, their current scorecards.

Transcripts are read in batches with one query per table per batch (utterances, words, metrics, current
scorecards) and grouped here, because a query per call is far too slow for thousands of calls.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import CallQAError
from core.types import CallMetadata, ModelInfo, Role, RoleDecision, Transcript, Utterance, Word
from rules.model import Checklist
from rules.normalize import normalize_many
from scorecards.store.database import ChecklistRecord, Store

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


def checklist_record(checklist: Checklist) -> ChecklistRecord:
    """What the store keeps of a checklist: id, version, title, content hash and the YAML as scored."""
    path = Path(checklist.path)
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CallQAError(f"{path}: cannot read the checklist to store it ({exc})") from exc
    return ChecklistRecord(checklist.id, checklist.version, checklist.title, checklist.content_hash, str(path),
                           content)  # fmt: skip
