"""Scorecard arithmetic: sections, weights, n/a and uncertain out of the denominator, veto, bands."""

from __future__ import annotations

import pytest

from core.scorecard import (
    DEFAULT_BANDS,
    Band,
    Evidence,
    ItemVerdict,
    Verdict,
    band_for,
    build_scorecard,
    evidence_from_json,  # fmt: skip
    evidence_to_json,
    scorecard_to_dict,
)


def verdict(item: str, section: str, v: Verdict, points: float = 10, veto: bool = False) -> ItemVerdict:
    earned = points if v is Verdict.PASS else 0.0
    return ItemVerdict(item_id=item, section_id=section, title=item, verdict=v, points=points, earned=earned,
                       veto=veto, message="message", reason="reason")


SECTIONS = [("a", "A", 60.0), ("b", "B", 40.0)]
CHECKLIST = ("c", "1", "hash")


def card(*items: ItemVerdict):  # type: ignore[no-untyped-def]
    return build_scorecard(items, SECTIONS, call_id="x", checklist=CHECKLIST, transcript_hash="t")


def test_weighted_total_of_section_scores() -> None:
    c = card(verdict("a1", "a", Verdict.PASS), verdict("a2", "a", Verdict.FAIL, points=30),
             verdict("b1", "b", Verdict.PASS))  # fmt: skip
    assert [s.score for s in c.sections] == [25.0, 100.0]
    assert c.total == pytest.approx(0.6 * 25 + 0.4 * 100) and c.band == "不合格"
    assert (c.veto, c.needs_review) == (False, False)


def test_na_and_uncertain_leave_the_denominator() -> None:
    c = card(verdict("a1", "a", Verdict.PASS), verdict("a2", "a", Verdict.NA), verdict("a3", "a", Verdict.UNCERTAIN),
             verdict("b1", "b", Verdict.FAIL))  # fmt: skip
    assert [(s.earned, s.possible, s.score) for s in c.sections] == [(10, 10, 100.0), (0, 10, 0.0)]
    assert c.total == 60.0 and c.needs_review


def test_a_section_with_nothing_counted_drops_out_and_the_weights_rescale() -> None:
    c = card(verdict("a1", "a", Verdict.PASS), verdict("b1", "b", Verdict.NA))
    assert c.sections[1].score is None and c.total == 100.0 and c.band == "优秀"
    empty = card(verdict("a1", "a", Verdict.UNCERTAIN), verdict("b1", "b", Verdict.NA))
    assert (empty.total, empty.band, empty.needs_review) == (None, "", True)


def test_a_veto_fail_zeroes_the_total_and_keeps_the_raw_score() -> None:
    c = card(verdict("a1", "a", Verdict.PASS), verdict("b1", "b", Verdict.FAIL, veto=True))
    assert (c.total, c.raw_total, c.band, c.veto) == (0.0, 60.0, "不合格", True)
    unsure = card(verdict("a1", "a", Verdict.PASS), verdict("b1", "b", Verdict.UNCERTAIN, veto=True))
    assert (unsure.total, unsure.veto, unsure.needs_review) == (100.0, False, True)


@pytest.mark.parametrize(("total", "band"), [(100, "优秀"), (90, "优秀"), (89.99, "良好"), (80, "良好"),
                                             (60, "合格"), (59.5, "不合格"), (0, "不合格")])  # fmt: skip
def test_default_bands(total: float, band: str) -> None:
    assert band_for(total, DEFAULT_BANDS) == band


def test_custom_bands() -> None:
    bands = [Band("gold", 95), Band("ok", 50), Band("poor", 0)]
    assert [band_for(t, bands) for t in (99, 95, 70, 10)] == ["gold", "gold", "ok", "poor"]


def test_evidence_json_is_canonical_and_round_trips() -> None:
    evidence = (Evidence(kind="hit", role="agent", start=0.75, end=1.67, text="Thank you for calling",
                         pattern="thank you for calling", match="exact"),
                Evidence(kind="absent", role="agent", start=0.0, end=15.0, pattern="您好 | 你好", match="exact",
                         similarity=0.0, confidence=0.42, reliable=False, note="low"))
    text = evidence_to_json(evidence)
    assert " " not in text.replace("Thank you for calling", "").replace("thank you for calling", "").replace(
        "您好 | 你好", "")
    assert evidence_from_json(text) == evidence
    assert '"kind":"hit"' in text and "您好" in text


def test_scorecard_dict_has_what_the_json_output_promises() -> None:
    c = card(verdict("a1", "a", Verdict.PASS), verdict("b1", "b", Verdict.FAIL))
    d = scorecard_to_dict(c)
    assert set(d) >= {"total", "band", "veto", "needs_review", "checklist", "items"}
    assert d["checklist"] == {"id": "c", "version": "1", "hash": "hash"}
    assert [(i["id"], i["verdict"], i["points"]) for i in d["items"]] == [("a1", "pass", 10), ("b1", "fail", 10)]  # type: ignore[index]
    assert all("evidence" in i and "message" in i for i in d["items"])  # type: ignore[union-attr]
