"""The app factory: one FastAPI app over one callqa database.

Errors are translated here, once: every callqa error by the HTTP status it names (``core.errors``: not
found 404, forbidden 403, invalid 422, a database held too long by a run 503, anything else 500 with its
message), a missing or stale session → the login page (401 JSON under ``/api/``), a form without its CSRF
token → 403. Pages get an HTML error page, ``/api/`` paths ``{"error": {"status", "message"}}``.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount

from callqa.web import auth as auth_routes
from callqa.web import pages, review_routes
from callqa.web.context import (
    STATIC_DIR,
    TEMPLATES_DIR,
    CsrfFailed,
    LoginRequired,
    WebContext,
    WebSettings,
    language_of,
    render,
    session_of,
    write_session_cookie,
)
from callqa.web.i18n import translate
from callqa.web.security import LoginThrottle, SessionCodec, load_secret, tokens_match
from core.errors import CallQAError
from scorecards.store.database import Store

log = logging.getLogger("callqa.web")
access_log = logging.getLogger("callqa.web.access")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_SECURITY_HEADERS = {
    # Everything is vendored, so nothing outside this server is needed; no inline script or style anywhere.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


async def csrf_guard(request: Request) -> None:
    """Every unsafe request must send the session's CSRF token (form field ``csrf`` or ``X-CSRF-Token``)."""
    if request.method not in _UNSAFE:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not tokens_match(sent, session_of(request).csrf):
        if getattr(request.state, "session_expired", False):
            raise LoginRequired(expired=True)  # the form came from a session that has since ended
        raise CsrfFailed()


def create_app(db_path: str | Path, *, secret: str | None = None, settings: WebSettings | None = None,
               throttle: LoginThrottle | None = None) -> FastAPI:
    """The web app over the database at ``db_path``.

    Args:
        db_path: the callqa DuckDB file (made by ``callqa run`` or ``callqa demo``).
        secret: the cookie signing key; default ``$CALLQA_SECRET`` or the ``<db>.secret`` file.
        settings: session length, cookie and lock settings.
        throttle: the login throttle (tests pass one with a fake clock).
    """
    settings = settings or WebSettings()
    db_path = Path(db_path)
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.autoescape = True
    app = FastAPI(title="callqa", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(csrf_guard)])
    app.state.web = WebContext(
        store=Store(db_path, lock_timeout=settings.lock_timeout_s, read_linger=settings.read_linger_s),
        codec=SessionCodec(secret or load_secret(db_path), settings.session_max_age_s),
        throttle=throttle or LoginThrottle(),
        templates=templates,
        settings=settings,
        audio_cache=Path(tempfile.gettempdir()) / f"callqa-audio-{_digest(db_path)}",
    )
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(auth_routes.router)
    app.include_router(pages.router)
    app.include_router(review_routes.router)
    _install_error_handlers(app)
    app.middleware("http")(_session_and_headers)
    return app


def _digest(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, read from ``app.routes`` (static files as ``("MOUNT", path)``).

    FastAPI ≥ 0.150 keeps an included router as one entry pointing at the router; its routes are walked too.
    """
    found: list[tuple[str, str]] = []

    def walk(routes: Sequence[BaseRoute], prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                context = getattr(route, "include_context", None)
                walk(included.routes, prefix + str(getattr(context, "prefix", "") or ""))
            elif isinstance(route, APIRoute):
                found.extend((m, prefix + route.path) for m in sorted(route.methods or ()))
            elif isinstance(route, Mount):
                found.append(("MOUNT", prefix + route.path))
            else:
                found.append(("?", prefix + str(getattr(route, "path", route))))

    walk(app.routes, "")
    return found


async def _session_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    # One read connection for the request's session lookup and page (opened on first use, closed when the
    # handler is done), not one per query: opening the file is the costly part. A write in the request closes it.
    with Store.read_scope():
        response = await call_next(request)
    write_session_cookie(request, response)
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    # The path only: query strings may carry filter values, and no secret is ever in a path.
    access_log.info("%s %s %d %.0fms", request.method, request.url.path, response.status_code,
                    1000 * (time.perf_counter() - started))
    return response


def error_response(request: Request, status: int, message: str) -> Response:
    """The one error shape: JSON under ``/api/``, an HTML page elsewhere."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    return render(request, "error.html", status_code=status, status=status, message=message)


def _install_error_handlers(app: FastAPI) -> None:
    def lang_text(request: Request, key: str) -> str:
        return translate(language_of(request), key)

    async def login_required(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"status": 401, "message": "sign in first"}}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"  # after signing in, a browser cannot repeat the form; it goes to its start page
        expired = "&expired=1" if isinstance(exc, LoginRequired) and exc.expired else ""
        return RedirectResponse(f"/login?next={quote(target, safe='')}{expired}", status_code=303)

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(request, 404, lang_text(request, "error.404"))

    async def csrf_failed(request: Request, exc: Exception) -> Response:
        return error_response(request, 403, lang_text(request, "error.403") + " (CSRF)")

    async def bad_request(request: Request, exc: Exception) -> Response:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) + ": " + str(e.get("msg", ""))
                           for e in errors)
        return error_response(request, 422, f"{lang_text(request, 'error.422')} {fields}")

    async def callqa_error(request: Request, exc: Exception) -> Response:
        status = exc.http_status if isinstance(exc, CallQAError) else 500
        if status == 404:  # the same answer whether the thing is missing or not the viewer's to see
            return await not_found(request, exc)
        if status == 403:
            return error_response(request, 403, str(exc) or lang_text(request, "error.403"))
        if status == 422:
            return error_response(request, 422, f"{lang_text(request, 'error.422')} {exc}")
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        if status == 503:
            return error_response(request, 503, lang_text(request, "error.503"))
        return error_response(request, status, f"{lang_text(request, 'error.failed')} {exc}")

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        if status == 404:
            return await not_found(request, exc)
        detail = exc.detail if isinstance(exc, StarletteHTTPException) else "error"
        return error_response(request, status, str(detail))

    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(request, 500, lang_text(request, "error.500"))

    app.add_exception_handler(Exception, crashed)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfFailed, csrf_failed)
    app.add_exception_handler(RequestValidationError, bad_request)
    app.add_exception_handler(CallQAError, callqa_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
