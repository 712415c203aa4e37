"""Detectors that compare tracks on a Dask cluster: time partitions with a halo.

``gaps``
--------
Time is cut into windows ``[b_j, b_j+1)`` whose boundaries are multiples of the grid
(``grid_s``, 10 s by default). A gap (two consecutive fixes of one track more than
``min_gap_s`` apart) is *owned* by the window holding its start. Window ``j``'s task gets,
for every track, its fixes in ``[b_j - H, E_j]`` plus its last fix before and its first
fix after that interval, so that every pair of consecutive fixes it sees is a pair of
consecutive fixes of the whole input:

* ``H`` = ``shared_s`` + one grid step: a shared gap of another track starts at most
  ``shared_s`` before an owned one (and ends within ``shared_s`` of it: its end fix is
  the track's next fix, always present);
* ``E_j`` = the latest end of a gap starting in the window (at least ``b_j+1 + H``): the
  coverage of a gap counts the fixes heard *during* it, however long it is. The ends are
  found by a first, track-partitioned pass.

Each window runs the unchanged :func:`patrolwatch.gaps` and keeps the gaps it owns. Per
track the windows' gaps come in time order, so the tables concatenated in window order
and sorted by ``track_id`` (stable) are the single-machine table.

``formations`` is in :mod:`patrolwatch.scale._formations` (same windows and halo idea;
it also merges episodes cut by a boundary).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..core.events import Events
from ..core.tracks import Tracks
from ..core.zones import Zones
from ..detect import gaps as _gaps_mod
from ..detect.formations import DEFAULT_GRID_S
from ..errors import ConfigError
from ..units import NS_PER_S
from .dask import (
    PartitionedEvents,
    PartitionedTracks,
    _as_partitioned,
    _concat_tracks,
    _gather,
    _maybe_sleep,
    _scatter,
)

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["OrderedEvents", "gaps", "time_bounds", "window_slice"]

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_GRID_NS = round(DEFAULT_GRID_S * NS_PER_S)


# =============================================================================== windows
def time_bounds(t_min_ns: int, t_max_ns: int, n_windows: int, grid_ns: int = _GRID_NS) -> I64:
    """Boundaries ``b_0 < b_1 < ... < b_n`` of at most ``n_windows`` time windows
    ``[b_j, b_j+1)`` covering ``[t_min_ns, t_max_ns]``, all multiples of ``grid_ns``."""
    if n_windows < 1:
        raise ConfigError(f"n_windows must be >= 1, got {n_windows}")
    lo = (t_min_ns // grid_ns) * grid_ns
    hi = (t_max_ns // grid_ns + 1) * grid_ns
    steps = (hi - lo) // grid_ns
    inner = [lo + (steps * j // n_windows) * grid_ns for j in range(n_windows + 1)]
    return np.unique(np.asarray(inner, dtype=np.int64))


def _take_fixes(tracks: Tracks, keep: B) -> Tracks:
    """The fixes where ``keep`` is True (tracks left without a fix are dropped)."""
    counts = np.bincount(tracks.track_index[keep], minlength=tracks.n_tracks).astype(np.int64)
    has = counts > 0
    offsets = np.zeros(int(has.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[has], out=offsets[1:])
    return Tracks(
        track_ids=tracks.track_ids[has],
        offsets=offsets,
        t_ns=tracks.t_ns[keep],
        lon_deg=tracks.lon_deg[keep],
        lat_deg=tracks.lat_deg[keep],
        alt_m=tracks.alt_m[keep],
        speed_mps=tracks.speed_mps[keep],
        heading_deg=tracks.heading_deg[keep],
        src_file=tracks.src_file[keep],
        src_line=tracks.src_line[keep],
        sources=tracks.sources,
        attrs={k: v[has] for k, v in tracks.attrs.items()},
    )


def window_slice(tracks: Tracks, lo_ns: int, hi_ns: int) -> Tracks:
    """Per track, its fixes in ``[lo_ns, hi_ns]``, its last fix before ``lo_ns`` and its
    first fix after ``hi_ns``: a run of consecutive fixes of each track."""
    t = tracks.t_ns
    tix = tracks.track_index
    keep = (t >= lo_ns) & (t <= hi_ns)
    start = tracks.offsets[:-1]
    end = tracks.offsets[1:]
    n_before = np.bincount(tix[t < lo_ns], minlength=tracks.n_tracks).astype(np.int64)
    n_upto = np.bincount(tix[t <= hi_ns], minlength=tracks.n_tracks).astype(np.int64)
    before = start + n_before - 1
    keep[before[n_before > 0]] = True
    after = start + n_upto
    keep[after[after < end]] = True
    return _take_fixes(tracks, keep)


def _t_range(tracks: Tracks) -> tuple[int, int] | None:
    if len(tracks) == 0:
        return None
    return int(tracks.t_ns.min()), int(tracks.t_ns.max())


# =============================================================================== gaps
def _gap_reach(tracks: Tracks, bounds: I64, min_gap_s: float) -> I64:
    """Per window, the latest end of a gap (of these tracks) starting in it (-1: none)."""
    out = np.full(bounds.size - 1, -1, dtype=np.int64)
    if len(tracks) < 2:
        return out
    tix = tracks.track_index
    dt = np.diff(tracks.t_ns)
    a = np.flatnonzero((tix[1:] == tix[:-1]) & (dt > min_gap_s * NS_PER_S))
    if a.size:
        w = np.searchsorted(bounds, tracks.t_ns[a], side="right") - 1
        np.maximum.at(out, w, tracks.t_ns[a + 1])
    return out


def _slice_task(tracks: Tracks, lo_ns: int, hi_ns: int) -> Tracks:
    return window_slice(tracks, lo_ns, hi_ns)


def _gaps_window(
    w0: int, w1: int, sources: tuple[str, ...], kwargs: dict[str, Any], *parts: Tracks
) -> pa.Table:
    _maybe_sleep()
    tracks = _concat_tracks(parts, sources)
    table = _gaps_mod.gaps(tracks, **kwargs).to_arrow()
    t0 = table.column("start_time").cast(pa.int64())
    owned = pc.and_(pc.greater_equal(t0, w0), pc.less(t0, w1))
    return table.filter(owned)


def _range_of(parts: Sequence[tuple[int, int] | None]) -> tuple[int, int] | None:
    got = [p for p in parts if p is not None]
    if not got:
        return None
    return min(p[0] for p in got), max(p[1] for p in got)


def gaps(
    tracks: Tracks | PartitionedTracks,
    *,
    min_gap_s: float,
    zones: Zones | None = None,
    near_m: float = _gaps_mod.DEFAULT_NEAR_M,
    shared_s: float = _gaps_mod.DEFAULT_SHARED_S,
    shared_m: float = _gaps_mod.DEFAULT_SHARED_M,
    coverage_cell_m: float = _gaps_mod.DEFAULT_COVERAGE_CELL_M,
    min_coverage: float = _gaps_mod.DEFAULT_MIN_COVERAGE,
    client: Client | None = None,
    n_partitions: int | None = None,
    n_windows: int | None = None,
) -> PartitionedEvents:
    """:func:`patrolwatch.gaps` on a cluster, partitioned in time (see the module
    docstring).

    Parameters
    ----------
    tracks : Tracks or PartitionedTracks
        As for :func:`patrolwatch.scale.crossings`.
    min_gap_s, zones, near_m, shared_s, shared_m, coverage_cell_m, min_coverage
        As for :func:`patrolwatch.gaps`.
    client : distributed.Client, optional
        Needed for in-memory ``tracks``.
    n_partitions : int, optional
        For in-memory ``tracks``: see :func:`patrolwatch.scale.partition_tracks`.
    n_windows : int, optional, >= 1
        Time windows (default: the number of track partitions).

    Returns
    -------
    PartitionedEvents
        One table per time window; ``.compute()`` gives the rows of
        :func:`patrolwatch.gaps`, in its order.
    """
    kwargs: dict[str, Any] = {
        "min_gap_s": min_gap_s,
        "zones": zones,
        "near_m": near_m,
        "shared_s": shared_s,
        "shared_m": shared_m,
        "coverage_cell_m": coverage_cell_m,
        "min_coverage": min_coverage,
    }
    # the single-machine checks, before anything runs
    _gaps_mod.gaps(Tracks.from_arrays([], [], [], []), **kwargs)
    pt = _as_partitioned(tracks, client, n_partitions)
    c = pt.client
    t_range = _range_of(_gather(c, [c.submit(_t_range, f, pure=False) for f in pt.futures]))
    if t_range is None:
        return PartitionedEvents(c, [c.submit(_empty_gaps, pure=False)])
    bounds = time_bounds(*t_range, n_windows or pt.n_partitions)
    reach_parts: list[I64] = _gather(
        c, [c.submit(_gap_reach, f, bounds, min_gap_s, pure=False) for f in pt.futures]
    )
    reach = np.max(np.stack(reach_parts), axis=0)
    halo = math.ceil(shared_s * NS_PER_S) + _GRID_NS
    zones_f = _scatter(c, zones, broadcast=True) if zones is not None else None
    kw = dict(kwargs, zones=None)
    futures = []
    for j in range(bounds.size - 1):
        w0, w1 = int(bounds[j]), int(bounds[j + 1])
        hi = max(w1 + halo, int(reach[j]))
        slices = [c.submit(_slice_task, f, w0 - halo, hi, pure=False) for f in pt.futures]
        futures.append(
            c.submit(_gaps_window_z, w0, w1, pt.sources, kw, zones_f, *slices, pure=False)
        )
    return PartitionedEvents(c, futures)


def _gaps_window_z(
    w0: int,
    w1: int,
    sources: tuple[str, ...],
    kwargs: dict[str, Any],
    zones: Zones | None,
    *parts: Tracks,
) -> pa.Table:
    return _gaps_window(w0, w1, sources, dict(kwargs, zones=zones), *parts)


def _empty_gaps() -> pa.Table:
    return _gaps_mod.GAP_SCHEMA.empty_table()


# =============================================================================== formations
@dataclass
class OrderedEvents(PartitionedEvents):
    """Events whose single-machine order is not by track (formations: by ``group_id``
    then ``episode``): ``.compute()`` concatenates the partitions in order."""

    def compute(self) -> Events:
        """All events on this machine, rows and order identical to the single-machine
        engine's."""
        tables: list[pa.Table] = _gather(self.client, self.futures)
        return Events(pa.concat_tables(tables))
