"""Double opt-in: an environment's mode, and a subscriber's standing under it."""

from __future__ import annotations

from enum import StrEnum


class OptInMode(StrEnum):
    DEFAULT = "default"  # new subscribers are active at once
    DOUBLE_OPT_IN = "double_opt_in"  # new subscribers wait, pending, until they confirm by email


class OptInStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
