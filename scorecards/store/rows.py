"""One call's rows written column-wise (utterances, words, metrics, emotion, a scorecard) and a scorecard read back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from core.scorecard import CallScorecard, ItemVerdict, SectionScore, Verdict, evidence_from_json, evidence_to_json
from core.types import Utterance
from scorecards.store.records import ChecklistRecord, MetricsRecord

if TYPE_CHECKING:  # only for the signature: importing the emotion stage would load librosa into every reader
    from pipeline.emotion import CallEmotion


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _emotion_columns(tid: str, emotion: CallEmotion, producer: str) -> list[list[Any]]:
    utts = emotion.utterances
    return [
        [tid] * len(utts), [u.index for u in utts], [str(u.role) for u in utts], [u.label for u in utts],
        [float(u.confidence) for u in utts], [float(u.anger) for u in utts],
        *([float(u.scores.as_tuple()[k]) for u in utts] for k in range(4)),
        [u.text_label for u in utts], [None if u.arousal is None else float(u.arousal) for u in utts],
        [json.dumps(list(u.cues), ensure_ascii=False) for u in utts], [producer] * len(utts),
    ]


def _save_metrics(con: duckdb.DuckDBPyConnection, transcript_id: str, metrics: MetricsRecord) -> None:
    con.execute("DELETE FROM call_metrics WHERE transcript_id = ?", [transcript_id])
    names = sorted(metrics.values)
    _insert_columns(con, "call_metrics", [[transcript_id] * len(names), names,
                                          [float(metrics.values[n]) for n in names], [metrics.producer] * len(names)])


def _save_scorecard(
    con: duckdb.DuckDBPyConnection,
    card: CallScorecard,
    checklist: ChecklistRecord,
    transcript_id: str,
    origin: str,
    code_version: str,
) -> int:
    """Insert one scorecard, superseding the current one of the same call and checklist id; 0 if unchanged."""
    sid = hashlib.sha256(f"{transcript_id}:{card.checklist_hash}:{code_version}".encode()).hexdigest()[:32]
    exists = con.execute("SELECT is_current FROM scorecards WHERE scorecard_id = ?", [sid]).fetchone()
    if exists and exists[0]:
        return 0
    con.execute(
        "INSERT INTO checklists SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
        "(SELECT 1 FROM checklists WHERE checklist_hash = ?)",
        [checklist.content_hash, checklist.checklist_id, checklist.version, checklist.title,
         checklist.source_path, checklist.content, _now(), checklist.content_hash],
    )
    now = _now()
    con.execute(
        "UPDATE scorecards SET is_current = false, superseded_by = ?, superseded_at = ? "
        "WHERE call_id = ? AND checklist_id = ? AND is_current",
        [sid, now, card.call_id, card.checklist_id],
    )
    if exists:  # the same scorecard was superseded before and is current again: keep one row
        con.execute("DELETE FROM verdicts WHERE scorecard_id = ?", [sid])
        con.execute("DELETE FROM section_scores WHERE scorecard_id = ?", [sid])
        con.execute("DELETE FROM scorecards WHERE scorecard_id = ?", [sid])
    con.execute(
        "INSERT INTO scorecards VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, NULL, NULL)",
        [sid, card.call_id, transcript_id, card.transcript_hash, card.checklist_id, card.checklist_version,
         card.checklist_hash, card.total, card.raw_total, card.band, card.veto, card.needs_review, now, origin,
         code_version],
    )
    items = card.items
    _insert_columns(con, "verdicts", [
        [sid] * len(items), list(range(len(items))), [v.item_id for v in items], [v.section_id for v in items],
        [v.title for v in items], [str(v.verdict) for v in items], [float(v.points) for v in items],
        [float(v.earned) for v in items], [v.veto for v in items], [v.reason for v in items],
        [v.message for v in items], [evidence_to_json(v.evidence) for v in items],
    ])
    secs = card.sections
    _insert_columns(con, "section_scores", [
        [sid] * len(secs), [x.section_id for x in secs], [x.title for x in secs], [float(x.weight) for x in secs],
        [float(x.earned) for x in secs], [float(x.possible) for x in secs], [x.score for x in secs],
    ])
    return 1


def _load_scorecard(con: duckdb.DuckDBPyConnection, sid: str) -> CallScorecard:
    row = con.execute(
        "SELECT call_id, checklist_id, checklist_version, checklist_hash, transcript_hash, total, raw_total, band, "
        "veto, needs_review FROM scorecards WHERE scorecard_id = ?", [sid]).fetchone()
    assert row is not None
    items = tuple(
        ItemVerdict(item_id=r[0], section_id=r[1], title=r[2], verdict=Verdict(r[3]), points=r[4], earned=r[5],
                    veto=r[6], message=r[7], reason=r[8], evidence=evidence_from_json(r[9]))
        for r in con.execute(
            "SELECT item_id, section_id, title, verdict, points, earned, veto, message, reason, evidence "
            "FROM verdicts WHERE scorecard_id = ? ORDER BY idx", [sid]).fetchall()
    )
    sections = tuple(SectionScore(*r) for r in con.execute(
        "SELECT section_id, title, weight, earned, possible, score FROM section_scores WHERE scorecard_id = ? "
        "ORDER BY rowid", [sid]).fetchall())
    return CallScorecard(call_id=row[0], checklist_id=row[1], checklist_version=row[2], checklist_hash=row[3],
                         transcript_hash=row[4], total=row[5], raw_total=row[6], band=row[7], veto=row[8],
                         needs_review=row[9], items=items, sections=sections)


def _transcript_id(call_id: str, model_sha: str, options_hash: str) -> str:
    return hashlib.sha256(f"{call_id}:{model_sha}:{options_hash}".encode()).hexdigest()[:32]


def _utterance_columns(tid: str, utts: Sequence[Utterance]) -> list[list[Any]]:
    return [
        [tid] * len(utts),
        list(range(len(utts))),
        [u.speaker for u in utts],
        [u.channel for u in utts],
        [str(u.role) for u in utts],
        [float(u.role_confidence) for u in utts],
        [float(u.start) for u in utts],
        [float(u.end) for u in utts],
        [u.text for u in utts],
        [float(u.confidence) for u in utts],
        [u.language for u in utts],
    ]


def _word_columns(tid: str, utts: Sequence[Utterance]) -> list[list[Any]]:
    rows = [(ui, wi, w) for ui, u in enumerate(utts) for wi, w in enumerate(u.words)]
    return [
        [tid] * len(rows),
        [r[0] for r in rows],
        [r[1] for r in rows],
        [float(r[2].start) for r in rows],
        [float(r[2].end) for r in rows],
        [r[2].text for r in rows],
        [float(r[2].probability) for r in rows],
    ]


def _insert_columns(con: duckdb.DuckDBPyConnection, table: str, columns: list[list[Any]]) -> None:
    """Insert rows given column-wise: one statement, whatever the row count (``executemany`` runs one per row)."""
    if not columns or not columns[0]:
        return
    unnests = ", ".join("unnest(?)" for _ in columns)
    con.execute(f"INSERT INTO {table} SELECT {unnests}", columns)
