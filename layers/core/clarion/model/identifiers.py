"""The ids users choose, validated once for every edge (dialects, management API, paths, CLI).

Every table key starts with `ENV#<environment id>#`, so an environment id must never hold `#`
(or `probe#SUB#x` would read another environment's subscriber `x#SUB#...`): environment ids get a
strict pattern. Subscriber, tenant, topic and workflow ids keep their own rules and, whatever
they allow, never carry NUL or other control characters (Unicode category Cc)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

ENVIRONMENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ENVIRONMENT_ID = re.compile(ENVIRONMENT_ID_PATTERN)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
CONTROL_CHARACTERS_REFUSED = "must not contain NUL or control characters"
ENVIRONMENT_ID_RULE = (
    "must be 1-64 characters: letters, digits, '_', '.', '-', starting with a letter or digit"
)


def is_environment_id(value: str) -> bool:
    return _ENVIRONMENT_ID.fullmatch(value) is not None


def check_environment_id(value: str) -> str:
    """The id itself, or ValueError saying what an environment id may be."""
    if not is_environment_id(value):
        raise ValueError(f"environment id {value!r} {ENVIRONMENT_ID_RULE}")
    return value


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


def _printable(value: str) -> str:
    if has_control_characters(value):
        raise ValueError(CONTROL_CHARACTERS_REFUSED)
    return value


Printable = AfterValidator(_printable)

EnvironmentId = Annotated[str, Field(pattern=ENVIRONMENT_ID_PATTERN)]
SubscriberId = Annotated[str, Field(min_length=1, max_length=256), Printable]
TenantId = Annotated[str, Field(min_length=1, max_length=256), Printable]
TopicKey = Annotated[str, Field(min_length=1, max_length=256), Printable]
WorkflowName = Annotated[str, Field(min_length=1, max_length=128), Printable]  # a trigger's workflow id
