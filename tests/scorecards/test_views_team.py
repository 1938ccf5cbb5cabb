"""The team heat-map one checklist at a time (scorecards.people.views.team_heatmap) on the store of tests/_heatmap.py.

Every figure below follows from ``PASSES`` there: call j of a week (A1, A2, B1, no agent) passes item k when
j < PASSES[k][week], so an agent's cell counts the weeks where the item had more passes than the agent's j.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from core.errors import Invalid
from scorecards.people import views
from scorecards.people.access import UserRole, Viewer
from scorecards.people.views_types import TREND_ITEMS, ChecklistChoice
from scorecards.store.database import Store
from tests._heatmap import EN_ITEMS, UNTIL, build

ADMIN = Viewer("root", UserRole.ADMIN)
SUP_T2 = Viewer("sup2", UserRole.SUPERVISOR, teams=("T2",))
SUP_T3 = Viewer("sup3", UserRole.SUPERVISOR, teams=("T3",))
WEEKS = ("2026-W45", "2026-W46", "2026-W47", "2026-W48")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("heatmap") / "callqa.duckdb").path


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Store:
    shutil.copy(built, tmp_path / "callqa.duckdb")
    return Store(tmp_path / "callqa.duckdb")


def cells(heat: views.Heatmap) -> dict[str, list[tuple[int, int]]]:
    return {r.agent_id: [(c.passed, c.counted) for c in r.cells] for r in heat.agents}


def test_one_checklist_only_its_items_and_cells(store: Store) -> None:
    heat = views.team_heatmap(store, ADMIN, until=UNTIL)
    assert heat.checklist == "svc_en" and heat.checklist_title == "Service call"  # the newest version's title
    assert [i.item_id for i in heat.items] == [item_id for item_id, _ in EN_ITEMS]
    assert {i.checklist_id for i in heat.items} == {"svc_en"}
    assert (heat.since, heat.until, heat.weeks, heat.calls) == (dt.date(2026, 11, 2), UNTIL, WEEKS, 16)
    assert cells(heat) == {
        "A1": [(4, 4), (3, 4), (3, 4), (4, 4), (3, 4), (4, 4), (4, 4), (4, 4)],
        "A2": [(4, 4), (3, 4), (2, 4), (4, 4), (3, 4), (3, 4), (1, 4), (3, 4)],
        "B1": [(4, 4), (2, 4), (1, 4), (1, 4), (3, 4), (3, 4), (0, 4), (0, 4)],
    }
    assert [(r.agent_id, r.overall.rate) for r in heat.agents] == [("A1", 0.9062), ("A2", 0.7188), ("B1", 0.4375)]
    # the call without an agent counts in the trends: 4 calls a week
    assert heat.overall == (0.625, 0.5, 0.625, 0.5625)
    assert heat.trends[1].rates == (1.0, 0.75, 0.5, 0.0)


def test_selecting_a_checklist_by_id(store: Store) -> None:
    heat = views.team_heatmap(store, ADMIN, checklist="svc_zh", until=UNTIL)
    assert (heat.checklist, heat.checklist_title, heat.calls) == ("svc_zh", "客服通话质检", 7)
    assert [i.key for i in heat.items] == ["svc_zh/zh_greeting", "svc_zh/zh_closing"]
    assert cells(heat) == {"A1": [(1, 1), (1, 1)], "B1": [(6, 6), (0, 6)]}
    assert heat.checklists == (ChecklistChoice("svc_en", "Service call", 16, dt.date(2026, 11, 26)),
                               ChecklistChoice("svc_zh", "客服通话质检", 7, dt.date(2026, 11, 24)))
    # an item sort names its checklist
    by_item = views.team_heatmap(store, ADMIN, sort="item:svc_zh/zh_closing", until=UNTIL)
    assert by_item.checklist == "svc_zh" and [r.agent_id for r in by_item.agents] == ["B1", "A1"]
    with pytest.raises(Invalid, match="no item 'svc_en/greet_first'"):
        views.team_heatmap(store, ADMIN, checklist="svc_zh", sort="item:svc_en/greet_first", until=UNTIL)


def test_an_unknown_checklist_is_invalid_and_names_the_known_ones(store: Store) -> None:
    with pytest.raises(Invalid) as err:
        views.team_heatmap(store, ADMIN, checklist="svc_fr", until=UNTIL)
    assert str(err.value) == "checklist: 'svc_fr' is not a checklist of this store (checklists: svc_en, svc_zh)"


def test_the_default_checklist_has_the_most_calls_the_viewer_sees_in_the_window(store: Store) -> None:
    assert views.team_heatmap(store, ADMIN, until=UNTIL).checklist == "svc_en"  # 16 calls against 7
    t2 = views.team_heatmap(store, SUP_T2, until=UNTIL)  # B1: 4 svc_en calls, 6 svc_zh
    assert (t2.checklist, [c.calls for c in t2.checklists]) == ("svc_zh", [4, 6])
    assert views.team_heatmap(store, ADMIN, team="T2", until=UNTIL).checklist == "svc_zh"
    # in W47 alone: 4 svc_en calls, 6 svc_zh (all of B1), so svc_zh
    w47 = views.team_heatmap(store, ADMIN, days=7, until=dt.date(2026, 11, 22))
    assert (w47.checklist, [c.calls for c in w47.checklists]) == ("svc_zh", [4, 6])


def test_the_trend_draws_the_items_that_moved_most(store: Store) -> None:
    heat = views.team_heatmap(store, ADMIN, until=UNTIL)
    assert TREND_ITEMS == 5
    # accurate_info dipped to 0 % and came back: from first to last week it did not move; closing (−25) is sixth
    assert [(t.item_id, t.first, t.last, t.change) for t in heat.movers] == [
        ("verify_identity", 1.0, 0.0, -1.0), ("find_need", 0.0, 0.75, 0.75), ("empathy", 0.75, 0.25, -0.5),
        ("hold_etiquette", 0.5, 0.75, 0.25), ("next_steps", 0.25, 0.5, 0.25)]
    one_week = views.team_heatmap(store, ADMIN, days=7, until=UNTIL)  # a single week: nothing moved
    assert (one_week.weeks, one_week.movers) == (("2026-W48",), ())


def test_an_empty_window_names_the_last_call_by_its_own_day(store: Store) -> None:
    """T3's calls: one without a start time (its run's day, 10-05), one recorded 09-20 but first seen by a run of
    12-01 (its recording day): the latest is 10-05, whichever way the window is set."""
    heat = views.team_heatmap(store, SUP_T3, until=UNTIL)
    assert (heat.calls, heat.checklist, heat.last_day, heat.agents, heat.items) == (0, None, dt.date(2026, 10, 5),
                                                                                   (), ())
    assert heat.checklists == (ChecklistChoice("svc_en", "Service call", 0, dt.date(2026, 10, 5)),)
    asked = views.team_heatmap(store, SUP_T3, checklist="svc_en", sort="item:svc_en/closing", until=UNTIL)
    assert (asked.calls, asked.checklist, asked.last_day) == (0, "svc_en", dt.date(2026, 10, 5))
    moved = views.team_heatmap(store, SUP_T3, until=dt.date(2026, 10, 5))  # what the page's link asks for
    assert (moved.calls, [r.agent_id for r in moved.agents]) == (2, ["C1"])
    assert views.team_heatmap(store, SUP_T3, until=dt.date(2026, 9, 20), days=1).calls == 1
    # a checklist the viewer never saw a call of: no last call
    none = views.team_heatmap(store, SUP_T3, checklist="svc_zh", until=UNTIL)
    assert (none.calls, none.last_day, [c.checklist_id for c in none.checklists]) == (0, None, ["svc_en", "svc_zh"])


def test_the_default_window_ends_today(store: Store) -> None:
    heat = views.team_heatmap(store, ADMIN)
    today = dt.datetime.now(dt.UTC).date()
    assert (heat.until, heat.since, heat.days) == (today, today - dt.timedelta(days=27), 28)
