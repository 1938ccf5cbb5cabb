"""An agent's own page: latest calls with what was missed, section radar, weekly trend, emotion, disputes.

The agent's rows are read through the viewer's access rule. The team figures beside them (radar, trend,
emotion) are aggregates over the team's calls — means and shares, never another agent's rows — so an agent
sees how the team does without seeing anyone's calls. The team, a call's day and the emotion figures are
those of ``callqa agent`` (:mod:`scorecards.store.definitions`): the team is the one named on most of the agent's
calls in the window, a tie to the first by name; an agent with no team is compared with every call.

Everything comes from the summaries that every write keeps exact (:mod:`scorecards.store.summaries`): the window's
scorecards from ``agent_cards`` (one row each), radar, trend and emotion (the agent's and the team's) from
the per-agent-per-day sums. Only what was missed in the listed calls is read from the verdicts themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.errors import NotFound
from scorecards.people.access import Viewer
from scorecards.people.views_call import dispute_rows
from scorecards.people.views_sql import (
    CALLS_FROM,
    FINAL,
    WEEK,
    check_positive,
    evidence_spans,
    fetch,
    named_filter,
    weeks_between,
)
from scorecards.people.views_types import (
    AgentCall,
    AgentHome,
    DisputeRow,
    EmotionShares,
    MissedItem,
    RadarPoint,
    WeekPoint,
)
from scorecards.store.database import Store
from scorecards.store.definitions import EMOTION_FLAGS, EmotionCounts, EmotionFigures, team_of


def agent_home(
    store: Store, viewer: Viewer, agent_id: str, *, days: int = 28, latest: int = 10, only_missed: bool = True
) -> AgentHome:
    """An agent's page: latest calls with missed items, section radar and weekly trend against the team.

    The window ends on the day of the agent's latest scored call. Totals in the trend are the reviewed totals where a
    scorecard was reviewed, the automatic ones otherwise; the radar uses the automatic section scores.

    Args:
        agent_id: the agent.
        days: the window, counted back from the agent's latest scored call day.
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
        # Every current scorecard of the agent has a row in the agent_cards summary; the window ends on the
        # latest day of those (a call that was never scored shows nothing on this page).
        count, last = fetch(con, f"SELECT count(*), max(c.day) FROM agent_cards c WHERE {mine}", named)[0]
        if not count and not fetch(con, f"SELECT count(*) FROM {CALLS_FROM} WHERE {mine}", named)[0][0]:
            raise NotFound(f"agent {agent_id}: no calls of this agent")
        until: dt.date = last if last is not None else dt.date.today()
        since = until - dt.timedelta(days=days - 1)
        named.update(since=since, until=until)
        own = [_Card(*row) for row in fetch(con, f"{_CARDS} WHERE {mine} AND c.day BETWEEN $since AND $until",
                                            named)]
        team = team_of((r.call_id, r.team) for r in own)
        named.update(team=team)
        # Radar, trend and emotion are sums over the per-agent-per-day summaries (scorecards/store/summaries.py).
        agent_sums, team_sums = _sums(con, mine, named)
        disputes = dispute_rows(con, "d.agent_id = $agent",
                                "d.status <> 'open', coalesce(d.answered_at, d.created_at) DESC, d.dispute_id", named,
                                join_calls=False, visible=mine)
        newest = _newest_first(own)
        chosen = [r for r in newest if r.failed or not only_missed][:latest]
        missed = _missed(con, [r.scorecard_id for r in chosen if r.failed], disputes)
    return AgentHome(agent_id=agent_id, team=team, since=since, until=until,
                     calls=_latest(chosen, missed), radar=_radar(agent_sums, team_sums),
                     trend=_trend(agent_sums, team_sums, since, until), emotion=_emotion(agent_sums, team_sums),
                     disputes=disputes, unacknowledged=sum(not r.acknowledged for r in own))


@dataclass(frozen=True, slots=True)
class _Card:
    """One of the agent's current scorecards in the window (a row of the agent_cards summary)."""

    team: str | None
    day: dt.date
    started_at: dt.datetime | None
    call_id: str
    scorecard_id: str
    checklist_id: str
    file_name: str
    total: float | None
    reviewed_total: float | None
    band: str
    failed: int  # verdicts that count as fail after any review
    acknowledged: bool


_CARDS = ("SELECT c.team, c.day, c.started_at, c.call_id, c.scorecard_id, c.checklist_id, c.file_name, c.total, "
          "c.reviewed_total, c.band, c.failed, c.acknowledged FROM agent_cards c")


@dataclass(frozen=True, slots=True)
class _Sums:
    """The window's summary sums for one side (the agent, or the team): per section (title, score sum, scores),
    per week (scored calls, total sum, totals), and the emotion counts."""

    sections: dict[str, tuple[str, float, int]]
    weeks: dict[str, tuple[int, float, int]]
    emotion: EmotionCounts


def _sums(con: Any, mine: str, named: dict[str, Any]) -> tuple[_Sums, _Sums]:
    """The window's summary sums of the agent (rows matching ``mine``) and of the team, one query per table."""
    team = "($team IS NULL OR c.team = $team)"
    where = f"WHERE c.day BETWEEN $since AND $until AND ({mine} OR {team})"

    def both(*columns: str) -> str:
        return ", ".join(f"sum({col}) FILTER (WHERE {side})" for side in (mine, team) for col in columns)

    sections = fetch(con, f"SELECT c.section_id, any_value(c.title), {both('c.score_sum', 'c.scored')} "
                     f"FROM agent_day_sections c {where} GROUP BY c.section_id ORDER BY c.section_id", named)
    weeks = fetch(con, f"SELECT {WEEK.format('c.day')}, {both('c.calls', 'c.total_sum', 'c.totals')} "
                  f"FROM agent_day_cards c {where} GROUP BY 1", named)
    counts = [f"c.{name}" for name, _ in EMOTION_FLAGS]
    emotion = fetch(con, f"SELECT {both(*counts)} FROM agent_day_emotion c {where}", named)[0]
    out = []
    for side in (0, 1):
        n = len(counts)
        out.append(_Sums(
            {s: (title, r[2 * side] or 0.0, int(r[2 * side + 1] or 0)) for s, title, *r in sections},
            {w: (int(r[3 * side] or 0), r[3 * side + 1] or 0.0, int(r[3 * side + 2] or 0)) for w, *r in weeks},
            EmotionCounts(*(int(v or 0) for v in emotion[n * side:n * (side + 1)]))))
    return out[0], out[1]


def _mean_of(total: float, n: int) -> float | None:
    """A mean from a sum and a count, rounded as :func:`scorecards.people.views_sql.mean` rounds."""
    return round(total / n, 2) if n else None


def _missed(con: Any, ids: list[str], disputes: tuple[DisputeRow, ...]) -> dict[str, list[MissedItem]]:
    """The verdicts that count as fail now, per scorecard, with the agent's latest dispute of each."""
    latest: dict[tuple[str, int], DisputeRow] = {}
    for d in sorted(disputes, key=lambda d: d.created_at):
        latest[(d.scorecard_id, d.item_idx)] = d
    rows = fetch(con,
        "SELECT v.scorecard_id, v.idx, v.item_id, v.title, v.veto, v.message, v.evidence, s.checklist_hash "
        "FROM verdicts v JOIN scorecards s ON s.scorecard_id = v.scorecard_id "
        "LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id AND r.item_idx = v.idx AND r.is_current "
        f"WHERE v.scorecard_id IN (SELECT unnest($ids)) AND {FINAL} = 'fail' ORDER BY v.scorecard_id, v.idx",
        {"ids": ids})
    out: dict[str, list[MissedItem]] = {}
    for sid, idx, item_id, title, veto, message, evidence, checklist_hash in rows:
        quote, start, end = _where(evidence)
        dispute = latest.get((sid, idx))
        out.setdefault(sid, []).append(MissedItem(idx, item_id, title, "fail", veto, quote, start, end, message,
                                                  dispute.dispute_id if dispute else None,
                                                  dispute.status if dispute else None, checklist_hash))
    return out


def _newest_first(own: list[_Card]) -> list[_Card]:
    cards = sorted(own, key=lambda r: (r.call_id, r.checklist_id))
    cards.sort(key=lambda r: (r.day, r.started_at or dt.datetime.min), reverse=True)  # stable: newest first
    return cards


def _latest(chosen: list[_Card], missed: dict[str, list[MissedItem]]) -> tuple[AgentCall, ...]:
    return tuple(AgentCall(call_id=r.call_id, scorecard_id=r.scorecard_id, checklist_id=r.checklist_id,
                           file_name=r.file_name, started_at=r.started_at, total=r.total,
                           reviewed_total=r.reviewed_total, band=r.band, acknowledged=r.acknowledged,
                           missed=tuple(missed.get(r.scorecard_id, ()))) for r in chosen)


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


def _radar(agent: _Sums, team: _Sums) -> tuple[RadarPoint, ...]:
    """Every section the agent has a score in, by section id, with the team's mean beside it."""
    out = []
    for section_id, (title, total, n) in agent.sections.items():
        if not n:  # a section only the team has scores in
            continue
        _, team_total, team_n = team.sections.get(section_id, (title, 0.0, 0))
        out.append(RadarPoint(section_id, title, _mean_of(total, n), _mean_of(team_total, team_n)))
    return tuple(out)


def _trend(agent: _Sums, team: _Sums, since: dt.date, until: dt.date) -> tuple[WeekPoint, ...]:
    points = []
    for week in weeks_between(since, until):
        calls, total, n = agent.weeks.get(week, (0, 0.0, 0))
        _, team_total, team_n = team.weeks.get(week, (0, 0.0, 0))
        points.append(WeekPoint(week, _mean_of(total, n), _mean_of(team_total, team_n), calls))
    return tuple(points)


def _emotion(agent: _Sums, team: _Sums) -> EmotionShares:
    """Each call once (however many checklists scored it), from its current transcript's emotion summary."""
    return EmotionShares(agent=EmotionFigures.of(agent.emotion), team=EmotionFigures.of(team.emotion))
