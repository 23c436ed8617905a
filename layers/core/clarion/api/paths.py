"""Ids in paths: the user's own ids, percent-decoded, refused (400 naming the field) when they
hold NUL or control characters, as the same ids are in bodies (clarion.model.identifiers)."""

from __future__ import annotations

from urllib.parse import unquote

from clarion.api.errors import BadRequestError
from clarion.model.identifiers import CONTROL_CHARACTERS_REFUSED, has_control_characters


def path_id(raw: str, field: str) -> str:
    value = unquote(raw)  # REST APIs pass the path percent-encoded
    if has_control_characters(value):
        raise BadRequestError(f"{field}: {CONTROL_CHARACTERS_REFUSED}")
    return value
