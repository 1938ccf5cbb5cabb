"""Sign in, sign out, the start page and the language setting."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from callqa.web.context import Person, person, render, session_of, set_session, text, web
from callqa.web.i18n import LANGUAGES
from core.errors import Invalid, NotFound
from scorecards.people.access import UserRole
from scorecards.people.accounts import authenticate, end_sessions, set_language

router = APIRouter()
log = logging.getLogger("callqa.web.auth")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): an open redirect would help phishing."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _tag(name: str) -> str:
    """A short digest of a failed login name: people type passwords into the name field, so it is never
    logged as typed; the digest still lets an operator see repeated attempts at one name."""
    return hashlib.sha256(name.strip().lower().encode()).hexdigest()[:10]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str = "/", expired: int = 0) -> Response:
    session_of(request)  # an anonymous session carries the login form's CSRF token
    message = text(request, "login.expired") if expired else None
    return render(request, "login.html", next=_safe_next(next), message=message)


@router.post("/login")
def login(request: Request, name: Annotated[str, Form()], password: Annotated[str, Form()],
          next: Annotated[str, Form()] = "/") -> Response:
    ctx = web(request)
    address = _client(request)
    wait = ctx.throttle.retry_after(name, address)
    if wait > 0:
        log.warning("sign-in throttled: name#%s from %s for %d s", _tag(name), address, wait)
        response = render(request, "login.html", status_code=429, next=_safe_next(next), name=name,
                          message=text(request, "login.throttled", seconds=wait))
        response.headers["Retry-After"] = str(wait)
        return response
    user = authenticate(ctx.store, name, password)
    if user is None:
        ctx.throttle.failed(name, address)
        log.info("sign-in failed: name#%s from %s", _tag(name), address)
        return render(request, "login.html", status_code=401, next=_safe_next(next), name=name,
                      message=text(request, "login.failed"))
    ctx.throttle.succeeded(name)
    log.info("signed in: %s from %s", user.user_id, address)
    set_session(request, session_of(request).signed_in(user.user_id, user.session_epoch))
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    # Clearing the cookie alone would leave a copied cookie valid until it expires: end the account's sessions.
    user_id = session_of(request).user_id
    if user_id is not None:
        with contextlib.suppress(NotFound):
            end_sessions(web(request).store, user_id)
    set_session(request, None)
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(who: Annotated[Person, Depends(person)]) -> Response:
    if who.viewer.role is UserRole.AGENT:
        return RedirectResponse("/me", status_code=303)
    return RedirectResponse("/queue", status_code=303)


@router.get("/settings")
def settings_page(request: Request, who: Annotated[Person, Depends(person)], saved: int = 0) -> Response:
    return render(request, "settings.html", languages=LANGUAGES, current=who.user.language, saved=bool(saved))


@router.post("/settings")
def save_settings(request: Request, who: Annotated[Person, Depends(person)],
                  language: Annotated[str, Form()] = "") -> Response:
    if language not in ("", *LANGUAGES):
        raise Invalid(f"language: {language!r} is not one of zh, en or empty (follow the browser)")
    set_language(web(request).store, who.user.user_id, language or None)
    return RedirectResponse("/settings?saved=1", status_code=303)
