"""The streaming detector: batches of fixes in, zone entries, visits and corrections out.

:class:`Detector` runs the **batch** detector :func:`patrolwatch.detect.crossings.crossings`
on each new batch, per track on the new fixes plus the last fix it already had, and
stitches the answers; it never computes a crossing itself. Replaying any input through it
in time order and calling :meth:`Detector.flush` gives the rows that ``crossings`` gives on
the whole input (see *Equivalence* below).

How a batch is processed
------------------------
1. Each track keeps a *window*: its fixes from the start of its earliest open visit (or
   open ``possible`` run) to its newest fix; with no open item only the newest fix.
2. The new fixes of every track that received some, each preceded by that track's newest
   known fix (the *carried* fix), make one :class:`~patrolwatch.core.tracks.Tracks` per
   group of zones; ``crossings`` finds every visit in those segments. A track is left
   out for a polygon zone when none of its new segments can cross the zone's boundary
   (the batch detector's own bulge-padded segment boxes meet no edge box, and all its
   fixes are on one side): it then only continues an open visit or stays outside.
3. A visit that starts and ends inside the new segments is final: it is published as is.
   A visit that starts in them opens (an ``entry`` event, with the exact interpolated
   entry time, brackets and position). A visit that ends in them closes an open visit:
   ``crossings`` is run once more for that zone on the track's window from the fix before
   the entry, and its row for this visit is published as the ``visit`` event. Because a
   visit's row depends only on the fixes from the one before its entry to the one after
   its exit, this row is the row of the whole-input run.
4. ``near`` rows (``near_m``) are kept per (track, zone) as the closest pass so far and
   published when the track ends (:meth:`flush`, or eviction), unless the track entered
   the zone. They are computed in large passes (every :data:`NEAR_PASS_FIXES` fixes and
   when a track ends): a pass costs about as much for few segments as for many.
   ``possible`` runs (``max_speed_mps``) are stitched like visits.

Events
------
Every event is a :class:`StreamEvent` with a deterministic ``id`` (the same fixes give the
same ids in any batching, so a store can ignore duplicates after a restart):

``entry``
    A visit opened: ``row`` holds the entry columns of a crossing row (exit columns null).
``visit``
    A visit closed: ``row`` is the crossing row (``CROSSING_SCHEMA``), identical to the batch
    row. ``closed_by`` is ``exit``, ``end_of_stream`` (:meth:`flush`) or ``lost_contact``
    (eviction: the track ended; its exit columns are null as for a track that ends inside).
``near``, ``possible``
    The crossing rows of those evidences.
``late_fix``
    A fix older than the lateness window of its track: it is not used for detection (the
    store keeps it); ``affects`` lists the ids of published events whose time span contains
    it, so that they can be re-checked.
``gap_open``
    A track silent for more than ``gap_s`` of stream time (a live notice: the batch
    detector cannot know a silence before the track reports again).
``gap_close``
    A track reported again after a silence longer than ``gap_s``: ``row`` is the row of
    the batch detector :func:`patrolwatch.detect.gaps.gaps` for that silence (ends, distance,
    implied speed, zones at both ends and along the path). ``shared_with``, ``coverage``
    and ``label`` need the other tracks' fixes over the whole silence, which the detector
    does not keep: they are null here (run ``gaps`` on the stored fixes for them).

A fix older than its track's newest fix but within ``lateness_s`` of it is used: the track
is rolled back to the last step before that fix and re-run, and every published event that
changes is re-published with ``correction`` set to ``"added"``, ``"updated"`` or
``"retracted"`` (same ``id``). Nothing is dropped silently.

Equivalence
-----------
For fixes given in time order per track and a final :meth:`flush`, the ``visit``, ``near``
and ``possible`` rows equal the rows of ``crossings`` on all the fixes with the same zones
and options, provided no track is silent longer than ``evict_after_s`` (an evicted track
ends; its later fixes start a new track, which a batch run would join across the silence).
Text, ids, evidence, brackets (fix times) and ``source_rows`` are equal; interpolated
floats agree to ~1e-12 relative (the batch root finder stops when every root of one call
has converged, so the batch's own answers shift that much with the other tracks given).

State is bounded per track: its window (the fixes of its open visits, at most
``max_window_fixes``), its lateness log (steps of the last ``lateness_s``), and one near
row per zone. An idle track is evicted after ``evict_after_s`` of stream time.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..core.events import CROSSING_SCHEMA
from ..core.geodesy import M_PER_DEG_LAT_MIN, m_per_deg_lon
from ..core.tracks import Tracks, check_lonlat
from ..core.zones import Zones
from ..detect._geometry import Frame
from ..detect.crossings import crossings
from ..errors import ConfigError, SchemaError
from ..units import NS_PER_S
from ._sources import SourceNames

__all__ = [
    "DEFAULT_EVICT_AFTER_S",
    "DEFAULT_GAP_S",
    "DEFAULT_LATENESS_S",
    "DEFAULT_MAX_WINDOW_FIXES",
    "EVENT_TYPES",
    "Detector",
    "FixBatch",
    "StreamEvent",
    "event_span",
    "iso_utc",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

DEFAULT_LATENESS_S = 60.0
"""A fix up to this many seconds older than its track's newest fix is still used exactly."""
DEFAULT_EVICT_AFTER_S = 1800.0
"""A track silent for this long (stream time, s) ends: open visits close as lost contact."""
DEFAULT_GAP_S = 300.0
"""A track silent for this long (stream time, s) has a reporting gap."""
DEFAULT_MAX_WINDOW_FIXES = 200_000
"""Most fixes kept for one track's open visits; past that its visits close as lost contact
and reopen from the newest fix (the only case, with eviction, that differs from batch)."""

NEAR_PASS_FIXES = 50_000
"""``near`` passes run when this many fixes arrived since the last one (and when tracks
end); between passes a track's window also keeps the fixes not yet passed."""

EventType = Literal[
    "entry", "visit", "near", "possible", "late_fix", "gap_open", "gap_close", "correction"
]
EVENT_TYPES: tuple[str, ...] = (
    "entry",
    "visit",
    "near",
    "possible",
    "late_fix",
    "gap_open",
    "gap_close",
)
"""Event types a :class:`Detector` publishes."""

TIME_COLUMNS = tuple(f.name for f in CROSSING_SCHEMA if pa.types.is_timestamp(f.type))
ENTRY_COLUMNS = (
    "kind",
    "track_id",
    "zone_id",
    "zone_name",
    "zone_kind",
    "claimants",
    "entry_time",
    "entry_lat",
    "entry_lon",
    "entry_bracket_start",
    "entry_bracket_end",
    "evidence",
    "first_fix_time",
    "altitude",
    "zone_caveat",
)
_VISIT = ("observed", "interpolated")
_SRC_NAME = "f"  # provenance name of fixes inside the detector's own crossings calls


# =========================================================================== inputs
@dataclass(frozen=True)
class FixBatch:
    """Fixes in arrival order, one element per fix.

    Attributes
    ----------
    track_id : ndarray of str
    t_ns : ndarray of int64, ns since the epoch, UTC
    lon_deg, lat_deg : ndarray of float64, degrees WGS84, in [-180, 180] and [-90, 90]
    alt_m, speed_mps, heading_deg : ndarray of float64, m, m/s, degrees (NaN if unknown)
    fix_id : ndarray of int64
        A unique id per fix (the store's row id); events name their fixes by it.
    source : ndarray of str
        Where each fix came from (a file name or feed), for ``source_rows``.
    line : ndarray of int64
        Line or message number in ``source`` (``source_rows`` is ``source:line``).
    attrs : mapping of str to ndarray of str
        Per-fix track attributes (``operator``, ``type``, ``callsign``, ``source_kind``);
        ``""`` where unknown. A track keeps the first non-empty value of each.
    """

    track_id: npt.NDArray[np.str_]
    t_ns: I64
    lon_deg: F64
    lat_deg: F64
    alt_m: F64
    speed_mps: F64
    heading_deg: F64
    fix_id: I64
    source: npt.NDArray[np.str_]
    line: I64
    attrs: Mapping[str, npt.NDArray[np.str_]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.t_ns.shape[0])

    @classmethod
    def from_arrays(
        cls,
        track_id: Sequence[str] | npt.ArrayLike,
        t_ns: npt.ArrayLike,
        lon_deg: npt.ArrayLike,
        lat_deg: npt.ArrayLike,
        *,
        alt_m: npt.ArrayLike | None = None,
        speed_mps: npt.ArrayLike | None = None,
        heading_deg: npt.ArrayLike | None = None,
        fix_id: npt.ArrayLike | None = None,
        source: str | Sequence[str] | npt.ArrayLike = "<stream>",
        line: npt.ArrayLike | None = None,
        attrs: Mapping[str, npt.ArrayLike] | None = None,
    ) -> FixBatch:
        """Build a batch, checking lengths and coordinate ranges.

        Raises
        ------
        SchemaError
            When the arrays differ in length or a coordinate is out of range.

        Examples
        --------
        >>> b = FixBatch.from_arrays(["A", "A"], [0, 10**9], [130.0, 130.1], [37.0, 37.0])
        >>> len(b), b.fix_id.tolist(), b.line.tolist()
        (2, [0, 1], [1, 2])
        """
        ids = np.asarray(track_id, dtype=str)
        n = ids.shape[0]

        def f64(x: npt.ArrayLike | None) -> F64:
            if x is None:
                return np.full(n, np.nan)
            return np.ascontiguousarray(x, dtype=np.float64)

        t = np.asarray(t_ns, dtype=np.int64)
        lon, lat = f64(lon_deg), f64(lat_deg)
        src = (
            np.full(n, source, dtype=object).astype(str)
            if isinstance(source, str)
            else np.asarray(source, dtype=str)
        )
        arrays: dict[str, npt.NDArray[Any]] = {
            "t_ns": t,
            "lon_deg": lon,
            "lat_deg": lat,
            "alt_m": f64(alt_m),
            "speed_mps": f64(speed_mps),
            "heading_deg": f64(heading_deg),
            "fix_id": np.arange(n, dtype=np.int64)
            if fix_id is None
            else np.asarray(fix_id, dtype=np.int64),
            "source": src,
            "line": np.arange(1, n + 1, dtype=np.int64)
            if line is None
            else np.asarray(line, dtype=np.int64),
        }
        for name, arr in arrays.items():
            if arr.shape != (n,):
                raise SchemaError(
                    f"{name} has {arr.shape} values, track_id has {n}", path="<batch>"
                )
        check_lonlat(lon, lat, path="<batch>", lines=arrays["line"])
        at = {k: np.asarray(v, dtype=str) for k, v in (attrs or {}).items()}
        for k, v in at.items():
            if v.shape != (n,):
                raise SchemaError(
                    f"attribute {k!r} has {v.shape} values, expected {n}", path="<batch>"
                )
        return cls(
            ids,
            t,
            lon,
            lat,
            arrays["alt_m"],
            arrays["speed_mps"],
            arrays["heading_deg"],
            arrays["fix_id"],
            src,
            arrays["line"],
            at,
        )

    @classmethod
    def from_tracks(cls, tracks: Tracks, index: npt.ArrayLike | None = None) -> FixBatch:
        """The fixes ``index`` (positions in ``tracks``, in that order) as a batch.

        Provenance is kept: ``source``/``line`` are the fixes' file and line, and
        ``fix_id`` their position in ``tracks``.
        """
        idx = np.arange(len(tracks)) if index is None else np.asarray(index, dtype=np.int64)
        tix = tracks.track_index[idx]
        names = np.asarray(tracks.sources if tracks.sources else ("<memory>",), dtype=str)
        return cls(
            track_id=tracks.track_ids[tix],
            t_ns=tracks.t_ns[idx],
            lon_deg=tracks.lon_deg[idx],
            lat_deg=tracks.lat_deg[idx],
            alt_m=tracks.alt_m[idx],
            speed_mps=tracks.speed_mps[idx],
            heading_deg=tracks.heading_deg[idx],
            fix_id=idx.astype(np.int64),
            source=names[tracks.src_file[idx]],
            line=tracks.src_line[idx],
            attrs={k: v[tix] for k, v in tracks.attrs.items()},
        )


# =========================================================================== outputs
@dataclass(frozen=True)
class StreamEvent:
    """One event of the stream.

    Attributes
    ----------
    id : str
        Deterministic: the same fixes give the same id whatever the batching.
    type : str
        One of :data:`EVENT_TYPES`.
    track_id : str
    zone_id : str
        ``""`` for events not about a zone.
    time_ns : int
        When it happened (UTC ns): entry time (or first fix inside), exit time (or last fix
        inside), closest-approach time, the late fix's time, the gap's start or end.
    row : dict
        For ``entry``/``visit``/``near``/``possible``: the crossing row, columns of
        :data:`~patrolwatch.core.events.CROSSING_SCHEMA`, times as int ns (``None`` if null).
        For other types, their own fields.
    attrs : dict
        Track attributes (``operator``, ``type``, ``callsign``, ...).
    fix_ids : tuple of int
        The fixes the event rests on (bracketing fixes; ``source_rows`` names them too).
    closed_by : str
        For ``visit``: ``exit``, ``end_of_stream``, ``lost_contact`` or ``window_full``.
    correction : str
        ``""``, or ``added``/``updated``/``retracted`` when a late fix changed it.
    affects : tuple of str
        For ``late_fix``: ids of published events whose span contains the fix.
    """

    id: str
    type: str
    track_id: str
    zone_id: str
    time_ns: int
    row: dict[str, Any]
    attrs: dict[str, str] = field(default_factory=dict)
    fix_ids: tuple[int, ...] = ()
    closed_by: str = ""
    correction: str = ""
    affects: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times stay int ns; ``time`` adds ISO 8601 UTC)."""
        return {
            "id": self.id,
            "type": self.type,
            "track_id": self.track_id,
            "zone_id": self.zone_id,
            "time_ns": self.time_ns,
            "time": iso_utc(self.time_ns),
            "row": _json_safe(self.row),
            "attrs": dict(self.attrs),
            "fix_ids": list(self.fix_ids),
            "closed_by": self.closed_by,
            "correction": self.correction,
            "affects": list(self.affects),
        }

    def content_key(self) -> str:
        """A digest of everything but ``correction``: equal keys mean an unchanged event."""
        payload = json.dumps(
            [self.type, self.time_ns, _json_safe(self.row), self.closed_by], sort_keys=True
        )
        return hashlib.sha1(payload.encode()).hexdigest()


def iso_utc(t_ns: int | None) -> str | None:
    """ISO 8601 UTC text of int ns (``None`` stays ``None``).

    Examples
    --------
    >>> iso_utc(1_563_843_600_123_000_000)
    '2019-07-23T01:00:00.123Z'
    """
    if t_ns is None:
        return None
    s = np.datetime_as_string(np.datetime64(int(t_ns), "ns"), unit="ms")
    return str(s) + "Z"


def event_span(e: StreamEvent) -> tuple[int, int]:
    """The time span (UTC ns) an event is about: from its first bracketing fix to its
    last (a visit: entry bracket start to exit bracket end)."""
    r = e.row
    lo = [r.get(k) for k in ("entry_bracket_start", "first_fix_time", "closest_time")]
    hi = [r.get(k) for k in ("exit_bracket_end", "last_fix_time", "closest_time")]
    lo_v = [v for v in lo if isinstance(v, int)]
    hi_v = [v for v in hi if isinstance(v, int)]
    return (min(lo_v) if lo_v else e.time_ns, max(hi_v) if hi_v else e.time_ns)


def _json_safe(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None
        elif isinstance(v, np.generic):
            out[k] = v.item()
        else:
            out[k] = v
    return out


def _digest(*parts: object) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


# =========================================================================== track state
class _Buf:
    """Growable columns of one track's window (fixes in time order)."""

    __slots__ = ("alt", "cap", "hdg", "lat", "line", "lon", "n", "seq", "spd", "src", "t")

    def __init__(self, cap: int = 16) -> None:
        self.cap = cap
        self.n = 0
        self.t = np.empty(cap, np.int64)
        self.lon = np.empty(cap)
        self.lat = np.empty(cap)
        self.alt = np.empty(cap)
        self.spd = np.empty(cap)
        self.hdg = np.empty(cap)
        self.seq = np.empty(cap, np.int64)
        self.src = np.empty(cap, np.int32)
        self.line = np.empty(cap, np.int64)

    _COLS = ("t", "lon", "lat", "alt", "spd", "hdg", "seq", "src", "line")

    def view(self, name: str) -> npt.NDArray[Any]:
        arr: npt.NDArray[Any] = getattr(self, name)
        return arr[: self.n]

    def set_columns(self, cols: Mapping[str, npt.NDArray[Any]]) -> None:
        n = int(cols["t"].shape[0])
        cap = max(16, 1 << max(0, n - 1).bit_length())
        self.cap, self.n = cap, n
        for name in self._COLS:
            arr = np.empty(cap, dtype=getattr(self, name).dtype)
            arr[:n] = cols[name]
            setattr(self, name, arr)

    def columns(self, lo: int = 0, hi: int | None = None) -> dict[str, npt.NDArray[Any]]:
        hi = self.n if hi is None else hi
        return {name: getattr(self, name)[lo:hi].copy() for name in self._COLS}

    def append(self, cols: Mapping[str, npt.NDArray[Any]]) -> None:
        k = int(cols["t"].shape[0])
        if self.n + k > self.cap:
            keep = self.columns()
            merged = {c: np.concatenate([keep[c], cols[c]]) for c in self._COLS}
            self.set_columns(merged)
            return
        for name in self._COLS:
            getattr(self, name)[self.n : self.n + k] = cols[name]
        self.n += k

    def drop_front(self, k: int) -> None:
        if k > 0:
            self.set_columns(self.columns(k))


@dataclass
class _Open:
    """An open visit (kind ``visit``) or an open possible run (kind ``possible``)."""

    kind: str
    anchor: int  # track position of the first window fix the re-run must start from
    entry_known: bool
    bracket: tuple[int | None, int | None]  # entry bracket start/end (visit) or t0 (possible)
    entry_time: int | None
    event_id: str  # id of the visit/possible event it will become


@dataclass
class _State:
    """The part of a track's state a late fix may roll back (small; copied per step)."""

    opens: dict[tuple[str, str], _Open] = field(default_factory=dict)  # (kind, zone) -> open
    near: dict[str, dict[str, Any]] = field(default_factory=dict)  # zone -> best near row
    near_single: dict[str, dict[str, Any]] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)
    gap_open: bool = False
    near_pos: int = 0  # first track position whose segment near passes have not seen

    def copy(self) -> _State:
        """A copy sharing the (never mutated) rows and open items."""
        return _State(
            dict(self.opens),
            dict(self.near),
            dict(self.near_single),
            set(self.visited),
            self.gap_open,
            self.near_pos,
        )


@dataclass
class _Step:
    """One processing step of a track: enough to undo it."""

    before: _State
    carry: int  # track position of the carried fix (or first new fix)
    lo: int  # first new position
    hi: int  # end (exclusive) after the step
    events: list[StreamEvent]


class _Track:
    __slots__ = ("attrs", "base", "buf", "id", "last_t", "n", "recent", "state", "steps")

    def __init__(self, track_id: str) -> None:
        self.id = track_id
        self.buf = _Buf()
        self.base = 0  # track position of buf[0]
        self.n = 0  # fixes seen (used) so far
        self.last_t = np.iinfo(np.int64).min
        self.state = _State()
        self.steps: deque[_Step] = deque()
        self.attrs: dict[str, str] = {}
        self.recent: deque[tuple[str, int, int]] = deque(maxlen=256)  # (id, t0, t1)

    def window_cols(self, lo_pos: int) -> dict[str, npt.NDArray[Any]]:
        return self.buf.columns(lo_pos - self.base)

    def times(self) -> I64:
        return self.buf.view("t")


@dataclass
class _Chunk:
    """The input of one ``crossings`` call for one track."""

    track: _Track
    cols: dict[str, npt.NDArray[Any]]
    first_is_track_start: bool
    pos0: int  # track position of cols[0]
    before: _State | None = None  # state before the step (for a later rollback)
    lo: int = 0  # first new position of the step


# =========================================================================== quiet tier
_COL_DTYPES: dict[str, Any] = {
    "t": np.int64,
    "lon": np.float64,
    "lat": np.float64,
    "alt": np.float64,
    "spd": np.float64,
    "hdg": np.float64,
    "seq": np.int64,
    "src": np.int32,
    "line": np.int64,
}


_NO_POS = np.iinfo(np.int64).max


@dataclass
class _Run:
    """Fixes of quiet tracks from one push (or a compaction), sorted by (slot, pos)."""

    slot: I64
    gen: I64
    pos: I64
    cols: dict[str, npt.NDArray[Any]]
    t_max: int


class _QuietTier:
    """Tracks that did nothing but fly on, held as columns instead of one object each.

    A track is moved here after a step in which it published nothing new to undo and has
    no open gap (:meth:`Detector._demote`); it may be inside zones (its open visits
    stay as they are: the small :class:`_State` object is kept, untouched). New fixes
    of such a track whose segments cannot cross a zone boundary (no segment box, grown
    for the geodesic's bulge, meets a zone edge's cell and box, nor the box of a buffer
    zone or of a zone with vertical limits), that are not late and open no reporting gap,
    change nothing but the track's newest fix: they are appended to columns without any
    per-track Python work. Any other fix *promotes* the track back to a :class:`_Track`
    (:meth:`take`) with the fixes its open visits and its lateness window need, its
    logged steps, and one step for the quiet fixes that undoes to the kept state.

    Fixes live in a log of runs (one per push, sorted by slot), merged when older than the
    lateness window, keeping per slot the fixes at or after its ``need`` position (open
    visits, logged steps), at or after ``newest - lateness``, and the one just before.
    """

    def __init__(self, lateness_ns: int) -> None:
        self.lateness_ns = lateness_ns
        self.slot_of: dict[str, int] = {}
        self.ids: list[str] = []
        self.free: list[int] = []
        self.cap = 0
        self.last: dict[str, npt.NDArray[Any]] = {c: np.empty(0, d) for c, d in _COL_DTYPES.items()}
        self.n = np.empty(0, np.int64)
        self.gen = np.empty(0, np.int64)
        self.need = np.empty(0, np.int64)  # first position open items or steps need
        self.need_t = np.empty(0, np.int64)  # time of the fix at that position
        self.demote_n = np.empty(0, np.int64)  # fixes seen when the track came here
        self.gap_open = np.empty(0, bool)
        self.alive = np.empty(0, bool)
        self.attrs: dict[str, npt.NDArray[Any]] = {}
        self.states: dict[int, _State] = {}  # slots with open items
        self.steps: dict[int, list[_Step]] = {}  # steps logged before the track came here
        self.recent: dict[int, deque[tuple[str, int, int]]] = {}
        self.runs: list[_Run] = []
        self._pending: list[tuple[I64, I64, dict[str, npt.NDArray[Any]]]] = []
        self.log_fixes = 0

    def __len__(self) -> int:
        return len(self.slot_of)

    # ---------------------------------------------------------------- slots
    def _grow(self, need: int) -> None:
        if need <= self.cap:
            return
        cap = max(1024, 1 << (need - 1).bit_length())

        def grown(a: npt.NDArray[Any], fill: Any) -> npt.NDArray[Any]:
            out = np.full(cap, fill, dtype=a.dtype)
            out[: a.shape[0]] = a
            return out

        self.last = {c: grown(a, 0) for c, a in self.last.items()}
        self.n = grown(self.n, 0)
        self.gen = grown(self.gen, 0)
        self.need = grown(self.need, _NO_POS)
        self.need_t = grown(self.need_t, _NO_POS)
        self.demote_n = grown(self.demote_n, 0)
        self.gap_open = grown(self.gap_open, False)
        self.alive = grown(self.alive, False)
        self.attrs = {k: grown(a, "") for k, a in self.attrs.items()}
        self.ids.extend([""] * (cap - len(self.ids)))
        self.cap = cap

    def _new_slot(self, track_id: str) -> int:
        if self.free:
            slot = self.free.pop()
        else:
            slot = len(self.slot_of)
            self._grow(slot + 1)
        self.slot_of[track_id] = slot
        self.ids[slot] = track_id
        self.alive[slot] = True
        self.gen[slot] += 1
        return slot

    def _attr_column(self, key: str) -> npt.NDArray[Any]:
        col = self.attrs.get(key)
        if col is None:
            col = self.attrs[key] = np.full(self.cap, "", dtype=object)
        return col

    def remove(self, slots: npt.NDArray[np.int64]) -> list[str]:
        """Forget these slots (eviction or promotion); returns their track ids."""
        out = []
        for slot in slots.tolist():
            tid = self.ids[slot]
            del self.slot_of[tid]
            self.alive[slot] = False
            self.gen[slot] += 1  # log entries of the old track no longer match
            self.need[slot] = _NO_POS
            self.need_t[slot] = _NO_POS
            self.states.pop(slot, None)
            self.steps.pop(slot, None)
            self.recent.pop(slot, None)
            for col in self.attrs.values():
                col[slot] = ""
            self.free.append(slot)
            out.append(tid)
        return out

    def with_state(self) -> npt.NDArray[np.int64]:
        """Slots with open items (they must be promoted to be closed)."""
        return np.asarray(sorted(self.states), dtype=np.int64)

    # ---------------------------------------------------------------- demotion
    def add(self, track: _Track) -> None:
        """Take a :class:`_Track` that may rest (see :meth:`Detector._demote`)."""
        slot = self._new_slot(track.id)
        buf = track.buf
        k = buf.n - 1
        for c in _COL_DTYPES:
            self.last[c][slot] = getattr(buf, c)[k]
        self.n[slot] = track.n
        self.demote_n[slot] = track.n
        self.gap_open[slot] = track.state.gap_open
        for key, value in track.attrs.items():
            self._attr_column(key)[slot] = value
        if track.recent:
            self.recent[slot] = track.recent
        need = _NO_POS
        if track.state.opens:
            self.states[slot] = track.state
            need = min(need, *(op.anchor for op in track.state.opens.values()))
        if track.steps:
            self.steps[slot] = list(track.steps)
            need = min(need, track.steps[0].carry)
            for step in track.steps:
                for op in step.before.opens.values():
                    need = min(need, op.anchor)
        self.need[slot] = need
        self.need_t[slot] = buf.t[need - track.base] if need != _NO_POS else _NO_POS
        lo = 0 if self.lateness_ns > 0 or need != _NO_POS else buf.n
        if lo < buf.n:
            self._pending.append(
                (
                    np.full(buf.n - lo, slot, np.int64),
                    track.base + np.arange(lo, buf.n, dtype=np.int64),
                    {c: getattr(buf, c)[lo : buf.n] for c in _COL_DTYPES},
                )
            )

    def flush_added(self) -> None:
        """Log the fixes of the tracks :meth:`add` took since the last call, as one run."""
        if not self._pending:
            return
        parts, self._pending = self._pending, []
        self._append_run(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            {c: np.concatenate([p[2][c] for p in parts]) for c in _COL_DTYPES},
        )

    def _append_run(self, slot: I64, pos: I64, cols: dict[str, npt.NDArray[Any]]) -> None:
        if slot.size == 0:
            return
        o = np.lexsort((pos, slot))
        self.runs.append(
            _Run(
                slot[o],
                self.gen[slot[o]],
                pos[o],
                {c: v[o] for c, v in cols.items()},
                int(cols["t"].max()),
            )
        )
        self.log_fixes += int(slot.size)

    # ---------------------------------------------------------------- promotion
    def take(self, slots: npt.NDArray[np.int64]) -> list[_Track]:
        """Promote these slots back to :class:`_Track` objects (see the class
        docstring); the slots are freed."""
        slots = np.asarray(slots, dtype=np.int64)
        order = np.argsort(slots, kind="stable")
        ss = slots[order]
        parts_owner: list[I64] = []
        parts_pos: list[I64] = []
        parts_cols: list[dict[str, npt.NDArray[Any]]] = []
        for run in self.runs:
            lo = np.searchsorted(run.slot, ss, "left")
            hi = np.searchsorted(run.slot, ss, "right")
            cnt = hi - lo
            total = int(cnt.sum())
            if total == 0:
                continue
            owner = np.repeat(order, cnt)
            idx = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(total)
            ok = run.gen[idx] == self.gen[slots[owner]]
            parts_owner.append(owner[ok])
            parts_pos.append(run.pos[idx[ok]])
            parts_cols.append({c: v[idx[ok]] for c, v in run.cols.items()})
        # the newest fix of each slot (always part of the window)
        parts_owner.append(np.arange(slots.size, dtype=np.int64))
        parts_pos.append(self.n[slots] - 1)
        parts_cols.append({c: self.last[c][slots] for c in _COL_DTYPES})
        owner = np.concatenate(parts_owner)
        pos = np.concatenate(parts_pos)
        cols = {c: np.concatenate([p[c] for p in parts_cols]) for c in _COL_DTYPES}
        o = np.lexsort((pos, owner))
        owner, pos = owner[o], pos[o]
        cols = {c: v[o] for c, v in cols.items()}
        keep = np.ones(owner.size, dtype=bool)
        keep[1:] = (owner[1:] != owner[:-1]) | (pos[1:] != pos[:-1])
        owner, pos = owner[keep], pos[keep]
        cols = {c: v[keep] for c, v in cols.items()}
        bounds = np.searchsorted(owner, np.arange(slots.size + 1))
        tracks = []
        for i, slot in enumerate(slots.tolist()):
            a, b = int(bounds[i]), int(bounds[i + 1])
            p = pos[a:b]
            n = int(self.n[slot])
            last_t = int(self.last["t"][slot])
            state = self.states.get(slot) or _State()
            restored = self.steps.get(slot, [])
            carry = n - 1
            if self.lateness_ns > 0:
                carry = int(self.demote_n[slot]) - 1
                if not restored:  # the kept state holds from the fix before the horizon on
                    t = cols["t"][a:b]
                    hp = max(int(np.searchsorted(t, last_t - self.lateness_ns, "left")) - 1, 0)
                    carry = max(carry, int(p[hp]))
            first_pos = min(int(self.need[slot]), carry)
            a += int(np.searchsorted(p, first_pos, "left"))
            tr = _Track(self.ids[slot])
            tr.n = n
            tr.last_t = last_t
            tr.base = int(pos[a])
            tr.buf.set_columns({c: v[a:b] for c, v in cols.items()})
            state.gap_open = bool(self.gap_open[slot])
            tr.state = state
            tr.attrs = {k: str(v[slot]) for k, v in self.attrs.items() if v[slot] != ""}
            rec = self.recent.get(slot)
            if rec is not None:
                tr.recent = rec
            tr.steps.extend(restored)
            if self.lateness_ns > 0 and carry < n - 1:
                before = state.copy()
                before.gap_open = False
                tr.steps.append(_Step(before, carry, carry + 1, n, []))
            tracks.append(tr)
        self.remove(slots)
        return tracks

    # ---------------------------------------------------------------- quiet fixes
    def extend(
        self,
        slot: I64,
        cols: dict[str, npt.NDArray[Any]],
        first: npt.NDArray[np.bool_],
        attrs: Mapping[str, npt.NDArray[Any]],
    ) -> None:
        """Append fixes of slots (grouped by slot, each group in time order; ``first``
        marks the first fix of each group)."""
        if slot.size == 0:
            return
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, slot.size))
        gslot = slot[starts]
        rank = np.arange(slot.size) - np.repeat(starts, counts)
        pos = self.n[slot] + rank
        keep_log = (self.need[slot] != _NO_POS) | (self.lateness_ns > 0)
        if keep_log.any():
            k = np.flatnonzero(keep_log)
            self._append_run(slot[k], pos[k], {c: v[k] for c, v in cols.items()})
        ends = starts + counts - 1
        for c in _COL_DTYPES:
            self.last[c][gslot] = cols[c][ends]
        self.n[gslot] += counts
        self.gap_open[gslot] = False
        for key, values in attrs.items():
            ne = np.flatnonzero(values != "")
            if ne.size == 0:
                continue
            col = self._attr_column(key)
            us, ui = np.unique(slot[ne], return_index=True)
            empty = col[us] == ""
            col[us[empty]] = values[ne[ui[empty]]]

    def compact(self, watermark_ns: int) -> None:
        """Merge the runs older than the lateness window, keeping what a promotion may
        need (see the class docstring)."""
        if len(self.runs) < 2:
            return
        cut = watermark_ns - self.lateness_ns
        old = [r for r in self.runs if r.t_max < cut]
        if len(old) < 8:
            return
        young = [r for r in self.runs if r.t_max >= cut]
        slot = np.concatenate([r.slot for r in old])
        gen = np.concatenate([r.gen for r in old])
        pos = np.concatenate([r.pos for r in old])
        cols = {c: np.concatenate([r.cols[c] for r in old]) for c in _COL_DTYPES}
        ok = self.alive[slot] & (gen == self.gen[slot])
        o = np.flatnonzero(ok)
        o = o[np.lexsort((pos[o], slot[o]))]
        slot, gen, pos = slot[o], gen[o], pos[o]
        cols = {c: v[o] for c, v in cols.items()}
        t = cols["t"]
        main = (pos >= self.need[slot]) | (t >= self.last["t"][slot] - self.lateness_ns)
        if self.lateness_ns > 0:
            nxt_same = np.zeros(slot.size, dtype=bool)
            nxt_same[:-1] = slot[1:] == slot[:-1]
            nxt_main = np.zeros(slot.size, dtype=bool)
            nxt_main[:-1] = main[1:]
            keep = main | (~main & (~nxt_same | nxt_main))
        else:
            keep = main
        self.runs = []
        self.log_fixes = sum(int(r.slot.size) for r in young)
        if keep.any():
            k = np.flatnonzero(keep)
            self.runs.append(
                _Run(slot[k], gen[k], pos[k], {c: v[k] for c, v in cols.items()}, int(t[k].max()))
            )
            self.log_fixes += int(k.size)
        self.runs.extend(young)


# =========================================================================== zone prefilter
class _ZoneBoxes:
    """Each zone's lon/lat box in its own frame, to call ``crossings`` only on zones that a
    chunk of fixes can reach (zones are independent in ``crossings``, so this changes no
    answer)."""

    def __init__(self, zones: Zones) -> None:
        import shapely

        self.zones = zones
        self.frames = [Frame.for_geometry(z.geometry) for z in zones]
        boxes = []
        for z, fr in zip(zones, self.frames, strict=True):
            x0, y0, x1, y1 = shapely.bounds(fr.geometry(z.geometry)).tolist()
            pad = float(z.buffer_m) if z.is_buffer else 0.0
            boxes.append((x0, y0, x1, y1, pad))
        self.boxes = boxes

    def select(self, lon: F64, lat: F64, margin_m: float) -> list[int]:
        """Indices of zones whose box, grown by ``margin_m`` + 0.2°, meets the box of the
        points (computed in each zone's frame)."""
        if lon.size == 0:
            return []
        out = []
        for i, ((x0, y0, x1, y1, pad), fr) in enumerate(zip(self.boxes, self.frames, strict=True)):
            grow = pad + margin_m
            dlat = grow / M_PER_DEG_LAT_MIN + 0.2
            lat_hi = min(89.0, max(abs(y0), abs(y1), float(np.max(np.abs(lat)))) + dlat)
            dlon = grow / max(1.0, float(m_per_deg_lon(np.array([lat_hi]))[0])) + 0.2
            fx = fr(lon)
            if (
                float(fx.max()) >= x0 - dlon
                and float(fx.min()) <= x1 + dlon
                and float(lat.max()) >= y0 - dlat
                and float(lat.min()) <= y1 + dlat
            ):
                out.append(i)
        return out


# =========================================================================== detector
class Detector:
    """Zone entries, visits and corrections from fixes arriving in batches.

    Parameters
    ----------
    zones : Zones
        The zones to watch (e.g. ``load_catalog("nea").zones``).
    near_m : float, optional, metres, > 0
        As in :func:`~patrolwatch.crossings`: also publish ``near`` rows (when a track ends).
    max_speed_mps : float, optional, m/s, > 0
        As in :func:`~patrolwatch.crossings`: also publish ``possible`` runs.
    lateness_s : float, seconds, >= 0
        A fix up to this much older than its track's newest fix is used exactly (the track
        is re-run from before it and changed events are re-published as corrections);
        an older fix gives a ``late_fix`` event. Default :data:`DEFAULT_LATENESS_S`.
    evict_after_s : float or None, seconds
        A track without fixes for this long in stream time (the newest fix time seen, or
        :meth:`advance`) ends: its open visits close (``closed_by="lost_contact"``) and its
        near rows are published. ``None`` never evicts. Default
        :data:`DEFAULT_EVICT_AFTER_S`.
    gap_s : float or None, seconds
        Publish ``gap_open`` when a track is silent this long and ``gap_close`` when it
        returns. ``None`` disables. Default :data:`DEFAULT_GAP_S`.
    max_window_fixes : int
        Bound on one track's window (see :data:`DEFAULT_MAX_WINDOW_FIXES`).
    quiet_tier : bool
        Keep tracks whose new fixes cannot cross a zone boundary as columns
        (:class:`_QuietTier`) instead of one object each: the same events, far less work
        per track. Used only without ``near_m`` and ``max_speed_mps`` (their passes need
        every segment). ``False`` is for comparisons.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from patrolwatch.core.zones import Zone
    >>> zones = Zones([Zone("z", "Box", "custom", ("KOR",), box(130.0, 37.0, 131.0, 38.0))])
    >>> det = Detector(zones)
    >>> s = 1_000_000_000
    >>> ev = det.push(FixBatch.from_arrays(["A", "A"], [0, 60 * s], [129.5, 130.5], [37.5, 37.5]))
    >>> [e.type for e in ev], ev[0].row["entry_bracket_end"] // s
    (['entry'], 60)
    >>> ev = det.push(FixBatch.from_arrays(["A"], [120 * s], [131.5], [37.5], fix_id=[2], line=[3]))
    >>> [(e.type, e.closed_by, e.row["source_rows"]) for e in ev]
    [('visit', 'exit', '<stream>:1;<stream>:2;<stream>:3')]
    """

    def __init__(
        self,
        zones: Zones,
        *,
        near_m: float | None = None,
        max_speed_mps: float | None = None,
        lateness_s: float = DEFAULT_LATENESS_S,
        evict_after_s: float | None = DEFAULT_EVICT_AFTER_S,
        gap_s: float | None = DEFAULT_GAP_S,
        max_window_fixes: int = DEFAULT_MAX_WINDOW_FIXES,
        quiet_tier: bool = True,
    ) -> None:
        if near_m is not None and not near_m > 0:
            raise ConfigError(f"near_m must be a positive distance in metres, got {near_m!r}")
        if max_speed_mps is not None and not max_speed_mps > 0:
            raise ConfigError(f"max_speed_mps must be positive (m/s), got {max_speed_mps!r}")
        if not lateness_s >= 0:
            raise ConfigError(f"lateness_s must be >= 0 seconds, got {lateness_s!r}")
        if evict_after_s is not None and not evict_after_s > 0:
            raise ConfigError(f"evict_after_s must be positive seconds, got {evict_after_s!r}")
        if gap_s is not None and not gap_s > 0:
            raise ConfigError(f"gap_s must be positive seconds, got {gap_s!r}")
        if max_window_fixes < 2:
            raise ConfigError(f"max_window_fixes must be >= 2, got {max_window_fixes!r}")
        self.zones = zones
        self.near_m = near_m
        self.max_speed_mps = max_speed_mps
        self.lateness_ns = int(lateness_s * NS_PER_S)
        self.evict_after_ns = None if evict_after_s is None else int(evict_after_s * NS_PER_S)
        self.gap_ns = None if gap_s is None else int(gap_s * NS_PER_S)
        self.max_window_fixes = int(max_window_fixes)
        self._boxes = _ZoneBoxes(zones)
        self._zone_index = {z.id: i for i, z in enumerate(zones)}
        self._tracks: dict[str, _Track] = {}
        self._sources = SourceNames()
        self._undone: dict[str, list[StreamEvent]] = {}
        self._quiet: _QuietTier | None = (
            _QuietTier(self.lateness_ns)
            if quiet_tier and near_m is None and max_speed_mps is None
            else None
        )
        self._dropped: list[str] = []
        self._near_pending = 0
        self.near_pass_fixes = NEAR_PASS_FIXES
        self.watermark_ns = np.iinfo(np.int64).min
        self.stats: dict[str, int] = {
            "fixes_in": 0,
            "fixes_used": 0,
            "fixes_late_used": 0,
            "fixes_too_late": 0,
            "events": 0,
            "crossings_calls": 0,
            "tracks_evicted": 0,
            "fixes_quiet": 0,
            "tracks_promoted": 0,
            "tracks_demoted": 0,
        }

    # ------------------------------------------------------------------ public
    @property
    def open_tracks(self) -> int:
        """Number of tracks held in memory (with or without open visits)."""
        return len(self._tracks) + (len(self._quiet) if self._quiet is not None else 0)

    def open_visits(self) -> list[tuple[str, str]]:
        """(track_id, zone_id) of every open visit."""
        out = [(t.id, z) for t in self._tracks.values() for (k, z) in t.state.opens if k == "visit"]
        q = self._quiet
        if q is not None:
            out += [
                (q.ids[s], z) for s, st in q.states.items() for (k, z) in st.opens if k == "visit"
            ]
        return sorted(out)

    def window_start_ns(self) -> dict[str, int]:
        """Per track, the time of its oldest fix still needed (for a restart to replay):
        a track with open items from its window's first fix, a quiet track from its
        newest fix minus the lateness window."""
        out = {tid: int(t.buf.t[0]) for tid, t in self._tracks.items() if t.buf.n}
        q = self._quiet
        if q is not None and len(q):
            slots = np.fromiter(q.slot_of.values(), dtype=np.int64, count=len(q))
            start = np.minimum(q.last["t"][slots] - self.lateness_ns, q.need_t[slots])
            out.update(zip(q.slot_of.keys(), start.tolist(), strict=True))
        return out

    def track_state(self, track_ids: Iterable[str]) -> tuple[list[str], list[int], list[int]]:
        """(track ids, window start ns, newest fix ns) of the given tracks that are held
        (see :meth:`window_start_ns`); the store keeps them for a restart."""
        ids: list[str] = []
        start: list[int] = []
        last: list[int] = []
        q = self._quiet
        slots: list[int] = []
        qids: list[str] = []
        for tid in track_ids:
            tr = self._tracks.get(tid)
            if tr is not None:
                if tr.buf.n:
                    ids.append(tid)
                    start.append(int(tr.buf.t[0]))
                    last.append(tr.last_t)
            elif q is not None:
                slot = q.slot_of.get(tid)
                if slot is not None:
                    slots.append(slot)
                    qids.append(tid)
        if slots:
            assert q is not None
            sl = np.asarray(slots, dtype=np.int64)
            lt = q.last["t"][sl]
            ids.extend(qids)
            start.extend(np.minimum(lt - self.lateness_ns, q.need_t[sl]).tolist())
            last.extend(lt.tolist())
        return ids, start, last

    def take_dropped(self) -> list[str]:
        """Ids of the tracks forgotten (evicted, flushed) since the last call."""
        out, self._dropped = self._dropped, []
        return out

    def state_size(self) -> dict[str, int]:
        """Fixes and logged steps held in memory, summed over tracks (``quiet_*``: the
        columnar tier of tracks with nothing open)."""
        q = self._quiet
        held = len(q) + q.log_fixes if q is not None else 0  # newest fixes + their log
        return {
            "tracks": len(self._tracks),
            "window_fixes": sum(t.buf.n for t in self._tracks.values()) + held,
            "steps": sum(len(t.steps) for t in self._tracks.values()),
            "quiet_tracks": len(q) if q is not None else 0,
            "quiet_log_fixes": q.log_fixes if q is not None else 0,
        }

    def push(self, batch: FixBatch) -> list[StreamEvent]:
        """Process a batch of fixes (any order); return the events it caused, in order.

        Raises
        ------
        SchemaError
            When the batch is malformed (see :meth:`FixBatch.from_arrays`).
        """
        n = len(batch)
        self.stats["fixes_in"] += n
        if n == 0:
            return []
        events: list[StreamEvent] = []
        order = np.lexsort((np.arange(n), batch.t_ns, batch.track_id))
        tid_sorted = batch.track_id[order]
        cut = np.flatnonzero(tid_sorted[1:] != tid_sorted[:-1]) + 1
        starts = np.concatenate([[0], cut]).astype(np.int64)
        ends = np.concatenate([cut, [n]]).astype(np.int64)
        src_idx = self._sources.ids(batch.source)
        slow = np.ones(starts.size, dtype=bool)
        if self._quiet is not None and len(self._quiet):
            slow = self._push_quiet(batch, order, starts, ends, src_idx)
        chunks: list[_Chunk] = []
        for k in np.flatnonzero(slow).tolist():  # per track with something to detect
            g = order[starts[k] : ends[k]]
            tid = str(tid_sorted[starts[k]])
            track = self._tracks.get(tid)
            if track is None:
                track = self._tracks[tid] = _Track(tid)
            for key, values in batch.attrs.items():
                if not track.attrs.get(key):
                    nonempty = values[g][values[g] != ""]
                    if nonempty.size:
                        track.attrs[key] = str(nonempty[0])
            cols: dict[str, npt.NDArray[Any]] = {
                "t": batch.t_ns[g],
                "lon": batch.lon_deg[g],
                "lat": batch.lat_deg[g],
                "alt": batch.alt_m[g],
                "spd": batch.speed_mps[g],
                "hdg": batch.heading_deg[g],
                "seq": batch.fix_id[g],
                "src": src_idx[g],
                "line": batch.line[g],
            }
            chunk = self._admit(track, cols, events)
            if chunk is not None:
                chunks.append(chunk)
        self.watermark_ns = max(self.watermark_ns, int(batch.t_ns.max()))
        per_track = self._run_chunks(chunks)
        self._near_pending += sum(int(c.cols["t"].shape[0]) for c in chunks)
        if self._near_pending >= self.near_pass_fixes:
            self._near_pass(list(self._tracks.values()))
        for chunk in chunks:
            track = chunk.track
            new = per_track.get(track.id, [])
            if chunk.before is not None:
                track.steps.append(_Step(chunk.before, chunk.pos0, chunk.lo, track.n, new))
            events.extend(self._reconcile_late(track, new))
            self._prune(track)
        self._demote({c.track.id: c.track for c in chunks}.values())
        events.extend(self._housekeeping())
        if self._sources.crowded(self.open_tracks):
            self._compact_sources()
        self.stats["events"] += len(events)
        return events

    # ------------------------------------------------------------------ quiet tier
    def _push_quiet(
        self,
        batch: FixBatch,
        order: I64,
        starts: I64,
        ends: I64,
        src_idx: npt.NDArray[np.int32],
    ) -> npt.NDArray[np.bool_]:
        """Take the fixes of quiet tracks that cannot reach a zone into the columnar tier;
        promote the other quiet tracks. Returns, per track group of the batch, whether it
        goes through the per-track path."""
        q = self._quiet
        assert q is not None
        first_rows = order[starts]
        slot_g = np.asarray(
            [q.slot_of.get(t, -1) for t in batch.track_id[first_rows].tolist()], dtype=np.int64
        )
        is_q = slot_g >= 0
        if not is_q.any():
            return np.ones(starts.size, dtype=bool)
        counts = ends - starts
        grp = np.repeat(np.arange(starts.size), counts)
        rows_sorted = np.flatnonzero(is_q[grp])  # positions in ``order``
        idx = order[rows_sorted]
        g_of_row = grp[rows_sorted]
        slot = slot_g[g_of_row]
        first = np.ones(idx.size, dtype=bool)
        first[1:] = g_of_row[1:] != g_of_row[:-1]
        t = batch.t_ns[idx]
        lon = batch.lon_deg[idx]
        lat = batch.lat_deg[idx]
        prev_t = np.where(first, q.last["t"][slot], np.roll(t, 1))
        prev_lon = np.where(first, q.last["lon"][slot], np.roll(lon, 1))
        prev_lat = np.where(first, q.last["lat"][slot], np.roll(lat, 1))
        esc_row = t < prev_t  # late: roll back on the per-track path
        if self.gap_ns is not None:
            esc_row |= (t - prev_t) > self.gap_ns
        esc_row |= self._may_reach_zone(prev_lon, prev_lat, lon, lat)
        esc_g = np.zeros(starts.size, dtype=bool)
        esc_g[g_of_row[esc_row]] = True
        # a window of open visits that would outgrow its bound goes the per-track way
        need = q.need[slot_g[is_q]]
        grow = q.n[slot_g[is_q]] + counts[is_q] - need
        esc_g[np.flatnonzero(is_q)[(need != _NO_POS) & (grow > self.max_window_fixes)]] = True
        stay = ~esc_g[g_of_row]
        if stay.any():
            ii = idx[stay]
            cols: dict[str, npt.NDArray[Any]] = {
                "t": t[stay],
                "lon": lon[stay],
                "lat": lat[stay],
                "alt": batch.alt_m[ii],
                "spd": batch.speed_mps[ii],
                "hdg": batch.heading_deg[ii],
                "seq": batch.fix_id[ii],
                "src": src_idx[ii],
                "line": batch.line[ii],
            }
            q.extend(slot[stay], cols, first[stay], {k: v[ii] for k, v in batch.attrs.items()})
            self.stats["fixes_used"] += int(stay.sum())
            self.stats["fixes_quiet"] += int(stay.sum())
        promote = np.flatnonzero(esc_g & is_q)
        if promote.size:
            for tr in q.take(slot_g[promote]):
                self._tracks[tr.id] = tr
            self.stats["tracks_promoted"] += int(promote.size)
        q.compact(max(self.watermark_ns, int(batch.t_ns.max())))
        return ~is_q | esc_g

    def _may_reach_zone(
        self, lon_a: F64, lat_a: F64, lon_b: F64, lat_b: F64
    ) -> npt.NDArray[np.bool_]:
        """Segments that may enter or leave a zone: their bulge-grown boxes meet a polygon
        zone's edge (cell and box, as ``crossings`` finds candidates) or the box of a
        buffer zone or of a zone with vertical limits. Conservative."""
        from ..detect._geometry import SegmentGeo, pad_box_deg, segment_boxes
        from ..detect.crossings import polygon_model

        out = np.zeros(lon_a.size, dtype=bool)
        if lon_a.size == 0:
            return out
        geo = SegmentGeo.build(lon_a, lat_a, lon_b, lat_b)
        boxes_by_frame: dict[float, tuple[F64, F64, F64, F64]] = {}
        for zi, zone in enumerate(self.zones):
            fr = self._boxes.frames[zi]
            x0, y0, x1, y1, pad = self._boxes.boxes[zi]
            key = float(fr.center_deg)
            bx = boxes_by_frame.get(key)
            if bx is None:
                bx = boxes_by_frame[key] = segment_boxes(geo, fr)
            bx0, by0, bx1, by1 = bx
            if pad > 0:
                dlon, dlat = pad_box_deg(np.array([y0]), np.array([y1]), pad)
                gx, gy = float(dlon[0]), float(dlat[0])
            else:
                gx = gy = 0.0
            over = (bx1 >= x0 - gx) & (bx0 <= x1 + gx) & (by1 >= y0 - gy) & (by0 <= y1 + gy)
            over &= ~out
            if not over.any():
                continue
            if zone.is_buffer or zone.has_vertical_limits:
                out |= over
                continue
            sub = np.flatnonzero(over)
            model = polygon_model(zone)
            out[sub[model.boxes_near_edges(bx0[sub], by0[sub], bx1[sub], by1[sub])]] = True
        return out

    def _demote(self, tracks: Iterable[_Track]) -> None:
        """Move tracks into the quiet tier after a step: every track without an open gap
        (its open visits and logged steps go with it; :meth:`_QuietTier.take` restores
        them)."""
        q = self._quiet
        if q is None:
            return
        for track in list(tracks):
            if (
                track.state.gap_open
                or track.id in self._undone
                or track.buf.n == 0
                or track.id not in self._tracks
                or any(k != "visit" for k, _ in track.state.opens)
            ):
                continue
            q.add(track)
            del self._tracks[track.id]
            self.stats["tracks_demoted"] += 1
        q.flush_added()

    def advance(self, now_ns: int) -> list[StreamEvent]:
        """Move stream time to ``now_ns`` (e.g. the wall clock of a live feed) without
        fixes: tracks may open gaps or be evicted. Returns the events."""
        self.watermark_ns = max(self.watermark_ns, int(now_ns))
        events = self._housekeeping()
        self.stats["events"] += len(events)
        return events

    def flush(self) -> list[StreamEvent]:
        """End of stream: close every open visit (``closed_by="end_of_stream"``), publish
        near rows and forget every track."""
        events: list[StreamEvent] = []
        q = self._quiet
        if q is not None:  # tracks with open visits close on the per-track path
            for tr in q.take(q.with_state()):
                self._tracks[tr.id] = tr
            self._dropped.extend(q.slot_of)
            self._quiet = _QuietTier(self.lateness_ns)
        tracks = list(self._tracks.values())
        events.extend(self._close_tracks(tracks, "end_of_stream"))
        self._dropped.extend(self._tracks)
        self._tracks.clear()
        self.stats["events"] += len(events)
        return events

    def evict(self, track_ids: Iterable[str]) -> list[StreamEvent]:
        """End these tracks now (``closed_by="lost_contact"``)."""
        ids = list(track_ids)
        q = self._quiet
        if q is not None:  # open visits close on the per-track path; the rest just goes
            slots = np.asarray([q.slot_of[t] for t in ids if t in q.slot_of], dtype=np.int64)
            has = np.isin(slots, q.with_state())
            for tr in q.take(slots[has]):
                self._tracks[tr.id] = tr
            gone = q.remove(slots[~has])
            self._dropped.extend(gone)
            self.stats["tracks_evicted"] += len(gone)
        tracks = [self._tracks[t] for t in ids if t in self._tracks]
        events = self._close_tracks(tracks, "lost_contact")
        for t in tracks:
            del self._tracks[t.id]
            self._dropped.append(t.id)
        self.stats["tracks_evicted"] += len(tracks)
        return events

    def _compact_sources(self) -> None:
        """Forget the source names no held fix refers to (a live service names each
        delivery); renumber the fixes held by tracks and by the quiet tier."""
        q = self._quiet
        held = [t.buf.view("src") for t in self._tracks.values()]
        if q is not None:
            q.flush_added()
            held += [q.last["src"][q.alive[: q.cap]], *(r.cols["src"] for r in q.runs)]
        remap = self._sources.compact(held)
        for t in self._tracks.values():
            t.buf.src[: t.buf.n] = remap[t.buf.view("src")]
        if q is not None:
            alive = q.alive[: q.cap]
            q.last["src"][: q.cap][alive] = remap[q.last["src"][: q.cap][alive]]
            for r in q.runs:
                r.cols["src"] = remap[r.cols["src"]]

    # ------------------------------------------------------------------ admission
    def _admit(
        self, track: _Track, cols: dict[str, npt.NDArray[Any]], events: list[StreamEvent]
    ) -> _Chunk | None:
        """Put new fixes (sorted by time) into the track; return the chunk to detect on."""
        t = cols["t"]
        if track.n and t[0] < track.last_t:
            too_late = t < self._undo_horizon(track)
            if too_late.any():
                for i in np.flatnonzero(too_late).tolist():
                    events.append(self._late_fix_event(track, cols, i))
                self.stats["fixes_too_late"] += int(too_late.sum())
                cols = {k: v[~too_late] for k, v in cols.items()}
                t = cols["t"]
                if t.size == 0:
                    return None
            if t[0] < track.last_t:
                self.stats["fixes_late_used"] += int(np.sum(t < track.last_t))
                return self._rollback(track, cols)
        track.state.gap_open = False
        first = track.n == 0
        before = track.state.copy() if self.lateness_ns > 0 else None
        pos0 = track.n if first else track.n - 1
        lo = track.n
        track.buf.append(cols)
        track.n += t.size
        track.last_t = int(t[-1])
        self.stats["fixes_used"] += t.size
        return _Chunk(track, track.window_cols(pos0), first, pos0, before, lo)

    def _undo_horizon(self, track: _Track) -> int:
        """Oldest time a late fix of this track may have to still be used exactly."""
        horizon = track.last_t - self.lateness_ns
        if not track.steps:
            return track.last_t
        first = track.steps[0]
        if first.lo == 0:  # the track's first step is still held: any time can be merged
            return horizon
        return max(horizon, int(track.buf.t[first.carry - track.base]))

    def _rollback(self, track: _Track, cols: dict[str, npt.NDArray[Any]]) -> _Chunk:
        """Undo the steps a late fix falls into, merge it in, and return one chunk that
        re-detects from the last step before it."""
        t_min = int(cols["t"][0])
        times = track.times()
        k = len(track.steps) - 1
        for i, step in enumerate(track.steps):  # steps are few: the lateness window
            if int(times[step.hi - 1 - track.base]) > t_min:
                k = i
                break
        step = track.steps[k]
        undone = [track.steps.pop() for _ in range(len(track.steps) - k)]
        track.state = step.before.copy()
        old = track.buf.columns(step.lo - track.base)
        merged_t = np.concatenate([old["t"], cols["t"]])
        origin = np.concatenate([np.zeros(old["t"].size, int), np.ones(cols["t"].size, int)])
        order = np.lexsort((origin, merged_t))  # late fixes go after equal times
        head = track.buf.columns(0, step.lo - track.base)
        track.buf.set_columns(
            {c: np.concatenate([head[c], np.concatenate([old[c], cols[c]])[order]]) for c in head}
        )
        track.n += cols["t"].size
        track.last_t = int(track.buf.t[track.buf.n - 1])
        self.stats["fixes_used"] += cols["t"].size
        self._undone[track.id] = [e for s in reversed(undone) for e in s.events]
        return _Chunk(
            track,
            track.window_cols(step.carry),
            step.lo == 0,
            step.carry,
            step.before.copy(),
            step.lo,
        )

    # ------------------------------------------------------------------ detection
    def _tracks_of(self, chunks: Sequence[_Chunk]) -> Tracks:
        """One Tracks of the chunks (already time ordered per track); each fix's
        provenance line is its row in this table, so ``source_rows`` names the fixes."""
        n = [c.cols["t"].shape[0] for c in chunks]
        offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
        np.cumsum(n, out=offsets[1:])

        def cat(name: str, dtype: Any) -> npt.NDArray[Any]:
            return np.concatenate([c.cols[name] for c in chunks]).astype(dtype, copy=False)

        total = int(offsets[-1])
        return Tracks(
            track_ids=np.asarray([c.track.id for c in chunks], dtype=str),
            offsets=offsets,
            t_ns=cat("t", np.int64),
            lon_deg=cat("lon", np.float64),
            lat_deg=cat("lat", np.float64),
            alt_m=cat("alt", np.float64),
            speed_mps=cat("spd", np.float64),
            heading_deg=cat("hdg", np.float64),
            src_file=np.zeros(total, dtype=np.int32),
            src_line=np.arange(total, dtype=np.int64),
            sources=(_SRC_NAME,),
        )

    def _crossings(
        self, chunks: Sequence[_Chunk], zone_ids: Sequence[str] | None, *, near: bool
    ) -> list[dict[str, Any]]:
        """Rows of the batch detector on these chunks.

        Times are int ns; ``source_rows`` is rewritten to the fixes' own provenance;
        ``_pos`` holds the track positions of the fixes it names (ascending) and
        ``_seqs`` their fix ids.
        """
        if not chunks:
            return []
        tracks = self._tracks_of(chunks)
        if zone_ids is None:
            margin = float(self.near_m or 0.0)
            if self.max_speed_mps is not None and len(tracks) > 1:
                same = tracks.track_index[1:] == tracks.track_index[:-1]
                dt = np.diff(tracks.t_ns)[same]
                if dt.size:
                    margin += self.max_speed_mps * float(dt.max()) / NS_PER_S
            sel = self._boxes.select(tracks.lon_deg, tracks.lat_deg, margin)
            zones = Zones([self.zones[i] for i in sel])
        else:
            zones = self.zones.select(list(zone_ids))
        if len(zones) == 0:
            return []
        self.stats["crossings_calls"] += 1
        table = crossings(
            tracks,
            zones,
            near_m=self.near_m if near else None,
            max_speed_mps=self.max_speed_mps,
        ).to_arrow()
        if table.num_rows == 0:
            return []
        for name in TIME_COLUMNS:
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, table.column(name).cast(pa.int64()))
        rows: list[dict[str, Any]] = table.to_pylist()
        seq = np.concatenate([c.cols["seq"] for c in chunks])
        src = np.concatenate([c.cols["src"] for c in chunks])
        line = np.concatenate([c.cols["line"] for c in chunks])
        owner = tracks.track_index
        pos0 = np.asarray([c.pos0 for c in chunks], dtype=np.int64)
        for row in rows:  # per event row, not per fix
            idx = np.asarray(
                sorted({int(p.rsplit(":", 1)[1]) for p in row["source_rows"].split(";") if p}),
                dtype=np.int64,
            )
            row["_pos"] = tuple((pos0[owner[idx]] + idx - tracks.offsets[owner[idx]]).tolist())
            row["_seqs"] = tuple(seq[idx].tolist())
            row["_src"] = (src[idx], line[idx])
            row["source_rows"] = self._fmt_rows(src[idx], line[idx])
        return rows

    def _fmt_rows(self, src: npt.ArrayLike, line: npt.ArrayLike) -> str:
        """``source:line;...`` as the batch detector writes it (unique, by source, line)."""
        prov = sorted(set(zip(np.asarray(src).tolist(), np.asarray(line).tolist(), strict=True)))
        return ";".join(f"{self._sources[f]}:{ln}" for f, ln in prov)

    def _plan(self, chunks: Sequence[_Chunk]) -> dict[int, list[int]]:
        """Per zone (index), the chunks ``crossings`` must see.

        A chunk can have no entry or exit of a polygon zone (without vertical limits) when
        no segment's box, grown for the geodesic's bulge, meets a zone edge's box and all
        its fixes are on the same side: that is how ``crossings`` itself finds crossing
        candidates, with the same boxes and edge index. Such a chunk either continues an
        open visit or stays outside, and is not passed for that zone. Chunks starting a
        track, single fixes, buffer zones, zones with vertical limits, and every chunk when
        ``max_speed_mps`` is set are always passed.
        """
        from ..detect._geometry import SegmentGeo, segment_boxes
        from ..detect.crossings import polygon_model

        lon = np.concatenate([c.cols["lon"] for c in chunks])
        lat = np.concatenate([c.cols["lat"] for c in chunks])
        sizes = np.asarray([c.cols["t"].shape[0] for c in chunks])
        owner = np.repeat(np.arange(len(chunks)), sizes)
        margin = float(self.near_m or 0.0)
        if self.max_speed_mps is not None:
            dt = [float(np.diff(c.cols["t"]).max()) for c in chunks if c.cols["t"].size > 1]
            margin += self.max_speed_mps * max(dt, default=0.0) / NS_PER_S
        candidates = self._boxes.select(lon, lat, margin)
        always = np.asarray([c.first_is_track_start or c.cols["t"].size < 2 for c in chunks])
        seg = np.flatnonzero(owner[1:] == owner[:-1])
        geo = SegmentGeo.build(lon[seg], lat[seg], lon[seg + 1], lat[seg + 1])
        plan: dict[int, list[int]] = {}
        for zi in candidates:
            zone = self.zones[zi]
            if self.max_speed_mps is not None or zone.is_buffer or zone.has_vertical_limits:
                plan[zi] = list(range(len(chunks)))
                continue
            model = polygon_model(zone)
            need = always.copy()
            if seg.size:
                bx0, by0, bx1, by1 = segment_boxes(geo, model.frame)
                need[owner[seg[model.boxes_near_edges(bx0, by0, bx1, by1)]]] = True
            inside = model.contains(lon, lat).astype(np.int64)
            n_in = np.bincount(owner, weights=inside, minlength=len(chunks))
            need |= (n_in > 0) & (n_in < sizes)  # fixes on both sides
            if need.any():
                plan[zi] = np.flatnonzero(need).tolist()
        return plan

    def _run_chunks(self, chunks: Sequence[_Chunk]) -> dict[str, list[StreamEvent]]:
        """Detect on the chunks and update each track's open items; events per track."""
        out: dict[str, list[StreamEvent]] = {c.track.id: [] for c in chunks}
        if not chunks:
            return out
        plan = self._plan(chunks)
        by_track: dict[str, list[dict[str, Any]]] = {}
        seen: dict[str, set[str]] = {c.track.id: set() for c in chunks}
        groups: dict[tuple[int, ...], list[int]] = {}
        for zi, idx in plan.items():  # zones that need the same chunks share one call
            groups.setdefault(tuple(idx), []).append(zi)
        for members, zis in groups.items():
            zone_ids = [self.zones[zi].id for zi in sorted(zis)]
            sub = [chunks[i] for i in members]
            for row in self._crossings(sub, zone_ids, near=False):
                by_track.setdefault(row["track_id"], []).append(row)
            for c in sub:
                seen[c.track.id].update(zone_ids)
        closures: list[tuple[_Track, str, str, _Open, str]] = []
        for chunk in chunks:
            rows = sorted(
                by_track.get(chunk.track.id, []),
                key=lambda r: (r["zone_id"], r["_pos"][0] if r["_pos"] else -1),
            )
            closures.extend(self._interpret(chunk, rows, out, seen[chunk.track.id]))
        self._close(closures, out)
        self._gap_rows(chunks, out)
        # a window that grew too long closes its visits and reopens from the newest fix
        for chunk in chunks:
            if chunk.track.buf.n > self.max_window_fixes:
                out[chunk.track.id].extend(self._window_full(chunk.track))
        return out

    def _interpret(
        self,
        chunk: _Chunk,
        rows: list[dict[str, Any]],
        out: dict[str, list[StreamEvent]],
        seen: set[str],
    ) -> list[tuple[_Track, str, str, _Open, str]]:
        track = chunk.track
        st = track.state
        first_pos = chunk.pos0
        last_pos = chunk.pos0 + int(chunk.cols["t"].shape[0]) - 1
        ev = out[track.id]
        closures: list[tuple[_Track, str, str, _Open, str]] = []
        continued: set[tuple[str, str]] = set()
        for row in rows:
            zid = row["zone_id"]
            evidence = row["evidence"]
            if evidence in _VISIT:
                st.visited.add(zid)
                starts_at_chunk = row["entry_time"] is None
                ends_at_chunk = row["exit_time"] is None
                key = ("visit", zid)
                op = st.opens.get(key)
                if starts_at_chunk and op is not None:
                    continued.add(key)
                    if not ends_at_chunk:
                        closures.append((track, "visit", zid, op, "exit"))
                    continue
                # a visit starting at the chunk's first fix is new only at the track's
                # start (otherwise that fix was inside an open visit, handled above)
                old = op
                op = self._open_visit(track, row)
                ev.append(self._entry_event(track, row, op))
                if ends_at_chunk:
                    if old is not None and key not in continued:  # pragma: no cover - defensive
                        closures.append((track, "visit", zid, old, "exit"))
                    st.opens[key] = op
                    continued.add(key)
                else:
                    ev.append(self._row_event("visit", track, row, op.event_id, "exit"))
            elif evidence == "possible":
                key = ("possible", zid)
                op = st.opens.get(key)
                pos = row["_pos"]
                touches_start = bool(pos) and pos[0] == first_pos
                touches_end = bool(pos) and pos[-1] == last_pos
                if touches_start and op is not None:
                    continued.add(key)
                    if not touches_end:
                        closures.append((track, "possible", zid, op, "exit"))
                    continue
                anchor = pos[0] if pos else first_pos
                eid = _digest("possible", track.id, zid, row["entry_bracket_start"])
                if touches_end:
                    if op is not None and key not in continued:
                        closures.append((track, "possible", zid, op, "exit"))  # ended earlier
                    st.opens[key] = _Open(
                        "possible", anchor, True, (row["entry_bracket_start"], None), None, eid
                    )
                    continued.add(key)
                else:
                    ev.append(self._row_event("possible", track, row, eid, ""))
        # open items not continued in this chunk ended at its first fix. A visit cannot have
        # ended in a zone the chunk was not given to (see _plan); a possible run ends
        # whenever the chunk's first segment is not possible (no row, given or not).
        for key, op in list(st.opens.items()):
            if key not in continued and (key[0] == "possible" or key[1] in seen):
                closures.append((track, key[0], key[1], op, "exit"))
        return closures

    def _near_pass(self, tracks: Sequence[_Track]) -> None:
        """Closest passes (``near``) over the fixes each track got since its last pass.

        ``near`` rows are published only when a track ends, and ``crossings`` spends
        about the same time on a few segments as on many here, so they are evaluated in
        large passes rather than per batch.
        """
        if self.near_m is None:
            return
        chunks = []
        for t in tracks:
            lo = max(t.state.near_pos - 1, 0)
            if t.state.near_pos < t.n:
                chunks.append(_Chunk(t, t.window_cols(lo), lo == 0, lo))
        rows = self._crossings(chunks, None, near=True)
        for row in rows:
            if row["evidence"] in _VISIT:
                self._tracks[row["track_id"]].state.visited.add(row["zone_id"])
        for chunk in chunks:
            chunk.track.state.near_pos = chunk.track.n
        by_id = {c.track.id: c for c in chunks}
        for row in rows:
            if row["evidence"] != "near":
                continue
            chunk = by_id[row["track_id"]]
            st = chunk.track.state
            zid = row["zone_id"]
            if chunk.cols["t"].shape[0] == 1 and chunk.first_is_track_start:
                st.near_single[zid] = row
                continue
            best = st.near.get(zid)
            if best is None or (row["closest_edge_m"], row["closest_time"]) < (
                best["closest_edge_m"],
                best["closest_time"],
            ):
                st.near[zid] = row
        self._near_pending = 0

    def _open_visit(self, track: _Track, row: dict[str, Any]) -> _Open:
        pos = row["_pos"]
        first = pos[0] if pos else track.base
        if row["entry_time"] is None:
            eid = _digest("visit", track.id, row["zone_id"], "start", row["first_fix_time"])
            return _Open("visit", first, False, (None, None), None, eid)
        # the re-run starts at the fix before the entry (the entry bracket's first fix, or
        # the one before it when the entry is exactly at a fix)
        single = row["entry_bracket_start"] == row["entry_bracket_end"]
        anchor = max(track.base, first - 1) if single else first
        bracket = (row["entry_bracket_start"], row["entry_bracket_end"])
        eid = _digest("visit", track.id, row["zone_id"], *bracket, row["entry_time"] // 1_000_000)
        return _Open("visit", anchor, True, bracket, row["entry_time"], eid)

    def _close(
        self,
        closures: Sequence[tuple[_Track, str, str, _Open, str]],
        out: dict[str, list[StreamEvent]],
    ) -> None:
        """Re-run ``crossings`` on each closing item's window and publish its final row."""
        if not closures:
            return
        lo: dict[str, int] = {}
        tracks: dict[str, _Track] = {}
        zone_ids: set[str] = set()
        for track, _, zid, op, _ in closures:
            lo[track.id] = min(lo.get(track.id, op.anchor), op.anchor)
            tracks[track.id] = track
            zone_ids.add(zid)
        chunks = [
            _Chunk(t, t.window_cols(max(lo[tid], t.base)), lo[tid] == 0, max(lo[tid], t.base))
            for tid, t in tracks.items()
        ]
        rows = self._crossings(
            chunks, sorted(zone_ids, key=self._zone_index.__getitem__), near=False
        )
        by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for row in rows:
            kind = "possible" if row["evidence"] == "possible" else "visit"
            if row["evidence"] in _VISIT or kind == "possible":
                by_key.setdefault((row["track_id"], row["zone_id"], kind), []).append(row)
        for track, kind, zid, op, how in closures:
            cands = by_key.get((track.id, zid, kind), [])
            found = self._match(kind, op, cands)
            if track.state.opens.get((kind, zid)) is op:  # a new item may have the key
                del track.state.opens[(kind, zid)]
            if found is None:  # pragma: no cover - defensive: the window always holds the item
                continue
            out[track.id].append(self._row_event(kind, track, found, op.event_id, how))

    @staticmethod
    def _match(kind: str, op: _Open, cands: list[dict[str, Any]]) -> dict[str, Any] | None:
        if kind == "possible":
            for row in cands:
                if row["entry_bracket_start"] == op.bracket[0]:
                    return row
            return cands[0] if cands else None
        if not op.entry_known:
            for row in cands:
                if row["entry_time"] is None:
                    return row
            return None
        same = [
            r
            for r in cands
            if (r["entry_bracket_start"], r["entry_bracket_end"]) == op.bracket
            and r["entry_time"] is not None
        ]
        if not same:
            return None
        assert op.entry_time is not None
        entry_time = op.entry_time
        return min(same, key=lambda r: abs(int(r["entry_time"]) - entry_time))

    def _close_tracks(self, tracks: Sequence[_Track], how: str) -> list[StreamEvent]:
        out: dict[str, list[StreamEvent]] = {t.id: [] for t in tracks}
        self._near_pass(tracks)
        closures = [(t, k, z, op, how) for t in tracks for (k, z), op in t.state.opens.items()]
        # an open visit at the end is the whole-input row with a null exit: same re-run
        self._close(closures, out)
        events: list[StreamEvent] = []
        for t in tracks:
            events.extend(out[t.id])
            st = t.state
            near = st.near_single if t.n == 1 else st.near
            for zid in sorted(near, key=self._zone_index.__getitem__):
                if zid in st.visited:
                    continue
                row = near[zid]
                eid = _digest("near", t.id, zid, row["closest_time"])
                events.append(self._row_event("near", t, row, eid, ""))
            for e in events:
                if e.track_id == t.id:
                    t.recent.append((e.id, *event_span(e)))
        return events

    def _window_full(self, track: _Track) -> list[StreamEvent]:
        out: dict[str, list[StreamEvent]] = {track.id: []}
        self._near_pass([track])
        closures = [(track, k, z, op, "window_full") for (k, z), op in track.state.opens.items()]
        self._close(closures, out)
        # restart the track's window at its newest fix: a visit there reopens as new
        last = track.buf.columns(track.buf.n - 1)
        track.base = track.n - 1
        track.buf.set_columns(last)
        track.steps.clear()
        track.state.opens.clear()
        return out[track.id]

    # ------------------------------------------------------------------ events
    def _entry_event(self, track: _Track, row: dict[str, Any], op: _Open) -> StreamEvent:
        entry = {k: row.get(k) for k in ENTRY_COLUMNS}
        t = row["entry_time"] if row["entry_time"] is not None else row["first_fix_time"]
        eid = _digest("entry", op.event_id)
        if row["entry_time"] is None:
            k = 1
        else:
            k = 1 if row["entry_bracket_start"] == row["entry_bracket_end"] else 2
        seqs = tuple(row["_seqs"][:k])
        entry["source_rows"] = self._fmt_rows(row["_src"][0][:k], row["_src"][1][:k])
        return StreamEvent(
            eid, "entry", track.id, row["zone_id"], int(t), entry, dict(track.attrs), seqs
        )

    def _row_event(
        self, kind: str, track: _Track, row: dict[str, Any], eid: str, how: str
    ) -> StreamEvent:
        clean = {k: v for k, v in row.items() if not k.startswith("_")}
        if kind == "visit":
            t = row["exit_time"] if row["exit_time"] is not None else row["last_fix_time"]
            if t is None:
                t = row["entry_time"]
        elif kind == "near":
            t = row["closest_time"]
        else:
            t = row["entry_bracket_start"]
        return StreamEvent(
            eid,
            kind,
            track.id,
            row["zone_id"],
            int(t),
            clean,
            dict(track.attrs),
            tuple(row["_seqs"]),
            how,
        )

    def _late_fix_event(
        self, track: _Track, cols: Mapping[str, npt.NDArray[Any]], i: int
    ) -> StreamEvent:
        t = int(cols["t"][i])
        seq = int(cols["seq"][i])
        affects = tuple(eid for eid, t0, t1 in track.recent if t0 <= t <= t1)
        row = {
            "t_ns": t,
            "lon_deg": float(cols["lon"][i]),
            "lat_deg": float(cols["lat"][i]),
            "track_newest_ns": track.last_t,
            "lateness_s": self.lateness_ns / NS_PER_S,
            "source_rows": self._fmt_rows(cols["src"][i : i + 1], cols["line"][i : i + 1]),
        }
        return StreamEvent(
            _digest("late_fix", track.id, seq),
            "late_fix",
            track.id,
            "",
            t,
            row,
            dict(track.attrs),
            (seq,),
            affects=affects,
        )

    def _gap_rows(self, chunks: Sequence[_Chunk], out: dict[str, list[StreamEvent]]) -> None:
        """``gap_close`` events: the batch ``gaps`` rows of the new segments."""
        if self.gap_ns is None:
            return
        with_gap = [
            c for c in chunks if c.cols["t"].size > 1 and np.diff(c.cols["t"]).max() > self.gap_ns
        ]
        if not with_gap:
            return
        from ..detect.gaps import gaps

        tracks = self._tracks_of(with_gap)
        sel = self._boxes.select(tracks.lon_deg, tracks.lat_deg, 30_000.0)
        table = gaps(
            tracks, min_gap_s=self.gap_ns / NS_PER_S, zones=Zones([self.zones[i] for i in sel])
        ).to_arrow()
        for name in ("start_time", "end_time"):
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, table.column(name).cast(pa.int64()))
        seq = np.concatenate([c.cols["seq"] for c in with_gap])
        src = np.concatenate([c.cols["src"] for c in with_gap])
        line = np.concatenate([c.cols["line"] for c in with_gap])
        by_id = {c.track.id: c for c in with_gap}
        for row in table.to_pylist():
            idx = np.asarray(
                sorted({int(p.rsplit(":", 1)[1]) for p in row["source_rows"].split(";") if p}),
                dtype=np.int64,
            )
            row["source_rows"] = self._fmt_rows(src[idx], line[idx])
            for name in ("shared_with", "coverage", "label"):
                row[name] = None  # need every track's fixes over the silence: not kept
            track = by_id[row["track_id"]].track
            eid = _digest("gap", track.id, row["start_time"])
            out[track.id].append(
                StreamEvent(
                    eid,
                    "gap_close",
                    track.id,
                    "",
                    int(row["end_time"]),
                    row,
                    dict(track.attrs),
                    tuple(seq[idx].tolist()),
                )
            )

    def _gap_event(self, track: _Track, kind: str, t: int) -> StreamEvent:
        row = {"last_fix_ns": track.last_t, "gap_s": (t - track.last_t) / NS_PER_S}
        return StreamEvent(
            _digest(kind, track.id, track.last_t), kind, track.id, "", t, row, dict(track.attrs)
        )

    # ------------------------------------------------------------------ lateness, memory
    def _reconcile_late(self, track: _Track, new: list[StreamEvent]) -> list[StreamEvent]:
        """Publish only what changed when a step re-ran after a late fix."""
        old = self._undone.pop(track.id, None)
        if old is None:
            for e in new:
                track.recent.append((e.id, *event_span(e)))
            return new
        old_by_id = {e.id: e for e in old}
        new_by_id = {e.id: e for e in new}
        out: list[StreamEvent] = []
        for e in new:
            prev = old_by_id.get(e.id)
            if prev is None:
                out.append(_replace(e, correction="added"))
            elif prev.content_key() != e.content_key():
                out.append(_replace(e, correction="updated"))
            track.recent.append((e.id, *event_span(e)))
        for e in old:
            if e.id not in new_by_id:
                out.append(_replace(e, correction="retracted"))
        return out

    def _prune(self, track: _Track) -> None:
        """Forget steps older than the lateness window, and fixes no step or open item needs."""
        horizon = track.last_t - self.lateness_ns
        times = track.times()
        while len(track.steps) > 1:
            nxt = track.steps[1]
            if int(times[nxt.hi - 1 - track.base]) >= horizon:
                break
            track.steps.popleft()
        need = track.n - 1
        if self.near_m is not None:
            need = min(need, track.state.near_pos - 1)
        if track.steps:
            before = track.steps[0].before
            need = min(need, track.steps[0].carry)
            if self.near_m is not None:
                need = min(need, before.near_pos - 1)
            for op in before.opens.values():
                need = min(need, op.anchor)
        for op in track.state.opens.values():
            need = min(need, op.anchor)
        drop = need - track.base
        if drop > 0:
            track.buf.drop_front(drop)
            track.base += drop

    def _housekeeping(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        wm = self.watermark_ns
        q = self._quiet
        if q is not None and len(q):
            alive = q.alive[: q.cap]
            last = q.last["t"][: q.cap]
            if self.gap_ns is not None:
                opened = np.flatnonzero(alive & ~q.gap_open[: q.cap] & (wm - last > self.gap_ns))
                for slot in opened.tolist():
                    tid = q.ids[slot]
                    lt = int(last[slot])
                    t = lt + self.gap_ns
                    row = {"last_fix_ns": lt, "gap_s": (t - lt) / NS_PER_S}
                    attrs = {k: str(v[slot]) for k, v in q.attrs.items() if v[slot] != ""}
                    events.append(
                        StreamEvent(
                            _digest("gap_open", tid, lt), "gap_open", tid, "", t, row, attrs
                        )
                    )
                q.gap_open[opened] = True
            if self.evict_after_ns is not None:
                idle = np.flatnonzero(alive & (wm - last >= self.evict_after_ns))
                if idle.size:
                    events.extend(self.evict([q.ids[i] for i in idle.tolist()]))
        if self.gap_ns is not None:
            for track in self._tracks.values():
                if not track.state.gap_open and track.n and wm - track.last_t > self.gap_ns:
                    track.state.gap_open = True
                    events.append(self._gap_event(track, "gap_open", track.last_t + self.gap_ns))
        if self.evict_after_ns is not None:
            idle_ids = [t.id for t in self._tracks.values() if wm - t.last_t >= self.evict_after_ns]
            if idle_ids:
                events.extend(self.evict(idle_ids))
        return events


def _replace(e: StreamEvent, **changes: Any) -> StreamEvent:
    import dataclasses

    return dataclasses.replace(e, **changes)
