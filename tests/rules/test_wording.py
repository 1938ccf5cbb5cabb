"""Verdict reasons in words: exact sentences for shipped items, and invariants over every item and kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.types import CallMetadata
from rules.engine import judge_item
from rules.loader import load_checklist, transcript_from_lines
from rules.model import Checklist
from rules.wording import MESSAGES, PREFIXES, ReasonKind, explain, fact, reason_kind, say

CHECKLISTS = Path(__file__).resolve().parents[2] / "rules" / "checklists"
_QUOTED = re.compile(r"“[^”]*”")


@pytest.fixture(scope="module")
def shipped() -> dict[str, Checklist]:
    return {lang: load_checklist(CHECKLISTS / f"service_{lang}.yaml") for lang in ("en", "zh")}


def test_shipped_items_are_worded_exactly(shipped: dict[str, Checklist]) -> None:
    zh, en = shipped["zh"], shipped["en"]
    greeting = zh.item("greeting")
    assert explain(greeting, ReasonKind.MISSED, "zh", zh.defines) == (
        "未做到：坐席在前 15 秒内说“您好”、“很高兴为您服务”、“你好”等。")
    assert explain(greeting, ReasonKind.MISSED, "en", zh.defines) == (
        "Missed: the agent says “您好”, “很高兴为您服务”, “你好” or the like in the first 15 s.")
    listening = en.item("active_listening")
    assert explain(listening, ReasonKind.MET, "en", en.defines) == (
        "Done: the agent says words like “oh no”, “got it” within 1 turn after the customer speaks.")
    banned = zh.item("no_deflection")  # a banned phrase heard: said what is ruled out, as a positive sentence
    assert explain(banned, ReasonKind.MISSED, "zh", zh.defines) == (
        "说了本项不允许的话：坐席说类似“不归我们管”、“您找…部门”、“您拨打…”的话。")
    assert explain(banned, ReasonKind.MET, "en", zh.defines) == (
        "Done: the agent does not say words like “不归我们管”, “您找…部门”, “您拨打…”.")
    hangup = en.item("customer_hangs_up_first")
    assert explain(hangup, ReasonKind.NOT_APPLICABLE, "zh", en.defines) == (
        "本通话不适用：适用条件是挂机方为客户或坐席。")
    assert explain(en.item("complaint_length"), ReasonKind.NOT_APPLICABLE, "en", en.defines) == (
        "Does not apply to this call: it applies when the queue is “complaint” or “complaints” or “投诉”.")
    assert fact("hangup_by", "customer", "metadata", "zh") == "挂机方：客户"
    assert fact("hold_count", "0", "metric", "en") == "the number of holds: 0"


def test_every_item_and_kind_reads_in_one_language_without_rule_source(shipped: dict[str, Checklist]) -> None:
    ids = {i.id for c in shipped.values() for i in c.items} | {d for c in shipped.values() for d in c.defines}
    for checklist in shipped.values():
        for item in checklist.items:
            for kind in ReasonKind:
                for language in ("en", "zh"):
                    text = explain(item, kind, language, checklist.defines)
                    bare = _QUOTED.sub("", text)
                    assert not re.search(r"\(\?|\\[bdws]|\[\^|\|", text), (item.id, kind, text)
                    assert not {w for w in re.findall(r"[a-z_]+", bare) if "_" in w} & ids, (item.id, kind, text)
                    if language == "zh":
                        assert not re.search(r"[A-Za-z]{2,}", bare), (item.id, kind, text)
                    else:
                        assert not re.search(r"[\u3400-\u9fff]", bare), (item.id, kind, text)


def test_reason_kinds_read_back_from_the_engines_lines(shipped: dict[str, Checklist]) -> None:
    en = shipped["en"]
    hangup = en.item("customer_hangs_up_first")
    say_bye = transcript_from_lines(["AGENT: Have a great day.", "CUSTOMER: Bye."])
    cases = {
        "fail": judge_item(en, hangup, say_bye, CallMetadata(hangup_by="agent")),
        "pass": judge_item(en, hangup, say_bye, CallMetadata(hangup_by="customer")),
        "n/a": judge_item(en, hangup, say_bye, CallMetadata()),
    }
    assert {v: reason_kind(v, verdict.reason) for v, verdict in cases.items()} == {
        "fail": ReasonKind.MISSED, "pass": ReasonKind.MET, "n/a": ReasonKind.NOT_APPLICABLE}
    assert all(cases[v].verdict.value == v for v in cases)
    for kind, prefix in PREFIXES.items():
        verdict = "n/a" if kind is ReasonKind.NOT_APPLICABLE else "fail" if kind is ReasonKind.MISSED else "uncertain"
        assert reason_kind(verdict, prefix + "x") is kind


def test_singular_forms_come_from_the_catalogue() -> None:
    assert say("en", "within.turns", n=1) == "1 turn" and say("en", "within.turns", n=4) == "4 turns"
    assert say("en", "count.at_most", n=1) == " at most once"
    assert all(key.removesuffix("#one") in MESSAGES for key in MESSAGES if key.endswith("#one"))


def test_shipped_checklists_carry_both_languages(shipped: dict[str, Checklist]) -> None:
    for language, checklist in shipped.items():
        other = "zh" if language == "en" else "en"
        assert other in checklist.titles
        assert all(other in s.titles for s in checklist.sections)
        assert all(other in i.titles and other in i.messages for i in checklist.items)
    assert shipped["zh"].band_names["不合格"] == {"en": "Fail"}
