"""Acoustic arousal of utterances: how much more (or less) activated a speaker sounds than usual in this call.

Five cues of vocal arousal are measured per utterance on the telephone band (the audio is taken to 8 kHz
first, so a clean 16 kHz clip and a real 8 kHz call are measured alike):

* **energy**: median frame level (dB) of the voiced frames;
* **pitch**: median f0 of the voiced frames in semitones (``librosa.yin``, 60–400 Hz: below 60 Hz a 64 ms frame
  holds too few periods, above 400 Hz is beyond nearly all speaking voices; the telephone band removes the
  fundamental of most voices, but yin follows the period of the harmonics that remain);
* **pitch range**: 10th to 90th percentile of that f0, in semitones;
* **speaking rate**: speech units (words, or Han characters) per second of the utterance's word span, as a log;
* **spectral tilt**: energy of 1–3.4 kHz over 0.3–1 kHz (dB) in voiced frames — a raised voice pushes energy
  up the spectrum.

A frame is voiced when it is within 35 dB of the utterance's loudest frame and its normalised autocorrelation
at yin's period is at least 0.5.

Every cue is then a robust z-score against **the same speaker's median over the call** (spread: the median
absolute deviation, with a floor so a monotonous speaker does not turn small wobbles into large scores).
The speaker is the channel on stereo calls and the role on mono calls (or the diarised speaker where the
role is unknown). Arousal is the weighted mean of the available z-scores, clipped to ±4; a speaker with fewer
than ``min_utterances`` measurable utterances has no baseline and gets ``None``.

What it can and cannot tell: it says an utterance is louder, higher, wider-ranged, faster or brighter than
this speaker's norm in this call. It is not an emotion classifier: excitement, joy, speaking up on a bad line
and anger all raise arousal, a cold, quiet anger does not; it cannot compare different people or calls; a
speaker with only a few utterances has no meaningful baseline; level changes of the line (AGC, a handset moved
closer) read as energy. callqa uses it only to strengthen negative evidence from the words.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import librosa
import numpy as np

from core.types import Role, Transcript, Utterance
from pipeline.metrics import speech_units

ANALYSIS_RATE = 8000  # telephone band: every call is measured as a phone line would carry it
FRAME = 512  # 64 ms at 8 kHz: two periods of a 60 Hz voice fit in a frame
HOP = 80  # 10 ms
FEATURES = ("energy", "pitch", "pitch_range", "rate", "tilt")
CUE_NAMES = {"energy": "louder", "pitch": "higher pitch", "pitch_range": "wider pitch range",
             "rate": "faster", "tilt": "tenser voice"}


@dataclass(frozen=True, slots=True)
class AcousticOptions:
    """How arousal is measured.

    Attributes:
        fmin_hz, fmax_hz: the f0 search range of ``librosa.yin``.
        voiced_periodicity: the normalised autocorrelation at the pitch period a voiced frame needs.
        active_db: frames more than this below the utterance's loudest frame are left out.
        min_utterances: a speaker needs this many measurable utterances for a baseline.
        weights: of each cue in :data:`FEATURES` order. Level and f0 are the most consistent correlates of
            vocal arousal in the speech-emotion literature, so they weigh most.
        floors: the least spread of each cue (dB, semitones, semitones, log units/s, dB): a z-score of 1 needs
            at least this much change.
        cue_z: a cue at or above this z-score is named in the utterance's cues.
    """

    fmin_hz: float = 60.0
    fmax_hz: float = 400.0
    voiced_periodicity: float = 0.5
    active_db: float = 35.0
    min_utterances: int = 3
    weights: tuple[float, ...] = (0.3, 0.3, 0.15, 0.1, 0.15)
    floors: tuple[float, ...] = (2.0, 1.0, 1.0, 0.1, 1.5)
    cue_z: float = 1.5


@dataclass(frozen=True, slots=True)
class VoiceFeatures:
    """The raw cues of one utterance (``None`` where it has too little voiced speech to measure one)."""

    energy_db: float
    pitch_st: float | None  # semitones above 100 Hz
    pitch_range_st: float | None
    rate: float | None  # natural log of speech units per second
    tilt_db: float | None
    voiced_s: float

    def values(self) -> tuple[float | None, ...]:
        """The cues in :data:`FEATURES` order."""
        return (self.energy_db, self.pitch_st, self.pitch_range_st, self.rate, self.tilt_db)


@dataclass(frozen=True, slots=True)
class Arousal:
    """An utterance's arousal against its speaker's baseline in the call.

    Attributes:
        score: weighted mean z-score of the available cues, clipped to [-4, 4]; 0 is the speaker's norm.
        z: the z-score of each measured cue, by name (see :data:`FEATURES`).
    """

    score: float
    z: tuple[tuple[str, float], ...]

    def cues(self, threshold: float = 1.5) -> tuple[str, ...]:
        """Readable names of the cues at least ``threshold`` above the speaker's norm, e.g. ``voice:louder``."""
        return tuple(f"voice:{CUE_NAMES[name]}" for name, z in self.z if z >= threshold)


def to_analysis_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``samples`` at :data:`ANALYSIS_RATE` (band-limited to 4 kHz like a phone line)."""
    y = np.asarray(samples, dtype=np.float32)
    if sample_rate == ANALYSIS_RATE:
        return y
    out: np.ndarray = librosa.resample(y, orig_sr=sample_rate, target_sr=ANALYSIS_RATE, res_type="soxr_mq")
    return out


def voice_features(samples: np.ndarray, units: int, span_s: float,
                   options: AcousticOptions | None = None) -> VoiceFeatures | None:
    """Measure one utterance.

    Args:
        samples: the utterance's audio at :data:`ANALYSIS_RATE` (see :func:`to_analysis_rate`).
        units: its speech units (words or Han characters) for the speaking rate; 0 when unknown.
        span_s: seconds from its first to its last word (the speaking time of the rate).
        options: thresholds.

    Returns:
        The cues, or None when the audio is shorter than a frame or silent.
    """
    opts = options or AcousticOptions()
    y = np.asarray(samples, dtype=np.float64)
    if len(y) < FRAME:
        return None
    frames = librosa.util.frame(y, frame_length=FRAME, hop_length=HOP, axis=0)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    active = (level >= level.max() - opts.active_db) & (level > -80.0)
    if not active.any():
        return None
    f0 = librosa.yin(y, fmin=opts.fmin_hz, fmax=opts.fmax_hz, sr=ANALYSIS_RATE, frame_length=FRAME,
                     hop_length=HOP, center=False)[: len(frames)]
    voiced = active & (_periodicity(frames, f0) >= opts.voiced_periodicity)
    n_voiced = int(voiced.sum())
    st = 12 * np.log2(f0[voiced] / 100.0)
    rate = math.log(units / span_s) if units > 0 and span_s > 0 else None
    return VoiceFeatures(
        energy_db=float(np.median(level[voiced] if n_voiced >= 5 else level[active])),
        pitch_st=float(np.median(st)) if n_voiced >= 5 else None,
        pitch_range_st=float(np.percentile(st, 90) - np.percentile(st, 10)) if n_voiced >= 10 else None,
        rate=rate,
        tilt_db=_tilt(frames[voiced]) if n_voiced >= 5 else None,
        voiced_s=n_voiced * HOP / ANALYSIS_RATE,
    )


def _periodicity(frames: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of each frame at the lag of its f0 (1 = perfectly periodic)."""
    lags = np.clip(np.round(ANALYSIS_RATE / f0).astype(int), 1, FRAME // 2)
    width = FRAME - FRAME // 2  # the same number of products at every lag
    x = frames[:, :width]
    y = frames[np.arange(len(frames))[:, None], np.arange(width)[None, :] + lags[:, None]]
    den = np.sqrt(np.sum(x * x, axis=1) * np.sum(y * y, axis=1))
    out: np.ndarray = np.sum(x * y, axis=1) / np.maximum(den, 1e-12)
    return out


def _tilt(frames: np.ndarray) -> float:
    power = (np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1)) ** 2).sum(axis=0)
    freqs = np.fft.rfftfreq(FRAME, 1 / ANALYSIS_RATE)
    low = power[(freqs >= 300) & (freqs < 1000)].sum()
    high = power[(freqs >= 1000) & (freqs < 3400)].sum()
    return float(10 * np.log10((high + 1e-12) / (low + 1e-12)))


def arousal_scores(features: Sequence[VoiceFeatures | None], speakers: Sequence[Hashable],
                   options: AcousticOptions | None = None) -> list[Arousal | None]:
    """Arousal of each utterance against the median of the same speaker's utterances.

    Args:
        features: per utterance, its cues or None.
        speakers: per utterance, who said it; utterances with the same key share a baseline.
        options: weights, floors and the minimum number of utterances of a baseline.

    Returns:
        Per utterance, its arousal, or None when it has no cues or its speaker has too few measured utterances.
    """
    opts = options or AcousticOptions()
    out: list[Arousal | None] = [None] * len(features)
    for key in dict.fromkeys(speakers):
        mine = [i for i, s in enumerate(speakers) if s == key and features[i] is not None]
        if len(mine) < opts.min_utterances:
            continue
        table = np.array([[np.nan if v is None else v for v in features[i].values()] for i in mine])  # type: ignore[union-attr]
        z = _robust_z(table, np.asarray(opts.floors), opts.min_utterances)
        for row, i in enumerate(mine):
            present = [(name, float(z[row, j]), opts.weights[j]) for j, name in enumerate(FEATURES)
                       if not np.isnan(z[row, j])]
            if not present:
                continue
            score = sum(v * w for _, v, w in present) / sum(w for _, _, w in present)
            out[i] = Arousal(float(np.clip(score, -4.0, 4.0)), tuple((n, round(v, 3)) for n, v, _ in present))
    return out


def _robust_z(table: np.ndarray, floors: np.ndarray, min_count: int) -> np.ndarray:
    """Column-wise (x - median) / max(1.4826·MAD, floor); NaN where a cue is missing or too rarely measured."""
    z = np.full(table.shape, np.nan)
    for j in range(table.shape[1]):
        col = table[:, j]
        ok = ~np.isnan(col)
        if ok.sum() < min_count:
            continue
        median = np.median(col[ok])
        spread = max(1.4826 * float(np.median(np.abs(col[ok] - median))), float(floors[j]))
        z[ok, j] = (col[ok] - median) / spread
    return z


def speaker_key(u: Utterance) -> tuple[int, str]:
    """Whose baseline an utterance belongs to: its channel and role (or diarised speaker when unknown)."""
    return (u.channel, u.role.value if u.role is not Role.UNKNOWN else u.speaker)


def call_arousal(transcript: Transcript, channels: Sequence[np.ndarray], sample_rate: int = 16_000,
                 options: AcousticOptions | None = None) -> list[Arousal | None]:
    """Arousal of every utterance of a call (see the module docstring).

    Args:
        transcript: the call; each utterance's ``channel`` indexes ``channels``.
        channels: the decoded channels of the call.
        sample_rate: of ``channels``.
        options: thresholds and weights.

    Raises:
        ValueError: an utterance names a channel the audio does not have.
    """
    opts = options or AcousticOptions()
    resampled: dict[int, np.ndarray] = {}
    features: list[VoiceFeatures | None] = []
    for i, u in enumerate(transcript.utterances):
        if not 0 <= u.channel < len(channels):
            raise ValueError(f"Transcript.utterances[{i}]: channel {u.channel} is not in the audio "
                             f"({len(channels)} channel(s)); pass the call's decoded channels")
        if u.channel not in resampled:
            resampled[u.channel] = to_analysis_rate(channels[u.channel], sample_rate)
        start, end = _span(u)
        piece = resampled[u.channel][int(start * ANALYSIS_RATE): int(end * ANALYSIS_RATE)]
        features.append(voice_features(piece, speech_units(u.text), end - start, opts))
    return arousal_scores(features, [speaker_key(u) for u in transcript.utterances], opts)


def _span(u: Utterance) -> tuple[float, float]:
    """The word span of an utterance (segment bounds carry VAD padding), else its bounds."""
    if u.words:
        return min(w.start for w in u.words), max(w.end for w in u.words)
    return u.start, u.end
