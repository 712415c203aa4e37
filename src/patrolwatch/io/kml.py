"""KML / KMZ tracks: ``gx:Track``, ``LineString`` with a ``TimeSpan``, timed ``Point``s.

Rows
----
- ``gx:Track``: each ``gx:coord`` is a row (its line), paired in order with the ``when``
  of the same index; a ``when`` without coordinate is a ``missing_coordinate`` row, a
  coordinate without ``when`` a ``missing_time`` row. Each ``gx:Track`` of a
  ``gx:MultiTrack`` after the first starts a new leg.
- ``LineString``: each vertex of ``coordinates`` is a row (the line of the
  ``coordinates`` element). With the Placemark's ``TimeSpan`` (``begin`` and ``end``)
  the vertices are timed by the distance travelled along the line, at constant speed from
  ``begin`` to ``end`` (stated in the notes: these times are interpolated, not observed).
  Without a ``TimeSpan`` (or with a single ``TimeStamp``) the vertices have no time of
  their own and are rejected as ``missing_time``. The LineStrings of one
  ``MultiGeometry`` after the first start new legs.
- ``Point`` with a ``TimeStamp``: one row, one fix; without a time: ``missing_time``.

Track id: the Placemark's ``<name>``; for timed Points, the enclosing ``Folder``'s name
(one Point per fix is how such files list a track), else the Placemark's; otherwise
``placemark<k>``. Coordinates are ``lon,lat[,alt]`` (``gx:coord``: ``lon lat alt``),
altitude in metres. Times without zone are UTC (the KML specification's ``dateTime``
without offset is UTC) unless ``assume_tz`` says otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from pyproj import Geod

from ..units import NS_PER_S
from ._fixes import CLASS_OTHER, FileRead
from ._times import TIME_OK, parse_times
from ._xml import Node, parse_xml
from .gpx import PointRows

__all__ = ["read_kml"]

import pyarrow as pa


def _name(node: Node | None) -> str:
    if node is None:
        return ""
    n = node.find("name")
    return n.text if n is not None else ""


def _ancestor_name(node: Node, tag: str) -> str:
    p = node.parent
    while p is not None:
        if p.tag == tag and _name(p):
            return _name(p)
        p = p.parent
    return ""


def _one_time(text: str, assume_tz: str | None) -> int | None:
    tp = parse_times(pa.array([text], pa.string()), assume_tz=assume_tz or "UTC")
    return int(tp.t_ns[0]) if tp.status[0] == TIME_OK else None


def _coords(text: str) -> list[list[str]]:
    return [c.split(",") for c in text.split()]


def read_kml(data: bytes, *, path: str, assume_tz: str | None = None) -> FileRead:
    """Read a KML document (a KMZ arrives here unzipped; see the module docstring).

    Raises
    ------
    ParseError
        Malformed or truncated XML.
    """
    root = parse_xml(data, path=path)
    rows = PointRows(path)
    notes: list[str] = []
    geod = Geod(ellps="WGS84")
    n_interp = 0
    for k, pm in enumerate(root.iter("Placemark"), start=1):
        own = _name(pm)
        default = own or _ancestor_name(pm, "Folder") or f"placemark{k}"
        tracks = pm.iter("Track")
        for j, tr in enumerate(tracks):
            whens = [w for w in tr.children if w.tag == "when"]
            coords = [c for c in tr.children if c.tag == "coord"]
            for q in range(max(len(whens), len(coords))):
                w = whens[q] if q < len(whens) else None
                c = coords[q] if q < len(coords) else None
                line = c.line if c is not None else w.line  # type: ignore[union-attr]
                raw = (
                    f"<when>{w.text if w else ''}</when><gx:coord>{c.text if c else ''}</gx:coord>"
                )
                if c is None:
                    rows.reject(line, raw, "missing_coordinate", "a <when> without <gx:coord>")
                    continue
                parts = c.text.split()
                rows.add(
                    default,
                    line,
                    raw,
                    parts[1] if len(parts) > 1 else None,
                    parts[0] if parts else None,
                    w.text if w is not None else None,
                    alt_m=float(parts[2]) if len(parts) > 2 and _isnum(parts[2]) else math.nan,
                    new_leg=j > 0 and q == 0,
                )
        for j, ls in enumerate(pm.iter("LineString")):
            cnode = ls.find("coordinates")
            if cnode is None:
                continue
            verts = _coords(cnode.text)
            span = pm.find("TimeSpan")
            begin = end = None
            if span is not None:
                b, e = span.find("begin"), span.find("end")
                begin = _one_time(b.text, assume_tz) if b is not None else None
                end = _one_time(e.text, assume_tz) if e is not None else None
            if begin is None or end is None or end < begin:
                for v in verts:
                    rows.reject(
                        cnode.line,
                        ",".join(v),
                        "missing_time",
                        "a LineString vertex has no time of its own: give the Placemark a "
                        "TimeSpan (begin and end), or use gx:Track",
                    )
                continue
            lon = np.array([_f(v[0]) for v in verts])
            lat = np.array([_f(v[1]) if len(v) > 1 else math.nan for v in verts])
            ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
            times = _interpolate(geod, lon, lat, ok, begin, end)
            n_interp += int(ok.sum())
            for q, v in enumerate(verts):
                rows.add(
                    default,
                    cnode.line,
                    ",".join(v),
                    v[1] if len(v) > 1 else None,
                    v[0],
                    None,
                    alt_m=_f(v[2]) if len(v) > 2 else math.nan,
                    new_leg=j > 0 and q == 0,
                    t_ns=int(times[q]) if ok[q] else None,
                )
        for pt in pm.iter("Point"):
            cnode = pt.find("coordinates")
            if cnode is None:
                continue
            stamp = pm.find("TimeStamp")
            when = stamp.find("when") if stamp is not None else None
            pid = _ancestor_name(pm, "Folder") or default
            v = cnode.text.split(",")
            rows.add(
                pid,
                cnode.line,
                cnode.text,
                v[1] if len(v) > 1 else None,
                v[0],
                when.text if when is not None else None,
                alt_m=_f(v[2]) if len(v) > 2 else math.nan,
            )
    if n_interp:
        notes.append(
            f"{path}: {n_interp} LineString vertices timed by distance between their "
            "TimeSpan's begin and end (constant speed assumed: interpolated, not observed)"
        )
    fx = rows.finish(assume_tz, notes, CLASS_OTHER)
    fx.attrs["source"] = np.full(len(fx), "kml", dtype="<U3")
    return FileRead(
        fixes=fx,
        rejects=rows.rejects,
        n_read=rows.n_read,
        fmt="kml",
        unique_lines=False,
        columns={
            "track_id": "Placemark/name (Folder/name for timed Points)",
            "time": "gx:Track/when, TimeSpan (interpolated), TimeStamp/when",
            "lat": "coordinates",
            "lon": "coordinates",
            "altitude": "coordinates (m)",
        },
        notes=notes,
    )


def _isnum(s: str) -> bool:
    return math.isfinite(_f(s))


def _f(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        return math.nan


def _interpolate(
    geod: Geod, lon: np.ndarray, lat: np.ndarray, ok: np.ndarray, begin: int, end: int
) -> np.ndarray:
    """Vertex times at constant speed from ``begin`` to ``end`` (ns), by geodesic distance."""
    t = np.zeros(lon.size, dtype=np.int64)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return t
    if idx.size == 1:
        t[idx] = begin
        return t
    _, _, d = geod.inv(lon[idx[:-1]], lat[idx[:-1]], lon[idx[1:]], lat[idx[1:]])
    cum = np.concatenate(([0.0], np.cumsum(d)))
    frac = cum / cum[-1] if cum[-1] > 0 else np.linspace(0.0, 1.0, idx.size)
    t[idx] = begin + np.rint(frac * (end - begin)).astype(np.int64)
    _ = NS_PER_S
    return t
