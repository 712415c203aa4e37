"""On-disk cache of built catalogs (private).

A built catalog is stored as one JSON file, ``catalog-<name>-<key>.json``, whose geometries
are base64 WKB. The key hashes the shipped input files, :data:`BUILD_VERSION`, the source
of the build modules and the file format, so that a change to any of them triggers a
rebuild; stale files of the same catalog are removed after a successful write.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from ..core.zones import Zone
from . import _build, _geo, _inputs
from ._build import BUILD_VERSION, BuiltCatalog

__all__ = ["CACHE_ENV", "cache_key", "cache_path", "read_cache", "resolve_cache_dir", "write_cache"]

CACHE_ENV = "PATROLWATCH_CACHE_DIR"
"""Environment variable naming the cache directory (used when no ``cache_dir`` is given)."""
FORMAT = 1
"""Version of the cache file layout."""


def _user_cache_dir() -> Path:
    """The platform's per-user cache directory for patrolwatch."""
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / "patrolwatch" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "patrolwatch"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else home / ".cache") / "patrolwatch"


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None) -> Path:
    """``cache_dir`` if given, else ``$PATROLWATCH_CACHE_DIR``, else the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else _user_cache_dir()


def cache_key(data_dir: Path) -> str:
    """Hex key of a build: hash of the inputs, the build version and the build code."""
    h = hashlib.sha256()
    h.update(f"format={FORMAT};build={BUILD_VERSION};".encode())
    h.update(_inputs.data_digest(data_dir).encode())
    for module in (_build, _geo, _inputs):
        path = getattr(module, "__file__", None)
        if path is not None:
            h.update(Path(path).read_bytes())
    return h.hexdigest()[:20]


def cache_path(cache_dir: Path, name: str, key: str) -> Path:
    """Where the catalog ``name`` built with ``key`` is cached."""
    return cache_dir / f"catalog-{name}-{key}.json"


def _geom_out(geom: BaseGeometry | None) -> str | None:
    if geom is None:
        return None
    return base64.b64encode(shapely.to_wkb(geom)).decode("ascii")


def _geom_in(text: str | None) -> BaseGeometry | None:
    if text is None:
        return None
    geom: BaseGeometry = shapely.from_wkb(base64.b64decode(text))
    return geom


def _float_out(x: float) -> float | None:
    return None if math.isnan(x) else x


def _float_in(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _zone_out(z: Zone) -> dict[str, Any]:
    return {
        "id": z.id,
        "name": z.name,
        "kind": z.kind,
        "claimants": list(z.claimants),
        "geometry": _geom_out(z.geometry),
        "buffer_m": _float_out(z.buffer_m),
        "floor_m": _float_out(z.floor_m),
        "ceiling_m": _float_out(z.ceiling_m),
        "floor_ref": z.floor_ref,
        "ceiling_ref": z.ceiling_ref,
        "edges": z.edges,
        "reference": _geom_out(z.reference),
        "source": z.source,
        "as_of": z.as_of,
        "caveat": z.caveat,
        "complete": z.complete,
        "origin": z.origin,
        "properties": dict(z.properties),
    }


def _zone_in(d: dict[str, Any]) -> Zone:
    geometry = _geom_in(d["geometry"])
    if geometry is None:
        raise ValueError(f"zone {d['id']} has no geometry")
    return Zone(
        id=d["id"],
        name=d["name"],
        kind=d["kind"],
        claimants=tuple(d["claimants"]),
        geometry=geometry,
        buffer_m=_float_in(d["buffer_m"]),
        floor_m=_float_in(d["floor_m"]),
        ceiling_m=_float_in(d["ceiling_m"]),
        floor_ref=d["floor_ref"],
        ceiling_ref=d["ceiling_ref"],
        edges="geodesic" if d["edges"] == "geodesic" else "lonlat",
        reference=_geom_in(d["reference"]),
        source=d["source"],
        as_of=d["as_of"],
        caveat=d["caveat"],
        complete=bool(d["complete"]),
        origin=d["origin"],
        properties=d["properties"],
    )


def write_cache(path: Path, key: str, built: BuiltCatalog) -> None:
    """Write ``built`` to ``path`` atomically; remove older files of the same catalog.

    Raises
    ------
    OSError
        When the directory cannot be created or written.
    """
    doc = {
        "format": FORMAT,
        "key": key,
        "zones": [_zone_out(z) for z in built.zones],
        "incomplete": [_zone_out(z) for z in built.incomplete],
        "notes": list(built.notes),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for old in path.parent.glob(prefix + "*.json"):
        if old != path:
            old.unlink(missing_ok=True)


def read_cache(path: Path, key: str) -> BuiltCatalog | None:
    """The catalog cached at ``path``, or ``None`` if absent, unreadable or of another key."""
    try:
        with path.open(encoding="utf-8") as fh:
            doc = json.load(fh)
        if doc.get("format") != FORMAT or doc.get("key") != key:
            return None
        return BuiltCatalog(
            tuple(_zone_in(z) for z in doc["zones"]),
            tuple(_zone_in(z) for z in doc["incomplete"]),
            tuple(str(n) for n in doc["notes"]),
        )
    except (OSError, ValueError, KeyError, TypeError, GEOSException):
        return None
