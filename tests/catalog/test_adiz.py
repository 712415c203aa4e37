"""The ADIZs of the ``nea`` catalog: published vertices, the JADIZ gap, the CHN west limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from patrolwatch.catalog import Catalog, catalog_zone
from patrolwatch.errors import ConfigError

from . import _reference as ref


def dms(deg: int, minutes: int, seconds: float = 0.0) -> float:
    """Degrees, minutes, seconds to decimal degrees (by hand, not via the code)."""
    return deg + minutes / 60 + seconds / 3600


# ROK MND announcement of 8 Dec 2013 (SOURCES.md): (lon, lat)
KADIZ = [
    (dms(123, 30), dms(39, 0)),
    (dms(133, 0), dms(39, 0)),
    (dms(133, 0), dms(37, 17)),
    (dms(128, 52), dms(34, 17)),
    (dms(127, 30), dms(32, 30)),
    (dms(126, 50), dms(32, 30)),
    (dms(125, 25), dms(30, 0)),
    (dms(124, 0), dms(30, 0)),
    (dms(124, 0), dms(37, 0)),
]
# PRC statement of 23 Nov 2013, the six points in order; the ring is closed by the
# territorial limit of China, not by a chord from the last point back to the first
ECS = [
    (dms(121, 47), dms(33, 11)),
    (dms(125, 0), dms(33, 11)),
    (dms(128, 20), dms(31, 0)),
    (dms(125, 0), dms(25, 38)),
    (dms(123, 0), dms(24, 45)),
    (dms(120, 58), dms(26, 44)),
]
IEODO = (dms(125, 10, 56.81), dms(32, 7, 22.63))  # ROK research station


def test_kadiz_vertices_are_the_published_ones(nea: Catalog) -> None:
    ring = np.asarray(nea.zones["adiz:KOR"].geometry.exterior.coords)
    assert len(ring) == len(KADIZ) + 1
    assert np.allclose(ring[0], ring[-1])
    # the data carries 6 decimals: 1e-6 deg is 0.1 m
    assert np.allclose(ring[:-1], np.asarray(KADIZ), atol=1e-6)


def test_kadiz_assumed_segment_is_noted(nea: Catalog) -> None:
    assert any(n.startswith("adiz:KOR:") and "assumed" in n for n in nea.notes)
    assert nea.zones["adiz:KOR"].properties["source_complete"] is False


def test_jadiz_is_listed_incomplete_not_used(nea: Catalog) -> None:
    (jadiz,) = [z for z in nea.incomplete if z.id == "adiz:JPN"]
    assert jadiz.geometry.geom_type == "LineString"
    assert not jadiz.complete
    assert "adiz:JPN" not in nea.zones.ids
    assert any(n.startswith("adiz:JPN left out") for n in nea.notes)


def test_asking_for_the_jadiz_explains_how_to_supply_it(nea_cache_dir: Path, nea: Catalog) -> None:
    with pytest.raises(ConfigError) as err:
        catalog_zone("nea", "adiz:JPN")
    msg = str(err.value)
    assert "incomplete" in msg and "--zones" in msg and "GeoJSON" in msg and "Polygon" in msg
    assert "'adiz:JPN'" in msg


def test_ecs_adiz_keeps_the_published_seaward_points(nea: Catalog) -> None:
    ring = np.asarray(nea.zones["adiz:CHN-ECS"].geometry.exterior.coords)
    for lon, lat in ECS[1:5]:  # the seaward points; the end points may fall in CHN waters
        assert np.min(np.hypot(ring[:, 0] - lon, ring[:, 1] - lat)) < 1e-6


def test_ecs_adiz_stops_at_the_chinese_territorial_limit(
    nea: Catalog, sources: dict[str, ref.Sources]
) -> None:
    ecs = nea.zones["adiz:CHN-ECS"]
    assert "approximate" in ecs.caveat
    overlap = ecs.geometry.intersection(nea.zones["territorial:CHN"].geometry)
    assert overlap.area < 1e-9  # deg^2, i.e. under about 10 m^2
    # sample the boundary away from the published straight edges: the western limit
    published = shapely.LineString(ECS).buffer(1e-5)
    west = shapely.line_merge(ecs.geometry.exterior.difference(published))
    parts = list(shapely.get_parts(west))
    assert sum(p.length for p in parts) > 5.0  # degrees: the limit runs along the coast
    pts = [
        shapely.line_interpolate_point(part, f, normalized=True)
        for part in parts
        if part.length > 0.05
        for f in np.linspace(0.05, 0.95, 6)
    ]
    assert len(pts) >= 6
    for p in pts:
        d = ref.nearest_m(sources["CHN"], (p.x, p.y))
        assert abs(d - ref.TWELVE_NM_M) <= 50.0, (p, d)


def test_ieodo_lies_in_both_adizs(nea: Catalog) -> None:
    point = shapely.Point(IEODO)
    assert nea.zones["adiz:KOR"].geometry.contains(point)
    assert nea.zones["adiz:CHN-ECS"].geometry.contains(point)
