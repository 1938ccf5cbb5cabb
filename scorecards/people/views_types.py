"""What the read side for people returns: frozen dataclasses for the web pages (see :mod:`scorecards.people.views`).

Scores are 0–100 (``None`` when nothing counted), rates and shares 0–1 (``None`` when there is nothing to
divide by), times are seconds from the start of the call, dates are naive UTC like the store's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.scorecard import SectionScore
from scorecards.store.database import CallRow
from scorecards.store.definitions import EmotionFigures

# -- review queue ----------------------------------------------------------------------------------------

REASON_KINDS = ("veto", "dispute", "anger", "fail", "uncertain", "sample")
"""Why a call is in the review queue, in the order a row lists its reasons (most urgent first)."""
QUEUE_STATUSES = ("todo", "done", "all")
"""The queue's status filter: calls still to review (the default), calls whose review is done, or both
(see :func:`scorecards.people.views_queue.review_queue` for when a call is done)."""
ANGER_THRESHOLD = 0.7
"""Customer anger (``call_metrics.customer_anger_max``) from which a call goes to the queue."""
SAMPLE_PER_AGENT_WEEK = 2
"""Calls per agent and ISO week drawn (deterministically) among those with no other reason to be heard."""
HEAT_BANDS: tuple[tuple[float, str], ...] = ((0.6, "red"), (0.75, "orange"), (0.9, "yellow"))
"""A pass rate below a bound takes its colour (first match); at or above the last bound it is green."""
HEAT_TOP = "green"


@dataclass(frozen=True, slots=True)
class QueueReason:
    """One reason a call is in the queue, as it counts now (after any review of its verdict).

    Attributes:
        kind: one of :data:`REASON_KINDS`. For a verdict a reviewer decided, the kind of the verdict that counts
            now: an uncertain verdict a reviewer heard as a fail is a ``fail`` (or ``veto``) reason.
        item_id: the checklist item concerned (veto, fail, uncertain, dispute), None otherwise.
        detail: one line for a person, e.g. ``customer anger 0.82 ≥ 0.70`` or the dispute's comment.
        decision: ``confirm`` or ``overturn``, the current review of the reason's verdict; None when it was not
            reviewed, and always for dispute, anger and sample reasons (which are not one verdict).
        reviewed_verdict: the verdict the review gave (pass, fail or n/a), None when not reviewed.
    """

    kind: str
    item_id: str | None
    detail: str
    decision: str | None = None
    reviewed_verdict: str | None = None

    @property
    def reviewed(self) -> bool:
        return self.decision is not None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One call in the review queue (all its current scorecards together).

    Attributes:
        scorecard_id: the scorecard whose figures the row shows: the lowest total as it counts now (the
            reviewed total where there is one) of the call's current scorecards (ties: checklist id), the
            one a reviewer should open first.
        scorecard_ids: every current scorecard of the call, by checklist id.
        day: the date the queue filters on: ``started_at``, else the date of the run that first saw the call.
        total, band: the automatic figures of ``scorecard_id``.
        reviewed_total, reviewed_band: its reviewed figures (both None when no verdict of it was reviewed;
            ``reviewed_total`` alone is None when nothing counted after the review).
        reviewed: some verdict of the call has a current review.
        reasons: why the call is listed, as it counts now, ordered as :data:`REASON_KINDS`.
        cleared: the fail, veto and uncertain reasons a reviewer overturned to pass or n/a: they no longer
            count (not in ``reasons``, not matched by the reason filter), shown struck through.
        status: ``todo`` while the call is still to review, ``done`` once its review is done.
    """

    call_id: str
    scorecard_id: str
    scorecard_ids: tuple[str, ...]
    file_name: str
    started_at: dt.datetime | None
    day: dt.date
    agent_id: str | None
    team: str | None
    total: float | None
    band: str
    reviewed_total: float | None
    reviewed_band: str | None
    reviewed: bool
    reasons: tuple[QueueReason, ...]
    cleared: tuple[QueueReason, ...]
    status: str

    @property
    def score_reviewed(self) -> bool:
        """The shown scorecard has reviewed figures (which the row shows, the automatic ones beside them)."""
        return self.reviewed_band is not None

    @property
    def shown_total(self) -> float | None:
        """The total that counts now: the reviewed one when there is one, else the automatic one."""
        return self.reviewed_total if self.score_reviewed else self.total

    @property
    def shown_band(self) -> str:
        return self.reviewed_band if self.reviewed_band is not None else self.band


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue and the choices the filters offer (within the viewer's scope).

    Attributes:
        rows: the calls of this page, newest first.
        total: how many calls match the filters (all pages).
        teams, agents, items, reasons, statuses: the values the filters may take.
        item_titles: each item id's title (as its checklist writes it), for the pages.
    """

    rows: tuple[QueueRow, ...]
    total: int
    teams: tuple[str, ...]
    agents: tuple[str, ...]
    items: tuple[str, ...]
    reasons: tuple[str, ...] = REASON_KINDS
    statuses: tuple[str, ...] = QUEUE_STATUSES
    item_titles: Mapping[str, str] = field(default_factory=dict)


# -- call page -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UtteranceView:
    """One utterance of the call's current transcript, with its stored emotion when there is one.

    Attributes:
        idx: position in the transcript (what evidence spans point at).
        role: agent, customer or unknown.
        emotion: the fused emotion label (angry, frustrated, neutral, satisfied), None when none was stored.
        anger: P(angry) + ½·P(frustrated), None when no emotion was stored.
    """

    idx: int
    role: str
    start: float
    end: float
    text: str
    confidence: float
    emotion: str | None
    anger: float | None


@dataclass(frozen=True, slots=True)
class EvidenceSpan:
    """A stretch of the call a verdict rests on (what the player seeks to).

    Attributes:
        kind: hit, absent, excluded, metadata or metric.
        quote: the words as heard (or the field's value).
        utterance: the utterance index, -1 when not about one utterance.
        reliable: False when it rests on low-confidence words or an uncertain role.
    """

    kind: str
    start: float
    end: float
    role: str
    quote: str
    utterance: int
    reliable: bool

    @property
    def key(self) -> tuple[object, ...]:
        """What a page shows of it: two spans with one key are one button (an item's predicates often look
        in the same stretch, and each records it)."""
        if self.kind == "absent" or not self.quote:
            return ("looked", self.start, self.end, self.role)
        return (self.kind, self.start, self.end, self.role, self.quote, self.reliable)


@dataclass(frozen=True, slots=True)
class ReviewView:
    """The current review of a verdict (stored beside the automatic verdict, which never changes)."""

    review_id: str
    decision: str  # confirm | overturn
    reviewed_verdict: str  # pass | fail | n/a
    comment: str
    reviewer: str
    created_at: dt.datetime
    dispute_id: str | None


@dataclass(frozen=True, slots=True)
class VerdictView:
    """One item's automatic verdict with its evidence and current review.

    Attributes:
        idx: the verdict's position in the scorecard (``verdicts.idx``: what reviews and disputes name).
        verdict: the automatic verdict (pass, fail, n/a, uncertain).
        message: what was missed and what to say instead.
        review: the current review, None when not reviewed.
        final_verdict: the reviewed verdict when there is a review, else the automatic one.
    """

    idx: int
    item_id: str
    section_id: str
    title: str
    verdict: str
    points: float
    earned: float
    veto: bool
    reason: str
    message: str
    evidence: tuple[EvidenceSpan, ...]
    review: ReviewView | None

    @property
    def final_verdict(self) -> str:
        return self.review.reviewed_verdict if self.review is not None else self.verdict


@dataclass(frozen=True, slots=True)
class ReviewedScore:
    """A scorecard's score with the reviews applied (the automatic score stays on the scorecard)."""

    total: float | None
    raw_total: float | None
    band: str
    veto: bool
    reviewed_items: int
    updated_at: dt.datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class ScorecardView:
    """One current scorecard of a call.

    Attributes:
        total, raw_total, band, veto, needs_review: the automatic figures.
        reviewed: the reviewed figures, None when nothing was reviewed.
        acknowledged_at: when the call's agent acknowledged it (the first acknowledgement), None if not yet.
    """

    scorecard_id: str
    checklist_id: str
    checklist_version: str
    checklist_hash: str
    created_at: dt.datetime
    origin: str
    total: float | None
    raw_total: float | None
    band: str
    veto: bool
    needs_review: bool
    verdicts: tuple[VerdictView, ...]
    sections: tuple[SectionScore, ...]
    reviewed: ReviewedScore | None
    acknowledged_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DisputeRow:
    """A dispute of one verdict by the call's agent, with the answer when there is one.

    Attributes:
        status: open, upheld or rejected.
        title: the item's title.
        seen_by_agent_at: when the agent saw the answer (None: not yet, or still open).
    """

    dispute_id: str
    scorecard_id: str
    item_idx: int
    item_id: str
    title: str
    call_id: str
    file_name: str
    agent_id: str
    comment: str
    created_by: str
    created_at: dt.datetime
    status: str
    answer: str | None
    answered_by: str | None
    answered_at: dt.datetime | None
    seen_by_agent_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class CallPage:
    """Everything the call page shows.

    Attributes:
        call: the call's row (file, agent, team, start, duration…).
        transcript_id: the current transcript, None when the call has none (failed).
        utterances: in order.
        scorecards: every current scorecard, by checklist id.
        metrics: the call's stored figures (``call_metrics``), by name.
        disputes: every dispute of the call's current scorecards, newest first.
    """

    call: CallRow
    transcript_id: str | None
    utterances: tuple[UtteranceView, ...]
    scorecards: tuple[ScorecardView, ...]
    metrics: tuple[tuple[str, float], ...]
    disputes: tuple[DisputeRow, ...]


# -- agent home ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MissedItem:
    """A failed (or veto-failed) item of one of the agent's calls, as it counts now (after any review).

    Attributes:
        item_idx: the verdict's position in the scorecard (for disputes).
        verdict: the verdict that counts (``fail``).
        quote, start, end: the first evidence span with words (None when the verdict rests on an absence
            with no stretch, e.g. a metadata test).
        message: what to say instead.
        dispute_id, dispute_status: the agent's latest dispute of this verdict, if any.
    """

    item_idx: int
    item_id: str
    title: str
    verdict: str
    veto: bool
    quote: str | None
    start: float | None
    end: float | None
    message: str
    dispute_id: str | None
    dispute_status: str | None
    checklist_hash: str = ""  # the checklist it was scored with (for its wording in the reader's language)


@dataclass(frozen=True, slots=True)
class AgentCall:
    """One of the agent's latest calls with what was missed in it."""

    call_id: str
    scorecard_id: str
    checklist_id: str
    file_name: str
    started_at: dt.datetime | None
    total: float | None
    reviewed_total: float | None
    band: str
    acknowledged: bool
    missed: tuple[MissedItem, ...]


@dataclass(frozen=True, slots=True)
class RadarPoint:
    """One section: the agent's mean section score against the team's, over the window (None: no score)."""

    section_id: str
    title: str
    agent: float | None
    team: float | None


@dataclass(frozen=True, slots=True)
class WeekPoint:
    """One ISO week (``2025-W08``): the agent's mean total against the team's."""

    week: str
    agent: float | None
    team: float | None
    calls: int


@dataclass(frozen=True, slots=True)
class EmotionShares:
    """How the agent's calls went emotionally beside the team's calls, in the window: the figures of
    ``callqa agent`` (:class:`scorecards.store.definitions.EmotionFigures`: angry customer share, ended calmer among
    the customers upset at the start, the agent's negative tone share, each with its denominator)."""

    agent: EmotionFigures
    team: EmotionFigures


@dataclass(frozen=True, slots=True)
class AgentHome:
    """An agent's own page.

    Attributes:
        team: the team named on most of the agent's calls in the window, a tie to the first by name
            (:func:`scorecards.store.definitions.team_of`, as ``callqa agent``); None: compared with every call.
        since, until: the window (``until`` is the agent's latest call day).
        calls: the latest calls, newest first, each with its missed items.
        radar: per section, agent vs team mean.
        trend: weekly mean totals, oldest first.
        disputes: the agent's disputes, open first, then answered newest first.
        unacknowledged: how many of the agent's current scorecards in the window are not acknowledged.
    """

    agent_id: str
    team: str | None
    since: dt.date
    until: dt.date
    calls: tuple[AgentCall, ...]
    radar: tuple[RadarPoint, ...]
    trend: tuple[WeekPoint, ...]
    emotion: EmotionShares
    disputes: tuple[DisputeRow, ...]
    unacknowledged: int


# -- team heat-map ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeatItem:
    """A column of the heat-map: one checklist item."""

    checklist_id: str
    item_id: str
    title: str

    @property
    def key(self) -> str:
        """``checklist_id/item_id``: what ``sort=item:<key>`` names."""
        return f"{self.checklist_id}/{self.item_id}"


@dataclass(frozen=True, slots=True)
class HeatCell:
    """An agent's pass rate on an item: passed / (passed + failed), reviewed verdicts counting as reviewed.

    Attributes:
        counted: passed + failed (n in the cell).
        rate: None when nothing counted.
        colour: red, orange, yellow or green (see :data:`scorecards.people.views.HEAT_BANDS`), None without a rate.
    """

    passed: int
    failed: int
    counted: int
    rate: float | None
    colour: str | None


@dataclass(frozen=True, slots=True)
class HeatRow:
    """One agent: a cell per item (same order as :attr:`Heatmap.items`) and the overall rate."""

    agent_id: str
    team: str | None
    cells: tuple[HeatCell, ...]
    overall: HeatCell


TREND_ITEMS = 5
"""Items the team trend draws beside the overall rate: those whose weekly pass rate moved most."""


@dataclass(frozen=True, slots=True)
class ChecklistChoice:
    """A checklist the team heat-map can show (one at a time).

    Attributes:
        title: the title of its newest version (the version first used last).
        calls: scored calls of it (current scorecards) the viewer sees in the window, team filter applied.
        last_day: the latest day of such a call, in the window or not; None when there is none.
    """

    checklist_id: str
    title: str
    calls: int
    last_day: dt.date | None


@dataclass(frozen=True, slots=True)
class ItemTrend:
    """One item's pass rate over all shown agents per week (same order as :attr:`Heatmap.weeks`).

    Attributes:
        rates: passed / (passed + failed) per week, None for a week without such a verdict.
    """

    checklist_id: str
    item_id: str
    title: str
    rates: tuple[float | None, ...]

    @property
    def first(self) -> float | None:
        """The rate of the first week that has one."""
        return next((r for r in self.rates if r is not None), None)

    @property
    def last(self) -> float | None:
        """The rate of the last week that has one."""
        return next((r for r in reversed(self.rates) if r is not None), None)

    @property
    def change(self) -> float | None:
        """``last - first``: how far the rate moved over the window; None with fewer than two weeks rated."""
        if sum(r is not None for r in self.rates) < 2:
            return None
        assert self.first is not None and self.last is not None
        return round(self.last - self.first, 4)


@dataclass(frozen=True, slots=True)
class Heatmap:
    """Agents × items pass rates of one checklist over ``days`` days up to ``until``.

    Attributes:
        team: the team shown (None: every team the viewer sees).
        teams: the teams the viewer may choose.
        checklist: the checklist shown; None when no checklist has a scored call in the window.
        checklists: the checklists the viewer may choose, by title: those with a scored call the viewer sees
            (team filter applied, any day) and the one asked for.
        days, since, until: the window, ``until`` included (today unless another day was asked for).
        sort: how ``agents`` is ordered: ``agent``, ``worst``, ``best`` or ``item:<checklist/item>``.
        items: the columns: the items of ``checklist`` seen in the window, in checklist order.
        calls: scored calls of ``checklist`` in the window (calls without an agent id included).
        last_day: the latest day of a scored call of ``checklist`` the viewer sees (of any checklist when none
            is shown), in the window or not; None when there is none. What the empty window's message names.
        weeks: ISO weeks of the window, oldest first.
        overall: the pass rate over every item of ``checklist`` per week (same order as ``weeks``).
        trends: every item's weekly rates (same order as ``items``).
        movers: the items whose weekly rate moved most (:data:`TREND_ITEMS` at most), most first.
    """

    team: str | None
    teams: tuple[str, ...]
    checklist: str | None
    checklists: tuple[ChecklistChoice, ...]
    days: int
    since: dt.date
    until: dt.date
    sort: str
    items: tuple[HeatItem, ...]
    agents: tuple[HeatRow, ...]
    calls: int
    last_day: dt.date | None
    weeks: tuple[str, ...]
    overall: tuple[float | None, ...]
    trends: tuple[ItemTrend, ...]
    movers: tuple[ItemTrend, ...]

    @property
    def checklist_title(self) -> str | None:
        """The title of the checklist shown."""
        return next((c.title for c in self.checklists if c.checklist_id == self.checklist), None)


# -- rule health and runs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleHealth:
    """How often reviewers agreed with one checklist item's automatic verdicts.

    Attributes:
        reviewed: verdicts of the item with a current review.
        confirmed: of the reviewed pass/fail/n/a verdicts, those the reviewer confirmed (same verdict).
        agreement: confirmed / reviewed pass, fail and n/a verdicts (uncertain ones have nothing to agree
            with); None when none was reviewed.
        fail_reviewed, fail_precision: reviewed automatic fails and the share of them that stayed fail.
        pass_reviewed, pass_precision: reviewed automatic passes and the share that stayed pass.
        uncertain_reviewed: reviewed uncertain verdicts; ``uncertain_to_pass``/``_fail``/``_na`` how the
            reviewers resolved them (shares of ``uncertain_reviewed``).
        false_deductions: reviewed automatic fails a reviewer overturned — the figure ``callqa rules eval``
            reports from labels, here from reviews.
        uncertain_share: uncertain verdicts among the reviewed ones (the share the engine sent to review).
        flagged: ``agreement`` below the threshold with at least ``min_reviews`` reviews behind it.
        below_gate: ``fail_precision`` below the gate ``callqa rules eval`` applies (0.95 by default), with at
            least ``min_reviews`` reviewed fails behind it.
    """

    checklist_id: str
    item_id: str
    title: str
    reviewed: int
    confirmed: int
    agreement: float | None
    fail_reviewed: int
    fail_precision: float | None
    pass_reviewed: int
    pass_precision: float | None
    uncertain_reviewed: int
    uncertain_to_pass: float | None
    uncertain_to_fail: float | None
    uncertain_to_na: float | None
    flagged: bool
    false_deductions: int
    uncertain_share: float | None
    below_gate: bool


@dataclass(frozen=True, slots=True)
class RunFailureRow:
    """A file a run could not process, and why."""

    path: str
    call_id: str | None
    stage: str
    reason: str
    failed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RunRow:
    """One nightly run.

    Attributes:
        status: running, finished or interrupted.
        audio_hours: hours of audio transcribed.
        rtf: real-time factor, wall seconds / audio seconds (None without audio).
        checklists: the checklist versions that scored calls in the run, ``id vversion (hash[:8])``.
        failures: the run's failures (for a supervisor, those of their teams' calls or of no known call).
    """

    run_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    done: int
    skipped: int
    failed: int
    audio_hours: float | None
    wall_seconds: float | None
    rtf: float | None
    checklists: tuple[str, ...]
    failures: tuple[RunFailureRow, ...]
