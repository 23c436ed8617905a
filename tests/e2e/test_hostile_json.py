"""Issue 11, points 8 and 14, over HTTP on the local stack, as a hostile client sends them: every
route that reads a body answers hostile JSON with a 400 (413 for a 9 MB body) naming what was
wrong, in its dialect, never a 5xx; and a body not declared JSON with a 415."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningStack
from tests.hostile_json import CASES, NOT_JSON_TYPES, assert_refused, body_routes, refusal_message

pytestmark = pytest.mark.e2e
ROUTES = body_routes()
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(("case", "text", "status", "field", "says"), CASES, ids=[c[0] for c in CASES])
def test_hostile_json_on_every_body_route_is_a_4xx_naming_the_problem(
    stack: RunningStack, case: str, text: str, status: int, field: str, says: str
) -> None:
    body = text.encode()
    for method, path in ROUTES:
        answer = stack.call(method, path, data=body, headers=JSON)

        assert_refused(path, answer.status_code, answer.json(), status, field, says)


def test_every_body_route_answers_415_to_a_body_not_declared_json(stack: RunningStack) -> None:
    body = b'{"name": "welcome", "to": "ada", "workflow": "welcome", "recipients": ["ada"]}'
    for content_type in NOT_JSON_TYPES:
        for method, path in ROUTES:
            answer = stack.call(method, path, data=body, headers={"Content-Type": content_type})

            assert answer.status_code == 415, (method, path, content_type, answer.text)
            shown = refusal_message(path, answer.json())
            assert shown == f"Content-Type: send application/json, not {content_type}"
