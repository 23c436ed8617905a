"""Strict request models: an unknown field is refused by name, with the place it likely belongs.

A model derives from StrictModel and may answer `misplaced(name, data)` with a better place for
a field it does not know (`content.amount` for a delay step's `amount`); otherwise the nearest
known field name is suggested, or the known ones are listed."""

from __future__ import annotations

import difflib
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidatorFunctionWrapHandler, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

UNKNOWN_FIELD = "unknown_field"


def unknown_field(name: str, known: list[str], place: str | None = None) -> PydanticCustomError:
    """The error for a field `name` where only `known` are read; `place` is where it belongs."""
    if place is None:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75) or [
            k for k in known if k.lower() == name.lower()
        ]
        place = close[0] if close else None
    if place is not None:
        return PydanticCustomError(UNKNOWN_FIELD, "unknown field; did you mean {place}?", {"place": place})
    return PydanticCustomError(
        UNKNOWN_FIELD, "unknown field; known fields here: {known}", {"known": ", ".join(known) or "none"}
    )


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # Fields a request may carry that Clarion knows but refuses, with the reason (`_id`: Novu's own id).
    refused: ClassVar[dict[str, str]] = {}

    @classmethod
    def misplaced(cls, name: str, data: dict[str, Any]) -> str | None:
        """Where `name` likely belongs (`content.amount`), or None."""
        return None

    @classmethod
    def known_fields(cls) -> list[str]:
        return [field.alias or name for name, field in cls.model_fields.items()]

    @model_validator(mode="wrap")
    @classmethod
    def _name_unknown_fields(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as error:
            if not isinstance(data, dict):
                raise
            errors: list[Any] = []
            for entry in error.errors():
                if entry["type"] != "extra_forbidden" or len(entry["loc"]) != 1:
                    # as it was (a custom type cannot be passed on by name, so each is rebuilt)
                    kept = PydanticCustomError(entry["type"], entry["msg"])
                    errors.append(InitErrorDetails(type=kept, loc=entry["loc"], input=entry.get("input")))
                    continue
                name = str(entry["loc"][0])
                reason = cls.refused.get(name)
                problem = (
                    PydanticCustomError(UNKNOWN_FIELD, reason)
                    if reason
                    else unknown_field(name, cls.known_fields(), cls.misplaced(name, data))
                )
                errors.append(InitErrorDetails(type=problem, loc=entry["loc"], input=entry["input"]))
            raise ValidationError.from_exception_data(error.title, errors) from None
