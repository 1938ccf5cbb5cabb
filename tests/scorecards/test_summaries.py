"""The per-agent-per-day summaries stay equal to the base tables through every write; the read scope."""

from __future__ import annotations

import contextvars
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from core.types import AudioInfo, CallMetadata, SourceFile
from flows.rescore import checklist_chooser, rescore_store, write
from rules.loader import load_checklist
from scorecards.people import review
from scorecards.people.access import UserRole, Viewer
from scorecards.store import summaries
from scorecards.store.database import MetricsRecord, Store
from tests._locks import writable_from_another_process
from tests._scores import CALLS, build_store, transcript_of, write_v2

QA = Viewer("qa1", UserRole.QA)


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store.reading() as con:
        return {name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in summaries.TABLES}


def assert_exact(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """The maintained summaries equal a rebuild from the base tables, and check-db finds nothing."""
    kept = snapshot(store)
    assert store.integrity_problems() == []
    store.rebuild_summaries()
    assert snapshot(store) == kept
    return kept


def items_of(rows: list[tuple[Any, ...]], agent: str) -> dict[str, tuple[int, int, int]]:
    """item → (verdicts, passed, failed) summed over the agent's days."""
    out: dict[str, tuple[int, int, int]] = {}
    for agent_id, _, _, _, item_id, _, _, n, passed, failed in rows:
        if agent_id == agent:
            v = out.get(item_id, (0, 0, 0))
            out[item_id] = (v[0] + n, v[1] + passed, v[2] + failed)
    return out


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return build_store(tmp_path)[0]


def test_save_call_keeps_the_summaries_exact(store: Store) -> None:
    kept = assert_exact(store)
    with store.reading() as con:
        cards = con.execute("SELECT count(*) FROM scorecards WHERE is_current").fetchone()[0]
        verdicts = con.execute("SELECT count(*) FROM verdicts v JOIN scorecards s USING (scorecard_id) "
                               "WHERE s.is_current").fetchone()[0]
    english = [c for c in CALLS if c.language == "en"]
    assert sum(r[4] for r in kept["agent_day_cards"]) == cards == len(english)
    assert sum(r[3] for r in kept["agent_day_cards"]) == len(english)  # one checklist: a card per call
    assert sum(r[7] for r in kept["agent_day_items"]) == verdicts
    # Every English call's agent-day has a row; the Mandarin call (unscored) has none.
    days = {(r[0], r[2]) for r in kept["agent_day_cards"]}
    assert days == {(c.agent, c.started.date()) for c in english}


def test_a_review_moves_one_verdict_between_pass_and_fail(store: Store) -> None:
    with store.reading() as con:
        sid, idx, item_id, auto = con.execute(
            "SELECT s.scorecard_id, v.idx, v.item_id, v.verdict FROM verdicts v JOIN scorecards s USING "
            "(scorecard_id) JOIN calls c ON c.call_id = s.call_id WHERE c.agent_id = 'A1' AND s.is_current "
            "AND v.verdict IN ('pass', 'fail') ORDER BY s.scorecard_id, v.idx LIMIT 1").fetchone()
    before = items_of(snapshot(store)["agent_day_items"], "A1")[item_id]
    flipped = "fail" if auto == "pass" else "pass"
    review.review_verdict(store, QA, sid, idx, decision="overturn", verdict=flipped, comment="heard it")
    after = items_of(assert_exact(store)["agent_day_items"], "A1")[item_id]
    step = 1 if flipped == "pass" else -1
    assert after == (before[0], before[1] + step, before[2] - step)


def test_agent_cards_follow_reviews_and_acknowledgements(store: Store) -> None:
    """The agent home's per-scorecard rows: failed counts after a review, the acknowledged flag after the agent's
    acknowledgement, both equal to a rebuild."""
    with store.reading() as con:
        sid, idx, agent = con.execute(
            "SELECT s.scorecard_id, v.idx, c.agent_id FROM verdicts v JOIN scorecards s USING (scorecard_id) "
            "JOIN calls c ON c.call_id = s.call_id WHERE s.is_current AND v.verdict = 'pass' AND c.agent_id "
            "IS NOT NULL ORDER BY s.scorecard_id, v.idx LIMIT 1").fetchone()

    def card() -> tuple[int, bool]:
        row = next(r for r in snapshot(store)["agent_cards"] if r[5] == sid)
        return row[11], row[12]

    failed, acknowledged = card()
    assert not acknowledged
    review.review_verdict(store, QA, sid, idx, decision="overturn", verdict="fail", comment="missed it")
    assert card() == (failed + 1, False)
    review.acknowledge(store, Viewer("ag", UserRole.AGENT, agent_id=agent), sid)
    assert card() == (failed + 1, True)
    kept = assert_exact(store)
    assert len(kept["agent_cards"]) == sum(r[4] for r in kept["agent_day_cards"])  # one row per current card


def test_rescoring_replaces_the_counts_of_the_superseded_cards(store: Store, tmp_path: Path) -> None:
    v2 = load_checklist(write_v2(tmp_path))
    results, _ = rescore_store(store, checklist_chooser(v2), v2.languages)
    assert write(store, results, "rescore:test", "test") == 6
    kept = assert_exact(store)
    assert sum(r[4] for r in kept["agent_day_cards"]) == 6  # the superseded v1 cards count no more
    with store.reading() as con:
        items = {r[0] for r in con.execute("SELECT DISTINCT v.item_id FROM verdicts v JOIN scorecards s "
                                           "USING (scorecard_id) WHERE s.is_current").fetchall()}
    assert {r[4] for r in kept["agent_day_items"]} == items


def test_a_changed_agent_moves_the_call_to_the_new_agent(store: Store) -> None:
    call = next(c for c in CALLS if c.agent == "A1" and c.language == "en")
    before = snapshot(store)
    a1_cards = sum(r[4] for r in before["agent_day_cards"] if r[0] == "A1")
    transcript = transcript_of(call)
    meta = CallMetadata(agent_id="Z9", team="T9", started_at=call.started, language=call.language)
    store.save_call("r1", SourceFile(f"/calls/{call.name}.wav", call.call_id, 100, 0.0), meta,
                    AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, "o")
    kept = assert_exact(store)
    assert sum(r[4] for r in kept["agent_day_cards"] if r[0] == "A1") == a1_cards - 1
    assert [(r[0], r[1], r[2], r[4]) for r in kept["agent_day_cards"] if r[0] == "Z9"] == [
        ("Z9", "T9", call.started.date(), 1)]


def test_check_db_catches_a_corrupted_summary_and_rebuild_repairs_it(store: Store) -> None:
    with store.writing() as con:
        con.execute("UPDATE agent_day_items SET failed = failed + 1 WHERE item_id = (SELECT min(item_id) "
                    "FROM agent_day_items)")
    problems = store.integrity_problems()
    assert len(problems) == 1 and "agent_day_items disagrees" in problems[0], problems
    check = [sys.executable, "-m", "callqa.cli", "check-db", "--db", str(store.path)]
    found = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert found.returncode == 1 and "--rebuild-summaries" in found.stderr
    repaired = subprocess.run([*check, "--rebuild-summaries"], capture_output=True, text=True, timeout=120)
    assert repaired.returncode == 0 and "summaries rebuilt" in repaired.stdout and "consistent" in repaired.stdout
    assert store.integrity_problems() == []


def test_nested_reads_share_one_connection_and_a_write_in_between_reopens(store: Store) -> None:
    with store.reading() as outer:
        with store.reading() as inner:
            assert inner is outer
        with store.writing() as con:  # closes the scope's read connection first, else it would wait for it
            con.execute("UPDATE calls SET queue = 'q2' WHERE agent_id = 'A1'")
        with store.reading() as again:
            assert again is not outer
            assert again.execute("SELECT DISTINCT queue FROM calls WHERE agent_id = 'A1'").fetchall() == [("q2",)]
    with store.reading() as fresh:
        assert fresh is not again


def test_a_read_scope_spans_threads_and_a_writer_elsewhere_waits_for_it(store: Store) -> None:
    seen: list[object] = []
    order: list[str] = []
    wrote = threading.Event()

    def read() -> None:
        with store.reading() as con:
            seen.append(con)

    def write_now() -> None:
        with store.writing() as con:
            con.execute("UPDATE calls SET queue = 'q3'")
        order.append("wrote")
        wrote.set()

    with Store.read_scope():
        read()
        # Work handed to another thread with a copy of the context (as FastAPI does) uses the same connection.
        ctx = contextvars.copy_context()
        worker = threading.Thread(target=ctx.run, args=(read,))
        worker.start()
        worker.join()
        writer = threading.Thread(target=write_now)  # a fresh context: not this scope's
        writer.start()
        assert not wrote.wait(0.3)  # the scope's read connection is still open
        order.append("scope ends")
    writer.join(10)
    assert len(seen) == 2 and seen[0] is seen[1]
    assert order == ["scope ends", "wrote"]


def test_the_file_lock_is_held_only_while_a_read_is_open(store: Store) -> None:
    """Reads attach the file to an in-memory database kept by the process: the last one out must detach it."""
    with store.reading() as con:
        assert con.execute("SELECT count(*) FROM calls").fetchone() == (len(CALLS),)
        assert not writable_from_another_process(store.path)
    assert writable_from_another_process(store.path)
    with store.reading() as again:  # attached again, and still reads the file
        assert again.execute("SELECT count(*) FROM calls").fetchone() == (len(CALLS),)


def test_a_store_at_007_with_data_migrates_to_008_as_a_fresh_store_is(tmp_path: Path) -> None:
    """A database migrated 005 → 006 → 007 with data (the old emotion columns) and then opened by this version
    (008 replaces agent_day_emotion) equals a fresh store with the same data: schema, indexes and every summary
    row; check-db finds nothing."""
    import duckdb

    from scorecards.store.migrations import MIGRATIONS

    (tmp_path / "fresh").mkdir()
    fresh = build_store(tmp_path / "fresh")[0]
    emotion = {"angry_customer": 1.0, "customer_anger_start": 0.5, "customer_calmer_by_end": 1.0,
               "agent_negative_tone_max": 0.8, "utterances_customer": 2.0}
    current = fresh.current_transcript_ids()
    with fresh.writing() as con:
        for i, (_, tid) in enumerate(current):  # every other call angry, every third without customer speech
            for name, value in emotion.items():
                value = 0.0 if (name == "angry_customer" and i % 2) or (name == "utterances_customer" and i % 3 == 0) \
                    else value
                con.execute("INSERT INTO call_metrics VALUES (?, ?, ?, 'test')", [tid, name, value])
        summaries.refresh(con, [call for call, _ in current])
    kept = assert_exact(fresh)
    assert sum(r[3] for r in kept["agent_day_emotion"]) == len(current) - 1  # the unscored Mandarin call: none

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMP)")
    steps = dict(MIGRATIONS)
    for name in ("001_core", "002_scorecards", "003_utterance_emotion", "004_review", "005_read_indexes"):
        steps[name](con)
        con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])
    con.execute(f"ATTACH '{fresh.path}' AS f (READ_ONLY)")
    here = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog <> 'f'").fetchall()}
    base = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'f' "
                                      "ORDER BY 1").fetchall()
            if r[0] not in {*summaries.TABLES, "schema_migrations"} and r[0] in here]  # 009's are empty here
    for table in base:
        con.execute(f"INSERT INTO {table} SELECT * FROM f.{table}")
    con.execute("DETACH f")
    for name in ("006_summaries", "007_agent_cards"):  # as a database updated before 008 has them
        steps[name](con)
        con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])
    old_columns = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                             "table_name = 'agent_day_emotion' ORDER BY ordinal_position").fetchall()]
    assert old_columns == ["agent_id", "team", "day", "calls", "angry", "calmer"]
    assert con.execute("SELECT sum(calls) FROM agent_day_emotion").fetchone() == (len(current) - 1,)
    con.close()

    old = Store(path)
    assert old.integrity_problems() == []  # the first read migrated it to 008
    assert snapshot(old) == kept

    def schema(store: Store) -> tuple[list[tuple[Any, ...]], ...]:
        with store.reading() as c:
            return (c.execute("SELECT table_name, column_name, data_type, ordinal_position FROM "
                              "information_schema.columns WHERE table_catalog = current_database() ORDER BY ALL")
                    .fetchall(),
                    c.execute("SELECT table_name, index_name, expressions FROM duckdb_indexes() WHERE database_name = "
                              "current_database() ORDER BY ALL").fetchall(),
                    c.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall())

    columns, indexes, applied = schema(fresh)
    assert ("agent_day_emotion", "negative_tone", "BIGINT", 9) in columns
    assert ("agent_day_emotion", "agent_day_emotion_day", "['\"day\"']") in indexes and len(applied) == len(MIGRATIONS)
    assert schema(old) == (columns, indexes, applied)


def test_emotion_counts_follow_the_calls_current_transcript(store: Store) -> None:
    """The emotion counts (scorecards.store.definitions) of c1's agent-day after its metrics are saved, and after a new
    transcript (new options) replaced them, each time equal to a rebuild."""
    c1 = next(c for c in CALLS if c.name == "c1")
    meta = CallMetadata(agent_id=c1.agent, team=c1.team, started_at=c1.started, language=c1.language)
    transcript = transcript_of(c1)

    def save(options: str, **values: float) -> tuple[Any, ...]:
        store.save_call("r1", SourceFile(f"/calls/{c1.name}.wav", c1.call_id, 100, 0.0), meta,
                        AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, options,
                        metrics=MetricsRecord(values, "test"))
        (row,) = [r[3:] for r in assert_exact(store)["agent_day_emotion"] if r[:3] == ("A1", "T1", c1.started.date())]
        return row

    assert snapshot(store)["agent_day_emotion"] == []  # no call has an emotion summary yet
    # calls, customer_calls, angry, upset_at_start, calmer, negative_tone: every flag, on the thresholds.
    assert save("o", angry_customer=1.0, customer_anger_start=0.4, customer_calmer_by_end=1.0,
                agent_negative_tone_max=0.7, utterances_customer=3.0) == (1, 1, 1, 1, 1, 1)
    assert save("o", angry_customer=1.0, customer_anger_start=0.39, customer_calmer_by_end=1.0,
                agent_negative_tone_max=0.69, utterances_customer=3.0) == (1, 1, 1, 0, 0, 0)
    # A new transcript without customer speech: the call counts with it (only in the tone's denominator).
    assert save("o2", angry_customer=0.0, customer_anger_start=0.0, customer_calmer_by_end=0.0,
                agent_negative_tone_max=0.9, utterances_customer=0.0) == (1, 0, 0, 0, 0, 1)


def test_check_db_allows_sums_added_in_another_order_not_a_changed_total(store: Store) -> None:
    """A sum of many doubles differs in its last digits with the order of the additions (the base tables are
    summed in another order than the summary rows): not a disagreement; a total off by 0.01 is."""
    with store.writing() as con:
        con.execute("UPDATE agent_day_cards SET total_sum = total_sum * (1 + 1e-12) WHERE total_sum > 0")
    assert store.integrity_problems() == []
    with store.writing() as con:
        con.execute("UPDATE agent_day_cards SET total_sum = total_sum + 0.01 WHERE total_sum = (SELECT max(total_sum) "
                    "FROM agent_day_cards)")
    problems = store.integrity_problems()
    assert len(problems) == 1 and "agent_day_cards disagrees" in problems[0], problems
