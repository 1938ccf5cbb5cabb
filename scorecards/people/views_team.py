"""Pages about many calls at once: the team heat-map, rule health and the nightly run history."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from core.errors import Invalid, NotFound
from rules.evaluate import DEFAULT_MIN_FAIL_PRECISION
from scorecards.people.access import UserRole, Viewer
from scorecards.people.views_sql import (
    WEEK,
    check_positive,
    fetch,
    most_named,
    named_filter,
    rate,
    require_staff,
    weeks_between,
)
from scorecards.people.views_types import (
    HEAT_BANDS,
    HEAT_TOP,
    TREND_ITEMS,
    ChecklistChoice,
    HeatCell,
    HeatItem,
    Heatmap,
    HeatRow,
    ItemTrend,
    RuleHealth,
    RunFailureRow,
    RunRow,
)
from scorecards.store.database import Store

SORTS = ("agent", "worst", "best")

def colour(rate_: float | None) -> str | None:
    """The heat-map colour of a pass rate (:data:`HEAT_BANDS`); None without a rate."""
    if rate_ is None:
        return None
    for bound, name in HEAT_BANDS:
        if rate_ < bound:
            return name
    return HEAT_TOP


def _cell(passed: int, failed: int) -> HeatCell:
    counted = passed + failed
    share = rate(passed, counted)
    return HeatCell(passed, failed, counted, share, colour(share))


def team_heatmap(
    store: Store, viewer: Viewer, *, team: str | None = None, checklist: str | None = None, days: int = 28,
    until: dt.date | None = None, sort: str = "agent",
) -> Heatmap:
    """Agents × items pass rates of one checklist over ``days`` days up to ``until``, with the weekly trend.

    A call counts on its own day (:data:`scorecards.store.definitions.DAY`, as the review queue filters): its
    ``started_at``, else the day the run that first saw it started; not the day it was scored. The window ends
    today (UTC, as the store's dates), not on the latest call: a page that ended on the latest call would show
    old calls as if they were this month's. When the window holds no scored call of the checklist,
    :attr:`Heatmap.last_day` names the latest one, for the page to say so and offer the window that holds it.

    A cell is passed / (passed + failed) over the agent's current scorecards of the checklist in the window, a
    verdict with a current review counting as reviewed; n/a and uncertain verdicts are left out. Calls with no
    agent id are left out of the rows but counted in the trends. The trend draws the overall weekly rate and
    the :data:`TREND_ITEMS` items whose rate changed most (in absolute value) from the first to the last week
    that rated them; items rated in fewer than two weeks, or that ended where they began, are not among them;
    ties go to the checklist order.

    Args:
        team: only this team (it must be one the viewer sees).
        checklist: the checklist to show. None: the one named by an ``item:`` sort, else the one with the most
            scored calls in the window the viewer sees (ties: checklist id).
        days: the window's length in days, ``until`` included.
        until: the window's last day; None: today.
        sort: ``agent`` (by id), ``worst`` / ``best`` (overall rate; agents without one last), or
            ``item:<checklist_id>/<item_id>`` (that item's rate, worst first; agents without one last).

    Raises:
        Forbidden: an agent asks.
        NotFound: ``team`` is not one the viewer sees.
        Invalid: an unknown ``checklist`` or ``sort``, or ``days`` below 1.
    """
    require_staff(viewer, "the team heat-map")
    check_positive("days", days)
    if sort not in SORTS and not sort.startswith("item:"):
        raise Invalid(f"sort: {sort!r} is not agent, worst, best or item:<checklist>/<item>")
    if team is not None and viewer.role is UserRole.SUPERVISOR and team not in viewer.teams:
        raise NotFound(f"team {team}: no such team")
    until = until or dt.datetime.now(dt.UTC).date()
    since = until - dt.timedelta(days=days - 1)
    scope, named = named_filter(viewer)
    named.update(team=team, since=since, until=until)
    with store.reading() as con:
        teams = tuple(r[0] for r in fetch(con, f"SELECT DISTINCT c.team FROM calls c WHERE {scope} "
                                          "AND c.team IS NOT NULL ORDER BY 1", named))
        # The newest version's title: the version first used last.
        titles = dict(fetch(con, "SELECT checklist_id, arg_max(title, first_used_at) FROM checklists GROUP BY 1",
                            {}))
        # One row per current scorecard (scorecards/store/summaries.py): scored calls per checklist.
        seen = fetch(con, "SELECT c.checklist_id, count(*) FILTER (WHERE c.day BETWEEN $since AND $until), "
                     f"max(c.day) FROM agent_cards c WHERE {scope} AND ($team IS NULL OR c.team = $team) "
                     "GROUP BY 1", named)
        shown = _checklist(checklist, sort, titles, seen)
        named["checklist"] = shown
        # Per agent, week and item of the checklist; the cells and the trends are sums of these.
        counts = [] if shown is None else fetch(
            con, f"SELECT c.agent_id, c.team, {WEEK.format('c.day')}, c.checklist_id, c.item_id, "
            "any_value(c.title), min(c.min_idx), sum(c.passed)::BIGINT, sum(c.failed)::BIGINT "
            f"FROM agent_day_items c WHERE {scope} AND ($team IS NULL OR c.team = $team) "
            "AND c.checklist_id = $checklist AND c.day BETWEEN $since AND $until GROUP BY ALL", named)
    choices = _choices(titles, seen, shown)
    items = _items(counts)
    weeks = weeks_between(since, until)
    trends, overall = _trends(counts, items, weeks)
    chosen = next((c for c in choices if c.checklist_id == shown), None)
    last_days = [c.last_day for c in choices if c.last_day is not None]
    return Heatmap(
        team=team, teams=teams, checklist=shown, checklists=choices, days=days, since=since, until=until, sort=sort,
        items=items, agents=_sorted(_rows(counts, items), items, sort), calls=chosen.calls if chosen else 0,
        last_day=chosen.last_day if chosen else max(last_days, default=None), weeks=weeks, overall=overall,
        trends=trends, movers=_movers(trends))


def _checklist(asked: str | None, sort: str, titles: dict[str, str], seen: list[tuple[Any, ...]]) -> str | None:
    """The checklist to show: the one asked for (or named by the sort), else the one with most calls."""
    if asked is None and sort.startswith("item:"):
        asked = sort.removeprefix("item:").partition("/")[0]
    if asked is not None:
        if asked not in titles:
            known = ", ".join(sorted(titles)) or "none yet"
            raise Invalid(f"checklist: {asked!r} is not a checklist of this store (checklists: {known})")
        return asked
    busiest = sorted((r for r in seen if r[1] > 0), key=lambda r: (-r[1], r[0]))
    return busiest[0][0] if busiest else None


def _choices(titles: dict[str, str], seen: list[tuple[Any, ...]], shown: str | None) -> tuple[ChecklistChoice, ...]:
    """The checklists the viewer sees calls of, and the one shown, by title (then id)."""
    out = [ChecklistChoice(ck, titles.get(ck, ck), calls, last) for ck, calls, last in seen]
    if shown is not None and all(c.checklist_id != shown for c in out):
        out.append(ChecklistChoice(shown, titles[shown], 0, None))
    return tuple(sorted(out, key=lambda c: (c.title.casefold(), c.checklist_id)))


def _trends(counts: list[tuple[Any, ...]], items: tuple[HeatItem, ...], weeks: tuple[str, ...]) -> tuple[
        tuple[ItemTrend, ...], tuple[float | None, ...]]:
    """Every item's weekly rate, and the weekly rate over all items."""
    passed: dict[tuple[str, str | None], int] = defaultdict(int)
    counted: dict[tuple[str, str | None], int] = defaultdict(int)
    for _, _, week, _, item_id, _, _, p, f in counts:
        for key in ((week, item_id), (week, None)):  # None: all items
            passed[key] += p
            counted[key] += p + f
    trends = tuple(ItemTrend(i.checklist_id, i.item_id, i.title,
                             tuple(rate(passed[(w, i.item_id)], counted[(w, i.item_id)]) for w in weeks))
                   for i in items)
    return trends, tuple(rate(passed[(w, None)], counted[(w, None)]) for w in weeks)


def _movers(trends: tuple[ItemTrend, ...]) -> tuple[ItemTrend, ...]:
    """The :data:`TREND_ITEMS` items whose rate changed most, most first (ties: checklist order); an item
    whose rate ended where it began did not move."""
    moved = [(abs(t.change), n, t) for n, t in enumerate(trends) if t.change]
    return tuple(t for _, _, t in sorted(moved, key=lambda m: (-m[0], m[1]))[:TREND_ITEMS])


def _items(cells: list[tuple[Any, ...]]) -> tuple[HeatItem, ...]:
    """The columns: every item seen, in checklist order (then item id)."""
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for _, _, _, checklist_id, item_id, title, idx, _, _ in cells:
        key = (checklist_id, item_id)
        if key not in seen or idx < seen[key][0]:
            seen[key] = (idx, title)
    order = sorted(seen, key=lambda k: (k[0], seen[k][0], k[1]))
    return tuple(HeatItem(ck, it, seen[(ck, it)][1]) for ck, it in order)


def _rows(cells: list[tuple[Any, ...]], items: tuple[HeatItem, ...]) -> list[HeatRow]:
    counts: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(dict)
    teams: dict[str, Counter[str]] = defaultdict(Counter)
    for agent_id, team, _, checklist_id, item_id, _, _, passed, failed in cells:
        if agent_id is None:
            continue
        pair = counts[agent_id].setdefault((checklist_id, item_id), [0, 0])
        pair[0] += passed
        pair[1] += failed
        if team is not None:
            teams[agent_id][team] += passed + failed
    rows = []
    for agent_id, per_item in counts.items():
        team = most_named(teams[agent_id])
        row_cells = tuple(_cell(*per_item.get((i.checklist_id, i.item_id), (0, 0))) for i in items)
        overall = _cell(sum(c.passed for c in row_cells), sum(c.failed for c in row_cells))
        rows.append(HeatRow(agent_id, team, row_cells, overall))
    return rows


def _sorted(rows: list[HeatRow], items: tuple[HeatItem, ...], sort: str) -> tuple[HeatRow, ...]:
    if not rows:  # an empty window: nothing to sort, whatever item the sort names (the page offers another window)
        return ()
    if sort == "agent":
        return tuple(sorted(rows, key=lambda r: r.agent_id))
    if sort in ("worst", "best"):
        sign = 1.0 if sort == "worst" else -1.0
        return tuple(sorted(rows, key=lambda r: (r.overall.rate is None, sign * (r.overall.rate or 0.0), r.agent_id)))
    key = sort.removeprefix("item:")
    keys = [i.key for i in items]
    if key not in keys:
        raise Invalid(f"sort: no item {key!r} in the heat-map (items: {', '.join(keys) or 'none'})")
    col = keys.index(key)
    return tuple(sorted(rows, key=lambda r: (r.cells[col].rate is None, r.cells[col].rate or 0.0, r.agent_id)))


def rule_health(
    store: Store, viewer: Viewer, *, min_agreement: float = 0.8, min_reviews: int = 5,
    min_fail_precision: float = DEFAULT_MIN_FAIL_PRECISION,
) -> tuple[RuleHealth, ...]:
    """Per checklist item, how reviewers' decisions agreed with the engine (reviews of visible calls only).

    The figures are those of ``callqa rules eval``, with the reviewer's verdict as the label: agreement over
    reviewed pass/fail/n/a verdicts, fail precision and false deductions (fails overturned), and the share
    of reviewed verdicts that were uncertain. Only current reviews of current scorecards count: a new
    checklist version starts with no reviews, since its verdicts are new. Every item of the current
    checklists is listed, reviewed or not. Items are ordered flagged or below the gate first, then by
    agreement (lowest first; none last), then by checklist and item id.

    Raises:
        Forbidden: an agent asks.
        Invalid: ``min_agreement`` or ``min_fail_precision`` outside 0–1, or ``min_reviews`` below 1.
    """
    require_staff(viewer, "rule health")
    for name, value in (("min_agreement", min_agreement), ("min_fail_precision", min_fail_precision)):
        if not 0.0 <= value <= 1.0:
            raise Invalid(f"{name}: {value} is not between 0 and 1")
    check_positive("min_reviews", min_reviews)
    scope, named = named_filter(viewer)
    with store.reading() as con:
        items = fetch(con, "SELECT s.checklist_id, v.item_id, any_value(v.title), min(v.idx) FROM verdicts v "
                      "JOIN scorecards s ON s.scorecard_id = v.scorecard_id WHERE v.scorecard_id IN ("
                      f"SELECT min(s.scorecard_id) FROM scorecards s JOIN calls c ON c.call_id = s.call_id "
                      f"WHERE s.is_current AND {scope} GROUP BY s.checklist_hash) GROUP BY ALL", named)
        stats = fetch(con, _HEALTH_SQL.format(scope=scope), named)
    by_item = {(r[0], r[1]): r[2:] for r in stats}
    out = []
    for checklist_id, item_id, title, _ in sorted(items, key=lambda r: (r[0], r[3], r[1])):
        out.append(_health(checklist_id, item_id, title, by_item.get((checklist_id, item_id)), min_agreement,
                           min_reviews, min_fail_precision))
    return tuple(sorted(out, key=lambda h: (not (h.flagged or h.below_gate), h.agreement is None,
                                            h.agreement or 0.0, h.checklist_id, h.item_id)))


_HEALTH_SQL = (
    "SELECT s.checklist_id, v.item_id, count(*), "
    "count(*) FILTER (WHERE v.verdict <> 'uncertain'), "
    "count(*) FILTER (WHERE v.verdict <> 'uncertain' AND r.reviewed_verdict = v.verdict), "
    "count(*) FILTER (WHERE v.verdict = 'fail'), "
    "count(*) FILTER (WHERE v.verdict = 'fail' AND r.reviewed_verdict = 'fail'), "
    "count(*) FILTER (WHERE v.verdict = 'pass'), "
    "count(*) FILTER (WHERE v.verdict = 'pass' AND r.reviewed_verdict = 'pass'), "
    "count(*) FILTER (WHERE v.verdict = 'uncertain'), "
    "count(*) FILTER (WHERE v.verdict = 'uncertain' AND r.reviewed_verdict = 'pass'), "
    "count(*) FILTER (WHERE v.verdict = 'uncertain' AND r.reviewed_verdict = 'fail'), "
    "count(*) FILTER (WHERE v.verdict = 'uncertain' AND r.reviewed_verdict = 'n/a') "
    "FROM verdict_reviews r JOIN verdicts v ON v.scorecard_id = r.scorecard_id AND v.idx = r.item_idx "
    "JOIN scorecards s ON s.scorecard_id = v.scorecard_id JOIN calls c ON c.call_id = s.call_id "
    "WHERE r.is_current AND s.is_current AND {scope} GROUP BY s.checklist_id, v.item_id"
)


def _health(checklist_id: str, item_id: str, title: str, stats: tuple[Any, ...] | None, min_agreement: float,
            min_reviews: int, min_fail_precision: float) -> RuleHealth:
    reviewed, definite, confirmed, fails, fails_kept, passes, passes_kept, unc, to_pass, to_fail, to_na = (
        stats or (0,) * 11)
    agreement = rate(confirmed, definite)
    fail_precision = rate(fails_kept, fails)
    return RuleHealth(
        checklist_id=checklist_id, item_id=item_id, title=title, reviewed=reviewed, confirmed=confirmed,
        agreement=agreement, fail_reviewed=fails, fail_precision=fail_precision, pass_reviewed=passes,
        pass_precision=rate(passes_kept, passes), uncertain_reviewed=unc, uncertain_to_pass=rate(to_pass, unc),
        uncertain_to_fail=rate(to_fail, unc), uncertain_to_na=rate(to_na, unc),
        flagged=agreement is not None and agreement < min_agreement and definite >= min_reviews,
        false_deductions=fails - fails_kept, uncertain_share=rate(unc, reviewed),
        below_gate=fail_precision is not None and fail_precision < min_fail_precision and fails >= min_reviews,
    )


def run_history(store: Store, viewer: Viewer, limit: int = 30) -> tuple[RunRow, ...]:
    """The latest nightly runs, newest first, with failures and the checklist versions used.

    Counts and hours are the run's own figures. Failures are listed with their reasons: all of them for admin
    and QA, those of the supervisor's teams' calls for a supervisor (a file that failed before it was known as
    a call belongs to no team).

    Raises:
        Forbidden: an agent asks.
        Invalid: ``limit`` below 1.
    """
    require_staff(viewer, "the run history")
    check_positive("limit", limit)
    scope, named = named_filter(viewer)
    named["limit"] = limit
    join = "LEFT JOIN" if viewer.sees_everything else "JOIN"
    with store.reading() as con:
        runs = fetch(con, "SELECT run_id, started_at, finished_at, status, done, skipped, failed, audio_seconds, "
                     "wall_seconds FROM runs ORDER BY started_at DESC, run_id LIMIT $limit", named)
        named["ids"] = [r[0] for r in runs]
        failures = fetch(con, f"SELECT f.run_id, f.path, f.call_id, f.stage, f.reason, f.failed_at FROM run_failures f "
                         f"{join} calls c ON c.call_id = f.call_id WHERE list_contains($ids, f.run_id) AND "
                         f"(c.call_id IS NULL OR {scope}) ORDER BY f.failed_at, f.path", named)
        checklists = fetch(con, "SELECT origin, checklist_id, checklist_version, checklist_hash FROM scorecards "
                           "WHERE list_contains($ids, origin) GROUP BY ALL ORDER BY checklist_id, checklist_version, "
                           "checklist_hash", named)
    fails: dict[str, list[RunFailureRow]] = defaultdict(list)
    for run_id, *rest in failures:
        fails[run_id].append(RunFailureRow(*rest))
    used: dict[str, list[str]] = defaultdict(list)
    for origin, checklist_id, version, digest in checklists:
        used[origin].append(f"{checklist_id} v{version} ({digest[:8]})")
    return tuple(_run(r, tuple(fails[r[0]]), tuple(used[r[0]])) for r in runs)


def _run(r: tuple[Any, ...], failures: tuple[RunFailureRow, ...], checklists: tuple[str, ...]) -> RunRow:
    run_id, started, finished, status, done, skipped, failed, audio, wall = r
    return RunRow(run_id=run_id, started_at=started, finished_at=finished, status=status, done=done or 0,
                  skipped=skipped or 0, failed=failed or 0,
                  audio_hours=None if audio is None else round(audio / 3600.0, 3),
                  wall_seconds=wall, rtf=round(wall / audio, 4) if audio and wall is not None else None,
                  checklists=checklists, failures=failures)
