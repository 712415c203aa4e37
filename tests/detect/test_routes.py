"""Established routes: clustering past tracks and matching a new one (issue 6, section 4).

Paths are built with geographiclib (independent of the code under test): each track flies
the geodesic between two end points, shifted sideways by a known offset; the detour fix is
displaced 20 km perpendicular to the path.
"""

from __future__ import annotations

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic

from patrolwatch.core.tracks import Tracks
from patrolwatch.detect.routes import match_routes, route_library

GEOD = Geodesic.WGS84
T0_NS = 1_563_840_000 * 10**9


def _path(
    start: tuple[float, float], end: tuple[float, float], offset_m: float, n: int = 40
) -> list[tuple[float, float]]:
    """n points along the geodesic start->end, each moved ``offset_m`` to its right."""
    line = GEOD.InverseLine(start[1], start[0], end[1], end[0])
    out = []
    for k in range(n):
        p = line.Position(line.s13 * k / (n - 1))
        q = GEOD.Direct(p["lat2"], p["lon2"], p["azi2"] + 90.0, offset_m)
        out.append((q["lon2"], q["lat2"]))
    return out


def _tracks(paths: dict[str, list[tuple[float, float]]]) -> Tracks:
    ids, t, lon, lat = [], [], [], []
    for tid, pts in paths.items():
        for k, (x, y) in enumerate(pts):
            ids.append(tid)
            t.append(T0_NS + k * 60 * 10**9)
            lon.append(x)
            lat.append(y)
    return Tracks.from_arrays(ids, t, lon, lat)


A = ((125.0, 33.0), (131.0, 37.0))
B = ((125.0, 37.5), (131.0, 33.5))


def _library() -> Tracks:
    return _tracks(
        {
            "a1": _path(*A, 0.0),
            "a2": _path(*A, 1500.0),
            "a3": _path(*A, -1500.0),
            "b1": _path(*B, 0.0),
            "b2": _path(*B, 2000.0),
        }
    )


def test_past_tracks_cluster_into_their_two_routes() -> None:
    lib = route_library(_library())
    assert sorted(lib.members) == [("a1", "a2", "a3"), ("b1", "b2")]
    # the medoid of three parallel paths 1.5 km apart is the middle one
    assert lib.medoid[lib.members.index(("a1", "a2", "a3"))] == "a1"


def test_new_track_follows_its_route_and_its_detour_is_measured() -> None:
    lib = route_library(_library())
    detour = _path(*A, 500.0)
    line = GEOD.InverseLine(A[0][1], A[0][0], A[1][1], A[1][0])
    mid = line.Position(line.s13 * 20 / 39)
    q = GEOD.Direct(mid["lat2"], mid["lon2"], mid["azi2"] + 90.0, 20_000.0)
    detour[20] = (q["lon2"], q["lat2"])  # 20 km to the right of route A's centre line
    new = _tracks(
        {"new": detour, "other": _path(*B, -1000.0), "far": _path((140, 20), (145, 25), 0)}
    )
    rows = {r["track_id"]: r for r in match_routes(lib, new).to_pylist()}
    a_id = lib.route_ids[lib.members.index(("a1", "a2", "a3"))]
    b_id = lib.route_ids[lib.members.index(("b1", "b2"))]
    assert rows["new"]["route_id"] == a_id and rows["new"]["on_route"]
    # the medoid a1 is the centre line: the detour fix is 20 km from it (geographiclib)
    assert rows["new"]["max_deviation_m"] == pytest.approx(20_000.0, abs=150.0)
    want_t = T0_NS + 20 * 60 * 10**9
    got_t = rows["new"]["deviation_time"]
    assert int(got_t.timestamp() * 10**9) == pytest.approx(want_t, abs=1000)
    assert rows["other"]["route_id"] == b_id and rows["other"]["on_route"]
    assert rows["other"]["max_deviation_m"] == pytest.approx(1000.0, abs=150.0)
    assert not rows["far"]["on_route"]


def test_relabelling_tracks_relabels_routes_and_nothing_else() -> None:
    lib = route_library(_library())
    renamed = _tracks(
        {
            "z1": _path(*A, 0.0),
            "z2": _path(*A, 1500.0),
            "z3": _path(*A, -1500.0),
            "y1": _path(*B, 0.0),
            "y2": _path(*B, 2000.0),
        }
    )
    lib2 = route_library(renamed)
    sizes = sorted(len(m) for m in lib.members)
    assert sorted(len(m) for m in lib2.members) == sizes
    assert np.allclose(np.sort(lib.lon_deg.ravel()), np.sort(lib2.lon_deg.ravel()))
