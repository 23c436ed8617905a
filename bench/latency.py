"""The ApiFunction's own time for a 100-event bulk, every AWS call answered by botocore's Stubber,
over a floor measured the same way: pydantic validation of the same body plus the ten
SendMessageBatch calls it takes to enqueue it.

The answers the Stubber gives are recorded first: the same bulk runs on moto (warm caches) and
every call's parsed answer is kept, in order; each timed run replays them. Nothing leaves the
process: a call the replay did not expect fails (AWS_ENDPOINT_URL points at a closed port) and
the run is reported as a mismatch instead of timed."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from botocore import xform_name
from botocore.model import NoShapeFoundError
from clarion.dialects.novu import MAX_BULK_EVENTS, NovuTriggerEvent
from clarion_cli.in_process import LambdaContext, api_request, environment, json_answer
from pydantic import BaseModel, Field

from bench.cloud import BASE_ENVIRONMENT, BULK_PATH, MockCloud, mock_cloud, novu_bulk
from bench.counting import Call, Recorder, Window
from bench.figures import Figure, Section, median

# Caches must stay warm for the whole run so that every timed run makes the recorded calls.
_LONG_CACHES = {"CLARION_AUTH_CACHE_SECONDS": "3600", "CLARION_WORKFLOW_CACHE_SECONDS": "3600"}
_OFFLINE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}


# --- the floor: what any implementation must do ------------------------------------------------
class _Body(BaseModel):
    """The bulk body, validated with the dialect's own event model (the floor does no less)."""

    events: Annotated[list[NovuTriggerEvent], Field(max_length=MAX_BULK_EVENTS)]


_FLOOR_SENDS = 10  # SendMessageBatch calls of the floor for a 100-event bulk: one message per event
_FLOOR_ANSWER = {
    "Successful": [{"Id": str(i), "MessageId": f"m{i}", "MD5OfMessageBody": "0" * 32} for i in range(10)],
    "Failed": [],
}


def _floor(body: str, sqs: Any, queue_url: str) -> None:
    events = _Body.model_validate_json(body).events
    messages = [event.model_dump_json() for event in events]
    for start in range(0, len(messages), 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": m} for i, m in enumerate(messages[start : start + 10])],
        )


# --- recording, replaying ------------------------------------------------------------------------


def _record(cloud: MockCloud, recorder: Recorder, body: dict[str, Any]) -> list[Call]:
    cloud.api("POST", BULK_PATH, novu_bulk("welcome", tag="warm-up"))
    recorder.keep_responses = True
    mark = recorder.mark()
    status, _, answer = cloud.api("POST", BULK_PATH, body)
    if status != 201:
        raise RuntimeError(f"the recorded bulk answered {status}: {str(answer)[:200]}")
    return recorder.since(mark).of("ApiFunction")


class _Replay:
    """One Stubber per client clarion.aws hands out (and any other service: its own client)."""

    def __init__(self, calls: list[Call]) -> None:
        from botocore.stub import Stubber
        from clarion import aws

        self.calls = calls
        self.stubbers: dict[str, Stubber] = {}
        for service in {c.service for c in calls} | {"sqs", "dynamodb"}:
            self.stubbers[service] = Stubber(aws._client(service))
            self.stubbers[service].activate()

    def arm(self) -> None:
        for call in self.calls:
            stubber = self.stubbers[call.service]
            if call.error is None:
                stubber.add_response(xform_name(call.operation), dict(call.response))
                continue
            # A recorded error (a conditional write that failed) is replayed as that error.
            try:
                members = stubber.client.meta.service_model.shape_for(call.error).members
            except NoShapeFoundError:  # an error code the service model does not describe
                members = {}
            stubber.add_client_error(
                xform_name(call.operation),
                service_error_code=call.error,
                service_message=(call.response.get("Error") or {}).get("Message", ""),
                http_status_code=400,
                modeled_fields={
                    k: v for k, v in call.response.items() if k in members and k.lower() != "message"
                }
                or None,
            )

    def consumed(self) -> bool:
        try:
            for stubber in self.stubbers.values():
                stubber.assert_no_pending_responses()
        except AssertionError:
            return False
        return True

    def close(self) -> None:
        for stubber in self.stubbers.values():
            stubber.deactivate()


def latency_section(repeats: int = 60, warmups: int = 5) -> Section:
    import boto3
    from botocore.stub import Stubber
    from clarion import aws

    section = Section("latency", "ApiFunction in-process time for a 100-event bulk vs. the floor")
    recorder = Recorder()
    body = novu_bulk("welcome", tag="timed")
    body_text = json.dumps(body)
    with mock_cloud(recorder, _LONG_CACHES) as cloud:
        calls = _record(cloud, recorder, body)
        handler = cloud.handler("ApiFunction")
        api_function = cloud.functions["ApiFunction"]
        api_environment = api_function.environment
    sends = [c for c in calls if c.name == "sqs.SendMessageBatch"]
    event = api_request("POST", BULK_PATH, raw_body=body_text)
    with environment({**BASE_ENVIRONMENT, **_LONG_CACHES, **api_environment, **_OFFLINE}):
        from clarion import config

        config.settings.cache_clear()
        aws.reset_clients()
        replay = _Replay(calls)
        floor_sqs = boto3.session.Session().client("sqs")
        floor_stub = Stubber(floor_sqs)
        floor_stub.activate()
        queue_url = api_environment.get("CLARION_TRIGGER_QUEUE_URL", "")
        handler_times: list[float] = []
        floor_times: list[float] = []
        mismatches = 0
        try:
            for run in range(warmups + repeats):
                replay.arm()
                context = LambdaContext.starting_now(api_function)
                started = time.perf_counter()
                try:
                    result = handler(event, context)
                except Exception as error:  # an unexpected call: the Stubber raises
                    result = error
                elapsed = time.perf_counter() - started  # the handler's own time, not the reading below
                if isinstance(result, Exception):
                    status, answer = 0, f"{type(result).__name__}: {result}"
                else:
                    status, _, answer = json_answer(result)
                if status != 201 or not replay.consumed():
                    mismatches += 1
                    replay.close()  # fresh stubbers: drop whatever the run left queued
                    replay = _Replay(calls)
                    if mismatches == 1:
                        section.notes.append(
                            f"latency: a stubbed run did not replay the recorded calls "
                            f"(answer {status}: {str(answer)[:160]})"
                        )
                elif run >= warmups:
                    handler_times.append(elapsed)
                for _ in range(_FLOOR_SENDS):  # the floor sends a message per record, ten a call
                    floor_stub.add_response("send_message_batch", _FLOOR_ANSWER)
                started = time.perf_counter()
                _floor(body_text, floor_sqs, queue_url)
                elapsed = time.perf_counter() - started
                if run >= warmups:
                    floor_times.append(elapsed)
        finally:
            replay.close()
            floor_stub.deactivate()
            aws.reset_clients()
            config.settings.cache_clear()
    if len(sends) != _FLOOR_SENDS:  # intake packs ten records a message (model.packed): fewer calls
        section.notes.append(
            f"latency: the handler made {len(sends)} SendMessageBatch calls, the floor {_FLOOR_SENDS}"
        )
    handler_ms = median(handler_times) * 1000 if handler_times else None
    floor_ms = median(floor_times) * 1000
    section.figures += [
        Figure(
            "accept_latency_ratio",
            handler_ms / floor_ms if handler_ms else None,
            "x",
            "<= 1.5",
            "ApiFunction handler time for a 100-event bulk over the floor (pydantic validation of the "
            "same body + 10 SendMessageBatch), all AWS calls stubbed; medians",
        ),
        Figure(
            "accept_latency_ms",
            handler_ms,
            "ms",
            None,
            f"the handler's median in-process time ({len(handler_times)} runs, "
            f"{len(calls)} stubbed calls each)",
        ),
        Figure("accept_floor_ms", floor_ms, "ms", None, f"the floor's median ({len(floor_times)} runs)"),
    ]
    section.details += [
        f"Stubbed calls replayed per handler run ({len(calls)}): "
        + ", ".join(f"{n} x `{op}`" for op, n in Window.by_operation(calls).items()),
    ]
    return section
