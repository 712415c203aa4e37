"""ADS-B track formats: OpenSky state vectors, the ``traffic`` sample tables, readsb traces.

============== ============================================================================
format          what a row is, and how it is read
============== ============================================================================
``opensky``     OpenSky Network state vectors / history exports (CSV or Parquet):
                ``time, icao24, lat, lon, velocity, heading, vertrate, callsign, onground,
                baroaltitude, geoaltitude, lastposupdate, ...``; one row per state vector.
                Time: ``lastposupdate`` (epoch s, when the position was last updated) when
                the column exists, else ``time``: a state vector repeats a stale position
                with a new ``time``, and the repeats then share one time and position and
                are dropped as duplicates by cleaning. Altitude ``baroaltitude`` (m),
                speed ``velocity`` (m/s), heading (true track, deg).
``opensky-json`` The OpenSky REST ``/states/all`` response ``{"time": ..., "states":
                [[icao24, callsign, origin_country, time_position, last_contact, lon, lat,
                baro_altitude, on_ground, velocity, true_track, vertical_rate, sensors,
                geo_altitude, squawk, spi, position_source], ...]}``; a row is one state,
                numbered from 1; time ``time_position``.
``traffic``     The ``traffic`` library's sample tables (``timestamp, icao24, callsign,
                latitude, longitude, altitude`` (ft), ``groundspeed`` (kt), ``track``...);
                read by the table reader with its usual column names.
``readsb``      readsb / tar1090 ``trace_full`` JSON: ``icao``, base ``timestamp`` (epoch
                s) and ``trace`` points ``[dt_s, lat, lon, alt_ft | "ground" | null, gs_kt,
                track_deg, flags, vrate, detail, source, geom_alt_ft, ...]``. A row is one
                point, numbered from 1 in the trace. ``"ground"`` altitude is NaN (on the
                ground; field elevation unknown). Flags bit 1 (value 2) starts a new leg
                (the track is split there when cleaning); bit 0 (stale: no position for
                20 s before) is counted in the notes; bit 3 (value 8) marks a geometric
                altitude, which is kept as given.
============== ============================================================================

Every aircraft is of class ``aircraft`` for cleaning (30 min split gap, 1200 kt limit).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import numpy as np

from ..errors import ParseError, SchemaError
from ..units import FT_M, KT_MPS, NS_PER_S
from ._fixes import CLASS_AIRCRAFT, FileRead, FixTable
from ._rejects import Rejects
from .ais_csv import tracks_to_fixes
from .tables import read_table_tracks

__all__ = [
    "detect_layout",
    "read_adsb_table",
    "read_opensky_json",
    "read_readsb_trace",
]

_MAX_RAW = 300


def detect_layout(header: str) -> str | None:
    """``"opensky"`` or ``"traffic"`` for a CSV header line of those layouts, else None.

    Examples
    --------
    >>> detect_layout("time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground")
    'opensky'
    >>> detect_layout("timestamp,icao24,callsign,latitude,longitude,altitude,groundspeed")
    'traffic'
    """
    import re

    names = {h.strip().strip('"').lower() for h in re.split(r"[,;\t|]", header)}
    if "icao24" not in names:
        return None
    if {"lat", "lon"} <= names and ({"velocity", "vertrate", "baroaltitude"} & names):
        return "opensky"
    if {"latitude", "longitude"} <= names and ({"groundspeed", "track", "altitude"} & names):
        return "traffic"
    return None


def read_adsb_table(
    data: bytes,
    *,
    path: str,
    layout: str,
    assume_tz: str | None = None,
    names: set[str] | None = None,
) -> FileRead:
    """Read an OpenSky or traffic table (CSV or Parquet bytes) into aircraft fixes.

    Parameters
    ----------
    data : bytes
    path : str
    layout : {"opensky", "traffic"}
    assume_tz : str, optional
    names : set of str, optional
        Lower-case column names (for Parquet, whose header is not a text line).
    """
    columns: dict[str, str] = {}
    notes: list[str] = []
    if names is None:
        head = data[:4096].split(b"\n", 1)[0].decode("utf-8", "replace").lower()
        names = {h.strip().strip('"') for h in head.replace("\ufeff", "").split(",")}
    if layout == "opensky":
        if "lastposupdate" in names:
            columns["time"] = "lastposupdate"
            notes.append(
                f"{path}: time from lastposupdate (when the position was last updated); "
                "stale repeats of a position become duplicates"
            )
        if "heading" in names:
            columns["heading"] = "heading"
    read = read_table_tracks([path], columns=columns or None, assume_tz=assume_tz, contents=[data])
    fx = tracks_to_fixes(read.tracks, CLASS_AIRCRAFT)
    fx.attrs["source"] = np.full(len(fx), "adsb", dtype="<U4")
    return FileRead(
        fixes=fx,
        rejects=read.rejects,
        n_read=read.report.rows_read,
        fmt=layout,
        columns=dict(read.report.columns),
        notes=[*notes, *read.report.notes],
    )


def _num(x: Any) -> float:
    """A JSON number to float; NaN for null; raises ValueError for anything else."""
    if x is None:
        return math.nan
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(repr(x))
    return float(x)


def _raw(x: Any) -> str:
    text = json.dumps(x, separators=(",", ":"))
    return text if len(text) <= _MAX_RAW else text[:_MAX_RAW] + "..."


def _load_json(data: bytes, path: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 JSON ({exc})", path=path) from exc
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"not valid JSON: {exc.msg} (truncated file?)", path=path, line=exc.lineno
        ) from exc
    except RecursionError as exc:
        raise ParseError("JSON nested too deeply", path=path) from exc


def _item_getter(items: list[Any]) -> Any:
    def get(k: int) -> str:
        return _raw(items[k - 1]) if 1 <= k <= len(items) else f"item {k}"

    return get


class _Points:
    """Fix candidates and rejects collected point by point (JSON formats)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.t: list[int] = []
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.alt: list[float] = []
        self.spd: list[float] = []
        self.hdg: list[float] = []
        self.line: list[int] = []
        self.ids: list[str] = []
        self.brk: list[bool] = []
        self.callsign: list[str] = []
        self.rejects = Rejects()

    def check(self, row: int, raw: Any, lat: Any, lon: Any) -> tuple[float, float] | None:
        if lat is None or lon is None:
            self.rejects.add(self.path, row, _raw(raw), "missing_coordinate", "no position")
            return None
        try:
            la, lo = _num(lat), _num(lon)
        except ValueError:
            self.rejects.add(
                self.path, row, _raw(raw), "bad_coordinate", f"lat {lat!r}, lon {lon!r}"
            )
            return None
        if not (math.isfinite(la) and math.isfinite(lo)):
            self.rejects.add(self.path, row, _raw(raw), "bad_coordinate", "not finite")
            return None
        if abs(la) > 90:
            self.rejects.add(
                self.path, row, _raw(raw), "lat_out_of_range", f"latitude {la} outside [-90, 90]"
            )
            return None
        if abs(lo) > 180:
            self.rejects.add(
                self.path, row, _raw(raw), "lon_out_of_range", f"longitude {lo} outside ±180"
            )
            return None
        return la, lo

    def table(self) -> FixTable:
        return FixTable.build(
            np.asarray(self.ids, dtype=str),
            np.asarray(self.t, dtype=np.int64),
            self.lon,
            self.lat,
            self.line,
            vclass=CLASS_AIRCRAFT,
            alt_m=self.alt,
            speed_mps=self.spd,
            heading_deg=self.hdg,
            break_before=self.brk,
            attrs={"callsign": self.callsign, "source": ["adsb"] * len(self.t)},
        )


def read_readsb_trace(data: bytes, *, path: str) -> FileRead:
    """Read a readsb/tar1090 ``trace_full`` JSON file (see the module docstring).

    Raises
    ------
    ParseError
        Not JSON.
    SchemaError
        No ``icao``, numeric ``timestamp`` and ``trace`` list.
    """
    obj = _load_json(data, path)
    if not isinstance(obj, dict) or not isinstance(obj.get("trace"), list):
        raise SchemaError("a readsb trace has an object with a 'trace' list", path=path)
    icao = str(obj.get("icao") or "").strip().lower()
    base = obj.get("timestamp")
    if not icao or isinstance(base, bool) or not isinstance(base, int | float):
        raise SchemaError(
            "a readsb trace needs 'icao' and a numeric base 'timestamp' (epoch s)", path=path
        )
    pts = _Points(path)
    n_ground = n_stale = 0
    callsign = ""
    leg_next = False
    for k, p in enumerate(obj["trace"], start=1):
        if not isinstance(p, list) or len(p) < 7:
            pts.rejects.add(
                path, k, _raw(p), "bad_row", "a trace point is a list of at least 7 values"
            )
            continue
        try:
            flags = int(p[6]) if p[6] is not None else 0
        except (TypeError, ValueError):
            flags = 0
        if flags & 2:
            leg_next = True
        detail = p[8] if len(p) > 8 and isinstance(p[8], dict) else None
        if detail and isinstance(detail.get("flight"), str) and detail["flight"].strip():
            callsign = detail["flight"].strip()
        try:
            off = _num(p[0])
            t_s = float(base) + off
            if not math.isfinite(t_s):
                raise ValueError(p[0])
        except ValueError:
            pts.rejects.add(path, k, _raw(p), "bad_time", f"time offset {p[0]!r} is not a number")
            continue
        pos = pts.check(k, p, p[1], p[2])
        if pos is None:
            continue
        alt = p[3]
        if alt == "ground":
            n_ground += 1
            alt_m = math.nan
        else:
            try:
                alt_m = _num(alt) * FT_M
            except ValueError:
                alt_m = math.nan
        try:
            gs = _num(p[4]) * KT_MPS
            trk = _num(p[5])
        except ValueError:
            gs = trk = math.nan
        n_stale += bool(flags & 1)
        # exact decimal sum of the base and the offset as written (no float rounding)
        pts.t.append(int((Decimal(repr(float(base))) + Decimal(repr(off))) * NS_PER_S))
        pts.lat.append(pos[0])
        pts.lon.append(pos[1])
        pts.alt.append(alt_m)
        pts.spd.append(gs)
        pts.hdg.append(trk)
        pts.line.append(k)
        pts.ids.append(icao)
        pts.brk.append(leg_next)
        pts.callsign.append(callsign)
        leg_next = False
    fx = pts.table()
    fx.attrs["type"] = np.full(len(fx), str(obj.get("t") or ""))
    fx.attrs["operator"] = np.full(len(fx), str(obj.get("ownOp") or ""))
    fx.attrs["registration"] = np.full(len(fx), str(obj.get("r") or ""))
    notes = [
        f"{path}: readsb trace of {icao}: {int(fx.break_before.sum())} new-leg flags, "
        f"{n_ground} points on the ground (altitude NaN), {n_stale} after a 20 s gap (stale "
        "flag); rows are trace points numbered from 1"
    ]
    return FileRead(
        fixes=fx,
        rejects=pts.rejects,
        n_read=len(obj["trace"]),
        fmt="readsb",
        raw_line=_item_getter(obj["trace"]),
        columns={
            "track_id": "icao",
            "time": "timestamp + point offset (epoch s)",
            "lat": "trace[1]",
            "lon": "trace[2]",
            "altitude": "trace[3] (ft, barometric)",
            "speed": "trace[4] (kt)",
            "heading": "trace[5] (deg, track)",
        },
        notes=notes,
    )


def read_opensky_json(data: bytes, *, path: str) -> FileRead:
    """Read an OpenSky REST ``states`` response (see the module docstring).

    Raises
    ------
    ParseError, SchemaError
    """
    obj = _load_json(data, path)
    if not isinstance(obj, dict) or not isinstance(obj.get("states"), list):
        raise SchemaError("an OpenSky states response has a 'states' list", path=path)
    pts = _Points(path)
    for k, s in enumerate(obj["states"], start=1):
        if not isinstance(s, list) or len(s) < 11:
            pts.rejects.add(path, k, _raw(s), "bad_row", "a state is a list of 17 values")
            continue
        icao = str(s[0] or "").strip().lower()
        if not icao:
            pts.rejects.add(path, k, _raw(s), "missing_id", "icao24 is empty")
            continue
        if s[3] is None:
            pts.rejects.add(path, k, _raw(s), "missing_time", "time_position is null")
            continue
        try:
            t_s = _num(s[3])
        except ValueError:
            pts.rejects.add(path, k, _raw(s), "bad_time", f"time_position {s[3]!r}")
            continue
        pos = pts.check(k, s, s[6], s[5])
        if pos is None:
            continue
        vals = []
        for j in (7, 9, 10):
            try:
                vals.append(_num(s[j]))
            except ValueError:
                vals.append(math.nan)
        pts.t.append(round(t_s * NS_PER_S))
        pts.lat.append(pos[0])
        pts.lon.append(pos[1])
        pts.alt.append(vals[0])
        pts.spd.append(vals[1])
        pts.hdg.append(vals[2])
        pts.line.append(k)
        pts.ids.append(icao)
        pts.brk.append(False)
        pts.callsign.append(str(s[1] or "").strip())
    return FileRead(
        fixes=pts.table(),
        rejects=pts.rejects,
        n_read=len(obj["states"]),
        fmt="opensky-json",
        raw_line=_item_getter(obj["states"]),
        columns={
            "track_id": "icao24",
            "time": "time_position (epoch s)",
            "altitude": "baro_altitude (m)",
            "speed": "velocity (m/s)",
            "heading": "true_track (deg)",
        },
        notes=[f"{path}: rows are OpenSky states numbered from 1"],
    )
