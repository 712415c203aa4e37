"""Streaming formations: batches of fixes in, formations that form, change and end out.

:class:`FormationTracker` takes the same :class:`~patrolwatch.serve.stream.FixBatch`
batches as the zone :class:`~patrolwatch.serve.stream.Detector` (arrival order, any
batching) and re-runs the **batch** detector :func:`patrolwatch.detect.formations.formations`
on a bounded window of recent fixes, then stitches the answers of successive runs; it
never decides itself whether tracks fly together.

How it works
------------
1. **Cadence.** Fixes are buffered per track. ``formations`` is re-run when at least
   ``every_s`` (default :data:`DEFAULT_EVERY_S`, 30 s) of stream time passed since the last
   run, not on every batch; :meth:`FormationTracker.flush` runs it a last time and
   finalises everything. Stream time is the newest fix time, or the clock given to
   :meth:`FormationTracker.advance` less ``latency_s``.
2. **Window.** Each run sees, per track, its buffered fixes. A track keeps the fixes of the
   last ``min_duration_s + every_s + 2 * lag + 3 * grid_s`` of stream time (*base
   window*), where ``lag`` is the largest bridge limit of the window's tracks
   (``max_dropout_s`` plus the track's median reporting interval, at most ``max_lag_s``)
   plus the speed window and a grid step: enough for any pair that becomes linked to be
   seen from the start of its run. A track that is a member of any episode of an *open*
   group also keeps every fix since its first step in that group (less twice its lag), so
   that the whole group, with its numbering and changes, is in every run, up to
   ``max_group_s`` (default :data:`DEFAULT_MAX_GROUP_S`, 12 h): a group open longer than
   that is ended (``closed_by="window_full"``) and followed as a new group from the base
   window on. Every track also keeps at least its last :data:`MIN_WINDOW_FIXES` fixes, so
   that the median reporting interval of its window rests on enough intervals.
3. **Trust.** A group of a run is used only when every member's window reaches back
   at least its lag before the member's first step in the group (its samples there are
   those of the whole input). A group holding an episode of an open group is that group,
   grown, merged or changed. Otherwise a group holding an episode of a group that already
   ended, or in which a track first appears at a step where it was in such a group, is
   a remnant of it cut by the window (the window only removes fixes, so its groups have
   the whole input's steps and members, or fewer) and is ignored; any other group is new.
4. **Settled steps.** Grid steps at or before ``stream time - min_duration_s - lag -
   grid_s`` are settled: no later fix can change a sample, a link or a membership there.
   An episode whose last step is settled (one step after it too) is *final*.

Events
------
Every event is a :class:`~patrolwatch.serve.stream.StreamEvent` with ``track_id`` the
episode's first member, ``zone_id`` ``""``, ``row`` the episode row (columns of
:data:`~patrolwatch.detect.formations.FORMATION_SCHEMA`, times as int ns; ``members``,
``operators``, ``joined``, ``left`` are ``;``-joined, ``joint`` is True when the members
have at least two known operators), ``attrs`` the members' attributes joined the same way
(``operator`` is e.g. ``"CHN;RUS"``, as the row's ``operators``) and ``fix_ids`` the
fixes bracketing the members at the episode's start and end. Ids are deterministic,
from the episode's start time and members, so a re-run, a restart or another batching
gives the same ids and a store ignores duplicates.

``formation_start``
    A group formed (an episode whose ``start_change`` is ``formed``), published at the
    first run that sees it (so once its pairs stayed close for ``min_duration_s``) in
    which the samples at its first step are final: every track of the group reported
    after that step plus the speed window, or has been silent longer than its bridge
    limit (a member missing only because its next fix is on its way is no change).
    ``time_ns`` is the start (first grid step), ``row["detected_time"]`` the stream time
    of the run that found it; end columns are provisional (the episode so far).
``formation_change``
    Membership changed: a new episode in an existing group (``start_change`` ``joined``,
    ``left``, ``merged``, ``split`` or ``changed``), with the same fields.
``formation_end``
    An episode is final: ``time_ns`` is its last grid step and ``row`` is the batch row.
    ``closed_by`` is ``""``, ``end_of_stream`` (:meth:`FormationTracker.flush` ended it)
    or ``window_full``.

An episode that a later run no longer finds (late fixes, or a pair that turned out to be
linked from an earlier step) is re-published with ``correction="retracted"``; a published
``formation_end`` whose row changes (late fixes, or groups renumbered when two earlier
groups merged) is re-published with ``correction="updated"``, as
:mod:`patrolwatch.serve.stream` does. A ``formation_start``/``formation_change`` is
re-published as ``updated`` only when its start columns (``start_change``, ``joined``,
``operators``, ``joint``) change; its ``group_id`` and ``episode`` are those known when
it was found.

Late fixes (older than the newest fix of their track) are inserted in time order; the next
run sees them. A fix older than the part of its track's window already dropped cannot be
used and is counted (``stats["fixes_too_old"]``). A track without fixes for
``evict_after_s`` of stream time that is in no open group is forgotten.

Equivalence
-----------
Replaying fixes in time order in any batch sizes and calling :meth:`FormationTracker.flush`,
the rows of the ``formation_end`` events (corrections applied) equal the rows of
``formations`` on all the fixes with the same parameters and ``chance_shifts_s=()``:
``group_id`` and ``episode`` number groups from 1 in order of start time since the
tracker was created, as the batch numbers them over its input. Conditions:

* ``chance_rate`` is null: the background model compares each member with *all* other
  traffic shifted by up to an hour, which the bounded window does not hold (run
  ``formations`` on the stored fixes for it). ``zones`` is null too.
* The bridge limit of a track is ``max_dropout_s`` plus its median reporting interval
  *over the window*, where the batch takes the median over all its fixes: the answers
  are equal unless a track has a silence whose length lies between the two limits.
* No group stays open longer than ``max_group_s``, no track reports less often than
  ``max_lag_s - max_dropout_s`` and no idle member is evicted.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ..core.tracks import Tracks
from ..detect._resample import bridge_limits_ns
from ..detect.formations import (
    DEFAULT_GRID_S,
    DEFAULT_MAX_DROPOUT_S,
    DEFAULT_MAX_SEP_M,
    DEFAULT_MAX_VSEP_M,
    DEFAULT_MIN_DURATION_S,
    MIN_AIRBORNE_SPEED_MPS,
    SPEED_WINDOW_S,
    formations,
)
from ..errors import check_nonneg, check_positive
from ..units import NS_PER_S
from ._sources import SourceNames
from .stream import FixBatch, StreamEvent

__all__ = [
    "DEFAULT_EVERY_S",
    "DEFAULT_EVICT_AFTER_S",
    "DEFAULT_LATENCY_S",
    "DEFAULT_MAX_GROUP_S",
    "DEFAULT_MAX_LAG_S",
    "FORMATION_EVENT_TYPES",
    "MIN_WINDOW_FIXES",
    "FormationTracker",
]

FORMATION_EVENT_TYPES: tuple[str, ...] = ("formation_start", "formation_change", "formation_end")
"""Event types a :class:`FormationTracker` publishes."""

DEFAULT_EVERY_S = 30.0
"""``formations`` is re-run when this much stream time (s) passed since the last run."""
DEFAULT_MAX_GROUP_S = 12 * 3600.0
"""A group open longer than this (s) is ended as ``window_full`` (bounds the window)."""
DEFAULT_EVICT_AFTER_S = 1800.0
"""A track silent this long (stream time, s) and in no open group is forgotten."""
DEFAULT_MAX_LAG_S = 900.0
"""Largest bridge limit (s) the tracker waits for before a step counts as settled."""
DEFAULT_LATENCY_S = 60.0
"""With :meth:`FormationTracker.advance`, fixes may arrive this long (s) after their time."""
MIN_WINDOW_FIXES = 32
"""Every track keeps at least its last this many fixes, so that the median reporting
interval of the window (which sets the bridge limit) rests on enough intervals."""

TIME_COLUMNS = ("start_time", "end_time")
START_FIELDS = ("members", "operators", "joint", "start_time", "start_change", "joined")
"""Columns of an episode fixed by its start: a start event is updated when they change."""
_SRC_NAME = "f"  # provenance name of fixes inside the tracker's own formations calls
_NEVER = np.iinfo(np.int64).min
_COLS = ("t", "lon", "lat", "alt", "spd", "hdg", "fix", "src", "line", "seq")
_DTYPES: dict[str, Any] = {
    "t": np.int64,
    "lon": np.float64,
    "lat": np.float64,
    "alt": np.float64,
    "spd": np.float64,
    "hdg": np.float64,
    "fix": np.int64,
    "src": np.int32,
    "line": np.int64,
    "seq": np.int64,
}


# =========================================================================== state
class _Track:
    """One track's buffered fixes (time order; equal times in arrival order)."""

    __slots__ = ("attrs", "cols", "id", "last_t", "pending", "pruned_ns", "restarted")

    def __init__(self, track_id: str) -> None:
        self.id = track_id
        self.cols: dict[str, npt.NDArray[Any]] = {c: np.zeros(0, dtype=_DTYPES[c]) for c in _COLS}
        self.pending: list[dict[str, npt.NDArray[Any]]] = []
        self.attrs: dict[str, str] = {}
        self.last_t = _NEVER
        self.pruned_ns = _NEVER  # time of the newest fix dropped from the window
        self.restarted = False  # its group was ended as window_full: trust its window

    @property
    def n(self) -> int:
        return int(self.cols["t"].shape[0]) + sum(int(p["t"].shape[0]) for p in self.pending)

    def consolidate(self) -> None:
        """Merge the pending fixes in, in (time, arrival) order."""
        if not self.pending:
            return
        merged = {c: np.concatenate([self.cols[c], *(p[c] for p in self.pending)]) for c in _COLS}
        self.pending.clear()
        t = merged["t"]
        if t.size > 1 and bool(np.any(t[1:] < t[:-1])):
            order = np.lexsort((merged["seq"], t))
            merged = {c: v[order] for c, v in merged.items()}
        self.cols = merged

    def prune(self, keep_from_ns: int) -> None:
        """Drop the fixes older than ``keep_from_ns``."""
        t = self.cols["t"]
        k = int(np.searchsorted(t, keep_from_ns, side="left"))
        if k > 0:
            self.pruned_ns = max(self.pruned_ns, int(t[k - 1]))
            self.cols = {c: v[k:] for c, v in self.cols.items()}


@dataclass(eq=False)
class _Group:
    """A group of episodes (batch ``group_id``), identified by its episodes' keys."""

    keys: list[tuple[int, str]] = field(default_factory=list)
    closed: bool = False


@dataclass(eq=False)
class _Episode:
    """One episode (key: start time, members) and what was published about it."""

    key: tuple[int, str]
    row: dict[str, Any]
    fix_ids: tuple[int, ...]
    detected_ns: int
    group: _Group
    final: bool = False
    start_event: StreamEvent | None = None
    end_event: StreamEvent | None = None


# =========================================================================== tracker
class FormationTracker:
    """Formations from fixes arriving in batches (see the module docstring).

    Parameters
    ----------
    max_sep_m, max_vsep_m, min_duration_s, max_dropout_s, grid_s, min_speed_mps
        As in :func:`patrolwatch.detect.formations.formations` (same units and defaults:
        metres, metres, seconds, seconds, seconds, m/s).
    every_s : float, seconds, >= 0
        Least stream time between two runs of ``formations``
        (:data:`DEFAULT_EVERY_S`; 0 runs on every batch).
    max_group_s : float, seconds, > 0
        Longest a group is followed before it is ended as ``window_full``
        (:data:`DEFAULT_MAX_GROUP_S`).
    evict_after_s : float or None, seconds, > 0
        A track silent this long in stream time, in no open group, is forgotten
        (:data:`DEFAULT_EVICT_AFTER_S`; ``None`` never).
    max_lag_s : float, seconds, > 0
        Cap on the bridge limit (``max_dropout_s`` + median reporting interval) used to
        decide which steps are settled and how much to keep (:data:`DEFAULT_MAX_LAG_S`).
    latency_s : float, seconds, >= 0
        How long after their time fixes may still arrive, for :meth:`advance`
        (:data:`DEFAULT_LATENCY_S`).

    Raises
    ------
    ConfigError
        For a parameter out of range (the batch detector's checks, and the above).

    Examples
    --------
    >>> s = 1_000_000_000
    >>> t = np.arange(0, 901, 60) * s
    >>> lon = 130.0 + np.arange(t.size) * 0.1
    >>> n = t.size
    >>> batch = FixBatch.from_arrays(["A"] * n + ["B"] * n, np.r_[t, t], np.r_[lon, lon],
    ...                              [37.0] * n + [37.02] * n,
    ...                              attrs={"operator": ["CHN"] * n + ["RUS"] * n})
    >>> tracker = FormationTracker()
    >>> [(e.type, e.row["members"], e.attrs["operator"]) for e in tracker.push(batch)]
    [('formation_start', 'A;B', 'CHN;RUS')]
    >>> [(e.type, e.row["duration_s"], e.row["joint"]) for e in tracker.flush()]
    [('formation_end', 900.0, True)]
    """

    def __init__(
        self,
        *,
        max_sep_m: float = DEFAULT_MAX_SEP_M,
        max_vsep_m: float = DEFAULT_MAX_VSEP_M,
        min_duration_s: float = DEFAULT_MIN_DURATION_S,
        max_dropout_s: float = DEFAULT_MAX_DROPOUT_S,
        grid_s: float = DEFAULT_GRID_S,
        min_speed_mps: float = MIN_AIRBORNE_SPEED_MPS,
        every_s: float = DEFAULT_EVERY_S,
        max_group_s: float = DEFAULT_MAX_GROUP_S,
        evict_after_s: float | None = DEFAULT_EVICT_AFTER_S,
        max_lag_s: float = DEFAULT_MAX_LAG_S,
        latency_s: float = DEFAULT_LATENCY_S,
    ) -> None:
        self.params: dict[str, Any] = {
            "max_sep_m": float(max_sep_m),
            "max_vsep_m": float(max_vsep_m),
            "min_duration_s": float(min_duration_s),
            "max_dropout_s": float(max_dropout_s),
            "grid_s": float(grid_s),
            "min_speed_mps": float(min_speed_mps),
        }
        # the batch detector's own checks, at once
        formations(Tracks.from_arrays([], [], [], []), chance_shifts_s=(), **self.params)
        check_nonneg("every_s", every_s)
        check_positive("max_group_s", max_group_s)
        check_positive("max_lag_s", max_lag_s)
        check_nonneg("latency_s", latency_s)
        if evict_after_s is not None:
            check_positive("evict_after_s", evict_after_s)
        self.grid_ns = round(grid_s * NS_PER_S)
        self.min_duration_ns = round(min_duration_s * NS_PER_S)
        self.max_dropout_ns = round(max_dropout_s * NS_PER_S)
        half = max(1, round(SPEED_WINDOW_S / 2.0 / grid_s))
        self.speed_ns = half * self.grid_ns
        self.every_ns = round(every_s * NS_PER_S)
        self.max_group_ns = round(max_group_s * NS_PER_S)
        self.evict_after_ns = None if evict_after_s is None else round(evict_after_s * NS_PER_S)
        self.max_lag_ns = round(max_lag_s * NS_PER_S)
        self.latency_ns = round(latency_s * NS_PER_S)
        self._reset()

    def _reset(self) -> None:
        """Forget every track, episode and group."""
        self._tracks: dict[str, _Track] = {}
        self._inbox: list[tuple[FixBatch, Any, Any, Any, Any]] = []
        self._sources = SourceNames()
        self._seq = 0
        self._newest_fix = _NEVER
        self._clock = _NEVER
        self._last_run: int | None = None
        self._episodes: dict[tuple[int, str], _Episode] = {}
        self._groups: list[_Group] = []
        self._retired = 0  # groups numbered before every group still held
        # track -> (first, last) step of the track in each ended group still in reach
        self._closed_spans: dict[str, list[tuple[int, int]]] = {}
        self.stats: dict[str, int] = {
            "fixes_in": 0,
            "fixes_too_old": 0,
            "runs": 0,
            "events": 0,
            "groups_untrusted": 0,
            "groups_ignored": 0,
            "tracks_evicted": 0,
        }

    # ------------------------------------------------------------------ public
    @property
    def open_groups(self) -> int:
        """Number of groups not yet final."""
        return sum(1 for g in self._groups if not g.closed)

    @property
    def base_window_ns(self) -> int:
        """The longest base window a track keeps (ns, see *Window*): with the largest
        bridge limit ``max_lag_s`` plus the speed window and a grid step."""
        lag = self.max_lag_ns + self.speed_ns + self.grid_ns
        return self.min_duration_ns + self.every_ns + 2 * lag + 3 * self.grid_ns

    def window_start_ns(self, track_ids: Iterable[str] | None = None) -> dict[str, int]:
        """Per track (all, or those of ``track_ids`` held), the time of its oldest
        buffered fix: a restart must replay the stored fixes from there."""
        out = {}
        if self._inbox:
            wanted = None if track_ids is None else list(track_ids)
            if wanted is None or any(t not in self._tracks for t in wanted):
                self._distribute()
            track_ids = wanted
        ids = self._tracks if track_ids is None else [t for t in track_ids if t in self._tracks]
        for tid in ids:
            tr = self._tracks[tid]
            starts = [int(c["t"][0]) for c in (tr.cols, *tr.pending) if c["t"].size]
            if starts:
                out[tid] = min(starts)
        return out

    def state_size(self) -> dict[str, int]:
        """Tracks, buffered fixes, held episodes and groups."""
        return {
            "tracks": len(self._tracks),
            "window_fixes": sum(t.n for t in self._tracks.values())
            + sum(len(b[0]) for b in self._inbox),
            "episodes": len(self._episodes),
            "groups": len(self._groups),
        }

    def push(self, batch: FixBatch) -> list[StreamEvent]:
        """Buffer a batch of fixes (any order); re-run ``formations`` when ``every_s`` of
        stream time passed since the last run. Returns the events, in order."""
        n = len(batch)
        self.stats["fixes_in"] += n
        if n == 0:
            return []
        order = np.lexsort((np.arange(n), batch.t_ns, batch.track_id))
        tid_sorted = batch.track_id[order]
        cut = np.flatnonzero(tid_sorted[1:] != tid_sorted[:-1]) + 1
        src = self._sources.ids(batch.source)
        seq = np.arange(self._seq, self._seq + n, dtype=np.int64)
        self._seq += n
        # per-track bookkeeping waits for the next run (every ``every_s``): one pass over
        # all that arrived since, not one per batch
        self._inbox.append((batch, order, cut, src, seq))
        self._newest_fix = max(self._newest_fix, int(batch.t_ns.max()))
        self._clock = max(self._clock, self._newest_fix)
        return self._maybe_run()

    def _distribute(self) -> None:
        """Put the fixes pushed since the last call into their tracks' buffers."""
        inbox, self._inbox = self._inbox, []
        for batch, order, cut, src, seq in inbox:
            self._distribute_one(batch, order, cut, src, seq)

    def _distribute_one(
        self,
        batch: FixBatch,
        order: npt.NDArray[np.int64],
        cut: npt.NDArray[np.int64],
        src: npt.NDArray[np.int32],
        seq: npt.NDArray[np.int64],
    ) -> None:
        for g in np.split(order, cut):  # per track of the batch: bookkeeping only
            tid = str(batch.track_id[g[0]])
            track = self._tracks.get(tid)
            if track is None:
                track = self._tracks[tid] = _Track(tid)
            for key, values in batch.attrs.items():
                if not track.attrs.get(key):
                    nonempty = values[g][values[g] != ""]
                    if nonempty.size:
                        track.attrs[key] = str(nonempty[0])
            t = batch.t_ns[g]
            ok = t > track.pruned_ns
            if not ok.all():
                self.stats["fixes_too_old"] += int((~ok).sum())
                g, t = g[ok], t[ok]
                if g.size == 0:
                    continue
            track.pending.append(
                {
                    "t": t,
                    "lon": batch.lon_deg[g],
                    "lat": batch.lat_deg[g],
                    "alt": batch.alt_m[g],
                    "spd": batch.speed_mps[g],
                    "hdg": batch.heading_deg[g],
                    "fix": batch.fix_id[g],
                    "src": src[g],
                    "line": batch.line[g],
                    "seq": seq[g],
                }
            )
            track.last_t = max(track.last_t, int(t.max()))

    def advance(self, now_ns: int) -> list[StreamEvent]:
        """Move stream time to ``now_ns - latency_s`` (e.g. the wall clock of a live feed)
        without fixes: formations whose members stopped reporting end. Returns the events."""
        self._clock = max(self._clock, int(now_ns) - self.latency_ns)
        return self._maybe_run()

    def flush(self) -> list[StreamEvent]:
        """End of stream: run ``formations`` a last time, publish every episode as final
        (``formation_end``) and forget everything."""
        events = self._run(final=True)
        stats = self.stats
        self._reset()
        self.stats = stats
        return events

    # ------------------------------------------------------------------ runs
    def _maybe_run(self) -> list[StreamEvent]:
        if self._clock == _NEVER:
            return []
        if self._last_run is not None and self._clock - self._last_run < self.every_ns:
            return []
        return self._run(final=False)

    def _window(self) -> tuple[Tracks, dict[str, npt.NDArray[Any]]]:
        """One Tracks of every buffered fix; each fix's provenance line is its row in it,
        so that ``source_rows`` names the fixes (mapped back by :meth:`_provenance`)."""
        tracks = [t for _, t in sorted(self._tracks.items()) if t.cols["t"].size]
        sizes = [int(t.cols["t"].shape[0]) for t in tracks]
        offsets = np.zeros(len(tracks) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        cols = {
            c: np.concatenate([t.cols[c] for t in tracks]).astype(_DTYPES[c], copy=False)
            if tracks
            else np.zeros(0, dtype=_DTYPES[c])
            for c in _COLS
        }
        total = int(offsets[-1])
        keys = sorted({k for t in tracks for k in t.attrs})
        window = Tracks(
            track_ids=np.asarray([t.id for t in tracks], dtype=str),
            offsets=offsets,
            t_ns=cols["t"],
            lon_deg=cols["lon"],
            lat_deg=cols["lat"],
            alt_m=cols["alt"],
            speed_mps=cols["spd"],
            heading_deg=cols["hdg"],
            src_file=np.zeros(total, dtype=np.int32),
            src_line=np.arange(total, dtype=np.int64),
            sources=(_SRC_NAME,),
            attrs={k: np.asarray([t.attrs.get(k, "") for t in tracks], dtype=str) for k in keys},
        )
        return window, cols

    def _provenance(
        self, text: str, cols: Mapping[str, npt.NDArray[Any]]
    ) -> tuple[str, tuple[int, ...]]:
        """``source_rows`` of the fixes a window row names, and their fix ids."""
        idx = np.asarray(
            sorted({int(p.rsplit(":", 1)[1]) for p in text.split(";") if p}), dtype=np.int64
        )
        prov = sorted(
            {(self._sources[int(cols["src"][i])], int(cols["line"][i])) for i in idx.tolist()}
        )
        fix_ids = tuple(sorted({int(cols["fix"][i]) for i in idx.tolist()}))
        return ";".join(f"{s}:{ln}" for s, ln in prov), fix_ids

    def _rows(
        self, window: Tracks, cols: Mapping[str, npt.NDArray[Any]]
    ) -> list[tuple[dict[str, Any], int, tuple[int, ...]]]:
        """``(row, window group id, fix ids)`` of the batch detector on the window."""
        table = formations(window, chance_shifts_s=(), **self.params).to_arrow()
        for name in TIME_COLUMNS:
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, table.column(name).cast("int64"))
        out = []
        for row in table.to_pylist():
            row["source_rows"], fix_ids = self._provenance(row["source_rows"], cols)
            out.append((row, int(row["group_id"]), fix_ids))
        return out

    def _run(self, *, final: bool) -> list[StreamEvent]:
        """Re-run ``formations`` on the window and publish what changed."""
        self._distribute()
        self.stats["runs"] += 1
        self._last_run = self._clock
        for t in self._tracks.values():
            t.consolidate()
        window, cols = self._window()
        g = self.grid_ns
        lag_of: dict[str, int] = {}
        if window.n_tracks:
            limits = bridge_limits_ns(
                window, self.max_dropout_ns / NS_PER_S, plus_median_interval=True
            )
            for tid, lim in zip(window.track_ids.tolist(), limits.tolist(), strict=True):
                lag_of[tid] = min(int(lim), self.max_lag_ns) + self.speed_ns + g
        lag = max(lag_of.values(), default=self.max_dropout_ns + self.speed_ns + g)
        live = self._clock - self.min_duration_ns - lag - g  # last settled step
        settled = np.iinfo(np.int64).max if final else live
        rows = self._rows(window, cols) if window.n_tracks >= 2 else []
        by_group: dict[int, list[tuple[dict[str, Any], tuple[int, ...]]]] = {}
        for row, wg, fix_ids in rows:
            by_group.setdefault(wg, []).append((row, fix_ids))
        events: list[StreamEvent] = []
        untrusted: set[tuple[int, str]] = set()
        accepted: list[list[tuple[dict[str, Any], tuple[int, ...]]]] = []
        for members in by_group.values():
            verdict = self._judge(members, lag_of)
            if verdict == "untrusted":
                self.stats["groups_untrusted"] += 1
                untrusted.update(_key(r) for r, _ in members)
            elif verdict == "ignored":
                self.stats["groups_ignored"] += 1
            else:
                accepted.append(members)
        # rebuild the open groups from the accepted groups of this run
        seen: set[tuple[int, str]] = {_key(r) for m in accepted for r, _ in m}
        kept_old: list[_Group] = []
        for grp in [x for x in self._groups if not x.closed]:
            left = [k for k in grp.keys if k in untrusted and k not in seen]
            for k in grp.keys:
                if k not in seen and k not in untrusted:
                    events.extend(self._retract(self._episodes.pop(k)))
            if left:  # not seen in a group we can use this time: keep as it was
                grp.keys = left
                kept_old.append(grp)
        self._groups = [x for x in self._groups if x.closed] + kept_old
        fresh: list[tuple[_Episode, dict[str, Any], tuple[int, ...], int]] = []
        for members in accepted:
            grp = _Group()
            # the samples of the group's tracks are final up to this time (each track
            # reported after it, or has been silent longer than its bridge limit)
            sure = min(
                self._clock
                if self._clock - self._tracks[tid].last_t > lag_of[tid]
                else self._tracks[tid].last_t
                for r, _ in members
                for tid in r["members"].split(";")
            )
            for row, fix_ids in members:
                key = _key(row)
                ep = self._episodes.get(key)
                if ep is None:
                    ep = self._episodes[key] = _Episode(key, row, fix_ids, self._clock, grp)
                elif ep.group.closed:  # ended too early (a fix came later than its lag)
                    ep.group.keys.remove(key)
                ep.group = grp
                grp.keys.append(key)
                fresh.append((ep, row, fix_ids, sure))
                for tid in row["members"].split(";"):
                    self._tracks[tid].restarted = False
            self._groups.append(grp)
        self._number()
        for ep, row, fix_ids, sure in fresh:
            row["group_id"] = ep.row["group_id"]  # as numbered over the tracker's groups
            ready = row["start_time"] + self.speed_ns + g <= sure or row["start_time"] <= live
            events.extend(self._publish(ep, row, fix_ids, settled, live, ready=final or ready))
        for grp in self._groups:
            if not grp.closed and all(self._episodes[k].final for k in grp.keys):
                self._close(grp)
        events.extend(self._renumbered())
        events.extend(self._window_full())
        self._retire()
        self._prune(lag_of, lag)
        self.stats["events"] += len(events)
        return events

    def _judge(
        self, members: Sequence[tuple[dict[str, Any], tuple[int, ...]]], lag_of: Mapping[str, int]
    ) -> str:
        """``"ok"``, ``"untrusted"`` (a member's window is too short for the group) or
        ``"ignored"`` (a remnant of a group that already ended, cut by the window).

        A group with an episode of an open group is that group (grown, merged or
        changed). Otherwise a group with an episode of an ended group, or in which a track
        first appears at a step where it was in an ended group, is a remnant of it (a
        group's steps and members at each step are the whole input's, or fewer when the
        window cut some fixes); else it is new."""
        first: dict[str, int] = {}
        for row, _ in members:
            for tid in row["members"].split(";"):
                first[tid] = min(first.get(tid, row["start_time"]), row["start_time"])
        for tid, t0 in first.items():
            track = self._tracks[tid]
            if not track.restarted and t0 - lag_of[tid] <= track.pruned_ns:
                return "untrusted"
        held = [self._episodes.get(_key(row)) for row, _ in members]
        if any(ep is not None and not ep.group.closed for ep in held):
            return "ok"
        if any(ep is not None for ep in held):
            return "ignored"
        for tid, t0 in first.items():
            spans = self._closed_spans.get(tid, ())
            if not self._tracks[tid].restarted and any(a <= t0 <= b for a, b in spans):
                return "ignored"
        return "ok"

    def _number(self) -> None:
        """``group_id`` of every held episode: groups from 1 in order of start time (then
        first member name), counting the groups already retired; ``episode`` as the batch
        numbered it (the group is whole in the window) for the groups of this run."""

        def order(grp: _Group) -> tuple[int, str]:
            eps = [self._episodes[k] for k in grp.keys]
            names = [n for e in eps for n in e.key[1].split(";")]
            return (min(e.key[0] for e in eps), min(names))

        self._groups = [x for x in self._groups if x.keys]
        self._groups.sort(key=order)
        for i, grp in enumerate(self._groups):
            for k in grp.keys:
                self._episodes[k].row["group_id"] = self._retired + 1 + i

    def _publish(
        self,
        ep: _Episode,
        row: dict[str, Any],
        fix_ids: tuple[int, ...],
        settled: int,
        live: int,
        *,
        ready: bool,
    ) -> list[StreamEvent]:
        """Publish an episode of this run: its start when new and ``ready`` (the samples
        at its first step are final), its end when final."""
        out: list[StreamEvent] = []
        ep.row, ep.fix_ids = row, fix_ids
        if row["end_time"] + self.grid_ns <= settled:
            ep.final = True
            ready = True
        if ep.start_event is None:
            if not ready:
                return out
            kind = "formation_start" if row["start_change"] == "formed" else "formation_change"
            ep.start_event = self._event(kind, ep, "")
            out.append(ep.start_event)
        elif any(ep.start_event.row[c] != row[c] for c in START_FIELDS):
            ep.start_event = self._event(ep.start_event.type, ep, "updated")
            out.append(ep.start_event)
        if ep.final:
            ended_by_flush = row["end_time"] + self.grid_ns > live
            out.extend(self._end(ep, "end_of_stream" if ended_by_flush else ""))
        return out

    def _end(self, ep: _Episode, how: str) -> list[StreamEvent]:
        """Publish (or update) the episode's final row."""
        prev = ep.end_event
        if prev is None:
            ep.end_event = self._event("formation_end", ep, "", how)
            return [ep.end_event]
        if _canon(prev.row) != _canon(ep.row) or prev.correction == "retracted":
            ep.end_event = self._event("formation_end", ep, "updated", prev.closed_by)
            return [ep.end_event]
        return []

    def _retract(self, ep: _Episode) -> list[StreamEvent]:
        out = []
        for e in (ep.start_event, ep.end_event):
            if e is not None:
                out.append(replace(e, correction="retracted"))
        return out

    def _close(self, grp: _Group) -> None:
        grp.closed = True
        span: dict[str, tuple[int, int]] = {}
        for k in grp.keys:
            end = int(self._episodes[k].row["end_time"])
            for tid in k[1].split(";"):
                a, b = span.get(tid, (k[0], end))
                span[tid] = (min(a, k[0]), max(b, end))
        for tid, ab in span.items():
            self._closed_spans.setdefault(tid, []).append(ab)

    def _renumbered(self) -> list[StreamEvent]:
        """Final rows whose ``group_id`` changed (two earlier groups merged): updated."""
        out: list[StreamEvent] = []
        for grp in self._groups:
            for k in grp.keys:
                ep = self._episodes[k]
                e = ep.end_event
                if e is not None and e.row["group_id"] != ep.row["group_id"]:
                    out.extend(self._end(ep, e.closed_by))
        return out

    def _window_full(self) -> list[StreamEvent]:
        """End the groups open longer than ``max_group_s``; follow them afresh."""
        out: list[StreamEvent] = []
        for grp in self._groups:
            if grp.closed:
                continue
            start = min(self._episodes[k].key[0] for k in grp.keys)
            if self._newest_fix - start <= self.max_group_ns:
                continue
            for k in grp.keys:
                ep = self._episodes[k]
                if not ep.final:
                    ep.final = True
                    out.extend(self._end(ep, "window_full"))
                for tid in k[1].split(";"):
                    if tid in self._tracks:
                        self._tracks[tid].restarted = True
            grp.closed = True
        return out

    def _retire(self) -> None:
        """Forget closed groups that started before every open group (their numbers can
        no longer change)."""
        open_starts = [
            min(self._episodes[k].key[0] for k in grp.keys)
            for grp in self._groups
            if not grp.closed
        ]
        horizon = min(open_starts, default=np.iinfo(np.int64).max)
        keep: list[_Group] = []
        for grp in self._groups:
            start = min(self._episodes[k].key[0] for k in grp.keys)
            if grp.closed and start < horizon:
                self._retired += 1
                for k in grp.keys:
                    del self._episodes[k]
            else:
                keep.append(grp)
        self._groups = keep

    def _prune(self, lag_of: Mapping[str, int], lag: int) -> None:
        """Drop the fixes no later run needs (module docstring, *Window*), forget idle
        tracks and the ended-group marks that no window can reach any more."""
        first: dict[str, int] = {}
        for grp in self._groups:
            if grp.closed:
                continue
            for k in grp.keys:
                for tid in k[1].split(";"):
                    first[tid] = min(first.get(tid, k[0]), k[0])
        base = self._newest_fix - (
            self.min_duration_ns + self.every_ns + 2 * lag + 3 * self.grid_ns
        )
        for tid in list(self._tracks):
            track = self._tracks[tid]
            t = track.cols["t"]
            # the last MIN_WINDOW_FIXES fixes stay: the window's median interval
            floor = int(t[-MIN_WINDOW_FIXES]) if t.size >= MIN_WINDOW_FIXES else _NEVER
            if tid in first:
                keep = first[tid] - 2 * lag_of.get(tid, lag) - self.grid_ns
                track.prune(min(keep, base, floor))
                continue
            idle = self.evict_after_ns is not None and (
                self._newest_fix - track.last_t >= self.evict_after_ns
            )
            if idle:
                del self._tracks[tid]
                self.stats["tracks_evicted"] += 1
            else:
                track.prune(min(base, floor))
        if self._sources.crowded(len(self._tracks)):
            self._compact_sources()
        for tid in list(self._closed_spans):  # a window cannot reach these any more
            tr = self._tracks.get(tid)
            spans = [
                ab for ab in self._closed_spans[tid] if tr is not None and ab[1] > tr.pruned_ns
            ]
            if spans:
                self._closed_spans[tid] = spans
            else:
                del self._closed_spans[tid]

    def _compact_sources(self) -> None:
        """Forget the source names no buffered fix refers to (a live service names each
        delivery: the list would grow for ever)."""
        for t in self._tracks.values():
            t.consolidate()
        remap = self._sources.compact(t.cols["src"] for t in self._tracks.values())
        for t in self._tracks.values():
            t.cols["src"] = remap[t.cols["src"]]

    # ------------------------------------------------------------------ events
    def _event(self, kind: str, ep: _Episode, correction: str, closed_by: str = "") -> StreamEvent:
        row = dict(ep.row)
        start, members = ep.key
        names = members.split(";")
        if kind == "formation_end":
            eid = _digest("formation", "end", start, members)
            time_ns = int(row["end_time"])
        else:
            eid = _digest("formation", "start", start, members)
            row["detected_time"] = ep.detected_ns
            time_ns = start
        attrs: dict[str, str] = {}
        keys = sorted({k for n in names if n in self._tracks for k in self._tracks[n].attrs})
        for k in keys:
            vals = {self._tracks[n].attrs.get(k, "") for n in names if n in self._tracks}
            attrs[k] = ";".join(sorted(v for v in vals if v))
        attrs["operator"] = str(row.get("operators") or "")
        return StreamEvent(
            eid,
            kind,
            names[0],
            "",
            time_ns,
            row,
            attrs,
            ep.fix_ids,
            closed_by,
            correction,
        )


def _key(row: Mapping[str, Any]) -> tuple[int, str]:
    return (int(row["start_time"]), str(row["members"]))


def _canon(row: Mapping[str, Any]) -> str:
    """Row text for comparisons (NaN and infinities as null, so equal rows compare equal)."""
    clean = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()
    }
    return json.dumps(clean, sort_keys=True, default=str)


def _digest(*parts: object) -> str:
    """The id of an event: the first 24 hex digits of the SHA-1 of its parts."""
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:24]
