"""Read zones from GeoJSON (RFC 7946), checking every feature and naming it in errors.

One Feature is one zone. Its properties give the zone's id, name, kind, claimants,
optional geodesic buffer, vertical limits, edge model and provenance; its geometry gives
the zone's area (Polygon, MultiPolygon) or, with a buffer, the feature that is buffered
(any geometry type).

Zone files are small and every zone changes the answer, so a bad feature is never
skipped: the reader raises an :class:`~patrolwatch.errors.InputError` subclass that
names the file (``path``), the feature (``feature``: its id, or ``#index`` when it has
none), what is wrong and how to fix it.

Antimeridian rule
-----------------
GeoJSON edges are straight lines in longitude/latitude, and RFC 7946 (section 3.1.9)
asks for geometries crossing the antimeridian to be split. Zone files often give such a
ring with a jump instead (``179 -> -179``). The reader therefore takes every edge of a
ring or line the short way round: where two consecutive longitudes differ by more than
180 degrees, the following positions are shifted by 360 degrees so that the longitudes
run on continuously (``179 -> 181``), and the polygon is the small one that crosses the
antimeridian, not the one that spans the rest of the globe. Longitudes given beyond
[-180, 180] (already continuous, up to +-540) are kept. Holes are shifted by whole turns
to lie next to their outer ring. Parts of a Multi* geometry are taken each on its own,
so a polygon split at the antimeridian the RFC way stays as given. Consequences: no edge
spans more than 180 degrees of longitude (add vertices to draw a longer one), and a zone
that contains a pole cannot be read.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry

from ..core.densify import DEFAULT_TOLERANCE_M, densify_geodesic
from ..core.zones import EDGE_MODELS, EdgeModel, Zone, Zones
from ..errors import ConfigError, InputError, ParseError, SchemaError, ZoneGeometryError
from ..units import FT_M, NM_M, length_unit_to_m

__all__ = [
    "GEOJSON_SUFFIXES",
    "ZONE_FORMATS",
    "check_geojson_zones",
    "read_geojson_zones",
    "read_zones",
]

GEOJSON_SUFFIXES: tuple[str, ...] = (".geojson", ".json", ".geojson.gz", ".json.gz")
"""File name endings read as GeoJSON (case-insensitive); ``.gz`` files are gzip-compressed."""

ZONE_FORMATS: dict[str, tuple[str, ...]] = {
    "GeoJSON": GEOJSON_SUFFIXES,
    "OpenAir": (".openair", ".air", ".txt"),
    "GeoPackage": (".gpkg",),
    "Shapefile": (".shp",),
    "KML": (".kml",),
    "KMZ": (".kmz",),
    "GeoParquet": (".parquet", ".geoparquet"),
}
"""Zone file formats :func:`read_zones` reads, with their file name endings (``.txt``
only when the file starts with an OpenAir ``AC`` record; see :mod:`.openair` and
:mod:`.zones_ogr`)."""

DEFAULT_KIND = "custom"
"""Kind of a zone whose feature and reader call give none."""

_MAX_ABS_LON_DEG = 540.0
"""Longitudes beyond [-180, 180] are accepted up to this magnitude (continued rings)."""

_FIELDS = frozenset(
    {
        "name",
        "kind",
        "claimants",
        "edges",
        "buffer",
        "buffer_m",
        "buffer_nm",
        "floor",
        "ceiling",
        "floor_m",
        "ceiling_m",
        "floor_ft",
        "ceiling_ft",
        "reference",
        "source",
        "as_of",
        "caveat",
        "complete",
    }
)
"""Properties the reader interprets (plus the id field); all others go to ``properties``."""

_GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)
_AREA_TYPES = ("Polygon", "MultiPolygon")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DISTANCE_RE = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]+)\s*$")
_FL_RE = re.compile(r"^\s*FL\s*(\d+(?:\.\d*)?)\s*$", re.IGNORECASE)
_ALTITUDE_RE = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]+)(?:\s+([A-Za-z]+))?\s*$")
_ALTITUDE_REFS: dict[str, str] = {
    "AMSL": "AMSL",
    "MSL": "AMSL",
    "ALT": "AMSL",
    "AGL": "AGL",
    "ASFC": "AGL",
    "AGND": "AGL",
    "SFC": "AGL",
    "GND": "AGL",
}
_GROUND = frozenset({"GND", "SFC"})
_UNLIMITED = frozenset({"UNL", "UNLTD", "UNLIM", "UNLIMITED"})
_BUFFER_UNITS = "m, km, NM (nmi) or ft"
_ALTITUDE_HELP = (
    "write it as a flight level ('FL245'), a height with its unit and reference "
    "('5000 ft', '5000 ft AMSL', '1500 m', '1000 ft AGL'), 'GND'/'SFC' or 'UNL', "
    "or give a number in floor_m/ceiling_m or floor_ft/ceiling_ft"
)

FloatArray = npt.NDArray[np.float64]
PathArg = str | os.PathLike[str]


@dataclass(frozen=True)
class _Where:
    """The file and feature a problem is about; builds errors with that context."""

    path: str
    feature: str

    def schema(self, reason: str) -> SchemaError:
        return SchemaError(reason, path=self.path, feature=self.feature)

    def geometry(self, reason: str) -> ZoneGeometryError:
        return ZoneGeometryError(reason, path=self.path, feature=self.feature)


def read_geojson_zones(
    path: PathArg,
    *,
    id_field: str = "id",
    kind: str | None = None,
    claimants: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Zones:
    """Read the zones of one GeoJSON file (a FeatureCollection or a single Feature).

    Parameters
    ----------
    path : str or path-like
        A GeoJSON file, UTF-8; gzip-compressed files (``.gz``, or any file starting with
        the gzip magic bytes) are decompressed.
    id_field : str, default "id"
        Property holding the zone id. When a feature lacks it, the Feature's own ``id``
        member is used, then its ``name`` property.
    kind : str, optional
        Kind for features without a ``kind`` property (default ``"custom"``).
    claimants : str, optional
        Claimants for features without a ``claimants`` property, as ``"KOR;JPN"``.
    mapping : mapping of str to str, optional
        Zone property to the feature property holding it, e.g. ``{"name": "NAME_EN"}``.

    Returns
    -------
    Zones
        One zone per feature, in file order (empty for an empty FeatureCollection).

    Raises
    ------
    ParseError
        The file is not gzip, UTF-8 or JSON (with the 1-based line of the JSON error).
    SchemaError
        A property is missing, of the wrong type or in an unknown unit; ids repeat.
    ZoneGeometryError
        A geometry is missing, empty, out of range or invalid (see Notes).
    ConfigError
        ``kind`` or ``claimants`` is not a valid default.

    Notes
    -----
    Feature properties read (all others are kept unchanged in ``Zone.properties``):

    - ``id`` (or ``id_field``): required, string or integer, unique in the file.
    - ``name``: default the id. ``kind``: lower-cased; ``adiz``, ``territorial``, ``fir``,
      ``restricted``, ``danger``, ``custom``, ... (unknown kinds are kept).
    - ``claimants``: ``"KOR;JPN"`` (``;`` or ``,`` separated) or a JSON list; codes are
      upper-cased, order kept, repeats dropped.
    - ``buffer_nm`` (nautical miles), ``buffer_m`` (metres) or ``buffer`` (a string with
      its unit: ``"12 NM"``, ``"22 km"``, ``"500 m"``, ``"1000 ft"``); one of them, > 0.
      The zone is then everything within that geodesic (WGS84) distance of the geometry,
      of any type; ``geometry`` and ``reference`` are the geometry as given, not
      buffered, and ``buffer_m`` is in metres.
    - Without a buffer the geometry must be a Polygon or MultiPolygon (holes are not part
      of the zone); ``reference`` (a GeoJSON geometry object or a WKT string) optionally
      gives the feature closest approach is measured to.
    - ``floor``/``ceiling``: ``"FL245"``, ``"5000 ft"``, ``"5000ft AMSL"``, ``"1500 m"``,
      ``"1000 ft AGL"``, ``"GND"``/``"SFC"`` (0 m, reference ``GND``) or ``"UNL"`` (NaN,
      unbounded, reference ``UNL``); or numbers in ``floor_m``/``ceiling_m``/``floor_ft``/
      ``ceiling_ft``. Stored in metres (NaN when absent); a height without reference is
      AMSL. Flight levels are hundreds of feet of pressure altitude (reference ``FL``).
    - ``edges``: ``lonlat`` (default: edges straight in lon/lat, as RFC 7946) or
      ``geodesic`` (edges are WGS84 geodesics). Geodesic polygon zones, and their
      ``reference``, are densified along the geodesics to within
      :data:`~patrolwatch.core.densify.DEFAULT_TOLERANCE_M` (1 m), so that planar tests
      follow the geodesic boundary; buffer zones keep their geometry as given.
    - ``source``, ``as_of``, ``caveat``: strings (default ``""``); ``complete``: boolean
      or ``"true"``/``"false"`` (default true).

    Geometry checks: rings must be closed (first position repeated last), have at least
    4 positions, and not self-intersect; holes must lie inside their shell; latitudes in
    [-90, 90]; longitudes in [-540, 540]. Rings and lines crossing the antimeridian with
    a jump are unwrapped (see the module's "Antimeridian rule"). Positions' third values
    (elevation) are dropped. ``Zone.origin`` is ``"<path>#<feature index>"``.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> feature = {
    ...     "type": "Feature",
    ...     "properties": {"id": "dokdo", "kind": "territorial",
    ...                    "claimants": "KOR;JPN", "buffer": "12 NM"},
    ...     "geometry": {"type": "Point", "coordinates": [131.8696, 37.2408]},
    ... }
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "zones.geojson"
    ...     _ = path.write_text(json.dumps(feature))
    ...     zone = read_geojson_zones(path)["dokdo"]
    >>> zone.claimants, zone.buffer_m, zone.geometry.geom_type
    (('KOR', 'JPN'), 22224.0, 'Point')
    """
    path_s = os.fspath(path)
    default_kind = DEFAULT_KIND
    if kind is not None:
        if not isinstance(kind, str) or not kind.strip():
            raise ConfigError(f"kind must be a non-empty string such as 'adiz', got {kind!r}")
        default_kind = kind.strip().lower()
    default_claimants: tuple[str, ...] = ()
    if claimants is not None:
        try:
            default_claimants = _parse_claimants(claimants, _Where(path_s, "<claimants=>"))
        except SchemaError as exc:
            raise ConfigError(f"claimants={claimants!r}: {exc.reason}") from None

    features = _features(_load_json(path_s), path_s)
    if mapping:
        from .zones_ogr import apply_mapping

        features = [
            {**f, "properties": apply_mapping(f["properties"], mapping)}
            if isinstance(f, dict) and isinstance(f.get("properties"), dict)
            else f
            for f in features
        ]
    return zones_of_features(
        features,
        path_s,
        id_field=id_field,
        default_kind=default_kind,
        default_claimants=default_claimants,
    )


def zones_of_features(
    features: Iterable[object],
    path: str,
    *,
    id_field: str,
    default_kind: str,
    default_claimants: tuple[str, ...],
    id_hint: str = "",
) -> Zones:
    """Zones of GeoJSON-like features (each checked by :func:`_read_feature`), refusing
    two features with one id; ``id_hint`` is added to that message."""
    zones: list[Zone] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(features):
        zone = _read_feature(
            feature,
            index,
            path,
            id_field=id_field,
            default_kind=default_kind,
            default_claimants=default_claimants,
        )
        if zone.id in first_index:
            raise SchemaError(
                f"id {zone.id!r} is used by features #{first_index[zone.id]} and #{index}; "
                f"zone ids must be unique: rename one of them{id_hint}",
                path=path,
                feature=zone.id,
            )
        first_index[zone.id] = index
        zones.append(zone)
    return Zones(zones)


def check_geojson_zones(path: PathArg) -> tuple[Zones, list[InputError]]:
    """Validate every feature of a GeoJSON zone file, collecting all problems.

    Unlike :func:`read_geojson_zones`, which stops at the first problem, this reads each
    feature on its own and returns the zones that are valid together with one error per
    invalid feature (file-level problems, such as bad JSON, are a single error).

    Returns
    -------
    zones : Zones
        The valid zones.
    problems : list of InputError
        Each with ``path``, ``feature`` and a message that says how to fix it.
    """
    path_s = os.fspath(path)
    try:
        features = _features(_load_json(path_s), path_s)
    except InputError as exc:
        return Zones(), [exc]
    zones: list[Zone] = []
    problems: list[InputError] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(features):
        try:
            zone = _read_feature(
                feature,
                index,
                path_s,
                id_field="id",
                default_kind=DEFAULT_KIND,
                default_claimants=(),
            )
        except InputError as exc:
            problems.append(exc)
            continue
        if zone.id in first_index:
            problems.append(
                SchemaError(
                    f"id {zone.id!r} is used by features #{first_index[zone.id]} and "
                    f"#{index}; zone ids must be unique: rename one of them",
                    path=path_s,
                    feature=zone.id,
                )
            )
            continue
        first_index[zone.id] = index
        zones.append(zone)
    return Zones(zones), problems


def read_zones(
    paths: PathArg | Sequence[PathArg],
    *,
    id_field: str = "id",
    kind: str | None = None,
    claimants: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs: str | None = None,
) -> Zones:
    """Read zones from one or several zone files and concatenate them, in order.

    Parameters
    ----------
    paths : str, path-like, or sequence of them
        Zone files; the format follows the file name ending (:data:`ZONE_FORMATS`):
        ``.geojson``, ``.json``, ``.geojson.gz``, ``.json.gz``; OpenAir (``.openair``,
        ``.air``, ``.txt``); GeoPackage, Shapefile, KML/KMZ, GeoParquet.
    id_field, kind, claimants
        As for :func:`read_geojson_zones`, applied to every file (OpenAir files take
        ``kind`` and ``claimants`` only).
    mapping : mapping of str to str, optional
        Zone property to the column/property holding it, e.g. ``{"name": "NAME_EN"}``,
        so that a foreign layer is read without editing it (not for OpenAir).
    crs : str, optional
        CRS of GeoPackage/Shapefile/GeoParquet coordinates when the file has none.

    Returns
    -------
    Zones
        The zones of the first file, then those of the second, ...; empty when
        ``paths`` is an empty sequence.

    Raises
    ------
    InputError
        A file's format is not supported (the message lists the supported formats).
    SchemaError
        The same zone id appears in two files (both origins are named) or twice in one.
    ParseError, ZoneGeometryError, ConfigError
        As for :func:`read_geojson_zones`.

    Examples
    --------
    >>> read_zones([])
    Zones([])
    >>> try:
    ...     read_zones(["zones.csv"])
    ... except InputError as exc:
    ...     print(exc.reason)  # doctest: +ELLIPSIS
    cannot read zones from 'zones.csv': unknown format. Supported: GeoJSON (.geojson, ...
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    total = Zones()
    origins: dict[str, str] = {}
    for path in paths:
        path_s = os.fspath(path)
        zones = _read_one(path_s, id_field, kind, claimants, mapping, crs)
        for zone in zones:
            if zone.id in origins:
                raise SchemaError(
                    f"zone id {zone.id!r} is defined twice: in {origins[zone.id]} and in "
                    f"{zone.origin}; zone ids must be unique across files: rename one, or "
                    "read only one of the files",
                    path=path_s,
                    feature=zone.id,
                )
            origins[zone.id] = zone.origin
        total = total + zones
    return total


# --- file level ---------------------------------------------------------------------------


def _read_one(
    path: str,
    id_field: str,
    kind: str | None,
    claimants: str | None,
    mapping: Mapping[str, str] | None,
    crs: str | None,
) -> Zones:
    """The zones of one file, read by the reader its name (or OpenAir content) calls for."""
    low = path.lower()
    if low.endswith(GEOJSON_SUFFIXES):
        return read_geojson_zones(
            path, id_field=id_field, kind=kind, claimants=claimants, mapping=mapping
        )
    from . import openair, zones_ogr

    if low.endswith((".openair", ".air")) or (low.endswith(".txt") and openair.is_openair(path)):
        return openair.read_openair_zones(path, kind=kind, claimants=claimants)
    options: dict[str, Any] = {
        "id_field": id_field,
        "kind": kind,
        "claimants": claimants,
        "mapping": mapping,
        "crs": crs,
    }
    if low.endswith(ZONE_FORMATS["GeoParquet"]):
        return zones_ogr.read_geoparquet_zones(path, **options)
    if low.endswith((".gpkg", ".shp", ".kml", ".kmz")):
        return zones_ogr.read_ogr_zones(path, **options)
    _check_format(path)
    raise AssertionError("unreachable")  # pragma: no cover


def _check_format(path: str) -> None:
    """Raise :class:`InputError` naming the supported zone-file formats."""
    formats = "; ".join(f"{name} ({', '.join(ext)})" for name, ext in ZONE_FORMATS.items())
    base = os.path.basename(path)
    stem = base.split(".")[0] or "zones"
    raise InputError(
        f"cannot read zones from {base!r}: unknown format. Supported: {formats}; convert the "
        f"file, e.g. with 'ogr2ogr -f GeoJSON {stem}.geojson {base}'",
        path=path,
    )


def _load_json(path: str) -> object:
    """The JSON document in ``path``, gunzipped when needed."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ParseError(
                f"the gzip data is damaged ({exc}); re-compress the file or give it uncompressed",
                path=path,
            ) from exc
    elif path.lower().endswith(".gz"):
        raise ParseError(
            "the file name ends in .gz but the file is not gzip-compressed; "
            "rename it without .gz or compress it with gzip",
            path=path,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            f"byte {exc.start} is not UTF-8; GeoJSON must be UTF-8 (RFC 7946): re-save "
            "the file as UTF-8",
            path=path,
            line=line,
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON at column {exc.colno}: {exc.msg}; fix the syntax there (often a "
            "missing or trailing comma, a missing quote or an unclosed bracket)",
            path=path,
            line=exc.lineno,
        ) from exc


def _features(doc: object, path: str) -> list[object]:
    """The features of a FeatureCollection, or ``[doc]`` for a single Feature."""
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "Feature":
        return [doc]
    if kind == "FeatureCollection":
        assert isinstance(doc, dict)
        features = doc.get("features")
        if not isinstance(features, list):
            raise SchemaError(
                "the FeatureCollection has no 'features' list; add \"features\": [...]",
                path=path,
            )
        return features
    got = f"a GeoJSON {kind}" if isinstance(kind, str) else f"a JSON {type(doc).__name__}"
    raise SchemaError(
        f"the file holds {got}, not a Feature or FeatureCollection; write each zone as "
        '{"type": "Feature", "properties": {"id": ...}, "geometry": ...} inside a '
        "FeatureCollection",
        path=path,
    )


# --- one feature ------------------------------------------------------------------------


def _read_feature(
    feature: object,
    index: int,
    path: str,
    *,
    id_field: str,
    default_kind: str,
    default_claimants: tuple[str, ...],
) -> Zone:
    """One zone from one feature, or an error naming the feature."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise SchemaError(
            f"feature #{index} is not a GeoJSON Feature object; write it as "
            '{"type": "Feature", "properties": {...}, "geometry": {...}}',
            path=path,
            feature=f"#{index}",
        )
    props_obj = feature.get("properties")
    if props_obj is None:
        props_obj = {}
    if not isinstance(props_obj, dict):
        raise SchemaError(
            f"feature #{index} has properties that are not a JSON object; "
            'write them as "properties": {"id": ..., ...}',
            path=path,
            feature=f"#{index}",
        )
    props: dict[str, Any] = props_obj
    zone_id = _zone_id(props, feature, index, path, id_field)
    where = _Where(path, zone_id)

    name = _text(props, "name", where) or zone_id
    kind = _text(props, "kind", where).lower() or default_kind
    claimants = (
        _parse_claimants(props["claimants"], where)
        if props.get("claimants") is not None
        else default_claimants
    )
    edges = _parse_edges(props.get("edges"), where)
    buffer_m = _parse_buffer(props, where)
    floor_m, floor_ref = _parse_altitude(props, "floor", where)
    ceiling_m, ceiling_ref = _parse_altitude(props, "ceiling", where)
    _check_limits(floor_m, floor_ref, ceiling_m, ceiling_ref, where)
    complete = _parse_complete(props.get("complete"), where)

    if "geometry" not in feature or feature["geometry"] is None:
        raise where.geometry(
            "the feature has no geometry; give it a Polygon or MultiPolygon, or a Point, "
            "LineString, ... together with buffer_nm or buffer_m"
        )
    geometry = _parse_geometry(feature["geometry"], where, "geometry")
    reference: BaseGeometry | None
    if not math.isnan(buffer_m):
        if props.get("reference") is not None:
            raise where.schema(
                "a buffer zone is measured from its own geometry, so it takes no 'reference' "
                "property: remove 'reference', or drop the buffer to make a polygon zone"
            )
        reference = geometry
    else:
        if geometry.geom_type not in _AREA_TYPES:
            raise where.geometry(_not_an_area_reason(geometry.geom_type, complete))
        reference = _parse_reference(props.get("reference"), where)
        if edges == "geodesic":
            geometry = _densify(geometry, where, "geometry")
            if reference is not None:
                reference = _densify(reference, where, "reference")

    return Zone(
        id=zone_id,
        name=name,
        kind=kind,
        claimants=claimants,
        geometry=geometry,
        buffer_m=buffer_m,
        floor_m=floor_m,
        ceiling_m=ceiling_m,
        floor_ref=floor_ref,
        ceiling_ref=ceiling_ref,
        edges=edges,
        reference=reference,
        source=_text(props, "source", where),
        as_of=_text(props, "as_of", where),
        caveat=_text(props, "caveat", where),
        complete=complete,
        origin=f"{path}#{index}",
        properties={k: v for k, v in props.items() if k != id_field and k not in _FIELDS},
    )


def _zone_id(
    props: Mapping[str, Any], feature: Mapping[str, Any], index: int, path: str, id_field: str
) -> str:
    """The zone id: property ``id_field``, else the Feature ``id`` member, else ``name``."""
    for value, what in (
        (props.get(id_field), f"property {id_field!r}"),
        (feature.get("id"), "Feature member 'id'"),
        (props.get("name"), "property 'name'"),
    ):
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise SchemaError(
                f"the {what} is {value!r}, not a string or an integer; give the zone a "
                'string id, e.g. "id": "adiz:KOR"',
                path=path,
                feature=f"#{index}",
            )
        return str(value)
    raise SchemaError(
        f"feature #{index} has no {id_field!r} property (nor a Feature 'id' or a 'name'); "
        f'add a unique id, e.g. "{id_field}": "adiz:KOR"',
        path=path,
        feature=f"#{index}",
    )


def _text(props: Mapping[str, Any], key: str, where: _Where) -> str:
    """A string property (numbers are accepted and written out), ``""`` when absent."""
    value = props.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise where.schema(f"property {key!r} is {value!r}, not a string; write it as a string")


def _parse_claimants(value: object, where: _Where) -> tuple[str, ...]:
    """``"KOR;JPN"`` or ``["KOR", "JPN"]`` to upper-case codes, order kept, repeats dropped."""
    items: list[object]
    if isinstance(value, str):
        items = list(re.split(r"[;,]", value))
    elif isinstance(value, list):
        items = list(value)
    else:
        raise where.schema(
            f"claimants {value!r} is neither a string nor a list; write "
            '"claimants": "KOR;JPN" or ["KOR", "JPN"]'
        )
    codes: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise where.schema(
                f'claimant {item!r} is not a string; write country codes such as "KOR"'
            )
        code = item.strip().upper()
        if not code:
            continue
        if any(ch.isspace() for ch in code):
            raise where.schema(
                f"claimant {item.strip()!r} contains a space; separate codes with ';', "
                'e.g. "KOR;JPN"'
            )
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _parse_edges(value: object, where: _Where) -> EdgeModel:
    """The edge model; ``lonlat`` when absent."""
    if value is None:
        return "lonlat"
    models: dict[str, EdgeModel] = {m: m for m in EDGE_MODELS}
    if isinstance(value, str) and value.strip().lower() in models:
        return models[value.strip().lower()]
    raise where.schema(
        f"edges {value!r} is not an edge model; use 'lonlat' (straight in lon/lat, the "
        "GeoJSON default) or 'geodesic' (shortest paths on the WGS84 ellipsoid)"
    )


def _number(value: object) -> float | None:
    """``value`` as a float when it is a JSON number or a numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _parse_buffer(props: Mapping[str, Any], where: _Where) -> float:
    """The buffer distance in metres, NaN when there is none."""
    given = [k for k in ("buffer_nm", "buffer_m", "buffer") if props.get(k) is not None]
    if not given:
        return math.nan
    if len(given) > 1:
        raise where.schema(
            f"properties {' and '.join(given)} both set a buffer; keep only one of them"
        )
    key = given[0]
    value = props[key]
    if key == "buffer":
        match = _DISTANCE_RE.match(value) if isinstance(value, str) else None
        if match is None:
            raise where.schema(
                f"buffer {value!r} is not a distance with its unit; write e.g. "
                f'"buffer": "12 NM" or "22 km" (units: {_BUFFER_UNITS}), or use buffer_nm '
                "or buffer_m with a number"
            )
        try:
            if match.group(2).lower() == "fl":
                raise KeyError(match.group(2))
            buffer_m = float(match.group(1)) * length_unit_to_m(match.group(2))
        except KeyError:
            raise where.schema(
                f"buffer {value!r} has an unknown unit {match.group(2)!r}; use {_BUFFER_UNITS}, "
                'e.g. "12 NM"'
            ) from None
    else:
        number = _number(value)
        if number is None:
            unit = "nautical miles" if key == "buffer_nm" else "metres"
            raise where.schema(
                f"{key} {value!r} is not a number; give the distance in {unit} as a number, "
                f'e.g. "{key}": 12, or use "buffer": "12 NM" for a distance with its unit'
            )
        buffer_m = number * (NM_M if key == "buffer_nm" else 1.0)
    if not (math.isfinite(buffer_m) and buffer_m > 0.0):
        raise where.schema(
            f"{key} {value!r} is not a positive distance; a buffer must be > 0 (remove it "
            "for a polygon zone)"
        )
    return buffer_m


def _parse_altitude(props: Mapping[str, Any], which: str, where: _Where) -> tuple[float, str]:
    """``floor`` or ``ceiling`` in metres with its reference; ``(nan, "")`` when absent."""
    keys = [k for k in (which, f"{which}_m", f"{which}_ft") if props.get(k) is not None]
    if not keys:
        return math.nan, ""
    if len(keys) > 1:
        raise where.schema(f"properties {' and '.join(keys)} both set the {which}; keep one")
    key = keys[0]
    value = props[key]
    if key != which:
        number = _number(value)
        if number is None or not math.isfinite(number):
            raise where.schema(
                f"{key} {value!r} is not a number; give the {which} as a number of "
                f"{'metres' if key.endswith('_m') else 'feet'} (AMSL), or {_ALTITUDE_HELP}"
            )
        return number * (1.0 if key.endswith("_m") else FT_M), "AMSL"
    if not isinstance(value, str):
        raise where.schema(f"{which} {value!r} has no unit; {_ALTITUDE_HELP}")
    text = value.strip().upper()
    if text in _GROUND:
        return 0.0, "GND"
    if text in _UNLIMITED:
        if which == "floor":
            raise where.schema(
                f"floor {value!r} is unlimited; a floor must be a height: use 'GND' for the ground"
            )
        return math.nan, "UNL"
    if match := _FL_RE.match(text):
        return float(match.group(1)) * 100.0 * FT_M, "FL"
    match = _ALTITUDE_RE.match(text)
    if match is None:
        raise where.schema(f"{which} {value!r} cannot be read; {_ALTITUDE_HELP}")
    digits, unit, ref = match.group(1), match.group(2), match.group(3)
    try:
        if unit.lower() in ("nm", "nmi", "fl"):
            raise KeyError(unit)
        metres = float(digits) * length_unit_to_m(unit)
    except KeyError:
        raise where.schema(
            f"{which} {value!r} has an unknown unit {unit!r}; use ft or m, and {_ALTITUDE_HELP}"
        ) from None
    if ref is None:
        return metres, "AMSL"
    if ref not in _ALTITUDE_REFS:
        raise where.schema(
            f"{which} {value!r} has an unknown reference {ref!r}; use AMSL (or MSL) or AGL "
            "(or SFC/GND)"
        )
    return metres, _ALTITUDE_REFS[ref]


def _check_limits(
    floor_m: float, floor_ref: str, ceiling_m: float, ceiling_ref: str, where: _Where
) -> None:
    """Raise when the floor lies above the ceiling (where the two are comparable)."""
    if math.isnan(floor_m) or math.isnan(ceiling_m):
        return
    if (floor_ref == "AGL") != (ceiling_ref == "AGL") and "GND" not in (floor_ref, ceiling_ref):
        return  # above ground level and above sea level cannot be compared without terrain
    if floor_m > ceiling_m:
        raise where.schema(
            f"the floor ({floor_m:.1f} m {floor_ref}) is above the ceiling ({ceiling_m:.1f} m "
            f"{ceiling_ref}); swap floor and ceiling"
        )


def _parse_complete(value: object, where: _Where) -> bool:
    """The ``complete`` flag; true when absent."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise where.schema(f"complete {value!r} is not a boolean; write true or false")


def _not_an_area_reason(geom_type: str, complete: bool) -> str:
    """Why a non-polygon feature without buffer is not a zone, and what to do."""
    reason = (
        f"a {geom_type} has no area and the feature has no buffer: add buffer_nm or "
        f'buffer_m (e.g. "buffer_nm": 12) to make it a buffer zone, everything within that '
        "distance of the geometry"
    )
    if geom_type in ("LineString", "MultiLineString"):
        reason += ", or close the line into a Polygon"
    if not complete:
        reason += (
            ". The feature is marked complete: false (a partial boundary); if it cannot "
            "be closed honestly, leave it out of the zone file"
        )
    return reason


def _parse_reference(value: object, where: _Where) -> BaseGeometry | None:
    """The ``reference`` property: a GeoJSON geometry object or a WKT string."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            geom = shapely.from_wkt(value)
        except shapely.errors.ShapelyError as exc:
            raise where.geometry(
                f"reference is not valid WKT ({exc}); write it as WKT in lon lat order, e.g. "
                "'LINESTRING (131.86 37.24, 131.87 37.25)', or as a GeoJSON geometry object"
            ) from exc
        value = shapely.geometry.mapping(geom)
    if not isinstance(value, dict):
        raise where.geometry(
            f"reference {value!r} is neither a GeoJSON geometry object nor a WKT string; "
            'write e.g. {"type": "Point", "coordinates": [lon, lat]}'
        )
    return _parse_geometry(value, where, "reference")


def _densify(geometry: BaseGeometry, where: _Where, role: str) -> BaseGeometry:
    """Densify along geodesics, turning densify errors into errors naming the feature."""
    try:
        dense = densify_geodesic(geometry, tolerance_m=DEFAULT_TOLERANCE_M)
    except ConfigError as exc:
        raise where.geometry(f"the {role} with geodesic edges cannot be drawn: {exc}") from exc
    if dense.geom_type in _AREA_TYPES and not shapely.is_valid(dense):
        raise where.geometry(
            f"the {role} becomes invalid once its geodesic edges are drawn "
            f"({shapely.is_valid_reason(dense)}); add vertices so that the geodesic edges "
            "do not cross, or use edges 'lonlat'"
        )
    return dense


# --- geometry ---------------------------------------------------------------------------


def _parse_geometry(obj: object, where: _Where, role: str) -> BaseGeometry:
    """Check a GeoJSON geometry object and build it, unwrapped at the antimeridian."""
    if not isinstance(obj, dict):
        raise where.geometry(
            f"the {role} is not a GeoJSON geometry object; write e.g. "
            '{"type": "Polygon", "coordinates": [[[lon, lat], ...]]}'
        )
    geom_type = obj.get("type")
    if geom_type == "GeometryCollection":
        raise where.geometry(
            f"the {role} is a GeometryCollection, which zones do not support; give each "
            "member its own feature, or merge polygons into one MultiPolygon"
        )
    if not isinstance(geom_type, str) or geom_type not in _GEOMETRY_TYPES:
        raise where.geometry(
            f"the {role} has type {geom_type!r}; use one of {', '.join(_GEOMETRY_TYPES)}"
        )
    if "coordinates" not in obj or obj["coordinates"] is None:
        raise where.geometry(
            f"the {role} ({geom_type}) has no 'coordinates'; add them as [lon, lat] positions"
        )
    coords = obj["coordinates"]
    if not _is_list(coords) or len(coords) == 0:
        raise where.geometry(
            f"the {role} ({geom_type}) is empty; give its positions as [lon, lat] pairs, or "
            "remove the feature"
        )
    if geom_type == "Point":
        xy = _positions([coords], where, f"the {role} (Point)")
        return shapely.points(xy[0])
    if geom_type == "MultiPoint":
        return shapely.multipoints(_positions(coords, where, f"the {role} (MultiPoint)"))
    if geom_type == "LineString":
        return shapely.linestrings(_line(coords, where, f"the {role} (LineString)"))
    if geom_type == "MultiLineString":
        lines = [
            _line(part, where, f"line {i} of the {role} (MultiLineString)")
            for i, part in enumerate(_parts(coords, where, role))
        ]
        return shapely.multilinestrings([shapely.linestrings(xy) for xy in lines])
    if geom_type == "Polygon":
        return _polygon(coords, where, f"the {role} (Polygon)")
    polygons = [
        _polygon(part, where, f"polygon {i} of the {role} (MultiPolygon)")
        for i, part in enumerate(_parts(coords, where, role))
    ]
    multi = shapely.multipolygons(polygons)
    reason = shapely.is_valid_reason(multi)
    if reason != "Valid Geometry":
        raise where.geometry(
            f"the polygons of the {role} (MultiPolygon) overlap or touch along an edge "
            f"({_describe(reason)}); merge the overlapping polygons into one (their union), "
            "or give them separate features"
        )
    return multi


def _is_list(obj: object) -> bool:
    return isinstance(obj, list | tuple)


def _parts(coords: Sequence[Any], where: _Where, role: str) -> Sequence[Any]:
    """The parts of a Multi* geometry, each a non-empty list."""
    for i, part in enumerate(coords):
        if not _is_list(part) or len(part) == 0:
            raise where.geometry(
                f"part {i} of the {role} is empty or not a list; remove it or give its positions"
            )
    return coords


def _positions(obj: Sequence[Any], where: _Where, what: str) -> FloatArray:
    """A list of GeoJSON positions as an (n, 2) lon/lat array, with range checks."""
    xy = np.empty((len(obj), 2), dtype=np.float64)
    for k, pos in enumerate(obj):
        ok = _is_list(pos) and len(pos) >= 2
        if ok:
            lon, lat = _number_only(pos[0]), _number_only(pos[1])
            ok = lon is not None and lat is not None
        if not ok:
            raise where.geometry(
                f"position {k} of {what} is {pos!r}, not [lon, lat] numbers; write each "
                "position as [longitude, latitude] in degrees"
            )
        xy[k] = lon, lat
    bad = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    if bad.size:
        k = int(bad[0])
        raise where.geometry(
            f"position {k} of {what} is not finite ({xy[k].tolist()}); give real degrees"
        )
    lat_bad = np.flatnonzero(np.abs(xy[:, 1]) > 90.0)
    if lat_bad.size:
        k = int(lat_bad[0])
        raise where.geometry(
            f"latitude {xy[k, 1]} at position {k} of {what} is outside [-90, 90]: are lon "
            "and lat swapped? GeoJSON is [lon, lat]"
        )
    lon_bad = np.flatnonzero(np.abs(xy[:, 0]) > _MAX_ABS_LON_DEG)
    if lon_bad.size:
        k = int(lon_bad[0])
        raise where.geometry(
            f"longitude {xy[k, 0]} at position {k} of {what} is outside [-540, 540]; write "
            "longitudes in degrees east within [-180, 180] (beyond only to continue a "
            "ring across the antimeridian)"
        )
    return xy


def _number_only(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _line(coords: object, where: _Where, what: str) -> FloatArray:
    """A LineString's positions, at least 2, unwrapped at the antimeridian."""
    if not isinstance(coords, list | tuple) or len(coords) < 2:
        raise where.geometry(
            f"{what} has fewer than 2 positions; a line needs at least 2 [lon, lat] "
            "positions (use a Point for a single position)"
        )
    xy = _positions(coords, where, what)
    xy[:, 0], _ = _unwrap_lon(xy[:, 0])
    _check_unwrapped(xy, where, what)
    return xy


def _polygon(rings: object, where: _Where, what: str) -> BaseGeometry:
    """A Polygon from its rings: closed, >= 4 positions, unwrapped, holes aligned, valid."""
    if not isinstance(rings, list | tuple) or len(rings) == 0:
        raise where.geometry(f"{what} has no rings; give at least its outer ring")
    arrays: list[FloatArray] = []
    for j, ring in enumerate(rings):
        ring_what = f"ring {j} ({'outer ring' if j == 0 else f'hole {j}'}) of {what}"
        if not _is_list(ring) or len(ring) == 0:
            raise where.geometry(
                f"{ring_what} is empty; give it as a list of [lon, lat] positions, the first "
                "repeated last, or remove it"
            )
        xy = _positions(ring, where, ring_what)
        if not np.array_equal(xy[0], xy[-1]):
            raise where.geometry(
                f"{ring_what} is not closed: its first position {xy[0].tolist()} differs "
                f"from its last {xy[-1].tolist()}; repeat the first position at the end"
            )
        if len(xy) < 4:
            raise where.geometry(
                f"{ring_what} has {len(xy)} positions; a closed ring needs at least 4 (three "
                "corners and the first repeated at the end): add the missing corners"
            )
        xy[:, 0], turns = _unwrap_lon(xy[:, 0])
        if turns != 0:
            raise where.geometry(
                f"{ring_what} goes around a pole: taking each edge the short way round "
                f"(less than 180 degrees of longitude), its longitudes end {360 * turns} "
                "degrees from where they start. Zones that contain a pole are not supported; "
                "if this one does not, an edge is meant to span more than 180 degrees of "
                "longitude: add vertices along it so that each edge spans less"
            )
        _check_unwrapped(xy, where, ring_what)
        if j > 0:  # bring holes next to the shell, by whole turns
            xy[:, 0] -= 360.0 * round((_mid_lon(xy) - _mid_lon(arrays[0])) / 360.0)
        arrays.append(xy)
    polygon = shapely.polygons(arrays[0], holes=arrays[1:] or None)
    reason = shapely.is_valid_reason(polygon)
    if reason != "Valid Geometry":
        raise where.geometry(f"{what} is invalid: {_describe(reason)}; {_fix_for(reason)}")
    return polygon


def _unwrap_lon(lon_deg: FloatArray) -> tuple[FloatArray, int]:
    """Continue longitudes across the antimeridian: each step becomes at most 180 degrees.

    Returns the continued longitudes and the net number of turns added by the end (0 for
    a closed ring that does not go round a pole). Shifts are exact multiples of 360.
    """
    step = np.diff(lon_deg)
    turns = np.where(np.abs(step) > 180.0, -np.round(step / 360.0), 0.0)
    shift = 360.0 * np.concatenate([[0.0], np.cumsum(turns)])
    return lon_deg + shift, int(turns.sum())


def _mid_lon(xy: FloatArray) -> float:
    return float(0.5 * (xy[:, 0].min() + xy[:, 0].max()))


def _check_unwrapped(xy: FloatArray, where: _Where, what: str) -> None:
    """Longitudes continued across the antimeridian must stay within +-540."""
    if np.abs(xy[:, 0]).max() > _MAX_ABS_LON_DEG:
        raise where.geometry(
            f"{what} runs beyond 540 degrees of longitude once continued across the "
            "antimeridian; write its longitudes within [-180, 180]"
        )


def _describe(reason: str) -> str:
    """A GEOS validity reason such as ``Self-intersection[1 2]`` in words."""
    match = re.match(r"^(.*?)\[([-+0-9.eE]+) ([-+0-9.eE]+)\]$", reason)
    if match is None:
        return reason
    return f"{match.group(1).lower()} at lon {match.group(2)}, lat {match.group(3)}"


def _fix_for(reason: str) -> str:
    """How to fix a polygon with this GEOS validity reason."""
    r = reason.lower()
    if r.startswith("ring self-intersection"):
        return "a ring must not touch itself: split the shape into two polygons of a MultiPolygon"
    if r.startswith("self-intersection"):
        return (
            "reorder the vertices so that no two edges cross (a figure-eight must be two "
            "polygons of a MultiPolygon), and keep holes from crossing the outer ring"
        )
    if r.startswith("hole lies outside shell"):
        return (
            "a hole must lie inside the outer ring: put the outer ring first, or make the "
            "hole a polygon of its own"
        )
    if r.startswith("holes are nested"):
        return "holes must not contain each other: remove the inner one or merge them"
    if r.startswith("interior is disconnected"):
        return "the holes cut the polygon into pieces: give the pieces as a MultiPolygon"
    if r.startswith("too few points"):
        return "remove repeated positions or add corners: a ring needs 3 distinct corners"
    return "repair it (e.g. with shapely.make_valid) and write it back"
