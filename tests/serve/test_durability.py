"""SIGKILL mid-stream: nothing acknowledged is lost, nothing is stored twice, and the
restarted detector still gives the batch detector's visits.

A real ``patrolwatch serve`` subprocess on 127.0.0.1 is killed twice while a client posts
the bundled incident in batches (each with an ``Idempotency-Key``, retried until
acknowledged), and restarted on the same DuckDB file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import httpx
import numpy as np

import patrolwatch as pw

from .conftest import INCIDENT, KEY, free_port, wait_until
from .test_stream import batch_rows

BATCH = 25


def start_server(db: Path, port: int, keyfile: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "patrolwatch.cli",
        "serve",
        "--zones",
        str(INCIDENT / "zones.geojson"),
        "--db",
        str(db),
        "--port",
        str(port),
        "--api-key-file",
        str(keyfile),
        "--clock",
        "stream",
        "--rules",
        "example",
        "--evict-after",
        "86400",
    ]
    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def up() -> bool:
        try:
            return (
                httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json()["status"] == "ok"
            )
        except (httpx.HTTPError, ValueError):
            assert proc.poll() is None, log.read_text()[-3000:]
            return False

    wait_until(up, timeout_s=60, step_s=0.1)
    return proc


def test_sigkill_mid_stream_loses_nothing_acknowledged_and_doubles_nothing(tmp_path: Path) -> None:
    tracks, _, _ = pw.read_tracks(INCIDENT / "tracks.csv")
    order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
    tix = tracks.track_index
    payloads = []
    for b0 in range(0, order.size, BATCH):
        rows = []
        for i in order[b0 : b0 + BATCH].tolist():
            t = np.datetime_as_string(np.datetime64(int(tracks.t_ns[i]), "ns"), unit="s") + "Z"
            rows.append(
                json.dumps(
                    {
                        "track_id": str(tracks.track_ids[tix[i]]),
                        "time": t,
                        "lat": float(tracks.lat_deg[i]),
                        "lon": float(tracks.lon_deg[i]),
                        "alt_m": float(tracks.alt_m[i]),
                    }
                )
            )
        payloads.append("\n".join(rows).encode())
    keyfile = tmp_path / "key"
    keyfile.write_text(KEY + "\n")
    db, log, port = tmp_path / "pw.duckdb", tmp_path / "serve.log", free_port()
    proc = start_server(db, port, keyfile, log)
    acked: dict[int, dict[str, object]] = {}
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}) as c:
            deadline = time.monotonic() + 120
            for k, body in enumerate(payloads):
                while not stop.is_set() and time.monotonic() < deadline:  # retried until acked
                    try:
                        r = c.post(
                            "/api/ingest",
                            content=body,
                            timeout=10,
                            headers={"Idempotency-Key": f"batch-{k}"},
                        )
                    except httpx.HTTPError:
                        time.sleep(0.05)
                        continue
                    if r.status_code == 200:
                        acked[k] = r.json()
                        break
                    time.sleep(0.05)

    thread = threading.Thread(target=client)
    thread.start()
    rng = random.Random(20190723)
    kills = 0
    try:
        for frac in (0.3, 0.65):  # two kills at random moments mid-stream
            wait_until(
                lambda f=frac: len(acked) >= int(f * len(payloads)), timeout_s=60, step_s=0.01
            )
            time.sleep(rng.uniform(0.0, 0.05))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            kills += 1
            proc = start_server(db, port, keyfile, log)
        thread.join(timeout=120)
        assert not thread.is_alive()
        assert len(acked) == len(payloads)
    finally:
        stop.set()
        thread.join(timeout=10)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert kills == 2
    con = duckdb.connect(str(db), read_only=True)
    n_fix = con.execute("SELECT count(*) FROM fixes").fetchone()
    keys = con.execute("SELECT count(*), count(DISTINCT batch_key) FROM ingest_log").fetchone()
    dup = con.execute(
        "SELECT count(*) FROM (SELECT batch_id, line FROM fixes GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()
    bodies = [
        json.loads(r[0])
        for r in con.execute("SELECT body FROM events WHERE type = 'visit'").fetchall()
    ]
    con.close()
    assert n_fix == (len(tracks),)  # every acknowledged fix, once
    assert keys == (len(payloads), len(payloads))
    assert dup == (0,)
    assert sum(int(a["fixes"]) for a in acked.values()) == len(tracks)
    # the visits closed across both restarts are the batch detector's visits
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    key = ("track_id", "zone_id", "entry_bracket_start", "exit_bracket_end", "n_fixes_inside")
    want = sorted(
        tuple(r[k] for k in key)
        for r in batch_rows(pw.crossings(tracks, zones))
        if r["evidence"] in ("observed", "interpolated") and r["exit_time"] is not None
    )
    got = sorted(tuple(b["row"][k] for k in key) for b in bodies)
    assert len(got) > 15
    assert got == want
