"""The store: the tables' reads and writes (runs, calls and transcripts, scorecards, voiceprints, checks)
over the connections of :class:`~scorecards.store.connection.Connection`, each write one transaction."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from core.errors import StoreError
from core.scorecard import CallScorecard
from core.types import (
    AudioInfo,
    CallFailure,
    CallMetadata,
    ModelInfo,
    Redaction,
    Role,
    RoleDecision,
    RunSummary,
    SourceFile,
    Transcript,
    Utterance,
    Word,
)
from scorecards.store import privacy as privacy_rows
from scorecards.store import summaries
from scorecards.store.connection import Connection
from scorecards.store.privacy import ClearAccess, PrivacyRecord
from scorecards.store.records import CallRow, ChecklistRecord, MetricsRecord, StoredTranscript, StoredUtteranceEmotion
from scorecards.store.rows import (
    _emotion_columns,
    _insert_columns,
    _load_scorecard,
    _now,
    _save_metrics,
    _save_scorecard,
    _transcript_id,
    _utterance_columns,
    _word_columns,
)

if TYPE_CHECKING:  # only for the signature: importing the emotion stage would load librosa into every reader
    from pipeline.emotion import CallEmotion

class Store(Connection):
    """The callqa database file.

    Args:
        path: the DuckDB file; created (with its schema) by the first writer.
        lock_timeout: seconds to keep retrying while another process holds the file.
        read_linger: seconds to keep the file open after the last read ends, for a long-running reader such
            as the web server (see ``scorecards.store.readers``); a writer elsewhere that waits still gets in
            within ~50 ms.
    """

    # -- runs --------------------------------------------------------------------------------------

    def start_run(self, run_id: str, sources: Sequence[str], settings_json: str, code_version: str) -> None:
        """Record a run as started; earlier runs left 'running' by a dead process become 'interrupted'."""
        with self.writing() as con:
            for (rid, pid) in con.execute("SELECT run_id, pid FROM runs WHERE status = 'running'").fetchall():
                if not _alive(pid):
                    con.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = ?", [rid])
            con.execute(
                "INSERT INTO runs (run_id, started_at, status, pid, sources, settings, code_version) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?)",
                [run_id, _now(), os.getpid(), json.dumps(list(sources)), settings_json, code_version],
            )

    def finish_run(self, summary: RunSummary) -> None:
        with self.writing() as con:
            con.execute(
                "UPDATE runs SET finished_at = ?, status = 'finished', done = ?, skipped = ?, failed = ?, "
                "audio_seconds = ?, wall_seconds = ?, uncertain_roles = ? WHERE run_id = ?",
                [
                    summary.finished_at,
                    summary.done,
                    summary.skipped,
                    len(summary.failed),
                    summary.audio_seconds,
                    summary.wall_seconds,
                    json.dumps(list(summary.uncertain_roles)),
                    summary.run_id,
                ],
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.reading() as con:
            cur = con.execute("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", [limit])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- calls -------------------------------------------------------------------------------------

    def transcribed_pairs(self, model_sha256: str) -> set[tuple[str, str]]:
        """(call id, options hash) of every call already transcribed with this model (one query per run)."""
        if not self.path.exists():
            return set()
        with self.reading() as con:
            tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if "transcripts" not in tables:
                return set()
            rows = con.execute(
                "SELECT DISTINCT call_id, options_hash FROM transcripts WHERE model_sha256 = ?", [model_sha256]
            ).fetchall()
        return {(r[0], r[1]) for r in rows}

    def touch_call(self, run_id: str, call_id: str) -> None:
        """Note that a run saw a call it skipped (already transcribed)."""
        with self.writing() as con:
            con.execute("UPDATE calls SET last_run_id = ? WHERE call_id = ?", [run_id, call_id])

    def save_call(
        self,
        run_id: str,
        source: SourceFile,
        metadata: CallMetadata,
        audio: AudioInfo,
        transcript: Transcript,
        options_hash: str,
        *,
        scorecards: Sequence[tuple[CallScorecard, ChecklistRecord]] = (),
        metrics: MetricsRecord | None = None,
        emotion: CallEmotion | None = None,
        privacy: PrivacyRecord | None = None,
    ) -> str:
        """Store a transcribed call with its transcript, utterances, words, metrics, emotion and scorecards.

        All of it in one transaction: a crash never leaves half a call. Returns the transcript id. Older
        transcripts of the call stay, no longer current. ``privacy`` says how the transcript was redacted (its
        placeholders' places, the clear text under ``both``); None stores it as made before redaction.
        ``emotion`` (one entry per utterance) is stored per utterance with its producer: the text model, the
        options' hash and the transcript's code version.

        Raises:
            StoreError: ``emotion`` does not describe this transcript's utterances.
        """
        assert transcript.model is not None, "a stored transcript must say which model produced it"
        transcript_id = _transcript_id(source.sha256, transcript.model.sha256, options_hash)
        if emotion is not None and [u.index for u in emotion.utterances] != list(range(len(transcript.utterances))):
            raise StoreError(f"{source.path}: the emotion has {len(emotion.utterances)} utterance(s) for a transcript "
                             f"of {len(transcript.utterances)}; score the emotion of this transcript again")
        with self.writing() as con:
            before = self._upsert_call(con, run_id, source, metadata, audio, transcript.language, "transcribed", None)
            con.execute("DELETE FROM utterance_emotions WHERE transcript_id = ?", [transcript_id])
            privacy_rows.delete(con, transcript_id)
            con.execute("DELETE FROM words WHERE transcript_id = ?", [transcript_id])
            con.execute("DELETE FROM utterances WHERE transcript_id = ?", [transcript_id])
            con.execute("DELETE FROM transcripts WHERE transcript_id = ?", [transcript_id])
            con.execute("UPDATE transcripts SET is_current = false WHERE call_id = ?", [source.sha256])
            roles = transcript.roles or RoleDecision("none", None, 0.0, True)
            con.execute(
                "INSERT INTO transcripts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true)",
                [
                    transcript_id, source.sha256, run_id, _now(), transcript.model.name,
                    transcript.model.sha256, transcript.options, options_hash, transcript.code_version,
                    transcript.language, transcript.duration, transcript.channels, roles.method,
                    roles.agent_speaker, roles.confidence, roles.uncertain, json.dumps(list(roles.reasons)),
                ],
            )
            _insert_columns(con, "utterances", _utterance_columns(transcript_id, transcript.utterances))
            _insert_columns(con, "words", _word_columns(transcript_id, transcript.utterances))
            if privacy is not None:
                privacy_rows.save(con, transcript_id, privacy)
            if metrics is not None:
                _save_metrics(con, transcript_id, metrics)
            if emotion is not None:
                _insert_columns(con, "utterance_emotions",
                                _emotion_columns(transcript_id, emotion, emotion.producer(transcript.code_version)))
            for card, checklist in scorecards:
                _save_scorecard(con, card, checklist, transcript_id, run_id, transcript.code_version)
            summaries.refresh(con, [source.sha256], before)
        return transcript_id

    # -- scorecards --------------------------------------------------------------------------------

    def save_scorecards(
        self, cards: Sequence[tuple[CallScorecard, ChecklistRecord, str]], origin: str, code_version: str
    ) -> int:
        """Store rescored scorecards ``(card, checklist, transcript id)`` in one transaction.

        The current scorecard of the same call and checklist id is kept, marked superseded. A card
        identical in checklist content, transcript and code to the current one is not stored again.
        Returns how many were stored.
        """
        stored = 0
        with self.writing() as con:
            for card, checklist, transcript_id in cards:
                stored += _save_scorecard(con, card, checklist, transcript_id, origin, code_version)
            if stored:  # one recomputation for the whole batch: every agent-day of the rescored calls at once
                summaries.refresh(con, {card.call_id for card, _, _ in cards})
        return stored

    def current_scorecards(self, call_id: str) -> list[CallScorecard]:
        """The current scorecard of a call for every checklist that scored it."""
        with self.reading() as con:
            ids = [r[0] for r in con.execute(
                "SELECT scorecard_id FROM scorecards WHERE call_id = ? AND is_current ORDER BY checklist_id",
                [call_id]).fetchall()]
            return [_load_scorecard(con, sid) for sid in ids]

    def scorecard_history(self, call_id: str) -> list[dict[str, Any]]:
        """Every scorecard a call ever had, newest first (superseded ones included)."""
        with self.reading() as con:
            cur = con.execute(
                "SELECT scorecard_id, checklist_id, checklist_version, checklist_hash, total, band, veto, "
                "needs_review, created_at, origin, is_current, superseded_at FROM scorecards WHERE call_id = ? "
                "ORDER BY created_at DESC", [call_id])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def current_transcript_ids(self, language: str | None = None) -> list[tuple[str, str]]:
        """(call id, transcript id) of every call's current transcript, optionally in one language."""
        with self.reading() as con:
            return [(r[0], r[1]) for r in con.execute(
                "SELECT call_id, transcript_id FROM transcripts WHERE is_current AND (? IS NULL OR language = ?) "
                "ORDER BY call_id", [language, language]).fetchall()]

    def call_metrics(self, transcript_id: str) -> dict[str, float]:
        with self.reading() as con:
            return {n: v for n, v in con.execute(
                "SELECT name, value FROM call_metrics WHERE transcript_id = ?", [transcript_id]).fetchall()}

    def utterance_emotions(self, transcript_id: str) -> tuple[StoredUtteranceEmotion, ...]:
        """The stored emotion of every utterance of a transcript, in utterance order (empty if none was stored)."""
        with self.reading() as con:
            rows = con.execute(
                "SELECT utterance_idx, role, label, confidence, anger, angry, frustrated, neutral, satisfied, "
                "text_label, arousal, cues, producer FROM utterance_emotions WHERE transcript_id = ? "
                "ORDER BY utterance_idx", [transcript_id]).fetchall()
        return tuple(
            StoredUtteranceEmotion(idx, Role(role), label, conf, anger, a, f, n, s, text_label, arousal,
                                   tuple(json.loads(cues)), producer)
            for idx, role, label, conf, anger, a, f, n, s, text_label, arousal, cues, producer in rows
        )

    def save_failure(
        self,
        run_id: str,
        failure: CallFailure,
        source: SourceFile | None = None,
        metadata: CallMetadata | None = None,
    ) -> None:
        """Record a file that failed. A call that was transcribed before keeps its transcript."""
        with self.writing() as con:
            con.execute(
                "INSERT INTO run_failures VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, failure.path, failure.sha256, failure.stage, failure.reason, _now()],
            )
            if source is not None:
                existing = con.execute(
                    "SELECT status FROM calls WHERE call_id = ?", [source.sha256]
                ).fetchone()
                if existing is None or existing[0] == "failed":
                    before = self._upsert_call(
                        con, run_id, source, metadata or CallMetadata(), None, None, "failed", failure
                    )
                    summaries.refresh(con, [source.sha256], before)

    def _upsert_call(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: str,
        source: SourceFile,
        meta: CallMetadata,
        audio: AudioInfo | None,
        language: str | None,
        status: str,
        failure: CallFailure | None,
    ) -> set[summaries.Key]:
        """Insert or replace the call's row; returns its summary keys (agent, day) as they were before."""
        before = summaries.keys_of(con, [source.sha256])
        previous = con.execute(
            "SELECT call_id FROM calls WHERE source_path = ? AND call_id <> ? ORDER BY updated_at DESC LIMIT 1",
            [source.path, source.sha256],
        ).fetchone()
        first_run = con.execute("SELECT first_run_id FROM calls WHERE call_id = ?", [source.sha256]).fetchone()
        con.execute("DELETE FROM calls WHERE call_id = ?", [source.sha256])
        con.execute(
            "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source.sha256, source.path, Path(source.path).name, source.size,
                previous[0] if previous else None, first_run[0] if first_run else run_id, run_id,
                meta.external_id, meta.agent_id, meta.team, meta.customer_number, meta.started_at,
                meta.direction, meta.queue, meta.hangup_by, meta.source, language,
                audio.duration if audio else None, audio.channels if audio else None,
                audio.sample_rate if audio else None, audio.codec if audio else None, status,
                failure.stage if failure else None, failure.reason if failure else None, _now(),
            ],
        )
        return before

    def list_calls(self, *, status: str | None = None, agent: str | None = None) -> list[CallRow]:
        """Every call, newest first; optionally only one status or agent."""
        sql = _CALL_SELECT + " WHERE (? IS NULL OR c.status = ?) AND (? IS NULL OR c.agent_id = ?)"
        sql += " ORDER BY c.started_at DESC NULLS LAST, c.file_name"
        with self.reading() as con:
            rows = con.execute(sql, [status, status, agent, agent]).fetchall()
        return [CallRow(*r) for r in rows]

    def find_call(self, ref: str) -> CallRow:
        """A call by its id, a unique id prefix (≥ 6 characters), its external id or its file name."""
        ref = ref.strip()
        with self.reading() as con:
            rows = con.execute(
                _CALL_SELECT
                + " WHERE c.call_id = ? OR (length(?) >= 6 AND starts_with(c.call_id, ?))"
                " OR c.external_id = ? OR c.file_name = ?",
                [ref, ref, ref.lower(), ref, ref],
            ).fetchall()
        if not rows:
            raise StoreError(f"no call matches '{ref}'; `callqa calls` lists them")
        if len(rows) > 1:
            ids = ", ".join(r[0][:12] for r in rows[:5])
            raise StoreError(f"'{ref}' matches {len(rows)} calls ({ids}…); give more of the call id")
        return CallRow(*rows[0])

    def load_transcript(self, ref: str) -> StoredTranscript:
        """The current transcript of a call (see ``find_call`` for what ``ref`` may be)."""
        call = self.find_call(ref)
        with self.reading() as con:
            t = con.execute(
                "SELECT transcript_id, model_name, model_sha256, options, code_version, language, duration, "
                "channels, role_method, agent_speaker, role_confidence, roles_uncertain, role_reasons, "
                "created_at FROM transcripts WHERE call_id = ? AND is_current",
                [call.call_id],
            ).fetchone()
            if t is None:
                reason = f": {call.failure_reason}" if call.failure_reason else ""
                raise StoreError(f"call {call.call_id[:12]} has no transcript (status {call.status}{reason})")
            tid = t[0]
            utts = con.execute(
                "SELECT idx, start_s, end_s, text, role, role_confidence, confidence, speaker, channel, language "
                "FROM utterances WHERE transcript_id = ? ORDER BY idx",
                [tid],
            ).fetchall()
            words = con.execute(
                "SELECT utterance_idx, start_s, end_s, text, probability FROM words "
                "WHERE transcript_id = ? ORDER BY utterance_idx, idx",
                [tid],
            ).fetchall()
            meta_row = con.execute(
                "SELECT external_id, agent_id, team, customer_number, started_at, direction, queue, hangup_by, "
                "metadata_source FROM calls WHERE call_id = ?",
                [call.call_id],
            ).fetchone()
        by_utt: dict[int, list[Word]] = {}
        for ui, s, e, text, p in words:
            by_utt.setdefault(ui, []).append(Word(s, e, text, p))
        utterances = tuple(
            Utterance(
                start=s, end=e, text=text, role=Role(role), role_confidence=rc, confidence=conf,
                speaker=spk, channel=ch, language=lang, words=tuple(by_utt.get(idx, ())),
            )
            for idx, s, e, text, role, rc, conf, spk, ch, lang in utts
        )
        transcript = Transcript(
            utterances=utterances, duration=t[6], language=t[5], channels=t[7],
            roles=RoleDecision(t[8] or "none", t[9], t[10] or 0.0, bool(t[11]), tuple(json.loads(t[12]))),
            model=ModelInfo(t[1], t[2]), options=t[3], code_version=t[4],
        )
        assert meta_row is not None
        metadata = CallMetadata(
            external_id=meta_row[0], agent_id=meta_row[1], team=meta_row[2], customer_number=meta_row[3],
            started_at=meta_row[4], direction=meta_row[5], queue=meta_row[6], hangup_by=meta_row[7],
            language=transcript.language, source=meta_row[8],
        )
        return StoredTranscript(tid, call, metadata, transcript, t[13])

    # -- personal data ------------------------------------------------------------------------------

    def redactions(self, transcript_id: str) -> tuple[Redaction, ...]:
        """Where the transcript's placeholders are and when each span was said."""
        with self.reading() as con:
            return privacy_rows.redactions(con, transcript_id)

    def privacy_mode(self, transcript_id: str) -> str | None:
        """``redact``, ``both`` or ``off`` as the transcript was stored; None when stored before redaction."""
        with self.reading() as con:
            return privacy_rows.mode_of(con, transcript_id)

    def clear_texts(self, transcript_id: str, user_id: str, call_id: str) -> dict[int, tuple[str, tuple[str, ...]]]:
        """The clear text kept under ``both``, each read recorded in the audit (call it only for ``pii:clear``)."""
        with self.writing() as con:
            privacy_rows.log_access(con, user_id, call_id, "transcript")
            return privacy_rows.clear_texts(con, transcript_id)

    def log_clear_access(self, user_id: str, call_id: str, what: str) -> None:
        """Record that ``user_id`` heard or read ``call_id`` in clear."""
        with self.writing() as con:
            privacy_rows.log_access(con, user_id, call_id, what)

    def clear_access_log(self, limit: int = 200, offset: int = 0) -> list[ClearAccess]:
        """Every clear read, newest first."""
        with self.reading() as con:
            return privacy_rows.access_log(con, limit, offset)

    def failures(self, run_id: str) -> list[CallFailure]:
        with self.reading() as con:
            rows = con.execute(
                "SELECT path, stage, reason, call_id FROM run_failures WHERE run_id = ? ORDER BY path", [run_id]
            ).fetchall()
        return [CallFailure(path=p, stage=s, reason=r, sha256=c) for p, s, r, c in rows]

    # -- voiceprints -------------------------------------------------------------------------------

    def save_voiceprint(
        self, agent_id: str, embedding: Sequence[float], model_sha256: str, files: int, seconds: float
    ) -> None:
        with self.writing() as con:
            con.execute("DELETE FROM agent_voiceprints WHERE agent_id = ?", [agent_id])
            con.execute(
                "INSERT INTO agent_voiceprints VALUES (?, ?, ?, ?, ?, ?)",
                [agent_id, [float(x) for x in embedding], model_sha256, files, seconds, _now()],
            )

    def voiceprint(self, agent_id: str, model_sha256: str) -> list[float] | None:
        """The agent's enrolled voiceprint made with this embedding model, or None."""
        if not self.path.exists():
            return None
        with self.reading() as con:
            row = con.execute(
                "SELECT embedding FROM agent_voiceprints WHERE agent_id = ? AND model_sha256 = ?",
                [agent_id, model_sha256],
            ).fetchone()
        return list(row[0]) if row else None

    # -- checks ------------------------------------------------------------------------------------

    def integrity_problems(self) -> list[str]:
        """Cross-table consistency checks; an empty list means the store is sound."""
        checks = {
            "utterances without a transcript": "SELECT count(*) FROM utterances u "
            "WHERE NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.transcript_id = u.transcript_id)",
            "words without an utterance": "SELECT count(*) FROM words w WHERE NOT EXISTS (SELECT 1 FROM "
            "utterances u WHERE u.transcript_id = w.transcript_id AND u.idx = w.utterance_idx)",
            "transcripts without a call": "SELECT count(*) FROM transcripts t "
            "WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = t.call_id)",
            "transcribed calls without a current transcript": "SELECT count(*) FROM calls c WHERE "
            "c.status = 'transcribed' AND (SELECT count(*) FROM transcripts t "
            "WHERE t.call_id = c.call_id AND t.is_current) <> 1",
            "failed calls without a reason": "SELECT count(*) FROM calls WHERE status = 'failed' "
            "AND (failure_reason IS NULL OR failure_reason = '')",
            "utterances with end before start": "SELECT count(*) FROM utterances WHERE end_s < start_s",
            "utterance emotions without an utterance": "SELECT count(*) FROM utterance_emotions e WHERE NOT EXISTS "
            "(SELECT 1 FROM utterances u WHERE u.transcript_id = e.transcript_id AND u.idx = e.utterance_idx)",
        }
        problems = []
        with self.reading() as con:
            for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                con.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # reads every table's storage
            for name, sql in checks.items():
                n = con.execute(sql).fetchone()
                if n and n[0]:
                    problems.append(f"{n[0]} {name}")
            problems.extend(summaries.problems(con))
        return problems

    def rebuild_summaries(self) -> None:
        """Recompute the per-agent-per-day summaries from the base tables (after a repair by hand)."""
        with self.writing() as con:
            summaries.rebuild(con)


_CALL_SELECT = (
    "SELECT c.call_id, c.file_name, c.source_path, c.agent_id, c.team, c.queue, c.started_at, c.status, "
    "c.duration, c.language, c.channels, c.failure_reason, "
    "(SELECT t.roles_uncertain FROM transcripts t WHERE t.call_id = c.call_id AND t.is_current) FROM calls c"
)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


