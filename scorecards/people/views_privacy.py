"""Personal data for a person: what of a call is hidden, the call in clear for a ``pii:clear`` holder, the audit.

The store keeps, per transcript, the mode it was redacted under (``redact``, ``both`` or ``off``; None when it was
stored before redaction existed, in clear) and when each hidden span was said. Everyone hears the recording with
those spans silenced and reads the placeholders; a holder of ``pii:clear`` may hear the original recording and
read the clear text (kept only under ``both``), every read recorded in ``clear_access``. Whether the call is the
viewer's to see is checked first, so a call outside their scope is :class:`NotFound` whatever the permission.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from core.errors import Forbidden, Invalid, NotFound
from scorecards.people.access import PII_CLEAR, PII_CLEAR_ROLES, UserRole, Viewer
from scorecards.people.views_call import audio_file
from scorecards.people.views_types import CallPage
from scorecards.store.database import Store

HIDING_MODES = ("redact", "both")  # the modes whose transcripts hide something (``off`` and None are in clear)
# Range requests of one playback within this long of an audited one are not audited again (see should_audit_audio).
AUDIO_AUDIT_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class CallAudio:
    """A call's recording and what of it is hidden.

    Attributes:
        path: the recording on disk (never changed).
        mode: the current transcript's redaction mode; None when stored before redaction (or no transcript).
        hidden: ``(start, end)`` seconds of every hidden span; empty when nothing is hidden.
    """

    path: Path
    mode: str | None
    hidden: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class CallPrivacy:
    """What the call page says about the call's personal data.

    Attributes:
        mode: the current transcript's redaction mode (None: stored before redaction, in clear).
        hidden: how many spans are hidden (placeholders in the text, silence in the recording).
        may_clear: the viewer holds ``pii:clear`` (the page offers the call in clear when something is hidden).
        clear: the page shows the call in clear (the original recording, and the clear text where kept).
        kept: the clear text was kept (mode ``both``) and is on the page.
    """

    mode: str | None
    hidden: int
    may_clear: bool
    clear: bool
    kept: bool


@dataclass(frozen=True, slots=True)
class AccessRow:
    """One read in clear: when (UTC), who, which call (its file name; None when the call is gone), what."""

    accessed_at: dt.datetime
    user_id: str
    call_id: str
    file_name: str | None
    what: str


@dataclass(frozen=True, slots=True)
class AccessPage:
    """One page of the audit of clear reads, newest first."""

    rows: tuple[AccessRow, ...]
    total: int
    page: int
    size: int


def require_clear(viewer: Viewer, roles: Collection[str] = PII_CLEAR_ROLES) -> None:
    """Raises :class:`Forbidden` unless the viewer holds ``pii:clear`` (``roles``: the roles that hold it)."""
    if not viewer.has_pii_clear(roles):
        raise Forbidden(f"personal data in clear needs the {PII_CLEAR} permission")


def _hidden(store: Store, transcript_id: str | None) -> tuple[str | None, tuple[tuple[float, float], ...]]:
    if transcript_id is None:
        return None, ()
    mode = store.privacy_mode(transcript_id)
    if mode not in HIDING_MODES:
        return mode, ()
    return mode, tuple((r.start, r.end) for r in store.redactions(transcript_id))


def _current_transcript(store: Store, call_id: str) -> str | None:
    with store.reading() as con:
        # Filtering is_current in Python keeps DuckDB on the call_id index (as views_call does).
        rows = con.execute("SELECT transcript_id, is_current FROM transcripts WHERE call_id = ?", [call_id]).fetchall()
    current = [r[0] for r in rows if r[1]]
    return current[0] if current else None


def call_audio(store: Store, viewer: Viewer, call_id: str) -> CallAudio:
    """The recording of a call the viewer sees, with the spans its current transcript hides.

    Raises:
        NotFound: no such call, not visible to the viewer, or the file is no longer there.
    """
    path = audio_file(store, viewer, call_id)
    mode, hidden = _hidden(store, _current_transcript(store, call_id))
    return CallAudio(path, mode, hidden)


def call_page_privacy(store: Store, viewer: Viewer, page: CallPage, *, clear: bool,
                      roles: Collection[str] = PII_CLEAR_ROLES) -> tuple[CallPage, CallPrivacy]:
    """The call page as the viewer may read it, and what it says about personal data.

    With ``clear`` (a ``pii:clear`` holder's request) and a transcript kept in clear (mode ``both``), the page's
    utterances carry the clear text, and the read is audited (``what = "transcript"``). Under ``redact`` nothing
    was kept to show; a call that hides nothing is shown as it is, with no audit.

    Args:
        page: the call page (:func:`~scorecards.people.views_call.call_page`: the call is the viewer's).
        clear: show the call in clear.
        roles: the roles holding ``pii:clear``.

    Raises:
        Forbidden: ``clear`` and the viewer does not hold ``pii:clear``.
    """
    if clear:
        require_clear(viewer, roles)
    mode, hidden = _hidden(store, page.transcript_id)
    kept = False
    if clear and hidden and mode == "both" and page.transcript_id is not None:
        texts = store.clear_texts(page.transcript_id, viewer.user_id, page.call.call_id)
        if texts:
            kept = True
            page = dataclasses.replace(page, utterances=tuple(
                dataclasses.replace(u, text=texts[u.idx][0]) if u.idx in texts else u for u in page.utterances))
    return page, CallPrivacy(mode, len(hidden), viewer.has_pii_clear(roles), clear, kept)


def should_audit_audio(store: Store, viewer: Viewer, call_id: str, range_header: str | None) -> bool:
    """Whether a request for the call's original recording is a new hearing, to be audited.

    A browser fetches a recording in several range requests: the first from byte 0, the others where the player
    seeks. A request with no range or one from byte 0 is audited (a page load or a new playback); any other is
    audited only when the viewer has no audited hearing of the call in the last :data:`AUDIO_AUDIT_WINDOW`, so a
    client asking for the file from byte 1 is still recorded, and the chunks of one playback are recorded once.
    """
    if _from_start(range_header):
        return True
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - AUDIO_AUDIT_WINDOW  # the audit's times are naive UTC
    with store.reading() as con:
        row = con.execute("SELECT count(*) FROM clear_access WHERE user_id = ? AND call_id = ? AND what = 'audio' "
                          "AND accessed_at >= ?", [viewer.user_id, call_id, since]).fetchone()
    return not row or row[0] == 0


def _from_start(range_header: str | None) -> bool:
    if range_header is None:
        return True
    _, _, ranges = range_header.partition("=")
    first = ranges.split(",")[0].split("-")[0].strip()
    return first.isdigit() and int(first) == 0


def clear_access(store: Store, viewer: Viewer, *, page: int = 1, size: int = 50) -> AccessPage:
    """One page of the audit of clear reads (recording heard, transcript read), newest first; admins only.

    Raises:
        NotFound: the viewer is an agent (staff pages answer agents like missing ones).
        Forbidden: the viewer is not an admin.
        Invalid: ``page`` or ``size`` below 1.
    """
    if viewer.role is UserRole.AGENT:
        raise NotFound("not found")
    if not viewer.audits_pii:
        raise Forbidden("only admins read the audit of personal data read in clear")
    if page < 1 or size < 1:
        raise Invalid(f"page, size: {page}, {size} must be at least 1")
    found = store.clear_access_log(limit=size, offset=(page - 1) * size)
    with store.reading() as con:
        total_row = con.execute("SELECT count(*) FROM clear_access").fetchone()
        names = dict(con.execute("SELECT call_id, file_name FROM calls WHERE call_id IN (SELECT unnest(?))",
                                 [sorted({a.call_id for a in found})]).fetchall()) if found else {}
    rows = tuple(AccessRow(a.accessed_at, a.user_id, a.call_id, names.get(a.call_id), a.what) for a in found)
    return AccessPage(rows, int(total_row[0]) if total_row else 0, page, size)
