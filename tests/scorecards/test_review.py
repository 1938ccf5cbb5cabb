"""Reviews, disputes, acknowledgements and regression examples on the small scored store of tests/_scores.py.

The mini checklist has two 10-point items in two 50-weight sections: ``greeting`` (an agent phrase in the
first 15 s) and ``closing`` (an agent phrase in the last three utterances). Bands are the default ones.
"""

from __future__ import annotations

from dataclasses import replace
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from core.errors import Forbidden, Invalid, NotFound
from core.scorecard import DEFAULT_BANDS, Band, Evidence
from core.transcript_io import read_transcript, transcript_hash
from core.types import AudioInfo, CallMetadata, ModelInfo, SourceFile
from rules.engine import score_call
from rules.examples import run_for_item
from rules.loader import CHECKLIST_DIR, load_checklist
from scorecards.people.access import UserRole, Viewer
from scorecards.people.regressions import (
    ExcerptLine,
    as_rule_example,
    checklist_bands,
    excerpt_indices,
    regression_examples,
    regressions_yaml,
)
from scorecards.people.review import acknowledge, answer_dispute, mark_dispute_seen, open_dispute, review_verdict
from scorecards.store.database import Store
from scorecards.store.stored import checklist_record
from tests._scores import CALLS, MINI_V1, Call, _day, build_store, transcript_of

SUP1 = Viewer("sup1", UserRole.SUPERVISOR, teams=("T1",))
SUP2 = Viewer("sup2", UserRole.SUPERVISOR, teams=("T2",))
QA = Viewer("qa", UserRole.QA)
SUP_AUTO = Viewer("boss", UserRole.SUPERVISOR, teams=("auto-dealer",))
AGENT_A1 = Viewer("sam", UserRole.AGENT, agent_id="A1")
AGENT_A2 = Viewer("ana", UserRole.AGENT, agent_id="A2")
GREETING, CLOSING = 0, 1

# A longer call of A1: "hello" greets (a pass with mini v1) at utterance 0 of eight.
LONG = Call("c7", "A1", "T1", _day(26, 9), (
    ("agent", "Hello, Sam here.", 0.95), ("customer", "My parcel is late.", 0.9),
    ("agent", "Let me check the order.", 0.9), ("customer", "Thanks.", 0.9),
    ("agent", "It ships tomorrow.", 0.9), ("customer", "Good.", 0.9),
    ("agent", "Anything else?", 0.9), ("customer", "No, bye.", 0.9)))


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store, _ = build_store(tmp_path)
    checklist = load_checklist(tmp_path / "v1.yaml")
    transcript = transcript_of(LONG)
    meta = CallMetadata(agent_id="A1", team="T1", queue="parcels", started_at=LONG.started, language="en")
    card = score_call(checklist, transcript, meta, call_id=LONG.call_id, transcript_hash=transcript_hash(transcript))
    store.save_call("r1", SourceFile("/calls/c7.wav", LONG.call_id, 100, 0.0), meta,
                    AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, "o",
                    scorecards=[(card, checklist_record(checklist))])
    return store


def sid(store: Store, name: str) -> str:
    with store.reading() as con:
        row = con.execute("SELECT s.scorecard_id FROM scorecards s JOIN calls c ON c.call_id = s.call_id "
                          "WHERE c.file_name = ? AND s.is_current", [f"{name}.wav"]).fetchone()
    assert row is not None
    return str(row[0])


def rows(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with store.reading() as con:
        return [tuple(r) for r in con.execute(sql, params or []).fetchall()]


def test_confirm_keeps_the_automatic_score(store: Store) -> None:
    out = review_verdict(store, SUP1, sid(store, "c2"), CLOSING, decision="confirm", verdict=None, comment="")
    assert (out.automatic_verdict, out.reviewed_verdict, out.decision) == ("fail", "fail", "confirm")
    assert (out.total, out.raw_total, out.band, out.veto, out.reviewed_items, out.example_id) == (
        50.0, 50.0, "不合格", False, 1, None)
    assert rows(store, "SELECT total, raw_total, band, veto, reviewed_items, updated_by FROM reviewed_scores") == [
        (50.0, 50.0, "不合格", False, 1, "sup1")]
    # the automatic score is untouched
    assert rows(store, "SELECT total, band FROM scorecards WHERE scorecard_id = ?", [sid(store, "c2")]) == [
        (50.0, "不合格")]


def test_overturn_rescores_keeps_history_and_makes_a_whole_call_example(store: Store) -> None:
    card = sid(store, "c2")
    review_verdict(store, SUP1, card, CLOSING, decision="confirm", verdict="fail", comment="first look")
    out = review_verdict(store, QA, card, CLOSING, decision="overturn", verdict="pass",
                         comment="'restart it now' then a goodbye was cut off")
    assert (out.reviewed_verdict, out.total, out.raw_total, out.band, out.reviewed_items) == (
        "pass", 100.0, 100.0, "优秀", 1)
    assert rows(store, "SELECT decision, reviewed_verdict, reviewer, is_current FROM verdict_reviews "
                       "ORDER BY created_at") == [("confirm", "fail", "sup1", False), ("overturn", "pass", "qa", True)]
    [ex] = regression_examples(store)
    assert ex.example_id == out.example_id
    assert (ex.checklist_id, ex.item_id, ex.language, ex.expect, ex.automatic_verdict, ex.scope) == (
        "mini_en", "closing", "en", "pass", "fail", "call")
    assert ex.source == f"review:{out.review_id}" and ex.created_by == "qa"
    assert ex.checklist_hash == rows(store, "SELECT checklist_hash FROM scorecards WHERE scorecard_id = ?",
                                     [card])[0][0]  # fmt: skip
    # the closing rule counts the last utterances: the excerpt is the whole call, times and roles kept
    assert ex.lines == (ExcerptLine("agent", 1.0, 4.0, "Thank you for calling, this is Sam.", 0.95, 0.95),
                        ExcerptLine("customer", 5.0, 8.0, "My router keeps dropping.", 0.9, 0.95),
                        ExcerptLine("agent", 9.0, 12.0, "Okay, restart it now.", 0.9, 0.95))
    assert (ex.duration, dict(ex.metadata), dict(ex.metrics)) == (13.0, {"agent_id": "A1", "team": "T1",
                                                                         "language": "en"}, {})


def test_a_second_overturn_replaces_the_example_and_a_confirm_withdraws_it(store: Store) -> None:
    card = sid(store, "c2")
    first = review_verdict(store, SUP1, card, CLOSING, decision="overturn", verdict="pass", comment="a")
    second = review_verdict(store, SUP1, card, CLOSING, decision="overturn", verdict="n/a", comment="b")
    assert first.example_id == second.example_id
    assert [(e.expect, e.comment) for e in regression_examples(store)] == [("n/a", "b")]
    # n/a drops the wrap-up section: the total is the opening section alone
    assert (second.total, second.band) == (100.0, "优秀")
    back = review_verdict(store, SUP1, card, CLOSING, decision="confirm", verdict=None, comment="fail after all")
    assert (back.total, back.example_id) == (50.0, None)
    assert regression_examples(store) == ()
    assert rows(store, "SELECT count(*) FROM regression_examples WHERE NOT active") == [(1,)]


def test_a_hit_gives_a_local_excerpt_with_context(store: Store) -> None:
    out = review_verdict(store, SUP1, sid(store, "c7"), GREETING, decision="overturn", verdict="fail",
                         comment="'hello' alone is not our greeting")
    assert (out.total, out.band) == (50.0, "不合格")
    [ex] = regression_examples(store, "mini_en")
    assert ex.scope == "local"
    assert [(x.role, x.start, x.text) for x in ex.lines] == [
        ("agent", 1.0, "Hello, Sam here."), ("customer", 5.0, "My parcel is late."),
        ("agent", 9.0, "Let me check the order.")]
    assert dict(ex.metadata) == {"agent_id": "A1", "team": "T1", "queue": "parcels", "language": "en"}
    assert ex.duration == 33.0
    assert regression_examples(store, "other") == ()


def test_excerpt_indices() -> None:
    hit = Evidence(kind="hit", role="agent", start=20.0, end=22.0, text="hello", utterance=5)
    says = {"all": [{"says": {"role": "agent", "phrases": ["hello"], "window": {"first_seconds": 30}}}]}
    assert excerpt_indices(says, [hit], 12) == [3, 4, 5, 6, 7]
    assert excerpt_indices(says, [hit, Evidence(kind="hit", utterance=11)], 12) == [3, 4, 5, 6, 7, 9, 10, 11]
    assert excerpt_indices(says, [Evidence(kind="hit", utterance=0)], 12) == [0, 1, 2]
    # what was not heard, a rule relative to the edges or another phrase, or an unknown rule: the whole call
    assert excerpt_indices(says, [Evidence(kind="absent", role="agent", start=0.0, end=30.0)], 4) == [0, 1, 2, 3]
    assert excerpt_indices(says, [], 3) == [0, 1, 2]
    within = {"all": [{"not": {"says": {"phrases": ["sorry"], "within": {"after": "customer", "turns": 2}}}}]}
    assert excerpt_indices(within, [hit], 8) == list(range(8))
    assert excerpt_indices({"all": [{"metric": {"name": "talk_ratio", "at_most": 0.7}}]}, [hit], 8) == list(range(8))
    assert excerpt_indices(None, [hit], 8) == list(range(8))


def test_checklist_bands() -> None:
    assert checklist_bands(MINI_V1) == DEFAULT_BANDS
    assert checklist_bands("id: x\nbands:\n  - {name: good, min: 85}\n  - {name: poor, min: 0}\n") == (
        Band("good", 85.0), Band("poor", 0.0))


def test_review_rules(store: Store) -> None:
    card = sid(store, "c2")
    with pytest.raises(Forbidden):
        review_verdict(store, AGENT_A1, card, CLOSING, decision="confirm", verdict=None, comment="")
    with pytest.raises(NotFound, match="scorecard_id"):
        review_verdict(store, SUP2, card, CLOSING, decision="confirm", verdict=None, comment="")
    with pytest.raises(NotFound, match="item_idx"):
        review_verdict(store, SUP1, card, 7, decision="confirm", verdict=None, comment="")
    bad = [({"decision": "overturn", "verdict": "fail", "comment": "x"}, "verdict: the automatic verdict is already"),
           ({"decision": "overturn", "verdict": "maybe", "comment": "x"}, "verdict: 'maybe'"),
           ({"decision": "overturn", "verdict": "pass", "comment": "  "}, "comment"),
           ({"decision": "confirm", "verdict": "pass", "comment": ""}, "verdict: a confirm keeps"),
           ({"decision": "skip", "verdict": None, "comment": ""}, "decision: 'skip'")]
    for kwargs, message in bad:
        with pytest.raises(Invalid, match=message):
            review_verdict(store, SUP1, card, CLOSING, **kwargs)  # type: ignore[arg-type]
    assert rows(store, "SELECT count(*) FROM verdict_reviews") == [(0,)]
    with store.writing() as con:
        con.execute("UPDATE scorecards SET is_current = FALSE WHERE scorecard_id = ?", [card])
    with pytest.raises(Invalid, match="replaced by a rescoring"):
        review_verdict(store, SUP1, card, CLOSING, decision="confirm", verdict=None, comment="")


def test_an_uncertain_verdict_is_decided_without_an_example(store: Store) -> None:
    card = sid(store, "c5")  # "Hello" heard with probability 0.3: the greeting is uncertain
    with pytest.raises(Invalid, match="nothing to confirm"):
        review_verdict(store, SUP1, card, GREETING, decision="confirm", verdict=None, comment="")
    out = review_verdict(store, SUP1, card, GREETING, decision="overturn", verdict="fail", comment="no greeting")
    assert (out.automatic_verdict, out.reviewed_verdict, out.total, out.band, out.example_id) == (
        "uncertain", "fail", 50.0, "不合格", None)
    assert regression_examples(store) == ()


def test_dispute_upheld(store: Store) -> None:
    card = sid(store, "c3")  # "Yes? Account number?": the greeting failed
    with pytest.raises(Forbidden):
        open_dispute(store, SUP1, card, GREETING, "not mine")
    with pytest.raises(NotFound):
        open_dispute(store, AGENT_A2, card, GREETING, "not my call")
    with pytest.raises(Invalid, match="comment"):
        open_dispute(store, AGENT_A1, card, GREETING, " ")
    dispute = open_dispute(store, AGENT_A1, card, GREETING, "I greeted before the recording started")
    with pytest.raises(Invalid, match="already has an open dispute"):
        open_dispute(store, AGENT_A1, card, GREETING, "again")
    assert rows(store, "SELECT status, agent_id, item_id, created_by FROM disputes") == [
        ("open", "A1", "greeting", "sam")]
    with pytest.raises(Forbidden):
        answer_dispute(store, AGENT_A1, dispute, upheld=True, answer="yes")
    with pytest.raises(NotFound):
        answer_dispute(store, SUP2, dispute, upheld=True, answer="yes")
    answer_dispute(store, SUP1, dispute, upheld=True, answer="The recording starts late; your greeting counts.")
    assert rows(store, "SELECT status, answer, answered_by, seen_by_agent_at FROM disputes") == [
        ("upheld", "The recording starts late; your greeting counts.", "sup1", None)]
    assert rows(store, "SELECT decision, reviewed_verdict, dispute_id FROM verdict_reviews") == [
        ("overturn", "pass", dispute)]
    assert rows(store, "SELECT total, band FROM reviewed_scores") == [(100.0, "优秀")]
    [ex] = regression_examples(store)
    assert (ex.source, ex.expect, ex.automatic_verdict) == (f"dispute:{dispute}", "pass", "fail")
    with pytest.raises(Invalid, match="answered already"):
        answer_dispute(store, SUP1, dispute, upheld=False, answer="no")
    mark_dispute_seen(store, SUP1, dispute)  # a supervisor looking does not count
    assert rows(store, "SELECT seen_by_agent_at IS NULL FROM disputes") == [(True,)]
    mark_dispute_seen(store, AGENT_A1, dispute)
    seen = rows(store, "SELECT seen_by_agent_at FROM disputes")
    mark_dispute_seen(store, AGENT_A1, dispute)
    assert seen[0][0] is not None and rows(store, "SELECT seen_by_agent_at FROM disputes") == seen


def test_dispute_rejected_and_answered_by_a_review(store: Store) -> None:
    card = sid(store, "c2")
    dispute = open_dispute(store, AGENT_A1, card, CLOSING, "I asked if there was anything else")
    mark_dispute_seen(store, AGENT_A1, dispute)  # nothing to see while it is open
    assert rows(store, "SELECT seen_by_agent_at FROM disputes") == [(None,)]
    answer_dispute(store, SUP1, dispute, upheld=False, answer="You did not: listen at 0:09.")
    assert rows(store, "SELECT status FROM disputes") == [("rejected",)]
    assert rows(store, "SELECT decision, reviewed_verdict, comment FROM verdict_reviews") == [
        ("confirm", "fail", "You did not: listen at 0:09.")]
    assert regression_examples(store) == ()
    # a second dispute, answered from the review form
    other = open_dispute(store, AGENT_A1, card, CLOSING, "please listen again")
    with pytest.raises(NotFound, match="another verdict"):
        review_verdict(store, SUP1, card, GREETING, decision="confirm", verdict=None, comment="ok", dispute_id=other)
    out = review_verdict(store, SUP1, card, CLOSING, decision="overturn", verdict="pass", comment="Fair, it was cut.",
                         dispute_id=other)
    assert rows(store, "SELECT status, answer FROM disputes WHERE dispute_id = ?", [other]) == [
        ("upheld", "Fair, it was cut.")]
    assert [e.source for e in regression_examples(store)] == [f"dispute:{other}"]
    assert out.total == 100.0


def test_acknowledge(store: Store) -> None:
    card = sid(store, "c1")
    acknowledge(store, AGENT_A1, card)
    acknowledge(store, AGENT_A1, card)
    assert rows(store, "SELECT scorecard_id, user_id FROM acknowledgements") == [(card, "sam")]
    with pytest.raises(Forbidden):
        acknowledge(store, SUP1, card)
    with pytest.raises(NotFound):
        acknowledge(store, AGENT_A2, card)


def test_exported_yaml_loads_back_through_the_loader(store: Store, tmp_path: Path) -> None:
    review_verdict(store, SUP1, sid(store, "c2"), CLOSING, decision="overturn", verdict="pass", comment="cut off")
    review_verdict(store, SUP1, sid(store, "c7"), GREETING, decision="overturn", verdict="fail", comment="无问候语")
    examples = regression_examples(store)
    text = regressions_yaml(examples)
    yaml = YAML(typ="rt")
    doc = yaml.load(text)
    assert {item: list(groups) for item, groups in doc["mini_en"].items()} == {"closing": ["pass"],
                                                                              "greeting": ["fail"]}
    checklist = yaml.load(MINI_V1.replace("GREETING", "hello"))
    for section in checklist["sections"]:
        for item in section["items"]:
            for group, entries in doc["mini_en"].get(item["id"], {}).items():
                item["examples"][group].extend(entries)
    buf = StringIO()
    yaml.dump(checklist, buf)
    (tmp_path / "pasted.yaml").write_text(buf.getvalue(), encoding="utf-8")
    loaded = load_checklist(tmp_path / "pasted.yaml")
    by_id = {i.id: i for i in loaded.items}
    for ex in examples:
        pasted = [e for e in by_id[ex.item_id].examples if e.expect == ex.expect][-1]
        rebuilt = as_rule_example(ex)
        assert (pasted.expect, pasted.transcript, pasted.metadata, pasted.metrics) == (
            rebuilt.expect, rebuilt.transcript, rebuilt.metadata, rebuilt.metrics)
    # the engine still makes both mistakes: each regression example fails until the rule is fixed
    for ex in examples:
        [result] = run_for_item(loaded, ex.item_id, [as_rule_example(ex)])
        assert (str(result.verdict.verdict), result.ok) == (ex.automatic_verdict, False)
    assert regressions_yaml(()).endswith("{}\n")


def test_veto_and_the_checklists_own_bands(tmp_path: Path) -> None:
    veto = "        points: 10\n        veto: true\n        message: Greet"
    text = MINI_V1.replace("GREETING", "hello").replace("        points: 10\n        message: Greet", veto)
    text = text.replace("sections:\n", "bands:\n  - {name: A, min: 95}\n  - {name: B, min: 40}\n  - {name: C, min: 0}\n"
                        "sections:\n", 1)  # fmt: skip
    (tmp_path / "veto.yaml").write_text(text, encoding="utf-8")
    checklist = load_checklist(tmp_path / "veto.yaml")
    store = Store(tmp_path / "callqa.duckdb")
    store.start_run("r1", [], "{}", "test")
    call = next(c for c in CALLS if c.name == "c3")  # no greeting, a goodbye at the end
    transcript = transcript_of(call)
    meta = CallMetadata(agent_id=call.agent, team=call.team, started_at=call.started, language="en")
    card = score_call(checklist, transcript, meta, call_id=call.call_id, transcript_hash=transcript_hash(transcript))
    assert (card.total, card.raw_total, card.band, card.veto) == (0.0, 50.0, "C", True)
    store.save_call("r1", SourceFile("/calls/c3.wav", call.call_id, 100, 0.0), meta,
                    AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, "o",
                    scorecards=[(card, checklist_record(checklist))])
    card_id = sid(store, "c3")
    out = review_verdict(store, QA, card_id, CLOSING, decision="overturn", verdict="fail", comment="no real closing")
    assert (out.total, out.raw_total, out.band, out.veto) == (0.0, 0.0, "C", True)
    out = review_verdict(store, QA, card_id, GREETING, decision="overturn", verdict="pass", comment="greeted")
    assert (out.total, out.raw_total, out.band, out.veto, out.reviewed_items) == (50.0, 50.0, "B", False, 2)
    out = review_verdict(store, QA, card_id, CLOSING, decision="confirm", verdict=None, comment="")
    assert (out.total, out.band) == (100.0, "A")
    assert rows(store, "SELECT total, raw_total, band, veto, reviewed_items FROM reviewed_scores") == [
        (100.0, 100.0, "A", False, 2)]


def test_disputes_of_a_rescored_scorecard(store: Store) -> None:
    card = sid(store, "c3")
    dispute = open_dispute(store, AGENT_A1, card, GREETING, "I greeted")
    with store.writing() as con:
        con.execute("UPDATE scorecards SET is_current = FALSE WHERE scorecard_id = ?", [card])
    with pytest.raises(Invalid, match="replaced by a rescoring"):
        open_dispute(store, AGENT_A1, card, CLOSING, "and closed")
    answer_dispute(store, SUP1, dispute, upheld=True, answer="The new checklist counts your greeting.")
    assert rows(store, "SELECT status, answer FROM disputes") == [("upheld", "The new checklist counts your greeting.")]
    assert rows(store, "SELECT count(*) FROM verdict_reviews") == [(0,)]
    assert regression_examples(store) == ()


REAL = Path(__file__).parents[1] / "rules"


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str]:
    """The real call in data/ (its committed transcript) scored with the shipped English checklist."""
    loaded = read_transcript(REAL / "real_call_en.json")
    transcript = replace(loaded.transcript, model=ModelInfo("whisper-test", "m" * 64), options="{}", code_version="t")
    checklist = load_checklist(CHECKLIST_DIR / "service_en.yaml")
    meta = replace(loaded.metadata, team="auto-dealer", queue="service")
    call_id = "ab" * 32
    card = score_call(checklist, transcript, meta, call_id=call_id, transcript_hash=transcript_hash(transcript))
    store = Store(tmp_path_factory.mktemp("real") / "callqa.duckdb")
    store.start_run("r1", [], "{}", "test")
    store.save_call("r1", SourceFile("/calls/real.wav", call_id, 100, 0.0), meta,
                    AudioInfo("pcm", "wav", 8000, 1, transcript.duration), transcript, "o",
                    scorecards=[(card, checklist_record(checklist))])
    return store, sid(store, "real")


def test_real_call_overturn(real_store: tuple[Store, str]) -> None:
    store, card = real_store
    checklist = load_checklist(CHECKLIST_DIR / "service_en.yaml")
    items = [i.id for i in checklist.items]
    utterances = read_transcript(REAL / "real_call_en.json").transcript.utterances
    # "we don't handle" and "giving them a call": the agent refers the customer to a partner (fail)
    out = review_verdict(store, SUP_AUTO, card, items.index("no_deflection"), decision="overturn", verdict="pass",
                         comment="The oil change is done by the partner: referring her is right.")
    # by hand: opening 100, verification 100, listening and care 80, compliance 50 → 100, closing 100
    assert (out.total, out.band) == ((20 * 100 + 15 * 100 + 35 * 80 + 20 * 100 + 10 * 100) / 100, "优秀")
    out = review_verdict(store, SUP_AUTO, card, items.index("closing"), decision="overturn", verdict="fail",
                         comment="No offer of further help.")
    assert (out.total, out.band) == ((20 * 100 + 15 * 100 + 35 * 80 + 20 * 100 + 10 * 0) / 100, "良好")
    by_item = {e.item_id: e for e in regression_examples(store)}
    deflection, closing = by_item["no_deflection"], by_item["closing"]
    # the referral: the two quoted utterances with two either side, as transcribed
    quoted = [i for i, u in enumerate(utterances) if "we don't handle" in u.text or "giving them a call" in u.text]
    keep = sorted({k for i in quoted for k in range(i - 2, i + 3)})
    assert deflection.scope == "local" and len(quoted) == 2
    assert [(x.role, x.start, x.text) for x in deflection.lines] == [
        (str(utterances[k].role), round(utterances[k].start, 3), utterances[k].text) for k in keep]
    # the closing rule looks at the end of the call relative to its length: the whole call
    assert closing.scope == "call" and len(closing.lines) == len(utterances) == 49
    assert dict(closing.metadata) == {"agent_id": "ChrisL", "team": "auto-dealer", "queue": "service",
                                      "language": "en"}  # fmt: skip
    # each excerpt still makes the rule give the verdict the reviewer corrected: a true regression test
    for ex in (deflection, closing):
        [result] = run_for_item(checklist, ex.item_id, [as_rule_example(ex)])
        assert (str(result.verdict.verdict), result.ok) == (ex.automatic_verdict, False)


APOLOGY = """\
id: apology_en
version: 1
title: Apology checklist
language: en
sections:
  - id: care
    title: Care
    weight: 100
    items:
      - id: apology
        title: Apologises when the customer asks for a refund
        points: 10
        message: Say sorry when the customer asks for a refund.
        applies_when:
          says: {role: customer, phrases: [refund]}
        condition:
          says: {role: agent, phrases: [sorry]}
        examples:
          pass:
            - ["CUSTOMER: I want a refund.", "AGENT: Sorry about that."]
            - ["CUSTOMER: A refund please.", "AGENT: I am sorry."]
          fail:
            - ["CUSTOMER: I want a refund.", "AGENT: Okay."]
            - ["CUSTOMER: A refund please.", "AGENT: Fine."]
"""


def test_an_excerpt_that_loses_what_the_rule_needs_becomes_the_whole_call(tmp_path: Path) -> None:
    (tmp_path / "apology.yaml").write_text(APOLOGY, encoding="utf-8")
    checklist = load_checklist(tmp_path / "apology.yaml")
    call = Call("c8", "A1", "T1", _day(26, 10), (
        ("agent", "Hello, support.", 0.95), ("customer", "I want a refund for this.", 0.9),
        ("agent", "Let me look.", 0.9), ("customer", "Okay.", 0.9), ("agent", "One moment.", 0.9),
        ("customer", "Sure.", 0.9), ("agent", "Found it.", 0.9), ("agent", "I am sorry about the delay.", 0.9),
        ("customer", "Thanks.", 0.9)))
    transcript = transcript_of(call)
    meta = CallMetadata(agent_id="A1", team="T1", started_at=call.started, language="en")
    card = score_call(checklist, transcript, meta, call_id=call.call_id, transcript_hash=transcript_hash(transcript))
    store = Store(tmp_path / "callqa.duckdb")
    store.start_run("r1", [], "{}", "test")
    store.save_call("r1", SourceFile("/calls/c8.wav", call.call_id, 100, 0.0), meta,
                    AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, "o",
                    scorecards=[(card, checklist_record(checklist))])
    verdict = card.item("apology")
    # the verdict quotes only the apology; the refund that makes the item apply is six utterances earlier
    assert [(e.kind, e.utterance) for e in verdict.evidence] == [("hit", 7)]
    rule = {"all": [{"says": {"role": "agent", "phrases": ["sorry"]}}]}
    assert excerpt_indices(rule, verdict.evidence, 9) == [5, 6, 7, 8]
    review_verdict(store, QA, sid(store, "c8"), 0, decision="overturn", verdict="fail",
                   comment="sorry for the delay, not for the refund")
    [ex] = regression_examples(store)
    assert (ex.scope, len(ex.lines)) == ("call", 9)
    [result] = run_for_item(checklist, "apology", [as_rule_example(ex)])
    assert (str(result.verdict.verdict), result.ok) == ("pass", False)
