"""`clarion trigger --file`: a file of Novu events sent as bulks of at most 100, resumable.

Each chunk carries a deterministic `Idempotency-Key` (the file's sha256, the run, the chunk size
and the chunk's index), and a state file records every chunk once its answer is in. A run that
is interrupted (Ctrl-C, a kill, a lost connection) is run again with the same command: chunks
in the state file are not sent again, and a chunk whose answer was lost in flight is sent with
its old key, so the server replays its first answer (same bulkId) instead of accepting it twice.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from clarion_cli.api_client import Client, error_message
from clarion_cli.record_files import ANNOTATION, RecordFile

BULK_ROUTE = "/v1/events/trigger/bulk"
MAX_CHUNK = 100
FINAL_STATUSES = ("completed", "partially_failed")
EVENT_FIELDS = ("name", "to", "payload", "overrides", "actor", "tenant", "transactionId")
EVENT_JSON_FIELDS = ("to", "payload", "overrides", "actor", "tenant")


@dataclass(frozen=True)
class Chunk:
    index: int
    events: list[dict[str, Any]]
    sources: list[str]
    key: str


@dataclass
class ChunkResult:
    """A chunk's answer: a bulkId when accepted (201), else the HTTP status and error."""

    index: int
    http_status: int
    bulk_id: str | None = None
    error: str | None = None


def state_path_for(input_file: Path) -> Path:
    return input_file.with_name(input_file.name + ".clarion-state.json")


class RunState:
    """The state file: which chunks of this file's content have an answer. Written atomically
    after each answer, so a kill leaves either the old or the new file, never half of one."""

    def __init__(self, path: Path, sha256: str, chunk_size: int, *, restart: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        stored = self._read(path)
        same = stored.get("sha256") == sha256 and stored.get("chunkSize") == chunk_size
        if same and not restart:
            self.data = stored
        else:
            # the keys of a file's first run are the same on every machine; --restart makes new ones
            run = secrets.token_hex(4) if restart else "1"
            self.data = {"sha256": sha256, "chunkSize": chunk_size, "run": run, "chunks": {}}
            self._write()

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            value = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) and isinstance(value.get("chunks"), dict) else {}

    @property
    def run(self) -> str:
        return str(self.data["run"])

    def result(self, index: int) -> ChunkResult | None:
        stored = self.data["chunks"].get(str(index))
        return None if stored is None else ChunkResult(index=index, **stored)

    def record(self, result: ChunkResult) -> None:
        with self._lock:
            self.data["chunks"][str(result.index)] = {
                "http_status": result.http_status,
                "bulk_id": result.bulk_id,
                "error": result.error,
            }
            self._write()

    def _write(self) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.data, indent=1))
        os.replace(temporary, self.path)


def plan(file: RecordFile, chunk_size: int, run: str) -> list[Chunk]:
    size = min(max(chunk_size, 1), MAX_CHUNK)
    return [
        Chunk(
            index=n,
            events=file.records[start : start + size],
            sources=file.sources[start : start + size],
            key=f"clarion-cli-{file.sha256[:32]}-{run}-{size}-{n}",
        )
        for n, start in enumerate(range(0, len(file.records), size))
    ]


def send_chunk(client: Client, chunk: Chunk) -> ChunkResult:
    answer = client.call(
        "POST",
        BULK_ROUTE,
        {"events": chunk.events},
        headers={"Idempotency-Key": chunk.key},
        cost=len(chunk.events),
        check=False,
    )
    if answer.status == 201:
        bulk_id = answer.headers.get("location", "").rstrip("/").rsplit("/", 1)[-1]
        return ChunkResult(chunk.index, 201, bulk_id=bulk_id or None)
    return ChunkResult(chunk.index, answer.status, error=error_message(answer.body, f"HTTP {answer.status}"))


def is_final(result: ChunkResult) -> bool:
    """An answer worth keeping: accepted, or refused for good (a 4xx other than 429/409). A
    5xx or an exhausted 429 leaves the chunk to the next run."""
    return result.http_status == 201 or (
        400 <= result.http_status < 500 and result.http_status not in (409, 429)
    )


def send_all(
    client: Client,
    chunks: list[Chunk],
    state: RunState,
    concurrency: int,
    on_answer: Callable[[Chunk, ChunkResult], None],
) -> list[ChunkResult]:
    """Send the chunks the state has no final answer for, `concurrency` at a time."""
    results: dict[int, ChunkResult] = {}
    pending = []
    for chunk in chunks:
        known = state.result(chunk.index)
        if known is not None and is_final(known):
            results[chunk.index] = known
        else:
            pending.append(chunk)

    def one(chunk: Chunk) -> None:
        result = send_chunk(client, chunk)
        if is_final(result):
            state.record(result)
        results[chunk.index] = result
        on_answer(chunk, result)

    pool = ThreadPoolExecutor(max_workers=max(concurrency, 1))
    try:
        for future in [pool.submit(one, chunk) for chunk in pending]:
            future.result()
    except BaseException:  # Ctrl-C or an error: send nothing more; chunks in flight are recorded
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return [results[chunk.index] for chunk in chunks]


def bulk_statuses(client: Client, bulk_ids: list[str]) -> dict[str, dict[str, Any]]:
    return {bulk_id: client.get_data(f"{BULK_ROUTE}/{bulk_id}") for bulk_id in bulk_ids}


def failed_records(
    client: Client, chunks: list[Chunk], results: list[ChunkResult], statuses: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every record that did not complete, as the event it was, with `_clarion` saying why:
    whole chunks refused, and the records of each bulk whose status is not `completed`."""
    failed: list[dict[str, Any]] = []
    for chunk, result in zip(chunks, results, strict=True):
        if result.bulk_id is None:
            failed += [
                _annotated(e, s, result.error or "not sent")
                for e, s in zip(chunk.events, chunk.sources, strict=True)
            ]
            continue
        status = statuses.get(result.bulk_id, {})
        if status.get("counts", {}).get("completed", 0) >= status.get("total", 0):
            continue
        for row in _records(client, result.bulk_id):
            if (
                row.get("status") not in ("completed", "queued")
                and isinstance(row.get("index"), int)
                and row["index"] < len(chunk.events)
            ):
                reason = row.get("error") or row.get("status")
                failed.append(
                    _annotated(chunk.events[row["index"]], chunk.sources[row["index"]], str(reason))
                )
    return failed


def _records(client: Client, bulk_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = urlencode({"limit": 100, **({"cursor": cursor} if cursor else {})})
        answer = client.call("GET", f"{BULK_ROUTE}/{bulk_id}/records?{query}")
        rows += answer.body.get("data", [])
        cursor = answer.body.get("next")
        if not cursor:
            return rows


def _annotated(event: dict[str, Any], source: str, error: Any) -> dict[str, Any]:
    return {
        **event,
        ANNOTATION: {"error": error if isinstance(error, str) else json.dumps(error), "source": source},
    }


def summary(  # the run in numbers: what --json prints and the table shows
    records: list[Any],
    chunks: list[Chunk],
    results: list[ChunkResult],
    statuses: dict[str, dict[str, Any]],
    resumed: list[Chunk],
    retried: dict[int, int],
    failed: list[dict[str, Any]],
    failed_path: Path,
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for status in statuses.values():
        for name, count in status["counts"].items():
            counts[name] = counts.get(name, 0) + count
    refused = [r for r in results if r.bulk_id is None and is_final(r)]
    unsent = [r for r in results if not is_final(r)]
    return {
        "records": len(records),
        "chunks": len(chunks),
        "resumedChunks": len(resumed),
        "bulks": [statuses[r.bulk_id] for r in results if r.bulk_id in statuses],
        "counts": counts,
        "refusedChunks": [{"chunk": r.index, "httpStatus": r.http_status, "error": r.error} for r in refused],
        "unsentChunks": [{"chunk": r.index, "httpStatus": r.http_status, "error": r.error} for r in unsent],
        "retried": {str(status): n for status, n in sorted(retried.items())},
        "failedRecords": len(failed),
        "failedFile": str(failed_path) if failed else None,
    }
