"""Security of every route, generated from the app's own route table.

``EXPECT`` must name every route the app has (a new route without an entry fails
:func:`test_every_route_has_an_expectation`). For every route the tests then check: an anonymous visitor is
sent to the login page; agent ``chris`` (ChrisL) gets 404 for agent ``a2``'s resources (pages, audio with and
without a Range header, exports' content, disputes by id); a form without the CSRF token is refused with
403; an expired session is sent to the login page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import duckdb
import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from callqa.web.app import create_app, route_table
from callqa.web.security import COOKIE_NAME
from scorecards.people import review
from scorecards.people.accounts import get_user
from scorecards.store.database import Store
from tests.e2e._client import csrf_of, login
from tests.e2e._db import DemoCall, copy_of_built

SECRET = "route-table-secret"


@dataclass(frozen=True)
class Expect:
    """What a route is.

    Attributes:
        public: reachable without signing in (the login page).
        owned: path parameters that name another agent's resource; the test fills them with a2's.
        form: a valid form body (without the CSRF token) for POST routes.
        staff: a staff page: an agent gets 404 whatever the parameters.
    """

    public: bool = False
    owned: tuple[str, ...] = ()
    form: tuple[tuple[str, str], ...] = ()
    staff: bool = False


EXPECT: dict[tuple[str, str], Expect] = {
    ("GET", "/login"): Expect(public=True),
    ("POST", "/login"): Expect(public=True, form=(("name", "chris"), ("password", "x"))),
    ("POST", "/logout"): Expect(),
    ("GET", "/"): Expect(),
    ("GET", "/settings"): Expect(),
    ("POST", "/settings"): Expect(form=(("language", "en"),)),
    ("GET", "/queue"): Expect(staff=True),
    ("GET", "/calls/{call_id}"): Expect(owned=("call_id",)),
    ("GET", "/calls/{call_id}/audio"): Expect(owned=("call_id",)),
    ("GET", "/me"): Expect(),
    ("GET", "/agents/{agent_id}"): Expect(owned=("agent_id",)),
    ("GET", "/team"): Expect(staff=True),
    ("GET", "/rules/health"): Expect(staff=True),
    ("GET", "/runs"): Expect(staff=True),
    ("GET", "/rules/regressions.yaml"): Expect(staff=True),
    ("GET", "/disputes"): Expect(),
    ("GET", "/exports"): Expect(),
    ("GET", "/exports/download"): Expect(),
    ("GET", "/admin/pii-access"): Expect(staff=True),
    ("POST", "/scorecards/{scorecard_id}/items/{item_idx}/review"):
        Expect(owned=("scorecard_id", "item_idx"), form=(("decision", "confirm"), ("comment", "ok"))),
    ("POST", "/scorecards/{scorecard_id}/items/{item_idx}/dispute"):
        Expect(owned=("scorecard_id", "item_idx"), form=(("comment", "I did say it"),)),
    ("POST", "/scorecards/{scorecard_id}/acknowledge"): Expect(owned=("scorecard_id",)),
    ("POST", "/disputes/{dispute_id}/answer"):
        Expect(owned=("dispute_id",), form=(("upheld", "1"), ("answer", "fine"), ("verdict", "pass"))),
}


def _routes() -> list[tuple[str, str]]:
    table = route_table(create_app(Path("/nonexistent/never-opened.duckdb"), secret=SECRET))
    assert ("MOUNT", "/static") in table
    return [r for r in table if r != ("MOUNT", "/static")]


ROUTES = _routes()


@dataclass(frozen=True)
class World:
    db: Path
    calls: dict[str, DemoCall]
    b_scorecard: str  # a2's scorecard
    b_dispute: str  # a2's open dispute


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("websec")
    db, calls = copy_of_built(tmp, tmp_path_factory.getbasetemp())
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT s.scorecard_id, min(v.idx) FROM scorecards s JOIN verdicts v USING (scorecard_id) "
                          "WHERE s.call_id = ? AND v.verdict IN ('fail', 'uncertain') GROUP BY 1",
                          [calls["A2"].call_id]).fetchone()
    assert row is not None, "a2's call has no failed item to dispute"
    store = Store(db)
    a2 = get_user(store, "a2")
    assert a2 is not None
    dispute = review.open_dispute(store, a2.viewer, row[0], row[1], "I greeted the customer")
    return World(db, calls, row[0], dispute)


def _fill(path: str, world: World, item_idx: int = 0) -> str:
    values = {"call_id": world.calls["A2"].call_id, "agent_id": "A2", "scorecard_id": world.b_scorecard,
              "item_idx": str(item_idx), "dispute_id": world.b_dispute}
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"{path}: no value for its parameter in the security tests"
    return path


def test_every_route_has_an_expectation() -> None:
    missing = [r for r in ROUTES if r not in EXPECT]
    stale = [r for r in EXPECT if r not in ROUTES]
    assert missing == [], f"routes without a security expectation: {missing}"
    assert stale == [], f"expectations for routes that do not exist: {stale}"


def _client(world: World) -> TestClient:
    return TestClient(create_app(world.db, secret=SECRET))


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_is_sent_to_login(world: World, method: str, path: str) -> None:
    expect = EXPECT[(method, path)]
    client = _client(world)
    url = _fill(path, world)
    if method == "GET":
        response = client.get(url, follow_redirects=False)
    else:
        token = csrf_of(client)  # even with a valid anonymous token, nothing happens without signing in
        response = client.post(url, data={**dict(expect.form), "csrf": token}, follow_redirects=False)
    if expect.public:
        assert response.status_code in (200, 401)
        return
    assert response.status_code == 303, response.text[:200]
    assert response.headers["location"].startswith("/login?next=" if method == "GET" else "/login")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_agent_gets_404_for_another_agents_resources(world: World, method: str, path: str) -> None:
    expect = EXPECT[(method, path)]
    client = login(_client(world), "chris")
    url = _fill(path, world)
    if expect.public or not (expect.owned or expect.staff):
        _nothing_of_b_leaks(client, world, method, url, expect)
        return
    if method == "GET":
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 404, f"{url}: {response.status_code}"
        if path.endswith("/audio"):
            ranged = client.get(url, headers={"Range": "bytes=0-99"}, follow_redirects=False)
            assert ranged.status_code == 404 and "content-range" not in ranged.headers
    else:
        token = csrf_of(client, "/settings")
        response = client.post(url, data={**dict(expect.form), "csrf": token}, follow_redirects=False)
        assert response.status_code == 404, f"{url}: {response.status_code} {response.text[:200]}"


def _nothing_of_b_leaks(client: TestClient, world: World, method: str, url: str, expect: Expect) -> None:
    """Routes without another agent's id in the path: what they return must not mention a2's call."""
    b = world.calls["A2"]
    if method == "POST":
        return  # login, logout and settings act on the caller only
    if url == "/exports/download":
        for kind in ("scorecards", "verdicts"):
            for fmt in ("csv", "parquet"):
                response = client.get(url, params={"kind": kind, "fmt": fmt, "since": "2000-01-01",
                                                   "until": "2100-01-01"})
                assert response.status_code == 200
                body = _export_text(response.content, fmt)
                assert b.call_id not in body and world.calls["ChrisL"].call_id in body, (kind, fmt)
        return
    response = client.get(url)
    assert response.status_code in (200, 404)
    for secret in (b.call_id, world.b_dispute, b.path.name):
        assert secret not in response.text, f"{url} shows a2's {secret}"


def _export_text(content: bytes, fmt: str) -> str:
    if fmt == "csv":
        return content.decode("utf-8")
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.parquet"
        path.write_bytes(content)
        with duckdb.connect() as con:
            rows = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    return "\n".join(",".join(str(v) for v in row) for row in rows)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r[0] == "POST"])
def test_post_without_csrf_token_is_403(world: World, method: str, path: str) -> None:
    expect = EXPECT[(method, path)]
    client = login(_client(world), "sup")
    url = _fill(path, world)
    assert client.post(url, data=dict(expect.form), follow_redirects=False).status_code == 403
    assert client.post(url, data={**dict(expect.form), "csrf": "x" * 32}, follow_redirects=False).status_code == 403


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_expired_session_is_sent_to_login(world: World, method: str, path: str) -> None:
    expect = EXPECT[(method, path)]
    if expect.public:
        return
    client = _client(world)
    csrf = "t" * 32
    with mock.patch.object(TimestampSigner, "get_timestamp", return_value=int(time.time()) - 9 * 3600):
        cookie = URLSafeTimedSerializer(SECRET, salt="callqa-session-v1").dumps({"c": csrf, "u": "sup", "e": 0})
    client.cookies.set(COOKIE_NAME, cookie)
    url = _fill(path, world)
    if method == "GET":
        response = client.get(url, follow_redirects=False)
    else:
        response = client.post(url, data={**dict(expect.form), "csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303, f"{url}: {response.status_code}"
    location = response.headers["location"]
    assert location.startswith("/login?next=") and location.endswith("expired=1")


def test_a_supervisor_sees_nothing_of_another_team(world: World) -> None:
    client = login(_client(world), "sup")  # team T1; B1 is in T2
    b1 = world.calls["B1"]
    for url in (f"/calls/{b1.call_id}", f"/calls/{b1.call_id}/audio", "/agents/B1"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/calls/{b1.call_id}/audio", headers={"Range": "bytes=0-9"}).status_code == 404
    assert b1.call_id not in client.get("/queue").text and 'data-agent="B1"' not in client.get("/team").text
    other = login(_client(world), "sup2")
    assert other.get(f"/calls/{b1.call_id}").status_code == 200
