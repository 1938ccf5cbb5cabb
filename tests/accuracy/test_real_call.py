"""The English checklist on the real call in data/: committed expected verdicts, quotes and times."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.scorecard import CallScorecard
from core.transcript_io import read_transcript, transcript_hash
from pipeline.redact import redact_transcript
from rules.engine import score_call
from rules.loader import CHECKLIST_DIR, load_checklist

HERE = Path(__file__).parents[1] / "rules"
EXPECTED = json.loads((HERE / "real_call_en.expected.json").read_text(encoding="utf-8"))["items"]


@pytest.fixture(scope="module", params=["clear", "redacted"])
def card(request: pytest.FixtureRequest) -> CallScorecard:
    """The call as transcribed, and as stored by default: its personal data replaced by placeholders (issue 14;
    the verdicts must not change, and no quote the checklist relies on holds personal data)."""
    loaded = read_transcript(HERE / "real_call_en.json")
    transcript = loaded.transcript
    if request.param == "redacted":
        redacted = redact_transcript(transcript, loaded.metadata)
        assert {r.kind for r in redacted.redactions} == {"NAME", "PHONE"}
        transcript = redacted.transcript
    checklist = load_checklist(CHECKLIST_DIR / "service_en.yaml")
    return score_call(checklist, transcript, loaded.metadata, call_id=loaded.call_id,
                      transcript_hash=transcript_hash(transcript))


@pytest.mark.parametrize("item_id", sorted(EXPECTED))
def test_real_call_item(card: CallScorecard, item_id: str) -> None:
    expected = EXPECTED[item_id]
    verdict = card.item(item_id)
    assert str(verdict.verdict) == expected["verdict"], verdict.reason
    hits = [(e.text, e.start) for e in verdict.evidence if e.kind == "hit" and e.role == "agent" and e.reliable]
    for quote, start in expected.get("quotes", []):
        assert (quote, pytest.approx(start, abs=0.01)) in hits, hits


def test_real_call_scorecard(card: CallScorecard) -> None:
    assert (card.veto, card.needs_review) == (False, False)
    # the formula, worked by hand: opening 20/20, verification 10/10, communication: listening 5, repeat-back 5,
    # hold announced 5, hold thanked 0, apologies 5 = 20/25 (empathy n/a), compliance 10/20, closing 6/6
    # (hang-up and complaint length n/a)
    expected = (20 * 100 + 15 * 100 + 35 * 80 + 20 * 50 + 10 * 100) / 100
    assert card.total == pytest.approx(expected) and card.band == "良好"
    assert len(card.transcript_hash) == 64 and card.checklist_id == "service_en"
