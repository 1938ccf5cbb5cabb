"""Regexes said in words: the example shown to agents instead of the pattern."""

from __future__ import annotations

import re

import pytest

from core.types import CallMetadata
from rules.engine import score_call
from rules.loader import CHECKLIST_DIR, load_checklist, transcript_from_lines
from rules.model import predicates
from rules.regex_words import FREE, example


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("(?:请|麻烦)您?(?:拨打|联系).{0,8}部门", "请拨打…部门"),  # optional words left out, free text as …
        ("\\bcall (?:your|the) bank", "call your bank"),  # the first alternative; \b consumes nothing
        ("我是(?!说|想)[\u4e00-\u9fff0-9]", "我是…"),  # a lookahead is left out, a range is free text
        ("^(?:嗯+|是的)", "嗯"),  # a repeat once
        ("\\w+ speaking", "… speaking"),
        ("工号|[0-9]+号", "工号"),
        ("(?:my name is|this is) \\w+", "my name is …"),
        ("[和跟与]你", "和你"),  # a small class: one of its characters
        (".{0,3}\\w+x", "…x"),  # runs of free text are one …
        ("(", "("),  # not a regex the parser reads: shown as it is (the loader has refused it already)
    ],
)
def test_example(pattern: str, expected: str) -> None:
    assert example(pattern) == expected


def test_every_shipped_regex_example_without_free_text_is_matched_by_its_regex() -> None:
    """The example is what the regex looks for, not a paraphrase: the regex finds it (a trailing space the
    example drops aside)."""
    checked = 0
    for language in ("en", "zh"):
        for says in predicates(load_checklist(CHECKLIST_DIR / f"service_{language}.yaml")):
            if says.match != "regex":
                continue
            for pattern in says.phrases:
                shown = example(pattern)
                assert shown and "(?" not in shown and "\\" not in shown, (pattern, shown)
                if FREE not in shown:
                    assert re.search(pattern, shown, re.M) or re.search(pattern, shown + " ", re.M), pattern
                    checked += 1
    assert checked >= 60


def test_a_missed_regex_item_says_what_was_looked_for_in_words() -> None:
    checklist = load_checklist(CHECKLIST_DIR / "service_zh.yaml")
    transcript = transcript_from_lines(["AGENT: 喂。", "CUSTOMER: 我的快递丢了。", "AGENT: 好。"])
    card = score_call(checklist, transcript, CallMetadata(), timed=False)
    reasons = [v.reason for v in card.items]
    assert all("(?" not in r and "\\b" not in r and "[\u4e00" not in r for r in reasons), reasons
    identify = next(v for v in card.items if v.item_id == "self_identification")
    assert "words like" in identify.reason, identify.reason
