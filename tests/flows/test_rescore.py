"""Rescoring stored transcripts: bulk loading, the backtest diff, writing that supersedes, checklist choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.rescore import backtest, checklist_chooser, rescore_store, shipped_chooser, verdict_counts, write
from rules.diagnostics import ChecklistError
from rules.loader import load_checklist
from scorecards.store.stored import current_cards, current_transcripts, iter_calls, load_calls
from tests._scores import CALLS, build_store, write_v2

ID = {c.name: c.call_id for c in CALLS}


def test_bulk_load_equals_the_per_call_load(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    ids = current_transcripts(store)
    calls = load_calls(store, ids)
    assert [c.call_id for c in calls] == sorted(ID.values())
    for call in calls:
        stored = store.load_transcript(call.call_id)
        assert call.transcript == stored.transcript and call.metadata == stored.metadata
        assert call.transcript_id == stored.transcript_id
        assert all(w.start <= w.end for u in call.transcript.utterances for w in u.words)
    assert [c.call_id for b in iter_calls(store, ids, batch=3) for c in b] == [c.call_id for c in calls]
    assert [len(b) for b in iter_calls(store, ids, batch=3)] == [3, 3, 1]
    assert len(current_transcripts(store, ["zh"])) == 1 and len(current_transcripts(store, ["en"])) == 6


def test_backtest_finds_the_one_flipped_verdict(tmp_path: Path) -> None:
    store, tmp = build_store(tmp_path)
    v2 = load_checklist(write_v2(tmp))
    results, unscored = rescore_store(store, checklist_chooser(v2), v2.languages, batch=2)
    assert unscored == 1  # the Mandarin call: mini_en is English only
    result = backtest(results, unscored)
    assert result.scored == 6
    assert [(c.call_id, c.agent_id, c.before, c.after, c.delta) for c in result.changes] == [
        (ID["c1"], "A1", 100.0, 50.0, -50.0)]
    flip = result.changes[0].flips[0]
    assert (flip.item_id, flip.before, flip.after, flip.quote, flip.start) == (
        "greeting", "pass", "fail", "Hello, this is Sam from support.", 1.0)
    assert result.flip_counts == (("greeting", "pass", "fail", 1),)
    assert [(a.agent_id, a.calls, a.changed, a.mean_before, a.mean_after, a.delta) for a in result.agents] == [
        ("A1", 3, 1, 66.67, 50.0, -16.67), ("A2", 2, 0, 100.0, 100.0, 0.0), ("B1", 1, 0, 0.0, 0.0, 0.0)]
    # c5 said "hello" with 0.3 word confidence: no phrase of v2 found, but over unreliable words: uncertain.
    c5 = next(r.card for r in results if r.call_id == ID["c5"])
    assert str(c5.item("greeting").verdict) == "uncertain" and c5.needs_review
    assert verdict_counts(results) == {"pass": 6, "fail": 5, "n/a": 0, "uncertain": 1}


def test_writing_supersedes_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    store, tmp = build_store(tmp_path)
    v2 = load_checklist(write_v2(tmp))
    results, _ = rescore_store(store, checklist_chooser(v2), v2.languages)
    assert write(store, results, "rescore:test", "test") == 6
    history = store.scorecard_history(ID["c1"])
    assert [(h["checklist_version"], h["total"], h["is_current"], h["origin"]) for h in history] == [
        ("2", 50.0, True, "rescore:test"), ("1", 100.0, False, "r1")]
    assert [c.checklist_version for c in store.current_scorecards(ID["c3"])] == ["2"]
    assert store.current_scorecards(ID["z1"]) == []
    # Scored again with the same checklist: nothing changes, nothing new is stored.
    again, _ = rescore_store(store, checklist_chooser(v2), v2.languages)
    assert backtest(again).changes == ()
    assert write(store, again, "rescore:again", "test") == 0
    before = current_cards(store, [ID["c1"]])[(ID["c1"], "mini_en")]
    assert (before.total, before.verdicts) == (50.0, {"greeting": "fail", "closing": "pass"})
    assert store.integrity_problems() == []


def test_default_chooser_is_the_shipped_checklist_of_each_language(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    results, unscored = rescore_store(store, shipped_chooser())
    assert unscored == 0
    assert sorted((r.call_id == ID["z1"], r.checklist.id) for r in results) == sorted(
        [(False, "service_en")] * 6 + [(True, "service_zh")])
    # None of the calls had a shipped-checklist scorecard: every verdict is new ("none" before).
    assert all(f.before == "none" for c in backtest(results).changes for f in c.flips)
    assert len(backtest(results).changes) == 7


def test_an_invalid_checklist_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(write_v2(tmp_path).read_text(encoding="utf-8").replace("points: 10", "points: ten", 1),
                    encoding="utf-8")
    with pytest.raises(ChecklistError) as caught:
        load_checklist(path)
    assert f"{path}:12:" in str(caught.value)


ZH = """\
id: mini_zh
version: 1
title: 迷你检查表
language: zh
sections:
  - id: opening
    title: 开场
    weight: 100
    items:
      - id: job_number
        title: 报工号
        points: 10
        message: 开场请报工号：“您好，工号1024为您服务”。
        condition:
          says:
            role: agent
            window: {first_seconds: 15}
            phrases: [工号]
        examples:
          pass:
            - ["坐席：您好，工号1024为您服务。", "客户：我要退款。"]
            - ["坐席：工号2048，请讲。", "客户：我要退款。"]
          fail:
            - ["坐席：您好，请讲。", "客户：我要退款。"]
            - ["坐席：喂？", "客户：我要退款。"]
"""


def test_a_mandarin_checklist_applies_to_mandarin_calls_only(tmp_path: Path) -> None:
    store, tmp = build_store(tmp_path)
    path = tmp / "zh.yaml"
    path.write_text(ZH, encoding="utf-8")
    zh = load_checklist(path)
    results, unscored = rescore_store(store, checklist_chooser(zh), zh.languages)
    assert (unscored, [r.call_id for r in results]) == (6, [ID["z1"]])
    (change,) = backtest(results, unscored).changes
    assert (change.agent_id, change.before, change.after) == ("A2", None, 0.0)
    (flip,) = change.flips
    assert (flip.item_id, flip.before, flip.after, flip.quote, flip.start) == (
        "job_number", "none", "fail", "您好，很高兴为您服务。", 1.0)
