"""Fast paths added for rescoring speed give exactly what the plain code gives: the first-character
lookahead in front of a checklist's regexes, and the per-call shortcuts of the matchers and the call."""

from __future__ import annotations

import random
import re

import pytest

from rules.literals import first_characters
from rules.loader import CHECKLIST_DIR, load_checklist
from rules.matching import RegexMatcher
from rules.model import _matchers
from rules.normalize import normalize, sound_fold


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
        ("(a)\\1", "[a]"),  # a back-reference after the first character does not matter
        ("\\1(a)", None),  # before it, it does
    ],
)
def test_first_characters(pattern: str, expected: str | None) -> None:
    assert first_characters(pattern, re.MULTILINE) == expected


def _spans(regex: re.Pattern[str], text: str) -> list[tuple[int, int, str | None]]:
    return [(m.start(), m.end(), m.lastgroup) for m in regex.finditer(text)]


def _texts(language: str) -> list[str]:
    """Texts to search: the checklist's own example lines, normalised and folded, joined as calls are."""
    checklist = load_checklist(CHECKLIST_DIR / f"service_{language}.yaml")
    lines = [normalize(u.text) for item in checklist.items for ex in item.examples for u in ex.transcript.utterances]
    rng = random.Random(3)
    calls = ["\n".join(rng.sample(lines, min(60, len(lines)))) for _ in range(20)]
    return [sound_fold(text) for text in calls]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_gated_regexes_find_what_the_plain_ones_find(language: str) -> None:
    checklist = load_checklist(CHECKLIST_DIR / f"service_{language}.yaml")
    texts = _texts(language)
    gated = hits = 0
    for matcher in {id(m): m for m in _matchers(checklist) if isinstance(m, RegexMatcher)}.values():
        for group in matcher.groups:
            fast = group.regex(None)
            assert fast is not None
            body = "|".join(f"(?P<p{k}>{b})" for k, b in enumerate(group.bodies)) if group.named else group.bodies[0]
            plain = re.compile(body, re.MULTILINE)
            gated += fast.pattern != body
            for text in texts:
                expected = _spans(plain, text)
                hits += len(expected)
                assert _spans(fast, text) == expected, group.sources
                # every position a search may start from, as the scan resumes after a rejected match
                for pos in range(0, len(text), 7):
                    a, b = fast.search(text, pos), plain.search(text, pos)
                    assert (a and (a.span(), a.lastgroup)) == (b and (b.span(), b.lastgroup))
    assert gated >= 4 and hits >= 50  # the comparison exercised gated regexes that match


def _scan(regex: re.Pattern[str], text: str) -> list[tuple[int, int, str | None]]:
    """The hits the matchers' scan keeps: non-empty matches, resuming one character on after an empty one."""
    out, pos = [], 0
    while (m := regex.search(text, pos)) is not None:
        if m.end() == m.start():
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
