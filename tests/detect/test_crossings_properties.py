"""Property tests of :func:`patrolwatch.detect.crossings.crossings` (hypothesis).

Inputs come from the shared strategies in ``tests/strategies.py`` (antimeridian, high
latitudes, single-fix tracks, exact duplicate fixes; lon/lat boxes and geodesic circles).
The invariants need no golden values; the transformed inputs they compare against are built
independently (time reversal and shift by integer arithmetic, densification with the exact
geodesic midpoint from ``geographiclib``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patrolwatch.core.events import Events
from patrolwatch.core.tracks import Tracks
from patrolwatch.detect.crossings import crossings
from strategies import Scene, event_rows, point_along, rows_by_pair, scenes, tracks_to_arrays

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

TIME_TOL_NS = 1_000_000
"""1 ms, the spec's tolerance on crossing times."""

DIST_TOL_M = 1.0
"""Tolerance on closest-approach distances compared between equivalent inputs, metres."""

NEAR_M = 20_000.0
"""near_m used by the properties, metres."""

MAX_SPEED_MPS = 400.0
"""max_speed_mps used by the properties, m/s."""

EVIDENCE = frozenset({"observed", "interpolated", "possible", "near"})
VISIT = frozenset({"observed", "interpolated"})
TIME_COLUMNS = (
    "entry_time",
    "exit_time",
    "entry_bracket_start",
    "entry_bracket_end",
    "exit_bracket_start",
    "exit_bracket_end",
    "closest_time",
    "first_fix_time",
    "last_fix_time",
)

Pair = tuple[str, str]


def _fix_times(tr: Tracks) -> dict[str, np.ndarray]:
    return {
        str(tid): tr.t_ns[tr.offsets[k] : tr.offsets[k + 1]] for k, tid in enumerate(tr.track_ids)
    }


def _close(a: int | None, b: int | None, tol_ns: int = TIME_TOL_NS) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= tol_ns)


def _run(tr: Tracks, scene: Scene) -> Events:
    return crossings(tr, scene.zones, near_m=NEAR_M, max_speed_mps=MAX_SPEED_MPS)


# --------------------------------------------------------------------------- one run
@PROPERTY_SETTINGS
@given(scene=scenes(duplicate_times=True))
def test_visits_are_ordered_disjoint_and_within_their_brackets(scene: Scene) -> None:
    """Per (track, zone): visits are time-ordered and do not overlap, entry <= exit, only the
    first visit may lack an entry and only the last an exit (so entries minus exits is in
    {-1, 0, 1}), every crossing lies within its bracket, and each bracket is two consecutive
    fix times of the track (equal only for a fix on the boundary). Evidence values are
    the four allowed ones; a pair with a visit has no near row."""
    ev = _run(scene.tracks, scene)
    rows = event_rows(ev)
    assert {r["kind"] for r in rows} <= {"crossing"}
    assert {r["evidence"] for r in rows} <= EVIDENCE
    fix_times = _fix_times(scene.tracks)
    visits = rows_by_pair(ev, VISIT)
    for (tid, _zid), vs in visits.items():
        times = fix_times[tid]
        for i, v in enumerate(vs):
            entry, exit_ = v["entry_time"], v["exit_time"]
            assert entry is not None or i == 0
            assert exit_ is not None or i == len(vs) - 1
            if entry is not None and exit_ is not None:
                assert entry <= exit_
                assert v["duration_s"] is not None
                assert abs(v["duration_s"] - (exit_ - entry) / 1e9) <= 1e-3
            if i + 1 < len(vs):
                nxt = vs[i + 1]["entry_time"]
                assert exit_ is not None and nxt is not None and exit_ < nxt
            for what, t in (("entry", entry), ("exit", exit_)):
                lo, hi = v[f"{what}_bracket_start"], v[f"{what}_bracket_end"]
                if t is None:
                    assert lo is None and hi is None
                    continue
                assert lo is not None and hi is not None
                assert lo <= t <= hi, f"{what} {t} outside its bracket [{lo}, {hi}]"
                assert lo in times and hi in times, "bracket ends must be fix times"
                assert not np.any((times > lo) & (times < hi)), "bracket fixes not consecutive"
        n_entries = sum(v["entry_time"] is not None for v in vs)
        n_exits = sum(v["exit_time"] is not None for v in vs)
        assert n_entries - n_exits in (-1, 0, 1)
    for pair in rows_by_pair(ev, frozenset({"near"})):
        assert pair not in visits, f"near row for {pair}, which has a visit"
    for rows_p in rows_by_pair(ev, frozenset({"possible"})).values():
        for r in rows_p:
            assert r["entry_time"] is None and r["exit_time"] is None
            assert r["entry_bracket_start"] < r["entry_bracket_end"]


# --------------------------------------------------------------------------- transformations
def _rebuild(arrays: dict[str, np.ndarray], t_ns: np.ndarray) -> Tracks:
    return Tracks.from_arrays(
        arrays["track_id"],
        t_ns,
        arrays["lon_deg"],
        arrays["lat_deg"],
        alt_m=arrays["alt_m"],
        sources=("strategy.csv",),
    )


@PROPERTY_SETTINGS
@given(scene=scenes(duplicate_times=True))
def test_reversing_a_track_in_time_swaps_entries_and_exits(scene: Scene) -> None:
    """t -> T - t with fixes in reverse order (negation, then a shift by T = min + max to keep
    times positive): each visit [entry, exit] becomes [T - exit, T - entry] within 1 ms,
    evidence unchanged; near rows stay on the same pairs with the same closest_m."""
    arrays = tracks_to_arrays(scene.tracks)
    total = int(scene.tracks.t_ns.min()) + int(scene.tracks.t_ns.max())
    rev_arrays = {k: v[::-1].copy() for k, v in arrays.items()}
    rev = _rebuild(rev_arrays, total - rev_arrays["t_ns"])
    ev, ev_rev = _run(scene.tracks, scene), _run(rev, scene)

    fwd, bwd = rows_by_pair(ev, VISIT), rows_by_pair(ev_rev, VISIT)
    assert fwd.keys() == bwd.keys()
    for pair, vs in fwd.items():
        mirrored = [
            (
                None if r["exit_time"] is None else total - r["exit_time"],
                None if r["entry_time"] is None else total - r["entry_time"],
                r["evidence"],
            )
            for r in reversed(bwd[pair])
        ]
        assert len(vs) == len(mirrored), pair
        for v, (entry, exit_, evidence) in zip(vs, mirrored, strict=True):
            assert _close(v["entry_time"], entry), (pair, v["entry_time"], entry)
            assert _close(v["exit_time"], exit_), (pair, v["exit_time"], exit_)
            assert v["evidence"] == evidence, pair

    near, near_rev = (
        rows_by_pair(ev, frozenset({"near"})),
        rows_by_pair(ev_rev, frozenset({"near"})),
    )
    assert near.keys() == near_rev.keys()
    for pair, (r,) in near.items():
        assert abs(r["closest_m"] - near_rev[pair][0]["closest_m"]) <= DIST_TOL_M, pair


def _densify(tr: Tracks) -> Tracks:
    """Insert the exact geodesic midpoint (geographiclib) of every segment at its mid time.

    Times are whole seconds, so (t0 + t1) / 2 is an integer ns and the midpoint fraction is
    exactly 0.5; zero-duration segments (duplicate fixes) are left alone.
    """
    ids, times, lons, lats = [], [], [], []
    for k, tid in enumerate(tr.track_ids):
        lo, hi = int(tr.offsets[k]), int(tr.offsets[k + 1])
        for i in range(lo, hi):
            ids.append(str(tid))
            times.append(int(tr.t_ns[i]))
            lons.append(float(tr.lon_deg[i]))
            lats.append(float(tr.lat_deg[i]))
            if i + 1 < hi and tr.t_ns[i + 1] > tr.t_ns[i]:
                lon, lat = point_along(
                    tr.lon_deg[i], tr.lat_deg[i], tr.lon_deg[i + 1], tr.lat_deg[i + 1], 0.5
                )
                ids.append(str(tid))
                times.append((int(tr.t_ns[i]) + int(tr.t_ns[i + 1])) // 2)
                lons.append(lon)
                lats.append(lat)
    return Tracks.from_arrays(
        np.asarray(ids, dtype=str),
        np.asarray(times, dtype=np.int64),
        np.asarray(lons),
        np.asarray(lats),
        sources=("strategy.csv",),
    )


@PROPERTY_SETTINGS
@given(scene=scenes())
def test_densifying_along_the_geodesic_leaves_crossings_unchanged(scene: Scene) -> None:
    """The densified track is the same path at the same speed: the same visits with the same
    entry/exit times within 1 ms; an observed visit stays observed (an interpolated one may
    become observed); near rows stay on the same pairs with the same closest_m."""
    dense = _densify(scene.tracks)
    ev, ev_dense = _run(scene.tracks, scene), _run(dense, scene)
    coarse, fine = rows_by_pair(ev, VISIT), rows_by_pair(ev_dense, VISIT)
    assert coarse.keys() == fine.keys()
    for pair, vs in coarse.items():
        assert len(vs) == len(fine[pair]), pair
        for v, w in zip(vs, fine[pair], strict=True):
            assert _close(v["entry_time"], w["entry_time"]), (
                pair,
                v["entry_time"],
                w["entry_time"],
            )
            assert _close(v["exit_time"], w["exit_time"]), (pair, v["exit_time"], w["exit_time"])
            if v["evidence"] == "observed":
                assert w["evidence"] == "observed", pair

    near, near_dense = (
        rows_by_pair(ev, frozenset({"near"})),
        rows_by_pair(ev_dense, frozenset({"near"})),
    )
    assert near.keys() == near_dense.keys()
    for pair, (r,) in near.items():
        assert abs(r["closest_m"] - near_dense[pair][0]["closest_m"]) <= DIST_TOL_M, pair


def _sort_key(row: dict[str, Any], delta_ns: int) -> tuple[Any, ...]:
    big = np.iinfo(np.int64).max
    return (
        row["track_id"],
        row["zone_id"],
        row["evidence"],
        *(big if row[c] is None else row[c] - delta_ns for c in TIME_COLUMNS if c in row),
    )


@PROPERTY_SETTINGS
@given(scene=scenes(duplicate_times=True), delta_ns=st.integers(-(10**17), 10**17))
def test_shifting_all_times_shifts_all_events_by_the_same_amount(
    scene: Scene, delta_ns: int
) -> None:
    """Adding delta_ns (any integer ns, up to ~3 years either way) to every fix time adds
    exactly delta_ns to every time of every event and changes nothing else (positions and
    distances to 1e-6)."""
    ev = _run(scene.tracks, scene)
    ev_shift = _run(scene.tracks.shift_time(delta_ns), scene)
    rows = sorted(event_rows(ev), key=lambda r: _sort_key(r, 0))
    rows_shift = sorted(event_rows(ev_shift), key=lambda r: _sort_key(r, delta_ns))
    assert len(rows) == len(rows_shift)
    for r, s in zip(rows, rows_shift, strict=True):
        assert r.keys() == s.keys()
        for col, value in r.items():
            if col in TIME_COLUMNS:
                assert (value is None and s[col] is None) or s[col] - value == delta_ns, (
                    col,
                    value,
                    s[col],
                )
            elif isinstance(value, float) and not math.isnan(value):
                assert s[col] is not None and abs(s[col] - value) <= 1e-6, (col, value, s[col])
            elif isinstance(value, float):
                assert s[col] is not None and math.isnan(s[col]), (col, value, s[col])
            else:
                assert s[col] == value, col
