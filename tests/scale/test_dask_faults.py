"""A worker process killed in the middle of a run: the run completes, results unchanged.

The cluster is this module's own (two worker processes), since the test kills one of
them. Partition tasks sleep 1 s each (the engine's test hook ``_set_task_delay``) so that
the kill lands while tasks are running; Dask runs the lost tasks again, on the surviving
worker or on the one the nanny restarts.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import patrolwatch as pw
from patrolwatch import scale
from patrolwatch.scale.dask import _set_task_delay

from .conftest import assert_same_events

INCIDENT = Path(pw.__file__).resolve().parent / "data" / "incidents" / "2019-07-23-sea-of-japan"
TASK_DELAY_S = 1.0


def _kill_a_busy_worker(client: object, prefix: str, killed: list[int]) -> None:
    """SIGKILL the process of the first worker seen running a task whose key starts
    with ``prefix`` (polls the scheduler for up to 60 s)."""
    pids = client.run(os.getpid)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        for addr, keys in client.processing().items():  # type: ignore[attr-defined]
            if any(str(k).startswith(prefix) for k in keys) and addr in pids:
                time.sleep(0.3)  # inside the task's sleep: it has started
                os.kill(pids[addr], signal.SIGKILL)
                killed.append(pids[addr])
                return
        time.sleep(0.05)


def test_run_survives_a_worker_killed_mid_computation(client: object) -> None:
    paths = [str(INCIDENT / "tracks.csv")]
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    want_read = pw.read_tracks(paths)
    want = pw.crossings(want_read.tracks, zones)
    client.run(_set_task_delay, TASK_DELAY_S)  # type: ignore[attr-defined]
    pids_before = set(client.run(os.getpid).values())  # type: ignore[attr-defined]
    killed: list[int] = []
    killer = threading.Thread(
        target=_kill_a_busy_worker, args=(client, "_crossings_task", killed), daemon=True
    )
    read = scale.read_tracks(paths, client=client, n_partitions=6)
    killer.start()
    got = scale.crossings(read.tracks, zones).compute()
    killer.join(timeout=5)
    assert killed and killed[0] in pids_before, "no worker was killed during the run"
    assert_same_events(got, want)
    assert read.report == want_read.report
    # the nanny started a new worker process in place of the killed one
    client.wait_for_workers(2, timeout=60)  # type: ignore[attr-defined]
    pids_after = set(client.run(os.getpid).values())  # type: ignore[attr-defined]
    assert killed[0] not in pids_after and len(pids_after) == 2


@pytest.fixture(autouse=True)
def _no_delay_afterwards(client: object) -> object:
    yield None
    client.run(_set_task_delay, 0.0)  # type: ignore[attr-defined]
