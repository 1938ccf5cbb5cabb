"""An agent's own page: latest calls with what was missed, section radar, weekly trend, emotion, disputes.

The agent's rows are read through the viewer's access rule. The team figures beside them (radar, trend,
emotion) are aggregates over the team's calls — means and shares, never another agent's rows — so an agent
sees how the team does without seeing anyone's calls. The team is the one named on most of the agent's calls
in the window; an agent with no team is compared with every call.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from typing import Any

from scorecards.access import NotFound, Viewer
from scorecards.store import Store
from scorecards.views_call import dispute_rows
from scorecards.views_sql import (
    CALLS_FROM,
    DAY,
    FINAL,
    check_positive,
    evidence_spans,
    fetch,
    mean,
    named_filter,
    rate,
    week_of,
    weeks_between,
)
from scorecards.views_types import (
    AgentCall,
    AgentHome,
    DisputeRow,
    EmotionShares,
    MissedItem,
    RadarPoint,
    WeekPoint,
)


def agent_home(
    store: Store, viewer: Viewer, agent_id: str, *, days: int = 28, latest: int = 10, only_missed: bool = True
) -> AgentHome:
    """An agent's page: latest calls with missed items, section radar and weekly trend against the team.

    The window ends on the agent's latest call day. Totals in the trend are the reviewed totals where a
    scorecard was reviewed, the automatic ones otherwise; the radar uses the automatic section scores.

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
        calls = fetch(con, f"SELECT {DAY}, c.team FROM {CALLS_FROM} WHERE {mine}", named)
        if not calls:
            raise NotFound(f"agent {agent_id}: no calls of this agent")
        # A call with neither a start time nor a known run has no day: it counts in no window.
        until: dt.date = max((day for day, _ in calls if day is not None), default=dt.date.today())
        since = until - dt.timedelta(days=days - 1)
        teams = Counter(team for day, team in calls if day is not None and day >= since and team is not None)
        team = min(teams, key=lambda t: (-teams[t], t)) if teams else None
        named.update(since=since, until=until, team=team)
        rows = [_Card(*r) for r in fetch(con, _CARDS.format(mine=mine), named)]
        # Acknowledgements only matter for the agent's own cards: looked up for those alone.
        acked = {r[0] for r in fetch(con, "SELECT DISTINCT scorecard_id FROM acknowledgements WHERE scorecard_id IN "
                                          "(SELECT unnest($ids))", {"ids": [r.scorecard_id for r in rows if r.mine]})}
        rows = [replace(r, acknowledged=r.scorecard_id in acked) if r.mine else r for r in rows]
        own = [r for r in rows if r.mine]
        sections = fetch(con, "SELECT scorecard_id, section_id, title, score FROM section_scores "
                         "WHERE scorecard_id IN (SELECT unnest($ids)) AND score IS NOT NULL ORDER BY section_id",
                         {"ids": [r.scorecard_id for r in rows]})
        metrics = fetch(con, "SELECT transcript_id, name, value FROM call_metrics WHERE transcript_id IN "
                        "(SELECT unnest($ids)) AND name IN ('angry_customer', 'customer_calmer_by_end')",
                        {"ids": sorted({r.transcript_id for r in rows})})
        disputes = dispute_rows(con, f"{mine} AND d.agent_id = $agent",
                                "d.status <> 'open', coalesce(d.answered_at, d.created_at) DESC, d.dispute_id", named)
        missed = _missed(con, [r.scorecard_id for r in own], disputes)
    return AgentHome(agent_id=agent_id, team=team, since=since, until=until,
                     calls=_latest(own, missed, latest, only_missed), radar=_radar(rows, sections),
                     trend=_trend(rows, since, until), emotion=_emotion(rows, metrics), disputes=disputes,
                     unacknowledged=sum(not r.acknowledged for r in own))


@dataclass(frozen=True, slots=True)
class _Card:
    """A current scorecard in the window: the agent's own (``mine``) or the team's (``team``), or both."""

    scorecard_id: str
    call_id: str
    transcript_id: str
    checklist_id: str
    file_name: str
    started_at: dt.datetime | None
    day: dt.date
    mine: bool
    team: bool
    total: float | None
    reviewed_total: float | None
    band: str
    acknowledged: bool

    @property
    def counted_total(self) -> float | None:
        return self.reviewed_total if self.reviewed_total is not None else self.total


# One pass over the scorecards for the agent's and the team's cards of the window (the team's side is read as
# aggregates only: see the module docstring).
_CARDS = (
    f"SELECT s.scorecard_id, s.call_id, s.transcript_id, s.checklist_id, c.file_name, c.started_at, {DAY}, "
    "{mine}, ($team IS NULL OR c.team = $team), s.total, rs.total, s.band, false "
    f"FROM {CALLS_FROM} JOIN scorecards s ON s.call_id = c.call_id AND s.is_current "
    "LEFT JOIN reviewed_scores rs ON rs.scorecard_id = s.scorecard_id "
    f"WHERE {DAY} BETWEEN $since AND $until AND ({{mine}} OR $team IS NULL OR c.team = $team)"
)


def _missed(con: Any, ids: list[str], disputes: tuple[DisputeRow, ...]) -> dict[str, list[MissedItem]]:
    """The verdicts that count as fail now, per scorecard, with the agent's latest dispute of each."""
    latest: dict[tuple[str, int], DisputeRow] = {}
    for d in sorted(disputes, key=lambda d: d.created_at):
        latest[(d.scorecard_id, d.item_idx)] = d
    rows = fetch(con,
        "SELECT v.scorecard_id, v.idx, v.item_id, v.title, v.veto, v.message, v.evidence FROM verdicts v "
        "LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id AND r.item_idx = v.idx AND r.is_current "
        f"WHERE v.scorecard_id IN (SELECT unnest($ids)) AND {FINAL} = 'fail' ORDER BY v.scorecard_id, v.idx",
        {"ids": ids})
    out: dict[str, list[MissedItem]] = {}
    for sid, idx, item_id, title, veto, message, evidence in rows:
        quote, start, end = _where(evidence)
        dispute = latest.get((sid, idx))
        out.setdefault(sid, []).append(MissedItem(idx, item_id, title, "fail", veto, quote, start, end, message,
                                                  dispute.dispute_id if dispute else None,
                                                  dispute.status if dispute else None))
    return out


def _latest(own: list[_Card], missed: dict[str, list[MissedItem]], latest: int,
            only_missed: bool) -> tuple[AgentCall, ...]:
    cards = sorted(own, key=lambda r: (r.call_id, r.checklist_id))
    cards.sort(key=lambda r: (r.day, r.started_at or dt.datetime.min), reverse=True)  # stable: newest first
    chosen = [r for r in cards if r.scorecard_id in missed or not only_missed][:latest]
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


def _radar(rows: list[_Card], sections: list[tuple[Any, ...]]) -> tuple[RadarPoint, ...]:
    card = {r.scorecard_id: r for r in rows}
    titles: dict[str, str] = {}
    agent: dict[str, list[float]] = defaultdict(list)
    team: dict[str, list[float]] = defaultdict(list)
    for sid, section_id, title, score in sections:
        titles.setdefault(section_id, title)
        if card[sid].mine:
            agent[section_id].append(score)
        if card[sid].team:
            team[section_id].append(score)
    return tuple(RadarPoint(s, titles[s], mean(agent[s]), mean(team[s])) for s in titles if agent[s])


def _trend(rows: list[_Card], since: dt.date, until: dt.date) -> tuple[WeekPoint, ...]:
    agent: dict[str, list[float]] = defaultdict(list)
    team: dict[str, list[float]] = defaultdict(list)
    calls: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        week = week_of(r.day)
        total = r.counted_total
        if r.mine:
            calls[week].add(r.call_id)
            if total is not None:
                agent[week].append(total)
        if r.team and total is not None:
            team[week].append(total)
    return tuple(WeekPoint(w, mean(agent[w]), mean(team[w]), len(calls[w])) for w in weeks_between(since, until))


def _emotion(rows: list[_Card], metrics: list[tuple[Any, ...]]) -> EmotionShares:
    """Each call once (however many checklists scored it), from its current transcript's emotion summary."""
    values: dict[str, dict[str, float]] = defaultdict(dict)
    for tid, name, value in metrics:
        values[tid][name] = value
    sides: dict[str, tuple[bool, bool]] = {}
    for r in rows:
        if "angry_customer" in values.get(r.transcript_id, {}):
            sides[r.transcript_id] = (r.mine, r.team)
    figures = []
    for side in (0, 1):
        angry = [values[t]["angry_customer"] >= 0.5 for t, s in sides.items() if s[side]]
        calmer = [values[t].get("customer_calmer_by_end", 0.0) >= 0.5 for t, s in sides.items()
                  if s[side] and values[t]["angry_customer"] >= 0.5]
        figures.append((len(angry), rate(sum(angry), len(angry)), rate(sum(calmer), len(calmer))))
    (n, a, c), (tn, ta, tc) = figures
    return EmotionShares(calls=n, angry_customer=a, calmer_by_end=c, team_calls=tn, team_angry_customer=ta,
                         team_calmer_by_end=tc)
