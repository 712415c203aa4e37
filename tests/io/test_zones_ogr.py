"""GeoPackage, Shapefile, KML/KMZ and GeoParquet zone files: round trips and CRS handling."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyproj
import pytest
import shapely

import patrolwatch
from patrolwatch.errors import ConfigError, InputError, SchemaError
from patrolwatch.io.geojson import ZONE_FORMATS, read_zones
from patrolwatch.io.zones_ogr import read_geoparquet_zones, read_ogr_zones

DATA = Path(__file__).parent / "data"
KML = DATA / "zones.kml"

# two zones near Dokdo/Ulleungdo and one near Jeju, lon/lat
BOX_A = shapely.box(131.8, 37.2, 131.9, 37.3)
BOX_B = shapely.box(130.8, 37.4, 131.0, 37.6)
BOX_C = shapely.box(126.1, 33.1, 126.9, 33.6)


def frame(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c"],
            "name": ["Box A", "Box B", "Box C"],
            "kind": ["territorial", "restricted", None],
            "claimants": ["KOR;JPN", "KOR", None],
            "floor": ["GND", "FL100", None],
            "ceiling": ["UNL", "FL245", None],
        },
        geometry=[BOX_A, BOX_B, BOX_C],
        crs="EPSG:4326",
    )
    return gdf.to_crs(crs)


def check_boxes(zones: object, tol: float = 1e-7) -> None:
    from patrolwatch.core.zones import Zones

    assert isinstance(zones, Zones)
    assert zones.ids.tolist() == ["a", "b", "c"]
    for zone, box in zip(zones, (BOX_A, BOX_B, BOX_C), strict=True):
        assert zone.geometry.geom_type == "Polygon"
        # every vertex comes back in lon/lat
        assert shapely.hausdorff_distance(zone.geometry, box) < tol
    a, b, c = zones
    assert (a.kind, a.claimants, a.floor_ref, a.ceiling_ref) == (
        "territorial",
        ("KOR", "JPN"),
        "GND",
        "UNL",
    )
    assert b.kind == "restricted" and b.floor_m == pytest.approx(10000 * 0.3048)
    assert c.kind == "custom" and c.claimants == ()


def test_geopackage_round_trip_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "z.gpkg"
    pyogrio.write_dataframe(frame(), path, layer="zones")
    zones = read_zones(path)
    check_boxes(zones)
    assert zones["a"].name == "Box A"


def test_geopackage_in_korea_2000_comes_back_in_lonlat(tmp_path: Path) -> None:
    path = tmp_path / "k.gpkg"
    gdf = frame("EPSG:5179")
    assert gdf.geometry.iloc[0].bounds[0] > 1_000_000  # metres, not degrees
    pyogrio.write_dataframe(gdf, path, layer="zones")
    check_boxes(read_zones(path), tol=1e-6)


def test_geopackage_reads_every_layer(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    gdf = frame()
    pyogrio.write_dataframe(gdf.iloc[:2], path, layer="east")
    pyogrio.write_dataframe(gdf.iloc[2:], path, layer="jeju", append=True)
    zones = read_ogr_zones(path)
    assert zones.ids.tolist() == ["a", "b", "c"]
    assert zones["c"].properties["layer"] == "jeju"
    assert read_ogr_zones(path, layer="jeju").ids.tolist() == ["c"]


def foreign_frame() -> gpd.GeoDataFrame:
    """A layer with its own column names, in Korea 2000 / Unified CS (metres)."""
    return gpd.GeoDataFrame(
        {"NAME": ["KADIZ-1", "KADIZ-2"], "LOWER": ["GND", "GND"], "REMARK": ["x", "y"]},
        geometry=[BOX_A, BOX_B],
        crs="EPSG:4326",
    ).to_crs("EPSG:5179")


def test_shapefile_with_mapping_in_projected_crs(tmp_path: Path) -> None:
    path = tmp_path / "adiz.shp"
    pyogrio.write_dataframe(foreign_frame(), path)
    zones = read_zones(
        path, id_field="NAME", kind="adiz", claimants="KOR", mapping={"floor": "LOWER"}
    )
    assert zones.ids.tolist() == ["KADIZ-1", "KADIZ-2"]
    for zone, box in zip(zones, (BOX_A, BOX_B), strict=True):
        assert (zone.kind, zone.claimants, zone.floor_ref) == ("adiz", ("KOR",), "GND")
        assert shapely.hausdorff_distance(zone.geometry, box) < 1e-6
        assert zone.properties["REMARK"] in ("x", "y") and "LOWER" not in zone.properties


def test_shapefile_without_prj_is_refused_then_read_with_crs(tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(foreign_frame(), path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError) as info:
        read_zones(path, id_field="NAME")
    assert info.value.path == str(path)
    assert "no coordinate reference system" in info.value.reason
    assert ".prj" in info.value.reason and "crs=" in info.value.reason
    zones = read_zones(path, id_field="NAME", crs="EPSG:5179")
    assert shapely.hausdorff_distance(zones["KADIZ-1"].geometry, BOX_A) < 1e-6


def test_unknown_crs_and_conflicting_crs(tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(foreign_frame(), path)
    with pytest.raises(ConfigError, match="differs"):
        read_zones(path, id_field="NAME", crs="EPSG:4326")
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match="unknown to PROJ"):
        read_zones(path, id_field="NAME", crs="EPSG:999999")


def test_kml_and_kmz(tmp_path: Path) -> None:
    zones = read_zones(KML, kind="danger")
    assert zones.ids.tolist() == ["box-a", "box-b"]
    a = zones["box-a"]
    assert a.kind == "danger"
    expected = shapely.box(127.0, 37.0, 127.2, 37.2)
    assert shapely.hausdorff_distance(a.geometry, expected) < 1e-12
    assert a.properties["description"].startswith("a 0.2 degree box")
    kmz = tmp_path / "zones.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(KML, "doc.kml")
    assert read_zones(kmz).ids.tolist() == ["box-a", "box-b"]


def test_geoparquet_in_projected_crs(tmp_path: Path) -> None:
    path = tmp_path / "z.parquet"
    frame("EPSG:5179").to_parquet(path)
    check_boxes(read_zones(path), tol=1e-6)


def test_geoparquet_without_crs_and_plain_parquet(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.parquet"
    gdf = frame("EPSG:5179")
    gdf = gdf.set_crs(None, allow_override=True)
    gdf.to_parquet(path)
    with pytest.raises(InputError, match="no coordinate reference system"):
        read_geoparquet_zones(path)
    check_boxes(read_geoparquet_zones(path, crs="EPSG:5179"), tol=1e-6)
    plain = tmp_path / "plain.parquet"
    gdf.drop(columns="geometry").to_parquet(plain)
    with pytest.raises(SchemaError, match="not GeoParquet"):
        read_zones(plain)


def test_duplicate_ids_and_bad_geometry_name_the_feature(tmp_path: Path) -> None:
    path = tmp_path / "dup.gpkg"
    gdf = frame()
    gdf["id"] = ["a", "a", "c"]
    pyogrio.write_dataframe(gdf, path)
    with pytest.raises(SchemaError, match="id_field="):
        read_zones(path)
    bow = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    bad = gpd.GeoDataFrame({"id": ["bow"]}, geometry=[bow], crs="EPSG:4326")
    path = tmp_path / "bow.gpkg"
    pyogrio.write_dataframe(bad, path)
    with pytest.raises(InputError) as info:
        read_zones(path)
    assert info.value.feature == "bow" and "self-intersection" in info.value.reason


def test_reprojection_matches_pyproj_lonlat_order(tmp_path: Path) -> None:
    # EPSG:4326 is lat/lon by authority; the reader must keep lon first
    tr = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:5179", always_xy=True)
    x, y = tr.transform(131.8696, 37.2408)
    pt = shapely.Point(x, y).buffer(1000.0)
    path = tmp_path / "dokdo.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"id": ["d"]}, geometry=[pt], crs="EPSG:5179"), path)
    zone = read_zones(path)["d"]
    assert zone.geometry.contains(shapely.Point(131.8696, 37.2408))


def test_zone_formats_list_the_new_formats() -> None:
    for name in ("OpenAir", "GeoPackage", "Shapefile", "KML", "KMZ", "GeoParquet"):
        assert name in ZONE_FORMATS


def test_mapping_applies_to_geojson(tmp_path: Path) -> None:
    path = tmp_path / "z.geojson"
    gdf = frame().rename(columns={"name": "NAME_EN"})
    gdf.to_file(path, driver="GeoJSON")
    zones = patrolwatch.read_zones(path, mapping={"name": "NAME_EN"}, kind="eez")
    assert zones["a"].name == "Box A" and zones["c"].kind == "eez"


def test_cli_crossings_with_a_foreign_shapefile(tmp_path: Path) -> None:
    import csv
    import json

    from patrolwatch.cli import main

    shp = tmp_path / "adiz.shp"
    pyogrio.write_dataframe(foreign_frame(), shp)
    zone_map = tmp_path / "map.json"
    zone_map.write_text(json.dumps({"floor": "LOWER"}))
    tracks = tmp_path / "t.csv"
    tracks.write_text(
        "track_id,time,lat,lon\n"
        "A,2019-07-23T00:00:00Z,37.25,131.70\n"
        "A,2019-07-23T00:10:00Z,37.25,132.00\n"
    )
    out = tmp_path / "e.csv"
    args = ["crossings", str(tracks), "--zones", str(shp), "--id-field", "NAME"]
    args += ["--kind", "adiz", "--claimants", "KOR", "--zone-map", str(zone_map)]
    assert main([*args, "--out", str(out)]) == 0
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["zone_id"] for r in rows} == {"KADIZ-1"}
    assert {r["zone_kind"] for r in rows} == {"adiz"}


def test_cli_zones_check_openair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from patrolwatch.cli import main

    path = tmp_path / "a.openair"
    path.write_text(
        "AC R\nAN OK\nAL SFC\nAH FL100\nV X=37:00:00 N 127:00:00 E\nDC 1\n"
        "AC R\nAN BAD\nAL SFC\nAH FL100\nDP 37:00 N\n"
    )
    assert main(["zones", "check", str(path)]) == 2
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "1 valid zone(s), 1 problem(s)" in out and "a.openair:11:" in out
