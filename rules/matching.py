"""Phrase matchers: exact, fuzzy, regex and similar-meaning, each compiled once per checklist.

A matcher searches a :class:`Scope` (the normalised utterances a predicate looks at, joined by newlines so
one C-level pass covers them all) and returns :class:`Hit` spans in normalised utterance text. Mapping a
hit back to the words as heard, with their times and probabilities, is the call's job
(:meth:`rules.call.PreparedCall.locate`), done only for the hits a verdict shows.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any, NamedTuple, Protocol

import ahocorasick  # type: ignore[import-not-found]  # no type stubs published
import numpy as np
from rapidfuzz import fuzz, process

from core.types import Transcript
from rules.literals import first_characters, required_literals, starts_at_boundary
from rules.normalize import is_cjk, normalize, sound_fold, sound_fold_regex

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
    cache: dict[object, Any]  # per-call memo for matchers (e.g. content tokens of each utterance)

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
        key = ("phrase book", id(self))
        found: tuple[dict[str, list[int]], set[str]] | None = call.cache.get(key)
        if found is None:
            empty = not self._norms and not self._literals
            found = call.cache[key] = ({}, set()) if empty else self._scan(call.folded_joined())
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


class ExactMatcher(Matcher):
    """Phrases matched after normalisation: by characters in Mandarin, by whole words in English.

    Hits of one matcher do not overlap (the longest phrase wins): "i am sorry" counts one apology.
    """

    kind = "exact"

    def __init__(self, phrases: Sequence[str], book: PhraseBook | None = None) -> None:
        self.by_norm: dict[str, str] = {}
        for phrase in phrases:
            norm = normalize(phrase)
            if norm:
                self.by_norm.setdefault(norm, phrase)
        self.book = book if book is not None else PhraseBook()
        self.book.add(self.by_norm)
        self.min_length = min((len(n) for n in self.by_norm), default=1)
        self._folded = [(norm, sound_fold(norm), phrase) for norm, phrase in self.by_norm.items()]
        self._entries: dict[str, list[int]] = {}  # folded phrase -> its places in ``_folded``
        for k, (_, folded, _) in enumerate(self._folded):
            self._entries.setdefault(folded, []).append(k)
        self._keys = frozenset(self._entries)

    def may_match(self, call: CallView) -> bool:
        return not self._keys.isdisjoint(self.book.positions(call))

    def find(self, scope: Scope, call: CallView) -> list[Hit]:
        positions = self.book.positions(call)
        found = self._keys.intersection(positions)  # a pass over the few phrases the call has
        if not found:  # the usual case: none of this list's phrases is in the call
            return []
        hits = []
        # The phrases found, in the list's order (which phrase wins a tie depends on it).
        for k in sorted(k for folded in found for k in self._entries[folded]):
            norm, folded, phrase = self._folded[k]
            for pos in positions[folded]:
                if len(norm) < MIN_SOUND_MATCH and call.joined[pos : pos + len(norm)] != norm:
                    continue  # two syllables alike by chance are common (出差今天 ~ 差劲): short ones match exactly
                utt = bisect_right(call.offsets, pos) - 1
                if utt in scope.members:
                    start = pos - call.offsets[utt]
                    hits.append(Hit(utt, start, start + len(norm), phrase))
        return _drop_overlaps(hits) if len(hits) > 1 else hits


MIN_SOUND_MATCH = 3  # phrases shorter than this (after normalisation) must match as written, not by sound
_GROUP_SYNTAX = re.compile(r"\(\?P|\(\?[aiLmsux]|\\[1-9]|\(\?<[a-zA-Z]")


class _Branches:
    """Regexes run as one alternation of named branches (or one regex alone), with the literals each
    branch needs: a call that has none of a branch's literals is searched without that branch."""

    def __init__(self, sources: list[str], bodies: list[tuple[str, bool]], named: bool) -> None:
        self.sources = sources
        self.bodies = [body for body, _ in bodies]
        self.bounded = [bounded for _, bounded in bodies]
        self.named = named
        self.needs = [required_literals(body, re.MULTILINE) for body in self.bodies]
        # a match of the branch counts only at the start of a word (checked after the match, or by \b)
        self.at_word = [
            bounded or starts_at_boundary(body, re.MULTILINE)
            for body, bounded in zip(self.bodies, self.bounded, strict=True)
        ]
        self._compiled: dict[tuple[int, ...], re.Pattern[str]] = {}
        # Which branches can match depends only on which of the group's literals a call has: the regex is
        # kept per such set (a C-level intersection per call instead of a test per branch).
        self._literals = frozenset().union(*(need for need in self.needs if need is not None))
        self._by_found: dict[frozenset[str], re.Pattern[str] | None] = {}

    def regex(self, present: set[str] | None) -> re.Pattern[str] | None:
        """The regex of the branches that can match a call whose literals are ``present`` (None: all)."""
        if present is None:
            return self._regex_of(None)
        found = self._literals.intersection(present)
        if found in self._by_found:
            return self._by_found[found]
        if len(self._by_found) > 256:  # combinations seen are few; bound them all the same
            self._by_found.clear()
        regex = self._by_found[found] = self._regex_of(found)
        return regex

    def _regex_of(self, present: frozenset[str] | None) -> re.Pattern[str] | None:
        active = tuple(
            k for k, need in enumerate(self.needs) if need is None or present is None or not need.isdisjoint(present)
        )
        if not active:
            return None
        regex = self._compiled.get(active)
        if regex is None:
            if len(self._compiled) > 256:  # combinations seen are few; bound them all the same
                self._compiled.clear()
            body = "|".join(f"(?P<p{k}>{self.bodies[k]})" for k in active) if self.named else self.bodies[0]
            gated = body
            first = first_characters(body, re.MULTILINE)  # skip ahead to where a match can start
            if first is not None:
                # Where every branch's match must start a word, a position inside a word is skipped too (a
                # match found there would be dropped: the scan resumes at the next character either way).
                word = "\\b" if all(self.at_word[k] for k in active) else ""
                gated = f"(?={first}){word}(?:{body})"
            regex = self._compiled[active] = re.compile(gated, re.MULTILINE)
        return regex


class RegexMatcher(Matcher):
    """Regular expressions run on normalised utterances (``^``/``$`` are an utterance's start and end)."""

    kind = "regex"

    def __init__(self, patterns: Sequence[str], book: PhraseBook | None = None) -> None:
        self.sources = list(patterns)
        # One pass over the call for all patterns: each becomes a named branch of one regex, unless it has
        # groups of its own that renumbering would break (back-references, named groups, inline flags).
        alone = [p for p in patterns if _GROUP_SYNTAX.search(p)]
        joined = [p for p in patterns if p not in alone]
        # Patterns run on text folded by sound, like exact phrases (公号 matches 工号). A leading boundary is
        # checked after the match instead: with it, Python's engine tries the pattern at every position;
        # without it, it skips ahead to the characters a match can start with (2–3 times faster).
        self.groups = [_Branches([p], [_leading_boundary(sound_fold_regex(p))], named=False) for p in alone]
        if joined:
            bodies = [_leading_boundary(sound_fold_regex(p)) for p in joined]
            self.groups.append(_Branches(joined, bodies, named=True))
        self.book = book if book is not None else PhraseBook()
        self.book.add_literals(lit for g in self.groups for need in g.needs if need is not None for lit in need)
        self.prefiltered = any(need is not None for g in self.groups for need in g.needs)

    def may_match(self, call: CallView) -> bool:
        present = self.book.present(call) if self.prefiltered else None
        return any(group.regex(present) is not None for group in self.groups)

    def find(self, scope: Scope, call: CallView) -> Iterator[Hit]:  # type: ignore[override]
        """Hits one utterance at a time, in call order: the engine stops asking once it has enough (an
        "okay" regex hits most of a call's utterances, and the engine needs three)."""
        present = self.book.present(call) if self.prefiltered else None
        scans: list[Iterator[Hit]] = []
        text = ""
        for group in self.groups:
            regex = group.regex(present)
            if regex is None:
                continue  # none of its literals occurs in the call
            if not scans:
                text = call.folded(scope)
            scans.append(_scan(group, regex, text, scope))
        if not scans:
            return
        # Each scan runs in text order, so utterance by utterance; merged by utterance (ties: in the order
        # of the groups, as one list of all hits would have them), overlaps are dropped per utterance.
        stream = scans[0] if len(scans) == 1 else heapq.merge(*scans, key=_utterance_of)
        batch: list[Hit] = []
        for hit in stream:
            if batch and hit.utt != batch[0].utt:
                yield from _drop_overlaps(batch) if len(batch) > 1 else batch
                batch = []
            batch.append(hit)
        if batch:
            yield from _drop_overlaps(batch) if len(batch) > 1 else batch


def _utterance_of(hit: Hit) -> int:
    return hit.utt


def _scan(group: _Branches, regex: re.Pattern[str], text: str, scope: Scope) -> Iterator[Hit]:
    """The hits of one compiled regex in a scope's (folded) text, in text order."""
    sources, bounded, named, pos = group.sources, group.bounded, group.named, 0
    while (m := regex.search(text, pos)) is not None:
        start, end = m.span()
        k = int(m.lastgroup[1:]) if named and m.lastgroup else 0
        if end == start or (bounded[k] and not _word_start(text, start)):
            if start >= len(text):
                return  # an empty match at the very end: searching on from past it would find it again
            pos = start + 1  # not a hit here; a real one may start inside it
            continue
        pos = end
        u, offset = scope.locate(start)
        yield Hit(scope.indices[u], offset, offset + end - start, sources[k])


def _leading_boundary(pattern: str) -> tuple[str, bool]:
    """``pattern`` without a leading word boundary and whether it had one (only when it has no top-level
    ``|``, whose other branches the boundary does not govern)."""
    if not pattern.startswith("\\b") or _top_level_alternation(pattern):
        return pattern, False
    return pattern[2:], True


def _top_level_alternation(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def _word_start(text: str, pos: int) -> bool:
    """What a regex word boundary tests at ``pos``: a word character on exactly one side."""
    before = pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_")
    after = pos < len(text) and (text[pos].isalnum() or text[pos] == "_")
    return before != after


class FuzzyMatcher(Matcher):
    """Phrases matched approximately (rapidfuzz partial alignment), for words the recogniser misheard.

    A phrase scores against its best-aligned stretch of each utterance; in English the stretch is widened
    to whole words and scored again, so 'hold' does not match inside 'household'. One hit per phrase per
    utterance, overlapping hits of different phrases keep the best.
    """

    kind = "fuzzy"

    def __init__(self, phrases: Sequence[str], threshold: float) -> None:
        self.threshold = threshold
        self.by_norm: dict[str, str] = {}
        for phrase in phrases:
            norm = normalize(phrase)
            if norm:
                self.by_norm.setdefault(norm, phrase)
        self.min_length = min((len(n) for n in self.by_norm), default=1)

    def find(self, scope: Scope, call: CallView) -> list[Hit]:
        hits: list[Hit] = []
        utterance_texts = scope.text.split("\n")
        for norm, phrase in self.by_norm.items():
            # One C-level pass over the whole scope rules out most phrases: a stretch of one utterance is
            # also a stretch of the joined text, so the joined score is never lower.
            if not fuzz.partial_ratio(norm, scope.text, score_cutoff=self.threshold):
                continue
            candidates = process.extract(norm, utterance_texts, scorer=fuzz.partial_ratio,
                                         score_cutoff=self.threshold, limit=None)  # fmt: skip
            for _, _, k in candidates:
                hit = self._align(norm, phrase, utterance_texts[k], scope.indices[k])
                if hit is not None:
                    hits.append(hit)
        return _drop_overlaps(hits)

    def _align(self, norm: str, phrase: str, text: str, utt: int) -> Hit | None:
        alignment = fuzz.partial_ratio_alignment(norm, text, score_cutoff=self.threshold)
        if alignment is None:
            return None
        start, end = alignment.dest_start, alignment.dest_end
        if not is_cjk(norm[0]):  # English: widen to whole words, then score the words themselves
            while start > 0 and text[start - 1] in _WORD_CHARS:
                start -= 1
            while end < len(text) and text[end] in _WORD_CHARS:
                end += 1
            while start < end and text[start] == " ":
                start += 1
            score = fuzz.ratio(norm, text[start:end])
        else:
            score = alignment.score
        if score < self.threshold:
            return None
        return Hit(utt, start, end, phrase, round(score / 100.0, 3))


class SimilarMatcher(Matcher):
    """Utterances that mean the same as a phrase (multilingual sentence embeddings, cosine ≥ threshold).

    Embeddings of the utterances are cached by the embedder; the model is loaded on first use only.
    """

    kind = "similar"

    def __init__(self, phrases: Sequence[str], threshold: float) -> None:
        self.phrases = list(phrases)
        self.threshold = threshold

    def find(self, scope: Scope, call: CallView) -> list[Hit]:
        if not scope.indices or call.embedder is None:
            return []
        embedder = call.embedder()
        phrase_vectors = np.asarray(embedder.embed(self.phrases), dtype=np.float32)
        texts = [call.transcript.utterances[i].text for i in scope.indices]
        utterance_vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
        scores = utterance_vectors @ phrase_vectors.T  # cosines: the vectors are L2-normalised
        best = scores.argmax(axis=1)
        lengths = [len(t) for t in scope.text.split("\n")]
        hits = []
        for k in np.flatnonzero(scores[np.arange(len(best)), best] >= self.threshold):
            score = float(scores[k, best[k]])
            hits.append(Hit(scope.indices[k], 0, lengths[k], self.phrases[best[k]], round(score, 3)))
        return hits


_STOPWORDS = frozenset(
    [
        "about", "after", "again", "also", "and", "any", "are", "because", "been", "before", "being", "but", "can",
        "could", "did", "does", "doing", "done", "for", "from", "get", "got", "had", "has", "have", "having", "her",
        "here", "hers", "him", "his", "how", "into", "its", "just", "know", "let", "like", "look", "make", "may",
        "maybe", "more", "most", "much", "need", "not", "now", "off", "okay", "one", "only", "other", "our", "out",
        "over", "please", "really", "right", "said", "say", "see", "she", "should", "some", "sorry", "sure", "than",
        "thank", "thanks", "that", "the", "their", "them", "then", "there", "these", "they", "thing", "think",
        "this", "those", "through", "today", "too", "very", "want", "was", "way", "well", "were", "what", "when",
        "where", "which", "while", "who", "why", "will", "with", "would", "yeah", "yes", "you", "your", "all",
        "hello", "check", "call", "help", "going", "gonna", "mean"
    ]
)
_FUNCTION_CHARS = frozenset(
    "的了吗呢吧啊呀哦嗯是我你您他她它们这那有在不就也都还要会能可以个一很好对么什怎请谢把被给让跟和与或就"
    "说吧"
)
_LATIN_CONTENT = re.compile(r"(?<![a-z])[a-z]{3,}(?![a-z])|(?<![0-9])[0-9]{2,}(?![0-9])")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def content_tokens(norm: str) -> dict[str, tuple[int, int]]:
    """Content tokens of a normalised utterance with where they are: English words of 3+ letters that are
    not function words, numbers of 2+ digits, and Chinese character pairs without a function character."""
    out: dict[str, tuple[int, int]] = {}
    for m in _LATIN_CONTENT.finditer(norm):
        if m.group(0) not in _STOPWORDS:
            out.setdefault(m.group(0), m.span())
    if not norm.isascii():
        for m in _CJK_RUN.finditer(norm):
            run, base = m.group(0), m.start()
            for k in range(len(run) - 1):
                if run[k] not in _FUNCTION_CHARS and run[k + 1] not in _FUNCTION_CHARS:
                    out.setdefault(run[k : k + 2], (base + k, base + k + 2))
    return out


def _cached_tokens(call: CallView, utt: int) -> dict[str, tuple[int, int]]:
    cache: dict[int, dict[str, tuple[int, int]]] = call.cache.setdefault("content_tokens", {})
    if utt not in cache:
        cache[utt] = content_tokens(call.norm[utt])
    return cache[utt]


MOSTLY_ECHO = 0.75  # share of an utterance's content tokens (numbers count twice) that must be repeated


_ACKNOWLEDGES = re.compile(
    r"\b(?:okay|ok|got it|right|all right|alright|i see|understood|perfect|great|noted|sure|correct|thank you|thanks)\b"
    r"|好的|明白|了解|收到|记下了|没错|对吧|对吗|是吧|是吗|对不对|是不是|谢谢"
)


def _confirms(text: str, norm: str) -> bool:
    """True when an utterance asks for confirmation (ends with a question mark) or acknowledges."""
    return text.rstrip().endswith(("?", "？")) or _ACKNOWLEDGES.search(norm) is not None


def _reads_back_number(call: CallView, i: int, shared: list[str]) -> bool:
    """True when utterance ``i`` repeats a number of 4+ digits (an order, phone or card number, an amount)
    that its speaker had not said before: the other party gave it, the speaker reads it back."""
    numbers = {t for t in shared if t.isdigit() and len(t) >= 4}
    if not numbers:
        return False
    role = call.transcript.utterances[i].role
    for j in range(i):
        if call.transcript.utterances[j].role == role and numbers & _cached_tokens(call, j).keys():
            numbers -= _cached_tokens(call, j).keys()
    return bool(numbers)


class EchoMatcher(Matcher):
    """An utterance that repeats content words of the other party's previous turn (repeating back details).

    It counts shared content tokens (see :func:`content_tokens`); a shared number counts twice, since
    reading back a phone number, an amount or a date is the clearest confirmation there is.
    """

    kind = "echo"

    def __init__(self, min_words: int) -> None:
        self.min_words = min_words

    def find(self, scope: Scope, call: CallView) -> Iterator[Hit]:  # type: ignore[override]
        """Hits one by one, in call order: the engine stops asking once it has enough."""
        utterances = call.transcript.utterances
        for i in scope.indices:
            previous = [j for j in range(i - 1, -1, -1) if call.turns[j] == call.turns[i] - 1]
            if not previous or utterances[previous[0]].role == utterances[i].role:
                continue
            heard: set[str] = set()
            for j in previous:
                heard.update(_cached_tokens(call, j))
            mine = _cached_tokens(call, i)
            shared = [t for t in mine if t in heard]
            weight = sum(2 if t.isdigit() else 1 for t in shared)
            # A read-back asks for confirmation ("…, correct?"), acknowledges ("12 Oak Lane, got it"; "An oil
            # light. Okay.") or is mostly the other party's words. Reusing their words to refuse or contradict
            # them ("I already told you, it's 3,200"; "Delivery was eight days ago") is not repeating back.
            if weight >= self.min_words and (
                weight >= MOSTLY_ECHO * len(mine)
                or _confirms(utterances[i].text, call.norm[i])
                or _reads_back_number(call, i, shared)
            ):
                spans = [mine[t] for t in shared]
                start, end = min(s for s, _ in spans), max(e for _, e in spans)
                yield Hit(i, start, end, "repeats: " + " ".join(shared), round(weight / max(1, len(mine)), 3))


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


def make_matcher(kind: str, phrases: Sequence[str], threshold: float | None, book: PhraseBook | None = None) -> Matcher:
    """The matcher for a ``match`` kind (thresholds: fuzzy 0–100, default 85; similar cosine, default 0.9)."""
    if kind == "exact":
        return ExactMatcher(phrases, book)
    if kind == "regex":
        return RegexMatcher(phrases, book)
    if kind == "fuzzy":
        return FuzzyMatcher(phrases, 85.0 if threshold is None else threshold)
    if kind == "similar":
        return SimilarMatcher(phrases, 0.9 if threshold is None else threshold)
    raise ValueError(f"unknown match kind {kind!r}")
