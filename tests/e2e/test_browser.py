"""End-to-end in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

One scenario, in order, on a database built by the test from the real call and two real clips:
a supervisor opens the queue, opens a flagged call, clicks a piece of evidence (the audio's currentTime
lands within 0.5 s of its start and the playing utterance is highlighted), overturns a verdict (the
reviewed score changes, the automatic verdict and score are still shown); the agent sees only their own
calls and disputes an item; the supervisor upholds it; ``callqa rules test`` then runs the new regression
example. Screenshots of the queue, the call page, the agent home and the heat-map go to docs/screenshots/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e._db import PASSWORD, DemoCall, copy_of_built
from tests.e2e._server import serving

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it via apt)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, DemoCall]]]:
    db, calls = copy_of_built(tmp_path_factory.mktemp("e2e"), tmp_path_factory.getbasetemp())
    with serving(db) as url:
        yield url, db, calls


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"])
        yield b
        b.close()


def _sign_in(browser: object, url: str, name: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _shot(page, name: str, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


def test_review_dispute_and_regression_scenario(site: tuple[str, Path, dict[str, DemoCall]], browser: object) -> None:
    url, db, calls = site
    chris = calls["ChrisL"]

    # -- supervisor: queue → flagged call → evidence plays from its start ------------------------------------
    sup = _sign_in(browser, url, "sup")
    assert sup.url.endswith("/queue")
    row = sup.locator(f"tr[data-call='{chris.call_id}']")
    assert row.count() == 1 and "no_deflection" in row.inner_text()
    assert sup.locator(f"tr[data-call='{calls['B1'].call_id}']").count() == 0  # team T2: not this supervisor's
    _shot(sup, "queue.png")
    row.locator("a").first.click()
    sup.wait_for_selector("#call-audio")
    evidence = sup.locator("tr[data-item='no_deflection'] .evidence").first
    start = float(evidence.get_attribute("data-seek") or "nan")
    assert 150 < start < 160  # "We don't handle" at 2:34 in the real call
    evidence.click()
    sup.wait_for_function("([s]) => Math.abs(document.getElementById('call-audio').currentTime - s) < 0.5"
                          " && document.getElementById('call-audio').readyState >= 1", arg=[start], timeout=15000)
    current = sup.evaluate("document.getElementById('call-audio').currentTime")
    assert abs(current - start) < 0.5
    sup.evaluate("document.getElementById('call-audio').pause()")
    # the highlighted utterance is the one being played: it holds the player's position
    sup.wait_for_function("() => { const a = document.getElementById('call-audio');"
                          " const r = document.querySelector('.utt.current');"
                          " return r !== null && +r.dataset.uttStart <= a.currentTime"
                          " && a.currentTime < +r.dataset.uttEnd; }", timeout=10000)
    assert "We don't handle" in sup.locator(".utt.current").inner_text()
    _shot(sup, "call.png", full_page=False)

    # -- supervisor overturns a pass: the reviewed score changes, the automatic verdict stays ------------------
    auto_total = sup.locator("[id^=auto-total-]").first.inner_text()
    item = sup.locator("tr[data-item='repeat_back']")
    item.locator("summary").click()
    item.locator("textarea[name=comment]").fill("Only repeated two words, not the details.")
    item.locator("select[name=verdict]").select_option("fail")
    item.locator("button[value=overturn]").click()
    sup.wait_for_load_state()
    item = sup.locator("tr[data-item='repeat_back']")
    assert item.locator(".verdict.automatic").inner_text() == "pass"
    assert item.locator(".verdict.reviewed").inner_text() == "fail"
    assert sup.locator("[id^=auto-total-]").first.inner_text() == auto_total
    reviewed = sup.locator("[id^=reviewed-total-]").first.inner_text()
    assert re.fullmatch(r"\d+", reviewed) and float(reviewed) < float(auto_total)

    # -- agent: only own calls; disputes the failed item ---------------------------------------------------
    agent = _sign_in(browser, url, "chris")
    assert agent.url.endswith("/me")
    text = agent.content()
    assert chris.call_id in text and calls["A2"].call_id not in text and calls["A2"].path.name not in text
    _shot(agent, "agent_home.png")
    missed_row = agent.locator("table.missed tbody tr", has_text="push the customer")
    assert missed_row.count() == 1
    missed_row.locator("summary").click()
    missed_row.locator("textarea[name=comment]").fill("I offered to transfer the customer, listen at 2:40.")
    missed_row.locator("button[type=submit]").click()
    agent.wait_for_load_state()
    assert agent.goto(f"{url}/calls/{calls['A2'].call_id}").status == 404

    # -- supervisor upholds the dispute ----------------------------------------------------------------------
    sup.goto(f"{url}/disputes")
    dispute = sup.locator("tr[data-status='open']", has_text="no_deflection")
    assert dispute.count() == 1
    dispute.locator("textarea[name=answer]").fill("Agreed: the transfer was offered.")
    dispute.locator("select[name=verdict]").select_option("pass")
    dispute.locator("button[value='1']").click()
    sup.wait_for_load_state()
    assert sup.locator("tr[data-item='no_deflection'] .verdict.reviewed").inner_text() == "pass"
    sup.goto(f"{url}/team")
    _shot(sup, "heatmap.png")

    # -- the agent sees the answer -----------------------------------------------------------------------------
    agent.goto(f"{url}/me")
    assert "Agreed: the transfer was offered." in agent.content()

    # -- callqa rules test runs the regression example made by the upheld dispute ------------------------------
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    checklist = ROOT / "rules" / "checklists" / "service_en.yaml"
    done = subprocess.run([sys.executable, "-m", "callqa.cli", "rules", "test", str(checklist), "--db", str(db)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert re.search(r"service_en: [12] regression example\(s\)", out), out[-2000:]
    assert "regression:" in out and "no_deflection" in out, out[-2000:]
    print(out[-1500:])
