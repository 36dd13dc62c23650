"""What the demo back-ends share: bearer-token checks, idempotency keys, fault injection, state.

Each HTTP back-end is a :class:`Service`. Its state is plain JSON (kept in memory, and written to
a file when one is given, so that crimes survive a restart of ``make run`` just as the app's
SQLite database does). Every API call goes through :meth:`Service.call`, which does what a careful
back-end does and what the demo wants to show:

* refuses a missing or wrong ``Authorization: Bearer`` token (401);
* fails the next N calls with 503, or answers the next N calls late, when told to through
  ``POST /_control`` (so the workflow's retries and timeouts can be watched);
* honours ``Idempotency-Key``: the same key with the same request gets the first answer again
  and changes nothing; the same key with a different request is refused (409).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

__all__ = ["ApiError", "Service", "error"]

JsonObject = dict[str, Any]
#: An API call's effect: the parsed request body (None for GET) -> (status, reply body).
Effect = Callable[[JsonObject | None], tuple[int, JsonObject]]

_MAX_BODY = 1_048_576
_MAX_DELAY = 120.0


class ApiError(Exception):
    """A refusal with an HTTP status and a message, answered as ``{"error": {...}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error every demo back-end answers with."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class Service:
    """The shared state of one demo back-end (see the module docstring)."""

    def __init__(self, name: str, token: str, state_file: Path | None = None) -> None:
        self.name = name
        self._token = token.encode()
        self.state_file = state_file
        # Requests run on the back-ends' event loop; tests read from their own thread.
        self.lock = threading.RLock()
        self.fail_next = 0
        self.slow_next = 0
        self.delay = 0.0
        self.calls = 0  # API calls answered (failed ones included), for tests and the page
        self.replies: dict[str, JsonObject] = {}  # idempotency key -> fingerprint, status, body
        self.state: JsonObject = self.initial_state()
        self._load()

    # --- State ------------------------------------------------------------------------------

    def initial_state(self) -> JsonObject:
        """The state of a back-end that has never run (subclasses add their records)."""
        return {}

    def _load(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            saved = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"{self.name}: cannot read the state file {self.state_file}: {exc}") from exc
        if isinstance(saved, dict) and isinstance(saved.get("state"), dict):
            self.state.update(saved["state"])
            self.replies = dict(saved.get("replies") or {})

    def save(self) -> None:
        """Write the state file (when there is one), replacing it atomically; call under the lock."""
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"state": self.state, "replies": self.replies}), encoding="utf-8")
        os.replace(temporary, self.state_file)

    # --- Control ----------------------------------------------------------------------------

    def control(
        self, *, fail_next: int | None = None, delay: float | None = None, slow_next: int | None = None
    ) -> JsonObject:
        """Set the fault injection; ``delay`` without ``slow_next`` slows every call until reset."""
        with self.lock:
            if fail_next is not None:
                self.fail_next = fail_next
            if delay is not None:
                self.delay = delay
                self.slow_next = slow_next if slow_next is not None else (-1 if delay > 0 else 0)
            elif slow_next is not None:
                self.slow_next = slow_next
            return self.control_state()

    def control_state(self) -> JsonObject:
        """The fault injection in force, as ``GET /_control`` shows it."""
        with self.lock:
            return {
                "fail_next": self.fail_next,
                "delay": self.delay,
                "slow_next": self.slow_next,
                "calls": self.calls,
            }

    async def control_endpoint(self, request: Request) -> Response:
        """``GET /_control`` shows, ``POST /_control`` sets the fault injection (JSON or a form).

        A form post (the back-end's own page) is answered with a redirect back to the page.
        """
        if request.method == "GET":
            return JSONResponse(self.control_state())
        raw = await request.body()
        is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        try:
            if is_form:
                fields = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=False).items()}
                given: Any = {
                    k: float(v) if k == "delay" else int(v) for k, v in fields.items() if k in _KNOBS
                }
            else:
                given = json.loads(raw or b"{}")
            settings = _control_settings(given)
        except (ValueError, UnicodeDecodeError) as exc:
            return error(400, "bad_request", f"bad control settings: {exc}")
        state = self.control(**settings)
        if is_form:
            return RedirectResponse("/", status_code=303)
        return JSONResponse(state)

    # --- Calls ------------------------------------------------------------------------------

    def check_token(self, request: Request) -> None:
        """Raise 401 unless the request carries this back-end's bearer token."""
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise ApiError(
                401, "unauthorised", "send the back-end's token as 'Authorization: Bearer <token>'"
            )
        if not hmac.compare_digest(given.strip().encode(), self._token):
            raise ApiError(401, "unauthorised", "the bearer token is not valid for this back-end")

    async def call(self, request: Request, effect: Effect) -> Response:
        """Answer one API call: auth, fault injection, body, idempotency, then ``effect``."""
        try:
            self.check_token(request)
            with self.lock:
                self.calls += 1
                if self.fail_next > 0:
                    self.fail_next -= 1
                    raise ApiError(
                        503, "unavailable", f"{self.name} is unavailable (told to fail by /_control)"
                    )
            body = await _json_body(request) if request.method != "GET" else None
            status, reply, replayed = self._apply(request, body, effect)
        except ApiError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return error(exc.status, exc.code, exc.message, headers)
        delay = self._take_delay()
        if delay:
            # After the effect, as a slow back-end is: the caller may time out and retry, and the
            # idempotency key then makes sure the retry changes nothing.
            await asyncio.sleep(delay)
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return JSONResponse(reply, status_code=status, headers=headers)

    def _apply(
        self, request: Request, body: JsonObject | None, effect: Effect
    ) -> tuple[int, JsonObject, bool]:
        key = request.headers.get("idempotency-key", "")
        if request.method == "GET" or not key:
            with self.lock:
                status, reply = effect(body)
                if request.method != "GET":
                    self.save()
            return status, reply, False
        fingerprint = hashlib.sha256(
            json.dumps([request.method, request.url.path, body], sort_keys=True).encode()
        ).hexdigest()
        with self.lock:
            earlier = self.replies.get(key)
            if earlier is not None:
                if earlier["fingerprint"] != fingerprint:
                    raise ApiError(
                        409,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used with a different request",
                    )
                return int(earlier["status"]), dict(earlier["body"]), True
            status, reply = effect(body)
            if status < 400:  # a refusal is not remembered: the same request may succeed later
                self.replies[key] = {"fingerprint": fingerprint, "status": status, "body": reply}
            self.save()
        return status, reply, False

    def _take_delay(self) -> float:
        with self.lock:
            if self.delay <= 0 or self.slow_next == 0:
                return 0.0
            if self.slow_next > 0:
                self.slow_next -= 1
            return self.delay


_KNOBS = ("fail_next", "delay", "slow_next")


def _control_settings(given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ValueError('expected a JSON object such as {"fail_next": 2, "delay": 3}')
    unknown = sorted(set(given) - set(_KNOBS))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(_KNOBS)}")
    settings: dict[str, Any] = {}
    for name in ("fail_next", "slow_next"):
        if name in given:
            value = given[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
                raise ValueError(f"{name} must be a whole number from 0 to 1000")
            settings[name] = value
    if "delay" in given:
        value = given["delay"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= _MAX_DELAY:
            raise ValueError(f"delay must be a number of seconds from 0 to {_MAX_DELAY:g}")
        settings["delay"] = float(value)
    return settings


async def _json_body(request: Request) -> JsonObject:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise ApiError(413, "too_large", f"the request body is larger than {_MAX_BODY} bytes")
    if not raw:
        raise ApiError(400, "bad_request", "the request needs a JSON object body")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the request body must be a JSON object")
    return body
