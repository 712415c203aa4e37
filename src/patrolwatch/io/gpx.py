"""GPX 1.0 / 1.1 tracks: each ``trkpt`` a fix, each ``trk`` a track.

Rows
----
A row is a point element: ``trkpt`` (a fix candidate), ``wpt`` and ``rtept`` (rejected as
``unsupported_type``: waypoints and planned routes are not a recorded movement). Its
line is the line of the element's start tag.

Values
------
- Track id: the ``trk``'s ``<name>``; ``trk<k>`` (1-based) when it has none; a name used
  by an earlier ``trk`` gets `` [trk <k>]``.
- Time: ``<time>``, ISO 8601. The GPX specification says times are UTC, so a time
  without zone is UTC unless ``assume_tz`` is given (stated in the notes).
- Altitude ``<ele>`` (m), and GPX 1.0 ``<speed>`` (m/s) and ``<course>`` (deg).
- Each ``trkseg`` after the first of its ``trk`` starts a new leg (GPX: "start a new
  Track Segment for each continuous span of track data"); cleaning names it ``ID#2``.
- Rejects: ``missing_time``, ``bad_time``, ``missing_coordinate``, ``bad_coordinate``,
  ``lat_out_of_range``, ``lon_out_of_range``.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from ._fixes import CLASS_OTHER, FileRead, FixTable
from ._rejects import Rejects
from ._times import TIME_AMBIGUOUS, TIME_BAD, TIME_MISSING, TIME_OK, parse_times
from ._xml import Node, parse_xml

__all__ = ["PointRows", "read_gpx"]


def _float(text: str | None) -> float:
    if text is None or not text.strip():
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


class PointRows:
    """Point rows collected from an XML document; times parsed at the end, vectorized."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.ids: list[str] = []
        self.time: list[str | None] = []
        self.lat: list[str | None] = []
        self.lon: list[str | None] = []
        self.alt: list[float] = []
        self.spd: list[float] = []
        self.hdg: list[float] = []
        self.line: list[int] = []
        self.raw: list[str] = []
        self.brk: list[bool] = []
        self.t_given: list[int | None] = []
        self.rejects = Rejects()
        self.n_read = 0

    def add(
        self,
        track_id: str,
        line: int,
        raw: str,
        lat: str | None,
        lon: str | None,
        time: str | None,
        *,
        alt_m: float = math.nan,
        speed_mps: float = math.nan,
        heading_deg: float = math.nan,
        new_leg: bool = False,
        t_ns: int | None = None,
    ) -> None:
        self.n_read += 1
        self.ids.append(track_id)
        self.line.append(line)
        self.raw.append(raw)
        self.lat.append(lat)
        self.lon.append(lon)
        self.time.append(time)
        self.alt.append(alt_m)
        self.spd.append(speed_mps)
        self.hdg.append(heading_deg)
        self.brk.append(new_leg)
        self.t_given.append(t_ns)

    def reject(self, line: int, raw: str, reason: str, message: str) -> None:
        self.n_read += 1
        self.rejects.add(self.path, line, raw, reason, message)

    def finish(self, assume_tz: str | None, notes: list[str], vclass: int) -> FixTable:
        """Check coordinates and times; reject bad rows; the candidates as a table."""
        n = len(self.ids)
        texts = [
            "" if (s is None or g is not None) else s
            for s, g in zip(self.time, self.t_given, strict=True)
        ]
        tp = parse_times(pa.array(texts, pa.string()), assume_tz=assume_tz or "UTC")
        t = tp.t_ns.copy()
        status = tp.status.copy()
        for i, g in enumerate(self.t_given):
            if g is not None:
                t[i], status[i] = g, TIME_OK
        if tp.n_naive and assume_tz is None:
            notes.append(
                f"{self.path}: {tp.n_naive} times without zone read as UTC (the format says so)"
            )
        lat = np.array([_float(x) for x in self.lat]) if n else np.zeros(0)
        lon = np.array([_float(x) for x in self.lon]) if n else np.zeros(0)
        keep = np.zeros(n, dtype=bool)
        for i in range(n):
            la, lo = self.lat[i], self.lon[i]
            reason = ""
            if la is None or lo is None or not la.strip() or not lo.strip():
                reason, msg = "missing_coordinate", "lat or lon is missing"
            elif not (math.isfinite(lat[i]) and math.isfinite(lon[i])):
                reason, msg = "bad_coordinate", f"lat {la!r}, lon {lo!r} is not a number"
            elif abs(lat[i]) > 90:
                reason, msg = "lat_out_of_range", f"latitude {la} outside [-90, 90]"
            elif abs(lon[i]) > 180:
                reason, msg = "lon_out_of_range", f"longitude {lo} outside [-180, 180]"
            elif status[i] == TIME_MISSING:
                reason, msg = "missing_time", "the point has no time"
            elif status[i] in (TIME_BAD, TIME_AMBIGUOUS) or status[i] != TIME_OK:
                reason = "bad_time" if status[i] != TIME_AMBIGUOUS else "ambiguous_time"
                msg = f"cannot read time {self.time[i]!r} (ISO 8601 expected)"
            if reason:
                self.rejects.add(self.path, self.line[i], self.raw[i], reason, msg)
            else:
                keep[i] = True
        idx = np.flatnonzero(keep)
        brk = np.asarray(self.brk, dtype=bool)
        # a new leg flag on a rejected point moves to the next kept point of the track
        if n and brk.any():
            ids = np.asarray(self.ids, dtype=str)
            carry = False
            for i in range(n):
                if i and ids[i] != ids[i - 1]:
                    carry = False
                carry |= bool(brk[i])
                if keep[i]:
                    brk[i] = carry
                    carry = False
        return FixTable.build(
            np.asarray(self.ids, dtype=str)[idx] if n else np.zeros(0, dtype=str),
            t[idx],
            lon[idx],
            lat[idx],
            np.asarray(self.line, dtype=np.int64)[idx],
            vclass=vclass,
            alt_m=np.asarray(self.alt)[idx],
            speed_mps=np.asarray(self.spd)[idx],
            heading_deg=np.asarray(self.hdg)[idx],
            break_before=brk[idx],
        )


def _raw(node: Node) -> str:
    parts = [f'{k}="{v}"' for k, v in node.attrs.items()]
    inner = " ".join(f"<{c.tag}>{c.text}</{c.tag}>" for c in node.children if c.text)
    return f"<{node.tag} {' '.join(parts)}>{inner}"[:300]


def read_gpx(data: bytes, *, path: str, assume_tz: str | None = None) -> FileRead:
    """Read a GPX file (see the module docstring).

    Raises
    ------
    ParseError
        Malformed or truncated XML.
    """
    root = parse_xml(data, path=path)
    rows = PointRows(path)
    notes: list[str] = []
    seen: set[str] = set()
    for k, trk in enumerate(root.iter("trk"), start=1):
        name_node = trk.find("name")
        name = name_node.text if name_node is not None and name_node.text else f"trk{k}"
        if name in seen:
            name = f"{name} [trk {k}]"
        seen.add(name)
        for s, seg in enumerate(trk.iter("trkseg")):
            for j, pt in enumerate(seg.iter("trkpt")):
                tnode, enode = pt.find("time"), pt.find("ele")
                snode, cnode = pt.find("speed"), pt.find("course")
                rows.add(
                    name,
                    pt.line,
                    _raw(pt),
                    pt.attrs.get("lat"),
                    pt.attrs.get("lon"),
                    tnode.text if tnode is not None else None,
                    alt_m=_float(enode.text if enode is not None else None),
                    speed_mps=_float(snode.text if snode is not None else None),
                    heading_deg=_float(cnode.text if cnode is not None else None),
                    new_leg=s > 0 and j == 0,
                )
    for tag, what in (("wpt", "a waypoint"), ("rtept", "a planned route point")):
        for pt in root.iter(tag):
            rows.reject(pt.line, _raw(pt), "unsupported_type", f"{what}, not a track point")
    fx = rows.finish(assume_tz, notes, CLASS_OTHER)
    fx.attrs["source"] = np.full(len(fx), "gpx", dtype="<U3")
    return FileRead(
        fixes=fx,
        rejects=rows.rejects,
        n_read=rows.n_read,
        fmt="gpx",
        columns={
            "track_id": "trk/name",
            "time": "trkpt/time",
            "lat": "trkpt@lat",
            "lon": "trkpt@lon",
            "altitude": "trkpt/ele (m)",
        },
        notes=notes,
    )
