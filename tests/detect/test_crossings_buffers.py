"""Buffer zones around lines and polygons (e.g. 12 NM from a baseline or a coast).

Truth is computed here independently: the distance from a point to a ``lonlat`` edge is
minimised along the edge with geographiclib distances (a scan then golden-section
search); crossing times are found by bisection on the geodesic track (geographiclib).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from patrolwatch.core.tracks import Tracks
from patrolwatch.core.zones import Zone, Zones
from patrolwatch.detect.crossings import crossings
from strategies import NS_PER_S, event_rows, geodesic_distance_m, point_along

TWELVE_NM_M = 22_224.0  # 12 x 1852 m, by hand
T0_NS = 1_563_840_000 * NS_PER_S  # 2019-07-23T00:00:00Z
TIME_TOL_S = 1e-3


def _edge_distance_m(
    lon: float, lat: float, a: tuple[float, float], b: tuple[float, float]
) -> float:
    """Geodesic distance from (lon, lat) to the edge a-b drawn straight in lon/lat."""

    def fn(u: float) -> float:
        return geodesic_distance_m(lon, lat, a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1]))

    us = np.linspace(0.0, 1.0, 41)
    k = int(np.argmin([fn(float(u)) for u in us]))
    lo, hi = float(us[max(k - 1, 0)]), float(us[min(k + 1, 40)])
    g = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(60):
        c, d = hi - g * (hi - lo), lo + g * (hi - lo)
        if fn(c) < fn(d):
            hi = d
        else:
            lo = c
    return min(fn(0.5 * (lo + hi)), fn(0.0), fn(1.0))


def _feature_distance(geom: BaseGeometry) -> Callable[[float, float], float]:
    rings: list[list[tuple[float, float]]] = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            rings.append(list(part.exterior.coords))
        else:
            rings.append(list(part.coords))

    def dist(lon: float, lat: float) -> float:
        if geom.geom_type == "Polygon" and shapely.covers(geom, shapely.Point(lon, lat)):
            return 0.0
        return min(
            _edge_distance_m(lon, lat, a, b) for ring in rings for a, b in itertools.pairwise(ring)
        )

    return dist


def _toggles(pred: Callable[[float], bool], n: int = 61) -> list[float]:
    fs = np.linspace(0.0, 1.0, n)
    vals = [pred(float(f)) for f in fs]
    out = []
    for i in range(n - 1):
        if vals[i] != vals[i + 1]:
            lo, hi = float(fs[i]), float(fs[i + 1])
            for _ in range(50):
                mid = 0.5 * (lo + hi)
                if pred(mid) == vals[i]:
                    lo = mid
                else:
                    hi = mid
            out.append(0.5 * (lo + hi))
    return out


def _track(fixes: Sequence[tuple[float, float, float]]) -> Tracks:
    return Tracks.from_arrays(
        ["trk"] * len(fixes),
        [T0_NS + round(t * NS_PER_S) for t, _, _ in fixes],
        [lon for _, lon, _ in fixes],
        [lat for _, _, lat in fixes],
        sources=("case.csv",),
    )


BASELINE = shapely.LineString([(131.0, 37.0), (131.5, 37.1), (131.8, 37.6)])
ISLAND = shapely.Polygon([(131.0, 37.0), (131.2, 37.05), (131.1, 37.2), (131.0, 37.0)])


@pytest.mark.parametrize(
    ("feature", "fix_a", "fix_b"),
    [
        # a track crossing the capsule around a two-edge baseline, near its bend
        (BASELINE, (0.0, 131.2, 37.6), (1500.0, 131.9, 36.8)),
        # a track running through a small island polygon and its 12 NM buffer
        (ISLAND, (0.0, 130.6, 36.9), (1800.0, 131.6, 37.3)),
    ],
    ids=["line-buffer", "polygon-buffer"],
)
def test_buffer_of_line_or_polygon_crossings_match_geographiclib(
    feature: BaseGeometry,
    fix_a: tuple[float, float, float],
    fix_b: tuple[float, float, float],
) -> None:
    dist = _feature_distance(feature)

    def inside(f: float) -> bool:
        return dist(*point_along(fix_a[1], fix_a[2], fix_b[1], fix_b[2], f)) <= TWELVE_NM_M

    truth = _toggles(inside)
    assert len(truth) == 2, "construction: the track must enter and leave once"
    zone = Zone("b", "buffer", "territorial", ("KOR",), feature, buffer_m=TWELVE_NM_M)
    rows = [r for r in event_rows(crossings(_track([fix_a, fix_b]), Zones([zone])))]
    assert len(rows) == 1
    (row,) = rows
    assert row["evidence"] == "interpolated"
    dt = fix_b[0] - fix_a[0]
    want_in = T0_NS + round(truth[0] * dt * NS_PER_S)
    want_out = T0_NS + round(truth[1] * dt * NS_PER_S)
    assert abs(row["entry_time"] - want_in) / NS_PER_S <= TIME_TOL_S
    assert abs(row["exit_time"] - want_out) / NS_PER_S <= TIME_TOL_S
    # closest approach: the smallest distance along the path, found by a scan + refinement
    fs = np.linspace(0.0, 1.0, 301)
    ds = [dist(*point_along(fix_a[1], fix_a[2], fix_b[1], fix_b[2], float(f))) for f in fs]
    assert row["closest_m"] <= min(ds) + 1.0
    assert row["closest_m"] >= min(ds) - 60.0  # the scan step is ~ 400 m: min is within it
    assert row["max_depth_m"] == pytest.approx(TWELVE_NM_M - row["closest_m"], abs=1e-6)
