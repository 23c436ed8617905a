"""Swagger UI (`/swagger`) in headless Chromium against the local stack, as a new user tries the API:
Authorize with the API key, "Try it out" on `POST /v1/events/trigger/bulk` with the documented
example, Execute, and a 201. Swagger UI's script and styles come inline from Powertools' own
copy (no CDN): the page works offline, and loads nothing but the page itself.

A screenshot is saved under .clarion/ (swagger-browser.png, or swagger-browser-failed.png)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import ROOT
from tests.e2e.browser.cdp import Chromium, chromium_path
from tests.e2e.conftest import API_KEY, RunningStack

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / ".clarion"
REQUIRED = bool(os.environ.get("CLARION_REQUIRE_SDKS"))
BULK = "/v1/events/trigger/bulk"
OPERATION = "#operations-default-trigger_bulk_v1_events_trigger_bulk_post"

needs_browser = pytest.mark.skipif(
    not REQUIRED and chromium_path() is None, reason="needs Debian's chromium (make chromium)"
)


def _document(stack: RunningStack) -> tuple[str, dict]:
    url = f"{stack.url}/swagger?format=json"
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    return url, answer.json()


def _bulk_example(document: dict) -> dict:
    return document["paths"][BULK]["post"]["requestBody"]["content"]["application/json"]["example"]


def test_the_documents_server_url_reaches_the_api_from_where_it_is_served(stack: RunningStack) -> None:
    url, document = _document(stack)
    base = urljoin(url, document["servers"][0]["url"])

    answer = requests.post(
        base.rstrip("/") + BULK,
        json=_bulk_example(document),
        headers={"Authorization": f"ApiKey {API_KEY}"},
        timeout=30,
    )

    assert base == f"{stack.url}/"
    assert answer.status_code == 201, answer.text
    assert [item["status"] for item in answer.json()["data"]] == ["processed"] * len(
        _bulk_example(document)["events"]
    )


def test_the_swagger_page_loads_no_asset_from_elsewhere(stack: RunningStack) -> None:
    page = requests.get(f"{stack.url}/swagger", timeout=30)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text
    assert "<script src=" not in page.text and "<link rel='stylesheet'" not in page.text


def _box(browser: Chromium, selector: str) -> dict[str, float]:
    """The centre of the first element `selector` matches, scrolled into view."""
    return browser.wait_for(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
        " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
        " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
    )


def _click(browser: Chromium, selector: str) -> None:
    box = _box(browser, selector)
    browser.click(box["x"], box["y"])


@needs_browser
def test_swagger_ui_try_it_out_on_the_bulk_trigger_answers_201(stack: RunningStack, tmp_path: Path) -> None:
    _, document = _document(stack)
    example = _bulk_example(document)
    (SCREENSHOTS / "swagger-browser-failed.png").unlink(missing_ok=True)
    browser = Chromium(tmp_path / "profile", tmp_path / "chromium.log")
    try:
        browser.navigate(f"{stack.url}/swagger")
        browser.wait_for(f"document.querySelector('{OPERATION}') !== null")

        # Authorize: the ApiKey scheme's field takes the whole header value.
        _click(browser, ".auth-wrapper .authorize")
        browser.wait_for("document.querySelector('.modal-ux .auth-container input') !== null")
        browser.evaluate(
            "[...document.querySelectorAll('.modal-ux .auth-container')]"
            ".find(c => c.querySelector('h4').textContent.trim().startsWith('ApiKey'))"
            ".querySelector('input').focus()"
        )
        browser.send("Input.insertText", text=f"ApiKey {API_KEY}")
        browser.evaluate(
            "[...document.querySelectorAll('.modal-ux .auth-container')]"
            ".find(c => c.querySelector('h4').textContent.trim().startsWith('ApiKey'))"
            ".querySelector('button.modal-btn.auth').click()"
        )
        browser.wait_for("document.querySelector('.modal-ux .auth-container .btn-done') !== null")
        _click(browser, ".modal-ux .btn-done")
        browser.wait_for("document.querySelector('.modal-ux') === null")

        # Try it out with the documented example, then Execute.
        _click(browser, f"{OPERATION} .opblock-summary-control")
        _click(browser, f"{OPERATION} .try-out__btn")
        sent = browser.wait_for(f"document.querySelector('{OPERATION} textarea.body-param__text')?.value")
        assert json.loads(sent) == example
        _click(browser, f"{OPERATION} .btn.execute")
        status = browser.wait_for(
            f"document.querySelector('{OPERATION} .live-responses-table tbody .response-col_status')?.textContent"
        )
        request_url = browser.evaluate(f"document.querySelector('{OPERATION} .request-url pre')?.textContent")
        body = browser.evaluate(
            f"document.querySelector('{OPERATION} .live-responses-table .response-col_description pre')"
            "?.textContent"
        )
        _box(browser, f"{OPERATION} .live-responses-table tbody .response-col_status")  # into view
        browser.screenshot(SCREENSHOTS / "swagger-browser.png")

        assert status.strip().startswith("201"), (status, body)
        assert request_url == f"{stack.url}{BULK}"
        assert [item["status"] for item in json.loads(body)["data"]] == ["processed"] * len(example["events"])
        loaded = browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        assert all(url.startswith(stack.url) for url in loaded), loaded  # nothing from a CDN
    except BaseException:
        browser.screenshot(SCREENSHOTS / "swagger-browser-failed.png")
        print("browser console:", *browser.console[-20:], sep="\n  ")
        raise
    finally:
        browser.close()
