"""The catalog API: zone ids and fields, notes, errors, and the on-disk cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import shapely

from patrolwatch.catalog import CATALOGS, Catalog, _cache, _catalog, catalog_zone, load_catalog
from patrolwatch.errors import ConfigError

from .conftest import FreshBuild

EXPECTED_ZONES = {
    # id: (kind, claimants) -- the scheme documented in docs/catalog.md
    "adiz:KOR": ("adiz", ("KOR",)),
    "adiz:CHN-ECS": ("adiz", ("CHN",)),
    "territorial:KOR": ("territorial", ("KOR",)),
    "territorial:JPN": ("territorial", ("JPN",)),
    "territorial:CHN": ("territorial", ("CHN",)),
    "territorial:RUS": ("territorial", ("RUS",)),
    "territorial:TWN": ("territorial", ("TWN", "CHN")),
    "territorial:PRK": ("territorial", ("PRK",)),
    "territorial:KOR-JPN:dokdo": ("territorial", ("KOR", "JPN")),
    "territorial:JPN-CHN-TWN:senkaku": ("territorial", ("JPN", "CHN", "TWN")),
    "territorial:RUS-JPN:kurils": ("territorial", ("RUS", "JPN")),
}


def test_catalogs_lists_nea() -> None:
    assert CATALOGS == ("nea",)


def test_fresh_build_reads_only_the_package_data(fresh_build: FreshBuild) -> None:
    assert fresh_build.forbidden == []
    assert fresh_build.builds == 1
    assert list(fresh_build.cache_dir.glob("catalog-nea-*.json"))


def test_second_load_reuses_the_cache_file(fresh_build: FreshBuild) -> None:
    (path,) = fresh_build.cache_dir.glob("catalog-nea-*.json")
    stat = path.stat()
    builds = _catalog._BUILDS
    _catalog._MEMO.clear()  # forget the in-process copy: the next load must read the file
    again = load_catalog("nea", cache_dir=fresh_build.cache_dir)
    assert builds == _catalog._BUILDS
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == (stat.st_mtime_ns, stat.st_ino)
    assert again.zones.ids.tolist() == fresh_build.catalog.zones.ids.tolist()
    for a, b in zip(again.zones, fresh_build.catalog.zones, strict=True):
        assert shapely.to_wkb(a.geometry) == shapely.to_wkb(b.geometry)
        assert (a.caveat, a.claimants, a.properties) == (b.caveat, b.claimants, b.properties)
    assert again.notes == fresh_build.catalog.notes


def test_loads_in_one_process_share_one_catalog(fresh_build: FreshBuild) -> None:
    first = load_catalog("nea", cache_dir=fresh_build.cache_dir)
    assert load_catalog("nea", cache_dir=fresh_build.cache_dir) is first


def test_default_cache_dir_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATROLWATCH_CACHE_DIR", str(tmp_path))
    assert _cache.resolve_cache_dir(None) == tmp_path
    assert _cache.resolve_cache_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("PATROLWATCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and _cache.sys.platform != "darwin":
        assert _cache.resolve_cache_dir(None) == tmp_path / "xdg" / "patrolwatch"


def test_corrupt_or_foreign_cache_files_are_ignored(
    fresh_build: FreshBuild, tmp_path: Path
) -> None:
    (path,) = fresh_build.cache_dir.glob("catalog-nea-*.json")
    key = json.loads(path.read_text(encoding="utf-8"))["key"]
    broken = tmp_path / path.name
    broken.write_text('{"format": 1, "key": "' + key + '", "zones": [', encoding="utf-8")
    assert _cache.read_cache(broken, key) is None
    foreign = tmp_path / "other.json"
    foreign.write_bytes(path.read_bytes())
    assert _cache.read_cache(foreign, "not-the-key") is None
    assert _cache.read_cache(tmp_path / "absent.json", key) is None
    assert _cache.read_cache(foreign, key) is not None


def test_zone_ids_kinds_and_claimants(nea: Catalog) -> None:
    got = {z.id: (z.kind, z.claimants) for z in nea.zones}
    assert got == EXPECTED_ZONES


def test_every_zone_carries_its_provenance(nea: Catalog) -> None:
    for zone in nea.zones:
        assert zone.complete, zone.id
        assert zone.edges == "lonlat", zone.id
        assert zone.geometry.geom_type in ("Polygon", "MultiPolygon"), zone.id
        assert zone.geometry.is_valid and not zone.geometry.is_empty, zone.id
        assert not zone.is_buffer, zone.id
        assert zone.source and zone.as_of and zone.caveat and zone.name, zone.id
        assert zone.origin == f"catalog:nea#{zone.id}"
        json.dumps(dict(zone.properties))  # exportable as GeoJSON properties


def test_territorial_caveats_say_how_the_limit_was_measured(nea: Catalog) -> None:
    for zid in ("territorial:KOR", "territorial:JPN", "territorial:RUS", "territorial:PRK"):
        caveat = nea.zones[zid].caveat
        assert "low-water line" in caveat and "straight baselines" in caveat, zid
        assert "understates" in caveat, zid
    assert "approximate" in nea.zones["territorial:JPN"].caveat
    assert "Korea Strait box" in nea.zones["territorial:KOR"].caveat
    assert "1996 straight baselines" in nea.zones["territorial:CHN"].caveat
    assert "summits" in nea.zones["territorial:KOR-JPN:dokdo"].caveat


def test_zone_export_round_trips_through_geojson(nea: Catalog) -> None:
    doc = nea.zones.to_geojson()
    text = json.dumps(doc)
    assert len(json.loads(text)["features"]) == len(nea.zones)


def test_notes_explain_what_was_left_out(nea: Catalog) -> None:
    text = "\n".join(nea.notes)
    assert any(n.startswith("adiz:JPN left out") and "--zones" in n for n in nea.notes)
    assert "feature:ieodo" in text and "no territorial sea" in text
    assert "baseline:CHN-2012-diaoyu-1" in text
    assert "equidistance" in text


def test_unknown_catalog_and_zone_raise_config_error(nea_cache_dir: Path, nea: Catalog) -> None:
    with pytest.raises(ConfigError, match="unknown zone catalog 'mars'"):
        load_catalog("mars")
    with pytest.raises(ConfigError, match="has no zone 'adiz:XXX'"):
        catalog_zone("nea", "adiz:XXX")


def test_catalog_zone_returns_the_catalog_zone(nea_cache_dir: Path, nea: Catalog) -> None:
    zone = catalog_zone("nea", "territorial:KOR-JPN:dokdo")
    assert zone.id == "territorial:KOR-JPN:dokdo"
    assert zone.geometry.equals(nea.zones["territorial:KOR-JPN:dokdo"].geometry)
