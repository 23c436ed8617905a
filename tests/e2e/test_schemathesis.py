"""Every route of the OpenAPI document (`/swagger?format=json`), fuzzed by Schemathesis against the
local stack over HTTP: whatever a client sends, valid or not, Clarion never answers 5xx.

`make test` runs a bounded number of examples per route (the same ones every run); `make fuzz`
runs many, new ones each time: `CLARION_FUZZ_EXAMPLES=300 pytest -m e2e tests/e2e/test_schemathesis.py`.
A failure prints the request as a curl line.

The document is built at collection from the same resolver the stack serves (Schemathesis'
fixture-lazy loader fails under pytest 9: `'Function' object has no attribute '_nodeid'`), and
a test checks that the stack serves exactly it. The trigger routes read their bodies by hand (the
dialects validate each record on its own); the document declares their bodies from the dialects'
own models (api.openapi), so their bodies are fuzzed too.

JSON that no schema can describe (nesting thousands deep, integers of thousands of digits,
NaN/Infinity/1e400, lone surrogates, bodies past each route's limit) is sent as text by the
hypothesis tests at the end, to every route that reads a body (tests/strategies.py).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from clarion.api import altcraft as altcraft_api
from clarion.api.app import app
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.e2e.conftest import API_KEY, RunningStack, start_stack, stop_stack
from tests.hostile_json import body_routes, message_of
from tests.strategies import (
    hostile_values,
    json_objects,
    novu_events,
    odd_valid_values,
    oversized_strings,
    suprsend_records,
    with_value_at_a_field,
)

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("CLARION_FUZZ_EXAMPLES", "5"))  # make test; make fuzz runs many more
AUTH = {"Authorization": f"ApiKey {API_KEY}"}
SERVED = json.loads(app.get_openapi_json_schema())


def _with_altcraft_token(served: dict[str, Any]) -> dict[str, Any]:
    """Altcraft's token is in the body: the environment's, else every case would stop at the 401."""
    document = copy.deepcopy(served)
    body = document["components"]["schemas"]["StartBatch"]
    body["properties"]["token"] = {"const": API_KEY}
    body["required"] = sorted({*body.get("required", []), "token"})
    assert all(path in document["paths"] for path in altcraft_api.PATHS)
    return document


schema = schemathesis.openapi.from_dict(_with_altcraft_token(SERVED))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of this module's own: the thousands of records and items the fuzzing leaves would
    make every later test on the shared stack slower (moto answers an index query by reading the
    whole table)."""
    running = start_stack(tmp_path_factory.mktemp("fuzzed-stack"))
    yield running
    if running.process.poll() is None:
        stop_stack(running)


def test_the_stack_serves_the_document_that_is_fuzzed(stack: RunningStack) -> None:
    served = requests.get(f"{stack.url}/swagger", params={"format": "json"}, timeout=30)
    assert served.status_code == 200
    for part in ("paths", "components"):  # title and servers are the stack's own
        assert served.json()[part] == SERVED[part]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 20,  # make test: the same cases every run; make fuzz: new ones
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    database=None,
)
def test_no_route_answers_5xx_whatever_it_is_sent(case: Any, stack: RunningStack) -> None:
    case.call_and_validate(base_url=stack.url, headers=AUTH, checks=[not_a_server_error], timeout=30)


BODY_ROUTES = st.sampled_from(body_routes())
BODIES = json_objects | novu_events | suprsend_records | st.lists(suprsend_records, min_size=1, max_size=3)
RAW_JSON = settings(
    max_examples=EXAMPLES * 4,
    deadline=None,
    derandomize=EXAMPLES <= 20,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@RAW_JSON
@given(route=BODY_ROUTES, case=with_value_at_a_field(BODIES, hostile_values))
def test_hostile_json_on_any_body_route_is_a_4xx_naming_the_field(
    stack: RunningStack, route: tuple[str, str], case: tuple[str, str]
) -> None:
    (method, path), (text, field) = route, case

    answer = stack.call(method, path, data=text.encode(), headers={"Content-Type": "application/json"})

    assert answer.status_code == 400, (method, path, text[:200], answer.text[:300])
    message = message_of(path, answer.json())
    assert message.startswith((f"{field}: ", "body: nested deeper")), (field, message)


@RAW_JSON
@given(route=BODY_ROUTES, case=with_value_at_a_field(BODIES, oversized_strings | odd_valid_values))
def test_oversized_or_odd_json_on_any_body_route_is_never_a_5xx(
    stack: RunningStack, route: tuple[str, str], case: tuple[str, str]
) -> None:
    (method, path), (text, _) = route, case

    answer = stack.call(method, path, data=text.encode(), headers={"Content-Type": "application/json"})

    assert answer.status_code < 500, (method, path, text[:200], answer.text[:300])
