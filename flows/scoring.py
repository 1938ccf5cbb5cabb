"""The scoring stage: conversation metrics and checklist scorecards for a stored transcript.

Plain Python: the flow calls it right after roles are labelled, and the result is stored in the call's
own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.config import ScoringSettings, Settings
from core.errors import ConfigError
from core.scorecard import CallScorecard
from core.transcript_io import transcript_hash
from core.types import CallMetadata, Transcript
from models.emotion import TextEmotionModel, load_text_model
from pipeline.emotion import CallEmotion, EmotionOptions, analyse_emotion
from pipeline.metrics import compute_metrics
from rules.engine import score_call
from rules.loader import load_checklists, shipped_checklist
from rules.model import Checklist, recogniser_hints


@dataclass(frozen=True)
class ActiveChecklists:
    """The checklists of a run, loaded and validated once before any call is scored."""

    general: tuple[Checklist, ...]
    by_queue: dict[str, tuple[Checklist, ...]]

    def all(self) -> tuple[Checklist, ...]:
        """Every checklist of the run, each once."""
        pool = [*self.general, *(c for cs in self.by_queue.values() for c in cs)]
        return tuple({c.content_hash: c for c in pool}.values())

    def for_call(self, language: str, queue: str | None) -> tuple[Checklist, ...]:
        """The checklists that apply to a call of this language and queue."""
        pool = self.by_queue.get(queue or "", self.general)
        return tuple(c for c in pool if language in c.languages)


def load_active(settings: ScoringSettings) -> ActiveChecklists:
    """Load every configured checklist (or the shipped ones); any invalid file fails the whole run.

    Raises:
        core.errors.CallQAError: with every ``file:line:column`` problem of every file.
    """
    general = settings.checklists or tuple(str(shipped_checklist(lang)) for lang in ("zh", "en"))
    paths = sorted({*general, *(p for ps in settings.queue_checklists.values() for p in ps)})
    loaded = {str(Path(c.path)): c for c in load_checklists(paths)}

    def pick(ps: Sequence[str]) -> tuple[Checklist, ...]:
        return tuple(loaded[str(Path(p))] for p in ps)

    return ActiveChecklists(pick(general), {q: pick(ps) for q, ps in settings.queue_checklists.items()})


def with_checklist_hints(settings: Settings, active: ActiveChecklists) -> Settings:
    """``settings`` whose transcription hints also hold the active checklists' hints, when that is switched on."""
    t = settings.transcription
    if not t.checklist_hints:
        return settings
    hints = dict(t.hints)
    for language, phrases in recogniser_hints(active.all()).items():
        hints[language] = tuple(dict.fromkeys((*hints.get(language, ()), *phrases)))
    return replace(settings, transcription=replace(t, hints=hints))


@dataclass(frozen=True)
class EmotionSetup:
    """The emotion model and options of a run (the model is loaded once and shared by the workers)."""

    model: TextEmotionModel
    options: EmotionOptions


def load_emotion(overrides: Mapping[str, Any]) -> EmotionSetup:
    """Build the emotion options from the ``[emotion]`` settings and load the text model once.

    Raises:
        ConfigError: an unknown ``[emotion]`` key (named, with the known ones).
    """
    known = {f.name for f in fields(EmotionOptions)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"[emotion]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    options = EmotionOptions(**values)
    model = load_text_model(options.text_model, dict(options.label_map) or None, options.prototypes)
    return EmotionSetup(model, options)


@dataclass(frozen=True)
class CallScores:
    """What the scoring stage produced for one call.

    Attributes:
        metrics: conversation metrics and the call-level emotion summary, by name (the checklists' numbers).
        scorecards: each applicable checklist's scorecard with its checklist.
        emotion: every utterance's emotion and the customer's course (None when the stage ran without emotion).
    """

    metrics: dict[str, float]
    scorecards: tuple[tuple[CallScorecard, Checklist], ...]
    emotion: CallEmotion | None = None


def score_transcript(
    transcript: Transcript,
    metadata: CallMetadata,
    call_id: str,
    active: ActiveChecklists,
    emotion: EmotionSetup | None = None,
    channels: tuple[np.ndarray, ...] | None = None,
) -> CallScores:
    """Conversation metrics and emotion, then every applicable checklist's scorecard (which may use both)."""
    metrics = compute_metrics(transcript).as_dict()
    call_emotion = None
    if emotion is not None:
        call_emotion = analyse_emotion(transcript, channels, emotion.model, emotion.options)
        metrics |= call_emotion.as_metrics()
    version = transcript_hash(transcript)
    cards = tuple(
        (score_call(c, transcript, metadata, metrics, call_id=call_id, transcript_hash=version), c)
        for c in active.for_call(transcript.language, metadata.queue)
    )
    return CallScores(metrics, cards, call_emotion)
