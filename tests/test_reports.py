"""The agent report: totals per day and week beside the team's, pass rate per item, trend, review share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from callqa.errors import StoreError
from scorecards.reports import agent_report, report_to_dict, week_of
from tests._scores import build_store


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
