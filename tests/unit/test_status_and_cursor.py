from __future__ import annotations

import pytest
from clarion.results.status import bulk_view
from clarion.store import bulks


def view(total: int, counts: dict[str, int], started: bool = False) -> dict[str, object]:
    return bulk_view(
        "b",
        {
            "total": total,
            "counts": counts,
            "createdAt": "c",
            "startedAt": "s" if started else None,
            "updatedAt": "u",
        },
    )


def test_status_moves_from_queued_to_processing_to_completed() -> None:
    assert view(3, {})["status"] == "queued"
    assert view(3, {"completed": 1}, started=True)["status"] == "processing"
    done = view(3, {"completed": 3}, started=True)
    assert done["status"] == "completed"
    assert done["completedAt"] == "u"


def test_any_refused_or_failed_record_makes_it_partially_failed() -> None:
    assert view(3, {"completed": 2, "error": 1}, started=True)["status"] == "partially_failed"
    assert view(2, {"failed": 1, "completed": 1}, started=True)["status"] == "partially_failed"


def test_records_refused_at_the_api_count_from_the_start() -> None:
    shown = view(3, {"error": 1})
    assert shown["status"] == "queued"
    assert shown["counts"] == {"error": 1, "queued": 2}


def test_cursor_round_trips_and_foreign_cursors_are_refused() -> None:
    assert bulks.decode_cursor(bulks.encode_cursor(41)) == 41
    for bad in ("", "!!", "e30=", bulks.encode_cursor(-1).replace("LTE", "xxx")):
        with pytest.raises(bulks.BadCursorError):
            bulks.decode_cursor(bad)
