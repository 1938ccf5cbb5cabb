"""The read side for people (scorecards.people.views) on the small store of tests/_scores.py.

The store: A1 (T1) has c1 (2025-02-17, both items pass), c2 (02-18, closing fails), c3 (02-25, greeting fails);
A2 (T1) has c4 (02-25, both pass), c5 (02-18, greeting uncertain: low word confidence), z1 (Mandarin, not
scored); B1 (T2) has c6 (02-25, both fail). Reviews, disputes, metrics and emotions are added by SQL here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest

from core.errors import Forbidden, Invalid, NotFound
from core.transcript_io import transcript_hash
from core.types import AudioInfo, CallMetadata, SourceFile
from rules.engine import score_call
from rules.loader import load_checklist
from scorecards.people import views
from scorecards.people.access import UserRole, Viewer
from scorecards.store import summaries
from scorecards.store.database import Store
from scorecards.store.definitions import EmotionFigures
from scorecards.store.stored import checklist_record
from tests._scores import CALLS, Call, build_store, checklist_text, transcript_of

ADMIN = Viewer("root", UserRole.ADMIN)
QA = Viewer("qa1", UserRole.QA)
SUP_T1 = Viewer("sup1", UserRole.SUPERVISOR, teams=("T1",))
SUP_T2 = Viewer("sup2", UserRole.SUPERVISOR, teams=("T2",))
AGENT_A1 = Viewer("alice", UserRole.AGENT, agent_id="A1")
AGENT_B1 = Viewer("bob", UserRole.AGENT, agent_id="B1")
NOW = dt.datetime(2025, 3, 1, 12, 0)


def cid(name: str) -> str:
    return next(c.call_id for c in CALLS if c.name == name)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store, _ = build_store(tmp_path_factory.mktemp("views"))
    return store.path


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Store:
    """A fresh copy of the module's store for each test (tests add reviews and disputes to it)."""
    shutil.copy(built, tmp_path / "callqa.duckdb")
    return Store(tmp_path / "callqa.duckdb")


# -- helpers that write what the review side and the nightly flow would -----------------------------------


def sid(store: Store, call: str) -> str:
    with store.reading() as con:
        row = con.execute("SELECT scorecard_id FROM scorecards WHERE call_id = ? AND is_current",
                          [cid(call)]).fetchone()
    assert row is not None
    return str(row[0])


def review(store: Store, call: str, idx: int, verdict: str, *, total: float | None, reviewer: str = "qa1",
           comment: str = "heard it") -> str:
    """A current review of one verdict and the reviewed score it leads to (``total``: what build_scorecard gives)."""
    card = sid(store, call)
    with store.writing() as con:
        item_id, auto = con.execute("SELECT item_id, verdict FROM verdicts WHERE scorecard_id = ? AND idx = ?",
                                    [card, idx]).fetchone()
        decision = "confirm" if auto == verdict else "overturn"
        review_id = f"rv-{call}-{idx}"
        con.execute("INSERT INTO verdict_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, true)",
                    [review_id, card, idx, item_id, auto, decision, verdict, comment, reviewer, NOW])
        con.execute("DELETE FROM reviewed_scores WHERE scorecard_id = ?", [card])
        count = con.execute("SELECT count(*) FROM verdict_reviews WHERE scorecard_id = ? AND is_current",
                            [card]).fetchone()[0]
        con.execute("INSERT INTO reviewed_scores VALUES (?, ?, ?, ?, false, ?, ?, ?)",
                    [card, total, total, "优秀" if (total or 0) >= 90 else "不合格", count, NOW, reviewer])
        summaries.refresh(con, [cid(call)])  # as scorecards/people/review.py does in the review's transaction
    return review_id


def dispute(store: Store, call: str, idx: int, *, status: str = "open", answer: str | None = None,
            agent: str = "A1", created: dt.datetime = NOW) -> str:
    card = sid(store, call)
    dispute_id = f"dp-{call}-{idx}-{status}"
    with store.writing() as con:
        item_id = con.execute("SELECT item_id FROM verdicts WHERE scorecard_id = ? AND idx = ?",
                              [card, idx]).fetchone()[0]
        con.execute("INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                    [dispute_id, card, idx, item_id, cid(call), agent, "I did greet", agent.lower(), created, status,
                     answer, "sup1" if answer else None, NOW if answer else None])
    return dispute_id


def metrics(store: Store, call: str, **values: float) -> None:
    with store.writing() as con:
        tid = con.execute("SELECT transcript_id FROM transcripts WHERE call_id = ? AND is_current",
                          [cid(call)]).fetchone()[0]
        for name, value in values.items():
            con.execute("INSERT INTO call_metrics VALUES (?, ?, ?, 'test')", [tid, name, value])
        summaries.refresh(con, [cid(call)])  # as Store.save_call does with the call's metrics


def acknowledge(store: Store, call: str, user: str = "alice") -> None:
    card = sid(store, call)
    with store.writing() as con:
        con.execute("INSERT INTO acknowledgements VALUES (?, ?, ?)", [card, user, NOW])
        summaries.refresh(con, [cid(call)])  # as scorecards.people.review.acknowledge does


def reasons(row: views.QueueRow) -> list[tuple[str, str | None]]:
    return [(r.kind, r.item_id) for r in row.reasons]


# -- review queue ---------------------------------------------------------------------------------------------


def test_queue_lists_every_flagged_call_newest_first_with_reasons(store: Store) -> None:
    page = views.review_queue(store, ADMIN)
    assert [r.file_name for r in page.rows] == ["c4.wav", "c3.wav", "c6.wav", "c5.wav", "c2.wav", "c1.wav"]
    assert page.total == 6
    assert [reasons(r) for r in page.rows] == [
        [("sample", None)], [("fail", "greeting")], [("fail", "closing"), ("fail", "greeting")],
        [("uncertain", "greeting")], [("fail", "closing")], [("sample", None)],
    ]
    c3 = page.rows[1]
    assert (c3.agent_id, c3.team, c3.total, c3.band, c3.reviewed, c3.reviewed_total) == ("A1", "T1", 50.0, "不合格",
                                                                                         False, None)
    assert c3.day == dt.date(2025, 2, 25) and c3.scorecard_id == sid(store, "c3")
    assert page.rows[0].reasons[0].detail == "sample 1/2 of A2 in 2025-W09"
    assert (page.teams, page.agents, page.items) == (("T1", "T2"), ("A1", "A2", "B1"), ("closing", "greeting"))


def test_queue_orders_reasons_veto_dispute_anger_fail_uncertain(store: Store) -> None:
    card = sid(store, "c6")
    with store.writing() as con:  # make c6's greeting a veto item, as a checklist with 一票否决 would
        con.execute("UPDATE verdicts SET veto = true WHERE scorecard_id = ? AND item_id = 'greeting'", [card])
    dispute(store, "c6", 1, agent="B1")
    metrics(store, "c6", customer_anger_max=0.82)
    metrics(store, "c4", customer_anger_max=0.69)  # below the threshold: stays a sample
    page = views.review_queue(store, ADMIN)
    c6 = next(r for r in page.rows if r.file_name == "c6.wav")
    assert reasons(c6) == [("veto", "greeting"), ("dispute", "closing"), ("anger", None), ("fail", "closing")]
    assert c6.reasons[2].detail == "customer anger 0.82 ≥ 0.70"
    c4 = next(r for r in page.rows if r.file_name == "c4.wav")
    assert reasons(c4) == [("sample", None)]
    lower = views.review_queue(store, ADMIN, anger_threshold=0.6)
    assert reasons(next(r for r in lower.rows if r.file_name == "c4.wav")) == [("anger", None)]


def test_queue_filters(store: Store) -> None:
    def names(**kw: object) -> list[str]:
        return [r.file_name for r in views.review_queue(store, ADMIN, **kw).rows]  # type: ignore[arg-type]

    assert names(reason="sample") == ["c4.wav", "c1.wav"]
    assert names(item="closing") == ["c6.wav", "c2.wav"]
    assert names(since=dt.date(2025, 2, 18), until=dt.date(2025, 2, 18)) == ["c5.wav", "c2.wav"]
    assert names(team="T2") == ["c6.wav"]
    assert names(agent="A2") == ["c4.wav", "c5.wav"]
    assert names(limit=2, offset=2) == ["c6.wav", "c5.wav"]
    assert views.review_queue(store, ADMIN, limit=2, offset=2).total == 6
    assert views.review_queue(store, ADMIN, offset=50).total == 6
    review(store, "c2", 1, "pass", total=100.0)
    assert names(reviewed=True, status="all") == ["c2.wav"]
    assert names(reviewed=False, status="all") == ["c4.wav", "c3.wav", "c6.wav", "c5.wav", "c1.wav"]
    row = views.review_queue(store, ADMIN, reviewed=True, status="all").rows[0]
    assert (row.reviewed, row.total, row.reviewed_total, reasons(row)) == (True, 50.0, 100.0, [])


def test_queue_scope_and_bad_input(store: Store) -> None:
    assert [r.file_name for r in views.review_queue(store, SUP_T2).rows] == ["c6.wav"]
    assert views.review_queue(store, SUP_T2).agents == ("B1",)
    assert views.review_queue(store, SUP_T2, team="T1").rows == ()
    assert views.review_queue(store, Viewer("nobody", UserRole.SUPERVISOR)).rows == ()
    with pytest.raises(Forbidden):
        views.review_queue(store, AGENT_A1)
    with pytest.raises(Invalid, match="reason"):
        views.review_queue(store, ADMIN, reason="bored")
    with pytest.raises(Invalid, match="since"):
        views.review_queue(store, ADMIN, since=dt.date(2025, 3, 1), until=dt.date(2025, 2, 1))
    with pytest.raises(Invalid, match=r"status: 'later' is not one of todo, done, all"):
        views.review_queue(store, ADMIN, status="later")


CLOSING = "Closes the call politely"
GREETING = "Greets the customer within 15 seconds"


def test_queue_overturned_only_fail_leaves_the_to_review_list(store: Store) -> None:
    review(store, "c2", 1, "pass", total=100.0)  # c2's only flagged verdict: closing failed
    todo = views.review_queue(store, ADMIN)
    assert [r.file_name for r in todo.rows] == ["c4.wav", "c3.wav", "c6.wav", "c5.wav", "c1.wav"]
    assert todo.total == 5 and {r.status for r in todo.rows} == {"todo"}
    done = views.review_queue(store, ADMIN, status="done")
    assert [r.file_name for r in done.rows] == ["c2.wav"] and done.total == 1
    c2 = done.rows[0]
    assert (c2.status, c2.reviewed, c2.reasons) == ("done", True, ())
    assert c2.cleared == (views.QueueReason("fail", "closing", CLOSING, "overturn", "pass"),)
    assert (c2.total, c2.band, c2.reviewed_total, c2.reviewed_band) == (50.0, "不合格", 100.0, "优秀")
    assert (c2.score_reviewed, c2.shown_total, c2.shown_band) == (True, 100.0, "优秀")
    every = views.review_queue(store, ADMIN, status="all")
    assert [(r.file_name, r.status) for r in every.rows] == [
        ("c4.wav", "todo"), ("c3.wav", "todo"), ("c6.wav", "todo"), ("c5.wav", "todo"), ("c2.wav", "done"),
        ("c1.wav", "todo")]
    assert every.rows[4] == c2
    # The overturned fail no longer counts as a fail; the item filter still finds the call it was about.
    assert [r.file_name for r in views.review_queue(store, ADMIN, reason="fail", status="all").rows] == [
        "c3.wav", "c6.wav"]
    assert [r.file_name for r in views.review_queue(store, ADMIN, item="closing", status="all").rows] == [
        "c6.wav", "c2.wav"]
    # The sample is drawn from the engine's verdicts: a review does not change it.
    assert [r.file_name for r in views.review_queue(store, ADMIN, reason="sample", status="all").rows] == [
        "c4.wav", "c1.wav"]


def test_queue_confirmed_fail_stays_a_reason_marked_reviewed(store: Store) -> None:
    review(store, "c3", 0, "fail", total=50.0)  # c3's only flagged verdict: greeting failed, confirmed
    assert "c3.wav" not in [r.file_name for r in views.review_queue(store, ADMIN).rows]
    c3 = views.review_queue(store, ADMIN, status="done").rows[0]
    assert (c3.file_name, c3.status, c3.cleared) == ("c3.wav", "done", ())
    assert c3.reasons == (views.QueueReason("fail", "greeting", GREETING, "confirm", "fail"),)
    assert c3.reasons[0].reviewed
    assert (c3.total, c3.band, c3.shown_total, c3.shown_band, c3.score_reviewed) == (50.0, "不合格", 50.0,
                                                                                     "不合格", True)
    assert [r.file_name for r in views.review_queue(store, ADMIN, reason="fail", status="done").rows] == ["c3.wav"]


def test_queue_call_with_one_of_two_flagged_verdicts_reviewed_stays_to_review(store: Store) -> None:
    review(store, "c6", 1, "pass", total=50.0)  # closing overturned; greeting still failed, unreviewed
    c6 = next(r for r in views.review_queue(store, ADMIN).rows if r.file_name == "c6.wav")
    assert (c6.status, c6.reviewed) == ("todo", True)
    assert c6.reasons == (views.QueueReason("fail", "greeting", GREETING),)
    assert not c6.reasons[0].reviewed
    assert c6.cleared == (views.QueueReason("fail", "closing", CLOSING, "overturn", "pass"),)
    assert (c6.total, c6.shown_total, c6.shown_band) == (0.0, 50.0, "不合格")
    assert views.review_queue(store, ADMIN, status="done").rows == ()
    review(store, "c6", 0, "fail", total=50.0)  # and now the greeting is confirmed: nothing left to decide
    assert [(r.file_name, r.status) for r in views.review_queue(store, ADMIN, status="done").rows] == [
        ("c6.wav", "done")]
    assert "c6.wav" not in [r.file_name for r in views.review_queue(store, ADMIN).rows]


def test_queue_uncertain_heard_as_a_fail_becomes_a_reviewed_fail(store: Store) -> None:
    review(store, "c5", 0, "fail", total=50.0)
    c5 = views.review_queue(store, ADMIN, status="done").rows[0]
    assert (c5.file_name, c5.cleared) == ("c5.wav", ())
    assert c5.reasons == (views.QueueReason("fail", "greeting", GREETING, "overturn", "fail"),)
    assert [r.file_name for r in views.review_queue(store, ADMIN, reason="uncertain", status="all").rows] == []


def test_queue_dispute_anger_and_sample_calls_done_when(store: Store) -> None:
    """An open dispute keeps a call to review until it is answered; an anger or sample call is done once a
    verdict of it has a review."""
    review(store, "c6", 0, "fail", total=0.0)
    review(store, "c6", 1, "fail", total=0.0)
    dispute(store, "c6", 1, agent="B1")
    metrics(store, "c1", customer_anger_max=0.9)  # c1 (a sample before) now listed for anger
    todo = views.review_queue(store, ADMIN)
    assert [(r.file_name, reasons(r)) for r in todo.rows if r.file_name in ("c6.wav", "c1.wav", "c4.wav")] == [
        ("c4.wav", [("sample", None)]), ("c6.wav", [("dispute", "closing"), ("fail", "closing"), ("fail", "greeting")]),
        ("c1.wav", [("anger", None)])]
    with store.writing() as con:  # the dispute is answered (rejected)
        con.execute("UPDATE disputes SET status = 'rejected', answer = 'heard it', answered_by = 'sup2', "
                    "answered_at = ? WHERE call_id = ?", [NOW, cid("c6")])
    review(store, "c1", 0, "pass", total=100.0)  # someone listened to c1 and confirmed its greeting
    review(store, "c4", 1, "pass", total=100.0)
    done = views.review_queue(store, ADMIN, status="done")
    assert [(r.file_name, reasons(r)) for r in done.rows] == [
        ("c4.wav", [("sample", None)]), ("c6.wav", [("fail", "closing"), ("fail", "greeting")]),
        ("c1.wav", [("anger", None)])]
    assert [r.file_name for r in views.review_queue(store, ADMIN).rows] == ["c3.wav", "c5.wav", "c2.wav"]


def _good_calls(n: int) -> tuple[Call, ...]:
    lines = (("agent", "Thank you for calling, this is Kim.", 0.95), ("customer", "Just checking my balance.", 0.9),
             ("agent", "It is ten dollars. Anything else? Goodbye.", 0.9))
    return tuple(Call(f"s{i}", "S1", "T3", dt.datetime(2025, 3, 3 + i % 5, 9 + i), lines) for i in range(n))


def test_sample_is_the_lowest_hashes_of_the_agents_week_whatever_the_filter(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text(checklist_text(1), encoding="utf-8")
    checklist = load_checklist(path)
    store = Store(tmp_path / "s.duckdb")
    store.start_run("r1", [], "{}", "test")
    calls = _good_calls(7)
    for call in calls:
        transcript = transcript_of(call)
        meta = CallMetadata(agent_id=call.agent, team=call.team, started_at=call.started, language="en")
        version = transcript_hash(transcript)
        card = score_call(checklist, transcript, meta, call_id=call.call_id, transcript_hash=version)
        store.save_call("r1", SourceFile(f"/calls/{call.name}.wav", call.call_id, 100, 0.0), meta,
                        AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, "o",
                        scorecards=[(card, checklist_record(checklist))])
    for salt in ("", "pepper"):
        expected = sorted(calls, key=lambda c: hashlib.sha256(f"{c.call_id}2025-W10{salt}".encode()).hexdigest())[:2]
        page = views.review_queue(store, ADMIN, sample_salt=salt)
        assert {r.call_id for r in page.rows} == {c.call_id for c in expected}
        assert all(reasons(r) == [("sample", None)] for r in page.rows)
        assert views.review_queue(store, ADMIN, sample_salt=salt) == page  # the same on every load
        for call in expected:  # a one-day filter shows the day's sampled call, drawn from the whole week
            day = call.started.date()
            one_day = views.review_queue(store, ADMIN, since=day, until=day, sample_salt=salt)
            assert call.call_id in {r.call_id for r in one_day.rows}
    assert len(views.review_queue(store, ADMIN, sample_per_agent_week=5).rows) == 5
    assert views.review_queue(store, ADMIN, sample_per_agent_week=0).rows == ()


# -- call page and audio -----------------------------------------------------------------------------------


def test_call_page_shows_transcript_verdicts_evidence_and_totals(store: Store) -> None:
    page = views.call_page(store, SUP_T1, cid("c2"))
    assert page.call.file_name == "c2.wav" and page.call.agent_id == "A1"
    assert [(u.idx, u.role, u.start, u.end, u.emotion) for u in page.utterances] == [
        (0, "agent", 1.0, 4.0, None), (1, "customer", 5.0, 8.0, None), (2, "agent", 9.0, 12.0, None)]
    assert page.utterances[1].text == "My router keeps dropping."
    (card,) = page.scorecards
    assert (card.checklist_id, card.checklist_version, card.total, card.band, card.reviewed) == (
        "mini_en", "1", 50.0, "不合格", None)
    greeting, closing = card.verdicts
    assert (greeting.item_id, greeting.verdict, closing.item_id, closing.verdict) == ("greeting", "pass", "closing",
                                                                                      "fail")
    hit = greeting.evidence[0]
    assert (hit.kind, hit.role, hit.start, hit.quote, hit.utterance) == ("hit", "agent", 1.0,
                                                                          "Thank you for calling,", 0)
    assert closing.message.startswith("End the call properly.")
    assert [(s.section_id, s.score) for s in card.sections] == [("opening", 100.0), ("wrap_up", 0.0)]
    assert closing.review is None and closing.final_verdict == "fail"
    assert page.disputes == () and card.acknowledged_at is None


def test_call_page_with_review_dispute_emotion_and_acknowledgement(store: Store) -> None:
    review(store, "c2", 1, "pass", total=100.0, comment="he said 'anything further'")
    disputed = dispute(store, "c2", 1, status="upheld", answer="Right, that counts")
    acknowledge(store, "c2")
    metrics(store, "c2", customer_anger_max=0.3)
    with store.writing() as con:
        tid = con.execute("SELECT transcript_id FROM transcripts WHERE call_id = ?", [cid("c2")]).fetchone()[0]
        con.execute("INSERT INTO utterance_emotions VALUES (?, 1, 'customer', 'frustrated', 0.8, 0.45, 0.05, 0.8, "
                    "0.1, 0.05, 'frustrated', NULL, '[]', 'test')", [tid])
    page = views.call_page(store, AGENT_A1, cid("c2"))
    assert [(u.emotion, u.anger) for u in page.utterances] == [(None, None), ("frustrated", 0.45), (None, None)]
    (card,) = page.scorecards
    closing = card.verdicts[1]
    assert closing.verdict == "fail" and closing.final_verdict == "pass"
    assert closing.review is not None
    assert (closing.review.decision, closing.review.reviewer, closing.review.comment) == (
        "overturn", "qa1", "he said 'anything further'")
    assert card.total == 50.0 and card.reviewed is not None and card.reviewed.total == 100.0
    assert card.reviewed.reviewed_items == 1 and card.acknowledged_at == NOW
    assert [(d.dispute_id, d.status, d.answer, d.title) for d in page.disputes] == [
        (disputed, "upheld", "Right, that counts", "Closes the call politely")]
    assert page.metrics == (("customer_anger_max", 0.3),)


def test_call_outside_scope_is_not_found(store: Store) -> None:
    views.call_page(store, AGENT_B1, cid("c6"))
    for viewer, call in ((AGENT_A1, "c6"), (SUP_T1, "c6"), (SUP_T2, "c1"), (AGENT_B1, "c1")):
        with pytest.raises(NotFound):
            views.call_page(store, viewer, cid(call))
        with pytest.raises(NotFound):
            views.audio_file(store, viewer, cid(call))
    with pytest.raises(NotFound):
        views.call_page(store, ADMIN, "0" * 64)


def test_audio_file_is_the_stored_path_while_it_exists(store: Store, tmp_path: Path) -> None:
    wav = tmp_path / "c1.wav"
    wav.write_bytes(b"RIFF")
    with store.writing() as con:
        con.execute("UPDATE calls SET source_path = ? WHERE call_id = ?", [str(wav), cid("c1")])
    assert views.audio_file(store, AGENT_A1, cid("c1")) == wav
    wav.unlink()
    with pytest.raises(NotFound, match="no longer"):
        views.audio_file(store, AGENT_A1, cid("c1"))


def test_disputes_open_first_and_scoped(store: Store) -> None:
    old = dispute(store, "c3", 0, created=NOW - dt.timedelta(days=2))
    answered = dispute(store, "c2", 1, status="rejected", answer="Not said")
    other = dispute(store, "c6", 0, agent="B1")
    assert [d.dispute_id for d in views.disputes(store, ADMIN)] == [old, other, answered]
    assert [d.dispute_id for d in views.disputes(store, AGENT_A1)] == [old, answered]
    assert [d.dispute_id for d in views.disputes(store, SUP_T2)] == [other]
    assert [d.dispute_id for d in views.disputes(store, ADMIN, status="rejected")] == [answered]
    with pytest.raises(Invalid, match="status"):
        views.disputes(store, ADMIN, status="pending")


# -- agent home --------------------------------------------------------------------------------------------


def test_agent_home_missed_items_radar_trend(store: Store) -> None:
    home = views.agent_home(store, AGENT_A1, "A1")
    assert (home.team, home.since, home.until) == ("T1", dt.date(2025, 1, 29), dt.date(2025, 2, 25))
    assert [c.file_name for c in home.calls] == ["c3.wav", "c2.wav"]
    (missed,) = home.calls[0].missed
    assert (missed.item_id, missed.item_idx, missed.verdict, missed.quote, missed.start) == (
        "greeting", 0, "fail", "Yes? Account number?", 1.0)
    assert missed.message == 'Greet the customer first. Say "Thank you for calling, how can I help?"'
    # Opening: A1 100, 100, 0; the team adds c4 100 (c5's opening is uncertain: no score). Wrap-up: c4, c5 pass.
    assert [(p.section_id, p.agent, p.team) for p in home.radar] == [("opening", 66.67, 75.0),
                                                                        ("wrap_up", 66.67, 80.0)]
    assert [(w.week, w.agent, w.team, w.calls) for w in home.trend][-2:] == [("2025-W08", 75.0, 83.33, 2),
                                                                              ("2025-W09", 50.0, 75.0, 1)]
    assert [w.week for w in home.trend] == ["2025-W05", "2025-W06", "2025-W07", "2025-W08", "2025-W09"]
    assert home.unacknowledged == 3 and home.disputes == ()
    assert views.agent_home(store, AGENT_A1, "A1", only_missed=False, latest=2).calls[1].file_name == "c2.wav"
    assert [c.file_name for c in views.agent_home(store, AGENT_A1, "A1", only_missed=False).calls] == [
        "c3.wav", "c2.wav", "c1.wav"]


def test_agent_home_after_review_dispute_and_acknowledgement(store: Store) -> None:
    review(store, "c2", 1, "pass", total=100.0)
    disputed = dispute(store, "c3", 0)
    acknowledge(store, "c3")
    home = views.agent_home(store, AGENT_A1, "A1")
    assert [c.file_name for c in home.calls] == ["c3.wav"]  # c2's only miss was overturned
    call = home.calls[0]
    assert call.acknowledged and (call.missed[0].dispute_id, call.missed[0].dispute_status) == (disputed, "open")
    assert [d.dispute_id for d in home.disputes] == [disputed]
    assert [(w.week, w.agent) for w in home.trend][-2:] == [("2025-W08", 100.0), ("2025-W09", 50.0)]
    assert home.unacknowledged == 2


def test_agent_home_emotion_shares(store: Store) -> None:
    """The figures of ``callqa agent`` (scorecards.store.definitions); each share over its own denominator."""
    spoke = {"utterances_customer": 2.0}
    metrics(store, "c1", angry_customer=1.0, customer_anger_start=0.6, customer_calmer_by_end=1.0, **spoke)
    metrics(store, "c2", angry_customer=1.0, customer_anger_start=0.2, customer_calmer_by_end=0.0,
            agent_negative_tone_max=0.7, **spoke)
    metrics(store, "c4", angry_customer=0.0, customer_anger_start=0.4, customer_calmer_by_end=0.0, **spoke)
    metrics(store, "c5", angry_customer=0.0, utterances_customer=0.0)  # no customer speech
    metrics(store, "c6", angry_customer=1.0, customer_anger_start=0.9, customer_calmer_by_end=1.0,
            **spoke)  # another team: not in T1's figures
    e = views.agent_home(store, AGENT_A1, "A1").emotion
    # A1: c1 (angry, upset, calmer), c2 (angry, not upset, agent tone on 0.7); c3 has no summary.
    assert e.agent == EmotionFigures(2, 2, 1.0, 1, 1.0, 0.5)
    # T1: c1, c2, c4 (upset on 0.4, not calmer), c5 (no customer speech: only in the tone's denominator).
    assert e.team == EmotionFigures(4, 3, 0.667, 2, 0.5, 0.25)


def test_agent_home_only_for_whom_may_see_it(store: Store) -> None:
    assert views.agent_home(store, SUP_T1, "A2").team == "T1"
    for viewer, agent in ((AGENT_A1, "A2"), (AGENT_B1, "A1"), (SUP_T2, "A1"), (ADMIN, "nobody")):
        with pytest.raises(NotFound):
            views.agent_home(store, viewer, agent)
    with pytest.raises(Invalid, match="days"):
        views.agent_home(store, ADMIN, "A1", days=0)


# -- heat-map ----------------------------------------------------------------------------------------------


# The windows end on the store's last call day (checklists, trend, empty windows: test_views_team.py).
LAST_DAY = dt.date(2025, 2, 25)


def cells(heat: views.Heatmap) -> dict[str, list[tuple[int, int, str | None]]]:
    return {r.agent_id: [(c.passed, c.counted, c.colour) for c in r.cells] for r in heat.agents}


def test_heatmap_rates_colours_and_trend(store: Store) -> None:
    heat = views.team_heatmap(store, QA, until=LAST_DAY)
    assert [i.key for i in heat.items] == ["mini_en/greeting", "mini_en/closing"]
    assert cells(heat) == {"A1": [(2, 3, "orange"), (2, 3, "orange")], "A2": [(1, 1, "green"), (2, 2, "green")],
                           "B1": [(0, 1, "red"), (0, 1, "red")]}
    assert [r.agent_id for r in heat.agents] == ["A1", "A2", "B1"]
    assert heat.agents[0].overall.rate == 0.6667 and heat.agents[0].team == "T1"
    assert heat.weeks[-2:] == ("2025-W08", "2025-W09")
    assert [t.rates[-2:] for t in heat.trends] == [(1.0, 0.3333), (0.6667, 0.6667)]
    for sort, order in (("worst", ["B1", "A1", "A2"]), ("best", ["A2", "A1", "B1"])):
        assert [r.agent_id for r in views.team_heatmap(store, QA, until=LAST_DAY, sort=sort).agents] == order
    review(store, "c2", 1, "pass", total=100.0)  # the reviewed verdict counts
    by_item = views.team_heatmap(store, QA, until=LAST_DAY, sort="item:mini_en/closing")
    assert [r.agent_id for r in by_item.agents] == ["B1", "A1", "A2"]
    assert cells(by_item)["A1"] == [(2, 3, "orange"), (3, 3, "green")]


def test_heatmap_colour_bounds() -> None:
    assert [views.colour(r) for r in (None, 0.0, 0.5999, 0.6, 0.7499, 0.75, 0.8999, 0.9, 1.0)] == [
        None, "red", "red", "orange", "orange", "yellow", "yellow", "green", "green"]


def test_agent_home_of_an_agent_with_only_unscored_calls_is_empty(store: Store) -> None:
    """An agent whose calls were never scored (the Mandarin call, no Mandarin checklist here) has a page with
    nothing on it: not "no such agent"."""
    z1 = next(c for c in CALLS if c.name == "z1")
    transcript = transcript_of(z1)
    meta = CallMetadata(agent_id="Z9", team="T1", started_at=z1.started, language=z1.language)
    store.save_call("r1", SourceFile(f"/calls/{z1.name}.wav", z1.call_id, 100, 0.0), meta,
                    AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, "o")
    home = views.agent_home(store, SUP_T1, "Z9")
    assert (home.calls, home.radar, home.disputes, home.unacknowledged) == ((), (), (), 0)
    assert home.team is None and home.emotion.agent.calls == 0
    with pytest.raises(NotFound):
        views.agent_home(store, SUP_T2, "Z9")  # another team's supervisor: no call of Z9 they may see


def test_heatmap_scope(store: Store) -> None:
    heat = views.team_heatmap(store, SUP_T2, until=LAST_DAY)
    assert heat.teams == ("T2",) and list(cells(heat)) == ["B1"]
    assert list(cells(views.team_heatmap(store, ADMIN, team="T1", until=LAST_DAY))) == ["A1", "A2"]
    with pytest.raises(NotFound):
        views.team_heatmap(store, SUP_T2, team="T1")
    with pytest.raises(Forbidden):
        views.team_heatmap(store, AGENT_A1)
    with pytest.raises(Invalid, match="sort"):
        views.team_heatmap(store, ADMIN, sort="random")
    with pytest.raises(Invalid, match="no item"):
        views.team_heatmap(store, ADMIN, sort="item:mini_en/hold", until=LAST_DAY)


# -- rule health and runs ----------------------------------------------------------------------------------


def test_rule_health_agreement_precision_and_flag(store: Store) -> None:
    review(store, "c2", 1, "pass", total=100.0)  # closing: fail overturned
    review(store, "c6", 1, "fail", total=0.0, reviewer="sup2")  # closing: fail confirmed
    review(store, "c3", 0, "fail", total=50.0)  # greeting: fail confirmed
    review(store, "c5", 0, "pass", total=100.0)  # greeting: uncertain resolved as pass
    review(store, "c1", 1, "pass", total=100.0)  # closing: pass confirmed
    health = views.rule_health(store, QA, min_agreement=0.8, min_reviews=3)
    closing, greeting = health
    assert (closing.item_id, closing.reviewed, closing.confirmed, closing.agreement, closing.flagged) == (
        "closing", 3, 2, 0.6667, True)
    assert (closing.fail_reviewed, closing.fail_precision, closing.pass_reviewed, closing.pass_precision) == (
        2, 0.5, 1, 1.0)
    assert (greeting.item_id, greeting.reviewed, greeting.agreement, greeting.flagged) == ("greeting", 2, 1.0, False)
    assert (greeting.uncertain_reviewed, greeting.uncertain_to_pass, greeting.uncertain_to_fail) == (1, 1.0, 0.0)
    # the figures of `callqa rules eval`, with the reviewer's verdict as the label
    assert (closing.false_deductions, closing.uncertain_share, greeting.false_deductions, greeting.uncertain_share) \
        == (1, 0.0, 0, 0.5)
    assert not closing.below_gate  # 2 reviewed fails: fewer than min_reviews (3)
    gated = {h.item_id: h for h in views.rule_health(store, QA, min_reviews=2, min_fail_precision=0.95)}
    assert (gated["closing"].below_gate, gated["greeting"].below_gate) == (True, False)  # 1 of 2 fails upheld
    assert not views.rule_health(store, QA, min_reviews=2, min_fail_precision=0.5)[0].below_gate
    assert not views.rule_health(store, QA, min_reviews=4)[0].flagged  # too few reviews to judge
    t2 = {h.item_id: (h.reviewed, h.agreement) for h in views.rule_health(store, SUP_T2)}
    assert t2 == {"closing": (1, 1.0), "greeting": (0, None)}
    with pytest.raises(Forbidden):
        views.rule_health(store, AGENT_A1)
    with pytest.raises(Invalid, match="min_agreement"):
        views.rule_health(store, QA, min_agreement=1.5)
    with pytest.raises(Invalid, match=r"min_fail_precision: -0\.1 is not between 0 and 1"):
        views.rule_health(store, QA, min_fail_precision=-0.1)


def test_run_history(store: Store) -> None:
    with store.writing() as con:
        con.execute("UPDATE runs SET status = 'finished', done = 7, failed = 2, audio_seconds = 7200, "
                    "wall_seconds = 360 WHERE run_id = 'r1'")
        con.execute("INSERT INTO run_failures VALUES ('r1', '/calls/c6.wav', ?, 'roles', 'one speaker only', ?)",
                    [cid("c6"), NOW])
        con.execute("INSERT INTO run_failures VALUES ('r1', '/calls/bad.wav', NULL, 'decode', 'not audio', ?)", [NOW])
    (run,) = views.run_history(store, ADMIN)
    assert (run.run_id, run.status, run.done, run.failed, run.audio_hours, run.rtf) == ("r1", "finished", 7, 2,
                                                                                        2.0, 0.05)
    assert [(f.path, f.stage, f.reason) for f in run.failures] == [("/calls/bad.wav", "decode", "not audio"),
                                                                   ("/calls/c6.wav", "roles", "one speaker only")]
    assert len(run.checklists) == 1 and run.checklists[0].startswith("mini_en v1 (")
    assert [f.path for f in views.run_history(store, SUP_T2)[0].failures] == ["/calls/c6.wav"]
    assert views.run_history(store, SUP_T1)[0].failures == ()
    with pytest.raises(Forbidden):
        views.run_history(store, AGENT_A1)


def test_a_call_without_a_start_time_takes_the_day_of_its_run(store: Store) -> None:
    with store.writing() as con:
        before = summaries.keys_of(con, [cid("c1")])
        con.execute("UPDATE calls SET started_at = NULL WHERE call_id = ?", [cid("c1")])
        con.execute("UPDATE runs SET started_at = TIMESTAMP '2025-02-26 01:00:00' WHERE run_id = 'r1'")
        summaries.refresh(con, [cid("c1")], before)  # as every write of the store does
    page = views.review_queue(store, ADMIN)
    c1 = next(r for r in page.rows if r.file_name == "c1.wav")
    assert (c1.day, c1.started_at) == (dt.date(2025, 2, 26), None)
    assert page.rows[0].file_name == "c1.wav"  # now the newest call
    assert [r.file_name for r in views.review_queue(store, ADMIN, since=dt.date(2025, 2, 26)).rows] == ["c1.wav"]
    assert views.agent_home(store, AGENT_A1, "A1").until == dt.date(2025, 2, 26)
