"""Signing in and out: ``GET``/``POST /login``, ``POST /logout`` and the sign-in rate limiter.

Signing in checks the password (Argon2id, :mod:`engine._users`), opens a new session and sets the
``wp_session`` cookie (HttpOnly, SameSite=Lax, Secure over https). A new session is opened on
every sign-in and any session the browser brought along is closed, so an id planted before
sign-in is never promoted (session fixation).

The sign-in form is posted before any session exists, so it is protected by a signed
double-submit token: the same random value in a short-lived ``wp_login_csrf`` cookie (SameSite
Strict) and in a hidden field. Another site can neither read the cookie nor make the browser send
it with a cross-site post.

:class:`LoginLimiter` counts failures in the ``login_attempts`` table, so every web process sees
the same counts: more than :data:`USER_FAILURES` for a user name or :data:`ADDRESS_FAILURES` from
one address within :data:`WINDOW` and further attempts get a 429 without a password check.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, text, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine._audit import record, record_now, request_detail
from engine._database import Database
from engine._principal import COOKIE, CSRF_FIELD, Principal, check_csrf
from engine._tables import LoginAttempt, utcnow
from engine._users import SESSION_MAX, NewSession, check_password, close_session, hash_secret, open_session
from engine._web_common import context_of, page, principal_of

__all__ = [
    "ADDRESS_FAILURES",
    "BAD_CREDENTIALS",
    "LOGIN_CSRF_COOKIE",
    "LOGIN_CSRF_MAX_AGE",
    "SECRET_KEY_ENV",
    "USER_FAILURES",
    "WINDOW",
    "Gate",
    "LoginLimiter",
    "login_token",
    "routes",
    "safe_next",
]

LOGIN_CSRF_COOKIE = "wp_login_csrf"
#: Seconds a sign-in form stays valid (a form left open longer is shown again, with a new token).
LOGIN_CSRF_MAX_AGE = 3600
#: The key signing sign-in form tokens; web processes behind one load balancer must share it.
SECRET_KEY_ENV = "WAYPOST_SECRET_KEY"  # noqa: S105 - the name of a variable, not a secret
USER_FAILURES = 5
ADDRESS_FAILURES = 30
WINDOW = timedelta(minutes=15)
#: The one message for a wrong password and an unknown user: which it was is not for a guesser.
BAD_CREDENTIALS = "Enter a correct user name and password"
_EXPIRED_FORM = "This page had expired. Enter your user name and password again"
# Used when $WAYPOST_SECRET_KEY is not set: fine for one process, as `waypost serve` runs.
_PROCESS_KEY = secrets.token_bytes(32)


# Sign-in form tokens -----------------------------------------------------------------------------


def _key() -> bytes:
    configured = os.environ.get(SECRET_KEY_ENV, "")
    return configured.encode("utf-8") if configured else _PROCESS_KEY


def _sign(message: str) -> str:
    return hmac.new(_key(), message.encode("ascii"), hashlib.sha256).hexdigest()


def login_token(issued: float | None = None) -> str:
    """A new sign-in form token, ``<issued>.<nonce>.<signature>``, for the cookie and the field."""
    body = f"{int(time.time() if issued is None else issued)}.{secrets.token_urlsafe(24)}"
    return f"{body}.{_sign(body)}"


def _token_age(token: str) -> float | None:
    """Seconds since ``token`` was issued, or None when it is malformed, forged or expired."""
    body, _, signature = token.rpartition(".")
    issued, _, nonce = body.partition(".")
    if not (issued.isdigit() and nonce and len(token) < 200):
        return None
    if not hmac.compare_digest(signature.encode("ascii", "replace"), _sign(body).encode("ascii")):
        return None
    age = time.time() - int(issued)
    return age if -60 <= age < LOGIN_CSRF_MAX_AGE else None


def _login_csrf_ok(request: Request, submitted: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode("utf-8"), submitted.encode("utf-8")):
        return False
    return _token_age(cookie) is not None


# Redirect targets ------------------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site, else ``"/"``: sign-in never sends anyone away.

    ``//host`` and ``/\\host`` are refused (browsers read both as another host), and so is any
    control character (browsers drop tabs and newlines, so ``/<tab>/host`` becomes ``//host``).
    """
    if not value or len(value) > 2000 or not value.startswith("/") or value[1:2] in ("/", "\\"):
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) or value.startswith(("/login", "/logout")):
        return "/"
    return value


# Rate limiting ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gate:
    """The limiter's answer: ``attempt_id`` of the recorded attempt, or ``retry_after`` seconds."""

    attempt_id: int | None
    retry_after: int = 0


class LoginLimiter:
    """Counts sign-in failures per user name and per address in the database.

    Each attempt is counted and recorded (as a failure) in one transaction under a lock on the
    user name and the address, so concurrent attempts in different processes are counted one
    after another and never get more than the allowed number of password checks between them.
    An attempt refused by the limit is not recorded: it checked no password, and counting it
    would keep an officer locked out for as long as someone else keeps trying. ``clock`` gives
    the time (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = utcnow,
        per_user: int = USER_FAILURES,
        per_address: int = ADDRESS_FAILURES,
        window: timedelta = WINDOW,
    ) -> None:
        self.clock = clock
        self.per_user = per_user
        self.per_address = per_address
        self.window = window

    def admit(self, db: Database, username: str, ip: str) -> Gate:
        """Record an attempt; a Gate with its id, or with the seconds to wait when over the limit.

        Counting and recording happen in one transaction that holds a lock on the user name and
        on the address (PostgreSQL advisory locks, always taken in that order; SQLite writers are
        serialised already), so concurrent attempts are counted one after another: never more
        than the limit get a password check, and the first ones always do.
        """
        now = self.clock()
        username, ip = username[:120], ip[:64]
        since = now - self.window
        failed = (LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
        with db.session() as session:
            if db.is_postgres:
                for key in (f"waypost:login:user:{username}", f"waypost:login:ip:{ip}"):
                    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
            waits = [
                self._wait(session, LoginAttempt.username == username, failed, self.per_user, now),
                self._wait(session, LoginAttempt.ip == ip, failed, self.per_address, now),
            ]
            if max(waits) > 0:
                return Gate(None, max(waits))
            row = LoginAttempt(username=username, ip=ip, at=now, succeeded=False)
            session.add(row)
            session.flush()
            return Gate(row.id)

    def _wait(
        self,
        session: Session,
        who: ColumnElement[bool],
        failed: tuple[ColumnElement[bool], ...],
        limit: int,
        now: datetime,
    ) -> int:
        """Seconds until fewer than ``limit`` earlier failures of ``who`` are in the window (0: none)."""
        query = select(LoginAttempt.at).where(who, *failed).order_by(LoginAttempt.at.desc()).limit(limit)
        recent = session.scalars(query).all()
        if len(recent) < limit:
            return 0
        # The limit-th most recent failure is the one whose leaving the window lifts the block.
        return max(1, math.ceil((recent[-1] + self.window - now).total_seconds()))

    @staticmethod
    def succeeded(session: Session, attempt_id: int) -> None:
        """Mark an attempt as a successful sign-in (it then counts against nobody)."""
        session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(succeeded=True))


_DEFAULT_LIMITER = LoginLimiter()


def limiter_of(request: Request) -> LoginLimiter:
    """The app's limiter: ``app.state.login_limiter`` when set (tests give a fake clock)."""
    limiter: LoginLimiter = getattr(request.app.state, "login_limiter", _DEFAULT_LIMITER)
    return limiter


# Pages -----------------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _form_page(
    request: Request,
    *,
    status: int = 200,
    token: str | None = None,
    errors: list[tuple[str, str]] | None = None,
    field_errors: dict[str, str] | None = None,
    username: str = "",
    next_path: str = "/",
    notice: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The sign-in page; its token is set in the cookie too (a fresh one unless ``token`` is given)."""
    token = token or login_token()
    response = page(
        request,
        "login.html",
        status=status,
        title="Sign in",
        login_token=token,
        errors=errors or [],
        field_errors=field_errors or {},
        username=username,
        next_path=next_path,
        notice=notice,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_CSRF_MAX_AGE,
        path="/login",
        secure=_https(request),
        httponly=True,
        samesite="strict",
    )
    if headers:
        response.headers.update(headers)
    return response


async def login_form(request: Request) -> Response:
    """``GET /login``: the sign-in form (or straight on, when already signed in)."""
    context_of(request).require_storage()
    next_path = safe_next(request.query_params.get("next"))
    if principal_of(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    # Keep a still-fresh token, so two tabs showing the sign-in page do not invalidate each other.
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    age = _token_age(current) if current else None
    token = current if age is not None and age < LOGIN_CSRF_MAX_AGE / 2 else None
    notice = "You have signed out." if request.query_params.get("signed_out") == "1" else None
    return _form_page(request, token=token, next_path=next_path, notice=notice)


async def login(request: Request) -> Response:
    """``POST /login``: check the token, the limit and the password; then open a session."""
    db, _ = context_of(request).require_storage()
    form = await request.form(max_files=0, max_fields=20)
    next_path = safe_next(_text(form, "next"))
    if principal_of(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    username, password = _text(form, "username").strip(), _text(form, "password")
    token = _text(form, CSRF_FIELD)
    if not _login_csrf_ok(request, token):
        errors = [("#f-username", _EXPIRED_FORM)]
        return _form_page(request, status=403, errors=errors, username=username, next_path=next_path)
    # The pages below show the form again with the same (valid) token.
    again = functools.partial(_form_page, request, token=token, username=username, next_path=next_path)
    missing = {"username": "Enter your user name"} if not username else {}
    missing |= {"password": "Enter your password"} if not password else {}
    if missing:
        return again(status=400, errors=[(f"#f-{k}", v) for k, v in missing.items()], field_errors=missing)
    ip = (request.client.host if request.client else "") or "unknown"
    gate = await run_in_threadpool(limiter_of(request).admit, db, username, ip)
    if gate.attempt_id is None:
        minutes = math.ceil(gate.retry_after / 60)
        unit = "minute" if minutes == 1 else "minutes"
        errors = [("#f-username", f"Too many attempts to sign in. Wait {minutes} {unit}, then try again")]
        headers = {"Retry-After": str(gate.retry_after)}
        refused = {"username": username[:120], "reason": "rate_limited"}
        await run_in_threadpool(record_now, db, request, action="login_failed", record_type="user", **refused)
        return again(status=429, errors=errors, headers=headers)
    old = request.cookies.get(COOKIE)
    seen = request_detail(request, ip=ip)
    opened = await run_in_threadpool(_sign_in, db, gate.attempt_id, username, password, seen, old)
    if opened is None:
        return again(status=400, errors=[("#f-username", BAD_CREDENTIALS)])
    if old:
        _forget(request, old)
    response = RedirectResponse(next_path, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        opened.token,
        max_age=int(SESSION_MAX.total_seconds()),
        path="/",
        secure=_https(request),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login", secure=_https(request), httponly=True)
    return response


def _sign_in(
    db: Database, attempt_id: int, username: str, password: str, seen: dict[str, str], old: str | None
) -> NewSession | None:
    """Check the password; on success mark the attempt, close any old session, open a new one.

    Either way the attempt is audited in the same transaction (``seen``: where it came from).
    """
    with db.session() as session:
        user = check_password(session, username, password)
        if user is None:
            tried = seen | {"username": username[:120]}
            record(session, actor=None, action="login_failed", record_type="user", detail=tried)
            return None
        LoginLimiter.succeeded(session, attempt_id)
        if old:
            close_session(session, old)
        record(session, actor=user.id, action="login", record_type="user", record_id=user.id, detail=seen)
        return open_session(session, user, ip=seen.get("ip"), user_agent=seen.get("user_agent"))


def _forget(request: Request, token: str) -> None:
    principals = context_of(request).principals
    if principals is not None:
        principals.forget(hash_secret(token))


async def logout(request: Request) -> Response:
    """``POST /logout``: end the session (here and, within seconds, in every process)."""
    db, _ = context_of(request).require_storage()
    form = await request.form(max_files=0, max_fields=20)
    check_csrf(request, _text(form, CSRF_FIELD))
    token = request.cookies.get(COOKIE)
    if token:
        await run_in_threadpool(_close, db, token, request_detail(request), principal_of(request))
        _forget(request, token)
    response = RedirectResponse("/login?signed_out=1", status_code=303, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/", secure=_https(request), httponly=True, samesite="lax")
    return response


def _close(db: Database, token: str, seen: dict[str, str], principal: Principal | None) -> None:
    with db.session() as session:
        close_session(session, token)
        who = principal.user_id if principal else None
        record(session, actor=who, action="logout", record_type="user", record_id=who, detail=seen)


def routes() -> list[BaseRoute]:
    """The routes this module serves."""
    return [
        Route("/login", login_form, methods=["GET"], name="login_form"),
        Route("/login", login, methods=["POST"], name="login"),
        Route("/logout", logout, methods=["POST"], name="logout"),
    ]
