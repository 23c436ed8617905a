"""Double opt-in's confirmation link and route: `GET /v1/opt-in/confirm?token=...`.

The link is signed: token = base64url({e: environment, s: subscriberId, x: expiry}) + "." +
base64url(HMAC-SHA256(the environment's newest API key, "clarion-opt-in\\n" + payload)); any live
key verifies it (a rotated key keeps its links working until it is revoked). The route needs
no API key: the token is the authority, and it only ever confirms the subscriber it names.

Confirming marks the subscriber confirmed and releases the triggers held for it
(store.opt_in) through intake under their own transactionIds, so following the link twice
delivers each workflow once. Answers are Sequenzy's: `{success, subscriber: {id, status},
released}` or `{success: false, error}`.

The confirmation email is the workflow `sequenzy-double-opt-in` (CONFIRMATION_WORKFLOW_ID), run
with `payload.DOUBLE_OPT_IN_URL`: made on first use with one email step whose body begins
`{% assign DOUBLE_OPT_IN_URL = payload.DOUBLE_OPT_IN_URL %}` and then links `{{DOUBLE_OPT_IN_URL}}`,
as Sequenzy's templates do. To customise it, `PUT /v1/workflows/sequenzy-double-opt-in` (or
create it before the first subscriber) with your own steps and content: write
`{{ payload.DOUBLE_OPT_IN_URL }}`, or keep the assign line and write `{{DOUBLE_OPT_IN_URL}}`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion import clock
from clarion.api.errors import BadRequestError, NotFoundError, UnauthorizedError
from clarion.api.sequenzy_triggers import Trigger, start
from clarion.model import StepType, Workflow
from clarion.model.identifiers import is_environment_id
from clarion.model.opt_in import OptInStatus
from clarion.store import environments, opt_in, subscribers, workflows

router = APIGatewayRouter()
PATH = "/v1/opt-in/confirm"
LINK_LIFETIME_SECONDS = 7 * 86_400
CONFIRMATION_WORKFLOW_ID = "sequenzy-double-opt-in"
URL_VARIABLE = "DOUBLE_OPT_IN_URL"
_CONTEXT = b"clarion-opt-in\n"

CONFIRMATION_WORKFLOW = Workflow.model_validate(
    {
        "workflowId": CONFIRMATION_WORKFLOW_ID,
        "name": "Double opt-in confirmation",
        "steps": [
            {
                "stepId": "confirm-email",
                "type": StepType.EMAIL,
                "content": {
                    "subject": "Please confirm your subscription",
                    "body": (
                        f"{{% assign {URL_VARIABLE} = payload.{URL_VARIABLE} %}}"
                        "<p>Hello {{ subscriber.firstName | default: 'there' }},</p>"
                        f'<p>Please confirm your subscription: <a href="{{{{{URL_VARIABLE}}}}}">'
                        f"{{{{{URL_VARIABLE}}}}}</a></p>"
                    ),
                },
            }
        ],
    }
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), _CONTEXT + payload.encode(), hashlib.sha256).digest())


def token_for(environment_id: str, subscriber_id: str) -> str:
    secret = next(environments.hmac_secrets(environment_id), None)
    if secret is None:
        raise UnauthorizedError("environment: has no live API key to sign its confirmation links with")
    claims = {"e": environment_id, "s": subscriber_id, "x": clock.now_seconds() + LINK_LIFETIME_SECONDS}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}"


def link_for(base_url: str, environment_id: str, subscriber_id: str) -> str:
    return f"{base_url}{PATH}?token={token_for(environment_id, subscriber_id)}"


def _verified(token: str) -> tuple[str, str]:
    """(environment, subscriber) a genuine, unexpired token names; a 4xx otherwise."""
    payload, dot, signature = token.partition(".")
    try:
        claims = json.loads(_unb64(payload)) if dot else None
    except (binascii.Error, ValueError):
        claims = None
    if not (
        isinstance(claims, dict)
        and isinstance(claims.get("e"), str)
        and isinstance(claims.get("s"), str)
        and isinstance(claims.get("x"), int)
    ):
        raise BadRequestError("token: not a confirmation link's token")
    environment_id, subscriber_id = claims["e"], claims["s"]
    given = signature.encode()
    if not is_environment_id(environment_id) or not any(
        hmac.compare_digest(given, _signature(secret, payload).encode())
        for secret in environments.hmac_secrets(environment_id)
    ):
        raise UnauthorizedError("token: signature does not match")
    if claims["x"] < clock.now_seconds():
        raise BadRequestError("token: the confirmation link has expired; ask for a new one")
    return environment_id, subscriber_id


def ensure_confirmation_workflow(environment_id: str) -> None:
    """Make the default confirmation workflow unless the environment has one (its own, if customised)."""
    if workflows.get_many(environment_id, {CONFIRMATION_WORKFLOW_ID}).get(CONFIRMATION_WORKFLOW_ID):
        return
    try:
        workflows.create(environment_id, CONFIRMATION_WORKFLOW)
    except workflows.WorkflowExistsError:
        return  # made meanwhile (or cached as missing here): it exists


@router.get(PATH)
def confirm(token: Annotated[str, Query(min_length=1, max_length=2048)]) -> dict[str, Any]:
    environment_id, subscriber_id = _verified(token)
    now = clock.now_iso()

    def confirmed(stored: dict[str, Any]) -> dict[str, Any]:
        if (stored.get("optIn") or {}).get("status") == OptInStatus.CONFIRMED:
            return stored
        return stored | {"optIn": {"status": OptInStatus.CONFIRMED.value, "confirmedAt": now}}

    if subscribers.update(environment_id, subscriber_id, confirmed, now) is None:
        raise NotFoundError(f"subscriber: '{subscriber_id}' not found")
    held = opt_in.held(environment_id, subscriber_id)
    outcomes, _ = start(
        environment_id,
        [Trigger(h["workflowId"], subscriber_id, h.get("payload") or {}, h["transactionId"]) for h in held],
    )
    opt_in.forget(environment_id, subscriber_id, [h["transactionId"] for h in held])
    released = sum(1 for o in outcomes if o.error_type is None)
    return {
        "success": True,
        "subscriber": {"id": subscriber_id, "status": OptInStatus.CONFIRMED.value},
        "released": released,
    }
