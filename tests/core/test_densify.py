"""Tests for patrolwatch.core.densify, checked against the independent geographiclib package.

geographiclib shares Karney's algorithm with pyproj's Geod, so agreement catches wiring
errors (lon/lat swapped, degrees vs radians, wrong azimuth, lost longitude turns), not
errors of the geodesic solver itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from geographiclib.geodesic import Geodesic
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import (
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)

from patrolwatch.core.densify import DEFAULT_TOLERANCE_M, densify_geodesic
from patrolwatch.errors import ConfigError

WGS84 = Geodesic.WGS84
ON_GEODESIC_M = 1e-3
"""A vertex lies on the geodesic a-b when s(a, p) + s(p, b) - s(a, b) is below this (1 mm)."""


def distance_m(p: tuple[float, float], q: tuple[float, float]) -> float:
    """Geodesic distance between two (lon, lat) points, by geographiclib (lat first)."""
    return float(WGS84.Inverse(p[1], p[0], q[1], q[0])["s12"])


def excess_m(a: tuple[float, float], b: tuple[float, float], p: tuple[float, float]) -> float:
    """How much longer the way a -> p -> b is than a -> b; 0 when p is on the geodesic."""
    return distance_m(a, p) + distance_m(p, b) - distance_m(a, b)


def offset_from_geodesic_m(
    a: tuple[float, float], b: tuple[float, float], p: tuple[float, float]
) -> float:
    """Shortest distance from p to the geodesic through a and b (geographiclib).

    Walks along the geodesic to the foot of the perpendicular from p: at the foot, the
    direction to p is at right angles to the geodesic.
    """
    inv = WGS84.Inverse(a[1], a[0], b[1], b[0])
    line = WGS84.Line(a[1], a[0], inv["azi1"])
    s = 0.5 * inv["s12"]
    for _ in range(30):
        foot = line.Position(s)
        to_p = WGS84.Inverse(foot["lat2"], foot["lon2"], p[1], p[0])
        along = to_p["s12"] * math.cos(math.radians(to_p["azi1"] - foot["azi2"]))
        s += along
        if abs(along) < 1e-7:
            break
    foot = line.Position(s)
    return float(WGS84.Inverse(foot["lat2"], foot["lon2"], p[1], p[0])["s12"])


def chord_midpoints(coords: np.ndarray) -> np.ndarray:
    """Midpoints, in lon/lat, of the straight chords between consecutive vertices."""
    return 0.5 * (coords[:-1] + coords[1:])


def check_edge(a: tuple[float, float], b: tuple[float, float], tolerance_m: float) -> np.ndarray:
    """Densify the edge a-b and assert the two defining properties; return the vertices."""
    coords = np.asarray(densify_geodesic(LineString([a, b]), tolerance_m=tolerance_m).coords)
    assert tuple(coords[0]) == a
    assert tuple(coords[-1]) == b
    # Longitudes continue (no jump back into [-180, 180]) and run one way.
    steps = np.diff(coords[:, 0])
    assert np.all(np.abs(steps) < 180.0)
    assert np.all(steps >= 0) or np.all(steps <= 0)
    for p in coords[1:-1]:
        assert excess_m(a, b, (p[0], p[1])) < ON_GEODESIC_M
    deviations = [offset_from_geodesic_m(a, b, (m[0], m[1])) for m in chord_midpoints(coords)]
    assert max(deviations) <= tolerance_m * (1 + 1e-6)
    return coords


EDGES = {
    # KADIZ northern limit, 39°00'N 123°30'E -> 39°00'N 133°00'E (zones/adiz.geojson).
    "kadiz_north": ((123.5, 39.0), (133.0, 39.0)),
    "kadiz_diagonal": ((133.0, 37.283333), (128.866667, 34.283333)),
    "high_latitude": ((138.7, 66.0), (160.0, 72.5)),
    "southern": ((-70.0, -50.0), (-60.0, -56.0)),
    "across_antimeridian": ((179.0, -60.0), (190.0, -50.0)),
    "westward_across_antimeridian": ((-175.0, 52.0), (-186.0, 55.0)),
    "long_3000km": ((100.0, 20.0), (130.0, 30.0)),
    "short_10km": ((131.8, 37.2), (131.92, 37.2)),
}


@pytest.mark.parametrize("tolerance_m", [0.1, 1.0, 10.0, 1000.0])
@pytest.mark.parametrize("edge", list(EDGES.values()), ids=list(EDGES))
def test_vertices_lie_on_geodesic_and_chords_within_tolerance(
    edge: tuple[tuple[float, float], tuple[float, float]], tolerance_m: float
) -> None:
    check_edge(*edge, tolerance_m)


@pytest.mark.parametrize("tolerance_m", [1.0, 10.0, 100.0])
def test_densification_is_not_much_denser_than_needed(tolerance_m: float) -> None:
    a, b = EDGES["kadiz_north"]
    coords = check_edge(a, b, tolerance_m)
    deviations = [offset_from_geodesic_m(a, b, (m[0], m[1])) for m in chord_midpoints(coords)]
    # Chord deviation grows with the square of chord length, so one chord fewer per
    # edge would overshoot; a result far below the tolerance wastes vertices.
    assert max(deviations) > 0.5 * tolerance_m


def test_smaller_tolerance_gives_more_vertices() -> None:
    line = LineString(EDGES["kadiz_north"])
    counts = [len(densify_geodesic(line, tolerance_m=t).coords) for t in (1000.0, 10.0, 0.1)]
    assert counts[0] < counts[1] < counts[2]


def test_default_tolerance_is_one_metre() -> None:
    assert DEFAULT_TOLERANCE_M == 1.0
    line = LineString(EDGES["kadiz_north"])
    assert densify_geodesic(line).equals_exact(densify_geodesic(line, tolerance_m=1.0), 0.0)


@pytest.mark.parametrize(
    "coords",
    [
        [(120.0, 0.0), (135.0, 0.0)],  # the equator is a geodesic
        [(131.0, 20.0), (131.0, 60.0)],  # so is every meridian
        [(-20.0, -70.0), (-20.0, 10.0)],
    ],
    ids=["equator", "meridian_north", "meridian_south"],
)
def test_edges_along_equator_or_meridian_gain_no_vertices(
    coords: list[tuple[float, float]],
) -> None:
    dense = densify_geodesic(LineString(coords), tolerance_m=0.01)
    assert list(dense.coords) == coords


def test_edge_crossing_antimeridian_keeps_continuous_longitudes() -> None:
    dense = densify_geodesic(LineString([(179.0, 50.0), (181.0, 50.0)]), tolerance_m=0.1)
    lons = np.asarray(dense.coords)[:, 0]
    assert len(lons) > 2
    assert np.all((lons >= 179.0) & (lons <= 181.0))
    assert np.all(np.diff(lons) > 0)


def test_polygon_with_hole_keeps_structure_and_input_vertices() -> None:
    shell = [(124.0, 30.0), (133.0, 30.0), (133.0, 39.0), (124.0, 39.0), (124.0, 30.0)]
    hole = [(127.0, 33.0), (129.0, 33.0), (129.0, 35.0), (127.0, 35.0), (127.0, 33.0)]
    polygon = Polygon(shell, [hole])
    dense = densify_geodesic(polygon, tolerance_m=1.0)
    assert dense.geom_type == "Polygon"
    assert dense.is_valid
    assert len(dense.interiors) == 1
    for ring_in, ring in ((shell, dense.exterior), (hole, dense.interiors[0])):
        out = list(ring.coords)
        assert out[0] == out[-1]
        assert len(out) > len(ring_in)
        # Every input vertex is kept, in order.
        positions = [out.index(v) for v in ring_in[:-1]]
        assert positions == sorted(positions)
    # A point inside the hole stays outside the zone.
    assert not dense.covers(Point(128.0, 34.0))


def test_parallel_edge_bulges_poleward_in_both_hemispheres() -> None:
    north = densify_geodesic(LineString([(123.5, 39.0), (133.0, 39.0)]), tolerance_m=1.0)
    south = densify_geodesic(LineString([(123.5, -39.0), (133.0, -39.0)]), tolerance_m=1.0)
    assert max(lat for _, lat in north.coords) > 39.0
    assert min(lat for _, lat in south.coords) < -39.0


@pytest.mark.parametrize(
    "geometry",
    [
        MultiPolygon([shapely.box(120, 30, 125, 35), shapely.box(130, 30, 135, 35)]),
        MultiLineString([[(120, 30), (125, 35)], [(130, 30), (135, 40)]]),
        LinearRing([(120, 30), (125, 30), (125, 35), (120, 30)]),
    ],
    ids=["multipolygon", "multilinestring", "linearring"],
)
def test_geometry_type_and_part_count_preserved(geometry: shapely.Geometry) -> None:
    dense = densify_geodesic(geometry, tolerance_m=10.0)
    assert dense.geom_type == geometry.geom_type
    assert shapely.get_num_geometries(dense) == shapely.get_num_geometries(geometry)
    assert shapely.get_num_coordinates(dense) > shapely.get_num_coordinates(geometry)


@pytest.mark.parametrize(
    "geometry",
    [Point(131.87, 37.24), MultiPoint([(131.87, 37.24), (131.86, 37.24)]), Polygon()],
    ids=["point", "multipoint", "empty"],
)
def test_points_and_empty_geometries_returned_unchanged(geometry: shapely.Geometry) -> None:
    assert densify_geodesic(geometry) is geometry


def test_repeated_vertex_is_kept() -> None:
    coords = [(120.0, 30.0), (120.0, 30.0), (121.0, 30.0)]
    out = list(densify_geodesic(LineString(coords), tolerance_m=1.0).coords)
    assert out[:2] == coords[:2]
    assert out[-1] == coords[-1]


@pytest.mark.parametrize("tolerance_m", [0.0, -1.0, math.nan, math.inf])
def test_nonpositive_or_nonfinite_tolerance_raises(tolerance_m: float) -> None:
    with pytest.raises(ConfigError, match="positive number of metres"):
        densify_geodesic(LineString([(0, 0), (1, 1)]), tolerance_m=tolerance_m)


@pytest.mark.parametrize("lon2", [180.0, 200.0, -180.0])
def test_edge_spanning_180_degrees_raises_with_fix(lon2: float) -> None:
    with pytest.raises(ConfigError, match="add a vertex in between"):
        densify_geodesic(LineString([(0.0, 10.0), (lon2, 10.0)]))


def test_tolerance_too_small_for_the_edge_raises_instead_of_exhausting_memory() -> None:
    with pytest.raises(ConfigError, match="use a larger tolerance_m"):
        densify_geodesic(LineString(EDGES["long_3000km"]), tolerance_m=1e-9)


def test_densifying_twice_adds_nothing() -> None:
    once = densify_geodesic(shapely.box(120, 30, 135, 42), tolerance_m=5.0)
    twice = densify_geodesic(once, tolerance_m=5.0)
    assert twice.equals_exact(once, 0.0)


@settings(max_examples=25, deadline=None)
@given(
    lon1=st.floats(-180.0, 180.0),
    lat1=st.floats(-75.0, 75.0),
    dlon=st.floats(-20.0, 20.0).filter(lambda d: abs(d) > 1e-3),
    lat2=st.floats(-75.0, 75.0),
    tolerance_m=st.sampled_from([1.0, 10.0, 100.0]),
)
def test_random_edges_follow_the_geodesic(
    lon1: float, lat1: float, dlon: float, lat2: float, tolerance_m: float
) -> None:
    check_edge((lon1, lat1), (lon1 + dlon, lat2), tolerance_m)
