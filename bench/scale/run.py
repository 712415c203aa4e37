"""Crossings on a LocalCluster (1 and 2 workers) against the single-process engine.

Runs each configuration in a fresh process (so peak memory is its own) on the
partitioned data set of ``make_dataset.py`` and the 20 zones of ``bench/workload.py``:

* ``local``: :func:`patrolwatch.read_tracks` then :func:`patrolwatch.crossings`;
* ``dask-1``, ``dask-2``: :func:`patrolwatch.scale.read_tracks` then
  :func:`patrolwatch.scale.crossings` on a ``LocalCluster`` of 1 or 2 single-threaded
  worker processes, the events gathered and checked against ``local``'s.

Reports wall time (read, crossings, total), throughput (fixes per second, total time),
scaling efficiency (T1 / (N * TN)) and peak RSS per process (``ru_maxrss`` of each
worker, and of the client). Writes ``bench/scale/results/crossings_N.json``.

Usage::

    python bench/scale/run.py N [--partitions 8] [--configs local,dask-1,dask-2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import workload as wl  # noqa: E402  (bench/ is not a package)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU seconds (user + system) used by this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _compare(got: object, want: object) -> tuple[bool, int, float]:
    """(non-float columns equal exactly and floats within 4 ulps, number of float values
    not bit-identical, largest difference in ulps)."""
    import numpy as np
    import pyarrow as pa

    assert isinstance(got, pa.Table) and isinstance(want, pa.Table)
    if got.schema != want.schema or got.num_rows != want.num_rows:
        return False, -1, float("nan")
    ok, n_diff, worst = True, 0, 0.0
    for name in got.column_names:
        x, y = got.column(name), want.column(name)
        if not pa.types.is_floating(x.type):
            ok &= x.equals(y)
            continue
        xv = np.asarray(x.to_numpy(zero_copy_only=False), dtype=np.float64)
        yv = np.asarray(y.to_numpy(zero_copy_only=False), dtype=np.float64)
        same = (xv == yv) | (np.isnan(xv) & np.isnan(yv))
        n_diff += int((~same).sum())
        if (~same).any():
            ulps = np.abs(xv - yv)[~same] / np.spacing(np.maximum(np.abs(xv), np.abs(yv))[~same])
            worst = max(worst, float(ulps.max()))
    return bool(ok and worst <= 4), n_diff, worst


def run_one(config: str, n: int, partitions: int) -> dict[str, object]:
    """One configuration, in this process."""
    import pyarrow.parquet as pq

    import patrolwatch as pw

    data = HERE / "data" / f"scale_{n}_s{wl.SEED}"
    zones = pw.read_zones(wl.paths(n)[1])
    out: dict[str, object] = {"config": config}
    if config == "local":
        from patrolwatch.scale import expand_inputs

        files = expand_inputs(data)
        c0 = _cpu_s()
        t0 = time.perf_counter()
        tracks, _rejects, report = pw.read_tracks(files)
        t1 = time.perf_counter()
        events = pw.crossings(tracks, zones)
        t2 = time.perf_counter()
        c2 = _cpu_s()
        pq.write_table(events.to_arrow(), HERE / "data" / f"events_local_{n}.parquet")
        out.update(
            read_s=t1 - t0,
            crossings_s=t2 - t1,
            total_s=t2 - t0,
            cpu_s={"process": c2 - c0},
            n_fixes=report.rows_used,
            n_events=len(events),
            peak_rss_mb={"process": _maxrss_mb()},
        )
        return out
    from distributed import Client, LocalCluster

    from patrolwatch import scale

    workers = int(config.split("-")[1])
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    try:
        client.wait_for_workers(workers)
        cpu0 = client.run(_cpu_s)
        c0 = _cpu_s()
        t0 = time.perf_counter()
        read = scale.read_tracks(data, client=client, n_partitions=partitions)
        t1 = time.perf_counter()
        pev = scale.crossings(read.tracks, zones)
        from distributed import wait

        wait(pev.futures)
        t2 = time.perf_counter()
        events = pev.compute()
        t3 = time.perf_counter()
        c3 = _cpu_s()
        cpu1 = client.run(_cpu_s)
        worker_rss = client.run(_maxrss_mb)
        want = pq.read_table(HERE / "data" / f"events_local_{n}.parquet")
        identical, n_float_diff, max_ulps = _compare(events.to_arrow(), want)
        out.update(
            read_s=t1 - t0,
            crossings_s=t2 - t1,
            gather_sort_s=t3 - t2,
            total_s=t3 - t0,
            cpu_s={
                "client": c3 - c0,
                **{f"worker{i}": cpu1[a] - cpu0[a] for i, a in enumerate(sorted(cpu1))},
            },
            n_fixes=read.report.rows_used,
            n_events=len(events),
            partitions=partitions,
            identical_to_local=identical,
            float_values_not_bit_identical=n_float_diff,
            max_ulps=max_ulps,
            peak_rss_mb={
                "client": _maxrss_mb(),
                **{f"worker{i}": v for i, v in enumerate(worker_rss.values())},
            },
        )
        return out
    finally:
        client.close()
        cluster.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int)
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--configs", default="local,dask-1,dask-2")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n, args.partitions)))
        return
    results = []
    for config in args.configs.split(","):
        load0 = os.getloadavg()[0]
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                str(args.n),
                "--partitions",
                str(args.partitions),
                "--one",
                config,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{config} failed")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["loadavg_1min_before_after"] = [load0, os.getloadavg()[0]]
        res["throughput_fixes_per_s"] = res["n_fixes"] / res["total_s"]
        results.append(res)
        print(json.dumps(res), flush=True)
    by = {r["config"]: r for r in results}
    if "dask-1" in by and "dask-2" in by:
        t1, t2 = by["dask-1"]["total_s"], by["dask-2"]["total_s"]
        print(f"scaling efficiency 2 workers vs 1: {t1 / (2 * t2):.2f} (speed-up {t1 / t2:.2f})")
        c1, c2 = by["dask-1"]["crossings_s"], by["dask-2"]["crossings_s"]
        print(f"  crossings stage only: {c1 / (2 * c2):.2f} (speed-up {c1 / c2:.2f})")
        cpu1 = sum(v for k, v in by["dask-1"]["cpu_s"].items() if k != "client")
        cpu2 = sum(v for k, v in by["dask-2"]["cpu_s"].items() if k != "client")
        print(
            f"worker CPU seconds: 1 worker {cpu1:.1f}, 2 workers {cpu2:.1f} "
            f"(CPU-time efficiency {cpu1 / cpu2:.2f})"
        )
    meta = {
        "n": args.n,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.platform(),
        "results": results,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"crossings_{args.n}.json").write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
