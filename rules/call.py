"""A call prepared for matching: normalised once, then searched by every predicate of every checklist."""

from __future__ import annotations

import math
import operator
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from itertools import accumulate
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from core.types import CallMetadata, Role, Transcript
from rules.match_base import Embedder, Hit, Scope
from rules.model import Window
from rules.normalize import is_cjk, normalize, normalize_many, sound_fold

_TOKEN = re.compile(r"\[[A-Z]+\]|[A-Za-z0-9'’]+|\S")  # a redaction placeholder ("[PHONE]") is one token
_PLUS_ONE = (1).__add__  # an utterance's length and its newline


class Located(NamedTuple):  # immutable and cheap to build (one per hit); a frozen dataclass is not
    """A hit mapped back to the transcript: times, the words as heard and their mean probability."""

    start: float
    end: float
    heard: str
    confidence: float
    timing: str  # "words" when word times were used, "utterance" when the transcript had none


PAUSE_S = 1.0  # a gap between words at least this long is a pause, not the rhythm of speech


@dataclass
class PreparedCall:
    """One call with its normalised utterances and caches shared by all predicates.

    Attributes:
        norm: the normalised text of each utterance.
        turns: each utterance's speaker-turn number (consecutive utterances of one role are one turn).
    """

    transcript: Transcript
    metadata: CallMetadata
    metrics: Mapping[str, float]
    embedder: Callable[[], Embedder] | None = None
    normalized: InitVar[Sequence[str] | None] = None  # the utterances already normalised (a bulk loader's)
    # The start and end times of the call's words in order, as arrays, when every utterance has words: a bulk
    # loader holds them as columns already, and pauses are then found without a Python step per word.
    word_times: InitVar[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None] = None
    norm: list[str] = field(init=False)
    joined: str = field(init=False)
    offsets: list[int] = field(init=False)
    turns: list[int] = field(init=False)
    # What other modules work out once per call, each in its own table: the phrase book's scan
    # (rules.match_base, by book), utterances' content tokens (rules.echo), metric figures by source
    # (rules.metrics), party anchors (rules.engine, by party and role confidence).
    phrase_hits: dict[int, tuple[dict[str, list[int]], set[str]]] = field(init=False, default_factory=dict)
    content_tokens: dict[int, dict[str, tuple[int, int]]] = field(init=False, default_factory=dict)
    figures: dict[str, dict[str, float] | None] = field(init=False, default_factory=dict)
    party_anchors: dict[tuple[str, float], Any] = field(init=False, default_factory=dict)
    # This class's own, by what each depends on.
    _silences: dict[tuple[int, float], float] = field(init=False, default_factory=dict)
    _pauses: list[float] | None = field(init=False, default=None)
    _followed: dict[tuple[tuple[int, ...], float], Scope] = field(init=False, default_factory=dict)
    _members: dict[tuple[str, float], frozenset[int]] = field(init=False, default_factory=dict)
    _folded: str | None = field(init=False, default=None)
    _folded_parts: list[str] | None = field(init=False, default=None)
    _roles: dict[tuple[str, float], tuple[list[int], frozenset[int]]] = field(init=False, default_factory=dict)
    _doubtful: dict[float, frozenset[int]] = field(init=False, default_factory=dict)
    _weights: tuple[Callable[[int], int], Callable[[int], float]] | None = field(init=False, default=None)
    _confidences: dict[tuple[int, ...], float | None] = field(init=False, default_factory=dict)
    _misheard: dict[float, frozenset[int]] = field(init=False, default_factory=dict)
    _scopes: dict[tuple[object, ...], tuple[Scope, frozenset[int]]] = field(init=False, default_factory=dict)
    _tokens: dict[int, tuple[str, list[int], list[re.Match[str]]]] = field(init=False, default_factory=dict)
    _starts: list[float] = field(init=False)
    _ends: list[float] = field(init=False)
    _ordered: bool = field(init=False)
    _word_times: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = field(init=False)

    def __post_init__(
        self,
        normalized: Sequence[str] | None,
        word_times: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None,
    ) -> None:
        utterances = self.transcript.utterances
        self._word_times = word_times  # checked when pauses are first needed (most calls never need them)
        self.norm = normalize_many([u.text for u in utterances]) if normalized is None else list(normalized)
        self.joined = "\n".join(self.norm)
        # (counted in C: one Python step per utterance here costs more than the checks themselves)
        if len(self.norm) != len(utterances) or self.joined.count("\n") != max(0, len(self.norm) - 1):
            raise ValueError(
                f"normalized: {len(self.norm)} texts for {len(utterances)} utterances (or one with "
                "a newline); pass rules.normalize.normalize_many of the utterance texts, or None"
            )
        self.offsets = list(accumulate(map(_PLUS_ONE, map(len, self.norm[:-1])), initial=0)) if self.norm else []
        # A new turn wherever the role changes from the utterance before: a running count of the changes.
        roles = [u.role for u in utterances]
        self.turns = list(accumulate(map(operator.ne, roles[1:], roles), initial=0)) if roles else []
        self._starts = [u.start for u in utterances]
        self._ends = [u.end for u in utterances]
        self._ordered = self._starts == sorted(self._starts) and self._ends == sorted(self._ends)

    @property
    def duration(self) -> float:
        utterances = self.transcript.utterances
        return self.transcript.duration or (utterances[-1].end if utterances else 0.0)

    def silence_after(self, index: int, after: float) -> float:
        """Seconds of silence from ``after`` (inside utterance ``index``) until its speaker's next utterance.

        A hold: the agent says "one moment", perhaps mutters, the customer may say "okay", and otherwise
        nobody speaks. Recognisers cut such a stretch into pieces (VAD splits, words padded with silence),
        so the pauses are added up: every gap of at least ``PAUSE_S`` between consecutive words (word
        times when the utterances have them), up to the speaker's next utterance or the end of the call.
        """
        key = (index, after)
        if key not in self._silences:
            utterances = self.transcript.utterances
            role, total, end = utterances[index].role, 0.0, after
            for i in range(index, len(utterances)):
                u = utterances[i]
                if i > index and u.role == role:
                    total += max(0.0, u.start - end) if u.start - end >= PAUSE_S else 0.0
                    break
                spans = [(w.start, w.end) for w in u.words] if u.words else [(u.start, u.end)]
                for start, stop in spans:
                    if stop <= after:
                        continue
                    if start - end >= PAUSE_S:
                        total += start - end
                    end = max(end, stop)
            self._silences[key] = round(total, 3)
        return self._silences[key]

    def _pauses_after(self) -> list[float]:
        """Per utterance, at least :meth:`silence_after` for any hit in it (unless utterances overlap): all
        pauses from its start to its speaker's next utterance, from prefix sums over the call's pauses.

        Computed once per call for every utterance, since each hold item filters whole scopes with it."""
        if self._pauses is None:
            utterances = self.transcript.utterances
            if self._word_times is not None:
                starts, ends = _checked_word_times(self._word_times, utterances)
            else:  # an utterance without words is one span
                spans = [w for u in utterances for w in (u.words or (u,))]
                starts = np.array([w.start for w in spans], dtype=np.float64)
                ends = np.array([w.end for w in spans], dtype=np.float64)
            pause_ends, totals = pause_table(starts, ends, utterances[0].start if utterances else 0.0)
            following: list[float] = [math.inf] * len(utterances)
            last_seen: dict[Role, float] = {}
            for i in range(len(utterances) - 1, -1, -1):
                role = utterances[i].role
                following[i] = last_seen.get(role, math.inf)
                last_seen[role] = utterances[i].start
            # pauses that end after the utterance starts and no later than the speaker's next utterance (both
            # bounds looked up in one call: numpy's cost here is per call, not per utterance)
            count = len(utterances)
            at = totals[np.searchsorted(pause_ends, following + self._starts, side="right")]
            with np.errstate(invalid="ignore"):  # infinite word times give nan, as the loop does
                self._pauses = (at[:count] - at[count:]).tolist()
        return self._pauses

    def followed_by_silence(self, scope: Scope, seconds: float) -> Scope:
        """The part of ``scope`` whose utterances are followed by at least ``seconds`` of pauses (counted from
        each utterance's start, so it holds every utterance a ``gap_after`` hit can be in): a hold phrase is
        looked for only there, which skips the search on most calls."""
        key = (scope.indices, seconds)
        if key not in self._followed:
            pauses = self._pauses_after()
            self._followed[key] = self.scope_of([i for i in scope.indices if pauses[i] >= seconds])
        return self._followed[key]

    def scope(self, role: str, windows: tuple[Window, ...], min_role_confidence: float) -> tuple[Scope, frozenset[int]]:
        """The utterances a predicate searches, and which of them may belong to the other party.

        An utterance of the wanted role is in scope; so is one whose role is unknown or uncertain (its
        hits then count as unreliable). With windows, an utterance that overlaps any of them is in scope.
        """
        key = (role, windows, min_role_confidence)
        if key not in self._scopes:
            self._scopes[key] = self._build_scope(role, windows, min_role_confidence)
        return self._scopes[key]

    def _build_scope(self, role: str, windows: tuple[Window, ...], min_role: float) -> tuple[Scope, frozenset[int]]:
        indices, unsure = self._by_role(role, min_role)
        if windows:
            # A window is a few utterances of a long call: walk the window, not every utterance of the role.
            spans = [self._window_indices(w) for w in windows]
            allowed = spans[0] if len(spans) == 1 and isinstance(spans[0], range) else sorted(set().union(*spans))
            members = self._role_members(role, min_role)
            indices = [i for i in allowed if i in members]
        return self.scope_of(indices), unsure

    def _role_members(self, role: str, min_role: float) -> frozenset[int]:
        key = (role, min_role)
        members = self._members.get(key)
        if members is None:
            members = self._members[key] = frozenset(self._by_role(role, min_role)[0])
        return members

    def scope_of(self, indices: list[int]) -> Scope:
        """The scope of these utterances (in call order)."""
        if len(indices) == len(self.norm):  # the whole call: its text is already joined
            return Scope(tuple(indices), self.joined, tuple(self.offsets), frozenset(indices))
        return Scope(tuple(indices), members=frozenset(indices), norm=self.norm)  # text joined when asked for

    def folded_joined(self) -> str:
        """``joined`` folded by sound (:func:`~rules.normalize.sound_fold`), computed once per call."""
        if self._folded is None:
            self._folded = sound_fold(self.joined)
        return self._folded

    def folded(self, scope: Scope) -> str:
        """The scope's text folded by sound: the call is folded once, a scope's text is joined from it
        (folding keeps lengths and never touches the newlines)."""
        whole = self.folded_joined()
        if len(scope.indices) == len(self.norm):  # the whole call (its text is ``joined``)
            return whole
        if whole is self.joined:
            return scope.text  # ASCII: nothing to fold
        if self._folded_parts is None:
            self._folded_parts = whole.split("\n")
        parts = self._folded_parts
        return "\n".join([parts[i] for i in scope.indices])

    def _by_role(self, role: str, min_role: float) -> tuple[list[int], frozenset[int]]:
        key = (role, min_role)
        if key not in self._roles:
            utterances = self.transcript.utterances
            if role == "any":
                self._roles[key] = (list(range(len(utterances))), frozenset())
            else:
                doubtful = self._doubtful_roles(min_role)
                indices = [i for i, u in enumerate(utterances) if u.role == role or i in doubtful]
                self._roles[key] = (indices, doubtful)
        return self._roles[key]

    def _doubtful_roles(self, min_role: float) -> frozenset[int]:
        """Utterances whose speaker is unknown or uncertain: in every role's scope, as unreliable hits."""
        if min_role not in self._doubtful:
            utterances, unknown = self.transcript.utterances, Role.UNKNOWN
            self._doubtful[min_role] = frozenset(
                [i for i, u in enumerate(utterances) if u.role_confidence < min_role or u.role is unknown]
            )
        return self._doubtful[min_role]

    def _window_indices(self, window: Window) -> range | set[int]:
        """The utterances overlapping a window (by binary search when the transcript is in time order)."""
        count = len(self.transcript.utterances)
        if window.kind == "first_utterances":
            return range(min(count, int(window.size)))
        if window.kind == "last_utterances":
            return range(max(0, count - int(window.size)), count)
        if self._ordered:
            duration = self.duration
            size = window.size if window.kind.endswith("seconds") else duration * window.size / 100.0
            if window.kind.startswith("first"):
                return range(bisect_left(self._starts, size))
            return range(bisect_right(self._ends, duration - size), count)
        return {i for i, u in enumerate(self.transcript.utterances) if self.in_window(window, i, u.start, u.end)}

    def in_window(self, window: Window, index: int, start: float, end: float) -> bool:
        """True when utterance ``index`` (or the stretch ``start``–``end`` of it) overlaps the window."""
        count = len(self.transcript.utterances)
        if window.kind == "first_utterances":
            return index < window.size
        if window.kind == "last_utterances":
            return index >= count - window.size
        duration = self.duration
        size = window.size if window.kind.endswith("seconds") else duration * window.size / 100.0
        if window.kind.startswith("first"):
            return start < size
        return end > duration - size

    def window_confidence(self, scope: Scope) -> float | None:
        """Mean recogniser confidence over the scope, weighted by text length (None for an empty scope)."""
        key = scope.indices
        if key not in self._confidences:
            if self._weights is None:  # per utterance, once per call: scopes share utterances
                weights = [len(n) or 1 for n in self.norm]
                weighted = [w * u.confidence for w, u in zip(weights, self.transcript.utterances, strict=True)]
                self._weights = (weights.__getitem__, weighted.__getitem__)
            weight, weighted_confidence = self._weights
            # the same products summed in the same order as one pass over the scope would
            total = sum(map(weight, scope.indices))
            self._confidences[key] = sum(map(weighted_confidence, scope.indices)) / total if total else None
        return self._confidences[key]

    def misheard_share(self, scope: Scope, min_confidence: float, min_length: int) -> float:
        """Share of the scope's text in utterances heard so badly (confidence under ``min_confidence``) that
        they may hide a phrase: only utterances at least half as long as the shortest phrase count (a
        mumbled "yeah" cannot hide "thank you for holding")."""
        if min_confidence not in self._misheard:  # most calls have few or none: most scopes need no sums at all
            utterances = self.transcript.utterances
            self._misheard[min_confidence] = frozenset(
                i for i, u in enumerate(utterances) if u.confidence < min_confidence)
        low = self._misheard[min_confidence]
        suspects = [i for i in low if i in scope.members and len(self.norm[i]) * 2 >= min_length]
        if not suspects:
            return 0.0
        total = sum(len(self.norm[i]) for i in scope.indices)
        return sum(len(self.norm[i]) for i in suspects) / total if total else 0.0

    def locate(self, hit: Hit) -> Located:
        """Map a hit to the words as heard: their start/end times, spelling and mean probability."""
        u = self.transcript.utterances[hit.utt]
        compact, ends, tokens = self._token_index(hit.utt)
        if not ends:
            return Located(u.start, u.end, u.text, u.confidence, "utterance")
        a, b = _find_span(compact, self.norm[hit.utt], hit)
        first = min(bisect_right(ends, a), len(ends) - 1)
        last = max(first, min(bisect_left(ends, b), len(ends) - 1))
        if u.words:
            chosen = u.words[first : last + 1]
            heard = _join([t for t in [w.text.strip() for w in chosen] if t])
            confidence = sum(w.probability for w in chosen) / len(chosen)
            return Located(chosen[0].start, chosen[-1].end, heard, confidence, "words")
        heard = u.text[tokens[first].start() : tokens[last].end()]
        return Located(u.start, u.end, heard, u.confidence, "utterance")

    def _token_index(self, utt: int) -> tuple[str, list[int], list[re.Match[str]]]:
        """The utterance's words (or, without words, its text tokens) normalised and concatenated without
        spaces, with where each ends in that string."""
        if utt not in self._tokens:
            u = self.transcript.utterances[utt]
            tokens = [] if u.words else list(_TOKEN.finditer(u.text))
            texts = [w.text for w in u.words] if u.words else [m.group(0) for m in tokens]
            norms = [_compact_word(t) for t in texts]
            self._tokens[utt] = ("".join(norms), list(accumulate(map(len, norms))), tokens)
        return self._tokens[utt]


_WORD_NORMS: dict[str, str] = {}  # words recur across calls: normalise each spelling once per process


def _compact_word(text: str) -> str:
    """A word normalised on its own, without spaces (memoised; the memo is bounded)."""
    norm = _WORD_NORMS.get(text)
    if norm is None:
        if len(_WORD_NORMS) > 200_000:
            _WORD_NORMS.clear()
        norm = _WORD_NORMS[text] = normalize(text.replace("\n", " ")).replace(" ", "")
    return norm


def _find_span(compact: str, norm: str, hit: Hit) -> tuple[int, int]:
    """Where the hit's text lies in the concatenated word norms (closest occurrence to where it was)."""
    needle = norm[hit.start : hit.end].replace(" ", "")
    expected = len(norm[: hit.start].replace(" ", ""))
    if needle and compact.startswith(needle, expected):  # where it was: no other place can be closer
        return expected, expected + len(needle)
    best, pos = -1, compact.find(needle)
    while pos != -1 and needle:
        if best == -1 or abs(pos - expected) < abs(best - expected):
            best = pos
        pos = compact.find(needle, pos + 1)
    if best != -1:
        return best, best + len(needle)
    from rapidfuzz import fuzz  # words normalised one by one can differ ("twenty three" → "20" "3")

    alignment = fuzz.partial_ratio_alignment(needle, compact)
    if alignment is None:
        return 0, len(compact)
    return alignment.dest_start, max(alignment.dest_end, alignment.dest_start + 1)


def _join(words: list[str]) -> str:
    """Join words as heard: a space between English words, none between Chinese characters."""
    joined = " ".join(words)
    if joined.isascii():  # no Chinese character: a space between every two words
        return joined
    out = ""
    for word in words:
        if out and not (is_cjk(out[-1]) and is_cjk(word[0])):
            out += " "
        out += word
    return out


def _checked_word_times(
    word_times: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]], utterances: Sequence[Any]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    starts, ends = word_times
    lengths = [len(u.words) for u in utterances]
    count = sum(lengths)
    if 0 in lengths or len(starts) != count or len(ends) != count:
        raise ValueError(
            f"word_times: {len(starts)}/{len(ends)} times for {count} words (or an utterance without "
            "words); pass the start and end times of every word of the transcript in order, or None"
        )
    return starts, ends


def pause_table(
    starts: npt.NDArray[np.float64], ends: npt.NDArray[np.float64], first: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Where the call's pauses end and the running total of pause seconds (0.0 first), from its words' times.

    A pause is a gap of at least :data:`PAUSE_S` between a word's start and the latest end of the words
    before it (or ``first``, the first utterance's start); an end that is not a number is passed over, and
    a ``first`` that is not a number leaves no pauses. :func:`rules.reference.pause_table` is the plain loop
    this equals float for float (the cumulative sum adds in the same order)."""
    if not len(starts) or math.isnan(first):
        return starts[:0], np.zeros(1)
    before = np.fmax.accumulate(np.concatenate(([first], ends[:-1])))  # fmax: a NaN end is passed over
    gaps = starts - before
    pause = gaps >= PAUSE_S
    return starts[pause], np.concatenate(([0.0], np.cumsum(gaps[pause])))
