"""Required literals of a regular expression: strings one of which every match must contain.

Rescoring runs every regex item on every call, and most regexes cannot match most calls: "ask your bank"
needs "bank" (or "store", "courier" …) somewhere in the call. Finding those strings for all regexes of a
checklist is one Aho–Corasick pass per call (:class:`rules.matching.PhraseBook`); a regex none of whose
literals occur is not run at all. The literals come from Python's own regex parser, so they are exactly
what the engine will match; anything the analysis does not understand gives no literals (the regex then
always runs), so a prefilter can only skip work, never a match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

try:  # the regex parser the re module itself uses (public as sre_parse before 3.11)
    import re._parser as _sre_parse  # type: ignore[import-not-found,unused-ignore]
    from re._compiler import _get_charset_prefix, _get_literal_prefix  # type: ignore[import-not-found,unused-ignore]
    from re._constants import (  # type: ignore[import-not-found,unused-ignore]
        ASSERT,
        ASSERT_NOT,
        AT,
        AT_BEGINNING,
        AT_BEGINNING_LINE,
        AT_BEGINNING_STRING,
        AT_BOUNDARY,
        BRANCH,
        IN,
        LITERAL,
        MAX_REPEAT,
        MIN_REPEAT,
        RANGE,
        SUBPATTERN,
    )
except ImportError:  # pragma: no cover - another interpreter: no prefilter, every regex runs
    _sre_parse = None

MAX_CLASS = 6  # a class of up to this many single characters ([和跟与]) still counts as a literal choice
Literals = frozenset[str]


def required_literals(pattern: str, flags: int = 0) -> Literals | None:
    """Strings one of which occurs in every match of ``pattern`` (None when no such set is known).

    Args:
        pattern: a regular expression, as compiled with ``flags``.
        flags: the ``re`` flags it is compiled with; case-insensitive patterns get no literals.

    Returns:
        A set of non-empty strings without newlines (a match never spans them, so a literal found in a
        text of joined utterances lies inside one utterance), or None.
    """
    if _sre_parse is None or flags & re.IGNORECASE:
        return None
    try:
        parsed = _sre_parse.parse(pattern, flags)
    except (re.error, RecursionError, ValueError):  # the loader reports bad regexes; no prefilter here
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):  # inline (?i) or (?x): leave it alone
        return None
    try:
        found = _sequence(list(parsed))
    except (TypeError, ValueError, IndexError):  # an opcode laid out differently: no prefilter
        return None
    return found if found and min(map(strength, found)) >= MIN_STRENGTH else None


MAX_SPELLINGS = 24  # strings a run of literals may stand for ("how (?:can|could|dare) you": three)


def _sequence(items: list[tuple[Any, Any]]) -> Literals | None:
    """Literals of a concatenation: the best of its parts' sets, where a run of literal characters is one
    string (zero-width anchors such as ``\\b`` do not break a run: they consume nothing). A small choice of
    literals inside a run (an alternation or class of plain strings) spells the run every way it can go:
    "how (?:can|could|dare) you" needs one of three strong strings, where its parts alone ("how ", "can" …)
    are each too common to look for."""
    choices: list[Literals] = []
    runs: Literals = _NOTHING  # the run so far, spelled every way it can be

    def close() -> None:
        nonlocal runs
        if runs != _NOTHING:
            choices.append(runs)
        runs = _NOTHING

    for op, av in items:
        if op is AT:
            continue
        spellings = _spellings(op, av)
        if spellings is None:
            close()
            found = _element(op, av)
            if found:
                choices.append(found)
        elif len(runs) * len(spellings) <= MAX_SPELLINGS:
            runs = frozenset(r + s for r in runs for s in spellings)
        else:  # too many ways to spell the run: what was read so far is one choice, a new run starts here
            close()
            runs = spellings
    close()
    if not choices:
        return None
    # The rarest-looking choice: strongest weakest string, then fewest strings.
    return max(choices, key=lambda c: (min(map(strength, c)), -len(c)))


def strength(literal: str) -> int:
    """How rare a literal is likely to be: its letters and digits, a Chinese character counting two.

    A prefilter on "you" or "是" costs a report at nearly every position of a call and skips nothing;
    :data:`MIN_STRENGTH` keeps such literals out.
    """
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in literal if not ch.isspace())


MIN_STRENGTH = 4  # "hold", "bank", "工号": worth looking for; "you", "can", "您": everywhere


_NOTHING: Literals = frozenset([""])


def _spellings(op: Any, av: Any) -> Literals | None:
    """The strings an element can match when it is plain literal text: a character, a small class of
    characters, or a group or alternation of such text (None otherwise, or when one of them is empty or
    there are more than :data:`MAX_SPELLINGS`)."""
    if op is LITERAL:
        return None if av == 10 else frozenset([chr(av)])  # 10: a newline, where joined utterances meet
    if op is IN:
        if len(av) > MAX_CLASS or any(kind is not LITERAL or code == 10 for kind, code in av):
            return None
        return frozenset(chr(code) for _, code in av)
    if op is SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        return None if add_flags or del_flags else _spelled(list(sub))
    if op is BRANCH:
        out = _alternatives(av, _spelled)
        return out if out is not None and len(out) <= MAX_SPELLINGS else None
    return None


def _alternatives(av: Any, of: Callable[[list[tuple[Any, Any]]], Literals | None]) -> Literals | None:
    """The union of ``of`` over an alternation's branches; None when one branch gives None."""
    out: set[str] = set()
    for alternative in av[1]:
        found = of(list(alternative))
        if found is None:
            return None
        out |= found
    return frozenset(out)


def _spelled(items: list[tuple[Any, Any]]) -> Literals | None:
    """Every string a concatenation of plain literal text can match (see :func:`_spellings`)."""
    out = _NOTHING
    for op, av in items:
        if op is AT:
            continue
        spellings = _spellings(op, av)
        if spellings is None or len(out) * len(spellings) > MAX_SPELLINGS:
            return None
        out = frozenset(r + s for r in out for s in spellings)
    return None if "" in out else out


def _element(op: Any, av: Any) -> Literals | None:
    """Literals of an element that is not plain literal text (:func:`_spellings` gave none: a small class of
    characters never reaches here)."""
    if op is SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        return None if add_flags or del_flags else _sequence(list(sub))
    if op is BRANCH:
        return _alternatives(av, _sequence)  # None: one alternative can match without any literal
    if op in (MAX_REPEAT, MIN_REPEAT):
        low, _high, sub = av
        return _sequence(list(sub)) if low >= 1 else None
    if op in (ASSERT, ASSERT_NOT):
        return None  # lookarounds consume nothing that must be in the match
    return None


# -- first characters ------------------------------------------------------------------------------------
#
# Python's engine skips ahead to the characters a match can start with only when the pattern itself starts
# with a literal or a class; an alternation of named groups ("(?P<p0>(?:ask|call …)…)|(?P<p1>…)") starts
# with a group, so the engine enters every branch at every position of the text. A lookahead on the set of
# characters a match can start with, put in front, fails at most positions with one class test: the same
# matches (it consumes nothing and tests only what the match itself would), 1.5–4 times faster.


class _NoFirst(Exception):
    """The pattern has something the first-character analysis does not follow."""


def first_characters(pattern: str, flags: int = 0) -> str | None:
    """A character class (``[a-cx]``) holding the first character of every non-empty match, or None.

    None when the analysis does not understand the pattern (back-references, ``.``, ``\\w``, negated
    classes, case-insensitive or verbose flags…) and when every match must start at the start of a line or
    of the text: the engine already fails those positions at once, and a lookahead would only add a test.
    """
    if _sre_parse is None or flags & (re.IGNORECASE | re.VERBOSE | re.DOTALL):
        return None
    try:
        parsed = _sre_parse.parse(pattern, flags)
        if parsed.state.flags & (re.IGNORECASE | re.VERBOSE | re.DOTALL) or _starts_with(list(parsed), _STARTS):
            return None
        if _get_literal_prefix(parsed, flags)[0] or _get_charset_prefix(parsed, flags):
            return None  # the engine skips ahead by itself (a lookahead in front would stop it)
        spans, _nullable = _first_of_sequence(list(parsed))
    except (_NoFirst, re.error, RecursionError, TypeError, ValueError, IndexError):
        return None
    if not spans:
        return None
    parts = [re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in sorted(spans)]
    return "[" + "".join(parts) + "]"


def _first_of_sequence(items: list[tuple[Any, Any]]) -> tuple[set[tuple[int, int]], bool]:
    """(code-point ranges a concatenation's first consumed character lies in, whether it can be empty)."""
    spans: set[tuple[int, int]] = set()
    for op, av in items:
        found, nullable = _first_of_element(op, av)
        spans |= found
        if not nullable:
            return spans, False
    return spans, True


def _first_of_element(op: Any, av: Any) -> tuple[set[tuple[int, int]], bool]:
    if op is LITERAL:
        return {(av, av)}, False
    if op is IN:
        spans = set()
        for kind, value in av:
            if kind is LITERAL:
                spans.add((value, value))
            elif kind is RANGE:
                spans.add((value[0], value[1]))
            else:  # a negated class or a category (\d, \w): not followed
                raise _NoFirst
        return spans, False
    if op in (AT, ASSERT, ASSERT_NOT):  # zero-width: the first character comes after
        return set(), True
    if op is SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise _NoFirst
        return _first_of_sequence(list(sub))
    if op is BRANCH:
        spans, nullable = set(), False
        for alternative in av[1]:
            found, empty = _first_of_sequence(list(alternative))
            spans |= found
            nullable = nullable or empty
        return spans, nullable
    if op in (MAX_REPEAT, MIN_REPEAT):
        low, _high, sub = av
        found, empty = _first_of_sequence(list(sub))
        return found, empty or low == 0
    raise _NoFirst  # ., back-references, atomic groups, possessive repeats…


_STARTS = (AT_BEGINNING, AT_BEGINNING_LINE, AT_BEGINNING_STRING)


def starts_at_boundary(pattern: str, flags: int = 0) -> bool:
    """True when every match of ``pattern`` starts with ``\\b`` (a word boundary), False when unsure."""
    if _sre_parse is None:
        return False
    try:
        return _starts_with(list(_sre_parse.parse(pattern, flags)), (AT_BOUNDARY,))
    except (re.error, RecursionError, TypeError, ValueError, IndexError):
        return False


def _starts_with(items: list[tuple[Any, Any]], anchors: tuple[Any, ...]) -> bool:
    """True when every path through ``items`` starts with one of these zero-width anchors."""
    if not items:
        return False
    op, av = items[0]
    if op is AT:
        return av in anchors
    if op is SUBPATTERN:
        return not av[1] and not av[2] and _starts_with(list(av[3]), anchors)
    if op is BRANCH:
        return all(_starts_with(list(alternative), anchors) for alternative in av[1])
    return False
