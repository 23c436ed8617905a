from __future__ import annotations

from clarion_cli.template import Template


def test_globals_merge_into_functions_and_intrinsics_resolve(template: Template) -> None:
    functions = template.functions()
    assert set(functions) == {"ApiFunction", "WorkerFunction", "ResultsFunction", "DeadLetterFunction"}
    worker = functions["WorkerFunction"]
    assert worker.environment["CLARION_TABLE_NAME"] == "clarion-ClarionTable"  # from Globals, !Ref resolved
    assert worker.environment["CLARION_RESULTS_QUEUE_URL"].endswith("/123456789012/clarion-ResultsQueue")
    assert worker.timeout == 60  # the function's own value wins over Globals
    assert "CLARION_RESULTS_QUEUE_URL" not in functions["ApiFunction"].environment
    assert [d.name for d in worker.layer_dirs] == ["core"]
    (source,) = worker.sqs_sources
    assert (source.queue, source.batch_size, source.report_item_failures) == ("TriggerQueue", 10, True)


def test_routes_match_static_paths_before_greedy_ones(template: Template) -> None:
    routes = template.api_routes()
    paths = [route.path for route, _ in routes]
    assert paths.index("/v1/health") < paths.index("/v1/{proxy+}")
    greedy = next(route for route, _ in routes if route.path == "/v1/{proxy+}")
    match = greedy.pattern().match("/v1/events/trigger/bulk")
    assert match and match.group("proxy") == "events/trigger/bulk"


def test_queue_visibility_is_six_times_the_consumer_timeout(template: Template) -> None:
    functions = template.functions()
    for function in functions.values():
        for source in function.sqs_sources:
            queue = template.resources[source.queue]["Properties"]
            assert queue["VisibilityTimeout"] >= 6 * function.timeout
            if source.queue == "TriggerDLQ":  # the last stop: what its consumer cannot report waits there
                assert "RedrivePolicy" not in queue
                continue
            assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
