"""Identity cleaning: duplicates, long silences, impossible jumps and shared ids.

Applied by :func:`patrolwatch.read_tracks` (``clean=True``) and ``patrolwatch ingest`` to
the candidate fixes of all inputs together, per track id, in time order:

1. **Duplicates.** A fix with the same id, time and position as an earlier one is
   rejected (``duplicate``): the same AIS message heard by two stations, an OpenSky state
   vector repeating a stale position.
2. **Silences.** A track is split where its id falls silent for more than ``split_gap_s``
   (default :data:`SPLIT_GAP_SHIP_S`, 6 h, for ships; :data:`SPLIT_GAP_AIRCRAFT_S`, 30 min,
   for aircraft; no default for other sources) and where the source starts a new leg
   (readsb flag bit 1, a GPX ``trkseg``, a KML ``gx:MultiTrack`` member).
3. **Impossible movement.** Within each piece, fixes are assigned in time order to the
   vehicle hypotheses they can be reached from at the class speed limit
   (:data:`CLASS_LIMITS`, or ``max_speed_mps``), nearest first; a fix reachable from none
   starts a new hypothesis. Then

   - hypotheses of fewer than :data:`MIN_VEHICLE_FIXES` fixes are outliers, rejected as
     ``implied_speed``;
   - larger hypotheses that follow one another in time are one id reused after a jump (a
     ship MMSI reassigned, an aircraft far from its last position): the track is split;
   - larger hypotheses that overlap in time are **two vehicles using one id at once** (a
     known AIS problem: positions alternating between two far-apart places). Their fixes
     are never merged into one track: with ``shared_ids="separate"`` (default) each
     vehicle becomes its own track, flagged ``shared_id``; with ``"reject"`` all their
     fixes are rejected with reason ``shared_id``.

New pieces of an id are named in time order ``ID``, ``ID#2``, ``ID#3``... Each fix keeps
``source_id`` (the id as read) and ``id_flag`` (``gap``, ``leg``, ``jump``,
``shared_id`` or ``""``) as attributes.

Speeds are checked with a position tolerance (:data:`CLASS_LIMITS`), so that GPS noise
between fixes a second apart is not taken for movement, and over at least
:data:`MIN_DT_S` second. Distances are great-circle on a sphere of radius WGS84 ``a``
(within 0.5 % of the geodesic: enough for a plausibility gate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..core.times import to_iso_z
from ..errors import ConfigError
from ..units import KT_MPS, NS_PER_S, WGS84_A_M
from ._fixes import CLASS_AIRCRAFT, CLASS_OTHER, CLASS_SHIP, VEHICLE_CLASSES, FixTable

__all__ = [
    "CLASS_LIMITS",
    "MIN_DT_S",
    "MIN_VEHICLE_FIXES",
    "SHARED_MIN_SEPARATION_M",
    "SPLIT_GAP_AIRCRAFT_S",
    "SPLIT_GAP_SHIP_S",
    "ClassLimits",
    "CleanResult",
    "clean_fixes",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

SPLIT_GAP_SHIP_S = 6 * 3600.0
"""Default silence, in seconds, after which a ship's id starts a new track (6 h)."""
SPLIT_GAP_AIRCRAFT_S = 30 * 60.0
"""Default silence, in seconds, after which an aircraft's id starts a new track (30 min)."""
MIN_VEHICLE_FIXES = 3
"""Fewest fixes for a group of mutually reachable fixes to count as a vehicle."""
MIN_DT_S = 1.0
"""Shortest interval, in seconds, used for an implied speed (times are often whole s)."""
SHARED_MIN_SEPARATION_M = 20_000.0
"""Distance, in metres, beyond the class speed limit's reach from which two vehicle
hypotheses of one id are two vehicles (shared id, or a reused id after a jump); closer
ones are one vehicle's erratic fixes and stay one track."""


@dataclass(frozen=True)
class ClassLimits:
    """Plausibility limits of a vehicle class.

    Attributes
    ----------
    max_speed_mps : float or None
        Fastest plausible ground speed, m/s (None: no check).
    split_gap_s : float or None
        Default silence that splits a track, s (None: no split).
    tolerance_m : float
        Position noise allowed before movement counts, m.
    """

    max_speed_mps: float | None
    split_gap_s: float | None
    tolerance_m: float


CLASS_LIMITS: dict[int, ClassLimits] = {
    CLASS_SHIP: ClassLimits(70.0 * KT_MPS, SPLIT_GAP_SHIP_S, 250.0),
    CLASS_AIRCRAFT: ClassLimits(1200.0 * KT_MPS, SPLIT_GAP_AIRCRAFT_S, 300.0),
    CLASS_OTHER: ClassLimits(None, None, 100.0),
}
"""Per vehicle class: ships 70 kt (fast ferries and patrol craft stay below), 6 h, 250 m;
aircraft 1200 kt (Mach 2 at altitude with a tail wind), 30 min, 300 m; other sources
(GPX, KML, generic tables) no speed limit and no default split, 100 m."""


@dataclass
class CleanResult:
    """What :func:`clean_fixes` returns.

    Attributes
    ----------
    fixes : FixTable
        The kept fixes, renamed (``ID#2``...), sorted by (new id, time).
    rejected : ndarray of int64
        Indices (into the input table) of the rejected fixes.
    reason, message : list of str
        One per rejected fix.
    notes : list of str
    """

    fixes: FixTable
    rejected: I64
    reason: list[str] = field(default_factory=list)
    message: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _sphere_m(lon1: F64, lat1: F64, lon2: F64, lat2: F64) -> F64:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return np.asarray(2.0 * WGS84_A_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), np.float64)


def _sphere1(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2.0 * WGS84_A_M * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))


def _limits(
    vclass: npt.NDArray[np.int8],
    split_gap_s: float | Literal["auto"] | None,
    max_speed_mps: float | Literal["auto"] | None,
) -> tuple[F64, F64, F64]:
    """Per fix: split gap (s, inf = none), speed limit (m/s, inf = none), tolerance (m)."""
    gap = np.full(vclass.size, np.inf)
    vmax = np.full(vclass.size, np.inf)
    tol = np.zeros(vclass.size)
    for code, lim in CLASS_LIMITS.items():
        sel = vclass == code
        if split_gap_s == "auto" and lim.split_gap_s is not None:
            gap[sel] = lim.split_gap_s
        if max_speed_mps == "auto" and lim.max_speed_mps is not None:
            vmax[sel] = lim.max_speed_mps
        tol[sel] = lim.tolerance_m
    if isinstance(split_gap_s, int | float) and not isinstance(split_gap_s, bool):
        gap[:] = float(split_gap_s)
    if isinstance(max_speed_mps, int | float) and not isinstance(max_speed_mps, bool):
        vmax[:] = float(max_speed_mps)
    return gap, vmax, tol


def clean_fixes(
    fx: FixTable,
    *,
    split_gap_s: float | Literal["auto"] | None = "auto",
    max_speed_mps: float | Literal["auto"] | None = "auto",
    shared_ids: Literal["separate", "reject"] = "separate",
    dedupe: bool = True,
) -> CleanResult:
    """Clean identities of candidate fixes (see the module docstring).

    Parameters
    ----------
    fx : FixTable
        Candidate fixes of all inputs, any order.
    split_gap_s : float, "auto" or None
        Silence in seconds (> 0) that splits a track; ``"auto"`` the class default
        (6 h ships, 30 min aircraft, none other); None never.
    max_speed_mps : float, "auto" or None
        Speed limit in m/s (> 0); ``"auto"`` the class limit; None no speed checks (no
        outliers, jumps or shared ids are looked for).
    shared_ids : {"separate", "reject"}
    dedupe : bool
        Reject fixes with the same id, time and position as an earlier one.

    Returns
    -------
    CleanResult

    Examples
    --------
    >>> import numpy as np
    >>> from patrolwatch.io._fixes import FixTable, CLASS_SHIP
    >>> h = 3600 * 10**9
    >>> fx = FixTable.build(["a"] * 3, [0, h, 8 * h], [1.0, 1.01, 1.02], [0.0, 0.0, 0.0],
    ...                     [2, 3, 4], vclass=CLASS_SHIP)
    >>> clean_fixes(fx).fixes.track_id.tolist()
    ['a', 'a', 'a#2']
    """
    for name, val in (("split_gap_s", split_gap_s), ("max_speed_mps", max_speed_mps)):
        if val is None or val == "auto":
            continue
        if isinstance(val, str) or not (math.isfinite(float(val)) and float(val) > 0):
            raise ConfigError(f"{name} must be a positive number, 'auto' or None, not {val!r}")
    if shared_ids not in ("separate", "reject"):
        raise ConfigError(f"shared_ids must be 'separate' or 'reject', not {shared_ids!r}")
    n = len(fx)
    notes: list[str] = []
    rej_idx: list[int] = []
    rej_reason: list[str] = []
    rej_msg: list[str] = []
    if n == 0:
        return CleanResult(fx, np.zeros(0, dtype=np.int64))
    uniq, code = np.unique(fx.track_id, return_inverse=True)
    code = np.asarray(code, dtype=np.int64).ravel()
    t = fx.t_ns
    ar = np.arange(n, dtype=np.int64)
    # 1. duplicates
    keep = np.ones(n, dtype=bool)
    if dedupe:
        o = np.lexsort((ar, fx.lat_deg, fx.lon_deg, t, code))
        same = (
            (code[o][1:] == code[o][:-1])
            & (t[o][1:] == t[o][:-1])
            & (fx.lon_deg[o][1:] == fx.lon_deg[o][:-1])
            & (fx.lat_deg[o][1:] == fx.lat_deg[o][:-1])
        )
        if same.any():
            grp = np.cumsum(np.concatenate(([True], ~same)))
            first_of = o[np.flatnonzero(np.concatenate(([True], ~same)))]
            dups = np.flatnonzero(np.concatenate(([False], same)))
            for d in dups.tolist():
                i, orig = int(o[d]), int(first_of[grp[d] - 1])
                keep[i] = False
                rej_idx.append(i)
                rej_reason.append("duplicate")
                rej_msg.append(
                    f"same id {str(fx.track_id[i])!r}, time and position as line "
                    f"{fx.src_line[orig]}"
                    + ("" if fx.src_file[orig] == fx.src_file[i] else " of another file")
                )
    order = ar[keep]
    order = order[np.lexsort((order, t[order], code[order]))]
    gap, vmax, tol = _limits(fx.vclass, split_gap_s, max_speed_mps)
    co, to = code[order], t[order]
    same_id = co[1:] == co[:-1]
    dt_s = np.diff(to) / NS_PER_S
    brk_gap = same_id & (dt_s > gap[order][1:])
    brk_leg = same_id & fx.break_before[order][1:]
    start = np.concatenate(([True], ~same_id | brk_gap | brk_leg))
    seg = np.cumsum(start) - 1  # segment number per sorted fix
    seg_flag = np.where(brk_gap, "gap", np.where(brk_leg, "leg", ""))
    seg_starts = np.flatnonzero(start)
    seg_flag_of = np.concatenate(([""], seg_flag))[seg_starts]
    # 3. implied speed within segments
    lon, lat = fx.lon_deg[order], fx.lat_deg[order]
    seg_d = _sphere_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    v = np.maximum(seg_d - tol[order][1:], 0.0) / np.maximum(dt_s, MIN_DT_S)
    fast = (seg[1:] == seg[:-1]) & (v > vmax[order][1:])
    problem_segs = np.unique(seg[1:][fast])
    # pieces: (member sorted positions) per piece, with a flag
    piece = seg.copy()
    piece_flag: list[str] = seg_flag_of.tolist()
    n_pieces = int(seg_starts.size)
    drop = np.zeros(order.size, dtype=bool)
    seg_end = np.append(seg_starts[1:], order.size)
    shared_report: list[str] = []
    for s in problem_segs.tolist():
        a, b = int(seg_starts[s]), int(seg_end[s])
        members, best = _assign(order, a, b, fx, tol, vmax)
        big = [m for m in members if len(m) >= MIN_VEHICLE_FIXES]
        if not big:
            big = [max(members, key=len)]
        small = [m for m in members if all(m is not g for g in big)]
        for m in small:
            for p in m:
                drop[p] = True
                i = int(order[p])
                anchor, speed = best[p]
                rej_idx.append(i)
                rej_reason.append("implied_speed")
                rej_msg.append(
                    (
                        f"reaching this fix from line {fx.src_line[order[anchor]]} needs "
                        f"{speed:.0f} m/s > {vmax[i]:.0f} m/s"
                        if anchor >= 0
                        else "an isolated fix far from the rest of the track"
                    )
                    + f" ({VEHICLE_CLASSES[int(fx.vclass[i])]} limit; track "
                    f"{str(fx.track_id[i])!r})"
                )
        big.sort(key=len, reverse=True)
        # a hypothesis close to the largest one, beyond what the class speed allows by
        # less than SHARED_MIN_SEPARATION_M, is the same vehicle with erratic fixes (a
        # resampling artifact, a lagging receiver): merged back
        main = big[0]
        merged = list(main)
        rest: list[list[int]] = []
        for m in big[1:]:
            inter = bool(to[m[0]] <= to[main[-1]] and to[main[0]] <= to[m[-1]])
            if _excess_m(order, main, m, fx, vmax, interleaved=inter) < SHARED_MIN_SEPARATION_M:
                merged += m
            else:
                rest.append(m)
        big = [sorted(merged), *rest]
        big.sort(key=lambda m: int(to[m[0]]))
        spans = [(int(to[m[0]]), int(to[m[-1]])) for m in big]
        overlap = [False] * len(big)
        for x in range(len(big)):
            for y in range(x + 1, len(big)):
                if spans[x][0] <= spans[y][1] and spans[y][0] <= spans[x][1]:
                    overlap[x] = overlap[y] = True
        if any(overlap):
            tid = str(fx.track_id[order[a]])
            t0 = min(spans[x][0] for x in range(len(big)) if overlap[x])
            t1 = max(spans[x][1] for x in range(len(big)) if overlap[x])
            iso = to_iso_z(np.array([t0, t1], dtype=np.int64), digits=0)
            shared_report.append(f"{tid} ({sum(overlap)} vehicles, {iso[0]} to {iso[1]})")
        for x, m in enumerate(big):
            idx = np.asarray(m, dtype=np.int64)
            if overlap[x] and shared_ids == "reject":
                drop[idx] = True
                for p in m:
                    i = int(order[p])
                    rej_idx.append(i)
                    rej_reason.append("shared_id")
                    rej_msg.append(
                        f"id {str(fx.track_id[i])!r} is used by {sum(overlap)} vehicles at "
                        f"once ({iso[0]} to {iso[1]}): positions alternate between places "
                        "too far apart to be one vehicle"
                    )
                continue
            if x == 0 and not overlap[x]:
                continue  # stays in the segment's own piece
            piece[idx] = n_pieces
            piece_flag.append("shared_id" if overlap[x] else "jump")
            n_pieces += 1
    if shared_report:
        notes.append(
            f"ids used by two vehicles at once ({shared_ids}, reason shared_id): "
            + "; ".join(shared_report[:20])
            + (f" and {len(shared_report) - 20} more" if len(shared_report) > 20 else "")
        )
    kept = order[~drop]
    piece_k = piece[~drop]
    # name the pieces of each id in time order
    used_pieces, inv = np.unique(piece_k, return_inverse=True)
    inv = np.asarray(inv, dtype=np.int64).ravel()
    first_pos = np.full(used_pieces.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_pos, inv, np.arange(kept.size))
    p_code = code[kept[first_pos]]
    p_t = t[kept[first_pos]]
    p_order = np.lexsort((p_t, p_code))
    rank = np.zeros(used_pieces.size, dtype=np.int64)
    pc = p_code[p_order]
    grp_start = np.concatenate(([True], pc[1:] != pc[:-1]))
    pos = np.arange(pc.size)
    rank[p_order] = pos - np.maximum.accumulate(np.where(grp_start, pos, 0))
    base = uniq[p_code]
    names = np.where(
        rank == 0, base, np.char.add(np.char.add(base.astype(str), "#"), (rank + 1).astype(str))
    )
    flags = np.asarray(piece_flag, dtype=str)[used_pieces] if used_pieces.size else np.zeros(0, str)
    flags = np.where((rank == 0) & (flags != "shared_id"), "", flags)
    out = fx.take(kept)
    out.attrs = dict(out.attrs)
    out.attrs["source_id"] = out.track_id.copy()
    out.attrs["id_flag"] = flags[inv] if kept.size else np.zeros(0, dtype="<U1")
    out.track_id = names[inv].astype(str) if kept.size else out.track_id
    n_split = int((rank > 0).sum())
    if n_split:
        notes.append(
            f"{n_split} track(s) split off an id (named ID#2, ID#3, ...): "
            + ", ".join(
                f"{k}: {int((flags == k).sum())}"
                for k in ("gap", "leg", "jump", "shared_id")
                if (flags == k).any()
            )
        )
    # final order: by new id then time
    o2 = np.lexsort((np.arange(len(out)), out.t_ns, out.track_id))
    out = out.take(o2.astype(np.int64))
    n_fast = sum(1 for r in rej_reason if r == "implied_speed")
    if n_fast:
        notes.append(f"implied_speed: {n_fast} outlier fixes rejected (class speed limits)")
    return CleanResult(
        fixes=out,
        rejected=np.asarray(rej_idx, dtype=np.int64),
        reason=rej_reason,
        message=rej_msg,
        notes=notes,
    )


def _excess_m(
    order: I64, main: list[int], other: list[int], fx: FixTable, vmax: F64, *, interleaved: bool
) -> float:
    """How far, in metres, the fixes of ``other`` lie beyond the reach of ``main``.

    Each fix of ``other`` is compared with the fix of ``main`` nearest in time: distance
    minus the class speed limit times their time difference (0 when reachable). For
    hypotheses interleaved in time the median over the fixes is returned; for sequential
    ones, the value at the fix nearest in time to ``main`` (the jump itself)."""
    mi = order[np.asarray(main, dtype=np.int64)]
    oi = order[np.asarray(other, dtype=np.int64)]
    tm = fx.t_ns[mi]
    k = np.clip(np.searchsorted(tm, fx.t_ns[oi]), 0, tm.size - 1)
    km = np.clip(k - 1, 0, tm.size - 1)
    nearer = np.abs(tm[km] - fx.t_ns[oi]) < np.abs(tm[k] - fx.t_ns[oi])
    j = mi[np.where(nearer, km, k)]
    dt = np.abs(fx.t_ns[j] - fx.t_ns[oi]) / NS_PER_S
    d = _sphere_m(fx.lon_deg[oi], fx.lat_deg[oi], fx.lon_deg[j], fx.lat_deg[j])
    lim = np.where(np.isfinite(vmax[oi]), vmax[oi], 0.0)
    excess = np.maximum(d - lim * dt, 0.0)
    if interleaved:
        return float(np.median(excess))
    return float(excess[int(np.argmin(dt))])


def _assign(
    order: I64, a: int, b: int, fx: FixTable, tol: F64, vmax: F64
) -> tuple[list[list[int]], dict[int, tuple[int, float]]]:
    """Greedy assignment of the sorted fixes a..b-1 to vehicle hypotheses.

    Returns the hypotheses (lists of sorted positions) and, per position, the anchor
    position and speed of the most reachable hypothesis it was tested against."""
    lon = fx.lon_deg
    lat = fx.lat_deg
    t = fx.t_ns
    vehicles: list[list[int]] = []
    best: dict[int, tuple[int, float]] = {}
    for p in range(a, b):
        i = int(order[p])
        choice = -1
        best_v = math.inf
        best_anchor = -1
        latest = -1
        for k, veh in enumerate(vehicles):
            q = veh[-1]
            j = int(order[q])
            dist = _sphere1(float(lon[j]), float(lat[j]), float(lon[i]), float(lat[i]))
            dt = max((int(t[i]) - int(t[j])) / NS_PER_S, MIN_DT_S)
            speed = max(dist - float(tol[i]), 0.0) / dt
            if speed < best_v:
                best_v, best_anchor = speed, q
            # among reachable hypotheses, the one heard from last
            if speed <= vmax[i] and int(t[j]) > latest:
                latest, choice = int(t[j]), k
        if choice < 0:
            vehicles.append([p])
        else:
            vehicles[choice].append(p)
        best[p] = (best_anchor, best_v)
    return vehicles, best
