"""The transcription stage: decoded channels in, one :class:`ChannelTranscript` per channel out.

Plain Python around a recogniser passed in through the :class:`SpeechRecognizer` protocol
(``models.whisper.Recognizer`` in production, a fake in tests). Per channel:

1. Speech regions come from the Silero VAD (tuned ``VadSettings``) *and* from an energy envelope
   (:func:`pipeline.audio.energetic_regions`): on 8 kHz telephone audio the VAD alone drops much of a
   quiet party's speech, so every energetic stretch it skipped is added back (the safety net). On stereo
   calls, stretches where only the other channel's party talks (crosstalk) are left out.
2. ``auto`` picks Mandarin or English per channel from Whisper's language probabilities.
3. Whisper decodes only those regions (beam search, word timestamps and probabilities); energetic speech
   that still ends up in no utterance is decoded again on its own (second chance).
4. Text and words are converted to Simplified Chinese; utterances carry speaker ``ch<N>``.
5. ``speech_coverage`` is the share of the energetic speech that ended up inside an utterance.

docs/transcription.md has the measurements behind each constant below.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from core.config import TranscriptionSettings
from core.errors import ConfigError
from core.types import Role, Utterance, Word
from models.asr import CONDITION_ON_PREVIOUS_TEXT, TEMPERATURES, DecodeRequest, RecognizedSegment, SpeechRecognizer
from pipeline.audio import SAMPLE_RATE, DecodedAudio, Span, energetic_regions
from pipeline.textnorm import simplify_words, to_simplified

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
# Safety net: an energetic stretch at least this long that the VAD kept none of is decoded anyway,
# padded on both sides so that word onsets and endings are not clipped.
NET_MIN_S = 0.3
NET_PAD_S = 0.3
# Regions closer than this are decoded as one: cutting a pause out of the middle of a phrase (and the
# recogniser joining regions with a short silence) made Whisper lose the rest of the sentence.
JOIN_GAP_S = 1.0
# Second chance: energetic speech of RETRY_MIN_S or more left outside every utterance is decoded again
# on its own, at most RETRY_ROUNDS times.
RETRY_MIN_S = 0.5
RETRY_ROUNDS = 2
COVERAGE_PAD_S = 0.3  # word timestamps are approximate: speech this close to an utterance counts as in it


@dataclass(frozen=True, slots=True)
class ChannelTranscript:
    """The transcript of one channel.

    Attributes:
        channel: the channel index in the file.
        language: ``zh`` or ``en`` (``""`` when ``auto`` found no speech to judge).
        language_probability: Whisper's probability for that language (1.0 when it was configured).
        utterances: Whisper segments in time order, speaker ``ch<channel>``, role UNKNOWN.
        speech_coverage: share (0–1) of the channel's energetic speech that lies inside an utterance; 1.0
            when the channel has no energetic speech at all.
    """

    channel: int
    language: str
    language_probability: float
    utterances: tuple[Utterance, ...]
    speech_coverage: float


def transcription_options(settings: TranscriptionSettings, language: str) -> dict[str, Any]:
    """Everything that shapes a transcript, as plain data for storing beside it.

    The hints of every language are recorded when there are any (with ``auto`` the language, and so the
    hotwords, are only known per channel); without hints the options are what they were before hints existed,
    so stored transcripts keep their options hash.
    """
    hints = {lang: list(dict.fromkeys(h)) for lang, h in sorted(settings.hints.items()) if h}
    return ({"hints": hints} if hints else {}) | {
        "language": language,
        "beam_size": settings.beam_size,
        "compute_type": settings.compute_type,
        "condition_on_previous_text": CONDITION_ON_PREVIOUS_TEXT,
        "word_timestamps": True,
        "temperatures": list(TEMPERATURES),
        "hotwords": hotwords(settings, language),
        "vad": asdict(settings.vad),
        "safety_net": {"min_s": NET_MIN_S, "pad_s": NET_PAD_S, "join_gap_s": JOIN_GAP_S, "retry_min_s": RETRY_MIN_S,
                       "retry_rounds": RETRY_ROUNDS},
        "simplified_chinese": True,
    }


def options_json(settings: TranscriptionSettings, language: str) -> str:
    """Canonical JSON (sorted keys, no spaces) of :func:`transcription_options`: equal options, equal text."""
    return json.dumps(transcription_options(settings, language), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def hotwords(settings: TranscriptionSettings, language: str) -> str:
    """The recogniser's hotwords for a channel in ``language``: company names, then that language's hints."""
    phrases = (*settings.company_names, *settings.hints.get(language, ()))
    return ", ".join(dict.fromkeys(p.strip() for p in phrases if p.strip()))


def _check_language(language: str) -> str:
    if language not in (*LANGUAGES, "auto"):
        raise ConfigError(f"transcription language '{language}' is not supported: use zh, en or auto")
    return language


def transcribe_audio(recognizer: SpeechRecognizer, decoded: DecodedAudio, *, language: str,
                     settings: TranscriptionSettings) -> tuple[ChannelTranscript, ...]:
    """Transcribe every channel of a decoded call separately (stereo = one party per channel).

    A channel that only repeats an earlier one (a mono call saved as stereo) is not transcribed again.

    Args:
        recognizer: the loaded model.
        decoded: the call.
        language: ``zh``, ``en``, or ``auto`` to detect it per channel.
        settings: beam size, VAD options, company names and hints (passed as hotwords).

    Returns:
        One transcript per distinct channel, in channel order.

    Raises:
        ConfigError: ``language`` is not zh, en or auto.
    """
    _check_language(language)
    out = []
    for i in distinct_channels(decoded.channels):
        others = tuple(c for j, c in enumerate(decoded.channels) if j != i)
        out.append(transcribe_channel(recognizer, decoded.channels[i], i, language=language, settings=settings,
                                      others=others))
    return tuple(out)


def distinct_channels(channels: Sequence[np.ndarray]) -> list[int]:
    """Indices of the channels that are not a copy of an earlier one.

    Many "stereo" recordings carry the same mono mix on both channels; transcribing each would list every
    sentence twice under two speakers. A channel within -30 dB (residual energy) of an earlier one is a copy.
    """
    kept: list[int] = []
    for i, c in enumerate(channels):
        energy = float(np.dot(c, c))
        if not any(len(channels[k]) == len(c) and float(np.sum((channels[k] - c) ** 2)) <= 1e-3 * energy
                   for k in kept):
            kept.append(i)
    return kept


def transcribe_channel(recognizer: SpeechRecognizer, samples: np.ndarray, channel: int, *, language: str,
                       settings: TranscriptionSettings, others: tuple[np.ndarray, ...] = ()) -> ChannelTranscript:
    """Transcribe one 16 kHz channel (see the module docstring for the steps).

    Args:
        others: the call's other channels, so that their speech leaking into this one is not taken as
            this party's speech.

    Raises:
        ConfigError: ``language`` is not zh, en or auto.
    """
    _check_language(language)
    duration = len(samples) / SAMPLE_RATE
    energy = energetic_regions(samples, others)
    vad = recognizer.speech_regions(samples, settings.vad)
    if others:
        vad = without_crosstalk(vad, energy, samples, others)
    regions = decode_regions(vad, energy, duration)
    lang, prob = _language(recognizer, samples, regions, language)
    if not regions or not lang:
        return ChannelTranscript(channel, lang, prob, (), coverage(energy, ()))
    request = DecodeRequest(language=lang, regions=regions, beam_size=settings.beam_size,
                            hotwords=hotwords(settings, lang))
    utterances = _recognize(recognizer, samples, request, channel, duration)
    retried = 0.0
    for _ in range(RETRY_ROUNDS):
        holes = missed_speech(energy, utterances, duration)
        if not holes:
            break
        retried += total(holes)
        found = _recognize(recognizer, samples, replace(request, regions=holes), channel, duration)
        fresh = tuple(u for u in found if not _overlaps(u, utterances))
        if not fresh:
            break
        utterances = tuple(sorted((*utterances, *fresh), key=lambda u: (u.start, u.end)))
    cov = coverage(energy, [(u.start, u.end) for u in utterances])
    log.info("ch%d: %.0f s, VAD kept %.1f s, decoded %.1f s (safety net and joins), %.1f s decoded again, "
             "%d utterances, coverage %.3f", channel, duration, total(vad), total(regions), retried, len(utterances),
             cov)
    return ChannelTranscript(channel, lang, prob, utterances, cov)


def without_crosstalk(vad: Sequence[Span], energy: Sequence[Span], samples: np.ndarray,
                      others: tuple[np.ndarray, ...]) -> tuple[Span, ...]:
    """VAD regions less the stretches where only another channel's party is talking.

    The VAD hears the other party's voice leaking into a quiet channel (echo, crosstalk) as speech, and
    Whisper then writes the other party's words under this one. Where another channel has speech of its
    own and this channel has none (``energy`` already excludes the leak), this channel is not decoded.
    """
    foreign: list[Span] = []
    for i, other in enumerate(others):
        rest = (samples, *others[:i], *others[i + 1:])
        foreign.extend(energetic_regions(other, rest))
    kept = subtract(vad, subtract(foreign, [(a - NET_PAD_S, b + NET_PAD_S) for a, b in energy]))
    return tuple((a, b) for a, b in kept if b - a >= NET_MIN_S)


def _recognize(recognizer: SpeechRecognizer, samples: np.ndarray, request: DecodeRequest, channel: int,
               duration: float) -> tuple[Utterance, ...]:
    segments = recognizer.recognize(samples, request)
    utterances = (u for s in segments if (u := _utterance(s, channel, request.language, duration)) is not None)
    return tuple(sorted(utterances, key=lambda u: (u.start, u.end)))


def missed_speech(energy: Sequence[Span], utterances: Sequence[Utterance], duration: float) -> tuple[Span, ...]:
    """Energetic stretches of ``RETRY_MIN_S`` or more that no utterance covers, padded, to decode again.

    Whisper sometimes ends a 30 s window early (above all in Mandarin) and skips the speech after its
    last segment; decoded on their own, those stretches come out.
    """
    spoken = [(u.start - COVERAGE_PAD_S, u.end + COVERAGE_PAD_S) for u in utterances]
    holes = [(a - NET_PAD_S, b + NET_PAD_S) for a, b in subtract(energy, spoken) if b - a >= RETRY_MIN_S]
    return tuple((max(0.0, a), min(duration, b)) for a, b in merge(holes, gap=JOIN_GAP_S))


def _overlaps(u: Utterance, others: Sequence[Utterance]) -> bool:
    """True when ``u`` is mostly (over half) inside utterances already found: the same speech twice."""
    inside = total(s for o in others if (s := (max(u.start, o.start), min(u.end, o.end)))[1] > s[0])
    return inside > 0.5 * max(u.end - u.start, 1e-6)


def _language(recognizer: SpeechRecognizer, samples: np.ndarray, regions: tuple[Span, ...],
              language: str) -> tuple[str, float]:
    if language != "auto":
        return language, 1.0
    if not regions:
        return "", 0.0
    # Only the call centre's languages compete: a few seconds of accented or noisy speech otherwise
    # come out as Japanese, Cantonese or Welsh and are transcribed (or translated) as such.
    probs = recognizer.language_probabilities(samples, regions)
    best = max(LANGUAGES, key=lambda lang: probs.get(lang, 0.0))
    return best, probs.get(best, 0.0)


def _utterance(seg: RecognizedSegment, channel: int, language: str, duration: float) -> Utterance | None:
    text = to_simplified(seg.text).strip()
    if not any(ch.isalnum() for ch in text):
        return None  # punctuation or nothing: no words to check
    words = tuple(_clamp_word(w, duration) for w in simplify_words(seg.words))
    start, end = (words[0].start, words[-1].end) if words else (seg.start, seg.end)
    start = min(max(0.0, start), duration)
    confidence = float(np.mean([w.probability for w in words])) if words else math.exp(min(0.0, seg.avg_logprob))
    return Utterance(start=start, end=min(max(end, start), duration), text=text, role=Role.UNKNOWN,
                     confidence=confidence, speaker=f"ch{channel}", channel=channel, language=language, words=words)


def _clamp_word(w: Word, duration: float) -> Word:
    start = min(max(0.0, w.start), duration)
    return Word(start, min(max(w.end, start), duration), w.text, w.probability)


# --- spans (sorted lists of (start, end) seconds) -------------------------------------------------------

def merge(spans: Iterable[Span], gap: float = 0.0) -> tuple[Span, ...]:
    """Sorted union of ``spans``, joining spans separated by at most ``gap`` seconds."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def subtract(spans: Sequence[Span], cut: Sequence[Span]) -> tuple[Span, ...]:
    """The parts of ``spans`` outside every span of ``cut``."""
    out = []
    cut = merge(cut)
    for a, b in merge(spans):
        for c, d in cut:
            if d <= a or c >= b:
                continue
            if c > a:
                out.append((a, c))
            a = max(a, d)
            if a >= b:
                break
        if a < b:
            out.append((a, b))
    return tuple(out)


def total(spans: Iterable[Span]) -> float:
    """Seconds covered by ``spans`` (overlaps counted once)."""
    return sum(b - a for a, b in merge(spans))


def decode_regions(vad: Sequence[Span], energy: Sequence[Span], duration: float) -> tuple[Span, ...]:
    """The VAD's speech plus every energetic stretch of ``NET_MIN_S`` or more that the VAD skipped.

    Regions less than ``JOIN_GAP_S`` apart are joined.
    """
    missed = [(a - NET_PAD_S, b + NET_PAD_S) for a, b in subtract(energy, vad) if b - a >= NET_MIN_S]
    return tuple((max(0.0, a), min(duration, b)) for a, b in merge([*vad, *missed], gap=JOIN_GAP_S)
                 if b > 0 and a < duration)


def coverage(speech: Sequence[Span], covered: Sequence[Span]) -> float:
    """Share of ``speech`` inside ``covered`` (each widened by ``COVERAGE_PAD_S``); 1.0 if there is no speech."""
    need = total(speech)
    if need <= 0:
        return 1.0
    widened = [(a - COVERAGE_PAD_S, b + COVERAGE_PAD_S) for a, b in covered]
    return max(0.0, min(1.0, 1.0 - total(subtract(speech, widened)) / need))
