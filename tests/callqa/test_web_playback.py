"""Recordings in codecs browsers cannot play are served as PCM WAV of the same length."""

from __future__ import annotations

from pathlib import Path

import soundfile

from callqa.web.playback import playable
from pipeline import audio
from tests.conftest import CLIPS, write_wav


def test_adpcm_is_converted_once_and_browser_codecs_are_served_as_they_are(tmp_path: Path) -> None:
    speech = audio.decode(CLIPS / "jfk.flac").channels[0]
    adpcm = write_wav(tmp_path / "call.wav", [speech], codec="adpcm_ima_wav")
    mulaw = write_wav(tmp_path / "mulaw.wav", [speech], codec="pcm_mulaw")
    cache = tmp_path / "cache"
    assert audio.probe(adpcm).codec == "adpcm_ima_wav"
    converted = playable(adpcm, cache)
    assert converted.parent == cache and converted.suffix == ".wav"
    info = soundfile.info(str(converted))
    assert info.subtype == "PCM_16" and info.samplerate == 16000 and info.channels == 1
    assert abs(info.duration - audio.probe(adpcm).duration) < 0.05  # same times: evidence seeks stay right
    made = converted.stat().st_mtime_ns
    assert playable(adpcm, cache) == converted and converted.stat().st_mtime_ns == made
    assert playable(mulaw, cache) == mulaw and playable(CLIPS / "jfk.flac", cache) == CLIPS / "jfk.flac"
    assert sorted(p.name for p in cache.iterdir()) == [converted.name]  # no temporary file left behind


def test_a_file_nothing_can_decode_is_served_as_it_is(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + bytes(200))
    assert playable(junk, tmp_path / "cache") == junk
