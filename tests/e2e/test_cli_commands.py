"""`clarion status --watch`, `workflows apply`, `subscribers import` and the common options, run
as a user runs them against the local stack."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.e2e.conftest import API_KEY, RunningStack
from tests.e2e.test_cli_trigger_file import BULK, clarion, cli_environment

CLARION = str(Path(sys.executable).parent / "clarion")  # the entry point `make dev` installs


def run(
    *args: str, url: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        clarion(*args, url=url), env=env or cli_environment(), capture_output=True, text=True, timeout=timeout
    )


def test_status_watch_follows_a_bulk_until_it_is_final(stack: RunningStack) -> None:
    """The bulk's webhooks are held by a listener on loopback until the CLI has read the bulk
    running; then released, `--watch` follows it to the end."""
    release = threading.Event()

    class Held(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            release.wait(60)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hooks = ThreadingHTTPServer(("127.0.0.1", 0), Held)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    try:
        workflow = f"cli-held-{uuid.uuid4().hex[:8]}"
        url = f"http://127.0.0.1:{hooks.server_address[1]}/hook"
        created = stack.call(
            "POST",
            "/v1/workflows",
            json={
                "workflowId": workflow,
                "steps": [{"stepId": "hook", "type": "webhook", "content": {"url": url, "secret": "whsec"}}],
            },
        )
        assert created.status_code == 201, created.text
        answer = stack.call(
            "POST", BULK, json={"events": [{"name": workflow, "to": f"w-{i}"} for i in range(5)]}
        )
        bulk_id = answer.headers["Location"].rsplit("/", 1)[1]

        once = run("status", bulk_id, "--json", url=stack.url)
        assert once.returncode == 0, once.stderr
        assert json.loads(once.stdout)["status"] in ("queued", "processing")

        release.set()
        watched = run("status", bulk_id, "--watch", "--interval", "0.3", "--json", url=stack.url)
        assert watched.returncode == 0, watched.stderr
        view = json.loads(watched.stdout)
        assert view["status"] == "completed"
        assert view["counts"] == {"completed": 5}
        assert view == stack.call("GET", f"{BULK}/{bulk_id}").json()["data"]

        table = run("status", bulk_id, url=stack.url)
        assert f"bulk {bulk_id}: completed (5 records)" in table.stdout
        assert "completed" in table.stdout and "5" in table.stdout
    finally:
        release.set()
        hooks.shutdown()


def stored_name(stack: RunningStack, workflow_id: str) -> str:
    """From the list: GET /v1/workflows/{id} is cached per container and may lag an update."""
    listed = stack.call("GET", "/v1/workflows").json()["data"]
    return str(next(w["name"] for w in listed if w["workflowId"] == workflow_id))


def test_workflows_apply_creates_then_says_unchanged_then_updates_with_a_diff(
    stack: RunningStack, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    file = tmp_path / "workflows.yaml"
    spec = f"""
workflows:
  - workflowId: cli-welcome-{tag}
    name: Welcome
    steps:
      - stepId: inbox
        type: in_app
        content: {{body: "Hi {{{{ subscriber.firstName }}}}"}}
  - name: Order shipped {tag}
    notificationGroupId: orders
    steps:
      - template: {{type: in_app, content: "Your order shipped"}}
"""
    file.write_text(spec)
    first = run("workflows", "apply", "-f", str(file), "--json", url=stack.url)
    assert first.returncode == 0, first.stderr
    assert [(c["workflowId"], c["action"]) for c in json.loads(first.stdout)] == [
        (f"cli-welcome-{tag}", "created"),
        (f"order-shipped-{tag}", "created"),
    ]

    second = run("workflows", "apply", "-f", str(file), url=stack.url)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [f"cli-welcome-{tag}: unchanged", f"order-shipped-{tag}: unchanged"]

    file.write_text(spec.replace("name: Welcome", "name: Welcome aboard"))
    dry = run("workflows", "apply", "-f", str(file), "--dry-run", url=stack.url)
    assert f"cli-welcome-{tag}: would update" in dry.stdout
    assert stored_name(stack, f"cli-welcome-{tag}") == "Welcome"

    third = run("workflows", "apply", "-f", str(file), url=stack.url)
    assert third.returncode == 0, third.stderr
    lines = third.stdout.splitlines()
    assert lines[0] == f"cli-welcome-{tag}: updated"
    assert "  -name: Welcome" in lines and "  +name: Welcome aboard" in lines
    assert lines[-1] == f"order-shipped-{tag}: unchanged"
    assert stored_name(stack, f"cli-welcome-{tag}") == "Welcome aboard"


def test_workflows_apply_names_the_bad_field_before_changing_anything(
    stack: RunningStack, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    file = tmp_path / "workflows.yaml"
    file.write_text(
        f"- {{workflowId: cli-good-{tag}, steps: [{{stepId: a, type: in_app}}]}}\n"
        f"- {{workflowId: cli-bad-{tag}, steps: [{{stepId: a, type: carrier_pigeon}}]}}\n"
    )
    result = run("workflows", "apply", "-f", str(file), url=stack.url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {file}: workflows[1]: steps.0")
    assert stack.call("GET", f"/v1/workflows/cli-good-{tag}").status_code == 404


def test_subscribers_import_from_csv_upserts_and_reports_the_bad_rows(
    stack: RunningStack, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    file = tmp_path / "people.csv"
    file.write_text(
        "subscriberId,email,firstName,data.plan,data\n"
        f"ada-{tag},ada@example.com,Ada,pro,\n"
        f'bob-{tag},bob@example.com,Bob,,"{{""seats"": 3}}"\n'
        f"eve-{tag},not-an-email,Eve,,\n"
    )
    first = run("subscribers", "import", "--file", str(file), "--json", url=stack.url)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["created"], report["updated"]) == (2, 0)
    assert [f["source"] for f in report["failed"]] == ["people.csv:4"]
    assert "email" in report["failed"][0]["error"]
    ada = stack.call("GET", f"/v1/subscribers/ada-{tag}").json()["data"]
    assert (ada["email"], ada["firstName"], ada["data"]) == ("ada@example.com", "Ada", {"plan": "pro"})
    assert stack.call("GET", f"/v1/subscribers/bob-{tag}").json()["data"]["data"] == {"seats": 3}
    failed = [json.loads(line) for line in (tmp_path / "people.failed.jsonl").read_text().splitlines()]
    assert [f["subscriberId"] for f in failed] == [f"eve-{tag}"]

    again = run("subscribers", "import", "--file", str(file), url=stack.url)
    assert again.stdout.splitlines()[0] == "created 0, updated 2, failed 1"


def test_every_command_reads_url_and_key_from_the_environment_and_fails_in_one_line(
    stack: RunningStack, tmp_path: Path
) -> None:
    environment = {**cli_environment(), "CLARION_URL": stack.url, "CLARION_API_KEY": API_KEY}
    bulk = stack.call("POST", BULK, json={"events": [{"name": "welcome", "to": "env-user"}]})
    bulk_id = bulk.headers["Location"].rsplit("/", 1)[1]
    from_env = subprocess.run(
        [CLARION, "status", bulk_id, "--json"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert from_env.returncode == 0, from_env.stderr
    assert json.loads(from_env.stdout)["bulkId"] == bulk_id

    wrong_key = subprocess.run(
        [CLARION, "status", bulk_id, "--api-key", "not-a-key"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert wrong_key.returncode == 1
    assert wrong_key.stderr.startswith("error: HTTP 401") and wrong_key.stderr.count("\n") == 1

    unknown = subprocess.run(
        [CLARION, "status", "no-such-bulk"], env=environment, capture_output=True, text=True
    )
    assert unknown.stderr == "error: HTTP 404: bulkId: bulk 'no-such-bulk' not found\n"

    events = tmp_path / "bad.jsonl"
    events.write_text('{"name": "welcome", "to": "x"}\n{"name": \n')
    bad_file = subprocess.run(
        [CLARION, "trigger", "-f", str(events)], env=environment, capture_output=True, text=True
    )
    assert bad_file.returncode == 1
    assert bad_file.stderr.startswith(f"error: {events}:2: not JSON") and bad_file.stderr.count("\n") == 1

    nothing_there = subprocess.run(
        [CLARION, "status", bulk_id, "--url", "http://127.0.0.1:9"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert nothing_there.stderr == "error: cannot reach http://127.0.0.1:9: ConnectionError\n"

    listed = subprocess.run(
        [CLARION, "--help"], capture_output=True, text=True, env={**environment, "COLUMNS": "200"}
    )
    for command in ("trigger", "status", "workflows", "subscribers", "dev", "invoke", "env", "keys"):
        assert f"│ {command} " in listed.stdout
