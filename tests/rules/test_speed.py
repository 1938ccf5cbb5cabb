"""Fast paths added for rescoring speed give exactly what the plain code gives: the first-character
lookahead in front of a checklist's regexes, and the per-call shortcuts of the matchers and the call."""

from __future__ import annotations

import random
import re
from itertools import accumulate

import pytest

from core.types import CallMetadata, Role, Transcript, Utterance
from rules.call import PreparedCall, _find_span
from rules.literals import first_characters, starts_at_boundary
from rules.loader import CHECKLIST_DIR, load_checklist
from rules.match_base import Hit, PhraseBook, Scope, _drop_overlapping, _drop_overlaps
from rules.model import Window, _matchers
from rules.normalize import at_word_boundary, normalize, sound_fold
from rules.regex_match import RegexMatcher
from rules.regex_match import _scan as _scan_group


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


def _scan(regex: re.Pattern[str], text: str) -> list[tuple[int, int, str | None]]:
    """The hits the matchers' scan keeps: non-empty matches, resuming one character on after an empty one."""
    out, pos = [], 0
    while (m := regex.search(text, pos)) is not None:
        if m.end() == m.start():
            if m.start() >= len(text):
                break
            pos = m.start() + 1
            continue
        out.append((m.start(), m.end(), m.lastgroup))
        pos = m.end()
    return out


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
            expected = _scan(plain, text)
            assert _scan(fast, text) == expected, (pattern, text)
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
        assert got == _drop_overlapping(hits) and [type(h) for h in got] == [Hit] * len(got)
        apart += len(got) == len(hits) and len(hits) > 1
    assert apart >= 300  # the fast path (nothing to drop) was taken often, the slow one too


def _plain_turns(transcript: Transcript) -> list[int]:
    turns, turn, previous = [], 0, None
    for u in transcript.utterances:
        if previous is not None and u.role != previous:
            turn += 1
        turns.append(turn)
        previous = u.role
    return turns


def test_turns_equal_the_loop() -> None:
    rng = random.Random(8)
    for n in range(0, 40):
        roles = [rng.choice(list(Role)) for _ in range(n)]
        utterances = tuple(Utterance(float(i), i + 0.5, "x", r, 1.0) for i, r in enumerate(roles))
        transcript = Transcript(utterances, 50.0, "en")
        turns = PreparedCall(transcript, CallMetadata(), {}).turns
        assert turns == _plain_turns(transcript) and all(type(t) is int for t in turns)


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
            plain = [i for i, u in enumerate(utterances)
                     if (role == "any" or u.role == role or u.role_confidence < 0.6 or u.role is Role.UNKNOWN)
                     and any(call.in_window(w, i, u.start, u.end) for w in windows)]  # fmt: skip
            assert list(scope.indices) == plain, (role, windows)


def _plain_find_span(compact: str, norm: str, hit: Hit) -> tuple[int, int]:
    needle = norm[hit.start : hit.end].replace(" ", "")
    expected = len(norm[: hit.start].replace(" ", ""))
    best, pos = -1, compact.find(needle)
    while pos != -1 and needle:
        if best == -1 or abs(pos - expected) < abs(best - expected):
            best = pos
        pos = compact.find(needle, pos + 1)
    return (best, best + len(needle)) if best != -1 else (-1, -1)


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
        plain = _plain_find_span(compact, norm, hit)
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


def _plain_book_scan(phrases: set[str], literals: set[str], text: str) -> tuple[dict[str, list[int]], set[str]]:
    """Every occurrence of every phrase that cuts no word in two, and the literals present: by str.find."""
    found: dict[str, list[int]] = {}
    for key in phrases:
        start = text.find(key)
        while start != -1:
            if at_word_boundary(text, start, start + len(key)):
                found.setdefault(key, []).append(start)
            start = text.find(key, start + 1)
    return found, {key for key in literals if key in text}


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
        expected_found, expected_present = _plain_book_scan(phrases, literals, text)
        assert {k: sorted(v) for k, v in found.items()} == expected_found and present == expected_present
        kept += sum(map(len, found.values()))
    assert kept >= 1000
