"""The CSV/Parquet track reader: tabular position reports in, :class:`Tracks` out.

:func:`read_table_tracks` reads one or more CSV (optionally gzip-compressed) or Parquet
files, finds the track id, time, latitude and longitude columns (and optional altitude,
speed, heading and per-track attributes) by name, converts every value to patrolwatch's
internal units (UTC nanoseconds, degrees, metres, metres per second) and accounts for
every data row: it is either a fix of the returned :class:`Tracks` or a row of the
returned :class:`Rejects` with a reason code.

Column auto-detection
---------------------
Header names are compared case-insensitively, ignoring surrounding spaces. For each
role the first name found in this priority order is used:

============  ==========================================================================
role          names (unit)
============  ==========================================================================
track_id      ``track_id``, ``id``, ``icao24``, ``mmsi``, ``callsign``
time          ``time``, ``timestamp``, ``time_utc``, ``datetime``, ``basedatetime``,
              ``# timestamp``, ``t``
lat           ``lat``, ``latitude``, ``lat_deg`` (degrees)
lon           ``lon``, ``lng``, ``long``, ``longitude``, ``lon_deg`` (degrees)
altitude      ``alt_m`` (m), ``altitude_m`` (m), ``altitude`` (ft, as in ADS-B),
              ``alt_ft`` (ft), ``baroaltitude`` (m, OpenSky), ``geoaltitude`` (m, OpenSky)
speed         ``speed_mps`` (m/s), ``velocity`` (m/s, OpenSky), ``groundspeed`` (kt),
              ``sog`` (kt), ``speed_kt`` (kt)
heading       ``heading_deg``, ``heading``, ``track``, ``cog``, ``true_track`` (degrees)
operator      ``operator``, ``country``, ``flag``
type          ``type``, ``aircraft_type``, ``typecode``, ``ship_type``, ``ship type``
callsign      ``callsign``, ``vesselname``, ``name`` (never the track id column)
============  ==========================================================================

``columns={"time": "ts"}`` overrides a role (the unit then comes from the table above when
the name is listed there, else SI: metres, m/s); ``columns={"callsign": ""}`` turns an
optional role off.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pyproj import Geod

from ..core.times import to_iso_z
from ..core.tracks import TRACK_ATTRIBUTES, Tracks
from ..errors import ConfigError, InputError, NaiveTimeError, ParseError, SchemaError
from ..units import WGS84_A_M, ft_to_m, kt_to_mps
from ._rejects import REJECT_REASONS, IngestReport, Rejects
from ._times import (
    TIME_AMBIGUOUS,
    TIME_BAD,
    TIME_MISSING,
    TIME_NAIVE,
    TimeParse,
    cast_robust,
    missing_mask,
    parse_times,
    parse_tz,
)

__all__ = [
    "COLUMN_CANDIDATES",
    "IMPLIED_SPEED_MIN_DT_S",
    "ROLES",
    "TrackRead",
    "read_table_tracks",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]
PathArg = str | os.PathLike[str]

ROLES = (
    "track_id",
    "time",
    "lat",
    "lon",
    "altitude",
    "speed",
    "heading",
    "operator",
    "type",
    "callsign",
)
"""Column roles, the keys of ``columns=`` and of ``IngestReport.columns``."""

_REQUIRED = ("track_id", "time", "lat", "lon")

COLUMN_CANDIDATES: dict[str, tuple[tuple[str, str], ...]] = {
    "track_id": (("track_id", ""), ("id", ""), ("icao24", ""), ("mmsi", ""), ("callsign", "")),
    "time": (
        ("time", ""),
        ("timestamp", ""),
        ("time_utc", ""),
        ("datetime", ""),
        ("basedatetime", ""),
        ("# timestamp", ""),
        ("t", ""),
    ),
    "lat": (("lat", ""), ("latitude", ""), ("lat_deg", "")),
    "lon": (("lon", ""), ("lng", ""), ("long", ""), ("longitude", ""), ("lon_deg", "")),
    "altitude": (
        ("alt_m", "m"),
        ("altitude_m", "m"),
        ("altitude", "ft"),
        ("alt_ft", "ft"),
        ("baroaltitude", "m"),
        ("geoaltitude", "m"),
    ),
    "speed": (
        ("speed_mps", "m/s"),
        ("velocity", "m/s"),
        ("groundspeed", "kt"),
        ("sog", "kt"),
        ("speed_kt", "kt"),
    ),
    "heading": (
        ("heading_deg", "deg"),
        ("heading", "deg"),
        ("track", "deg"),
        ("cog", "deg"),
        ("true_track", "deg"),
    ),
    "operator": (("operator", ""), ("country", ""), ("flag", "")),
    "type": (
        ("type", ""),
        ("aircraft_type", ""),
        ("typecode", ""),
        ("ship_type", ""),
        ("ship type", ""),
    ),
    "callsign": (("callsign", ""), ("vesselname", ""), ("name", "")),
}
"""Per role, the column names looked for (lower case, in priority order) and their unit."""

_DEFAULT_UNIT = {"altitude": "m", "speed": "m/s", "heading": "deg"}

IMPLIED_SPEED_MIN_DT_S = 1.0
"""Shortest interval, in seconds, used to compute an implied speed.

Feeds often round times to whole seconds, so two fixes 0.2 s apart may carry the same
time; their distance is divided by at least this interval."""

_SPHERE_MARGIN = 1.02
"""Ratio by which a spherical (radius ``WGS84_A_M``) distance may understate the WGS84
geodesic one (at most about 0.34 %, near the poles), with room to spare. Segments whose
spherical speed is below ``max_speed_mps / _SPHERE_MARGIN`` cannot be too fast and skip
the exact geodesic computation."""

_AIS_SOG_NOT_AVAILABLE_KT = 102.3
_SENTINEL_LAT_DEG = 91.0
_SENTINEL_LON_DEG = 181.0
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", ";", "\t", "|")
_CHUNK_BYTES = 1 << 26

# reason codes in check priority order (index 0 = used)
_CODES = (
    "",
    "missing_id",
    "missing_time",
    "bad_time",
    "ambiguous_time",
    "missing_coordinate",
    "bad_coordinate",
    "not_available",
    "lat_out_of_range",
    "lon_out_of_range",
    "duplicate",
    "implied_speed",
)
assert all(c in REJECT_REASONS for c in _CODES[1:])


class TrackRead(NamedTuple):
    """What :func:`read_table_tracks` returns.

    Attributes
    ----------
    tracks : Tracks
        The fixes used, sorted by ``(track_id, t_ns)``.
    rejects : Rejects
        Every data row not used, with its file, 1-based line, raw text and reason code,
        sorted by file then line.
    report : IngestReport
        Rows read, used and rejected by reason, columns used, notes.
    """

    tracks: Tracks
    rejects: Rejects
    report: IngestReport


# ============================================================================ sources
@dataclass
class _Source:
    """One input file, read: its role columns and how to get back to its raw rows."""

    path: str
    fmt: str
    names: list[str]
    roles: dict[str, tuple[str, str]]
    table: pa.Table
    line: I64
    n_read: int
    raw_rows: Callable[[I64], list[str]]
    signatures: Callable[[I64], list[str]]
    bad_rows: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decimal_comma: bool = False


def _as_paths(paths: PathArg | Sequence[PathArg]) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    out = [os.fspath(p) for p in paths]
    if not out:
        raise ConfigError("no input files given")
    return out


def _norm(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower()


def _resolve_roles(
    names: Sequence[str], columns: Mapping[str, str] | None, path: str, fmt: str
) -> dict[str, tuple[str, str]]:
    """Role -> (column name as in the file, unit) for this file's header."""
    index: dict[str, str] = {}
    for name in names:
        index.setdefault(_norm(name), name)
    overrides = dict(columns or {})
    roles: dict[str, tuple[str, str]] = {}
    header_line = 1 if fmt == "csv" else None
    for role in ROLES:
        if role in overrides:
            wanted = overrides[role]
            if not wanted.strip():
                continue
            found = index.get(_norm(wanted))
            if found is None:
                raise SchemaError(
                    f"column {wanted!r} given for {role} is not in the file; "
                    f"columns present: {list(names)}",
                    path=path,
                    line=header_line,
                )
            units = dict(COLUMN_CANDIDATES[role])
            roles[role] = (found, units.get(_norm(wanted), _DEFAULT_UNIT.get(role, "")))
            continue
        for cand, unit in COLUMN_CANDIDATES[role]:
            found = index.get(cand)
            if found is None:
                continue
            if role == "callsign" and "track_id" in roles and roles["track_id"][0] == found:
                continue
            roles[role] = (found, unit)
            break
    missing = [r for r in _REQUIRED if r not in roles]
    if missing:
        role = missing[0]
        looked = ", ".join(repr(c) for c, _ in COLUMN_CANDIDATES[role])
        flag = "--" + role.replace("_", "-") + "-col"
        raise SchemaError(
            f"no {role} column found (looked for {looked}, in any case); "
            f"columns present: {list(names)}. Name it with columns={{{role!r}: '<column>'}} "
            f"(CLI {flag} <column>)",
            path=path,
            line=header_line,
        )
    return roles


# ---------------------------------------------------------------------------- bytes
def _read_bytes(path: str) -> tuple[bytes, bool]:
    """The file's bytes, gunzipped when they start with the gzip magic."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"cannot open file: {exc.strerror or exc}", path=path) from exc
    if data[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(data), True
        except (OSError, EOFError) as exc:
            raise InputError(f"corrupt gzip data: {exc}", path=path) from exc
    return data, False


def _positions(buf: npt.NDArray[np.uint8], byte: int) -> I64:
    """Positions of ``byte`` in ``buf``, scanned in chunks to bound memory."""
    parts = [
        np.flatnonzero(buf[i : i + _CHUNK_BYTES] == byte).astype(np.int64) + i
        for i in range(0, buf.size, _CHUNK_BYTES)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@dataclass
class _Records:
    """CSV records located in the bytes: record 0 is the header."""

    start: I64  # byte offset of the record
    end: I64  # byte offset after its last character (line terminator excluded)
    line: I64  # 1-based physical line of its first character
    multiline: bool  # some record spans several lines (a quoted newline)
    unterminated: bool = False  # an odd number of quotes: the last record never closes


def _csv_records(data: bytes, offset: int) -> _Records:
    """Lines (``\\n``, ``\\r\\n`` or lone ``\\r``) of ``data[offset:]``, grouped into
    records by quote parity; byte offsets are relative to ``offset``.

    The scans for ``\\r`` and ``"`` are skipped when the bytes contain none.
    """
    buf = np.frombuffer(data, dtype=np.uint8)[offset:]
    n = buf.size
    term = _positions(buf, 10)
    has_cr = data.find(b"\r", offset) >= 0
    if has_cr:
        cr = _positions(buf, 13)
        nxt = np.minimum(cr + 1, n - 1)
        lone = cr[(cr + 1 >= n) | (buf[nxt] != 10)]
        if lone.size:
            term = np.union1d(term, lone)
    starts = np.empty(term.size + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = term + 1
    ends = np.empty(term.size + 1, dtype=np.int64)
    ends[:-1] = term
    ends[-1] = n
    if starts[-1] >= n:  # final terminator: no line after it
        starts, ends = starts[:-1], ends[:-1]
    if starts.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Records(empty, empty, empty, False)
    if has_cr:
        is_lf = (ends < n) & (buf[np.minimum(ends, n - 1)] == 10)
        crlf = is_lf & (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
        ends = ends - crlf.astype(np.int64)
    nonempty = ends > starts
    if data.find(b'"', offset) < 0:
        first = np.flatnonzero(nonempty).astype(np.int64)
        return _Records(starts[first], ends[first], first + 1, False)
    quotes = _positions(buf, 34)
    cont = np.zeros(starts.size, dtype=bool)
    cont[1:] = (np.searchsorted(quotes, term[: starts.size - 1]) % 2) == 1
    if not cont.any():
        first = np.flatnonzero(nonempty).astype(np.int64)
        return _Records(starts[first], ends[first], first + 1, False, bool(quotes.size % 2))
    cand = np.flatnonzero(~cont)
    last = np.empty_like(cand)
    last[:-1] = cand[1:] - 1
    last[-1] = starts.size - 1
    keep = nonempty[cand]
    first, last = cand[keep], last[keep]
    return _Records(
        start=starts[first],
        end=ends[last],
        line=first.astype(np.int64) + 1,
        multiline=bool((last != first).any()),
        unterminated=bool(quotes.size % 2),
    )


def _sniff_delimiter(header: str) -> str:
    counts = [header.count(d) for d in _DELIMITERS]
    best = int(np.argmax(counts))
    return _DELIMITERS[best] if counts[best] else ","


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append(base if k == 0 else f"{base}__{k + 1}")
    return out


def _utf8_error_line(buf: npt.NDArray[np.uint8], rec: _Records) -> int | None:
    try:
        bytes(buf).decode("utf-8")
    except UnicodeDecodeError as exc:
        i = int(np.searchsorted(rec.start, exc.start, side="right")) - 1
        return int(rec.line[max(i, 0)])
    return None


class _Rows(NamedTuple):
    """Parsed CSV data rows: role columns, 1-based lines, raw text, rejected bad rows."""

    table: pa.Table
    line: I64
    raw_rows: Callable[[I64], list[str]]
    n_read: int
    bad_rows: list[tuple[int, str, str]]


def _load_csv(path: str, data: bytes, columns: Mapping[str, str] | None, gz: bool) -> _Source:
    offset = 3 if data.startswith(_BOM) else 0
    buf = np.frombuffer(data, dtype=np.uint8)[offset:]
    rec = _csv_records(data, offset)
    if rec.start.size == 0:
        raise InputError(
            "the file is empty (no header line); a CSV needs a header naming its columns",
            path=path,
        )
    notes: list[str] = []
    if gz:
        notes.append(f"{path}: gzip-compressed CSV")
    try:
        header_text = bytes(buf[rec.start[0] : rec.end[0]]).decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(
            "the header is not UTF-8; re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
            path=path,
            line=int(rec.line[0]),
        ) from None
    if not header_text.strip():
        raise InputError(
            "the first line is blank; a CSV needs a header naming its columns",
            path=path,
            line=int(rec.line[0]),
        )
    delimiter = _sniff_delimiter(header_text)
    if delimiter != ",":
        notes.append(f"{path}: delimiter {delimiter!r} (sniffed from the header line)")
    names = [h.strip() for h in next(csv.reader([header_text], delimiter=delimiter))]
    roles = _resolve_roles(names, columns, path, "csv")
    unique = _unique_names(names)
    first_of = {names[i]: unique[i] for i in range(len(names) - 1, -1, -1)}
    wanted = {role: first_of[col] for role, (col, _) in roles.items()}
    header_sig = "\x1f".join(_norm(x) for x in names)

    rows: _Rows | None
    if rec.start.size == 1:
        table = pa.table({role: pa.array([], pa.string()) for role in wanted})
        rows = _Rows(table, np.zeros(0, dtype=np.int64), lambda idx: [], 0, [])
        notes.append(f"{path}: header only, no data rows")
    else:
        try:
            rows = _arrow_csv(buf, rec, unique, wanted, delimiter)
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) or "UTF-8" in str(exc):
                raise ParseError(
                    "not valid UTF-8; re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
                    path=path,
                    line=_utf8_error_line(buf, rec),
                ) from exc
            rows = None
        if rows is None:
            rows = _python_csv(buf, unique, wanted, delimiter)
            notes.append(f"{path}: irregular quoting; read with the exact (slower) parser")
    raw_rows = rows.raw_rows

    def signatures(idx: I64) -> list[str]:
        return [header_sig + "\x00" + r for r in raw_rows(idx)]

    return _Source(
        path=path,
        fmt="csv",
        names=names,
        roles=roles,
        table=rows.table,
        line=rows.line,
        n_read=rows.n_read,
        raw_rows=raw_rows,
        signatures=signatures,
        bad_rows=rows.bad_rows,
        notes=notes,
        decimal_comma=delimiter != ",",
    )


def _arrow_csv(
    buf: npt.NDArray[np.uint8],
    rec: _Records,
    names: list[str],
    wanted: dict[str, str],
    delimiter: str,
) -> _Rows | None:
    """Parse the data records with Arrow; None when records and rows do not line up."""
    body = pa.py_buffer(buf[int(rec.start[1]) :])
    n_data = rec.start.size - 1
    include = sorted(set(wanted.values()), key=names.index)

    def read(threads: bool) -> tuple[pa.Table, list[tuple[int | None, int, int]]]:
        invalid: list[tuple[int | None, int, int]] = []

        def handler(row: pacsv.InvalidRow) -> str:
            invalid.append((row.number, row.expected_columns, row.actual_columns))
            return "skip"

        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=threads),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=rec.multiline,
                ignore_empty_lines=True,
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in include},
                include_columns=include,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        return table, invalid

    table, invalid = read(True)
    if invalid and any(num is None for num, _, _ in invalid):
        table, invalid = read(False)
    if table.num_rows + len(invalid) != n_data:
        return None
    bad_recs = np.array([num for num, _, _ in invalid], dtype=np.int64)
    if bad_recs.size and (bad_recs.min() < 1 or bad_recs.max() > n_data):
        return None
    reasons = [f"the row has {got} fields, the header has {exp}" for _, exp, got in invalid]
    if rec.unterminated and n_data not in set(bad_recs.tolist()):
        # the last record opens a quote that is never closed: it swallowed the lines after
        # it, so it is not a row of the table
        table = table.slice(0, table.num_rows - 1)
        bad_recs = np.append(bad_recs, n_data)
        reasons.append(
            "a quoted value opened in this row is never closed (it runs to the end of the file)"
        )
    mask = np.ones(n_data + 1, dtype=bool)
    mask[0] = False
    mask[bad_recs] = False
    rec_of_row = np.flatnonzero(mask).astype(np.int64)

    def raw_of_records(recs: I64) -> list[str]:
        return [
            bytes(buf[rec.start[r] : rec.end[r]]).decode("utf-8", errors="replace")
            for r in recs.tolist()
        ]

    def raw_rows(idx: I64) -> list[str]:
        return raw_of_records(rec_of_row[idx])

    bad = [
        (int(rec.line[r]), raw, why)
        for r, raw, why in zip(bad_recs.tolist(), raw_of_records(bad_recs), reasons, strict=True)
    ]
    table = _name_by_role(table, wanted)
    return _Rows(table, rec.line[rec_of_row], raw_rows, n_data, bad)


def _name_by_role(table: pa.Table, wanted: dict[str, str]) -> pa.Table:
    """Columns renamed to their roles; a column serving two roles is repeated."""
    return pa.table({role: table.column(col) for role, col in wanted.items()})


def _python_csv(
    buf: npt.NDArray[np.uint8], names: list[str], wanted: dict[str, str], delimiter: str
) -> _Rows:
    """The exact, slow path: Python's csv module, for files with irregular quoting."""
    text = bytes(buf).decode("utf-8", errors="replace")
    line_texts = [s.rstrip("\r\n") for s in io.StringIO(text, newline="").readlines()]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    col_idx = {role: names.index(col) for role, col in wanted.items()}
    values: dict[str, list[str]] = {role: [] for role in wanted}
    lines: list[int] = []
    raws: list[str] = []
    bad: list[tuple[int, str, str]] = []
    prev = 0
    header_seen = False
    n_read = 0
    for row in reader:
        first, prev = prev + 1, reader.line_num
        if not row:
            continue
        if not header_seen:
            header_seen = True
            continue
        n_read += 1
        raw = "\n".join(line_texts[first - 1 : prev])
        if len(row) != len(names):
            bad.append((first, raw, f"the row has {len(row)} fields, the header has {len(names)}"))
            continue
        lines.append(first)
        raws.append(raw)
        for role, j in col_idx.items():
            values[role].append(row[j])
    table = pa.table({role: pa.array(v, pa.string()) for role, v in values.items()})

    def raw_rows(idx: I64) -> list[str]:
        return [raws[i] for i in idx.tolist()]

    return _Rows(table, np.asarray(lines, dtype=np.int64), raw_rows, n_read, bad)


def _load_parquet(path: str, data: bytes, columns: Mapping[str, str] | None) -> _Source:
    try:
        pf = pq.ParquetFile(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", path=path) from exc
    names = list(pf.schema_arrow.names)
    roles = _resolve_roles(names, columns, path, "parquet")
    wanted = {role: col for role, (col, _) in roles.items()}
    include = sorted(set(wanted.values()), key=names.index)
    table = pf.read(columns=include)
    table = _name_by_role(table, wanted)
    n = table.num_rows
    full: list[pa.Table] = []

    def rows(idx: I64) -> list[dict[str, object]]:
        if not full:
            full.append(pf.read())
        return list(full[0].take(pa.array(idx)).to_pylist())

    def raw_rows(idx: I64) -> list[str]:
        return [",".join("" if v is None else str(v) for v in r.values()) for r in rows(idx)]

    def signatures(idx: I64) -> list[str]:
        return [repr(tuple(r.items())) for r in rows(idx)]

    return _Source(
        path=path,
        fmt="parquet",
        names=names,
        roles=roles,
        table=table,
        line=np.arange(1, n + 1, dtype=np.int64),
        n_read=n,
        raw_rows=raw_rows,
        signatures=signatures,
    )


# ============================================================================ values
def _to_float(values: pa.ChunkedArray, *, decimal_comma: bool) -> tuple[F64, BOOL, BOOL]:
    """A column to float64: (values with NaN where absent or bad, missing, bad)."""
    arr = values.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    n = len(arr)
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        missing = missing_mask(arr)
        cast = arr.cast(pa.float64())
        bad = np.zeros(n, dtype=bool)
    else:
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = arr.cast(pa.string())
        text = pc.ascii_trim_whitespace(arr)
        missing = missing_mask(text, trimmed=True)
        if decimal_comma:
            text = pc.replace_substring(text, ",", ".")
        if missing.any():
            text = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)
        cast, bad = cast_robust(text, pa.float64())
    out = np.array(cast.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    bad = bad | (~missing & ~np.isfinite(out))
    out[bad | missing] = np.nan
    return out, missing, bad


def _encode(values: pa.ChunkedArray) -> tuple[I64, npt.NDArray[np.str_]]:
    """A column to (codes, dictionary of trimmed strings); absent values are ``""``."""
    arr = values.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_floating(arr.type):
        num = np.asarray(arr.fill_null(0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        num = np.where(np.isfinite(num), num, 0.0)
        if np.all(num == np.round(num)) and np.all(np.abs(num) < 2**62):
            arr = pc.if_else(
                arr.is_null(), pa.scalar(None, pa.int64()), pa.array(num.astype(np.int64))
            )
    is_text = pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
    if not is_text:
        arr = arr.cast(pa.string())
    text = pc.ascii_trim_whitespace(arr)
    missing = missing_mask(text, trimmed=True)
    enc = pc.dictionary_encode(text)
    codes = np.array(enc.indices.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    dictionary = np.asarray(enc.dictionary.to_numpy(zero_copy_only=False), dtype=str)
    dictionary = np.append(dictionary, "")
    codes[missing] = dictionary.size - 1
    return codes, dictionary


@dataclass
class _Part:
    """The candidate fixes of one source (rows that passed the per-row checks)."""

    src: int
    local: I64
    line: I64
    id_codes: I64
    id_dict: npt.NDArray[np.str_]
    t_ns: I64
    lon_deg: F64
    lat_deg: F64
    alt_m: F64
    speed_mps: F64
    heading_deg: F64
    attrs: dict[str, tuple[I64, npt.NDArray[np.str_]]]


@dataclass
class _RejectRows:
    src: list[int] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    message: list[str] = field(default_factory=list)

    def add_many(
        self, src: int, lines: Sequence[int], raws: Sequence[str], reason: str, msgs: list[str]
    ) -> None:
        self.src += [src] * len(msgs)
        self.line += list(lines)
        self.raw += list(raws)
        self.reason += [reason] * len(msgs)
        self.message += msgs


def _text_values(col: pa.ChunkedArray, idx: I64) -> list[str]:
    vals = col.take(pa.array(idx)).to_pylist()
    return ["" if v is None else str(v) for v in vals]


def _process_source(
    k: int, s: _Source, assume_tz: str | None, rej: _RejectRows, notes: list[str]
) -> tuple[_Part, dict[str, str]]:
    """Per-row checks and unit conversion of one source; returns candidates and columns."""
    tab = s.table
    n = tab.num_rows
    cols_report: dict[str, str] = {}
    for role, (col, unit) in s.roles.items():
        cols_report[role] = f"{col} ({unit})" if unit else col

    id_codes, id_dict = _encode(tab.column("track_id"))
    missing_id = id_codes == id_dict.size - 1  # _encode puts every absent value last
    tp: TimeParse = parse_times(tab.column("time"), assume_tz=assume_tz)
    time_col = s.roles["time"][0]
    naive_rows = np.flatnonzero(tp.status == TIME_NAIVE)
    if naive_rows.size:
        first = int(naive_rows[0])
        value = _text_values(tab.column("time"), np.array([first]))[0]
        raise NaiveTimeError(
            f"time {value!r} has no time zone, and patrolwatch never takes a time as local: "
            "pass assume_tz='UTC' (CLI --assume-tz UTC) if the file's times are UTC, or the "
            "zone they were recorded in (e.g. assume_tz='Asia/Seoul')",
            path=s.path,
            line=int(s.line[first]),
            feature=f"column {time_col!r}",
        )
    if tp.kind.startswith("epoch"):
        cols_report["time"] = f"{time_col} ({tp.kind})"
        notes.append(
            f"{s.path}: time column {time_col!r} read as {tp.kind} (unit decided by the median "
            "magnitude: < 1e11 s, < 1e14 ms, < 1e17 us, else ns)"
        )
    if tp.n_naive:
        notes.append(
            f"{s.path}: {tp.n_naive} times without zone interpreted in {assume_tz!r} (assume_tz)"
        )
    lat, lat_missing, lat_bad = _to_float(tab.column("lat"), decimal_comma=s.decimal_comma)
    lon, lon_missing, lon_bad = _to_float(tab.column("lon"), decimal_comma=s.decimal_comma)
    with np.errstate(invalid="ignore"):
        sentinel = (lat == _SENTINEL_LAT_DEG) | (lon == _SENTINEL_LON_DEG)
        lat_out = np.abs(lat) > 90.0
        lon_out = np.abs(lon) > 180.0
    conds = [
        missing_id,
        tp.status == TIME_MISSING,
        tp.status == TIME_BAD,
        tp.status == TIME_AMBIGUOUS,
        lat_missing | lon_missing,
        lat_bad | lon_bad,
        sentinel,
        lat_out,
        lon_out,
    ]
    any_bad = np.logical_or.reduce(conds)
    reason = np.zeros(n, dtype=np.int8)
    if any_bad.any():
        rows = np.flatnonzero(any_bad)
        reason[rows] = np.select([c[rows] for c in conds], list(range(1, len(conds) + 1)))

    # optional numeric roles: bad values become NaN and are counted in the notes
    optional: dict[str, F64] = {}
    for role in ("altitude", "speed", "heading"):
        if role not in s.roles:
            optional[role] = np.full(n, np.nan)
            continue
        col, unit = s.roles[role]
        vals, _, bad = _to_float(tab.column(role), decimal_comma=s.decimal_comma)
        bad &= reason == 0
        if bad.any():
            first = int(s.line[np.flatnonzero(bad)[0]])
            notes.append(
                f"{s.path}: {role} ({col!r}): {int(bad.sum())} values are not numbers "
                f"(first at line {first}); set to NaN, the rows are kept"
            )
        if role == "heading":
            with np.errstate(invalid="ignore"):
                outside = (vals < 0.0) | (vals > 360.0)
            if (outside & (reason == 0)).any():
                notes.append(
                    f"{s.path}: heading ({col!r}): {int((outside & (reason == 0)).sum())} "
                    "values outside [0, 360] deg (AIS 511 = not available) set to NaN"
                )
            vals[outside] = np.nan
        if role == "speed" and _norm(col) == "sog":
            na = vals == _AIS_SOG_NOT_AVAILABLE_KT
            if (na & (reason == 0)).any():
                notes.append(
                    f"{s.path}: speed ({col!r}): {int((na & (reason == 0)).sum())} values of "
                    "102.3 kt (AIS 'not available') set to NaN"
                )
            vals[na] = np.nan
        if role == "speed":
            with np.errstate(invalid="ignore"):
                vals[vals < 0.0] = np.nan
        if unit == "ft":
            vals = ft_to_m(vals)
        elif unit == "kt":
            vals = kt_to_mps(vals)
        optional[role] = vals

    # messages for the rejected rows (a loop over rejected rows only)
    rej_idx = np.flatnonzero(reason)
    if rej_idx.size:
        lat_col, lon_col = s.roles["lat"][0], s.roles["lon"][0]
        id_col = s.roles["track_id"][0]
        raws = s.raw_rows(rej_idx)
        r_codes = reason[rej_idx]
        tvals = _text_values(tab.column("time"), rej_idx)
        latv = _text_values(tab.column("lat"), rej_idx)
        lonv = _text_values(tab.column("lon"), rej_idx)
        if tp.epoch_column:
            expect = f"an epoch number like the rest of the column ({tp.kind})"
        else:
            expect = "ISO 8601 such as 2019-07-23T00:09:00Z, dd/mm/yyyy hh:mm:ss, or epoch seconds"
        msgs: list[str] = []
        for code, tv, la, lo in zip(r_codes.tolist(), tvals, latv, lonv, strict=True):
            name = _CODES[code]
            if name == "missing_id":
                msg = f"track id (column {id_col!r}) is empty"
            elif name == "missing_time":
                msg = f"time (column {time_col!r}) is empty"
            elif name == "bad_time":
                msg = f"cannot read time {tv!r} (column {time_col!r}): expected {expect}"
            elif name == "ambiguous_time":
                msg = (
                    f"local time {tv!r} occurs twice or never in {assume_tz!r} "
                    "(a daylight-saving change); it is not guessed"
                )
            elif name == "missing_coordinate":
                msg = f"latitude or longitude is empty (lat {la!r}, lon {lo!r})"
            elif name == "bad_coordinate":
                msg = f"latitude or longitude is not a finite number (lat {la!r}, lon {lo!r})"
            elif name == "not_available":
                msg = f"lat {la} / lon {lo}: the AIS 'not available' sentinel (91 / 181)"
            elif name == "lat_out_of_range":
                msg = (
                    f"latitude {la} (column {lat_col!r}) outside [-90, 90] deg "
                    "(are lon and lat swapped?)"
                )
            else:
                msg = f"longitude {lo} (column {lon_col!r}) outside [-180, 180] deg"
            msgs.append(msg)
        lines = s.line[rej_idx].tolist()
        for code in np.unique(r_codes).tolist():
            sel = np.flatnonzero(r_codes == code).tolist()
            rej.add_many(
                k,
                [lines[i] for i in sel],
                [raws[i] for i in sel],
                _CODES[code],
                [msgs[i] for i in sel],
            )

    keep = np.flatnonzero(reason == 0)
    attrs: dict[str, tuple[I64, npt.NDArray[np.str_]]] = {}
    for role in TRACK_ATTRIBUTES:
        if role in s.roles:
            codes, dictionary = _encode(tab.column(role))
            attrs[role] = (codes[keep], dictionary)
    part = _Part(
        src=k,
        local=keep.astype(np.int64),
        line=s.line[keep],
        id_codes=id_codes[keep],
        id_dict=id_dict,
        t_ns=tp.t_ns[keep],
        lon_deg=lon[keep],
        lat_deg=lat[keep],
        alt_m=optional["altitude"][keep],
        speed_mps=optional["speed"][keep],
        heading_deg=optional["heading"][keep],
        attrs=attrs,
    )
    return part, cols_report


# ============================================================================ cleaning
def _duplicates(
    order: I64, code: I64, t: I64, lat: F64, lon: F64, sig_of: Callable[[I64], list[str]]
) -> tuple[BOOL, I64]:
    """Rows equal to an earlier row in every column: (is_duplicate, index of the original).

    ``order`` sorts the rows by (track, time, input order). Only rows sharing track and
    time with another row are compared further: first by position, then in full.
    """
    n = code.size
    dup = np.zeros(n, dtype=bool)
    orig = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return dup, orig
    co, to = code[order], t[order]
    same = (co[1:] == co[:-1]) & (to[1:] == to[:-1])
    if not same.any():
        return dup, orig
    in_run = np.zeros(n, dtype=bool)
    in_run[1:] |= same
    in_run[:-1] |= same
    run_id = np.cumsum(np.concatenate(([True], ~same)))[in_run]
    rows = order[in_run]
    sub = np.lexsort((rows, lon[rows], lat[rows], run_id))
    rows, run_id = rows[sub], run_id[sub]
    eq = (
        (run_id[1:] == run_id[:-1])
        & (lat[rows][1:] == lat[rows][:-1])
        & (lon[rows][1:] == lon[rows][:-1])
    )
    in_group = np.zeros(rows.size, dtype=bool)
    in_group[1:] |= eq
    in_group[:-1] |= eq
    members = rows[in_group]
    group_id = np.cumsum(np.concatenate(([True], ~eq)))[in_group]
    sigs = sig_of(members)
    seen: dict[tuple[int, str], int] = {}
    for row, g, sig in zip(members.tolist(), group_id.tolist(), sigs, strict=True):
        key = (g, sig)
        if key in seen:
            dup[row] = True
            orig[row] = seen[key]
        else:
            seen[key] = row
    return dup, orig


def _sphere_dist_m(lon1: F64, lat1: F64, lon2: F64, lat2: F64) -> F64:
    """Haversine distance on a sphere of radius WGS84_A_M, metres (a prefilter only)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2.0 * WGS84_A_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), np.float64)


def _implied_speed(
    code: I64, t: I64, lon: F64, lat: F64, max_speed_mps: float
) -> tuple[BOOL, I64, F64]:
    """Greedy implied-speed filter over fixes sorted by (track, time).

    A fix is rejected when it cannot be reached from the previous *kept* fix of its track
    at ``max_speed_mps``; the first fix of a track is rejected instead of its successor
    when the next two fixes agree with each other but not with it.

    Returns
    -------
    rejected : ndarray of bool
    anchor : ndarray of int64
        For each rejected fix, the index of the fix it was measured against.
    speed_mps : ndarray of float64
        For each rejected fix, the implied speed in m/s.
    """
    n = code.size
    rejected = np.zeros(n, dtype=bool)
    anchor = np.full(n, -1, dtype=np.int64)
    speed = np.full(n, np.nan)
    if n < 2:
        return rejected, anchor, speed
    geod = Geod(ellps="WGS84")

    def v(i: I64, j: I64) -> F64:
        _, _, d = geod.inv(lon[i], lat[i], lon[j], lat[j])
        dt_s = np.maximum((t[j] - t[i]) / 1e9, IMPLIED_SPEED_MIN_DT_S)
        return np.asarray(d, dtype=np.float64) / dt_s

    same = code[1:] == code[:-1]
    dt_s = np.maximum(np.diff(t) / 1e9, IMPLIED_SPEED_MIN_DT_S)
    sphere_v = _sphere_dist_m(lon[:-1], lat[:-1], lon[1:], lat[1:]) / dt_s
    cand = np.flatnonzero(same & (sphere_v * _SPHERE_MARGIN > max_speed_mps))
    if cand.size == 0:
        return rejected, anchor, speed
    seg_v = np.zeros(n - 1)
    seg_v[cand] = v(cand, cand + 1)
    bad_seg = np.zeros(n - 1, dtype=bool)
    bad_seg[cand] = seg_v[cand] > max_speed_mps
    events = np.flatnonzero(bad_seg)
    if events.size == 0:
        return rejected, anchor, speed
    is_first = np.ones(n, dtype=bool)
    is_first[1:] = ~same
    starts = np.flatnonzero(is_first)
    track_end = np.empty(n, dtype=np.int64)
    ends = np.append(starts[1:] - 1, n - 1)
    track_end[:] = np.repeat(ends, np.diff(np.append(starts, n)))
    # speed from each event's anchor to the fix after next, for all events at once: it
    # settles the common cases (a one-fix spike, a bad first fix) without a scan
    has_next2 = events + 2 <= track_end[events]
    skip_v = np.full(n, np.inf)
    e2 = events[has_next2]
    if e2.size:
        skip_v[e2] = v(e2, e2 + 2)
    events_l = events.tolist()
    # Python work here is proportional to the number of too-fast segments, not rows
    for j in events_l:
        if rejected[j] or rejected[j + 1]:
            continue
        a = j
        end = int(track_end[a])
        if is_first[a] and a + 2 <= end and not bad_seg[a + 1] and skip_v[a] > max_speed_mps:
            # the track's first fix disagrees with the next two, which agree
            rejected[a] = True
            anchor[a] = a + 1
            speed[a] = seg_v[a]
            continue
        if a + 2 <= end and skip_v[a] <= max_speed_mps:
            # a one-fix spike: the fix after it is reachable from the anchor again
            rejected[a + 1] = True
            anchor[a + 1] = a
            speed[a + 1] = seg_v[a]
            continue
        m = a + 1
        width = 8
        while m <= end:
            js = np.arange(m, min(m + width, end + 1), dtype=np.int64)
            vs = v(np.full(js.size, a, dtype=np.int64), js)
            fast = vs > max_speed_mps
            stop = int(np.argmin(fast)) if not fast.all() else js.size
            rejected[js[:stop]] = True
            anchor[js[:stop]] = a
            speed[js[:stop]] = vs[:stop]
            if stop < js.size:
                break
            m += js.size
            width *= 2
    return rejected, anchor, speed


# ============================================================================ public
def read_table_tracks(
    paths: PathArg | Sequence[PathArg],
    *,
    format: Literal["auto", "csv", "parquet"] = "auto",
    columns: Mapping[str, str] | None = None,
    assume_tz: str | None = None,
    max_speed_mps: float | None = None,
    strict: bool = False,
    contents: Sequence[bytes] | None = None,
) -> TrackRead:
    """Read position reports from CSV or Parquet files into tracks, accounting for every row.

    Parameters
    ----------
    paths : path or sequence of paths
        Files to read and concatenate, in order. ``Tracks.sources`` holds them as given
        (as ``str``), and ``Tracks.src_file`` indexes into it.
    format : {"auto", "csv", "parquet"}
        ``"auto"`` decides by content: Parquet when the bytes start with ``PAR1``, CSV
        otherwise. Gzip-compressed files (``.gz``, detected by content) are decompressed
        first.
    columns : mapping of str to str, optional
        Role -> column name overrides, e.g. ``{"time": "ts", "track_id": "hex"}``. Roles:
        ``track_id, time, lat, lon, altitude, speed, heading, operator, type, callsign``.
        ``""`` turns an optional role off. See the module docstring for auto-detection.
    assume_tz : str, optional
        Zone of times written without one (``"UTC"``, ``"Asia/Seoul"``, ``"+09:00"``).
        Applied only to naive times; times with ``Z`` or an offset are converted as they
        say. Without it, a naive time raises :class:`NaiveTimeError`.
    max_speed_mps : float, optional
        Maximum plausible ground speed in m/s, > 0. A fix that cannot be reached from the
        previous kept fix of its track at this geodesic (WGS84) speed is rejected as
        ``implied_speed``. None (default) disables the check.
    strict : bool
        Raise the first rejected row (by file, line) instead of returning it.
    contents : sequence of bytes, optional
        The files' content, already read (and decompressed), one per path; ``paths`` then
        only name them. Used by :mod:`patrolwatch.io.dispatch` for ``.bz2``, ``.zst`` and
        ``.zip`` inputs.

    Returns
    -------
    TrackRead
        ``(tracks, rejects, report)``; ``report.rows_read == report.rows_used +
        report.rows_rejected``.

    Raises
    ------
    InputError
        A file cannot be opened, is empty (no header) or is not valid Parquet.
    SchemaError
        The track id, time, latitude or longitude column cannot be found (the message
        lists the columns present and how to name them).
    NaiveTimeError
        A time has no zone and ``assume_tz`` is None (file and line in the message).
    ParseError
        With ``strict=True``, the first rejected row; or a file that is not UTF-8.
    ConfigError
        A bad ``format``, ``columns`` role, ``assume_tz`` or ``max_speed_mps``.

    Notes
    -----
    - Lines are 1-based physical lines (the header is line 1, the first data row line 2;
      a UTF-8 BOM, ``\\r\\n`` endings and a missing final newline are handled; a quoted
      value spanning lines counts from its first line). Parquet rows are numbered from 1.
    - The delimiter (``,``, ``;``, tab or ``|``) is sniffed from the header line. With a
      delimiter other than ``,``, a decimal comma in numbers is accepted.
    - Reject reasons, checked in this order (the first that applies is recorded):
      ``bad_row`` (wrong number of fields), ``missing_id``, ``missing_time``, ``bad_time``,
      ``ambiguous_time`` (a naive time in a DST change of ``assume_tz``),
      ``missing_coordinate``, ``bad_coordinate`` (not a finite number), ``not_available``
      (lat 91 or lon 181, the AIS sentinels), ``lat_out_of_range``, ``lon_out_of_range``,
      ``duplicate`` (equal in every column to an earlier row, across files with the same
      header), ``implied_speed``.
    - An altitude, speed or heading that is not a number does not reject the row: it
      becomes NaN and is counted in ``report.notes``. So do headings outside [0, 360]
      (AIS 511), ``sog`` of 102.3 kt (AIS "not available") and negative speeds.
    - Out-of-order rows are sorted, never dropped; equal times keep input order.
    - Epoch time columns: the unit (s, ms, us, ns) is decided per column from the median
      magnitude (thresholds 1e11, 1e14, 1e17) and stated in ``report.notes``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text(
    ...     "track_id,time,lat,lon\\n"
    ...     "a,2019-07-23T09:09:00+09:00,37.2,131.8\\n"
    ...     "a,2019-07-23T00:10:00Z,95.0,131.9\\n")
    >>> tracks, rejects, report = read_table_tracks(d / "t.csv")
    >>> tracks.t_ns.tolist(), rejects.reason, rejects.line
    ([1563840540000000000], ['lat_out_of_range'], [3])
    >>> report.rows_read, report.rows_used, report.rows_rejected
    (2, 1, 1)
    """
    path_list = _as_paths(paths)
    if format not in ("auto", "csv", "parquet"):
        raise ConfigError(f"format must be 'auto', 'csv' or 'parquet', not {format!r}")
    if columns is not None:
        unknown = [r for r in columns if r not in ROLES]
        if unknown:
            raise ConfigError(f"unknown column role(s) {unknown}; roles are {list(ROLES)}")
    if assume_tz is not None:
        parse_tz(assume_tz)
    if max_speed_mps is not None and not (np.isfinite(max_speed_mps) and max_speed_mps > 0):
        raise ConfigError(f"max_speed_mps must be a positive number of m/s, not {max_speed_mps}")

    sources: list[_Source] = []
    for k, path in enumerate(path_list):
        data, gz = (contents[k], False) if contents is not None else _read_bytes(path)
        is_parquet = data[:4] == _PARQUET_MAGIC
        if format == "parquet" or (format == "auto" and is_parquet):
            if not is_parquet:
                raise InputError(
                    "not a Parquet file (no PAR1 magic); use format='auto' or 'csv'", path=path
                )
            src = _load_parquet(path, data, columns)
            if gz:
                src.notes.append(f"{path}: gzip-compressed Parquet")
        else:
            if is_parquet:
                raise InputError(
                    "this is a Parquet file (PAR1 magic); use format='auto' or 'parquet'",
                    path=path,
                )
            src = _load_csv(path, data, columns, gz)
        sources.append(src)

    rej = _RejectRows()
    notes: list[str] = []
    parts: list[_Part] = []
    columns_used: dict[str, list[str]] = {}
    for k, s in enumerate(sources):
        notes += s.notes
        for line, raw, msg in s.bad_rows:
            rej.add_many(k, [line], [raw], "bad_row", [msg])
        part, cols = _process_source(k, s, assume_tz, rej, notes)
        parts.append(part)
        for role, text in cols.items():
            used = columns_used.setdefault(role, [])
            if text not in used:
                used.append(text)

    tracks = _assemble(sources, parts, rej, notes, max_speed_mps)

    # rejects sorted by file then line
    order = sorted(range(len(rej.line)), key=lambda i: (rej.src[i], rej.line[i]))
    rejects = Rejects()
    for i in order:
        rejects.add(
            sources[rej.src[i]].path, rej.line[i], rej.raw[i], rej.reason[i], rej.message[i]
        )
    if strict:
        rejects.raise_first()

    rows_read = sum(s.n_read for s in sources)
    t_range = (
        to_iso_z(np.array([tracks.t_ns.min(), tracks.t_ns.max()], dtype=np.int64))
        if len(tracks)
        else [None, None]
    )
    report = IngestReport(
        rows_read=rows_read,
        rows_used=len(tracks),
        rejected_by_reason=rejects.counts(),
        n_tracks=tracks.n_tracks,
        time_start=t_range[0],
        time_end=t_range[1],
        format="+".join(dict.fromkeys(s.fmt for s in sources)),
        columns={role: ", ".join(v) for role, v in columns_used.items()},
        notes=tuple(notes),
        files=tuple(path_list),
    )
    if report.rows_read != report.rows_used + report.rows_rejected:
        raise AssertionError(
            f"row accounting failed: read {report.rows_read} != used {report.rows_used} "
            f"+ rejected {report.rows_rejected}"
        )
    return TrackRead(tracks, rejects, report)


def _unify(
    codes: Sequence[I64], dicts: Sequence[npt.NDArray[np.str_]]
) -> tuple[I64, npt.NDArray[np.str_]]:
    """Per-part dictionary codes to codes into one sorted dictionary."""
    if not codes:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=str)
    offsets = np.cumsum([0] + [d.size for d in dicts])
    uniq, inv = np.unique(np.concatenate(list(dicts)), return_inverse=True)
    inv = np.asarray(inv, dtype=np.int64).ravel()
    out = np.concatenate([inv[off + c] for off, c in zip(offsets[:-1], codes, strict=True)])
    return out, uniq


def _assemble(
    sources: list[_Source],
    parts: list[_Part],
    rej: _RejectRows,
    notes: list[str],
    max_speed_mps: float | None,
) -> Tracks:
    """Concatenate the sources' candidates, drop duplicates and implied-speed outliers."""
    paths = tuple(s.path for s in sources)
    src = np.concatenate([np.full(p.local.size, p.src, dtype=np.int32) for p in parts])
    local = np.concatenate([p.local for p in parts])
    line = np.concatenate([p.line for p in parts])
    t = np.concatenate([p.t_ns for p in parts])
    lon = np.concatenate([p.lon_deg for p in parts])
    lat = np.concatenate([p.lat_deg for p in parts])
    code, uniq = _unify([p.id_codes for p in parts], [p.id_dict for p in parts])

    def rows_by_source(idx: I64, fn: Callable[[_Source, I64], list[str]]) -> list[str]:
        out: list[str] = [""] * idx.size
        for k in np.unique(src[idx]).tolist():
            sel = np.flatnonzero(src[idx] == k)
            for i, text in zip(sel.tolist(), fn(sources[k], local[idx[sel]]), strict=True):
                out[i] = text
        return out

    def sig_of(idx: I64) -> list[str]:
        return rows_by_source(idx, lambda s, li: s.signatures(li))

    def raw_of(idx: I64) -> list[str]:
        return rows_by_source(idx, lambda s, li: s.raw_rows(li))

    # one sort by (track, time, input order); np.lexsort is stable
    order = np.lexsort((t, code)).astype(np.int64)
    dup, orig = _duplicates(order, code, t, lat, lon, sig_of)
    if dup.any():
        d_idx = np.flatnonzero(dup)
        msgs = [
            f"exact duplicate of line {line[o]}"
            + ("" if src[o] == src[i] else f" of {paths[src[o]]}")
            for i, o in zip(d_idx.tolist(), orig[d_idx].tolist(), strict=True)
        ]
        _add_global(rej, d_idx, src, line, raw_of(d_idx), "duplicate", msgs)
        order = order[~dup[order]]

    if max_speed_mps is not None and order.size > 1:
        fast, anchor, v = _implied_speed(
            code[order], t[order], lon[order], lat[order], max_speed_mps
        )
        if fast.any():
            pos = np.flatnonzero(fast)
            rows = order[pos]
            anchors = order[anchor[pos]]
            msgs = [
                f"reaching this fix from line {line[a]}"
                + ("" if src[a] == src[r] else f" of {paths[src[a]]}")
                + f" (track {str(uniq[code[r]])!r}) needs {sp:.0f} m/s > max_speed_mps "
                f"{max_speed_mps:g}"
                for r, a, sp in zip(rows.tolist(), anchors.tolist(), v[pos].tolist(), strict=True)
            ]
            _add_global(rej, rows, src, line, raw_of(rows), "implied_speed", msgs)
            notes.append(
                f"implied_speed: {rows.size} fixes rejected at max_speed_mps={max_speed_mps:g} "
                "(WGS84 geodesic distance over time from the previous kept fix)"
            )
            order = order[~fast]

    code_k = code[order]
    attrs: dict[str, npt.NDArray[np.str_]] = {}
    for role in TRACK_ATTRIBUTES:
        if not any(role in p.attrs for p in parts):
            continue
        empty = np.array([""], dtype=str)
        a_codes, a_dict = _unify(
            [
                p.attrs[role][0] if role in p.attrs else np.zeros(p.local.size, np.int64)
                for p in parts
            ],
            [p.attrs[role][1] if role in p.attrs else empty for p in parts],
        )
        a_k = a_codes[order]
        # "" is in every dictionary and sorts first: code 0 means unknown
        pos = np.flatnonzero(a_k != 0)
        per_track = np.zeros(uniq.size, dtype=np.int64)
        if pos.size:
            # code_k is sorted, so the first non-empty value of each track starts a run
            tr = code_k[pos]
            first = np.flatnonzero(np.concatenate(([True], tr[1:] != tr[:-1])))
            per_track[tr[first]] = a_k[pos[first]]
        attrs[role] = a_dict[per_track][code_k]
    return Tracks.from_arrays(
        uniq[code_k],
        t[order],
        lon[order],
        lat[order],
        alt_m=np.concatenate([p.alt_m for p in parts])[order],
        speed_mps=np.concatenate([p.speed_mps for p in parts])[order],
        heading_deg=np.concatenate([p.heading_deg for p in parts])[order],
        src_file=src[order],
        src_line=line[order],
        sources=paths,
        attrs=attrs,
    )


def _add_global(
    rej: _RejectRows,
    idx: I64,
    src: npt.NDArray[np.int32],
    line: I64,
    raws: list[str],
    reason: str,
    msgs: list[str],
) -> None:
    rej.src += src[idx].tolist()
    rej.line += line[idx].tolist()
    rej.raw += raws
    rej.reason += [reason] * idx.size
    rej.message += msgs
