"""The public API: thin, typed functions over the readers, detectors and writers."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Literal

from .core.events import Events
from .core.zones import Zones
from .detect.crossings import crossings
from .io.tables import TrackRead, read_table_tracks

__all__ = ["crossings", "read_tracks", "read_zones"]

PathLike = str | os.PathLike[str]


def read_tracks(
    paths: PathLike | Sequence[PathLike],
    *,
    format: Literal["auto", "csv", "parquet"] = "auto",
    columns: Mapping[str, str] | None = None,
    assume_tz: str | None = None,
    max_speed_mps: float | None = None,
    strict: bool = False,
) -> TrackRead:
    """Read tracks from CSV or Parquet files.

    Parameters
    ----------
    paths : path or sequence of paths
        Input files; several are concatenated (each fix remembers its file and line).
    format : {"auto", "csv", "parquet"}
        ``auto`` decides from the content (Parquet magic bytes, else CSV; ``.gz`` is read
        transparently).
    columns : mapping of role to column name, optional
        Overrides for the detected columns; roles are ``track_id``, ``time``, ``lat``,
        ``lon``, ``alt`` and the attributes ``operator``, ``type``, ``callsign``.
    assume_tz : str, optional
        Time zone for times written without one (``"UTC"``, ``"Asia/Seoul"``,
        ``"+09:00"``). Without it such times raise :class:`~patrolwatch.NaiveTimeError`.
    max_speed_mps : float, optional, m/s
        Reject fixes that would need more than this speed from the previous kept fix.
    strict : bool
        Raise the first rejected row as an error instead of recording it.

    Returns
    -------
    TrackRead
        ``(tracks, rejects, report)``: the clean :class:`~patrolwatch.Tracks`, the rejected
        rows with their reasons, and the :class:`~patrolwatch.IngestReport`
        (``rows_read == rows_used + rows_rejected``).
    """
    return read_table_tracks(
        paths,
        format=format,
        columns=columns,
        assume_tz=assume_tz,
        max_speed_mps=max_speed_mps,
        strict=strict,
    )


def read_zones(paths: PathLike | Sequence[PathLike]) -> Zones:
    """Read zones from GeoJSON files (``.geojson``, ``.json``, also gzip-compressed).

    See the README's "Zone files" section for the feature properties (``id``, ``kind``,
    ``claimants``, ``buffer_nm``/``buffer_m``, ``floor``/``ceiling``, ``edges``).

    Raises
    ------
    ZoneGeometryError, SchemaError, ParseError
        With the file, the feature and how to fix it.
    """
    from .io.geojson import read_zones as _read

    return _read(paths)


_ = Events  # re-exported type of crossings' result
