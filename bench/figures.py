"""A figure: one measured number, its goal, and how it breaks down."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

_COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str = ""
    goal: str | None = None  # "<= 12", ">= 200"; None: reported, no goal
    what: str = ""
    section: str = ""
    breakdown: dict[str, float] = field(default_factory=dict)

    def met(self) -> bool | None:
        if self.goal is None or self.value is None or math.isnan(self.value):
            return None
        sign, _, threshold = self.goal.partition(" ")
        return bool(_COMPARE[sign](self.value, float(threshold)))

    def shown(self) -> str:
        return fmt(self.value)


def fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass
class Section:
    """What one benchmark section produced: figures, notes to print, and text for the doc."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # markdown lines for PERFORMANCE.md
    error: str | None = None
    seconds: float = 0.0
