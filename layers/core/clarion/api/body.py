"""Request bodies: one strict JSON reader for every route, and the one rule for what a body must
declare itself to be.

Python's `json.loads` accepts what a hostile client can use to crash a handler later: nesting
thousands deep (RecursionError), integers of thousands of digits (int() refuses over 4,300),
`NaN`/`Infinity`/`1e400` (not JSON: other readers refuse them or read null), and lone UTF-16 surrogates such as
`"\\ud800"` (no UTF-8 encoding: writing them to SQS or DynamoDB fails). `parse_json` refuses each
before any route sees it, with a 400 naming the field, and a body over its route's limit with a 413.

Body limits, per route family (API Gateway's REST payload limit is 10 MB, but a Lambda invoked
synchronously takes at most 6 MB of event, so each limit is below that and answered here):

- Novu triggers (`/v1/events/trigger*`): 5 MB, a bulk of 100 events (each payload ≤ 512 KB).
- SuprSend's `/trigger/`: 800 KB, SuprSend's own limit (`dialects.suprsend.MAX_BODY_BYTES`).
- everything else (workflows, subscribers, tenants, topics, integrations, ...): 256 KB, and at
  most 384 KB once stored: the store keeps an object as JSON with non-ASCII characters escaped
  (an emoji's 4 bytes become 12), and one DynamoDB item holds 400 KB with its keys.

Limits on values: at most 64 levels of nesting; integers of at most 38 digits (DynamoDB's
precision, and far beyond what a JSON client's doubles keep: send larger ones as strings)."""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from clarion.api.errors import BadRequestError, PayloadTooLargeError
from clarion.dialects import suprsend

MAX_DEPTH = 64
MAX_INTEGER_DIGITS = 38
TRIGGER_MAX_BYTES = 5 * 1024 * 1024
MANAGEMENT_MAX_BYTES = 256 * 1024
MANAGEMENT_MAX_STORED_BYTES = 384 * 1024
SUPRSEND_PATH = "/trigger"  # api.suprsend.PATH (which imports this module)

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_BYTE_STEP = {ord(c): step for c, step in _BRACKET_STEP.items()}
_NOT_MARKS = bytes(b for b in range(256) if b not in b'"\\[]{}')  # all but quotes, brackets, backslash
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def max_bytes(path: str) -> int:
    """The largest body the route at `path` accepts (see the module's list)."""
    if path.rstrip("/") == SUPRSEND_PATH:
        return suprsend.MAX_BODY_BYTES
    if path.startswith("/v1/events/trigger"):
        return TRIGGER_MAX_BYTES
    return MANAGEMENT_MAX_BYTES


def max_stored_bytes(path: str) -> int | None:
    """The largest the route's body may be once stored as one item's JSON, if it is stored so."""
    return MANAGEMENT_MAX_STORED_BYTES if max_bytes(path) == MANAGEMENT_MAX_BYTES else None


def declares_json(content_type: str | None) -> bool:
    """A body's Content-Type is `application/json`, with any parameters (the SDKs send
    `application/json` or `application/json; charset=utf-8`), as Powertools' validation reads the
    management routes' bodies. A body without a Content-Type is read as JSON, as Powertools does."""
    if not content_type:
        return True
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


class _Refused:
    """Stands in for a number the hooks refused, so that the walk can name its field."""

    def __init__(self, reason: str, kind: str) -> None:
        self.reason = reason
        self.kind = kind


def parse_json(text: str, *, limit: int, stored_limit: int | None = None) -> Any:
    """`text` as JSON, strictly; BadRequestError (400) or PayloadTooLargeError (413) naming what
    was wrong. Malformed JSON raises json.JSONDecodeError, as json.loads does."""
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > limit else len(text)
    if size > limit:
        raise _too_large(f"{size:,} bytes, larger than the {_size(limit)} this route accepts")
    if _nested_too_deep(text):
        raise _refusal(("body",), f"nested deeper than {MAX_DEPTH} levels", "too_deep")
    refused: list[_Refused] = []

    def refuse(reason: str, kind: str) -> _Refused:
        refused.append(_Refused(reason, kind))
        return refused[-1]

    def integer(literal: str) -> int | _Refused:
        digits = len(literal.lstrip("-"))
        if digits > MAX_INTEGER_DIGITS:
            return refuse(
                f"an integer of {digits} digits; at most {MAX_INTEGER_DIGITS} (send larger ones as strings)",
                "integer_too_long",
            )
        return int(literal)

    def number(literal: str) -> float | _Refused:
        value = float(literal)
        if math.isfinite(value):
            return value
        return refuse(f"{literal[:20]} is beyond the range of a double", "number_out_of_range")

    def constant(name: str) -> _Refused:
        return refuse(f"{name} is not JSON (send null or a string)", "not_json")

    try:
        value = json.loads(text, parse_int=integer, parse_float=number, parse_constant=constant)
    except RecursionError:  # cannot happen after the scan; kept so that it can never be a 5xx
        raise _refusal(("body",), f"nested deeper than {MAX_DEPTH} levels", "too_deep") from None
    if refused or _may_hold_surrogates(text):
        _check_values(value)
    if stored_limit is not None and (stored := len(json.dumps(value, separators=(",", ":")))) > stored_limit:
        raise _too_large(
            f"{stored:,} bytes once stored (non-ASCII characters are stored escaped), "
            f"larger than the {_size(stored_limit)} one stored object holds"
        )
    return value


def _too_large(reason: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"body: {reason}", {"body": {"messages": [reason], "type": "too_large"}})


def _may_hold_surrogates(text: str) -> bool:
    """Whether `text` may hold a lone surrogate: raw, or escaped as \\uD800-\\uDFFF. An ASCII text
    without any \\u escape holds none (two scans in C, where the pattern costs a third of parsing)."""
    if text.isascii() and "\\u" not in text:
        return False
    return _MAYBE_SURROGATE.search(text) is not None


def _nested_too_deep(text: str) -> bool:
    """Whether the arrays and objects of `text` nest deeper than MAX_DEPTH, strings left out: a
    scan before the parser, which would otherwise recurse once per level. The scan reads only the
    quotes and brackets (`bytes.translate` drops the rest, in C); a text with a backslash is read
    whole, as an escape may hide a quote."""
    marks = text.encode("utf-8", "surrogatepass").translate(None, _NOT_MARKS)
    if b"\\" in marks or marks.count(b'"') % 2:
        brackets = _NOT_BRACKET.sub("", _outside_strings(text)).encode()
    else:  # quotes alternate open, close: dropping two adjacent ones keeps the others' roles
        brackets = b"".join(marks.replace(b'""', b"").split(b'"')[::2])
    if len(brackets) <= MAX_DEPTH:  # too few to open more than MAX_DEPTH levels
        return False
    return max(accumulate(map(_BYTE_STEP.__getitem__, brackets))) > MAX_DEPTH


def _outside_strings(text: str) -> str:
    """`text` with its JSON strings left out. Without an escaped quote (`\\"`) and with an even
    number of quotes, every string runs from one quote to the next: splitting at the quotes (in C)
    gives what the string pattern leaves, at a quarter of its cost; otherwise the pattern decides."""
    if '\\"' in text or text.count('"') % 2:
        return _STRING.sub("", text)
    return "".join(text.split('"')[::2])


def _check_values(value: Any) -> None:
    """Raise for the first refused number or lone surrogate, in document order, naming its field."""
    pending: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, _Refused):
            raise _refusal(path, node.reason, node.kind)
        if isinstance(node, str) and _SURROGATE.search(node):
            raise _refusal(path, _surrogate_reason(node), "lone_surrogate")
        if isinstance(node, dict):
            for key in node:
                if _SURROGATE.search(key):
                    raise _refusal((*path, key), f"the key {_surrogate_reason(key)}", "lone_surrogate")
            pending.extend(((*path, key), child) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            pending.extend(((*path, str(i)), child) for i, child in reversed(list(enumerate(node))))


def _surrogate_reason(text: str) -> str:
    found = _SURROGATE.search(text)
    code = f"\\u{ord(found.group()):04x}" if found else "a surrogate"
    return f"holds a lone UTF-16 surrogate ({code}), which is not a character"


def _refusal(path: tuple[str, ...], reason: str, kind: str) -> BadRequestError:
    field = ".".join(_printable(part) for part in path) or "body"
    return BadRequestError(f"{field}: {reason}", {field: {"messages": [reason], "type": kind}})


def _printable(part: str) -> str:
    """A field name fit for an error body: surrogates escaped, at most 40 characters, the empty
    key as `""` (so a value under it is not named as the whole body)."""
    if part == "":
        return '""'
    shown = part.encode("utf-8", "backslashreplace").decode()
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit // 1024} KB"
