"""An agent's own page: latest calls with what was missed, section radar, weekly trend, emotion, disputes.

The agent's rows are read through the viewer's access rule. The team figures beside them (radar, trend,
emotion) are aggregates over the team's calls — means and shares, never another agent's rows — so an agent
sees how the team does without seeing anyone's calls. The team is the one named on most of the agent's calls
in the window; an agent with no team is compared with every call.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from scorecards.access import NotFound, Viewer
from scorecards.store import Store
from scorecards.views_call import _DISPUTE_SELECT
from scorecards.views_sql import (
    CALLS_FROM,
    DAY,
    FINAL,
    WEEK,
    check_positive,
    evidence_spans,
    fetch,
    named_filter,
    weeks_between,
)
from scorecards.views_types import AgentCall, AgentHome, DisputeRow, EmotionShares, MissedItem, RadarPoint, WeekPoint

# The team's side of a comparison: the team's calls (or every call when the agent has no team) in the window.
_TEAM = "($team IS NULL OR c.team = $team)"
_WINDOW = f"{DAY} BETWEEN $since AND $until"


def agent_home(
    store: Store, viewer: Viewer, agent_id: str, *, days: int = 28, latest: int = 10, only_missed: bool = True
) -> AgentHome:
    """An agent's page: latest calls with missed items, section radar and weekly trend against the team.

    Args:
        agent_id: the agent.
        days: the window, counted back from the agent's latest call day.
        latest: how many of the latest calls to list.
        only_missed: list only calls with a missed item (a verdict that counts as fail after any review).

    Raises:
        NotFound: no call of this agent visible to the viewer (an agent asking for another agent).
        Invalid: ``days`` or ``latest`` below 1.
    """
    check_positive("days", days)
    check_positive("latest", latest)
    cond, named = named_filter(viewer)
    mine = f"(c.agent_id = $agent AND {cond})"
    named["agent"] = agent_id
    with store.reading() as con:
        seen = fetch(con, f"SELECT count(*), max({DAY}) FROM {CALLS_FROM} WHERE {mine}", named)[0]
        if not seen[0]:
            raise NotFound(f"agent {agent_id}: no calls of this agent")
        until: dt.date = seen[1] or dt.date.today()
        since = until - dt.timedelta(days=days - 1)
        named.update(since=since, until=until)
        named["team"] = fetch(con, f"SELECT mode(c.team) FROM {CALLS_FROM} WHERE {mine} AND {_WINDOW}", named)[0][0]
        calls = _latest_calls(con, mine, named, latest, only_missed)
        radar = _radar(con, mine, named)
        trend = _trend(con, mine, named, since, until)
        emotion = _emotion(con, mine, named)
        # The agent's disputes: open ones first, then answered ones, newest answer first.
        disputes = fetch(con, _DISPUTE_SELECT + f" WHERE {mine} AND d.agent_id = $agent ORDER BY d.status <> 'open', "
                         "coalesce(d.answered_at, d.created_at) DESC, d.dispute_id", named)
        unack = fetch(con,
            f"SELECT count(*) FROM scorecards s JOIN {CALLS_FROM} ON c.call_id = s.call_id WHERE s.is_current "
            f"AND {mine} AND {_WINDOW} AND NOT EXISTS (SELECT 1 FROM acknowledgements a "
            "WHERE a.scorecard_id = s.scorecard_id)", named)[0][0]
    return AgentHome(agent_id=agent_id, team=named["team"], since=since, until=until, calls=calls, radar=radar,
                     trend=trend, emotion=emotion, disputes=tuple(DisputeRow(*d) for d in disputes),
                     unacknowledged=int(unack))


def _latest_calls(con: Any, mine: str, named: dict[str, Any], latest: int, only_missed: bool) -> tuple[AgentCall, ...]:
    missed_filter = (f"AND EXISTS (SELECT 1 FROM verdicts v LEFT JOIN verdict_reviews r ON r.scorecard_id = "
                     f"v.scorecard_id AND r.item_idx = v.idx AND r.is_current WHERE v.scorecard_id = s.scorecard_id "
                     f"AND {FINAL} = 'fail')") if only_missed else ""
    cards = fetch(con,
        "SELECT s.scorecard_id, s.call_id, s.checklist_id, c.file_name, c.started_at, s.total, rs.total, s.band, "
        "EXISTS (SELECT 1 FROM acknowledgements a WHERE a.scorecard_id = s.scorecard_id) "
        f"FROM scorecards s JOIN {CALLS_FROM} ON c.call_id = s.call_id "
        "LEFT JOIN reviewed_scores rs ON rs.scorecard_id = s.scorecard_id "
        f"WHERE s.is_current AND {mine} AND {_WINDOW} {missed_filter} "
        f"ORDER BY {DAY} DESC, c.started_at DESC NULLS LAST, s.call_id, s.checklist_id LIMIT $latest",
        {**named, "latest": latest})
    if not cards:
        return ()
    ids = [c[0] for c in cards]
    missed: dict[str, list[MissedItem]] = {}
    for sid, idx, item_id, title, veto, message, evidence, did, dstatus in con.execute(
        "SELECT v.scorecard_id, v.idx, v.item_id, v.title, v.veto, v.message, v.evidence, d.dispute_id, d.status "
        "FROM verdicts v LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id AND r.item_idx = v.idx "
        "AND r.is_current LEFT JOIN (SELECT scorecard_id, item_idx, arg_max(dispute_id, created_at) AS dispute_id, "
        "arg_max(status, created_at) AS status FROM disputes WHERE list_contains($ids, scorecard_id) "
        "GROUP BY ALL) d ON d.scorecard_id = v.scorecard_id AND d.item_idx = v.idx "
        f"WHERE list_contains($ids, v.scorecard_id) AND {FINAL} = 'fail' ORDER BY v.scorecard_id, v.idx",
        {"ids": ids}).fetchall():
        quote, start, end = _where(evidence)
        missed.setdefault(sid, []).append(MissedItem(idx, item_id, title, "fail", veto, quote, start, end, message,
                                                     did, dstatus))
    return tuple(AgentCall(call_id=c[1], scorecard_id=c[0], checklist_id=c[2], file_name=c[3], started_at=c[4],
                           total=c[5], reviewed_total=c[6], band=c[7], acknowledged=bool(c[8]),
                           missed=tuple(missed.get(c[0], ()))) for c in cards)


def _where(evidence_json: str) -> tuple[str | None, float | None, float | None]:
    """The quote and time to show for a missed item: the first stretch of the call with words heard in it,
    else the first stretch searched (an absence: time without a quote); None for metadata or metric tests."""
    spans = [e for e in evidence_spans(evidence_json) if e.kind not in ("metadata", "metric")]
    for span in spans:
        if span.quote:
            return span.quote, span.start, span.end
    if spans:
        return None, spans[0].start, spans[0].end
    return None, None, None


def _radar(con: Any, mine: str, named: dict[str, Any]) -> tuple[RadarPoint, ...]:
    rows = fetch(con,
        "SELECT x.section_id, any_value(x.title), avg(x.score) FILTER (WHERE x.is_mine), avg(x.score) FILTER "
        f"(WHERE x.in_team) FROM (SELECT ss.section_id, ss.title, ss.score, {mine} AS is_mine, {_TEAM} AS in_team "
        f"FROM section_scores ss JOIN scorecards s ON s.scorecard_id = ss.scorecard_id JOIN {CALLS_FROM} "
        f"ON c.call_id = s.call_id WHERE s.is_current AND {_WINDOW} AND ({mine} OR {_TEAM})) x "
        "GROUP BY x.section_id HAVING count(*) FILTER (WHERE x.is_mine) > 0 ORDER BY min(x.section_id)",
        named)
    return tuple(RadarPoint(sid, title, _r(a), _r(t)) for sid, title, a, t in rows)


def _trend(con: Any, mine: str, named: dict[str, Any], since: dt.date, until: dt.date) -> tuple[WeekPoint, ...]:
    rows = fetch(con,
        f"SELECT {WEEK.format(DAY)} AS week, avg(coalesce(rs.total, s.total)) FILTER (WHERE {mine}), "
        f"avg(coalesce(rs.total, s.total)) FILTER (WHERE {_TEAM}), count(DISTINCT s.call_id) FILTER (WHERE {mine}) "
        f"FROM scorecards s JOIN {CALLS_FROM} ON c.call_id = s.call_id "
        "LEFT JOIN reviewed_scores rs ON rs.scorecard_id = s.scorecard_id "
        f"WHERE s.is_current AND {_WINDOW} AND ({mine} OR {_TEAM}) GROUP BY week", named)
    by_week = {w: (a, t, n) for w, a, t, n in rows}
    return tuple(WeekPoint(w, _r(by_week[w][0]), _r(by_week[w][1]), by_week[w][2]) if w in by_week
                 else WeekPoint(w, None, None, 0) for w in weeks_between(since, until))


def _emotion(con: Any, mine: str, named: dict[str, Any]) -> EmotionShares:
    """Each call once (however many checklists scored it), from its current transcript's emotion summary."""
    row = fetch(con,
        "SELECT count(*) FILTER (WHERE is_mine), avg(angry) FILTER (WHERE is_mine), "
        "avg(calmer) FILTER (WHERE is_mine AND angry = 1), count(*) FILTER (WHERE in_team), "
        "avg(angry) FILTER (WHERE in_team), avg(calmer) FILTER (WHERE in_team AND angry = 1) FROM ("
        f"SELECT {mine} AS is_mine, {_TEAM} AS in_team, "
        "max(m.value) FILTER (WHERE m.name = 'angry_customer') AS angry, "
        "max(m.value) FILTER (WHERE m.name = 'customer_calmer_by_end') AS calmer "
        f"FROM {CALLS_FROM} JOIN transcripts t ON t.call_id = c.call_id AND t.is_current "
        "JOIN call_metrics m ON m.transcript_id = t.transcript_id "
        f"AND m.name IN ('angry_customer', 'customer_calmer_by_end') WHERE {_WINDOW} AND ({mine} OR {_TEAM}) "
        "AND EXISTS (SELECT 1 FROM scorecards s WHERE s.call_id = c.call_id AND s.is_current) "
        "GROUP BY c.call_id, is_mine, in_team) WHERE angry IS NOT NULL", named)[0]
    return EmotionShares(calls=int(row[0]), angry_customer=_s(row[1]), calmer_by_end=_s(row[2]),
                         team_calls=int(row[3]), team_angry_customer=_s(row[4]), team_calmer_by_end=_s(row[5]))


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _s(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
