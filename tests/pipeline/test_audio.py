"""Decoding every supported kind of recording, rejecting bad ones with reasons, and the energy envelope.

Every fixture is written at test time from the real clips with PyAV (or ffmpeg where PyAV has no
encoder option for it) into a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import AudioError
from pipeline import audio
from pipeline.transcribe import subtract, total
from tests.conftest import CLIPS, REAL_CALL, band_limit, write_wav

STEREO = CLIPS / "stereo_two_speakers.wav"
LIBRI = CLIPS / "librispeech_1995-1837-0001.wav"


def _lag_correlation(a: np.ndarray, b: np.ndarray) -> tuple[int, float]:
    """The lag (samples) at which ``b`` best matches ``a``, and the normalised correlation there."""
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    spectrum = np.fft.irfft(np.fft.rfft(a, 2 * n) * np.conj(np.fft.rfft(b, 2 * n)))
    lag = int(np.argmax(np.abs(spectrum)))
    lag = lag - 2 * n if lag > n else lag
    return lag, float(spectrum[lag] / (np.linalg.norm(a) * np.linalg.norm(b)))


# (file name, codec, rate): telephone formats first, then the compressed ones. PCM and FLAC are written with
# PyAV; the lossy ones with the ffmpeg command line, whose encoders (libvorbis, and the gapless metadata of
# AAC) are what recorders and converters in the field use.
KINDS = [
    ("mulaw_8k.wav", "pcm_mulaw", 8000),
    ("alaw_8k.wav", "pcm_alaw", 8000),
    ("u8_8k.wav", "pcm_u8", 8000),
    ("s16_8k.wav", "pcm_s16le", 8000),
    ("s16_44k.wav", "pcm_s16le", 44100),
    ("clip.flac", "flac", 16000),
    ("clip.mp3", "libmp3lame", 16000),
    ("clip.ogg", "libvorbis", 16000),
    ("clip.opus", "libopus", 48000),
    ("clip.m4a", "aac", 16000),
    ("clip_8k.m4a", "aac", 8000),
]
LOSSY = {"libmp3lame", "libvorbis", "libopus", "aac"}


def _encode(path: Path, channels: tuple[np.ndarray, ...], codec: str, rate: int) -> Path:
    if codec not in LOSSY:
        container = "flac" if codec == "flac" else "wav"
        return write_wav(path, channels, codec=codec, rate=rate, container=container)
    if not shutil.which("ffmpeg"):
        pytest.skip("the ffmpeg command line is needed to write lossy fixtures")
    source = write_wav(path.with_suffix(".src.wav"), channels, codec="pcm_s16le", rate=audio.SAMPLE_RATE)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-c:a", codec, "-ar", str(rate),
                    str(path)], check=True)
    return path


@pytest.mark.parametrize(("name", "codec", "rate"), KINDS, ids=[k[0] for k in KINDS])
@pytest.mark.parametrize("stereo", [False, True], ids=["mono", "stereo"])
def test_every_kind_decodes_to_the_source_duration_with_channels_kept(
    tmp_path: Path, name: str, codec: str, rate: int, stereo: bool
) -> None:
    source = audio.decode(STEREO)
    channels = source.channels if stereo else source.channels[:1]
    decoded = audio.decode(_encode(tmp_path / name, channels, codec, rate))

    assert decoded.info.channels == len(channels) == len(decoded.channels)
    assert decoded.info.sample_rate == rate
    assert abs(decoded.duration - source.duration) < 0.005, (decoded.duration, source.duration)
    assert abs(decoded.info.duration - decoded.duration) < 1 / rate + 1e-9
    for original, got in zip(channels, decoded.channels, strict=True):
        assert got.dtype == np.float32 and not got.flags.writeable
        # Same sound, not shifted by the codec's priming samples: best match within 2 ms, well correlated.
        # Compare within the band every format keeps (8 kHz rates cut everything above 4 kHz).
        lag, corr = _lag_correlation(band_limit(original, (100, 3400)), band_limit(got, (100, 3400)))
        assert abs(lag) <= 32 and corr > 0.9, (lag, corr)
    if stereo:  # the two speakers stay apart: each decoded channel matches its own source channel best
        assert _lag_correlation(channels[0], decoded.channels[0])[1] > abs(
            _lag_correlation(channels[0], decoded.channels[1])[1]) + 0.3


def test_the_real_call_is_8_bit_8_khz_mono() -> None:
    decoded = audio.decode(REAL_CALL)
    assert decoded.info.codec == "pcm_u8"
    assert (decoded.info.container, decoded.info.sample_rate, decoded.info.channels) == ("wav", 8000, 1)
    assert decoded.info.duration == pytest.approx(277.66, abs=0.01)
    assert len(decoded.channels[0]) == round(277.66 * audio.SAMPLE_RATE)
    assert audio.probe(REAL_CALL) == decoded.info


def _sparse_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    """A real 16-bit PCM WAV of ``seconds`` of silence, written sparse so it costs no disk space."""
    data = int(seconds * rate) * 2
    header = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE" + b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", data)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + data)
    return path


def test_a_ten_hour_file_is_rejected_from_its_header_without_decoding(tmp_path: Path) -> None:
    path = _sparse_wav(tmp_path / "ten_hours.wav", 10 * 3600)
    started = time.monotonic()
    with pytest.raises(AudioError, match=r"ten_hours\.wav: longer than the maximum of 10,800 s \(36,000 s"):
        audio.decode(path, max_duration_s=3 * 3600)
    assert time.monotonic() - started < 1.0
    assert audio.probe_duration(path) == pytest.approx(36000)


def test_a_stream_without_a_stated_duration_is_stopped_at_the_maximum_while_decoding(tmp_path: Path) -> None:
    if not shutil.which("ffmpeg"):
        pytest.skip("the ffmpeg command line is needed to write a streamed Matroska file")
    path = tmp_path / "streamed.mka"
    # Written to a pipe, Matroska has no duration in its header: only decoding can tell the length.
    with open(path, "wb") as out:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(LIBRI), "-c:a", "flac", "-f", "matroska", "-"],
                       stdout=out, check=True)
    assert audio.probe(path).duration == 0.0
    with pytest.raises(AudioError, match=r"^streamed\.mka: longer than the maximum of 5 s \(more than 5 s decoded\)"):
        audio.decode(path, max_duration_s=5)
    assert audio.decode(path).duration == pytest.approx(8.73, abs=0.005)


def _damaged_files(d: Path) -> dict[str, tuple[Path, str]]:
    """One file of each bad kind → (path, the start of the reason it must be rejected with)."""
    libri = LIBRI.read_bytes()
    mp3 = _encode(d / "whole.mp3", audio.decode(LIBRI).channels, "libmp3lame", 16000)
    m4a = _encode(d / "whole.m4a", audio.decode(LIBRI).channels, "aac", 16000)
    files = {
        "empty": (d / "empty.wav", b"", "empty file (0 bytes)"),
        "truncated wav": (d / "cut.wav", libri[: len(libri) // 2 + 1], "truncated"),
        "truncated mp3": (d / "cut.mp3", mp3.read_bytes()[: mp3.stat().st_size // 3], "truncated"),
        "truncated m4a": (d / "cut.m4a", m4a.read_bytes()[: m4a.stat().st_size // 2], "not a readable audio file"),
        "header only": (d / "header.wav", libri[:30], "not a readable audio file"),
        "text": (d / "notes.mp3", b"this is a text file pretending to be audio\n" * 50, "not a readable audio file"),
    }
    out = {}
    for kind, (path, data, reason) in files.items():
        path.write_bytes(data)
        out[kind] = (path, reason)
    odd = bytearray((CLIPS / "aishell_BAC009S0724W0121.wav").read_bytes())
    odd[20:22] = (0x7A7A).to_bytes(2, "little")  # a WAV format tag no codec has
    (d / "odd_codec.wav").write_bytes(bytes(odd))
    out["unknown codec"] = (d / "odd_codec.wav", "uses an audio codec ffmpeg cannot decode")
    os.symlink(d / "gone.wav", d / "dangling.wav")
    out["dangling link"] = (d / "dangling.wav", "file not found")
    (d / "folder.wav").mkdir()
    out["directory"] = (d / "folder.wav", "is a directory")
    rng = np.random.default_rng(1)
    write_wav(d / "short.wav", [rng.standard_normal(1600).astype(np.float32) * 0.1], codec="pcm_s16le", rate=16000)
    out["too short"] = (d / "short.wav", "too short: 0.10 s of audio (the minimum is 0.2 s)")
    write_wav(d / "silent.wav", [np.zeros(16000 * 3, np.float32)], codec="pcm_s16le", rate=16000)
    out["digital silence"] = (d / "silent.wav", "silent: no channel rises above -60 dBFS (peak digital silence)")
    write_wav(d / "hiss.wav", [rng.standard_normal(16000 * 3).astype(np.float32) * 1e-4], codec="pcm_s16le",
              rate=16000)
    out["near silence"] = (d / "hiss.wav", "silent: no channel rises above -60 dBFS (peak -67 dBFS)")
    write_wav(d / "long.wav", [rng.standard_normal(16000 * 40).astype(np.float32) * 0.1], codec="pcm_s16le",
              rate=16000)
    out["too long"] = (d / "long.wav", "longer than the maximum of 30 s (40 s by its header)")
    if shutil.which("ffmpeg"):
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x64",
                        "-c:v", "mpeg4", str(d / "video.mp4")], check=True)
        out["video only"] = (d / "video.mp4", "contains no audio stream")
    return out


def test_bad_files_are_rejected_with_a_one_line_reason_naming_the_file(tmp_path: Path) -> None:
    for kind, (path, reason) in _damaged_files(tmp_path).items():
        with pytest.raises(AudioError) as err:
            audio.decode(path, max_duration_s=30)
        message = str(err.value)
        assert message.startswith(f"{path.name}: {reason}"), (kind, message)
        assert "\n" not in message
        assert audio.probe_duration(path) >= 0.0  # progress estimates never raise


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="needs POSIX permissions")
def test_an_unreadable_file_says_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "locked.wav"
    shutil.copy(LIBRI, path)
    path.chmod(0)
    code = ("import sys; from pipeline import audio; from core.errors import AudioError\n"
            "try: audio.decode(sys.argv[1])\nexcept AudioError as e: print(e)")
    command = [sys.executable, "-c", code, str(path)]
    if os.geteuid() == 0:
        # root reads anything: drop the capabilities that let it, to see what the callqa user would.
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv (util-linux) to drop privileges")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2])
    assert out.stdout.strip() == "locked.wav: cannot be read: permission denied; give the callqa user read access", \
        out.stderr


def test_a_few_dropouts_are_skipped_but_a_damaged_stream_is_rejected(tmp_path: Path) -> None:
    mp3 = _encode(tmp_path / "call.mp3", audio.decode(LIBRI).channels, "libmp3lame", 16000)
    data = bytearray(mp3.read_bytes())
    rng = np.random.default_rng(3)
    # Scramble the middle third: many frames no longer decode.
    start, stop = len(data) // 3, 2 * len(data) // 3
    data[start:stop] = rng.integers(0, 256, stop - start, dtype=np.uint8).tobytes()
    (tmp_path / "scrambled.mp3").write_bytes(bytes(data))
    with pytest.raises(AudioError, match=r"^scrambled\.mp3: (damaged|truncated)"):
        audio.decode(tmp_path / "scrambled.mp3")


# --- energy envelope ------------------------------------------------------------------------------------

def _placed(seconds: float, pieces: list[tuple[float, np.ndarray]]) -> np.ndarray:
    out = np.zeros(int(seconds * audio.SAMPLE_RATE), np.float32)
    out += np.random.default_rng(0).standard_normal(len(out)).astype(np.float32) * 10 ** (-65 / 20)
    for at, x in pieces:
        i = int(at * audio.SAMPLE_RATE)
        out[i: i + len(x)] += x
    return out


def test_energetic_regions_find_a_clip_placed_in_silence_and_ignore_a_steady_tone() -> None:
    libri = audio.decode(LIBRI).channels[0]
    alone = audio.energetic_regions(libri)
    tone = 0.3 * np.sin(2 * np.pi * 425 * np.arange(3 * audio.SAMPLE_RATE) / audio.SAMPLE_RATE).astype(np.float32)
    signal = _placed(20.0, [(2.0, libri), (14.0, tone)])
    found = audio.energetic_regions(signal)
    clip_end = 2.0 + len(libri) / audio.SAMPLE_RATE
    assert found and all(2.0 - 0.03 <= a < b <= clip_end + 0.03 for a, b in found)  # not the dial tone
    shifted = [(a + 2.0, b + 2.0) for a, b in alone]
    assert total(subtract(shifted, found)) < 0.02 * total(shifted)  # all it finds in the clip alone


def test_crosstalk_from_the_other_channel_is_not_speech() -> None:
    libri = audio.decode(LIBRI).channels[0]
    own = _placed(12.0, [])
    other = _placed(12.0, [(1.0, libri)])
    leaked = own + 10 ** (-30 / 20) * other
    assert audio.energetic_regions(leaked, (other,)) == ()
    assert audio.energetic_regions(leaked) != ()  # alone, the leak looks like speech

