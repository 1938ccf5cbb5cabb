"""Phrase matchers: exact, fuzzy and similar-meaning here, each compiled once per checklist, and
:func:`make_matcher`; the shared scope, hit and phrase book are :mod:`rules.match_base`, the regex matcher
:mod:`rules.regex_match`, the repeat-back matcher :mod:`rules.echo`.

A matcher searches a :class:`Scope` (the normalised utterances a predicate looks at, joined by newlines so
one C-level pass covers them all) and returns :class:`Hit` spans in normalised utterance text. Mapping a
hit back to the words as heard, with their times and probabilities, is the call's job
(:meth:`rules.call.PreparedCall.locate`), done only for the hits a verdict shows.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from rules.match_base import _WORD_CHARS, CallView, Hit, Matcher, PhraseBook, Scope, _drop_overlaps
from rules.normalize import is_cjk, normalize, sound_fold
from rules.regex_match import RegexMatcher


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
