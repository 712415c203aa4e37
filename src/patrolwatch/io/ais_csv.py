"""AIS tables as national archives publish them: the Danish Maritime Authority (DMA) and
the US Marine Cadastre (MarineCadastre.gov, NOAA/BOEM) daily CSV files.

Both are read by the table reader (:mod:`patrolwatch.io.tables`) with a column mapping
chosen from the header; this module only recognises the layout and adds what the
layout implies:

============== ======================================================================
layout          header (first fields) and what is added
============== ======================================================================
``dma``         ``# Timestamp,Type of mobile,MMSI,Latitude,Longitude,...``. Times are
                ``dd/mm/yyyy hh:mm:ss`` without zone: refused unless ``assume_tz`` is
                given (the DMA does not state the zone).
``marinecad``   ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,...``.
                ``BaseDateTime`` is documented by Marine Cadastre as UTC, so it is read
                as UTC unless ``assume_tz`` says otherwise (stated in the notes).
============== ======================================================================

For both: the track id is the MMSI; ``heading_deg`` is the course over ground (COG, as
for NMEA; the bow heading is not kept); speed is SOG in knots converted to m/s; the flag
comes from the MMSI's MID (:mod:`._mid`); the "not available" sentinels are handled by
the table reader (lat 91 / lon 181 rows rejected as ``not_available``; heading 511, SOG
102.3 and COG 360 become NaN). Marine Cadastre's numeric ``VesselType`` becomes the same
category names as AIS ship types (:func:`~patrolwatch.io.ais_nmea.ship_category`).
"""

from __future__ import annotations

import re

import numpy as np

from ..core.tracks import Tracks
from ._fixes import CLASS_SHIP, FileRead, FixTable
from ._mid import mmsi_flag
from .ais_nmea import ship_category
from .tables import read_table_tracks

__all__ = ["LAYOUTS", "detect_layout", "read_ais_csv", "tracks_to_fixes"]

LAYOUTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "dma": (
        ("# timestamp", "type of mobile", "mmsi", "latitude", "longitude"),
        {"heading": "COG", "type": "Ship type", "callsign": "Callsign"},
    ),
    "marinecad": (
        ("mmsi", "basedatetime", "lat", "lon"),
        {"heading": "COG", "type": "VesselType", "callsign": "CallSign"},
    ),
}
"""Layout name -> (header names that identify it, column overrides for the table reader)."""


def _names(header: str) -> list[str]:
    fields = re.split(r"[,;\t|]", header.replace("\ufeff", ""))
    return [h.strip().strip('"').strip().lower() for h in fields]


def detect_layout(header: str) -> str | None:
    """The AIS archive layout of a CSV header line, or None.

    Examples
    --------
    >>> detect_layout("# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status")
    'dma'
    >>> detect_layout("MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign")
    'marinecad'
    >>> detect_layout("time,icao24,lat,lon") is None
    True
    """
    names = set(_names(header))
    for name, (needed, _) in LAYOUTS.items():
        if all(k in names for k in needed):
            return name
    return None


def tracks_to_fixes(tracks: Tracks, vclass: int) -> FixTable:
    """A table reader's :class:`Tracks` back to per-fix candidate rows."""
    tix = tracks.track_index
    return FixTable.build(
        tracks.track_ids[tix] if len(tracks) else np.zeros(0, dtype=str),
        tracks.t_ns,
        tracks.lon_deg,
        tracks.lat_deg,
        tracks.src_line,
        vclass=vclass,
        alt_m=tracks.alt_m,
        speed_mps=tracks.speed_mps,
        heading_deg=tracks.heading_deg,
        attrs={k: v[tix] for k, v in tracks.attrs.items()},
    )


def read_ais_csv(data: bytes, *, path: str, layout: str, assume_tz: str | None = None) -> FileRead:
    """Read a DMA or Marine Cadastre CSV (already decompressed) into candidate fixes.

    Parameters
    ----------
    data : bytes
    path : str
        Name for rejects and errors.
    layout : {"dma", "marinecad"}
    assume_tz : str, optional
        Zone of the naive times (required for DMA; Marine Cadastre defaults to UTC).

    Raises
    ------
    NaiveTimeError
        DMA times without ``assume_tz``.
    SchemaError
        A required column is missing.
    """
    _, columns = LAYOUTS[layout]
    notes: list[str] = []
    tz = assume_tz
    if layout == "marinecad" and tz is None:
        tz = "UTC"
        notes.append(f"{path}: BaseDateTime read as UTC, as Marine Cadastre documents it")
    read = read_table_tracks([path], columns=_present(data, columns), assume_tz=tz, contents=[data])
    fx = tracks_to_fixes(read.tracks, CLASS_SHIP)
    ids = np.char.strip(fx.track_id.astype(str))
    numeric = np.char.isdigit(ids) & (np.char.str_len(ids) <= 9)
    mmsi = np.where(numeric, ids, "0").astype(np.int64)
    fx.attrs["operator"] = np.where(numeric, mmsi_flag(mmsi), fx.attrs.get("operator", ""))
    fx.attrs["source"] = np.full(len(fx), "ais", dtype="<U3")
    if layout == "marinecad" and "type" in fx.attrs:
        t = np.char.strip(fx.attrs["type"].astype(str))
        num = np.char.isdigit(t)
        cat = ship_category(np.where(num, t, "0").astype(np.int64))
        fx.attrs["type"] = np.where(num, cat, t)
    return FileRead(
        fixes=fx,
        rejects=read.rejects,
        n_read=read.report.rows_read,
        fmt=layout,
        columns=dict(read.report.columns),
        notes=[*notes, *read.report.notes],
    )


def _present(data: bytes, columns: dict[str, str]) -> dict[str, str]:
    """Only the overrides whose column is in the header (optional roles may be absent)."""
    head = data[:4096].split(b"\n", 1)[0].decode("utf-8", "replace")
    names = set(_names(head))
    return {role: col for role, col in columns.items() if col.lower() in names}
