"""Benchmarks of the live service (figures, not tests). Seeded synthetic traffic.

``python bench/live/bench_live.py ingest --duration 60 --rate 2000 --tracks 500``
    Starts ``patrolwatch serve`` (NEA catalog, example rules, a fresh DuckDB file) as a
    subprocess on 127.0.0.1, and from this process (the load generator) POSTs JSON-lines
    batches of synthetic aircraft at ``--rate`` fixes/s for ``--duration`` s, each batch
    with an Idempotency-Key. An SSE subscriber records when each alert reaches a client.
    Reports fixes sent, acknowledged and stored (must be equal), sustained throughput,
    commit lag, and alert latency (SSE arrival minus the time the fix that revealed the
    entry was sent) p50/p99.
``python bench/live/bench_live.py detector``
    The streaming detector against its peer, the batch ``crossings`` on the same fixes
    (NEA catalog): time of both and the ratio, and equality of their visit rows.
``python bench/live/bench_live.py memory --tracks 20000``
    Memory held by the detector per open track (tracemalloc), tracks with and without an
    open visit.

Results are printed and written to ``bench/live/results/``. Loopback only; every loop is
bounded by ``--duration``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
KEY = "bench-key"
OPERATORS = ["CHN", "RUS", "KOR", "JPN", "USA"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Traffic:
    """``n`` aircraft flying straight at ~230 m/s over the Korea/Japan region, seeded."""

    def __init__(self, n: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.n = n
        self.lon = rng.uniform(124.0, 136.0, n)
        self.lat = rng.uniform(32.0, 40.0, n)
        self.hdg = rng.uniform(0.0, 360.0, n)
        self.spd = rng.uniform(180.0, 260.0, n)
        self.ids = [f"SYN{i:05d}" for i in range(n)]
        self.ops = [OPERATORS[i % len(OPERATORS)] for i in range(n)]
        self.next = 0

    def fixes(self, k: int, t_s: float, dt_s: float) -> list[dict[str, Any]]:
        """The next ``k`` fixes (round robin over aircraft), each advanced by ``dt_s``."""
        out = []
        for _ in range(k):
            i = self.next
            self.next = (self.next + 1) % self.n
            d = self.spd[i] * dt_s
            h = math.radians(self.hdg[i])
            self.lat[i] += d * math.cos(h) / 111_320.0
            self.lon[i] += d * math.sin(h) / (111_320.0 * math.cos(math.radians(self.lat[i])))
            if not (120 < self.lon[i] < 140 and 28 < self.lat[i] < 44):
                self.hdg[i] = (self.hdg[i] + 180.0) % 360.0  # turn back into the region
            out.append(
                {"track_id": self.ids[i], "time": t_s, "lat": round(self.lat[i], 6),
                 "lon": round(self.lon[i], 6), "alt_m": 9000.0, "speed_mps": self.spd[i],
                 "heading_deg": self.hdg[i], "operator": self.ops[i], "source_kind": "adsb"}
            )  # fmt: skip
        return out

    def csv_bodies(
        self, per_batch: int, n_batches: int, t0_s: float, interval_s: float
    ) -> list[bytes]:
        """CSV deliveries (header + ``per_batch`` rows each, times ``t_ns``), made before the
        run so that the generator spends no CPU on them while the server is measured.
        Batch ``k`` holds the fixes of ``[t0 + k * interval, t0 + (k + 1) * interval)``;
        every aircraft reports every ``n * interval / per_batch`` seconds."""
        out = []
        head = "track_id,t_ns,lat,lon,alt_m,speed_mps,heading_deg,operator,source_kind\n"
        dt_s = self.n * interval_s / per_batch  # reporting interval of one aircraft
        for k in range(n_batches):  # bounded by the run length
            i = (self.next + np.arange(per_batch)) % self.n
            self.next = int((self.next + per_batch) % self.n)
            t_ns = (t0_s + k * interval_s + np.arange(per_batch) * interval_s / per_batch) * 1e9
            rounds = np.arange(per_batch) // self.n
            rows = []
            for r in range(int(rounds.max()) + 1):  # an aircraft at most once per round
                sel = np.flatnonzero(rounds == r)
                j = i[sel]
                d = self.spd[j] * dt_s
                h = np.radians(self.hdg[j])
                self.lat[j] += d * np.cos(h) / 111_320.0
                self.lon[j] += d * np.sin(h) / (111_320.0 * np.cos(np.radians(self.lat[j])))
                out_of = ~(
                    (self.lon[j] > 120)
                    & (self.lon[j] < 140)
                    & (self.lat[j] > 28)
                    & (self.lat[j] < 44)
                )
                self.hdg[j[out_of]] = (self.hdg[j[out_of]] + 180.0) % 360.0
                rows += [
                    f"{self.ids[a]},{int(t)},{la:.6f},{lo:.6f},9000,{sp:.1f},{hd:.1f},{self.ops[a]},adsb"
                    for a, t, la, lo, sp, hd in zip(
                        j.tolist(), t_ns[sel].tolist(), self.lat[j].tolist(), self.lon[j].tolist(),
                        self.spd[j].tolist(), self.hdg[j].tolist(), strict=True,
                    )
                ]  # fmt: skip
            out.append((head + "\n".join(rows) + "\n").encode())
        return out


def _start(
    db: Path, port: int, keyfile: Path, log: Path, extra: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "patrolwatch.cli", "serve", "--catalog", "nea", "--rules", "example",
        "--db", str(db), "--port", str(port), "--api-key-file", str(keyfile), "--gap", "600",
        *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json()["status"] == "ok":
                return proc
        except (httpx.HTTPError, ValueError):
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
    raise RuntimeError("server did not start")


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return math.nan


def cmd_ingest(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-"))
    keyfile = tmp / "key"
    keyfile.write_text(KEY)
    port = _free_port()
    extra = () if args.formations else ("--no-formations",)
    proc = _start(tmp / "bench.duckdb", port, keyfile, tmp / "serve.log", extra)
    try:
        return _ingest(args, tmp, port, proc)
    finally:
        if proc.poll() is None:  # never leave the server running
            proc.kill()
            proc.wait(timeout=30)


def _ingest(
    args: argparse.Namespace, tmp: Path, port: int, proc: subprocess.Popen[bytes]
) -> dict[str, Any]:
    import duckdb
    import httpx

    base = f"http://127.0.0.1:{port}"
    traffic = Traffic(args.tracks)
    per_batch = max(1, int(args.rate * args.interval))
    alerts: list[tuple[float, dict[str, Any]]] = []
    stop = threading.Event()

    def sse() -> None:
        with (
            httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=None) as c,
            c.stream("GET", "/api/stream", params={"types": "alert"}) as resp,
        ):
            kind = ""
            for line in resp.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "alert":
                    alerts.append((time.time(), json.loads(line[6:])))

    th = threading.Thread(target=sse, daemon=True)
    th.start()
    time.sleep(0.5)
    sent = acked = 0
    n_batches = 0
    metrics: list[dict[str, Any]] = []
    rss: list[float] = []
    t_start = time.monotonic()
    import concurrent.futures as cf

    acked_lock = threading.Lock()

    def post(c: httpx.Client, body: bytes, key: str) -> int:
        for _ in range(100):  # retried until acknowledged (bounded)
            try:
                r = c.post(
                    "/api/ingest",
                    content=body,
                    headers={"Idempotency-Key": key, "Content-Type": "text/csv"},
                )
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            if r.status_code == 200:
                return int(r.json()["fixes"])
            time.sleep(0.1)
        return 0

    with (
        httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=120) as c,
        cf.ThreadPoolExecutor(args.concurrency) as pool,
    ):
        next_t = t_start
        futures = []
        n_total = math.ceil(args.duration / args.interval)
        bodies = traffic.csv_bodies(per_batch, n_total, time.time() + 2.0, args.interval)
        t_start = next_t = time.monotonic()
        t_wall0 = time.time()
        while time.monotonic() - t_start < args.duration and n_batches < n_total:  # bounded
            body = bodies[n_batches]
            bodies[n_batches] = b""
            futures.append(pool.submit(post, c, body, f"b{n_batches}"))
            n_batches += 1
            sent += per_batch
            if n_batches % max(1, int(5 / args.interval)) == 0:
                # (a kept-alive connection closed by the server: try again next time)
                with contextlib.suppress(httpx.HTTPError):
                    metrics.append(c.get("/api/metrics").json())
                rss.append(_rss_mb(proc.pid))
            next_t += args.interval
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        elapsed_send = time.monotonic() - t_start
        for f in futures:
            acked += f.result()
        del acked_lock
        elapsed = time.monotonic() - t_start  # until the last acknowledgement
        time.sleep(1.0)
    with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=60) as c:
        final = c.get("/api/metrics").json()
        lat = []
        steady = []  # entries of fixes sent after the warm-up (every track seen once)
        for t_seen, a in alerts:
            if a["event_type"] != "entry" or not a["event"]["fix_ids"]:
                continue
            fx = c.get(f"/api/fixes/{max(a['event']['fix_ids'])}").json().get("fix")
            if fx:
                lat.append(t_seen - fx["received_ns"] / 1e9)
                if fx["received_ns"] / 1e9 >= t_wall0 + args.warmup:
                    steady.append(lat[-1])
    stop.set()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    con = duckdb.connect(str(tmp / "bench.duckdb"), read_only=True)
    stored = con.execute("SELECT count(*) FROM fixes").fetchone()[0]
    n_alerts = con.execute("SELECT count(*) FROM alerts").fetchone()[0]
    con.close()
    size_mb = (tmp / "bench.duckdb").stat().st_size / 2**20
    lat.sort()
    lags = [m["commit_lag_s_max"] for m in metrics if m["commit_lag_s_max"] is not None]
    res = {
        "benchmark": "ingest",
        "duration_s": round(elapsed, 1),
        "target_rate_fixes_per_s": args.rate,
        "tracks": args.tracks,
        "formations": args.formations,
        "batch_fixes": per_batch,
        "sent": sent,
        "acknowledged": acked,
        "stored": int(stored),
        "sent_equals_stored": sent == stored,
        "sustained_fixes_per_s": round(stored / elapsed, 1),
        "send_s": round(elapsed_send, 1),
        "note": "duration_s runs from the first POST to the last acknowledgement",
        "commit_lag_s_max_over_run": round(max(lags), 3) if lags else None,
        "alerts": int(n_alerts),
        "alert_latency_s_p50": round(lat[len(lat) // 2], 3) if lat else None,
        "alert_latency_s_p99": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 3)
        if lat
        else None,
        "alert_latency_n": len(lat),
        "warmup_s": args.warmup,
        "alert_latency_steady_s_p50": _pct(steady, 0.5),
        "alert_latency_steady_s_p99": _pct(steady, 0.99),
        "alert_latency_steady_n": len(steady),
        "open_tracks_end": final["open_tracks"],
        "server_rss_mb_max": round(max(rss), 1) if rss else None,
        "db_size_mb": round(size_mb, 1),
        "crossings_calls": final["detector"]["crossings_calls"],
        "cpu": os.cpu_count(),
    }
    return res


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))], 3)


def cmd_detector(args: argparse.Namespace) -> dict[str, Any]:
    import pyarrow as pa

    import patrolwatch as pw
    from patrolwatch.catalog import load_catalog
    from patrolwatch.serve.stream import Detector, FixBatch

    zones = load_catalog("nea").zones
    traffic = Traffic(args.tracks, seed=3)
    rows = []
    for k in range(args.steps):
        rows += traffic.fixes(args.tracks, 1.56e9 + k * args.dt, args.dt)
    ids = [r["track_id"] for r in rows]
    t = np.asarray([int(r["time"] * 1e9) for r in rows], dtype=np.int64)
    tracks = pw.Tracks.from_arrays(ids, t, [r["lon"] for r in rows], [r["lat"] for r in rows])
    t0 = time.perf_counter()
    batch = pw.crossings(tracks, zones)
    t_batch = time.perf_counter() - t0
    det = Detector(zones, evict_after_s=None, gap_s=None, lateness_s=0)
    order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
    t0 = time.perf_counter()
    out = []
    step = args.tracks * args.batch_steps
    for i in range(0, order.size, step):  # bounded by the number of fixes
        out += det.push(FixBatch.from_tracks(tracks, order[i : i + step]))
    out += det.flush()
    t_stream = time.perf_counter() - t0
    table = batch.to_arrow()
    col = table.column("entry_bracket_start").cast(pa.int64()).to_pylist()
    want = sorted(
        (r["track_id"], r["zone_id"], -1 if c is None else c)
        for r, c in zip(table.to_pylist(), col, strict=True)
    )
    got = sorted(
        (e.row["track_id"], e.row["zone_id"], -1 if e.row["entry_bracket_start"] is None
         else e.row["entry_bracket_start"])
        for e in out
        if e.type == "visit"
    )  # fmt: skip
    return {
        "benchmark": "detector",
        "fixes": len(tracks),
        "tracks": args.tracks,
        "zones": len(zones),
        "fixes_per_push": step,
        "pushes": math.ceil(order.size / step),
        "batch_crossings_s": round(t_batch, 2),
        "stream_detector_s": round(t_stream, 2),
        "ratio_stream_over_batch": round(t_stream / t_batch, 2),
        "stream_fixes_per_s": round(len(tracks) / t_stream, 1),
        "visits": len(want),
        "same_visits": want == got,
        "crossings_calls": det.stats["crossings_calls"],
    }


def cmd_memory(args: argparse.Namespace) -> dict[str, Any]:
    from shapely.geometry import box

    from patrolwatch.core.zones import Zone, Zones
    from patrolwatch.serve.stream import Detector, FixBatch

    zones = Zones([Zone("z", "Box", "custom", ("KOR",), box(129.0, 36.0, 131.0, 38.0))])
    res: dict[str, Any] = {"benchmark": "memory", "tracks": args.tracks}
    cases = [
        ("outside_lateness0", 120.0, 0.0),
        ("open_visit_lateness0", 129.5, 0.0),
        ("outside_lateness60", 120.0, 60.0),
        ("open_visit_lateness60", 129.5, 60.0),
    ]
    for label, lon0, lateness in cases:
        det = Detector(zones, evict_after_s=None, gap_s=None, lateness_s=lateness)
        n = args.tracks
        ids = np.asarray([f"T{i:06d}" for i in range(n)])
        tracemalloc.start()
        base = tracemalloc.take_snapshot()
        for k in range(10):  # ten fixes per track, one batch per step
            det.push(
                FixBatch.from_arrays(
                    ids, np.full(n, k * 10**9), np.full(n, lon0 + 0.001 * k),
                    np.linspace(36.5, 37.5, n), fix_id=np.arange(n) + k * n,
                )
            )  # fmt: skip
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        used = sum(s.size_diff for s in snap.compare_to(base, "filename"))
        res[f"bytes_per_track_{label}"] = round(used / n)
        res[f"window_fixes_{label}"] = det.state_size()["window_fixes"]
        res[f"open_visits_{label}"] = len(det.open_visits())
    return res


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ingest")
    a.add_argument("--duration", type=float, default=60.0)
    a.add_argument("--rate", type=float, default=2000.0, help="fixes per second")
    a.add_argument("--tracks", type=int, default=500)
    a.add_argument("--interval", type=float, default=0.25, help="seconds between batches")
    a.add_argument("--concurrency", type=int, default=8, help="requests in flight at most")
    a.add_argument(
        "--warmup",
        type=float,
        default=15.0,
        help="seconds at the start (every aircraft new) left out of the steady latency",
    )
    a.add_argument(
        "--no-formations",
        dest="formations",
        action="store_false",
        help="serve without the streaming formation tracker (to measure its cost)",
    )
    d = sub.add_parser("detector")
    d.add_argument("--tracks", type=int, default=300)
    d.add_argument("--steps", type=int, default=120)
    d.add_argument("--dt", type=float, default=10.0)
    d.add_argument("--batch-steps", type=int, default=1)
    m = sub.add_parser("memory")
    m.add_argument("--tracks", type=int, default=20_000)
    args = p.parse_args()
    if args.duration > 300 if args.cmd == "ingest" else False:
        p.error("--duration is at most 300 s")
    res = {"ingest": cmd_ingest, "detector": cmd_detector, "memory": cmd_memory}[args.cmd](args)
    RESULTS.mkdir(exist_ok=True)
    name = f"{args.cmd}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    (RESULTS / name).write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
