"""Shared test fixtures: sample data, one Whisper recogniser per session, the real call's transcript, and
synthetic telephone calls built from the real clips.

Whisper fixtures are session-scoped so that the model loads once and the 4½-minute real call is
transcribed once for the whole suite (``real_call_transcript``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream

from core.config import TranscriptionSettings
from pipeline import audio
from pipeline.transcribe import ChannelTranscript, transcribe_audio

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CLIPS = DATA / "clips"
REAL_CALL = DATA / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
TELEPHONE_BAND_HZ = (300.0, 3400.0)


def clip_references() -> dict[str, str]:
    """Published reference transcripts by clip file name (``data/SOURCES.csv``); clips without one are absent."""
    with open(DATA / "SOURCES.csv", encoding="utf-8", newline="") as f:
        return {Path(row["path"]).name: row["reference_text"] for row in csv.DictReader(f) if row["reference_text"]}


STEREO_REFERENCES = (
    "He began a confused complaint against the wizard who had vanished behind the curtain on the left.",
    "The horizon seems extremely distant.",
)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One Prefect API server for the flow runs of the session, as a site with a Prefect server has one.

    Each ``callqa run`` started by a test otherwise starts and stops a temporary server of its own (about
    8 s of the run and 10 s of CPU); the demo test still takes that default path (it drops the variable).
    Sets ``PREFECT_API_URL`` for this process and the commands the tests start.
    """
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=120)
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield server.api_url
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
        server.stop()


@pytest.fixture(scope="session")
def recognizer() -> object:
    """The packaged multilingual Whisper base (int8, 2 threads), loaded once per test session."""
    from models.whisper import Recognizer, packaged_model_dir

    return Recognizer(packaged_model_dir(), compute_type="int8", cpu_threads=2, num_workers=1)


@pytest.fixture(scope="session")
def real_call_transcript(recognizer: object) -> tuple[ChannelTranscript, ...]:
    """The real 8 kHz call (``data/calls``) transcribed in English with default settings, once per session."""
    decoded = audio.decode(REAL_CALL)
    return transcribe_audio(recognizer, decoded, language="en", settings=TranscriptionSettings())  # type: ignore[arg-type]


# --- synthetic telephone calls ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Turn:
    """One clip placed in a synthetic call: who says it and when (seconds)."""

    clip: str
    party: int
    start: float
    end: float
    source_channel: int = 0


@dataclass(frozen=True)
class TelephoneCall:
    """A synthetic call written to ``path`` (8 kHz μ-law WAV) and where each clip is in it."""

    path: Path
    turns: tuple[Turn, ...]
    stereo: bool
    quiet_db: float


def band_limit(x: np.ndarray, band: tuple[float, float] = TELEPHONE_BAND_HZ) -> np.ndarray:
    """``x`` (16 kHz) with everything outside the telephone band removed."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / audio.SAMPLE_RATE)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0
    return np.fft.irfft(spectrum, len(x)).astype(np.float32)


def write_wav(path: Path, channels: Sequence[np.ndarray], *, codec: str = "pcm_mulaw", rate: int = 8000,
              container: str = "wav") -> Path:
    """Write 16 kHz float channels to ``path`` with PyAV, resampled to ``rate`` and encoded with ``codec``."""
    layout = "stereo" if len(channels) == 2 else "mono"
    data = np.ascontiguousarray(np.stack([np.asarray(c, dtype=np.float32) for c in channels]))
    with av.open(str(path), "w", format=container) as out:
        stream = cast(AudioStream, out.add_stream(codec, rate=rate, layout=layout))
        fmt = (stream.codec_context.codec.audio_formats or [av.AudioFormat("s16")])[0].name
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=layout)
        frame.rate = audio.SAMPLE_RATE
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(f))
        out.mux(stream.encode(None))
    return path


def make_telephone_call(path: Path, turns: Sequence[tuple[str, int] | tuple[str, int, int]], *, quiet_db: float,
                        stereo: bool = False, gap_s: float = 1.5, noise_dbfs: float = -65.0,
                        crosstalk_db: float | None = None, seed: int = 0) -> TelephoneCall:
    """Build a call from real clips: telephone band, 8 kHz μ-law, party 1 ``quiet_db`` quieter than party 0.

    Args:
        turns: (clip file name, party 0 or 1[, channel of the clip to use]) in speaking order.
        quiet_db: how much quieter party 1 is (each clip is first brought to the same speech level).
        stereo: one party per channel; otherwise both on one channel, as on most recorded calls.
        gap_s: silence between turns.
        noise_dbfs: a line-noise floor under everything.
        crosstalk_db: in stereo, each party also leaks into the other channel this many dB down.
    """
    rng = np.random.default_rng(seed)
    placed: list[tuple[Turn, np.ndarray]] = []
    t = 1.0
    for spec in turns:
        name, party = spec[0], spec[1]
        channel = spec[2] if len(spec) > 2 else 0
        x = band_limit(audio.decode(CLIPS / name).channels[channel])
        speech = np.concatenate([x[int(a * 16000): int(b * 16000)] for a, b in audio.energetic_regions(x)])
        x = x * (0.05 / np.sqrt(np.mean(speech**2))) * 10 ** (-quiet_db / 20 if party else 0.0)
        placed.append((Turn(name, party, t, t + len(x) / audio.SAMPLE_RATE, channel), x))
        t += len(x) / audio.SAMPLE_RATE + gap_s
    n = int((t + 0.5) * audio.SAMPLE_RATE)
    parties = [np.zeros(n, np.float32), np.zeros(n, np.float32)]
    for turn, x in placed:
        i = int(turn.start * audio.SAMPLE_RATE)
        parties[turn.party][i: i + len(x)] += x
    if stereo:
        leak = 10 ** (-crosstalk_db / 20) if crosstalk_db is not None else 0.0
        channels = [parties[0] + leak * parties[1], parties[1] + leak * parties[0]]
    else:
        channels = [parties[0] + parties[1]]
    channels = [c + (rng.standard_normal(n) * 10 ** (noise_dbfs / 20)).astype(np.float32) for c in channels]
    write_wav(path, channels)
    return TelephoneCall(path, tuple(t for t, _ in placed), stereo, quiet_db)
