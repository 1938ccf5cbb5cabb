"""Exports of scorecards and verdicts for a date range, as CSV or Parquet, written by DuckDB's COPY.

Only what the viewer may see is written (:meth:`Viewer.call_filter` in the query); only current scorecards.
A call's day is ``calls.started_at``, else the start of the run that first saw it (as on the web pages).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from scorecards.access import Viewer
from scorecards.store import Store

Format = Literal["csv", "parquet"]

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


def export_scorecards(store: Store, viewer: Viewer, *, since: dt.date, until: dt.date, fmt: Format,
                      dest: Path) -> int:
    """Write the current scorecards of the calls of days ``since``..``until`` (inclusive) the viewer sees.

    Args:
        fmt: ``csv`` (UTF-8, header row) or ``parquet``.
        dest: the file to write (its folder must exist; an existing file is replaced).

    Returns:
        The number of rows written (columns: :data:`SCORECARD_COLUMNS`).

    Raises:
        Invalid: ``fmt`` unknown, ``since`` after ``until``, or ``dest`` not a writable file path.
    """
    raise NotImplementedError


def export_verdicts(store: Store, viewer: Viewer, *, since: dt.date, until: dt.date, fmt: Format,
                    dest: Path) -> int:
    """Write every verdict of the current scorecards of the calls of days ``since``..``until`` the viewer sees.

    Returns:
        The number of rows written (columns: :data:`VERDICT_COLUMNS`).

    Raises:
        Invalid: as :func:`export_scorecards`.
    """
    raise NotImplementedError
