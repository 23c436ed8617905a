"""The CloudFront front of the local stack: the template's viewer-request function (the same
JavaScript CloudFront runs), run by V8 (mini-racer) on each request before it reaches the gateway.
CloudFront passes the function the request's method, uri, query string and headers (names in
lower case), never its body; the function returns the request to pass it on, or a response."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from py_mini_racer import MiniRacer


class ViewerRequestFunction:
    def __init__(self, code: str) -> None:
        self._runtime = MiniRacer()
        self._runtime.eval(code)
        self._lock = threading.Lock()  # one V8 isolate: one request at a time

    def answer(
        self, method: str, uri: str, query: dict[str, list[str]], headers: dict[str, str], viewer_ip: str
    ) -> tuple[int, dict[str, str], bytes] | None:
        """The function's response to this request, or None when it passes the request on."""
        event = {
            "version": "1.0",
            "context": {"eventType": "viewer-request", "distributionDomainName": "localhost"},
            "viewer": {"ip": viewer_ip},
            "request": {
                "method": method,
                "uri": uri,
                "querystring": {name: _value(values) for name, values in query.items()},
                "headers": {name.lower(): {"value": value} for name, value in headers.items()},
                "cookies": {},
            },
        }
        with self._lock:
            result = json.loads(str(self._runtime.eval(f"JSON.stringify(handler({json.dumps(event)}))")))
        if "statusCode" not in result:
            return None
        body = result.get("body") or ""
        if isinstance(body, dict):
            data = str(body.get("data", ""))
            payload = base64.b64decode(data) if body.get("encoding") == "base64" else data.encode()
        else:
            payload = str(body).encode()
        answer_headers = {name: str(spec["value"]) for name, spec in result.get("headers", {}).items()}
        return int(result["statusCode"]), answer_headers, payload


def _value(values: list[str]) -> dict[str, Any]:
    first = {"value": values[0] if values else ""}
    if len(values) > 1:
        first["multiValue"] = [{"value": value} for value in values]  # type: ignore[assignment]
    return first
