"""Acoustic arousal (pipeline/acoustics.py) on real speech: raised voices score higher, baselines are per speaker."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import librosa
import numpy as np
import pytest

from core.types import Role, Transcript, Utterance, Word
from pipeline.acoustics import (
    ANALYSIS_RATE,
    AcousticOptions,
    VoiceFeatures,
    arousal_scores,
    call_arousal,
    speaker_key,
    voice_features,
)
from pipeline.audio import SAMPLE_RATE, decode

ROOT = Path(__file__).resolve().parents[2]
CLIPS = ROOT / "data" / "clips"
CALL = ROOT / "data" / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
TESTDATA = Path(__file__).resolve().parents[1] / "data"
CLIP_NAMES = {
    "jfk.flac": "en",
    "librispeech_1995-1837-0001.wav": "en",
    "aishell_BAC009S0724W0121.wav": "zh",
    "funasr_asr_example.wav": "zh",
    "paddle_test.wav": "zh",
    "wenet_long.wav": "zh",
}


def raise_voice(samples: np.ndarray) -> np.ndarray:
    """What ``sox in.wav out.wav gain 6 pitch 300`` does: +6 dB and three semitones up (clipped like sox)."""
    shifted = librosa.effects.pitch_shift(samples.astype(np.float32) * 2.0, sr=SAMPLE_RATE, n_steps=3.0)
    return np.clip(shifted, -1.0, 1.0).astype(np.float32)


def telephone(samples: np.ndarray) -> np.ndarray:
    """Through an 8 kHz line and back to 16 kHz."""
    down = librosa.resample(samples, orig_sr=SAMPLE_RATE, target_sr=8000)
    return librosa.resample(down, orig_sr=8000, target_sr=SAMPLE_RATE).astype(np.float32)


def one_speaker_call(pieces: list[np.ndarray]) -> tuple[Transcript, np.ndarray]:
    """The pieces one after another on one channel, each an utterance of the same customer."""
    utts, t = [], 0.0
    for p in pieces:
        d = len(p) / SAMPLE_RATE
        utts.append(Utterance(t, t + d, "words here", role=Role.CUSTOMER))
        t += d
    return Transcript(tuple(utts), t, "en"), np.concatenate(pieces)


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    return {name: decode(CLIPS / name).channels[0] for name in CLIP_NAMES}


@pytest.mark.parametrize("name", list(CLIP_NAMES))
def test_raised_voice_scores_higher_than_the_original(clips: dict[str, np.ndarray], name: str) -> None:
    """Acceptance: each quarter of a clip, raised in level and pitch, is more aroused than the same quarter as
    spoken, measured against that speaker's baseline (the clip's four quarters plus the raised one)."""
    y = clips[name]
    quarter = len(y) // 4
    pieces = [y[i * quarter:(i + 1) * quarter] for i in range(4)]
    for line in (lambda s: s, telephone):
        for k in range(4):
            transcript, channel = one_speaker_call([line(p) for p in pieces] + [line(raise_voice(pieces[k]))])
            scores = call_arousal(transcript, (channel,))
            original, raised = scores[k], scores[4]
            assert original is not None and raised is not None
            assert raised.score > original.score, (name, k, original, raised)
            z = dict(raised.z)
            assert z["pitch"] > dict(original.z)["pitch"], (name, k)


def real_call() -> Transcript:
    """The real mono call: Whisper's words grouped by the hand-labelled speaker turns (tests/data)."""
    whisper = json.loads((TESTDATA / "real_call_whisper.json").read_text())
    labels = json.loads((TESTDATA / "real_call_roles.json").read_text())
    words = [Word(s, e, t, p) for seg in whisper["segments"] for s, e, t, p in seg["words"]]
    utts = []
    for lab in labels:
        mine = tuple(w for w in words if lab["start"] - 0.01 <= (w.start + w.end) / 2 <= lab["end"] + 0.01)
        utts.append(Utterance(lab["start"], lab["end"], "".join(w.text for w in mine).strip(),
                              role=Role(lab["role"]), speaker=lab["role"], words=mine))
    return Transcript(tuple(utts), duration=whisper["duration"], language="en", channels=1)


@pytest.fixture(scope="module")
def call() -> tuple[Transcript, np.ndarray]:
    return real_call(), decode(CALL).channels[0]


def _with_raised(channel: np.ndarray, u: Utterance) -> np.ndarray:
    out = channel.copy()
    a, b = int(u.start * SAMPLE_RATE), int(u.end * SAMPLE_RATE)
    out[a:b] = raise_voice(channel[a:b])[: b - a]
    return out


def test_real_call_raised_utterances_score_higher_and_baselines_are_per_role(
        call: tuple[Transcript, np.ndarray]) -> None:
    transcript, channel = call
    before = call_arousal(transcript, (channel,))
    measured = sum(a is not None for a in before)
    assert measured >= 40, measured  # a handful of one-word utterances may be too short to measure
    for role in (Role.CUSTOMER, Role.AGENT):
        mine = [i for i, u in enumerate(transcript.utterances) if u.role is role and before[i] is not None
                and u.end - u.start >= 1.5]
        for i in mine[1:4]:
            after = call_arousal(transcript, (_with_raised(channel, transcript.utterances[i]),))
            raised, original = after[i], before[i]
            assert raised is not None and original is not None
            assert raised.score > original.score + 0.3, (role, i, original, raised)
            # The other party's baseline does not see this party's voice: its scores are untouched.
            others = [j for j, u in enumerate(transcript.utterances) if u.role is not role]
            assert [after[j] for j in others] == [before[j] for j in others]


def test_a_quieter_line_changes_nothing(call: tuple[Transcript, np.ndarray]) -> None:
    """Scores are relative to the speaker's own median, so the line's level cancels out."""
    transcript, channel = call
    part = Transcript(transcript.utterances[:12], 70.0, "en")
    loud = call_arousal(part, (channel,))
    quiet = call_arousal(part, (channel * 0.25,))
    for a, b in zip(loud, quiet, strict=True):
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert abs(a.score - b.score) < 0.05, (a, b)


def test_call_arousal_is_fast(call: tuple[Transcript, np.ndarray]) -> None:
    transcript, channel = call
    call_arousal(transcript, (channel,))  # librosa's first use loads its resampler and caches
    began = time.perf_counter()
    call_arousal(transcript, (channel,))
    took = time.perf_counter() - began
    assert took < 2.0, f"{took:.2f} s for a 4.6-minute call"  # ≈ 0.3 s on an idle 2-core machine


def features(energy: float, pitch: float | None = 0.0) -> VoiceFeatures:
    return VoiceFeatures(energy, pitch, 5.0 if pitch is not None else None, 1.0, -10.0, 1.0)


def test_z_scores_against_the_speakers_median_exactly() -> None:
    feats = [features(-30.0), features(-30.0), features(-30.0), features(-24.0, pitch=3.0)]
    out = arousal_scores(feats, ["a"] * 4)
    # Median energy -30 dB, MAD 0 → floor 2 dB: z = 6 / 2 = 3; pitch: 3 st / floor 1 st = 3; others 0.
    w = AcousticOptions().weights
    assert out[3] is not None and out[3].score == pytest.approx((3 * w[0] + 3 * w[1]) / sum(w))
    assert dict(out[3].z) == {"energy": 3.0, "pitch": 3.0, "pitch_range": 0.0, "rate": 0.0, "tilt": 0.0}
    assert out[3].cues() == ("voice:louder", "voice:higher pitch")
    assert all(a is not None and a.score == 0.0 for a in out[:3])


def test_a_speaker_needs_a_baseline_and_speakers_do_not_mix() -> None:
    feats = [features(-30.0), features(-10.0), features(-31.0), features(-29.0), features(-30.0)]
    out = arousal_scores(feats, ["a", "b", "a", "a", "b"])
    assert out[1] is None and out[4] is None  # speaker b has two utterances: no baseline
    assert [round(a.score, 6) for a in out if a is not None] == [0.0, round(-0.5 * 0.3, 6), round(0.5 * 0.3, 6)]
    missing_pitch = arousal_scores([features(-30.0, None)] * 3 + [features(-24.0, None)], ["a"] * 4)
    assert missing_pitch[3] is not None and "pitch" not in dict(missing_pitch[3].z)


def test_silence_and_scraps_have_no_features() -> None:
    assert voice_features(np.zeros(ANALYSIS_RATE), 3, 1.0) is None
    assert voice_features(np.ones(100) * 0.1, 1, 0.01) is None


def test_speaker_key_is_role_on_mono_and_speaker_when_unknown() -> None:
    assert speaker_key(Utterance(0, 1, "x", role=Role.AGENT, speaker="spk1", channel=0)) == (0, "agent")
    assert speaker_key(Utterance(0, 1, "x", role=Role.UNKNOWN, speaker="spk1", channel=0)) == (0, "spk1")


def test_a_channel_the_audio_lacks_is_named() -> None:
    t = Transcript((Utterance(0.0, 1.0, "hello", channel=1),), 1.0, "en", channels=2)
    with pytest.raises(ValueError, match=r"utterances\[0\]: channel 1 is not in the audio"):
        call_arousal(t, (np.zeros(SAMPLE_RATE, dtype=np.float32),))


def test_word_span_not_padding_is_measured(call: tuple[Transcript, np.ndarray]) -> None:
    """Utterance bounds carry VAD padding; the rate and the audio use the words' span."""
    transcript, channel = call
    u = next(u for u in transcript.utterances if u.words and u.role is Role.CUSTOMER)
    padded = dataclasses.replace(u, start=max(0.0, u.start - 2.0), end=u.end + 2.0)
    t1 = Transcript((u,) * 3, transcript.duration, "en")
    t2 = Transcript((padded,) * 3, transcript.duration, "en")
    assert call_arousal(t1, (channel,)) == call_arousal(t2, (channel,))
