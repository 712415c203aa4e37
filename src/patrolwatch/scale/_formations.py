"""``formations`` on a Dask cluster, by time windows with a halo, identical to one machine.

The single-machine detector (:mod:`patrolwatch.detect.formations`) has an expensive part
that is local in time and a cheap part that is global:

1. **Bridge limits** (per track: ``max_dropout_s`` plus the track's median reporting
   interval over *all* its fixes): one task per track partition.
2. **Close pair-steps** (the resampling of every track on the grid and the spatial pair
   search, per grid step): one task per time window ``[b_j, b_j+1)`` (boundaries on the
   grid), on the window's fixes plus a halo ``H`` = the largest bridge limit + the speed
   window + two grid steps, and each track's fix either side, with the global limits:
   every sample at a step of the window, its movement speed and its pair tests are those
   of the whole input. Each window returns the close pairs at its own steps.
3. **Episodes, groups, numbering, joins and leaves**: one task, on all close pairs (the
   single-machine ``_episodes``): an episode cut by a window boundary is whole again,
   and groups and episodes are numbered over all windows exactly as on one machine.
4. **Background** (``chance_rate``): one task per window again, for the member samples at
   its own steps against the traffic shifted by up to the largest shift (halo ``H`` plus
   that shift); the per-step hits of all windows are then put in runs and joined to the
   episodes as on one machine (a run may cross windows).
5. **Zones and the table**: one task, on the members' fixes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..core.tracks import Tracks
from ..core.zones import Zones
from ..detect import formations as fm
from ..detect._resample import (
    CellIndex,
    Resampler,
    bridge_limits_ns,
)
from ..units import NS_PER_S
from ._timeparts import OrderedEvents, _range_of, _t_range, _take_fixes, time_bounds, window_slice
from .dask import PartitionedTracks, _as_partitioned, _concat_tracks, _gather, _maybe_sleep

if TYPE_CHECKING:
    from distributed import Client

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

__all__ = ["formations"]


# =============================================================================== tasks
def _limits(tracks: Tracks, max_dropout_s: float) -> tuple[npt.NDArray[np.str_], I64]:
    """Per track of a track partition: its id and bridge limit (a per-track quantity)."""
    return tracks.track_ids, bridge_limits_ns(tracks, max_dropout_s, plus_median_interval=True)


def _global_index(ids: npt.NDArray[np.str_], all_ids: npt.NDArray[np.str_]) -> I64:
    return np.searchsorted(all_ids, ids).astype(np.int64)


def _window_tracks(
    sources: tuple[str, ...], all_ids: npt.NDArray[np.str_], limits: I64, parts: Sequence[Tracks]
) -> tuple[Tracks, I64, I64]:
    """A window's tracks, their global indices and their limits."""
    tracks = _concat_tracks(parts, sources)
    gix = _global_index(tracks.track_ids, all_ids)
    return tracks, gix, limits[gix]


def _close_task(
    k0: int,
    k1: int,
    params: fm._Params,
    half: int,
    sources: tuple[str, ...],
    all_ids: npt.NDArray[np.str_],
    limits: I64,
    *parts: Tracks,
) -> tuple[I64, I64, I64, F64]:
    """Close pair-steps at steps ``[k0, k1)`` (global track indices)."""
    _maybe_sleep()
    tracks, gix, lim = _window_tracks(sources, all_ids, limits, parts)
    e = np.zeros(0, dtype=np.int64)
    if tracks.n_tracks < 2:
        return e, e.copy(), e.copy(), np.zeros(0)
    rs = Resampler(tracks, grid_ns=params.grid_ns, limit_ns=lim, window_half_steps=half)
    s = rs.samples(k0, k1)
    s = s.take(fm._airborne(s, params.min_speed_mps))
    if len(s) < 2:
        return e, e.copy(), e.copy(), np.zeros(0)
    idx = CellIndex(s.step, s.lon_deg, s.lat_deg, params.max_sep_m)
    i, j = idx.pairs()
    ok, d = fm._pair_test(s, i, s, j, params)
    i, j, d = i[ok], j[ok], d[ok]
    ti, tj = gix[s.track[i]], gix[s.track[j]]
    return np.minimum(ti, tj), np.maximum(ti, tj), s.step[i], d


def _id_tracks(all_ids: npt.NDArray[np.str_]) -> Tracks:
    """Tracks with the given ids and no fixes (what ``_episodes`` reads: ids only)."""
    n = all_ids.size
    z = np.zeros(0)
    return Tracks(
        track_ids=all_ids,
        offsets=np.zeros(n + 1, dtype=np.int64),
        t_ns=np.zeros(0, dtype=np.int64),
        lon_deg=z,
        lat_deg=z,
        alt_m=z,
        speed_mps=z,
        heading_deg=z,
        src_file=np.zeros(0, dtype=np.int32),
        src_line=np.zeros(0, dtype=np.int64),
    )


def _episodes_task(
    all_ids: npt.NDArray[np.str_], params: fm._Params, *closes: tuple[I64, I64, I64, F64]
) -> fm._Episodes | None:
    close = fm._Close(
        np.concatenate([c[0] for c in closes]),
        np.concatenate([c[1] for c in closes]),
        np.concatenate([c[2] for c in closes]),
        np.concatenate([c[3] for c in closes]),
    )
    return fm._episodes(close, _id_tracks(all_ids), params)


def _chance_task(
    k0: int,
    k1: int,
    params: fm._Params,
    half: int,
    shifts: tuple[int, ...],
    ep: fm._Episodes,
    sources: tuple[str, ...],
    all_ids: npt.NDArray[np.str_],
    limits: I64,
    *parts: Tracks,
) -> list[tuple[I64, I64, I64, I64]]:
    """The background model's per-step hits ``(member, other, shift, step)`` of member
    samples at steps ``[k0, k1)`` (global track indices; see ``fm._chance_rate``)."""
    _maybe_sleep()
    tracks, gix, lim = _window_tracks(sources, all_ids, limits, parts)
    n_all = all_ids.size
    g = params.grid_ns
    lo_t, hi_t = fm._member_steps(ep, n_all, params)
    is_member = (lo_t <= hi_t)[gix]
    if not is_member.any():
        return []
    sub = tracks.select_tracks(is_member)
    m_gix = gix[is_member]
    msr = Resampler(sub, grid_ns=g, limit_ns=lim[is_member], window_half_steps=half)
    ms = msr.samples(k0, k1)
    ms = ms.renumbered(m_gix)
    keep = fm._airborne(ms, params.min_speed_mps)
    keep &= (ms.step >= lo_t[ms.track]) & (ms.step <= hi_t[ms.track])
    ms = ms.take(keep)
    if len(ms) == 0:
        return []
    reach = max(abs(s) for s in shifts)
    rs = Resampler(tracks, grid_ns=g, limit_ns=lim, window_half_steps=half)
    s = rs.samples(k0 - reach, k1 + reach)
    s = s.take(fm._airborne(s, params.min_speed_mps))
    if len(s) == 0:
        return []
    s = s.renumbered(gix)
    idx = CellIndex(s.step, s.lon_deg, s.lat_deg, params.max_sep_m)
    recs: list[tuple[I64, I64, I64, I64]] = []
    every = np.arange(len(ms), dtype=np.int64)
    for si, shift in enumerate(shifts):  # per time shift, vectorised inside
        recs.append(fm._shift_hits(ms, every, s, idx, shift, si, params))
    return recs


def _member_part(tracks: Tracks, member_ids: npt.NDArray[np.str_]) -> Tracks:
    """Every fix of the members, and the first fix of every other track (so that track
    indices are those of the whole input)."""
    member = np.isin(tracks.track_ids, member_ids)
    keep = np.repeat(member, np.diff(tracks.offsets))
    keep[tracks.offsets[:-1][np.diff(tracks.offsets) > 0]] = True
    return _take_fixes(tracks, keep)


def _table_task(
    ep: fm._Episodes,
    n_sh: int,
    params: fm._Params,
    zones: Zones | None,
    sources: tuple[str, ...],
    all_ids: npt.NDArray[np.str_],
    recs: list[Any],
    *parts: Tracks,
) -> pa.Table:
    tracks = _concat_tracks(parts, sources)
    if not np.array_equal(tracks.track_ids, all_ids):
        raise AssertionError("formations: track indices differ from the whole input's")
    chance = fm._chance_from_hits(ep, all_ids.size, n_sh, params, recs)
    zone_text = fm._zones_together(tracks, zones, ep, params.grid_ns)
    return fm._table(tracks, ep, params.grid_ns, chance, zone_text)


def _flatten(lists: Sequence[list[Any]]) -> list[Any]:
    return [x for part in lists for x in part]


def _empty() -> pa.Table:
    return fm.FORMATION_SCHEMA.empty_table()


# =============================================================================== public
def formations(
    tracks: Tracks | PartitionedTracks,
    *,
    max_sep_m: float = fm.DEFAULT_MAX_SEP_M,
    max_vsep_m: float = fm.DEFAULT_MAX_VSEP_M,
    min_duration_s: float = fm.DEFAULT_MIN_DURATION_S,
    max_dropout_s: float = fm.DEFAULT_MAX_DROPOUT_S,
    grid_s: float = fm.DEFAULT_GRID_S,
    zones: Zones | None = None,
    min_speed_mps: float = fm.MIN_AIRBORNE_SPEED_MPS,
    chance_shifts_s: tuple[float, ...] = fm.CHANCE_SHIFTS_S,
    client: Client | None = None,
    n_partitions: int | None = None,
    n_windows: int | None = None,
) -> OrderedEvents:
    """:func:`patrolwatch.formations` on a cluster, by time windows (module docstring).

    Parameters are those of :func:`patrolwatch.formations`, plus ``client`` and
    ``n_partitions`` as for :func:`patrolwatch.scale.crossings`, and ``n_windows``
    (default: the number of track partitions).

    Returns
    -------
    OrderedEvents
        One table; ``.compute()`` gives the rows of :func:`patrolwatch.formations`, in
        its order.
    """
    chance_shifts_s = tuple(chance_shifts_s)
    kwargs: dict[str, Any] = {
        "max_sep_m": max_sep_m,
        "max_vsep_m": max_vsep_m,
        "min_duration_s": min_duration_s,
        "max_dropout_s": max_dropout_s,
        "grid_s": grid_s,
        "min_speed_mps": min_speed_mps,
        "chance_shifts_s": chance_shifts_s,
    }
    fm.formations(Tracks.from_arrays([], [], [], []), **kwargs)  # the checks, at once
    pt = _as_partitioned(tracks, client, n_partitions)
    c = pt.client
    g = round(grid_s * NS_PER_S)
    params = fm._Params(
        max_sep_m=float(max_sep_m),
        max_vsep_m=float(max_vsep_m),
        min_duration_ns=round(min_duration_s * NS_PER_S),
        grid_ns=g,
        min_speed_mps=float(min_speed_mps),
    )
    half = max(1, round(fm.SPEED_WINDOW_S / 2.0 / grid_s))
    shifts = tuple(s for s in (round(x * NS_PER_S / g) for x in chance_shifts_s) if s != 0)
    lim_parts = _gather(c, [c.submit(_limits, f, max_dropout_s, pure=False) for f in pt.futures])
    ids = np.concatenate([p[0] for p in lim_parts]) if lim_parts else np.zeros(0, str)
    lims = np.concatenate([p[1] for p in lim_parts]) if lim_parts else np.zeros(0, np.int64)
    order = np.argsort(ids, kind="stable")
    all_ids, limits = ids[order], lims[order].astype(np.int64)
    t_range = _range_of(_gather(c, [c.submit(_t_range, f, pure=False) for f in pt.futures]))
    if t_range is None or all_ids.size < 2:
        return OrderedEvents(c, [c.submit(_empty, pure=False)])
    bounds = time_bounds(*t_range, n_windows or pt.n_partitions, g)
    halo = int(limits.max()) + (half + 2) * g
    closes = []
    for j in range(bounds.size - 1):
        w0, w1 = int(bounds[j]), int(bounds[j + 1])
        sl = [c.submit(window_slice, f, w0 - halo, w1 + halo, pure=False) for f in pt.futures]
        closes.append(
            c.submit(
                _close_task,
                w0 // g,
                w1 // g,
                params,
                half,
                pt.sources,
                all_ids,
                limits,
                *sl,
                pure=False,
            )
        )
    ep_f = c.submit(_episodes_task, all_ids, params, *closes, pure=False)
    ep: fm._Episodes | None = _gather(c, ep_f)
    if ep is None:
        return OrderedEvents(c, [c.submit(_empty, pure=False)])
    recs_f: list[Any] = []
    if shifts:
        reach = max(abs(s) for s in shifts) * g
        for j in range(bounds.size - 1):
            w0, w1 = int(bounds[j]), int(bounds[j + 1])
            lo, hi = w0 - halo - reach, w1 + halo + reach
            sl = [c.submit(window_slice, f, lo, hi, pure=False) for f in pt.futures]
            recs_f.append(
                c.submit(
                    _chance_task,
                    w0 // g,
                    w1 // g,
                    params,
                    half,
                    shifts,
                    ep_f,
                    pt.sources,
                    all_ids,
                    limits,
                    *sl,
                    pure=False,
                )
            )
    recs = c.submit(_flatten, recs_f, pure=False)
    member_ids = all_ids[np.unique(ep.mem_track)]
    mparts = [c.submit(_member_part, f, member_ids, pure=False) for f in pt.futures]
    table = c.submit(
        _table_task,
        ep_f,
        len(shifts),
        params,
        zones,
        pt.sources,
        all_ids,
        recs,
        *mparts,
        pure=False,
    )
    return OrderedEvents(c, [table])
