"""The recogniser contract: what the transcription stage asks a speech recogniser and what it gets back.

Audio is float32 mono samples at :data:`SAMPLE_RATE` in [-1, 1]. ``models.whisper.Recognizer`` implements
:class:`SpeechRecognizer`; the tests pass fakes. Here rather than in pipeline/ so that model adapters
never import the stages that use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.config import VadSettings
from core.types import ModelInfo, Span, Word

SAMPLE_RATE = 16_000  # what Whisper and the speaker models take; every recording is decoded to it

# Whisper is not conditioned on its previous text: on long calls a misrecognition (or a hallucinated line in
# noise) would otherwise be fed back as the prompt of every later window and repeated. Each window still sees
# the company-name hotwords.
CONDITION_ON_PREVIOUS_TEXT = False
# Beam search only, no sampling at higher temperatures when a window looks wrong: sampled fallbacks make the
# same call come out differently on every run, and were slower without better text (docs/transcription.md).
TEMPERATURES = (0.0,)


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    """What the recogniser is asked to decode.

    Attributes:
        language: ``zh`` or ``en``.
        regions: sorted, non-overlapping (start, end) seconds of the channel to decode; the rest is skipped.
        hotwords: names to bias the recogniser towards (company and product names), or empty.
    """

    language: str
    regions: tuple[Span, ...]
    beam_size: int = 5
    condition_on_previous_text: bool = CONDITION_ON_PREVIOUS_TEXT
    hotwords: str = ""
    temperatures: tuple[float, ...] = TEMPERATURES


@dataclass(frozen=True, slots=True)
class RecognizedSegment:
    """One recogniser segment, timed in seconds of the channel it came from."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float


class SpeechRecognizer(Protocol):
    """What the stage needs from a recogniser (``models.whisper.Recognizer`` implements it)."""

    @property
    def info(self) -> ModelInfo: ...

    def speech_regions(self, audio: np.ndarray, vad: VadSettings) -> tuple[Span, ...]: ...

    def language_probabilities(self, audio: np.ndarray, regions: Sequence[Span]) -> dict[str, float]: ...

    def recognize(self, audio: np.ndarray, request: DecodeRequest) -> tuple[RecognizedSegment, ...]: ...
