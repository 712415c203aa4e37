"""Built-in zone catalogs.

``nea`` (Northeast Asia) holds the air defence identification zones and the territorial
zones (12 NM territorial sea and the airspace above it, land included) of KOR, JPN, CHN,
RUS, TWN and PRK, with each disputed feature as one zone listing all its claimants.
See ``docs/catalog.md`` for the zone ids, sources, method and caveats.

Examples
--------
>>> CATALOGS
('nea',)
"""

from __future__ import annotations

from ._catalog import CATALOGS, Catalog, catalog_zone, load_catalog

__all__ = ["CATALOGS", "Catalog", "catalog_zone", "load_catalog"]

for _name in ("Catalog", "catalog_zone", "load_catalog"):
    globals()[_name].__module__ = __name__
del _name
