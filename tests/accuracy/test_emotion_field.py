"""Emotion labels where nothing was tuned: the label rule, the voice as an amplifier, and three field checks.

The field checks are regression guards, not evaluations: the real call has one human labeller and its errors
were looked at while the fix was made (docs/emotion.md, "Labels on real calls"); the labelled dialogues were
written for the rule engine. They say "no worse than when this was committed".
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from core.types import Role
from models.emotion import LABELS
from pipeline.acoustics import Arousal
from pipeline.emotion import (
    EmotionOptions,
    classify_texts,
    decide_labels,
    default_text_model,
    fused_probabilities,
    load_lexicon,
    mostly_han,
)

ROOT = Path(__file__).resolve().parents[2]
REAL_CALL = ROOT / "tests" / "data" / "real_call_emotion.json"
# Utterances of the real call whose label may differ from the human one (measured: 4 — two agent lines about
# a garage's backlog and "really not that bad" read as frustrated, two formula thanks read as satisfied).
REAL_CALL_MAX_DISAGREE = 5


def _field_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("field_check", ROOT / "tools" / "emotion" / "field_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def field() -> ModuleType:
    return _field_check()


# --- The label follows the anger scale ------------------------------------------------------------------------

def test_label_is_angry_exactly_at_the_threshold_and_unsure_labels_are_neutral() -> None:
    probs = np.array([
        [0.49, 0.02, 0.43, 0.06],  # the old argmax said angry at anger 0.50: now the best of the rest, neutral
        [0.45, 0.55, 0.00, 0.00],  # anger 0.725: angry, though frustrated is more probable
        [0.20, 0.44, 0.20, 0.16],  # frustrated at 0.44 < 0.45: shown as neutral
        [0.20, 0.46, 0.20, 0.14],  # frustrated at 0.46: frustrated
        [0.05, 0.05, 0.30, 0.60],  # satisfied
        [0.70, 0.00, 0.30, 0.00],  # anger exactly 0.7: angry
    ])
    got = [LABELS[i] for i in decide_labels(probs, EmotionOptions())]
    assert got == ["neutral", "angry", "neutral", "frustrated", "satisfied", "angry"]
    assert [LABELS[i] for i in decide_labels(probs, EmotionOptions(min_confidence=0.0))][2] == "frustrated"


def test_neutral_words_with_a_satisfied_cue_are_not_angry() -> None:
    """The real call's "I would recommend giving them a call…" was labelled angry at anger 0.50."""
    model, lexicon = default_text_model(), load_lexicon()
    text = "I would recommend giving them a call as soon as you can before they close."
    for role in (Role.AGENT, Role.CUSTOMER):
        (out,) = classify_texts([text], model, lexicon, EmotionOptions(), roles=[role])
        assert out.label != "angry" and out.anger < 0.7, (role, out)
        assert "satisfied:recommend" in out.cues


# --- The voice amplifies negative words, it does not create anger ---------------------------------------------

def test_a_raised_voice_moves_neutral_words_little_and_angry_words_more() -> None:
    opts = EmotionOptions()
    text_p = np.array([[0.02, 0.05, 0.88, 0.05], [0.30, 0.40, 0.25, 0.05]])
    lex, units = np.zeros((2, 4)), np.array([10, 10])

    def anger(arousal: float) -> np.ndarray:
        p = fused_probabilities(text_p, lex, units, np.full(2, arousal), opts)
        out: np.ndarray = p[:, 0] + 0.5 * p[:, 1]
        return out

    calm, loud = anger(0.0), anger(4.0)  # 4 SD is capped at max_arousal (2)
    assert loud[0] - calm[0] < 0.01  # neutral words: the voice adds almost nothing
    assert loud[1] - calm[1] > 0.05  # negative words: the voice strengthens them
    assert np.array_equal(anger(4.0), anger(2.0))


def test_the_voice_alone_makes_no_angry_label() -> None:
    model, lexicon = default_text_model(), load_lexicon()
    texts = ["我上个月在你们这儿买了一台洗衣机，想问一下保修的事。",
             "Hi, I ordered a sofa two weeks ago and wanted to check when it will be delivered.",
             # A caller's opening like the real call's: the words alone lean angry (P 0.55, "bought … from you"),
             # a raised voice strengthens that lean a little but cannot reach the threshold.
             "Hello, my name is Dana and I bought a washing machine from you last month."]
    loud = Arousal(score=4.0, z=(("energy", 4.0), ("pitch", 4.0)))
    quiet = classify_texts(texts, model, lexicon, EmotionOptions())
    raised = classify_texts(texts, model, lexicon, EmotionOptions(), [loud] * len(texts))
    for q, r in zip(quiet[:2], raised[:2], strict=True):
        assert r.label == q.label == "neutral" and r.anger - q.anger < 0.01, (q, r)
    assert 0.4 < quiet[2].anger < raised[2].anger < 0.7 and raised[2].label == "neutral", (quiet[2], raised[2])


# --- Short Mandarin fragments are counted in characters -------------------------------------------------------

def test_a_short_mandarin_fragment_is_shrunk_like_a_short_english_one() -> None:
    assert mostly_han("出的语音识") and not mostly_han("It's 2017.") and not mostly_han("")
    opts = EmotionOptions()
    text_p = np.array([[0.6, 0.2, 0.15, 0.05]])
    zeros = np.zeros((1, 4))
    as_han = fused_probabilities(text_p, zeros, np.array([5]), np.zeros(1), opts, np.array([True]))
    as_words = fused_probabilities(text_p, zeros, np.array([5]), np.zeros(1), opts, np.array([False]))
    # 5 of min_units_zh 8 characters: 5/8 of the text's evidence; 5 English words are a full utterance.
    assert as_han[0, 2] > as_words[0, 2] + 0.05
    assert as_han[0, 0] + 0.5 * as_han[0, 1] < 0.7 <= as_words[0, 0] + 0.5 * as_words[0, 1]


# --- Field checks ---------------------------------------------------------------------------------------------

def test_the_real_call_agrees_with_the_human_labels(field: ModuleType) -> None:
    data = json.loads(REAL_CALL.read_text(encoding="utf-8"))
    human = [u["label"] for u in data["utterances"]]
    assert len(human) == 51 and set(human) == {"neutral"}
    emotion = field.analyse_dump(data, EmotionOptions())
    assert emotion.acoustic
    got = [u.label for u in emotion.utterances]
    wrong = [(i, g, data["utterances"][i]["text"]) for i, (g, h) in enumerate(zip(got, human, strict=True)) if g != h]
    assert len(wrong) <= REAL_CALL_MAX_DISAGREE, wrong
    assert "angry" not in got
    assert max(u.anger for u in emotion.utterances) < 0.7
    assert emotion.as_metrics()["angry_customer"] == 0.0


def test_the_neutral_mandarin_clips_have_no_angry_utterance(field: ModuleType) -> None:
    clips = json.loads((ROOT / "data" / "emotion" / "field_clips.json").read_text(encoding="utf-8"))
    assert sorted(clips) == ["aishell_BAC009S0724W0121.wav", "funasr_asr_example.wav", "paddle_test.wav",
                             "wenet_long.wav"]
    for name, data in clips.items():
        emotion = field.analyse_dump(data, EmotionOptions())
        assert [u.label for u in emotion.utterances] == ["neutral"] * len(data["utterances"]), name


def test_polite_agents_of_the_labelled_dialogues_are_rarely_angry(field: ModuleType) -> None:
    """False alarms on agent lines written for the rule engine (measured: en 3.2 %, zh 5.9 %; before 10.8 %
    and 16.6 % labelled angry). Some of those agents are rude on purpose, so the rate cannot be 0."""
    figures = field.labelled_dialogues(EmotionOptions())
    assert figures["calls"] == 102
    for lang, ceiling in (("en", 0.04), ("zh", 0.07)):
        agent = figures[f"agent/{lang}"]
        assert agent["n"] > 400
        assert agent.get("angry", 0) == agent["flag"]  # the label and the flag agree
        assert agent["flag"] / agent["n"] <= ceiling, (lang, agent)
