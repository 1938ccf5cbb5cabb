"""Exports of scorecards and verdicts (CSV, Parquet) on the small store of tests/_scores.py."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from core.errors import Invalid
from scorecards.people import exports
from scorecards.people.access import UserRole, Viewer
from scorecards.store.database import Store
from tests.scorecards import test_views
from tests.scorecards.test_views import ADMIN, AGENT_A1, SUP_T2, acknowledge, cid, review, sid

# The views tests' store: built once per module, copied for each test.
built = test_views.built
store = test_views.store

FEB = {"since": dt.date(2025, 2, 1), "until": dt.date(2025, 2, 28)}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_scorecards_csv_has_the_documented_columns_and_the_viewers_rows(store: Store, tmp_path: Path) -> None:
    dest = tmp_path / "cards.csv"
    assert exports.export_scorecards(store, ADMIN, fmt="csv", dest=dest, **FEB) == 6  # z1 has no scorecard
    with dest.open(encoding="utf-8-sig") as f:
        assert f.readline().strip().split(",") == [name for name, _ in exports.SCORECARD_COLUMNS] + [
            "band_label", "reviewed_band_label"]
    rows = read_csv(dest)
    assert [(r["file_name"], r["day"], r["agent_id"], r["total"]) for r in rows] == [
        ("c1.wav", "2025-02-17", "A1", "100.0"), ("c2.wav", "2025-02-18", "A1", "50.0"),
        ("c5.wav", "2025-02-18", "A2", "100.0"), ("c6.wav", "2025-02-25", "B1", "0.0"),
        ("c3.wav", "2025-02-25", "A1", "50.0"), ("c4.wav", "2025-02-25", "A2", "100.0")]
    assert {r["reviewed_items"] for r in rows} == {"0"} and {r["reviewed_total"] for r in rows} == {""}
    mine = tmp_path / "mine.csv"
    assert exports.export_scorecards(store, AGENT_A1, fmt="csv", dest=mine, **FEB) == 3
    assert {r["agent_id"] for r in read_csv(mine)} == {"A1"}
    week = tmp_path / "week.csv"
    assert exports.export_scorecards(store, SUP_T2, fmt="csv", dest=week, since=dt.date(2025, 2, 17),
                                     until=dt.date(2025, 2, 24)) == 0
    assert read_csv(week) == []


def test_verdicts_carry_the_review_beside_the_automatic_verdict(store: Store, tmp_path: Path) -> None:
    review(store, "c2", 1, "pass", total=100.0, comment="said 'anything further'")
    acknowledge(store, "c2")
    dest = tmp_path / "verdicts.csv"
    assert exports.export_verdicts(store, AGENT_A1, fmt="csv", dest=dest, **FEB) == 6
    rows = read_csv(dest)
    assert list(rows[0]) == [name for name, _ in exports.VERDICT_COLUMNS] + [
        "verdict_label", "reviewed_verdict_label", "review_decision_label", "final_verdict_label"]
    c2 = [r for r in rows if r["call_id"] == cid("c2")]
    assert [(r["item_id"], r["verdict"], r["reviewed_verdict"], r["review_decision"], r["final_verdict"])
            for r in c2] == [("greeting", "pass", "", "", "pass"), ("closing", "fail", "pass", "overturn", "pass")]
    assert c2[1]["review_comment"] == "said 'anything further'" and c2[1]["reviewer"] == "qa1"
    cards = tmp_path / "cards.csv"
    exports.export_scorecards(store, AGENT_A1, fmt="csv", dest=cards, **FEB)
    row = next(r for r in read_csv(cards) if r["scorecard_id"] == sid(store, "c2"))
    assert (row["total"], row["reviewed_total"], row["reviewed_items"]) == ("50.0", "100.0", "1")
    assert row["acknowledged_at"] == "2025-03-01 12:00:00"


def test_parquet_holds_the_same_rows_as_csv(store: Store, tmp_path: Path) -> None:
    viewer = Viewer("sup", UserRole.SUPERVISOR, teams=("T1",))
    assert exports.export_verdicts(store, viewer, fmt="parquet", dest=tmp_path / "v.parquet", **FEB) == 10
    assert exports.export_verdicts(store, viewer, fmt="csv", dest=tmp_path / "v.csv", **FEB) == 10
    con = duckdb.connect()
    from_parquet = con.execute(f"SELECT call_id, item_id, final_verdict, points FROM '{tmp_path / 'v.parquet'}'"
                               ).fetchall()
    from_csv = [(r["call_id"], r["item_id"], r["final_verdict"], float(r["points"]))
                for r in read_csv(tmp_path / "v.csv")]
    assert from_parquet == from_csv
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{tmp_path / 'v.parquet'}'").fetchall()]
    assert names == [name for name, _ in exports.VERDICT_COLUMNS]


def test_a_quote_in_the_path_is_written_not_executed(store: Store, tmp_path: Path) -> None:
    dest = tmp_path / "it's (FORMAT json); x.csv"
    assert exports.export_scorecards(store, ADMIN, fmt="csv", dest=dest, **FEB) == 6
    assert len(read_csv(dest)) == 6


def test_bad_requests_name_the_field(store: Store, tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="fmt"):
        exports.export_verdicts(store, ADMIN, fmt="xlsx", dest=tmp_path / "v.xlsx", **FEB)  # type: ignore[arg-type]
    with pytest.raises(Invalid, match="since"):
        exports.export_verdicts(store, ADMIN, fmt="csv", dest=tmp_path / "v.csv", since=dt.date(2025, 3, 1),
                                until=dt.date(2025, 2, 1))
    with pytest.raises(Invalid, match="does not exist"):
        exports.export_verdicts(store, ADMIN, fmt="csv", dest=tmp_path / "missing" / "v.csv", **FEB)
    with pytest.raises(Invalid, match="folder"):
        exports.export_verdicts(store, ADMIN, fmt="csv", dest=tmp_path, **FEB)
    with pytest.raises(Invalid, match="plain file path"):
        exports.export_verdicts(store, ADMIN, fmt="csv", dest=tmp_path / "v\n.csv", **FEB)


def test_a_csv_starts_with_the_byte_order_mark_and_labels_every_code(store: Store, tmp_path: Path) -> None:
    review(store, "c2", 1, "pass", total=100.0, comment="说了“还有什么可以帮您”")
    labels = exports.Labels(bands={"良好": "Good", "不合格": "Fail"}, verdicts={"pass": "通过", "fail": "未通过"},
                            decisions={"overturn": "已改判"})
    dest = tmp_path / "v.csv"
    exports.export_verdicts(store, ADMIN, fmt="csv", dest=dest, labels=labels, **FEB)
    raw = dest.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcall_id,") and raw.count(b"\xef\xbb\xbf") == 1
    c2 = [r for r in read_csv(dest) if r["call_id"] == cid("c2")]
    assert [(r["verdict_label"], r["reviewed_verdict_label"], r["review_decision_label"], r["final_verdict_label"])
            for r in c2] == [("通过", "", "", "通过"), ("未通过", "通过", "已改判", "通过")]
    assert c2[1]["review_comment"] == "说了“还有什么可以帮您”"
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("*.bom"))  # no side file left

    plain = tmp_path / "s.csv"
    exports.export_scorecards(store, ADMIN, fmt="csv", dest=plain, labels=labels, bom=False, **FEB)
    assert plain.read_bytes().startswith(b"call_id,")
    rows = read_csv(plain)
    assert {(r["band"], r["band_label"]) for r in rows} <= {("良好", "Good"), ("不合格", "Fail"), ("优秀", "优秀"),
                                                          ("合格", "合格")}  # unlabelled names stay as written

    pq = tmp_path / "s.parquet"
    exports.export_scorecards(store, ADMIN, fmt="parquet", dest=pq, labels=labels, **FEB)
    columns = [d[0] for d in duckdb.sql(f"SELECT * FROM '{pq}'").description]
    assert columns == [name for name, _ in exports.SCORECARD_COLUMNS]  # Parquet: the codes only, as before
