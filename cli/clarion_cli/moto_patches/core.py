"""moto's per-request costs shared by every service: finding the action, drawing ids."""

from __future__ import annotations

import functools
import string
from typing import Any

from clarion_cli.moto_patches.registry import SetAttr, register


@register("action-lookup", replaces=("moto.core.responses.method_names_from_class",))
def action_lookup(setattr: SetAttr) -> None:
    """moto finds a request's action among its response class's methods with inspect.getmembers,
    on every request (a tenth of a DynamoDB request's time). A class's methods do not change."""
    from moto.core import responses

    setattr(responses, "method_names_from_class", functools.cache(responses.method_names_from_class))


@register(
    "random-strings",
    replaces=(
        "moto.moto_api._internal.moto_random.MotoRandom.get_random_string",
        "moto.sqs.models.generate_receipt_handle",
    ),
)
def random_strings(setattr: SetAttr) -> None:
    """moto draws every request id (52 characters) and every SQS receipt handle (185) one
    random.choice at a time: a twentieth of each emulator's time. random.choices draws them
    at once, from the same alphabet and moto's same (seedable) generator."""
    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom
    from moto.sqs import models

    def get_random_string(
        self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False
    ) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        drawn = "".join(self.choices(pool, k=length))
        return drawn.lower() if lower_case else drawn

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=185))

    setattr(MotoRandom, "get_random_string", get_random_string)
    setattr(models, "generate_receipt_handle", generate_receipt_handle)
