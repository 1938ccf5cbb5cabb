"""The recording as a browser can play it.

Browsers play PCM, μ-law and A-law WAV, FLAC, MP3, Ogg and AAC, but not the GSM or ADPCM WAV files many
call recorders write. Those are decoded once (PyAV, through :mod:`pipeline.audio`) into 16-bit PCM WAV in a
cache folder and that file is served instead, with the same range requests; the times are unchanged, so
evidence still seeks to the right second.
"""

from __future__ import annotations

import hashlib
import os
import threading
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
