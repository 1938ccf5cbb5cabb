"""Web app: the secret, signed sessions, CSRF, login throttling, languages and the one error shape."""

from __future__ import annotations

import hashlib
import logging
import re
import stat
import time
from pathlib import Path
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from callqa.web.app import create_app
from callqa.web.context import WebSettings
from callqa.web.i18n import CATALOGUE, language_from_header, pick_language, translate
from callqa.web.security import COOKIE_NAME, LoginThrottle, Session, SessionCodec, load_secret
from core.types import Role
from scorecards.people.accounts import disable_user, set_language, set_password
from scorecards.people.views_types import REASON_KINDS
from scorecards.store.database import Store
from tests.e2e._client import csrf_of, login
from tests.e2e._db import PASSWORD, copy_of_built

TEMPLATES = Path(__file__).resolve().parents[2] / "callqa" / "web" / "templates"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def db(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _ = copy_of_built(tmp_path, tmp_path_factory.getbasetemp())
    return path


@pytest.fixture()
def client(db: Path) -> TestClient:
    return TestClient(create_app(db, secret="test-secret"))


# --- the secret -------------------------------------------------------------------------------------------

def test_secret_is_made_once_beside_the_db_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLQA_SECRET", raising=False)
    first = load_secret(tmp_path / "x.duckdb")
    path = tmp_path / "x.duckdb.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 40 and load_secret(tmp_path / "x.duckdb") == first
    monkeypatch.setenv("CALLQA_SECRET", "from-env")
    assert load_secret(tmp_path / "x.duckdb") == "from-env"


def test_an_empty_secret_file_is_an_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLQA_SECRET", raising=False)
    (tmp_path / "y.duckdb.secret").write_text("")
    with pytest.raises(Exception, match=r"y\.duckdb\.secret.*empty"):
        load_secret(tmp_path / "y.duckdb")


# --- session cookies -----------------------------------------------------------------------------------

def test_session_codec_round_trip_rejects_forgery_and_age() -> None:
    codec = SessionCodec("k1", max_age_s=60)
    session = Session("tok", "sup", 3)
    assert codec.loads(codec.dumps(session)) == session
    assert SessionCodec("other-key").loads(codec.dumps(session)) is None
    cookie = codec.dumps(session)
    # The second-last character carries six signature bits; the last one has spare padding bits.
    tampered = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    assert tampered != cookie and codec.loads(tampered) is None
    assert codec.loads(_forged("k1", {"c": "tok", "u": "sup", "e": 3}, 59)) == session
    assert codec.loads(_forged("k1", {"c": "tok", "u": "sup", "e": 3}, 120)) is None
    assert codec.loads(_forged("k1", {"c": "tok", "u": 5, "e": 3}, 1)) is None


def _forged(secret: str, payload: dict[str, object], age_s: int) -> str:
    """A session cookie signed with the app's key ``age_s`` seconds ago."""
    signed_at = int(time.time()) - age_s
    with mock.patch.object(TimestampSigner, "get_timestamp", return_value=signed_at):
        return URLSafeTimedSerializer(secret, salt="callqa-session-v1").dumps(payload)


def test_login_sets_a_signed_httponly_samesite_cookie_and_lands_on_the_role_page(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post("/login", data={"name": "sup", "password": PASSWORD, "csrf": token, "next": "/queue"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in header and "SameSite=lax" in header
    assert "Max-Age=28800" in header and "Secure" not in header
    assert PASSWORD not in header
    assert client.get("/", follow_redirects=False).headers["location"] == "/queue"
    agent = login(TestClient(client.app), "chris")
    assert agent.get("/", follow_redirects=False).headers["location"] == "/me"


def test_cookie_is_secure_over_https(db: Path) -> None:
    client = TestClient(create_app(db, secret="s"), base_url="https://testserver")
    token = csrf_of(client)
    response = client.post("/login", data={"name": "sup", "password": PASSWORD, "csrf": token},
                           follow_redirects=False)
    assert "Secure" in response.headers["set-cookie"]


def test_login_token_changes_at_sign_in(client: TestClient) -> None:
    before = csrf_of(client)
    login(client, "sup")
    assert csrf_of(client, "/settings") != before


def test_open_redirects_are_refused(client: TestClient) -> None:
    token = csrf_of(client)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = client.post("/login", data={"name": "sup", "password": PASSWORD, "csrf": token, "next": target},
                               follow_redirects=False)
        assert response.headers["location"] == "/", target
        client.cookies.clear()
        token = csrf_of(client)


def test_expired_session_goes_to_login(db: Path) -> None:
    app = create_app(db, secret="s", settings=WebSettings(session_max_age_s=60))
    client = login(TestClient(app), "sup")
    assert client.get("/queue", follow_redirects=False).status_code == 200
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, _forged("s", {"c": "t", "u": "sup", "e": 0}, 61))
    response = client.get("/queue", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2Fqueue")


@pytest.mark.parametrize("end", ["password", "disable"])
def test_new_password_or_disabled_account_ends_sessions(db: Path, end: str) -> None:
    client = login(TestClient(create_app(db, secret="s")), "sup")
    assert client.get("/settings").status_code == 200
    if end == "password":
        set_password(Store(db), "sup", "another-password-1")
    else:
        disable_user(Store(db), "sup")
    response = client.get("/settings", follow_redirects=False)
    assert response.status_code == 303 and "expired=1" in response.headers["location"]


def test_signing_out_ends_the_session_a_copied_cookie_carried(db: Path) -> None:
    client = login(TestClient(create_app(db, secret="s")), "sup")
    copied = client.cookies.get(COOKIE_NAME)
    assert copied and client.get("/settings").status_code == 200
    assert client.post("/logout", data={"csrf": csrf_of(client)}, follow_redirects=False).status_code == 303
    thief = TestClient(create_app(db, secret="s"))
    thief.cookies.set(COOKIE_NAME, copied)
    response = thief.get("/settings", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert login(TestClient(create_app(db, secret="s")), "sup").get("/settings").status_code == 200


def test_wrong_password_is_401_with_the_form_again(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post("/login", data={"name": "sup", "password": "nope-nope-nope", "csrf": token})
    assert response.status_code == 401 and 'name="password"' in response.text
    assert client.get("/queue", follow_redirects=False).status_code == 303


# --- CSRF --------------------------------------------------------------------------------------------------

def test_forms_without_the_session_token_are_403(client: TestClient) -> None:
    response = client.post("/login", data={"name": "sup", "password": PASSWORD})
    assert response.status_code == 403
    login(client, "sup")
    assert client.post("/settings", data={"language": "zh"}).status_code == 403
    assert client.post("/settings", data={"language": "zh", "csrf": "forged"}).status_code == 403
    token = csrf_of(client, "/settings")
    assert client.post("/settings", data={"language": "zh", "csrf": token}, follow_redirects=False).status_code == 303
    assert client.post("/settings", data={"language": "zh"}, headers={"X-CSRF-Token": token},
                       follow_redirects=False).status_code == 303


# --- throttling ------------------------------------------------------------------------------------------

def test_throttle_backs_off_exponentially_per_name_and_per_address() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(free=2, base_s=1.0, cap_s=8.0, clock=clock)
    waits = []
    for _ in range(6):
        throttle.failed("sup", "10.0.0.1")
        waits.append(throttle.retry_after("sup", "10.0.0.1"))
    assert waits == [0, 1, 2, 4, 8, 8]
    assert throttle.retry_after("SUP", "10.0.0.9") == 8  # same name from elsewhere
    assert throttle.retry_after("other", "10.0.0.1") == 8  # other name from the same address
    assert throttle.retry_after("other", "10.0.0.9") == 0
    clock.now += 8
    assert throttle.retry_after("sup", "10.0.0.1") == 0
    throttle.succeeded("sup")
    assert throttle.retry_after("sup", "10.0.0.9") == 0 and throttle.retry_after("x", "10.0.0.1") == 0


def test_login_is_throttled_with_429_and_retry_after_even_for_the_right_password(db: Path) -> None:
    clock = FakeClock()
    client = TestClient(create_app(db, secret="s", throttle=LoginThrottle(free=3, base_s=30, clock=clock)))
    token = csrf_of(client)
    codes = [client.post("/login", data={"name": "sup", "password": "wrong-wrong", "csrf": token}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    right = client.post("/login", data={"name": "sup", "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert right.status_code == 429 and right.headers["retry-after"] == "30"
    clock.now += 31
    right = client.post("/login", data={"name": "sup", "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert right.status_code == 303


def test_passwords_never_reach_the_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = csrf_of(client)
    client.post("/login", data={"name": "sup", "password": "a-wrong-secret-9", "csrf": token})
    client.post("/login", data={"name": "my-Password-in-the-name-box", "password": "x", "csrf": token})
    client.post("/login", data={"name": "sup", "password": PASSWORD, "csrf": token})
    text = "\n".join(r.getMessage() for r in caplog.records)
    tag = hashlib.sha256(b"sup").hexdigest()[:10]
    assert f"sign-in failed: name#{tag} from testclient" in text and "signed in: sup from testclient" in text
    assert text.count("POST /login 401") == 2 and "POST /login 303" in text
    for secret in ("a-wrong-secret-9", PASSWORD, "my-Password-in-the-name-box", "Password"):
        assert secret not in text


# --- languages -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("en;q=0.5, zh-TW;q=0.9", "zh"),
    ("", "en"), (None, "en"), ("fr-FR", "en"), ("*", "en"), ("zh", "zh"), ("zh;q=0, en", "en"),
])
def test_language_follows_the_browsers_first_choice(header: str | None, expected: str) -> None:
    assert language_from_header(header) == expected


def test_the_accounts_language_overrides_the_browser(client: TestClient, db: Path) -> None:
    assert pick_language("en", "zh-CN") == "en" and pick_language(None, "zh-CN") == "zh"
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in page.text and "登录" in page.text
    login(client, "sup")
    assert "复核队列" in client.get("/queue", headers={"Accept-Language": "zh-CN"}).text
    set_language(Store(db), "sup", "en")
    page = client.get("/queue", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in page.text and "Review queue" in page.text and "复核队列" not in page.text


def test_every_template_key_is_in_the_catalogue_in_both_languages() -> None:
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z0-9_./-]+)['"]""", path.read_text(encoding="utf-8")))
    families = {key for key in used if key.endswith(".")}  # t('verdict.' ~ v.verdict) and the like
    assert families == {"dispute.", "reason.", "role.", "verdict."}
    assert len(used) > 40
    assert sorted(used - families - set(CATALOGUE)) == []
    dynamic = [f"reason.{k}" for k in REASON_KINDS] + [f"verdict.{v}" for v in ("pass", "fail", "n/a", "uncertain")]
    dynamic += [f"role.{r}" for r in Role] + [f"dispute.{s}" for s in ("open", "upheld", "rejected")]
    assert [k for k in dynamic if k not in CATALOGUE] == []
    for key, (en, zh) in CATALOGUE.items():
        assert en.strip() and zh.strip(), key
        assert sorted(re.findall(r"{\w+(?::\w+)?}", en)) == sorted(re.findall(r"{\w+(?::\w+)?}", zh)), key  # any order
    assert translate("zh", "login.throttled", seconds=5) == "失败次数过多，请 5 秒后再试。"


# --- errors ----------------------------------------------------------------------------------------------

def test_unknown_pages_and_bad_fields_use_the_one_error_shape(client: TestClient) -> None:
    login(client, "sup")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and 'data-error-status="404"' in missing.text
    token = csrf_of(client, "/settings")
    bad = client.post("/settings", data={"language": "fr", "csrf": token})
    assert bad.status_code == 422 and "language" in bad.text and 'data-error-status="422"' in bad.text
    api = client.get("/api/nothing")
    assert api.status_code == 404
    assert api.json() == {"error": {"status": 404, "message": "Not found, or not yours to see."}}


def test_security_headers_on_every_page(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_a_crash_is_a_500_page_in_the_same_shape_and_logged(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    from scorecards.people import views

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "run_history", broken)
    login(client, "admin")
    crashing = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies)
    response = crashing.get("/runs")
    assert response.status_code == 500 and 'data-error-status="500"' in response.text and "boom" not in response.text
    assert any("GET /runs failed" in r.getMessage() for r in caplog.records)
