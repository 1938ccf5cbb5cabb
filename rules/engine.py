"""Evaluate a checklist on a call: three-valued conditions, evidence, verdicts, scorecard.

Each predicate is true, false or unknown (Kleene logic). A ``says`` predicate counts its reliable hits
(``lo``) and its hits on low-confidence words or an uncertain role (``hi`` adds them): it is true when
every count in ``[lo, hi]`` satisfies ``at_least``/``at_most``, false when none does, unknown otherwise.

An item's verdict:

* ``applies_when`` false → ``n/a``. A metadata field or metric the call lacks is false here.
* condition true → ``pass``; unknown → ``uncertain``.
* condition false → ``fail``, unless the fail rests on a stretch of unreliable transcript: the condition is
  evaluated again assuming every phrase that was looked for in vain in a low-confidence stretch might have
  been said there; if the result is then not false, the verdict is ``uncertain``. Only fails get this
  second look: a false deduction is worse than a missed one.
* a fail whose ``uncertain_when`` holds (or is unknown) is ``uncertain``: the item's author says when the
  absence of the words is no evidence (a conversation cut off before its close).
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import NamedTuple

from core.scorecard import CallScorecard, Evidence, ItemVerdict, Verdict, build_scorecard
from core.types import CallMetadata, Transcript
from rules import metrics as metric_registry
from rules.call import Located, PreparedCall
from rules.evidence import absent_evidence, field_evidence, hit_evidence
from rules.match_base import Embedder, Hit
from rules.memo import by_identity
from rules.model import (
    ROLE_ANCHORS,
    AllOf,
    AnyOf,
    Checklist,
    Condition,
    Item,
    MetadataTest,
    MetricTest,
    Not,
    Says,
    predicates,
)
from rules.normalize import normalize
from rules.wording import PREFIXES, ReasonKind

MAX_EVIDENCE = 10  # per predicate: enough to show a pattern, bounded for calls with dozens of "okay"s
# A stretch searched in vain is doubtful when this share of its text was misheard (mean word probability
# under min_word_confidence): a greeting lost in a mumbled first line is not a missing greeting, but one
# garbled "uh-huh" in a five-minute call does not put every item in doubt.
MISHEARD_SHARE = 0.15
# Once a predicate without at_most is satisfied, more hits cannot change its value: the search stops after
# this many reliable ones. One quote shows a greeting was said; a banned phrase (a predicate under ``not``,
# whose hits are what the call is marked down for) shows up to three, so a reviewer sees if it recurs.
EVIDENCE_FOR = 1
EVIDENCE_AGAINST = 3



class Tri(IntEnum):
    FALSE = 0
    UNKNOWN = 1
    TRUE = 2


class Outcome(NamedTuple):  # immutable and cheap to build (one per predicate and item); a frozen dataclass is not
    value: Tri
    evidence: tuple[Evidence, ...] = ()


@dataclass(slots=True)
class _SaysResult:
    reliable: list[tuple[Hit, Evidence]]
    unreliable: list[tuple[Hit, Evidence]]
    excluded: list[Evidence]
    absent: Evidence | None  # the stretch searched, when nothing was found
    doubtful_window: bool  # the stretch searched in vain has low confidence
    # within.each: per anchor, whether a reliable hit / any hit follows it, and whether the anchor is reliable
    covered: list[tuple[bool, bool, bool]] = field(default_factory=list)


@dataclass
class _Context:
    call: PreparedCall
    checklist: Checklist
    missing: Tri = Tri.UNKNOWN  # value of a test on a field or metric the call lacks
    hidden: bool = False  # second look: phrases may hide in low-confidence stretches
    says_cache: dict[int, _SaysResult] = field(default_factory=dict)
    local_anchors: dict[tuple[int, int, int], list[_Anchor]] = field(default_factory=dict)  # see _local_anchors
    limits: dict[int, int | None] = field(init=False)  # per predicate, reliable hits its search stops at
    # The variants judge() needs, built once per call rather than once per item (they share the cache).
    _trigger: _Context | None = None
    _second_look: _Context | None = None

    def __post_init__(self) -> None:
        self.limits = _search_limits(self.checklist)

    def trigger(self) -> _Context:
        """The context an ``applies_when`` is evaluated in: a field or metric the call lacks is false."""
        if self._trigger is None:
            self._trigger = _Context(self.call, self.checklist, Tri.FALSE, False, self.says_cache)
        return self._trigger

    def second_look(self) -> _Context:
        """The context of the second look at a fail: phrases may hide in low-confidence stretches."""
        if self._second_look is None:
            self._second_look = _Context(self.call, self.checklist, self.missing, True, self.says_cache)
        return self._second_look


def score_call(
    checklist: Checklist,
    transcript: Transcript,
    metadata: CallMetadata | None = None,
    metrics: Mapping[str, float] | None = None,
    *,
    call_id: str = "",
    transcript_hash: str = "",
    embedder: Callable[[], Embedder] | None = None,
    timed: bool = True,
) -> CallScorecard:
    """Score one call against one checklist.

    Args:
        checklist: a loaded checklist (``rules.loader.load_checklist``).
        transcript: the role-labelled transcript.
        metadata: what the call centre knows about the call (queue, direction, hangup_by…).
        metrics: numeric metrics by name (``longest_silence_s``, ``customer_anger_max``…); metrics the
            transcript can give are computed when missing (see rules.metrics).
        call_id: stored with the scorecard.
        transcript_hash: the transcript version, stored with the scorecard.
        embedder: a factory for the sentence embedder, called only if a ``similar`` predicate runs;
            default: the packaged multilingual model (models.embedding).
        timed: False when the transcript's times are pseudo-times (plain text).

    Returns:
        The call's scorecard.
    """
    if embedder is None and checklist.uses_similar:
        from models.embedding import shared_embedder

        embedder = shared_embedder
    call = PreparedCall(transcript, metadata or CallMetadata(), metrics or {}, embedder)
    return score_prepared(checklist, call, call_id=call_id, transcript_hash=transcript_hash, timed=timed)


def score_prepared(
    checklist: Checklist, call: PreparedCall, *, call_id: str = "", transcript_hash: str = "", timed: bool = True
) -> CallScorecard:
    """Score a call that is already prepared (normalised): what rescoring many checklists reuses."""
    ctx = _Context(call, checklist)
    verdicts = [judge(item, ctx) for item in checklist.items]
    return build_scorecard(
        verdicts,
        [(s.id, s.title, s.weight) for s in checklist.sections],
        call_id=call_id,
        checklist=(checklist.id, checklist.version, checklist.content_hash),
        transcript_hash=transcript_hash,
        bands=checklist.bands,
        timed=timed,
    )


def judge(item: Item, ctx: _Context) -> ItemVerdict:
    """The verdict of one item on the context's call."""
    applies = Outcome(Tri.TRUE)
    if item.applies_when is not None:
        applies = _evaluate(item.applies_when, ctx.trigger())
        if applies.value is Tri.FALSE:
            return _verdict(item, Verdict.NA, PREFIXES[ReasonKind.NOT_APPLICABLE] + _describe(item.applies_when),
                            applies.evidence)  # fmt: skip
    outcome = _evaluate(item.condition, ctx)
    if outcome.value is Tri.TRUE:
        return _verdict(item, Verdict.PASS, _describe(item.condition), outcome.evidence)
    if outcome.value is Tri.UNKNOWN:
        return _verdict(item, Verdict.UNCERTAIN, PREFIXES[ReasonKind.LOW_CONFIDENCE],
                        outcome.evidence)  # fmt: skip
    second = _evaluate(item.condition, ctx.second_look())
    if second.value is not Tri.FALSE:
        return _verdict(item, Verdict.UNCERTAIN, PREFIXES[ReasonKind.UNRELIABLE_TRANSCRIPT],
                        outcome.evidence)  # fmt: skip
    if applies.value is Tri.UNKNOWN:
        return _verdict(item, Verdict.UNCERTAIN, PREFIXES[ReasonKind.TRIGGER_UNRELIABLE],
                        applies.evidence + outcome.evidence)  # fmt: skip
    if item.uncertain_when is not None:
        doubt = _evaluate(item.uncertain_when, ctx.trigger())
        if doubt.value is not Tri.FALSE:
            return _verdict(item, Verdict.UNCERTAIN, PREFIXES[ReasonKind.DOUBT] + _describe(item.uncertain_when),
                            doubt.evidence + outcome.evidence)  # fmt: skip
    return _verdict(item, Verdict.FAIL, PREFIXES[ReasonKind.MISSED] + _describe(item.condition), outcome.evidence)


def _description(condition: Condition) -> str:
    return condition.describe()


def _wanted_values(test: MetadataTest) -> frozenset[str]:
    values = test.value if isinstance(test.value, list | tuple) else [test.value]
    return frozenset(normalize(str(w)) for w in values)


_describe = by_identity(_description)  # a condition in words
_wanted = by_identity(_wanted_values)  # the values an equality test on metadata accepts, normalised


@functools.lru_cache(maxsize=4096)
def _normalized_value(value: str) -> str:
    """A metadata value normalised: a few distinct values ("customer", "投诉") recur on every call."""
    return normalize(value)


def _verdict(item: Item, verdict: Verdict, reason: str, evidence: tuple[Evidence, ...]) -> ItemVerdict:
    earned = item.points if verdict is Verdict.PASS else 0.0
    return ItemVerdict(item_id=item.id, section_id=item.section_id, title=item.title, verdict=verdict,
                       points=item.points, earned=earned, veto=item.veto, message=item.message, reason=reason,
                       evidence=evidence)


def _evaluate(condition: Condition, ctx: _Context) -> Outcome:
    if isinstance(condition, Says):
        return _says_outcome(condition, ctx)
    if isinstance(condition, Not):
        inner = _evaluate(condition.part, ctx)
        return Outcome(Tri(2 - inner.value), inner.evidence)
    if isinstance(condition, AnyOf):
        parts = []
        for part in condition.parts:
            parts.append(_evaluate(part, ctx))
            if parts[-1].value is Tri.TRUE:
                break  # the rest cannot change a true "any", and its evidence is not shown
        value = max(p.value for p in parts)
        return Outcome(Tri(value), _unique(e for p in parts if p.value is value for e in p.evidence))
    if isinstance(condition, AllOf):
        parts = [_evaluate(p, ctx) for p in condition.parts]
        value = min(p.value for p in parts)
        # What decided comes first, then the rest as context: "hold announced at 3:38, no thanks after it".
        shown = [p for p in parts if p.value is value] + [p for p in parts if p.value is not value]
        return Outcome(Tri(value), _unique(e for p in shown for e in p.evidence))
    if isinstance(condition, MetadataTest):
        return _metadata_outcome(condition, ctx)
    return _metric_outcome(condition, ctx)


def _unique(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """Evidence without repeats (an exact and a fuzzy list both find the same greeting)."""
    out: list[Evidence] = []
    for e in evidence:
        if e.utterance < 0 or not any(_same_stretch(k, e) for k in out):
            out.append(e)
    return tuple(out)


def _same_stretch(a: Evidence, b: Evidence) -> bool:
    if a.kind != b.kind or a.utterance != b.utterance:
        return False
    if a.kind == "absent":
        return a.pattern == b.pattern
    return a.start <= b.end and b.start <= a.end and (a.text in b.text or b.text in a.text)


def _says_outcome(says: Says, ctx: _Context) -> Outcome:
    result = _says_result(says, ctx)
    lo = len(result.reliable)
    hi: float = lo + len(result.unreliable)
    if ctx.hidden and result.doubtful_window:
        hi = math.inf
    top = math.inf if says.at_most is None else says.at_most
    if says.within is not None and says.within.each:
        value = _each_value(result.covered, ctx.hidden and result.doubtful_window)
    elif says.at_least <= lo and hi <= top:
        value = Tri.TRUE
    elif hi < says.at_least or lo > top:
        value = Tri.FALSE
    else:
        value = Tri.UNKNOWN
    evidence = [e for _, e in result.reliable + result.unreliable][:MAX_EVIDENCE] + result.excluded[:3]
    if result.absent is not None:
        evidence.append(result.absent)
    return Outcome(value, tuple(evidence))


def _each_value(covered: list[tuple[bool, bool, bool]], doubtful: bool) -> Tri:
    """``within: {each: true}``: true when every anchor is followed by a reliable hit, false when a reliable
    anchor has no hit at all (and the stretch is not doubtful), unknown otherwise."""
    if all(reliably for reliably, _, _ in covered):
        return Tri.TRUE
    if not doubtful and any(not anyhow and anchor_ok for _, anyhow, anchor_ok in covered):
        return Tri.FALSE
    return Tri.UNKNOWN


def _says_result(says: Says, ctx: _Context) -> _SaysResult:
    key = id(says)
    if key not in ctx.says_cache:
        ctx.says_cache[key] = _search(says, ctx)
    return ctx.says_cache[key]


def _search(says: Says, ctx: _Context, only: tuple[int, int] | None = None) -> _SaysResult:
    """The predicate's hits and what the verdict needs of them; ``only``: search utterances first..last only."""
    call, review = ctx.call, ctx.checklist.review
    scope, unsure_role = call.scope(says.role, says.windows, review.min_role_confidence)
    if only is not None:
        scope = call.scope_of([i for i in scope.indices if only[0] <= i <= only[1]])
    each = says.within is not None and says.within.each
    # What a within-predicate is measured from, found when first needed: most calls have no hit of it, and
    # then an anchor predicate with broad phrases ("let me check") is never searched.
    anchors: list[_Anchor] | _PartyAnchors | None = _anchors(says, ctx) if each else None
    # Stop once enough reliable hits are found (see _search_limits): a call can have fifty "okay"s, and mapping
    # each back to its words is the costly part.
    enough = ctx.limits.get(id(says))
    near_of: dict[int, list[_Anchor]] = {}
    reliable: list[tuple[Hit, Evidence]] = []
    unreliable: list[tuple[Hit, Evidence]] = []
    excluded: list[Evidence] = []
    unless_hits: list[Hit] | None = None
    found: Iterable[Hit] = ()
    if says.gap_after is None:
        found = says.matcher.find(scope, call)
    elif says.matcher.may_match(call):  # most calls have no hold phrase: then the pauses are not needed
        found = says.matcher.find(call.followed_by_silence(scope, says.gap_after), call)
    for hit in found:
        local = _local_anchors(says, hit, ctx) if says.within is not None else None
        if local is not None and not local:
            continue  # nothing it could follow in the turns before it: not worth mapping to its words
        loc = call.locate(hit)
        if says.windows and not any(call.in_window(w, hit.utt, loc.start, loc.end) for w in says.windows):
            continue  # the scope holds utterances overlapping a window: keep the hits that do
        near: list[_Anchor] = []
        if says.within is not None:
            if local is not None:
                near = [a for a in local if _near(says, hit, loc, a, call)]
            else:
                anchors = _anchors(says, ctx) if anchors is None else anchors
                near = _near_anchors(says, hit, loc, anchors, call)
        if says.within is not None and not near:
            continue
        if says.gap_after is not None and call.silence_after(hit.utt, loc.end) < says.gap_after:
            continue
        evidence = hit_evidence(says, hit, loc, call, unsure_role, ctx.checklist.review)
        if says.unless is not None:
            unless_hits = says.unless.find(scope, call) if unless_hits is None else unless_hits
            blocker = next((u for u in unless_hits if _nearby(u, hit, says.unless_seconds, call)), None)
            if blocker is not None:
                excluded.append(replace(evidence, kind="excluded", reliable=False,
                                        note=f"not counted: '{blocker.pattern}' nearby"))  # fmt: skip
                continue
        if near and evidence.reliable and not any(a.reliable for a in near):
            evidence = replace(evidence, reliable=False, note="what it follows was heard unreliably")
        (reliable if evidence.reliable else unreliable).append((hit, evidence))
        near_of[id(hit)] = near
        if enough is not None and len(reliable) >= enough:
            break
    absent, doubtful = None, False
    if not reliable:
        confidence = call.window_confidence(scope)
        doubtful = confidence is not None and confidence < review.min_window_confidence
        misheard = call.misheard_share(scope, review.min_word_confidence, says.matcher.min_length)
        doubtful = doubtful or misheard >= MISHEARD_SHARE
        if not call.transcript.utterances:
            doubtful = True  # nothing was transcribed: absence proves nothing
        absent = absent_evidence(says, scope.indices, confidence, doubtful, call)
    covered = []
    if each:
        assert anchors is not None
        for anchor in anchors:
            sure = any(anchor in near_of.get(id(h), ()) for h, _ in reliable)
            anyhow = sure or any(anchor in near_of.get(id(h), ()) for h, _ in unreliable)
            covered.append((sure, anyhow, anchor.reliable))
    return _SaysResult(reliable, unreliable, excluded, absent, doubtful, covered)


def _limits_of(checklist: Checklist) -> dict[int, int | None]:
    """Per ``says`` predicate (by id), how many reliable hits its search may stop at; None: find them all.

    All of them when the count matters (``at_most``, ``within.each``) or when the predicate is what another's
    ``within`` is measured from: every hold needs its own thanks, and an empathy after the fourth sign of
    anger counts as much as one after the first. Otherwise :data:`EVIDENCE_FOR` (at least ``at_least``), or
    :data:`EVIDENCE_AGAINST` where the predicate sits under a ``not``. A predicate not listed (reached only
    as an anchor) finds all its hits.
    """
    anchors = {s.within.anchor for s in predicates(checklist) if s.within is not None}
    limits: dict[int, int | None] = {}

    def visit(condition: Condition, against: bool) -> None:
        if isinstance(condition, Not):
            visit(condition.part, not against)
        elif isinstance(condition, AllOf | AnyOf):
            for part in condition.parts:
                visit(part, against)
        elif isinstance(condition, Says):
            every = condition.at_most is not None or (condition.within is not None and condition.within.each)
            need = EVIDENCE_AGAINST if against else EVIDENCE_FOR
            limit = None if every or condition.name in anchors else max(condition.at_least, need)
            key = id(condition)
            if key in limits:  # reached twice (a define used in several places): the larger need wins
                before = limits[key]
                limit = None if before is None or limit is None else max(before, limit)
            limits[key] = limit

    for item in checklist.items:
        visit(item.condition, False)
        for trigger in (item.applies_when, item.uncertain_when):
            if trigger is not None:
                visit(trigger, False)
    return limits


_search_limits = by_identity(_limits_of, bound=256)  # worked out once per checklist


class _Anchor(NamedTuple):
    """Something a ``within`` predicate is measured from: a hit of a named predicate, or a party's turn.

    A named tuple, not a frozen dataclass: a call makes one per utterance of a party, and a frozen
    dataclass costs several times more to build."""

    utt: int
    start: float
    end: float
    reliable: bool


class _PartyAnchors:
    """Every utterance of a party as anchors, in call order, each built when asked for: a hit needs only the
    closest one (a binary search over ``utts``), and a call may have fifty customer utterances."""

    __slots__ = ("_sure", "_utterances", "utts")

    def __init__(self, call: PreparedCall, party: str, sure: float) -> None:
        self._utterances, self._sure = call.transcript.utterances, sure
        self.utts = [i for i, u in enumerate(self._utterances) if u.role == party]

    def at(self, k: int) -> _Anchor:
        i = self.utts[k]
        u = self._utterances[i]
        return _Anchor(i, u.start, u.end, u.role_confidence >= self._sure)

    def __iter__(self) -> Iterator[_Anchor]:
        return map(self.at, range(len(self.utts)))


def _anchors(says: Says, ctx: _Context) -> list[_Anchor] | _PartyAnchors:
    within = says.within
    if within is None:
        return []
    if within.anchor in ROLE_ANCHORS:  # "after the customer spoke": every utterance of that party
        key = (within.anchor, ctx.checklist.review.min_role_confidence)
        if key not in ctx.call.party_anchors:
            ctx.call.party_anchors[key] = _PartyAnchors(ctx.call, *key)
        party: _PartyAnchors = ctx.call.party_anchors[key]
        return party
    result = _says_result(ctx.checklist.defines[within.anchor], ctx)
    return [_Anchor(h.utt, e.start, e.end, e.reliable) for h, e in result.reliable + result.unreliable]


def _local_anchors(says: Says, hit: Hit, ctx: _Context) -> list[_Anchor] | None:
    """The anchors a hit may follow, searched only in the turns before it, when that finds the same ones there
    as a search of the whole call: ``within`` after a define, in turns only, not ``each``; the define itself a
    plain presence predicate (no ``within``, ``unless``, ``gap_after``). None otherwise.

    A request to hold may come up ten times in a call; thanks on return are rare, and only the requests
    just before them need to be mapped to their words."""
    within = says.within
    assert within is not None
    if within.each or within.direction != "after" or within.seconds is not None or within.turns is None:
        return None
    anchor = ctx.checklist.defines.get(within.anchor)
    if anchor is None or anchor.within is not None or anchor.unless is not None or anchor.gap_after is not None:
        return None
    turns = ctx.call.turns
    first = bisect_left(turns, turns[hit.utt] - within.turns)
    key = (id(anchor), first, hit.utt)
    if key not in ctx.local_anchors:
        scope, _ = ctx.call.scope(anchor.role, anchor.windows, ctx.checklist.review.min_role_confidence)
        if not anchor.matcher.find(ctx.call.scope_of([i for i in scope.indices if first <= i <= hit.utt]), ctx.call):
            ctx.local_anchors[key] = []  # the usual case: no request to hold just before (no words to map)
            return ctx.local_anchors[key]
        result = _search(anchor, ctx, (first, hit.utt))
        ctx.local_anchors[key] = [_Anchor(h.utt, e.start, e.end, e.reliable)
                                  for h, e in result.reliable + result.unreliable]  # fmt: skip
    return ctx.local_anchors[key]


def _near_anchors(
    says: Says, hit: Hit, loc: Located, anchors: list[_Anchor] | _PartyAnchors, call: PreparedCall
) -> list[_Anchor]:
    """The anchors a hit is near. Party anchors are utterances in call order: only the closest one before
    (or after) the hit can be nearest in turns and seconds, so a binary search finds it."""
    within = says.within
    assert within is not None
    if not isinstance(anchors, _PartyAnchors):
        return [a for a in anchors if _near(says, hit, loc, a, call)]
    utts = anchors.utts
    k = bisect_left(utts, hit.utt) - 1 if within.direction == "after" else bisect_right(utts, hit.utt)
    closest = anchors.at(k) if 0 <= k < len(anchors.utts) else None
    return [closest] if closest is not None and _near(says, hit, loc, closest, call) else []


def _near(says: Says, hit: Hit, loc: Located, anchor: _Anchor, call: PreparedCall) -> bool:
    """True when the hit lies within the predicate's turns or seconds after (or before) the anchor."""
    within = says.within
    assert within is not None
    if within.direction == "after":
        if hit.utt <= anchor.utt and not (hit.utt == anchor.utt and loc.start >= anchor.end):
            return False
        gap, turns = loc.start - anchor.end, call.turns[hit.utt] - call.turns[anchor.utt]
    else:
        if hit.utt >= anchor.utt and not (hit.utt == anchor.utt and loc.end <= anchor.start):
            return False
        gap, turns = anchor.start - loc.end, call.turns[anchor.utt] - call.turns[hit.utt]
    if within.turns is not None and 0 <= turns <= within.turns:
        return True
    return within.seconds is not None and -0.5 <= gap <= within.seconds


def _nearby(blocker: Hit, hit: Hit, seconds: float, call: PreparedCall) -> bool:
    if blocker.utt == hit.utt:
        return True
    if seconds <= 0:
        return False
    a, b = call.transcript.utterances[blocker.utt], call.transcript.utterances[hit.utt]
    return a.role == b.role and a.start <= b.end + seconds and b.start <= a.end + seconds


def _metadata_outcome(test: MetadataTest, ctx: _Context) -> Outcome:
    call = ctx.call
    value: object = call.duration if test.field == "duration" else getattr(call.metadata, test.field)
    if value is None or value == "":
        return Outcome(ctx.missing, (field_evidence("metadata", test.field, "(unknown)", _describe(test)),))
    if test.op in ("at_least", "at_most"):
        number = float(value)  # type: ignore[arg-type]  # the loader allows these ops on numeric fields only
        ok = number >= test.value if test.op == "at_least" else number <= test.value
    else:
        ok = _normalized_value(str(value)) in _wanted(test)
    shown = f"{value:.1f} s" if test.field == "duration" else str(value)
    return Outcome(Tri.TRUE if ok else Tri.FALSE, (field_evidence("metadata", test.field, shown, _describe(test)),))


def _metric_outcome(test: MetricTest, ctx: _Context) -> Outcome:
    value = metric_registry.value(test.name, ctx.call)
    if value is None:
        return Outcome(ctx.missing, (field_evidence("metric", test.name, "(not measured)", _describe(test)),))
    ok = (test.at_least is None or value >= test.at_least) and (test.at_most is None or value <= test.at_most)
    evidence = field_evidence("metric", test.name, f"{value:g}", _describe(test))
    return Outcome(Tri.TRUE if ok else Tri.FALSE, (evidence,))


def judge_item(
    checklist: Checklist,
    item: Item,
    transcript: Transcript,
    metadata: CallMetadata | None = None,
    metrics: Mapping[str, float] | None = None,
    embedder: Callable[[], Embedder] | None = None,
) -> ItemVerdict:
    """One item's verdict on one call (what ``rules test`` runs for each example)."""
    if embedder is None and checklist.uses_similar:
        from models.embedding import shared_embedder

        embedder = shared_embedder
    call = PreparedCall(transcript, metadata or CallMetadata(), metrics or {}, embedder)
    return judge(item, _Context(call, checklist))
