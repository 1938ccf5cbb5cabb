"""Sessions, CSRF tokens, the app secret and login throttling for the web app.

The session is a signed cookie (itsdangerous, timestamped): it carries the user id, the account's
``session_epoch`` and the session's CSRF token, never a password or a role (the role is read from the
database on every request, so a changed or disabled account takes effect at once). An anonymous visitor
gets a cookie with a CSRF token only, so the login form is protected like every other form.
"""

from __future__ import annotations

import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.errors import CallQAError

SECRET_ENV = "CALLQA_SECRET"
COOKIE_NAME = "callqa_session"
DEFAULT_MAX_AGE_S = 8 * 3600  # one working shift
_SALT = "callqa-session-v1"


class SecretError(CallQAError):
    """The secret file cannot be read or made."""


def load_secret(db_path: Path) -> str:
    """The key that signs session cookies: ``$CALLQA_SECRET``, else a file beside the database.

    The file (``<db>.secret``, mode 0600) is made once with 32 random bytes, so sessions survive a restart
    and every worker process of one deployment shares it.

    Raises:
        SecretError: the file exists but is empty or unreadable, or cannot be created.
    """
    env = os.environ.get(SECRET_ENV, "").strip()
    if env:
        return env
    path = Path(f"{db_path}.secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            text = path.read_text(encoding="ascii").strip()
        except OSError as exc:
            raise SecretError(f"{path}: cannot read the session secret ({exc}); fix its permissions "
                              f"or set ${SECRET_ENV}") from exc
        if not text:
            raise SecretError(f"{path}: the session secret file is empty; delete it to make a new one") from None
        return text
    except OSError as exc:
        raise SecretError(f"{path}: cannot create the session secret ({exc}); set ${SECRET_ENV}") from exc
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value + "\n")
    return value


@dataclass(frozen=True, slots=True)
class Session:
    """What the session cookie says.

    Attributes:
        csrf: the token every form of this session must send back.
        user_id: the signed-in account, None for an anonymous visitor.
        epoch: the account's ``session_epoch`` when the person signed in.
    """

    csrf: str
    user_id: str | None = None
    epoch: int = 0

    @staticmethod
    def anonymous() -> Session:
        return Session(csrf=secrets.token_urlsafe(24))

    def signed_in(self, user_id: str, epoch: int) -> Session:
        """A new session for the user, with a fresh CSRF token (no token from before the login survives)."""
        return Session(csrf=secrets.token_urlsafe(24), user_id=user_id, epoch=epoch)


class SessionCodec:
    """Signs and reads session cookies; a cookie older than ``max_age_s`` reads as no session.

    Args:
        secret: the signing key.
        max_age_s: how long a session lasts after sign-in.
    """

    def __init__(self, secret: str, max_age_s: int = DEFAULT_MAX_AGE_S):
        self.max_age_s = max_age_s
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps({"c": session.csrf, "u": session.user_id, "e": session.epoch})

    def loads(self, cookie: str | None) -> Session | None:
        """The session in ``cookie``; None when it is missing, forged, malformed or expired."""
        return self.read(cookie)[0]

    def read(self, cookie: str | None) -> tuple[Session | None, bool]:
        """The session in ``cookie`` and whether it was a genuine one that expired."""
        if not cookie:
            return None, False
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
        except SignatureExpired:
            return None, True
        except BadSignature:
            return None, False
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None, False
        user = data.get("u")
        epoch = data.get("e")
        if (user is not None and not isinstance(user, str)) or not isinstance(epoch, int):
            return None, False
        return Session(csrf=data["c"], user_id=user, epoch=epoch), False


def tokens_match(sent: str | None, expected: str) -> bool:
    """Constant-time comparison of a sent CSRF token with the session's."""
    return bool(sent) and secrets.compare_digest(str(sent).encode(), expected.encode())


class LoginThrottle:
    """Exponential backoff after failed sign-ins, kept in memory per login name and per client address.

    The first ``free`` failures cost nothing; after that each failure doubles the wait, from ``base_s``
    up to ``cap_s``. Both keys count: guessing one name from many addresses and many names from one
    address are both slowed. A success clears the name's count (not the address's: one good account
    must not unlock guessing at others).

    Args:
        free: failures allowed before any wait.
        base_s: the first wait.
        cap_s: the longest wait.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, *, free: int = 3, base_s: float = 1.0, cap_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.free = free
        self.base_s = base_s
        self.cap_s = cap_s
        self._clock = clock
        self._lock = threading.Lock()
        self._fails: dict[str, tuple[int, float]] = {}  # key -> (failures, time of the last one)

    def _wait(self, key: str, now: float) -> float:
        count, last = self._fails.get(key, (0, 0.0))
        if count < self.free:
            return 0.0
        delay = min(self.cap_s, self.base_s * 2 ** (count - self.free))
        return max(0.0, last + delay - now)

    def retry_after(self, name: str, address: str) -> int:
        """Whole seconds before another attempt for this name from this address is allowed (0: now)."""
        now = self._clock()
        with self._lock:
            wait = max(self._wait(f"u:{name.lower()}", now), self._wait(f"a:{address}", now))
        return math.ceil(wait)

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (f"u:{name.lower()}", f"a:{address}"):
                count, _ = self._fails.get(key, (0, 0.0))
                self._fails[key] = (count + 1, now)
            if len(self._fails) > 100_000:  # bounded memory under a spray of names: drop the oldest half
                for key in sorted(self._fails, key=lambda k: self._fails[k][1])[:50_000]:
                    del self._fails[key]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._fails.pop(f"u:{name.lower()}", None)
