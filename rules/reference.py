"""The plain way to compute what each of the rules' fast paths computes, in one place.

Each function here is the short, obvious version of one shortcut taken on the scoring path; the
equivalence tests (tests/rules/test_fastpaths.py) compare the shortcut with it on random and real
input. Nothing on the scoring path imports this module: a reference is only a reference if the code it
checks does not lean on it (the one exception is re-exported below, where the general case of a fast
path is itself the plain way).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.types import Role, Transcript, Utterance
from rules.call import PAUSE_S, PreparedCall
from rules.match_base import Hit
from rules.match_base import _drop_overlapping as drop_overlapping
from rules.model import Window
from rules.normalize import _sound_table, at_word_boundary

__all__ = [
    "book_scan",
    "drop_overlapping",
    "find_span",
    "pause_table",
    "pauses_after",
    "regex_scan",
    "scope_indices",
    "sound_fold",
    "turns",
]


def _pauses(utterances: Sequence[Utterance]) -> list[tuple[float, float]]:
    """Each pause of the call as (where it ends, its seconds): a loop over every word (an utterance without
    words is one span), measuring each word's start from the latest end before it."""
    found, end = [], utterances[0].start if utterances else 0.0
    for u in utterances:
        for w in u.words or (u,):
            if w.start - end >= PAUSE_S:
                found.append((w.start, w.start - end))
            if w.end > end:
                end = w.end
    return found


def pause_table(utterances: Sequence[Utterance]) -> tuple[list[float], list[float]]:
    """Where each pause ends and the running total of pause seconds (0.0 first). Fast path:
    :func:`rules.call.pause_table` (numpy over the words' times)."""
    ends, totals = [], [0.0]
    for end, seconds in _pauses(utterances):
        ends.append(end)
        totals.append(totals[-1] + seconds)
    return ends, totals


def pauses_after(utterances: Sequence[Utterance]) -> list[float]:
    """Per utterance, the seconds of pauses that end after it starts and no later than its speaker's next
    utterance starts, added up one by one. Fast path: ``PreparedCall._pauses_after`` (prefix sums)."""
    pauses, out = _pauses(utterances), []
    for i, u in enumerate(utterances):
        following = next((v.start for v in utterances[i + 1 :] if v.role == u.role), float("inf"))
        out.append(sum(seconds for end, seconds in pauses if u.start < end <= following))
    return out


def turns(transcript: Transcript) -> list[int]:
    """Each utterance's speaker-turn number, counting role changes one by one. Fast path:
    ``PreparedCall.turns`` (a running count of changes)."""
    out, turn, previous = [], 0, None
    for u in transcript.utterances:
        if previous is not None and u.role != previous:
            turn += 1
        out.append(turn)
        previous = u.role
    return out


def scope_indices(call: PreparedCall, role: str, windows: tuple[Window, ...], min_role: float) -> list[int]:
    """The utterances a predicate searches, by testing every utterance of the call. Fast path:
    ``PreparedCall.scope`` (a window's utterances found by binary search, memoised per call)."""
    return [
        i
        for i, u in enumerate(call.transcript.utterances)
        if (role == "any" or u.role == role or u.role_confidence < min_role or u.role is Role.UNKNOWN)
        and any(call.in_window(w, i, u.start, u.end) for w in windows)
    ]


def find_span(compact: str, norm: str, hit: Hit) -> tuple[int, int]:
    """Where a hit's text lies in an utterance's concatenated word norms: the occurrence closest to where it
    was in the text, or (-1, -1). Fast path: :func:`rules.call._find_span` (first looks where it was)."""
    needle = norm[hit.start : hit.end].replace(" ", "")
    expected = len(norm[: hit.start].replace(" ", ""))
    best, pos = -1, compact.find(needle)
    while pos != -1 and needle:
        if best == -1 or abs(pos - expected) < abs(best - expected):
            best = pos
        pos = compact.find(needle, pos + 1)
    return (best, best + len(needle)) if best != -1 else (-1, -1)


def book_scan(phrases: set[str], literals: set[str], text: str) -> tuple[dict[str, list[int]], set[str]]:
    """Every occurrence of every phrase that cuts no word in two, and the literals present, by ``str.find``
    phrase after phrase. Fast path: ``PhraseBook._scan`` (one Aho–Corasick pass for all of them)."""
    found: dict[str, list[int]] = {}
    for key in phrases:
        start = text.find(key)
        while start != -1:
            if at_word_boundary(text, start, start + len(key)):
                found.setdefault(key, []).append(start)
            start = text.find(key, start + 1)
    return found, {key for key in literals if key in text}


def regex_scan(regex: re.Pattern[str], text: str) -> list[tuple[int, int, str | None]]:
    """The matches a regex matcher keeps, as (start, end, group): non-empty ones, the search resuming one
    character on after an empty one. Fast path: the first-character lookahead of :mod:`rules.literals`."""
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


def sound_fold(text: str) -> str:
    """Text folded by sound through the translation table. Fast path: :func:`rules.normalize.sound_fold`
    (a code-point array for long texts)."""
    return text.translate(_sound_table())
