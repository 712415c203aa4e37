"""Read zones from OpenAir airspace files (the glider/GA airspace format).

One airspace block (an ``AC`` line and the lines up to the next ``AC``) is one zone.
Records read:

- ``AC`` class (``R``, ``Q``, ``P``, ``CTR``, ``A``...``G``, ...), ``AY`` type (extended
  format), ``AN`` name, ``AI`` id (extended format; the id is ``AI``, else ``AN``),
  ``AL`` floor and ``AH`` ceiling (``FL95``, ``3500ft MSL``, ``1500 ft AGL``, ``900m``,
  ``SFC``/``GND``, ``UNL``), ``AF``/``AG`` frequency and station (kept in properties);
- ``DP`` polygon point (``DP 39:00:00 N 123:30:00 E``, also ``39:00.5 N``), ``DC`` circle
  of a radius in NM around the centre, ``DA radius, start, end`` arc (NM, degrees true)
  and ``DB lat lon, lat lon`` arc from point to point, around the centre set by
  ``V X=``, clockwise unless ``V D=-`` (reset to ``+`` by each ``AC``);
- ``*`` comments, ``AT`` label positions, ``SP``/``SB`` pen and brush, ``V Z=`` zoom
  (ignored). Airways (``DY``, ``V W=``) are not supported and are reported as errors.

Circles and arcs are drawn on the WGS84 ellipsoid (forward geodesic problem from the
centre) with vertices close enough that no chord lies more than :data:`ARC_TOLERANCE_M`
(10 m) inside the true arc. Polygon edges between points are geodesics
(``edges="geodesic"``). Vertical limits are converted to metres with their reference
kept (``Zone.floor_m``, ``Zone.floor_ref``), exactly as for GeoJSON zones.

Each block becomes a GeoJSON-like feature checked by the GeoJSON zone reader, so the
geometry rules (valid rings, antimeridian, ...) are the same. A bad line raises a
:class:`~patrolwatch.errors.ParseError` naming the file and line; with ``strict=False``
the bad block is skipped with a warning and counted (:class:`OpenAirResult`).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyproj

from ..core.zones import Zone, Zones
from ..errors import InputError, ParseError
from ..units import NM_M
from .geojson import _read_feature
from .zones_ogr import resolve_defaults

__all__ = [
    "ARC_TOLERANCE_M",
    "OPENAIR_SUFFIXES",
    "OpenAirResult",
    "is_openair",
    "read_openair",
    "read_openair_zones",
]

ARC_TOLERANCE_M = 10.0
"""Largest distance in metres between a drawn arc chord and the true (ellipsoidal) arc."""

OPENAIR_SUFFIXES: tuple[str, ...] = (".openair", ".air", ".txt")
"""File name endings read as OpenAir (``.txt`` only when the content looks like OpenAir)."""

_GEOD = pyproj.Geod(ellps="WGS84")
_ARC_MARGIN = 0.9
"""Fraction of the tolerance the step is chosen for (room for ellipsoidal flattening)."""

_KIND_BY_CODE: dict[str, str] = {
    "R": "restricted",
    "RESTRICTED": "restricted",
    "P": "prohibited",
    "PROHIBITED": "prohibited",
    "Q": "danger",
    "DANGER": "danger",
    "FIR": "fir",
    "UIR": "fir",
    "ADIZ": "adiz",
}
"""``AY`` (else ``AC``) codes with a zone kind; other classes (CTR, TMA, A-G, ...) are
given the reader's default kind and keep their class in ``properties["class"]``."""

_IGNORED = frozenset({"AT", "SP", "SB"})
_COORD = r"(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?(?::(\d+(?:\.\d+)?))?"
_POINT_RE = re.compile(rf"^\s*{_COORD}\s*([NS])\s*,?\s*{_COORD}\s*([EW])\s*$", re.IGNORECASE)
_FL_RE = re.compile(r"^FL\s*(\d+(?:\.\d+)?)$")
_HEIGHT_RE = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(FT|F|M|MTR)?\s*(AMSL|MSL|ALT|AGL|AGND|ASFC|SFC|GND)?$"
)
_GROUND = frozenset({"SFC", "GND", "0"})
_UNLIMITED = frozenset({"UNL", "UNLTD", "UNLIM", "UNLIMITED"})
_ALT_HELP = "write e.g. 'FL95', '3500ft MSL', '1500 ft AGL', '900m', 'SFC' or 'UNL'"
_POINT_HELP = "write it as '39:00:00 N 123:30:00 E' (or '39:00.5 N 123:30.25 E')"


@dataclass(frozen=True)
class OpenAirResult:
    """The zones of an OpenAir file and what was skipped (``strict=False``).

    Attributes
    ----------
    zones : Zones
        One zone per airspace block read, in file order.
    skipped : int
        Number of airspace blocks skipped because of an error (0 when strict).
    notes : tuple of str
        One message per skipped block (``file:line: reason``) and per renamed id.
    problems : tuple of InputError
        The error of each skipped block.
    """

    zones: Zones
    skipped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    problems: tuple[InputError, ...] = field(default_factory=tuple)


def is_openair(path: str) -> bool:
    """True when the first meaningful line of ``path`` is an OpenAir ``AC`` record."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for _, raw in zip(range(200), fh, strict=False):
                line = raw.strip()
                if not line or line.startswith("*"):
                    continue
                return bool(re.match(r"^AC\s", line + " "))
    except OSError:
        return False
    return False


def read_openair_zones(
    path: str | os.PathLike[str],
    *,
    strict: bool = True,
    kind: str | None = None,
    claimants: str | None = None,
) -> Zones:
    """Read the zones of an OpenAir file; see :func:`read_openair`."""
    return read_openair(path, strict=strict, kind=kind, claimants=claimants).zones


def read_openair(
    path: str | os.PathLike[str],
    *,
    strict: bool = True,
    kind: str | None = None,
    claimants: str | None = None,
) -> OpenAirResult:
    """Read an OpenAir airspace file, one zone per ``AC`` block.

    Parameters
    ----------
    path : str or path-like
        The OpenAir file (UTF-8, or Latin-1 as a fallback).
    strict : bool, default True
        Raise at the first bad line. When False, a bad block is skipped with a
        :class:`UserWarning`, counted in ``skipped`` and described in ``notes``.
    kind : str, optional
        Kind of blocks whose class/type has no zone kind (CTR, TMA, A-G, ...); default
        ``"custom"``. R, P, Q (and AY RESTRICTED, PROHIBITED, DANGER, FIR, ADIZ) keep
        their own kind.
    claimants : str, optional
        Claimants of every zone, as ``"KOR;JPN"``.

    Returns
    -------
    OpenAirResult

    Raises
    ------
    ParseError
        A line cannot be read (with the file and 1-based line).
    SchemaError, ZoneGeometryError
        A block's limits or polygon are invalid (with the line of its ``AC`` record).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> text = "AC R\\nAN R-1\\nAL SFC\\nAH FL95\\nV X=37:00:00 N 127:00:00 E\\nDC 5\\n"
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "r1.txt"
    ...     _ = p.write_text(text)
    ...     zone = read_openair(p).zones["R-1"]
    >>> zone.kind, zone.floor_ref, round(zone.ceiling_m, 1), zone.ceiling_ref
    ('restricted', 'GND', 2895.6, 'FL')
    """
    path_s = os.fspath(path)
    default_kind, default_claimants = resolve_defaults(path_s, kind, claimants)
    lines = _read_lines(path_s)
    blocks, stray = _split_blocks(lines, path_s)
    zones: list[Zone] = []
    notes: list[str] = []
    skipped = 0
    seen: dict[str, int] = {}
    problems: list[tuple[int, InputError]] = [(n, e) for n, e in stray]
    for start, block in blocks:
        try:
            feature = _block_feature(block, path_s)
            props = feature["properties"]
            base = str(props["id"])
            if base in seen:
                seen[base] += 1
                props["id"] = f"{base} ({seen[base]})"
                notes.append(
                    f"{path_s}:{start}: the name {base!r} is used again; this zone's id is "
                    f"{props['id']!r}"
                )
            else:
                seen[base] = 1
            zone = _read_feature(
                feature,
                len(zones),
                path_s,
                id_field="id",
                default_kind=default_kind,
                default_claimants=default_claimants,
            )
        except InputError as exc:
            located = exc
            if exc.line is None:
                located = type(exc)(exc.reason, path=path_s, line=start, feature=exc.feature)
            problems.append((start, located))
            continue
        zones.append(replace(zone, origin=f"{path_s}:{start}"))  # file:line of its AC
    problems.sort(key=lambda item: item[0])
    for _, problem in problems:
        if strict:
            raise problem
        skipped += 1
        notes.append(f"skipped an airspace block: {problem}")
        warnings.warn(f"skipped an airspace block: {problem}", UserWarning, stacklevel=2)
    return OpenAirResult(Zones(zones), skipped, tuple(notes), tuple(p for _, p in problems))


# --- lines and blocks ---------------------------------------------------------------------


def _read_lines(path: str) -> list[str]:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # older OpenAir files are often Latin-1
    return text.splitlines()


def _split_blocks(
    lines: list[str], path: str
) -> tuple[list[tuple[int, list[tuple[int, str]]]], list[tuple[int, ParseError]]]:
    """Blocks as (line of AC, [(line, text), ...]) and errors for lines before any AC."""
    blocks: list[tuple[int, list[tuple[int, str]]]] = []
    stray: list[tuple[int, ParseError]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("*"):
            continue
        if "*" in line:  # trailing comment
            line = line.split("*", 1)[0].rstrip()
        if _record(line) == "AC":
            blocks.append((number, [(number, line)]))
        elif blocks:
            blocks[-1][1].append((number, line))
        else:
            stray.append(
                (
                    number,
                    ParseError(
                        f"{line!r} comes before the first 'AC' record; every airspace starts "
                        "with 'AC <class>': add one, or comment the line out with '*'",
                        path=path,
                        line=number,
                    ),
                )
            )
    return blocks, stray


def _record(line: str) -> str:
    return line.split(None, 1)[0].upper() if line else ""


# --- one block ------------------------------------------------------------------------------


def _block_feature(block: list[tuple[int, str]], path: str) -> dict[str, Any]:
    """The GeoJSON-like feature of one airspace block; ParseError on a bad line."""
    props: dict[str, Any] = {}
    ring: list[tuple[float, float]] = []
    circle: list[tuple[float, float]] | None = None
    centre: tuple[float, float] | None = None
    clockwise = True
    start = block[0][0]

    def error(number: int, reason: str) -> ParseError:
        return ParseError(reason, path=path, line=number)

    for number, line in block:
        rec = _record(line)
        arg = line[len(rec) :].strip()
        if rec == "AC":
            if not arg:
                raise error(number, "'AC' has no class; write e.g. 'AC R' or 'AC CTR'")
            props["class"] = arg.upper()
        elif rec in ("AN", "AY", "AI", "AF", "AG"):
            key = {"AN": "name", "AY": "type", "AI": "openair_id", "AF": "frequency"}
            props[key.get(rec, "station")] = arg
        elif rec in ("AL", "AH"):
            which = "floor" if rec == "AL" else "ceiling"
            try:
                props[which] = _altitude(arg, which)
            except ValueError as exc:
                raise error(number, str(exc)) from None
            props[f"openair_{which}"] = arg
        elif rec == "V":
            var, _, value = arg.partition("=")
            var = var.strip().upper()
            value = value.strip()
            if var == "X":
                centre = _point(value, number, path)
            elif var == "D":
                if value not in ("+", "-"):
                    raise error(number, f"'V D={value}' must be 'V D=+' or 'V D=-'")
                clockwise = value == "+"
            elif var == "W":
                raise error(number, "airways ('V W=', 'DY') are not supported; remove the block")
            elif var != "Z":
                raise error(number, f"unknown variable 'V {var}='; use V X=, V D= (or V Z=)")
        elif rec == "DP":
            ring.append(_point(arg, number, path))
        elif rec in ("DC", "DA", "DB"):
            if centre is None:
                raise error(number, f"'{rec}' needs a centre: add 'V X=<lat> <lon>' before it")
            if rec == "DC":
                if circle is not None:
                    raise error(number, "a second 'DC' circle: give each circle its own 'AC' block")
                radius_m = _number(arg, number, path, "circle radius (NM)", True) * NM_M
                circle = _arc(centre, radius_m, radius_m, 0.0, 360.0, True)
            elif rec == "DA":
                parts = arg.split(",")
                if len(parts) != 3:
                    raise error(number, f"'DA {arg}' needs 'radius, start, end' (NM, degrees true)")
                radius_m = _number(parts[0], number, path, "arc radius (NM)", True) * NM_M
                a0 = _number(parts[1], number, path, "arc start angle (degrees)")
                a1 = _number(parts[2], number, path, "arc end angle (degrees)")
                ring.extend(_arc(centre, radius_m, radius_m, a0, a1, clockwise))
            else:
                parts = arg.split(",")
                if len(parts) != 2:
                    raise error(number, f"'DB {arg}' needs two points: 'DB <lat lon>, <lat lon>'")
                p0, p1 = _point(parts[0], number, path), _point(parts[1], number, path)
                ring.extend(_arc_between(centre, p0, p1, clockwise))
        elif rec == "DY":
            raise error(number, "airways ('DY') are not supported; remove the block")
        elif rec not in _IGNORED:
            raise error(
                number,
                f"unknown record {rec!r}; OpenAir records are AC, AN, AL, AH, AY, AI, DP, DC, "
                "DA, DB, V, AT, SP, SB (comment lines start with '*')",
            )
    for needed, what in (
        ("name", "AN <name>"),
        ("floor", "AL <floor>"),
        ("ceiling", "AH <ceiling>"),
    ):
        if needed not in props:
            raise error(start, f"the airspace has no {what[:2]} record; add '{what}'")
    if circle is not None and ring:
        raise error(start, "the airspace mixes a circle (DC) with points or arcs; split it in two")
    points = circle if circle is not None else ring
    if not points:
        raise error(start, "the airspace has no geometry; add DP points, DA/DB arcs or a DC circle")
    coords = [[lon, lat] for lon, lat in _dedupe(points)]
    if coords[0] != coords[-1]:
        coords.append(list(coords[0]))
    mapped = _KIND_BY_CODE.get(str(props.get("type", "")).upper()) or _KIND_BY_CODE.get(
        props["class"]
    )
    if mapped:
        props["kind"] = mapped
    props["id"] = props.get("openair_id") or props["name"]
    props["edges"] = "geodesic"
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [coords]},
    }


def _dedupe(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in points:
        if not out or out[-1] != p:
            out.append(p)
    return out


def _number(text: str, number: int, path: str, what: str, positive: bool = False) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ParseError(
            f"{what} {text.strip()!r} is not a number", path=path, line=number
        ) from None
    if not math.isfinite(value) or (positive and value <= 0.0):
        kind = "a positive number" if positive else "finite"
        raise ParseError(f"{what} {text.strip()!r} is not {kind}", path=path, line=number)
    return value


def _point(text: str, number: int, path: str) -> tuple[float, float]:
    """``39:00:00 N 123:30:00 E`` to (lon, lat) degrees."""
    match = _POINT_RE.match(text)
    if match is None:
        raise ParseError(f"{text.strip()!r} is not a point; {_POINT_HELP}", path=path, line=number)
    g = match.groups()
    values = []
    for (deg, mins, secs, hemi), limit in ((g[0:4], 90.0), (g[4:8], 180.0)):
        m = float(mins) if mins else 0.0
        s = float(secs) if secs else 0.0
        if m >= 60.0 or s >= 60.0 or (secs and mins and "." in mins):
            raise ParseError(
                f"{text.strip()!r}: minutes and seconds must be below 60; {_POINT_HELP}",
                path=path,
                line=number,
            )
        value = float(deg) + m / 60.0 + s / 3600.0
        if value > limit:
            raise ParseError(
                f"{text.strip()!r}: {value:g} degrees is beyond {limit:g}; {_POINT_HELP}",
                path=path,
                line=number,
            )
        values.append(-value if hemi.upper() in ("S", "W") else value)
    lat, lon = values
    return lon, lat


def _altitude(text: str, which: str) -> str:
    """An OpenAir limit as the GeoJSON reader's floor/ceiling string."""
    t = " ".join(text.upper().split())
    if t in _GROUND:
        return "GND"
    if t in _UNLIMITED:
        return "UNL"
    if match := _FL_RE.match(t):
        return f"FL{match.group(1)}"
    match = _HEIGHT_RE.match(t)
    if match is None:
        raise ValueError(f"{which} {text!r} cannot be read; {_ALT_HELP}")
    value, unit, ref = match.groups()
    unit = "m" if unit in ("M", "MTR") else "ft"
    ref = "AGL" if ref in ("AGL", "AGND", "ASFC", "SFC", "GND") else "AMSL"
    if float(value) == 0.0 and ref == "AGL":
        return "GND"
    return f"{value} {unit} {ref}"


# --- arcs -----------------------------------------------------------------------------------


def arc_step_deg(radius_m: float, tolerance_m: float = ARC_TOLERANCE_M) -> float:
    """Largest angular step (degrees) whose chord lies within ``tolerance_m`` of the arc."""
    tol = tolerance_m * _ARC_MARGIN
    if radius_m <= tol:
        return 90.0
    return min(90.0, math.degrees(2.0 * math.acos(1.0 - tol / radius_m)))


def _arc(
    centre: tuple[float, float],
    r0_m: float,
    r1_m: float,
    start_deg: float,
    end_deg: float,
    clockwise: bool,
) -> list[tuple[float, float]]:
    """Points (lon, lat) along an arc around ``centre`` from bearing start to end.

    The radius runs linearly from ``r0_m`` to ``r1_m``; a full turn when start equals end.
    """
    sweep = ((end_deg - start_deg) if clockwise else (start_deg - end_deg)) % 360.0
    if sweep == 0.0:
        sweep = 360.0
    n = max(1, math.ceil(sweep / arc_step_deg(max(r0_m, r1_m))))
    t = np.linspace(0.0, 1.0, n + 1)
    az = start_deg + (1.0 if clockwise else -1.0) * sweep * t
    az = (az + 180.0) % 360.0 - 180.0
    dist = r0_m + (r1_m - r0_m) * t
    lon0 = np.full(n + 1, centre[0])
    lat0 = np.full(n + 1, centre[1])
    lon, lat, _ = _GEOD.fwd(lon0, lat0, az, dist)
    return list(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist(), strict=True))


def _arc_between(
    centre: tuple[float, float],
    p0: tuple[float, float],
    p1: tuple[float, float],
    clockwise: bool,
) -> list[tuple[float, float]]:
    """A ``DB`` arc: from ``p0`` to ``p1`` around ``centre``, both ends exact."""
    az0, _, r0 = _GEOD.inv(centre[0], centre[1], p0[0], p0[1])
    az1, _, r1 = _GEOD.inv(centre[0], centre[1], p1[0], p1[1])
    if r0 <= 0.0 or r1 <= 0.0:
        return [p0, p1]
    points = _arc(centre, float(r0), float(r1), float(az0), float(az1), clockwise)
    return [p0, *points[1:-1], p1]
