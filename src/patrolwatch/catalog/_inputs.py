"""Reading the shipped input data of the ``nea`` catalog (private).

The inputs live in ``patrolwatch/data/nea`` (see ``PROVENANCE.md`` there). They are read
only from the installed package, never from a development checkout's shared data.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import SchemaError

__all__ = [
    "INPUT_FILES",
    "Feature",
    "Inputs",
    "data_digest",
    "nea_data_dir",
    "read_inputs",
]

LAND_FILE = "nea_land_gshhg_f.geojson.gz"
ISLETS_FILE = "islets.geojson"
BASELINES_FILE = "baselines.geojson"
STRAITS_FILE = "japan_specified_straits.geojson"
ADIZ_FILE = "adiz.geojson"
INPUT_FILES: tuple[str, ...] = (LAND_FILE, ISLETS_FILE, BASELINES_FILE, STRAITS_FILE, ADIZ_FILE)
"""Every shipped input file of the ``nea`` catalog; the cache key hashes all of them."""


@dataclass(frozen=True)
class Feature:
    """One GeoJSON feature: its properties and its geometry (lon/lat degrees)."""

    properties: dict[str, Any]
    geometry: BaseGeometry
    origin: str

    @property
    def id(self) -> str:
        """The feature's ``id`` property."""
        return str(self.properties["id"])


@dataclass(frozen=True)
class Inputs:
    """All inputs of the ``nea`` build.

    Attributes
    ----------
    land : ndarray of shapely Polygon, lon/lat degrees
        GSHHG land polygons.
    land_claimants : ndarray of str
        Their ``claimants`` property (``"KOR"``, ``"RUS;JPN"``, ...), administering state first.
    islets, baselines, straits, adiz : tuple of Feature
        The features of the other input files, in file order.
    """

    land: npt.NDArray[np.object_]
    land_claimants: npt.NDArray[np.str_]
    islets: tuple[Feature, ...]
    baselines: tuple[Feature, ...]
    straits: tuple[Feature, ...]
    adiz: tuple[Feature, ...]


def nea_data_dir() -> Path:
    """Directory of the shipped ``nea`` inputs inside the installed package."""
    return Path(__file__).resolve().parent.parent / "data" / "nea"


def data_digest(directory: Path) -> str:
    """SHA-256 (hex) over the names and bytes of every input file, in a fixed order."""
    h = hashlib.sha256()
    for name in INPUT_FILES:
        h.update(name.encode())
        h.update((directory / name).read_bytes())
    return h.hexdigest()


def _read_collection(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    if doc.get("type") != "FeatureCollection":
        raise SchemaError("expected a GeoJSON FeatureCollection", path=str(path))
    features: list[dict[str, Any]] = doc["features"]
    return features


def _features(path: Path, required: tuple[str, ...]) -> tuple[Feature, ...]:
    out = []
    for i, raw in enumerate(_read_collection(path)):
        props = dict(raw.get("properties") or {})
        missing = [k for k in required if k not in props]
        if missing:
            raise SchemaError(
                f"feature #{i} lacks properties {missing}; restore the file from the "
                "package sources",
                path=str(path),
                feature=str(props.get("id", f"#{i}")),
            )
        geom = shapely.from_geojson(json.dumps(raw["geometry"]))
        out.append(Feature(props, geom, f"{path.name}#{i}"))
    return tuple(out)


def read_inputs(directory: Path) -> Inputs:
    """Read and check every shipped input file of the ``nea`` catalog.

    Raises
    ------
    SchemaError
        When a file is not a FeatureCollection or a feature lacks a required property.
    """
    land_path = directory / LAND_FILE
    raw_land = _read_collection(land_path)
    claimants = []
    for i, raw in enumerate(raw_land):
        props = raw.get("properties") or {}
        if not props.get("claimants"):
            raise SchemaError(
                "land polygon without 'claimants'", path=str(land_path), feature=f"#{i}"
            )
        claimants.append(str(props["claimants"]))
    land = shapely.from_geojson([json.dumps(raw["geometry"]) for raw in raw_land])
    return Inputs(
        land=np.asarray(land, dtype=object),
        land_claimants=np.asarray(claimants, dtype=str),
        islets=_features(directory / ISLETS_FILE, ("id", "kind", "claimants", "source")),
        baselines=_features(directory / BASELINES_FILE, ("id", "iso3", "source", "as_of")),
        straits=_features(directory / STRAITS_FILE, ("id", "state", "limit_nm", "name")),
        adiz=_features(
            directory / ADIZ_FILE, ("id", "name", "claimants", "source", "as_of", "caveat")
        ),
    )
