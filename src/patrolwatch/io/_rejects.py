"""The rejected-rows table: every input row a reader did not use, with a reason code.

Reason codes are stable strings (``bad_time``, ``naive_time``, ``lat_out_of_range``,
``lon_out_of_range``, ``missing_coordinate``, ``missing_id``, ``duplicate``,
``implied_speed``, ...). ``used + rejected == read`` holds for every reader.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from ..errors import ParseError

__all__ = ["REJECT_REASONS", "IngestReport", "Rejects"]

REJECT_REASONS: dict[str, str] = {
    "bad_time": "the time could not be parsed",
    "naive_time": "the time has no zone and no --assume-tz was given",
    "ambiguous_time": "a time without zone that a daylight-saving change of --assume-tz "
    "repeats or skips",
    "missing_time": "the time is empty",
    "missing_id": "the track id is empty",
    "missing_coordinate": "latitude or longitude is empty",
    "bad_coordinate": "latitude or longitude is not a number",
    "lat_out_of_range": "latitude outside [-90, 90] (lon/lat swapped?)",
    "lon_out_of_range": "longitude outside [-180, 180]",
    "not_available": "the source's 'not available' sentinel (lat 91, lon 181)",
    "duplicate": "an exact duplicate of an earlier row (same track, time and position)",
    "implied_speed": "reaching this fix from the previous one needs more than --max-speed",
    "bad_value": "a numeric field could not be parsed",
    "bad_row": "the row could not be split into the header's columns",
    # track formats other than tables (patrolwatch.io.ais_nmea, adsb, gpx, kml, _clean)
    "blank": "an empty line",
    "comment": "a comment line (starting with #)",
    "not_ais": "not an AIS sentence (other NMEA, or text that is not NMEA)",
    "bad_checksum": "the NMEA checksum is wrong or missing",
    "bad_sentence": "an AIS sentence with wrong fields (e.g. fragment count 0)",
    "bad_tag_block": "the NMEA 4.10 tag block is malformed or fails its checksum",
    "missing_fragment": "a fragment of a multi-sentence AIS message whose companions are missing",
    "empty_payload": "an AIS sentence without payload",
    "bad_payload": "the AIS payload has characters outside the 6-bit alphabet or is too short",
    "unsupported_type": "a message or element that carries no vehicle position (AIS base "
    "station, GPX waypoint, ...)",
    "no_time": "no time: no tag block, receiver time or wrapper, and no --date",
    "unmatched_wrapper": "a Gatehouse $PGHP time wrapper not followed by the sentence it names",
    "shared_id": "an id used by two vehicles at once (alternating far-apart positions)",
}
"""Reason codes and what they mean."""


@dataclass
class Rejects:
    """Rejected input rows: ``source`` (file), ``line`` (1-based), ``raw`` (the row as read),
    ``reason`` (a code from :data:`REJECT_REASONS`) and ``message`` (human-readable)."""

    source: list[str] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    message: list[str] = field(default_factory=list)

    def add(self, source: str, line: int, raw: str, reason: str, message: str) -> None:
        """Record one rejected row."""
        self.source.append(source)
        self.line.append(int(line))
        self.raw.append(raw)
        self.reason.append(reason)
        self.message.append(message)

    def extend(self, other: Rejects) -> None:
        """Append all rows of ``other``."""
        self.source += other.source
        self.line += other.line
        self.raw += other.raw
        self.reason += other.reason
        self.message += other.message

    def __len__(self) -> int:
        return len(self.line)

    def counts(self) -> dict[str, int]:
        """Number of rejected rows by reason code."""
        return dict(sorted(Counter(self.reason).items()))

    def to_arrow(self) -> pa.Table:
        """The rejects as an Arrow table (columns source, line, reason, message, raw)."""
        return pa.table(
            {
                "source": pa.array(self.source, pa.string()),
                "line": pa.array(self.line, pa.int64()),
                "reason": pa.array(self.reason, pa.string()),
                "message": pa.array(self.message, pa.string()),
                "raw": pa.array(self.raw, pa.string()),
            }
        )

    def raise_first(self) -> None:
        """Raise the first reject as a :class:`~patrolwatch.errors.ParseError` (``strict=True``)."""
        if self.line:
            raise ParseError(
                f"{self.message[0]} [{self.reason[0]}] (use strict=False to skip such rows)",
                path=self.source[0],
                line=self.line[0],
            )


@dataclass
class IngestReport:
    """What a reader did: rows read, used and rejected (by reason), and what it inferred.

    ``rows_read == rows_used + rows_rejected`` always holds.
    """

    rows_read: int
    rows_used: int
    rejected_by_reason: dict[str, int]
    n_tracks: int
    time_start: str | None
    time_end: str | None
    format: str
    columns: dict[str, str]
    notes: Sequence[str] = ()
    files: Sequence[str] = ()

    @property
    def rows_rejected(self) -> int:
        """Total rejected rows."""
        return sum(self.rejected_by_reason.values())

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the content of ``ingest_report.json``)."""
        return {
            "files": list(self.files),
            "format": self.format,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_rejected": self.rows_rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            "n_tracks": self.n_tracks,
            "time_start": self.time_start,
            "time_end": self.time_end,
            "columns": dict(self.columns),
            "notes": list(self.notes),
        }
