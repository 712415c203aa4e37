"""The built-in zone catalogs: loading, caching, lookup (private; see ``patrolwatch.catalog``)."""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..core.zones import Zone, Zones
from ..errors import ConfigError, PatrolwatchError
from . import _build, _cache, _inputs

__all__ = ["CATALOGS", "Catalog", "catalog_zone", "load_catalog"]

CATALOGS: tuple[str, ...] = ("nea",)
"""Names of the built-in catalogs. ``nea``: Northeast Asia (ADIZs and territorial zones of
KOR, JPN, CHN, RUS, TWN, PRK and the disputed features between them)."""

_LOCK = threading.Lock()
_MEMO: dict[tuple[str, Path], Catalog] = {}
_BUILDS = 0
"""Number of catalog builds done in this process (the cache tests read it)."""


@dataclass(frozen=True)
class Catalog:
    """A built-in zone catalog.

    Attributes
    ----------
    zones : Zones
        The complete zones, usable for crossings: every one is a Polygon or MultiPolygon in
        lon/lat degrees (WGS84) with ``edges="lonlat"`` and ``complete=True``.
    incomplete : tuple of Zone
        Zones whose boundary cannot honestly be closed from the shipped sources (for ``nea``:
        ``adiz:JPN``, a LineString); listed with ``complete=False`` and never used.
    notes : tuple of str
        Human-readable notes on what was left out or approximated, and how to fix it.
    """

    zones: Zones
    incomplete: tuple[Zone, ...]
    notes: tuple[str, ...]


def _check_name(name: str) -> None:
    if name not in CATALOGS:
        raise ConfigError(
            f"unknown zone catalog {name!r}; built-in catalogs are {', '.join(CATALOGS)} "
            "(or give your own zones as a GeoJSON file with --zones)"
        )


def _build_and_cache(name: str, path: Path, key: str) -> _build.BuiltCatalog:
    global _BUILDS
    built = _build.build_nea(_inputs.read_inputs(_inputs.nea_data_dir()))
    _BUILDS += 1
    try:
        _cache.write_cache(path, key, built)
    except OSError as exc:
        warnings.warn(
            f"cannot write the {name} catalog cache to {path} ({exc}); the catalog will be "
            f"rebuilt on every run: set {_cache.CACHE_ENV} to a writable directory",
            RuntimeWarning,
            stacklevel=4,
        )
    return built


def load_catalog(name: str = "nea", *, cache_dir: str | os.PathLike[str] | None = None) -> Catalog:
    """Load a built-in zone catalog, building it on first use.

    The first call on a machine builds the zones from the data shipped in the package
    (about 15 s) and caches them; later calls read the cache (well under a second), and
    calls within one process reuse the loaded catalog. No network and no file outside the
    package and the cache directory is read.

    Parameters
    ----------
    name : str, default "nea"
        One of :data:`CATALOGS`.
    cache_dir : str or path-like, optional
        Directory of the cache. Default: ``$PATROLWATCH_CACHE_DIR`` if set, else the
        platform's user cache directory (``~/.cache/patrolwatch`` on Linux).

    Returns
    -------
    Catalog
        Complete zones, incomplete zones and notes.

    Raises
    ------
    ConfigError
        For an unknown catalog name.
    PatrolwatchError
        When the catalog's data files are missing from the installed package.

    Warns
    -----
    RuntimeWarning
        When the cache cannot be written (the catalog is still returned).

    Notes
    -----
    The cache file is keyed by a hash of the shipped input data and of the build code, so
    an upgrade rebuilds it once. A corrupt or foreign cache file is ignored and rewritten.

    Examples
    --------
    >>> load_catalog("europe")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    patrolwatch.ConfigError: unknown zone catalog 'europe'; built-in catalogs are nea ...
    """
    _check_name(name)
    directory = _cache.resolve_cache_dir(cache_dir).expanduser().resolve()
    with _LOCK:
        memo = _MEMO.get((name, directory))
        if memo is not None:
            return memo
        try:
            key = _cache.cache_key(_inputs.nea_data_dir())
        except FileNotFoundError as exc:
            raise PatrolwatchError(
                f"the data of catalog {name!r} is missing from the installed package "
                f"({exc.filename}); reinstall patrolwatch"
            ) from exc
        path = _cache.cache_path(directory, name, key)
        built = _cache.read_cache(path, key)
        if built is None:
            built = _build_and_cache(name, path, key)
        catalog = Catalog(Zones(built.zones), built.incomplete, built.notes)
        _MEMO[(name, directory)] = catalog
        return catalog


def catalog_zone(name: str, zone_id: str) -> Zone:
    """One complete zone of a built-in catalog, by id (e.g. ``"territorial:KOR"``).

    Parameters
    ----------
    name : str
        Catalog name, one of :data:`CATALOGS`.
    zone_id : str
        Zone id, ``KIND:ISO3[-ISO3...][:PART]``; see ``docs/catalog.md``.

    Returns
    -------
    Zone

    Raises
    ------
    ConfigError
        For an unknown catalog or zone id, and for an incomplete zone (such as
        ``adiz:JPN``): the message says how to supply a full polygon instead.

    Examples
    --------
    >>> catalog_zone("europe", "adiz:KOR")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    patrolwatch.ConfigError: unknown zone catalog 'europe'; built-in catalogs are nea ...
    """
    _check_name(name)
    catalog = load_catalog(name)
    if zone_id in catalog.zones.ids:
        zone: Zone = catalog.zones[zone_id]
        return zone
    for zone in catalog.incomplete:
        if zone.id == zone_id:
            claimants = ";".join(zone.claimants)
            raise ConfigError(
                f"zone {zone_id!r} of catalog {name!r} is incomplete and cannot be used: "
                f"{zone.caveat} To use it, supply a full polygon: a GeoJSON file with a "
                f"Polygon feature with properties id={zone_id!r}, kind={zone.kind!r}, "
                f"claimants={claimants!r}, passed with --zones (read_zones in Python)"
            )
    raise ConfigError(
        f"catalog {name!r} has no zone {zone_id!r}; its zones are "
        f"{', '.join(catalog.zones.ids.tolist())}"
    )
