"""Every callqa error reaches the person as the HTTP status it names, with a message that says what happened."""

from __future__ import annotations

import html
from pathlib import Path
from unittest import mock

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from callqa.web.app import create_app
from core.errors import CallQAError, Forbidden, Invalid, NotFound, StoreError
from rules.diagnostics import ChecklistError, Diagnostic
from scorecards.store.database import Store
from tests.e2e._client import csrf_of, login
from tests.e2e._db import copy_of_built

BROKEN = ChecklistError([Diagnostic("checklists/service_en.yaml", 12, 5, "unknown key 'phrasez'")])


@pytest.fixture()
def app(tmp_path: Path) -> FastAPI:
    db = tmp_path / "callqa.duckdb"
    Store(db)  # a new, empty database
    app = create_app(db, secret="errors")
    errors: dict[str, Exception] = {
        "checklist": BROKEN, "busy": StoreError("the database is held by a run"), "missing": NotFound("no call"),
        "forbidden": Forbidden("agents cannot overturn verdicts"), "invalid": Invalid("verdict: 'maybe'"),
        "plain": CallQAError("the recording is gone from /calls/x.wav"),
    }  # fmt: skip

    def raiser(name: str) -> None:
        raise errors[name]

    app.add_api_route("/api/raise/{name}", raiser)
    app.add_api_route("/raise/{name}", raiser)
    return app


@pytest.mark.parametrize(
    ("name", "status", "shown"),
    [("checklist", 500, "unknown key 'phrasez'"), ("plain", 500, "the recording is gone"),
     ("busy", 503, "The database is busy"), ("missing", 404, "Not found"),
     ("forbidden", 403, "agents cannot overturn verdicts"), ("invalid", 422, "verdict: 'maybe'")],
)  # fmt: skip
def test_each_error_keeps_its_status_and_says_what_happened(app: FastAPI, name: str, status: int, shown: str) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    api = client.get(f"/api/raise/{name}")
    assert api.status_code == status and shown in api.json()["error"]["message"]
    page = client.get(f"/raise/{name}")
    assert page.status_code == status and shown in html.unescape(page.text)
    if name != "busy":  # a checklist error during an overturn used to read "the database is busy"
        assert "busy" not in api.json()["error"]["message"] and "正忙" not in page.text


def test_a_checklist_error_during_an_overturn_is_not_reported_as_busy(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The real overturn form: the stored checklist's bands fail to load while the score is recomputed."""
    db, _ = copy_of_built(tmp_path_factory.mktemp("overturn"), tmp_path_factory.getbasetemp())
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT scorecard_id, min(idx) FROM verdicts WHERE verdict = 'fail' GROUP BY 1 ORDER BY 1 LIMIT 1"
        ).fetchone()
    assert row is not None, "the demo store has no failed item to overturn"
    client = login(TestClient(create_app(db, secret="errors"), raise_server_exceptions=False), "admin")
    form = {"decision": "overturn", "verdict": "pass", "comment": "said it", "csrf": csrf_of(client, "/queue")}
    with mock.patch("scorecards.people.review.checklist_bands", side_effect=BROKEN):
        response = client.post(f"/scorecards/{row[0]}/items/{row[1]}/review", data=form, follow_redirects=False)
    page = html.unescape(response.text)
    assert response.status_code == 500 and "unknown key 'phrasez'" in page
    assert "busy" not in page and "正忙" not in page
