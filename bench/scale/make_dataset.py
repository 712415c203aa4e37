"""Write the benchmark workload as a hive-partitioned Parquet dataset (issue 11).

The fixes are those of ``bench/workload.py`` (seeded: aircraft paths over lon 120-140 E,
lat 25-45 N, a fix every 10 s, 150-250 m/s, 500-1,500 fixes per track; 20 zones), split
the way operational archives are: by UTC hour and by region (four lon/lat quadrants of
the box), ``<out>/hour=HH/region=R/part-0.parquet``. A track crosses many partitions, so
the per-track detectors need the shuffle by track that the dask engine performs.

Usage::

    python bench/scale/make_dataset.py N [--out bench/scale/data/scale_N_sSEED]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import itertools

import workload as wl

HOUR_NS = 3_600 * 10**9


def write_dataset(w: wl.Workload, out: Path) -> int:
    """Write ``w`` partitioned by hour and quadrant; returns the number of files."""
    hour = (w.t_ns - wl.T0_NS) // HOUR_NS
    region = (w.lon_deg >= 130.0).astype(np.int64) * 2 + (w.lat_deg >= 35.0)
    names = np.array(["sw", "nw", "se", "ne"])
    key = hour * 4 + region
    order = np.argsort(key, kind="stable")  # file order: within a file, rows keep track order
    bounds = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1], True])
    ids = w.track_id_per_fix()
    n_files = 0
    for s, e in itertools.pairwise(bounds):  # per file
        rows = order[s:e]
        k = int(key[rows[0]])
        folder = out / f"hour={k // 4:02d}" / f"region={names[k % 4]}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.table(
                {
                    "track_id": pa.array(ids[rows], pa.string()),
                    "time": pa.array(w.t_ns[rows], pa.timestamp("ns", tz="UTC")),
                    "lat": pa.array(w.lat_deg[rows]),
                    "lon": pa.array(w.lon_deg[rows]),
                }
            ),
            folder / "part-0.parquet",
        )
        n_files += 1
    return n_files


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, help="number of fixes")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    out = args.out or Path(__file__).resolve().parent / "data" / f"scale_{args.n}_s{wl.SEED}"
    t0 = time.perf_counter()
    wl.ensure(args.n)
    w = wl.load(args.n)
    n_files = write_dataset(w, out)
    zones = wl.paths(args.n)[1]
    print(
        f"{w.n} fixes, {w.track_ids.size} tracks -> {n_files} files in {out}; zones {zones}; "
        f"{time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
