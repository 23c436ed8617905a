"""The local stack: emulator + tables and queues + function pools + gateway + pollers, all from
template.yaml. `LocalStack` is what `clarion dev`, `clarion invoke` and the e2e tests run."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clarion_cli import emulator
from clarion_cli.edge import ViewerRequestFunction
from clarion_cli.gateway import make_server
from clarion_cli.pollers import Poller
from clarion_cli.runtime import FunctionPool
from clarion_cli.seed import seed
from clarion_cli.template import Template


class LocalStack:
    def __init__(
        self,
        template_path: Path,
        *,
        api_key: str,
        port: int = 3000,
        emulator_port: int = 4566,
        concurrency: int = 2,
        log: Callable[[str], None] = print,
        log_dir: Path | None = None,
    ) -> None:
        self.endpoint = f"http://127.0.0.1:{emulator_port}"
        self.sqs_endpoint = self.endpoint  # unless the emulator this stack starts has its own
        self.template = Template(template_path, endpoint=self.endpoint)
        self.api_key = api_key
        self.application_identifier = ""  # the seeded environment's, once seeded
        self.port = port
        self.emulator_port = emulator_port
        self.concurrency = concurrency
        self.log = log
        self.log_dir = log_dir
        self.functions = self.template.functions()
        self.pools: dict[str, FunctionPool] = {}
        self.pollers: list[Poller] = []
        self._moto: Any = None
        self._server: Any = None

    # --- pieces, usable on their own (invoke needs no gateway) -------------------------
    def start_emulator(self) -> None:
        """Use a running emulator on the port, or start one; then provision and seed it."""
        if not emulator.port_open("127.0.0.1", self.emulator_port):
            self._moto = emulator.start_moto(self.emulator_port)
            self.sqs_endpoint = self._moto.sqs_endpoint
        self.environment = emulator.use_local_credentials(self.endpoint, self.sqs_endpoint)
        # the functions refuse to send a step to the stack's own API (and to its AWS endpoints)
        self.environment["CLARION_LOCAL_GATEWAY_URL"] = f"http://127.0.0.1:{self.port}"
        emulator.provision(self.template, self.endpoint, self.sqs_endpoint)
        os.environ.update(self.functions["ApiFunction"].environment)  # the CLI acts as the API would
        self.application_identifier = seed(self.api_key)

    def pool(self, function: str) -> FunctionPool:
        if function not in self.pools:
            concurrency = (
                self.concurrency if self.functions[function].sqs_sources or function == "ApiFunction" else 1
            )
            self.pools[function] = FunctionPool(
                self.functions[function], self.environment, concurrency, self.log_dir
            )
        return self.pools[function]

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.pool(function).invoke(event)

    # --- the whole stack ----------------------------------------------------------------
    def start(self) -> None:
        self.start_emulator()
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        warmers = [threading.Thread(target=self.pool(name).warm) for name in self.functions]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join()
        import boto3

        sqs = boto3.session.Session().client("sqs", endpoint_url=self.sqs_endpoint)
        for name, function in self.functions.items():
            for source in function.sqs_sources:
                for _ in range(self.pool(name).concurrency):
                    poller = Poller(self.template, name, source, self.invoke, sqs, self.log)
                    poller.start()
                    self.pollers.append(poller)
        stage = self.template.parameters.get("StageName", "live")
        edge_code = self.template.viewer_request_code()
        self._server = make_server(
            "127.0.0.1",
            self.port,
            self.template.api_routes(),
            self.invoke,
            stage,
            self.log,
            ViewerRequestFunction(edge_code) if edge_code else None,
        )
        threading.Thread(target=self._server.serve_forever, daemon=True, name="gateway").start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for poller in self.pollers:
            poller.stopping.set()
        for poller in self.pollers:
            poller.join(timeout=3)
        for pool in self.pools.values():
            pool.stop()
        if self._moto is not None:
            self._moto.stop()
