"""SQL pieces the read-side modules share: the scope of a viewer's current scorecards, the call day, the week."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from core.errors import Forbidden, Invalid
from scorecards.people.access import UserRole, Viewer
from scorecards.people.views_types import EvidenceSpan

# A call's day (the metadata's start, else the start of the run that first saw the call, ``fr``) and the
# tie-break of "the team named most" are defined once for the CLI report, the pages and the summaries.
from scorecards.store.definitions import CALLS_FROM as CALLS_FROM
from scorecards.store.definitions import DAY as DAY
from scorecards.store.definitions import most_named as most_named

# The ISO week of a DATE expression, e.g. 2025-W08 (ISO year, so 2024-12-30 is 2025-W01).
WEEK = "strftime({}, '%G-W%V')"
# The verdict that counts: the current review's when there is one (``r``), else the engine's (``v``).
FINAL = "coalesce(r.reviewed_verdict, v.verdict)"
_MARK = re.compile(r"\$([A-Za-z_]\w*)")


def current_scope(
    viewer: Viewer,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    team: str | None = None,
    agent: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """A query selecting the viewer's current scorecards with their call's fields and day, and its parameters.

    Columns: scorecard_id, call_id, transcript_id, checklist_id, checklist_version, total, band, veto,
    needs_review, file_name, started_at, agent_id, team, day. Parameters are named ``$p…`` and ``$scope_…``.
    """
    cond, named = named_filter(viewer)
    sql = (
        "SELECT s.scorecard_id, s.call_id, s.transcript_id, s.checklist_id, s.checklist_version, s.total, s.band, "
        f"s.veto, s.needs_review, c.file_name, c.started_at, c.agent_id, c.team, {DAY} AS day "
        f"FROM scorecards s JOIN {CALLS_FROM} ON c.call_id = s.call_id WHERE s.is_current AND {cond}"
    )
    for name, value, test in (("since", since, f"{DAY} >= "), ("until", until, f"{DAY} <= "),
                              ("team", team, "c.team = "), ("agent", agent, "c.agent_id = ")):
        if value is not None:
            sql += f" AND {test}$scope_{name}"
            named[f"scope_{name}"] = value
    return sql, named


def require_staff(viewer: Viewer, page: str) -> None:
    """Agents have their own page; the reviewers' pages are not for them."""
    if viewer.role is UserRole.AGENT:
        raise Forbidden(f"{page} is for reviewers and supervisors; an agent's own page is their home page")


def check_range(since: dt.date | None, until: dt.date | None) -> None:
    if since is not None and until is not None and since > until:
        raise Invalid(f"since: {since} is after until ({until}); give the earlier date first")


def check_positive(field: str, value: int) -> None:
    if value < 1:
        raise Invalid(f"{field}: {value} must be at least 1")


def week_of(day: dt.date) -> str:
    """The ISO week of a day, as :data:`WEEK` writes it (``2025-W08``)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_between(since: dt.date, until: dt.date) -> tuple[str, ...]:
    """Every ISO week touching ``since``..``until``, oldest first."""
    weeks: list[str] = []
    day = since
    while day <= until:
        label = week_of(day)
        if not weeks or weeks[-1] != label:
            weeks.append(label)
        day += dt.timedelta(days=1)
    return tuple(weeks)


def evidence_spans(evidence_json: str) -> tuple[EvidenceSpan, ...]:
    """The stored evidence (canonical JSON, see :func:`core.scorecard.evidence_to_json`) as spans."""
    return tuple(
        EvidenceSpan(kind=e["kind"], start=float(e.get("start", 0.0)), end=float(e.get("end", 0.0)),
                     role=e.get("role", ""), quote=e.get("text", ""), utterance=int(e.get("utterance", -1)),
                     reliable=bool(e.get("reliable", True)))
        for e in json.loads(evidence_json)
    )


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def named_filter(viewer: Viewer, alias: str = "c") -> tuple[str, dict[str, Any]]:
    """:meth:`Viewer.call_filter` with named marks (``$p0``, ``$p1``…): DuckDB takes positional or named
    parameters in one statement, not both, and the longer queries here name theirs."""
    cond, params = viewer.call_filter(alias)
    parts = cond.split("?")
    sql = "".join(part + (f"$p{i}" if i < len(parts) - 1 else "") for i, part in enumerate(parts))
    return f"({sql})", {f"p{i}": value for i, value in enumerate(params)}


def fetch(con: Any, sql: str, named: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` with the named parameters it uses (DuckDB refuses unused ones)."""
    used = set(_MARK.findall(sql))
    return list(con.execute(sql, {k: v for k, v in named.items() if k in used}).fetchall())
