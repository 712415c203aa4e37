"""Batched reading with bounded memory: :func:`scan_tracks` yields one ``TrackRead`` per
batch of rows instead of one for everything.

AIS NMEA and CSV text (plain or gzip/bzip2/xz/Zstandard-compressed) is streamed: a batch
holds about ``batch_rows`` lines, cut at a line end, so memory stays proportional to the
batch. A multi-sentence AIS message cut by a batch end is carried whole into the next
batch; a CSV batch repeats the header. Other inputs (Parquet, GPX, KML, JSON, zip
members) are read whole and yielded as one batch each.

Each batch is read, cleaned (with ``clean=True``) and accounted on its own:
``rows_read == rows_used + rows_rejected`` holds per batch, and line numbers are those of
the file. What crosses batches is not seen: duplicates, speed checks, splits and shared
ids look within a batch, and AIS static data (names, call signs) joins only the fixes of
its own batch; a CSV value with a quoted line break must not straddle a batch end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal

from ..errors import ConfigError
from ._compress import Member, iter_chunks, open_stream, read_members
from ._fixes import FileRead
from ._rejects import Rejects
from .dispatch import FORMATS, SNIFF_BYTES, _head, assemble, read_member, sniff_format
from .tables import TrackRead

__all__ = ["DEFAULT_BATCH_ROWS", "scan_tracks"]

DEFAULT_BATCH_ROWS = 1_000_000
"""Default lines (rows) per batch."""
_BLOCK_BYTES = 1 << 22
_STREAMED = ("nmea", "csv", "dma", "marinecad", "opensky", "traffic")


def _batches_of_lines(path: str, batch_rows: int) -> Iterator[tuple[bytes, int]]:
    """(bytes of about ``batch_rows`` whole lines, number of the first line)."""
    stream, _ = open_stream(path)
    try:
        pending = b""
        lines: list[bytes] = []
        first = 1
        for chunk in iter_chunks(stream, _BLOCK_BYTES, path=path):
            data = pending + chunk
            parts = data.splitlines(keepends=True)
            pending = parts.pop() if parts and not parts[-1].endswith((b"\n", b"\r")) else b""
            if pending == b"" and parts and parts[-1].endswith(b"\r"):
                # a \r at the chunk end may be the first half of \r\n
                pending = parts.pop()
            lines += parts
            while len(lines) >= batch_rows:
                batch, lines = lines[:batch_rows], lines[batch_rows:]
                yield b"".join(batch), first
                first += len(batch)
        if pending:
            lines.append(pending)
        if lines:
            yield b"".join(lines), first
    finally:
        stream.close()


def _carry_fragments(data: bytes) -> tuple[bytes, bytes]:
    """Split off the trailing lines that start an AIS message not complete in ``data``."""
    tail = data.splitlines(keepends=True)[-9:]
    for k in range(len(tail)):
        fields = tail[k].split(b",")
        if len(fields) > 3 and fields[0].endswith((b"VDM", b"VDO")):
            try:
                cnt, num = int(fields[1]), int(fields[2])
            except ValueError:
                continue
            if num == 1 and cnt > 1 and len(tail) - k < cnt:
                cut = sum(len(x) for x in tail[k:])
                return data[: len(data) - cut], data[len(data) - cut :]
    return data, b""


def _shift(fr: FileRead, by: int) -> FileRead:
    fr.fixes.src_line = fr.fixes.src_line + by
    fr.fixes.aux_line = fr.fixes.aux_line + by
    fr.meta_lines = fr.meta_lines + by
    rej = Rejects()
    for s, ln, raw, rs, msg in zip(
        fr.rejects.source,
        fr.rejects.line,
        fr.rejects.raw,
        fr.rejects.reason,
        fr.rejects.message,
        strict=True,
    ):
        rej.add(s, ln + by, raw, rs, msg)
    fr.rejects = rej
    return fr


def scan_tracks(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    assume_tz: str | None = None,
    date: str | None = None,
    clean: bool = False,
    split_gap_s: float | Literal["auto"] | None = "auto",
    max_speed_mps: float | None = None,
    shared_ids: Literal["separate", "reject"] = "separate",
) -> Iterator[TrackRead]:
    """Read track files batch by batch (see the module docstring).

    Parameters
    ----------
    paths : path or sequence of paths
    batch_rows : int
        Lines (rows) per batch, > 0.
    format, columns, assume_tz, date, clean, split_gap_s, max_speed_mps, shared_ids
        As for :func:`patrolwatch.read_tracks`.

    Yields
    ------
    TrackRead
        One per batch, in file order; its report accounts for the batch's rows.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("track_id,time,lat,lon\\n" + "".join(
    ...     f"a,2019-07-23T00:{m:02d}:00Z,37.0,131.{m}\\n" for m in range(5)))
    >>> [b.report.rows_read for b in scan_tracks(p, batch_rows=2)]
    [1, 2, 2]
    """
    if batch_rows <= 0:
        raise ConfigError(f"batch_rows must be a positive number of rows, not {batch_rows}")
    if format not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}; not {format!r}")
    plist = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not plist:
        raise ConfigError("no input files given")
    opts = dict(
        clean=clean,
        max_speed_mps=max_speed_mps,
        split_gap_s=split_gap_s,
        shared_ids=shared_ids,
        strict=False,
    )
    for p in [os.fspath(x) for x in plist]:
        head, kind = _head(p)
        fmt = format
        if fmt == "auto" and kind != "zip":
            fmt = sniff_format(head[:SNIFF_BYTES], name=p)
        if kind == "zip" or fmt not in _STREAMED:
            for m in read_members(p):
                f = sniff_format(m.data, name=m.name) if format == "auto" else format
                fr = read_member(m, f, columns=columns, assume_tz=assume_tz, date=date)
                yield assemble([fr], [m.name], [f], notes=[], **opts)  # type: ignore[arg-type]
            continue
        header = b""
        carry = b""
        carry_first = 0
        for data, first in _batches_of_lines(p, batch_rows):
            if fmt == "nmea":
                body, next_carry = _carry_fragments(carry + data)
                start = carry_first if carry else first
                carry_first = start + len(body.splitlines()) if next_carry else 0
                carry = next_carry
                if not body:
                    continue
                fr = read_member(
                    Member(p, body, ()),
                    fmt,
                    columns=columns,
                    assume_tz=assume_tz,
                    date=date,
                    first_line=start,
                )
                yield assemble([fr], [p], [fmt], notes=[], **opts)  # type: ignore[arg-type]
                continue
            if first == 1:
                header = data.splitlines(keepends=True)[0]
                text, offset = data, 0
            else:
                text, offset = header + data, first - 2
            fr = read_member(
                Member(p, text, ()), fmt, columns=columns, assume_tz=assume_tz, date=date
            )
            if first != 1:
                fr = _shift(fr, offset)
            yield assemble([fr], [p], [fmt], notes=[], **opts)  # type: ignore[arg-type]
        if carry:
            fr = read_member(
                Member(p, carry, ()),
                fmt,
                columns=columns,
                assume_tz=assume_tz,
                date=date,
                first_line=carry_first,
            )
            yield assemble([fr], [p], [fmt], notes=[], **opts)  # type: ignore[arg-type]
