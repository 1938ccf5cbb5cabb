"""One call for a person: transcript, scorecards with reviews, disputes, the recording; and the dispute list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import Invalid, NotFound
from core.scorecard import SectionScore
from scorecards.people.access import UserRole, Viewer
from scorecards.people.views_sql import evidence_spans, fetch, named_filter
from scorecards.people.views_types import (
    CallPage,
    DisputeRow,
    ReviewedScore,
    ReviewView,
    ScorecardView,
    UtteranceView,
    VerdictView,
)
from scorecards.store.database import CallRow, Store

DISPUTE_STATUSES = ("open", "upheld", "rejected")

_DISPUTE_COLUMNS = (
    "d.dispute_id, d.scorecard_id, d.item_idx, d.item_id, d.item_id, d.call_id, NULL, d.agent_id, d.comment, "
    "d.created_by, d.created_at, d.status, d.answer, d.answered_by, d.answered_at, d.seen_by_agent_at"
)
# Open disputes first (oldest first: they have waited longest), then answered ones, newest first.
_DISPUTE_ORDER = ("d.status <> 'open', CASE WHEN d.status = 'open' THEN epoch(d.created_at) "
                  "ELSE -epoch(coalesce(d.answered_at, d.created_at)) END, d.dispute_id")


def dispute_rows(con: Any, where: str, order: str, named: dict[str, Any], limit: int | None = None, *,
                 join_calls: bool = True, visible: str | None = None) -> tuple[DisputeRow, ...]:
    """Disputes matching ``where`` (on ``disputes d``, and ``calls c`` when ``join_calls``), with titles and files.

    The items' titles and the calls' file names are looked up afterwards for the few disputes found, by the
    tables' indexes, instead of joining the verdicts and calls tables whole. ``visible`` (a condition on
    ``calls c``, without ``join_calls`` or a limit) keeps only the disputes whose call it holds for, checked in
    that same lookup: for a ``where`` that finds a few disputes (one agent's), cheaper than the join.
    """
    if visible is not None and (join_calls or limit is not None):
        raise ValueError("dispute_rows: visible= checks the calls after the disputes are found; "
                         "it cannot be combined with join_calls or a limit")
    source = "disputes d JOIN calls c ON c.call_id = d.call_id" if join_calls else "disputes d"
    sql = f"SELECT {_DISPUTE_COLUMNS} FROM {source} WHERE {where} ORDER BY {order}"
    rows = fetch(con, sql + (" LIMIT $limit" if limit is not None else ""), {**named, "limit": limit})
    if not rows:
        return ()
    # The visibility is a column, not a condition: a second condition makes DuckDB scan instead of using the index.
    lookup = f"SELECT c.call_id, c.file_name, {visible or 'TRUE'} FROM calls c WHERE c.call_id IN (SELECT unnest($ids))"
    files = {call_id: name for call_id, name, seen in fetch(con, lookup, {**named, "ids": sorted({r[5] for r in rows})})
             if seen}
    if visible is not None:
        rows = [r for r in rows if r[5] in files]
        if not rows:
            return ()
    titles = {(sid, idx): title for sid, idx, title in fetch(
        con, "SELECT scorecard_id, idx, title FROM verdicts WHERE scorecard_id IN (SELECT unnest($ids))",
        {"ids": sorted({r[1] for r in rows})})}
    out = []
    for row in rows:
        fields = list(row)
        fields[4] = titles.get((row[1], row[2]), row[3])  # the item id when the verdict is gone
        fields[6] = files.get(row[5], "")
        out.append(DisputeRow(*fields))
    return tuple(out)


def _call_row(con: Any, viewer: Viewer, call_id: str) -> CallRow:
    """The call if the viewer may see it; NotFound otherwise (a call outside the scope looks missing)."""
    cond, params = viewer.call_filter("c")
    row = con.execute(
        "SELECT c.call_id, c.file_name, c.source_path, c.agent_id, c.team, c.queue, c.started_at, c.status, "
        f"c.duration, c.language, c.channels, c.failure_reason FROM calls c WHERE c.call_id = ? AND ({cond})",
        [call_id, *params]).fetchone()
    if row is None:
        raise NotFound(f"call {call_id[:16]}: no such call")
    # Looked up apart: a correlated subquery here would be joined against every transcript.
    uncertain = [r[0] for r in con.execute("SELECT roles_uncertain, is_current FROM transcripts WHERE call_id = ?",
                                           [call_id]).fetchall() if r[1]]
    return CallRow(*(*row, uncertain[0] if uncertain else None))


def call_page(store: Store, viewer: Viewer, call_id: str) -> CallPage:
    """One call: transcript with roles, times and emotion, every current scorecard with reviews, disputes.

    Raises:
        NotFound: no such call, or not visible to the viewer.
    """
    with store.reading() as con:
        call = _call_row(con, viewer, call_id)
        # Filtering is_current in Python keeps DuckDB on the call_id index (a second condition made it scan).
        tids = [r[0] for r in con.execute("SELECT transcript_id, is_current FROM transcripts WHERE call_id = ?",
                                          [call_id]).fetchall() if r[1]]
        tid = tids[0] if tids else None
        utterances = con.execute(
            "SELECT u.idx, u.role, u.start_s, u.end_s, u.text, u.confidence, e.label, e.anger FROM utterances u "
            "LEFT JOIN utterance_emotions e ON e.transcript_id = u.transcript_id AND e.utterance_idx = u.idx "
            "WHERE u.transcript_id = ? ORDER BY u.idx", [tid]).fetchall()
        metrics = con.execute("SELECT name, value FROM call_metrics WHERE transcript_id = ? ORDER BY name",
                              [tid]).fetchall()
        cards = tuple(_scorecard(con, r) for r in con.execute(
            "SELECT scorecard_id, checklist_id, checklist_version, checklist_hash, created_at, origin, total, "
            "raw_total, band, veto, needs_review, is_current FROM scorecards WHERE call_id = ? ORDER BY checklist_id",
            [call_id]).fetchall() if r[11])
        # The call is the viewer's (checked above): no need to join the calls for the scope.
        disputes = dispute_rows(con, "d.call_id = $call", _DISPUTE_ORDER, {"call": call_id}, join_calls=False)
        current = {card.scorecard_id for card in cards}
        disputes = tuple(d for d in disputes if d.scorecard_id in current)
    return CallPage(
        call=call, transcript_id=tid,
        utterances=tuple(UtteranceView(*u) for u in utterances),
        scorecards=cards, metrics=tuple((n, float(v)) for n, v in metrics),
        disputes=disputes,
    )


def _scorecard(con: Any, r: tuple[Any, ...]) -> ScorecardView:
    sid = r[0]
    reviewed_row = con.execute("SELECT total, raw_total, band, veto, reviewed_items, updated_at, updated_by "
                               "FROM reviewed_scores WHERE scorecard_id = ?", [sid]).fetchone()
    acknowledged = con.execute("SELECT min(acknowledged_at) FROM acknowledgements WHERE scorecard_id = ?",
                               [sid]).fetchone()
    reviews = {row[0]: ReviewView(*row[1:]) for row in con.execute(
        "SELECT item_idx, review_id, decision, reviewed_verdict, comment, reviewer, created_at, dispute_id "
        "FROM verdict_reviews WHERE scorecard_id = ? AND is_current", [sid]).fetchall()}
    verdicts = tuple(
        VerdictView(idx=v[0], item_id=v[1], section_id=v[2], title=v[3], verdict=v[4], points=v[5], earned=v[6],
                    veto=v[7], reason=v[8], message=v[9], evidence=evidence_spans(v[10]), review=reviews.get(v[0]))
        for v in con.execute(
            "SELECT idx, item_id, section_id, title, verdict, points, earned, veto, reason, message, evidence "
            "FROM verdicts WHERE scorecard_id = ? ORDER BY idx", [sid]).fetchall()
    )
    sections = tuple(SectionScore(*s) for s in con.execute(
        "SELECT section_id, title, weight, earned, possible, score FROM section_scores WHERE scorecard_id = ? "
        "ORDER BY rowid", [sid]).fetchall())
    reviewed = ReviewedScore(*reviewed_row) if reviewed_row is not None else None
    return ScorecardView(scorecard_id=sid, checklist_id=r[1], checklist_version=r[2], checklist_hash=r[3],
                         created_at=r[4], origin=r[5], total=r[6], raw_total=r[7], band=r[8], veto=r[9],
                         needs_review=r[10], verdicts=verdicts, sections=sections, reviewed=reviewed,
                         acknowledged_at=acknowledged[0] if acknowledged else None)


def audio_file(store: Store, viewer: Viewer, call_id: str) -> Path:
    """The recording of a call (``calls.source_path``) for the audio endpoint.

    Raises:
        NotFound: no such call, not visible to the viewer, or the file is no longer there.
    """
    with store.reading() as con:
        call = _call_row(con, viewer, call_id)
    path = Path(call.source_path)
    if not path.is_file():
        raise NotFound(f"call {call_id[:16]}: the recording {call.file_name} is no longer at its stored path")
    return path


def disputes(store: Store, viewer: Viewer, *, status: str | None = None, limit: int = 200) -> tuple[DisputeRow, ...]:
    """Disputes of the calls the viewer sees: open ones first (oldest first), then answered ones, newest first.

    Args:
        status: only open, upheld or rejected ones.
        limit: at most this many.

    Raises:
        Invalid: an unknown ``status`` or a ``limit`` below 1.
    """
    if status is not None and status not in DISPUTE_STATUSES:
        raise Invalid(f"status: {status!r} is not one of {', '.join(DISPUTE_STATUSES)}")
    if limit < 1:
        raise Invalid(f"limit: {limit} must be at least 1")
    cond, named = named_filter(viewer)
    if viewer.role is UserRole.AGENT:  # an agent's disputes are about the agent's own calls
        cond = f"{cond} AND d.agent_id = $agent"
        named["agent"] = viewer.agent_id
    named["status"] = status
    with store.reading() as con:
        return dispute_rows(con, f"{cond} AND ($status IS NULL OR d.status = $status)", _DISPUTE_ORDER, named,
                            limit)
