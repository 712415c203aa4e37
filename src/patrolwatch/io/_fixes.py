"""The readers' common output: candidate fixes of one file, with the lines they rest on.

Every reader of :mod:`patrolwatch.io` (NMEA, ADS-B, GPX, KML, the CSV adapters) returns a
:class:`FileRead`: a :class:`FixTable` of candidate fixes in input order, the rejected
lines, and the lines used without being a fix (AIS static reports). The dispatcher
(:mod:`patrolwatch.io.dispatch`) concatenates them, cleans identities
(:mod:`patrolwatch.io._clean`) and builds :class:`~patrolwatch.Tracks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ._rejects import Rejects

__all__ = [
    "CLASS_AIRCRAFT",
    "CLASS_OTHER",
    "CLASS_SHIP",
    "VEHICLE_CLASSES",
    "FileRead",
    "FixTable",
    "concat",
    "text_lines",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
BOOL = npt.NDArray[np.bool_]
STR = npt.NDArray[np.str_]

CLASS_OTHER = 0
"""Vehicle class code: unknown (GPX, KML, generic tables): no class defaults apply."""
CLASS_SHIP = 1
"""Vehicle class code: ship (AIS)."""
CLASS_AIRCRAFT = 2
"""Vehicle class code: aircraft (ADS-B, AIS search-and-rescue aircraft)."""
VEHICLE_CLASSES = ("other", "ship", "aircraft")
"""Names of the class codes, by code."""


def _f64(x: npt.ArrayLike | None, n: int) -> F64:
    if x is None:
        return np.full(n, np.nan)
    return np.ascontiguousarray(x, dtype=np.float64)


@dataclass
class FixTable:
    """Candidate fixes in input order (one element per fix).

    Attributes
    ----------
    track_id : ndarray of str
    t_ns : ndarray of int64, ns since the Unix epoch, UTC
    lon_deg, lat_deg : ndarray of float64, degrees WGS84, within range
    alt_m, speed_mps, heading_deg : ndarray of float64, m, m/s, degrees (NaN: unknown)
    src_file : ndarray of int64
        Index into the dispatcher's list of sources (0 inside a reader).
    src_line : ndarray of int64
        1-based line (or record number) the fix comes from.
    vclass : ndarray of int8
        ``CLASS_*`` code of the vehicle.
    break_before : ndarray of bool
        The source says a new leg of the track starts at this fix (readsb flag, GPX
        ``trkseg``, KML ``gx:MultiTrack``).
    attrs : mapping of str to ndarray of str, one value per fix
        ``operator``, ``type``, ``callsign``, ``name``, ``source`` ...; ``""`` unknown.
    aux_fix, aux_line : ndarray of int64
        Further lines each fix rests on (fragments of a multi-sentence AIS message, the
        ``$PGHP`` wrapper that timed it): fix ``aux_fix[k]`` also uses ``aux_line[k]``.
    """

    track_id: STR
    t_ns: I64
    lon_deg: F64
    lat_deg: F64
    alt_m: F64
    speed_mps: F64
    heading_deg: F64
    src_file: I64
    src_line: I64
    vclass: I8
    break_before: BOOL
    attrs: dict[str, STR] = field(default_factory=dict)
    aux_fix: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    aux_line: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def build(
        cls,
        track_id: npt.ArrayLike,
        t_ns: npt.ArrayLike,
        lon_deg: npt.ArrayLike,
        lat_deg: npt.ArrayLike,
        src_line: npt.ArrayLike,
        *,
        vclass: int | npt.ArrayLike = CLASS_OTHER,
        alt_m: npt.ArrayLike | None = None,
        speed_mps: npt.ArrayLike | None = None,
        heading_deg: npt.ArrayLike | None = None,
        break_before: npt.ArrayLike | None = None,
        attrs: Mapping[str, npt.ArrayLike] | None = None,
        aux_fix: npt.ArrayLike | None = None,
        aux_line: npt.ArrayLike | None = None,
    ) -> FixTable:
        """Build from array-likes; absent optional columns are NaN / False / empty."""
        ids = np.asarray(track_id, dtype=str)
        n = ids.shape[0]
        vc = np.asarray(vclass, dtype=np.int8)
        return cls(
            track_id=ids if n else np.zeros(0, dtype="<U1"),
            t_ns=np.asarray(t_ns, dtype=np.int64).reshape(n),
            lon_deg=_f64(lon_deg, n),
            lat_deg=_f64(lat_deg, n),
            alt_m=_f64(alt_m, n),
            speed_mps=_f64(speed_mps, n),
            heading_deg=_f64(heading_deg, n),
            src_file=np.zeros(n, dtype=np.int64),
            src_line=np.asarray(src_line, dtype=np.int64).reshape(n),
            vclass=np.full(n, vc, dtype=np.int8) if vc.ndim == 0 else vc,
            break_before=np.zeros(n, dtype=bool)
            if break_before is None
            else np.asarray(break_before, dtype=bool),
            attrs={
                k: (np.asarray(v, dtype=str) if n else np.zeros(0, dtype="<U1"))
                for k, v in (attrs or {}).items()
            },
            aux_fix=np.zeros(0, dtype=np.int64)
            if aux_fix is None
            else np.asarray(aux_fix, dtype=np.int64),
            aux_line=np.zeros(0, dtype=np.int64)
            if aux_line is None
            else np.asarray(aux_line, dtype=np.int64),
        )

    @classmethod
    def empty(cls) -> FixTable:
        """No fixes."""
        return cls.build(np.zeros(0, dtype=str), [], [], [], [])

    def __len__(self) -> int:
        return int(self.t_ns.shape[0])

    def take(self, idx: I64) -> FixTable:
        """The fixes ``idx`` (in that order); auxiliary lines follow their fixes."""
        idx = np.asarray(idx, dtype=np.int64)
        new_pos = np.full(len(self), -1, dtype=np.int64)
        new_pos[idx] = np.arange(idx.size, dtype=np.int64)
        keep = new_pos[self.aux_fix] >= 0 if self.aux_fix.size else np.zeros(0, dtype=bool)
        return FixTable(
            track_id=self.track_id[idx],
            t_ns=self.t_ns[idx],
            lon_deg=self.lon_deg[idx],
            lat_deg=self.lat_deg[idx],
            alt_m=self.alt_m[idx],
            speed_mps=self.speed_mps[idx],
            heading_deg=self.heading_deg[idx],
            src_file=self.src_file[idx],
            src_line=self.src_line[idx],
            vclass=self.vclass[idx],
            break_before=self.break_before[idx],
            attrs={k: v[idx] for k, v in self.attrs.items()},
            aux_fix=new_pos[self.aux_fix[keep]] if self.aux_fix.size else self.aux_fix,
            aux_line=self.aux_line[keep] if self.aux_fix.size else self.aux_line,
        )

    def lines_of(self, idx: I64) -> tuple[I64, I64, I64]:
        """Every (fix, file, line) the fixes ``idx`` rest on: primary lines first."""
        idx = np.asarray(idx, dtype=np.int64)
        sel = np.isin(self.aux_fix, idx) if self.aux_fix.size else np.zeros(0, dtype=bool)
        fix = np.concatenate([idx, self.aux_fix[sel]])
        return fix, self.src_file[fix], np.concatenate([self.src_line[idx], self.aux_line[sel]])


def concat(tables: Sequence[FixTable], files: Sequence[int]) -> FixTable:
    """Concatenate per-file tables, setting ``src_file`` of table ``k`` to ``files[k]``."""
    if not tables:
        return FixTable.empty()
    keys = sorted({k for t in tables for k in t.attrs})
    offsets = np.cumsum([0] + [len(t) for t in tables])

    def attr(t: FixTable, k: str) -> STR:
        return t.attrs[k] if k in t.attrs else np.full(len(t), "", dtype="<U1")

    return FixTable(
        track_id=np.concatenate([t.track_id for t in tables]).astype(str),
        t_ns=np.concatenate([t.t_ns for t in tables]),
        lon_deg=np.concatenate([t.lon_deg for t in tables]),
        lat_deg=np.concatenate([t.lat_deg for t in tables]),
        alt_m=np.concatenate([t.alt_m for t in tables]),
        speed_mps=np.concatenate([t.speed_mps for t in tables]),
        heading_deg=np.concatenate([t.heading_deg for t in tables]),
        src_file=np.concatenate(
            [np.full(len(t), f, dtype=np.int64) for t, f in zip(tables, files, strict=True)]
        ),
        src_line=np.concatenate([t.src_line for t in tables]),
        vclass=np.concatenate([t.vclass for t in tables]),
        break_before=np.concatenate([t.break_before for t in tables]),
        attrs={k: np.concatenate([attr(t, k) for t in tables]).astype(str) for k in keys},
        aux_fix=np.concatenate([t.aux_fix + o for t, o in zip(tables, offsets[:-1], strict=True)]),
        aux_line=np.concatenate([t.aux_line for t in tables]),
    )


@dataclass
class FileRead:
    """One reader's result for one input.

    Attributes
    ----------
    fixes : FixTable
        Candidate fixes (not yet cleaned), in input order.
    rejects : Rejects
        Lines not used, each once.
    n_read : int
        Rows (lines, records or points, as the format defines them) read.
    meta_lines : ndarray of int64
        Lines used without being a fix (AIS static reports).
    fmt : str
        The format as inferred (``"ais-nmea"``, ``"gpx"``, ...).
    columns : dict of str to str
        What each role was read from (for the report).
    notes : list of str
    raw_line : callable, optional
        The raw text of a row by its number (for fixes rejected by cleaning).
    unique_lines : bool
        Each row has its own line number (False for KML, whose LineString vertices share
        the line of their ``coordinates``).
    """

    fixes: FixTable
    rejects: Rejects
    n_read: int
    fmt: str
    meta_lines: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    columns: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    raw_line: Callable[[int], str] | None = None
    unique_lines: bool = True


def text_lines(data: bytes, *, max_chars: int = 1000) -> Callable[[int], str]:
    """A getter of physical line ``k`` (1-based; ``\\n``, ``\\r\\n`` or ``\\r`` endings) of
    ``data``; the lines are split once, on first use."""
    cache: list[list[bytes]] = []

    def get(k: int) -> str:
        if not cache:
            cache.append(data.splitlines())
        lines = cache[0]
        if not 1 <= k <= len(lines):
            return f"line {k}"
        text = lines[k - 1].decode("utf-8", errors="replace")
        return text if len(text) <= max_chars else text[:max_chars] + "..."

    return get
