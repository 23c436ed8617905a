"""The CLI's file handling without a server: record files, chunk keys, the resume state, pacing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clarion_cli.api_client import RateGate
from clarion_cli.record_files import RecordFileError, read_records, write_jsonl
from clarion_cli.trigger_file import EVENT_FIELDS, EVENT_JSON_FIELDS, ChunkResult, RunState, plan


def events(path: Path):  # type: ignore[no-untyped-def]
    return read_records(path, key="events", fields=EVENT_FIELDS, json_fields=EVENT_JSON_FIELDS)


def test_csv_columns_set_fields_json_cells_and_dotted_keys(tmp_path: Path) -> None:
    file = tmp_path / "e.csv"
    file.write_text(
        "name,to,payload,payload.order.id,to.email,overrides\n"
        'welcome,,"{""n"": 1}",A-7,ada@example.com,\n'
        'welcome,"[""a"", ""b""]",,,,"{""email"": {""from"": ""x@y.z""}}"\n'
        "welcome,plain-id,,,,\n"
    )
    read = events(file)
    assert read.records == [
        {"name": "welcome", "payload": {"n": 1, "order": {"id": "A-7"}}, "to": {"email": "ada@example.com"}},
        {"name": "welcome", "to": ["a", "b"], "overrides": {"email": {"from": "x@y.z"}}},
        {"name": "welcome", "to": "plain-id"},
    ]
    assert read.sources == ["e.csv:2", "e.csv:3", "e.csv:4"]


def test_csv_unknown_column_and_bad_json_cell_are_named(tmp_path: Path) -> None:
    file = tmp_path / "e.csv"
    file.write_text("name,to,paylod\nwelcome,a,1\n")
    with pytest.raises(RecordFileError, match="unknown column 'paylod'"):
        events(file)
    file.write_text('name,to,payload\nwelcome,a,"{oops"\n')
    with pytest.raises(RecordFileError, match=r"e.csv:2: column 'payload' is not JSON"):
        events(file)
    file.write_text("name,name.x\nwelcome,1\n")
    with pytest.raises(RecordFileError, match=r"unknown column 'name\.x'"):
        events(file)


def test_json_array_or_events_object_and_jsonl_read_alike_and_drop_the_cli_annotation(tmp_path: Path) -> None:
    records = [{"name": "welcome", "to": "a"}, {"name": "welcome", "to": "b", "_clarion": {"error": "x"}}]
    (tmp_path / "a.json").write_text(json.dumps(records))
    (tmp_path / "b.json").write_text(json.dumps({"events": records}))
    write_jsonl(tmp_path / "c.jsonl", records)
    expected = [{"name": "welcome", "to": "a"}, {"name": "welcome", "to": "b"}]
    for name in ("a.json", "b.json", "c.jsonl"):
        assert events(tmp_path / name).records == expected
    (tmp_path / "d.jsonl").write_text('{"name": "welcome"}\n\n[1]\n')
    with pytest.raises(RecordFileError, match=r"d.jsonl:3: a record must be a JSON object"):
        events(tmp_path / "d.jsonl")
    (tmp_path / "e.txt").write_text("welcome")
    with pytest.raises(RecordFileError, match=r"unknown format '\.txt'"):
        events(tmp_path / "e.txt")


def test_chunk_keys_depend_on_content_run_and_index_only(tmp_path: Path) -> None:
    file = tmp_path / "e.jsonl"
    write_jsonl(file, [{"name": "welcome", "to": str(n)} for n in range(250)])
    chunks = plan(events(file), 100, "1")
    assert [len(c.events) for c in chunks] == [100, 100, 50]
    assert [c.key for c in chunks] == [c.key for c in plan(events(file), 100, "1")]
    assert len({c.key for c in chunks} | {c.key for c in plan(events(file), 100, "2")}) == 6
    write_jsonl(file, [{"name": "welcome", "to": str(n)} for n in range(251)])
    assert not {c.key for c in chunks} & {c.key for c in plan(events(file), 100, "1")}


def test_state_resumes_the_same_content_and_starts_over_on_change_or_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    state = RunState(path, "abc", 100)
    state.record(ChunkResult(0, 201, bulk_id="b0"))
    state.record(ChunkResult(1, 400, error="bad"))
    again = RunState(path, "abc", 100)
    assert again.run == "1"
    assert again.result(0) == ChunkResult(0, 201, bulk_id="b0")
    assert again.result(1) == ChunkResult(1, 400, error="bad")
    assert again.result(2) is None
    assert RunState(path, "abc", 50).result(0) is None
    restarted = RunState(path, "abc", 100, restart=True)
    assert restarted.result(0) is None and restarted.run != "1"


def test_rate_gate_waits_out_retry_after_and_paces_from_ratelimit_headers() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    gate = RateGate(clock=lambda: now[0], sleep=sleep)
    gate.wait()
    assert slept == []
    gate.hold(2.5)
    gate.wait()
    assert sum(slept) == pytest.approx(2.5)
    slept.clear()
    # 200 tokens at most, 50 left, full again in 3 s: 50 tokens/s, so 100 more need 1 s
    gate.observe({"ratelimit-limit": "200", "ratelimit-remaining": "50", "ratelimit-reset": "3"}, 100)
    gate.wait()
    assert sum(slept) == pytest.approx(1.0)
    slept.clear()
    gate.observe({"ratelimit-limit": "200", "ratelimit-remaining": "150", "ratelimit-reset": "1"}, 100)
    gate.wait()
    assert slept == []
