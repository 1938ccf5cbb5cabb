"""The agent report: totals per day and week beside the team's, pass rate per item, trend, review share."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from core.errors import StoreError
from core.transcript_io import transcript_hash
from core.types import AudioInfo, CallMetadata, SourceFile
from rules.engine import score_call
from rules.loader import load_checklist
from scorecards.people import views
from scorecards.people.access import UserRole, Viewer
from scorecards.people.reports import EmotionFigures, agent_report, report_to_dict, week_of
from scorecards.store import summaries
from scorecards.store.database import ChecklistRecord, Store
from scorecards.store.stored import checklist_record
from tests._scores import CALLS, Call, build_store, transcript_of


def test_agent_a1_beside_team_t1(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    r = agent_report(store, "A1")
    assert (r.team, r.since, r.until) == ("T1", dt.date(2025, 1, 29), dt.date(2025, 2, 25))
    # A1: 100, 50, 50; team T1: A1's calls and A2's 100 (c4), 100 (c5); B1 of T2 is not in the team.
    assert (r.calls, r.mean_total, r.team_calls, r.team_mean_total, r.needs_review_share) == (3, 66.67, 5, 80.0, 0.0)
    assert [(p.period, p.calls, p.mean_total, p.team_calls, p.team_mean_total) for p in r.days] == [
        ("2025-02-25", 1, 50.0, 2, 75.0), ("2025-02-18", 1, 50.0, 2, 75.0), ("2025-02-17", 1, 100.0, 1, 100.0)]
    assert [(p.period, p.calls, p.mean_total, p.team_calls, p.team_mean_total) for p in r.weeks] == [
        ("2025-W09", 1, 50.0, 2, 75.0), ("2025-W08", 2, 75.0, 3, 83.33)]
    assert (r.trend.this_week, r.trend.last_week, r.trend.this_mean, r.trend.last_mean, r.trend.delta) == (
        "2025-W09", "2025-W08", 50.0, 75.0, -25.0)
    # Worst first: equal pass rates, closing lags the team more (0.667 vs 0.8) than greeting (0.667 vs 0.75,
    # the uncertain greeting of c5 not counted).
    assert [(i.item_id, i.passed, i.failed, i.uncertain, i.pass_rate, i.team_pass_rate) for i in r.items] == [
        ("closing", 2, 1, 0, 0.667, 0.8), ("greeting", 2, 1, 0, 0.667, 0.75)]


def test_review_share_days_window_and_json(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    r = agent_report(store, "A2", days=7)
    assert (r.since, r.until) == (dt.date(2025, 2, 19), dt.date(2025, 2, 25))
    # Only c4 is inside the last 7 days; c5 (18 Feb, needs review) still counts for last week's trend.
    assert (r.calls, r.mean_total, r.needs_review_share) == (1, 100.0, 0.0)
    assert (r.trend.this_mean, r.trend.last_mean) == (100.0, 100.0)
    wide = agent_report(store, "A2", days=14)
    assert (wide.calls, wide.needs_review_share) == (2, 0.5)
    assert [(i.item_id, i.uncertain, i.pass_rate) for i in wide.items] == [("closing", 0, 1.0), ("greeting", 1, 1.0)]
    doc = report_to_dict(wide)
    assert doc["until"] == "2025-02-25" and doc["trend"]["delta"] == 0.0  # type: ignore[index]
    assert [i["item_id"] for i in doc["items"]] == ["closing", "greeting"]  # type: ignore[attr-defined]


def test_other_team_and_unknown_agent(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    r = agent_report(store, "B1")
    assert (r.team, r.calls, r.mean_total, r.team_calls, r.team_mean_total) == ("T2", 1, 0.0, 1, 0.0)
    with pytest.raises(StoreError, match="no scored calls of agent 'nobody'"):
        agent_report(store, "nobody")
    with pytest.raises(StoreError, match="at least 1"):
        agent_report(store, "A1", days=0)


def test_iso_weeks_cross_the_year() -> None:
    assert week_of(dt.date(2024, 12, 30)) == "2025-W01" and week_of(dt.date(2025, 2, 23)) == "2025-W08"


# Emotion summaries as the nightly flow stores them (call_metrics), per call: angry_customer,
# customer_anger_start, customer_calmer_by_end, agent_negative_tone_max, utterances_customer.
# c3 has none (stored without the emotion stage); c5 has no customer speech; c2's start anger and c5's agent
# tone sit exactly on the thresholds (0.4 and 0.7), which count.
EMOTION = {
    "c1": (1.0, 0.8, 1.0, 0.2, 1.0),
    "c2": (0.0, 0.4, 0.0, 0.75, 1.0),
    "c4": (1.0, 0.9, 0.0, 0.1, 2.0),
    "c5": (0.0, 0.0, 0.0, 0.7, 0.0),
    "c6": (1.0, 0.8, 1.0, 0.0, 1.0),
}
NAMES = ("angry_customer", "customer_anger_start", "customer_calmer_by_end", "agent_negative_tone_max",
         "utterances_customer")


def with_emotion(tmp_path: Path) -> Store:
    store, _ = build_store(tmp_path)
    ids = {c.call_id: c.name for c in CALLS}
    current = store.current_transcript_ids()
    with store.writing() as con:
        for call_id, tid in current:
            for name, value in zip(NAMES, EMOTION.get(ids[call_id], ()), strict=False):
                con.execute("INSERT INTO call_metrics VALUES (?, ?, ?, 'test')", [tid, name, value])
    return store


def figures(e: EmotionFigures) -> tuple[object, ...]:
    return (e.calls, e.customer_calls, e.angry_customer_share, e.upset_at_start, e.calmer_share,
            e.negative_tone_share)


def test_emotion_figures_per_agent_period_and_team(tmp_path: Path) -> None:
    r = agent_report(with_emotion(tmp_path), "A1")
    # A1: c1 (angry, upset, calmer), c2 (upset, not calmer, agent tone 0.75); c3 has no emotion summary.
    assert figures(r.emotion) == (2, 2, 0.5, 2, 0.5, 0.5)
    # Team T1: c1, c2, c4 (angry, upset, not calmer), c5 (no customer speech; agent tone 0.7).
    assert figures(r.team_emotion) == (4, 3, 0.667, 3, 0.333, 0.5)
    weeks = {p.period: (figures(p.emotion), figures(p.team_emotion)) for p in r.weeks}
    assert weeks == {"2025-W09": ((0, 0, None, 0, None, None), (1, 1, 1.0, 1, 0.0, 0.0)),
                     "2025-W08": ((2, 2, 0.5, 2, 0.5, 0.5), (3, 2, 0.5, 2, 0.5, 0.667))}
    assert [(p.period, figures(p.emotion)) for p in r.days] == [
        ("2025-02-25", (0, 0, None, 0, None, None)), ("2025-02-18", (1, 1, 0.0, 1, 0.0, 1.0)),
        ("2025-02-17", (1, 1, 1.0, 1, 1.0, 0.0))]
    doc = report_to_dict(r)
    assert doc["emotion"] == {"calls": 2, "customer_calls": 2, "angry_customer_share": 0.5, "upset_at_start": 2,
                              "calmer_share": 0.5, "negative_tone_share": 0.5}
    assert doc["weeks"][0]["team_emotion"]["angry_customer_share"] == 1.0  # type: ignore[index]


def test_a_call_counts_once_however_many_checklists_scored_it(tmp_path: Path) -> None:
    store = with_emotion(tmp_path)
    c1 = next(c for c in CALLS if c.name == "c1")
    (card,) = store.current_scorecards(c1.call_id)
    (tid,) = [t for c, t in store.current_transcript_ids() if c == c1.call_id]
    other = dataclasses.replace(card, checklist_id="mini_en_b", checklist_hash="b" * 64)
    record = ChecklistRecord("mini_en_b", "1", "B", "b" * 64, "/b.yaml", "id: mini_en_b")
    assert store.save_scorecards([(other, record, tid)], "test", "test") == 1
    r = agent_report(store, "A1")
    assert r.calls == 4  # scorecards, as before
    assert figures(r.emotion) == (2, 2, 0.5, 2, 0.5, 0.5)


def test_no_emotion_summaries_gives_no_shares(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    r = agent_report(store, "A2")
    assert figures(r.emotion) == figures(r.team_emotion) == (0, 0, None, 0, None, None)


# -- the CLI report and the agent's web page give the same figures ---------------------------------------------

# Calls added to the store of tests/_scores.py for agent A1 (who has c1, c2, c3 in T1) and A3: three in team T0,
# so A1's calls name T0 and T1 three times each (a tie: T0, first by name), and one with no team (votes for
# none). d3 has no start time: its day is the day its run started (21 Feb), not the day it was scored.
EXTRA = (("d1", "A1", "T0", dt.datetime(2025, 2, 19, 9)), ("d2", "A1", "T0", dt.datetime(2025, 2, 20, 9)),
         ("d3", "A1", "T0", None), ("d4", "A1", None, dt.datetime(2025, 2, 24, 9)),
         ("e1", "A3", "T0", dt.datetime(2025, 2, 24, 10)))
# (angry_customer, customer_anger_start, customer_calmer_by_end, agent_negative_tone_max, utterances_customer):
# c1 has no customer speech; c2's customer got angry but was not upset at the start; c3's was upset at the
# start without getting angry and ended calmer; d1's agent had a negative tone; d2's customer was angry and
# upset and did not calm down; d3 has no emotion summary; d4 sits on both thresholds (0.4 and 0.7).
SAME = {"c1": (0.0, 0.0, 0.0, 0.2, 0.0), "c2": (1.0, 0.1, 0.0, 0.1, 2.0), "c3": (0.0, 0.5, 1.0, 0.0, 3.0),
        "d1": (0.0, 0.0, 0.0, 0.8, 1.0), "d2": (1.0, 0.9, 0.0, 0.3, 2.0), "d4": (1.0, 0.4, 1.0, 0.7, 1.0),
        "e1": (0.0, 0.0, 0.0, 0.0, 1.0), "c4": (1.0, 0.9, 1.0, 0.9, 1.0)}


def store_for_both(tmp_path: Path) -> Store:
    """The small store with :data:`EXTRA` calls saved as the nightly flow saves them (metrics and scorecard in
    the call's transaction, so the summaries are kept), emotion summaries :data:`SAME` on every call."""
    store, _ = build_store(tmp_path)
    checklist = load_checklist(tmp_path / "v1.yaml")
    store.start_run("r0", [], "{}", "test")
    with store.writing() as con:
        con.execute("UPDATE runs SET started_at = TIMESTAMP '2025-02-21 08:00' WHERE run_id = 'r0'")
    for name, agent, team, started in EXTRA:
        call = Call(name, agent, team or "", started or dt.datetime(2025, 1, 1), CALLS[0].lines)
        meta = CallMetadata(agent_id=agent, team=team, started_at=started, language="en")
        transcript = transcript_of(call)
        version = transcript_hash(transcript)
        card = score_call(checklist, transcript, meta, call_id=call.call_id, transcript_hash=version)
        store.save_call("r0", SourceFile(f"/calls/{name}.wav", call.call_id, 100, 0.0), meta,
                        AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, "o",
                        scorecards=[(card, checklist_record(checklist))])
    ids = {c.call_id: c.name for c in CALLS} | {Call(n, "", "", dt.datetime(2025, 1, 1), ()).call_id: n
                                                 for n, *_ in EXTRA}
    current = store.current_transcript_ids()
    with store.writing() as con:
        for call_id, tid in current:
            for name, value in zip(NAMES, SAME.get(ids[call_id], ()), strict=False):
                con.execute("INSERT INTO call_metrics VALUES (?, ?, ?, 'test')", [tid, name, value])
        summaries.refresh(con, list(ids))  # as Store.save_call does with a call's metrics
    return store


def test_the_cli_report_and_the_agent_page_give_the_same_figures(tmp_path: Path) -> None:
    store = store_for_both(tmp_path)
    report = agent_report(store, "A1")
    home = views.agent_home(store, Viewer("qa1", UserRole.QA), "A1")
    assert (report.team, report.since, report.until) == (home.team, home.since, home.until) == (
        "T0", dt.date(2025, 1, 29), dt.date(2025, 2, 25))
    # A1, every call whatever its team: c1..c3, d1..d4 (d3 without a summary: 6 calls, 5 with customer speech);
    # angry c2, d2, d4; upset at the start c3, d2, d4, of which c3 and d4 ended calmer; agent tone d1, d4.
    mine = EmotionFigures(calls=6, customer_calls=5, angry_customer_share=0.6, upset_at_start=3,
                          calmer_share=0.667, negative_tone_share=0.333)
    # Team T0: d1, d2, d3 (no summary), e1: angry d2; upset d2, not calmer; agent tone d1.
    team = EmotionFigures(calls=3, customer_calls=3, angry_customer_share=0.333, upset_at_start=1,
                          calmer_share=0.0, negative_tone_share=0.333)
    assert (report.emotion, report.team_emotion) == (home.emotion.agent, home.emotion.team) == (mine, team)
    # d3 counts on the day its run started, on both sides.
    assert "2025-02-21" in {p.period for p in report.days}
    assert home.unacknowledged == report.calls == 7


def test_the_agent_page_counts_what_the_viewer_may_see(tmp_path: Path) -> None:
    """An admin sees what the CLI shows; a supervisor of T1 sees only A1's T1 calls: team T1, their figures."""
    store = store_for_both(tmp_path)
    assert views.agent_home(store, Viewer("root", UserRole.ADMIN), "A1").team == "T0"
    sup = views.agent_home(store, Viewer("sup1", UserRole.SUPERVISOR, teams=("T1",)), "A1")
    assert sup.team == "T1" and sup.emotion.agent == EmotionFigures(3, 2, 0.5, 1, 1.0, 0.0)
    assert agent_report(store, "A3").team == "T0"
