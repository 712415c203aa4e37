"""Hand-built cases for :func:`patrolwatch.detect.crossings.crossings`.

Every expected value is derived independently of patrolwatch:

- positions along a track come from the spec's motion model computed with ``geographiclib``
  (constant speed along the WGS84 geodesic between fixes: ``point_along`` in
  ``tests/strategies.py``);
- crossing times are found by bisection, in this file, on the fraction of a segment at which
  an inside/outside predicate changes: ``shapely.covers`` on the (lon, lat) plane for
  ``lonlat`` polygons (closed: the boundary is inside), geographiclib distance <= buffer for
  buffer zones, linear altitude for vertical limits;
- closest approaches by a scan plus golden-section search of geographiclib distances, or by
  construction (a geodesic tangent to a geodesic circle, see :func:`tangent_pass`);
- 12 NM = 12 x 1852 m = 22 224 m (international nautical mile, exact).

Tolerances (from the spec): crossing times 1 ms, positions 0.5 m.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from patrolwatch.core.events import CROSSING_COLUMNS, CROSSING_SCHEMA, Events
from patrolwatch.core.tracks import Tracks
from patrolwatch.core.zones import Zone, Zones
from patrolwatch.detect.crossings import crossings
from patrolwatch.errors import ZoneGeometryError
from strategies import (
    NS_PER_S,
    event_rows,
    geodesic_direct,
    geodesic_distance_m,
    point_along,
)

TWELVE_NM_M = 22_224.0
"""12 nautical miles in metres, by hand: 12 x 1852 m."""

T0_NS = 1_563_840_000 * NS_PER_S
"""2019-07-23T00:00:00Z in ns since the epoch (1563840000 s, by `date -u -d ... +%s`)."""

TIME_TOL_NS = 1_000_000
"""1 ms: crossing times must match the independent value to this."""

POS_TOL_M = 0.5
"""Crossing positions must match the independent value to this, metres."""

VISIT = frozenset({"observed", "interpolated"})
"""Evidence values of a visit (as opposed to ``near`` and ``possible`` rows)."""

Fix = tuple[float, float, float]
"""(t_s after T0, lon_deg, lat_deg)."""


# --------------------------------------------------------------------------- building inputs
def t_ns(t_s: float) -> int:
    """T0 + ``t_s`` seconds, as int64 ns."""
    return T0_NS + round(t_s * NS_PER_S)


def build_tracks(
    tracks: dict[str, Sequence[Fix]],
    *,
    alt_m: dict[str, Sequence[float]] | None = None,
    source: str = "case.csv",
) -> Tracks:
    """Tracks from ``{track_id: [(t_s, lon, lat), ...]}``; fix k of the whole listing is on
    line k + 2 of ``source`` (as if a CSV with a header line)."""
    ids: list[str] = []
    times: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    alts: list[float] = []
    for tid, fixes in tracks.items():
        for t_s, lon, lat in fixes:
            ids.append(tid)
            times.append(t_ns(t_s))
            lons.append(lon)
            lats.append(lat)
        alts += list(alt_m[tid]) if alt_m and tid in alt_m else [math.nan] * len(fixes)
    return Tracks.from_arrays(
        np.asarray(ids, dtype=str),
        np.asarray(times, dtype=np.int64),
        np.asarray(lons),
        np.asarray(lats),
        alt_m=np.asarray(alts),
        src_line=np.arange(2, len(ids) + 2),
        sources=(source,),
    )


def box_zone(
    zone_id: str,
    lon0: float,
    lat0: float,
    lon1: float,
    lat1: float,
    *,
    claimants: tuple[str, ...] = ("KOR",),
    **kwargs: Any,
) -> Zone:
    """A lon/lat box polygon zone (``edges="lonlat"``)."""
    return Zone(
        id=zone_id,
        name=f"box {zone_id}",
        kind="restricted",
        claimants=claimants,
        geometry=shapely.box(lon0, lat0, lon1, lat1),
        edges="lonlat",
        **kwargs,
    )


def buffer_zone(
    zone_id: str,
    feature: BaseGeometry,
    *,
    buffer_m: float = TWELVE_NM_M,
    claimants: tuple[str, ...] = ("KOR",),
) -> Zone:
    """A buffer zone around ``feature`` (its reference is the feature, as documented)."""
    return Zone(
        id=zone_id,
        name=f"buffer {zone_id}",
        kind="territorial",
        claimants=claimants,
        geometry=feature,
        buffer_m=buffer_m,
        reference=feature,
    )


# --------------------------------------------------------------------------- reference maths
def covers(geom: BaseGeometry) -> Callable[[float, float], bool]:
    """Inside test of a ``lonlat`` polygon zone: closed, on the (lon, lat) plane."""
    return lambda lon, lat: bool(shapely.covers(geom, shapely.Point(lon, lat)))


def within_m(
    points: Sequence[tuple[float, float]], radius_m: float
) -> Callable[[float, float], bool]:
    """Inside test of a buffer zone: geodesic distance to the nearest point <= ``radius_m``."""
    return lambda lon, lat: min(geodesic_distance_m(lon, lat, x, y) for x, y in points) <= radius_m


def seg_predicate(
    inside: Callable[[float, float], bool], a: Fix, b: Fix
) -> Callable[[float], bool]:
    """``inside`` along the geodesic from fix ``a`` to fix ``b``, as a function of fraction."""
    return lambda f: inside(*point_along(a[1], a[2], b[1], b[2], f))


def bisect_frac(pred: Callable[[float], bool], lo: float, hi: float) -> float:
    """The fraction in [lo, hi] where ``pred`` changes value (pred(lo) != pred(hi))."""
    p_lo = pred(lo)
    assert pred(hi) != p_lo, "construction error: no change of state to bisect"
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        if pred(mid) == p_lo:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def toggles(pred: Callable[[float], bool], n: int = 2001) -> list[float]:
    """Fractions in [0, 1] where ``pred`` changes value: scan ``n`` samples, then bisect."""
    fs = np.linspace(0.0, 1.0, n)
    vals = [pred(float(f)) for f in fs]
    return [
        bisect_frac(pred, float(fs[i]), float(fs[i + 1]))
        for i in range(n - 1)
        if vals[i] != vals[i + 1]
    ]


def minimize(fn: Callable[[float], float], lo: float = 0.0, hi: float = 1.0) -> tuple[float, float]:
    """(argmin, min) of ``fn`` on [lo, hi]: a 401-sample scan then golden-section search."""
    xs = np.linspace(lo, hi, 401)
    ys = [fn(float(x)) for x in xs]
    k = int(np.argmin(ys))
    a, b = float(xs[max(k - 1, 0)]), float(xs[min(k + 1, len(xs) - 1)])
    g = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = fn(c), fn(d)
    for _ in range(100):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = fn(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = fn(d)
    x = 0.5 * (a + b)
    return x, fn(x)


def seg_time(a: Fix, b: Fix, frac: float) -> int:
    """Time (int64 ns) at fraction ``frac`` of the segment from fix ``a`` to fix ``b``."""
    return t_ns(a[0]) + round(frac * (t_ns(b[0]) - t_ns(a[0])))


def seg_point(a: Fix, b: Fix, frac: float) -> tuple[float, float]:
    """(lon, lat) at fraction ``frac`` of the geodesic from fix ``a`` to fix ``b``."""
    return point_along(a[1], a[2], b[1], b[2], frac)


def tangent_pass(
    center: tuple[float, float], dist_m: float, half_len_m: float, bearing_deg: float = 45.0
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """Two fixes on a geodesic whose closest approach to ``center`` is ``dist_m``, midway.

    Q = Direct(center, bearing, dist_m); the track is the geodesic through Q perpendicular
    to the radial geodesic there (Gauss's lemma: geodesic circles are orthogonal to radial
    geodesics, so distance to ``center`` is stationary, and minimal, at Q). The fixes are
    ``half_len_m`` either side of Q along it. Returns (fix0, Q, fix1) as (lon, lat).
    """
    qlon, qlat, azi_q = geodesic_direct(center[0], center[1], bearing_deg, dist_m)
    track_azi = azi_q + 90.0
    f0 = geodesic_direct(qlon, qlat, track_azi + 180.0, half_len_m)[:2]
    f1 = geodesic_direct(qlon, qlat, track_azi, half_len_m)[:2]
    return f0, (qlon, qlat), f1


def depth_in_polygon_m(lon: float, lat: float, polygon: BaseGeometry) -> float:
    """Geodesic distance from an inside point to the nearest ``lonlat`` edge of ``polygon``.

    Each edge is parameterised linearly in (lon, lat); the distance along it is minimised
    with :func:`minimize` (geographiclib distances).
    """
    rings = [polygon.exterior, *polygon.interiors]
    best = math.inf
    for ring in rings:
        xy = list(ring.coords)
        for (x0, y0), (x1, y1) in itertools.pairwise(xy):
            _, d = minimize(
                lambda u, x0=x0, y0=y0, x1=x1, y1=y1: geodesic_distance_m(
                    lon, lat, x0 + u * (x1 - x0), y0 + u * (y1 - y0)
                )
            )
            best = min(best, d)
    return best


# --------------------------------------------------------------------------- reading results
def rows_for(
    ev: Events, track_id: str, zone_id: str, evidence: frozenset[str] | None = VISIT
) -> list[dict[str, Any]]:
    """Rows of one (track, zone), optionally of some evidence values, sorted by entry time
    (null first) then exit time (null last)."""
    out = [
        r
        for r in event_rows(ev)
        if r["track_id"] == track_id
        and r["zone_id"] == zone_id
        and (evidence is None or r["evidence"] in evidence)
    ]
    big = np.iinfo(np.int64).max
    return sorted(
        out,
        key=lambda r: (
            -big if r["entry_time"] is None else r["entry_time"],
            big if r["exit_time"] is None else r["exit_time"],
        ),
    )


def assert_time(got: int | None, want: int, what: str, tol_ns: int = TIME_TOL_NS) -> None:
    assert got is not None, f"{what}: got null, want {want}"
    assert abs(got - want) <= tol_ns, (
        f"{what}: got {got}, want {want} (diff {(got - want) / 1e6} ms)"
    )


def assert_position(
    got_lon: float | None,
    got_lat: float | None,
    want: tuple[float, float],
    what: str,
    tol_m: float = POS_TOL_M,
) -> None:
    assert got_lon is not None and got_lat is not None, f"{what}: position is null"
    d = geodesic_distance_m(got_lon, got_lat, want[0], want[1])
    assert d <= tol_m, f"{what}: ({got_lon}, {got_lat}) is {d:.3f} m from {want}"


def assert_entry(row: dict[str, Any], a: Fix, b: Fix, frac: float) -> None:
    """Entry time, position and bracket of ``row`` for a crossing at ``frac`` of a->b."""
    assert_time(row["entry_time"], seg_time(a, b, frac), "entry_time")
    assert_position(row["entry_lon"], row["entry_lat"], seg_point(a, b, frac), "entry position")
    assert row["entry_bracket_start"] == t_ns(a[0])
    assert row["entry_bracket_end"] == t_ns(b[0])


def assert_exit(row: dict[str, Any], a: Fix, b: Fix, frac: float) -> None:
    """Exit time, position and bracket of ``row`` for a crossing at ``frac`` of a->b."""
    assert_time(row["exit_time"], seg_time(a, b, frac), "exit_time")
    assert_position(row["exit_lon"], row["exit_lat"], seg_point(a, b, frac), "exit position")
    assert row["exit_bracket_start"] == t_ns(a[0])
    assert row["exit_bracket_end"] == t_ns(b[0])


def source_items(text: str | None) -> set[tuple[str, int]]:
    """The ``<file>:<line>`` items named in a ``source_rows`` string."""
    return {(f, int(n)) for f, n in re.findall(r"([^\s;,]+):(\d+)", text or "")}


def assert_no_entry(row: dict[str, Any]) -> None:
    for col in ("entry_time", "entry_lat", "entry_lon", "entry_bracket_start", "entry_bracket_end"):
        assert row[col] is None, f"{col} should be null, got {row[col]}"
    assert row["duration_s"] is None


def assert_no_exit(row: dict[str, Any]) -> None:
    for col in ("exit_time", "exit_lat", "exit_lon", "exit_bracket_start", "exit_bracket_end"):
        assert row[col] is None, f"{col} should be null, got {row[col]}"
    assert row["duration_s"] is None


# =========================================================================== polygon crossings
BOX = (129.0, 37.0, 131.0, 38.0)
CASE1: list[Fix] = [(0.0, 129.6, 36.7), (400.0, 130.0, 37.5), (800.0, 130.3, 38.2)]


def test_entry_time_is_when_geodesic_reaches_parallel_edge_of_lonlat_box() -> None:
    """A great-circle track enters a lon/lat box across its lat-37 edge and leaves across lat 38.

    Truth: bisection on geographiclib positions of the geodesic fix0->fix1 for the fraction
    where the latitude reaches 37 exactly (the edge is the parallel: lonlat edges); the same
    on fix1->fix2 for 38. The depth at fix1 (the only fix inside) is its geodesic distance to
    the nearest edge, minimised along each edge with geographiclib.
    """
    zone = box_zone("box", *BOX)
    ev = crossings(build_tracks({"trk": CASE1}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "box", evidence=None)

    a, b, c = CASE1
    f_in = bisect_frac(lambda f: seg_point(a, b, f)[1] >= 37.0, 0.0, 1.0)
    f_out = bisect_frac(lambda f: seg_point(b, c, f)[1] > 38.0, 0.0, 1.0)
    assert row["kind"] == "crossing"
    assert row["evidence"] == "observed"
    assert_entry(row, a, b, f_in)
    assert_exit(row, b, c, f_out)
    assert row["entry_lat"] == pytest.approx(37.0, abs=1e-7)
    assert row["exit_lat"] == pytest.approx(38.0, abs=1e-7)
    assert row["duration_s"] == pytest.approx(
        (seg_time(b, c, f_out) - seg_time(a, b, f_in)) / NS_PER_S, abs=2e-3
    )
    depth_fix1 = depth_in_polygon_m(b[1], b[2], zone.geometry)
    assert row["max_depth_m"] >= 0.99 * depth_fix1
    # polygon zone without a reference: no closest approach
    assert row["closest_m"] is None
    assert row["closest_time"] is None
    assert (row["zone_name"], row["zone_kind"], row["claimants"]) == (
        "box box",
        "restricted",
        "KOR",
    )


def test_source_rows_name_each_bracketing_fix_as_file_colon_line() -> None:
    """source_rows names the input lines of the fixes bracketing the crossings as
    ``<file>:<line>`` items: here fixes on lines 2, 3 and 4 of case.csv (built so)."""
    ev = crossings(build_tracks({"trk": CASE1}), Zones([box_zone("box", *BOX)]))
    (row,) = rows_for(ev, "trk", "box")
    assert {("case.csv", 2), ("case.csv", 3), ("case.csv", 4)} <= source_items(row["source_rows"])


def test_corner_clip_between_two_outside_fixes_is_interpolated() -> None:
    """A segment cuts the south-east corner of a box; both fixes are outside.

    Truth: the midpoint is inside (checked); bisection with shapely.covers on geographiclib
    positions gives entry (across lat 37) on [0, 0.5] and exit (across lon 131) on [0.5, 1].
    """
    zone = box_zone("box", 130.0, 37.0, 131.0, 38.0)
    a, b = (0.0, 130.8, 36.9), (300.0, 131.1, 37.1)
    inside = seg_predicate(covers(zone.geometry), a, b)
    assert not inside(0.0) and inside(0.5) and not inside(1.0)
    ev = crossings(build_tracks({"trk": [a, b]}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "box", evidence=None)
    assert row["evidence"] == "interpolated"
    assert_entry(row, a, b, bisect_frac(inside, 0.0, 0.5))
    assert_exit(row, a, b, bisect_frac(inside, 0.5, 1.0))
    assert row["entry_lat"] == pytest.approx(37.0, abs=1e-7)
    assert row["exit_lon"] == pytest.approx(131.0, abs=1e-7)


def test_track_starting_inside_has_null_entry() -> None:
    """First fix inside: entry columns null, exit where the geodesic reaches lon 131 (bisection)."""
    zone = box_zone("box", 130.0, 37.0, 131.0, 38.0)
    a, b = (0.0, 130.5, 37.5), (600.0, 131.5, 37.6)
    ev = crossings(build_tracks({"trk": [a, b]}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "box")
    assert row["evidence"] == "observed"
    assert_no_entry(row)
    assert_exit(row, a, b, bisect_frac(seg_predicate(covers(zone.geometry), a, b), 0.0, 1.0))


def test_track_ending_inside_has_null_exit() -> None:
    """Last fix inside: exit columns null, entry where the geodesic reaches lon 130 (bisection)."""
    zone = box_zone("box", 130.0, 37.0, 131.0, 38.0)
    a, b = (0.0, 129.5, 37.5), (600.0, 130.5, 37.4)
    ev = crossings(build_tracks({"trk": [a, b]}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "box")
    assert row["evidence"] == "observed"
    assert_no_exit(row)
    assert_entry(row, a, b, bisect_frac(seg_predicate(covers(zone.geometry), a, b), 0.0, 1.0))


def test_track_wholly_inside_is_one_visit_with_null_entry_and_exit() -> None:
    """Every fix (and the geodesic between, checked) inside: one observed visit, no crossing."""
    zone = box_zone("box", 130.0, 37.0, 131.0, 38.0)
    fixes = [(0.0, 130.2, 37.2), (300.0, 130.5, 37.5), (600.0, 130.8, 37.8)]
    assert not toggles(seg_predicate(covers(zone.geometry), fixes[0], fixes[1]))
    ev = crossings(build_tracks({"trk": fixes}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "box")
    assert row["evidence"] == "observed"
    assert_no_entry(row)
    assert_no_exit(row)


@pytest.mark.parametrize("other_track", [False, True])
def test_single_fix_inside_is_one_observed_visit_without_entry_or_exit(other_track: bool) -> None:
    """A track of one fix, inside a box and inside a circle (by hand: the box contains it; its
    distance to the circle's centre is 0). One observed visit each, entry and exit null;
    with or without another (two-fix, far away) track in the input."""
    tracks = {"one": [(0.0, 130.5, 37.5)]}
    if other_track:
        tracks["far"] = [(0.0, 10.0, 10.0), (60.0, 10.1, 10.0)]
    zones = Zones(
        [box_zone("box", 130.0, 37.0, 131.0, 38.0), buffer_zone("ts", shapely.Point(130.5, 37.5))]
    )
    ev = crossings(build_tracks(tracks), zones)
    for zone_id in ("box", "ts"):
        (row,) = rows_for(ev, "one", zone_id, evidence=None)
        assert row["evidence"] == "observed"
        assert_no_entry(row)
        assert_no_exit(row)
    assert len(ev) == 2


def test_fix_exactly_on_boundary_is_the_entry_with_equal_bracket_times() -> None:
    """A fix at lat 37.0 exactly on the box's south edge (zones are closed).

    Truth by hand: the track runs up the meridian 130.5 E, so it first touches the box at the
    boundary fix itself: entry_time = that fix's time, position (130.5, 37.0), bracket
    start == end == that time.
    """
    zone = box_zone("box", 130.0, 37.0, 131.0, 38.0)
    fixes = [(0.0, 130.5, 36.5), (100.0, 130.5, 37.0), (200.0, 130.5, 37.5)]
    ev = crossings(build_tracks({"trk": fixes}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "box")
    assert row["evidence"] == "observed"
    assert_time(row["entry_time"], t_ns(100.0), "entry_time")
    assert_position(row["entry_lon"], row["entry_lat"], (130.5, 37.0), "entry position")
    assert row["entry_bracket_start"] == row["entry_bracket_end"] == t_ns(100.0)
    assert_no_exit(row)


def test_polygon_with_hole_gives_two_visits_around_the_hole() -> None:
    """An east-west track across a box with a hole around its middle fix.

    Truth: shapely.covers (shell and hole both closed: the hole's boundary belongs to the
    zone) along geographiclib positions, scanned and bisected: four toggles, two visits, both
    interpolated since the middle fix is in the hole and the end fixes outside.
    """
    shell = [(130.0, 37.0), (131.0, 37.0), (131.0, 38.0), (130.0, 38.0)]
    hole = [(130.4, 37.4), (130.6, 37.4), (130.6, 37.6), (130.4, 37.6)]
    geom = shapely.Polygon(shell, [hole])
    zone = Zone("holed", "holed", "restricted", ("KOR",), geom, edges="lonlat")
    a, b, c = (0.0, 129.8, 37.5), (700.0, 130.5, 37.5), (1400.0, 131.2, 37.5)
    inside = covers(geom)
    t_ab = toggles(seg_predicate(inside, a, b))
    t_bc = toggles(seg_predicate(inside, b, c))
    assert len(t_ab) == 2 and len(t_bc) == 2
    ev = crossings(build_tracks({"trk": [a, b, c]}), Zones([zone]))
    rows = rows_for(ev, "trk", "holed")
    assert len(rows) == 2
    assert [r["evidence"] for r in rows] == ["interpolated", "interpolated"]
    assert_entry(rows[0], a, b, t_ab[0])
    assert_exit(rows[0], a, b, t_ab[1])
    assert_entry(rows[1], b, c, t_bc[0])
    assert_exit(rows[1], b, c, t_bc[1])


def test_near_row_for_polygon_zone_gives_distance_to_its_edge() -> None:
    """A track turns back 0.2 degrees of latitude short of a box (never enters).

    Truth: the closest point is the turning fix (130.5 E, 36.8 N) - the first leg runs up the
    meridian, the second moves away south-east - and the nearest zone point is (130.5, 37.0)
    straight north on the meridian (the meridian is perpendicular to the parallel edge), so
    closest = geographiclib distance between the two, at the fix time.
    """
    zone = box_zone("box", 130.0, 37.0, 131.0, 38.0)
    fixes = [(0.0, 130.5, 36.5), (300.0, 130.5, 36.8), (600.0, 130.7, 36.5)]
    want_m = geodesic_distance_m(130.5, 36.8, 130.5, 37.0)
    tr = build_tracks({"trk": fixes})
    ev = crossings(tr, Zones([zone]), near_m=30_000.0)
    assert rows_for(ev, "trk", "box") == []
    (row,) = rows_for(ev, "trk", "box", evidence=frozenset({"near"}))
    assert row["entry_time"] is None and row["exit_time"] is None
    assert row["closest_m"] == pytest.approx(want_m, abs=POS_TOL_M)
    assert row["closest_edge_m"] == pytest.approx(want_m, abs=POS_TOL_M)
    assert_time(row["closest_time"], t_ns(300.0), "closest_time", tol_ns=100 * TIME_TOL_NS)
    # 22.2 km away: nothing with near_m = 20 km
    assert len(crossings(tr, Zones([zone]), near_m=20_000.0)) == 0


# =========================================================================== buffer zones
CENTER = (131.0, 37.0)


def test_pass_inside_12nm_circle_gives_closest_approach_and_depth() -> None:
    """A geodesic built to pass 13 000 m from a point (see :func:`tangent_pass`).

    Truth: closest_m = 13 000 m at Q (midway, so at the mid time), max_depth = 22 224 - 13 000;
    entry/exit by bisection of geographiclib distance <= 22 224 m; both fixes are 100 km
    from Q, outside, so the visit is interpolated.
    """
    f0, _, f1 = tangent_pass(CENTER, 13_000.0, 100_000.0)
    a, b = (0.0, *f0), (1000.0, *f1)
    # construction check: the geodesic's minimum distance to the centre is 13 000 m at Q
    f_min, d_min = minimize(lambda f: geodesic_distance_m(*seg_point(a, b, f), *CENTER))
    assert d_min == pytest.approx(13_000.0, abs=0.01)
    assert f_min == pytest.approx(0.5, abs=1e-4)

    zone = buffer_zone("ts", shapely.Point(*CENTER))
    ev = crossings(build_tracks({"trk": [a, b]}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "ts", evidence=None)
    inside = seg_predicate(within_m([CENTER], TWELVE_NM_M), a, b)
    assert row["evidence"] == "interpolated"
    assert_entry(row, a, b, bisect_frac(inside, 0.0, 0.5))
    assert_exit(row, a, b, bisect_frac(inside, 0.5, 1.0))
    assert row["closest_m"] == pytest.approx(13_000.0, abs=1.0)
    assert row["max_depth_m"] == pytest.approx(TWELVE_NM_M - 13_000.0, abs=1.0)
    assert_time(row["closest_time"], t_ns(500.0), "closest_time", tol_ns=NS_PER_S)
    assert geodesic_distance_m(row["closest_lon"], row["closest_lat"], *CENTER) == pytest.approx(
        row["closest_m"], abs=1.0
    )


def _outside_pass() -> tuple[Tracks, Zones]:
    """A geodesic built (:func:`tangent_pass`) to pass 37 224 m from a point, i.e. 15 000 m
    outside its 12 NM circle, at the mid time of two fixes 1000 s apart."""
    f0, _, f1 = tangent_pass(CENTER, TWELVE_NM_M + 15_000.0, 100_000.0)
    tr = build_tracks({"trk": [(0.0, *f0), (1000.0, *f1)]})
    return tr, Zones([buffer_zone("ts", shapely.Point(*CENTER))])


def test_pass_outside_12nm_circle_gives_near_row_with_closest_approach() -> None:
    """Truth (by construction, :func:`tangent_pass`): closest_m = 22 224 + 15 000 = 37 224 m
    to the point, closest_edge_m = 15 000 m to the circle, at the mid time; no visit.

    near_m = 40 km exceeds both distances, so a near row is due whichever one near_m is
    compared with; near_m = 10 km is below both, so nothing.
    """
    tr, zones = _outside_pass()
    ev = crossings(tr, zones, near_m=40_000.0)
    assert rows_for(ev, "trk", "ts") == []
    (row,) = rows_for(ev, "trk", "ts", evidence=frozenset({"near"}))
    assert row["entry_time"] is None and row["exit_time"] is None
    assert row["closest_m"] == pytest.approx(TWELVE_NM_M + 15_000.0, abs=1.0)
    assert row["closest_edge_m"] == pytest.approx(15_000.0, abs=1.0)
    assert_time(row["closest_time"], t_ns(500.0), "closest_time", tol_ns=NS_PER_S)

    assert len(crossings(tr, zones)) == 0
    assert len(crossings(tr, zones, near_m=10_000.0)) == 0


def test_near_m_is_measured_from_the_zone_feature_not_its_edge() -> None:
    """Documented choice: near_m counts from the zone's feature (the islet a 12 NM zone is
    built from: "stayed 37 km from the islet"), as in the incident's expected near list.
    The pass above is 15 000 m from the 12 NM circle but 37 224 m from the point, so
    near_m = 30 km gives no near row, and near_m = 37 300 m gives one."""
    tr, zones = _outside_pass()
    ev = crossings(tr, zones, near_m=30_000.0)
    assert rows_for(ev, "trk", "ts", evidence=frozenset({"near"})) == []
    ev = crossings(tr, zones, near_m=37_300.0)
    (row,) = rows_for(ev, "trk", "ts", evidence=frozenset({"near"}))
    assert row["closest_edge_m"] == pytest.approx(15_000.0, abs=1.0)


def test_disputed_zone_gives_one_row_with_claimants_in_given_order() -> None:
    """One zone claimed by KOR and JPN: one row per visit, claimants "KOR;JPN" (not sorted).

    Truth: a track straight through the point (meridian 131 E) visits once; a second track
    100 km east never does (geographiclib: > 80 km from the point).
    """
    zone = buffer_zone("dokdo", shapely.Point(*CENTER), claimants=("KOR", "JPN"))
    through = [(0.0, 131.0, 36.5), (1000.0, 131.0, 37.5)]
    away = [(0.0, 132.2, 36.5), (1000.0, 132.2, 37.5)]
    assert geodesic_distance_m(132.2, 37.0, *CENTER) > 80_000.0
    ev = crossings(build_tracks({"through": through, "away": away}), Zones([zone]))
    assert len(ev) == 1
    (row,) = rows_for(ev, "through", "dokdo")
    assert row["claimants"] == "KOR;JPN"
    assert row["zone_kind"] == "territorial"
    assert rows_for(ev, "away", "dokdo", evidence=None) == []


def test_multipoint_buffer_of_two_islets_400_m_apart_is_one_visit() -> None:
    """Two islets 400 m apart (geographiclib Direct due east), one 12 NM zone around both.

    Truth: inside = min(distance to either islet) <= 22 224 m; the track passes between them,
    so there is one visit (two toggles, bisected); closest = minimum of that along the
    geodesic (scan + golden section).
    """
    islet_a = CENTER
    islet_b = geodesic_direct(*CENTER, 90.0, 400.0)[:2]
    zone = buffer_zone("islets", shapely.MultiPoint([islet_a, islet_b]), claimants=("KOR", "JPN"))
    a, b = (0.0, 131.002, 36.6), (800.0, 131.002, 37.4)
    dist = lambda f: min(  # noqa: E731 - a one-line reference function
        geodesic_distance_m(*seg_point(a, b, f), *p) for p in (islet_a, islet_b)
    )
    tog = toggles(lambda f: dist(f) <= TWELVE_NM_M)
    assert len(tog) == 2
    f_min, d_min = minimize(dist)

    ev = crossings(build_tracks({"trk": [a, b]}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "islets", evidence=None)
    assert row["evidence"] == "interpolated"
    assert_entry(row, a, b, tog[0])
    assert_exit(row, a, b, tog[1])
    assert row["closest_m"] == pytest.approx(d_min, abs=1.0)
    assert row["max_depth_m"] == pytest.approx(TWELVE_NM_M - d_min, abs=1.0)
    assert_time(row["closest_time"], seg_time(a, b, f_min), "closest_time", tol_ns=NS_PER_S)


# =========================================================================== antimeridian
AM_TRACK: list[Fix] = [
    (0.0, 179.0, 51.2),
    (300.0, 179.9, 51.0),
    (600.0, -179.9, 51.0),
    (900.0, -179.0, 50.8),
]


def _assert_one_antimeridian_visit(
    ev: Events, zone_id: str, inside: Callable[[float, float], bool]
) -> None:
    a, b, c, d = AM_TRACK
    (row,) = rows_for(ev, "trk", zone_id, evidence=None)
    assert row["evidence"] == "observed"
    assert_entry(row, a, b, bisect_frac(seg_predicate(inside, a, b), 0.0, 1.0))
    assert_exit(row, c, d, bisect_frac(seg_predicate(inside, c, d), 0.0, 1.0))


def test_antimeridian_box_as_multipolygon_split_at_180_is_one_visit() -> None:
    """A box 179.5 E .. 179.5 W given as two halves split at 180; the track crosses 180.

    Truth: the two closed halves both contain lon +-180, so the track is inside from the
    lon-179.5E crossing (first segment) to the lon-179.5W crossing (last segment): one visit;
    times by bisection with shapely.covers on geographiclib positions (lon in [-180, 180]).
    """
    geom = shapely.MultiPolygon(
        [shapely.box(179.5, 50.5, 180.0, 51.5), shapely.box(-180.0, 50.5, -179.5, 51.5)]
    )
    zone = Zone("am", "am", "restricted", ("RUS",), geom, edges="lonlat")
    ev = crossings(build_tracks({"trk": AM_TRACK}), Zones([zone]))
    _assert_one_antimeridian_visit(ev, "am", covers(geom))


def test_antimeridian_box_with_longitudes_beyond_180_is_one_visit_or_rejected() -> None:
    """The same box written as lon 179.5 .. 180.5: either handled (same truth as the split
    MultiPolygon) or rejected with ZoneGeometryError, never a silently different answer."""
    zone = box_zone("am", 179.5, 50.5, 180.5, 51.5, claimants=("RUS",))
    split = shapely.MultiPolygon(
        [shapely.box(179.5, 50.5, 180.0, 51.5), shapely.box(-180.0, 50.5, -179.5, 51.5)]
    )
    try:
        ev = crossings(build_tracks({"trk": AM_TRACK}), Zones([zone]))
    except ZoneGeometryError as exc:
        pytest.skip(f"zone model rejects longitudes beyond 180: {exc}")
    _assert_one_antimeridian_visit(ev, "am", covers(split))


@pytest.mark.parametrize("lon_deg", [180.0, -180.0])
def test_buffer_around_point_on_antimeridian_is_one_visit(lon_deg: float) -> None:
    """A 12 NM circle around (180, 51) (written as +180 or -180); the track crosses 180.

    Truth: geographiclib distance <= 22 224 m, bisected on the first and last segments; the
    closest approach (minimised on the middle segment, which passes ~0 m from the point's
    meridian) gives closest_m and max_depth_m.
    """
    point = (lon_deg, 51.0)
    zone = buffer_zone("amts", shapely.Point(*point), claimants=("RUS",))
    fixes = [(0.0, 179.0, 51.0), (300.0, 179.9, 51.0), (600.0, -179.9, 51.0), (900.0, -179.0, 51.0)]
    a, b, c, d = fixes
    inside = within_m([point], TWELVE_NM_M)
    ev = crossings(build_tracks({"trk": fixes}), Zones([zone]))
    (row,) = rows_for(ev, "trk", "amts", evidence=None)
    assert row["evidence"] == "observed"
    assert_entry(row, a, b, bisect_frac(seg_predicate(inside, a, b), 0.0, 1.0))
    assert_exit(row, c, d, bisect_frac(seg_predicate(inside, c, d), 0.0, 1.0))
    f_min, d_min = minimize(lambda f: geodesic_distance_m(*seg_point(b, c, f), *point))
    assert row["closest_m"] == pytest.approx(d_min, abs=1.0)
    assert row["max_depth_m"] == pytest.approx(TWELVE_NM_M - d_min, abs=1.0)
    assert_time(row["closest_time"], seg_time(b, c, f_min), "closest_time", tol_ns=NS_PER_S)


# =========================================================================== vertical limits
def _vertical_zone() -> Zone:
    return box_zone("tma", 130.0, 37.0, 131.0, 38.0, floor_m=1000.0, ceiling_m=5000.0)


def test_track_under_the_floor_or_above_the_ceiling_never_visits() -> None:
    """Straight across the box at 500 m (floor 1000 m) and at 6000 m (ceiling 5000 m)."""
    path = [(0.0, 129.5, 37.5), (1000.0, 131.5, 37.5)]
    tr = build_tracks({"low": path, "high": path}, alt_m={"low": [500.0] * 2, "high": [6000.0] * 2})
    assert len(crossings(tr, Zones([_vertical_zone()]))) == 0


def test_climb_through_the_floor_enters_at_the_altitude_crossing_time() -> None:
    """Horizontally inside throughout, climbing 0 -> 2000 m in 200 s through a 1000 m floor.

    Truth by hand: altitude is linear in time, so it reaches 1000 m at t = 100 s exactly,
    i.e. fraction 0.5; the position there is the geodesic midpoint (geographiclib).
    """
    a, b = (0.0, 130.3, 37.5), (200.0, 130.7, 37.5)
    tr = build_tracks({"climb": [a, b]}, alt_m={"climb": [0.0, 2000.0]})
    ev = crossings(tr, Zones([_vertical_zone()]))
    (row,) = rows_for(ev, "climb", "tma", evidence=None)
    assert row["evidence"] == "observed"
    assert_entry(row, a, b, 0.5)
    assert_no_exit(row)
    assert row["altitude"] != "unknown altitude"


def test_track_without_altitude_uses_the_horizontal_answer() -> None:
    """No altitude: the horizontal visit stands (lon 130 -> 131 crossings, bisected with
    shapely.covers on geographiclib positions) and ``altitude`` says "unknown altitude"."""
    zone = _vertical_zone()
    a, b = (0.0, 129.5, 37.3), (1000.0, 131.5, 37.3)
    ev = crossings(build_tracks({"noalt": [a, b]}), Zones([zone]))
    (row,) = rows_for(ev, "noalt", "tma", evidence=None)
    tog = toggles(seg_predicate(covers(zone.geometry), a, b))
    assert len(tog) == 2
    assert row["evidence"] == "interpolated"
    assert_entry(row, a, b, tog[0])
    assert_exit(row, a, b, tog[1])
    assert row["altitude"] == "unknown altitude"


# =========================================================================== possible rows
def _detour_min_m(f0: tuple[float, float], f1: tuple[float, float], radius_m: float) -> float:
    """min over points X of the circle of d(f0, X) + d(X, f1), geographiclib (scan + golden).

    The sum has no minimum inside the disc when the geodesic f0-f1 misses it, so the minimum
    over the zone is on its edge, X = Direct(CENTER, theta, radius_m).
    """

    def total(theta: float) -> float:
        x = geodesic_direct(*CENTER, theta, radius_m)[:2]
        return geodesic_distance_m(*f0, *x) + geodesic_distance_m(*x, *f1)

    return minimize(total, -180.0, 180.0)[1]


def test_possible_row_when_a_detour_at_max_speed_could_reach_the_zone() -> None:
    """Two fixes 10 min apart, 120 km of geodesic passing 30 km outside a 12 NM circle.

    Truth: the shortest detour through the zone (:func:`_detour_min_m`, ~134 km) needs
    D / 600 s (~224 m/s). At 2 % above that speed a ``possible`` row bracketed by the two
    fixes; at 2 % below, none. The straight path (200 m/s) never enters.
    """
    f0, _, f1 = tangent_pass(CENTER, TWELVE_NM_M + 30_000.0, 60_000.0)
    a, b = (0.0, *f0), (600.0, *f1)
    detour_m = _detour_min_m(f0, f1, TWELVE_NM_M)
    assert 120_000.0 < detour_m < 140_000.0
    tr = build_tracks({"trk": [a, b]})
    zones = Zones([buffer_zone("ts", shapely.Point(*CENTER))])

    fast = crossings(tr, zones, max_speed_mps=1.02 * detour_m / 600.0)
    assert rows_for(fast, "trk", "ts") == []
    (row,) = rows_for(fast, "trk", "ts", evidence=None)
    assert row["evidence"] == "possible"
    assert row["entry_time"] is None and row["exit_time"] is None
    assert row["entry_bracket_start"] == t_ns(0.0)
    assert row["entry_bracket_end"] == t_ns(600.0)

    slow = crossings(tr, zones, max_speed_mps=0.98 * detour_m / 600.0)
    assert len(slow) == 0


# =========================================================================== empty and contract
def _assert_contract(ev: Events) -> None:
    assert isinstance(ev, Events)
    schema = ev.to_arrow().schema
    present = [c for c in ev.columns if c in CROSSING_COLUMNS]
    assert present == list(CROSSING_COLUMNS), "contract columns missing or out of order"
    for name in CROSSING_COLUMNS:
        assert schema.field(name).type == CROSSING_SCHEMA.field(name).type, name


def _empty_tracks() -> Tracks:
    return Tracks.from_arrays(
        np.asarray([], dtype=str), np.asarray([], dtype=np.int64), np.asarray([]), np.asarray([])
    )


@pytest.mark.parametrize(
    "options", [{}, {"near_m": 30_000.0}, {"near_m": 30_000.0, "max_speed_mps": 300.0}]
)
def test_empty_tracks_or_zones_give_empty_events_with_the_contract_columns(
    options: dict[str, float],
) -> None:
    zone = box_zone("box", 130.0, 37.0, 131.0, 38.0)
    full = build_tracks({"trk": [(0.0, 130.5, 36.5), (100.0, 130.5, 37.5)]})
    for tr, zs in [(_empty_tracks(), Zones([zone])), (full, Zones([])), (_empty_tracks(), Zones())]:
        ev = crossings(tr, zs, **options)
        assert ev is not None
        assert len(ev) == 0
        _assert_contract(ev)


def test_result_has_contract_columns_in_order_with_their_types() -> None:
    ev = crossings(build_tracks({"trk": CASE1}), Zones([box_zone("box", *BOX)]), near_m=1.0)
    assert len(ev) == 1
    _assert_contract(ev)
    assert ev.to_arrow().schema.field("entry_time").type == pa.timestamp("ns", tz="UTC")
    assert set(ev.column("kind")) == {"crossing"}
