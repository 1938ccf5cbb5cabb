"""Who spoke when on a mono recording: speech regions → speaker embeddings → two clusters → turns.

The steps:

1. Speech regions from an energy envelope (or given by the caller).
2. Short overlapping windows inside each region are embedded by a speaker encoder.
3. The window embeddings are split into ``num_speakers`` clusters (spherical k-means, several starts).
4. Every 10 ms frame of speech gets the speaker whose centroid its covering windows are closest to.
5. Flips shorter than ``min_turn`` inside one stretch of speech are smoothed away: a real change of
   speaker inside continuous speech lasts longer than that, and the window embeddings are noisy.
6. Each resulting turn is embedded as a whole and re-assigned to the nearest centroid, which corrects
   turns whose windows were too short to judge one by one.

A recording where the two clusters are too alike (or one is tiny) is reported as one speaker.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy.ndimage import label, percentile_filter
from sklearn.cluster import KMeans

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAME = 0.01  # seconds per decision frame


class Embedder(Protocol):
    """What the diariser needs from a speaker encoder (``models.speaker.SpeakerEmbedder`` is one)."""

    def embed_windows(self, samples16k: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray: ...


@dataclass(frozen=True)
class DiarizeOptions:
    """Tuning of the diariser.

    Attributes:
        window: length of an embedding window in seconds.
        hop: step between windows in seconds; sets the time resolution of speaker changes.
        min_turn: a speaker flip shorter than this inside continuous speech is smoothed away.
        same_speaker_above: centroid cosine similarity above which the two clusters are one voice.
        min_share: a cluster holding less than this share of speech time is not a second speaker.
    """

    window: float = 0.8
    hop: float = 0.2
    min_turn: float = 0.5
    same_speaker_above: float = 0.8
    min_share: float = 0.04


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    """A stretch of speech by one speaker.

    Attributes:
        margin: how much closer the stretch's voice is to its own speaker than to the other one
            (cosine similarity difference, 0 when only one speaker was found).
    """

    start: float
    end: float
    speaker: str
    margin: float = 0.0


@dataclass(frozen=True)
class Diarization:
    """The speakers of a mono recording.

    Attributes:
        turns: speech turns sorted by start, never overlapping.
        speakers: speaker ids found (``spk0`` is whoever speaks first).
        centroids: one L2-normalised mean embedding per speaker, in the order of ``speakers``.
        separation: 1 − cosine similarity of the two centroids (0 = same voice, larger = more
            distinct; two different real speakers typically give 0.3–0.9). 0 for one speaker.
    """

    turns: tuple[SpeakerTurn, ...]
    speakers: tuple[str, ...]
    centroids: np.ndarray = field(compare=False, repr=False)
    separation: float = 0.0

    @property
    def num_speakers(self) -> int:
        return len(self.speakers)

    def speech_time(self, speaker: str) -> float:
        """Seconds of speech attributed to ``speaker``."""
        return sum(t.end - t.start for t in self.turns if t.speaker == speaker)


def speech_regions(
    samples: np.ndarray, sample_rate: int = SAMPLE_RATE, *, min_gap: float = 0.3, min_len: float = 0.2
) -> list[tuple[float, float]]:
    """Stretches of speech found from the energy envelope.

    The threshold adapts twice: to the line's noise floor (10th percentile of frame energy, ignoring
    digital silence), and to the loudness of the speech *nearby* (95th percentile within ±2 s), so a
    quiet party on a mono call is not lost next to a loud one. A frame is speech when it rises 30 % of
    the way from the floor to the nearby loudness; a region then extends while it stays above 20 %
    (hysteresis keeps soft word onsets and endings). Gaps shorter than ``min_gap`` are bridged.

    Args:
        samples: mono float samples.
        sample_rate: of ``samples``.
        min_gap: seconds of silence that separate two regions.
        min_len: regions shorter than this are dropped as clicks.

    Returns:
        Sorted, non-overlapping (start, end) seconds.
    """
    hop = int(sample_rate * FRAME)
    x = np.asarray(samples, dtype=np.float64).ravel()
    n = len(x) // hop
    if n == 0:
        return []
    power = (x[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    db = 10 * np.log10(power + 1e-12)
    # smooth over 50 ms so the envelope follows syllables, not single periods
    db = np.convolve(db, np.ones(5) / 5, mode="same")
    live = db[db > -100]  # exact zeros (digital silence, padding) say nothing about the line's noise
    if live.size == 0:
        return []
    floor = float(np.percentile(live, 10))
    nearby = percentile_filter(db, 95, size=int(4 / FRAME) + 1, mode="nearest")
    rise = np.maximum(nearby - floor, 0.0)
    core = (db > floor + np.maximum(6.0, 0.3 * rise)) & (rise >= 10.0)
    extended = db > floor + np.maximum(4.0, 0.2 * rise)
    labels, count = label(extended)
    keep = np.zeros(count + 1, dtype=bool)
    keep[np.unique(labels[core])] = True
    keep[0] = False
    active = keep[labels]
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    regions = zip(np.flatnonzero(edges == 1) * FRAME, np.flatnonzero(edges == -1) * FRAME, strict=True)
    merged: list[list[float]] = []
    for start, end in regions:
        if merged and start - merged[-1][1] < min_gap:
            merged[-1][1] = float(end)
        else:
            merged.append([float(start), float(end)])
    return [(round(s, 2), round(e, 2)) for s, e in merged if e - s >= min_len]


def _windows(regions: Sequence[tuple[float, float]], opts: DiarizeOptions) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for start, end in regions:
        if end - start <= opts.window:
            out.append((start, end))
            continue
        t = start
        while t + opts.window < end:
            out.append((t, t + opts.window))
            t += opts.hop
        out.append((end - opts.window, end))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-12)


def _cluster(emb: np.ndarray, k: int) -> np.ndarray:
    """Centroids (k, dim) from spherical k-means over unit vectors."""
    km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(emb)
    return _unit(km.cluster_centers_)


def _frame_scores(
    windows: Sequence[tuple[float, float]], sims: np.ndarray, n_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per 10 ms frame: mean similarity to each centroid over the windows covering it, and coverage."""
    total = np.zeros((n_frames, sims.shape[1]))
    count = np.zeros(n_frames)
    for (start, end), sim in zip(windows, sims, strict=True):
        a, b = round(start / FRAME), min(round(end / FRAME), n_frames)
        total[a:b] += sim
        count[a:b] += 1
    return total / np.maximum(count, 1)[:, None], count


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, label) runs of equal labels; -1 marks non-speech."""
    edges = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], edges, [len(labels)]])
    return [(int(a), int(b), int(labels[a])) for a, b in itertools.pairwise(bounds)]


def _smooth(labels: np.ndarray, min_frames: int) -> np.ndarray:
    """Absorb speaker runs shorter than ``min_frames`` into the neighbours within the same speech stretch.

    The shortest run goes first, so a real short turn survives when its neighbours are the ones that
    are noise. Runs bounded by silence on both sides are left alone: a short answer ("yes") between
    pauses is a real turn, and its label comes from its own embedding.
    """
    labels = labels.copy()
    while True:
        runs = _runs(labels)
        candidates = [
            (b - a, i)
            for i, (a, b, lab) in enumerate(runs)
            if lab >= 0
            and b - a < min_frames
            and ((i > 0 and runs[i - 1][2] >= 0) or (i + 1 < len(runs) and runs[i + 1][2] >= 0))
        ]
        if not candidates:
            return labels
        _, i = min(candidates)
        a, b, _ = runs[i]
        left = runs[i - 1] if i > 0 and runs[i - 1][2] >= 0 else None
        right = runs[i + 1] if i + 1 < len(runs) and runs[i + 1][2] >= 0 else None
        neighbour = max((r for r in (left, right) if r is not None), key=lambda r: r[1] - r[0])
        labels[a:b] = neighbour[2]


def _single_speaker(regions: Sequence[tuple[float, float]], emb: np.ndarray) -> Diarization:
    centroid = emb.mean(axis=0)
    centroid /= np.linalg.norm(centroid) + 1e-12
    turns = tuple(SpeakerTurn(round(float(s), 2), round(float(e), 2), "spk0") for s, e in regions)
    return Diarization(turns=turns, speakers=("spk0",) if turns else (), centroids=centroid[None, :])


def diarize(
    samples: np.ndarray,
    embedder: Embedder,
    *,
    num_speakers: int = 2,
    speech: Sequence[tuple[float, float]] | None = None,
    options: DiarizeOptions | None = None,
) -> Diarization:
    """Split a mono 16 kHz recording into speaker turns.

    Args:
        samples: mono float32 samples at 16 kHz.
        embedder: speaker encoder, e.g. ``models.speaker.SpeakerEmbedder``.
        num_speakers: how many voices to look for (2 for a call; 1 skips clustering).
        speech: speech regions in seconds; None finds them from the energy envelope.
        options: tuning; None uses the defaults.

    Returns:
        The turns, speakers, centroids and separation. Speakers are numbered in order of first speech.

    Raises:
        ValueError: ``samples`` is not one-dimensional or ``num_speakers`` is below 1.
    """
    opts = options or DiarizeOptions()
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"diarize: samples must be mono (1-D), got shape {x.shape}; split channels first")
    if num_speakers < 1:
        raise ValueError(f"diarize: num_speakers must be at least 1, got {num_speakers}")
    duration = len(x) / SAMPLE_RATE
    regions = [(max(0.0, s), min(duration, e)) for s, e in (speech if speech is not None else speech_regions(x))]
    regions = [(s, e) for s, e in regions if e - s >= 0.2]
    windows = _windows(regions, opts)
    if not windows:
        return Diarization(turns=(), speakers=(), centroids=np.zeros((0, 0), dtype=np.float32))
    emb = embedder.embed_windows(x, windows)
    if num_speakers == 1 or len(windows) < 2 * num_speakers:
        return _single_speaker(regions, emb)
    result = _assign(x, embedder, regions, windows, emb, _cluster(emb, num_speakers), opts)
    log.info(
        "diarised %.1f s of speech in %d windows: %d speakers, separation %.2f",
        sum(e - s for s, e in regions), len(windows), result.num_speakers, result.separation,
    )
    return result


def _assign(
    x: np.ndarray,
    embedder: Embedder,
    regions: Sequence[tuple[float, float]],
    windows: Sequence[tuple[float, float]],
    emb: np.ndarray,
    centroids: np.ndarray,
    opts: DiarizeOptions,
) -> Diarization:
    n_frames = int(np.ceil(len(x) / SAMPLE_RATE / FRAME)) + 1
    scores, coverage = _frame_scores(windows, emb @ centroids.T, n_frames)
    labels = np.where(coverage > 0, scores.argmax(axis=1), -1)
    labels = _smooth(labels, round(opts.min_turn / FRAME))
    runs = [(a * FRAME, b * FRAME, lab) for a, b, lab in _runs(labels) if lab >= 0]
    # Re-judge each run from one embedding of all its audio: longer stretches embed more reliably.
    raw = embedder.embed_windows(x, [(a, b) for a, b, _ in runs])
    sims = raw @ centroids.T
    labels_by_run = sims.argmax(axis=1)
    lengths = np.array([b - a for a, b, _ in runs])
    # Each speaker's voice as the length-weighted mean of their whole turns: steadier than the
    # window centroids, and what a voiceprint is compared with.
    voices = np.stack([_unit((raw[labels_by_run == k] * lengths[labels_by_run == k, None]).sum(axis=0))
                       for k in range(len(centroids))])
    shares = np.array([lengths[labels_by_run == k].sum() for k in range(len(centroids))]) / lengths.sum()
    cos = float(voices[0] @ voices[1]) if len(voices) == 2 else 0.0
    if shares.min() < opts.min_share or cos > opts.same_speaker_above:
        log.info("one speaker: voice similarity %.2f, smallest share %.2f", cos, shares.min())
        return _single_speaker(regions, raw)
    return _build(runs, labels_by_run, sims, voices)


def _build(
    runs: Sequence[tuple[float, float, int]], labels: np.ndarray, sims: np.ndarray, centroids: np.ndarray
) -> Diarization:
    # Number the speakers by first appearance so spk0 is whoever spoke first.
    order: list[int] = []
    for lab in labels:
        if int(lab) not in order:
            order.append(int(lab))
    names = {lab: f"spk{i}" for i, lab in enumerate(order)}
    turns: list[SpeakerTurn] = []
    for (start, end, _), lab, sim in zip(runs, labels, sims, strict=True):
        margin = float(sim[lab] - np.delete(sim, lab).max())
        name = names[int(lab)]
        if turns and turns[-1].speaker == name and start - turns[-1].end < 1e-6:
            prev = turns[-1]
            merged_margin = (prev.margin * (prev.end - prev.start) + margin * (end - start)) / (end - prev.start)
            turns[-1] = SpeakerTurn(prev.start, round(float(end), 2), name, merged_margin)
        else:
            turns.append(SpeakerTurn(round(float(start), 2), round(float(end), 2), name, margin))
    ordered = centroids[order]
    return Diarization(
        turns=tuple(turns),
        speakers=tuple(names[k] for k in order),
        centroids=ordered,
        separation=float(1.0 - ordered[0] @ ordered[1]) if len(ordered) == 2 else 0.0,
    )
