"""The review queue: which calls a reviewer should hear, and why (see :func:`review_queue`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scorecards.access import Invalid, Viewer
from scorecards.store import Store
from scorecards.views_sql import CALLS_FROM, WEEK, check_range, current_scope, fetch, require_staff
from scorecards.views_types import (
    ANGER_THRESHOLD,
    REASON_KINDS,
    SAMPLE_PER_AGENT_WEEK,
    QueuePage,
    QueueReason,
    QueueRow,
)

_VETO, _DISPUTE, _ANGER, _FAIL, _UNCERTAIN, _SAMPLE = range(len(REASON_KINDS))

# Reasons per call, as (call_id, ord, item_id, detail, idx) rows; ``ord`` indexes REASON_KINDS. ``sc`` is the
# viewer's current scorecards over whole ISO weeks, so the weekly sample does not depend on the date filter.
_REASONS = f"""
calls_in AS (
    SELECT call_id, any_value(file_name) AS file_name, any_value(started_at) AS started_at,
           any_value(agent_id) AS agent_id, any_value(team) AS team, any_value(day) AS day,
           {WEEK.format('any_value(day)')} AS week
    FROM sc GROUP BY call_id),
item_r AS (
    SELECT s.call_id, CASE WHEN v.verdict = 'fail' AND v.veto THEN {_VETO} WHEN v.verdict = 'fail' THEN {_FAIL}
           ELSE {_UNCERTAIN} END AS ord, v.item_id, v.title AS detail, v.idx
    FROM verdicts v JOIN sc s ON v.scorecard_id = s.scorecard_id WHERE v.verdict IN ('fail', 'uncertain')),
dispute_r AS (
    SELECT s.call_id, {_DISPUTE} AS ord, d.item_id, d.comment AS detail, d.item_idx AS idx
    FROM disputes d JOIN sc s ON d.scorecard_id = s.scorecard_id WHERE d.status = 'open'),
anger_r AS (
    SELECT s.call_id, {_ANGER} AS ord, NULL AS item_id,
           printf('customer anger %.2f ≥ %.2f', max(m.value), $anger) AS detail, 0 AS idx
    FROM call_metrics m JOIN sc s ON m.transcript_id = s.transcript_id
    WHERE m.name = 'customer_anger_max' AND m.value >= $anger GROUP BY s.call_id),
flagged AS (SELECT * FROM item_r UNION ALL SELECT * FROM dispute_r UNION ALL SELECT * FROM anger_r),
sample_r AS (
    SELECT call_id, {_SAMPLE} AS ord, NULL AS item_id,
           'sample ' || rn || '/' || $sample || ' of ' || coalesce(agent_id, '?') || ' in ' || week AS detail, 0 AS idx
    FROM (SELECT ci.call_id, ci.agent_id, ci.week, row_number() OVER (
              PARTITION BY ci.agent_id, ci.week ORDER BY sha256(ci.call_id || ci.week || $salt), ci.call_id) AS rn
          FROM calls_in ci WHERE ci.call_id NOT IN (SELECT call_id FROM flagged))
    WHERE rn <= $sample),
reasons AS (SELECT * FROM flagged UNION ALL SELECT * FROM sample_r),
reviewed AS (
    SELECT DISTINCT s.call_id FROM verdict_reviews r JOIN sc s ON r.scorecard_id = s.scorecard_id
    WHERE r.is_current),
agg AS (
    SELECT call_id, list(struct_pack(ord := ord, item_id := item_id, detail := detail)
                         ORDER BY ord, item_id NULLS FIRST, idx, detail) AS why,
           bool_or($item IS NULL OR item_id = $item) AS item_ok,
           bool_or($reason IS NULL OR ord = $reason) AS reason_ok
    FROM reasons GROUP BY call_id)
"""


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

    A call is listed when a current scorecard has a failed veto item, an open dispute, customer anger
    (``call_metrics.customer_anger_max``) at or above ``anger_threshold``, a failed item or an uncertain
    verdict (the engine's verdicts: a review does not take a call off the list, it marks it reviewed), or when
    it is one of the ``sample_per_agent_week`` calls drawn for its agent and ISO week among the calls with no
    other reason — ordered by sha256(call id ‖ week ‖ ``sample_salt``), so the draw is the same on every page
    load and whatever the date filter. A row lists its reasons veto > dispute > anger > fail > uncertain >
    sample.

    Args:
        since, until: inclusive range of call days.
        team, agent: only this team / agent.
        item: only calls with a reason about this item (``item_id``).
        reason: only calls with a reason of this kind (one of :data:`REASON_KINDS`).
        reviewed: True only calls with a reviewed verdict, False only the others, None both.
        limit, offset: the page.

    Raises:
        Forbidden: an agent asks (the queue is for reviewers).
        Invalid: an unknown ``reason``, a negative ``limit``/``offset``/sample size or ``since`` after ``until``.
    """
    require_staff(viewer, "the review queue")
    check_range(since, until)
    if reason is not None and reason not in REASON_KINDS:
        raise Invalid(f"reason: {reason!r} is not one of {', '.join(REASON_KINDS)}")
    if limit < 0 or offset < 0 or sample_per_agent_week < 0:
        raise Invalid("limit, offset, sample_per_agent_week: must not be negative")
    # Whole ISO weeks around the range, so each week's sample is drawn from all of the week's calls.
    wide_since = since - dt.timedelta(days=since.weekday()) if since else None
    wide_until = until + dt.timedelta(days=6 - until.weekday()) if until else None
    scope, named = current_scope(viewer, since=wide_since, until=wide_until, team=team, agent=agent)
    named |= {"anger": anger_threshold, "sample": sample_per_agent_week, "salt": sample_salt, "item": item,
             "reason": None if reason is None else REASON_KINDS.index(reason), "since": since, "until": until,
             "reviewed": reviewed, "limit": limit, "offset": offset}
    sql = (
        f"WITH sc AS ({scope}), {_REASONS} "
        "SELECT ci.call_id, ci.file_name, ci.started_at, ci.day, ci.agent_id, ci.team, agg.why, "
        "rv.call_id IS NOT NULL AS is_reviewed, count(*) OVER () AS matching "
        "FROM calls_in ci JOIN agg ON agg.call_id = ci.call_id LEFT JOIN reviewed rv ON rv.call_id = ci.call_id "
        "WHERE agg.item_ok AND agg.reason_ok AND ($since IS NULL OR ci.day >= $since) "
        "AND ($until IS NULL OR ci.day <= $until) "
        "AND ($reviewed IS NULL OR $reviewed = (rv.call_id IS NOT NULL)) "
        "ORDER BY ci.day DESC, ci.started_at DESC NULLS LAST, ci.call_id LIMIT $limit OFFSET $offset"
    )
    with store.reading() as con:
        rows = fetch(con, sql, named)
        figures = _figures(con, [r[0] for r in rows])
        teams, agents, items = _choices(con, viewer)
        total = rows[0][8] if rows else _count_only(con, sql, named) if offset else 0
    return QueuePage(rows=tuple(_row(r, figures[r[0]]) for r in rows), total=total, teams=teams, agents=agents,
                     items=items)


def _count_only(con: Any, sql: str, named: dict[str, Any]) -> int:
    """How many calls match when the page asked for is past the end (no row carries the count)."""
    rows = fetch(con, f"SELECT count(*) FROM ({sql.rsplit(' ORDER BY ', 1)[0]})", named)
    return int(rows[0][0]) if rows else 0


def _figures(con: Any, call_ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """Per call: (shown scorecard id, every scorecard id, total, band, reviewed total, reviewed band)."""
    if not call_ids:
        return {}
    rows = con.execute(
        "SELECT s.call_id, s.scorecard_id, s.total, s.band, rs.total, rs.band FROM scorecards s "
        "LEFT JOIN reviewed_scores rs ON rs.scorecard_id = s.scorecard_id "
        "WHERE s.is_current AND list_contains(?, s.call_id) "
        "ORDER BY s.call_id, coalesce(s.total, 1e9), s.checklist_id", [call_ids]).fetchall()
    out: dict[str, tuple[Any, ...]] = {}
    ids: dict[str, list[str]] = {}
    for call_id, sid, total, band, rtotal, rband in rows:
        ids.setdefault(call_id, []).append(sid)
        if call_id not in out:  # the lowest automatic total comes first
            out[call_id] = (sid, total, band, rtotal, rband)
    return {k: (v[0], tuple(sorted(ids[k])), *v[1:]) for k, v in out.items()}


def _choices(con: Any, viewer: Viewer) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The teams, agents and items the viewer's filters may name."""
    cond, params = viewer.call_filter("c")
    teams = con.execute(f"SELECT DISTINCT c.team FROM calls c WHERE ({cond}) AND c.team IS NOT NULL "
                        "ORDER BY 1", params).fetchall()
    agents = con.execute(f"SELECT DISTINCT c.agent_id FROM calls c WHERE ({cond}) AND c.agent_id IS NOT NULL "
                         "ORDER BY 1", params).fetchall()
    # One scorecard per checklist version gives every item id without reading all verdicts.
    items = con.execute(
        "SELECT DISTINCT item_id FROM verdicts WHERE scorecard_id IN (SELECT min(s.scorecard_id) FROM scorecards s "
        f"JOIN {CALLS_FROM} ON c.call_id = s.call_id WHERE s.is_current AND ({cond}) GROUP BY s.checklist_hash) "
        "ORDER BY 1", params).fetchall()
    return tuple(r[0] for r in teams), tuple(r[0] for r in agents), tuple(r[0] for r in items)


def _row(r: tuple[Any, ...], fig: tuple[Any, ...]) -> QueueRow:
    seen: set[tuple[int, str | None]] = set()
    reasons = []
    for why in r[6]:
        key = (why["ord"], why["item_id"])
        if key in seen:  # the same item failed in two checklists: one reason is enough
            continue
        seen.add(key)
        reasons.append(QueueReason(REASON_KINDS[why["ord"]], why["item_id"], why["detail"] or ""))
    return QueueRow(call_id=r[0], scorecard_id=fig[0], scorecard_ids=fig[1], file_name=r[1], started_at=r[2],
                    day=r[3], agent_id=r[4], team=r[5], total=fig[2], band=fig[3], reviewed_total=fig[4],
                    reviewed_band=fig[5], reviewed=bool(r[7]), reasons=tuple(reasons))
