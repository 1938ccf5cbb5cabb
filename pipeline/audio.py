"""Decode recordings into 16 kHz float32 channels, and find where they are loud enough to be speech.

Everything goes through PyAV (ffmpeg): WAV (PCM, 8-bit, μ-law, A-law, GSM …), FLAC, MP3, Ogg/Vorbis/Opus,
M4A/AAC and whatever else ffmpeg reads. Channels stay separate because a stereo call centre recording
carries one party per channel. A file that cannot be used raises :class:`core.errors.AudioError` with
a one-line reason that names the file and says what to do.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from core.errors import AudioError
from core.types import AudioInfo, Span
from models.asr import SAMPLE_RATE

log = logging.getLogger(__name__)

SILENCE_DBFS = -60.0  # a recording whose every channel stays below this peak level is silent
_TRUNCATION_SLACK_S = 0.5  # decoded audio may fall this far (or 5 %) short of the header's duration
_MAX_BAD_PACKETS = 0.01  # undecodable packets tolerated in the middle of a stream (dropouts)


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """A recording decoded to ``SAMPLE_RATE`` float32 samples in [-1, 1], one read-only array per channel.

    Attributes:
        channels: one array per channel of the file, in the file's channel order.
        info: what the file was before resampling (codec, container, rate, channels, duration).
        path: the file it came from.
    """

    channels: tuple[np.ndarray, ...]
    info: AudioInfo
    path: str = ""

    @property
    def duration(self) -> float:
        """Seconds of audio after resampling (equal to ``info.duration`` within a sample)."""
        return len(self.channels[0]) / SAMPLE_RATE if self.channels else 0.0


def _fail(path: Path, reason: str) -> AudioError:
    return AudioError(f"{path.name}: {reason}")


def _open(path: Path) -> av.container.InputContainer:
    """Open ``path`` with ffmpeg, turning every way that can fail into a reason a person can act on."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise _fail(path, "file not found (moved, deleted, or a broken link); check the path") from None
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror}); check the disk and the file's permissions") from None
    if path.is_dir():
        raise _fail(path, "is a directory, not a recording")
    if size == 0:
        raise _fail(path, "empty file (0 bytes): the recording was not written; export it again")
    try:
        with open(path, "rb"):
            pass  # an explicit read check: ffmpeg's own message for this is vague
        return av.open(str(path), mode="r")
    except PermissionError:
        raise _fail(path, "cannot be read: permission denied; give the callqa user read access") from None
    except av.error.InvalidDataError:
        raise _fail(path, f"not a readable audio file ({size:,} bytes that ffmpeg does not recognise): it is "
                    "damaged, cut short, or not a recording") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise _fail(path, f"cannot be opened as audio ({getattr(exc, 'strerror', None) or exc})") from None


def _audio_stream(path: Path, container: av.container.InputContainer) -> av.audio.stream.AudioStream:
    if not container.streams.audio:
        raise _fail(path, "contains no audio stream (video or data only)")
    stream = container.streams.audio[0]
    if stream.codec_context is None:
        raise _fail(path, f"uses an audio codec ffmpeg cannot decode (in a {container.format.name} file): "
                    "convert it to WAV or FLAC")
    return stream


def _header_duration(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _container_name(path: Path, container: av.container.InputContainer) -> str:
    # ffmpeg names some demuxers by family ("mov,mp4,m4a,3gp,3g2,mj2"): report the member the file is.
    names = container.format.name.split(",")
    ext = path.suffix.lower().lstrip(".")
    return ext if ext in names else names[0]


def _info(path: Path, container: av.container.InputContainer, stream: av.audio.stream.AudioStream,
          duration: float) -> AudioInfo:
    return AudioInfo(codec=stream.codec_context.name, container=_container_name(path, container),
                     sample_rate=int(stream.rate), channels=int(stream.channels), duration=duration)


def probe(path: str | Path) -> AudioInfo:
    """Read a recording's header without decoding it (``duration`` as the header states, 0 if unknown).

    Raises:
        AudioError: the file is missing, unreadable, empty, not audio or in an unknown codec.
    """
    p = Path(path)
    with _open(p) as container:
        stream = _audio_stream(p, container)
        return _info(p, container, stream, _header_duration(container, stream) or 0.0)


def probe_duration(path: str | Path) -> float:
    """The header duration in seconds, or 0.0 when the file cannot be probed (only for progress estimates)."""
    try:
        return probe(path).duration
    except AudioError:
        return 0.0


def decode(path: str | Path, *, max_duration_s: float | None = 3 * 3600.0,
           min_duration_s: float = 0.2) -> DecodedAudio:
    """Decode a recording into separate 16 kHz float32 channels.

    Args:
        path: the recording.
        max_duration_s: longer recordings are rejected, from the header before decoding where it states
            a duration; None for no limit.
        min_duration_s: shorter recordings are rejected.

    Returns:
        The decoded channels and what the file was before resampling.

    Raises:
        AudioError: the file is missing, unreadable, empty, not audio, in an unknown codec, truncated or
            damaged, longer than ``max_duration_s``, shorter than ``min_duration_s``, or silent.
    """
    p = Path(path)
    with _open(p) as container:
        stream = _audio_stream(p, container)
        header = _header_duration(container, stream)
        limit = max_duration_s if max_duration_s is not None else math.inf
        if header is not None and header > limit:
            raise _too_long(p, limit, f"{header:,.0f} s by its header")
        channels, n_in = _decode_stream(p, container, stream, limit)
        duration = n_in / stream.rate
        info = _info(p, container, stream, duration)
    if header is not None and header - duration > max(_TRUNCATION_SLACK_S, 0.05 * header):
        raise _fail(p, f"truncated: its header says {header:.1f} s but only {duration:.1f} s could be decoded "
                    "(an incomplete copy?); copy or export it again")
    if duration < min_duration_s:
        raise _fail(p, f"too short: {duration:.2f} s of audio (the minimum is {min_duration_s:g} s)")
    peak = max(float(np.max(np.abs(c - c.mean()))) if len(c) else 0.0 for c in channels)
    if peak <= 10 ** (SILENCE_DBFS / 20):
        level = f"{20 * math.log10(peak):.0f} dBFS" if peak > 0 else "digital silence"
        raise _fail(p, f"silent: no channel rises above {SILENCE_DBFS:.0f} dBFS (peak {level}); check that the "
                    "recorder captured the line")
    return DecodedAudio(channels=channels, info=info, path=str(p))


def _too_long(path: Path, limit: float, found: str) -> AudioError:
    return _fail(path, f"longer than the maximum of {limit:,.0f} s ({found}): split the recording or raise "
                 "ingest.max_duration_s")


def _without_padding(stream: av.audio.stream.AudioStream, n_in: int, last_frame: int) -> int:
    """Decoded samples less the encoder's padding of the last frame (AAC, Vorbis …) that the header excludes.

    Only an excess smaller than one frame is padding; a bigger difference means the header's duration is
    an estimate (MP3 without a Xing header), and then every decoded sample is kept.
    """
    if stream.duration is None or stream.time_base is None:
        return n_in
    declared = round(stream.duration * stream.time_base * stream.rate)
    return declared if 0 < n_in - declared < last_frame else n_in


def _decode_stream(path: Path, container: av.container.InputContainer, stream: av.audio.stream.AudioStream,
                   limit: float) -> tuple[tuple[np.ndarray, ...], int]:
    """Decode and resample every packet; returns read-only channels and the count of input samples."""
    resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=SAMPLE_RATE)
    parts: list[np.ndarray] = []
    n_in = packets = bad = last_frame = 0
    last_corrupt = False
    for packet in container.demux(stream):
        flush = packet.size == 0  # the empty packet at the end drains the decoder's delayed frames
        if not flush:
            packets += 1
            last_corrupt = bool(packet.is_corrupt)
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            bad += 0 if flush else 1  # a dropout in the middle: skip it like a player would, unless many
            continue
        for frame in frames:
            n_in += frame.samples
            last_frame = frame.samples
            parts.extend(f.to_ndarray() for f in resampler.resample(frame))
        if n_in / stream.rate > limit:
            raise _too_long(path, limit, f"more than {limit:,.0f} s decoded")
    parts.extend(f.to_ndarray() for f in resampler.resample(None))
    if last_corrupt:
        raise _fail(path, f"truncated: the file ends in the middle of its audio data after "
                    f"{n_in / stream.rate:.1f} s (an incomplete copy?); copy or export it again")
    if packets and bad > max(1, _MAX_BAD_PACKETS * packets):
        raise _fail(path, f"damaged: {bad} of {packets} audio packets cannot be decoded; export it again")
    if bad:
        log.warning("%s: skipped %d undecodable packet(s) of %d", path.name, bad, packets)
    n_in = _without_padding(stream, n_in, last_frame)
    n_ch = int(stream.channels)
    data = np.concatenate(parts, axis=1) if parts else np.zeros((n_ch, 0), dtype=np.float32)
    # Keep the decoded length consistent with the input length (the resampler may add a sample or two).
    want = round(n_in * Fraction(SAMPLE_RATE, stream.rate))
    data = data[:, :want] if data.shape[1] >= want else np.pad(data, ((0, 0), (0, want - data.shape[1])))
    channels = tuple(np.ascontiguousarray(data[i], dtype=np.float32) for i in range(data.shape[0]))
    for c in channels:
        c.setflags(write=False)  # DecodedAudio is shared by threads and stages: nobody may change it
    return channels, n_in


def energetic_regions(samples: np.ndarray, others: tuple[np.ndarray, ...] = (), *, snr_db: float = 8.0,
                      below_peak_db: float = 45.0, crosstalk_db: float = 20.0, min_run_s: float = 0.25,
                      max_gap_s: float = 0.3, min_variation_db: float = 4.0) -> tuple[Span, ...]:
    """Stretches of ``samples`` whose speech-band energy says someone is talking, in seconds.

    A detector independent of the neural VAD, used to measure how much speech a transcript covers and to
    catch speech the VAD skipped. A 20 ms frame counts when its 250–3800 Hz energy is ``snr_db`` above the
    channel's noise floor (its 5th percentile) and within ``below_peak_db`` of its loud speech (99th
    percentile). With ``others`` (the other channels of a stereo call), a frame ``crosstalk_db`` quieter than
    another channel at the same moment is that party leaking across, not this one talking. Steady sounds
    (tones, hum) whose level varies less than ``min_variation_db`` (standard deviation) are dropped: speech
    rises and falls with every syllable.
    """
    level = _band_level_db(samples)
    if not len(level):
        return ()
    floor, loud = np.percentile(level, 5), np.percentile(level, 99)
    active = (level > floor + snr_db) & (level > loud - below_peak_db)
    for other in others:
        other_level = _band_level_db(other)[: len(level)]
        active[: len(other_level)] &= level[: len(other_level)] > other_level - crosstalk_db
    runs = _runs(active, max_gap=round(max_gap_s / _FRAME_S), min_len=round(min_run_s / _FRAME_S))
    return tuple((a * _FRAME_S, b * _FRAME_S) for a, b in runs if np.std(level[a:b]) >= min_variation_db)


_FRAME_S = 0.02
_BAND_HZ = (250.0, 3800.0)


def _band_level_db(samples: np.ndarray, block: int = 4096) -> np.ndarray:
    n = int(_FRAME_S * SAMPLE_RATE)
    frames = len(samples) // n
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    band = (freqs >= _BAND_HZ[0]) & (freqs <= _BAND_HZ[1])
    window = np.hanning(n).astype(np.float32)
    out = np.empty(frames, dtype=np.float64)
    for i in range(0, frames, block):  # blocks keep memory flat on hour-long calls
        chunk = samples[i * n: min(frames, i + block) * n].reshape(-1, n) * window
        power = np.abs(np.fft.rfft(chunk, axis=1)[:, band]) ** 2
        out[i: i + len(chunk)] = 10 * np.log10(power.sum(axis=1) + 1e-10)
    return out


def _runs(mask: np.ndarray, *, max_gap: int, min_len: int) -> list[tuple[int, int]]:
    """[start, end) index runs of True, bridging gaps up to ``max_gap`` and dropping runs below ``min_len``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    merged: list[list[int]] = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if merged and a - merged[-1][1] <= max_gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if b - a >= min_len]

