"""The vectorized kernels against plain references (shapely in the same planar metric)."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from patrolwatch.detect._kernels import (
    bisect_root,
    chord_edge_distance_fast_m,
    chord_edge_distance_m,
    golden_min,
    point_chord_distance_m,
)

coord = st.floats(-0.5, 0.5, allow_nan=False).map(lambda v: round(v, 9))  # no subnormals


def _metric(lat0: float) -> tuple[float, float]:
    # the kernels' local equirectangular metric at the chord's mean latitude
    return max(111_320.0 * math.cos(math.radians(lat0)), 1.0), 110_574.0


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-60, 60),
    pts=st.lists(coord, min_size=8, max_size=8),
)
def test_chord_edge_distance_matches_shapely_in_the_same_metric(
    lat: float, pts: list[float]
) -> None:
    x0, y0, x1, y1, ex0, ey0, ex1, ey1 = pts
    y0, y1, ey0, ey1 = y0 + lat, y1 + lat, ey0 + lat, ey1 + lat
    got = chord_edge_distance_m(
        np.array([x0]),
        np.array([y0]),
        np.array([x1]),
        np.array([y1]),
        np.array([ex0]),
        np.array([ey0]),
        np.array([ex1]),
        np.array([ey1]),
    )[0]
    kx, ky = _metric(0.5 * (y0 + y1))
    chord = shapely.LineString([(x0 * kx, y0 * ky), (x1 * kx, y1 * ky)])
    edge = shapely.LineString([(ex0 * kx, ey0 * ky), (ex1 * kx, ey1 * ky)])
    assert math.isclose(got, chord.distance(edge), rel_tol=1e-7, abs_tol=1e-6)


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-60, 60), pts=st.lists(coord, min_size=6, max_size=6))
def test_point_chord_distance_matches_shapely_in_the_same_metric(
    lat: float, pts: list[float]
) -> None:
    qx, qy, x0, y0, x1, y1 = pts
    qy, y0, y1 = qy + lat, y0 + lat, y1 + lat
    d, u, d0, d1 = (
        v[0]
        for v in point_chord_distance_m(
            np.array([qx]),
            np.array([qy]),
            np.array([x0]),
            np.array([y0]),
            np.array([x1]),
            np.array([y1]),
        )
    )
    kx, ky = _metric(qy)
    chord = shapely.LineString([(x0 * kx, y0 * ky), (x1 * kx, y1 * ky)])
    point = shapely.Point(qx * kx, qy * ky)
    assert math.isclose(d, chord.distance(point), rel_tol=1e-7, abs_tol=1e-6)
    assert 0.0 <= u <= 1.0
    assert math.isclose(
        d0, point.distance(shapely.Point(x0 * kx, y0 * ky)), rel_tol=1e-9, abs_tol=1e-6
    )
    assert math.isclose(
        d1, point.distance(shapely.Point(x1 * kx, y1 * ky)), rel_tol=1e-9, abs_tol=1e-6
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(0.1, 3)), min_size=1, max_size=20))
def test_golden_min_finds_the_vertex_of_convex_parabolas(params: list[tuple[float, float]]) -> None:
    centre = np.array([p[0] for p in params])
    scale = np.array([p[1] for p in params])
    x, fx = golden_min(
        lambda x, i: scale[i] * (x - centre[i]) ** 2,
        np.full(len(params), -2.0),
        np.full(len(params), 2.0),
    )
    want = np.clip(centre, -2.0, 2.0)  # the minimum over [-2, 2], by hand
    assert np.allclose(x, want, atol=1e-6)
    assert np.allclose(fx, scale * (want - centre) ** 2, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.01, 100), min_size=1, max_size=20))
def test_bisect_root_finds_square_roots(values: list[float]) -> None:
    v = np.array(values)
    r = bisect_root(lambda x, i: x * x - v[i], np.zeros(v.size), np.full(v.size, 11.0))
    assert np.allclose(r, np.sqrt(v), rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    lat=st.floats(-60, 60),
    chords=st.lists(st.lists(coord, min_size=4, max_size=4), min_size=1, max_size=30),
    edges=st.lists(st.lists(coord, min_size=4, max_size=4), min_size=1, max_size=12),
)
def test_compiled_chord_edge_distance_equals_the_numpy_reference(
    lat: float, chords: list[list[float]], edges: list[list[float]]
) -> None:
    c = np.asarray(chords)
    e = np.asarray(edges)
    args = (
        c[:, 0],
        c[:, 1] + lat,
        c[:, 2],
        c[:, 3] + lat,
        e[:, 0],
        e[:, 1] + lat,
        e[:, 2],
        e[:, 3] + lat,
    )
    np.testing.assert_allclose(
        chord_edge_distance_fast_m(*args), chord_edge_distance_m(*args), rtol=1e-9, atol=1e-6
    )
