"""Read zones from GeoPackage, Shapefile, KML/KMZ (through pyogrio/GDAL) and GeoParquet.

Each row (feature) of each layer is one zone. Its attributes are read as the properties
of a GeoJSON feature and checked by the GeoJSON zone reader (same property names, same
geometry rules), so a layer whose columns are named otherwise can be mapped without
editing it: ``mapping={"name": "NAME_EN", "floor": "LOWER"}`` reads the column
``NAME_EN`` as the zone's ``name``; ``id_field``, ``kind`` and ``claimants`` give the id
column and defaults, as for GeoJSON.

Coordinates are reprojected to WGS84 longitude/latitude (pyproj, ``always_xy=True``).
A layer without a coordinate reference system is refused, since guessing one places
zones in the wrong spot: add the CRS to the file (for a Shapefile, its ``.prj``), or
pass ``crs=`` (e.g. ``crs="EPSG:4326"``) to say what the coordinates are.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from ..core.zones import Zones
from ..errors import ConfigError, InputError, SchemaError, ZoneGeometryError
from .geojson import DEFAULT_KIND, _parse_claimants, _Where, zones_of_features

__all__ = [
    "OGR_FORMATS",
    "apply_mapping",
    "check_zone_file",
    "read_geoparquet_zones",
    "read_ogr_zones",
    "resolve_defaults",
]

OGR_FORMATS: dict[str, tuple[str, ...]] = {
    "GeoPackage": (".gpkg",),
    "Shapefile": (".shp",),
    "KML": (".kml",),
    "KMZ": (".kmz",),
    "GeoParquet": (".parquet", ".geoparquet"),
}
"""Zone formats read by this module, with their file name endings."""

_WGS84 = pyproj.CRS.from_epsg(4326)
_KML_NAMES = {"Name": "name", "Description": "description"}
_CRS_HELP = (
    "add the CRS to the file (for a Shapefile, the .prj file next to the .shp, e.g. "
    "written by 'ogr2ogr -a_srs EPSG:4326'), or pass crs= (e.g. crs='EPSG:4326') to "
    "say what its coordinates are"
)


def resolve_defaults(
    path: str, kind: str | None, claimants: str | None
) -> tuple[str, tuple[str, ...]]:
    """Check the ``kind`` and ``claimants`` defaults of a reader call."""
    default_kind = DEFAULT_KIND
    if kind is not None:
        if not isinstance(kind, str) or not kind.strip():
            raise ConfigError(f"kind must be a non-empty string such as 'adiz', got {kind!r}")
        default_kind = kind.strip().lower()
    default_claimants: tuple[str, ...] = ()
    if claimants is not None:
        try:
            default_claimants = _parse_claimants(claimants, _Where(path, "<claimants=>"))
        except SchemaError as exc:
            raise ConfigError(f"claimants={claimants!r}: {exc.reason}") from None
    return default_kind, default_claimants


def apply_mapping(props: Mapping[str, Any], mapping: Mapping[str, str] | None) -> dict[str, Any]:
    """Properties with the columns named in ``mapping`` renamed to zone properties.

    ``mapping`` maps a zone property (``name``, ``kind``, ``floor``, ...) to the column
    holding it. The mapped column replaces any property of the target name.

    Examples
    --------
    >>> apply_mapping({"NAME_EN": "Seoul ADIZ", "x": 1}, {"name": "NAME_EN"})
    {'x': 1, 'name': 'Seoul ADIZ'}
    """
    out = dict(props)
    for target, column in (mapping or {}).items():
        if column in out:
            out[target] = out.pop(column)
    return out


def read_ogr_zones(
    path: str | os.PathLike[str],
    *,
    id_field: str = "id",
    kind: str | None = None,
    claimants: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs: str | None = None,
    layer: str | None = None,
) -> Zones:
    """Read the zones of a GeoPackage, Shapefile, KML or KMZ file (every layer).

    Parameters
    ----------
    path : str or path-like
        The file (``.gpkg``, ``.shp``, ``.kml``, ``.kmz``); GeoParquet goes to
        :func:`read_geoparquet_zones`.
    id_field : str, default "id"
        Column holding the zone id (else the ``name`` column).
    kind, claimants : str, optional
        Defaults for rows without ``kind``/``claimants``, as for GeoJSON.
    mapping : mapping of str to str, optional
        Zone property to column, e.g. ``{"name": "NAME_EN", "floor": "LOWER"}``.
    crs : str, optional
        CRS of the coordinates when the file has none (e.g. ``"EPSG:4326"``).
    layer : str, optional
        Read only this layer (default: every layer with geometries).

    Raises
    ------
    InputError
        The file cannot be opened, or its CRS is missing or unknown.
    SchemaError, ZoneGeometryError, ConfigError
        As for :func:`~patrolwatch.io.geojson.read_geojson_zones`.
    """
    import pyogrio
    import pyogrio.errors

    path_s = os.fspath(path)
    default_kind, default_claimants = resolve_defaults(path_s, kind, claimants)
    try:
        if layer is not None:
            layers = [layer]
        else:
            layers = [str(name) for name, gtype in pyogrio.list_layers(path_s) if gtype]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"cannot open the file: {exc}", path=path_s) from exc
    rows: list[tuple[dict[str, Any], BaseGeometry | None]] = []
    for name in layers:
        try:
            meta, _, wkb, fields = pyogrio.raw.read(path_s, layer=name, force_2d=True)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise InputError(f"cannot read layer {name!r}: {exc}", path=path_s) from exc
        geoms = _to_wgs84(shapely.from_wkb(wkb), meta.get("crs"), crs, path_s, name)
        columns = [str(c) for c in meta["fields"]]
        for i, geom in enumerate(geoms):
            props = {c: _plain(fields[k][i]) for k, c in enumerate(columns)}
            if path_s.lower().endswith((".kml", ".kmz")):
                for src, dst in _KML_NAMES.items():
                    if dst not in props and src in props:
                        props[dst] = props.pop(src)
            if len(layers) > 1:
                props.setdefault("layer", name)
            rows.append((props, geom))
    return _zones(rows, path_s, id_field, default_kind, default_claimants, mapping)


def read_geoparquet_zones(
    path: str | os.PathLike[str],
    *,
    id_field: str = "id",
    kind: str | None = None,
    claimants: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs: str | None = None,
) -> Zones:
    """Read the zones of a GeoParquet file (WKB geometry column, ``geo`` metadata).

    Parameters are those of :func:`read_ogr_zones`. A column without a ``crs`` key is
    OGC:CRS84 (WGS84 lon/lat), as the GeoParquet specification says; ``"crs": null``
    means an unknown CRS and needs ``crs=``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path_s = os.fspath(path)
    default_kind, default_claimants = resolve_defaults(path_s, kind, claimants)
    try:
        table = pq.read_table(path_s)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read the Parquet file: {exc}", path=path_s) from exc
    raw = (table.schema.metadata or {}).get(b"geo")
    if raw is None:
        raise SchemaError(
            "the Parquet file has no 'geo' metadata, so it is not GeoParquet; write it with "
            "GeoPandas (to_parquet) or GDAL, or give the zones as GeoPackage or GeoJSON",
            path=path_s,
        )
    geo = json.loads(raw)
    column = geo.get("primary_column", "geometry")
    info = geo.get("columns", {}).get(column, {})
    if info.get("encoding", "WKB").upper() != "WKB":
        raise SchemaError(
            f"geometry column {column!r} is encoded as {info.get('encoding')!r}; only WKB is "
            "read: rewrite the file with WKB geometries",
            path=path_s,
        )
    file_crs: Any = info.get("crs", "OGC:CRS84")  # absent: CRS84; null: unknown
    geoms = _to_wgs84(
        shapely.from_wkb(np.asarray(table.column(column).to_pylist(), dtype=object)),
        file_crs,
        crs,
        path_s,
        column,
    )
    others = [c for c in table.column_names if c != column]
    data = {c: table.column(c).to_pylist() for c in others}
    rows = [({c: _plain(data[c][i]) for c in others}, g) for i, g in enumerate(geoms)]
    return _zones(rows, path_s, id_field, default_kind, default_claimants, mapping)


def check_zone_file(path: str | os.PathLike[str]) -> tuple[Zones, list[InputError]]:
    """Validate a zone file of any supported format, collecting its problems.

    GeoJSON features and OpenAir blocks are checked one by one (every problem is listed);
    other formats stop at their first problem.
    """
    import warnings

    from .geojson import GEOJSON_SUFFIXES, check_geojson_zones, read_zones
    from .openair import is_openair, read_openair

    path_s = os.fspath(path)
    low = path_s.lower()
    if low.endswith(GEOJSON_SUFFIXES):
        return check_geojson_zones(path_s)
    try:
        if low.endswith((".openair", ".air")) or (low.endswith(".txt") and is_openair(path_s)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                result = read_openair(path_s, strict=False)
            return result.zones, list(result.problems)
        return read_zones(path_s), []
    except InputError as exc:
        return Zones(), [exc]


# --- shared -------------------------------------------------------------------------------


def _zones(
    rows: Iterable[tuple[dict[str, Any], BaseGeometry | None]],
    path: str,
    id_field: str,
    default_kind: str,
    default_claimants: tuple[str, ...],
    mapping: Mapping[str, str] | None,
) -> Zones:
    """Zones from (properties, lon/lat geometry) rows, via the GeoJSON feature check."""
    features = (
        {
            "type": "Feature",
            "properties": apply_mapping(props, mapping),
            "geometry": None if geom is None else shapely.geometry.mapping(geom),
        }
        for props, geom in rows
    )
    return zones_of_features(
        features,
        path,
        id_field=id_field,
        default_kind=default_kind,
        default_claimants=default_claimants,
        id_hint=f", or pass id_field= (now {id_field!r}) naming a column with unique values",
    )


def _plain(value: object) -> object:
    """A column value as a JSON-like Python value (None for missing)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)  # dates and times as ISO text


def _to_wgs84(
    geoms: npt.NDArray[np.object_],
    file_crs: object,
    given_crs: str | None,
    path: str,
    layer: str,
) -> npt.NDArray[np.object_]:
    """Geometries reprojected to WGS84 lon/lat; refuses a missing or unknown CRS."""
    if file_crs is None or file_crs == "":
        if given_crs is None:
            raise InputError(
                f"layer {layer!r} has no coordinate reference system (CRS); {_CRS_HELP}",
                path=path,
            )
        file_crs = given_crs
    elif given_crs is not None and not _crs(given_crs, path, "crs=").equals(
        _crs(file_crs, path, layer)
    ):
        raise ConfigError(
            f"crs={given_crs!r} differs from the CRS of {path} (layer {layer!r}); drop "
            "crs=, which is only for files without a CRS"
        )
    source = _crs(file_crs, path, layer)
    if source.equals(_WGS84, ignore_axis_order=True):
        return geoms
    transformer = pyproj.Transformer.from_crs(source, _WGS84, always_xy=True)

    def project(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    out: npt.NDArray[np.object_] = shapely.transform(geoms, project)
    coords = shapely.get_coordinates(out)
    if coords.size and not np.isfinite(coords).all():
        raise ZoneGeometryError(
            f"layer {layer!r} has coordinates that cannot be reprojected from "
            f"{source.name} to WGS84 (outside the CRS's area?); check the CRS",
            path=path,
        )
    return out


def _crs(value: object, path: str, what: str) -> pyproj.CRS:
    try:
        if isinstance(value, dict):
            return pyproj.CRS.from_json_dict(value)
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(
            f"the CRS of {what} ({str(value)[:80]!r}) is unknown to PROJ ({exc}); {_CRS_HELP}",
            path=path,
        ) from None
