"""Independent reference distances for the catalog tests.

Everything here reads the shipped input files with ``json`` and measures with
``geographiclib`` (Karney's geodesics, ``Geodesic.WGS84``), without using any
patrolwatch code, so that the tests compare the catalog with an independent computation.
shapely is used only to find candidate land near a point, never for a distance.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely
from geographiclib.geodesic import Geodesic

DATA = Path(__file__).resolve().parents[2] / "src" / "patrolwatch" / "data" / "nea"
GEOD = Geodesic.WGS84
NM_M = 1852.0  # international nautical mile, exact
TWELVE_NM_M = 12 * NM_M  # 22,224 m, by hand
THREE_NM_M = 3 * NM_M  # 5,556 m, by hand
_R_M = 6_371_008.8  # mean Earth radius, only for the coarse candidate filter
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance in metres (geographiclib, WGS84)."""
    return float(GEOD.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"])


def _golden_min(f, lo: float, hi: float, iters: int = 32) -> float:
    a, b = lo, hi
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = f(d)
    return min(fc, fd, f(lo), f(hi))


def distance_to_lonlat_segment_m(p: tuple[float, float], a, b) -> float:
    """Geodesic distance from p to the lon/lat-straight segment a-b (GeoJSON edge)."""
    return _golden_min(
        lambda t: geodesic_m(p[0], p[1], a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])),
        0.0,
        1.0,
    )


def distance_to_geodesic_segment_m(p: tuple[float, float], a, b) -> float:
    """Geodesic distance from p to the geodesic a-b (a declared straight baseline)."""
    line = GEOD.InverseLine(a[1], a[0], b[1], b[0])

    def at(s: float) -> float:
        q = line.Position(s)
        return geodesic_m(p[0], p[1], q["lon2"], q["lat2"])

    return _golden_min(at, 0.0, line.s13)


_CHUNK = 128  # segments per indexed chunk of coast


@dataclass
class Sources:
    """The land, islets and baselines one claimant set is measured from."""

    polygons: list[shapely.Polygon] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    geodesic_lines: list[list[tuple[float, float]]] = field(default_factory=list)
    poly_tree: shapely.STRtree | None = None
    chunk_tree: shapely.STRtree | None = None
    chunks: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = field(
        default_factory=list
    )

    def freeze(self) -> None:
        """Index the polygons and their edges (in chunks) for candidate queries."""
        if not self.polygons:
            return
        self.poly_tree = shapely.STRtree(self.polygons)
        envelopes = []
        for poly in self.polygons:
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                for i in range(0, len(xy) - 1, _CHUNK):
                    part = xy[i : i + _CHUNK + 1]
                    self.chunks.append((part[:-1], part[1:]))
                    envelopes.append(shapely.box(*part.min(axis=0), *part.max(axis=0)))
        self.chunk_tree = shapely.STRtree(envelopes)


def _read(name: str) -> dict:
    path = DATA / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def load_sources(*, with_baselines: bool = True) -> dict[str, Sources]:
    """Sources per claimant set (``"KOR"``, ``"KOR;JPN"``, ...) from the shipped files.

    The CHN 1996 baselines (points 1-21) belong to ``"CHN"``; the 2012 Diaoyu baselines are a
    claim not in force and are not used; Ieodo (a reef) generates nothing. The land is the
    same objects in both variants (the file is parsed once).
    """
    base = _land_and_islets()
    out = {
        g: Sources(s.polygons, s.points, [], s.poly_tree, s.chunk_tree, s.chunks)
        for g, s in base.items()
    }
    if with_baselines:
        for f in _read("baselines.geojson")["features"]:
            if f["properties"]["id"] == "baseline:CHN-1996-mainland-pts1-21":
                out["CHN"].geodesic_lines.append([tuple(c) for c in f["geometry"]["coordinates"]])
    return out


_CACHE: dict[str, Sources] = {}


def _land_and_islets() -> dict[str, Sources]:
    if _CACHE:
        return _CACHE
    out: dict[str, Sources] = defaultdict(Sources)
    features = _read("nea_land_gshhg_f.geojson.gz")["features"]
    polygons = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    for f, poly in zip(features, polygons, strict=True):
        out[f["properties"]["claimants"]].polygons.append(poly)
    for f in _read("islets.geojson")["features"]:
        if f["properties"]["kind"] != "islet":
            continue
        g = f["geometry"]
        pts = [g["coordinates"]] if g["type"] == "Point" else g["coordinates"]
        out[f["properties"]["claimants"]].points.extend(tuple(p) for p in pts)
    for s in out.values():
        s.freeze()
    _CACHE.update(out)
    return _CACHE


def straits_boxes() -> list[tuple[str, shapely.Polygon]]:
    """(state, box) of every shipped straits area."""
    return [
        (f["properties"]["state"], shapely.geometry.shape(f["geometry"]))
        for f in _read("japan_specified_straits.geojson")["features"]
    ]


def _local_xy(p, lonlat: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    k = math.pi / 180 * _R_M
    return np.column_stack(
        [(lonlat[:, 0] - p[0]) * k * math.cos(math.radians(p[1])), (lonlat[:, 1] - p[1]) * k]
    )


def _approx_seg_dist(p, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]):
    pa, pb = _local_xy(p, a), _local_xy(p, b)
    d = pb - pa
    denom = np.maximum((d**2).sum(axis=1), 1e-12)
    t = np.clip(-(pa * d).sum(axis=1) / denom, 0.0, 1.0)
    return np.hypot(pa[:, 0] + t * d[:, 0], pa[:, 1] + t * d[:, 1])


def nearest_m(sources: Sources, p: tuple[float, float], *, search_m: float = 40_000.0) -> float:
    """Geodesic distance from p (lon, lat) to the nearest of ``sources`` (inf beyond search_m).

    Candidate edges are chosen with a coarse local projection (any edge within 500 m of the
    coarse minimum), then measured with geographiclib. Inside a land polygon: 0.
    """
    best = math.inf
    dlat = search_m / 111_000.0
    dlon = dlat / math.cos(math.radians(min(abs(p[1]) + dlat, 89.0)))
    box = shapely.box(p[0] - dlon, p[1] - dlat, p[0] + dlon, p[1] + dlat)
    if sources.poly_tree is not None and sources.chunk_tree is not None:
        point = shapely.Point(p)
        if any(sources.polygons[i].covers(point) for i in sources.poly_tree.query(point)):
            return 0.0
        idx = sources.chunk_tree.query(box)
        if len(idx):
            a = np.vstack([sources.chunks[i][0] for i in idx])
            b = np.vstack([sources.chunks[i][1] for i in idx])
            approx = _approx_seg_dist(p, a, b)
            cand = np.flatnonzero(approx <= approx.min() + 500.0)
            cand = cand[np.argsort(approx[cand])][:40]
            for i in cand:
                best = min(best, distance_to_lonlat_segment_m(p, a[i], b[i]))
    for q in sources.points:
        best = min(best, geodesic_m(p[0], p[1], q[0], q[1]))
    for line in sources.geodesic_lines:
        xy = np.asarray(line)
        approx = _approx_seg_dist(p, xy[:-1], xy[1:])
        # the coarse filter is poor over 200 km segments: keep a wide margin
        for i in np.flatnonzero(approx <= approx.min() + 5_000.0):
            best = min(best, distance_to_geodesic_segment_m(p, xy[i], xy[i + 1]))
    return best if best <= search_m else math.inf
