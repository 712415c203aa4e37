"""Peer: dask-geopandas ``sjoin`` of every fix with the 20 zones, on the same cluster sizes.

This answers a simpler question than patrolwatch's crossings: which *fixes* lie inside
which zone (point in polygon, the 12 NM circles polygonised with
``workload.CIRCLE_VERTICES`` vertices), not interpolated entries and exits. It is the
tool a user would reach for to run a spatial join on a Dask cluster, so its throughput
is a reference for the cost of the partitioned machinery itself.

Each configuration runs in a fresh process: read the same hive-partitioned Parquet data
set with ``dask.dataframe.read_parquet``, build points
(``dask_geopandas.points_from_xy``), ``sjoin(..., predicate="intersects")`` with the
zones, and count the matches per zone.

Usage::

    python bench/scale/peer_dask_geopandas.py N [--configs dask-1,dask-2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import workload as wl  # noqa: E402  (bench/ is not a package: path set above)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU seconds (user + system) used by this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_one(config: str, n: int) -> dict[str, object]:
    import dask.dataframe as dd
    import dask_geopandas
    import geopandas as gpd
    import shapely
    from distributed import Client, LocalCluster

    data = HERE / "data" / f"scale_{n}_s{wl.SEED}"
    rings = wl.peer_polygons(wl.generate_zones())
    zones = gpd.GeoDataFrame(
        {"zone": list(range(len(rings)))},
        geometry=[shapely.Polygon(r) for r in rings],
        crs="EPSG:4326",
    )
    workers = int(config.split("-")[1])
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    try:
        client.wait_for_workers(workers)
        cpu0 = client.run(_cpu_s)
        t0 = time.perf_counter()
        df = dd.read_parquet(str(data), columns=["track_id", "time", "lat", "lon"])
        pts = dask_geopandas.from_dask_dataframe(
            df, geometry=dask_geopandas.points_from_xy(df, "lon", "lat", crs="EPSG:4326")
        )
        joined = dask_geopandas.sjoin(pts, zones, predicate="intersects")
        counts = joined.groupby("zone").size().compute()
        t1 = time.perf_counter()
        cpu1 = client.run(_cpu_s)
        worker_rss = client.run(_maxrss_mb)
        return {
            "config": config,
            "total_s": t1 - t0,
            "n_fixes": n,
            "n_matches": int(counts.sum()),
            "cpu_s": {f"worker{i}": cpu1[a] - cpu0[a] for i, a in enumerate(sorted(cpu1))},
            "peak_rss_mb": {f"worker{i}": v for i, v in enumerate(worker_rss.values())},
        }
    finally:
        client.close()
        cluster.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int)
    p.add_argument("--configs", default="dask-1,dask-2")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n)))
        return
    results = []
    for config in args.configs.split(","):
        proc = subprocess.run(
            [sys.executable, __file__, str(args.n), "--one", config],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{config} failed")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["throughput_fixes_per_s"] = res["n_fixes"] / res["total_s"]
        results.append(res)
        print(json.dumps(res), flush=True)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"peer_dask_geopandas_{args.n}.json").write_text(
        json.dumps({"n": args.n, "results": results}, indent=1)
    )


if __name__ == "__main__":
    main()
