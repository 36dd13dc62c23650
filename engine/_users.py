"""Users, passwords, browser sessions and API tokens: the storage side of signing in.

Passwords are hashed with Argon2id (argon2-cffi's defaults follow RFC 9106's second recommended
profile); a hash made with older parameters is upgraded at the next successful sign-in. A session
or API token is a random 256-bit secret given to the client once; the database keeps only its
SHA-256, so neither a database copy nor a backup can be used to sign in.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine._tables import ApiToken, Department, User, UserRole, WebSession, utcnow

__all__ = [
    "API_TOKEN_PREFIX",
    "SESSION_IDLE",
    "SESSION_MAX",
    "NewSession",
    "UserError",
    "check_password",
    "close_session",
    "create_api_token",
    "create_user",
    "hash_password",
    "hash_secret",
    "open_session",
]

#: A session ends after this long without a request (a shift, with a break).
SESSION_IDLE = timedelta(hours=10)
#: ... and in any case this long after sign-in.
SESSION_MAX = timedelta(hours=16)
#: API tokens start with this, so a leaked one is recognisable by secret scanners.
API_TOKEN_PREFIX = "wpt_"  # noqa: S105 - a prefix, not a secret

_hasher = PasswordHasher()
# Verifying against this when the user does not exist takes as long as a real check, so the
# response time does not tell an attacker which user names exist.
_DUMMY_HASH = _hasher.hash("not a real password")


class UserError(ValueError):
    """A user cannot be created as asked (unknown department, name taken, weak password)."""


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (salted; a PHC string with its parameters)."""
    return _hasher.hash(password)


def hash_secret(token: str) -> str:
    """The SHA-256 (hex) under which a session or API token is stored.

    A plain hash is right here, unlike for passwords: the tokens are 256 random bits.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(
    session: Session,
    username: str,
    *,
    display_name: str,
    department: str,
    roles: Iterable[str] = (),
    password: str | None = None,
) -> User:
    """Add a user of ``department`` with ``roles`` in it; raises :class:`UserError`.

    The department must already be published (it is, once ``waypost serve`` or ``waypost db
    publish`` has seen its folder). A user without a password cannot sign in to the web app
    (API tokens only).
    """
    username = username.strip()
    if not username or len(username) > 120 or any(c.isspace() for c in username):
        raise UserError("a user name is 1 to 120 characters with no spaces")
    if session.get(Department, department) is None:
        raise UserError(f"there is no department '{department}' (publish its definitions first)")
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise UserError(f"the user name '{username}' is taken")
    if password is not None and len(password) < 10:
        raise UserError("a password must be at least 10 characters long")
    user = User(
        id=str(uuid.uuid4()),
        username=username,
        display_name=display_name.strip() or username,
        department_id=department,
        password_hash=hash_password(password) if password is not None else None,
        active=True,
    )
    session.add(user)
    session.flush()
    for role in sorted(set(roles)):
        session.add(UserRole(user_id=user.id, department_id=department, role=role))
    session.flush()
    return user


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active user named ``username`` if ``password`` is theirs, else None (in constant time).

    Upgrades the stored hash when the hashing parameters have changed since it was made.
    """
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    stored = user.password_hash if user is not None and user.active else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    return user


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: ``token`` goes in the cookie and is never stored."""

    token: str
    csrf_token: str
    expires_at: datetime


def open_session(
    session: Session, user: User, *, ip: str | None = None, user_agent: str | None = None
) -> NewSession:
    """Start a browser session for ``user``."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    row = WebSession(
        id=hash_secret(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_MAX,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    return NewSession(token, row.csrf_token, row.expires_at)


def close_session(session: Session, token: str) -> None:
    """End the browser session whose cookie holds ``token`` (no error if it has already ended)."""
    session.execute(delete(WebSession).where(WebSession.id == hash_secret(token)))


def create_api_token(session: Session, user: User, name: str) -> str:
    """A new API token acting as ``user``; the caller shows it once, it is not stored."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:120], token_hash=hash_secret(token)))
    session.flush()
    return token
