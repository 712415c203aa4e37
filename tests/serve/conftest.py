"""Fixtures of the live-service tests: a real uvicorn server on 127.0.0.1, in a thread.

All traffic stays on the loopback interface; every wait is bounded in time.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from shapely.geometry import box

import patrolwatch as pw
from patrolwatch.core.zones import Zone, Zones
from patrolwatch.serve.app import create_app
from patrolwatch.serve.service import ServeConfig, Service

INCIDENT = (
    Path(__file__).resolve().parents[2] / "src/patrolwatch/data/incidents/2019-07-23-sea-of-japan"
)
KEY = "test-key-0123456789"
AUTH = {"X-API-Key": KEY}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(pred: Callable[[], Any], timeout_s: float = 10.0, step_s: float = 0.05) -> Any:
    """Poll ``pred`` until it returns something truthy (bounded); fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step_s)
    raise AssertionError(f"condition not met within {timeout_s} s")


@dataclass
class Running:
    url: str
    service: Service
    config: ServeConfig

    def client(self, *, auth: bool = True) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=AUTH if auth else {}, timeout=10.0)

    def settle(self, timeout_s: float = 60.0) -> None:
        """Wait until every acknowledged batch went through the pipeline and the
        formation tracker (it runs beside the pipeline)."""
        svc = self.service
        wait_until(
            lambda: svc._queue is not None and svc._queue.empty() and not svc.formations_pending,
            timeout_s=timeout_s,
        )


@contextmanager
def serve(config: ServeConfig) -> Iterator[Running]:
    """Run the app with uvicorn in a thread until the block ends."""
    config.port = config.port if config.port != 8000 else free_port()
    service = Service(config)
    app = create_app(config, service)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=config.port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started and service.ready, timeout_s=30)
        yield Running(f"http://127.0.0.1:{config.port}", service, config)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        assert not thread.is_alive(), "server did not stop"


def incident_zones() -> Zones:
    return pw.read_zones(INCIDENT / "zones.geojson")


def box_zones(*boxes: tuple[str, str, float, float, float, float]) -> Zones:
    return Zones(
        [Zone(zid, zid, kind, ("KOR",), box(x0, y0, x1, y1)) for zid, kind, x0, y0, x1, y1 in boxes]
    )


def make_config(tmp_path: Path, **kw: Any) -> ServeConfig:
    kw.setdefault("zones", incident_zones())
    kw.setdefault("api_keys", (KEY,))
    kw.setdefault("db", tmp_path / "pw.duckdb")
    return ServeConfig(**kw)


@pytest.fixture
def cfg(tmp_path: Path) -> Callable[..., ServeConfig]:
    def make(**kw: Any) -> ServeConfig:
        return make_config(tmp_path, **kw)

    return make
