"""The rescoring fast paths give what the plain code gives: hold pauses from word-time arrays, sound folding
through a code-point array, evidence and verdicts built through slot setters."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic_calls import synthetic_call
from core.scorecard import Evidence, ItemVerdict, Verdict, evidence_from_json, evidence_to_json
from core.types import CallMetadata, Transcript, Word
from rules.call import PreparedCall
from rules.normalize import FOLD_BY_ARRAY, _sound_table, normalize_many, sound_fold
from scorecards.store.stored import current_transcripts, load_calls
from tests._scores import build_store


def _times(transcript: Transcript) -> tuple[np.ndarray, np.ndarray]:
    words = [w for u in transcript.utterances for w in u.words]
    return np.array([w.start for w in words]), np.array([w.end for w in words])


def _with_holds(rng: random.Random, transcript: Transcript) -> Transcript:
    """Shift later utterances by random silences (some long enough to be holds), and spread some words."""
    utterances, shift = [], 0.0
    for u in transcript.utterances:
        shift += rng.choice([0.0, 0.0, 0.4, 1.0, 2.5, 30.0, 95.0])
        stretch = rng.choice([1.0, 1.0, 3.0])  # words with pauses of a second or more inside an utterance
        words = tuple(
            Word(u.start + shift + (w.start - u.start) * stretch, u.start + shift + (w.end - u.start) * stretch,
                 w.text, w.probability)
            for w in u.words
        )  # fmt: skip
        utterances.append(dataclasses.replace(u, start=words[0].start, end=words[-1].end, words=words))
    return dataclasses.replace(transcript, utterances=tuple(utterances))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_pauses_from_word_arrays_equal_the_loop_over_words(language: str) -> None:
    rng = random.Random(4 if language == "en" else 5)
    holds = 0
    for _ in range(40):
        transcript = _with_holds(rng, synthetic_call(rng, language, seconds=120.0))
        loop = PreparedCall(transcript, CallMetadata(), {})._pauses_after()
        arrays = PreparedCall(transcript, CallMetadata(), {}, word_times=_times(transcript))._pauses_after()
        assert arrays == loop  # exactly: the same floats added in the same order
        holds += sum(p >= 30.0 for p in loop)
    assert holds >= 40  # the comparison saw long pauses, not only zeros


def test_word_arrays_that_do_not_fit_the_transcript_are_refused() -> None:
    transcript = synthetic_call(random.Random(1), "en", seconds=60.0)
    starts, ends = _times(transcript)
    with pytest.raises(ValueError, match=r"word_times: .* pass the start and end times of every word"):
        PreparedCall(transcript, CallMetadata(), {}, word_times=(starts[:-1], ends[:-1]))._pauses_after()
    no_words = dataclasses.replace(
        transcript, utterances=(dataclasses.replace(transcript.utterances[0], words=()), *transcript.utterances[1:])
    )
    count = len(starts) - len(transcript.utterances[0].words)
    with pytest.raises(ValueError, match="or an utterance without words"):
        PreparedCall(no_words, CallMetadata(), {}, word_times=(starts[:count], ends[:count]))._pauses_after()


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [(3, "end", math.nan), (3, "start", math.nan), (-1, "end", math.nan), (3, "end", math.inf),
     (3, "start", math.inf), (3, "start", -math.inf), (0, "end", 1e308)],
)  # fmt: skip
def test_word_times_that_are_not_plain_numbers_give_what_the_loop_gives(where: int, field: str, value: float) -> None:
    """NaN, infinities and sums past the float range: the arrays' pauses equal the loop's (a NaN end, which
    would spread through the running maximum, makes the arrays fall back to the loop)."""
    transcript = _with_holds(random.Random(2), synthetic_call(random.Random(2), "en", seconds=90.0))
    index = where % len(transcript.utterances)
    u = transcript.utterances[index]
    k = 0 if where >= 0 else len(u.words) - 1
    odd_word = dataclasses.replace(u.words[k], **{field: value})
    odd = dataclasses.replace(u, words=(*u.words[:k], odd_word, *u.words[k + 1 :]))
    utterances = (*transcript.utterances[:index], odd, *transcript.utterances[index + 1 :])
    transcript = dataclasses.replace(transcript, utterances=utterances)
    loop = PreparedCall(transcript, CallMetadata(), {})._pauses_after()
    arrays = PreparedCall(transcript, CallMetadata(), {}, word_times=_times(transcript))._pauses_after()
    assert list(map(repr, arrays)) == list(map(repr, loop))  # repr: a NaN equals a NaN, every bit counts


def test_normalised_texts_that_do_not_fit_the_transcript_are_refused() -> None:
    transcript = synthetic_call(random.Random(3), "en", seconds=30.0)
    norms = normalize_many([u.text for u in transcript.utterances])
    assert PreparedCall(transcript, CallMetadata(), {}, normalized=norms).norm == norms
    for bad in (norms[:-1], [*norms[:-1], norms[-1] + "\nextra"], [*norms, "one too many"]):
        with pytest.raises(ValueError, match=r"normalized: .* pass rules\.normalize\.normalize_many"):
            PreparedCall(transcript, CallMetadata(), {}, normalized=bad)
    odd = dataclasses.replace(transcript.utterances[0], text="hello\nthere")
    two_lines = dataclasses.replace(transcript, utterances=(odd, *transcript.utterances[1:]))
    prepared = PreparedCall(two_lines, CallMetadata(), {})  # normalised here: the newline becomes a space
    assert prepared.norm[0] == "hello there" and prepared.joined.count("\n") == len(prepared.norm) - 1
    assert prepared.offsets == [sum(len(n) + 1 for n in prepared.norm[:i]) for i in range(len(prepared.norm))]


def test_the_bulk_loader_hands_each_call_its_word_times(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    calls = load_calls(store, current_transcripts(store))
    assert calls
    for call in calls:
        words = [w for u in call.transcript.utterances for w in u.words]
        if not all(u.words for u in call.transcript.utterances):
            assert call.word_times is None
            continue
        assert call.word_times is not None
        starts, ends = call.word_times
        assert starts.tolist() == [w.start for w in words] and ends.tolist() == [w.end for w in words]
    assert any(c.word_times is not None for c in calls)


def test_sound_fold_of_a_long_text_equals_the_translation_table() -> None:
    table = _sound_table()
    rng = random.Random(8)
    pool = [chr(c) for c in sorted(table)[::7]] + list("abc \n12２。，！您好再见")
    pool += ["\U0001f600", "\U00020000", "\ud800"]
    pool += [chr(0x3400), chr(0x9FFF), chr(0xA000), chr(0xFFFF)]
    for _ in range(300):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(FOLD_BY_ARRAY, 3 * FOLD_BY_ARRAY)))
        assert sound_fold(text) == text.translate(table)
    # the short path (str.translate) and the long one (the array) agree: 在见 is heard for 再见
    long = FOLD_BY_ARRAY
    assert sound_fold("在见" * long) == sound_fold("再见") * long == sound_fold("再见" * long)


def test_evidence_and_verdicts_stay_frozen_dataclasses() -> None:
    e = Evidence(kind="hit", role="agent", start=1.5, end=2.0, text="hello", pattern="hello", match="exact",
                 utterance=0)
    assert dataclasses.asdict(e) == {
        "kind": "hit", "role": "agent", "start": 1.5, "end": 2.0, "text": "hello", "pattern": "hello",
        "match": "exact", "similarity": 1.0, "confidence": 1.0, "role_confidence": 1.0, "reliable": True,
        "utterance": 0, "note": "",
    }  # fmt: skip
    assert evidence_from_json(evidence_to_json([e])) == (e,)
    assert json.loads(evidence_to_json([e]))[0]["text"] == "hello"
    assert dataclasses.replace(e, reliable=False).reliable is False and e.reliable is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.text = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Evidence()  # type: ignore[call-arg]
    with pytest.raises(TypeError):  # by keyword only: a swapped start and end cannot type-check
        Evidence("hit", "agent", 2.0, 1.5)  # type: ignore[misc]
    v = ItemVerdict(item_id="greet", section_id="opening", title="Greets", verdict=Verdict.PASS, points=10.0,
                    earned=10.0, veto=False, message="msg", reason="found", evidence=(e,))
    assert v.counted and v == ItemVerdict(**{f.name: getattr(v, f.name) for f in dataclasses.fields(v)})
    assert hash(v) == hash(dataclasses.replace(v))
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.verdict = Verdict.FAIL  # type: ignore[misc]
