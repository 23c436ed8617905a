"""One rate-limit bucket per environment, as GCRA (the token bucket's exact equivalent, kept as a
single "theoretical arrival time" in microseconds). Taking N tokens is one conditional UpdateItem in the
common case, two when the bucket's state is not the one this container saw last."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clarion import aws
from clarion.config import settings
from clarion.store import items, keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Taken:
    allowed: bool
    tat_us: int  # the bucket's theoretical arrival time after (or, if refused, before) this request


_busy_hint: dict[str, bool] = {}
_ATTEMPTS = 4  # each refused update returns the bucket's state, so this converges fast


def take(
    environment_id: str, now_us: int, cost_us: int, tolerance_us: int, client: DynamoDBClient | None = None
) -> Taken:
    """Advance the bucket by cost_us if it stays within tolerance_us of now."""
    client = client or aws.dynamodb()
    key = items.key(keys.rate_bucket(environment_id))
    values = {":now": items.n(now_us), ":cost": items.n(cost_us)}
    idle = {
        "UpdateExpression": "SET tat = :fresh",
        "ConditionExpression": "attribute_not_exists(tat) OR tat <= :now",
        "ExpressionAttributeValues": {":now": values[":now"], ":fresh": items.n(now_us + cost_us)},
    }
    busy = {
        "UpdateExpression": "SET tat = tat + :cost",
        "ConditionExpression": "tat > :now AND tat <= :latest",
        "ExpressionAttributeValues": {**values, ":latest": items.n(now_us + tolerance_us - cost_us)},
    }
    attempt = busy if _busy_hint.get(environment_id) else idle
    latest = now_us + tolerance_us - cost_us
    for _ in range(_ATTEMPTS):
        try:
            answer = client.update_item(
                TableName=settings().table_name,
                Key=key,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **attempt,  # type: ignore[arg-type]
            )
        except client.exceptions.ConditionalCheckFailedException as error:
            # The bucket is not in the state this form expects (another request moved it): the
            # state it is in says which form can succeed, or that the request must wait.
            old: Any = error.response.get("Item") or {}
            tat = items.number(old, "tat", now_us) if old else now_us
            if old and tat > latest:
                _busy_hint[environment_id] = True
                return Taken(False, tat)
            attempt = busy if old and tat > now_us else idle
            continue
        # Start with whichever form won this time: sparse traffic finds the bucket idle again,
        # sustained traffic finds it busy.
        _busy_hint[environment_id] = attempt is busy
        return Taken(True, items.number(answer["Attributes"], "tat"))
    _busy_hint[environment_id] = True
    return Taken(False, latest + cost_us)
