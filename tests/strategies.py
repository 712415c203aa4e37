"""Shared hypothesis strategies and independent reference helpers for the test suite.

In the manner of ``polars.testing.parametric``: composable strategies that draw whole
inputs (:class:`~patrolwatch.core.tracks.Tracks`, :class:`~patrolwatch.core.zones.Zones`)
for property tests, e.g.::

    @given(scene=scenes())
    def test_visits_are_time_ordered(scene: Scene) -> None:
        ev = crossings(scene.tracks, scene.zones)

Coverage, by design:

- anchors near the antimeridian (|lon| within 1 degree of 180) and at high latitudes (up to
  +/-80 degrees) are drawn with the same weight as anywhere on the globe;
- tracks have 1 to ``max_fixes`` fixes, so single-fix tracks occur;
- **duplicate timestamps**: with ``duplicate_times=True`` a fix may be repeated exactly (same
  time, same position, a repeated message). Distinct positions at one time (a jump) are never
  drawn: their crossing semantics are not specified. With ``duplicate_times=False``
  (the default) every step advances time by at least 1 s;
- times are whole seconds (in ns) in 2017-2023, so geodesic midpoints fall on whole ns;
- zones are lon/lat boxes (``edges="lonlat"``, clipped to [-180, 180], never wrapping) and
  geodesic circles (a Point with ``buffer_m``), placed near the tracks so that crossings are
  common.

The reference helpers at the end compute positions along geodesics with ``geographiclib``
(Karney's algorithm, independent of patrolwatch's own code) and read :class:`Events` with
times as int64 ns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from geographiclib.geodesic import Geodesic
from hypothesis import strategies as st

from patrolwatch.core.events import Events
from patrolwatch.core.tracks import Tracks
from patrolwatch.core.zones import Zone, Zones

__all__ = [
    "GEOD",
    "NS_PER_S",
    "Scene",
    "anchors",
    "box_zones",
    "circle_zones",
    "event_rows",
    "geodesic_direct",
    "geodesic_distance_m",
    "point_along",
    "scenes",
    "track_fixes",
    "tracks",
    "tracks_to_arrays",
    "zones",
]

GEOD = Geodesic.WGS84
"""WGS84 ellipsoid of geographiclib, the independent reference for every geodesic value."""

NS_PER_S = 1_000_000_000
"""Nanoseconds per second."""

MAX_ABS_LAT_DEG = 80.0
"""Highest |latitude| of an anchor, degrees."""

T_MIN_S = 1_483_228_800  # 2017-01-01T00:00:00Z, seconds since the epoch
T_MAX_S = 1_704_067_200  # 2024-01-01T00:00:00Z


# --------------------------------------------------------------------------- reference helpers
def geodesic_distance_m(
    lon1_deg: float, lat1_deg: float, lon2_deg: float, lat2_deg: float
) -> float:
    """Geodesic distance on WGS84 in metres (geographiclib Inverse); arguments in (lon, lat)."""
    return float(GEOD.Inverse(lat1_deg, lon1_deg, lat2_deg, lon2_deg)["s12"])


def geodesic_direct(
    lon_deg: float, lat_deg: float, azi_deg: float, dist_m: float
) -> tuple[float, float, float]:
    """(lon, lat, forward azimuth there) after ``dist_m`` metres from a point at ``azi_deg``.

    geographiclib Direct; longitude returned in [-180, 180].
    """
    r = GEOD.Direct(lat_deg, lon_deg, azi_deg, dist_m)
    return float(r["lon2"]), float(r["lat2"]), float(r["azi2"])


def point_along(
    lon0_deg: float, lat0_deg: float, lon1_deg: float, lat1_deg: float, frac: float
) -> tuple[float, float]:
    """The point at ``frac`` (0..1) of the geodesic length from fix 0 toward fix 1.

    This is the motion model of the spec: constant speed along the WGS84 geodesic, i.e.
    geographiclib Direct from fix 0 with the Inverse azimuth, distance ``frac * s12``.
    """
    line = GEOD.InverseLine(lat0_deg, lon0_deg, lat1_deg, lon1_deg)
    p = line.Position(frac * line.s13)
    return float(p["lon2"]), float(p["lat2"])


def event_rows(events: Events) -> list[dict[str, Any]]:
    """Rows of ``events`` as dicts, with every timestamp column as int64 ns (None if null).

    Arrow timestamps are read as integers, so no precision is lost to ``datetime``.
    """
    table = events.to_arrow()
    cols: dict[str, list[Any]] = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        cols[name] = col.to_pylist()
    names = list(cols)
    return [dict(zip(names, values, strict=True)) for values in zip(*cols.values(), strict=True)]


def rows_by_pair(
    events: Events, evidence: frozenset[str]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Rows with ``evidence`` grouped by (track, zone), each list sorted by entry time
    (null first) then exit time (null last)."""
    big = np.iinfo(np.int64).max
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in event_rows(events):
        if r["evidence"] in evidence:
            out.setdefault((r["track_id"], r["zone_id"]), []).append(r)
    for rows in out.values():
        rows.sort(
            key=lambda r: (
                -big if r["entry_time"] is None else r["entry_time"],
                big if r["exit_time"] is None else r["exit_time"],
            )
        )
    return out


def tracks_to_arrays(tr: Tracks) -> dict[str, np.ndarray]:
    """Per-fix arrays of ``tr`` (``track_id``, ``t_ns``, ``lon_deg``, ``lat_deg``, ``alt_m``),
    in the sorted order of the table, ready for :meth:`Tracks.from_arrays`."""
    return {
        "track_id": tr.track_ids[tr.track_index],
        "t_ns": tr.t_ns.copy(),
        "lon_deg": tr.lon_deg.copy(),
        "lat_deg": tr.lat_deg.copy(),
        "alt_m": tr.alt_m.copy(),
    }


# --------------------------------------------------------------------------- strategies
def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def anchors(draw: st.DrawFn) -> tuple[float, float]:
    """A (lon, lat) anchor: anywhere, near the antimeridian, or at high latitude."""
    lon = draw(st.one_of(_floats(-180.0, 180.0), _floats(179.0, 180.0), _floats(-180.0, -179.0)))
    lat = draw(
        st.one_of(
            _floats(-MAX_ABS_LAT_DEG, MAX_ABS_LAT_DEG),
            _floats(70.0, MAX_ABS_LAT_DEG),
            _floats(-MAX_ABS_LAT_DEG, -70.0),
        )
    )
    return lon, lat


@dataclass(frozen=True)
class TrackFixes:
    """One drawn track: per-fix times (int64 ns) and positions (degrees)."""

    t_ns: list[int]
    lon_deg: list[float]
    lat_deg: list[float]


@st.composite
def track_fixes(
    draw: st.DrawFn,
    *,
    anchor: tuple[float, float],
    min_fixes: int = 1,
    max_fixes: int = 8,
    max_start_offset_m: float = 60_000.0,
    max_step_m: float = 60_000.0,
    max_step_s: int = 900,
    duplicate_times: bool = False,
) -> TrackFixes:
    """A random walk along geodesics starting within ``max_start_offset_m`` of ``anchor``.

    Each step draws an azimuth, a length in [0, ``max_step_m``] metres and a duration in
    [1, ``max_step_s``] whole seconds; the next fix is geographiclib Direct. A zero-length
    step is a stationary vehicle. With ``duplicate_times`` a fix may be repeated exactly.
    """
    n = draw(st.integers(min_fixes, max_fixes))
    t_s = draw(st.integers(T_MIN_S, T_MAX_S))
    azi = draw(_floats(-180.0, 180.0))
    off = draw(_floats(0.0, max_start_offset_m))
    lon, lat, _ = geodesic_direct(anchor[0], anchor[1], azi, off)
    t_out, lon_out, lat_out = [t_s * NS_PER_S], [lon], [lat]
    for _ in range(n - 1):
        if duplicate_times and draw(st.booleans()):
            t_out.append(t_out[-1])
            lon_out.append(lon_out[-1])
            lat_out.append(lat_out[-1])
            continue
        azi = draw(_floats(-180.0, 180.0))
        step_m = draw(st.one_of(st.just(0.0), _floats(0.0, max_step_m)))
        dt_s = draw(st.integers(1, max_step_s))
        lon, lat, _ = geodesic_direct(lon_out[-1], lat_out[-1], azi, step_m)
        t_out.append(t_out[-1] + dt_s * NS_PER_S)
        lon_out.append(lon)
        lat_out.append(lat)
    return TrackFixes(t_out, lon_out, lat_out)


@st.composite
def tracks(
    draw: st.DrawFn,
    *,
    anchor: tuple[float, float] | None = None,
    min_tracks: int = 1,
    max_tracks: int = 3,
    min_fixes: int = 1,
    max_fixes: int = 8,
    duplicate_times: bool = False,
) -> Tracks:
    """A :class:`Tracks` of ``min_tracks``..``max_tracks`` tracks ``"t0"``, ``"t1"``, ...

    All tracks start near one anchor (drawn with :func:`anchors` unless given); no altitude.
    """
    if anchor is None:
        anchor = draw(anchors())
    n_tracks = draw(st.integers(min_tracks, max_tracks))
    ids: list[str] = []
    t_ns: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    for k in range(n_tracks):
        fx = draw(
            track_fixes(
                anchor=anchor,
                min_fixes=min_fixes,
                max_fixes=max_fixes,
                duplicate_times=duplicate_times,
            )
        )
        ids += [f"t{k}"] * len(fx.t_ns)
        t_ns += fx.t_ns
        lon += fx.lon_deg
        lat += fx.lat_deg
    return Tracks.from_arrays(
        np.asarray(ids, dtype=str),
        np.asarray(t_ns, dtype=np.int64),
        np.asarray(lon, dtype=np.float64),
        np.asarray(lat, dtype=np.float64),
        sources=("strategy.csv",),
    )


@st.composite
def box_zones(draw: st.DrawFn, *, anchor: tuple[float, float], zone_id: str = "box") -> Zone:
    """A lon/lat box (``edges="lonlat"``) of 0.05..3 degrees a side, near ``anchor``.

    The box is kept within lon [-180, 180] (shifted, never wrapped) and lat [-89, 89].
    """
    w = draw(_floats(0.05, 3.0))
    h = draw(_floats(0.05, 3.0))
    cx = anchor[0] + draw(_floats(-1.0, 1.0))
    cy = anchor[1] + draw(_floats(-0.5, 0.5))
    x0 = min(max(cx - w / 2, -180.0), 180.0 - w)
    y0 = min(max(cy - h / 2, -89.0), 89.0 - h)
    return Zone(
        id=zone_id,
        name=f"box {zone_id}",
        kind="custom",
        claimants=("AAA",),
        geometry=shapely.box(x0, y0, x0 + w, y0 + h),
        edges="lonlat",
    )


@st.composite
def circle_zones(draw: st.DrawFn, *, anchor: tuple[float, float], zone_id: str = "circle") -> Zone:
    """A buffer zone: a Point within 60 km of ``anchor`` buffered by 1..50 km (geodesic)."""
    lon, lat, _ = geodesic_direct(
        anchor[0], anchor[1], draw(_floats(-180.0, 180.0)), draw(_floats(0.0, 60_000.0))
    )
    point = shapely.Point(lon, lat)
    return Zone(
        id=zone_id,
        name=f"circle {zone_id}",
        kind="territorial",
        claimants=("AAA",),
        geometry=point,
        buffer_m=draw(_floats(1_000.0, 50_000.0)),
        reference=point,
    )


@st.composite
def zones(
    draw: st.DrawFn, *, anchor: tuple[float, float], min_size: int = 0, max_size: int = 3
) -> Zones:
    """A :class:`Zones` of boxes and circles near ``anchor``, ids ``"z0"``, ``"z1"``, ..."""
    n = draw(st.integers(min_size, max_size))
    out = []
    for k in range(n):
        make = draw(st.sampled_from([box_zones, circle_zones]))
        out.append(draw(make(anchor=anchor, zone_id=f"z{k}")))
    return Zones(out)


@dataclass(frozen=True)
class Scene:
    """Tracks and zones drawn around one anchor."""

    tracks: Tracks
    zones: Zones
    anchor: tuple[float, float]


@st.composite
def scenes(
    draw: st.DrawFn,
    *,
    max_tracks: int = 3,
    max_fixes: int = 8,
    max_zones: int = 3,
    duplicate_times: bool = False,
) -> Scene:
    """Tracks (1..``max_tracks``) and zones (1..``max_zones``) around one drawn anchor."""
    anchor = draw(anchors())
    tr = draw(
        tracks(
            anchor=anchor,
            max_tracks=max_tracks,
            max_fixes=max_fixes,
            duplicate_times=duplicate_times,
        )
    )
    zs = draw(zones(anchor=anchor, min_size=1, max_size=max_zones))
    return Scene(tr, zs, anchor)
