"""What the HTML report and the PNG map show, computed once from tracks, zones and events.

Both renderers read a :class:`ReportModel`: the same colours, zone outlines, track
geometry, event times (UTC and the claimants' local time) and map points. Events are
handled generically by their ``kind`` column, so a new detector's events plug in: their
time span, tracks, position and evidence are found from well-known column names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from ..core.events import Events
from ..core.geodesy import fwd
from ..core.tracks import Tracks
from ..core.zones import Zone, Zones, kind_phrase
from ..units import NS_PER_S
from ._land import Land, load_land

__all__ = [
    "CLAIMANT_TIME_ZONES",
    "HIGHLIGHT_COLOR",
    "MAX_DISPLAY_FIXES",
    "OPERATOR_PALETTE",
    "ZONE_KIND_COLORS",
    "EventView",
    "MapPoint",
    "ReportModel",
    "TrackView",
    "ZoneView",
    "build_model",
    "fmt_duration",
    "fmt_km",
    "fmt_local",
    "fmt_utc",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

OPERATOR_PALETTE = (
    "#1f5fa8",  # blue
    "#2e9a45",  # green
    "#7b4fb0",  # purple
    "#8c5a2b",  # brown
    "#d0489b",  # pink
    "#1597a6",  # teal
    "#8a8d13",  # olive
    "#4d4d4d",  # grey
    "#0b2e59",  # navy
    "#5fae9c",  # sea green
)
"""Track colours, assigned to operators in sorted order (red and orange are kept for
zones, gold for the highlight)."""

ZONE_KIND_COLORS: dict[str, str] = {
    "adiz": "#d9822b",
    "territorial": "#c62828",
    "contiguous": "#8e44ad",
    "eez": "#2874a6",
    "fir": "#6c7a89",
    "restricted": "#b03a2e",
    "danger": "#b9770e",
    "prohibited": "#7b241c",
    "strait": "#138d75",
    "feature": "#555555",
    "custom": "#34495e",
}
"""Zone outline colours by kind; other kinds use ``custom``'s."""

HIGHLIGHT_COLOR = "#ffd400"
"""Halo colour of the selected event (used for nothing else)."""

MAX_DISPLAY_FIXES = 200_000
"""Most fixes drawn in a report; above this each track is thinned evenly (the analysis
itself always uses every fix)."""

CLAIMANT_TIME_ZONES: dict[str, tuple[str, str]] = {
    "KOR": ("Asia/Seoul", "KST"),
    "PRK": ("Asia/Pyongyang", "PYT"),
    "JPN": ("Asia/Tokyo", "JST"),
    "CHN": ("Asia/Shanghai", "CST"),
    "TWN": ("Asia/Taipei", "TWT"),
    "MNG": ("Asia/Ulaanbaatar", "ULAT"),
    "PHL": ("Asia/Manila", "PHT"),
    "HKG": ("Asia/Hong_Kong", "HKT"),
    "MAC": ("Asia/Macau", "MOT"),
    "VNM": ("Asia/Ho_Chi_Minh", "ICT"),
}
"""Local time of a zone, from its claimants: ISO 3166 alpha-3 -> (IANA zone, label).
States spanning several time zones (RUS, USA) are absent: give such a zone a ``tz``
property (IANA name) to show its local time."""

START_COLUMNS = ("entry_time", "start_time", "t_start", "gap_start", "first_fix_time", "time")
END_COLUMNS = ("exit_time", "end_time", "t_end", "gap_end", "last_fix_time", "time")
MEMBER_COLUMNS = ("members", "track_ids")
OTHER_TRACK_COLUMNS = ("track_a", "track_b", "other_track_id", "track_id_b", "other_id")


# ============================================================================ formatting
def _round_s(t_ns: int) -> dt.datetime:
    secs = (t_ns + NS_PER_S // 2) // NS_PER_S
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=secs)


def fmt_utc(t_ns: int | None, *, date: bool = True) -> str:
    """UTC time rounded to the second: ``2019-07-23 00:09:01Z`` (``00:09:01Z`` without date).

    Examples
    --------
    >>> fmt_utc(1_563_840_541_313_707_432)
    '2019-07-23 00:09:01Z'
    >>> fmt_utc(None)
    ''
    """
    if t_ns is None:
        return ""
    d = _round_s(t_ns)
    return d.strftime("%Y-%m-%d %H:%M:%SZ" if date else "%H:%M:%SZ")


@dataclass(frozen=True)
class LocalZone:
    """A local time zone to show beside UTC: IANA name and label (``KST``)."""

    iana: str
    label: str


@lru_cache(maxsize=64)
def _zoneinfo(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    h, m = divmod(abs(seconds) // 60, 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def fmt_local(t_ns: int | None, zones: Sequence[LocalZone], *, date: bool = True) -> str:
    """The local wall-clock time(s) of ``t_ns`` in ``zones``, merged where equal.

    Examples
    --------
    >>> kst, jst = LocalZone("Asia/Seoul", "KST"), LocalZone("Asia/Tokyo", "JST")
    >>> fmt_local(1_563_840_541_313_707_432, [kst, jst])
    '2019-07-23 09:09:01 KST/JST (UTC+9)'
    """
    if t_ns is None or not zones:
        return ""
    d = _round_s(t_ns)
    groups: dict[tuple[str, int], list[str]] = {}
    for z in zones:
        info = _zoneinfo(z.iana)
        if info is None:
            continue
        local = d.astimezone(info)
        off = local.utcoffset()
        off_s = int(off.total_seconds()) if off is not None else 0
        text = local.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
        groups.setdefault((text, off_s), [])
        if z.label not in groups[(text, off_s)]:
            groups[(text, off_s)].append(z.label)
    return "; ".join(
        f"{text} {'/'.join(labels)} ({_offset_text(off)})" for (text, off), labels in groups.items()
    )


def fmt_duration(seconds: float | None) -> str:
    """A duration for people: ``45 s``, ``3.0 min``, ``2 h 03 min``.

    Examples
    --------
    >>> fmt_duration(177.8), fmt_duration(7380.0), fmt_duration(None)
    ('3.0 min', '2 h 03 min', '')
    """
    if seconds is None or not math.isfinite(seconds):
        return ""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def fmt_km(metres: float | None) -> str:
    """A distance in km with one decimal (``13.0 km``); metres below 1 km.

    Examples
    --------
    >>> fmt_km(12995.5), fmt_km(640.0)
    ('13.0 km', '640 m')
    """
    if metres is None or not math.isfinite(metres):
        return ""
    if metres < 1000:
        return f"{metres:.0f} m"
    return f"{metres / 1000:.1f} km"


# ============================================================================ views
@dataclass(frozen=True)
class TrackView:
    """One track as drawn: its fixes (possibly thinned), attributes and colour."""

    track_id: str
    operator: str
    type: str
    callsign: str
    color: str
    t_ns: I64
    lon_deg: F64
    lat_deg: F64
    n_fixes: int

    def position_at(self, t_ns: int) -> tuple[float, float] | None:
        """Position at ``t_ns`` (linear in lon/lat between fixes, for display), or None
        outside the track's time span."""
        if self.t_ns.size == 0 or t_ns < self.t_ns[0] or t_ns > self.t_ns[-1]:
            return None
        t = float(t_ns)
        return (
            float(np.interp(t, self.t_ns.astype(np.float64), self.lon_deg)),
            float(np.interp(t, self.t_ns.astype(np.float64), self.lat_deg)),
        )


@dataclass(frozen=True)
class ZoneView:
    """One zone as drawn: outline rings (lon/lat), label position, provenance."""

    zone: Zone
    color: str
    rings: list[F64]  # each (n, 2) lon, lat
    holes: list[F64]
    lines: list[F64]  # open lines (a zone given only as a boundary line)
    outline: BaseGeometry  # the full display geometry (before clipping)
    label_lon: float
    label_lat: float
    reference_points: list[tuple[float, float]]
    local_zones: tuple[LocalZone, ...]

    @property
    def short_name(self) -> str:
        """The zone name cut to its first clause (for map labels)."""
        return short_name(self.zone.name)


def short_name(name: str, limit: int = 48) -> str:
    """Cut a long zone name at its first comma, then to ``limit`` characters.

    Examples
    --------
    >>> short_name("Korea Air Defense Identification Zone (KADIZ), as adjusted 8 Dec 2013")
    'Korea Air Defense Identification Zone (KADIZ)'
    """
    s = name.split(", ")[0] if len(name) > 40 else name
    return s if len(s) <= limit else s[: limit - 1] + "…"


@dataclass(frozen=True)
class MapPoint:
    """A point of an event on the map: ``role`` is entry, exit, closest, start or end."""

    lon_deg: float
    lat_deg: float
    role: str
    label: str


@dataclass
class EventView:
    """One event, with everything needed to show and explain it."""

    index: int
    kind: str
    row: dict[str, Any]
    tracks: list[str]
    what: str
    phrase: str
    t0_ns: int | None
    t1_ns: int | None
    evidence: str
    local_zones: tuple[LocalZone, ...]
    source_rows: list[tuple[str, int]]
    points: list[MapPoint] = field(default_factory=list)
    zone_id: str = ""
    zone_kind: str = ""
    claimants: tuple[str, ...] = ()
    caveat: str = ""

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end, None if either is unknown."""
        d = self.row.get("duration_s")
        if isinstance(d, int | float) and math.isfinite(d):
            return float(d)
        if self.t0_ns is not None and self.t1_ns is not None and self.kind != "crossing":
            return (self.t1_ns - self.t0_ns) / NS_PER_S
        return None

    def bracket_text(self) -> str:
        """The fixes around each crossing, e.g. ``entry between 00:08:40Z and 00:09:26Z``."""
        parts = []
        for which in ("entry", "exit"):
            a = self.row.get(f"{which}_bracket_start")
            b = self.row.get(f"{which}_bracket_end")
            if isinstance(a, int) and isinstance(b, int):
                if a == b:
                    parts.append(f"{which} at a fix ({fmt_utc(a, date=False)})")
                else:
                    parts.append(
                        f"{which} between fixes at {fmt_utc(a, date=False)} and "
                        f"{fmt_utc(b, date=False)} ({(b - a) / NS_PER_S:.0f} s apart)"
                    )
        visit = self.kind == "crossing" and self.evidence in ("observed", "interpolated")
        if visit and self.row.get("entry_time") is None and self.t0_ns is not None:
            parts.insert(0, "inside at the track's first fix")
        if visit and self.row.get("exit_time") is None and self.t1_ns is not None:
            parts.append("still inside at the track's last fix")
        return "; ".join(parts)

    def bracket_width_s(self) -> float | None:
        """Largest gap between the fixes bracketing the entry or exit, seconds."""
        widths = []
        for which in ("entry", "exit"):
            a = self.row.get(f"{which}_bracket_start")
            b = self.row.get(f"{which}_bracket_end")
            if isinstance(a, int) and isinstance(b, int):
                widths.append((b - a) / NS_PER_S)
        return max(widths) if widths else None


@dataclass
class ReportModel:
    """Everything a report shows."""

    title: str
    tracks: list[TrackView]
    zones: list[ZoneView]
    events: list[EventView]
    extent: tuple[float, float, float, float]  # west, south, east, north
    land: Land
    operator_colors: dict[str, str]
    local_zones: tuple[LocalZone, ...]
    t_start_ns: int
    t_end_ns: int
    n_fixes: int
    notes: list[str]
    sources: tuple[str, ...]
    lat0_deg: float

    def zone_view(self, zone_id: str) -> ZoneView | None:
        """The view of a zone by id."""
        for z in self.zones:
            if z.zone.id == zone_id:
                return z
        return None


# ============================================================================ building
def _zone_local(zone: Zone) -> tuple[LocalZone, ...]:
    out: list[LocalZone] = []
    tz = zone.properties.get("tz") if isinstance(zone.properties, Mapping) else None
    if isinstance(tz, str) and _zoneinfo(tz) is not None:
        out.append(LocalZone(tz, tz.split("/")[-1].replace("_", " ")))
    for c in zone.claimants:
        if c in CLAIMANT_TIME_ZONES:
            iana, label = CLAIMANT_TIME_ZONES[c]
            if _zoneinfo(iana) is not None:
                out.append(LocalZone(iana, label))
    return tuple(out)


def _circles(lon: F64, lat: F64, radius_m: float, n: int = 96) -> list[Polygon]:
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats = fwd(lon[:, None], lat[:, None], az[None, :], np.full((1, n), radius_m))
    return [Polygon(np.column_stack([a, b])) for a, b in zip(lons, lats, strict=True)]


def _buffer_outline(geom: BaseGeometry, radius_m: float) -> BaseGeometry:
    """Display outline of a geodesic buffer: union of geodesic circles around the feature's
    vertices, densified to a tenth of the radius (plus the feature's own area)."""
    step_deg = max(radius_m / 10.0 / 111_000.0, 1e-4)
    dense = shapely.segmentize(geom, step_deg) if geom.geom_type != "Point" else geom
    xy = shapely.get_coordinates(dense)
    parts: list[BaseGeometry] = list(_circles(xy[:, 0], xy[:, 1], radius_m))
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        parts.append(geom)
    return shapely.union_all(parts)


def _rings(geom: BaseGeometry) -> tuple[list[F64], list[F64], list[F64]]:
    outer: list[F64] = []
    holes: list[F64] = []
    lines: list[F64] = []
    polys: list[Polygon] = []
    if isinstance(geom, Polygon):
        polys = [geom]
    elif isinstance(geom, MultiPolygon):
        polys = list(geom.geoms)
    elif geom.geom_type in ("LineString", "MultiLineString", "GeometryCollection"):
        for g in getattr(geom, "geoms", [geom]):
            if isinstance(g, Polygon):
                polys.append(g)
            elif g.geom_type == "LineString":
                lines.append(np.asarray(g.coords, dtype=np.float64)[:, :2])
    for p in polys:
        outer.append(np.asarray(p.exterior.coords, dtype=np.float64)[:, :2])
        holes.extend(np.asarray(r.coords, dtype=np.float64)[:, :2] for r in p.interiors)
    return outer, holes, lines


def _zone_view(zone: Zone) -> ZoneView:
    color = ZONE_KIND_COLORS.get(zone.kind, ZONE_KIND_COLORS["custom"])
    ref_pts: list[tuple[float, float]] = []
    if zone.is_buffer:
        outline = _buffer_outline(zone.geometry, zone.buffer_m)
        if zone.geometry.geom_type in ("Point", "MultiPoint"):
            xy = shapely.get_coordinates(zone.geometry)
            ref_pts = [(float(x), float(y)) for x, y in xy]
    else:
        outline = zone.geometry
        if zone.reference is not None and zone.reference.geom_type in ("Point", "MultiPoint"):
            xy = shapely.get_coordinates(zone.reference)
            ref_pts = [(float(x), float(y)) for x, y in xy]
    rings, holes, lines = _rings(outline)
    if zone.is_buffer:
        minx, _miny, maxx, maxy = outline.bounds
        label = ((minx + maxx) / 2.0, maxy)
    else:
        rp = (
            outline.representative_point()
            if not outline.is_empty and outline.geom_type in ("Polygon", "MultiPolygon")
            else (outline.interpolate(0.5, normalized=True) if not outline.is_empty else None)
        )
        label = (rp.x, rp.y) if rp is not None else (0.0, 0.0)
    return ZoneView(
        zone=zone,
        color=color,
        rings=rings,
        holes=holes,
        lines=lines,
        outline=outline,
        label_lon=float(label[0]),
        label_lat=float(label[1]),
        reference_points=ref_pts,
        local_zones=_zone_local(zone),
    )


def _clip_view(zv: ZoneView, extent: tuple[float, float, float, float]) -> ZoneView:
    """The zone's outline clipped to the map (padded by half its size) and simplified to
    about 1/2500 of the map's span, so big catalog polygons stay light."""
    west, south, east, north = extent
    span = max(east - west, north - south)
    clip = shapely.box(west - span / 2, south - span / 2, east + span / 2, north + span / 2)
    outline = zv.outline
    n = shapely.get_num_coordinates(outline)
    if not outline.within(clip):
        outline = shapely.intersection(outline, clip)
    if n > 2000:
        outline = shapely.simplify(outline, span / 2500.0, preserve_topology=True)
    if outline is zv.outline:
        return zv
    rings, holes, lines = _rings(outline)
    label = (zv.label_lon, zv.label_lat)
    if not (west <= label[0] <= east and south <= label[1] <= north) and not zv.zone.is_buffer:
        inner = shapely.intersection(outline, shapely.box(west, south, east, north))
        if not inner.is_empty and inner.geom_type in ("Polygon", "MultiPolygon"):
            rp = inner.representative_point()
            label = (rp.x, rp.y)
    return dataclasses.replace(
        zv, rings=rings, holes=holes, lines=lines, label_lon=label[0], label_lat=label[1]
    )


def _operator_colors(tracks: Tracks) -> dict[str, str]:
    ops = sorted({str(o) for o in tracks.attr("operator")})
    return {op: OPERATOR_PALETTE[i % len(OPERATOR_PALETTE)] for i, op in enumerate(ops)}


def _track_views(tracks: Tracks, colors: Mapping[str, str]) -> tuple[list[TrackView], bool]:
    n = len(tracks)
    step = max(1, math.ceil(n / MAX_DISPLAY_FIXES))
    ops = tracks.attr("operator")
    types = tracks.attr("type")
    calls = tracks.attr("callsign")
    out = []
    for k in range(tracks.n_tracks):
        a, b = int(tracks.offsets[k]), int(tracks.offsets[k + 1])
        idx = np.arange(a, b, step, dtype=np.int64)
        if b > a and idx[-1] != b - 1:
            idx = np.append(idx, b - 1)
        out.append(
            TrackView(
                track_id=str(tracks.track_ids[k]),
                operator=str(ops[k]),
                type=str(types[k]),
                callsign=str(calls[k]),
                color=colors.get(str(ops[k]), OPERATOR_PALETTE[0]),
                t_ns=tracks.t_ns[idx],
                lon_deg=tracks.lon_deg[idx],
                lat_deg=tracks.lat_deg[idx],
                n_fixes=b - a,
            )
        )
    return out, step > 1


def _rows(events: Events) -> list[dict[str, Any]]:
    """Event rows as dicts, times as int64 ns (None where null)."""
    table = events.to_arrow()
    cols: dict[str, list[Any]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_timestamp(column.type):
            cols[name] = column.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_pylist()
        else:
            cols[name] = column.to_pylist()
    return [{k: cols[k][i] for k in cols} for i in range(table.num_rows)]


def _first(row: Mapping[str, Any], names: Sequence[str]) -> int | None:
    for name in names:
        v = row.get(name)
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return None


def _split_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v not in (None, "")]
    return [s for s in str(value).split(";") if s]


def parse_source_rows(text: Any) -> list[tuple[str, int]]:
    """``file:line;file:line`` (or a list of them) to ``[(file, line), ...]``.

    Examples
    --------
    >>> parse_source_rows("a/tracks.csv:12;a/tracks.csv:13;bad")
    [('a/tracks.csv', 12), ('a/tracks.csv', 13)]
    """
    out: list[tuple[str, int]] = []
    for item in _split_list(text):
        path, _, line = item.rpartition(":")
        if path and line.isdigit():
            out.append((path, int(line)))
    return out


def _num(row: Mapping[str, Any], name: str) -> float | None:
    v = row.get(name)
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _event_view(
    i: int,
    row: dict[str, Any],
    zones: Mapping[str, ZoneView],
    report_local: tuple[LocalZone, ...],
) -> EventView:
    kind = str(row.get("kind") or "event")
    evidence = str(row.get("evidence") or "")
    tracks: list[str] = []
    for name in MEMBER_COLUMNS:
        if name in row and row[name] not in (None, ""):
            tracks = _split_list(row[name])
            break
    if not tracks:
        tracks = _split_list(row.get("track_id"))
    for name in OTHER_TRACK_COLUMNS:
        tracks += [t for t in _split_list(row.get(name)) if t not in tracks]
    t0 = _first(row, START_COLUMNS)
    t1 = _first(row, END_COLUMNS)
    if t0 is None and t1 is None:
        t0 = t1 = _first(row, ("closest_time",))
    elif t0 is None:
        t0 = t1
    elif t1 is None:
        t1 = t0
    zone_id = str(row.get("zone_id") or "")
    zv = zones.get(zone_id)
    claimants = tuple(_split_list(row.get("claimants")))
    zone_kind = str(row.get("zone_kind") or "")
    local = zv.local_zones if zv is not None and zv.local_zones else report_local
    points: list[MapPoint] = []
    if kind == "crossing":
        what = str(row.get("zone_name") or zone_id)
        phrase = kind_phrase(zone_kind, claimants)
        for role in ("entry", "exit"):
            lon, lat = _num(row, f"{role}_lon"), _num(row, f"{role}_lat")
            t = row.get(f"{role}_time")
            if lon is not None and lat is not None and isinstance(t, int):
                points.append(MapPoint(lon, lat, role, f"{role} {fmt_utc(t, date=False)}"))
        lon, lat = _num(row, "closest_lon"), _num(row, "closest_lat")
        closest = _num(row, "closest_m")
        if lon is not None and lat is not None and closest is not None:
            points.append(MapPoint(lon, lat, "closest", fmt_km(closest)))
    else:
        what = _generic_what(kind, row, tracks)
        phrase = kind
        for role, label in (("start", "start"), ("end", "end")):
            lon, lat = _num(row, f"{role}_lon"), _num(row, f"{role}_lat")
            t = t0 if role == "start" else t1
            if lon is not None and lat is not None:
                word = _change_word(kind, row, role) or label
                points.append(MapPoint(lon, lat, role, f"{word} {fmt_utc(t, date=False)}"))
        lon, lat = _num(row, "closest_lon"), _num(row, "closest_lat")
        closest = _num(row, "closest_m")
        if lon is not None and lat is not None and closest is not None:
            points.append(MapPoint(lon, lat, "closest", fmt_km(closest)))
    return EventView(
        index=i,
        kind=kind,
        row=row,
        tracks=tracks,
        what=what,
        phrase=phrase,
        t0_ns=t0,
        t1_ns=t1,
        evidence=evidence,
        local_zones=local,
        source_rows=parse_source_rows(row.get("source_rows")),
        points=points,
        zone_id=zone_id,
        zone_kind=zone_kind,
        claimants=claimants,
        caveat=str(row.get("zone_caveat") or ""),
    )


def _change_word(kind: str, row: Mapping[str, Any], role: str) -> str:
    value = row.get(f"{role}_change")
    if isinstance(value, str) and value:
        return value
    if kind == "formation":
        return "joined" if role == "start" else "split"
    if kind == "gap":
        return "last fix" if role == "start" else "next fix"
    return ""


def _generic_what(kind: str, row: Mapping[str, Any], tracks: Sequence[str]) -> str:
    if kind == "formation":
        ops = _split_list(row.get("operators"))
        joint = row.get("joint")
        label = "joint formation" if joint else "formation"
        group = row.get("group_id")
        ep = row.get("episode")
        tag = f" (group {group}, episode {ep})" if group is not None else ""
        return (
            f"{label} of {len(tracks)}: {', '.join(tracks)}"
            + (f" — {' and '.join(ops)}" if ops else "")
            + tag
        )
    if kind == "gap":
        return "no position reports"
    if kind == "encounter":
        return "encounter: " + " and ".join(tracks)
    return kind.replace("_", " ")


def _extent(
    tracks: Sequence[TrackView], zones: Sequence[ZoneView]
) -> tuple[float, float, float, float]:
    xs: list[F64] = [t.lon_deg for t in tracks if t.lon_deg.size]
    ys: list[F64] = [t.lat_deg for t in tracks if t.lat_deg.size]
    if xs:
        west, east = float(min(x.min() for x in xs)), float(max(x.max() for x in xs))
        south, north = float(min(y.min() for y in ys)), float(max(y.max() for y in ys))
    else:
        rings = [r for z in zones for r in z.rings]
        if not rings:
            return (120.0, 30.0, 140.0, 45.0)
        allxy = np.concatenate(rings)
        west, south = (float(v) for v in allxy.min(axis=0))
        east, north = (float(v) for v in allxy.max(axis=0))
    # include buffer zones near the tracks (small) fully; big zones only where tracks are
    for z in zones:
        if z.zone.is_buffer and z.rings:
            allxy = np.concatenate(z.rings)
            w, s = allxy.min(axis=0)
            e, n = allxy.max(axis=0)
            if w < east + 2 and e > west - 2 and s < north + 2 and n > south - 2:
                west, south = min(west, float(w)), min(south, float(s))
                east, north = max(east, float(e)), max(north, float(n))
    pad_x = max((east - west) * 0.06, 0.2)
    pad_y = max((north - south) * 0.06, 0.2)
    return (
        max(west - pad_x, -180.0),
        max(south - pad_y, -85.0),
        min(east + pad_x, 180.0),
        min(north + pad_y, 85.0),
    )


def build_model(
    events: Events,
    tracks: Tracks,
    zones: Zones,
    *,
    title: str = "patrolwatch report",
    notes: Sequence[str] = (),
) -> ReportModel:
    """Compute what the report shows.

    Parameters
    ----------
    events : Events
        Any kinds; rows are shown in the given order.
    tracks : Tracks
    zones : Zones
    title : str
    notes : sequence of str
        Notes to show (e.g. a detector that was not run, and why).

    Returns
    -------
    ReportModel
    """
    colors = _operator_colors(tracks)
    tviews, thinned = _track_views(tracks, colors)
    zviews = [_zone_view(z) for z in zones]
    zmap = {z.zone.id: z for z in zviews}
    rows = _rows(events)
    used_zone_ids = {str(r.get("zone_id")) for r in rows if r.get("zone_id")}
    report_local: list[LocalZone] = []
    for z in zviews:
        if z.zone.id in used_zone_ids or not used_zone_ids:
            report_local += [lz for lz in z.local_zones if lz not in report_local]
    evs = [_event_view(i, r, zmap, tuple(report_local)) for i, r in enumerate(rows)]
    all_notes = list(notes)
    if thinned:
        all_notes.append(
            f"The map draws every {math.ceil(len(tracks) / MAX_DISPLAY_FIXES)}th fix "
            f"({len(tracks)} fixes in all); the analysis used every fix."
        )
    if len(tracks):
        t_start, t_end = int(tracks.t_ns.min()), int(tracks.t_ns.max())
    else:
        times = [t for e in evs for t in (e.t0_ns, e.t1_ns) if t is not None]
        t_start, t_end = (min(times), max(times)) if times else (0, 0)
    extent = _extent(tviews, zviews)
    zviews = [_clip_view(z, extent) for z in zviews]
    west, south, east, north = extent
    span = max(east - west, north - south)
    land = load_land(west, south, east, north, tolerance_deg=span / 2500.0)
    return ReportModel(
        title=title,
        tracks=tviews,
        zones=zviews,
        events=evs,
        extent=extent,
        land=land,
        operator_colors=colors,
        local_zones=tuple(report_local),
        t_start_ns=t_start,
        t_end_ns=t_end,
        n_fixes=len(tracks),
        notes=all_notes,
        sources=tuple(tracks.sources),
        lat0_deg=(south + north) / 2.0,
    )


def display_path(path: str) -> str:
    """The file name of a path (what reports show; the full path is in the provenance)."""
    return os.path.basename(path) or path
