"""Exports of scorecards and verdicts for a date range, as CSV or Parquet, written by DuckDB's COPY.

Only what the viewer may see is written (:meth:`Viewer.call_filter` in the query); only current scorecards.
A call's day is ``calls.started_at``, else the start of the run that first saw it (as on the web pages).
A CSV is meant for a spreadsheet: it starts with a UTF-8 byte-order mark (so Excel reads Chinese right;
``bom=False`` leaves it out) and, beside every band, verdict and decision code, a column with its label in
the reader's language (:class:`Labels`). Parquet files hold the codes only.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from core.errors import Invalid
from scorecards.people.access import Viewer
from scorecards.people.views_sql import CALLS_FROM, DAY, FINAL, check_range, fetch, named_filter
from scorecards.store.database import Store

Format = Literal["csv", "parquet"]
FORMATS = ("csv", "parquet")

SCORECARD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("call_id", "the call (sha256 of the audio)"),
    ("file_name", "the recording's file name"),
    ("day", "the call's day (started_at, else the run's start)"),
    ("started_at", "when the call started (metadata), empty if unknown"),
    ("agent_id", "the agent"),
    ("team", "the agent's team"),
    ("scorecard_id", "the scorecard"),
    ("checklist_id", "the checklist"),
    ("checklist_version", "its version"),
    ("checklist_hash", "sha256 of the checklist content scored with"),
    ("total", "automatic total 0-100, empty when nothing counted"),
    ("raw_total", "automatic total before a veto"),
    ("band", "automatic band"),
    ("veto", "a veto item failed (automatic)"),
    ("needs_review", "some verdict is uncertain"),
    ("reviewed_total", "total with the reviews applied, empty when nothing was reviewed"),
    ("reviewed_band", "band with the reviews applied"),
    ("reviewed_veto", "veto with the reviews applied"),
    ("reviewed_items", "how many verdicts have a current review (0 when none)"),
    ("acknowledged_at", "when the agent acknowledged the scorecard, empty if not"),
    ("scored_at", "when the scorecard was made"),
    ("origin", "the run id that scored it, or rescore:<id>"),
)
"""The columns of :func:`export_scorecards`, in order, with what each holds."""

VERDICT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("call_id", "the call"),
    ("day", "the call's day"),
    ("agent_id", "the agent"),
    ("team", "the agent's team"),
    ("scorecard_id", "the scorecard"),
    ("checklist_id", "the checklist"),
    ("checklist_version", "its version"),
    ("item_idx", "the verdict's position in the scorecard"),
    ("item_id", "the checklist item"),
    ("section_id", "the item's section"),
    ("title", "the item's title"),
    ("verdict", "automatic verdict: pass, fail, n/a or uncertain"),
    ("points", "what the item is worth"),
    ("earned", "points earned by the automatic verdict"),
    ("veto", "the item is a veto item"),
    ("reason", "why the automatic verdict"),
    ("reviewed_verdict", "the current review's verdict, empty when not reviewed"),
    ("review_decision", "confirm or overturn, empty when not reviewed"),
    ("review_comment", "the reviewer's comment"),
    ("reviewer", "who reviewed"),
    ("reviewed_at", "when"),
    ("final_verdict", "the reviewed verdict when there is one, else the automatic one"),
)
"""The columns of :func:`export_verdicts`, in order, with what each holds."""


LABEL_COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "scorecards": (("band_label", "band", "bands"), ("reviewed_band_label", "reviewed_band", "bands")),
    "verdicts": (("verdict_label", "verdict", "verdicts"), ("reviewed_verdict_label", "reviewed_verdict", "verdicts"),
                 ("review_decision_label", "review_decision", "decisions"),
                 ("final_verdict_label", "final_verdict", "verdicts")),
}
"""The label columns a CSV has after the documented ones: (column, the code column it names, which
:class:`Labels` table); a code without an entry is its own label (a checklist's own band names)."""

BOM = "\ufeff".encode()


@dataclass(frozen=True)
class Labels:
    """What the codes of an export are called in the reader's language (built by the app from its catalogue).

    Attributes:
        bands: band name as stored (the checklist's) → label.
        verdicts: ``pass``/``fail``/``n/a``/``uncertain`` → label.
        decisions: ``confirm``/``overturn`` → label.
    """

    bands: Mapping[str, str] = field(default_factory=dict)
    verdicts: Mapping[str, str] = field(default_factory=dict)
    decisions: Mapping[str, str] = field(default_factory=dict)


def _labelled(query: str, kind: str, labels: Labels, named: dict[str, object]) -> str:
    """``query`` with the label columns of ``kind`` appended; the labels travel as query parameters."""
    columns = []
    for column, code, table in LABEL_COLUMNS[kind]:
        cases = []
        for i, (value, label) in enumerate(sorted(getattr(labels, table).items())):
            named[f"{column}_c{i}"], named[f"{column}_l{i}"] = value, label
            cases.append(f"WHEN ${column}_c{i} THEN ${column}_l{i}")
        columns.append(f"CASE {code} {' '.join(cases)} ELSE {code} END AS {column}" if cases
                       else f"{code} AS {column}")
    return f"SELECT q.*, {', '.join(columns)} FROM ({query}) q"


def _scorecards_sql(scope: str) -> str:
    return (
        f"SELECT c.call_id, c.file_name, {DAY} AS day, c.started_at, c.agent_id, c.team, s.scorecard_id, "
        "s.checklist_id, s.checklist_version, s.checklist_hash, s.total, s.raw_total, s.band, s.veto, s.needs_review, "
        "rs.total AS reviewed_total, rs.band AS reviewed_band, rs.veto AS reviewed_veto, "
        "coalesce(rs.reviewed_items, 0) AS reviewed_items, "
        "(SELECT min(a.acknowledged_at) FROM acknowledgements a WHERE a.scorecard_id = s.scorecard_id) "
        "AS acknowledged_at, s.created_at AS scored_at, s.origin "
        f"FROM scorecards s JOIN {CALLS_FROM} ON c.call_id = s.call_id "
        "LEFT JOIN reviewed_scores rs ON rs.scorecard_id = s.scorecard_id "
        f"WHERE s.is_current AND {scope} AND {DAY} BETWEEN $since AND $until "
        "ORDER BY day, c.started_at NULLS FIRST, c.call_id, s.checklist_id"
    )


def _verdicts_sql(scope: str) -> str:
    return (
        f"SELECT c.call_id, {DAY} AS day, c.agent_id, c.team, s.scorecard_id, s.checklist_id, s.checklist_version, "
        "v.idx AS item_idx, v.item_id, v.section_id, v.title, v.verdict, v.points, v.earned, v.veto, v.reason, "
        "r.reviewed_verdict, r.decision AS review_decision, r.comment AS review_comment, r.reviewer, "
        f"r.created_at AS reviewed_at, {FINAL} AS final_verdict "
        f"FROM verdicts v JOIN scorecards s ON s.scorecard_id = v.scorecard_id JOIN {CALLS_FROM} "
        "ON c.call_id = s.call_id LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id "
        "AND r.item_idx = v.idx AND r.is_current "
        f"WHERE s.is_current AND {scope} AND {DAY} BETWEEN $since AND $until "
        "ORDER BY day, c.started_at NULLS FIRST, c.call_id, s.checklist_id, v.idx"
    )


def export_scorecards(store: Store, viewer: Viewer, *, since: dt.date, until: dt.date, fmt: Format,
                      dest: Path, labels: Labels | None = None, bom: bool = True) -> int:
    """Write the current scorecards of the calls of days ``since``..``until`` (inclusive) the viewer sees.

    Args:
        fmt: ``csv`` (UTF-8, header row) or ``parquet``.
        dest: the file to write (its folder must exist; an existing file is replaced).
        labels: the label columns' words (CSV only); without, each label is its code.
        bom: start a CSV with the UTF-8 byte-order mark.

    Returns:
        The number of rows written (columns: :data:`SCORECARD_COLUMNS`, and in a CSV then the ``scorecards``
        columns of :data:`LABEL_COLUMNS`).

    Raises:
        Invalid: ``fmt`` unknown, ``since`` after ``until``, or ``dest`` not a file path in an existing folder.
    """
    return _copy(store, viewer, "scorecards", _scorecards_sql, since=since, until=until, fmt=fmt, dest=dest,
                 labels=labels, bom=bom)


def export_verdicts(store: Store, viewer: Viewer, *, since: dt.date, until: dt.date, fmt: Format,
                    dest: Path, labels: Labels | None = None, bom: bool = True) -> int:
    """Write every verdict of the current scorecards of the calls of days ``since``..``until`` the viewer sees.

    Returns:
        The number of rows written (columns: :data:`VERDICT_COLUMNS`, and in a CSV then the ``verdicts``
        columns of :data:`LABEL_COLUMNS`).

    Raises:
        Invalid: as :func:`export_scorecards`.
    """
    return _copy(store, viewer, "verdicts", _verdicts_sql, since=since, until=until, fmt=fmt, dest=dest,
                 labels=labels, bom=bom)


def _copy(store: Store, viewer: Viewer, kind: str, query: Callable[[str], str], *, since: dt.date, until: dt.date,
          fmt: str, dest: Path, labels: Labels | None, bom: bool) -> int:
    if fmt not in FORMATS:
        raise Invalid(f"fmt: {fmt!r} is not one of {', '.join(FORMATS)}")
    check_range(since, until)
    target = _target(dest)
    scope, named = named_filter(viewer)
    named.update(since=since, until=until)
    select = query(scope)
    if fmt == "csv":
        select = _labelled(select, kind, labels or Labels(), named)
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet"
    # DuckDB writes no byte-order mark: the CSV goes to a side file first and is copied behind the mark.
    written = f"{target}.part" if fmt == "csv" and bom else target
    # COPY cannot take its file name as a parameter: the path is checked by _target and quoted here.
    sql = f"COPY ({select}) TO '{written.replace(chr(39), chr(39) * 2)}' ({options})"
    try:
        with store.reading() as con:
            rows = fetch(con, sql, named)
        if written != target:
            with open(written, "rb") as src, open(f"{target}.bom", "wb") as out:
                out.write(BOM)
                shutil.copyfileobj(src, out, 1 << 20)
            os.replace(f"{target}.bom", target)
    finally:
        for side in (f"{target}.part", f"{target}.bom"):
            Path(side).unlink(missing_ok=True)
    return int(rows[0][0]) if rows else 0


def _target(dest: Path) -> str:
    """The destination as an absolute local path, refused when DuckDB could read it as something else."""
    text = str(dest)
    if not text or "\0" in text or "://" in text or any(ord(ch) < 32 for ch in text):
        raise Invalid(f"dest: {text!r} is not a plain file path")
    path = Path(text).expanduser().resolve()
    if not path.parent.is_dir():
        raise Invalid(f"dest: the folder {path.parent} does not exist; create it first")
    if path.is_dir():
        raise Invalid(f"dest: {path} is a folder; give a file name")
    return str(path)
