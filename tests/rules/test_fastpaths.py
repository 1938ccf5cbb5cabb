"""The rules' fast paths give exactly what the plain way gives (rules.reference): the first-character
lookahead in front of a checklist's regexes, the phrase book's one-pass scan, the call's shortcuts (turns,
windowed scopes, hit spans, hold pauses from word-time arrays), sound folding through a code-point array,
and evidence and verdicts that stay plain frozen dataclasses."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
from itertools import accumulate, pairwise
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic_calls import synthetic_call
from core.scorecard import Evidence, ItemVerdict, Verdict, evidence_from_json, evidence_to_json
from core.types import CallMetadata, Role, Transcript, Utterance, Word
from rules import reference
from rules.call import PreparedCall, _find_span, pause_table
from rules.literals import first_characters, starts_at_boundary
from rules.loader import CHECKLIST_DIR, load_checklist
from rules.match_base import Hit, PhraseBook, Scope, _drop_overlaps
from rules.model import Window, _matchers
from rules.normalize import FOLD_BY_ARRAY, _sound_table, normalize, normalize_many, sound_fold
from rules.regex_match import RegexMatcher
from rules.regex_match import _scan as _scan_group
from scorecards.store.stored import current_transcripts, load_calls
from tests._scores import build_store


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("(?P<p0>(?:ask|call) x)|(?P<p1>\\btake y)", "[act]"),  # every branch; a \b consumes nothing
        ("a?b*c", "[abc]"),  # optional parts let the next one start the match
        ("(?:^|x)abc", "[ax]"),  # after ^ (zero-width) the match starts with a
        ("(?=q)ab", "[a]"),  # a lookahead consumes nothing: a is the first character
        ("工号|[0-9]+号", "[0-9工]"),
        ("a|", "[a]"),  # an empty match is never a hit: only non-empty matches need covering
        ("^(?:whatever|fine)$", None),  # every match starts a line: the engine fails other positions at once
        ("\\w+ speaking", None),  # categories are not followed
        ("[^a]b", None),  # nor negated classes
        (".{0,3}bank", None),  # nor any character
        ("(?i)bank", None),  # case-insensitive
        ("(a)\\1", None),  # starts with a literal: the engine skips ahead to it by itself
        ("(?P<p0>my name is [a-z])", None),  # the same inside a group
        ("[ab]x|c", "[abc]"),
        ("(?:[ab]x)", None),  # a class first: the engine skips ahead by itself
        ("\\1(a)|b", None),  # a back-reference is not followed
    ],
)
def test_first_characters(pattern: str, expected: str | None) -> None:
    assert first_characters(pattern, re.MULTILINE) == expected


def _texts(language: str) -> list[str]:
    """Texts to search: the checklist's own example lines, normalised and folded, joined as calls are."""
    checklist = load_checklist(CHECKLIST_DIR / f"service_{language}.yaml")
    lines = [normalize(u.text) for item in checklist.items for ex in item.examples for u in ex.transcript.utterances]
    rng = random.Random(3)
    calls = ["\n".join(rng.sample(lines, min(60, len(lines)))) for _ in range(20)]
    return [sound_fold(text) for text in calls]


def _scope(text: str) -> Scope:
    lines = text.split("\n")
    offsets = [0, *accumulate(len(line) + 1 for line in lines)][: len(lines)]
    return Scope(tuple(range(len(lines))), text, tuple(offsets), frozenset(range(len(lines))))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_gated_regexes_find_what_the_plain_ones_find(language: str) -> None:
    checklist = load_checklist(CHECKLIST_DIR / f"service_{language}.yaml")
    texts = _texts(language)
    gated = words = hits = 0
    for matcher in {id(m): m for m in _matchers(checklist) if isinstance(m, RegexMatcher)}.values():
        for group in matcher.groups:
            fast = group.regex(None)
            assert fast is not None
            body = "|".join(f"(?P<p{k}>{b})" for k, b in enumerate(group.bodies)) if group.named else group.bodies[0]
            plain = re.compile(body, re.MULTILINE)
            gated += fast.pattern != body
            words += "\\b(?:" in fast.pattern
            for text in texts:
                expected = list(_scan_group(group, plain, text, _scope(text)))
                hits += len(expected)
                assert list(_scan_group(group, fast, text, _scope(text))) == expected, group.sources
    assert gated >= 4 and hits >= 50  # the comparison exercised gated regexes that match
    assert words >= (2 if language == "en" else 0)  # and, in English, regexes gated on word starts


def test_gated_random_patterns_scan_alike() -> None:
    rng = random.Random(11)
    atoms = ["a", "b", "ab", "[ab]", "[a-c]", "c?", "(?:a|bc)", "(?:b|)", "\\b", "^", "$", "(?=a)", "(?!b)", "a*",
             "(?:ca)+", " ", "x{0,2}", "(?P<g>b)"]  # fmt: skip
    compared = found = 0
    for _ in range(800):
        parts = ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 3))]
        pattern = "|".join(p.replace("(?P<g>", f"(?P<g{k}>") for k, p in enumerate(parts))
        first = first_characters(pattern, re.MULTILINE)
        if first is None:
            continue
        plain, fast = re.compile(pattern, re.MULTILINE), re.compile(f"(?={first})(?:{pattern})", re.MULTILINE)
        for _ in range(5):
            text = "".join(rng.choice("abcx \n") for _ in range(rng.randint(0, 30)))
            expected = reference.regex_scan(plain, text)
            assert reference.regex_scan(fast, text) == expected, (pattern, text)
            compared, found = compared + 1, found + len(expected)
    assert compared >= 1000 and found >= 1000


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("\\bx|\\by", True),
        ("\\bx|y", False),  # one alternative may start anywhere
        ("(?:\\bx|\\b(?:y))z", True),
        ("(?P<p0>\\bhold)", True),
        ("(?i:\\bx)", False),  # a group with its own flags is not followed
        ("x\\b", False),
        ("^x", False),
    ],
)
def test_starts_at_boundary(pattern: str, expected: bool) -> None:
    assert starts_at_boundary(pattern, re.MULTILINE) is expected


def test_word_gate_only_when_every_active_branch_starts_a_word() -> None:
    matcher = RegexMatcher(["\\bcall (?:your|the) bank", "\\bout of my hands\\b|\\bnot my job\\b", "bank"])
    (group,) = matcher.groups
    assert group.at_word == [True, True, False]
    two = RegexMatcher(["\\bcall (?:your|the) bank", "\\bout of my hands\\b|\\bnot my job\\b"]).groups[0].regex(None)
    all_three = group.regex(None)
    assert two is not None and all_three is not None
    assert "\\b(?:" in two.pattern  # both branches start a word: positions inside words are skipped
    # the third branch can match inside a word: no \b gate while it is active
    assert "\\b(?:" not in all_three.pattern
    text = "recall your bank\nnot my job\nriverbank call the bank"
    scan = list(_hits(matcher, text))
    assert [(u, s, e, p) for u, s, e, p, _ in scan] == [
        (0, 12, 16, "bank"), (1, 0, 10, "\\bout of my hands\\b|\\bnot my job\\b"), (2, 5, 9, "bank"),
        (2, 10, 23, "\\bcall (?:your|the) bank"),
    ]  # fmt: skip


def _hits(matcher: RegexMatcher, text: str) -> list[Hit]:
    norm = text.split("\n")
    call = PreparedCall(
        Transcript(tuple(Utterance(float(i), i + 0.5, t, Role.AGENT, 1.0) for i, t in enumerate(norm)), 10.0, "en"),
        CallMetadata(),
        {},
    )
    return list(matcher.find(call.scope_of(list(range(len(norm)))), call))


def test_dropping_overlaps_equals_the_plain_way() -> None:
    rng = random.Random(5)
    apart = 0
    for _ in range(3000):
        hits = []
        for _ in range(rng.randint(0, 7)):
            start = rng.randint(0, 30)
            hits.append(Hit(rng.randint(0, 3), start, start + rng.randint(0, 6), rng.choice("abc"),
                            rng.choice([1.0, 1.0, 0.9])))  # fmt: skip
        got = _drop_overlaps(hits)
        assert got == reference.drop_overlapping(hits) and [type(h) for h in got] == [Hit] * len(got)
        apart += len(got) == len(hits) and len(hits) > 1
    assert apart >= 300  # the fast path (nothing to drop) was taken often, the slow one too


def test_turns_equal_the_loop() -> None:
    rng = random.Random(8)
    for n in range(0, 40):
        roles = [rng.choice(list(Role)) for _ in range(n)]
        utterances = tuple(Utterance(float(i), i + 0.5, "x", r, 1.0) for i, r in enumerate(roles))
        transcript = Transcript(utterances, 50.0, "en")
        turns = PreparedCall(transcript, CallMetadata(), {}).turns
        assert turns == reference.turns(transcript) and all(type(t) is int for t in turns)


def test_scopes_of_windows_equal_filtering_every_utterance() -> None:
    """A windowed scope walks the window's utterances; the plain way tests every utterance of the role."""
    rng = random.Random(12)
    kinds = [f"{edge}_{what}" for edge in ("first", "last") for what in ("seconds", "utterances", "percent")]
    for n in range(60):
        count = rng.randrange(0, 30)
        starts = sorted(rng.uniform(0, 300) for _ in range(count))
        if n % 3 == 0:
            rng.shuffle(starts)  # out of time order: the windows are found utterance by utterance
        utterances = tuple(Utterance(s, s + rng.uniform(0.5, 8), "x", rng.choice(list(Role)), rng.random())
                           for s in starts)  # fmt: skip
        call = PreparedCall(Transcript(utterances, 320.0, "en"), CallMetadata(), {})
        windows = tuple(Window(rng.choice(kinds), rng.choice([1, 3, 15, 30, 50])) for _ in range(rng.randrange(1, 3)))
        for role in ("agent", "customer", "any"):
            scope, _ = call.scope(role, windows, 0.6)
            assert list(scope.indices) == reference.scope_indices(call, role, windows, 0.6), (role, windows)


def test_span_where_it_was_equals_the_search() -> None:
    rng = random.Random(9)
    shortcut = 0
    for _ in range(3000):
        norm = " ".join("".join(rng.choice("ab") for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 6)))
        compact = norm.replace(" ", "")
        if rng.random() < 0.3:  # word norms that differ from the utterance's
            compact = compact.replace("ab", "b", 1)
        start = rng.randrange(len(norm))
        hit = Hit(0, start, rng.randint(start + 1, len(norm)), "p")
        plain = reference.find_span(compact, norm, hit)
        if plain[0] == -1:
            continue  # the fuzzy alignment takes over, as before
        assert _find_span(compact, norm, hit) == plain
        shortcut += compact.startswith(norm[hit.start : hit.end].replace(" ", ""), plain[0]) and plain[0] == len(
            norm[: hit.start].replace(" ", "")
        )
    assert shortcut >= 1000


def test_a_regex_that_can_match_nothing_ends_its_scan() -> None:
    # an empty match at the end of the text used to be found again and again (the search clamps its start)
    matcher = RegexMatcher(["(?:okay)?", "x*$"])
    hits = _hits(matcher, "okay then\nno\nokay")
    assert [(h.utt, h.start, h.end) for h in hits] == [(0, 0, 4), (2, 0, 4)]


def test_phrase_book_scan_equals_finding_each_phrase() -> None:
    rng = random.Random(12)
    alphabet, kept = "ab1 工,\n", 0
    for _ in range(400):
        keys = {"".join(rng.choice(alphabet[:-1]) for _ in range(rng.randint(1, 4))) for _ in range(6)}
        phrases = {k for k in keys if rng.random() < 0.7}
        literals = keys - phrases | {k for k in phrases if rng.random() < 0.3}
        book = PhraseBook()
        book._norms.update(phrases)  # already folded: the scan compares folded keys with folded text
        book.add_literals(literals)
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        found, present = book._scan(text)
        expected_found, expected_present = reference.book_scan(phrases, literals, text)
        assert {k: sorted(v) for k, v in found.items()} == expected_found and present == expected_present
        kept += sum(map(len, found.values()))
    assert kept >= 1000


def _times(transcript: Transcript) -> tuple[np.ndarray, np.ndarray]:
    words = [w for u in transcript.utterances for w in u.words]
    return np.array([w.start for w in words]), np.array([w.end for w in words])


def _with_holds(rng: random.Random, transcript: Transcript, spread: bool = True) -> Transcript:
    """Shift later utterances by random silences (some long enough to be holds), and spread some words (so
    that some utterances overlap the next)."""
    utterances, shift = [], 0.0
    for u in transcript.utterances:
        shift += rng.choice([0.0, 0.0, 0.4, 1.0, 2.5, 30.0, 95.0])
        # words with pauses of a second or more inside an utterance
        stretch = rng.choice([1.0, 1.0, 3.0]) if spread else 1.0
        words = tuple(
            Word(u.start + shift + (w.start - u.start) * stretch, u.start + shift + (w.end - u.start) * stretch,
                 w.text, w.probability)
            for w in u.words
        )  # fmt: skip
        utterances.append(dataclasses.replace(u, start=words[0].start, end=words[-1].end, words=words))
    return dataclasses.replace(transcript, utterances=tuple(utterances))


def _table(transcript: Transcript, word_times: bool) -> tuple[list[float], list[float]]:
    utterances = transcript.utterances
    if word_times:
        starts, ends = _times(transcript)
    else:
        spans = [w for u in utterances for w in (u.words or (u,))]
        starts, ends = np.array([w.start for w in spans]), np.array([w.end for w in spans])
    pause_ends, totals = pause_table(starts, ends, utterances[0].start if utterances else 0.0)
    return pause_ends.tolist(), totals.tolist()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_pauses_equal_the_loop_over_words(language: str) -> None:
    rng = random.Random(4 if language == "en" else 5)
    holds = 0
    for _ in range(40):
        transcript = _with_holds(rng, synthetic_call(rng, language, seconds=120.0))
        plain = reference.pauses_after(transcript.utterances)
        loop = PreparedCall(transcript, CallMetadata(), {})._pauses_after()
        arrays = PreparedCall(transcript, CallMetadata(), {}, word_times=_times(transcript))._pauses_after()
        assert arrays == loop  # exactly: the same table from the words or from the bulk loader's arrays
        assert loop == pytest.approx(plain, rel=1e-12, abs=1e-9)  # a difference of prefix sums, not a sum
        assert _table(transcript, word_times=False) == reference.pause_table(transcript.utterances)  # exactly
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
    """NaN, infinities and sums past the float range: the pauses equal the loop's, bit for bit (a NaN end is
    passed over, as the loop's comparison passes it over)."""
    transcript = _with_holds(random.Random(2), synthetic_call(random.Random(2), "en", seconds=90.0))
    index = where % len(transcript.utterances)
    u = transcript.utterances[index]
    k = 0 if where >= 0 else len(u.words) - 1
    odd_word = dataclasses.replace(u.words[k], **{field: value})
    odd = dataclasses.replace(u, words=(*u.words[:k], odd_word, *u.words[k + 1 :]))
    utterances = (*transcript.utterances[:index], odd, *transcript.utterances[index + 1 :])
    transcript = dataclasses.replace(transcript, utterances=utterances)
    for word_times in (False, True):
        table = _table(transcript, word_times)
        assert [list(map(repr, t)) for t in table] == [list(map(repr, t)) for t in reference.pause_table(utterances)]
    loop = PreparedCall(transcript, CallMetadata(), {})._pauses_after()
    arrays = PreparedCall(transcript, CallMetadata(), {}, word_times=_times(transcript))._pauses_after()
    assert list(map(repr, arrays)) == list(map(repr, loop))  # repr: a NaN equals a NaN, every bit counts


def test_a_first_start_that_is_not_a_number_leaves_no_pauses() -> None:
    transcript = _with_holds(random.Random(6), synthetic_call(random.Random(6), "en", seconds=60.0))
    first = dataclasses.replace(transcript.utterances[0], start=math.nan)
    transcript = dataclasses.replace(transcript, utterances=(first, *transcript.utterances[1:]))
    assert _table(transcript, word_times=False) == reference.pause_table(transcript.utterances) == ([], [0.0])


def test_pauses_after_an_utterance_bound_the_silence_after_any_word_in_it() -> None:
    """The hold filter (``followed_by_silence``) skips an utterance only when no hit in it can be followed by
    enough silence: the per-utterance pauses are at least ``silence_after`` from any of its words' ends, when
    utterances do not overlap (overlapping speech shortens the call's pauses but not one speaker's silence)."""
    rng, compared = random.Random(7), 0
    for language in ("en", "zh"):
        for _ in range(20):
            transcript = _with_holds(rng, synthetic_call(rng, language, seconds=120.0), spread=False)
            utterances = transcript.utterances
            assert all(a.end <= b.start for a, b in pairwise(utterances))
            call = PreparedCall(transcript, CallMetadata(), {})
            pauses = call._pauses_after()
            for i, u in enumerate(call.transcript.utterances):
                for w in u.words:
                    silence = call.silence_after(i, w.end)
                    assert pauses[i] >= silence - 1e-3, (i, w.end)  # silence_after is rounded to the millisecond
                    compared += silence >= 1.0
    assert compared >= 200


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
        assert sound_fold(text) == reference.sound_fold(text)
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
