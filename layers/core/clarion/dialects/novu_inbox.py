"""Novu's Inbox dialect (what `@novu/js` 3.x parses, `packages/js/src/types.ts`): a stored in-app
message as an `InboxNotification`, the filters the Inbox sends (query parameters of the list,
JSON objects of the count and of the bulk actions) and whether a notification matches one.

The in-app step's rendered content maps onto the notification: `subject`, `body`, `avatar`,
`primaryAction` / `secondaryAction` (`{label, redirect: {url, target}}`), `redirect`, `data`;
`tags` and `critical` come from the workflow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from clarion.model.inbox import Row

SEVERITY_NONE = "none"
Severity = Literal["high", "medium", "low", "none"]
Tag = Annotated[str, Field(min_length=1, max_length=128)]


class TagsOr(BaseModel):
    model_config = ConfigDict(extra="forbid")
    or_: list[Tag] = Field(alias="or", max_length=50)


class TagsAnd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    and_: list[TagsOr] = Field(alias="and", max_length=10)


TagsFilter = list[Tag] | TagsOr | TagsAnd


def tag_groups(tags: TagsFilter | None) -> tuple[tuple[str, ...], ...]:
    """Any form of a tags filter as AND-ed OR-groups (empty groups dropped)."""
    if tags is None:
        return ()
    if isinstance(tags, list):
        groups = [tags]
    elif isinstance(tags, TagsOr):
        groups = [tags.or_]
    else:
        groups = [group.or_ for group in tags.and_]
    return tuple(tuple(group) for group in groups if group)


class NotificationFilter(BaseModel):
    """One filter of `GET /v1/inbox/notifications/count?filters=[...]` (and of the list, built
    from its query parameters). Unknown keys are refused, naming them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tags: TagsFilter | None = None
    read: bool | None = None
    archived: bool | None = None
    snoozed: bool | None = None
    seen: bool | None = None
    data: dict[str, Any] | None = None
    severity: Severity | list[Severity] | None = None
    created_gte: int | None = Field(default=None, alias="createdGte", ge=0)
    created_lte: int | None = Field(default=None, alias="createdLte", ge=0)

    @field_validator("data", mode="before")
    @classmethod
    def _data_as_json(cls, value: Any) -> Any:
        """The bulk actions send `data` as a JSON string: it is read as the object it holds."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as error:
                raise ValueError("not a JSON object") from error
        return value

    def answer(self) -> dict[str, Any]:
        """The filter as the Inbox reads it back (`filter` of a list, of each count)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def filter_from(raw: dict[str, Any], field_name: str = "") -> NotificationFilter:
    """A filter from its JSON object (None values are absent keys); a bad one is a FilterError
    naming the field."""
    try:
        return NotificationFilter.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in (field_name, *first["loc"]) if part != "")
        raise FilterError(place or "filter", first["msg"]) from error


def parse_filters(raw: str, field_name: str = "filters") -> list[NotificationFilter]:
    """`filters`: a JSON array of filter objects."""
    try:
        decoded = json.loads(raw)
    except ValueError as error:
        raise FilterError(field_name, "not JSON") from error
    if not isinstance(decoded, list) or not 1 <= len(decoded) <= 30:
        raise FilterError(field_name, "a JSON array of 1 to 30 filter objects")
    if not all(isinstance(entry, dict) for entry in decoded):
        raise FilterError(field_name, "each filter is a JSON object")
    return [filter_from(entry, f"{field_name}.{index}") for index, entry in enumerate(decoded)]


class FilterError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name


@dataclass(frozen=True)
class WorkflowInfo:
    workflow_id: str
    name: str = ""
    tags: tuple[str, ...] = ()
    critical: bool = False

    def answer(self) -> dict[str, Any]:
        return {
            "id": self.workflow_id,
            "identifier": self.workflow_id,
            "name": self.name or self.workflow_id,
            "critical": self.critical,
            "tags": list(self.tags),
            "severity": SEVERITY_NONE,
        }


def _redirect(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value:
        return {"url": value}
    if isinstance(value, dict) and isinstance(value.get("url"), str) and value["url"]:
        target = value.get("target")
        return {"url": value["url"], **({"target": target} if isinstance(target, str) else {})}
    return None


def _action(value: Any, completed: bool) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not isinstance(value.get("label"), str) or not value["label"]:
        return None
    redirect = _redirect(value.get("redirect") if "redirect" in value else value.get("url"))
    return {"label": value["label"], "isCompleted": completed, **({"redirect": redirect} if redirect else {})}


def is_snoozed(row: Row, now: str) -> bool:
    return row.snoozed_until is not None and row.snoozed_until > now


def notification(row: Row, workflow: WorkflowInfo, now: str) -> dict[str, Any]:
    """The stored message as Novu's InboxNotification."""
    message = row.message
    content = message.get("content") or {}
    answer: dict[str, Any] = {
        "id": row.id,
        "transactionId": message["transactionId"],
        "body": content.get("body") if isinstance(content.get("body"), str) else "",
        "to": {"subscriberId": message["subscriberId"]},
        "isRead": row.is_read,
        "isSeen": row.is_seen or row.is_read,
        "isArchived": row.is_archived,
        "isSnoozed": is_snoozed(row, now),
        "snoozedUntil": row.snoozed_until if is_snoozed(row, now) else None,
        "deliveredAt": [message["createdAt"]],
        "createdAt": message["createdAt"],
        "readAt": row.read_at,
        "firstSeenAt": row.seen_at,
        "archivedAt": row.archived_at,
        "channelType": "in_app",
        "tags": list(workflow.tags),
        "data": content.get("data") if isinstance(content.get("data"), dict) else {},
        "workflow": workflow.answer(),
        "severity": SEVERITY_NONE,
    }
    for name in ("subject", "avatar"):
        if isinstance(content.get(name), str) and content[name]:
            answer[name] = content[name]
    for kind in ("primary", "secondary"):
        action = _action(content.get(f"{kind}Action"), row.completed.get(kind, False))
        if action:
            answer[f"{kind}Action"] = action
    redirect = _redirect(content.get("redirect"))
    if redirect:
        answer["redirect"] = redirect
    return answer


def _scalar_matches(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list):
        return wanted in actual
    return bool(actual == wanted)


def _value_matches(actual: Any, wanted: Any, nested: bool = True) -> bool:
    """One key's clause of a `data` filter: a scalar, a list (any of), `{or: [...]}`,
    `{and: [{or: [...]}, ...]}`, or (one level) an object of such clauses."""
    if isinstance(wanted, list):
        return any(_scalar_matches(actual, w) for w in wanted)
    if isinstance(wanted, dict):
        if set(wanted) == {"or"} and isinstance(wanted["or"], list):
            return any(_scalar_matches(actual, w) for w in wanted["or"])
        if set(wanted) == {"and"} and isinstance(wanted["and"], list):
            return all(_value_matches(actual, group, nested=False) for group in wanted["and"])
        if nested:
            return isinstance(actual, dict) and all(
                _value_matches(actual.get(key), clause, nested=False) for key, clause in wanted.items()
            )
        return False
    return _scalar_matches(actual, wanted)


def _epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000)


def matches(answer: dict[str, Any], wanted: NotificationFilter) -> bool:
    """Whether an InboxNotification (as `notification` made it) passes the filter."""
    checks = (
        (wanted.read, answer["isRead"]),
        (wanted.archived, answer["isArchived"]),
        (wanted.snoozed, answer["isSnoozed"]),
        (wanted.seen, answer["isSeen"]),
    )
    if any(expected is not None and expected != actual for expected, actual in checks):
        return False
    tags = set(answer["tags"])
    if not all(tags.intersection(group) for group in tag_groups(wanted.tags)):
        return False
    if wanted.data and not all(
        _value_matches(answer["data"].get(key), clause) for key, clause in wanted.data.items()
    ):
        return False
    if wanted.severity is not None:
        allowed = wanted.severity if isinstance(wanted.severity, list) else [wanted.severity]
        if answer["severity"] not in allowed:
            return False
    created = _epoch_ms(answer["createdAt"])
    if wanted.created_gte is not None and created < wanted.created_gte:
        return False
    return wanted.created_lte is None or created <= wanted.created_lte
