"""Role labelling: stereo by channel, mono by diarisation, on the real call and synthetic calls."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.config import RoleSettings
from core.errors import ConfigError
from core.types import Role, Utterance, Word
from models.speaker import SpeakerEmbedder
from pipeline import role_evidence as ev
from pipeline.diarize import Diarization, diarize, speech_regions
from pipeline.roles import enroll, label_mono, label_stereo, split_by_turns
from pipeline.transcribe import ChannelTranscript
from tests.pipeline.test_diarize import CLIPS, ROOT, SR, load, telephone

DATA = Path(__file__).resolve().parents[1] / "data"
REAL_CALL = ROOT / "data" / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
SETTINGS = RoleSettings()


def channel(number: int, utterances: tuple[Utterance, ...]) -> ChannelTranscript:
    """A channel transcript as the transcription stage hands it over."""
    return ChannelTranscript(number, "", 1.0, tuple(utterances), 1.0)


def role_accuracy(utterances: tuple[Utterance, ...], spans: list[dict]) -> float:
    """Share of labelled speech time covered by an utterance with the labelled role."""
    right = total = 0.0
    for span in spans:
        total += span["end"] - span["start"]
        for u in utterances:
            overlap = min(u.end, span["end"]) - max(u.start, span["start"])
            if overlap > 0 and u.role.value == span["role"]:
                right += overlap
    return right / total


def check_invariants(utterances: tuple[Utterance, ...], duration: float) -> None:
    assert [u.start for u in utterances] == sorted(u.start for u in utterances)
    for u in utterances:
        assert u.role in (Role.AGENT, Role.CUSTOMER)
        assert 0.0 < u.role_confidence <= 1.0
        assert 0.0 <= u.start <= u.end <= duration + 0.5
        assert all(u.start <= w.start and w.end <= u.end for w in u.words)


@pytest.fixture(scope="module")
def embedder() -> SpeakerEmbedder:
    return SpeakerEmbedder()


@pytest.fixture(scope="module")
def real_call() -> tuple[tuple[Utterance, ...], np.ndarray]:
    """The real call's Whisper utterances (from tests/data/real_call_whisper.json) and its samples."""
    data = json.loads((DATA / "real_call_whisper.json").read_text(encoding="utf-8"))
    utts = tuple(
        Utterance(
            s["start"], s["end"], s["text"], speaker="ch0", language="en",
            words=tuple(Word(w[0], w[1], w[2], w[3]) for w in s["words"]),
        )
        for s in data["segments"]
    )
    return utts, load(REAL_CALL)


@pytest.fixture(scope="module")
def real_diarization(real_call, embedder) -> Diarization:
    return diarize(real_call[1], embedder)


@pytest.fixture(scope="module")
def real_labelled(real_call, embedder, real_diarization):
    utts, samples = real_call
    return label_mono(channel(0, utts), samples, embedder, SETTINGS, diarization=real_diarization)


# --- the real call ------------------------------------------------------------------------------------


def test_real_call_roles_match_the_hand_labels(real_labelled) -> None:
    out, decision = real_labelled
    spans = json.loads((DATA / "real_call_roles.json").read_text(encoding="utf-8"))
    assert role_accuracy(out, spans) >= 0.90
    assert decision.agent_speaker == "spk0" and not decision.uncertain
    assert decision.method.startswith("content")
    greeting = out[0]
    assert greeting.text.startswith("Thank you for calling") and greeting.role is Role.AGENT


def test_real_call_output_invariants(real_call, real_labelled) -> None:
    utts, samples = real_call
    out, _ = real_labelled
    check_invariants(out, len(samples) / SR)
    assert {u.speaker for u in out} == {"spk0", "spk1"}
    # splitting never loses or duplicates a word
    assert [w for u in out for w in u.words] == sorted((w for u in utts for w in u.words), key=lambda w: w.start)


def test_segment_spanning_a_change_of_speaker_is_split(real_labelled) -> None:
    out, _ = real_labelled
    # Whisper made one segment of "…settled in… Okay, okay. Thank you. Oh, no problem. Have a good one"
    ending = [u for u in out if 266.0 <= u.start < 274.0]
    assert len(ending) >= 3
    thanks = next(u for u in ending if "Thank you" in u.text)
    assert thanks.role is Role.CUSTOMER
    assert next(u for u in ending if "settled" in u.text).role is Role.AGENT
    assert next(u for u in ending if "good one" in u.text).role is Role.AGENT


def test_company_name_adds_evidence(real_call, embedder, real_diarization) -> None:
    utts, samples = real_call
    _, plain = label_mono(utts, samples, embedder, SETTINGS, diarization=real_diarization)
    _, named = label_mono(utts, samples, embedder, SETTINGS, ("Big Jim's Auto",), diarization=real_diarization)
    assert any("company 'Big Jim's Auto'" in r for r in named.reasons)
    assert not any("company" in r for r in plain.reasons)


def test_no_personal_data_in_log_lines(real_call, embedder, caplog) -> None:
    utts, samples = real_call
    # the first 70 s hold the agent's name and the caller's name, spelled out
    opening = tuple(u for u in utts if u.end < 70.0)
    with caplog.at_level(logging.DEBUG):
        label_mono(opening, samples[: 70 * SR], embedder, SETTINGS, ("Big Jim's Auto",))
        label_stereo([channel(0, utts[:3]), channel(1, utts[3:6])], SETTINGS)
    lines = " ".join(r.getMessage() for r in caplog.records)
    assert caplog.records
    for private in ("Violet", "King", "Travis", "K-I-N-G", "Jim", "2017"):
        assert private not in lines


# --- stereo -------------------------------------------------------------------------------------------


def script_channels(name: str) -> tuple[list[ChannelTranscript], dict]:
    """The synthetic call's script as two channel transcripts (each party on its stereo channel)."""
    script = json.loads((DATA / "synth" / f"{name}.script.json").read_text(encoding="utf-8"))
    agent = script["agent_channel_in_stereo"]
    by_channel: dict[int, list[Utterance]] = {0: [], 1: []}
    for turn in script["turns"]:
        ch = agent if turn["role"] == "agent" else 1 - agent
        by_channel[ch].append(Utterance(turn["start"], turn["end"], turn["text"], speaker=f"ch{ch}", channel=ch))
    return [channel(ch, tuple(u)) for ch, u in by_channel.items()], script


@pytest.mark.parametrize("name", ["en_bank", "zh_broadband"])
def test_stereo_agent_channel_from_content(name: str) -> None:
    channels, script = script_channels(name)
    out, decision = label_stereo(channels, SETTINGS)
    agent = script["agent_channel_in_stereo"]
    assert decision.agent_speaker == f"ch{agent}"
    assert decision.confidence >= 0.9 and not decision.uncertain
    assert "content" in decision.method
    assert [u.role.value for u in out] == [t["role"] for t in script["turns"]]
    check_invariants(out, 70.0)


def test_stereo_traditional_characters_and_misheard_words_still_count() -> None:
    agent = Utterance(0.5, 4.0, "您好，很高興為您服務，請問有什麼可以幫你", speaker="ch1", channel=1)
    customer = Utterance(4.5, 7.0, "我想問一下我的訂單", speaker="ch0", channel=0)
    _, zh = label_stereo([channel(0, (customer,)), channel(1, (agent,))], SETTINGS)
    assert zh.agent_speaker == "ch1" and zh.confidence >= 0.9
    misheard = Utterance(0.3, 3.0, "Thank you for colling Acme, how can I halp you?", speaker="ch0")
    reply = Utterance(3.5, 6.0, "Hi, I'm calling about my bill.", speaker="ch1", channel=1)
    _, en = label_stereo([channel(1, (reply,)), channel(0, (misheard,))], SETTINGS, ("Acme",))
    assert en.agent_speaker == "ch0" and en.confidence >= 0.9


def test_configured_agent_channel_wins_but_contradiction_is_flagged() -> None:
    channels, _ = script_channels("en_bank")  # the agent speaks on channel 1
    out, decision = label_stereo(channels, RoleSettings(agent_channel=1))
    assert (decision.method, decision.agent_speaker, decision.confidence, decision.uncertain) == (
        "configured", "ch1", 1.0, False,
    )
    assert all(u.role_confidence == 1.0 for u in out)
    _, wrong = label_stereo(channels, RoleSettings(agent_channel=0))
    assert wrong.agent_speaker == "ch0" and wrong.uncertain
    assert any("content says the agent is ch1" in r for r in wrong.reasons)
    with pytest.raises(ConfigError, match="agent_channel = 2"):
        label_stereo(channels, RoleSettings(agent_channel=2))


def test_stereo_without_telling_content_is_uncertain() -> None:
    y, sr = sf.read(str(CLIPS / "stereo_two_speakers.wav"), dtype="float32")
    texts = ["He began a confused complaint against the wizard who had vanished behind the curtain on the left.",
             "The horizon seems extremely distant."]
    channels = []
    for ch in (0, 1):
        regions = speech_regions(y[:, ch], sr)
        start, end = regions[0][0], regions[-1][1]
        channels.append(channel(ch, (Utterance(start, end, texts[ch], speaker=f"ch{ch}", channel=ch),)))
    out, decision = label_stereo(channels, SETTINGS)
    assert decision.uncertain and decision.method == "first_speaker"
    assert {u.speaker for u in out} == {"ch0", "ch1"}
    assert sorted(u.role for u in out) == [Role.AGENT, Role.CUSTOMER]
    assert all(u.speaker == f"ch{u.channel}" for u in out)


# --- mono: diarisation, voiceprint, one speaker -------------------------------------------------------


def test_mono_synthetic_mandarin_call(embedder) -> None:
    script = json.loads((DATA / "synth" / "zh_broadband.script.json").read_text(encoding="utf-8"))
    samples = load(DATA / "synth" / "zh_broadband_mono.wav")
    utts = tuple(Utterance(t["start"], t["end"], t["text"], speaker="ch0") for t in script["turns"])
    out, decision = label_mono(utts, samples, embedder, SETTINGS)
    assert decision.agent_speaker == "spk0" and not decision.uncertain
    spans = [{"start": t["start"], "end": t["end"], "role": t["role"]} for t in script["turns"]]
    assert role_accuracy(out, spans) >= 0.95


def _no_greeting_call() -> tuple[np.ndarray, tuple[Utterance, ...], list[np.ndarray]]:
    """The customer (LibriSpeech reader) speaks first; the agent is JFK, enrolled from his first 5 s.
    Nobody says anything that tells a role."""
    jfk, reader = load(CLIPS / "jfk.flac"), load(CLIPS / "librispeech_1995-1837-0001.wav")
    enrol, agent_part = jfk[: int(5.2 * SR)], jfk[int(5.2 * SR) :]
    gap = np.zeros(SR // 2, np.float32)
    call = telephone(np.concatenate([reader[: int(4.4 * SR)], gap, agent_part, gap, reader[int(4.4 * SR) :]]))
    t1 = 4.4 + 0.5
    t2 = t1 + len(agent_part) / SR + 0.5
    utts = (
        Utterance(0.2, 4.4, "It was the first great sorrow of his life.", speaker="ch0"),
        Utterance(t1, t2 - 0.5, "Ask not what your country can do for you.", speaker="ch0"),
        Utterance(t2, len(call) / SR, "But the fantasy, the hopes, the dreams built around it.", speaker="ch0"),
    )
    return call, utts, [enrol]


def test_enrolled_voiceprint_decides_when_content_gives_no_clue(embedder) -> None:
    call, utts, enrol_audio = _no_greeting_call()
    voiceprint = enroll(enrol_audio, embedder)
    out, decision = label_mono(utts, call, embedder, SETTINGS, voiceprint=voiceprint)
    assert "voiceprint" in decision.method and not decision.uncertain
    assert [u.role for u in out] == [Role.CUSTOMER, Role.AGENT, Role.CUSTOMER]
    # without the voiceprint only "who spoke first" is left: wrong here, and flagged as uncertain
    _, blind = label_mono(utts, call, embedder, SETTINGS)
    assert blind.method == "first_speaker" and blind.uncertain


def test_voiceprint_of_someone_else_does_not_decide(embedder) -> None:
    call, utts, _ = _no_greeting_call()
    stranger = enroll([load(CLIPS / "paddle_test.wav")], embedder)
    _, decision = label_mono(utts, call, embedder, SETTINGS, voiceprint=stranger)
    assert decision.uncertain


def test_one_speaker_call_is_labelled_by_content_and_uncertain(embedder) -> None:
    samples = telephone(load(CLIPS / "paddle_test.wav"))
    utts = (
        Utterance(0.5, 4.0, "您好，请问有什么可以帮您？", speaker="ch0"),
        Utterance(4.7, 9.3, "今天天气不错。", speaker="ch0"),
    )
    out, decision = label_mono(utts, samples, embedder, SETTINGS)
    assert decision.uncertain and any("only one speaker" in r for r in decision.reasons)
    assert 0.0 < decision.confidence <= 0.5
    assert [u.role for u in out] == [Role.AGENT, Role.AGENT]
    assert all(0.0 < u.role_confidence <= 0.5 for u in out)
    empty_out, empty = label_mono((), np.zeros(SR, np.float32), embedder, SETTINGS)
    assert empty_out == () and empty.uncertain and empty.agent_speaker is None


def test_enroll_contract(embedder) -> None:
    vp = enroll([load(CLIPS / "jfk.flac"), load(CLIPS / "librispeech_1995-1837-0001.wav")], embedder)
    assert vp.shape == (256,) and vp.dtype == np.float32
    assert np.linalg.norm(vp) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="no recordings"):
        enroll([], embedder)
    with pytest.raises(ValueError, match="mono"):
        enroll([np.zeros((SR, 2), np.float32)], embedder)
    with pytest.raises(ValueError, match="voiced audio"):
        enroll([np.zeros(SR // 20, np.float32)], embedder)


def test_voiceprint_from_another_model_is_refused(embedder) -> None:
    call, utts, _ = _no_greeting_call()
    with pytest.raises(ValueError, match="enrol the agent again"):
        label_mono(utts, call, embedder, SETTINGS, voiceprint=np.ones(192, np.float32))


# --- pieces -------------------------------------------------------------------------------------------


def test_words_go_to_the_turn_they_overlap_and_unplaced_words_stay_with_their_sentence() -> None:
    from pipeline.diarize import SpeakerTurn

    words = (Word(0.0, 0.5, " Sure,", 0.9), Word(0.6, 1.0, " thanks.", 0.8), Word(1.6, 2.0, " Okay", 0.7),
             Word(2.0, 2.4, " then", 0.6), Word(3.5, 3.8, " bye", 0.5))
    u = Utterance(0.0, 3.8, "Sure, thanks. Okay then bye", words=words)
    turns = (SpeakerTurn(0.0, 1.2, "spk1", 0.4), SpeakerTurn(1.5, 2.5, "spk0", 0.2))
    split = split_by_turns([u], turns)
    assert [(p.text, p.speaker, p.start, p.end) for p, _ in split] == [
        ("Sure, thanks.", "spk1", 0.0, 1.0),
        ("Okay then bye", "spk0", 1.6, 3.8),  # "bye" overlaps no turn: it stays with its sentence
    ]
    assert split[0][0].confidence == pytest.approx(0.85)
    assert [round(c, 3) for _, c in split] == [0.4, 0.2]


def test_phrase_matching_guards() -> None:
    norm = ev.normalise
    assert norm("請問，有什麼 可以 幫您？") == "请问有什么可以帮您"
    assert ev.phrase_score(norm("thank you for calling"), norm("Thank you.")) < 85
    assert ev.phrase_score(norm("sir"), norm("I'm sure")) == 0
    assert ev.phrase_score(norm("thank you for calling"), norm("thank you for colling big jim's")) >= 85
    opening = Utterance(1.0, 3.0, "This is ridiculous, my card was charged twice!", speaker="ch1")
    assert ev.utterance_score(opening) <= 0
    intro = Utterance(1.0, 3.0, "Good morning, this is Anna.", speaker="ch0")
    assert ev.utterance_score(intro) > 0


def test_stereo_greeting_echoed_on_the_customer_channel_does_not_count_twice() -> None:
    greeting = "Thank you for calling Acme, this is Dana, how can I help you?"
    agent = Utterance(0.5, 4.0, greeting, confidence=0.9, speaker="ch1", channel=1)
    echo = Utterance(0.6, 4.0, greeting.lower(), confidence=0.4, speaker="ch0", channel=0)
    reply = Utterance(4.5, 7.0, "Yes, hello.", confidence=0.9, speaker="ch0", channel=0)
    out, decision = label_stereo([channel(0, (echo, reply)), channel(1, (agent,))], SETTINGS, ("Acme",))
    assert decision.agent_speaker == "ch1" and decision.confidence >= 0.9
    assert len(out) == 3  # the echo is kept in the transcript, only left out of the evidence


def _hold_music(seconds: float) -> np.ndarray:
    """Piano-like notes (harmonics of random scale notes, 0.5 s each): energy that is not speech."""
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * SR)) / SR
    out = np.zeros_like(t)
    for i in range(int(seconds / 0.5)):
        f = float(rng.choice([220, 247, 262, 294, 330, 349, 392, 440]))
        note = (t >= i * 0.5) & (t < (i + 1) * 0.5)
        for mult, amp in ((1, 0.3), (1.5, 0.1), (2, 0.15), (3, 0.08)):
            out[note] += amp * np.sin(2 * np.pi * f * mult * t[note])
    return telephone((0.3 * out).astype(np.float32))


def test_hold_music_does_not_become_a_speaker(embedder) -> None:
    from tests.pipeline.test_diarize import two_speaker_call

    y, truth = two_speaker_call("jfk.flac", "librispeech_1995-1837-0001.wav", gap=0.15)
    cut = int(truth[3][1] * SR) + 800  # the hold starts right after a turn, as when an agent says "one moment"
    call = np.concatenate([y[:cut], _hold_music(15.0), y[cut:]])
    moved = [(s, e, k) if s * SR < cut else (s + 15.0, e + 15.0, k) for s, e, k in truth]
    # one utterance per stretch of a speaker, the first a greeting; nothing is recognised in the music
    utts: list[Utterance] = []
    for s, e, k in moved:
        if utts and utts[-1].speaker == f"s{k}" and s - utts[-1].end < 1.0:
            utts[-1] = Utterance(utts[-1].start, e, utts[-1].text, speaker=f"s{k}")
        else:
            text = "Thank you for calling Acme, how can I help you?" if not utts else "Right."
            utts.append(Utterance(s, e, text, speaker=f"s{k}"))
    spans = [{"start": s, "end": e, "role": "agent" if k == 0 else "customer"} for s, e, k in moved]
    out, decision = label_mono(tuple(utts), call, embedder, SETTINGS)
    assert decision.agent_speaker == "spk0" and not decision.uncertain
    assert role_accuracy(out, spans) >= 0.95


def test_stereo_with_one_silent_channel() -> None:
    caller = (
        Utterance(0.4, 3.0, "Hello? I'm calling about my order, it never arrived.", speaker="ch0"),
        Utterance(3.5, 5.0, "Hello?", speaker="ch0"),
    )
    out, decision = label_stereo([channel(0, caller), channel(1, ())], SETTINGS)
    assert decision.uncertain and decision.agent_speaker is None
    assert [u.role for u in out] == [Role.CUSTOMER, Role.CUSTOMER]
    assert all(0.0 < u.role_confidence <= 0.5 for u in out)
    greeting = (Utterance(0.4, 3.0, "Thank you for calling Acme, how can I help you?", speaker="ch1"),)
    out, decision = label_stereo([channel(0, ()), channel(1, greeting)], SETTINGS, ("Acme",))
    assert decision.uncertain and decision.agent_speaker == "ch1"
    assert out[0].role is Role.AGENT and 0.0 < out[0].role_confidence <= 0.5


def test_one_word_answer_stretched_over_the_pause_keeps_its_speaker() -> None:
    from pipeline.diarize import SpeakerTurn

    # Whisper started "Yes." 0.3 s early, over the pause; the answer's turn is short.
    words = (Word(103.9, 104.2, " this?", 0.9), Word(105.66, 106.14, " Yes.", 0.9), Word(106.98, 107.46, " Okay.", 0.9))
    u = Utterance(103.9, 107.46, "this? Yes. Okay.", words=words)
    turns = (SpeakerTurn(100.0, 104.3, "spk0", 0.4), SpeakerTurn(105.94, 106.19, "spk1", 0.26),
             SpeakerTurn(107.21, 107.57, "spk0", 0.33))
    assert [(p.text, p.speaker) for p, _ in split_by_turns([u], turns)] == [
        ("this?", "spk0"), ("Yes.", "spk1"), ("Okay.", "spk0"),
    ]
    # A word that only grazes a long turn of the other speaker is a timing error: it stays in its sentence.
    words = (Word(0.0, 0.4, " We", 0.9), Word(0.4, 0.8, " will", 0.9), Word(0.8, 1.2, " call", 0.9),
             Word(1.2, 1.6, " you", 0.9))
    grazing = (SpeakerTurn(0.0, 0.85, "spk0", 0.4), SpeakerTurn(0.85, 0.9, "spk0", 0.4),
               SpeakerTurn(0.9, 3.0, "spk1", 0.4))
    u = Utterance(0.0, 1.6, "We will call you", words=words)
    # "call" overlaps spk1 by 0.3 s of its 0.4 s: a real change; "you" lies inside spk1's turn
    assert [p.speaker for p, _ in split_by_turns([u], grazing)] == ["spk0", "spk1"]
    # A lone word that overlaps a long turn of the other speaker by less than half of itself, between
    # two runs of the same speaker, is a timing error and joins them.
    words = (*words[:3][:2], Word(0.8, 1.6, " call", 0.9), Word(3.1, 3.5, " you", 0.9))
    late = (SpeakerTurn(0.0, 0.85, "spk0", 0.4), SpeakerTurn(1.3, 3.0, "spk1", 0.4),
            SpeakerTurn(3.05, 4.0, "spk0", 0.4))
    u = Utterance(0.0, 3.5, "We will call you", words=words)
    assert [(p.text, p.speaker) for p, _ in split_by_turns([u], late)] == [("We will call you", "spk0")]
