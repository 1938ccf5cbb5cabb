"""The values the store hands out and takes in: a call's row, a stored transcript, checklist and metrics records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.types import CallMetadata, Role, Transcript


@dataclass(frozen=True, slots=True)
class CallRow:
    """A call as listed by ``callqa calls``."""

    call_id: str
    file_name: str
    source_path: str
    agent_id: str | None
    team: str | None
    queue: str | None
    started_at: dt.datetime | None
    status: str
    duration: float | None
    language: str | None
    channels: int | None
    failure_reason: str | None
    roles_uncertain: bool | None

    @property
    def agent(self) -> str:
        return self.agent_id or "unknown"


@dataclass(frozen=True, slots=True)
class StoredTranscript:
    """A transcript read back from the store with the call it belongs to."""

    transcript_id: str
    call: CallRow
    metadata: CallMetadata
    transcript: Transcript
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ChecklistRecord:
    """The checklist a scorecard was made with, stored once per content hash."""

    checklist_id: str
    version: str
    title: str
    content_hash: str
    source_path: str
    content: str


@dataclass(frozen=True, slots=True)
class MetricsRecord:
    """Numeric per-call figures (conversation metrics, emotion summary) and the stage that made them."""

    values: dict[str, float]
    producer: str


@dataclass(frozen=True, slots=True)
class StoredUtteranceEmotion:
    """The emotion of one stored utterance (``utterance_idx`` into the transcript's utterances).

    Attributes:
        label, confidence: the fused class and its probability.
        anger: P(angry) + ½·P(frustrated), 0–1.
        angry, frustrated, neutral, satisfied: the fused probabilities.
        text_label: the class the text model alone chose.
        arousal: the voice's arousal (z units), None without audio or a speaker baseline.
        cues: the evidence (``angry:我要投诉``, ``voice:louder``).
        producer: the text model, options hash and code version that made it.
    """

    utterance_idx: int
    role: Role
    label: str
    confidence: float
    anger: float
    angry: float
    frustrated: float
    neutral: float
    satisfied: float
    text_label: str
    arousal: float | None
    cues: tuple[str, ...]
    producer: str
