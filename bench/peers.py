"""The tools a user would pick instead of patrolwatch, each used as its documentation shows.

Every peer has ``prepare(w, zones) -> state`` (turn in-memory arrays into the tool's own
structure; timed apart) and ``query(state) -> Visits`` (find every zone visit; the
headline figure). :class:`Visits` is the minimal answer: per visit its track number,
zone number, start and end time (int64 ns UTC). What each tool means by a visit differs
(see ``VISIT_SEMANTICS``); the correctness step (``correctness.py``) explains those
differences visit by visit.

Circles (12 NM) are given to every peer as the same polygon: the geodesic circle sampled
at ``workload.CIRCLE_VERTICES`` vertices, edges straight in lon/lat. patrolwatch gets the
true buffer zone (exact geodesic distance to the centre).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import workload as wl

MEOS_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z in µs since 1970 (MEOS time 0)

VISIT_SEMANTICS = {
    "patrolwatch": "interpolated entry/exit on the WGS84 geodesic; 12 NM circles exact",
    "patrolwatch CLI": "same as patrolwatch (reads Parquet, writes Parquet)",
    "numba bbox+PIP": "samples: first/last fix inside (crossing-number PIP, boundary ambiguous)",
    "Shapely 2": "samples: first/last fix inside (intersects_xy: boundary inside)",
    "DuckDB spatial": "samples: first/last fix inside (ST_Intersects spatial join)",
    "GeoPandas sjoin": "samples: first/last fix inside (sjoin predicate intersects)",
    "PyMEOS": "interpolated entry/exit on the straight lon/lat segment (exact, planar, µs)",
    "MovingPandas": "interpolated on the lon/lat segment, µs truncated, snapped to a fix "
    "within 10 ms, touching ranges merged, point touches dropped",
    "traffic": "samples: fixes strictly between the planar interpolated entry and exit "
    "(Flight.between(strict=True)); visits without a fix inside are dropped",
}


@dataclass
class Visits:
    track: np.ndarray  # int64 track number (workload order)
    zone: np.ndarray  # int64 zone number (workload order)
    t0_ns: np.ndarray  # int64, entry (or first sample) time
    t1_ns: np.ndarray  # int64, exit (or last sample) time

    def __len__(self) -> int:
        return int(self.track.size)

    @classmethod
    def of(cls, track: Any, zone: Any, t0: Any, t1: Any) -> Visits:
        v = cls(
            np.asarray(track, dtype=np.int64),
            np.asarray(zone, dtype=np.int64),
            np.asarray(t0, dtype=np.int64),
            np.asarray(t1, dtype=np.int64),
        )
        o = np.lexsort((v.t0_ns, v.track, v.zone))
        return cls(v.track[o], v.zone[o], v.t0_ns[o], v.t1_ns[o])


def _runs_to_visits(
    idx: np.ndarray, track: np.ndarray, t_ns: np.ndarray, zone: int
) -> tuple[np.ndarray, ...]:
    """Runs of consecutive fix indices of one track (fixes inside) -> visits."""
    if idx.size == 0:
        e = np.zeros(0, np.int64)
        return e, e, e, e
    brk = np.ones(idx.size, dtype=bool)
    brk[1:] = (np.diff(idx) != 1) | (track[idx[1:]] != track[idx[:-1]])
    s = idx[brk]
    e = idx[np.r_[np.flatnonzero(brk)[1:] - 1, idx.size - 1]]
    return track[s], np.full(s.size, zone, np.int64), t_ns[s], t_ns[e]


# ================================================================== patrolwatch (API)
def pw_zones(zones_path: Path) -> Any:
    import patrolwatch as pw

    return pw.read_zones(str(zones_path))


def pw_prepare(w: wl.Workload, zones: Any) -> Any:
    import patrolwatch as pw

    tracks = pw.Tracks.from_arrays(w.track_id_per_fix(), w.t_ns, w.lon_deg, w.lat_deg)
    return tracks, zones


def pw_query(state: Any) -> Any:
    import patrolwatch as pw

    tracks, zones = state
    return pw.crossings(tracks, zones)


def pw_visits(events: Any, w: wl.Workload, zone_ids: list[str]) -> tuple[Visits, pd.DataFrame]:
    """Visits from patrolwatch events: entry (or first fix when the track starts inside)
    to exit (or last fix). Also the event frame with track/zone numbers."""
    df = events.to_arrow().to_pandas()
    df = df[df["evidence"].isin(["observed", "interpolated"])].copy()
    tnum = {t: i for i, t in enumerate(w.track_ids.tolist())}
    znum = {z: i for i, z in enumerate(zone_ids)}
    df["track"] = df["track_id"].map(tnum).astype(np.int64)
    df["zone"] = df["zone_id"].map(znum).astype(np.int64)

    def ns(col: str) -> np.ndarray:
        s = df[col]
        out = np.full(len(df), np.iinfo(np.int64).min, dtype=np.int64)
        ok = s.notna().to_numpy()
        out[ok] = s[ok].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        return out

    for c in ("entry_time", "exit_time", "first_fix_time", "last_fix_time", "closest_time"):
        df[c + "_ns"] = ns(c)
    nat = np.iinfo(np.int64).min
    df["entry_null"] = df["entry_time_ns"] == nat
    df["exit_null"] = df["exit_time_ns"] == nat
    df["t0_ns"] = np.where(df["entry_null"], df["first_fix_time_ns"], df["entry_time_ns"])
    df["t1_ns"] = np.where(df["exit_null"], df["last_fix_time_ns"], df["exit_time_ns"])
    df = df.sort_values(["zone", "track", "t0_ns"]).reset_index(drop=True)
    return Visits.of(df["track"], df["zone"], df["t0_ns"], df["t1_ns"]), df


# ================================================================== patrolwatch (CLI)
def cli_run(tracks_path: Path, zones_path: Path, out_path: Path) -> tuple[float, float, int]:
    """Run the CLI end to end in a child process; returns (wall s, CPU s of the child,
    peak RSS bytes of the child). The child is ``bench/cli_child.py``, which calls
    ``patrolwatch.cli.main`` as the ``patrolwatch`` console script does."""
    import time

    cmd = [
        sys.executable,
        str(Path(__file__).with_name("cli_child.py")),
        "crossings",
        str(tracks_path),
        "--zones",
        str(zones_path),
        "--out",
        str(out_path),
        "-q",
    ]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"patrolwatch CLI failed ({proc.returncode}): {err[-2000:]}")
    hwm = [int(x.split()[1]) for x in err.splitlines() if x.startswith("pw-bench-vmhwm-bytes")]
    return wall, ru.ru_utime + ru.ru_stime, hwm[-1]


# ================================================================== Shapely 2 baseline
def shapely_prepare(w: wl.Workload, rings: list[np.ndarray]) -> Any:
    polys = [shapely.Polygon(r) for r in rings]
    for p in polys:
        shapely.prepare(p)
    return w, polys


def shapely_query(state: Any) -> Visits:
    w, polys = state
    parts = []
    for z, p in enumerate(polys):
        x0, y0, x1, y1 = shapely.bounds(p)
        idx = np.flatnonzero(
            (w.lon_deg >= x0) & (w.lon_deg <= x1) & (w.lat_deg >= y0) & (w.lat_deg <= y1)
        )
        inside = shapely.intersects_xy(p, w.lon_deg[idx], w.lat_deg[idx])
        parts.append(_runs_to_visits(idx[inside], w.track, w.t_ns, z))
    return Visits.of(*(np.concatenate(c) for c in zip(*parts, strict=True)))


# ================================================================== numba bbox + PIP
_NUMBA: dict[str, Any] = {}


def _numba_kernels() -> dict[str, Any]:
    if _NUMBA:
        return _NUMBA
    import numba
    from numba import njit, prange

    @njit(parallel=True, cache=False, fastmath=False)
    def inside_mask(lon, lat, bx0, by0, bx1, by1, vx, vy, voff):  # type: ignore[no-untyped-def]
        n = lon.size
        nz = bx0.size
        out = np.zeros(n, np.uint32)
        for i in prange(n):
            x = lon[i]
            y = lat[i]
            m = np.uint32(0)
            for z in range(nz):
                if x < bx0[z] or x > bx1[z] or y < by0[z] or y > by1[z]:
                    continue
                c = False
                for k in range(voff[z], voff[z + 1] - 1):
                    y1 = vy[k]
                    y2 = vy[k + 1]
                    if (y1 > y) != (y2 > y):
                        x1 = vx[k]
                        xi = x1 + (y - y1) * (vx[k + 1] - x1) / (y2 - y1)
                        if x < xi:
                            c = not c
                if c:
                    m |= np.uint32(1) << np.uint32(z)
            out[i] = m
        return out

    @njit(cache=False)
    def visits_from_mask(mask, track, t, nz):  # type: ignore[no-untyped-def]
        n = mask.size
        cap = 1024
        vt = np.empty(cap, np.int64)
        vz = np.empty(cap, np.int64)
        v0 = np.empty(cap, np.int64)
        v1 = np.empty(cap, np.int64)
        start = np.empty(nz, np.int64)
        nv = 0
        prev = np.uint32(0)
        for i in range(n + 1):
            new_track = i == n or i == 0 or track[i] != track[i - 1]
            cur = np.uint32(0) if i == n else mask[i]
            if not new_track and cur == prev:
                continue
            # zones whose state changes here (a new track closes and opens everything)
            for z in range(nz):
                bit = np.uint32(1) << np.uint32(z)
                was = (prev & bit) != 0 and i > 0
                now = (cur & bit) != 0 and i < n
                if was and (new_track or not now):
                    if nv == cap:
                        cap *= 2
                        vt2 = np.empty(cap, np.int64)
                        vz2 = np.empty(cap, np.int64)
                        v02 = np.empty(cap, np.int64)
                        v12 = np.empty(cap, np.int64)
                        vt2[:nv] = vt[:nv]
                        vz2[:nv] = vz[:nv]
                        v02[:nv] = v0[:nv]
                        v12[:nv] = v1[:nv]
                        vt, vz, v0, v1 = vt2, vz2, v02, v12
                    vt[nv] = track[i - 1]
                    vz[nv] = z
                    v0[nv] = start[z]
                    v1[nv] = t[i - 1]
                    nv += 1
                if now and (new_track or not was):
                    start[z] = t[i]
            prev = cur
        return vt[:nv], vz[:nv], v0[:nv], v1[:nv]

    _NUMBA.update(
        inside_mask=inside_mask,
        visits=visits_from_mask,
        threads=numba.get_num_threads(),
        version=numba.__version__,
    )
    return _NUMBA


def numba_prepare(w: wl.Workload, rings: list[np.ndarray]) -> Any:
    k = _numba_kernels()
    vx = np.concatenate([r[:, 0] for r in rings])
    vy = np.concatenate([r[:, 1] for r in rings])
    voff = np.r_[0, np.cumsum([r.shape[0] for r in rings])].astype(np.int64)
    b = np.array([[r[:, 0].min(), r[:, 1].min(), r[:, 0].max(), r[:, 1].max()] for r in rings])
    state = (w, b[:, 0].copy(), b[:, 1].copy(), b[:, 2].copy(), b[:, 3].copy(), vx, vy, voff)
    # compile outside the timed query (JIT warm-up on a few fixes)
    small = w.head_tracks(2000)
    m = k["inside_mask"](small.lon_deg, small.lat_deg, *state[1:])
    k["visits"](m, small.track, small.t_ns, len(rings))
    return state


def numba_query(state: Any) -> Visits:
    k = _numba_kernels()
    w = state[0]
    mask = k["inside_mask"](w.lon_deg, w.lat_deg, *state[1:])
    return Visits.of(*k["visits"](mask, w.track, w.t_ns, state[1].size))


# ================================================================== GeoPandas sjoin
def geopandas_prepare(w: wl.Workload, rings: list[np.ndarray]) -> Any:
    import geopandas as gpd

    pts = gpd.GeoDataFrame(
        {"track": w.track, "t_ns": w.t_ns},
        geometry=gpd.points_from_xy(w.lon_deg, w.lat_deg),
        crs="EPSG:4326",
    )
    zones = gpd.GeoDataFrame(
        {"zone": np.arange(len(rings))},
        geometry=[shapely.Polygon(r) for r in rings],
        crs="EPSG:4326",
    )
    return pts, zones


def geopandas_query(state: Any) -> Visits:
    import geopandas as gpd

    pts, zones = state
    j = gpd.sjoin(pts, zones, how="inner", predicate="intersects")
    df = pd.DataFrame(
        {
            "fix": j.index.to_numpy(),
            "track": j["track"].to_numpy(),
            "zone": j["zone"].to_numpy(),
            "t_ns": j["t_ns"].to_numpy(),
        }
    ).sort_values(["zone", "fix"])
    brk = (df["fix"].diff() != 1) | (df["zone"].diff() != 0) | (df["track"].diff() != 0)
    df["run"] = brk.cumsum()
    g = df.groupby("run").agg(
        track=("track", "first"), zone=("zone", "first"), t0=("t_ns", "min"), t1=("t_ns", "max")
    )
    return Visits.of(g["track"], g["zone"], g["t0"], g["t1"])


# ================================================================== DuckDB spatial
def duckdb_connect() -> Any:
    import duckdb
    import duckdb_extension_spatial

    ext = next(
        Path(duckdb_extension_spatial.__file__).parent.glob("extensions/*/spatial.duckdb_extension")
    )
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute(f"LOAD '{ext}'")
    return con


def duckdb_prepare(w: wl.Workload, rings: list[np.ndarray]) -> Any:
    import pyarrow as pa

    con = duckdb_connect()
    fixes = pa.table(
        {
            "i": np.arange(w.n, dtype=np.int64),
            "track": w.track,
            "t_ns": w.t_ns,
            "lon": w.lon_deg,
            "lat": w.lat_deg,
        }
    )
    con.register("fixes_arrow", fixes)
    con.execute(
        "CREATE TABLE fixes AS SELECT i, track, t_ns, ST_Point(lon, lat) AS geom "
        "FROM fixes_arrow ORDER BY i"
    )
    con.unregister("fixes_arrow")
    zt = pa.table(
        {
            "zone": np.arange(len(rings), dtype=np.int64),
            "wkt": [shapely.Polygon(r).wkt for r in rings],
        }
    )
    con.register("zones_arrow", zt)
    con.execute("CREATE TABLE zones AS SELECT zone, ST_GeomFromText(wkt) AS geom FROM zones_arrow")
    con.unregister("zones_arrow")
    return con


DUCKDB_QUERY = """
WITH hits AS (
    SELECT f.i, f.track, f.t_ns, z.zone
    FROM fixes f JOIN zones z ON ST_Intersects(f.geom, z.geom)
), runs AS (
    SELECT *, i - row_number() OVER (PARTITION BY zone, track ORDER BY i) AS grp FROM hits
)
SELECT track, zone, min(t_ns) AS t0, max(t_ns) AS t1 FROM runs GROUP BY zone, track, grp
"""


def duckdb_query(con: Any) -> Visits:
    r = con.execute(DUCKDB_QUERY).fetchnumpy()
    return Visits.of(r["track"], r["zone"], r["t0"], r["t1"])


# ================================================================== PyMEOS
_MEOS_READY = False


def _meos() -> None:
    global _MEOS_READY
    if not _MEOS_READY:
        from pymeos import pymeos_initialize

        pymeos_initialize("UTC")
        _MEOS_READY = True


def pymeos_prepare(w: wl.Workload, rings: list[np.ndarray]) -> Any:
    """One TGeomPointSeq per track (linear interpolation, SRID 0: planar lon/lat),
    built from the coordinate arrays with MEOS's ``tpointseq_make_coords``."""
    _meos()
    import pymeos_cffi as pc
    from pymeos import TGeomPointSeq

    ffi = pc.functions._ffi
    starts = np.flatnonzero(np.r_[True, w.track[1:] != w.track[:-1]])
    ends = np.r_[starts[1:], w.n]
    us = w.t_ns // 1000 - MEOS_EPOCH_US
    seqs = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        inner = pc.tpointseq_make_coords(
            ffi.from_buffer("double[]", np.ascontiguousarray(w.lon_deg[s:e])),
            ffi.from_buffer("double[]", np.ascontiguousarray(w.lat_deg[s:e])),
            ffi.NULL,
            ffi.from_buffer("TimestampTz[]", np.ascontiguousarray(us[s:e])),
            e - s,
            0,
            False,
            True,
            True,
            pc.InterpolationType.LINEAR,
            False,
        )
        seqs.append(TGeomPointSeq(_inner=inner))
    # per-track bounding boxes for the prefilter
    bx0 = np.minimum.reduceat(w.lon_deg, starts)
    bx1 = np.maximum.reduceat(w.lon_deg, starts)
    by0 = np.minimum.reduceat(w.lat_deg, starts)
    by1 = np.maximum.reduceat(w.lat_deg, starts)
    polys = [shapely.Polygon(r) for r in rings]
    # each zone serialised for MEOS once (TGeomPoint.at(shapely) would redo it per call)
    gs = [pc.geo_to_gserialized(p, False) for p in polys]
    tracks = w.track[starts]
    return seqs, tracks, (bx0, by0, bx1, by1), polys, gs


def pymeos_query(state: Any) -> Visits:
    """``at(geometry)`` per track and zone (MEOS ``tgeo_at_geom``, the function
    ``TGeomPoint.at`` calls), only where the track's box meets the zone's box."""
    import pymeos_cffi as pc
    from pymeos import Temporal

    seqs, tracks, (bx0, by0, bx1, by1), polys, gs = state
    out_t: list[int] = []
    out_z: list[int] = []
    out_0: list[int] = []
    out_1: list[int] = []
    for z, (p, g) in enumerate(zip(polys, gs, strict=True)):
        x0, y0, x1, y1 = shapely.bounds(p)
        cand = np.flatnonzero((bx1 >= x0) & (bx0 <= x1) & (by1 >= y0) & (by0 <= y1))
        for k in cand.tolist():
            r = pc.tgeo_at_geom(seqs[k]._inner, g)
            if r is None or r == pc.functions._ffi.NULL:
                continue
            res = Temporal._factory(r)
            for s in res.sequences():
                out_t.append(int(tracks[k]))
                out_z.append(z)
                out_0.append(pc.temporal_start_timestamptz(s._inner))
                out_1.append(pc.temporal_end_timestamptz(s._inner))
    t0 = (np.asarray(out_0, dtype=np.int64) + MEOS_EPOCH_US) * 1000
    t1 = (np.asarray(out_1, dtype=np.int64) + MEOS_EPOCH_US) * 1000
    return Visits.of(out_t, out_z, t0, t1)


# ================================================================== MovingPandas
def movingpandas_prepare(w: wl.Workload, rings: list[np.ndarray]) -> Any:
    import geopandas as gpd
    import movingpandas as mpd

    df = gpd.GeoDataFrame(
        {"track_id": w.track, "t": pd.to_datetime(w.t_ns, utc=True).tz_localize(None)},
        geometry=gpd.points_from_xy(w.lon_deg, w.lat_deg),
        crs="EPSG:4326",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tc = mpd.TrajectoryCollection(df, traj_id_col="track_id", t="t")
    return tc, [shapely.Polygon(r) for r in rings]


def movingpandas_query(state: Any) -> Visits:
    tc, polys = state
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for z, p in enumerate(polys):
            clipped = tc.clip(p)
            for traj in clipped.trajectories:
                out.append(
                    (
                        int(traj.parent.id),
                        z,
                        pd.Timestamp(traj.get_start_time()).value,
                        pd.Timestamp(traj.get_end_time()).value,
                    )
                )
    if not out:
        return Visits.of([], [], [], [])
    return Visits.of(*zip(*out, strict=True))


# ================================================================== traffic
def traffic_prepare(w: wl.Workload, rings: list[np.ndarray]) -> Any:
    from traffic.core import Traffic

    df = pd.DataFrame(
        {
            "flight_id": w.track_id_per_fix(),
            "icao24": w.track_id_per_fix(),
            "callsign": w.track_id_per_fix(),
            "timestamp": pd.to_datetime(w.t_ns, utc=True),
            "latitude": w.lat_deg,
            "longitude": w.lon_deg,
        }
    )
    tnum = {t: i for i, t in enumerate(w.track_ids.tolist())}
    return Traffic(df), [shapely.Polygon(r) for r in rings], tnum


def traffic_query(state: Any) -> Visits:
    traffic, polys, tnum = state
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for flight in traffic:
            k = tnum[flight.flight_id]
            for z, p in enumerate(polys):
                for seg in flight.clip_iterate(p):
                    out.append((k, z, seg.start.value, seg.stop.value))
    if not out:
        return Visits.of([], [], [], [])
    return Visits.of(*zip(*out, strict=True))


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for name in (
        "patrolwatch",
        "numpy",
        "shapely",
        "pyproj",
        "pyarrow",
        "pandas",
        "geopandas",
        "movingpandas",
        "traffic",
        "pymeos",
        "pymeos-cffi",
        "duckdb",
        "duckdb-extension-spatial",
        "numba",
        "llvmlite",
    ):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    try:
        import shapely as _s

        out["GEOS"] = _s.geos_version_string
    except Exception:  # pragma: no cover
        pass
    return out
