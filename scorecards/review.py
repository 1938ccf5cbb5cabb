"""The write side of the review work: confirm or overturn a verdict, disputes, acknowledgements.

A review never changes the engine's verdict: it is stored beside it (``verdict_reviews``), and the
call's reviewed score (``reviewed_scores``) is recomputed from the automatic verdicts with the current
reviews applied, by the same arithmetic as the automatic score (:func:`scorecards.scoring.build_scorecard`).
An overturned verdict becomes a regression example: the stretch of the call the verdict rested on with
the corrected verdict, kept as data and run by ``callqa rules test`` beside the checklist's own examples.

Every function takes the :class:`~scorecards.store.Store` and the :class:`~scorecards.access.Viewer` first
and raises :class:`~scorecards.access.NotFound` (no such thing, or not visible to the viewer),
:class:`~scorecards.access.Forbidden` (visible, but not theirs to do) or :class:`~scorecards.access.Invalid`
(a field with a value it cannot take; the message names the field).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from scorecards.access import Viewer
from scorecards.store import Store

Decision = Literal["confirm", "overturn"]


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


@dataclass(frozen=True, slots=True)
class ExcerptLine:
    """One utterance of a regression example's transcript excerpt."""

    role: str  # agent | customer | unknown
    start: float  # seconds from the start of the call
    end: float
    text: str
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class RegressionExample:
    """A corrected verdict kept as a test of the rule.

    Attributes:
        example_id: stable id (the same scorecard and item always give the same id).
        checklist_id: the checklist the item belongs to (matched by id: the example runs against the
            current file even when it was made on an older version).
        checklist_hash: the checklist version whose verdict was corrected.
        item_id: the item.
        language: the call's language (zh | en).
        expect: the corrected verdict (pass | fail | n/a).
        automatic_verdict: what the engine said.
        lines: the transcript excerpt, with roles and times.
        source: ``review:<review id>`` or ``dispute:<dispute id>``.
        call_id: the call the excerpt comes from.
        comment: the reviewer's reason.
        created_by: the reviewer.
        created_at: when.
        active: False once withdrawn.
    """

    example_id: str
    checklist_id: str
    checklist_hash: str
    item_id: str
    language: str
    expect: str
    automatic_verdict: str
    lines: tuple[ExcerptLine, ...]
    source: str
    call_id: str
    comment: str
    created_by: str
    created_at: dt.datetime
    active: bool = True


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

    Args:
        store: the database.
        viewer: a reviewer (admin, QA, or the supervisor of the call's team).
        scorecard_id: a current scorecard the viewer can see.
        item_idx: the verdict's position in the scorecard.
        decision: ``confirm`` keeps the automatic verdict; ``overturn`` replaces it with ``verdict``.
        verdict: for an overturn, pass | fail | n/a, different from the automatic verdict; ignored
            (may be None) for a confirm.
        comment: why; required (non-blank) for an overturn.
        dispute_id: the dispute this review answers, if any.

    Returns:
        The stored review and the reviewed score.

    Raises:
        Forbidden: the viewer is an agent.
        NotFound: no such current scorecard or item visible to the viewer.
        Invalid: a bad decision, verdict or comment (the message names the field).
    """
    raise NotImplementedError


def open_dispute(store: Store, viewer: Viewer, scorecard_id: str, item_idx: int, comment: str) -> str:
    """The call's agent disputes one verdict; returns the dispute id.

    Raises:
        NotFound: no such scorecard or item visible to the viewer.
        Forbidden: the viewer is not the call's agent.
        Invalid: blank comment, or an open dispute of the same verdict exists.
    """
    raise NotImplementedError


def answer_dispute(
    store: Store, viewer: Viewer, dispute_id: str, *, upheld: bool, answer: str, verdict: str | None = None
) -> None:
    """A reviewer answers an open dispute.

    Upheld: the verdict is overturned (to ``verdict``, or the opposite of pass/fail when not given) and a
    regression example is made. Rejected: the verdict is confirmed with the answer as the comment.

    Raises:
        Forbidden: the viewer does not review (an agent).
        NotFound: no such dispute visible to the viewer.
        Invalid: blank answer, the dispute is already answered, or no verdict to overturn to.
    """
    raise NotImplementedError


def mark_dispute_seen(store: Store, viewer: Viewer, dispute_id: str) -> None:
    """The call's agent has seen the answer of a dispute (sets ``seen_by_agent_at`` once).

    Raises:
        NotFound: no such dispute visible to the viewer.
    """
    raise NotImplementedError


def acknowledge(store: Store, viewer: Viewer, scorecard_id: str) -> None:
    """The call's agent acknowledges a scorecard; doing it again changes nothing.

    Raises:
        NotFound: no such scorecard visible to the viewer.
        Forbidden: the viewer is not the call's agent.
    """
    raise NotImplementedError


def regression_examples(store: Store, checklist_id: str | None = None) -> tuple[RegressionExample, ...]:
    """The active regression examples, optionally of one checklist, oldest first."""
    raise NotImplementedError


def regressions_yaml(examples: tuple[RegressionExample, ...]) -> str:
    """YAML in the shape of a checklist item's inline ``examples`` (pass/fail/na lists), grouped by item.

    An author can paste an item's block under that item's ``examples:`` in the checklist file.
    """
    raise NotImplementedError
