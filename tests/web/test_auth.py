"""Signing in and out through the real app: cookies, CSRF, redirects, sessions and API tokens.

Each test runs the whole app on a fresh SQLite database; the rate limiter's tests (at the end)
run on PostgreSQL too, with a fake clock. A tiny ``/_whoami`` route is mounted on the test app to
show who the request was made by.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from engine._database import Database
from engine._principal import COOKIE
from engine._tables import ApiToken, LoginAttempt, User, WebSession, utcnow
from engine._users import SESSION_IDLE, create_api_token, hash_secret
from engine._web import WebConfig, create_app
from engine._web_auth import (
    ADDRESS_FAILURES,
    BAD_CREDENTIALS,
    LOGIN_CSRF_COOKIE,
    USER_FAILURES,
    LoginLimiter,
    login_token,
    safe_next,
)
from tests.engine.conftest import FakeClock, SchemaPool, schema_url
from tests.web.support import PASSWORD, ensure_user

FORCE = Path("examples/demo-force")


async def _whoami(request: Request) -> JSONResponse:
    principal = request.state.principal
    if principal is None:
        return JSONResponse({"user": None})
    return JSONResponse({"user": principal.username, "via": principal.via})


def make_client(url: str, *, base_url: str = "http://testserver") -> Iterator[TestClient]:
    """A client of the whole app on ``url``, with ``/_whoami`` mounted."""
    app = create_app(WebConfig(FORCE, database_url=url, worker=False))
    app.router.routes.append(Route("/_whoami", _whoami))
    with TestClient(app, base_url=base_url) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(f"sqlite:///{tmp_path}/t.db")


def db_of(client: TestClient) -> Database:
    db: Database | None = client.app.state.waypost.db  # type: ignore[attr-defined]
    assert db is not None
    return db


def form_token(client: TestClient, path: str = "/login") -> str:
    """GET the sign-in page; the token of its form (the cookie now holds the same)."""
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def post_login(client: TestClient, username: str, password: str, next_path: str = "/", token: str = ""):
    data = {"username": username, "password": password, "next": next_path, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False)


def whoami(client: TestClient, **headers: str) -> object:
    return client.get("/_whoami", headers=headers).json()["user"]


def cookie_header(response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def sign_in_by_form(client: TestClient, username: str = "pc.smith") -> str:
    """Sign in through the form; the session cookie's value."""
    ensure_user(db_of(client), username, "response")
    response = post_login(client, username, PASSWORD, "/", form_token(client))
    assert response.status_code == 303, response.text
    return client.cookies[COOKIE]


def test_sign_in_sets_a_strict_cookie_whose_value_is_stored_only_as_a_hash(client: TestClient) -> None:
    db = db_of(client)
    ensure_user(db, "pc.smith", "response")
    token = form_token(client, "/login?next=/tasks%3Fpage%3D2")
    response = post_login(client, "pc.smith", PASSWORD, "/tasks?page=2", token)
    assert response.status_code == 303
    assert response.headers["location"] == "/tasks?page=2"
    cookie = cookie_header(response, COOKIE)
    for part in ("HttpOnly", "SameSite=lax", "Path=/", f"Max-Age={16 * 3600}"):
        assert part in cookie
    assert "Secure" not in cookie  # plain http here: a Secure cookie would never come back
    value = client.cookies[COOKIE]
    with db.session() as session:
        rows = session.scalars(select(WebSession)).all()
        attempts = session.scalars(select(LoginAttempt)).all()
    assert [row.id for row in rows] == [hash_secret(value)]
    assert all(value not in (row.id, row.csrf_token) for row in rows)
    assert [(a.username, a.succeeded) for a in attempts] == [("pc.smith", True)]
    assert whoami(client) == "pc.smith"
    assert 'wp_login_csrf=""' in cookie_header(response, LOGIN_CSRF_COOKIE)  # used up


def test_wrong_password_and_unknown_user_get_the_same_answer_and_are_both_recorded(
    client: TestClient,
) -> None:
    db = db_of(client)
    ensure_user(db, "pc.smith", "response")
    token = form_token(client)
    wrong = post_login(client, "pc.smith", "not the password", token=token)
    unknown = post_login(client, "pc.nobody", PASSWORD, token=token)
    assert wrong.status_code == unknown.status_code == 400
    for response, name in ((wrong, "pc.smith"), (unknown, "pc.nobody")):
        assert BAD_CREDENTIALS in response.text
        assert response.text.replace(name, "NAME") == wrong.text.replace("pc.smith", "NAME")
        assert 'role="alert"' in response.text
        assert 'href="#f-username"' in response.text
        assert COOKIE not in response.headers.get("set-cookie", "")
    assert PASSWORD not in unknown.text  # the password is never sent back
    with db.session() as session:
        attempts = session.execute(select(LoginAttempt.username, LoginAttempt.succeeded)).all()
        assert session.scalars(select(WebSession)).all() == []
    assert sorted(attempts) == [("pc.nobody", False), ("pc.smith", False)]


def test_missing_fields_are_named_and_no_attempt_is_counted(client: TestClient) -> None:
    response = post_login(client, "  ", "", token=form_token(client))
    assert response.status_code == 400
    assert "Enter your user name" in response.text
    assert "Enter your password" in response.text
    assert 'id="f-password-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    with db_of(client).session() as session:
        assert session.scalars(select(LoginAttempt)).all() == []


# (cookie, field) pairs a sign-in post may carry, none of them acceptable.
BAD_FORM_TOKENS = {
    "neither (a cross-site post)": (None, None),
    "the cookie without the field": ("same", None),
    "a field that is not the cookie's": ("same", "other"),
    "equal, but not signed by the server": ("forged", "forged"),
    "equal and signed, but two hours old": ("expired", "expired"),
}


def test_a_sign_in_without_the_matching_form_token_is_refused(client: TestClient) -> None:
    ensure_user(db_of(client), "pc.smith", "response")
    values = {
        "same": login_token(),
        "other": login_token(),
        "forged": f"{int(time.time())}.abc.{'0' * 64}",
        "expired": login_token(time.time() - 7200),
    }
    for case, (cookie, field) in BAD_FORM_TOKENS.items():
        client.cookies.clear()
        if cookie is not None:
            client.cookies.set(LOGIN_CSRF_COOKIE, values[cookie], path="/login")
        response = post_login(client, "pc.smith", PASSWORD, token=values[field] if field else "")
        assert response.status_code == 403, case
        assert "This page had expired" in response.text
        assert COOKIE not in client.cookies
    with db_of(client).session() as session:
        assert session.scalars(select(WebSession)).all() == []
        assert session.scalars(select(LoginAttempt)).all() == []
    # The refusal carries a fresh token, so the officer can simply try again.
    again = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert again is not None
    assert post_login(client, "pc.smith", PASSWORD, token=again.group(1)).status_code == 303


OFF_SITE = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "evil",
    "/logout",
    "",
]


def test_next_never_leads_off_the_site(client: TestClient) -> None:
    ensure_user(db_of(client), "pc.smith", "response")
    token = form_token(client)
    for target in OFF_SITE:
        response = post_login(client, "pc.smith", PASSWORD, target, token)
        assert (response.status_code, response.headers["location"]) == (303, "/"), target
        assert safe_next(target) == "/"
        client.cookies.delete(COOKIE)  # signed out again, for the next target
        client.cookies.set(LOGIN_CSRF_COOKIE, token, domain="testserver.local", path="/login")


def test_safe_next_keeps_local_paths_with_their_query() -> None:
    assert safe_next("/drafts/abc/pages/p1?x=1") == "/drafts/abc/pages/p1?x=1"
    assert safe_next("/tasks") == "/tasks"
    assert safe_next(None) == "/"


def test_the_form_keeps_a_local_next_and_escapes_a_hostile_one(client: TestClient) -> None:
    assert 'name="next" value="/tasks"' in client.get("/login?next=/tasks").text
    page = client.get('/login?next=/"><script>x</script>').text
    assert "<script>x" not in page
    assert "&lt;script&gt;x" in page


def test_signed_in_users_are_sent_on_from_the_sign_in_page(client: TestClient) -> None:
    sign_in_by_form(client)
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"
    response = client.get("/login?next=/tasks", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/tasks")
    assert post_login(client, "pc.smith", "whatever").headers["location"] == "/"


def test_a_new_session_on_every_sign_in_and_a_planted_one_is_closed(client: TestClient) -> None:
    db = db_of(client)
    first = sign_in_by_form(client)
    # The session ends (as after a shift) but the browser still sends its cookie.
    with db.session() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    client.app.state.waypost.principals.forget(hash_secret(first))  # type: ignore[attr-defined]
    assert whoami(client) is None
    second = sign_in_by_form(client)
    assert second != first
    with db.session() as session:
        assert session.scalars(select(WebSession.id)).all() == [hash_secret(second)]


def test_a_cookie_planted_before_sign_in_is_never_promoted(client: TestClient) -> None:
    planted = "a-value-chosen-by-an-attacker"
    client.cookies.set(COOKIE, planted, domain="testserver.local")
    signed_in = sign_in_by_form(client)
    assert signed_in != planted
    assert whoami(client) == "pc.smith"
    with db_of(client).session() as session:
        assert session.get(WebSession, hash_secret(planted)) is None


def test_sign_out_ends_the_session_at_once(client: TestClient) -> None:
    token = sign_in_by_form(client)
    assert whoami(client) == "pc.smith"  # the principal is now cached in this process
    with db_of(client).session() as session:
        row = session.get(WebSession, hash_secret(token))
        assert row is not None
        session_csrf = row.csrf_token
    refused = client.post("/logout", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403
    assert whoami(client) == "pc.smith"
    response = client.post("/logout", data={"csrf_token": session_csrf}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?signed_out=1")
    assert "Max-Age=0" in cookie_header(response, COOKIE)
    assert COOKIE not in client.cookies
    client.cookies.set(COOKIE, token)  # the old cookie, replayed within the cache window
    assert whoami(client) is None
    with db_of(client).session() as session:
        assert session.get(WebSession, hash_secret(token)) is None
    client.cookies.delete(COOKIE)
    assert "You have signed out." in client.get(response.headers["location"]).text


def test_sign_out_from_the_header_form_of_a_page(client: TestClient) -> None:
    sign_in_by_form(client)
    home = client.get("/")
    found = re.search(r'action="/logout".*?name="csrf_token" value="([^"]+)"', home.text, re.DOTALL)
    assert found is not None, home.text
    response = client.post("/logout", data={"csrf_token": found.group(1)}, follow_redirects=False)
    assert response.status_code == 303
    assert whoami(client) is None


@pytest.mark.parametrize("which", ["expires_at", "last_seen_at"])
def test_an_expired_or_idle_session_is_refused(client: TestClient, which: str) -> None:
    token = sign_in_by_form(client)
    past = utcnow() - (timedelta(seconds=1) if which == "expires_at" else SESSION_IDLE + timedelta(minutes=1))
    with db_of(client).session() as session:
        session.execute(update(WebSession).values({which: past}))
    client.app.state.waypost.principals.forget(hash_secret(token))  # type: ignore[attr-defined]
    assert whoami(client) is None
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/")


def test_a_disabled_user_cannot_sign_in_and_their_session_stops(client: TestClient) -> None:
    token = sign_in_by_form(client)
    with db_of(client).session() as session:
        session.execute(update(User).where(User.username == "pc.smith").values(active=False))
    client.app.state.waypost.principals.forget(hash_secret(token))  # type: ignore[attr-defined]
    assert whoami(client) is None
    client.cookies.clear()
    response = post_login(client, "pc.smith", PASSWORD, token=form_token(client))
    assert response.status_code == 400
    assert BAD_CREDENTIALS in response.text


def test_cookies_are_secure_over_https(tmp_path: Path) -> None:
    for client in make_client(f"sqlite:///{tmp_path}/t.db", base_url="https://testserver"):
        ensure_user(db_of(client), "pc.smith", "response")
        page = client.get("/login")
        assert "Secure" in cookie_header(page, LOGIN_CSRF_COOKIE)
        assert "SameSite=strict" in cookie_header(page, LOGIN_CSRF_COOKIE)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        response = post_login(client, "pc.smith", PASSWORD, token=token.group(1))
        assert response.status_code == 303
        assert "Secure" in cookie_header(response, COOKIE)
        assert "Strict-Transport-Security" in response.headers
        assert whoami(client) == "pc.smith"


def test_api_tokens_authenticate_until_revoked(client: TestClient) -> None:
    db = db_of(client)
    ensure_user(db, "pc.smith", "response")
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == "pc.smith")).one()
        token = create_api_token(session, user, "tests")
    assert client.get("/_whoami", headers={"Authorization": f"Bearer {token}"}).json() == {
        "user": "pc.smith",
        "via": "token",
    }
    assert whoami(client, Authorization=f"Bearer {token}x") is None
    assert whoami(client, Authorization="Bearer wpt_made-up") is None
    with db.session() as session:
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
    client.app.state.waypost.principals.forget(hash_secret(token))  # type: ignore[attr-defined]
    assert whoami(client, Authorization=f"Bearer {token}") is None


def test_sign_in_page_is_not_cached_and_has_one_labelled_field_each(client: TestClient) -> None:
    page = client.get("/login")
    assert page.headers["cache-control"] == "no-store"
    assert 'for="f-username"' in page.text
    assert 'id="f-username"' in page.text
    assert 'for="f-password"' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert page.text.count('class="button"') == 1


# Rate limiting, on SQLite and PostgreSQL ---------------------------------------------------------


@pytest.fixture(scope="module")
def pg_schemas() -> Iterator[SchemaPool]:
    pool = SchemaPool()
    yield pool
    pool.close()


@pytest.fixture(params=["sqlite", "postgres"])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, FakeClock]]:
    """A client whose app's rate limiter runs on a fake clock, on each database."""
    clock = FakeClock()
    if request.param == "sqlite":
        url, schema, pool = f"sqlite:///{tmp_path}/t.db", None, None
    else:
        pool = request.getfixturevalue("pg_schemas")
        schema = pool.acquire()
        url = schema_url(schema)
    try:
        for client in make_client(url):
            client.app.state.login_limiter = LoginLimiter(clock=clock)  # type: ignore[attr-defined]
            ensure_user(db_of(client), "pc.smith", "response")
            yield client, clock
    finally:
        if pool is not None and schema is not None:
            pool.release(schema)


def attempts(client: TestClient) -> list[tuple[str, bool]]:
    with db_of(client).session() as session:
        rows = session.execute(
            select(LoginAttempt.username, LoginAttempt.succeeded).order_by(LoginAttempt.id)
        )
        return [(name, ok) for name, ok in rows]


def test_the_sixth_attempt_in_15_minutes_is_refused_even_with_the_right_password(
    limited: tuple[TestClient, FakeClock],
) -> None:
    client, clock = limited
    token = form_token(client)
    for _ in range(USER_FAILURES):
        assert post_login(client, "pc.smith", "guess", token=token).status_code == 400
        clock.advance(minutes=1)
    blocked = post_login(client, "pc.smith", PASSWORD, token=token)
    assert blocked.status_code == 429
    # The first failure leaves the window 15 minutes after it was made: 10 minutes from now.
    assert blocked.headers["retry-after"] == "600"
    assert "Too many attempts to sign in. Wait 10 minutes, then try again" in blocked.text
    assert COOKIE not in client.cookies
    assert attempts(client) == [("pc.smith", False)] * USER_FAILURES  # the refused one is not counted
    clock.advance(minutes=9)
    assert post_login(client, "pc.smith", PASSWORD, token=token).status_code == 429
    clock.advance(minutes=1)
    assert post_login(client, "pc.smith", PASSWORD, token=token).status_code == 303
    assert whoami(client) == "pc.smith"


def test_a_successful_sign_in_is_not_a_failure_but_does_not_wipe_them(
    limited: tuple[TestClient, FakeClock],
) -> None:
    client, _clock = limited
    token = form_token(client)
    for _ in range(USER_FAILURES - 1):
        assert post_login(client, "pc.smith", "guess", token=token).status_code == 400
    assert post_login(client, "pc.smith", PASSWORD, token=token).status_code == 303
    client.cookies.delete(COOKIE)
    client.cookies.set(LOGIN_CSRF_COOKIE, token, domain="testserver.local", path="/login")
    assert post_login(client, "pc.smith", "guess", token=token).status_code == 400
    assert post_login(client, "pc.smith", PASSWORD, token=token).status_code == 429
    assert [ok for _, ok in attempts(client)] == [False] * 4 + [True, False]


def test_more_than_30_failures_from_one_address_block_every_user_name(
    limited: tuple[TestClient, FakeClock],
) -> None:
    client, clock = limited
    db = db_of(client)
    limiter = LoginLimiter(clock=clock)
    for number in range(ADDRESS_FAILURES):  # one guess each at 30 user names, from the test client
        assert limiter.admit(db, f"guess{number}", "testclient").attempt_id is not None
    other = limiter.admit(db, "pc.smith", "192.0.2.7")  # another address is not affected
    assert other.attempt_id is not None
    blocked = post_login(client, "pc.smith", PASSWORD, token=form_token(client))
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"] == str(15 * 60)
    assert "Wait 15 minutes" in blocked.text


def test_concurrent_attempts_never_get_more_than_five_password_checks(
    limited: tuple[TestClient, FakeClock],
) -> None:
    client, clock = limited
    db = db_of(client)
    limiter = LoginLimiter(clock=clock)
    with ThreadPoolExecutor(max_workers=12) as pool:
        gates = list(pool.map(lambda _: limiter.admit(db, "pc.smith", "198.51.100.1"), range(12)))
    admitted = [gate.attempt_id for gate in gates if gate.attempt_id is not None]
    assert 1 <= len(admitted) <= USER_FAILURES
    assert all(gate.retry_after > 0 for gate in gates if gate.attempt_id is None)
    with db.session() as session:  # refused attempts were taken out again
        stored = session.scalars(select(LoginAttempt.id)).all()
    assert sorted(stored) == sorted(admitted)
