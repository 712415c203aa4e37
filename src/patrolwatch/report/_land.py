"""The basemap: simplified land polygons shipped with the package (GSHHG, LGPL).

The asset ``assets/land_nea.geojson.gz`` covers 110-155°E, 18-52°N. It is derived from
the GSHHG full-resolution land polygons (see ``assets/LAND-PROVENANCE.md``) by
:func:`build_land_asset`; reports read only the shipped asset, never the source.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

__all__ = [
    "LAND_ASSET",
    "LAND_BOUNDS_DEG",
    "LAND_MIN_AREA_KM2",
    "LAND_TOLERANCE_DEG",
    "Land",
    "build_land_asset",
    "load_land",
]

LAND_ASSET = "land_nea.geojson.gz"
"""File name of the shipped land polygons in ``patrolwatch/report/assets``."""

LAND_BOUNDS_DEG = (110.0, 18.0, 155.0, 52.0)
"""(west, south, east, north) of the shipped land, degrees."""

LAND_TOLERANCE_DEG = 0.004
"""Douglas-Peucker tolerance used to build the asset, degrees (about 0.4 km)."""

LAND_MIN_AREA_KM2 = 0.1
"""Islands smaller than this (km²) are left out of the asset."""


@dataclass(frozen=True)
class Land:
    """Land polygons clipped to a box: one geometry and one ISO 3166 alpha-3 code each."""

    geometries: list[BaseGeometry]
    iso3: list[str]

    def __len__(self) -> int:
        return len(self.geometries)


def _read_asset() -> dict[str, Any]:
    data = resources.files("patrolwatch.report").joinpath("assets", LAND_ASSET).read_bytes()
    doc: dict[str, Any] = json.loads(gzip.decompress(data))
    return doc


_CACHE: dict[str, tuple[npt.NDArray[np.object_], list[str]]] = {}


def _all_land() -> tuple[npt.NDArray[np.object_], list[str]]:
    if "land" not in _CACHE:
        doc = _read_asset()
        geoms = np.asarray([shape(f["geometry"]) for f in doc["features"]], dtype=object)
        iso3 = [str(f["properties"].get("iso3", "")) for f in doc["features"]]
        _CACHE["land"] = (geoms, iso3)
    return _CACHE["land"]


def load_land(
    west_deg: float,
    south_deg: float,
    east_deg: float,
    north_deg: float,
    *,
    tolerance_deg: float = 0.0,
) -> Land:
    """Land polygons meeting a lon/lat box, clipped to it and optionally simplified.

    Parameters
    ----------
    west_deg, south_deg, east_deg, north_deg : float, degrees
        The box; longitudes in [-180, 180], west < east (no antimeridian wrap: the asset
        does not reach it).
    tolerance_deg : float, degrees, >= 0
        Further Douglas-Peucker simplification for display (0: as shipped).

    Returns
    -------
    Land
        Possibly empty (outside 110-155°E, 18-52°N there is no land in the asset).

    Examples
    --------
    >>> land = load_land(130.7, 37.4, 131.0, 37.6)   # Ulleungdo and two islets off it
    >>> sorted(set(land.iso3)), round(max(g.area for g in land.geometries), 4)
    (['KOR'], 0.0078)
    """
    geoms, iso3 = _all_land()
    clip = box(west_deg, south_deg, east_deg, north_deg)
    hit = np.flatnonzero(shapely.intersects(geoms, clip))
    out_g: list[BaseGeometry] = []
    out_c: list[str] = []
    if hit.size:
        clipped = shapely.intersection(geoms[hit], clip)
        if tolerance_deg > 0:
            clipped = shapely.simplify(clipped, tolerance_deg, preserve_topology=True)
        for g, i in zip(clipped, hit, strict=True):
            if not g.is_empty and g.area > 0:
                out_g.append(g)
                out_c.append(iso3[i])
    return Land(out_g, out_c)


def build_land_asset(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    tolerance_deg: float = LAND_TOLERANCE_DEG,
    min_area_km2: float = LAND_MIN_AREA_KM2,
) -> Path:
    """Build the shipped land asset from the GSHHG-derived land GeoJSON (maintainers only).

    Keeps polygons of at least ``min_area_km2`` (the source's ``area_km2`` property),
    simplifies them by ``tolerance_deg`` (topology preserved), rounds coordinates to
    1e-4° (about 10 m) and keeps the properties ``iso3`` and ``claimants``.

    Parameters
    ----------
    source : path
        ``nea_land_gshhg_f.geojson.gz`` (gzip GeoJSON, GSHHG full resolution, level 1).
    target : path
        Where to write the gzip GeoJSON.
    """
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    features = []
    for feat in doc["features"]:
        props = feat["properties"]
        if float(props.get("area_km2", 0.0)) < min_area_km2:
            continue
        geom = shapely.simplify(shape(feat["geometry"]), tolerance_deg, preserve_topology=True)
        if geom.is_empty:
            continue
        geom = shapely.set_precision(geom, 1e-4)
        if geom.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"iso3": props["iso3"], "claimants": props["claimants"]},
                "geometry": mapping(geom),
            }
        )
    out = {
        "type": "FeatureCollection",
        "name": "land_nea",
        "bounds_deg": list(LAND_BOUNDS_DEG),
        "note": (
            "GSHHG full resolution level 1 land (LGPL), simplified "
            f"{tolerance_deg} deg, islands >= {min_area_km2} km2; see LAND-PROVENANCE.md"
        ),
        "features": features,
    }
    target_path = Path(target)
    text = json.dumps(out, separators=(",", ":"))
    target_path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    return target_path
