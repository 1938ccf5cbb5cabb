"""What every phrase matcher shares: the scope it searches, the hits it returns, the call it may consult.

A matcher searches a :class:`Scope` (the normalised utterances a predicate looks at, joined by newlines so one
C-level pass covers them all) and returns :class:`Hit` spans in normalised utterance text.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import NamedTuple, Protocol

import ahocorasick  # type: ignore[import-not-found]  # no type stubs published
import numpy as np

from core.types import Transcript
from rules.normalize import sound_fold

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


class Hit(NamedTuple):  # immutable and cheap to build (a call makes dozens); a frozen dataclass is not
    """A match inside one normalised utterance: characters ``start:end`` of ``PreparedCall.norm[utt]``."""

    utt: int
    start: int
    end: int
    pattern: str  # the phrase or regex as the author wrote it
    similarity: float = 1.0


class Scope:
    """The utterances a predicate looks at, as one string.

    Attributes:
        indices: the utterances, in call order.
        text: their normalised texts joined by "\\n".
        offsets: where each one starts in ``text``.
        members: ``indices`` as a set.

    Immutable. Built from the call's normalised utterances (``norm``), ``text`` and ``offsets`` are joined on
    first use: exact phrases are looked up in the whole call, so most scopes never need them.
    """

    __slots__ = ("_norm", "_offsets", "_text", "indices", "members")
    indices: tuple[int, ...]
    members: frozenset[int]
    _norm: Sequence[str] | None
    _text: str | None
    _offsets: tuple[int, ...] | None

    def __init__(
        self,
        indices: tuple[int, ...],
        text: str | None = None,
        offsets: tuple[int, ...] | None = None,
        members: frozenset[int] = frozenset(),
        *,
        norm: Sequence[str] | None = None,
    ) -> None:
        if text is None and norm is None:
            raise ValueError("Scope: pass text and offsets, or norm (the call's normalised utterances)")
        set_ = object.__setattr__
        set_(self, "indices", indices)
        set_(self, "members", members)
        set_(self, "_norm", norm)
        set_(self, "_text", text)
        set_(self, "_offsets", offsets)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Scope is immutable: cannot set {name!r}")

    def __repr__(self) -> str:
        return f"Scope(indices={self.indices!r}, text={self.text!r})"

    @property
    def text(self) -> str:
        text: str | None = self._text
        if text is None:
            assert self._norm is not None
            norm = self._norm
            text = "\n".join([norm[i] for i in self.indices])
            object.__setattr__(self, "_text", text)
        return text

    @property
    def offsets(self) -> tuple[int, ...]:
        offsets: tuple[int, ...] | None = self._offsets
        if offsets is None:
            assert self._norm is not None
            norm = self._norm
            starts = [0, *accumulate([len(norm[i]) + 1 for i in self.indices])]
            starts.pop()
            offsets = tuple(starts)
            object.__setattr__(self, "_offsets", offsets)
        return offsets

    def locate(self, pos: int) -> tuple[int, int]:
        """(position in ``indices``, offset inside that utterance) of a position in ``text``."""
        offsets = self.offsets
        k = bisect_right(offsets, pos) - 1
        return k, pos - offsets[k]


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (see models.embedding)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class CallView(Protocol):
    """What matchers read of a call (rules.call.PreparedCall)."""

    norm: list[str]
    joined: str  # all normalised utterances joined by "\n"
    offsets: list[int]  # where each utterance starts in ``joined``
    turns: list[int]
    transcript: Transcript
    embedder: Callable[[], Embedder] | None
    phrase_hits: dict[int, tuple[dict[str, list[int]], set[str]]]  # the phrase book's scan, by book
    content_tokens: dict[int, dict[str, tuple[int, int]]]  # each utterance's content tokens (the echo matcher)

    def folded_joined(self) -> str: ...  # ``joined`` folded by sound, once per call

    def folded(self, scope: Scope) -> str: ...  # a scope's text folded by sound


class Matcher:
    """Base of the matchers: ``kind`` names the match type shown in evidence.

    ``min_length`` is the shortest normalised text a hit can be: an utterance at least half as long may
    hide a misheard hit.
    """

    kind = ""
    min_length = 1

    def find(self, scope: Scope, call: CallView) -> list[Hit]:
        """All hits in the scope of a call."""
        raise NotImplementedError

    def may_match(self, call: CallView) -> bool:
        """False when the matcher cannot find anything anywhere in the call (a cheap test, or True)."""
        return True


def _drop_overlaps(hits: list[Hit]) -> list[Hit]:
    """Overlapping hits in one utterance count once (the most similar, then the longest, is kept)."""
    ordered = sorted(hits, key=_place)
    if _apart(ordered):  # the usual case: nothing to drop, and the order below would be this one
        return ordered
    return _drop_overlapping(hits)


def _place(hit: Hit) -> tuple[int, int]:
    return hit.utt, hit.start


def _apart(ordered: list[Hit]) -> bool:
    """True when hits sorted by place neither overlap nor share a start within an utterance."""
    utt, start, end = -1, -1, -1
    for hit in ordered:
        if hit.utt != utt:
            utt, start, end = hit.utt, hit.start, hit.end
            continue
        if hit.start < end or hit.start == start:
            return False
        start, end = hit.start, max(end, hit.end)
    return True


def _drop_overlapping(hits: list[Hit]) -> list[Hit]:
    kept: dict[int, list[Hit]] = {}
    for hit in sorted(hits, key=lambda h: (-h.similarity, h.start - h.end)):
        same = kept.setdefault(hit.utt, [])
        if not any(k.start < hit.end and hit.start < k.end for k in same):
            same.append(hit)
    return sorted((h for group in kept.values() for h in group), key=lambda h: (h.utt, h.start))


class PhraseBook:
    """Every exact phrase of a checklist, found in one pass over a call and shared by its exact matchers.

    An Aho–Corasick automaton of all phrases (``pyahocorasick``, in C) reports every occurrence, overlapping
    ones of different predicates included, in one pass; occurrences that cut an English word or a number in
    two ('hold' inside 'holding') are dropped. The same pass notes which required literals of the
    checklist's regexes (:mod:`rules.literals`) occur anywhere in the call, so a regex that cannot match
    is not run.
    """

    def __init__(self) -> None:
        self._norms: set[str] = set()
        self._literals: set[str] = set()
        self._automaton: ahocorasick.Automaton | None = None

    def add(self, norms: Iterable[str]) -> None:
        self._norms.update(sound_fold(n) for n in norms)
        self._automaton = None

    def add_literals(self, literals: Iterable[str]) -> None:
        """Register strings (already sound-folded) whose presence :meth:`present` reports."""
        self._literals.update(literals)
        self._automaton = None

    def _compile(self) -> ahocorasick.Automaton:
        if self._automaton is None:
            automaton = ahocorasick.Automaton()
            for key in self._norms | self._literals:  # with what the scan does with it: no set lookups there
                # and, for a phrase, its length less one and whether its first / last character is a word
                # character (the text there is the key itself: only the neighbour outside needs a look)
                automaton.add_word(key, (key, key in self._norms, key in self._literals, len(key) - 1,
                                         key[0] in _WORD_CHARS, key[-1] in _WORD_CHARS))  # fmt: skip
            automaton.make_automaton()
            self._automaton = automaton
        return self._automaton

    def positions(self, call: CallView) -> dict[str, list[int]]:
        """Where each phrase starts in ``call.joined`` (computed once per call).

        Phrases and call are compared by sound (:func:`~rules.normalize.sound_fold`): keys are folded
        phrases, so look a phrase up with ``sound_fold(norm)``.
        """
        return self._found(call)[0]

    def present(self, call: CallView) -> set[str]:
        """The registered literals that occur anywhere in the call's folded text (once per call)."""
        return self._found(call)[1]

    def _found(self, call: CallView) -> tuple[dict[str, list[int]], set[str]]:
        found = call.phrase_hits.get(id(self))
        if found is None:
            empty = not self._norms and not self._literals
            found = call.phrase_hits[id(self)] = ({}, set()) if empty else self._scan(call.folded_joined())
        return found

    def _scan(self, text: str) -> tuple[dict[str, list[int]], set[str]]:
        found: dict[str, list[int]] = {}
        present: set[str] = set()
        last = len(text) - 1
        for end, (key, phrase, literal, length, word_first, word_last) in self._compile().iter(text):
            if literal:
                present.add(key)
            if phrase:
                start = end - length
                # rules.normalize.at_word_boundary(text, start, end + 1), inlined (a report per phrase found):
                # an occurrence must not cut an English word or a number in two ('hold' in 'holding')
                if (not word_first or start == 0 or text[start - 1] not in _WORD_CHARS) and (
                    not word_last or end >= last or text[end + 1] not in _WORD_CHARS
                ):
                    found.setdefault(key, []).append(start)
        return found, present
