"""What every request handler needs: the store, the session codec, the throttle, templates, and who asks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from callqa.web.i18n import band_name, pick_language, translate
from callqa.web.security import COOKIE_NAME, LoginThrottle, Session, SessionCodec
from core.errors import ConfigError
from rules.evaluate import DEFAULT_MIN_FAIL_PRECISION
from scorecards.people import views
from scorecards.people.access import PII_CLEAR_ROLES, UserRole, Viewer
from scorecards.people.accounts import User, get_user
from scorecards.people.wording import Wording
from scorecards.store.database import Store

log = logging.getLogger("callqa.web")
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Knobs of the web app.

    Attributes:
        session_max_age_s: a session ends this long after sign-in.
        secure_cookies: mark the cookie Secure; None: when the request came over https.
        lock_timeout_s: how long a page waits for the nightly run to release the database.
        read_linger_s: how long the database file stays open after the last request (warm cache for the next;
            a nightly run that waits for the file still gets it within ~50 ms).
        min_agreement: rule-health items below this reviewer agreement are flagged.
        min_fail_precision: rule-health items whose reviewed fails were upheld less often are flagged (the
            gate of ``callqa rules eval``).
        queue_page_size: rows per review-queue page.
        sample_per_agent_week: calls per agent and week put in the queue at random (good calls heard too).
        anger_threshold: customer anger from which a call goes to the queue.
        pii_clear_roles: the roles holding ``pii:clear``: they may hear a call's recording and read its transcript
            with the personal data in clear (every time audited); everyone else hears silence and reads
            placeholders.
        pii_access_page_size: rows per page of the audit of clear reads (``/admin/pii-access``).
    """

    session_max_age_s: int = 8 * 3600
    secure_cookies: bool | None = None
    lock_timeout_s: float = 60.0
    read_linger_s: float = 5.0
    min_agreement: float = 0.8
    min_fail_precision: float = DEFAULT_MIN_FAIL_PRECISION
    queue_page_size: int = 50
    sample_per_agent_week: int = views.SAMPLE_PER_AGENT_WEEK
    anger_threshold: float = views.ANGER_THRESHOLD
    pii_clear_roles: tuple[str, ...] = PII_CLEAR_ROLES
    pii_access_page_size: int = 50

    def __post_init__(self) -> None:
        unknown = sorted(set(self.pii_clear_roles) - {r.value for r in UserRole})
        if unknown:  # a misspelt role would quietly take the permission from everyone meant to hold it
            raise ConfigError(f"pii_clear_roles: {', '.join(unknown)} is not a role "
                              f"({', '.join(r.value for r in UserRole)})")


@dataclass(slots=True)
class WebContext:
    """Shared by every request of one app (attached as ``app.state.web``)."""

    store: Store
    codec: SessionCodec
    throttle: LoginThrottle
    templates: Jinja2Templates
    settings: WebSettings
    audio_cache: Path  # recordings converted for browsers (GSM, ADPCM WAV …)


class LoginRequired(Exception):
    """No valid session: redirect to the login page (401 for the JSON API)."""

    def __init__(self, expired: bool = False):
        super().__init__("login required")
        self.expired = expired


class CsrfFailed(Exception):
    """A form came without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class Person:
    """The signed-in person behind a request."""

    user: User
    viewer: Viewer
    language: str


def web(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def session_of(request: Request) -> Session:
    """The request's session, anonymous (with a new CSRF token, sent back as a cookie) when it has none."""
    current = getattr(request.state, "session", None)
    if current is not None:
        return current
    session, expired = web(request).codec.read(request.cookies.get(COOKIE_NAME))
    request.state.session_expired = expired
    if session is None:
        session = Session.anonymous()
        request.state.new_session = session
    request.state.session = session
    return session


def set_session(request: Request, session: Session | None) -> None:
    """Replace the session (sign-in, sign-out); the middleware writes the cookie on the response."""
    request.state.session = session
    request.state.new_session = session if session is not None else Session.anonymous()


def write_session_cookie(request: Request, response: Response) -> None:
    """Send the cookie when the request made or replaced its session."""
    session = getattr(request.state, "new_session", None)
    if session is None:
        return
    ctx = web(request)
    secure = ctx.settings.secure_cookies
    if secure is None:
        secure = request.url.scheme == "https"
    response.set_cookie(COOKIE_NAME, ctx.codec.dumps(session), max_age=ctx.settings.session_max_age_s,
                        httponly=True, samesite="lax", secure=secure, path="/")


def person(request: Request) -> Person:
    """The signed-in person (a FastAPI dependency).

    Raises:
        LoginRequired: no session, or the account was disabled or its sessions ended (session_epoch).
    """
    cached = getattr(request.state, "person", None)
    if cached is not None:
        return cached
    session = session_of(request)
    if session.user_id is None:
        raise LoginRequired(expired=bool(getattr(request.state, "session_expired", False)))
    user = get_user(web(request).store, session.user_id)
    if user is None or user.disabled or user.session_epoch != session.epoch:
        raise LoginRequired(expired=True)
    found = Person(user, user.viewer, pick_language(user.language, request.headers.get("accept-language")))
    request.state.person = found
    return found


def language_of(request: Request) -> str:
    found = getattr(request.state, "person", None)
    if found is not None:
        return found.language
    return pick_language(None, request.headers.get("accept-language"))


def words_of(request: Request) -> Wording:
    """The request's :class:`Wording` (one per request: a chart and its page share what it has read)."""
    found = getattr(request.state, "words", None)
    if found is None:
        found = request.state.words = Wording(web(request).store, language_of(request))
    return found


def text(request: Request, key: str, **values: object) -> str:
    """The message ``key`` in the request's language."""
    return translate(language_of(request), key, **values)


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> Response:
    """A page: ``template`` with the request's language, person, CSRF token and ``values``."""
    lang = language_of(request)

    def t(key: str, **kw: object) -> str:
        return translate(lang, key, **kw)

    def band(name: str | None) -> str:
        return band_name(lang, name)

    me = getattr(request.state, "person", None)
    authors = me is not None and me.viewer.role in (UserRole.ADMIN, UserRole.QA)  # see rule ids as tooltips
    context = {"request": request, "t": t, "band": band, "lang": lang, "words": words_of(request),
               "me": me, "authors": authors, "csrf": session_of(request).csrf, **values}
    return web(request).templates.TemplateResponse(request, template, context, status_code=status_code)
