"""The pages on the web test database (the real call + two real clips, scored with service_en).

What the pages show comes from scorecards.people.views (tested there); these tests check what the web layer adds:
the audio endpoint's range requests, the evidence buttons and transcript rows the player works with, the
review and dispute forms and their round trip, the charts on the agent page, the heat-map colours, the
exports as downloads, and Chinese pages.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callqa.web.app import create_app
from callqa.web.i18n import band_name
from scorecards.people.reports import agent_report
from scorecards.store import summaries
from scorecards.store.database import Store
from tests.e2e._client import csrf_of, login
from tests.e2e._db import DemoCall, copy_of_built


@pytest.fixture()
def site(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, Path, dict[str, DemoCall]]:
    db, calls = copy_of_built(tmp_path, tmp_path_factory.getbasetemp())
    return TestClient(create_app(db, secret="pages")), db, calls


def test_audio_supports_range_requests(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    chris = calls["ChrisL"]
    whole = client.get(f"/calls/{chris.call_id}/audio")
    # The caller's name and the number read out are silenced (tests/callqa/test_web_privacy.py): the served copy
    # has the recording's format and length, and ranges of it are served as of any file.
    data = whole.content
    assert whole.status_code == 200 and len(data) == chris.path.stat().st_size and data != chris.path.read_bytes()
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "audio/wav"
    part = client.get(f"/calls/{chris.call_id}/audio", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    tail = client.get(f"/calls/{chris.call_id}/audio", headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == data[-100:]
    beyond = client.get(f"/calls/{chris.call_id}/audio", headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416
    flac = client.get(f"/calls/{calls['A2'].call_id}/audio", headers={"Range": "bytes=0-3"})
    assert flac.status_code == 206 and flac.content == b"fLaC" and flac.headers["content-type"] == "audio/flac"


def test_call_page_has_the_player_evidence_and_timed_utterances(
        site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    page = client.get(f"/calls/{calls['ChrisL'].call_id}").text
    assert f'src="/calls/{calls["ChrisL"].call_id}/audio"' in page
    starts = [float(s) for s in re.findall(r'data-utt-start="([\d.]+)"', page)]
    assert len(starts) > 30 and starts == sorted(starts) and starts[0] == pytest.approx(0.75)
    row = re.search(r"<tr id=\"item-[^\"]+\" data-item=\"no_deflection\">.*?</tr>", page, re.S)
    assert row, "the failed item is on the page"
    seeks = [float(s) for s in re.findall(r'class="evidence" data-seek="([\d.]+)"', row.group(0))]
    assert seeks and 150 < seeks[0] < 160
    assert 'value="overturn"' in row.group(0) and 'name="csrf"' in row.group(0)


def test_overturn_shows_both_verdicts_and_both_totals(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    url = f"/calls/{calls['ChrisL'].call_id}"
    page = client.get(url).text
    form = re.search(r'data-item="no_deflection">.*?action="(/scorecards/[^"]+/review)"', page, re.S)
    assert form
    response = client.post(form.group(1), data={"csrf": csrf_of(client, url), "decision": "overturn",
                                                "verdict": "pass", "comment": "transfer offered", "back": url},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(url + "#item-")
    page = client.get(url).text
    row = re.search(r'data-item="no_deflection">.*?</tr>', page, re.S)
    assert row and 'verdict automatic fail' in row.group(0) and 'verdict reviewed pass' in row.group(0)
    auto = re.search(r'id="auto-total-[^"]+">(\d+)<', page)
    reviewed = re.search(r'id="reviewed-total-[^"]+">(\d+)<', page)
    assert auto and reviewed and (auto.group(1), reviewed.group(1)) == ("90", "100")


def test_agent_disputes_and_sees_the_answer(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, _ = site
    login(client, "chris")
    home = client.get("/me").text
    form = re.search(r'action="(/scorecards/[^"]+/items/\d+/dispute)"', home)
    assert form and "<svg" in home and 'data-series="me"' in home
    response = client.post(form.group(1), data={"csrf": csrf_of(client, "/me"), "comment": "I offered a transfer",
                                                "back": "/me"}, follow_redirects=False)
    assert response.status_code == 303
    supervisor = login(TestClient(client.app), "sup")
    listing = supervisor.get("/disputes").text
    answer = re.search(r'action="(/disputes/[^"]+/answer)"', listing)
    assert answer and "I offered a transfer" in listing
    response = supervisor.post(answer.group(1), data={"csrf": csrf_of(supervisor, "/disputes"), "upheld": "1",
                                                      "answer": "Agreed.", "verdict": "pass"},
                               follow_redirects=False)
    assert response.status_code == 303
    home = client.get("/me").text
    assert "Agreed." in home and 'data-status="upheld"' in home
    assert "seen by the agent" in supervisor.get("/disputes").text  # opening the page marked the answer seen


def test_heatmap_cells_carry_their_colour_band(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, _ = site
    login(client, "sup")
    page = client.get("/team", params={"days": 3650}).text
    cells = re.findall(r'class="cell band-(\w+)" data-sort="([-\d.]+)"', page)
    assert cells
    for colour, rate in cells:
        r = float(rate)
        expected = ("none" if r < 0 else "red" if r < 0.6 else "orange" if r < 0.75 else "yellow" if r < 0.9
                    else "green")
        assert colour == expected, (colour, r)
    assert 'data-agent="ChrisL"' in page and 'data-agent="A2"' in page and 'data-agent="B1"' not in page


def test_export_downloads_only_what_the_agent_may_see(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "chris")
    response = client.get("/exports/download", params={"kind": "verdicts", "fmt": "csv", "since": "2025-01-01",
                                                       "until": "2025-12-31"})
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbfcall_id,")  # the BOM: a spreadsheet reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows and {r["call_id"] for r in rows} == {calls["ChrisL"].call_id}
    assert {(r["verdict"], r["verdict_label"]) for r in rows} <= {
        ("pass", "pass"), ("fail", "fail"), ("n/a", "n/a"), ("uncertain", "uncertain")}
    zh = client.get("/exports/download", headers={"Accept-Language": "zh-CN"},
                    params={"kind": "scorecards", "fmt": "csv", "since": "2025-01-01", "until": "2025-12-31"})
    cards = list(csv.DictReader(io.StringIO(zh.content.decode("utf-8-sig"))))
    assert cards and all(r["band_label"] == r["band"] for r in cards)  # the shipped bands are named in Chinese
    en = client.get("/exports/download", params={"kind": "scorecards", "fmt": "csv", "since": "2025-01-01",
                                                "until": "2025-12-31", "bom": "0"})
    assert en.content.startswith(b"call_id,")
    english = {"优秀": "Excellent", "良好": "Good", "合格": "Pass", "不合格": "Fail"}
    assert [r["band_label"] for r in csv.DictReader(io.StringIO(en.text))] == [english[r["band"]] for r in cards]
    bad = client.get("/exports/download", params={"kind": "verdicts", "fmt": "xlsx", "since": "2025-01-01",
                                                  "until": "2025-12-31"})
    assert bad.status_code == 422 and "fmt" in bad.text


def test_pages_in_chinese(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    assert "复核队列" in client.get("/queue", headers=zh).text
    page = client.get(f"/calls/{calls['ChrisL'].call_id}", headers=zh).text
    assert "自动评分" in page and "坐席" in page and "Automatic score" not in page


@pytest.mark.parametrize(("language", "expected"), [("en", "Excellent"), ("zh", "优秀"), ("en", "Fail")])
def test_default_bands_read_in_the_pages_language(language: str, expected: str) -> None:
    chinese = {"Excellent": "优秀", "优秀": "优秀", "Fail": "不合格"}[expected]
    assert band_name(language, chinese) == expected
    assert band_name("en", "Gold") == "Gold" and band_name("en", None) == ""  # a checklist's own names as written


def test_call_page_shows_the_band_in_english(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, db, calls = site
    login(client, "sup")
    (card,) = Store(db).current_scorecards(calls["ChrisL"].call_id)
    page = client.get(f"/calls/{calls['ChrisL'].call_id}", headers={"Accept-Language": "en"}).text
    assert band_name("en", card.band) in page and card.band not in page


def test_run_history_and_rule_health(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, _ = site
    login(client, "admin")
    runs = client.get("/runs").text
    assert 'data-run="e2e-run-1"' in runs and "not an audio file" in runs
    health = client.get("/rules/health", headers={"Accept-Language": "en"}).text
    assert 'class="rulehealth sortable"' in health
    assert "<th>False deductions</th>" in health and "<th>Sent to review</th>" in health
    assert 'name="min_fail_precision" value="0.95"' in health
    assert client.get("/rules/health?min_fail_precision=2").status_code == 422
    agent = login(TestClient(client.app), "chris")
    assert agent.get("/runs").status_code == 404 and agent.get("/team").status_code == 404


def test_regression_examples_download_for_qa_only(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    url = f"/calls/{calls['ChrisL'].call_id}"
    form = re.search(r'data-item="no_deflection">.*?action="(/scorecards/[^"]+/review)"', client.get(url).text, re.S)
    assert form
    client.post(form.group(1), data={"csrf": csrf_of(client, url), "decision": "overturn", "verdict": "pass",
                                     "comment": "transfer offered"})
    assert client.get("/rules/regressions.yaml").status_code == 404  # a supervisor sees only their teams
    admin = login(TestClient(client.app), "admin")
    response = admin.get("/rules/regressions.yaml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/yaml")
    assert "service_en:" in response.text and "no_deflection:" in response.text and "pass:" in response.text


def test_queue_filters_and_reasons(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    page = client.get("/queue").text
    assert calls["ChrisL"].call_id in page and calls["A2"].call_id in page and calls["B1"].call_id not in page
    assert 'title="' in page and "failed item: Does not push the customer to someone else" in page
    only_a2 = client.get("/queue", params={"agent": "A2", "reason": "fail"}).text
    assert calls["A2"].call_id in only_a2 and calls["ChrisL"].call_id not in only_a2
    by_item = client.get("/queue", params={"item": "no_deflection"}).text
    assert calls["ChrisL"].call_id in by_item and calls["A2"].call_id not in by_item
    by_day = client.get("/queue", params={"since": "2025-02-19", "until": "2025-02-19"}).text
    assert calls["ChrisL"].call_id in by_day and calls["A2"].call_id not in by_day
    bad = client.get("/queue", params={"since": "19/02/2025"})
    assert bad.status_code == 422 and "since" in bad.text
    other_team = client.get("/queue", params={"team": "T2"})  # not this supervisor's team: nothing of it
    assert other_team.status_code in (200, 404) and calls["B1"].call_id not in other_team.text


def _review_item(client: TestClient, call_id: str, item: str, decision: str, verdict: str = "") -> None:
    """Confirm or overturn one verdict with the call page's form, as a supervisor does."""
    url = f"/calls/{call_id}"
    form = re.search(rf'data-item="{item}">.*?action="(/scorecards/[^"]+/review)"', client.get(url).text, re.S)
    assert form, item
    response = client.post(form.group(1), data={"csrf": csrf_of(client, url), "decision": decision, "verdict": verdict,
                                                "comment": "listened to it", "back": "/queue"}, follow_redirects=False)
    assert response.status_code == 303


def _queue_row(page: str, call_id: str) -> tuple[str, list[str]] | None:
    """A queue row's status and the text of its cells (tags dropped, spaces collapsed); None when not listed."""
    row = re.search(rf'<tr data-call="{call_id}" data-status="(\w+)">(.*?)</tr>', page, re.S)
    if row is None:
        return None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(2), re.S)
    return row.group(1), [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def test_queue_row_follows_an_overturn(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    chris = calls["ChrisL"].call_id
    before = _queue_row(client.get("/queue").text, chris)
    assert before == ("todo", ["Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav", "2025-02-19 06:01",
                               "ChrisL", "T1", "90", "Excellent",
                               "failed item: Does not push the customer to someone else"])
    _review_item(client, chris, "no_deflection", "overturn", "pass")  # the call's only failed item
    todo = client.get("/queue").text
    assert _queue_row(todo, chris) is None and calls["A2"].call_id in todo
    done = client.get("/queue", params={"status": "done"}).text
    assert _queue_row(done, chris) == ("done", [
        "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav", "2025-02-19 06:01", "ChrisL", "T1",
        "100 90 ✓ reviewed", "Excellent",
        "failed item: Does not push the customer to someone else → pass ✓ reviewed ✓ review done"])
    assert '<s class="muted automatic" title="automatic score">90</s>' in done
    assert "<s>failed item: Does not push the customer to someone else</s>" in done
    assert calls["A2"].call_id not in done
    assert '<option value="done" selected>review done</option>' in done
    every = client.get("/queue", params={"status": "all"}).text
    assert _queue_row(every, chris) == _queue_row(done, chris) and calls["A2"].call_id in every
    zh = client.get("/queue", params={"status": "done"}, headers={"Accept-Language": "zh-CN"}).text
    row = _queue_row(zh, chris)
    assert row and row[1][4:] == ["100 90 ✓ 已复核", "优秀", "未通过项：不推诿 → 通过 ✓ 已复核 ✓ 已复核完毕"]


def test_queue_row_follows_a_confirm(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    chris = calls["ChrisL"].call_id
    _review_item(client, chris, "no_deflection", "confirm")
    assert _queue_row(client.get("/queue").text, chris) is None
    row = _queue_row(client.get("/queue", params={"status": "done"}).text, chris)
    assert row and row[0] == "done"
    assert row[1][4:] == ["90 90 ✓ reviewed", "Excellent",
                          "failed item: Does not push the customer to someone else ✓ reviewed ✓ review done"]


def test_queue_call_with_one_of_its_fails_reviewed_stays_to_review(
        site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "sup")
    a2 = calls["A2"].call_id
    _review_item(client, a2, "greeting", "confirm")  # one of A2's six failed items
    row = _queue_row(client.get("/queue").text, a2)
    assert row and row[0] == "todo"
    assert row[1][4:] == ["32 32 ✓ reviewed", "Fail",
                          "failed item: Acknowledges the customer while they explain "
                          "failed item: Closes the call properly "
                          "failed item: Greets the customer within the first 15 seconds ✓ reviewed "
                          "failed item: Verifies the customer&#39;s identity "
                          "failed item: Repeats back key details to confirm them "
                          "failed item: Gives their name or staff number"]
    assert _queue_row(client.get("/queue", params={"status": "done"}).text, a2) is None


def test_queue_status_filter_rejects_an_unknown_value(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, _ = site
    login(client, "sup")
    bad = client.get("/queue", params={"status": "later"})
    assert bad.status_code == 422 and 'data-error-status="422"' in bad.text
    assert "status: &#39;later&#39; is not one of todo, done, all" in bad.text


def test_what_people_type_is_escaped(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, _ = site
    login(client, "chris")
    form = re.search(r'action="(/scorecards/[^"]+/items/\d+/dispute)"', client.get("/me").text)
    assert form
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(form.group(1), data={"csrf": csrf_of(client, "/me"), "comment": attack, "back": "/me"})
    supervisor = login(TestClient(client.app), "sup")
    page = supervisor.get("/disputes").text
    assert attack not in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_agent_disputes_from_the_call_page_once_per_item(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    client, _, calls = site
    login(client, "chris")
    url = f"/calls/{calls['ChrisL'].call_id}"
    page = client.get(url).text
    forms = re.findall(r'action="(/scorecards/[^"]+/items/(\d+)/dispute)"', page)
    assert len(forms) == 1 and "/review" not in page  # the one failed item; no review forms for an agent
    client.post(forms[0][0], data={"csrf": csrf_of(client, url), "comment": "listen again", "back": url})
    page = client.get(url).text
    assert "/dispute\"" not in page and "listen again" in page


def test_agent_page_shows_the_cli_emotion_figures(site: tuple[TestClient, Path, dict[str, DemoCall]]) -> None:
    """The three emotion figures on /me are those of `callqa agent` (scorecards/store/definitions.py), beside the
    team's, each with what it is a share of; in Chinese too."""
    client, db, calls = site
    store = Store(db)
    values = {"ChrisL": (1.0, 0.6, 1.0, 0.8, 5.0), "A2": (0.0, 0.0, 0.0, 0.0, 0.0), "B1": (1.0, 0.9, 0.0, 0.0, 1.0)}
    names = ("angry_customer", "customer_anger_start", "customer_calmer_by_end", "agent_negative_tone_max",
             "utterances_customer")
    current = dict(store.current_transcript_ids())
    with store.writing() as con:
        for agent, row in values.items():
            for name, value in zip(names, row, strict=True):
                con.execute("INSERT INTO call_metrics VALUES (?, ?, ?, 'test')",
                            [current[calls[agent].call_id], name, value])
        summaries.refresh(con, [c.call_id for c in calls.values()])
    report = agent_report(store, "ChrisL", days=28)
    login(client, "chris")

    def cells(page: str, row: str) -> list[str]:
        found = re.search(rf'<tr class="{row}">(.*?)</tr>', page, re.S)
        assert found, row
        texts = re.findall(r"<td>(.*?)</td>", found.group(1), re.S)
        return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in texts]

    page = client.get("/me").text
    mine, team = report.emotion, report.team_emotion  # T1: Chris's call and A2's (no customer speech)
    assert (mine.angry_customer_share, team.angry_customer_share, team.customer_calls, team.calls) == (1.0, 1.0, 1, 2)
    assert cells(page, "angry") == ["Calls where the customer got angry", "100% of 1 calls where the customer spoke",
                                    "100% of 1 calls where the customer spoke"]
    assert cells(page, "calmer")[1:] == ["100% of 1 upset from the start", "100% of 1 upset from the start"]
    assert (mine.negative_tone_share, team.negative_tone_share) == (1.0, 0.5)
    assert cells(page, "tone") == ["Calls where I sounded angry or impatient", "100% of 1 calls", "50% of 2 calls"]
    zh = client.get("/me", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert cells(zh, "tone") == ["我语气生气或不耐烦的通话", "100% 共 1 通", "50% 共 2 通"]
