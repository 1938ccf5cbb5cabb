"""The read side for people: what the web pages show, each filtered in SQL by who is asking.

One import for the web app; the code is in the ``views_*`` modules.

Every function takes the :class:`~scorecards.store.database.Store` and the
:class:`~scorecards.people.access.Viewer` first,
applies :meth:`Viewer.call_filter` in every query, and raises :class:`~core.errors.NotFound` for an id
outside the viewer's scope (exactly like a missing one), :class:`~core.errors.Forbidden` for a page the
viewer's role has no business with, :class:`~core.errors.Invalid` for a parameter it cannot take.

A call's day is ``calls.started_at``, or the start of the run that first saw it when the metadata gave no
time. Only current scorecards count; where a verdict has a current review, the reviewed verdict counts in
rates (heat-map, agent home), while the automatic verdict is always shown beside it.
"""

from __future__ import annotations

from scorecards.people.views_agent import agent_home
from scorecards.people.views_call import DISPUTE_STATUSES, audio_file, call_page, disputes
from scorecards.people.views_privacy import (
    AccessPage,
    AccessRow,
    CallAudio,
    CallPrivacy,
    call_audio,
    call_page_privacy,
    clear_access,
    require_clear,
    should_audit_audio,
)
from scorecards.people.views_queue import review_queue
from scorecards.people.views_team import SORTS, colour, rule_health, run_history, team_heatmap
from scorecards.people.views_types import (
    ANGER_THRESHOLD,
    HEAT_BANDS,
    HEAT_TOP,
    REASON_KINDS,
    SAMPLE_PER_AGENT_WEEK,
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
    "DISPUTE_STATUSES",
    "HEAT_BANDS",
    "HEAT_TOP",
    "REASON_KINDS",
    "SAMPLE_PER_AGENT_WEEK",
    "SORTS",
    "AccessPage",
    "AccessRow",
    "AgentCall",
    "AgentHome",
    "CallAudio",
    "CallPage",
    "CallPrivacy",
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
    "call_audio",
    "call_page",
    "call_page_privacy",
    "clear_access",
    "colour",
    "disputes",
    "require_clear",
    "review_queue",
    "rule_health",
    "run_history",
    "should_audit_audio",
    "team_heatmap",
]
