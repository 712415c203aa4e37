"""One entry point for every track format: infer the format from content, read, clean.

Format inference (``format="auto"``)
------------------------------------
Compression first, by magic bytes (gzip, bzip2, Zstandard, xz, zip/KMZ; see
:mod:`._compress`), then the content of the first 64 KiB decides, never the suffix:

==================  =====================================================================
format              recognised by
==================  =====================================================================
``parquet``         ``PAR1`` magic (the schema then picks ``opensky`` or ``traffic``)
``gpx``             XML whose root is ``<gpx``
``kml``             XML whose root is ``<kml`` (KMZ: the zip's ``.kml`` members)
``readsb``          JSON object with ``"icao"`` and a ``"trace"`` list
``opensky-json``    JSON object with a ``"states"`` list
``nmea``            at least one ``!xxVDM,``/``!xxVDO,`` sentence, and such sentences (or
                    ``$PGHP`` wrappers) make up at least a fifth of the non-blank,
                    non-comment lines looked at
``dma``             CSV header ``# Timestamp,Type of mobile,MMSI,Latitude,Longitude,...``
``marinecad``       CSV header ``MMSI,BaseDateTime,LAT,LON,...``
``opensky``         CSV header with ``icao24``, ``lat``, ``lon`` and ``velocity``,
                    ``vertrate`` or ``baroaltitude``
``traffic``         CSV header with ``icao24``, ``latitude``, ``longitude`` and
                    ``groundspeed``, ``track`` or ``altitude``
``csv``             any other text (the table reader finds the columns by name)
==================  =====================================================================

Binary data that is none of these (NUL bytes, or more than 1 % control bytes) and empty
files raise :class:`~patrolwatch.InputError`. What was inferred is in
``IngestReport.format`` (``"+"``-joined over files, compression in parentheses) and in
the notes, one per file.

Reading
-------
Plain CSV/Parquet inputs (uncompressed or gzip) without cleaning go straight to
:func:`patrolwatch.io.tables.read_table_tracks`, unchanged. Everything else is read per
file by its reader (:mod:`.ais_nmea`, :mod:`.ais_csv`, :mod:`.adsb`, :mod:`.gpx`,
:mod:`.kml`), then cleaned together (:mod:`._clean`) when asked, and accounted:
``rows_read == rows_used + rows_rejected`` is checked on every call, counting the
distinct lines the kept fixes rest on, the lines used without a fix (AIS static
reports), and the rejected lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.times import to_iso_z
from ..core.tracks import Tracks
from ..errors import ConfigError, InputError
from ._clean import clean_fixes
from ._compress import Member, open_stream, read_members
from ._fixes import CLASS_AIRCRAFT, CLASS_OTHER, CLASS_SHIP, FileRead, concat, text_lines
from ._rejects import IngestReport, Rejects
from .adsb import detect_layout as adsb_layout
from .adsb import read_adsb_table, read_opensky_json, read_readsb_trace
from .ais_csv import detect_layout as ais_layout
from .ais_csv import read_ais_csv, tracks_to_fixes
from .ais_nmea import read_ais_nmea
from .gpx import read_gpx
from .kml import read_kml
from .tables import TrackRead, read_table_tracks

__all__ = ["FORMATS", "Format", "assemble", "read_any", "read_member", "sniff_format"]

Format = Literal[
    "auto",
    "csv",
    "parquet",
    "nmea",
    "dma",
    "marinecad",
    "opensky",
    "opensky-json",
    "traffic",
    "readsb",
    "gpx",
    "kml",
]
FORMATS: tuple[str, ...] = get_args(Format)
"""Accepted ``format`` values."""

SNIFF_BYTES = 65536
"""Bytes looked at to infer a format."""
_TABLE_FORMATS = ("csv", "parquet")
PathArg = str | os.PathLike[str]


def _is_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    arr = np.frombuffer(head, dtype=np.uint8)
    ctrl = (arr < 32) & ~np.isin(arr, (9, 10, 13, 27, 12))
    return bool(ctrl.sum() > max(0.01 * arr.size, 0))


def sniff_format(head: bytes, *, name: str = "<memory>") -> str:
    """The format of a (decompressed) file from its first bytes (see the module docstring).

    Raises
    ------
    InputError
        Empty, binary of no known format, or XML/JSON of an unknown layout.

    Examples
    --------
    >>> sniff_format(b"!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C\\r\\n")
    'nmea'
    >>> sniff_format(b"track_id,time,lat,lon\\n")
    'csv'
    >>> sniff_format(b'<?xml version="1.0"?><gpx version="1.1">')
    'gpx'
    """
    head = head[:SNIFF_BYTES]
    if head[:4] == b"PAR1":
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        raise InputError(
            "the file is empty (or only blank lines): nothing to read", path=name, line=None
        )
    if text[:1] == b"<":
        low = head[:8192].lower()
        for tag, fmt in ((b"<gpx", "gpx"), (b"<kml", "kml")):
            if tag in low:
                return fmt
        raise InputError(
            "XML that is neither GPX (<gpx>) nor KML (<kml>); no track format to read",
            path=name,
        )
    if text[:1] == b"{" or (text[:1] == b"[" and b"VDM," not in head and b"VDO," not in head):
        if b'"trace"' in head and b'"icao"' in head:
            return "readsb"
        if b'"states"' in head:
            return "opensky-json"
        raise InputError(
            "JSON of an unknown layout: readsb trace_full (icao, timestamp, trace) and "
            "OpenSky states ({'time', 'states'}) are read; convert others to CSV",
            path=name,
        )
    if _is_binary(head):
        raise InputError(
            "binary data of no known format (not Parquet, gzip, bzip2, zstd or zip); "
            "patrolwatch reads CSV, Parquet, AIS NMEA, GPX, KML/KMZ, readsb and OpenSky JSON",
            path=name,
        )
    lines = [ln.strip() for ln in text.splitlines()[:400]]
    body = [ln for ln in lines if ln and not ln.startswith(b"#")]
    ais = sum(
        1
        for ln in body
        if ((b"VDM," in ln or b"VDO," in ln) and b"!" in ln) or ln.startswith(b"$PGHP,")
    )
    if ais and ais * 5 >= len(body):
        return "nmea"
    header = next((ln for ln in lines if ln), b"").decode("utf-8", "replace")
    return ais_layout(header) or adsb_layout(header) or "csv"


def _parquet_layout(data: bytes) -> tuple[str, set[str]]:
    try:
        names = {n.lower() for n in pq.ParquetFile(pa.BufferReader(data)).schema_arrow.names}
    except (pa.ArrowInvalid, OSError):
        return "parquet", set()
    header = ",".join(sorted(names))
    return adsb_layout(header) or "parquet", names


def _table_class(report_columns: Mapping[str, str]) -> int:
    tid = report_columns.get("track_id", "").lower()
    if tid.startswith("mmsi"):
        return CLASS_SHIP
    if tid.startswith("icao24"):
        return CLASS_AIRCRAFT
    return CLASS_OTHER


def read_member(
    m: Member,
    fmt: str,
    *,
    columns: Mapping[str, str] | None,
    assume_tz: str | None,
    date: str | None,
    first_line: int = 1,
) -> FileRead:
    """Read one decompressed input with the reader of ``fmt``."""
    fr = _read_member(
        m, fmt, columns=columns, assume_tz=assume_tz, date=date, first_line=first_line
    )
    if fr.raw_line is None and m.data[:4] != b"PAR1":
        fr.raw_line = text_lines(m.data)
    return fr


def _read_member(
    m: Member,
    fmt: str,
    *,
    columns: Mapping[str, str] | None,
    assume_tz: str | None,
    date: str | None,
    first_line: int,
) -> FileRead:
    if fmt == "nmea":
        return read_ais_nmea(
            m.data, path=m.name, assume_tz=assume_tz, date=date, first_line=first_line
        )
    if fmt in ("dma", "marinecad"):
        return read_ais_csv(m.data, path=m.name, layout=fmt, assume_tz=assume_tz)
    if fmt in ("opensky", "traffic"):
        names = _parquet_layout(m.data)[1] if m.data[:4] == b"PAR1" else None
        return read_adsb_table(m.data, path=m.name, layout=fmt, assume_tz=assume_tz, names=names)
    if fmt == "readsb":
        return read_readsb_trace(m.data, path=m.name)
    if fmt == "opensky-json":
        return read_opensky_json(m.data, path=m.name)
    if fmt == "gpx":
        return read_gpx(m.data, path=m.name, assume_tz=assume_tz)
    if fmt == "kml":
        return read_kml(m.data, path=m.name, assume_tz=assume_tz)
    read = read_table_tracks(
        [m.name],
        format=fmt if fmt in _TABLE_FORMATS else "auto",  # type: ignore[arg-type]
        columns=columns,
        assume_tz=assume_tz,
        contents=[m.data],
    )
    return FileRead(
        fixes=tracks_to_fixes(read.tracks, _table_class(read.report.columns)),
        rejects=read.rejects,
        n_read=read.report.rows_read,
        fmt=read.report.format,
        columns=dict(read.report.columns),
        notes=list(read.report.notes),
    )


@dataclass
class _Input:
    member: Member
    fmt: str


def _as_paths(paths: PathArg | Sequence[PathArg]) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    out = [os.fspath(p) for p in paths]
    if not out:
        raise ConfigError("no input files given")
    return out


def _head(path: str) -> tuple[bytes, str | None]:
    """The first bytes of a file, decompressed on the fly (not for zip)."""
    stream, kind = open_stream(path)
    try:
        if kind == "zip":
            return b"", kind
        try:
            return stream.read(SNIFF_BYTES), kind
        except Exception as exc:  # decompression errors of several libraries
            raise InputError(f"corrupt or truncated {kind} data ({exc})", path=path) from exc
    finally:
        stream.close()


def read_any(
    paths: PathArg | Sequence[PathArg],
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    assume_tz: str | None = None,
    date: str | None = None,
    max_speed_mps: float | None = None,
    strict: bool = False,
    clean: bool = False,
    split_gap_s: float | Literal["auto"] | None = "auto",
    shared_ids: Literal["separate", "reject"] = "separate",
) -> TrackRead:
    """Read track files of any supported format (see :func:`patrolwatch.read_tracks`)."""
    if format not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}; not {format!r}")
    path_list = _as_paths(paths)
    # the unchanged table path: plain or gzip CSV/Parquet, no cleaning
    if not clean and format in ("auto", "csv", "parquet"):
        plain = True
        for p in path_list:
            head, kind = _head(p)
            if kind not in (None, "gzip"):
                plain = False
                break
            if format == "auto":
                fmt = sniff_format(head, name=p) if head.strip() else "csv"
                if fmt == "parquet":
                    fmt = "parquet" if kind is None else "gz-parquet"
                if fmt not in _TABLE_FORMATS:
                    plain = False
                    break
        if plain:
            return read_table_tracks(
                path_list,
                format=format,  # type: ignore[arg-type]
                columns=columns,
                assume_tz=assume_tz,
                max_speed_mps=max_speed_mps,
                strict=strict,
            )
    inputs: list[_Input] = []
    notes: list[str] = []
    for p in path_list:
        for m in read_members(p):
            if format == "auto":
                fmt = sniff_format(m.data, name=m.name)
                if fmt == "parquet":
                    fmt = _parquet_layout(m.data)[0]
                how = "inferred from content"
            else:
                fmt, how = format, "as given"
            packed = f" in {'+'.join(m.compression)}" if m.compression else ""
            notes.append(f"{m.name}: format {fmt}{packed} ({how})")
            inputs.append(_Input(m, fmt))
    reads = [
        read_member(i.member, i.fmt, columns=columns, assume_tz=assume_tz, date=date)
        for i in inputs
    ]
    names = [i.member.name for i in inputs]
    fmts = [
        i.fmt + (f" ({'+'.join(i.member.compression)})" if i.member.compression else "")
        for i in inputs
    ]
    return assemble(
        reads,
        names,
        fmts,
        notes=notes,
        clean=clean,
        max_speed_mps=max_speed_mps,
        split_gap_s=split_gap_s,
        shared_ids=shared_ids,
        strict=strict,
    )


def assemble(
    reads: Sequence[FileRead],
    names: Sequence[str],
    fmts: Sequence[str],
    *,
    notes: list[str],
    clean: bool,
    max_speed_mps: float | None,
    split_gap_s: float | Literal["auto"] | None,
    shared_ids: Literal["separate", "reject"],
    strict: bool,
) -> TrackRead:
    """Concatenate per-file reads, clean, build tracks and the report; check accounting."""
    fx = concat([r.fixes for r in reads], list(range(len(reads))))
    rej_file: list[int] = []
    rej_line: list[int] = []
    rej_raw: list[str] = []
    rej_reason: list[str] = []
    rej_msg: list[str] = []
    for k, r in enumerate(reads):
        notes += r.notes
        rej_file += [k] * len(r.rejects)
        rej_line += r.rejects.line
        rej_raw += r.rejects.raw
        rej_reason += r.rejects.reason
        rej_msg += r.rejects.message
    if clean or max_speed_mps is not None:
        res = clean_fixes(
            fx,
            split_gap_s=split_gap_s if clean else None,
            max_speed_mps=max_speed_mps if max_speed_mps is not None else "auto",
            shared_ids=shared_ids,
            dedupe=clean,
        )
        notes += res.notes
        if res.rejected.size:
            fix_ids, files, lines = fx.lines_of(res.rejected)
            pos = {int(f): j for j, f in enumerate(res.rejected.tolist())}
            for f, k, ln in zip(fix_ids.tolist(), files.tolist(), lines.tolist(), strict=True):
                j = pos[f]
                rej_file.append(k)
                rej_line.append(ln)
                rej_raw.append(_raw_line(reads[k], ln))
                rej_reason.append(res.reason[j])
                rej_msg.append(res.message[j])
        fx = res.fixes
    tracks = Tracks.from_arrays(
        fx.track_id,
        fx.t_ns,
        fx.lon_deg,
        fx.lat_deg,
        alt_m=fx.alt_m,
        speed_mps=fx.speed_mps,
        heading_deg=fx.heading_deg,
        src_file=fx.src_file,
        src_line=fx.src_line,
        sources=tuple(names),
        attrs=fx.attrs,
    )
    order = sorted(range(len(rej_line)), key=lambda i: (rej_file[i], rej_line[i]))
    rejects = Rejects()
    for i in order:
        rejects.add(names[rej_file[i]], rej_line[i], rej_raw[i], rej_reason[i], rej_msg[i])
    if strict:
        rejects.raise_first()
    rows_read = sum(r.n_read for r in reads)
    # every row is counted once: a kept fix, a further line a fix rests on, a line used
    # without a fix, or a reject; where rows are distinct lines, no line may be both
    unique = np.array([r.unique_lines for r in reads] or [True], dtype=bool)
    key = (fx.src_file.astype(np.int64) << 40) | fx.src_line
    aux = (fx.src_file[fx.aux_fix].astype(np.int64) << 40) | fx.aux_line
    meta = [(np.int64(k) << 40) | r.meta_lines.astype(np.int64) for k, r in enumerate(reads)]
    used_keys = np.concatenate([key, aux, *meta])
    rej_arr = np.asarray(rej_file, dtype=np.int64)
    rej_keys = (rej_arr << 40) | np.asarray(rej_line, np.int64)
    check_used = used_keys[unique[used_keys >> 40]] if used_keys.size else used_keys
    check_rej = rej_keys[unique[rej_arr]] if rej_keys.size else rej_keys
    if (
        np.unique(check_used).size != check_used.size
        or np.intersect1d(check_used, check_rej).size
        or np.unique(check_rej).size != check_rej.size
    ):
        raise AssertionError(
            "row accounting failed: a line is used twice, both used and rejected, or rejected twice"
        )
    rows_used = int(used_keys.size)
    t_range = (
        to_iso_z(np.array([tracks.t_ns.min(), tracks.t_ns.max()], dtype=np.int64))
        if len(tracks)
        else [None, None]
    )
    columns: dict[str, str] = {}
    for r in reads:
        for role, text in r.columns.items():
            if text and text not in columns.get(role, ""):
                columns[role] = f"{columns[role]}; {text}" if role in columns else text
    report = IngestReport(
        rows_read=rows_read,
        rows_used=rows_used,
        rejected_by_reason=rejects.counts(),
        n_tracks=tracks.n_tracks,
        time_start=t_range[0],
        time_end=t_range[1],
        format="+".join(dict.fromkeys(fmts)) if fmts else "",
        columns=columns,
        notes=tuple(notes),
        files=tuple(names),
    )
    if report.rows_read != report.rows_used + report.rows_rejected:
        raise AssertionError(
            f"row accounting failed: read {report.rows_read} != used {report.rows_used} "
            f"+ rejected {report.rows_rejected}"
        )
    return TrackRead(tracks, rejects, report)


def _raw_line(read: FileRead, line: int) -> str:
    """The raw text of a row whose fix cleaning rejected."""
    return read.raw_line(line) if read.raw_line is not None else f"row {line}"
