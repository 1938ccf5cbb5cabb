"""Speaker roles: which utterances are the agent's and which the customer's.

Stereo calls carry one party per channel: the agent channel is configured or judged from content.
Mono calls are diarised into two voices first; Whisper segments that span a change of speaker are
split at word level, then the agent voice is judged from content, first speaker and an enrolled
voiceprint. Every output utterance carries a role and a ``role_confidence``.

Log lines carry counts, times and scores only: never transcript text or names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from core.config import RoleSettings
from core.errors import ConfigError
from core.types import Role, RoleDecision, Utterance, Word
from pipeline import role_evidence as ev
from pipeline.diarize import Diarization, Embedder, SpeakerTurn, diarize, speech_regions

log = logging.getLogger(__name__)

_CLEAR_MARGIN = 0.3  # a turn this much closer to its own voice than to the other is unambiguous
_WORD_PAD = 0.5  # seconds around a recognised word that still count as its speech


class ChannelLike(Protocol):
    """One channel's transcript (``pipeline.transcribe.ChannelTranscript`` is one)."""

    @property
    def channel(self) -> int: ...

    @property
    def utterances(self) -> tuple[Utterance, ...]: ...


class VoiceEmbedder(Embedder, Protocol):
    """A speaker encoder that can also make an enrolment voiceprint (``models.speaker.SpeakerEmbedder``)."""

    def voiceprint(self, recordings: Sequence[np.ndarray]) -> np.ndarray: ...


def label_stereo(
    channels: Sequence[ChannelLike], settings: RoleSettings, company_names: Sequence[str] = ()
) -> tuple[tuple[Utterance, ...], RoleDecision]:
    """Label a call recorded with one party per channel.

    Args:
        channels: per-channel transcripts (two for a normal stereo call).
        settings: ``agent_channel`` fixes the agent channel; None judges it from content.
        company_names: the call centre's names; a speaker who says one (above all in the greeting) is
            likely the agent.

    Returns:
        All utterances sorted by start, with speaker ``ch<N>``, role and role confidence; the decision.

    Raises:
        ConfigError: ``agent_channel`` names a channel the call does not have.
    """
    utts = [replace(u, speaker=f"ch{c.channel}", channel=c.channel) for c in channels for u in c.utterances]
    utts.sort(key=lambda u: (u.start, u.channel))
    evidence = ev.gather(_without_echoes(utts), company_names)
    judged = ev.decide(evidence, settings.uncertain_below)
    if settings.agent_channel is not None:
        decision = _configured(settings.agent_channel, [c.channel for c in channels], judged)
    else:
        decision = judged
    if decision.agent_speaker is None or (len(evidence) < 2 and settings.agent_channel is None):
        # One party heard, or nobody looks like the agent: each utterance by its own words.
        out = _by_own_content(utts, decision, company_names)
    else:
        out = tuple(replace(u, role=ev.role_for(u, decision), role_confidence=decision.confidence) for u in utts)
    log.info(
        "stereo roles: %d utterances on %d channels, agent %s by %s, confidence %.2f",
        len(out), len(channels), decision.agent_speaker, decision.method, decision.confidence,
    )
    return out, decision


def _without_echoes(utts: Sequence[Utterance]) -> list[Utterance]:
    """Drop, for the evidence only, speech that leaked into the other channel.

    When a line echoes or the channels bleed, the recogniser can transcribe one party's greeting on
    both channels; the copy heard through the other channel is recognised less confidently. An
    utterance that overlaps a same-text utterance on another channel by half its length and has the
    lower recogniser confidence is treated as the echo.
    """
    kept = []
    for u in utts:
        text = ev.normalise(u.text)
        echo = any(
            o.channel != u.channel
            and min(u.end, o.end) - max(u.start, o.start) >= 0.5 * (u.end - u.start)
            and o.confidence > u.confidence
            and ev.same_text(text, ev.normalise(o.text))
            for o in utts
            if o.start < u.end and o.end > u.start
        )
        if not echo:
            kept.append(u)
    return kept


def _configured(agent_channel: int, present: Sequence[int], judged: RoleDecision) -> RoleDecision:
    if agent_channel not in present:
        raise ConfigError(
            f"roles.agent_channel = {agent_channel}, but this call has channels {sorted(present)}; "
            "set it to one of them or remove it to judge from content"
        )
    agent = f"ch{agent_channel}"
    reasons = [f"roles.agent_channel = {agent_channel}"]
    if judged.agent_speaker not in (None, agent) and judged.confidence >= 0.95:
        # The setting is still obeyed, but a call whose content clearly says otherwise is flagged:
        # a wrong channel setting would silently swap every role in the deployment.
        reasons.append(f"content says the agent is {judged.agent_speaker} ({judged.confidence:.2f})")
        return RoleDecision("configured", agent, 0.5, True, (*reasons, *judged.reasons))
    return RoleDecision("configured", agent, 1.0, False, tuple(reasons))


def _by_own_content(
    utts: Sequence[Utterance], decision: RoleDecision, company_names: Sequence[str]
) -> tuple[Utterance, ...]:
    """Roles from each utterance's own words, for calls where no speaker could be called the agent."""
    out = []
    for u in utts:
        score = ev.utterance_score(u, company_names)
        # An utterance that says nothing telling goes with the call-level guess for its speaker.
        role = Role.AGENT if score > 0 else Role.CUSTOMER if score < 0 else ev.role_for(u, decision)
        # Half of the usual scale at most: these are guesses and must read as such.
        conf = 0.5 * ev.sigmoid(abs(score)) if score else 0.25
        out.append(replace(u, role=role, role_confidence=round(conf, 3)))
    return tuple(out)


def label_mono(
    transcript: ChannelLike | Sequence[Utterance],
    samples16k: np.ndarray,
    embedder: Embedder,
    settings: RoleSettings,
    company_names: Sequence[str] = (),
    voiceprint: np.ndarray | None = None,
    *,
    diarization: Diarization | None = None,
) -> tuple[tuple[Utterance, ...], RoleDecision]:
    """Label a call with both parties on one channel.

    Args:
        transcript: the channel's transcript, or its utterances (with word timestamps where possible:
            they let a segment that spans a change of speaker be split).
        samples16k: the channel's mono float32 samples at 16 kHz.
        embedder: speaker encoder for diarisation and the voiceprint comparison.
        settings: ``uncertain_below`` and ``voiceprint_threshold``.
        company_names: the call centre's names, evidence for the agent.
        voiceprint: the enrolled agent's voiceprint (from :func:`enroll`), if known.
        diarization: a diarisation already made for these samples (skips running it again).

    Returns:
        Utterances sorted by start, each by one speaker (``spk0``/``spk1``) with role and role
        confidence; the decision.
    """
    utterances = transcript if isinstance(transcript, Sequence) else transcript.utterances
    if diarization is not None:
        d = diarization
    else:
        speech = speech_near_words(speech_regions(samples16k), utterances)
        d = diarize(samples16k, embedder, num_speakers=2, speech=speech)
    split = split_by_turns(utterances, d.turns)
    utts = [u for u, _ in split]
    sims = _voiceprint_similarity(d, voiceprint)
    decision = ev.decide(
        ev.gather(utts, company_names),
        settings.uncertain_below,
        voiceprint_similarity=sims,
        voiceprint_threshold=settings.voiceprint_threshold,
    )
    if d.num_speakers < 2:
        out = _by_own_content(utts, decision, company_names)
    else:
        out = tuple(
            replace(u, role=ev.role_for(u, decision), role_confidence=_combine(decision.confidence, clarity))
            for u, clarity in split
        )
    log.info(
        "mono roles: %d utterances (%d before splitting), %d speakers, separation %.2f, agent %s by %s, "
        "confidence %.2f",
        len(out), len(utterances), d.num_speakers, d.separation, decision.agent_speaker, decision.method,
        decision.confidence,
    )
    return out, decision


def speech_near_words(
    regions: Sequence[tuple[float, float]], utterances: Sequence[Utterance], pad: float = _WORD_PAD
) -> list[tuple[float, float]]:
    """The parts of the speech regions near recognised words.

    Hold music, ring tones and line noise pass an energy detector but not the recogniser; left in, a
    long hold becomes a "speaker" of its own and the two real parties are merged into the other
    cluster. Word times drift by a few hundred milliseconds, hence the padding.
    """
    spans = sorted((max(0.0, w.start - pad), w.end + pad) for u in utterances for w in (u.words or (u,)))
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = []
    for ra, rb in regions:
        for wa, wb in merged:
            a, b = max(ra, wa), min(rb, wb)
            if b - a >= 0.2:
                out.append((a, b))
    return sorted(out)


def _combine(call_confidence: float, clarity: float) -> float:
    """Probability the utterance's role is right: the call-level choice and the cluster are both right,
    or both wrong (a wrong cluster under a wrong agent choice lands on the right role)."""
    p = 0.5 + 0.5 * min(1.0, max(0.0, clarity / _CLEAR_MARGIN))
    return round(call_confidence * p + (1 - call_confidence) * (1 - p), 3)


def _voiceprint_similarity(d: Diarization, voiceprint: np.ndarray | None) -> dict[str, float] | None:
    if voiceprint is None or d.num_speakers == 0:
        return None
    vp = np.asarray(voiceprint, dtype=np.float32).ravel()
    if vp.shape[0] != d.centroids.shape[1]:
        raise ValueError(
            f"voiceprint has {vp.shape[0]} dimensions but the speaker model makes {d.centroids.shape[1]}: "
            "it was enrolled with another model; enrol the agent again"
        )
    vp = vp / (np.linalg.norm(vp) + 1e-12)
    return {s: float(c @ vp) for s, c in zip(d.speakers, d.centroids, strict=True)}


def _turn_of(word: Word, turns: Sequence[SpeakerTurn]) -> tuple[SpeakerTurn, float]:
    """The turn a word overlaps most, else the nearest one (overlap 0): words the speech detector
    missed, quiet or clipped ones, still belong to someone."""
    best, best_overlap = None, 0.0
    for t in turns:
        overlap = min(word.end, t.end) - max(word.start, t.start)
        if overlap > best_overlap:
            best, best_overlap = t, overlap
    if best is not None:
        return best, best_overlap
    mid = (word.start + word.end) / 2
    return min(turns, key=lambda t: max(t.start - mid, mid - t.end)), 0.0


def split_by_turns(
    utterances: Sequence[Utterance], turns: Sequence[SpeakerTurn]
) -> list[tuple[Utterance, float]]:
    """Give every utterance a single speaker, splitting those that span a change of speaker.

    Each word goes to the speaker turn it overlaps most (or the nearest turn, for words the speech
    detector missed); runs of words by one speaker become one utterance. An utterance without word
    timestamps goes whole to the speaker it overlaps most.

    Returns:
        (utterance, clarity) pairs sorted by start; clarity is the diarisation margin of the turns
        the utterance came from (0 when it could only be placed by proximity or no turn was found).
    """
    out: list[tuple[Utterance, float]] = []
    for u in utterances:
        words = u.words or (Word(u.start, u.end, u.text, u.confidence),)
        # No speech found at all: everything is one speaker, placed by proximity only.
        candidates = turns or (SpeakerTurn(u.start, u.end, "spk0"),)
        placed = _fill_unplaced([(w, *_turn_of(w, candidates)) for w in words])
        runs: list[list[tuple[Word, SpeakerTurn, float]]] = []
        for item in placed:
            if runs and runs[-1][0][1].speaker == item[1].speaker:
                runs[-1].append(item)
            else:
                runs.append([item])
        runs = _absorb_single_words(runs)
        for run in runs:
            out.append(_make_utterance(u, run, whole=len(runs) == 1))
    out.sort(key=lambda pair: pair[0].start)
    return out


def _fill_unplaced(
    placed: list[tuple[Word, SpeakerTurn, float]],
) -> list[tuple[Word, SpeakerTurn, float]]:
    """Words that overlap no turn (the speech detector missed them, or Whisper's timing drifted) stay
    with the previous overlapping word of the same utterance, else the next one: splitting an
    utterance needs positive evidence. Only an utterance with no overlapping word at all is placed
    by proximity."""
    anchors = [i for i, (_, _, overlap) in enumerate(placed) if overlap > 0]
    if not anchors:
        return placed
    out = []
    for i, (w, t, overlap) in enumerate(placed):
        if overlap > 0:
            out.append((w, t, overlap))
            continue
        before = [j for j in anchors if j < i]
        j = before[-1] if before else anchors[0]
        out.append((w, placed[j][1], 0.0))
    return out


def _absorb_single_words(
    runs: list[list[tuple[Word, SpeakerTurn, float]]],
) -> list[list[tuple[Word, SpeakerTurn, float]]]:
    """A lone word of another speaker between two runs of the same one, which hardly overlaps that
    speaker's turn, is a word-timestamp error at a boundary, not a turn: give it to its neighbours."""
    i = 1
    while i < len(runs) - 1:
        left, mid, right = runs[i - 1], runs[i], runs[i + 1]
        same_sides = left[0][1].speaker == right[0][1].speaker
        word, turn, overlap = mid[0]
        # Whisper stretches a word over the pause before it, so a real one-word answer ("Yes.") may
        # overlap its short turn by less than half the word: the turn's length counts too.
        lone = len(mid) == 1 and overlap < 0.5 * min(word.end - word.start, turn.end - turn.start)
        if same_sides and lone:
            runs[i - 1] = [*left, (mid[0][0], left[0][1], 0.0), *right]
            del runs[i : i + 2]
        else:
            i += 1
    return runs


def _make_utterance(
    u: Utterance, run: Sequence[tuple[Word, SpeakerTurn, float]], *, whole: bool
) -> tuple[Utterance, float]:
    words = tuple(w for w, _, _ in run) if u.words else ()
    speaker = run[0][1].speaker
    placed = [(w, t) for w, t, overlap in run if overlap > 0]
    duration = sum(w.end - w.start for w, _ in placed)
    clarity = sum(t.margin * (w.end - w.start) for w, t in placed) / duration if duration > 0 else 0.0
    if whole:
        return replace(u, speaker=speaker), clarity
    text = "".join(w.text for w in words).strip()
    confidence = float(np.mean([w.probability for w in words])) if words else u.confidence
    part = replace(u, start=words[0].start, end=words[-1].end, text=text, speaker=speaker, words=words,
                   confidence=round(confidence, 3))
    return part, clarity


def enroll(files_samples: Sequence[np.ndarray], embedder: VoiceEmbedder) -> np.ndarray:
    """Make an agent's voiceprint from recordings of that agent alone.

    Contract: each array is mono float32 at 16 kHz holding only the agent's voice (e.g. the agent
    channel of stereo calls, or a read passage); pauses are fine, another voice is not. Ten seconds or
    more of speech in total give a stable print. The result is an L2-normalised float32 vector of the
    embedder's dimension (256 for the packaged model); store it with ``embedder.info.sha256``, because
    a print only compares with embeddings of the same model.

    Raises:
        ValueError: no recordings, an array is not 1-D, or there is too little voiced audio.
    """
    if not files_samples:
        raise ValueError("enroll: no recordings given; pass at least one recording of the agent")
    for i, samples in enumerate(files_samples):
        if np.asarray(samples).ndim != 1:
            raise ValueError(f"enroll: recording {i} has shape {np.asarray(samples).shape}; pass mono samples")
    vp = embedder.voiceprint([np.asarray(s, dtype=np.float32) for s in files_samples])
    log.info("enrolled a voiceprint from %d recordings", len(files_samples))
    return vp
