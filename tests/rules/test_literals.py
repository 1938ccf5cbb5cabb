"""Required literals of a regex (rules/literals.py): exact sets, the no-false-skip property, the fallbacks."""

from __future__ import annotations

import random
import re
from types import SimpleNamespace

import pytest

import rules.literals as literals
from rules.literals import MIN_STRENGTH, required_literals, strength


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # a plain phrase is one literal, spaces included
        ("ask your bank", {"ask your bank"}),
        ("不归我们管", {"不归我们管"}),
        # an alternation needs one literal per branch; the \b around it consumes nothing
        (r"\bcall (?:your bank|the courier|another department)\b",
         {"call your bank", "call the courier", "call another department"}),
        ("另外(?:的)?部门|别的部门", {"另外", "别的部门"}),
        # an optional group or a repeat that may be absent contributes nothing; the rest is required
        ("(?:please )?hold on", {"hold on"}),
        ("transfer(?:red)?\\b", {"transfer"}),
        ("(?:one|two)? moments?", {" moment"}),
        ("x*hold", {"hold"}),
        # a repeat of at least one keeps its body's literal
        ("(?:bank)+ teller", {" teller"}),
        ("(?:hold){2} on", {"hold"}),
        # classes: a small class of single characters is a choice that spells the run; others break it
        ("[和跟与]银行联系", {"和银行联系", "跟银行联系", "与银行联系"}),
        ("ab[cd]ef", {"abcef", "abdef"}),
        ("[a-z]bank", {"bank"}),
        (r"\d+ dollars", {" dollars"}),
        (r"other\s+department", {"department"}),
        # an empty alternative: the branch adds nothing, the rest of the sequence still counts
        ("(?:bank|)teller", {"teller"}),
        ("(?:bank|\\w+) teller", {" teller"}),
        # a group with its own flags gives nothing; what is outside it still does
        ("(?i:bank) teller", {" teller"}),
        # a newline (where joined utterances meet) ends a literal: none contains one
        ("hold\\nme please", {"me please"}),
        ("hold\\non", {"hold"}),
        # the strongest (rarest-looking) part of a sequence wins; ties keep the first
        ("您找\\S{1,6}部门", {"您找"}),
        ("yes (?:ma'am|sir), certainly", {"yes ma'am, certainly", "yes sir, certainly"}),
        # a small choice of plain strings spells the run every way it can go; each part alone is too common
        (r"\bhow (?:can|could|dare) you\b", {"how can you", "how could you", "how dare you"}),
        ("(?:why|how) (?:are|were) you (?:talking|speaking)",
         {f"{a} {b} you {c}" for a in ("why", "how") for b in ("are", "were") for c in ("talking", "speaking")}),
        # more spellings than MAX_SPELLINGS (5 × 5 × 5): the run is cut where it would grow past them
        ("(?:a|b|c|d|e)(?:f|g|h|i|j)(?:k|l|m|n|o)xyz", {f"{c}xyz" for c in "klmno"}),
        # an empty alternative or a newline is no plain spelling: it ends the run
        ("(?:bank|) teller", {" teller"}),
    ],
)
def test_exact_literal_sets(pattern: str, expected: set[str]) -> None:
    assert required_literals(pattern, re.MULTILINE) == frozenset(expected)


@pytest.mark.parametrize(
    ("pattern", "flags"),
    [
        ("bank", re.IGNORECASE),  # case-insensitive: "Bank" matches without "bank"
        ("(?i)bank", 0),  # the same as an inline flag
        ("(?x) bank teller", 0),  # verbose: spaces are not literal
        ("(ab|cd)", 0),  # every literal too common (below MIN_STRENGTH)
        ("you|是", 0),
        ("wait{2,}ing", 0),  # "wai", "t", "ing": each too weak
        ("(?=bank)\\w+", 0),  # a lookahead consumes nothing that must be in the match
        ("(?!bank)\\w+", 0),
        ("[^a]+", 0),  # a negated class is no choice of literals
        ("[abcdefgh]{4}", 0),  # a class larger than MAX_CLASS
        ("bank|\\d+", 0),
        ("(", 0),  # does not compile: the loader reports it, the prefilter stays out of the way
        ("", 0),
    ],
)
def test_no_literals(pattern: str, flags: int) -> None:
    assert required_literals(pattern, flags) is None


def test_strength_counts_letters_and_digits_a_chinese_character_twice() -> None:
    assert [strength(s) for s in ("you", "hold", " moment", "是", "工号", "a b", "ab1")] == [3, 4, 6, 2, 4, 2, 3]
    assert MIN_STRENGTH == 4


def test_every_literal_is_strong_nonempty_and_without_newline() -> None:
    for pattern in ("a\\nbank|holding\\nx", "(?:courier|bank)\\n(?:部门|别的)", "hold(?:\\n|on)ing"):
        found = required_literals(pattern, re.MULTILINE)
        assert found, pattern
        assert all(lit and "\n" not in lit and strength(lit) >= MIN_STRENGTH for lit in found), (pattern, found)


# -- the property the prefilter rests on: no match without one of the literals -----------------------------

_ATOMS = ["bank", "hold", "ab", "ba", "x", "好的", "部门", "[ab]", "[好部]", "[^a]", ".", "\\b", "^", "$", "\\d",
          "\\s", "\\n", " ", "(?:)"]  # fmt: skip
_TEXT_PIECES = ["bank", "hold", "ab", "ba", "a", "b", "x", "好", "的", "部门", "部", " ", "\n", "1", "banab", "hol"]


def _pattern(rng: random.Random, depth: int = 0) -> str:
    """A random regex over a small vocabulary (groups, alternations, repeats, classes, lookarounds)."""
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice(_ATOMS)
    if r < 0.5:
        return _pattern(rng, depth + 1) + _pattern(rng, depth + 1)
    if r < 0.65:
        return "(?:" + "|".join(_pattern(rng, depth + 1) for _ in range(rng.randint(2, 3))) + ")"
    if r < 0.78:
        quantifier = rng.choice(["*", "+", "?", "{2}", "{0,2}", "{1,3}", "+?", "??", ""])
        return "(" + _pattern(rng, depth + 1) + ")" + quantifier
    if r < 0.84:
        return "(?=" + _pattern(rng, depth + 1) + ")" + _pattern(rng, depth + 1)
    if r < 0.9:
        return "(?!" + _pattern(rng, depth + 1) + ")" + _pattern(rng, depth + 1)
    if r < 0.95:
        return "(?<=b)" + _pattern(rng, depth + 1)
    return _pattern(rng, depth + 1) + rng.choice(["*", "+", "?"])


@pytest.mark.parametrize("min_strength", [MIN_STRENGTH, 1])
def test_no_match_without_a_required_literal(monkeypatch: pytest.MonkeyPatch, min_strength: int) -> None:
    """Fuzzed: whenever a random pattern matches a random text, one of its literals is in that text.

    With ``min_strength`` 1 every literal the analysis finds is kept, so the analysis itself is tested on
    many more patterns than the shipped threshold lets through."""
    monkeypatch.setattr(literals, "MIN_STRENGTH", min_strength)
    rng = random.Random(20261123 + min_strength)
    analysed = matched = 0
    for _ in range(4000):
        pattern = _pattern(rng)
        try:
            regex = re.compile(pattern, re.MULTILINE)
        except re.error:
            continue
        need = required_literals(pattern, re.MULTILINE)
        if need is None:
            continue
        analysed += 1
        for _ in range(8):
            # texts made of the literals' own pieces and near-misses, so that matches are frequent
            text = "".join(rng.choice(_TEXT_PIECES) for _ in range(rng.randrange(0, 12)))
            if rng.random() < 0.5:
                text += rng.choice(sorted(need))[: rng.randrange(1, 6)]
            if regex.search(text) is not None:
                matched += 1
                assert any(lit in text for lit in need), (pattern, text, need)
    # the property was exercised, not vacuously true
    assert analysed >= (300 if min_strength == 1 else 60), analysed
    assert matched >= (300 if min_strength == 1 else 40), matched


def test_no_match_across_joined_utterances() -> None:
    """A literal never contains the newline that joins utterances, so a literal found in the joined text
    lies inside one utterance, and a regex whose literal no utterance contains finds nothing in any."""
    need = required_literals("please hold\\non", re.MULTILINE)
    assert need == frozenset({"please hold"})
    utterances = ["can you please", "hold on a moment"]
    assert not any(lit in u for lit in need for u in utterances)
    assert not any(re.search("please hold\\non", u) for u in utterances)


# -- fallbacks: no prefilter, every regex runs ---------------------------------------------------------------


def test_no_private_parser_means_no_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    assert required_literals("ask your bank") == frozenset({"ask your bank"})
    monkeypatch.setattr(literals, "_sre_parse", None)
    assert required_literals("ask your bank") is None
    assert required_literals("另外(?:的)?部门|别的部门") is None


def test_parser_of_another_layout_means_no_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    """A future parser whose opcodes are laid out differently gives no literals instead of an error."""

    class Parsed(list[tuple[object, object]]):
        state = SimpleNamespace(flags=0)

    def parse(pattern: str, flags: int) -> Parsed:
        # a group whose argument has one field instead of four
        return Parsed([(literals.SUBPATTERN, (1,)), (literals.LITERAL, ord("b"))])

    monkeypatch.setattr(literals, "_sre_parse", SimpleNamespace(parse=parse))
    assert required_literals("(bank)b") is None


def test_parser_errors_mean_no_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(pattern: str, flags: int) -> object:
        raise RecursionError("too deep")

    monkeypatch.setattr(literals, "_sre_parse", SimpleNamespace(parse=parse))
    assert required_literals("ask your bank") is None
