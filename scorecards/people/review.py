"""The write side of the review work: confirm or overturn a verdict, disputes, acknowledgements.

A review never changes the engine's verdict: it is stored beside it (``verdict_reviews``), and the
call's reviewed score (``reviewed_scores``) is recomputed from the automatic verdicts with the current
reviews applied, by the same arithmetic as the automatic score (:func:`core.scorecard.build_scorecard`).
An overturned verdict becomes a regression example: the stretch of the call the verdict rested on with
the corrected verdict (:mod:`scorecards.people.regressions`), run by ``callqa rules test`` beside the
checklist's own examples.

Every function takes the :class:`~scorecards.store.database.Store` and the
:class:`~scorecards.people.access.Viewer` first
and raises :class:`~core.errors.NotFound` (no such thing, or not visible to the viewer),
:class:`~core.errors.Forbidden` (visible, but not theirs to do) or :class:`~core.errors.Invalid`
(a field with a value it cannot take; the message names the field).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from core.errors import Forbidden, Invalid, NotFound
from core.scorecard import ItemVerdict, Verdict, build_scorecard
from scorecards.people.access import UserRole, Viewer
from scorecards.people.regressions import (
    ReviewTarget,
    checklist_bands,
    checklist_content,
    example_id_of,
    save_example,
)
from scorecards.store import summaries
from scorecards.store.database import Store

Decision = Literal["confirm", "overturn"]
REVIEWED_VERDICTS = ("pass", "fail", "n/a")


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What a review did.

    Attributes:
        review_id: the stored review.
        scorecard_id: the scorecard reviewed.
        item_idx: the verdict's position in the scorecard (``verdicts.idx``).
        item_id: the checklist item.
        automatic_verdict: the engine's verdict (unchanged).
        reviewed_verdict: the verdict that counts now.
        decision: confirm or overturn.
        total: the reviewed total (None when nothing counted).
        raw_total: the reviewed total before a veto.
        band: the reviewed band.
        veto: a veto item fails after the review.
        reviewed_items: how many verdicts of the scorecard have a current review.
        example_id: the regression example an overturn created (None for a confirm).
    """

    review_id: str
    scorecard_id: str
    item_idx: int
    item_id: str
    automatic_verdict: str
    reviewed_verdict: str
    decision: Decision
    total: float | None
    raw_total: float | None
    band: str
    veto: bool
    reviewed_items: int
    example_id: str | None


# -- reviews ---------------------------------------------------------------------------------------


def review_verdict(
    store: Store,
    viewer: Viewer,
    scorecard_id: str,
    item_idx: int,
    *,
    decision: Decision,
    verdict: str | None,
    comment: str,
    dispute_id: str | None = None,
) -> ReviewOutcome:
    """Confirm or overturn one automatic verdict, recompute the reviewed score, all in one transaction.

    An uncertain verdict has nothing to confirm: the reviewer overturns it to the verdict they heard, and
    no regression example is made (the engine asked a person instead of being wrong). A confirm after an
    overturn withdraws the regression example the overturn made. With ``dispute_id``, the dispute is
    answered by this review (upheld by an overturn, rejected by a confirm, the comment as the answer).

    Args:
        store: the database.
        viewer: a reviewer (admin, QA, or the supervisor of the call's team).
        scorecard_id: a current scorecard the viewer can see.
        item_idx: the verdict's position in the scorecard.
        decision: ``confirm`` keeps the automatic verdict; ``overturn`` replaces it with ``verdict``.
        verdict: for an overturn, pass | fail | n/a, different from the automatic verdict; for a confirm,
            None or the automatic verdict.
        comment: why; required (non-blank) for an overturn.
        dispute_id: the open dispute of this verdict that the review answers, if any.

    Returns:
        The stored review and the reviewed score.

    Raises:
        Forbidden: the viewer is an agent.
        NotFound: no such scorecard, item or dispute visible to the viewer.
        Invalid: a bad decision, verdict or comment (the message names the field), or a superseded scorecard.
    """
    if not viewer.reviews:
        raise Forbidden("only admins, QA and supervisors review verdicts")
    with store.writing() as con:
        target = _target(con, viewer, scorecard_id, item_idx)
        reviewed = _check_review(target, decision, verdict, comment)
        if dispute_id is not None:
            _open_dispute_of(con, viewer, dispute_id, target)
        outcome = _store_review(con, viewer, target, decision, reviewed, comment.strip(), dispute_id)
        if dispute_id is not None:
            _close_dispute(con, viewer, dispute_id, upheld=decision == "overturn", answer=comment.strip())
    return outcome


def _target(con: Any, viewer: Viewer, scorecard_id: str, item_idx: int) -> ReviewTarget:
    row = _scorecard_row(con, viewer, scorecard_id)
    item = con.execute("SELECT idx, item_id, verdict, evidence FROM verdicts WHERE scorecard_id = ? AND idx = ?",
                       [scorecard_id, item_idx]).fetchone()  # fmt: skip
    if item is None:
        raise NotFound(f"item_idx: scorecard {scorecard_id} has no item {item_idx}")
    return ReviewTarget(*row, *item)


def _scorecard_row(con: Any, viewer: Viewer, scorecard_id: str) -> tuple[Any, ...]:
    where, params = viewer.call_filter("c")
    row = con.execute(
        "SELECT s.scorecard_id, s.call_id, s.transcript_id, s.checklist_id, s.checklist_version, s.checklist_hash, "
        "s.transcript_hash, s.is_current, c.agent_id, c.team, t.language, t.duration "
        "FROM scorecards s JOIN calls c ON c.call_id = s.call_id JOIN transcripts t ON t.transcript_id = "
        f"s.transcript_id WHERE s.scorecard_id = ? AND {where}", [str(scorecard_id), *params]).fetchone()
    if row is None:
        raise NotFound(f"scorecard_id: no scorecard '{scorecard_id}' among the calls you can see")
    return tuple(row)


def _check_review(target: ReviewTarget, decision: str, verdict: str | None, comment: str) -> str:
    """The verdict the review gives, or Invalid naming the field that is wrong."""
    if not target.is_current:
        raise Invalid(f"scorecard_id: scorecard {target.scorecard_id} was replaced by a rescoring; "
                      "review the call's current scorecard")  # fmt: skip
    auto = target.verdict
    if decision == "confirm":
        if auto == Verdict.UNCERTAIN:
            raise Invalid("decision: the automatic verdict is uncertain, there is nothing to confirm; "
                          "overturn it to pass, fail or n/a")  # fmt: skip
        if verdict is not None and verdict != auto:
            raise Invalid(f"verdict: a confirm keeps the automatic verdict '{auto}'; overturn to change it")
        return auto
    if decision != "overturn":
        raise Invalid(f"decision: '{decision}' is neither confirm nor overturn")
    if verdict not in REVIEWED_VERDICTS:
        raise Invalid(f"verdict: '{verdict}' is not one of {', '.join(REVIEWED_VERDICTS)}")
    if verdict == auto:
        raise Invalid(f"verdict: the automatic verdict is already '{auto}'; confirm it instead")
    if not comment.strip():
        raise Invalid("comment: say why the verdict is overturned")
    return verdict


def _store_review(
    con: Any,
    viewer: Viewer,
    target: ReviewTarget,
    decision: Decision,
    reviewed: str,
    comment: str,
    dispute_id: str | None,
) -> ReviewOutcome:
    review_id = secrets.token_hex(8)
    now = _now()
    con.execute("UPDATE verdict_reviews SET is_current = FALSE WHERE scorecard_id = ? AND item_idx = ? AND is_current",
                [target.scorecard_id, target.item_idx])  # fmt: skip
    con.execute("INSERT INTO verdict_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
                [review_id, target.scorecard_id, target.item_idx, target.item_id, target.verdict, decision, reviewed,
                 comment, viewer.user_id, dispute_id, now])  # fmt: skip
    total, raw_total, band, veto, count = _rescore(con, target, viewer.user_id, now)
    example_id = None
    if decision == "overturn" and target.verdict in (Verdict.PASS, Verdict.FAIL):
        source = f"dispute:{dispute_id}" if dispute_id else f"review:{review_id}"
        example_id = save_example(con, viewer, target, reviewed, source, comment, now)
    else:  # the automatic verdict stands (or was only uncertain): an earlier correction's example goes
        con.execute("UPDATE regression_examples SET active = FALSE WHERE example_id = ?", [example_id_of(target)])
    return ReviewOutcome(review_id, target.scorecard_id, target.item_idx, target.item_id, target.verdict, reviewed,
                         decision, total, raw_total, band, veto, count, example_id)  # fmt: skip


def _rescore(con: Any, target: ReviewTarget, user_id: str, now: dt.datetime) -> tuple[Any, ...]:
    """Recompute the reviewed score from the automatic verdicts with the current reviews applied."""
    rows = con.execute(
        "SELECT v.item_id, v.section_id, v.title, v.verdict, v.points, v.veto, v.message, v.reason, "
        "r.reviewed_verdict FROM verdicts v LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id "
        "AND r.item_idx = v.idx AND r.is_current WHERE v.scorecard_id = ? ORDER BY v.idx",
        [target.scorecard_id]).fetchall()
    items = []
    for item_id, section_id, title, auto, points, veto, message, reason, reviewed in rows:
        final = Verdict(reviewed or auto)
        items.append(ItemVerdict(item_id=item_id, section_id=section_id, title=title, verdict=final, points=points,
                                 earned=points if final is Verdict.PASS else 0.0, veto=veto, message=message,
                                 reason=reason))
    sections = [tuple(r) for r in con.execute(
        "SELECT section_id, title, weight FROM section_scores WHERE scorecard_id = ? ORDER BY rowid",
        [target.scorecard_id]).fetchall()]
    content = checklist_content(con, target.checklist_hash)
    card = build_scorecard(items, sections, call_id=target.call_id,
                           checklist=(target.checklist_id, target.checklist_version, target.checklist_hash),
                           transcript_hash=target.transcript_hash, bands=checklist_bands(content))  # fmt: skip
    count = sum(1 for r in rows if r[8] is not None)
    con.execute("DELETE FROM reviewed_scores WHERE scorecard_id = ?", [target.scorecard_id])
    con.execute("INSERT INTO reviewed_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [target.scorecard_id, card.total, card.raw_total, card.band, card.veto, count, now, user_id])
    summaries.refresh(con, [target.call_id])  # the review changed pass/fail counts and the counted total
    return card.total, card.raw_total, card.band, card.veto, count


# -- disputes and acknowledgements -----------------------------------------------------------------


def open_dispute(store: Store, viewer: Viewer, scorecard_id: str, item_idx: int, comment: str) -> str:
    """The call's agent disputes one verdict; returns the dispute id.

    Raises:
        NotFound: no such scorecard or item visible to the viewer.
        Forbidden: the viewer is not the call's agent.
        Invalid: blank comment, or an open dispute of the same verdict exists.
    """
    with store.writing() as con:
        target = _target(con, viewer, scorecard_id, item_idx)
        _require_own_call(viewer, target.agent_id, "dispute")
        if not target.is_current:
            raise Invalid(f"scorecard_id: scorecard {scorecard_id} was replaced by a rescoring; dispute the new one")
        if not comment.strip():
            raise Invalid("comment: say what the verdict got wrong")
        if con.execute("SELECT 1 FROM disputes WHERE scorecard_id = ? AND item_idx = ? AND status = 'open'",
                       [scorecard_id, item_idx]).fetchone():  # fmt: skip
            raise Invalid(f"item_idx: item {target.item_id} already has an open dispute; wait for the answer")
        dispute_id = secrets.token_hex(8)
        con.execute("INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, NULL, NULL)",
                    [dispute_id, scorecard_id, item_idx, target.item_id, target.call_id, target.agent_id,
                     comment.strip(), viewer.user_id, _now()])  # fmt: skip
    return dispute_id


def answer_dispute(
    store: Store, viewer: Viewer, dispute_id: str, *, upheld: bool, answer: str, verdict: str | None = None
) -> None:
    """A reviewer answers an open dispute.

    Upheld: the verdict is overturned (to ``verdict``, or the opposite of a pass or fail when not given)
    and a regression example is made. Rejected: the verdict that counts now is confirmed with the answer
    as the comment (an uncertain verdict nobody reviewed stays as it is). When the scorecard was replaced
    by a rescoring since the dispute was opened, only the answer is stored: the disputed verdict no longer
    counts.

    Raises:
        Forbidden: the viewer does not review (an agent).
        NotFound: no such dispute visible to the viewer.
        Invalid: blank answer, the dispute is already answered, or no verdict to overturn to.
    """
    if not viewer.reviews:
        raise Forbidden("only admins, QA and supervisors answer disputes")
    if not answer.strip():
        raise Invalid("answer: tell the agent why")
    with store.writing() as con:
        scorecard_id, item_idx = _dispute_row(con, viewer, dispute_id)
        target = _target(con, viewer, scorecard_id, item_idx)
        _open_dispute_of(con, viewer, dispute_id, target)
        current = _current_verdict(con, target)
        if not target.is_current:  # rescored since: the disputed verdict no longer counts, only the answer is kept
            _close_dispute(con, viewer, dispute_id, upheld=upheld, answer=answer.strip())
            return
        if upheld:
            verdict = verdict or {"pass": "fail", "fail": "pass"}.get(current)
            if verdict is None or verdict == current:
                raise Invalid(f"verdict: the verdict is '{current}'; say which verdict the dispute is right about")
        else:
            verdict = current
        if verdict != Verdict.UNCERTAIN:
            decision: Decision = "confirm" if verdict == target.verdict else "overturn"
            reviewed = _check_review(target, decision, verdict, answer)
            _store_review(con, viewer, target, decision, reviewed, answer.strip(), dispute_id)
        _close_dispute(con, viewer, dispute_id, upheld=upheld, answer=answer.strip())


def _dispute_row(con: Any, viewer: Viewer, dispute_id: str) -> tuple[str, int]:
    where, params = viewer.call_filter("c")
    row = con.execute(f"SELECT d.scorecard_id, d.item_idx FROM disputes d JOIN calls c ON c.call_id = d.call_id "
                      f"WHERE d.dispute_id = ? AND {where}", [dispute_id, *params]).fetchone()  # fmt: skip
    if row is None:
        raise NotFound(f"dispute_id: no dispute '{dispute_id}' among the calls you can see")
    return str(row[0]), int(row[1])


def _open_dispute_of(con: Any, viewer: Viewer, dispute_id: str, target: ReviewTarget) -> None:
    """NotFound unless the dispute is about this verdict; Invalid when it is answered already."""
    if _dispute_row(con, viewer, dispute_id) != (target.scorecard_id, target.item_idx):
        raise NotFound(f"dispute_id: dispute '{dispute_id}' is about another verdict")
    status = con.execute("SELECT status FROM disputes WHERE dispute_id = ?", [dispute_id]).fetchone()[0]
    if status != "open":
        raise Invalid(f"dispute_id: dispute '{dispute_id}' was answered already ({status})")


def _close_dispute(con: Any, viewer: Viewer, dispute_id: str, *, upheld: bool, answer: str) -> None:
    con.execute("UPDATE disputes SET status = ?, answer = ?, answered_by = ?, answered_at = ? WHERE dispute_id = ?",
                ["upheld" if upheld else "rejected", answer, viewer.user_id, _now(), dispute_id])  # fmt: skip


def _current_verdict(con: Any, target: ReviewTarget) -> str:
    row = con.execute("SELECT reviewed_verdict FROM verdict_reviews WHERE scorecard_id = ? AND item_idx = ? "
                      "AND is_current", [target.scorecard_id, target.item_idx]).fetchone()  # fmt: skip
    return str(row[0]) if row else target.verdict


def mark_dispute_seen(store: Store, viewer: Viewer, *dispute_ids: str) -> None:
    """The call's agent has seen the answers of these disputes (sets ``seen_by_agent_at`` once), in one write.

    Nothing changes while a dispute is open, or when someone else (a supervisor) looks at it.

    Raises:
        NotFound: a dispute not visible to the viewer (then none is marked).
    """
    if not dispute_ids:
        return
    with store.writing() as con:
        for dispute_id in dispute_ids:
            _dispute_row(con, viewer, dispute_id)
        if viewer.role is not UserRole.AGENT:
            return
        con.executemany("UPDATE disputes SET seen_by_agent_at = ? WHERE dispute_id = ? AND agent_id = ? "
                        "AND status <> 'open' AND seen_by_agent_at IS NULL",
                        [[_now(), dispute_id, viewer.agent_id] for dispute_id in dispute_ids])  # fmt: skip


def acknowledge(store: Store, viewer: Viewer, scorecard_id: str) -> None:
    """The call's agent acknowledges a scorecard; doing it again changes nothing.

    Raises:
        NotFound: no such scorecard visible to the viewer.
        Forbidden: the viewer is not the call's agent.
    """
    with store.writing() as con:
        row = _scorecard_row(con, viewer, scorecard_id)
        _require_own_call(viewer, row[8], "acknowledge")
        con.execute("INSERT INTO acknowledgements SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM acknowledgements "
                    "WHERE scorecard_id = ? AND user_id = ?)",
                    [scorecard_id, viewer.user_id, _now(), scorecard_id, viewer.user_id])  # fmt: skip
        summaries.refresh(con, [row[1]])  # the agent home counts unacknowledged scorecards from the summaries


def _require_own_call(viewer: Viewer, agent_id: str | None, what: str) -> None:
    if viewer.role is not UserRole.AGENT or agent_id is None or viewer.agent_id != agent_id:
        raise Forbidden(f"only the agent of the call may {what} its scorecard")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
