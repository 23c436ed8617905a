"""The CLI's HTTP client for a Clarion API (local or deployed): one-line errors, retries that
honour `Retry-After` and the `RateLimit-*` headers, and a gate shared by concurrent senders so
that one 429 pauses them all."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

RETRIED_STATUSES = {429, 409, 502, 503, 504}  # 409: the same Idempotency-Key is still in progress


class ClientError(Exception):
    """Anything that stops a command: the message is the one line shown to the user."""


class HttpError(ClientError):
    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.body = body


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None


def error_message(body: Any, fallback: str) -> str:
    """The server's own words: Novu's `message` (a string or a list), or `error`."""
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, list):
            message = "; ".join(str(m) for m in message)
        if message:
            return str(message)
    return fallback


@dataclass
class RateGate:
    """When the next request may leave: pushed back by a 429's Retry-After, or when the last
    answer's RateLimit-Remaining is below the size of what comes next."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _not_before: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self) -> None:
        while True:
            with self._lock:
                delay = self._not_before - self.clock()
            if delay <= 0:
                return
            self.sleep(min(delay, 1.0))

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + seconds)

    def observe(self, headers: dict[str, str], next_cost: int) -> None:
        """Pace from `RateLimit-Limit/Remaining/Reset` (tokens now, seconds until full)."""
        try:
            limit = int(headers["ratelimit-limit"])
            remaining = int(headers["ratelimit-remaining"])
            reset = float(headers["ratelimit-reset"])
        except (KeyError, ValueError):
            return
        if remaining >= next_cost or limit <= remaining or reset <= 0:
            return
        per_second = (limit - remaining) / reset
        self.hold((min(next_cost, limit) - remaining) / per_second)


class Client:
    def __init__(self, url: str, api_key: str, *, timeout: float = 30.0, attempts: int = 8) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.attempts = attempts
        self.gate = RateGate()
        self.retried: dict[int, int] = {}  # status -> how many answers with it were retried
        self._local = threading.local()
        self._count_lock = threading.Lock()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"ApiKey {self.api_key}"
            self._local.session = session
        return session

    def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        """One request, without retries; a connection failure is a ClientError."""
        try:
            response = self._session().request(
                method,
                self.url + path,
                data=None if body is None else json.dumps(body),
                headers={"Content-Type": "application/json", **(headers or {})},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise ClientError(f"cannot reach {self.url}: {type(error).__name__}") from error
        try:
            parsed: Any = response.json() if response.content else None
        except ValueError:
            parsed = response.text
        return Answer(response.status_code, parsed, {k.lower(): v for k, v in response.headers.items()})

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        cost: int = 1,
        check: bool = True,
    ) -> Answer:
        """A request retried on 429/409/5xx (waiting Retry-After, else backing off) and on
        connection failures; safe for POSTs only with an Idempotency-Key. With `check`, a final
        4xx/5xx raises HttpError."""
        answer: Answer | None = None
        for attempt in range(self.attempts):
            self.gate.wait()
            try:
                answer = self.send(method, path, body, headers)
            except ClientError:
                if attempt == self.attempts - 1:
                    raise
                time.sleep(min(0.25 * 2.0**attempt, 5.0))
                continue
            if answer.status not in RETRIED_STATUSES:
                self.gate.observe(answer.headers, cost)
                break
            with self._count_lock:
                self.retried[answer.status] = self.retried.get(answer.status, 0) + 1
            self.gate.hold(_retry_after(answer.headers, attempt))
        assert answer is not None
        if check and answer.status >= 400:
            raise HttpError(answer.status, error_message(answer.body, f"{method} {path} failed"), answer.body)
        return answer

    def get_data(self, path: str) -> Any:
        return self.call("GET", path).data


def _retry_after(headers: dict[str, str], attempt: int) -> float:
    for name in ("retry-after", "ratelimit-reset"):
        try:
            return max(float(headers[name]), 0.1)
        except (KeyError, ValueError):
            continue
    return min(0.5 * 2.0**attempt, 10.0)
