"""The read side for people: what the web pages show, each filtered in SQL by who is asking.

Every function takes the :class:`~scorecards.store.Store` and the :class:`~scorecards.access.Viewer` first,
applies :meth:`Viewer.call_filter` in every query, and raises :class:`~scorecards.access.NotFound` for an id
outside the viewer's scope (exactly like a missing one), :class:`~scorecards.access.Forbidden` for a page the
viewer's role has no business with, :class:`~scorecards.access.Invalid` for a parameter it cannot take.

A call's day is ``calls.started_at``, or the start of the run that first saw it when the metadata gave no
time. Only current scorecards count; where a verdict has a current review, the reviewed verdict counts in
rates (heat-map, agent home), while the automatic verdict is always shown beside it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from scorecards.access import Viewer
from scorecards.store import Store
from scorecards.views_types import (
    REASON_KINDS,
    AgentCall,
    AgentHome,
    CallPage,
    DisputeRow,
    EmotionShares,
    EvidenceSpan,
    HeatCell,
    HeatItem,
    Heatmap,
    HeatRow,
    ItemTrend,
    MissedItem,
    QueuePage,
    QueueReason,
    QueueRow,
    RadarPoint,
    ReviewedScore,
    ReviewView,
    RuleHealth,
    RunFailureRow,
    RunRow,
    ScorecardView,
    UtteranceView,
    VerdictView,
    WeekPoint,
)

__all__ = [
    "ANGER_THRESHOLD",
    "HEAT_BANDS",
    "REASON_KINDS",
    "SAMPLE_PER_AGENT_WEEK",
    "AgentCall",
    "AgentHome",
    "CallPage",
    "DisputeRow",
    "EmotionShares",
    "EvidenceSpan",
    "HeatCell",
    "HeatItem",
    "HeatRow",
    "Heatmap",
    "ItemTrend",
    "MissedItem",
    "QueuePage",
    "QueueReason",
    "QueueRow",
    "RadarPoint",
    "ReviewView",
    "ReviewedScore",
    "RuleHealth",
    "RunFailureRow",
    "RunRow",
    "ScorecardView",
    "UtteranceView",
    "VerdictView",
    "WeekPoint",
    "agent_home",
    "audio_file",
    "call_page",
    "disputes",
    "review_queue",
    "rule_health",
    "run_history",
    "team_heatmap",
]

ANGER_THRESHOLD = 0.7
"""Customer anger (``call_metrics.customer_anger_max``) from which a call goes to the queue."""
SAMPLE_PER_AGENT_WEEK = 2
"""Calls per agent and ISO week picked at random (deterministically) among those with no other reason."""
HEAT_BANDS: tuple[tuple[float, str], ...] = ((0.6, "red"), (0.75, "orange"), (0.9, "yellow"))
"""A pass rate below a bound takes its colour (first match); at or above the last bound it is green."""


def review_queue(
    store: Store,
    viewer: Viewer,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    team: str | None = None,
    agent: str | None = None,
    item: str | None = None,
    reason: str | None = None,
    reviewed: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    anger_threshold: float = ANGER_THRESHOLD,
    sample_per_agent_week: int = SAMPLE_PER_AGENT_WEEK,
    sample_salt: str = "",
) -> QueuePage:
    """The calls a reviewer should look at, newest first, each with why.

    A call is listed when a current scorecard has a failed veto item, an open dispute, customer anger at or
    above ``anger_threshold``, a failed item, an uncertain verdict, or when it is one of the
    ``sample_per_agent_week`` calls drawn for its agent and ISO week among the calls with no other reason
    (ordered by sha256 of call id, week and ``sample_salt``: the same calls on every page load).
    Reviewed calls stay listed (``QueueRow.reviewed``).

    Args:
        since, until: inclusive range of call days.
        team, agent: only this team / agent.
        item: only calls listed for this item (``item_id``; veto, fail, uncertain or dispute reasons).
        reason: only calls with a reason of this kind (one of :data:`REASON_KINDS`).
        reviewed: True only reviewed calls, False only unreviewed ones, None both.
        limit, offset: the page.

    Raises:
        Forbidden: an agent asks (the queue is for reviewers).
        Invalid: an unknown ``reason``, a negative ``limit``/``offset`` or ``since`` after ``until``.
    """
    raise NotImplementedError  # filled in next (the API is committed first for the web pages)


def call_page(store: Store, viewer: Viewer, call_id: str) -> CallPage:
    """One call: transcript with roles, times and emotion, every current scorecard with reviews, disputes.

    Raises:
        NotFound: no such call, or not visible to the viewer.
    """
    raise NotImplementedError  # filled in next (the API is committed first for the web pages)


def audio_file(store: Store, viewer: Viewer, call_id: str) -> Path:
    """The recording of a call (``calls.source_path``) for the audio endpoint.

    Raises:
        NotFound: no such call, not visible to the viewer, or the file is no longer there.
    """
    raise NotImplementedError  # filled in next (the API is committed first for the web pages)


def disputes(store: Store, viewer: Viewer, *, status: str | None = None, limit: int = 200) -> tuple[DisputeRow, ...]:
    """Disputes of the calls the viewer sees: open ones first (oldest first), then answered ones, newest first.

    Args:
        status: only open, upheld or rejected ones.

    Raises:
        Invalid: an unknown ``status``.
    """
    raise NotImplementedError  # filled in next (the API is committed first for the web pages)


def agent_home(
    store: Store, viewer: Viewer, agent_id: str, *, days: int = 28, latest: int = 10
) -> AgentHome:
    """An agent's page: latest calls with missed items, section radar and weekly trend against the team.

    Args:
        agent_id: the agent.
        days: the window, counted back from the agent's latest call day.
        latest: how many of the latest calls to list.

    Raises:
        NotFound: no call of this agent visible to the viewer (an agent asking for another agent).
        Invalid: ``days`` or ``latest`` below 1.
    """
    raise NotImplementedError  # filled in next (the API is committed first for the web pages)


def team_heatmap(
    store: Store, viewer: Viewer, *, team: str | None = None, days: int = 28, sort: str = "agent"
) -> Heatmap:
    """Agents × items pass rates over the last ``days`` days, with a weekly trend per item.

    Args:
        team: only this team (it must be one the viewer sees).
        days: the window, counted back from the latest call day in scope.
        sort: ``agent`` (by id), ``worst`` / ``best`` (overall rate), or ``item:<checklist_id>/<item_id>``
            (that item's rate, worst first; agents without a rate last).

    Raises:
        Forbidden: an agent asks.
        NotFound: ``team`` is not one the viewer sees.
        Invalid: an unknown ``sort`` or ``days`` below 1.
    """
    raise NotImplementedError  # filled in next (the API is committed first for the web pages)


def rule_health(
    store: Store, viewer: Viewer, *, min_agreement: float = 0.8, min_reviews: int = 5
) -> tuple[RuleHealth, ...]:
    """Per checklist item, how reviewers' decisions agreed with the engine (reviews of visible calls only).

    Items are ordered flagged first, then by agreement (lowest first), then by id.

    Raises:
        Forbidden: an agent asks.
        Invalid: ``min_agreement`` outside 0–1 or ``min_reviews`` below 1.
    """
    raise NotImplementedError  # filled in next (the API is committed first for the web pages)


def run_history(store: Store, viewer: Viewer, limit: int = 30) -> tuple[RunRow, ...]:
    """The latest nightly runs, newest first, with failures and the checklist versions used.

    Raises:
        Forbidden: an agent asks.
    """
    raise NotImplementedError  # filled in next (the API is committed first for the web pages)
