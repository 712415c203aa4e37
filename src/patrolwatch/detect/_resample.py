"""Shared machinery of the joint-activity detectors (formations, encounters, loitering, gaps).

* :class:`Resampler` puts tracks on a common UTC time grid (multiples of ``grid_s`` since
  the Unix epoch), by linear interpolation between two consecutive fixes of a track that
  are at most a per-track limit apart; it works chunk by chunk in time so that memory
  stays bounded however long the input is.
* :class:`CellIndex` finds close pairs among the samples of one or many grid steps at once
  with a spatial grid: one int64 key per (step, cell), one sort, and ``searchsorted`` for
  the neighbouring cells. No pair of samples farther apart than the cell size is missed.
* small grouped helpers: runs of consecutive steps, grouped medians, interpolation of
  tracks at arbitrary times, ``file:line`` provenance strings.

Everything works on whole arrays; the only Python loops are over time chunks, neighbour
offsets and fixed iteration counts, never over fixes or tracks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..core.geodesy import inv, wrap180
from ..core.tracks import Tracks
from ..units import NS_PER_S, WGS84_A_M

__all__ = [
    "NEIGHBOURS_3X3",
    "CellGrid",
    "CellIndex",
    "GridSamples",
    "Resampler",
    "bridge_limits_ns",
    "expand_ranges",
    "fast_distance_m",
    "group_median",
    "interp_at",
    "join_strings",
    "median_interval_ns",
    "runs",
    "source_rows",
    "within",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

WGS84_E2 = 0.0066943799901413165
"""First eccentricity squared of the WGS84 ellipsoid."""

TARGET_CHUNK_SAMPLES = 2_000_000
"""About how many grid samples one time chunk holds (bounds memory, not results)."""

_FAST_MAX_LAT_DEG = 85.0
"""Above this |latitude| the local flat distance is not trusted as a pre-filter."""


# =============================================================================== distances
def fast_distance_m(lon1_deg: F64, lat1_deg: F64, lon2_deg: F64, lat2_deg: F64) -> F64:
    """Local flat-earth distance on the WGS84 ellipsoid, metres (for short distances).

    The meridional and normal radii of curvature at the mean latitude scale the latitude
    and longitude differences. For points a few kilometres apart below 85 degrees of
    latitude the relative error is below 1e-3; it is used as a pre-filter and for speeds,
    never for reported distances (those come from :func:`~patrolwatch.core.geodesy.inv`).

    Examples
    --------
    >>> d = fast_distance_m(np.array([0.0]), np.array([0.0]), np.array([0.0]),
    ...                     np.array([0.01]))
    >>> round(float(d[0]), 1)  # geodesic: 1105.7 m
    1105.7
    """
    phi = np.radians(0.5 * (lat1_deg + lat2_deg))
    w = 1.0 - WGS84_E2 * np.sin(phi) ** 2
    m_rad = WGS84_A_M * (1.0 - WGS84_E2) / w**1.5
    n_rad = WGS84_A_M / np.sqrt(w)
    dy = np.radians(lat2_deg - lat1_deg) * m_rad
    dx = np.radians(_wrap_if_needed(lon2_deg - lon1_deg)) * n_rad * np.cos(phi)
    return np.asarray(np.hypot(dx, dy), dtype=np.float64)


def _wrap_if_needed(lon_deg: F64) -> F64:
    """``wrap180`` only when some value is outside [-180, 180) (the common case is not)."""
    if lon_deg.size and (lon_deg.min() < -180.0 or lon_deg.max() >= 180.0):
        return wrap180(lon_deg)
    return lon_deg


def _parallel_radius_m(lat_deg: F64) -> F64:
    """Radius of the parallel at a latitude on WGS84 (distance to the axis), metres."""
    phi = np.radians(np.clip(lat_deg, -90.0, 90.0))
    return np.asarray(
        WGS84_A_M * np.cos(phi) / np.sqrt(1.0 - WGS84_E2 * np.sin(phi) ** 2), dtype=np.float64
    )


# =============================================================================== small helpers
def expand_ranges(lo: I64, hi: I64) -> tuple[I64, I64]:
    """All ``(owner, position)`` with ``lo[owner] <= position < hi[owner]``, owner-major.

    Examples
    --------
    >>> o, p = expand_ranges(np.array([0, 5]), np.array([2, 8]))
    >>> o.tolist(), p.tolist()
    ([0, 0, 1, 1, 1], [0, 1, 5, 6, 7])
    """
    counts = np.maximum(hi - lo, 0).astype(np.int64)
    owner = np.repeat(np.arange(lo.shape[0], dtype=np.int64), counts)
    if owner.size == 0:
        return owner, owner.copy()
    first = np.cumsum(counts) - counts
    pos = np.arange(owner.size, dtype=np.int64) - first[owner] + lo[owner]
    return owner, pos.astype(np.int64)


def runs(code: I64, step: I64) -> tuple[I64, I64]:
    """Runs of consecutive steps: ``(first, last)`` indices of each maximal run.

    ``code`` and ``step`` must be sorted by ``(code, step)``; a run continues while the
    code is unchanged and the step grows by exactly one.

    Examples
    --------
    >>> f, l = runs(np.array([1, 1, 1, 2, 2]), np.array([4, 5, 7, 7, 8]))
    >>> f.tolist(), l.tolist()
    ([0, 2, 3], [1, 2, 4])
    """
    n = code.shape[0]
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e.copy()
    brk = (code[1:] != code[:-1]) | (step[1:] != step[:-1] + 1)
    first = np.concatenate([[0], np.flatnonzero(brk) + 1]).astype(np.int64)
    last = np.concatenate([first[1:] - 1, [n - 1]]).astype(np.int64)
    return first, last


def group_median(values: F64, group: I64, n_groups: int) -> F64:
    """Median of ``values`` per group ``0..n_groups-1`` (NaNs ignored; NaN for empty groups).

    Examples
    --------
    >>> group_median(np.array([3.0, 1.0, 2.0, 10.0, np.nan]), np.array([0, 0, 0, 1, 1]), 3)
    array([ 2., 10., nan])
    """
    ok = ~np.isnan(values)
    v, g = values[ok], group[ok]
    out = np.full(n_groups, np.nan)
    if v.size == 0:
        return out
    order = np.lexsort((v, g))
    v, g = v[order], g[order]
    counts = np.bincount(g, minlength=n_groups)
    start = np.cumsum(counts) - counts
    has = counts > 0
    lo = start[has] + (counts[has] - 1) // 2
    hi = start[has] + counts[has] // 2
    out[has] = 0.5 * (v[lo] + v[hi])
    return out


def median_interval_ns(tracks: Tracks) -> I64:
    """Per track, the median interval between consecutive fixes with different times, ns,
    at 1 ms resolution (0 for a track with fewer than two distinct times)."""
    n = len(tracks)
    out = np.zeros(tracks.n_tracks, dtype=np.int64)
    if n < 2:
        return out
    tix = tracks.track_index
    dt = np.diff(tracks.t_ns)
    keep = (tix[1:] == tix[:-1]) & (dt > 0)
    trk = tix[:-1][keep]
    dt_ms = np.minimum(dt[keep] // 1_000_000, 2**40 - 1)
    if tracks.n_tracks >= 2**22:  # composite key would overflow: the slower general path
        med = group_median(dt_ms.astype(np.float64), trk, tracks.n_tracks)
    else:
        # one sort of (track, interval) packed in an int64 instead of a lexsort
        key = np.sort((trk << 40) | dt_ms)
        counts = np.bincount(trk, minlength=tracks.n_tracks)
        start = np.cumsum(counts) - counts
        has = counts > 0
        lo = start[has] + (counts[has] - 1) // 2
        hi = start[has] + counts[has] // 2
        mask = np.int64(2**40 - 1)
        med = np.full(tracks.n_tracks, np.nan)
        med[has] = 0.5 * ((key[lo] & mask) + (key[hi] & mask))
    ok = ~np.isnan(med)
    out[ok] = np.round(med[ok] * 1_000_000).astype(np.int64)
    return out


def bridge_limits_ns(tracks: Tracks, max_gap_s: float, *, plus_median_interval: bool) -> I64:
    """Per track, the longest interval between two fixes that is interpolated across, ns.

    ``max_gap_s``, plus the track's median reporting interval when
    ``plus_median_interval`` (so that a gap counts as a drop-out only beyond the track's
    usual cadence, and a track reporting every few minutes is still continuous).
    """
    base = np.full(tracks.n_tracks, round(max_gap_s * NS_PER_S), dtype=np.int64)
    if plus_median_interval:
        base = base + median_interval_ns(tracks)
    return base


def _bracket(tracks: Tracks, track: I64, t_ns: I64) -> I64:
    """Per query, the index of the last fix of ``track`` at or before ``t_ns`` (-1 if none
    of the track's fixes is; the track's first fix index minus one)."""
    lo = tracks.offsets[track].copy()
    hi = tracks.offsets[track + 1].copy()
    t = tracks.t_ns
    # vectorised binary search: the loop is over halvings, not over queries
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        midc = np.where(active, mid, 0)
        go_right = active & (t[midc] <= t_ns)
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)
    return np.asarray(lo - 1, dtype=np.int64)


def interp_at(tracks: Tracks, track: I64, t_ns: I64) -> tuple[F64, F64, F64, I64, I64]:
    """Positions of tracks at given times, linear in time between the bracketing fixes.

    Parameters
    ----------
    tracks : Tracks
    track : ndarray of int64
        Track index of each query.
    t_ns : ndarray of int64, UTC ns
        Time of each query; clamped to the track's first and last fix.

    Returns
    -------
    lon_deg, lat_deg, alt_m : ndarray of float64
        Interpolated position (longitudes across the antimeridian are handled; the altitude
        is NaN where a bracketing fix lacks it, unless the other has it).
    fix_a, fix_b : ndarray of int64
        The bracketing fixes (equal when the time is at or outside a fix).
    """
    first = tracks.offsets[track]
    last = tracks.offsets[track + 1] - 1
    a = np.clip(_bracket(tracks, track, t_ns), first, last)
    b = np.minimum(a + 1, last)
    ta, tb = tracks.t_ns[a], tracks.t_ns[b]
    span = (tb - ta).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(span > 0, (t_ns - ta).astype(np.float64) / span, 0.0)
    f = np.clip(f, 0.0, 1.0)
    b = np.where(f > 0, b, a)
    lon, lat, alt, _ = _lerp(tracks, a, b, f)
    return lon, lat, alt, a.astype(np.int64), b.astype(np.int64)


def _lerp_nan(va: F64, vb: F64, f: F64) -> F64:
    """Linear interpolation; where one end is NaN the other end's value is used."""
    out = va + f * (vb - va)
    out = np.where(np.isnan(va), vb, out)
    return np.asarray(np.where(np.isnan(vb), va, out), dtype=np.float64)


def _lerp(tracks: Tracks, a: I64, b: I64, f: F64) -> tuple[F64, F64, F64, F64]:
    lon_a = tracks.lon_deg[a]
    lon = _wrap_if_needed(lon_a + f * _wrap_if_needed(tracks.lon_deg[b] - lon_a))
    lat = tracks.lat_deg[a] + f * (tracks.lat_deg[b] - tracks.lat_deg[a])
    alt = _lerp_nan(tracks.alt_m[a], tracks.alt_m[b], f)
    spd = _lerp_nan(tracks.speed_mps[a], tracks.speed_mps[b], f)
    return lon, np.asarray(lat, dtype=np.float64), alt, spd


# =============================================================================== resampling
@dataclass(frozen=True)
class GridSamples:
    """Track positions at grid steps (one element per (track, step)), sorted by track, step.

    ``t = step * grid_ns`` (UTC ns). ``speed_mps`` is the reported speed interpolated (NaN
    where unknown); ``move_mps`` the path speed through the grid positions over a window of
    steps around the sample (NaN for an isolated sample).
    """

    track: I64
    step: I64
    lon_deg: F64
    lat_deg: F64
    alt_m: F64
    speed_mps: F64
    move_mps: F64
    fix_a: I64
    fix_b: I64

    def __len__(self) -> int:
        return int(self.step.shape[0])

    def renumbered(self, track_of: I64) -> GridSamples:
        """The same samples with track numbers ``track_of[track]`` (e.g. from a
        subset's numbering back to the whole input's)."""
        return dataclasses.replace(self, track=track_of[self.track])

    def take(self, idx: B | I64) -> GridSamples:
        """The subset ``idx`` (mask or indices)."""
        return GridSamples(
            self.track[idx],
            self.step[idx],
            self.lon_deg[idx],
            self.lat_deg[idx],
            self.alt_m[idx],
            self.speed_mps[idx],
            self.move_mps[idx],
            self.fix_a[idx],
            self.fix_b[idx],
        )

    @classmethod
    def concat(cls, parts: list[GridSamples]) -> GridSamples:
        """Samples of all parts, in order."""
        if not parts:
            e = np.zeros(0, dtype=np.int64)
            f = np.zeros(0)
            return cls(e, e, f, f, f, f, f, e, e)
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS))


_FIELDS = (
    "track",
    "step",
    "lon_deg",
    "lat_deg",
    "alt_m",
    "speed_mps",
    "move_mps",
    "fix_a",
    "fix_b",
)


class Resampler:
    """Tracks on a common time grid, by chunk of steps.

    Parameters
    ----------
    tracks : Tracks
    grid_ns : int
        Grid spacing, ns; steps are ``t = step * grid_ns`` (UTC, aligned to the epoch).
    limit_ns : ndarray of int64, one per track
        Longest interval between two consecutive fixes that is interpolated across; a grid
        time inside a longer interval has no sample for that track.
    window_half_steps : int
        Half-width, in steps, of the window over which ``move_mps`` is measured.

    Notes
    -----
    A grid time equal to a fix time takes the fix's position. Positions are interpolated
    linearly in longitude (across the antimeridian) and latitude: between fixes ``L``
    metres apart the path differs from the geodesic by about ``L**2 tan(lat) / (8 R)``,
    under 10 m for ``L`` = 30 km below 60 degrees of latitude.
    """

    def __init__(
        self, tracks: Tracks, *, grid_ns: int, limit_ns: I64, window_half_steps: int = 1
    ) -> None:
        self.tracks = tracks
        self.grid_ns = int(grid_ns)
        self.w = max(int(window_half_steps), 1)
        n = len(tracks)
        if n >= 2:
            tix = tracks.track_index
            dt = np.diff(tracks.t_ns)
            ok = (tix[1:] == tix[:-1]) & (dt <= limit_ns[tix[:-1]])
            a = np.flatnonzero(ok).astype(np.int64)
        else:
            a = np.zeros(0, dtype=np.int64)
        g = self.grid_ns
        k_lo = -((-tracks.t_ns[a]) // g)  # ceil
        k_hi = tracks.t_ns[a + 1] // g if a.size else np.zeros(0, dtype=np.int64)
        has = k_hi >= k_lo
        a, k_lo, k_hi = a[has], k_lo[has], k_hi[has]
        order = np.argsort(k_lo, kind="stable")
        self.a = a[order]
        self.k_lo = k_lo[order]
        self.k_hi = k_hi[order]
        self.max_span = int((self.k_hi - self.k_lo).max()) if self.a.size else 0
        self.n_samples_est = int((self.k_hi - self.k_lo + 1).sum()) if self.a.size else 0

    @property
    def step_range(self) -> tuple[int, int]:
        """``(first, last + 1)`` step with any sample (``(0, 0)`` when none)."""
        if self.a.size == 0:
            return 0, 0
        return int(self.k_lo.min()), int(self.k_hi.max()) + 1

    def chunks(self, target_samples: int | None = None) -> Iterator[tuple[int, int]]:
        """Consecutive step ranges ``[k0, k1)`` covering all samples, each holding about
        ``target_samples`` (default :data:`TARGET_CHUNK_SAMPLES`) samples; boundaries
        follow the data's density in time. Results never depend on the chunking."""
        if target_samples is None:
            target_samples = TARGET_CHUNK_SAMPLES
        k_first, k_end = self.step_range
        if k_end <= k_first:
            return
        # samples per segment, in order of first step: cut where the running total
        # crosses multiples of the target
        cum = np.cumsum(self.k_hi - self.k_lo + 1)
        n_chunks = max(int(np.ceil(cum[-1] / max(target_samples, 1))), 1)
        cut = np.searchsorted(cum, target_samples * np.arange(1, n_chunks))
        inner = self.k_lo[np.minimum(cut, self.k_lo.size - 1)]
        bounds = np.unique(np.concatenate([[k_first], inner, [k_end]]))
        bounds = bounds[(bounds >= k_first) & (bounds <= k_end)]
        for k0, k1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            yield int(k0), int(k1)  # loop over time chunks, vectorised inside

    def samples(self, k0: int, k1: int) -> GridSamples:
        """All samples with ``k0 <= step < k1``, sorted by (track, step)."""
        w = self.w
        lo_k, hi_k = k0 - w, k1 + w  # halo for the movement window
        i0 = int(np.searchsorted(self.k_lo, lo_k - self.max_span, side="left"))
        i1 = int(np.searchsorted(self.k_lo, hi_k, side="left"))
        sel = np.arange(i0, i1)
        sel = sel[self.k_hi[sel] >= lo_k]
        a = np.sort(self.a[sel])
        # re-find k ranges of the selected segments in (track, time) order
        g = self.grid_ns
        t = self.tracks.t_ns
        s_lo = np.maximum(-((-t[a]) // g), lo_k)
        s_hi = np.minimum(t[a + 1] // g, hi_k - 1)
        owner, k = expand_ranges(s_lo, s_hi + 1)
        seg = a[owner]
        tix = self.tracks.track_index
        trk = tix[seg]
        if k.size:
            dup = np.zeros(k.size, dtype=bool)
            dup[1:] = (trk[1:] == trk[:-1]) & (k[1:] == k[:-1])
            keep = ~dup
            seg, trk, k = seg[keep], trk[keep], k[keep]
        ta = t[seg]
        span = (t[seg + 1] - ta).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(span > 0, (k * g - ta).astype(np.float64) / span, 0.0)
        lon, lat, alt, spd = _lerp(self.tracks, seg, seg + 1, f)
        fa = seg.astype(np.int64)
        fb = np.where(f > 0, seg + 1, seg).astype(np.int64)
        fa = np.where(f >= 1.0, fb, fa)
        move = _movement(trk, k, lon, lat, w, g)
        core = (k >= k0) & (k < k1)
        return GridSamples(
            trk[core],
            k[core],
            lon[core],
            lat[core],
            alt[core],
            spd[core],
            move[core],
            fa[core],
            fb[core],
        )

    def all_samples(self) -> GridSamples:
        """Every sample (use for few tracks; large inputs go chunk by chunk)."""
        k0, k1 = self.step_range
        return self.samples(k0, k1) if k1 > k0 else GridSamples.concat([])


def _movement(trk: I64, k: I64, lon: F64, lat: F64, w: int, grid_ns: int) -> F64:
    """Path speed (m/s) of each sample: the length of the path through the grid positions
    up to ``w`` steps either side (within its run of consecutive steps) over that time.
    NaN for an isolated sample."""
    n = k.shape[0]
    out = np.full(n, np.nan)
    if n == 0:
        return out
    first, last = runs(trk, k)
    run_id = np.repeat(np.arange(first.size), last - first + 1)
    step_m = np.zeros(n)
    if n > 1:
        same = np.zeros(n, dtype=bool)
        same[1:] = run_id[1:] == run_id[:-1]
        idx = np.flatnonzero(same)
        step_m[idx] = fast_distance_m(lon[idx - 1], lat[idx - 1], lon[idx], lat[idx])
    cum = np.cumsum(step_m)
    i = np.arange(n)
    j0 = np.maximum(i - w, first[run_id])
    j1 = np.minimum(i + w, last[run_id])
    ok = j1 > j0
    out[ok] = (cum[j1[ok]] - cum[j0[ok]]) / ((k[j1[ok]] - k[j0[ok]]) * (grid_ns / NS_PER_S))
    return out


# =============================================================================== spatial index
class CellGrid:
    """Spatial cells of at least ``cell_m`` metres on WGS84, in latitude rows.

    Rows are ``cell_m`` tall; each row is cut into equal longitude cells wide enough that
    two points less than ``cell_m`` apart (geodesic) whose rows are at most one apart have
    longitude cells at most one apart (bound: the geodesic is at least the chord between
    the points' parallels). Rows near the poles are a single cell.

    Parameters
    ----------
    cell_m : float, metres, > 0
    """

    def __init__(self, cell_m: float) -> None:
        self.cell_m = float(cell_m)
        self.dlat = self.cell_m / 110_574.0 * 1.001  # >= one cell_m of latitude anywhere
        self.n_rows = int(np.ceil(180.0 / self.dlat)) + 1
        r = np.arange(self.n_rows)
        lat_lo = -90.0 + (r - 1) * self.dlat
        lat_hi = -90.0 + (r + 2) * self.dlat
        worst = np.minimum(np.maximum(np.abs(lat_lo), np.abs(lat_hi)), 90.0)
        radius = _parallel_radius_m(worst)
        ratio = self.cell_m * 1.001 / np.maximum(2.0 * radius, 1e-9)
        need = np.where(ratio < 1.0, np.degrees(2.0 * np.arcsin(np.minimum(ratio, 1.0))), 360.0)
        n_cols = np.floor(360.0 / np.maximum(need, 1e-12)).astype(np.int64)
        self.n_cols = np.where(n_cols >= 3, n_cols, 1).astype(np.int64)
        self.dlon = 360.0 / self.n_cols
        self.max_cols = int(self.n_cols.max())
        self.n_cells = self.n_rows * self.max_cols

    def row(self, lat_deg: F64) -> I64:
        """Row of each latitude."""
        row = np.floor((lat_deg + 90.0) / self.dlat).astype(np.int64)
        return np.asarray(np.clip(row, 0, self.n_rows - 1), dtype=np.int64)

    def col(self, lon_deg: F64, row: I64) -> I64:
        """Column of each longitude in the given rows."""
        x = (_wrap_if_needed(lon_deg) + 180.0) / self.dlon[row]
        return np.asarray(np.floor(x).astype(np.int64) % self.n_cols[row], dtype=np.int64)

    def cell(self, lon_deg: F64, lat_deg: F64) -> I64:
        """Cell code (``row * max_cols + col``) of each point."""
        row = self.row(lat_deg)
        return np.asarray(row * self.max_cols + self.col(lon_deg, row), dtype=np.int64)

    def neighbour(self, lon_deg: F64, row: I64, dr: int, dc: int) -> tuple[I64, B]:
        """Cell code of the neighbour (row + dr, column of the longitude in that row + dc),
        and whether it exists (rows beyond the poles and repeated one-cell rows do not)."""
        r2 = row + dr
        ok = (r2 >= 0) & (r2 < self.n_rows)
        r2 = np.where(ok, r2, 0)
        ncol = self.n_cols[r2]
        if dc != 0:
            ok &= ncol >= 3
        c2 = (self.col(lon_deg, r2) + dc) % ncol
        return np.asarray(r2 * self.max_cols + c2, dtype=np.int64), ok


NEIGHBOURS_3X3: tuple[tuple[int, int], ...] = tuple(
    (dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
)
"""The 3 x 3 neighbourhood of a cell, (row offset, column offset)."""


class CellIndex:
    """Samples binned by (grid step, spatial cell) for close-pair search.

    Parameters
    ----------
    step : ndarray of int64
    lon_deg, lat_deg : ndarray of float64, degrees
    cell_m : float, metres, > 0
        Cell size (see :class:`CellGrid`): every pair closer than ``cell_m`` at one step
        is in neighbouring cells.
    """

    def __init__(self, step: I64, lon_deg: F64, lat_deg: F64, cell_m: float) -> None:
        self.grid = CellGrid(cell_m)
        self.step_min = int(step.min()) if step.size else 0
        self.step_max = step_max = int(step.max()) if step.size else -1
        if (step_max - self.step_min + 2) * self.grid.n_cells >= 2**62:
            raise OverflowError("too many (step, cell) keys for int64; use shorter chunks")
        cell = self.grid.cell(lon_deg, lat_deg)
        key = self._key(step, cell)
        self.order = np.argsort(key, kind="stable").astype(np.int64)
        keys = key[self.order]
        # distinct keys and where each starts in the sorted order: one lookup per query
        if keys.size:
            new = np.ones(keys.size, dtype=bool)
            new[1:] = keys[1:] != keys[:-1]
            self.ukeys = keys[new]
            self.ustart = np.append(np.flatnonzero(new), keys.size).astype(np.int64)
        else:
            self.ukeys = keys
            self.ustart = np.zeros(1, dtype=np.int64)
        self.row = self.grid.row(lat_deg)
        self.lon = lon_deg
        self.lat = lat_deg
        self.step = step

    def _key(self, step: I64, cell: I64) -> I64:
        return np.asarray((step - self.step_min) * self.grid.n_cells + cell, dtype=np.int64)

    def _lookup(self, step: I64, lon: F64, row: I64, dr: int, dc: int) -> tuple[I64, I64]:
        """For each query, the sorted-order range of cell (row + dr, its column + dc)."""
        cell, ok = self.grid.neighbour(lon, row, dr, dc)
        key = self._key(step, cell)
        u = np.searchsorted(self.ukeys, key).astype(np.int64)
        uc = np.minimum(u, max(self.ukeys.size - 1, 0))
        ok &= u < self.ukeys.size
        if self.ukeys.size:
            ok &= self.ukeys[uc] == key
        lo = self.ustart[uc]
        hi = np.where(ok, self.ustart[uc + 1], lo)
        return lo, hi

    def pairs(self) -> tuple[I64, I64]:
        """Candidate pairs ``(i, j)`` of indexed samples at the same step in neighbouring
        cells, each unordered pair once (``i != j``). Every pair closer than ``cell_m``
        is among them."""
        o = self.order
        step, lon, row = self.step[o], self.lon[o], self.row[o]
        out_i: list[I64] = []
        out_j: list[I64] = []
        # same row: own cell (later positions only) and the next cell; the row above: the
        # three cells around. Every neighbouring pair is then met exactly once.
        for dr, dc in ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1)):
            lo, hi = self._lookup(step, lon, row, dr, dc)
            if dr == 0 and dc == 0:
                lo = np.maximum(lo, np.arange(lo.shape[0]) + 1)
            owner, pos = expand_ranges(lo, hi)
            out_i.append(o[owner])
            out_j.append(o[pos])
        return np.concatenate(out_i), np.concatenate(out_j)

    def query(self, step: I64, lon_deg: F64, lat_deg: F64) -> tuple[I64, I64]:
        """Candidate pairs ``(query index, indexed sample)`` at the same step in the 3 x 3
        neighbouring cells of each query point."""
        valid = (step >= self.step_min) & (step <= self.step_max)
        sel = np.flatnonzero(valid)
        # queries in key order: searchsorted is much faster on sorted queries
        qo = sel[np.argsort(self._key(step[sel], self.grid.cell(lon_deg[sel], lat_deg[sel])))]
        stp, lon = step[qo], lon_deg[qo]
        row = self.grid.row(lat_deg[qo])
        out_q: list[I64] = []
        out_r: list[I64] = []
        for dr, dc in NEIGHBOURS_3X3:
            lo, hi = self._lookup(stp, lon, row, dr, dc)
            owner, pos = expand_ranges(lo, hi)
            out_q.append(qo[owner])
            out_r.append(self.order[pos])
        return np.concatenate(out_q), np.concatenate(out_r)


def within(lon1: F64, lat1: F64, lon2: F64, lat2: F64, max_m: float) -> tuple[B, F64]:
    """Which point pairs are at most ``max_m`` apart (geodesic), and their distances (m).

    A cheap flat distance discards the clearly farther pairs; the rest get the exact
    geodesic distance (pyproj ``Geod``). Distances of discarded pairs are ``inf``.
    """
    d = np.full(lon1.shape[0], np.inf)
    if lon1.shape[0] == 0:
        return np.zeros(0, dtype=bool), d
    flat = fast_distance_m(lon1, lat1, lon2, lat2)
    polar = np.maximum(np.abs(lat1), np.abs(lat2)) > _FAST_MAX_LAT_DEG
    cand = polar | (flat <= max_m * 1.01 + 1.0)
    idx = np.flatnonzero(cand)
    if idx.size:
        d[idx] = inv(lon1[idx], lat1[idx], lon2[idx], lat2[idx])[1]
    return d <= max_m, d


# =============================================================================== text columns
def join_strings(owner: I64, values: npt.NDArray[np.object_], n: int, sep: str = ";") -> pa.Array:
    """``sep``-joined ``values`` per owner ``0..n-1`` (in the given order; ``""`` if none).

    ``owner`` must be sorted.
    """
    counts = np.bincount(owner, minlength=n) if owner.size else np.zeros(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.string()))
    return pc.binary_join(lists, sep)


def source_rows(tracks: Tracks, owner: I64, fix: I64, n: int) -> pa.Array:
    """``file:line;file:line`` naming fixes ``fix`` of each owner (event) ``0..n-1``, sorted
    by file and line, without repeats."""
    names = np.asarray(tracks.sources if tracks.sources else ("<memory>",), dtype=object)
    ok = fix >= 0
    owner, fix = owner[ok], fix[ok]
    key = (
        np.unique(
            np.stack([owner, tracks.src_file[fix].astype(np.int64), tracks.src_line[fix]]), axis=1
        )
        if owner.size
        else np.zeros((3, 0), dtype=np.int64)
    )
    text = np.char.add(np.char.add(names[key[1]].astype(str), ":"), key[2].astype(str)).astype(
        object
    )
    return join_strings(key[0], text, n)
