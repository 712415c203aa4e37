"""The CSV/Parquet reader split in two stages, so that each runs where its data is.

:func:`patrolwatch.io.tables.read_table_tracks` does two kinds of work:

1. **per row** (file by file): column detection, time parsing, unit conversion and the
   row checks (``bad_time``, ``lat_out_of_range``, ...);
2. **per track** (after a sort by track and time over all files): exact duplicates,
   the implied-speed filter and the per-track attributes (first non-empty value).

Stage 1 is :func:`read_file`, one task per input file. It also assigns every candidate
fix to a *bucket* by a hash of its track id (:func:`bucket_of`) and cuts the file's
candidates into one piece per bucket. Stage 2 is :func:`assemble_bucket`, one task per
bucket: it receives the pieces of its tracks from every file and runs the reader's own
per-track stage on them. Because stage 2 only ever compares fixes of one track, each
track comes out exactly as the single-machine reader makes it: same fixes, same order,
same provenance (``src_file`` indexes the full list of input files), same rejects with
the same messages.

This module uses the reader's private building blocks on purpose: a reimplementation
could drift from the reader, while these calls cannot. Tests compare both engines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..core.tracks import Tracks
from ..errors import ConfigError, InputError, PatrolwatchError
from ..io import tables as _tables
from ..io._times import parse_tz

__all__ = [
    "BucketRead",
    "FileRead",
    "assemble_bucket",
    "bucket_of",
    "check_read_options",
    "read_file",
]

I64 = npt.NDArray[np.int64]
Format = Literal["auto", "csv", "parquet"]


def bucket_of(track_ids: npt.ArrayLike, n_buckets: int) -> I64:
    """The bucket of each track id: a fixed 64-bit hash of the id, modulo ``n_buckets``.

    The hash (pandas' SipHash with its fixed key) is the same in every process and on
    every machine, so every file sends a track to the same bucket.

    Parameters
    ----------
    track_ids : array of str
        Track ids as the reader normalises them (trimmed text).
    n_buckets : int, >= 1

    Returns
    -------
    ndarray of int64 in ``[0, n_buckets)``

    Examples
    --------
    >>> b = bucket_of(["A50", "H6K-1", "A50"], 4)
    >>> bool(b[0] == b[2]), bool(((b >= 0) & (b < 4)).all())
    (True, True)
    """
    ids = np.asarray(track_ids, dtype=str).astype(object)
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    h = pd.util.hash_array(ids, categorize=False)
    return np.asarray(h % np.uint64(n_buckets), dtype=np.int64)


def check_read_options(
    format: str,
    columns: Mapping[str, str] | None,
    assume_tz: str | None,
    max_speed_mps: float | None,
) -> None:
    """Raise the reader's :class:`ConfigError` for a bad option, before any task runs."""
    if format not in ("auto", "csv", "parquet"):
        raise ConfigError(f"format must be 'auto', 'csv' or 'parquet', not {format!r}")
    if columns is not None:
        unknown = [r for r in columns if r not in _tables.ROLES]
        if unknown:
            raise ConfigError(f"unknown column role(s) {unknown}; roles are {list(_tables.ROLES)}")
    if assume_tz is not None:
        parse_tz(assume_tz)
    if max_speed_mps is not None and not (np.isfinite(max_speed_mps) and max_speed_mps > 0):
        raise ConfigError(f"max_speed_mps must be a positive number of m/s, not {max_speed_mps}")


def _load(path: str, format: Format, columns: Mapping[str, str] | None) -> _tables._Source:
    """Load one file exactly as :func:`read_table_tracks` does."""
    data, gz = _tables._read_bytes(path)
    is_parquet = data[:4] == _tables._PARQUET_MAGIC
    if format == "parquet" or (format == "auto" and is_parquet):
        if not is_parquet:
            raise InputError(
                "not a Parquet file (no PAR1 magic); use format='auto' or 'csv'", path=path
            )
        src = _tables._load_parquet(path, data, columns)
        if gz:
            src.notes.append(f"{path}: gzip-compressed Parquet")
        return src
    if is_parquet:
        raise InputError(
            "this is a Parquet file (PAR1 magic); use format='auto' or 'parquet'", path=path
        )
    return _tables._load_csv(path, data, columns, gz)


@dataclass
class RejectRows:
    """Rejected rows as plain lists (``src`` indexes the full list of input files)."""

    src: list[int] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    message: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, rej: _tables._RejectRows) -> RejectRows:
        return cls(rej.src, rej.line, rej.raw, rej.reason, rej.message)

    def extend(self, other: RejectRows) -> None:
        self.src += other.src
        self.line += other.line
        self.raw += other.raw
        self.reason += other.reason
        self.message += other.message


@dataclass(frozen=True)
class ErrorSpec:
    """A patrolwatch error as plain data: its exceptions do not pickle (their context is
    keyword-only), and they must travel from a worker to the client."""

    cls: type[PatrolwatchError]
    args: tuple[object, ...]
    reason: str = ""
    path: str = ""
    line: int | None = None
    feature: str | None = None

    @classmethod
    def of(cls, exc: PatrolwatchError) -> ErrorSpec:
        if isinstance(exc, InputError):
            return cls(type(exc), (), exc.reason, exc.path, exc.line, exc.feature)
        return cls(type(exc), tuple(exc.args))

    def error(self) -> PatrolwatchError:
        """The error, as raised on the worker."""
        if issubclass(self.cls, InputError):
            return self.cls(self.reason, path=self.path, line=self.line, feature=self.feature)
        return self.cls(*self.args)


@dataclass
class FileRead:
    """What stage 1 makes of one file.

    ``error`` is set (and nothing else is) when the file cannot be read; ``stage`` says
    whether loading or the row checks failed, so that the caller can raise the same
    error as the single-machine reader (it loads every file before checking any).
    """

    k: int
    n_read: int = 0
    fmt: str = ""
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    rejects: RejectRows = field(default_factory=RejectRows)
    pieces: list[_tables._Part] = field(default_factory=list)
    n_candidates: int = 0
    error: ErrorSpec | None = None
    stage: Literal["", "load", "process"] = ""

    def meta(self) -> FileRead:
        """This read without its pieces (what the client gathers)."""
        return FileRead(
            self.k,
            self.n_read,
            self.fmt,
            self.notes,
            self.columns,
            self.rejects,
            [],
            self.n_candidates,
            self.error,
            self.stage,
        )


def _trim(
    codes: I64, dictionary: npt.NDArray[np.str_], keep_empty: bool
) -> tuple[I64, npt.NDArray[np.str_]]:
    """Codes into the used part of ``dictionary`` (with ``""`` kept when asked: the
    reader's attribute dictionaries must hold it, see ``_assemble``)."""
    used = np.unique(codes)
    if keep_empty:
        used = np.union1d(used, [dictionary.size - 1]).astype(np.int64)
    return np.searchsorted(used, codes).astype(np.int64), dictionary[used]


def _split(part: _tables._Part, bucket: I64, n_buckets: int) -> list[_tables._Part]:
    """One piece of ``part`` per bucket, rows in file order within each piece."""
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
    pieces = []
    for b in range(n_buckets):  # per bucket (not per row)
        rows = order[bounds[b] : bounds[b + 1]]
        id_codes, id_dict = _trim(part.id_codes[rows], part.id_dict, keep_empty=False)
        attrs = {
            role: _trim(codes[rows], dictionary, keep_empty=True)
            for role, (codes, dictionary) in part.attrs.items()
        }
        pieces.append(
            _tables._Part(
                src=part.src,
                local=part.local[rows],
                line=part.line[rows],
                id_codes=id_codes,
                id_dict=id_dict,
                t_ns=part.t_ns[rows],
                lon_deg=part.lon_deg[rows],
                lat_deg=part.lat_deg[rows],
                alt_m=part.alt_m[rows],
                speed_mps=part.speed_mps[rows],
                heading_deg=part.heading_deg[rows],
                attrs=attrs,
            )
        )
    return pieces


def read_file(
    k: int,
    path: str,
    n_buckets: int,
    *,
    format: Format = "auto",
    columns: Mapping[str, str] | None = None,
    assume_tz: str | None = None,
) -> FileRead:
    """Stage 1: read file number ``k`` and cut its candidate fixes into buckets.

    Errors of the input (:class:`~patrolwatch.PatrolwatchError`) are returned in
    ``FileRead.error``, not raised, so that the caller can choose which one to raise.
    """
    try:
        src = _load(path, format, columns)
    except PatrolwatchError as exc:
        return FileRead(k, error=ErrorSpec.of(exc), stage="load")
    rej = _tables._RejectRows()
    notes = list(src.notes)
    for line, raw, msg in src.bad_rows:
        rej.add_many(k, [line], [raw], "bad_row", [msg])
    try:
        part, cols = _tables._process_source(k, src, assume_tz, rej, notes)
    except PatrolwatchError as exc:
        return FileRead(k, error=ErrorSpec.of(exc), stage="process")
    bucket = bucket_of(part.id_dict, n_buckets)[part.id_codes]
    return FileRead(
        k,
        n_read=src.n_read,
        fmt=src.fmt,
        notes=notes,
        columns=cols,
        rejects=RejectRows.of(rej),
        pieces=_split(part, bucket, n_buckets),
        n_candidates=int(part.local.size),
    )


class _LazySource:
    """Stands for a loaded file in ``_assemble``: the path at once, and the raw rows and
    signatures (needed only for duplicates and implied-speed rejects) on demand, by
    loading the file again."""

    def __init__(self, path: str, format: Format, columns: Mapping[str, str] | None) -> None:
        self.path = path
        self._format: Format = format
        self._columns = columns
        self._src: _tables._Source | None = None

    def _loaded(self) -> _tables._Source:
        if self._src is None:
            self._src = _load(self.path, self._format, self._columns)
        return self._src

    def raw_rows(self, idx: I64) -> list[str]:
        return self._loaded().raw_rows(idx)

    def signatures(self, idx: I64) -> list[str]:
        return self._loaded().signatures(idx)


@dataclass
class BucketRead:
    """Stage 2 of one bucket: its tracks (as the single-machine reader makes them), the
    rows it rejected (duplicates, implied speed) and the reader's notes about them."""

    tracks: Tracks
    rejects: RejectRows
    notes: list[str]


def assemble_bucket(
    pieces: Sequence[_tables._Part],
    paths: Sequence[str],
    *,
    format: Format = "auto",
    columns: Mapping[str, str] | None = None,
    max_speed_mps: float | None = None,
) -> BucketRead:
    """Stage 2: the tracks of one bucket from its pieces of every file (in file order)."""
    sources = [_LazySource(p, format, columns) for p in paths]
    rej = _tables._RejectRows()
    notes: list[str] = []
    tracks = _tables._assemble(
        sources,  # type: ignore[arg-type]  # duck-typed: path, raw_rows, signatures
        list(pieces),
        rej,
        notes,
        max_speed_mps,
    )
    return BucketRead(tracks, RejectRows.of(rej), notes)


_IMPLIED_NOTE = re.compile(r"^implied_speed: (\d+) fixes rejected")


def merge_notes(
    file_notes: Sequence[Sequence[str]], bucket_notes: Sequence[Sequence[str]]
) -> list[str]:
    """The reader's notes: every file's, in file order, then the per-track stage's (the
    implied-speed counts of all buckets added up into the reader's one note)."""
    out = [n for notes in file_notes for n in notes]
    total = 0
    template = ""
    others: list[str] = []
    for notes in bucket_notes:
        for note in notes:
            m = _IMPLIED_NOTE.match(note)
            if m is None:
                others.append(note)
                continue
            total += int(m.group(1))
            template = note
    out += others
    if template:
        out.append(_IMPLIED_NOTE.sub(f"implied_speed: {total} fixes rejected", template))
    return out
