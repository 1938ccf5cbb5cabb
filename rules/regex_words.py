"""A regular expression said in words: one example of what it matches, for people who do not read regexes.

An agent told "missed: the agent says '(?:请|麻烦)您?(?:拨打|联系).{0,8}部门'" learns nothing; told that
the checklist looked for phrases like "请拨打…部门", they know what was meant. The example takes the first
way through every alternation, the shortest count of every repeat (at least once), one character of every
small class, and "…" for anything that stands for free text (``.``, ``\\w``, ranges, negated classes).
Lookarounds, anchors and word boundaries consume nothing and are left out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rules.literals import MAX_CLASS, _sre_parse

FREE = "…"

if _sre_parse is not None:  # pragma: no branch - CPython
    from re._constants import (  # type: ignore[import-not-found,unused-ignore]
        ASSERT,
        ASSERT_NOT,
        AT,
        BRANCH,
        GROUPREF,
        GROUPREF_EXISTS,
        IN,
        LITERAL,
        MAX_REPEAT,
        MIN_REPEAT,
        SUBPATTERN,
    )


@lru_cache(maxsize=4096)
def example(pattern: str) -> str:
    """One string of the kind ``pattern`` matches, with "…" for free text; the pattern itself when it cannot
    be read (another interpreter's parser, a pattern the parser refuses)."""
    if _sre_parse is None:
        return pattern
    try:
        parsed = _sre_parse.parse(pattern)
        text = _walk(list(parsed))
    except (re.error, RecursionError, ValueError, TypeError, IndexError):
        return pattern
    text = re.sub(f"{FREE}(?:\\s*{FREE})+", FREE, text).strip()
    return re.sub(r"\s+", " ", text) or pattern


def _walk(items: list[tuple[Any, Any]]) -> str:
    return "".join(_one(op, av) for op, av in items)


def _one(op: Any, av: Any) -> str:
    if op is LITERAL:
        return chr(av)
    if op is SUBPATTERN:
        return _walk(list(av[3]))
    if op is BRANCH:
        return _walk(list(av[1][0]))
    if op in (MAX_REPEAT, MIN_REPEAT):
        low, _high, sub = av
        part = _walk(list(sub))
        if low == 0:
            return FREE if part == FREE else ""  # an optional word is left out; optional free text stays free
        return part
    if op is IN:
        literals = [code for kind, code in av if kind is LITERAL]
        return chr(literals[0]) if literals and len(av) == len(literals) and len(av) <= MAX_CLASS else FREE
    if op in (AT, ASSERT, ASSERT_NOT, GROUPREF, GROUPREF_EXISTS):
        return ""  # consumes nothing (anchors, lookarounds) or repeats what was said
    return FREE  # ., \w, \d, negated characters and classes: free text
