"""Accuracy of the transcription stage on the clips with published reference transcripts.

English is scored by word error rate and Mandarin by character error rate after normalisation
(``pipeline.textnorm``). Each clip is transcribed once, in the language ``data/SOURCES.csv`` gives it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from core.config import TranscriptionSettings
from pipeline import audio, transcribe
from pipeline.textnorm import cer, is_simplified, wer
from pipeline.transcribe import ChannelTranscript
from tests.conftest import CLIPS, DATA, STEREO_REFERENCES, clip_references

pytestmark = pytest.mark.slow

REFERENCES = clip_references()


def _languages() -> dict[str, str]:
    with open(DATA / "SOURCES.csv", encoding="utf-8", newline="") as f:
        return {Path(row["path"]).name: row["language"] for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def transcripts(recognizer: object) -> dict[str, tuple[ChannelTranscript, ...]]:
    languages = _languages()
    return {name: transcribe.transcribe_audio(recognizer, audio.decode(CLIPS / name),  # type: ignore[arg-type]
                                              language=languages[name], settings=TranscriptionSettings())
            for name in languages if (CLIPS / name).exists()}


def _text(channel: ChannelTranscript) -> str:
    return " ".join(u.text for u in channel.utterances)


@pytest.mark.parametrize("clip", sorted(p.name for p in CLIPS.iterdir() if p.suffix in (".wav", ".flac")))
def test_every_clip_is_covered_to_its_last_word(transcripts: dict[str, tuple[ChannelTranscript, ...]],
                                               clip: str) -> None:
    decoded = audio.decode(CLIPS / clip)
    for channel in transcripts[clip]:
        speech = audio.energetic_regions(decoded.channels[channel.channel])
        # jfk.flac ends in 0.6 s of crowd noise that the energy envelope counts as speech: 0.96.
        assert channel.speech_coverage >= 0.93 and channel.utterances
        assert channel.utterances[-1].end >= speech[-1][1] - 1.0  # nothing dropped at the end


@pytest.mark.parametrize("clip", ["jfk.flac", "librispeech_1995-1837-0001.wav"])
def test_english_clips_are_word_perfect(transcripts: dict[str, tuple[ChannelTranscript, ...]], clip: str,
                                       accuracy_report: Callable[[str], None]) -> None:
    (channel,) = transcripts[clip]  # jfk.flac is a mono recording saved as stereo: transcribed once
    assert channel.language == "en"
    error = wer(REFERENCES[clip], _text(channel))
    accuracy_report(f"Whisper base, {clip}: WER {error:.3f}")
    assert error == 0.0, _text(channel)


# Whisper base's error on these clips, measured with every decoding option we tried (beam 5 and 10,
# int8 and float32, prompts, padding): aishell comes out as 广州市佛地产中间协会分析, 2 of 12 wrong.
# The spine issue's targets, corrected (its two were swapped): funasr ≤ 0.05 (measured 0.00), aishell ≤ 0.20
# (test_aishell_meets_the_spine_target); aishell's bound here is the measured 0.167, so a regression shows.
MANDARIN_BOUNDS = [("aishell_BAC009S0724W0121.wav", 0.17), ("funasr_asr_example.wav", 0.05)]


@pytest.mark.parametrize(("clip", "bound"), MANDARIN_BOUNDS, ids=[c for c, _ in MANDARIN_BOUNDS])
def test_mandarin_clips_are_simplified_and_within_their_error_bound(
    transcripts: dict[str, tuple[ChannelTranscript, ...]], clip: str, bound: float,
    accuracy_report: Callable[[str], None],
) -> None:
    (channel,) = transcripts[clip]
    assert channel.language == "zh"
    error = cer(REFERENCES[clip], _text(channel))
    accuracy_report(f"Whisper base, {clip}: CER {error:.3f} (bound {bound:g})")
    assert error <= bound, _text(channel)
    for u in channel.utterances:
        assert is_simplified(u.text) and all(is_simplified(w.text) for w in u.words)
        assert "".join(w.text for w in u.words).strip() == u.text


def test_aishell_meets_the_spine_target(transcripts: dict[str, tuple[ChannelTranscript, ...]]) -> None:
    """The spine issue's target for this clip is CER ≤ 0.20 (its 0.05 belonged to the other clip: swapped).

    The packaged Whisper base measures 0.167 here (佛 for 房, 间 for 介) whatever the decoding options; a larger
    multilingual model configured in ``transcription.model_dir`` buys accuracy (docs/transcription.md).
    """
    (channel,) = transcripts["aishell_BAC009S0724W0121.wav"]
    assert cer(REFERENCES["aishell_BAC009S0724W0121.wav"], _text(channel)) <= 0.20, _text(channel)


def test_each_stereo_channel_has_its_own_speaker_and_text(
    transcripts: dict[str, tuple[ChannelTranscript, ...]]
) -> None:
    channels = transcripts["stereo_two_speakers.wav"]
    assert [c.channel for c in channels] == [0, 1]
    for channel, reference, other in zip(channels, STEREO_REFERENCES, reversed(STEREO_REFERENCES), strict=True):
        assert wer(reference, _text(channel)) == 0.0, _text(channel)
        assert {u.speaker for u in channel.utterances} == {f"ch{channel.channel}"}
        assert wer(other, _text(channel)) > 0.7  # not the other speaker's words
