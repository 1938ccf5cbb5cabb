"""The review queue: which calls a reviewer should hear, and why (see :func:`review_queue`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.errors import Invalid
from scorecards.people.access import Viewer
from scorecards.people.views_sql import (
    CALLS_FROM,
    FINAL,
    WEEK,
    check_range,
    current_scope,
    fetch,
    require_staff,
)
from scorecards.people.views_types import (
    ANGER_THRESHOLD,
    QUEUE_STATUSES,
    REASON_KINDS,
    SAMPLE_PER_AGENT_WEEK,
    QueuePage,
    QueueReason,
    QueueRow,
)
from scorecards.store.database import Store

_VETO, _DISPUTE, _ANGER, _FAIL, _UNCERTAIN, _SAMPLE = range(len(REASON_KINDS))

# Phase 1: which calls are listed, from per-call flags (no reason lists: the admin's queue spans every call).
# ``sc`` is the viewer's current scorecards over whole ISO weeks, so the weekly sample does not depend on the date
# filter. ``flagged`` reads the fail and uncertain verdicts once, with their current reviews (few: people make
# them): whether a call has any (it is listed), which kinds count now, and whether one is still unreviewed.
# Which calls are listed and sampled depends on the engine's verdicts only, so a review never changes the draw.
_FLAGS = f"""
calls_in AS (
    SELECT call_id, any_value(file_name) AS file_name, any_value(started_at) AS started_at,
           any_value(agent_id) AS agent_id, any_value(team) AS team, any_value(day) AS day,
           {WEEK.format('any_value(day)')} AS week
    FROM sc GROUP BY call_id),
flagged AS (
    SELECT s.call_id, bool_or({FINAL} = 'fail' AND v.veto) AS now_veto,
           bool_or({FINAL} = 'fail' AND NOT v.veto) AS now_fail, bool_or({FINAL} = 'uncertain') AS now_uncertain,
           bool_or(r.reviewed_verdict IS NULL) AS pending
    FROM verdicts v JOIN sc s ON v.scorecard_id = s.scorecard_id
    LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id AND r.item_idx = v.idx AND r.is_current
    WHERE v.verdict IN ('fail', 'uncertain') GROUP BY s.call_id),
disputed AS (
    SELECT DISTINCT s.call_id FROM disputes d JOIN sc s ON d.scorecard_id = s.scorecard_id WHERE d.status = 'open'),
angry AS (
    SELECT DISTINCT s.call_id FROM call_metrics m JOIN sc s ON m.transcript_id = s.transcript_id
    WHERE m.name = 'customer_anger_max' AND m.value >= $anger),
reviewed AS (
    SELECT DISTINCT s.call_id FROM verdict_reviews r JOIN sc s ON r.scorecard_id = s.scorecard_id WHERE r.is_current),
about_item AS (
    SELECT DISTINCT s.call_id FROM verdicts v JOIN sc s ON v.scorecard_id = s.scorecard_id
    WHERE $item IS NOT NULL AND v.item_id = $item AND v.verdict IN ('fail', 'uncertain')
    UNION SELECT call_id FROM disputes WHERE $item IS NOT NULL AND item_id = $item AND status = 'open'),
flags AS (
    SELECT ci.*, fl.call_id IS NOT NULL AS has_flagged, coalesce(fl.now_veto, FALSE) AS has_veto,
           coalesce(fl.now_fail, FALSE) AS has_fail, coalesce(fl.now_uncertain, FALSE) AS has_uncertain,
           coalesce(fl.pending, FALSE) AS pending, d.call_id IS NOT NULL AS has_dispute,
           a.call_id IS NOT NULL AS has_anger, rv.call_id IS NOT NULL AS is_reviewed
    FROM calls_in ci LEFT JOIN flagged fl ON fl.call_id = ci.call_id LEFT JOIN disputed d ON d.call_id = ci.call_id
    LEFT JOIN angry a ON a.call_id = ci.call_id LEFT JOIN reviewed rv ON rv.call_id = ci.call_id),
sampled AS (
    SELECT call_id, rn FROM (
        SELECT call_id, row_number() OVER (PARTITION BY agent_id, week
                                           ORDER BY sha256(call_id || week || $salt), call_id) AS rn
        FROM flags WHERE NOT (has_flagged OR has_dispute OR has_anger))
    WHERE rn <= $sample),
listed AS (
    SELECT f.*, sp.rn, f.has_dispute OR f.pending OR ((f.has_anger OR sp.rn IS NOT NULL) AND NOT f.is_reviewed)
           AS todo
    FROM flags f LEFT JOIN sampled sp ON sp.call_id = f.call_id
    WHERE f.has_flagged OR f.has_dispute OR f.has_anger OR sp.rn IS NOT NULL)
"""
_KIND_COLUMNS = ("has_veto", "has_dispute", "has_anger", "has_fail", "has_uncertain", "rn IS NOT NULL")
_STATUS_TESTS = {"todo": "todo", "done": "NOT todo", "all": "TRUE"}


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
    status: str = "todo",
    limit: int = 100,
    offset: int = 0,
    anger_threshold: float = ANGER_THRESHOLD,
    sample_per_agent_week: int = SAMPLE_PER_AGENT_WEEK,
    sample_salt: str = "",
) -> QueuePage:
    """The calls a reviewer should look at, newest first, each with why, as the reviews left it.

    A call is listed when a current scorecard has a failed veto item, an open dispute, customer anger
    (``call_metrics.customer_anger_max``) at or above ``anger_threshold``, a failed item or an uncertain
    verdict (the engine's verdicts), or when it is one of the ``sample_per_agent_week`` calls drawn for its agent
    and ISO week among the calls with no other reason — ordered by sha256(call id ‖ week ‖ ``sample_salt``), so
    the draw is the same on every page load, whatever the date filter and whatever the reviews. A row lists its
    reasons veto > dispute > anger > fail > uncertain > sample.

    The reasons follow the reviews: a fail, veto or uncertain verdict a reviewer overturned to pass or n/a no
    longer counts (it moves to :attr:`QueueRow.cleared`), a confirmed fail stays a fail reason marked reviewed,
    an uncertain verdict heard as a fail becomes a fail (or veto) reason, marked reviewed. The reason filter
    matches the reasons as they count now.

    A call is *done* when nothing about it waits for a person:

    * every fail, veto and uncertain verdict of its current scorecards has a current review (confirmed or
      overturned), and
    * it has no open dispute (a dispute waits for its answer, even when its verdict was reviewed), and
    * when it is listed for customer anger or as a sample (which name no verdict to decide), some verdict of
      one of its current scorecards has a current review: someone listened to it and recorded a decision.

    Otherwise it is *to do*. Done calls keep their place in the queue (``status="done"`` or ``"all"`` shows them).

    Args:
        since, until: inclusive range of call days.
        team, agent: only this team / agent.
        item: only calls with a reason about this item (``item_id``), counting or cleared.
        reason: only calls with a reason of this kind (one of :data:`REASON_KINDS`) as it counts now.
        reviewed: True only calls with a reviewed verdict, False only the others, None both.
        status: ``todo`` (the default) the calls still to review, ``done`` those whose review is done, ``all``.
        limit, offset: the page.

    Raises:
        Forbidden: an agent asks (the queue is for reviewers).
        Invalid: an unknown ``reason`` or ``status``, a negative ``limit``/``offset``/sample size or ``since``
            after ``until``.
    """
    require_staff(viewer, "the review queue")
    check_range(since, until)
    if reason is not None and reason not in REASON_KINDS:
        raise Invalid(f"reason: {reason!r} is not one of {', '.join(REASON_KINDS)}")
    if status not in QUEUE_STATUSES:
        raise Invalid(f"status: {status!r} is not one of {', '.join(QUEUE_STATUSES)}")
    if limit < 0 or offset < 0 or sample_per_agent_week < 0:
        raise Invalid("limit, offset, sample_per_agent_week: must not be negative")
    # Whole ISO weeks around the range, so each week's sample is drawn from all of the week's calls.
    wide_since = since - dt.timedelta(days=since.weekday()) if since else None
    wide_until = until + dt.timedelta(days=6 - until.weekday()) if until else None
    scope, named = current_scope(viewer, since=wide_since, until=wide_until, team=team, agent=agent)
    named |= {"anger": anger_threshold, "sample": sample_per_agent_week, "salt": sample_salt, "item": item,
              "since": since, "until": until, "reviewed": reviewed, "limit": limit, "offset": offset}
    reason_test = "TRUE" if reason is None else _KIND_COLUMNS[REASON_KINDS.index(reason)]
    sql = (
        f"WITH sc AS MATERIALIZED ({scope}), {_FLAGS} "
        "SELECT call_id, file_name, started_at, day, agent_id, team, week, is_reviewed, rn, "
        "count(*) OVER () AS matching, todo FROM listed "
        f"WHERE ({reason_test}) AND ({_STATUS_TESTS[status]}) "
        "AND ($item IS NULL OR call_id IN (SELECT call_id FROM about_item)) "
        "AND ($since IS NULL OR day >= $since) AND ($until IS NULL OR day <= $until) "
        "AND ($reviewed IS NULL OR $reviewed = is_reviewed) "
        "ORDER BY day DESC, started_at DESC NULLS LAST, call_id LIMIT $limit OFFSET $offset"
    )
    with store.reading() as con:
        rows = fetch(con, sql, named)
        figures = _figures(con, [r[0] for r in rows])
        why = _reasons(con, rows, anger_threshold, sample_per_agent_week)
        teams, agents, items, titles = _choices(con, viewer)
        total = rows[0][9] if rows else _count_only(con, sql, named) if offset else 0
    return QueuePage(rows=tuple(_row(r, figures[r[0]], *why.get(r[0], ((), ()))) for r in rows), total=total,
                     teams=teams, agents=agents, items=items, item_titles=titles)


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
        "ORDER BY s.call_id, coalesce(CASE WHEN rs.scorecard_id IS NULL THEN s.total ELSE rs.total END, 1e9), "
        "s.checklist_id", [call_ids]).fetchall()
    out: dict[str, tuple[Any, ...]] = {}
    ids: dict[str, list[str]] = {}
    for call_id, sid, total, band, rtotal, rband in rows:
        ids.setdefault(call_id, []).append(sid)
        if call_id not in out:  # the lowest total as it counts now comes first
            out[call_id] = (sid, total, band, rtotal, rband)
    return {k: (v[0], tuple(sorted(ids[k])), *v[1:]) for k, v in out.items()}


def _choices(con: Any, viewer: Viewer) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], dict[str, str]]:
    """The teams, agents and items the viewer's filters may name, and the items' titles."""
    cond, params = viewer.call_filter("c")
    teams = con.execute(f"SELECT DISTINCT c.team FROM calls c WHERE ({cond}) AND c.team IS NOT NULL "
                        "ORDER BY 1", params).fetchall()
    agents = con.execute(f"SELECT DISTINCT c.agent_id FROM calls c WHERE ({cond}) AND c.agent_id IS NOT NULL "
                         "ORDER BY 1", params).fetchall()
    # One scorecard per checklist version gives every item id without reading all verdicts.
    items = con.execute(
        "SELECT item_id, min(title) FROM verdicts WHERE scorecard_id IN (SELECT min(s.scorecard_id) FROM scorecards s "
        f"JOIN {CALLS_FROM} ON c.call_id = s.call_id WHERE s.is_current AND ({cond}) GROUP BY s.checklist_hash) "
        "GROUP BY item_id ORDER BY 1", params).fetchall()
    return (tuple(r[0] for r in teams), tuple(r[0] for r in agents), tuple(r[0] for r in items),
            {r[0]: r[1] for r in items})


# One reason before it is kept: (kind, item, reviewed, position, detail, decision, reviewed verdict).
_Entry = tuple[int, str | None, bool, int, str, str | None, str | None]
_Why = tuple[tuple[QueueReason, ...], tuple[QueueReason, ...]]


def _reasons(con: Any, rows: list[tuple[Any, ...]], anger: float, sample: int) -> dict[str, _Why]:
    """Phase 2: per call of the page, its reasons as they count now and the ones a review cleared (see
    :attr:`QueueRow.cleared`), each in :data:`REASON_KINDS` order, then by item, unreviewed first, by position."""
    ids = [r[0] for r in rows]
    found: dict[str, list[_Entry]] = {i: [] for i in ids}
    cleared: dict[str, list[_Entry]] = {i: [] for i in ids}
    if not ids:
        return {}
    for call_id, veto, verdict, item_id, idx, title, decision, reviewed in fetch(con,
            "SELECT s.call_id, v.veto, v.verdict, v.item_id, v.idx, v.title, r.decision, r.reviewed_verdict "
            "FROM scorecards s JOIN verdicts v ON v.scorecard_id = s.scorecard_id LEFT JOIN verdict_reviews r "
            "ON r.scorecard_id = v.scorecard_id AND r.item_idx = v.idx AND r.is_current "
            "WHERE s.call_id IN (SELECT unnest($ids)) AND s.is_current AND v.verdict IN ('fail', 'uncertain')",
            {"ids": ids}):
        final = reviewed or verdict
        if final in ("pass", "n/a"):  # overturned: no longer a reason, shown as what it was
            kind, into = _verdict_kind(verdict, veto), cleared
        else:
            kind, into = _verdict_kind(final, veto), found
        into[call_id].append((kind, item_id, decision is not None, idx, title or "", decision, reviewed))
    for call_id, item_id, idx, comment in fetch(con,
            "SELECT d.call_id, d.item_id, d.item_idx, d.comment FROM disputes d JOIN scorecards s "
            "ON s.scorecard_id = d.scorecard_id AND s.is_current WHERE d.call_id IN (SELECT unnest($ids)) "
            "AND d.status = 'open'", {"ids": ids}):
        found[call_id].append((_DISPUTE, item_id, False, idx, comment or "", None, None))
    for call_id, value in fetch(con,
            "SELECT s.call_id, max(m.value) FROM scorecards s JOIN call_metrics m ON m.transcript_id = s.transcript_id "
            "WHERE s.call_id IN (SELECT unnest($ids)) AND s.is_current AND m.name = 'customer_anger_max' "
            "AND m.value >= $anger GROUP BY s.call_id", {"ids": ids, "anger": anger}):
        found[call_id].append((_ANGER, None, False, 0, f"customer anger {value:.2f} ≥ {anger:.2f}", None, None))
    for r in rows:
        if r[8] is not None:
            found[r[0]].append((_SAMPLE, None, False, 0, f"sample {r[8]}/{sample} of {r[4] or '?'} in {r[6]}",
                                None, None))
    return {call_id: (_kept(found[call_id]), _kept(cleared[call_id])) for call_id in ids}


def _verdict_kind(verdict: str, veto: bool) -> int:
    return _UNCERTAIN if verdict == "uncertain" else _VETO if veto else _FAIL


def _kept(entries: list[_Entry]) -> tuple[QueueReason, ...]:
    """One reason per kind and item: the same item failed in two checklists is one reason, shown unreviewed
    while one of them is (sorting puts the unreviewed first)."""
    entries.sort(key=lambda e: (e[0], e[1] or "", e[2], e[3], e[4]))
    seen: set[tuple[int, str | None]] = set()
    out = []
    for kind, item_id, _, _, detail, decision, reviewed in entries:
        if (kind, item_id) not in seen:
            seen.add((kind, item_id))
            out.append(QueueReason(REASON_KINDS[kind], item_id, detail, decision, reviewed))
    return tuple(out)


def _row(r: tuple[Any, ...], fig: tuple[Any, ...], reasons: tuple[QueueReason, ...],
         cleared: tuple[QueueReason, ...]) -> QueueRow:
    return QueueRow(call_id=r[0], scorecard_id=fig[0], scorecard_ids=fig[1], file_name=r[1], started_at=r[2],
                    day=r[3], agent_id=r[4], team=r[5], total=fig[2], band=fig[3], reviewed_total=fig[4],
                    reviewed_band=fig[5], reviewed=bool(r[7]), reasons=reasons, cleared=cleared,
                    status="todo" if r[10] else "done")
