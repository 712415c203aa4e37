"""Encounters and loitering of vessels (Global Fishing Watch's definitions as defaults).

Model
-----
Tracks are resampled to a common grid (``grid_s``, default 10 minutes, steps at multiples
of ``grid_s`` since the epoch) by linear interpolation between consecutive fixes, never
across a silence longer than ``max_gap_s`` (default 1 hour): a longer silence leaves the
vessel off the grid, and any event running through it ends.

* **Encounter**: two vessels within ``max_dist_m`` (500 m, geodesic) at every grid step
  of a run lasting at least ``min_duration_s`` (2 h, last step minus first), whose median
  speeds over the run are each below ``max_median_speed_mps`` (2 kn), and, when a
  ``coast`` is given, whose midpoint stays at least ``min_coast_dist_m`` (10 km) from it
  at every step. A sample's speed is the reported speed, or the path speed through the
  grid positions one step either side when none is reported.
* **Loitering**: one vessel whose average speed over every grid interval (distance
  between consecutive grid positions over ``grid_s``) is below ``max_speed_mps`` (2 kn)
  for at least ``min_duration_s`` (4 h), and, when a ``coast`` is given, at least
  ``min_coast_dist_m`` (20 NM) from it at every grid step.

The coast is a shapely geometry in lon/lat degrees, usually land polygons (a port or an
anchorage may be added as points or polygons). Distances to it are geodesic (WGS84); a
point on land is at distance 0. Positions are rounded to 0.001 degree (at most 79 m)
before the distance is measured, so that vessels at anchor cost one measurement. Without
a coast the criterion is skipped and ``coast_rule`` says so: berthed vessels then meet
the definitions too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import shapely
from shapely.geometry.base import BaseGeometry

from ..core.events import TIME_TYPE, Events
from ..core.geodesy import wrap180
from ..core.tracks import Tracks
from ..errors import ConfigError, check_nonneg, check_positive
from ..units import KT_MPS, NM_M, NS_PER_S
from ._geometry import Feature, Frame
from ._resample import (
    CellIndex,
    GridSamples,
    Resampler,
    bridge_limits_ns,
    fast_distance_m,
    group_median,
    interp_at,
    runs,
    source_rows,
    within,
)

__all__ = [
    "ENCOUNTER_MAX_DIST_M",
    "ENCOUNTER_MAX_MEDIAN_SPEED_MPS",
    "ENCOUNTER_MIN_COAST_DIST_M",
    "ENCOUNTER_MIN_DURATION_S",
    "ENCOUNTER_SCHEMA",
    "LOITERING_MAX_SPEED_MPS",
    "LOITERING_MIN_COAST_DIST_M",
    "LOITERING_MIN_DURATION_S",
    "LOITERING_SCHEMA",
    "SHIP_GRID_S",
    "SHIP_MAX_GAP_S",
    "encounters",
    "loitering",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

ENCOUNTER_MAX_DIST_M = 500.0
"""Largest distance between two vessels in an encounter, metres (GFW)."""
ENCOUNTER_MIN_DURATION_S = 2 * 3600.0
"""Shortest encounter, seconds (GFW: 2 hours)."""
ENCOUNTER_MAX_MEDIAN_SPEED_MPS = 2 * KT_MPS
"""Median speed of each vessel during an encounter is below this, m/s (GFW: 2 knots)."""
ENCOUNTER_MIN_COAST_DIST_M = 10_000.0
"""Encounters are at least this far from the coast, metres (GFW: 10 km from anchorages)."""
LOITERING_MAX_SPEED_MPS = 2 * KT_MPS
"""Loitering vessels average less than this over every grid interval, m/s (2 knots)."""
LOITERING_MIN_DURATION_S = 4 * 3600.0
"""Shortest loitering event, seconds (GFW: 4 hours)."""
LOITERING_MIN_COAST_DIST_M = 20 * NM_M
"""Loitering is at least this far from the coast, metres (GFW: 20 nautical miles)."""
SHIP_GRID_S = 600.0
"""Spacing of the vessels' time grid, seconds (10 minutes)."""
SHIP_MAX_GAP_S = 3600.0
"""Longest silence interpolated across, seconds (1 hour)."""

COAST_ROUND_DEG = 1e-3
"""Positions are rounded to this many degrees before measuring the coast distance."""
COAST_SEARCH_FACTOR = 2.0
"""``coast_dist_m`` is measured up to this many times the minimum distance (null beyond)."""

_COMMON = [
    ("start_time", TIME_TYPE),
    ("end_time", TIME_TYPE),
    ("duration_s", pa.float64()),
    ("start_lat", pa.float64()),
    ("start_lon", pa.float64()),
    ("end_lat", pa.float64()),
    ("end_lon", pa.float64()),
    ("lat", pa.float64()),
    ("lon", pa.float64()),
]

ENCOUNTER_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("track_id", pa.string()),
        ("track_a", pa.string()),
        ("track_b", pa.string()),
        *_COMMON,
        ("median_dist_m", pa.float64()),
        ("min_dist_m", pa.float64()),
        ("median_speed_a_mps", pa.float64()),
        ("median_speed_b_mps", pa.float64()),
        ("coast_dist_m", pa.float64()),
        ("coast_rule", pa.string()),
        ("source_rows", pa.string()),
    ]
)
"""Columns of encounter events (``kind="encounter"``); ``track_id`` is ``track_a;track_b``
(in sorted order); ``lat``/``lon`` is the median midpoint of the two vessels."""

LOITERING_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("track_id", pa.string()),
        *_COMMON,
        ("mean_speed_mps", pa.float64()),
        ("max_interval_speed_mps", pa.float64()),
        ("coast_dist_m", pa.float64()),
        ("coast_rule", pa.string()),
        ("source_rows", pa.string()),
    ]
)
"""Columns of loitering events (``kind="loitering"``); ``lat``/``lon`` is the median
position."""


# =============================================================================== public
def encounters(
    tracks: Tracks,
    *,
    max_dist_m: float = ENCOUNTER_MAX_DIST_M,
    min_duration_s: float = ENCOUNTER_MIN_DURATION_S,
    max_median_speed_mps: float = ENCOUNTER_MAX_MEDIAN_SPEED_MPS,
    min_coast_dist_m: float = ENCOUNTER_MIN_COAST_DIST_M,
    coast: BaseGeometry | None = None,
    grid_s: float = SHIP_GRID_S,
    max_gap_s: float = SHIP_MAX_GAP_S,
) -> Events:
    """Pairs of vessels that stay together, slowly, away from the coast.

    Parameters
    ----------
    tracks : Tracks
    max_dist_m : float, metres, > 0
        Largest geodesic distance between the two vessels at every grid step.
    min_duration_s : float, seconds, >= 0
        Shortest encounter (last grid step minus first).
    max_median_speed_mps : float, m/s, > 0
        Each vessel's median speed over the encounter is below this.
    min_coast_dist_m : float, metres, >= 0
        With ``coast``: the vessels' midpoint is at least this far from it at every step.
    coast : shapely geometry, lon/lat degrees, optional
        Land polygons (and/or anchorages). Without it the coast rule is skipped.
    grid_s : float, seconds, > 0
        Spacing of the time grid.
    max_gap_s : float, seconds, >= 0
        Longest interval between two fixes that is interpolated across.

    Returns
    -------
    Events
        ``kind="encounter"``, columns of :data:`ENCOUNTER_SCHEMA`, one row per encounter,
        sorted by start time then track ids. Empty when none.

    Raises
    ------
    ConfigError
        For a negative, zero (where positive is required) or non-finite threshold.

    Notes
    -----
    ``start_*``/``end_*`` are the first and last grid steps of the run and the vessels'
    midpoint at those times. ``coast_dist_m`` is the smallest distance of the midpoint to
    the coast over the encounter (null without a coast, or when farther than
    :data:`COAST_SEARCH_FACTOR` times ``min_coast_dist_m``). ``source_rows`` names the
    fixes bracketing both vessels at the start and end.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 3 * 3600 + 1, 600) * 1_000_000_000
    >>> n = t.size
    >>> tr = Tracks.from_arrays(["A"] * n + ["B"] * n, np.r_[t, t],
    ...                         np.full(2 * n, 150.0), np.r_[[10.0] * n, [10.002] * n])
    >>> ev = encounters(tr)
    >>> ev.column("track_id"), ev.column("duration_s"), ev.column("coast_rule")
    (['A;B'], [10800.0], ['skipped: no coast given'])
    """
    check_positive("max_dist_m", max_dist_m)
    check_positive("max_median_speed_mps", max_median_speed_mps)
    _check_ship_params(min_duration_s, min_coast_dist_m, grid_s, max_gap_s)
    if tracks.n_tracks < 2:
        return Events(ENCOUNTER_SCHEMA.empty_table())
    g_ns, rs, coast_m = _ship_grid(tracks, grid_s, max_gap_s, coast, min_coast_dist_m)
    ints: dict[str, list[I64]] = {"ta": [], "tb": [], "k": []}
    flts: dict[str, list[F64]] = {"d": [], "mlon": [], "mlat": [], "va": [], "vb": []}
    for k0, k1 in rs.chunks():  # time chunks, each vectorised over all tracks
        s = rs.samples(k0, k1)
        if len(s) < 2:
            continue
        idx = CellIndex(s.step, s.lon_deg, s.lat_deg, max_dist_m)
        i, j = idx.pairs()
        ok, d = within(s.lon_deg[i], s.lat_deg[i], s.lon_deg[j], s.lat_deg[j], max_dist_m)
        i, j, d = i[ok], j[ok], d[ok]
        swap = s.track[i] > s.track[j]
        i, j = np.where(swap, j, i), np.where(swap, i, j)
        mlon, mlat = _midpoint(s.lon_deg[i], s.lat_deg[i], s.lon_deg[j], s.lat_deg[j])
        spd = _sample_speed(s)
        for name, ivals in (("ta", s.track[i]), ("tb", s.track[j]), ("k", s.step[i])):
            ints[name].append(ivals)
        for name, fvals in (
            ("d", d),
            ("mlon", mlon),
            ("mlat", mlat),
            ("va", spd[i]),
            ("vb", spd[j]),
        ):
            flts[name].append(fvals)
    if not ints["k"]:
        return Events(ENCOUNTER_SCHEMA.empty_table())
    ic = {name: _cat_i(v) for name, v in ints.items()}
    fc = {name: _cat_f(v) for name, v in flts.items()}
    fc["cdist"] = np.full(ic["k"].size, np.nan)
    if coast_m is not None:
        fc["cdist"] = coast_m(fc["mlon"], fc["mlat"])
        far = ~(fc["cdist"] < min_coast_dist_m)
        ic = {name: v[far] for name, v in ic.items()}
        fc = {name: v[far] for name, v in fc.items()}
    n_tr = tracks.n_tracks
    order = np.lexsort((ic["k"], ic["ta"] * n_tr + ic["tb"]))
    ic = {name: v[order] for name, v in ic.items()}
    fc = {name: v[order] for name, v in fc.items()}
    ta, tb, k = ic["ta"], ic["tb"], ic["k"]
    d, mlon, mlat, va, vb, cdist = (
        fc["d"],
        fc["mlon"],
        fc["mlat"],
        fc["va"],
        fc["vb"],
        fc["cdist"],
    )
    code = ta * n_tr + tb
    first, last = runs(code, k)
    long_enough = (k[last] - k[first]) * g_ns >= min_duration_s * NS_PER_S - 0.5
    run_id = np.repeat(np.arange(first.size), last - first + 1)
    med_a = group_median(va, run_id, first.size)
    med_b = group_median(vb, run_id, first.size)
    keep = long_enough & (med_a < max_median_speed_mps) & (med_b < max_median_speed_mps)
    sel = np.flatnonzero(keep)
    if sel.size == 0:
        return Events(ENCOUNTER_SCHEMA.empty_table())
    in_sel = keep[run_id]
    rid = np.searchsorted(sel, run_id[in_sel])
    n = sel.size
    f, lst = first[sel], last[sel]
    med_d = group_median(d[in_sel], rid, n)
    min_d = np.full(n, np.inf)
    np.minimum.at(min_d, rid, d[in_sel])
    lat_med = group_median(mlat[in_sel], rid, n)
    ref = mlon[f]
    lon_med = wrap180(ref + group_median(wrap180(mlon[in_sel] - ref[rid]), rid, n))
    c_min = np.full(n, np.inf)
    np.minimum.at(c_min, rid, np.where(np.isnan(cdist[in_sel]), np.inf, cdist[in_sel]))
    a_tr, b_tr = ta[f], tb[f]
    t0, t1 = k[f] * g_ns, k[lst] * g_ns
    rule = (
        f"applied: midpoint >= {min_coast_dist_m:g} m from the coast"
        if coast_m is not None
        else "skipped: no coast given"
    )
    # positions and bracketing fixes at start and end (midpoint of the two vessels)
    pos = _pair_positions(tracks, a_tr, b_tr, t0, t1)
    ids = tracks.track_ids.astype(object)
    owner = np.tile(np.arange(n), 8)
    src = source_rows(tracks, owner, np.concatenate(pos.fixes), n)
    cols: dict[str, pa.Array] = {
        "kind": pa.array(["encounter"] * n, pa.string()),
        "track_id": pa.array(
            np.char.add(np.char.add(ids[a_tr].astype(str), ";"), ids[b_tr].astype(str)),
            pa.string(),
        ),
        "track_a": pa.array(ids[a_tr], pa.string()),
        "track_b": pa.array(ids[b_tr], pa.string()),
        **_common_cols(t0, t1, pos.lon0, pos.lat0, pos.lon1, pos.lat1, lat_med, lon_med),
        "median_dist_m": pa.array(med_d),
        "min_dist_m": pa.array(min_d),
        "median_speed_a_mps": pa.array(med_a[sel]),
        "median_speed_b_mps": pa.array(med_b[sel]),
        "coast_dist_m": _nullable(c_min),
        "coast_rule": pa.array([rule] * n, pa.string()),
        "source_rows": src,
    }
    table = pa.table(cols, schema=ENCOUNTER_SCHEMA)
    order = np.lexsort((ids[b_tr].astype(str), ids[a_tr].astype(str), t0))
    return Events(table.take(pa.array(order)))


def loitering(
    tracks: Tracks,
    *,
    max_speed_mps: float = LOITERING_MAX_SPEED_MPS,
    min_duration_s: float = LOITERING_MIN_DURATION_S,
    min_coast_dist_m: float = LOITERING_MIN_COAST_DIST_M,
    coast: BaseGeometry | None = None,
    grid_s: float = SHIP_GRID_S,
    max_gap_s: float = SHIP_MAX_GAP_S,
) -> Events:
    """Vessels that stay slow for hours away from the coast.

    Parameters
    ----------
    tracks : Tracks
    max_speed_mps : float, m/s, > 0
        Every grid interval's average speed is below this.
    min_duration_s : float, seconds, >= 0
        Shortest event (from its first to its last grid step).
    min_coast_dist_m : float, metres, >= 0
        With ``coast``: every grid position of the event is at least this far from it.
    coast : shapely geometry, lon/lat degrees, optional
        Land polygons (and/or anchorages). Without it the coast rule is skipped.
    grid_s : float, seconds, > 0
    max_gap_s : float, seconds, >= 0
        Longest interval between two fixes that is interpolated across.

    Returns
    -------
    Events
        ``kind="loitering"``, columns of :data:`LOITERING_SCHEMA`, one row per event,
        sorted by track then start time. Empty when none.

    Raises
    ------
    ConfigError
        For a negative, zero (where positive is required) or non-finite threshold.

    Notes
    -----
    Requiring every 10-minute interval (not only the whole event) to average below the
    threshold keeps a vessel that drifts slowly, then transits for an hour, from forming
    one long event. ``mean_speed_mps`` is the path length over the event's duration.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 5 * 3600 + 1, 600) * 1_000_000_000
    >>> tr = Tracks.from_arrays(["A"] * t.size, t, np.full(t.size, 150.0),
    ...                         10.0 + np.arange(t.size) * 1e-4)
    >>> ev = loitering(tr)
    >>> ev.column("track_id"), ev.column("duration_s")
    (['A'], [18000.0])
    """
    check_positive("max_speed_mps", max_speed_mps)
    _check_ship_params(min_duration_s, min_coast_dist_m, grid_s, max_gap_s)
    g_ns, rs, coast_m = _ship_grid(tracks, grid_s, max_gap_s, coast, min_coast_dist_m)
    ints: dict[str, list[I64]] = {"trk": [], "k": []}
    flts: dict[str, list[F64]] = {"lon": [], "lat": [], "v": [], "cd": []}
    for k0, k1 in rs.chunks():  # time chunks, vectorised over tracks
        s = rs.samples(k0, k1 + 1)  # one more step: intervals starting at k1 - 1
        if len(s) < 2:
            continue
        nxt = np.flatnonzero(
            (s.track[1:] == s.track[:-1]) & (s.step[1:] == s.step[:-1] + 1) & (s.step[:-1] < k1)
        )
        a, b = nxt, nxt + 1
        v = fast_distance_m(s.lon_deg[a], s.lat_deg[a], s.lon_deg[b], s.lat_deg[b]) / grid_s
        slow = v < max_speed_mps
        a, b, v = a[slow], b[slow], v[slow]
        cd = np.full(a.size, np.nan)
        if coast_m is not None and a.size:
            cd = np.fmin(coast_m(s.lon_deg[a], s.lat_deg[a]), coast_m(s.lon_deg[b], s.lat_deg[b]))
            far = ~(cd < min_coast_dist_m)
            a, b, v, cd = a[far], b[far], v[far], cd[far]
        ints["trk"].append(s.track[a])
        ints["k"].append(s.step[a])
        for name, fvals in (("lon", s.lon_deg[a]), ("lat", s.lat_deg[a]), ("v", v), ("cd", cd)):
            flts[name].append(fvals)
    if not ints["k"]:
        return Events(LOITERING_SCHEMA.empty_table())
    trk0, k0_ = _cat_i(ints["trk"]), _cat_i(ints["k"])
    order = np.lexsort((k0_, trk0))
    trk, k = trk0[order], k0_[order]
    lon, lat = _cat_f(flts["lon"])[order], _cat_f(flts["lat"])[order]
    v, cd = _cat_f(flts["v"])[order], _cat_f(flts["cd"])[order]
    step_m = v * grid_s
    first, last = runs(trk, k)
    # interval runs: the event spans from the first interval's start to the last's end
    long_enough = (k[last] + 1 - k[first]) * g_ns >= min_duration_s * NS_PER_S - 0.5
    sel = np.flatnonzero(long_enough)
    if sel.size == 0:
        return Events(LOITERING_SCHEMA.empty_table())
    run_id = np.repeat(np.arange(first.size), last - first + 1)
    in_sel = long_enough[run_id]
    rid = np.searchsorted(sel, run_id[in_sel])
    n = sel.size
    f, lst = first[sel], last[sel]
    t0, t1 = k[f] * g_ns, (k[lst] + 1) * g_ns
    dur_s = (t1 - t0) / NS_PER_S
    path_m = np.bincount(rid, weights=step_m[in_sel], minlength=n)
    vmax = np.full(n, -np.inf)
    np.maximum.at(vmax, rid, v[in_sel])
    c_min = np.full(n, np.inf)
    np.minimum.at(c_min, rid, np.where(np.isnan(cd[in_sel]), np.inf, cd[in_sel]))
    lat_med = group_median(lat[in_sel], rid, n)
    ref = lon[f]
    lon_med = wrap180(ref + group_median(wrap180(lon[in_sel] - ref[rid]), rid, n))
    tr = trk[f]
    lon0, lat0, _, a0, b0 = interp_at(tracks, tr, t0)
    lon1, lat1, _, a1, b1 = interp_at(tracks, tr, t1)
    src = source_rows(tracks, np.tile(np.arange(n), 4), np.concatenate([a0, b0, a1, b1]), n)
    rule = (
        f"applied: >= {min_coast_dist_m:g} m from the coast"
        if coast_m is not None
        else "skipped: no coast given"
    )
    cols: dict[str, pa.Array] = {
        "kind": pa.array(["loitering"] * n, pa.string()),
        "track_id": pa.array(tracks.track_ids[tr].astype(object), pa.string()),
        **_common_cols(t0, t1, lon0, lat0, lon1, lat1, lat_med, lon_med),
        "mean_speed_mps": pa.array(path_m / dur_s),
        "max_interval_speed_mps": pa.array(vmax),
        "coast_dist_m": _nullable(c_min),
        "coast_rule": pa.array([rule] * n, pa.string()),
        "source_rows": src,
    }
    table = pa.table(cols, schema=LOITERING_SCHEMA)
    order = np.lexsort((t0, tracks.track_ids[tr].astype(str)))
    return Events(table.take(pa.array(order)))


# =============================================================================== helpers
def _check_ship_params(
    min_duration_s: float, min_coast_dist_m: float, grid_s: float, max_gap_s: float
) -> None:
    check_nonneg("min_duration_s", min_duration_s)
    check_nonneg("min_coast_dist_m", min_coast_dist_m)
    check_positive("grid_s", grid_s)
    check_nonneg("max_gap_s", max_gap_s)


def _ship_grid(
    tracks: Tracks,
    grid_s: float,
    max_gap_s: float,
    coast: BaseGeometry | None,
    min_coast_dist_m: float,
) -> tuple[int, Resampler, _CoastDistance | None]:
    """The grid both ship detectors work on: its step (ns), the resampler bridging
    silences up to ``max_gap_s``, and the coast distance (``None`` without a coast)."""
    g_ns = round(grid_s * NS_PER_S)
    limits = bridge_limits_ns(tracks, max_gap_s, plus_median_interval=False)
    rs = Resampler(tracks, grid_ns=g_ns, limit_ns=limits, window_half_steps=1)
    coast_m = _CoastDistance(coast, min_coast_dist_m) if coast is not None else None
    return g_ns, rs, coast_m


class _CoastDistance:
    """Geodesic distance (m) to a coast geometry, on positions rounded to
    :data:`COAST_ROUND_DEG`, measured up to ``COAST_SEARCH_FACTOR * min_m`` (inf beyond)."""

    def __init__(self, coast: BaseGeometry, min_m: float) -> None:
        if not isinstance(coast, BaseGeometry) or shapely.is_empty(coast):
            raise ConfigError("coast must be a non-empty shapely geometry in lon/lat degrees")
        self.feature = Feature(coast, Frame.for_geometry(coast))
        self.search_m = max(COAST_SEARCH_FACTOR * min_m, 1.0)

    def __call__(self, lon_deg: F64, lat_deg: F64) -> F64:
        if lon_deg.size == 0:
            return np.zeros(0)
        q = np.round(np.stack([wrap180(lon_deg), lat_deg]) / COAST_ROUND_DEG).astype(np.int64)
        uq, inverse = np.unique(q, axis=1, return_inverse=True)
        ulon = uq[0] * COAST_ROUND_DEG
        ulat = uq[1] * COAST_ROUND_DEG
        d = self.feature.distance(ulon, ulat, self.search_m)
        return np.asarray(d[inverse.ravel()], dtype=np.float64)


def _cat_i(parts: list[I64]) -> I64:
    return np.asarray(np.concatenate(parts), dtype=np.int64)


def _cat_f(parts: list[F64]) -> F64:
    return np.asarray(np.concatenate(parts), dtype=np.float64)


def _midpoint(lon1: F64, lat1: F64, lon2: F64, lat2: F64) -> tuple[F64, F64]:
    """Midpoint in lon/lat (exact enough for points under a few km apart)."""
    return wrap180(lon1 + 0.5 * wrap180(lon2 - lon1)), 0.5 * (lat1 + lat2)


def _sample_speed(s: GridSamples) -> F64:
    """Reported speed, or the path speed through the grid positions where none."""
    return np.asarray(np.where(np.isnan(s.speed_mps), s.move_mps, s.speed_mps), dtype=np.float64)


def _nullable(x: F64) -> pa.Array:
    bad = ~np.isfinite(x)
    return pa.array(np.where(bad, 0.0, x), pa.float64(), mask=bad)


def _common_cols(
    t0: I64, t1: I64, lon0: F64, lat0: F64, lon1: F64, lat1: F64, lat_med: F64, lon_med: F64
) -> dict[str, pa.Array]:
    return {
        "start_time": pa.array(t0, TIME_TYPE),
        "end_time": pa.array(t1, TIME_TYPE),
        "duration_s": pa.array((t1 - t0) / NS_PER_S),
        "start_lat": pa.array(lat0),
        "start_lon": pa.array(lon0),
        "end_lat": pa.array(lat1),
        "end_lon": pa.array(lon1),
        "lat": pa.array(lat_med),
        "lon": pa.array(lon_med),
    }


@dataclass
class _PairPositions:
    lon0: F64
    lat0: F64
    lon1: F64
    lat1: F64
    fixes: list[I64]


def _pair_positions(tracks: Tracks, a: I64, b: I64, t0: I64, t1: I64) -> _PairPositions:
    """Midpoints of two tracks at the start and end times, and the bracketing fixes."""
    la0, pa0, _, fa0, ga0 = interp_at(tracks, a, t0)
    lb0, pb0, _, fb0, gb0 = interp_at(tracks, b, t0)
    la1, pa1, _, fa1, ga1 = interp_at(tracks, a, t1)
    lb1, pb1, _, fb1, gb1 = interp_at(tracks, b, t1)
    lon0, lat0 = _midpoint(la0, pa0, lb0, pb0)
    lon1, lat1 = _midpoint(la1, pa1, lb1, pb1)
    return _PairPositions(lon0, lat0, lon1, lat1, [fa0, ga0, fb0, gb0, fa1, ga1, fb1, gb1])
