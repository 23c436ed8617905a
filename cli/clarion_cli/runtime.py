"""Function runtimes: each is a separate process, like a Lambda execution environment, with the
function's own environment variables, its code directory and its layers on sys.path. A pool
keeps them warm; a timeout kills the process, as Lambda does."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from clarion_cli.in_process import LambdaContext, import_handler
from clarion_cli.template import Function


class InvocationError(Exception):
    """The function raised or timed out; `payload` is Lambda's error shape."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


def _child(connection: Any, spec: dict[str, Any]) -> None:
    """Runs inside the runtime process: import the handler once, then serve invocations."""
    if spec.get("log_path"):
        log = os.open(spec["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
    else:
        os.dup2(2, 1)  # the function's logs go to stderr; stdout is the invocation's result
    for name in [k for k in os.environ if k.startswith("CLARION_")]:
        del os.environ[name]
    os.environ.update(spec["environment"])
    sys.path[:0] = [spec["code_dir"], *spec["layer_dirs"]]
    handler = import_handler(Path(spec["code_dir"]), spec["handler"])
    connection.send(("ready", None))
    while True:
        message = connection.recv()
        if message is None:
            return
        event, request_id, deadline = message
        context = LambdaContext(spec["name"], spec["memory"], deadline, request_id)
        try:
            result = handler(event, context)
        except Exception as error:  # the handler's failure is the invocation's result
            connection.send(
                (
                    "error",
                    {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_exc().splitlines(),
                    },
                )
            )
        else:
            connection.send(("ok", result))
        sys.stdout.flush()


class _Runtime:
    def __init__(self, function: Function, environment: dict[str, str], log_path: Path | None) -> None:
        self.function = function
        self.spec = {
            "name": function.name,
            "memory": function.memory,
            "handler": function.handler,
            "code_dir": str(function.code_dir.resolve()),
            "layer_dirs": [str(d.resolve()) for d in function.layer_dirs],
            "environment": {
                **environment,
                **function.environment,
                # No X-Ray daemon here: tracing off, as under `sam local` (Powertools reads both).
                "AWS_SAM_LOCAL": "true",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            },
            "log_path": str(log_path) if log_path else None,
        }
        self.process: Any = None
        self.connection: Any = None

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self.process = context.Process(target=_child, args=(child, self.spec), daemon=True)
        self.process.start()
        self.connection = parent
        if not parent.poll(60):
            self.stop()
            raise RuntimeError(f"{self.function.name} did not start within 60 s")
        status, _ = parent.recv()
        assert status == "ready"

    def invoke(self, event: dict[str, Any]) -> Any:
        if self.process is None or not self.process.is_alive():
            self.start()
        deadline = time.time() + self.function.timeout
        self.connection.send((event, str(uuid.uuid4()), deadline))
        if not self.connection.poll(self.function.timeout):
            self.stop()
            raise InvocationError(
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {self.function.timeout} seconds",
                }
            )
        try:
            status, result = self.connection.recv()
        except EOFError:
            self.stop()
            raise InvocationError(
                {"errorType": "Runtime.ExitError", "errorMessage": "runtime exited"}
            ) from None
        if status == "error":
            raise InvocationError(result)
        return result

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError, ValueError):
                self.connection.send(None)
            self.process.join(timeout=2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(timeout=2)
        self.process = None


class FunctionPool:
    """Up to `concurrency` warm runtimes of one function; invoke blocks for a free one."""

    def __init__(
        self,
        function: Function,
        environment: dict[str, str],
        concurrency: int = 1,
        log_dir: Path | None = None,
    ) -> None:
        self.function = function
        self.concurrency = concurrency
        self._idle: queue.Queue[_Runtime] = queue.Queue()
        self._all = [
            _Runtime(function, environment, (log_dir / f"{function.name}.log") if log_dir else None)
            for _ in range(concurrency)
        ]
        for runtime in self._all:
            self._idle.put(runtime)

    def warm(self) -> None:
        threads = [threading.Thread(target=r.start) for r in self._all]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def invoke(self, event: dict[str, Any]) -> Any:
        runtime = self._idle.get()
        try:
            return runtime.invoke(event)
        finally:
            self._idle.put(runtime)

    def stop(self) -> None:
        for runtime in self._all:
            runtime.stop()
