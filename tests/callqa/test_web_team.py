"""The team page (GET /team) on the store of tests/_heatmap.py: one checklist at a time, readable item headers,
a trend with distinct colours, the empty window's message and link, a page that fits a phone.

The figures come from scorecards.people.views.team_heatmap (tests/scorecards/test_views_team.py); these tests
check what the page makes of them.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callqa.web.app import create_app
from callqa.web.context import STATIC_DIR
from callqa.web.messages_team import MESSAGES
from tests._heatmap import EN_ITEMS, PASSWORD, UNTIL, ZH_ITEMS, build
from tests.e2e._client import login

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("team") / "callqa.duckdb").path


def signed_in(db: Path, name: str) -> TestClient:
    return login(TestClient(create_app(db, secret="team-page")), name, PASSWORD)


def visible(page: str) -> str:
    """The text a reader sees: no tags (so no attributes), no script or style."""
    body = page.split("<main>", 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_one_checklist_with_horizontal_headers_and_id_tooltips(db: Path) -> None:
    page = signed_in(db, "admin").get("/team", params={"until": UNTIL.isoformat()}).text
    ids = [item_id for item_id, _ in EN_ITEMS]
    assert re.findall(r'<th class="item" title="([^"]+)"', page) == ids  # the id is a tooltip…
    assert re.findall(r'<span class="item-title">([^<]+)</span>', page) == ["All items"] + [t for _, t in EN_ITEMS]
    text = visible(page)
    assert [i for i in [*ids, "svc_en", "svc_zh"] if re.search(rf"\b{i}\b", text)] == []  # …never visible text
    assert "writing-mode" not in page and "vertical" not in page
    assert not [z for _, z in ZH_ITEMS if z in page]  # the other checklist's items are not shown
    assert re.findall(r'<option value="(svc_\w+)"\s*(selected)?>([^<]+)</option>', page) == [
        ("svc_en", "selected", "Service call (16 calls)"), ("svc_zh", "", "客服通话质检 (7 calls)")]
    assert re.search(r'<div class="scroll[^"]*">\s*<table class="heatmap', page)  # scrolls inside its box
    assert [a for a in re.findall(r'data-agent="(\w+)"', page)] == ["A1", "A2", "B1"]
    supervisor = signed_in(db, "sup1").get("/team", params={"until": UNTIL.isoformat()}).text
    assert re.findall(r'<th class="item"( title="[^"]*")?', supervisor) == [""] * (len(ids) + 1)  # ids: authors only


def test_selecting_the_chinese_checklist(db: Path) -> None:
    client = signed_in(db, "admin")
    page = client.get("/team", params={"checklist": "svc_zh", "until": UNTIL.isoformat()}, headers=ZH).text
    assert re.findall(r'<th class="item" title="([^"]+)"', page) == ["zh_greeting", "zh_closing"]
    assert "开场问候" in page and not [t for _, t in EN_ITEMS if t in page]
    assert re.search(r'<option value="svc_zh"\s*selected>客服通话质检（7 通）</option>', page)
    assert "2026-11-02 至 2026-11-29 的通话" in page


def test_an_unknown_checklist_is_a_422_naming_the_field(db: Path) -> None:
    client = signed_in(db, "sup1")
    bad = client.get("/team", params={"checklist": "svc_fr"})
    assert bad.status_code == 422 and 'data-error-status="422"' in bad.text
    assert "checklist: &#39;svc_fr&#39; is not a checklist of this store (checklists: svc_en, svc_zh)" in bad.text
    until = client.get("/team", params={"until": "29/11/2026"})
    assert until.status_code == 422 and "until: &#39;29/11/2026&#39; is not a date (YYYY-MM-DD)" in until.text


def test_the_trend_draws_the_movers_in_distinct_colours_with_a_legend(db: Path) -> None:
    page = signed_in(db, "admin").get("/team", params={"until": UNTIL.isoformat()}).text
    trend = page.split('<div class="team-trend">', 1)[1]
    lines = re.findall(r'<polyline points="[^"]+" fill="none" stroke="(#\w+)" stroke-width="([\d.]+)" '
                       r'data-series="([^"]+)"', trend)
    assert [name for _, _, name in lines] == [
        "All items", "Checks who is calling before talking about the account: 100% → 0%",
        "Asks what the customer needs: 0% → 75%", "Acknowledges how the customer feels: 75% → 25%",
        "Asks before putting the customer on hold: 50% → 75%", "Explains what happens next: 25% → 50%"]
    colours = [colour for colour, _, _ in lines]
    assert len(set(colours)) == len(colours) == 6 and lines[0][:2] == ("#1f2328", "3.5")
    legend = re.findall(r'<li data-series="([^"]+)">.*?fill="(#\w+)"', trend)
    assert [(name, colour) for name, colour in legend] == [(name, colour) for colour, _, name in lines]
    assert re.search(r'<svg class="chart line" [^>]*viewBox="0 0 440 220"', trend)


def test_an_empty_window_names_the_last_call_and_links_to_it(db: Path) -> None:
    client = signed_in(db, "sup3")  # T3: calls of 2026-09-20 and 2026-10-05 only; the window ends today
    page = client.get("/team").text
    assert "No calls in this window — the last call was on 2026-10-05." in page
    assert 'class="heatmap' not in page and "<svg" not in page
    link = re.search(r'<a href="(/team\?[^"]+)">Show 28 days up to 2026-10-05</a>', page)
    assert link and html.unescape(link.group(1)) == "/team?team=&checklist=&days=28&sort=agent&until=2026-10-05"
    moved = client.get(html.unescape(link.group(1))).text
    assert re.findall(r'data-agent="(\w+)"', moved) == ["C1"] and "No calls in this window" not in moved
    zh = client.get("/team", headers=ZH).text
    assert "此时间段内没有通话——最近一通在 2026-10-05。" in zh and "显示 28 天（截至 2026-10-05）" in zh
    assert "No calls" not in zh


def test_the_page_fits_a_phone() -> None:
    """390 px: the table scrolls in its wrapper and the SVG scales; no header is set vertically."""
    css = (STATIC_DIR / "app.css").read_text(encoding="utf-8")
    block = css.split("/* == team heat-map and trend", 1)[1].split("*/", 1)[1]
    block = re.sub(r"/\*.*?\*/", "", block.split("/* == end of team heat-map and trend", 1)[0], flags=re.S)
    rules = {selector.strip(): body for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", block)}
    assert "overflow-x:auto" in rules[".scroll"] and "max-width:100%" in rules[".scroll"]
    assert "width:7rem" in rules[".heatmap th .item-title"] and "white-space:normal" in rules[".heatmap th .item-title"]
    assert "width:100%" in rules[".team-trend svg.chart"] and "height:auto" in rules[".team-trend svg.chart"]
    assert "writing-mode" not in css and "vertical-rl" not in css and "text-orientation" not in css


def test_the_team_words_in_both_languages() -> None:
    for key, (en, zh) in MESSAGES.items():
        en_words, zh_words = re.sub(r"{\w+}", "", en), re.sub(r"{\w+}", "", zh)
        assert not re.search(r"[\u2e80-\u9fff\uff00-\uffef]", en_words), key  # no Chinese in English
        assert not re.search(r"[A-Za-z]", zh_words), key  # no English in Chinese
        assert re.findall(r"{\w+}", en) == re.findall(r"{\w+}", zh), key
