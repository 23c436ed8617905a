"""`clarion subscribers import --file`: subscribers upserted through `POST /v1/subscribers/bulk`,
500 a request (the route's limit), a few requests at a time. An import is an upsert, so running
it again is safe: existing subscribers are updated, not duplicated."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clarion_cli.api_client import Client
from clarion_cli.record_files import ANNOTATION, read_records

BULK_ROUTE = "/v1/subscribers/bulk"
MAX_CHUNK = 500
SUBSCRIBER_FIELDS = (
    "subscriberId",
    "email",
    "firstName",
    "lastName",
    "phone",
    "avatar",
    "locale",
    "timezone",
    "data",
    "channels",
)
SUBSCRIBER_JSON_FIELDS = ("data", "channels")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # the records, with `_clarion`

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "failed": [
                {"source": f[ANNOTATION]["source"], "error": f[ANNOTATION]["error"]} for f in self.failed
            ],
        }


def import_file(
    client: Client, path: Path, *, chunk_size: int = MAX_CHUNK, concurrency: int = 4
) -> ImportResult:
    file = read_records(path, key="subscribers", fields=SUBSCRIBER_FIELDS, json_fields=SUBSCRIBER_JSON_FIELDS)
    size = min(max(chunk_size, 1), MAX_CHUNK)
    starts = list(range(0, len(file.records), size))

    def one(start: int) -> dict[str, Any]:
        answer = client.call("POST", BULK_ROUTE, {"subscribers": file.records[start : start + size]})
        data: dict[str, Any] = answer.data
        return data

    result = ImportResult()
    with ThreadPoolExecutor(max_workers=max(concurrency, 1)) as pool:
        for start, data in zip(starts, pool.map(one, starts), strict=True):
            result.created += len(data.get("created", []))
            result.updated += len(data.get("updated", []))
            for failure in data.get("failed", []):
                at = start + int(failure["index"])
                annotation = {"error": failure.get("message", "invalid"), "source": file.sources[at]}
                result.failed.append({**file.records[at], ANNOTATION: annotation})
    return result
