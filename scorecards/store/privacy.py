"""What the store keeps about personal data: the redactions of each transcript, the clear text of
``redaction.mode = "both"``, and the audit of every read of it. Rows only; who may read is decided by callers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

import duckdb

from core.scorecard import evidence_from_json, evidence_to_json
from core.types import Redaction, Transcript
from scorecards.store.rows import _insert_columns, _now


@dataclass(frozen=True, slots=True)
class PrivacyRecord:
    """How one transcript was redacted, to be stored with it.

    Attributes:
        mode: the ``[redaction] mode`` it was made under.
        redactor: the redactor's version ('' for ``off``).
        redactions: where its placeholders are.
        clear: the transcript before redaction, kept only under ``both``.
        origin: ``run:<id>`` or ``callqa redact``.
    """

    mode: str
    redactor: str
    redactions: tuple[Redaction, ...] = ()
    clear: Transcript | None = None
    origin: str = ""


@dataclass(frozen=True, slots=True)
class ClearAccess:
    """One read of a call's clear audio or text."""

    accessed_at: dt.datetime
    user_id: str
    call_id: str
    what: str


def delete(con: duckdb.DuckDBPyConnection, transcript_id: str) -> None:
    for table in ("redactions", "transcript_privacy", "clear_utterances"):
        con.execute(f"DELETE FROM {table} WHERE transcript_id = ?", [transcript_id])


def save(con: duckdb.DuckDBPyConnection, transcript_id: str, record: PrivacyRecord) -> None:
    """Replace what is stored about the transcript's personal data (inside the caller's transaction)."""
    delete(con, transcript_id)
    con.execute("INSERT INTO transcript_privacy VALUES (?, ?, ?, ?, ?)",
                [transcript_id, record.mode, record.redactor, _now(), record.origin])
    rs = record.redactions
    counters: dict[int, int] = {}
    idx = []
    for r in rs:
        idx.append(counters.get(r.utterance, 0))
        counters[r.utterance] = idx[-1] + 1
    _insert_columns(con, "redactions", [
        [transcript_id] * len(rs), [r.utterance for r in rs], idx, [float(r.start) for r in rs],
        [float(r.end) for r in rs], [r.char_start for r in rs], [r.char_end for r in rs], [r.kind for r in rs],
        [r.detector for r in rs], [float(r.confidence) for r in rs],
    ])
    if record.clear is not None:
        us = record.clear.utterances
        _insert_columns(con, "clear_utterances", [
            [transcript_id] * len(us), list(range(len(us))), [u.text for u in us],
            [json.dumps([w.text for w in u.words], ensure_ascii=False) for u in us],
        ])


def redactions(con: duckdb.DuckDBPyConnection, transcript_id: str) -> tuple[Redaction, ...]:
    rows = con.execute(
        "SELECT utterance_idx, start_s, end_s, char_start, char_end, kind, detector, confidence FROM redactions "
        "WHERE transcript_id = ? ORDER BY utterance_idx, idx", [transcript_id]).fetchall()
    return tuple(Redaction(*r) for r in rows)


def mode_of(con: duckdb.DuckDBPyConnection, transcript_id: str) -> str | None:
    """The mode the transcript was stored under; None for one stored before redaction existed (in clear)."""
    row = con.execute("SELECT mode FROM transcript_privacy WHERE transcript_id = ?", [transcript_id]).fetchone()
    return str(row[0]) if row else None


def clear_texts(con: duckdb.DuckDBPyConnection, transcript_id: str) -> dict[int, tuple[str, tuple[str, ...]]]:
    """The clear text and word texts of each utterance kept under ``both`` (empty when none were kept)."""
    rows = con.execute("SELECT idx, text, words FROM clear_utterances WHERE transcript_id = ? ORDER BY idx",
                       [transcript_id]).fetchall()
    return {i: (t, tuple(json.loads(w))) for i, t, w in rows}


def log_access(con: duckdb.DuckDBPyConnection, user_id: str, call_id: str, what: str) -> None:
    con.execute("INSERT INTO clear_access VALUES (?, ?, ?, ?)", [_now(), user_id, call_id, what])


def access_log(con: duckdb.DuckDBPyConnection, limit: int = 200, offset: int = 0) -> list[ClearAccess]:
    rows = con.execute("SELECT accessed_at, user_id, call_id, what FROM clear_access "
                       "ORDER BY accessed_at DESC LIMIT ? OFFSET ?", [limit, offset]).fetchall()
    return [ClearAccess(*r) for r in rows]


def to_redact(con: duckdb.DuckDBPyConnection, redactor: str) -> list[str]:
    """Transcripts whose text is not redacted by this redactor version: stored before redaction existed, under
    ``off``, or by an older redactor (which a newer one may find more in). Oldest first."""
    rows = con.execute("SELECT t.transcript_id FROM transcripts t LEFT JOIN transcript_privacy p "
                       "USING (transcript_id) WHERE p.mode IS NULL OR p.mode = 'off' OR p.redactor <> ? "
                       "ORDER BY t.created_at, t.transcript_id", [redactor]).fetchall()
    return [r[0] for r in rows]


def rewrite(con: duckdb.DuckDBPyConnection, transcript_id: str, call_id: str, redacted: Transcript,
            changed: Sequence[int], record: PrivacyRecord, hidden: Sequence[tuple[str, str]]) -> None:
    """Store the redacted text of a transcript stored in clear, inside the caller's transaction.

    Args:
        redacted: the whole transcript as redacted; only the utterances in ``changed`` are written.
        hidden: (clear text, placeholder) pairs, longest first, replaced wherever the call's scorecards and
            regression examples quote them.
    """
    for idx in changed:
        u = redacted.utterances[idx]
        con.execute("UPDATE utterances SET text = ? WHERE transcript_id = ? AND idx = ?", [u.text, transcript_id, idx])
        con.execute("DELETE FROM words WHERE transcript_id = ? AND utterance_idx = ?", [transcript_id, idx])
        ws = u.words
        _insert_columns(con, "words", [
            [transcript_id] * len(ws), [idx] * len(ws), list(range(len(ws))), [float(w.start) for w in ws],
            [float(w.end) for w in ws], [w.text for w in ws], [float(w.probability) for w in ws],
        ])
    save(con, transcript_id, record)
    con.execute("UPDATE calls SET customer_number = '[PHONE]' WHERE call_id = ? AND customer_number IS NOT NULL",
                [call_id])
    rows = con.execute("SELECT v.scorecard_id, v.idx, v.reason, v.evidence FROM verdicts v JOIN scorecards s "
                       "USING (scorecard_id) WHERE s.transcript_id = ?", [transcript_id]).fetchall()
    for sid, idx, reason, evidence in rows:
        quotes = evidence_from_json(evidence)
        new_quotes = tuple(replace(e, text=_hide(e.text, hidden)) for e in quotes)
        new_reason = _hide(reason, hidden)
        if new_quotes != quotes or new_reason != reason:
            con.execute("UPDATE verdicts SET reason = ?, evidence = ? WHERE scorecard_id = ? AND idx = ?",
                        [new_reason, evidence_to_json(new_quotes), sid, idx])
    examples = con.execute("SELECT example_id, transcript FROM regression_examples WHERE call_id = ?",
                           [call_id]).fetchall()
    for example_id, excerpt in examples:
        payload = json.loads(excerpt)
        lines = [{**line, "text": _hide(str(line.get("text", "")), hidden)} for line in payload.get("lines", [])]
        metadata = dict(payload.get("metadata", {}))
        if metadata.get("customer_number"):
            metadata["customer_number"] = "[PHONE]"
        new = {**payload, "lines": lines, "metadata": metadata}
        if new != payload:
            con.execute("UPDATE regression_examples SET transcript = ? WHERE example_id = ?",
                        [json.dumps(new, ensure_ascii=False, sort_keys=True), example_id])


def _hide(text: str, hidden: Sequence[tuple[str, str]]) -> str:
    for clear, placeholder in hidden:
        if clear in text:
            text = text.replace(clear, placeholder)
    return text
