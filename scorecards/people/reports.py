"""Per-agent figures over the stored scorecards, with the team's figures beside them. Read-only.

Only current scorecards count (a rescored call counts once, with its newest scorecard). A call's day, the
agent's team and the emotion figures are those of :mod:`scorecards.store.definitions`, which the agent's web page
uses too: the day is the call's ``started_at``, else the day the run that first saw it started; the team is
the one named on most of the agent's calls in the report's days (a tie: the first by name); an agent with no
team is compared with every call in the store. The agent's own figures count all the agent's calls, the team's
those of the team. The report ends on the agent's latest call day (``until``), so an old export still gives a
report; ``days`` counts back from there.

Emotion figures come from each call's stored emotion summary (``call_metrics`` of its current transcript,
written by the nightly flow); calls stored without one are left out of them, and each call counts once
however many checklists scored it:

* **angry customer share**: of the calls with customer speech, those whose customer reached the anger
  threshold of the emotion stage (``angry_customer``, anger ≥ 0.7 by default) in any utterance;
* **ended calmer**: of the calls whose customer was *upset at the start* — the length-weighted anger of the
  customer's first utterances (``customer_anger_start``) at least :data:`UPSET_AT_START` (0.4: what a mostly
  frustrated utterance scores, P(frustrated) 0.8 → 0.4; neutral speech stays near 0) — the share whose
  trajectory is ``improved`` (``customer_calmer_by_end``: the end anger at least 0.15 below the start anger);
* **agent negative tone share**: of the calls with an emotion summary, those where an agent utterance reached
  :data:`NEGATIVE_TONE` (0.7) on the same anger scale (``agent_negative_tone_max``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from core.errors import StoreError
from core.scorecard import score_change
from scorecards.store.database import Store
from scorecards.store.definitions import (
    CALLS_FROM,
    DAY,
    EMOTION_FLAGS,
    EmotionCounts,
    EmotionFigures,
    emotion_join,
    team_of,
)
from scorecards.store.definitions import NEGATIVE_TONE as NEGATIVE_TONE  # the CLI prints the thresholds
from scorecards.store.definitions import UPSET_AT_START as UPSET_AT_START


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """One day (``2025-02-19``) or ISO week (``2025-W08``) of an agent's calls beside the team's."""

    period: str
    calls: int
    mean_total: float | None
    team_calls: int
    team_mean_total: float | None
    needs_review_share: float  # of the agent's calls
    emotion: EmotionFigures
    team_emotion: EmotionFigures


@dataclass(frozen=True, slots=True)
class ItemRate:
    """An item's pass rate (pass / (pass + fail)) for the agent and the team; None when never counted."""

    checklist_id: str
    item_id: str
    title: str
    passed: int
    failed: int
    uncertain: int
    pass_rate: float | None
    team_pass_rate: float | None


@dataclass(frozen=True, slots=True)
class Trend:
    """The mean total of the week of ``until`` against the week before."""

    this_week: str
    last_week: str
    this_mean: float | None
    last_mean: float | None

    @property
    def delta(self) -> float | None:
        return score_change(self.last_mean, self.this_mean)


@dataclass(frozen=True, slots=True)
class AgentReport:
    """Everything ``callqa agent AGENT_ID`` shows."""

    agent_id: str
    team: str | None  # None: compared with every call
    since: dt.date
    until: dt.date
    calls: int
    mean_total: float | None
    team_calls: int
    team_mean_total: float | None
    needs_review_share: float
    days: tuple[PeriodFigures, ...]
    weeks: tuple[PeriodFigures, ...]
    items: tuple[ItemRate, ...]  # worst pass rate first
    trend: Trend
    emotion: EmotionFigures
    team_emotion: EmotionFigures


@dataclass(frozen=True, slots=True)
class _Row:
    call_id: str
    agent_id: str
    team: str | None
    day: dt.date
    total: float | None
    needs_review: bool
    emotion: EmotionCounts  # this call's flags (0 or 1 each); all 0 without an emotion summary


def week_of(day: dt.date) -> str:
    """The ISO week of a day, e.g. ``2025-W08``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 2) if known else None


def _share(rows: Sequence[_Row]) -> float:
    return round(sum(r.needs_review for r in rows) / len(rows), 3) if rows else 0.0


def _rate(passed: int, failed: int) -> float | None:
    return round(passed / (passed + failed), 3) if passed + failed else None


# The current scorecards of the window's days, of the team (every call when there is none) or of the agent.
_SCOPE = (f"FROM scorecards s JOIN {CALLS_FROM} ON c.call_id = s.call_id {{joins}} WHERE s.is_current "
          f"AND {DAY} BETWEEN ? AND ? AND (? IS NULL OR c.team = ? OR c.agent_id = ?)")
# Each scorecard with its call's emotion flags; the summaries read are those of the scope's transcripts only.
_ROWS = ("WITH sc AS (SELECT s.call_id, coalesce(c.agent_id, '') AS agent_id, c.team, " + DAY + " AS day, "
         "s.total, s.needs_review, t.transcript_id "
         + _SCOPE.format(joins="LEFT JOIN transcripts t ON t.call_id = s.call_id AND t.is_current") + ") "
         "SELECT sc.call_id, sc.agent_id, sc.team, sc.day, sc.total, sc.needs_review, "
         + ", ".join(f"CAST({flag} AS INTEGER)" for _, flag in EMOTION_FLAGS)
         + " FROM sc " + emotion_join("sc.transcript_id", "SELECT transcript_id FROM sc"))
_VERDICTS = ("SELECT c.agent_id = ? AND c.agent_id IS NOT NULL, ? IS NULL OR c.team = ?, s.checklist_id, "
             "v.item_id, any_value(v.title), v.verdict, count(*) "
             + _SCOPE.format(joins="JOIN verdicts v ON v.scorecard_id = s.scorecard_id") + " GROUP BY ALL")
_AGENT_CALLS = (f"SELECT s.call_id, c.team, {DAY} FROM scorecards s JOIN {CALLS_FROM} ON c.call_id = s.call_id "
                f"WHERE s.is_current AND c.agent_id = ? AND {DAY} IS NOT NULL")  # a call without a day is in no window


def _agent_span(con: Any, agent_id: str, days: int, until: dt.date | None) -> tuple[str | None, dt.date, dt.date]:
    """The agent's team, and the report's first and last day (by default the agent's latest call day)."""
    calls = con.execute(_AGENT_CALLS, [agent_id]).fetchall()
    if not calls:
        raise StoreError(f"no scored calls of agent '{agent_id}'; `callqa calls` lists the agents")
    until = until or max(day for _, _, day in calls)
    since = until - dt.timedelta(days=days - 1)
    return team_of((call, team) for call, team, day in calls if since <= day <= until), since, until


def agent_report(store: Store, agent_id: str, *, days: int = 28, until: dt.date | None = None) -> AgentReport:
    """An agent's totals per day and week, pass rate per item, trend and review share, beside the team's.

    Args:
        store: the database.
        agent_id: the agent as stored in the call metadata.
        days: how many days the report covers, ending on ``until``.
        until: the last day covered (default: the day of the agent's latest scored call).

    Raises:
        StoreError: no database, or no scored call of this agent.
    """
    if days < 1:
        raise StoreError(f"--days must be at least 1 (got {days})")
    with store.reading() as con:
        team, since, until = _agent_span(con, agent_id, days, until)
        # The trend needs the whole previous week even when ``days`` is short.
        earliest = min(since, until - dt.timedelta(days=until.weekday() + 7))
        rows = [_Row(call_id, agent, call_team, day, total, review, EmotionCounts(*flags))
                for call_id, agent, call_team, day, total, review, *flags
                in con.execute(_ROWS, [earliest, until, team, team, agent_id]).fetchall()]
        verdicts = con.execute(_VERDICTS, [agent_id, team, team, since, until, team, team, agent_id]).fetchall()
    window = [r for r in rows if r.day >= since]
    mine = [r for r in window if r.agent_id == agent_id]
    ours = [r for r in window if team is None or r.team == team]
    return AgentReport(
        agent_id=agent_id, team=team, since=since, until=until, calls=len(mine),
        mean_total=_mean([r.total for r in mine]), team_calls=len(ours),
        team_mean_total=_mean([r.total for r in ours]), needs_review_share=_share(mine),
        days=_periods(window, agent_id, team, lambda d: d.isoformat()),
        weeks=_periods(window, agent_id, team, week_of), items=_item_rates(verdicts),
        trend=_trend(rows, agent_id, until), emotion=emotion_figures(mine), team_emotion=emotion_figures(ours),
    )  # fmt: skip


def _periods(rows: Sequence[_Row], agent_id: str, team: str | None, key: Any) -> tuple[PeriodFigures, ...]:
    groups: dict[str, list[_Row]] = defaultdict(list)
    for r in rows:
        groups[key(r.day)].append(r)
    out = []
    for period, group in sorted(groups.items(), reverse=True):
        mine = [r for r in group if r.agent_id == agent_id]
        ours = [r for r in group if team is None or r.team == team]
        if mine:  # the team's figures only beside a period the agent worked
            out.append(PeriodFigures(period, len(mine), _mean([r.total for r in mine]), len(ours),
                                     _mean([r.total for r in ours]), _share(mine), emotion_figures(mine),
                                     emotion_figures(ours)))  # fmt: skip
    return tuple(out)


def emotion_figures(rows: Sequence[_Row]) -> EmotionFigures:
    """The emotion figures of the calls in ``rows`` (each call once; calls without an emotion summary left out)."""
    calls = {r.call_id: r.emotion for r in rows}.values()
    return EmotionFigures.of(sum(calls, EmotionCounts()))


def _item_rates(verdicts: Sequence[tuple[Any, ...]]) -> tuple[ItemRate, ...]:
    mine: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    team: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    titles: dict[tuple[str, str], str] = {}
    for is_agent, is_team, checklist_id, item_id, title, verdict, n in verdicts:
        key = (checklist_id, item_id)
        titles[key] = title
        if is_team:
            team[key][verdict] += n
        if is_agent:
            mine[key][verdict] += n
    rates = [
        ItemRate(key[0], key[1], titles[key], mine[key]["pass"], mine[key]["fail"], mine[key]["uncertain"],
                 _rate(mine[key]["pass"], mine[key]["fail"]), _rate(team[key]["pass"], team[key]["fail"]))
        for key in mine
    ]  # fmt: skip

    def worst_first(r: ItemRate) -> tuple[float, float, str, str]:
        gap = (r.pass_rate or 0.0) - (r.team_pass_rate or 0.0)
        return (2.0 if r.pass_rate is None else r.pass_rate, gap, r.checklist_id, r.item_id)

    return tuple(sorted(rates, key=worst_first))


def _trend(rows: Sequence[_Row], agent_id: str, until: dt.date) -> Trend:
    this_week, last_week = week_of(until), week_of(until - dt.timedelta(days=7))
    mine = [r for r in rows if r.agent_id == agent_id]
    return Trend(this_week, last_week, _mean([r.total for r in mine if week_of(r.day) == this_week]),
                 _mean([r.total for r in mine if week_of(r.day) == last_week]))  # fmt: skip


def report_to_dict(report: AgentReport) -> dict[str, object]:
    """The JSON form of an agent report (what ``callqa agent --json`` prints)."""
    out = asdict(report)
    out["since"], out["until"] = report.since.isoformat(), report.until.isoformat()
    out["trend"]["delta"] = report.trend.delta
    return out
