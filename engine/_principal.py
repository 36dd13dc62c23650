"""Who is asking: the signed-in user of a request, and the checks every route makes.

:class:`AuthMiddleware` resolves the session cookie (browsers) or the ``Authorization: Bearer``
token (API clients) to a :class:`Principal` on ``request.state.principal`` (None when nobody is
signed in). Routes then call :func:`require_user` (and :func:`require_role`) and, for every form
post made with a session cookie, :func:`check_csrf`. Permissions are always checked here, on the
server; what a page hides is never the protection.

Resolving costs a database read, so a principal is cached in-process for :data:`CACHE_SECONDS`:
signing out ends the session at once in this process and within that time in the others.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from engine._database import Database
from engine._tables import ApiToken, User, UserRole, WebSession, utcnow
from engine._users import API_TOKEN_PREFIX, SESSION_IDLE, hash_secret

__all__ = [
    "CACHE_SECONDS",
    "COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "AuthMiddleware",
    "Principal",
    "PrincipalCache",
    "check_csrf",
    "mask_csrf",
    "require_role",
    "require_user",
    "unmask_csrf",
]

COOKIE = "wp_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CACHE_SECONDS = 5.0
# last_seen_at is written at most this often per session: a write per request would cost more
# than the idle timeout's precision is worth.
_TOUCH_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user as the routes see them.

    ``roles`` are (department, role) pairs. ``via`` says how they signed in: a browser
    ``session`` (form posts then need the CSRF token) or an API ``token``.
    """

    user_id: str
    username: str
    display_name: str
    department_id: str
    roles: frozenset[tuple[str, str]]
    via: Literal["session", "token"]
    session_id: str | None = None
    csrf_token: str | None = None

    def has_role(self, role: str, department: str | None = None) -> bool:
        """True when the user holds ``role`` in ``department`` (default: their own)."""
        return (department or self.department_id, role) in self.roles

    @property
    def works_tasks(self) -> bool:
        """True when the user holds a role beyond ``officer`` (the header then links the inbox)."""
        return any(role != "officer" for _, role in self.roles)

    def roles_in(self, department: str) -> frozenset[str]:
        """The roles the user holds in ``department``."""
        return frozenset(r for d, r in self.roles if d == department)


class PrincipalCache:
    """Looks principals up by session or token hash, keeping each for :data:`CACHE_SECONDS`."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._touched: dict[str, float] = {}

    def forget(self, secret_hash: str) -> None:
        """Drop a cached entry (after sign-out, so this process sees it at once)."""
        self._cache.pop(secret_hash, None)

    def cached(self, secret: str) -> tuple[bool, Principal | None]:
        """``(True, principal)`` when ``secret`` was resolved less than CACHE_SECONDS ago.

        Cheap and without I/O, so the middleware asks here before it hands the database
        lookup to a worker thread.
        """
        hit = self._cache.get(hash_secret(secret))
        if hit is not None and self.clock() - hit[0] < CACHE_SECONDS:
            return True, hit[1]
        return False, None

    def resolve(self, secret: str, kind: Literal["session", "token"]) -> Principal | None:
        """The principal for a cookie or bearer token, or None when it is unknown or expired."""
        key = hash_secret(secret)
        now = self.clock()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        principal = self._load(key, kind)
        if len(self._cache) > 10_000:  # a flood of made-up cookies must not grow memory forever
            self._cache.clear()
        self._cache[key] = (now, principal)
        return principal

    def _load(self, key: str, kind: Literal["session", "token"]) -> Principal | None:
        now = utcnow()
        with self.db.session() as session:
            if kind == "session":
                row = session.get(WebSession, key)
                if row is None or row.expires_at <= now or row.last_seen_at + SESSION_IDLE <= now:
                    return None
                user_id, csrf, session_id = row.user_id, row.csrf_token, row.id
                if self.clock() - self._touched.get(key, -_TOUCH_EVERY) >= _TOUCH_EVERY:
                    row.last_seen_at = now
                    self._touched[key] = self.clock()
            else:
                token = session.scalars(select(ApiToken).where(ApiToken.token_hash == key)).first()
                if token is None or token.revoked_at is not None:
                    return None
                user_id, csrf, session_id = token.user_id, None, None
                session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
            user = session.get(User, user_id)
            if user is None or not user.active:
                return None
            roles = session.execute(
                select(UserRole.department_id, UserRole.role).where(UserRole.user_id == user.id)
            ).all()
            return Principal(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name,
                department_id=user.department_id,
                roles=frozenset((d, r) for d, r in roles),
                via=kind,
                session_id=session_id,
                csrf_token=csrf,
            )


class AuthMiddleware:
    """Sets ``request.state.principal`` from the session cookie or a bearer token.

    ``cache`` is read from ``app.state.waypost.principals`` at request time when not given, so
    the app can create it in its lifespan, once the database is open.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        principal: Principal | None = None
        cache: PrincipalCache | None = getattr(conn.app.state.waypost, "principals", None)
        if cache is not None:
            auth = conn.headers.get("authorization", "")
            scheme, _, credential = auth.partition(" ")
            if scheme.lower() == "bearer" and credential.strip().startswith(API_TOKEN_PREFIX):
                principal = await _resolve(cache, credential.strip(), "token")
            elif cookie := conn.cookies.get(COOKIE):
                principal = await _resolve(cache, cookie, "session")
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


async def _resolve(cache: PrincipalCache, secret: str, kind: Literal["session", "token"]) -> Principal | None:
    known, principal = cache.cached(secret)
    if known:
        return principal
    return await run_in_threadpool(cache.resolve, secret, kind)


def mask_csrf(token: str) -> str:
    """``token`` as it goes into a page: XORed with a fresh random pad, the pad in front.

    Every page then carries different bytes for the same secret, so compressing a page that also
    reflects what an attacker sent cannot reveal the token one guessed byte at a time (BREACH).
    """
    raw = token.encode("utf-8")
    pad = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(pad, raw, strict=True))).decode()


def unmask_csrf(masked: str) -> str | None:
    """The token inside a :func:`mask_csrf` value, or None when ``masked`` is not one."""
    try:
        data = base64.urlsafe_b64decode(masked.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    half = len(data) // 2
    if not data or len(data) % 2:
        return None
    try:
        return bytes(a ^ b for a, b in zip(data[:half], data[half:], strict=True)).decode("utf-8")
    except UnicodeDecodeError:
        return None


def require_user(request: HTTPConnection) -> Principal:
    """The signed-in principal; otherwise 401 (a browser page is sent to the sign-in page).

    API paths (``/api/...``) and JSON clients get a 401 JSON error; pages get a 303 redirect to
    ``/login?next=...``.
    """
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        return principal
    path = request.url.path
    if path.startswith("/api/") or "json" in request.headers.get("accept", "").split(",")[0]:
        raise HTTPException(401, "Sign in first: send an API token as 'Authorization: Bearer ...'.")
    target = path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target, safe='/')}"
    raise HTTPException(303, "Sign in to continue.", headers={"Location": location})


def require_role(request: HTTPConnection, role: str, department: str | None = None) -> Principal:
    """The signed-in principal if they hold ``role`` in ``department``; otherwise 403."""
    principal = require_user(request)
    if not principal.has_role(role, department):
        where = department or principal.department_id
        raise HTTPException(403, f"This needs the role '{role}' in {where}.")
    return principal


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (403) a post made with a session cookie whose CSRF token is missing or wrong.

    ``submitted`` is the form's ``csrf_token`` field; the ``X-CSRF-Token`` header is accepted
    too (for the page's own fetch calls). Requests authenticated by API token need no token:
    a browser never sends one on its own.
    """
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or principal.via != "session":
        return
    given = submitted or request.headers.get(CSRF_HEADER) or ""
    expected = principal.csrf_token or ""
    given = unmask_csrf(given) or given
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "This form has expired. Go back, reload the page and try again.")
