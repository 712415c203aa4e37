"""Seeded benchmark workload: aircraft-like tracks and 20 zones (issue 8).

Tracks
    N fixes in tracks of 500-1,500 fixes, one fix every 10 s exactly, constant ground
    speed 150-250 m/s per track, moving along the WGS84 geodesic (pyproj ``Geod.fwd``)
    over lon 120-140 E, lat 25-45 N. Heading changes like an aircraft's: straight legs
    and turns of 0.5-3 deg/s, a new leg on average every 5 minutes; a track leaving the
    box (by more than 0.5 deg) turns back towards its centre at 3 deg/s, so a few fixes
    lie up to ~0.1 deg outside it. Start times are spread over 2024-01-01 (UTC). The last
    track is cut so that the file has exactly N fixes (it may be shorter than 500).
Zones
    5 "ADIZ-like" polygons of 12 vertices (edges straight in lon/lat), radius 1-2.5 deg,
    and 15 circles of 12 NM (patrolwatch buffer zones around a point: exact geodesic
    distance). Peers that need polygons get each circle as a geodesic 12 NM circle sampled
    at :data:`CIRCLE_VERTICES` points (vertices on the circle, edges straight in lon/lat).

Everything depends only on the seed and N. Files are written once to ``bench/data/``
and reused (the name carries N and the seed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import Geod

SEED = 20240808
NM_M = 1852.0  # the bench's own constant; patrolwatch has units.NM_M (same value)
CIRCLE_RADIUS_M = 12 * NM_M
CIRCLE_VERTICES = 128
"""Vertices of the polygonised 12 NM circles given to peers. Sagitta (largest gap between
the polygon and the true circle) = r (1 - cos(pi / 128)) = 6.7 m."""
FIX_INTERVAL_S = 10
T0_NS = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
LON_BOX = (120.0, 140.0)
LAT_BOX = (25.0, 45.0)
DATA_DIR = Path(__file__).resolve().parent / "data"
GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Workload:
    """Fixes sorted by (track_id, time); ``track`` is the integer track number."""

    track: np.ndarray  # int64, per fix
    t_ns: np.ndarray  # int64 UTC ns, per fix
    lon_deg: np.ndarray
    lat_deg: np.ndarray
    track_ids: np.ndarray  # str, per track (sorted)

    @property
    def n(self) -> int:
        return int(self.t_ns.size)

    def track_id_per_fix(self) -> np.ndarray:
        return self.track_ids[self.track]

    def head_tracks(self, n_fixes: int) -> Workload:
        """The first whole tracks holding about ``n_fixes`` fixes (a stated subsample)."""
        starts = np.flatnonzero(np.r_[True, self.track[1:] != self.track[:-1]])
        ends = np.r_[starts[1:], self.n]
        k = int(np.searchsorted(ends, n_fixes, side="left")) + 1
        k = min(k, starts.size)
        stop = int(ends[k - 1])
        return Workload(
            self.track[:stop],
            self.t_ns[:stop],
            self.lon_deg[:stop],
            self.lat_deg[:stop],
            self.track_ids[:k],
        )


def _lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    out = []
    total = 0
    while total < n:
        k = int(rng.integers(500, 1501))
        k = min(k, n - total)
        out.append(k)
        total += k
    return np.asarray(out, dtype=np.int64)


def generate_tracks(n: int, seed: int = SEED) -> Workload:
    rng = np.random.default_rng([seed, n])
    lengths = _lengths(rng, n)
    m = lengths.size
    lon = rng.uniform(LON_BOX[0] + 1, LON_BOX[1] - 1, m)
    lat = rng.uniform(LAT_BOX[0] + 1, LAT_BOX[1] - 1, m)
    hdg = rng.uniform(0, 360, m)
    speed = rng.uniform(150.0, 250.0, m)
    turn = np.zeros(m)
    start_s = rng.integers(0, 86_400, m)
    steps = int(lengths.max())
    out_lon = np.empty((steps, m))
    out_lat = np.empty((steps, m))
    cx, cy = 0.5 * sum(LON_BOX), 0.5 * sum(LAT_BOX)
    for s in range(steps):
        out_lon[s], out_lat[s] = lon, lat
        # new leg on average every 30 fixes (5 min): straight (70 %) or a steady turn
        new = rng.random(m) < 1 / 30
        rate = rng.uniform(0.5, 3.0, m) * rng.choice([-1.0, 1.0], m)
        rate[rng.random(m) < 0.7] = 0.0
        turn = np.where(new, rate, turn)
        outside = (
            (lon < LON_BOX[0] + 0.5)
            | (lon > LON_BOX[1] - 0.5)
            | (lat < LAT_BOX[0] + 0.5)
            | (lat > LAT_BOX[1] - 0.5)
        )
        if outside.any():
            to_c, _, _ = GEOD.inv(
                lon[outside], lat[outside], np.full(outside.sum(), cx), np.full(outside.sum(), cy)
            )
            diff = (to_c - hdg[outside] + 180.0) % 360.0 - 180.0
            step = np.clip(diff, -3.0 * FIX_INTERVAL_S, 3.0 * FIX_INTERVAL_S)
            hdg[outside] += step
            turn[outside] = 0.0
        hdg = (hdg + turn * FIX_INTERVAL_S) % 360.0
        lon, lat, _ = GEOD.fwd(lon, lat, hdg, speed * FIX_INTERVAL_S)
    track = np.repeat(np.arange(m, dtype=np.int64), lengths)
    step_of_fix = np.arange(n) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    t_ns = T0_NS + (start_s[track] + step_of_fix * FIX_INTERVAL_S).astype(np.int64) * 10**9
    ids = np.asarray([f"T{k:06d}" for k in range(m)])
    return Workload(
        track,
        t_ns.astype(np.int64),
        out_lon[step_of_fix, track].copy(),
        out_lat[step_of_fix, track].copy(),
        ids,
    )


# ------------------------------------------------------------------------------ zones
@dataclass(frozen=True)
class ZoneSpec:
    id: str
    kind: str  # "adiz" (polygon) or "territorial" (12 NM circle)
    polygon: np.ndarray | None  # (13, 2) closed ring, lon/lat, for "adiz"
    center: tuple[float, float] | None  # lon, lat for circles


def generate_zones(seed: int = SEED) -> list[ZoneSpec]:
    rng = np.random.default_rng([seed, 20])
    zones = []
    for i in range(5):
        cx, cy = rng.uniform(123, 137), rng.uniform(28, 42)
        ang = np.sort(np.arange(12) * 30.0 + rng.uniform(-10, 10, 12))
        r = rng.uniform(1.0, 2.5, 12)
        x = cx + r * np.cos(np.radians(ang)) / np.cos(np.radians(cy))
        y = cy + r * np.sin(np.radians(ang))
        ring = np.column_stack([np.r_[x, x[0]], np.r_[y, y[0]]])
        zones.append(ZoneSpec(f"adiz{i + 1}", "adiz", ring, None))
    for i in range(15):
        c = (float(rng.uniform(121, 139)), float(rng.uniform(26, 44)))
        zones.append(ZoneSpec(f"tw{i + 1:02d}", "territorial", None, c))
    return zones


def circle_ring(center: tuple[float, float], n: int = CIRCLE_VERTICES) -> np.ndarray:
    """Geodesic circle of 12 NM: ``n`` vertices on the circle, closed ring (lon, lat)."""
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lon, lat, _ = GEOD.fwd(
        np.full(n, center[0]), np.full(n, center[1]), az, np.full(n, CIRCLE_RADIUS_M)
    )
    # counter-clockwise, closed
    ring = np.column_stack([lon[::-1], lat[::-1]])
    return np.vstack([ring, ring[:1]])


def peer_polygons(zones: list[ZoneSpec], n: int = CIRCLE_VERTICES) -> list[np.ndarray]:
    """Each zone as a closed lon/lat ring (circles polygonised)."""
    return [z.polygon if z.polygon is not None else circle_ring(z.center, n) for z in zones]


def zones_geojson(zones: list[ZoneSpec]) -> dict:
    feats = []
    for z in zones:
        if z.polygon is not None:
            geom = {"type": "Polygon", "coordinates": [z.polygon.tolist()]}
            props = {
                "id": z.id,
                "name": z.id,
                "kind": "adiz",
                "claimants": "XXX",
                "edges": "lonlat",
            }
        else:
            geom = {"type": "Point", "coordinates": list(z.center)}
            props = {
                "id": z.id,
                "name": z.id,
                "kind": "territorial",
                "claimants": "XXX",
                "buffer_m": CIRCLE_RADIUS_M,
            }
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    return {"type": "FeatureCollection", "features": feats}


# ------------------------------------------------------------------------------ files
def paths(n: int, seed: int = SEED) -> tuple[Path, Path]:
    return (DATA_DIR / f"tracks_{n}_s{seed}.parquet", DATA_DIR / f"zones_s{seed}.geojson")


def ensure(n: int, seed: int = SEED) -> tuple[Path, Path, bool]:
    """Write the Parquet track file and the zones file unless present; True if written."""
    tracks_path, zones_path = paths(n, seed)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    made = False
    if not zones_path.exists():
        zones_path.write_text(json.dumps(zones_geojson(generate_zones(seed)), indent=1))
        made = True
    if not tracks_path.exists():
        w = generate_tracks(n, seed)
        table = pa.table(
            {
                "track_id": pa.array(w.track_id_per_fix(), pa.string()),
                "time": pa.array(w.t_ns, pa.timestamp("ns", tz="UTC")),
                "lat": pa.array(w.lat_deg),
                "lon": pa.array(w.lon_deg),
            }
        )
        tmp = tracks_path.with_suffix(".tmp")
        pq.write_table(table, tmp, row_group_size=1 << 20)
        tmp.rename(tracks_path)
        made = True
    return tracks_path, zones_path, made


def load(n: int, seed: int = SEED) -> Workload:
    """Read the Parquet file back (the arrays every tool gets)."""
    tracks_path, _ = paths(n, seed)
    t = pq.read_table(tracks_path)
    tid = t.column("track_id").combine_chunks().dictionary_encode()
    # the file is sorted by track_id, so first-appearance order is sorted order
    codes = tid.indices.to_numpy().astype(np.int64)
    ids = np.asarray(tid.dictionary.to_pylist())
    return Workload(
        codes,
        t.column("time").combine_chunks().cast(pa.int64()).to_numpy(),
        t.column("lon").to_numpy(),
        t.column("lat").to_numpy(),
        ids,
    )
