"""The recording as a browser can play it.

Browsers play PCM, μ-law and A-law WAV, FLAC, MP3, Ogg and AAC, but not the GSM or ADPCM WAV files many
call recorders write. Those are decoded once (PyAV, through :mod:`pipeline.audio`) into 16-bit PCM WAV in a
cache folder and that file is served instead, with the same range requests; the times are unchanged, so
evidence still seeks to the right second.

A call whose transcript hides personal data is served with those stretches silenced (:func:`silenced`): a WAV
copy made once per file and set of spans, beside the converted ones; the file on disk is never changed.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile

from core.errors import CallQAError
from pipeline import audio

BROWSER_CODECS = frozenset({
    "pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_mulaw", "pcm_alaw",
    "flac", "mp3", "vorbis", "opus", "aac",
})
_codecs: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) → codec: probing on every range request is waste
_lock = threading.Lock()


def _codec(path: Path, key: tuple[str, int, int]) -> str:
    with _lock:
        known = _codecs.get(key)
    if known is None:
        try:
            known = audio.probe(path).codec
        except CallQAError:
            known = ""  # not something we can decode either: the browser gets the file and says so
        with _lock:
            _codecs[key] = known
    return known


def playable(path: Path, cache_dir: Path) -> Path:
    """``path`` itself when browsers play its codec, else a PCM WAV copy in ``cache_dir`` (made once).

    Raises:
        AudioError: the recording needs converting and cannot be decoded.
    """
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    codec = _codec(path, key)
    if not codec or codec in BROWSER_CODECS:
        return path
    name = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    dest = cache_dir / f"{name}.wav"
    if dest.exists():
        return dest
    decoded = audio.decode(path, max_duration_s=None)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    samples = np.stack(decoded.channels, axis=1) if len(decoded.channels) > 1 else decoded.channels[0]
    soundfile.write(str(tmp), samples, audio.SAMPLE_RATE, subtype="PCM_16", format="WAV")
    os.replace(tmp, dest)  # atomic: a concurrent request sees the old state or the whole file
    return dest


# -- personal data: the recording with its redacted spans silenced ------------------------------------------

PAD_S = 0.15  # silence this much more on each side: a word's timing from Whisper is ± a syllable
_BLOCK = 1 << 16  # frames per block when silencing a file: memory stays flat however long the call
_UNBOUNDED = 1 << 62
_EPS = 1e-6  # of a sample
# Source subtype → the dtype that reads and writes it back without changing a sample (libsndfile converts between
# integer widths by shifts and decodes μ-law/A-law to exact 16-bit values). Other subtypes (lossy codecs …) are
# read as int16 and written as 16-bit PCM.
_EXACT = {"PCM_U8": "int16", "PCM_16": "int16", "ULAW": "int16", "ALAW": "int16", "PCM_24": "int32",
          "PCM_32": "int32", "FLOAT": "float32", "DOUBLE": "float64"}


def silence_ranges(frames: int, rate: int, spans: Sequence[tuple[float, float]],
                   pad_s: float = PAD_S) -> list[tuple[int, int]]:
    """The sample ranges ``[start, end)`` to zero for ``spans`` (seconds), padded, clipped to the call, merged.

    Args:
        frames: the recording's length in samples (per channel).
        rate: samples per second.
        spans: ``(start, end)`` seconds of the call, in any order, possibly overlapping.
        pad_s: seconds added on each side of every span.

    Returns:
        Disjoint, non-empty ranges in order; every sample of a padded span is inside one.
    """
    # The epsilon keeps 1.85 s × 100 Hz (184.99999999999997 in floating point) at sample 185, not 184.
    wanted = sorted((max(0, math.floor((min(s, e) - pad_s) * rate + _EPS)),
                     min(frames, math.ceil((max(s, e) + pad_s) * rate - _EPS))) for s, e in spans)
    merged: list[tuple[int, int]] = []
    for start, end in wanted:
        if start >= end:
            continue  # wholly outside the call
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def silence(samples: np.ndarray, rate: int, spans: Sequence[tuple[float, float]], pad_s: float = PAD_S) -> np.ndarray:
    """A copy of ``samples`` with every span (seconds, padded by ``pad_s`` each side) set to zero.

    Args:
        samples: ``(frames,)`` or ``(frames, channels)``, signed integers or floats (zero is silence); every
            channel is silenced (a number said on one channel of a stereo call is often heard on the other).
        rate: samples per second.
        spans: ``(start, end)`` seconds of the call.
        pad_s: seconds added on each side of every span.
    """
    out = np.array(samples, copy=True)
    _zero(out, silence_ranges(len(out), rate, spans, pad_s), 0)
    return out


def _zero(block: np.ndarray, ranges: Sequence[tuple[int, int]], offset: int) -> None:
    """Zero, in place, the parts of ``ranges`` (call samples) inside ``block``, which starts at sample ``offset``."""
    for start, end in ranges:
        a, b = max(start - offset, 0), min(end - offset, len(block))
        if a < b:
            block[a:b] = 0


def silenced(path: Path, cache_dir: Path, spans: Sequence[tuple[float, float]], pad_s: float = PAD_S) -> Path:
    """A WAV copy of the recording with ``spans`` (seconds of the call) silenced, made once in ``cache_dir``.

    The copy is named by the file's identity (path, size, mtime) and the spans, so a call redacted again gets a
    new copy; the original is only read. Samples outside the padded spans are those of the file (same rate,
    channels and sample format where WAV has it), so times and evidence seeks are unchanged.

    Raises:
        AudioError: the recording cannot be decoded, so it cannot be silenced (it is then not served at all).
    """
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    wanted = tuple(sorted((float(s), float(e)) for s, e in spans))
    name = hashlib.sha256(repr(("silenced-v1", key, wanted, float(pad_s))).encode()).hexdigest()[:32]
    dest = cache_dir / f"{name}.wav"
    if dest.exists():
        return dest
    source = playable(path, cache_dir)  # GSM, ADPCM …: silence the PCM copy
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        try:
            _silence_file(source, tmp, wanted, pad_s)
        except (soundfile.LibsndfileError, RuntimeError):  # not a format libsndfile reads (AAC …): PyAV decodes it
            decoded = audio.decode(source, max_duration_s=None)
            samples = np.stack(decoded.channels, axis=1) if len(decoded.channels) > 1 else decoded.channels[0]
            quiet = silence(samples, audio.SAMPLE_RATE, wanted, pad_s)
            soundfile.write(str(tmp), quiet, audio.SAMPLE_RATE, subtype="PCM_16", format="WAV")
        os.replace(tmp, dest)  # atomic: a concurrent request sees no file or the whole file
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _silence_file(source: Path, dest: Path, spans: Sequence[tuple[float, float]], pad_s: float) -> None:
    with soundfile.SoundFile(str(source)) as reader:
        dtype = _EXACT.get(reader.subtype, "int16")
        subtype = reader.subtype if reader.subtype in _EXACT else "PCM_16"
        # Not clipped to the header's length (an estimate for some codecs): each block clips what falls in it.
        ranges = silence_ranges(_UNBOUNDED, reader.samplerate, spans, pad_s)
        with soundfile.SoundFile(str(dest), "w", samplerate=reader.samplerate, channels=reader.channels,
                                 subtype=subtype, format="WAV") as writer:
            offset = 0
            for block in reader.blocks(blocksize=_BLOCK, dtype=dtype, always_2d=True):
                _zero(block, ranges, offset)
                writer.write(block)
                offset += len(block)
