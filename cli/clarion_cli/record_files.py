"""Files of records (events to trigger, subscribers to import) as JSON Lines, JSON or CSV.

- `.jsonl` / `.ndjson`: one JSON object per line (blank lines skipped).
- `.json`: an array of objects, or an object holding the array under `key` (`{"events": [...]}`).
- `.csv`: a header row; each row is one record. A column named after a field holds its value; a
  column whose cell starts with `{` or `[` in a JSON field (`json_fields`) is parsed as JSON; a
  dotted column (`payload.orderId`, `to.email`, `data.plan`) sets that key inside the field, as a
  string. Empty cells are left out.

A record may carry `_clarion` (what the CLI writes beside a failed record: its error and where it
came from); it is dropped on reading, so a file of failed records can be sent again as it is."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ANNOTATION = "_clarion"


class RecordFileError(Exception):
    """A file that cannot be read as records; the message names the file and line."""


@dataclass(frozen=True)
class RecordFile:
    records: list[dict[str, Any]]
    sources: list[str]  # "events.csv:12" per record
    sha256: str


def read_records(
    path: Path, *, key: str, fields: Collection[str], json_fields: Collection[str]
) -> RecordFile:
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RecordFileError(f"{path}: {error.strerror or error}") from error
    text = _decode(path, content)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        pairs = _jsonl(path, text)
    elif suffix == ".json":
        pairs = _json(path, text, key)
    elif suffix == ".csv":
        pairs = _csv(path, text, set(fields), set(json_fields))
    else:
        raise RecordFileError(f"{path}: unknown format {suffix!r}; use .jsonl, .json or .csv")
    records = [{k: v for k, v in record.items() if k != ANNOTATION} for record, _ in pairs]
    return RecordFile(records, [source for _, source in pairs], hashlib.sha256(content).hexdigest())


def _decode(path: Path, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RecordFileError(f"{path}: not UTF-8 text (byte {error.start})") from error


def _object(path: Path, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordFileError(f"{path}:{where}: a record must be a JSON object, got {type(value).__name__}")
    return value


def _jsonl(path: Path, text: str) -> list[tuple[dict[str, Any], str]]:
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise RecordFileError(f"{path}:{number}: not JSON ({error.msg})") from error
        pairs.append((_object(path, str(number), value), f"{path.name}:{number}"))
    return pairs


def _json(path: Path, text: str, key: str) -> list[tuple[dict[str, Any], str]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordFileError(f"{path}:{error.lineno}: not JSON ({error.msg})") from error
    if isinstance(value, dict) and isinstance(value.get(key), list):
        value = value[key]
    if not isinstance(value, list):
        raise RecordFileError(f"{path}: expected an array of records, or an object with {key!r} array")
    return [(_object(path, f"[{i}]", item), f"{path.name}[{i}]") for i, item in enumerate(value)]


def _csv(path: Path, text: str, fields: set[str], json_fields: set[str]) -> list[tuple[dict[str, Any], str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    if not columns:
        raise RecordFileError(f"{path}: empty CSV (a header row is needed)")
    for column in columns:
        top = column.split(".", 1)[0]
        if top not in fields or (column != top and top not in json_fields):
            raise RecordFileError(
                f"{path}: unknown column {column!r}; columns are {', '.join(sorted(fields))}"
                f" and dotted ones inside {', '.join(sorted(json_fields))}"
            )
    pairs = []
    for row in reader:
        number = reader.line_num
        if None in row:
            raise RecordFileError(f"{path}:{number}: more cells than columns")
        record: dict[str, Any] = {}
        for column, cell in row.items():
            if cell is None or cell == "":
                continue
            _set(path, number, record, column, cell, json_fields)
        if record:
            pairs.append((record, f"{path.name}:{number}"))
    return pairs


def _set(
    path: Path, number: int, record: dict[str, Any], column: str, cell: str, json_fields: set[str]
) -> None:
    top, _, rest = column.partition(".")
    if not rest:
        if top in json_fields and cell.lstrip()[:1] in ("{", "["):
            try:
                value: Any = json.loads(cell)
            except json.JSONDecodeError as error:
                raise RecordFileError(
                    f"{path}:{number}: column {column!r} is not JSON ({error.msg})"
                ) from error
            if isinstance(record.get(top), dict) and isinstance(value, dict):
                record[top] = {**value, **record[top]}
                return
            record[top] = value
        else:
            record[top] = cell
        return
    target = record.setdefault(top, {})
    for part in rest.split(".")[:-1]:
        target = target.setdefault(part, {}) if isinstance(target, dict) else None
    if not isinstance(target, dict):
        raise RecordFileError(
            f"{path}:{number}: column {column!r} nests inside a value that is not an object"
        )
    target[rest.split(".")[-1]] = cell


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
