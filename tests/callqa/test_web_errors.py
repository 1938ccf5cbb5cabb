"""Every callqa error reaches the person as the HTTP status it names, with a message that says what happened."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from callqa.web.app import create_app
from core.errors import CallQAError, Forbidden, Invalid, NotFound, StoreError
from rules.diagnostics import ChecklistError, Diagnostic
from scorecards.store.database import Store

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
