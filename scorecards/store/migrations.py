"""Named schema migrations, applied in order and recorded in ``schema_migrations``.

A migration is never edited once released: change the schema by appending a new step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scorecards.store import summaries

Migration = tuple[str, Callable[[Any], None]]


def _001_core(con: Any) -> None:
    con.execute(
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status TEXT NOT NULL,            -- running | finished | interrupted
            pid INTEGER,
            sources TEXT NOT NULL,           -- JSON list of the paths given
            settings TEXT NOT NULL,          -- canonical JSON of the settings used
            code_version TEXT NOT NULL,
            done INTEGER DEFAULT 0,
            skipped INTEGER DEFAULT 0,
            failed INTEGER DEFAULT 0,
            audio_seconds DOUBLE DEFAULT 0,
            wall_seconds DOUBLE DEFAULT 0,
            uncertain_roles TEXT DEFAULT '[]' -- JSON list of call ids
        )
        """
    )
    con.execute(
        """
        CREATE TABLE calls (
            call_id TEXT PRIMARY KEY,        -- sha256 of the audio bytes
            source_path TEXT NOT NULL,
            file_name TEXT NOT NULL,
            size_bytes BIGINT NOT NULL,
            previous_call_id TEXT,           -- the older version of the same path, if its bytes changed
            first_run_id TEXT NOT NULL,
            last_run_id TEXT NOT NULL,
            external_id TEXT,
            agent_id TEXT,
            team TEXT,
            customer_number TEXT,
            started_at TIMESTAMP,
            direction TEXT,
            queue TEXT,
            hangup_by TEXT,
            metadata_source TEXT NOT NULL,
            language TEXT,
            duration DOUBLE,
            channels INTEGER,
            sample_rate INTEGER,
            codec TEXT,
            status TEXT NOT NULL,            -- transcribed | failed
            failure_stage TEXT,
            failure_reason TEXT,
            updated_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE transcripts (
            transcript_id TEXT PRIMARY KEY,
            call_id TEXT NOT NULL,
            run_id TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            model_name TEXT NOT NULL,
            model_sha256 TEXT NOT NULL,
            options TEXT NOT NULL,           -- canonical JSON
            options_hash TEXT NOT NULL,
            code_version TEXT NOT NULL,
            language TEXT NOT NULL,
            duration DOUBLE NOT NULL,
            channels INTEGER NOT NULL,
            role_method TEXT,
            agent_speaker TEXT,
            role_confidence DOUBLE,
            roles_uncertain BOOLEAN NOT NULL,
            role_reasons TEXT NOT NULL,      -- JSON list
            is_current BOOLEAN NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE utterances (
            transcript_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            speaker TEXT NOT NULL,
            channel INTEGER NOT NULL,
            role TEXT NOT NULL,
            role_confidence DOUBLE NOT NULL,
            start_s DOUBLE NOT NULL,
            end_s DOUBLE NOT NULL,
            text TEXT NOT NULL,
            confidence DOUBLE NOT NULL,
            language TEXT NOT NULL,
            PRIMARY KEY (transcript_id, idx)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE words (
            transcript_id TEXT NOT NULL,
            utterance_idx INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            start_s DOUBLE NOT NULL,
            end_s DOUBLE NOT NULL,
            text TEXT NOT NULL,
            probability DOUBLE NOT NULL,
            PRIMARY KEY (transcript_id, utterance_idx, idx)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE run_failures (
            run_id TEXT NOT NULL,
            path TEXT NOT NULL,
            call_id TEXT,
            stage TEXT NOT NULL,
            reason TEXT NOT NULL,
            failed_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE agent_voiceprints (
            agent_id TEXT PRIMARY KEY,
            embedding FLOAT[] NOT NULL,
            model_sha256 TEXT NOT NULL,
            files INTEGER NOT NULL,
            seconds DOUBLE NOT NULL,
            enrolled_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute("CREATE INDEX transcripts_call ON transcripts (call_id)")


MIGRATIONS: tuple[Migration, ...] = (("001_core", _001_core),)


def _002_scorecards(con: Any) -> None:
    con.execute(
        """
        CREATE TABLE checklists (
            checklist_hash TEXT PRIMARY KEY, -- sha256 of the checklist's content
            checklist_id TEXT NOT NULL,
            version TEXT NOT NULL,
            title TEXT NOT NULL,
            source_path TEXT NOT NULL,
            content TEXT NOT NULL,           -- the YAML as it was scored with
            first_used_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE scorecards (
            scorecard_id TEXT PRIMARY KEY,
            call_id TEXT NOT NULL,
            transcript_id TEXT NOT NULL,
            transcript_hash TEXT NOT NULL,
            checklist_id TEXT NOT NULL,
            checklist_version TEXT NOT NULL,
            checklist_hash TEXT NOT NULL,
            total DOUBLE,
            raw_total DOUBLE,
            band TEXT NOT NULL,
            veto BOOLEAN NOT NULL,
            needs_review BOOLEAN NOT NULL,
            created_at TIMESTAMP NOT NULL,
            origin TEXT NOT NULL,            -- nightly run id, or 'rescore:<id>'
            code_version TEXT NOT NULL,
            is_current BOOLEAN NOT NULL,
            superseded_by TEXT,
            superseded_at TIMESTAMP
        )
        """
    )
    con.execute(
        """
        CREATE TABLE verdicts (
            scorecard_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            section_id TEXT NOT NULL,
            title TEXT NOT NULL,
            verdict TEXT NOT NULL,           -- pass | fail | n/a | uncertain
            points DOUBLE NOT NULL,
            earned DOUBLE NOT NULL,
            veto BOOLEAN NOT NULL,
            reason TEXT NOT NULL,
            message TEXT NOT NULL,
            evidence TEXT NOT NULL,          -- canonical JSON list
            PRIMARY KEY (scorecard_id, idx)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE section_scores (
            scorecard_id TEXT NOT NULL,
            section_id TEXT NOT NULL,
            title TEXT NOT NULL,
            weight DOUBLE NOT NULL,
            earned DOUBLE NOT NULL,
            possible DOUBLE NOT NULL,
            score DOUBLE,
            PRIMARY KEY (scorecard_id, section_id)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE call_metrics (
            transcript_id TEXT NOT NULL,
            name TEXT NOT NULL,
            value DOUBLE NOT NULL,
            producer TEXT NOT NULL,          -- which stage and version computed it
            PRIMARY KEY (transcript_id, name)
        )
        """
    )
    con.execute("CREATE INDEX scorecards_call ON scorecards (call_id)")
    con.execute("CREATE INDEX verdicts_item ON verdicts (item_id)")


MIGRATIONS = (*MIGRATIONS, ("002_scorecards", _002_scorecards))


def _003_utterance_emotion(con: Any) -> None:
    con.execute(
        """
        CREATE TABLE utterance_emotions (
            transcript_id TEXT NOT NULL,
            utterance_idx INTEGER NOT NULL,
            role TEXT NOT NULL,
            label TEXT NOT NULL,             -- angry | frustrated | neutral | satisfied
            confidence DOUBLE NOT NULL,
            anger DOUBLE NOT NULL,           -- P(angry) + 0.5 P(frustrated)
            angry DOUBLE NOT NULL,           -- the fused class probabilities
            frustrated DOUBLE NOT NULL,
            neutral DOUBLE NOT NULL,
            satisfied DOUBLE NOT NULL,
            text_label TEXT NOT NULL,        -- what the text model alone said
            arousal DOUBLE,                  -- voice arousal (z units), NULL without audio
            cues TEXT NOT NULL,              -- JSON list
            producer TEXT NOT NULL,          -- model, options hash and code version
            PRIMARY KEY (transcript_id, utterance_idx)
        )
        """
    )


MIGRATIONS = (*MIGRATIONS, ("003_utterance_emotion", _003_utterance_emotion))


def _004_review(con: Any) -> None:
    con.execute(
        """
        CREATE TABLE users (
            user_id TEXT PRIMARY KEY,        -- the login name, lower case
            display_name TEXT NOT NULL,
            role TEXT NOT NULL,              -- admin | qa | supervisor | agent
            agent_id TEXT,                   -- the one agent an agent account sees
            teams TEXT NOT NULL,             -- JSON list of the teams a supervisor sees
            password_hash TEXT NOT NULL,     -- argon2id, never the password
            language TEXT,                   -- zh | en | NULL: from the browser
            session_epoch INTEGER NOT NULL,  -- bumped to end every session of the user
            disabled BOOLEAN NOT NULL,
            created_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE verdict_reviews (
            review_id TEXT PRIMARY KEY,
            scorecard_id TEXT NOT NULL,
            item_idx INTEGER NOT NULL,       -- verdicts.idx
            item_id TEXT NOT NULL,
            automatic_verdict TEXT NOT NULL, -- the verdict as the engine gave it
            decision TEXT NOT NULL,          -- confirm | overturn
            reviewed_verdict TEXT NOT NULL,  -- pass | fail | n/a
            comment TEXT NOT NULL,
            reviewer TEXT NOT NULL,          -- users.user_id
            dispute_id TEXT,                 -- the dispute this review answers, if any
            created_at TIMESTAMP NOT NULL,
            is_current BOOLEAN NOT NULL      -- a later review of the same verdict replaces it
        )
        """
    )
    con.execute(
        """
        CREATE TABLE reviewed_scores (
            scorecard_id TEXT PRIMARY KEY,   -- the automatic score stays in scorecards
            total DOUBLE,
            raw_total DOUBLE,
            band TEXT NOT NULL,
            veto BOOLEAN NOT NULL,
            reviewed_items INTEGER NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            updated_by TEXT NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE disputes (
            dispute_id TEXT PRIMARY KEY,
            scorecard_id TEXT NOT NULL,
            item_idx INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            call_id TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            comment TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            status TEXT NOT NULL,            -- open | upheld | rejected
            answer TEXT,
            answered_by TEXT,
            answered_at TIMESTAMP,
            seen_by_agent_at TIMESTAMP
        )
        """
    )
    con.execute(
        """
        CREATE TABLE acknowledgements (
            scorecard_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            acknowledged_at TIMESTAMP NOT NULL,
            PRIMARY KEY (scorecard_id, user_id)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE regression_examples (
            example_id TEXT PRIMARY KEY,
            checklist_id TEXT NOT NULL,
            checklist_hash TEXT NOT NULL,    -- the version whose verdict was corrected
            item_id TEXT NOT NULL,
            language TEXT NOT NULL,
            expect TEXT NOT NULL,            -- pass | fail | n/a: the corrected verdict
            automatic_verdict TEXT NOT NULL,
            transcript TEXT NOT NULL,        -- JSON: the excerpt, utterances with roles and times
            source TEXT NOT NULL,            -- 'review:<id>' or 'dispute:<id>'
            call_id TEXT NOT NULL,
            comment TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            active BOOLEAN NOT NULL
        )
        """
    )
    con.execute("CREATE INDEX disputes_status ON disputes (status)")
    con.execute("CREATE INDEX reviews_scorecard ON verdict_reviews (scorecard_id)")
    con.execute("CREATE INDEX calls_agent ON calls (agent_id)")


MIGRATIONS = (*MIGRATIONS, ("004_review", _004_review))


def _005_read_indexes(con: Any) -> None:
    # The call page and the agent home read one scorecard's (or one transcript's) rows. These tables' primary
    # keys are composite (scorecard_id, idx) and DuckDB does not look a key prefix up in them, so each read
    # scanned the whole table (the call page's cost grew with the store; docs/operations.md).
    con.execute("CREATE INDEX verdicts_scorecard ON verdicts (scorecard_id)")
    con.execute("CREATE INDEX section_scores_scorecard ON section_scores (scorecard_id)")
    con.execute("CREATE INDEX call_metrics_transcript ON call_metrics (transcript_id)")
    con.execute("CREATE INDEX utterances_transcript ON utterances (transcript_id)")
    con.execute("CREATE INDEX utterance_emotions_transcript ON utterance_emotions (transcript_id)")


MIGRATIONS = (*MIGRATIONS, ("005_read_indexes", _005_read_indexes))


def _006_summaries(con: Any) -> None:
    # Per-agent-per-day counts for the agent home and the heat-map (see scorecards/store/summaries.py), filled from
    # the existing data here; from now on every write keeps them exact.
    summaries.create(con, "006_summaries")


MIGRATIONS = (*MIGRATIONS, ("006_summaries", _006_summaries))


def _007_agent_cards(con: Any) -> None:
    # One row per current scorecard for the agent home (see scorecards/store/summaries.py): its window's calls and
    # missed items read a few hundred narrow rows instead of scanning calls, scorecards and verdicts.
    summaries.create(con, "007_agent_cards")


MIGRATIONS = (*MIGRATIONS, ("007_agent_cards", _007_agent_cards))


def _008_emotion_definitions(con: Any) -> None:
    # agent_day_emotion counted the web page's emotion figures by other definitions than `callqa agent`'s
    # (angry share over all calls, calmer among the angry, no agent tone): replaced by the counts of
    # scorecards/store/definitions.py, which both sides now read, filled from the existing data.
    con.execute("DROP INDEX agent_day_emotion_day")
    con.execute("DROP TABLE agent_day_emotion")
    summaries.create(con, "008_emotion_definitions")


MIGRATIONS = (*MIGRATIONS, ("008_emotion_definitions", _008_emotion_definitions))


def _009_redaction(con: Any) -> None:
    # Personal data (pipeline/redact.py): where each placeholder of a stored transcript is, how each transcript was
    # redacted, the clear text of `redaction.mode = "both"` apart from everything else, and who read it when.
    con.execute(
        """
        CREATE TABLE redactions (
            transcript_id TEXT NOT NULL,
            utterance_idx INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            start_s DOUBLE NOT NULL,         -- the span's time: what the player silences
            end_s DOUBLE NOT NULL,
            char_start INTEGER NOT NULL,     -- the placeholder's place in the stored utterance text
            char_end INTEGER NOT NULL,
            kind TEXT NOT NULL,              -- PHONE | ID | CARD | EMAIL | ADDRESS | NAME | DATE | NUMBER
            detector TEXT NOT NULL,
            confidence DOUBLE NOT NULL
        )
        """
    )
    con.execute("CREATE INDEX redactions_transcript ON redactions (transcript_id)")
    con.execute(
        """
        CREATE TABLE transcript_privacy (
            transcript_id TEXT PRIMARY KEY,
            mode TEXT NOT NULL,              -- redact | both | off
            redactor TEXT NOT NULL,          -- the redactor's version ('' for off)
            redacted_at TIMESTAMP NOT NULL,
            origin TEXT NOT NULL             -- run:<id> or 'callqa redact'
        )
        """
    )
    con.execute(
        """
        CREATE TABLE clear_utterances (
            transcript_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            text TEXT NOT NULL,
            words TEXT NOT NULL,             -- JSON list of the clear words' texts, in order
            PRIMARY KEY (transcript_id, idx)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE clear_access (
            accessed_at TIMESTAMP NOT NULL,
            user_id TEXT NOT NULL,
            call_id TEXT NOT NULL,
            what TEXT NOT NULL               -- audio | transcript
        )
        """
    )


MIGRATIONS = (*MIGRATIONS, ("009_redaction", _009_redaction))
