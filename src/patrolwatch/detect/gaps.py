"""Reporting gaps: silences of a track, where they began and ended, and how honest they are.

A *gap* is an interval between two consecutive fixes of one track longer than
``min_gap_s``. Typical thresholds (the CLI chooses by source): :data:`AIS_MIN_GAP_S`
(6 hours) for AIS, :data:`ADSB_MIN_GAP_S` (5 minutes) for ADS-B.

For each gap patrolwatch reports:

* the fixes either side (time, position), the geodesic distance between them and the
  implied speed across the gap;
* **zones** (when ``zones`` are given): ``start_zone``/``end_zone`` list the zones the
  track was inside at the last fix before and the first fix after the silence,
  ``path_zone`` the zones the geodesic between them passes through, and ``near_zone`` the
  zones whose edge is within ``near_m`` of either end without containing it ("went dark
  just before entering"). Inside and near are decided by
  :func:`~patrolwatch.detect.crossings.crossings` (vertical limits included);
* **shared gaps**: ``shared_with`` lists the other tracks whose own gap began and ended
  within ``shared_s`` (5 minutes) of this one's, and which were within ``shared_m``
  (10 km) of this track when the earlier of the two gaps began: a formation going silent
  together is reported together;
* **coverage**: whether the data heard *other* tracks around the silent one while it was
  silent. The time of the gap is cut into bins of ``min_gap_s / COVERAGE_BINS``; around
  each end of the gap, the 3 x 3 block of cells of ``coverage_cell_m`` (50 km) is looked
  at, and ``coverage`` is the largest fraction, over those cells, of the bins strictly
  inside the gap in which at least one other fix was reported in the cell. ``label`` is
  ``dark`` when ``coverage >= min_coverage`` (0.5): others were heard nearby for at least
  half of the silence, so the receivers were listening; otherwise ``low coverage``: the
  silence may be the receivers', not the track's.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..core.events import TIME_TYPE, Events
from ..core.geodesy import inv
from ..core.tracks import Tracks
from ..core.zones import Zones
from ..errors import ConfigError, check_nonneg, check_positive
from ..units import NS_PER_S
from ._resample import (
    NEIGHBOURS_3X3,
    CellGrid,
    CellIndex,
    interp_at,
    join_strings,
    source_rows,
    within,
)

__all__ = [
    "ADSB_MIN_GAP_S",
    "AIS_MIN_GAP_S",
    "COVERAGE_BINS",
    "DEFAULT_COVERAGE_CELL_M",
    "DEFAULT_MIN_COVERAGE",
    "DEFAULT_NEAR_M",
    "DEFAULT_SHARED_M",
    "DEFAULT_SHARED_S",
    "GAP_SCHEMA",
    "gaps",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

AIS_MIN_GAP_S = 6 * 3600.0
"""Suggested ``min_gap_s`` for AIS, seconds (6 hours)."""
ADSB_MIN_GAP_S = 300.0
"""Suggested ``min_gap_s`` for ADS-B, seconds (5 minutes)."""
DEFAULT_NEAR_M = 30_000.0
"""A gap end within this distance of a zone's edge is ``near`` it, metres."""
DEFAULT_SHARED_S = 300.0
"""Two gaps are shared when their starts and their ends are this close in time, seconds."""
DEFAULT_SHARED_M = 10_000.0
"""... and their starts this close in space, metres (twice a formation's 5 km)."""
DEFAULT_COVERAGE_CELL_M = 50_000.0
"""Cell size of the coverage measure, metres."""
DEFAULT_MIN_COVERAGE = 0.5
"""Smallest coverage for a gap to be labelled ``dark``."""
COVERAGE_BINS = 10
"""``min_gap_s`` is cut into this many coverage bins."""
SHARED_SEARCH_SPEED_MPS = 350.0
"""Fastest motion allowed for between the starts of two shared gaps when searching for
candidates, m/s (faster than any airliner; affects speed only, not results, for slower
tracks)."""

GAP_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("track_id", pa.string()),
        ("start_time", TIME_TYPE),
        ("end_time", TIME_TYPE),
        ("duration_s", pa.float64()),
        ("start_lat", pa.float64()),
        ("start_lon", pa.float64()),
        ("end_lat", pa.float64()),
        ("end_lon", pa.float64()),
        ("dist_m", pa.float64()),
        ("implied_speed_mps", pa.float64()),
        ("start_zone", pa.string()),
        ("end_zone", pa.string()),
        ("path_zone", pa.string()),
        ("near_zone", pa.string()),
        ("shared_with", pa.string()),
        ("label", pa.string()),
        ("coverage", pa.float64()),
        ("source_rows", pa.string()),
    ]
)
"""Columns of gap events (``kind="gap"``). Zone columns are ``;``-joined zone ids (null
when no zones were given); ``label`` is ``dark`` or ``low coverage``."""


def gaps(
    tracks: Tracks,
    *,
    min_gap_s: float,
    zones: Zones | None = None,
    near_m: float = DEFAULT_NEAR_M,
    shared_s: float = DEFAULT_SHARED_S,
    shared_m: float = DEFAULT_SHARED_M,
    coverage_cell_m: float = DEFAULT_COVERAGE_CELL_M,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> Events:
    """Every silence longer than ``min_gap_s`` of every track.

    Parameters
    ----------
    tracks : Tracks
    min_gap_s : float, seconds, > 0
        A gap is an interval between consecutive fixes strictly longer than this
        (:data:`AIS_MIN_GAP_S` for AIS, :data:`ADSB_MIN_GAP_S` for ADS-B).
    zones : Zones, optional
        Zones to relate the gap's ends and path to.
    near_m : float, metres, >= 0
        Distance from a zone's edge within which an end is ``near`` it.
    shared_s : float, seconds, >= 0
        Largest difference of start times and of end times of two shared gaps.
    shared_m : float, metres, > 0
        Largest distance between two tracks with shared gaps when the earlier gap starts.
    coverage_cell_m : float, metres, > 0
        Cell size of the coverage measure.
    min_coverage : float, in [0, 1]
        Smallest coverage of a ``dark`` gap.

    Returns
    -------
    Events
        ``kind="gap"``, columns of :data:`GAP_SCHEMA`, sorted by track then start time.
        Empty when there is no gap.

    Raises
    ------
    ConfigError
        For a negative, zero (where positive is required) or non-finite threshold.

    Notes
    -----
    * Fixes with equal times never make a gap; unsorted input cannot occur (``Tracks`` is
      sorted by track and time).
    * A track's silence before its first fix or after its last is not a gap: the data
      cannot tell a silence from a track that had not started.
    * ``implied_speed_mps`` is the geodesic distance over the gap's duration: the slowest
      speed at which the track could have gone from one end to the other.
    * ``source_rows`` names the two fixes around the gap.

    Examples
    --------
    >>> tr = Tracks.from_arrays(["A", "A", "A"], [0, 60 * 10**9, 3660 * 10**9],
    ...                         [130.0, 130.0, 130.5], [37.0, 37.01, 37.0])
    >>> ev = gaps(tr, min_gap_s=300.0)  # ADSB_MIN_GAP_S, the ADS-B default
    >>> ev.column("duration_s"), ev.column("label")
    ([3600.0], ['low coverage'])
    """
    check_positive("min_gap_s", min_gap_s)
    check_nonneg("near_m", near_m)
    check_nonneg("shared_s", shared_s)
    check_positive("shared_m", shared_m)
    check_positive("coverage_cell_m", coverage_cell_m)
    if not (0.0 <= min_coverage <= 1.0):
        raise ConfigError(f"min_coverage must be in [0, 1], got {min_coverage!r}")
    n_fix = len(tracks)
    if n_fix < 2:
        return Events(GAP_SCHEMA.empty_table())
    tix = tracks.track_index
    dt = np.diff(tracks.t_ns)
    a = np.flatnonzero((tix[1:] == tix[:-1]) & (dt > min_gap_s * NS_PER_S)).astype(np.int64)
    if a.size == 0:
        return Events(GAP_SCHEMA.empty_table())
    b = a + 1
    n = a.size
    trk = tix[a]
    t0, t1 = tracks.t_ns[a], tracks.t_ns[b]
    lon0, lat0 = tracks.lon_deg[a], tracks.lat_deg[a]
    lon1, lat1 = tracks.lon_deg[b], tracks.lat_deg[b]
    dist = inv(lon0, lat0, lon1, lat1)[1]
    dur_s = (t1 - t0) / NS_PER_S
    shared = _shared(tracks, trk, t0, t1, lon0, lat0, shared_s, shared_m)
    coverage = _coverage(tracks, t0, t1, lon0, lat0, lon1, lat1, min_gap_s, coverage_cell_m)
    label = np.where(coverage >= min_coverage, "dark", "low coverage").astype(object)
    if zones is not None:
        z_start, z_end, z_path, z_near = _zone_columns(tracks, a, b, zones, near_m)
    else:
        z_start = z_end = z_path = z_near = pa.nulls(n, pa.string())
    cols: dict[str, pa.Array] = {
        "kind": pa.array(["gap"] * n, pa.string()),
        "track_id": pa.array(tracks.track_ids[trk].astype(object), pa.string()),
        "start_time": pa.array(t0, TIME_TYPE),
        "end_time": pa.array(t1, TIME_TYPE),
        "duration_s": pa.array(dur_s),
        "start_lat": pa.array(lat0),
        "start_lon": pa.array(lon0),
        "end_lat": pa.array(lat1),
        "end_lon": pa.array(lon1),
        "dist_m": pa.array(dist),
        "implied_speed_mps": pa.array(dist / dur_s),
        "start_zone": z_start,
        "end_zone": z_end,
        "path_zone": z_path,
        "near_zone": z_near,
        "shared_with": shared,
        "label": pa.array(label, pa.string()),
        "coverage": pa.array(coverage),
        "source_rows": source_rows(tracks, np.tile(np.arange(n), 2), np.concatenate([a, b]), n),
    }
    table = pa.table(cols, schema=GAP_SCHEMA)
    order = np.lexsort((t0, tracks.track_ids[trk].astype(str)))
    return Events(table.take(pa.array(order)))


# =============================================================================== shared gaps
def _shared(
    tracks: Tracks,
    trk: I64,
    t0: I64,
    t1: I64,
    lon0: F64,
    lat0: F64,
    shared_s: float,
    shared_m: float,
) -> pa.Array:
    """Per gap, the ``;``-joined other tracks whose gap started and ended within
    ``shared_s`` of it, and that were within ``shared_m`` of it when the earlier of the two
    gaps started (the other track's position there is interpolated between its fixes)."""
    n = trk.size
    shared_ns = shared_s * NS_PER_S
    bin_ns = max(round(shared_ns), 1)
    tbin = t0 // bin_ns
    # candidates: neighbouring time bins, cells wide enough for the tracks' motion
    idx = CellIndex(tbin, lon0, lat0, shared_m + shared_s * SHARED_SEARCH_SPEED_MPS)
    qs: list[I64] = []
    rs: list[I64] = []
    for db in (-1, 0, 1):
        q, r = idx.query(tbin + db, lon0, lat0)
        qs.append(q)
        rs.append(r)
    q, r = np.concatenate(qs), np.concatenate(rs)
    ok = (trk[q] != trk[r]) & (np.abs(t0[q] - t0[r]) <= shared_ns)
    ok &= np.abs(t1[q] - t1[r]) <= shared_ns
    q, r = q[ok], r[ok]
    t_star = np.minimum(t0[q], t0[r])
    qlon, qlat, _, _, _ = interp_at(tracks, trk[q], t_star)
    rlon, rlat, _, _, _ = interp_at(tracks, trk[r], t_star)
    close, _ = within(qlon, qlat, rlon, rlat, shared_m)
    q, r = q[close], r[close]
    rank = np.empty(tracks.n_tracks, dtype=np.int64)
    by_rank = np.argsort(tracks.track_ids, kind="stable")
    rank[by_rank] = np.arange(tracks.n_tracks)
    pair = np.unique(q * tracks.n_tracks + rank[trk[r]])
    owner = pair // tracks.n_tracks
    other = by_rank[pair % tracks.n_tracks]
    return join_strings(owner, tracks.track_ids[other].astype(object), n)


# =============================================================================== coverage
def _coverage(
    tracks: Tracks,
    t0: I64,
    t1: I64,
    lon0: F64,
    lat0: F64,
    lon1: F64,
    lat1: F64,
    min_gap_s: float,
    cell_m: float,
) -> F64:
    """Largest fraction of the gap's inner time bins with another fix in a cell around
    either end (see the module docstring)."""
    grid = CellGrid(cell_m)
    bin_ns = max(round(min_gap_s * NS_PER_S / COVERAGE_BINS), 1)
    b_min = int(tracks.t_ns.min() // bin_ns)
    n_bins = int(tracks.t_ns.max() // bin_ns) - b_min + 3
    if grid.n_cells * n_bins >= 2**62:
        raise ConfigError("coverage_cell_m too small for the time span of the data")
    # heard (cell, bin) keys, cell-major so that one cell's bins are contiguous
    heard = np.unique(
        grid.cell(tracks.lon_deg, tracks.lat_deg) * n_bins + (tracks.t_ns // bin_ns - b_min)
    )
    lo_bin = t0 // bin_ns - b_min + 1  # bins strictly inside the gap
    hi_bin = t1 // bin_ns - b_min - 1
    inner = np.maximum(hi_bin - lo_bin + 1, 0)
    best = np.zeros(t0.size, dtype=np.int64)
    for lon, lat in ((lon0, lat0), (lon1, lat1)):  # the two ends
        row = grid.row(lat)
        for dr, dc in NEIGHBOURS_3X3:
            cell, ok = grid.neighbour(lon, row, dr, dc)
            lo = np.searchsorted(heard, cell * n_bins + lo_bin, side="left")
            hi = np.searchsorted(heard, cell * n_bins + hi_bin, side="right")
            best = np.maximum(best, np.where(ok & (inner > 0), hi - lo, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.where(inner > 0, best / np.maximum(inner, 1), 0.0)
    return np.asarray(cov, dtype=np.float64)


# =============================================================================== zones
def _zone_columns(
    tracks: Tracks, a: I64, b: I64, zones: Zones, near_m: float
) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """start_zone, end_zone, path_zone and near_zone of each gap (fix ``a`` -> fix ``b``)."""
    from .crossings import crossings  # local: crossings is heavy and optional here

    n = a.size
    num = np.char.zfill(np.arange(n).astype(str), 9)
    # probes: s<i> = the last fix before, e<i> = the first fix after, p<i> = both (path)
    ids = np.concatenate(
        [np.char.add("s", num), np.char.add("e", num), np.char.add("p", num), np.char.add("p", num)]
    )
    fix = np.concatenate([a, b, a, b])
    probe = Tracks.from_arrays(
        ids,
        tracks.t_ns[fix],
        tracks.lon_deg[fix],
        tracks.lat_deg[fix],
        alt_m=tracks.alt_m[fix],
    )
    extra = max((z.buffer_m for z in zones if z.is_buffer), default=0.0)
    table = crossings(probe, zones, near_m=near_m + extra + 1.0).to_arrow()
    zone_ids = np.asarray(zones.ids, dtype=str)
    z_order = np.argsort(zone_ids)
    out: list[pa.Array] = []
    tid = np.asarray(table.column("track_id").to_numpy(zero_copy_only=False), dtype="<U10")
    zid = np.asarray(table.column("zone_id").to_numpy(zero_copy_only=False), dtype=str)
    evidence = np.asarray(table.column("evidence").to_numpy(zero_copy_only=False), dtype=str)
    near_d = pc.coalesce(table.column("closest_edge_m"), table.column("closest_m"))
    near_d = np.asarray(near_d.to_numpy(zero_copy_only=False), dtype=np.float64)
    # probe ids are "<kind><9 digits>": split them without a loop
    chars = tid.view("<U1").reshape(-1, 10)
    kind = chars[:, 0]
    digits = chars[:, 1:].astype(np.int64)
    gap_ix = digits @ (10 ** np.arange(8, -1, -1, dtype=np.int64))
    zix = z_order[np.searchsorted(zone_ids[z_order], zid)] if zid.size else gap_ix
    visit = (evidence == "observed") | (evidence == "interpolated")
    is_near = (evidence == "near") & (near_d <= near_m)
    for mask in (
        visit & (kind == "s"),
        visit & (kind == "e"),
        visit & (kind == "p"),
        is_near & ((kind == "s") | (kind == "e")),
    ):
        key = np.unique(gap_ix[mask] * len(zones) + zix[mask])
        g, z = key // len(zones), key % len(zones)
        o = np.lexsort((zone_ids[z], g))
        out.append(join_strings(g[o], zone_ids[z[o]].astype(object), n))
    return out[0], out[1], out[2], out[3]
