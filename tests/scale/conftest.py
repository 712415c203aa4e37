"""Shared parts of the dask engine tests: a real two-process ``LocalCluster`` per test
module, a seeded multi-partition data set, and the comparison of event tables."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from patrolwatch.core.events import Events
from patrolwatch.core.zones import Zone, Zones

distributed = pytest.importorskip("distributed")

FLOAT_ULPS = 0
"""How many units in the last place a float64 column may differ between the engines: none.

Times, ids, counts, evidence, ``source_rows`` and every float must be equal exactly: each
crossing is refined on its own, so a track's results never depend on which other tracks
share a partition (see ``test_local_crossings_of_a_track_do_not_depend_on_other_tracks``).
"""

GEOD = Geod(ellps="WGS84")
T0_NS = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """A real LocalCluster: two worker processes of one thread each (not the synchronous
    scheduler), closed at the end of the module."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        memory_limit="3GiB",
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def assert_same_events(got: Events, want: Events, *, ulps: int = FLOAT_ULPS) -> None:
    """Same columns, same rows in the same order; every non-float value equal exactly
    (times to the nanosecond), floats within ``ulps`` units in the last place."""
    a, b = got.to_arrow(), want.to_arrow()
    assert a.schema == b.schema
    assert a.num_rows == b.num_rows
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        if pa.types.is_floating(x.type):
            assert x.is_null().equals(y.is_null()), name
            xv = np.asarray(x.to_numpy(zero_copy_only=False), dtype=np.float64)
            yv = np.asarray(y.to_numpy(zero_copy_only=False), dtype=np.float64)
            both_nan = np.isnan(xv) & np.isnan(yv)
            tol = ulps * np.spacing(np.maximum(np.abs(xv), np.abs(yv)))
            ok = both_nan | (xv == yv) | (np.abs(xv - yv) <= tol)
            assert ok.all(), (name, np.flatnonzero(~ok)[:5], xv[~ok][:5], yv[~ok][:5])
        else:
            assert x.equals(y), (name, x.to_pylist()[:5], y.to_pylist()[:5])


def make_zones() -> Zones:
    """Two lon/lat boxes and three 12 NM circles around (130 E, 37 N)."""
    nm = 1852.0  # 12 NM = 22 224 m (by definition of the nautical mile)
    return Zones(
        [
            Zone("box-w", "West box", "adiz", ("KOR",), box(129.3, 36.6, 129.9, 37.3)),
            Zone("box-e", "East box", "custom", ("JPN",), box(130.3, 36.9, 130.8, 37.6)),
            Zone(
                "c1", "Islet 1", "territorial", ("KOR", "JPN"), Point(130.0, 37.0), buffer_m=12 * nm
            ),
            Zone("c2", "Islet 2", "territorial", ("JPN",), Point(129.6, 37.5), buffer_m=12 * nm),
            Zone("c3", "Islet 3", "territorial", ("KOR",), Point(130.5, 36.6), buffer_m=12 * nm),
        ]
    )


def make_fixes(n_tracks: int = 40, seed: int = 11) -> dict[str, np.ndarray]:
    """Seeded aircraft-like tracks around (130 E, 37 N): a fix every 10 s (some every
    9-11 s), 150-250 m/s, 60-240 fixes, turning at up to 2 deg/s; start times over 2 h.
    Per fix: track_id, t_ns, lon_deg, lat_deg, alt_m, operator (often empty)."""
    rng = np.random.default_rng(seed)
    ids, ts, lons, lats, alts, ops = [], [], [], [], [], []
    for k in range(n_tracks):  # test data generation, per track
        n = int(rng.integers(60, 241))
        dt = np.where(rng.random(n) < 0.1, rng.integers(9, 12, n), 10).astype(np.int64)
        t = T0_NS + int(rng.integers(0, 7200)) * 10**9 + np.cumsum(dt) * 10**9
        speed = rng.uniform(150.0, 250.0)
        az = np.cumsum(rng.uniform(-20.0, 20.0, n)) + rng.uniform(0, 360)
        lon = np.empty(n)
        lat = np.empty(n)
        lon[0], lat[0] = rng.uniform(129.0, 131.0), rng.uniform(36.2, 37.8)
        for i in range(1, n):
            lon[i], lat[i], _ = GEOD.fwd(lon[i - 1], lat[i - 1], az[i], speed * dt[i])
        ids += [f"T{k:03d}"] * n
        ts.append(t)
        lons.append(lon)
        lats.append(lat)
        alts.append(np.full(n, rng.uniform(3000.0, 9000.0)))
        op = np.where(rng.random(n) < 0.7, "", rng.choice(["CHN", "RUS", "KOR"]))
        ops.append(op)
    return {
        "track_id": np.asarray(ids),
        "t_ns": np.concatenate(ts),
        "lon_deg": np.concatenate(lons),
        "lat_deg": np.concatenate(lats),
        "alt_m": np.concatenate(alts),
        "operator": np.concatenate(ops),
    }


def write_rows(path: Path, fixes: dict[str, np.ndarray], rows: np.ndarray, fmt: str) -> Path:
    """Write ``rows`` of ``fixes`` as Parquet (tz-aware times) or CSV (ISO times with Z)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        path = path.with_suffix(".parquet")
        pq.write_table(
            pa.table(
                {
                    "track_id": pa.array(fixes["track_id"][rows], pa.string()),
                    "time": pa.array(fixes["t_ns"][rows], pa.timestamp("ns", tz="UTC")),
                    "lat": pa.array(fixes["lat_deg"][rows]),
                    "lon": pa.array(fixes["lon_deg"][rows]),
                    "alt_m": pa.array(fixes["alt_m"][rows]),
                    "operator": pa.array(fixes["operator"][rows], pa.string()),
                }
            ),
            path,
        )
        return path
    path = path.with_suffix(".csv")
    times = np.asarray(fixes["t_ns"][rows], dtype="datetime64[ns]").astype(str).astype(object) + "Z"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["track_id", "time", "lat", "lon", "alt_m", "operator"])
        for r, t in zip(rows.tolist(), times.tolist(), strict=True):  # test data writing
            w.writerow(
                [
                    fixes["track_id"][r],
                    t,
                    repr(float(fixes["lat_deg"][r])),
                    repr(float(fixes["lon_deg"][r])),
                    repr(float(fixes["alt_m"][r])),
                    fixes["operator"][r],
                ]
            )
    return path


def write_partitioned(
    folder: Path, fixes: dict[str, np.ndarray], key: np.ndarray, fmts: Sequence[str]
) -> list[Path]:
    """One file per distinct ``key`` value (rows in input order), hive-style folders
    ``part=K/``; the file of key ``k`` in format ``fmts[k % len(fmts)]``."""
    out = []
    for k in np.unique(key).tolist():
        rows = np.flatnonzero(key == k)
        out.append(write_rows(folder / f"part={k:04d}" / "data", fixes, rows, fmts[k % len(fmts)]))
    return out
