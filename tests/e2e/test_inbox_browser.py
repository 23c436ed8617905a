"""Novu's `<Inbox />` (@novu/react, unmodified, bundled with esbuild from npm: no CDN) in headless
Chromium, with backendUrl = the local stack: it shows the triggered notifications, and clicking
one marks it read (the unread count drops). The page is served from its own origin, so the
browser's CORS preflights and checks run as they would for a customer's app.

A screenshot is saved under .clarion/ (inbox-browser.png, or inbox-browser-failed.png)."""

from __future__ import annotations

import functools
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import ROOT
from tests.e2e.browser.cdp import Chromium, chromium_path
from tests.e2e.conftest import API_KEY, RunningStack
from tests.e2e.test_inbox_sdk import (
    application_identifier,
    ensure_workflow,
    session_token,
    trigger_bulk_and_wait,
)

pytestmark = pytest.mark.e2e

PAGE_DIR = Path(__file__).resolve().parent / "browser"
NODE_DIR = Path(__file__).resolve().parent / "sdk" / "node"
ESBUILD = NODE_DIR / "node_modules" / ".bin" / "esbuild"
SCREENSHOTS = ROOT / ".clarion"
REQUIRED = bool(os.environ.get("CLARION_REQUIRE_SDKS"))

needs_browser = pytest.mark.skipif(
    not REQUIRED and (chromium_path() is None or not ESBUILD.exists()),
    reason="needs Debian's chromium (apt-get install -y chromium) and npm ci --prefix tests/e2e/sdk/node",
)

WORKFLOW = {
    "workflowId": "inbox-browser",
    "name": "Inbox browser",
    "steps": [
        {
            "stepId": "bell",
            "type": "in_app",
            "content": {
                "subject": "Parcel {{ payload.order }}",
                "body": "Parcel {{ payload.order }} is on its way",
            },
        }
    ],
}

NOTIFICATIONS = "document.querySelectorAll('.nv-notification')"
UNREAD_DOTS = "document.querySelectorAll('.nv-notification .nv-notificationDot').length"


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[str]:
    """The page and its bundle, built now from the pinned packages, served on its own origin."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text((PAGE_DIR / "index.html").read_text())
    built = subprocess.run(
        [
            str(ESBUILD),
            str(PAGE_DIR / "inbox_page.jsx"),
            "--bundle",
            "--minify",
            "--jsx=automatic",
            "--define:process.env.NODE_ENV='production'".replace("'", '"'),
            f"--outfile={site / 'inbox_page.js'}",
            "--log-level=warning",
        ],
        env={**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def unread(stack: RunningStack, token: str) -> int:
    answer = stack.call(
        "GET",
        "/v1/inbox/notifications/count",
        params={"filters": '[{"read": false, "archived": false}]'},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["data"][0]["count"])


def wait_until(check: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@needs_browser
def test_inbox_in_chromium_shows_the_notifications_and_a_click_marks_one_read(
    stack: RunningStack, page_server: str, tmp_path: Path
) -> None:
    ensure_workflow(stack, workflow=WORKFLOW)
    subscriber = f"browser-{uuid.uuid4().hex[:8]}"
    trigger_bulk_and_wait(stack, subscriber, 3, WORKFLOW["workflowId"])
    token = session_token(stack, API_KEY, subscriber)  # the test's own view, beside the browser's
    assert unread(stack, token) == 3
    query = {
        "backendUrl": stack.url,
        "applicationIdentifier": application_identifier(stack),
        "subscriberId": subscriber,
        "socketUrl": "ws://127.0.0.1:9",  # no real-time server: the Inbox works by fetching
    }
    (SCREENSHOTS / "inbox-browser-failed.png").unlink(missing_ok=True)
    browser = Chromium(tmp_path / "profile", tmp_path / "chromium.log")
    try:
        browser.navigate(f"{page_server}/index.html?{urlencode(query)}")
        browser.wait_for(f"{NOTIFICATIONS}.length === 3")
        subjects = browser.evaluate(
            "[...document.querySelectorAll('.nv-notificationSubject')].map(e => e.textContent)"
        )
        assert sorted(subjects) == ["Parcel O-0", "Parcel O-1", "Parcel O-2"]
        assert "is on its way" in browser.evaluate(f"{NOTIFICATIONS}[0].textContent")
        assert browser.wait_for(f"{UNREAD_DOTS} === 3")
        browser.screenshot(SCREENSHOTS / "inbox-browser-before-click.png")

        box = browser.evaluate(
            f"(() => {{ const r = {NOTIFICATIONS}[0].getBoundingClientRect();"
            " return {x: r.left + r.width / 3, y: r.top + r.height / 2}; })()"
        )
        browser.click(box["x"], box["y"])
        browser.wait_for(f"{UNREAD_DOTS} === 2")
        assert wait_until(lambda: unread(stack, token) == 2)  # the click reached the stack
        assert browser.evaluate(f"{NOTIFICATIONS}.length") == 3
        browser.screenshot(SCREENSHOTS / "inbox-browser.png")

        gear = browser.evaluate(
            "(() => { const r = document.querySelector('.nv-preferences__button').getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
        )
        browser.click(gear["x"], gear["y"])  # the preferences page: GET /v1/inbox/preferences
        browser.wait_for("document.body.innerText.includes('Inbox browser')")
        browser.screenshot(SCREENSHOTS / "inbox-browser-preferences.png")
    except BaseException:
        browser.screenshot(SCREENSHOTS / "inbox-browser-failed.png")
        print("browser console:", *browser.console[-20:], sep="\n  ")
        raise
    finally:
        browser.close()
