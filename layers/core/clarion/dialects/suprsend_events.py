"""SuprSend's `/event/` route as its SDKs call it: one object, or an array of up to 400.

Read from the SDKs' own source (@suprsend/node-sdk 1.x `src/subscriber.js`, `src/event.js`,
`src/subscriber_helper.js`; suprsend-py-sdk `subscriber.py`, `event.py`):

- a **profile edit** (`user.get_instance(id)` ... `.save()`, `users.async_edit`, bulk users):
  `{distinct_id, $user_operations: [{$set: {...}}, {$append: {$email: "..."}}, ...]}`, each
  operation one or more of `$set`, `$set_once`, `$add` (increment), `$append`, `$remove`
  (a dict) and `$unset` (a list of keys). Identity keys (`$email`, `$androidpush` with
  `$id_provider`, ...) add or remove channel identities (dialects.suprsend_identities);
  `$timezone`, `$preferred_language`, `$locale` are profile fields; other keys are `data`
  properties; other `$`-keys are reserved by SuprSend and refused. An item with those keys at
  its top level (the older schema) is one operation. `event: "$identify"` creates the user.
- a **tracked event** (`track_event(new Event(distinct_id, name, properties))`):
  `{event, distinct_id, properties, $idempotency_key?, tenant_id?, brand_id?}`. It starts every
  workflow that declares it as its `triggerEvent`, for that user, with the properties as data.

Both carry `env`, `$insert_id`, `$time` and `properties.$ss_sdk_version`, which are not kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clarion.dialects.suprsend_identities import IDENTITY_CLASSES, IDENTITY_KEYS, Identities
from clarion.model.identifiers import SubscriberId, TenantId
from clarion.model.profile import Increment, ListChange, ProfileEdit, SetFields, Unset
from clarion.model.refusal import field_errors

MAX_ITEMS = 400  # the SDKs' MAX_IDENTITY_EVENTS_IN_BULK_API
MAX_TRACKED_EVENTS = 100  # the SDKs' MAX_EVENTS_IN_BULK_API
MAX_OPERATIONS = 100
IDENTIFY = "$identify"
SDK_PROPERTIES = ("$ss_sdk_version",)
PROFILE_FIELDS = {"$timezone": "timezone", "$preferred_language": "locale", "$locale": "locale"}
_PUSH_ARGUMENTS = ("$id_provider", "$bundle_id")
OPERATION_KEYS = ("$set", "$set_once", "$add", "$append", "$remove", "$unset")


class EventError(ValueError):
    """A refused item: `field` is its path inside the item."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class TrackedEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    event: Annotated[str, Field(min_length=1, max_length=128)]
    distinct_id: SubscriberId
    properties: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, alias="$idempotency_key"
    )
    tenant_id: TenantId | None = None
    insert_id: str | None = Field(default=None, alias="$insert_id", max_length=128)

    def trigger(self, workflow_id: str, several: bool) -> dict[str, Any]:
        """The `POST /trigger/` body that runs `workflow_id` for this event. With several
        workflows, each gets the event's idempotency key suffixed by its workflow id."""
        body: dict[str, Any] = {
            "workflow": workflow_id,
            "recipients": [self.distinct_id],
            "data": {k: v for k, v in self.properties.items() if k not in SDK_PROPERTIES},
        }
        if self.tenant_id:
            body["tenant_id"] = self.tenant_id
        if self.idempotency_key:
            key = f"{self.idempotency_key}:{workflow_id}" if several else self.idempotency_key
            body["$idempotency_key"] = key
        return body


class _UserItem(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    distinct_id: SubscriberId
    user_operations: list[dict[str, Any]] = Field(
        default_factory=list, alias="$user_operations", max_length=MAX_OPERATIONS
    )


def parse_item(raw: Any) -> ProfileEdit | TrackedEvent:
    """One item -> a profile edit or a tracked event; EventError naming the field otherwise."""
    if not isinstance(raw, dict):
        raise EventError("body", "each event must be an object")
    if "$user_operations" in raw or any(key in raw for key in OPERATION_KEYS):
        operations = raw.get("$user_operations")
        if operations is None:
            operations = [{key: raw[key] for key in OPERATION_KEYS if key in raw}]
        user = _validated(_UserItem, {**raw, "$user_operations": operations})
        return ProfileEdit(
            subscriber_id=user.distinct_id,
            operations=[_operation(op, f"$user_operations.{i}") for i, op in enumerate(user.user_operations)],
        )
    if raw.get("event") == IDENTIFY:
        given = raw.get("properties")
        properties: dict[str, Any] = given if isinstance(given, dict) else {}
        if properties.get("$anon_id"):
            raise EventError("properties.$anon_id", "merging an anonymous user into a user is not supported")
        identified = properties.get("$identified_id") or raw.get("distinct_id")
        return ProfileEdit(subscriber_id=_validated(_UserItem, {"distinct_id": identified}).distinct_id)
    if "event" not in raw:
        raise EventError("event", "give an event name, or $user_operations to edit the user")
    event: TrackedEvent = _validated(TrackedEvent, raw)
    return event


def _operation(raw: dict[str, Any], path: str) -> SetFields | Increment | ListChange | Unset:
    if len(raw) != 1:
        names = ", ".join(sorted(raw)) or "none"
        raise EventError(path, f"an operation has exactly one of {', '.join(OPERATION_KEYS)} (got {names})")
    ((name, value),) = raw.items()
    where = f"{path}.{name}"
    if name == "$unset":
        return _unset(value, where)
    if name not in OPERATION_KEYS:
        raise EventError(where, f"unknown operation; use one of {', '.join(OPERATION_KEYS)}")
    if not isinstance(value, dict):
        raise EventError(where, "must be an object of keys and values")
    if name in ("$set", "$set_once"):
        profile, data = _split(value, where, identities_allowed=False)
        return SetFields(once=name == "$set_once", profile=profile, data=data)
    if name == "$add":
        _split(value, where, identities_allowed=False, profile_allowed=False)
        for key, amount in value.items():
            if isinstance(amount, bool) or not isinstance(amount, int | float):
                raise EventError(f"{where}.{key}", "must be a number to add")
        return Increment(data=value)
    identity_values = {k: v for k, v in value.items() if k in IDENTITY_KEYS}
    provider = value.get("$id_provider")
    rest = {k: v for k, v in value.items() if k not in IDENTITY_KEYS and k not in _PUSH_ARGUMENTS}
    _, data = _split(rest, where, identities_allowed=False, profile_allowed=False)
    try:
        identities = Identities.model_validate(identity_values).identities(
            provider if isinstance(provider, str) else None
        )
    except ValidationError as error:
        named = field_errors(error.errors(include_url=False, include_input=False))
        field, entry = next(iter(named.items()))
        raise EventError(f"{where}.{field}", "; ".join(entry["messages"])) from error
    return ListChange(op="append" if name == "$append" else "remove", data=data, identities=identities)


def _unset(value: Any, where: str) -> Unset:
    keys = [value] if isinstance(value, str) else value
    if not isinstance(keys, list) or not all(isinstance(k, str) and k.strip() for k in keys):
        raise EventError(where, "must be a key or a list of keys")
    profile = [PROFILE_FIELDS[k] for k in keys if k in PROFILE_FIELDS]
    identities = [IDENTITY_CLASSES[k] for k in keys if k in IDENTITY_CLASSES]
    data = [k for k in keys if not k.startswith("$")]
    for key in keys:
        if key.startswith("$") and key not in PROFILE_FIELDS and key not in IDENTITY_CLASSES:
            raise EventError(f"{where}.{key}", "keys starting with $ are reserved by SuprSend")
    return Unset(profile=list(dict.fromkeys(profile)), data=data, identities=identities)  # type: ignore[arg-type]


def _split(
    values: dict[str, Any], where: str, *, identities_allowed: bool, profile_allowed: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(profile fields, data properties); identity keys and other `$`-keys refused."""
    profile: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for key, value in values.items():
        if not key.strip():
            raise EventError(where, "keys must not be empty")
        if key in PROFILE_FIELDS and profile_allowed:
            if not isinstance(value, str) or not value.strip() or len(value) > 64:
                raise EventError(f"{where}.{key}", "must be a non-empty string of at most 64 characters")
            profile[PROFILE_FIELDS[key]] = value.strip()
        elif key in IDENTITY_KEYS and not identities_allowed:
            raise EventError(
                f"{where}.{key}", "a channel identity: add it with $append, drop it with $remove"
            )
        elif key.startswith("$"):
            raise EventError(f"{where}.{key}", "keys starting with $ are reserved by SuprSend")
        else:
            data[key] = value
    return profile, data


def _validated(model: type[Any], raw: dict[str, Any]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        named = field_errors(error.errors(include_url=False, include_input=False))
        field, entry = next(iter(named.items()))
        raise EventError(field, "; ".join(entry["messages"])) from error
