"""Scorecards: what a checklist concluded about one call, and the arithmetic that turns verdicts into a score.

Pure Python (no database): the rule engine produces :class:`ItemVerdict` values, :func:`build_scorecard`
adds them up. Every dataclass has flat fields so the store can keep it as one row; evidence is kept as
canonical JSON (:func:`evidence_to_json`).

The formula (also in docs/checklists.md):

* An item earns its ``points`` on ``pass`` and 0 on ``fail``. ``n/a`` and ``uncertain`` items are left out
  of the denominator: an uncertain verdict never moves points, it sets ``needs_review``.
* A section's score is ``100 × earned / possible`` over its counted items; a section with nothing
  counted has no score and drops out of the total.
* The total is the weight-averaged section score over the sections that have a score, rescaled by the
  weights of those sections: ``Σ wᵢ·sᵢ / Σ wᵢ``. No section scored → no total (``None``).
* A ``fail`` of a veto item (一票否决) sets ``veto``: the total becomes 0 and the band the lowest band.
  The score without the veto is kept as ``raw_total`` so a reviewer sees what the rest of the call earned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """The outcome of one checklist item on one call."""

    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What a verdict rests on: a stretch of the call, a metadata field or a metric.

    Attributes:
        kind: ``hit`` (a phrase was heard), ``absent`` (the stretch searched and nothing found there),
            ``excluded`` (a hit dropped by an ``unless`` phrase nearby), ``metadata`` or ``metric``.
        role: who spoke (``agent``/``customer``/``unknown``), empty for metadata and metrics.
        start: seconds from the start of the call (the matched words' start when words are known).
        end: seconds from the start of the call.
        text: the words as heard (the transcript's own spelling), or the value of a field.
        pattern: the phrase, regex or field test that matched or was looked for.
        match: ``exact``, ``fuzzy``, ``regex``, ``similar``, ``metadata`` or ``metric``.
        similarity: 1.0 for exact and regex, the fuzzy score / 100, or the cosine for ``similar``.
        confidence: mean word probability over the matched words (the utterance's confidence when
            the transcript has no words; the stretch's mean for ``absent``).
        role_confidence: how sure the transcript is of ``role``.
        reliable: False when the evidence rests on low-confidence words or an uncertain role.
        utterance: index of the utterance in the transcript, -1 when not about one utterance.
        note: why the evidence is unreliable or excluded, empty otherwise.
    """

    kind: str
    role: str = ""
    start: float = 0.0
    end: float = 0.0
    text: str = ""
    pattern: str = ""
    match: str = ""
    similarity: float = 1.0
    confidence: float = 1.0
    role_confidence: float = 1.0
    reliable: bool = True
    utterance: int = -1
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemVerdict:
    """One item's verdict on one call, with the evidence and what it is worth."""

    item_id: str
    section_id: str
    title: str
    verdict: Verdict
    points: float  # what the item is worth
    earned: float  # points earned: ``points`` on pass, 0 otherwise
    veto: bool  # the item is a veto item
    message: str  # what was missed, why it matters, what to say instead
    reason: str  # one line: why this verdict (e.g. "no agent phrase in the first 15 s")
    evidence: tuple[Evidence, ...] = ()

    @property
    def counted(self) -> bool:
        """True when the item is in the denominator (pass or fail)."""
        return self.verdict in (Verdict.PASS, Verdict.FAIL)


@dataclass(frozen=True, slots=True)
class SectionScore:
    """A section's points and score (0–100, None when no item of it counted)."""

    section_id: str
    title: str
    weight: float
    earned: float
    possible: float
    score: float | None


@dataclass(frozen=True, slots=True)
class Band:
    """A named score band: a total at or above ``min`` (and below the next band) falls in it."""

    name: str
    min: float


DEFAULT_BANDS = (Band("优秀", 90.0), Band("良好", 80.0), Band("合格", 60.0), Band("不合格", 0.0))


@dataclass(frozen=True, slots=True)
class CallScorecard:
    """One checklist's scorecard for one call, tied to the checklist and transcript that produced it.

    Attributes:
        total: 0–100, None when no item counted (everything n/a or uncertain).
        raw_total: the total before a veto (equal to ``total`` when there is none).
        band: the band of ``total`` ('' when there is no total).
        veto: a veto item failed.
        needs_review: some verdict is uncertain: a person should look at the call.
        transcript_hash: sha256 of the canonical transcript JSON (the transcript version).
        timed: False when the transcript had no times (plain text: times are line numbers × 3 s).
    """

    call_id: str
    checklist_id: str
    checklist_version: str
    checklist_hash: str
    transcript_hash: str
    total: float | None
    raw_total: float | None
    band: str
    veto: bool
    needs_review: bool
    items: tuple[ItemVerdict, ...]
    sections: tuple[SectionScore, ...]
    timed: bool = True

    def item(self, item_id: str) -> ItemVerdict:
        """The verdict of one item (KeyError naming the item when the checklist has none such)."""
        for verdict in self.items:
            if verdict.item_id == item_id:
                return verdict
        raise KeyError(f"checklist {self.checklist_id} has no item {item_id!r}")


_COUNTED = (Verdict.PASS, Verdict.FAIL)  # what ItemVerdict.counted tests, without a property call per item


def band_for(total: float | None, bands: Sequence[Band]) -> str:
    """The name of the highest band whose minimum ``total`` reaches ('' for no total)."""
    if total is None:
        return ""
    for band in sorted(bands, key=lambda b: b.min, reverse=True):
        if total >= band.min:
            return band.name
    return min(bands, key=lambda b: b.min).name


def _round(value: float) -> float:
    return round(value, 2)


def score_change(before: float | None, after: float | None) -> float | None:
    """``after - before`` in points, rounded as scores are; None when either score is missing."""
    return None if before is None or after is None else _round(after - before)


def build_scorecard(
    items: Sequence[ItemVerdict],
    sections: Sequence[tuple[str, str, float]],
    *,
    call_id: str,
    checklist: tuple[str, str, str],
    transcript_hash: str,
    bands: Sequence[Band] = DEFAULT_BANDS,
    timed: bool = True,
) -> CallScorecard:
    """Add item verdicts up into section scores, a total, a band and the veto and review flags.

    Args:
        items: every item's verdict, in checklist order.
        sections: (section id, title, weight) for every section, in checklist order.
        call_id: the call's id ('' when scoring a file).
        checklist: (id, version, content hash) of the checklist.
        transcript_hash: the transcript version.
        bands: the score bands.
        timed: False for transcripts without times.

    Returns:
        The scorecard (see the module docstring for the formula).
    """
    section_scores = []
    by_section: dict[str, list[ItemVerdict]] = {section_id: [] for section_id, _, _ in sections}
    for v in items:  # one pass, not one per section: rescoring builds thousands of scorecards
        if v.verdict in _COUNTED:
            by_section.setdefault(v.section_id, []).append(v)
    for section_id, title, weight in sections:
        counted = by_section[section_id]
        possible = sum([v.points for v in counted])
        earned = sum([v.earned for v in counted])
        score = _round(100.0 * earned / possible) if possible else None
        section_scores.append(SectionScore(section_id, title, weight, earned, possible, score))
    scored = [s for s in section_scores if s.score is not None]
    weights = sum(s.weight for s in scored)
    raw_total = _round(sum(s.weight * (s.score or 0.0) for s in scored) / weights) if weights else None
    veto = any(v.veto and v.verdict is Verdict.FAIL for v in items)
    total = 0.0 if veto else raw_total
    band = band_for(total, bands) if not veto else min(bands, key=lambda b: b.min).name
    return CallScorecard(
        call_id=call_id,
        checklist_id=checklist[0],
        checklist_version=checklist[1],
        checklist_hash=checklist[2],
        transcript_hash=transcript_hash,
        total=total,
        raw_total=raw_total,
        band=band,
        veto=veto,
        needs_review=any(v.verdict is Verdict.UNCERTAIN for v in items),
        items=tuple(items),
        sections=tuple(section_scores),
        timed=timed,
    )


def evidence_to_json(evidence: Sequence[Evidence]) -> str:
    """Canonical JSON of a verdict's evidence (sorted keys, no spaces, UTF-8 text kept as is)."""
    return json.dumps([asdict(e) for e in evidence], sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def evidence_from_json(text: str) -> tuple[Evidence, ...]:
    """Read back what :func:`evidence_to_json` wrote."""
    return tuple(Evidence(**entry) for entry in json.loads(text))


def scorecard_to_dict(card: CallScorecard) -> dict[str, object]:
    """The JSON form of a scorecard (what ``callqa score --json`` prints)."""
    return {
        "call_id": card.call_id,
        "checklist": {"id": card.checklist_id, "version": card.checklist_version, "hash": card.checklist_hash},
        "transcript_hash": card.transcript_hash,
        "timed": card.timed,
        "total": card.total,
        "raw_total": card.raw_total,
        "band": card.band,
        "veto": card.veto,
        "needs_review": card.needs_review,
        "sections": [asdict(s) for s in card.sections],
        "items": [
            {
                "id": v.item_id,
                "section": v.section_id,
                "title": v.title,
                "verdict": str(v.verdict),
                "points": v.points,
                "earned": v.earned,
                "veto": v.veto,
                "reason": v.reason,
                "message": v.message,
                "evidence": [asdict(e) for e in v.evidence],
            }
            for v in card.items
        ],
    }
