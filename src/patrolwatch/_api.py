"""The public API: thin, typed functions over the readers, detectors and writers."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from ._analyze import Analysis, analyze, analyze_manifest
from .core.events import Events
from .core.tracks import Tracks
from .core.zones import Zones
from .detect import crossings as _crossings
from .io.dispatch import Format, read_any
from .io.tables import TrackRead
from .report.html import write_report

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "Analysis",
    "analyze",
    "analyze_manifest",
    "crossings",
    "read_tracks",
    "read_zones",
    "write_report",
]

PathLike = str | os.PathLike[str]


def crossings(
    tracks: Tracks,
    zones: Zones,
    *,
    near_m: float | None = None,
    max_speed_mps: float | None = None,
    engine: Literal["local", "dask"] | Client = "local",
) -> Events:
    # the docstring is the detector's, with ``engine`` added (see below)
    if isinstance(engine, str) and engine == "local":
        return _crossings.crossings(tracks, zones, near_m=near_m, max_speed_mps=max_speed_mps)
    if isinstance(engine, str) and engine != "dask":
        from .errors import ConfigError

        raise ConfigError(f"engine must be 'local', 'dask' or a distributed.Client, not {engine!r}")
    from .scale import dask as _dask

    with _dask.connect(None if isinstance(engine, str) else engine) as client:
        return _dask.crossings(
            tracks, zones, near_m=near_m, max_speed_mps=max_speed_mps, client=client
        ).compute()


_ENGINE_DOC = """    engine : {"local", "dask"} or distributed.Client
        ``"local"`` (default) runs in this process. ``"dask"`` partitions the tracks by
        track id over a new :class:`distributed.LocalCluster` sized to this machine; a
        ``Client`` uses its cluster (see :mod:`patrolwatch.scale`). The events are the
        same on every engine.

"""
crossings.__doc__ = (_crossings.crossings.__doc__ or "").replace(
    "    Returns\n    -------", _ENGINE_DOC + "    Returns\n    -------", 1
)


def read_tracks(
    paths: PathLike | Sequence[PathLike],
    *,
    format: Format = "auto",
    columns: Mapping[str, str] | None = None,
    assume_tz: str | None = None,
    max_speed_mps: float | None = None,
    strict: bool = False,
    date: str | None = None,
    clean: bool = False,
    split_gap_s: float | Literal["auto"] | None = "auto",
    shared_ids: Literal["separate", "reject"] = "separate",
) -> TrackRead:
    """Read tracks from any supported file: CSV, Parquet, AIS NMEA, AIS archive CSVs (DMA,
    Marine Cadastre), OpenSky, traffic, readsb traces, GPX, KML/KMZ; compressed or not.

    Parameters
    ----------
    paths : path or sequence of paths
        Input files; several are concatenated (each fix remembers its file and line). A
        zip archive gives one input per member.
    format : {"auto", "csv", "parquet", "nmea", "dma", "marinecad", "opensky", \
"opensky-json", "traffic", "readsb", "gpx", "kml"}
        ``auto`` infers the format of each file from its content (compression by magic
        bytes, then the content; see :mod:`patrolwatch.io.dispatch`); the report says what
        was inferred (``report.format``, ``report.notes``).
    columns : mapping of role to column name, optional
        Overrides for the detected columns of tables; roles are ``track_id``, ``time``,
        ``lat``, ``lon``, ``alt`` and the attributes ``operator``, ``type``, ``callsign``.
    assume_tz : str, optional
        Time zone for times written without one (``"UTC"``, ``"Asia/Seoul"``,
        ``"+09:00"``). Without it such times raise :class:`~patrolwatch.NaiveTimeError`
        (GPX and KML times without zone are UTC by their specifications).
    max_speed_mps : float, optional, m/s
        Reject fixes that would need more than this speed (for tables read as before; for
        the other formats, and with ``clean``, by :mod:`patrolwatch.io._clean`).
    strict : bool
        Raise the first rejected row as an error instead of recording it.
    date : str, optional
        For AIS NMEA lines without any time: ``YYYY-MM-DD`` or an ISO time with zone, the
        UTC minute the recording starts in; fixes are then timed by their UTC second.
    clean : bool
        Clean identities: drop duplicates, split tracks after silences of ``split_gap_s``
        and impossible jumps (``ID#2``...), reject outliers beyond the vehicle class speed
        limit (``implied_speed``) and keep ids used by two vehicles at once apart
        (``shared_id``). See :mod:`patrolwatch.io._clean`.
    split_gap_s : float, "auto" or None, s
        With ``clean``: the silence that splits a track; ``"auto"`` 6 h for ships and
        30 min for aircraft.
    shared_ids : {"separate", "reject"}
        With ``clean``: separate the vehicles sharing an id into tracks, or reject them.

    Returns
    -------
    TrackRead
        ``(tracks, rejects, report)``: the clean :class:`~patrolwatch.Tracks`, the rejected
        rows with their reasons, and the :class:`~patrolwatch.IngestReport`
        (``rows_read == rows_used + rows_rejected``; for NMEA a row is a line, and the
        lines of a multi-sentence message or a static report are used without being
        one fix each).

    Raises
    ------
    InputError
        A file that cannot be read, is empty, binary of no known format, or corrupt
        compressed data (file and line in the message).
    NaiveTimeError, SchemaError, ParseError, ConfigError
    """
    return read_any(
        paths,
        format=format,
        columns=columns,
        assume_tz=assume_tz,
        date=date,
        max_speed_mps=max_speed_mps,
        strict=strict,
        clean=clean,
        split_gap_s=split_gap_s,
        shared_ids=shared_ids,
    )


def read_zones(
    paths: PathLike | Sequence[PathLike],
    *,
    id_field: str = "id",
    kind: str | None = None,
    claimants: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs: str | None = None,
) -> Zones:
    """Read zones from GeoJSON, OpenAir, GeoPackage, Shapefile, KML/KMZ or GeoParquet files.

    See the README's "Zone files" section for the feature properties (``id``, ``kind``,
    ``claimants``, ``buffer_nm``/``buffer_m``, ``floor``/``ceiling``, ``edges``) and
    docs/zones.md for the other formats. ``id_field``, ``kind``, ``claimants`` and
    ``mapping`` (zone property to column, e.g. ``{"name": "NAME_EN"}``) read a foreign
    layer without editing it; ``crs`` gives the CRS of a file that has none.

    Raises
    ------
    ZoneGeometryError, SchemaError, ParseError
        With the file, the feature and how to fix it.
    """
    from .io.geojson import read_zones as _read

    return _read(paths, id_field=id_field, kind=kind, claimants=claimants, mapping=mapping, crs=crs)


_ = Events, Tracks  # re-exported types (Tracks is also used by the docstring's example)
