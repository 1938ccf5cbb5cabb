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


def _sign_in(browser: object, url: str, name: str, *, locale: str = "en-US",  # type: ignore[no-untyped-def]
             width: int = 1400, height: int = 900):
    """A new browser context signed in as ``name``; below 600 px wide it is a touch phone."""
    phone = width < 600
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height},  # type: ignore[attr-defined]
                                  has_touch=phone, is_mobile=phone)
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
    assert row.count() == 1 and "Does not push the customer to someone else" in row.inner_text()
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
    dispute = sup.locator("tr[data-status='open']", has_text="Does not push the customer to someone else")
    assert dispute.count() == 1
    dispute.locator("textarea[name=answer]").fill("Agreed: the transfer was offered.")
    dispute.locator("select[name=verdict]").select_option("pass")
    dispute.locator("button[value='1']").click()
    sup.wait_for_load_state()
    assert sup.locator("tr[data-item='no_deflection'] .verdict.reviewed").inner_text() == "pass"
    sup.goto(f"{url}/team?until=2025-02-19")  # the window ends today by default; the demo calls are of 2025-02
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


# -- one language per page, and a phone's width --------------------------------------------------------------

_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Words a Chinese page may carry as they are: the product, file formats and the apps they are for.
_LATIN_ALLOWED = {"callqa", "csv", "parquet", "excel", "yaml", "json", "wav", "flac", "mono", "guid", "auto"}
_PHONE_SHOTS = {"/team?until=2025-02-19": "heatmap_phone.png", "/me": "agent_home_phone.png"}
_REGEX_SOURCE = re.compile(r"\(\?[:=!<]|\\[bdws]|\[\^|\.\*|\.\{")


def _visible_text(page) -> str:  # type: ignore[no-untyped-def]
    """What the page shows in words, less what comes from the call and from people: the transcript, quotes,
    comments, file names and ids (data the page shows as it is, in whatever language it was), and what is
    marked as written in a language of its own (the language menu's "English" and "中文")."""
    return str(page.evaluate("""() => {
        const skip = '.utt .text, .evidence, .fact, td.quote, .comment, .data, audio, script, style, [lang]';
        const clone = document.body.cloneNode(true);
        clone.querySelectorAll(skip).forEach(e => e.remove());
        clone.querySelectorAll('option').forEach(o => { o.textContent = ' ' + o.textContent + ' '; });
        return clone.innerText; }"""))


def _data_words(calls: dict[str, DemoCall]) -> set[str]:
    words = {"ChrisL", "A2", "B1", "Z1", "T1", "T2", "Chris", "Supervisor", "sup", "chris"}  # ids and names
    for call in calls.values():
        words |= {call.path.name, call.path.stem, *re.split(r"[^A-Za-z0-9]+", call.path.name)}
    return {w.casefold() for w in words if w}


def _item_ids() -> set[str]:
    from rules.loader import load_checklist

    ids: set[str] = set()
    for name in ("service_en.yaml", "service_zh.yaml"):
        checklist = load_checklist(ROOT / "rules" / "checklists" / name)
        ids |= {item.id for item in checklist.items} | set(checklist.defines)
    return {i for i in ids if "_" in i}  # one-word ids ("greeting", "closing", "empathy") are also plain words


def _other_language(text: str, language: str, data: set[str]) -> list[str]:
    text = _QUOTED.sub(" ", text)
    for name in sorted(data, key=len, reverse=True):  # file names and ids are shown as they are
        text = re.sub(re.escape(name), " ", text, flags=re.I)
    if language == "zh":
        return sorted({w for w in _LATIN_WORD.findall(text) if w.casefold() not in _LATIN_ALLOWED | data})
    return sorted(set(_CJK.findall(text)))


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("width", [390, 1280])
def test_pages_speak_one_language_show_no_rule_source_and_fit_the_screen(
        site: tuple[str, Path, dict[str, DemoCall]], browser: object, language: str, width: int) -> None:
    url, _db, calls = site
    data = _data_words(calls)
    ids = _item_ids()
    pages = {"sup": ["/queue", "/queue?status=all", f"/calls/{calls['ChrisL'].call_id}",
                     f"/calls/{calls['Z1'].call_id}", "/team?until=2025-02-19",
                     "/team?until=2025-02-19&checklist=service_zh", "/disputes", "/exports", "/settings", "/team"],
             "chris": ["/me", f"/calls/{calls['ChrisL'].call_id}"]}
    problems = []
    for name, paths in pages.items():
        page = _sign_in(browser, url, name, locale="zh-CN" if language == "zh" else "en-US", width=width, height=844)
        for path in paths:
            assert page.goto(f"{url}{path}").status == 200, path
            text = _visible_text(page)
            if other := _other_language(text, language, data):
                problems.append(f"{name} {path}: {language} page shows {other[:12]}")
            if shown := sorted(i for i in ids if re.search(rf"\b{i}\b", text)):
                problems.append(f"{name} {path}: item ids {shown}")
            if source := _REGEX_SOURCE.findall(page.inner_text("body")):
                problems.append(f"{name} {path}: regex source {source[:5]}")
            if (width, language) == (390, "en") and path in _PHONE_SHOTS:
                _shot(page, _PHONE_SHOTS[path], full_page=False)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                problems.append(f"{name} {path}: {overflow} px wider than the {width} px screen")
        page.context.close()
    assert not problems, "\n".join(problems)


def test_an_evidence_tap_on_a_phone_seeks_the_audio(site: tuple[str, Path, dict[str, DemoCall]],
                                                     browser: object) -> None:
    url, _db, calls = site
    page = _sign_in(browser, url, "sup", locale="zh-CN", width=390, height=844)
    page.goto(f"{url}/calls/{calls['ChrisL'].call_id}")
    page.wait_for_selector("#call-audio")
    evidence = page.locator("tr[data-item='no_deflection'] .evidence").first
    start = float(evidence.get_attribute("data-seek") or "nan")
    # the docked player covers no text: scrolled to the bottom of the page, the last evidence is above it
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    last = page.locator(".evidence").last
    box, player = last.bounding_box(), page.locator(".player").bounding_box()
    assert box is not None and player is not None and box["y"] + box["height"] <= player["y"]
    evidence.tap()
    page.wait_for_function("([s]) => Math.abs(document.getElementById('call-audio').currentTime - s) < 0.5"
                           " && document.getElementById('call-audio').readyState >= 1", arg=[start], timeout=15000)
    assert abs(page.evaluate("document.getElementById('call-audio').currentTime") - start) < 0.5
    _shot(page, "call_phone.png", full_page=False)
    page.context.close()
