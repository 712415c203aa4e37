"""Densify geometry edges along WGS84 geodesics.

A zone whose boundary is defined by geodesic edges (shortest paths on the WGS84
ellipsoid) is drawn on the lon/lat plane by inserting vertices along each geodesic until
the straight lon/lat chords between consecutive vertices stay within a stated distance of
the geodesic. After that, planar tests (point in polygon, segment crossings) on the
densified geometry agree with the geodesic boundary to that tolerance.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import ConfigError

__all__ = ["DEFAULT_TOLERANCE_M", "densify_geodesic"]

DEFAULT_TOLERANCE_M = 1.0
"""Default largest distance, in metres, between a lon/lat chord and its geodesic."""

_GEOD = pyproj.Geod(ellps="WGS84")
_MAX_ROUNDS = 60
"""Refinement rounds before giving up (each round at least adds one vertex per failing edge)."""
_SAFETY = 1.05
"""Head-room on the quadratic estimate of the number of sub-segments an edge needs."""
_MAX_SEGMENTS_PER_EDGE = 1_000_000
"""More sub-segments than this for one edge means a tolerance far below the solver's
accuracy or an edge through a pole; both raise rather than exhaust memory."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def densify_geodesic(
    geometry: BaseGeometry, *, tolerance_m: float = DEFAULT_TOLERANCE_M
) -> BaseGeometry:
    """Insert vertices along WGS84 geodesics so that lon/lat chords follow the geodesic.

    Every edge of every LineString, LinearRing and Polygon ring (shell and holes) of
    ``geometry`` is read as the WGS84 geodesic between its two end vertices and split into
    equal-length geodesic sub-segments, as few as needed so that the straight lon/lat
    chord of each sub-segment lies within ``tolerance_m`` of the geodesic.

    Parameters
    ----------
    geometry : shapely geometry, lon/lat degrees WGS84
        Any geometry type. Longitudes may lie beyond [-180, 180] (e.g. a ring continued
        across the antimeridian as 179 -> 181); they are kept.
    tolerance_m : float, metres, > 0, default :data:`DEFAULT_TOLERANCE_M` (1 m)
        Largest distance between a lon/lat chord and the geodesic it stands for,
        measured at the chord's midpoint.

    Returns
    -------
    shapely geometry
        Same type and structure as ``geometry`` (same rings, holes and parts), 2-D. All
        input vertices are kept; new vertices lie on the geodesics (to the accuracy of
        the geodesic solver, nanometres).

    Raises
    ------
    ConfigError
        If ``tolerance_m`` is not a positive finite number, or an edge spans 180 degrees
        of longitude or more (its geodesic is ambiguous or runs the other way round the
        globe: add a vertex in between).

    Notes
    -----
    - Each edge runs between its two vertices along the shorter way round the globe, so
      an edge must span less than 180 degrees of longitude. The new vertices' longitudes
      continue those of the edge's first vertex (no jump back into [-180, 180]), so a
      ring at 179 -> 181 stays continuous.
    - The deviation of a short chord from its geodesic is largest near the chord's
      middle and grows with the square of its length; the number of sub-segments per
      edge is refined until every chord midpoint is within ``tolerance_m``.
    - Meridians and the equator are geodesics, so edges along them gain no vertices.
      Zero-length edges (repeated vertices) are kept as they are.
    - Points and MultiPoints are returned unchanged; empty geometries too. Z values are
      dropped.
    - Edges that pass over a pole, and rings that enclose a pole, cannot be drawn on
      the lon/lat plane and are not supported.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> line = LineString([(123.5, 39.0), (133.0, 39.0)])  # KADIZ northern limit
    >>> dense = densify_geodesic(line, tolerance_m=100.0)
    >>> len(line.coords), len(dense.coords)
    (2, 12)
    >>> dense.coords[0], dense.coords[-1]
    ((123.5, 39.0), (133.0, 39.0))
    >>> max(lat for _, lat in dense.coords) > 39.0  # the geodesic bulges poleward
    True
    """
    tol = float(tolerance_m)
    if not (np.isfinite(tol) and tol > 0.0):
        raise ConfigError(f"tolerance_m must be a positive number of metres, got {tolerance_m!r}")
    if geometry.is_empty:
        return geometry
    sequences: list[FloatArray] = []
    _collect_lines(geometry, sequences)
    if not sequences:
        return geometry
    dense = _densify_sequences(sequences, tol)
    return _rebuild(geometry, iter(dense))


def _collect_lines(geometry: BaseGeometry, out: list[FloatArray]) -> None:
    """Append the 2-D coordinate arrays of every non-empty line-like part, in order."""
    kind = geometry.geom_type
    if geometry.is_empty or kind in ("Point", "MultiPoint"):
        return
    if kind in ("LineString", "LinearRing"):
        out.append(shapely.get_coordinates(geometry).astype(np.float64))
    elif kind == "Polygon":
        out.append(shapely.get_coordinates(geometry.exterior).astype(np.float64))
        out.extend(shapely.get_coordinates(ring).astype(np.float64) for ring in geometry.interiors)
    else:  # Multi* and GeometryCollection
        for part in geometry.geoms:
            _collect_lines(part, out)


def _rebuild(geometry: BaseGeometry, dense: Iterator[FloatArray]) -> BaseGeometry:
    """Rebuild ``geometry`` with the coordinate arrays of :func:`_collect_lines`, in order."""
    kind = geometry.geom_type
    if geometry.is_empty or kind in ("Point", "MultiPoint"):
        return geometry
    if kind == "LineString":
        return shapely.linestrings(next(dense))
    if kind == "LinearRing":
        return shapely.linearrings(next(dense))
    if kind == "Polygon":
        shell = next(dense)
        holes = [next(dense) for _ in geometry.interiors]
        return shapely.Polygon(shell, holes)
    return type(geometry)([_rebuild(part, dense) for part in geometry.geoms])


def _densify_sequences(sequences: list[FloatArray], tol_m: float) -> list[FloatArray]:
    """Densify every edge of every coordinate sequence at once (sequences have >= 1 vertex)."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    coords = np.concatenate(sequences)
    seq_end = np.cumsum(lengths) - 1  # index of each sequence's last vertex
    is_last = np.zeros(len(coords), dtype=bool)
    is_last[seq_end] = True
    first = np.flatnonzero(~is_last)  # edge e joins vertex first[e] and first[e] + 1
    if first.size == 0:
        return sequences
    lon1, lat1 = coords[first, 0], coords[first, 1]
    lon2, lat2 = coords[first + 1, 0], coords[first + 1, 1]

    span = np.abs(lon2 - lon1)
    if np.any(span >= 180.0):
        k = int(np.flatnonzero(span >= 180.0)[0])
        raise ConfigError(
            f"the edge from ({lon1[k]}, {lat1[k]}) to ({lon2[k]}, {lat2[k]}) spans "
            f"{span[k]} degrees of longitude; a geodesic edge runs the shorter way round "
            "and must span less than 180 degrees: add a vertex in between"
        )

    az12, _, dist_m = _GEOD.inv(lon1, lat1, lon2, lat2)
    az12 = np.asarray(az12, dtype=np.float64)
    dist_m = np.asarray(dist_m, dtype=np.float64)
    n_seg = _segments_needed(lon1, lat1, lon2, lat2, az12, dist_m, tol_m)

    # Edge e contributes its start vertex and n_seg[e] - 1 points along its geodesic.
    node_lon, node_lat = _edge_nodes(lon1, lat1, az12, dist_m, n_seg)
    seq_of_edge = np.repeat(np.arange(len(sequences)), lengths - 1)
    nodes_per_seq = np.bincount(seq_of_edge, weights=n_seg, minlength=len(sequences))
    cuts = np.cumsum(nodes_per_seq.astype(np.int64))[:-1]
    nodes = np.column_stack([node_lon, node_lat])
    return [
        np.vstack([part, coords[end : end + 1]])
        for part, end in zip(np.split(nodes, cuts), seq_end.tolist(), strict=True)
    ]


def _segments_needed(
    lon1: FloatArray,
    lat1: FloatArray,
    lon2: FloatArray,
    lat2: FloatArray,
    az12: FloatArray,
    dist_m: FloatArray,
    tol_m: float,
) -> IntArray:
    """Fewest equal geodesic sub-segments per edge with every chord within ``tol_m``."""
    n_seg = np.ones(len(dist_m), dtype=np.int64)
    active = np.flatnonzero(dist_m > 0.0)
    for _ in range(_MAX_ROUNDS):
        if active.size == 0:
            return n_seg
        dev = _chord_deviation(
            lon1[active],
            lat1[active],
            lon2[active],
            lat2[active],
            az12[active],
            dist_m[active],
            n_seg[active],
        )
        bad = dev > tol_m
        if not np.any(bad):
            return n_seg
        active = active[bad]
        # The deviation of a chord grows with the square of its length.
        grow = np.ceil(n_seg[active] * np.sqrt(dev[bad] / tol_m) * _SAFETY).astype(np.int64)
        n_seg[active] = np.maximum(grow, n_seg[active] + 1)
        if n_seg[active].max() > _MAX_SEGMENTS_PER_EDGE:
            break
    raise ConfigError(
        f"cannot densify {active.size} edge(s) to {tol_m} m with at most "
        f"{_MAX_SEGMENTS_PER_EDGE} vertices per edge; use a larger tolerance_m, and split "
        "edges that pass over a pole"
    )


def _edge_nodes(
    lon1: FloatArray, lat1: FloatArray, az12: FloatArray, dist_m: FloatArray, n_seg: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Start points of the ``n_seg`` equal geodesic sub-segments of each edge, edge by edge.

    The first point of each edge is its own start vertex, exactly; longitudes continue
    the start vertex's longitude.
    """
    edge = np.repeat(np.arange(len(n_seg)), n_seg)
    starts = np.cumsum(n_seg) - n_seg
    frac = (np.arange(int(n_seg.sum())) - starts[edge]) / n_seg[edge]
    lon, lat, _ = _GEOD.fwd(lon1[edge], lat1[edge], az12[edge], frac * dist_m[edge])
    lon = _continue_lon(np.asarray(lon, dtype=np.float64), lon1[edge])
    lat = np.asarray(lat, dtype=np.float64)
    lon[starts] = lon1
    lat[starts] = lat1
    return lon, lat


def _chord_deviation(
    lon1: FloatArray,
    lat1: FloatArray,
    lon2: FloatArray,
    lat2: FloatArray,
    az12: FloatArray,
    dist_m: FloatArray,
    n_seg: IntArray,
) -> FloatArray:
    """Largest distance (m) of a lon/lat chord midpoint from the geodesic, per edge."""
    node_lon, node_lat = _edge_nodes(lon1, lat1, az12, dist_m, n_seg)
    ends = np.cumsum(n_seg)
    starts = ends - n_seg
    # Chord k of an edge joins node k and node k + 1 (the edge's end vertex for the last).
    next_lon = np.roll(node_lon, -1)
    next_lat = np.roll(node_lat, -1)
    next_lon[ends - 1] = lon2
    next_lat[ends - 1] = lat2
    mid_lon = 0.5 * (node_lon + next_lon)
    mid_lat = 0.5 * (node_lat + next_lat)

    edge = np.repeat(np.arange(len(n_seg)), n_seg)
    k = np.arange(int(n_seg.sum()), dtype=np.float64) - starts[edge]
    s_mid = (k + 0.5) / n_seg[edge] * dist_m[edge]
    g_lon, g_lat, back_az = _GEOD.fwd(lon1[edge], lat1[edge], az12[edge], s_mid)
    line_az = np.asarray(back_az, dtype=np.float64) + 180.0
    az_to_mid, _, d_m = _GEOD.inv(g_lon, g_lat, mid_lon, mid_lat)
    # A geodesic has no sideways curvature, so near the point on it the distance from
    # the geodesic is the across-track part of the offset.
    across_m = np.asarray(d_m, dtype=np.float64) * np.abs(
        np.sin(np.radians(np.asarray(az_to_mid, dtype=np.float64) - line_az))
    )
    return np.maximum.reduceat(across_m, starts)


def _continue_lon(lon: FloatArray, ref_lon: FloatArray) -> FloatArray:
    """Shift each ``lon`` by a multiple of 360 to within 180 degrees of ``ref_lon``."""
    return ref_lon + (np.mod(lon - ref_lon + 180.0, 360.0) - 180.0)
