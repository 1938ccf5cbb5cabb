"""Values that cross stage boundaries.

Every stage of the pipeline takes and returns these frozen dataclasses; nothing crosses a
boundary as a loose dict. Times are seconds from the start of the call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

Span = tuple[float, float]  # (start, end) seconds


class Role(StrEnum):
    """Who is speaking."""

    AGENT = "agent"
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word (English) or token of characters (Mandarin) with its timing."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Utterance:
    """A stretch of speech by one party.

    Attributes:
        speaker: the source of the speech: ``"ch0"``/``"ch1"`` for a stereo channel, ``"spk0"``/``"spk1"``
            for a diarised mono speaker.
        confidence: mean word probability (0–1) of the recogniser on this utterance.
        role_confidence: how sure the role assignment is (0–1) that ``role`` is right.
    """

    start: float
    end: float
    text: str
    role: Role = Role.UNKNOWN
    role_confidence: float = 0.0
    confidence: float = 1.0
    speaker: str = "ch0"
    channel: int = 0
    language: str = ""
    words: tuple[Word, ...] = ()


@dataclass(frozen=True, slots=True)
class CallMetadata:
    """What the call centre knows about a call, from a sidecar, a manifest or the file name."""

    external_id: str | None = None
    agent_id: str | None = None
    team: str | None = None
    customer_number: str | None = None
    customer_name: str | None = None  # from a sidecar or manifest; only ever used to find the name and hide it
    started_at: dt.datetime | None = None
    direction: str | None = None
    queue: str | None = None
    hangup_by: str | None = None
    language: str | None = None
    source: str = "none"  # which source supplied it: sidecar, manifest, filename, none

    @property
    def agent(self) -> str:
        return self.agent_id or "unknown"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A recording found on disk. Its identity is the sha256 of its bytes."""

    path: str
    sha256: str
    size: int
    mtime: float


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What the decoder found in the file before resampling."""

    codec: str
    container: str
    sample_rate: int
    channels: int
    duration: float


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Which model produced a result: a name and a content hash of its weights."""

    name: str
    sha256: str


@dataclass(frozen=True, slots=True)
class RoleDecision:
    """How roles were assigned for a call.

    Attributes:
        method: ``configured``, ``content`` (greeting/company phrases), ``voiceprint``, ``first_speaker``,
            combined with ``+``, or ``none``.
        agent_speaker: the speaker id judged to be the agent (``ch0``, ``spk1``, ...), or None.
        confidence: 0–1 confidence that the agent speaker is right.
        uncertain: True when the confidence is below the configured threshold; the run report lists it.
        reasons: human-readable notes on the evidence used.
    """

    method: str
    agent_speaker: str | None
    confidence: float
    uncertain: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Transcript:
    """A role-labelled transcript of one call, with what produced it."""

    utterances: tuple[Utterance, ...]
    duration: float
    language: str
    channels: int = 1
    roles: RoleDecision | None = None
    model: ModelInfo | None = None
    options: str = "{}"  # canonical JSON of the options that produced it
    code_version: str = ""

    @property
    def text(self) -> str:
        return "\n".join(u.text for u in self.utterances)


@dataclass(frozen=True, slots=True)
class Redaction:
    """One span of personal data hidden in a stored transcript, without the value it hid.

    Attributes:
        utterance: the utterance's index in its transcript.
        start, end: seconds of the call the span was said in (what the player silences).
        char_start, char_end: where the placeholder (``[PHONE]``, ``[NAME]`` …) sits in the stored utterance text.
        kind: ``PHONE``, ``ID``, ``CARD``, ``EMAIL``, ``ADDRESS``, ``NAME``, ``DATE`` or ``NUMBER``.
        detector: which detector found it (``phonenumbers``, ``luhn``, ``given-name`` …).
        confidence: how sure the detector was (0–1).
    """

    utterance: int
    start: float
    end: float
    char_start: int
    char_end: int
    kind: str
    detector: str
    confidence: float


@dataclass(frozen=True, slots=True)
class CallFailure:
    """A file that could not be processed, with a one-line reason a person can act on."""

    path: str
    stage: str
    reason: str
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class WorkerShare:
    """What one worker did in a run: ``worker`` names its host and, on a Dask cluster, its address."""

    worker: str
    calls: int
    audio_seconds: float


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one run did: shown as the run report and stored in the runs table."""

    run_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    done: int
    skipped: int
    failed: tuple[CallFailure, ...] = ()
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    uncertain_roles: tuple[str, ...] = field(default_factory=tuple)
    workers: tuple[WorkerShare, ...] = ()

    @property
    def real_time_factor(self) -> float:
        return self.wall_seconds / self.audio_seconds if self.audio_seconds else 0.0
