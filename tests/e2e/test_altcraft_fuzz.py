"""Altcraft's routes fuzzed over HTTP on the local stack, in JSON and in XML: whatever an Altcraft
client (or a hostile one) sends, the answer is never a 5xx, and it is Altcraft's envelope in the
format asked for. Schemathesis fuzzes the JSON schema too (test_schemathesis); here the bodies
are shaped like Altcraft's, with the right token so that they reach the matching.

`make fuzz` runs many examples: `CLARION_FUZZ_EXAMPLES=100 pytest tests/e2e/test_altcraft_fuzz.py`."""

from __future__ import annotations

import json
import os
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import API_KEY, RunningStack
from tests.strategies import hostile_values, json_values

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("CLARION_FUZZ_EXAMPLES", "8"))
PATHS = st.sampled_from(
    ["/api/v1.1/campaigns/triggers/start_batch", "/api/v1.1/campaigns/triggers/start_batch_task"]
)
FUZZ = settings(
    max_examples=EXAMPLES * 4,
    deadline=None,
    derandomize=EXAMPLES <= 20,
    suppress_health_check=list(HealthCheck),
    database=None,
)

matching = st.sampled_from(["email", "phone", "profile_id", "custom", "other", ""])
field_values = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=30)
data_items = st.dictionaries(
    st.sampled_from(["email", "phone", "profile_id", "field_value", "matching", "field_name", "x"]),
    field_values,
    max_size=4,
)
files = st.fixed_dictionaries(
    {"name": st.text(max_size=20)},
    optional={
        "url": st.text(max_size=40),
        "content": st.text(max_size=40),
        "content_type": st.text(max_size=10),
    },
)
altcraft_bodies = st.fixed_dictionaries(
    {"token": st.just(API_KEY)},
    optional={
        "trigger_id": st.integers(-5, 2**63) | st.text(max_size=5),
        "id": st.integers(-5, 50) | st.none(),
        "format": st.sampled_from(["json", "xml", "yaml"]),
        "matching": matching,
        "field_name": st.text(max_size=20),
        "data": st.lists(data_items, max_size=5) | json_values,
        "content": st.dictionaries(st.text(max_size=8), json_values, max_size=3) | json_values,
        "custom_data": json_values,
        "attach": st.lists(files, max_size=2) | json_values,
    },
)


def _xml_of(name: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_xml_of(k, v) for k, v in value.items()) + f"</{name}>"
    if isinstance(value, list):
        return "".join(_xml_of(name, item) for item in value)
    return f"<{name}>{escape('' if value is None else str(value))}</{name}>"


xml_texts = altcraft_bodies.map(
    lambda body: "<xml>" + "".join(_xml_of(k, v) for k, v in body.items() if k.isidentifier()) + "</xml>"
)
hostile_xml = st.sampled_from(
    [
        '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><xml><token>&b;</token></xml>',
        '<!DOCTYPE x [<!ENTITY e SYSTEM "http://169.254.169.254/">]><xml><token>&e;</token></xml>',
        '<!DOCTYPE x SYSTEM "http://127.0.0.1:1/x.dtd"><xml/>',
        "<xml>" + "<a>" * 5000 + "</a>" * 5000 + "</xml>",
        "<xml><token>" + API_KEY + "</token><data>" + "<email>x</email>" * 3 + "</data></xml>",
        "<xml><token>unterminated",
        "\ufeff<xml></xml>",
        "<?xml version='1.0' encoding='latin-1'?><xml><token>\xe9</token></xml>",
        "<xml xmlns:x='urn:x'><x:token>" + API_KEY + "</x:token></xml>",
        "not xml at all",
        "",
    ]
)


def _assert_envelope(answer: requests.Response, xml: bool) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.headers.get("Content-Type", "").startswith("application/xml") or xml:
        root = ElementTree.fromstring(answer.text)
        assert root.tag == "xml" and root.findtext("error") is not None, answer.text[:300]
    else:
        assert "error" in answer.json(), answer.text[:300]


@FUZZ
@given(path=PATHS, body=altcraft_bodies)
def test_json_bodies_never_answer_5xx(stack: RunningStack, path: str, body: dict[str, Any]) -> None:
    answer = requests.post(stack.url + path, json=body, timeout=60)
    _assert_envelope(answer, xml=body.get("format") == "xml")


@FUZZ
@given(path=PATHS, text=xml_texts | hostile_xml)
def test_xml_bodies_never_answer_5xx(stack: RunningStack, path: str, text: str) -> None:
    answer = requests.post(
        stack.url + path,
        data=text.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "text/xml"},
        timeout=60,
    )
    asked_json = "<format>json</format>" in text
    _assert_envelope(answer, xml=not asked_json)


@FUZZ
@given(path=PATHS, value=hostile_values)
def test_hostile_json_values_are_400_in_altcraft_envelope(stack: RunningStack, path: str, value: str) -> None:
    text = json.dumps({"token": API_KEY, "trigger_id": 1, "content": {"x": "@v@"}, "data": []})
    answer = requests.post(
        stack.url + path,
        data=text.replace('"@v@"', value).encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["error"] == 400 and answer.json()["error_debug"].startswith(
        ("content.x: ", "body: ")
    )
