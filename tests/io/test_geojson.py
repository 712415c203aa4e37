"""Tests for patrolwatch.io.geojson: zone features in, validated zones or located errors out."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, shape

from patrolwatch.core.zones import Zones
from patrolwatch.errors import (
    ConfigError,
    InputError,
    ParseError,
    SchemaError,
    ZoneGeometryError,
)
from patrolwatch.io.geojson import read_geojson_zones, read_zones

SHARED = Path(__file__).parents[2].parent / "shared"
INCIDENT_ZONES = SHARED / "data" / "incidents" / "2019-07-23-sea-of-japan" / "zones.geojson"
ADIZ = SHARED / "data" / "zones" / "adiz.geojson"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="shared data directory ../shared is absent"
)

SQUARE = [[124.0, 30.0], [125.0, 30.0], [125.0, 31.0], [124.0, 31.0], [124.0, 30.0]]
ISLET = [131.869556, 37.240778]  # Dokdo east islet, zones/islets.geojson


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings) or [SQUARE]}


def feature(geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    """A zone feature with id "z" (pass ``id=None`` to leave it out)."""
    props = {"id": "z", **props}
    props = {k: v for k, v in props.items() if v is not None}
    return {
        "type": "Feature",
        "properties": props,
        "geometry": polygon() if geometry is None else geometry,
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def write(tmp_path: Path, doc: Any, name: str = "zones.geojson") -> Path:
    path = tmp_path / name
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=1)
    path.write_text(text, encoding="utf-8")
    return path


def read_one(tmp_path: Path, feat: dict[str, Any], **kwargs: Any) -> Any:
    zones = read_geojson_zones(write(tmp_path, collection(feat)), **kwargs)
    assert len(zones) == 1
    return zones[0]


# --- validation: every error names the file and the feature and says how to fix it ------

POINT = {"type": "Point", "coordinates": ISLET}
LINE = {"type": "LineString", "coordinates": [[130.0, 36.0], [131.0, 37.0]]}

INVALID_FEATURES: dict[str, tuple[list[dict[str, Any]], type[InputError], str, str]] = {
    # name: (features, error type, feature label, what the message must say to fix it)
    "unclosed_ring": (
        [feature(polygon(SQUARE[:-1]))],
        ZoneGeometryError,
        "z",
        "repeat the first position at the end",
    ),
    "ring_with_3_positions": (
        [feature(polygon([[124.0, 30.0], [125.0, 30.0], [124.0, 30.0]]))],
        ZoneGeometryError,
        "z",
        "needs at least 4",
    ),
    "self_intersecting_ring": (
        [feature(polygon([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))],
        ZoneGeometryError,
        "z",
        "reorder the vertices so that no two edges cross",
    ),
    "ring_touching_itself": (
        [
            feature(
                polygon([[0, 0], [2, 0], [1, 1], [2, 2], [0, 2], [1, 1], [0, 0]]),
            )
        ],
        ZoneGeometryError,
        "z",
        "split the shape into two polygons",
    ),
    "hole_outside_shell": (
        [feature(polygon(SQUARE, [[126, 30], [127, 30], [127, 31], [126, 30]]))],
        ZoneGeometryError,
        "z",
        "a hole must lie inside the outer ring",
    ),
    "lat_lon_swapped": (
        [
            feature(
                polygon([[lat, lon] for lon, lat in [[131, 37], [132, 37], [132, 38], [131, 37]]])
            )
        ],
        ZoneGeometryError,
        "z",
        "are lon and lat swapped? GeoJSON is [lon, lat]",
    ),
    "lon_beyond_540": (
        [feature({"type": "Point", "coordinates": [600.0, 37.0]}, buffer_nm=12)],
        ZoneGeometryError,
        "z",
        "within [-180, 180]",
    ),
    "empty_coordinates": (
        [feature({"type": "Polygon", "coordinates": []})],
        ZoneGeometryError,
        "z",
        "give its positions as [lon, lat] pairs",
    ),
    "empty_ring": (
        [feature({"type": "Polygon", "coordinates": [[]]})],
        ZoneGeometryError,
        "z",
        "give it as a list of [lon, lat] positions",
    ),
    "null_geometry": (
        [{"type": "Feature", "properties": {"id": "z"}, "geometry": None}],
        ZoneGeometryError,
        "z",
        "give it a Polygon or MultiPolygon",
    ),
    "no_geometry_member": (
        [{"type": "Feature", "properties": {"id": "z"}}],
        ZoneGeometryError,
        "z",
        "give it a Polygon or MultiPolygon",
    ),
    "non_numeric_position": (
        [feature({"type": "Point", "coordinates": ["131.8", 37.2]}, buffer_nm=12)],
        ZoneGeometryError,
        "z",
        "write each position as [longitude, latitude]",
    ),
    "ring_around_pole": (
        [feature(polygon([[0, 80], [120, 80], [-120, 80], [0, 80]]))],
        ZoneGeometryError,
        "z",
        "add vertices along it so that each edge spans less",
    ),
    "overlapping_multipolygon": (
        [
            feature(
                {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [SQUARE],
                        [[[124.5, 30.5], [126, 30.5], [126, 32], [124.5, 30.5]]],
                    ],
                }
            )
        ],
        ZoneGeometryError,
        "z",
        "merge the overlapping polygons into one",
    ),
    "geometry_collection": (
        [feature({"type": "GeometryCollection", "geometries": [POINT]}, buffer_nm=12)],
        ZoneGeometryError,
        "z",
        "give each member its own feature",
    ),
    "unknown_geometry_type": (
        [feature({"type": "Circle", "coordinates": ISLET})],
        ZoneGeometryError,
        "z",
        "use one of Point, MultiPoint",
    ),
    "one_position_line": (
        [feature({"type": "LineString", "coordinates": [ISLET]}, buffer_nm=12)],
        ZoneGeometryError,
        "z",
        "at least 2 [lon, lat] positions",
    ),
    "point_without_buffer": (
        [feature(POINT)],
        ZoneGeometryError,
        "z",
        "add buffer_nm or buffer_m",
    ),
    "line_without_buffer": (
        [feature(LINE)],
        ZoneGeometryError,
        "z",
        "add buffer_nm or buffer_m",
    ),
    "geodesic_edge_of_180_degrees": (
        [feature(polygon([[0, 0], [180, 0], [180, 10], [0, 10], [0, 0]]), edges="geodesic")],
        ZoneGeometryError,
        "z",
        "add a vertex in between",
    ),
    "bad_reference_wkt": (
        [feature(reference="LINESTRIN (131 37, 132 38)")],
        ZoneGeometryError,
        "z",
        "write it as WKT in lon lat order",
    ),
    "bad_reference_latitude": (
        [feature(reference={"type": "Point", "coordinates": [37.2, 131.8]})],
        ZoneGeometryError,
        "z",
        "are lon and lat swapped?",
    ),
    "duplicate_ids": (
        [feature(), feature()],
        SchemaError,
        "z",
        "rename one of them",
    ),
    "no_id_and_no_name": (
        [feature(id="a"), feature(id=None)],
        SchemaError,
        "#1",
        'add a unique id, e.g. "id"',
    ),
    "id_not_a_string": (
        [feature(id=["a"])],
        SchemaError,
        "#0",
        "give the zone a string id",
    ),
    "not_a_feature": (
        [{"type": "Polygon", "coordinates": [SQUARE]}],
        SchemaError,
        "#0",
        '{"type": "Feature", "properties"',
    ),
    "properties_not_an_object": (
        [{"type": "Feature", "properties": ["id", "z"], "geometry": polygon()}],
        SchemaError,
        "#0",
        'write them as "properties": {"id"',
    ),
    "unknown_edges": (
        [feature(edges="great-circle")],
        SchemaError,
        "z",
        "use 'lonlat'",
    ),
    "non_numeric_buffer_nm": (
        [feature(POINT, buffer_nm="twelve")],
        SchemaError,
        "z",
        "give the distance in nautical miles as a number",
    ),
    "non_numeric_buffer_m": (
        [feature(POINT, buffer_m=[22224])],
        SchemaError,
        "z",
        "give the distance in metres as a number",
    ),
    "buffer_without_unit": (
        [feature(POINT, buffer="12")],
        SchemaError,
        "z",
        'write e.g. "buffer": "12 NM"',
    ),
    "buffer_unknown_unit": (
        [feature(POINT, buffer="12 furlongs")],
        SchemaError,
        "z",
        "use m, km, NM (nmi) or ft",
    ),
    "buffer_zero": (
        [feature(POINT, buffer_m=0)],
        SchemaError,
        "z",
        "a buffer must be > 0",
    ),
    "buffer_negative": (
        [feature(POINT, buffer="-12 NM")],
        SchemaError,
        "z",
        "a buffer must be > 0",
    ),
    "two_buffers": (
        [feature(POINT, buffer_nm=12, buffer_m=22224)],
        SchemaError,
        "z",
        "keep only one",
    ),
    "reference_on_buffer_zone": (
        [feature(POINT, buffer_nm=12, reference="POINT (131 37)")],
        SchemaError,
        "z",
        "remove 'reference'",
    ),
    "floor_unknown_unit": (
        [feature(floor="5000 yd")],
        SchemaError,
        "z",
        "use ft or m",
    ),
    "ceiling_unreadable": (
        [feature(ceiling="high")],
        SchemaError,
        "z",
        "write it as a flight level ('FL245')",
    ),
    "ceiling_without_unit": (
        [feature(ceiling=5000)],
        SchemaError,
        "z",
        "write it as a flight level ('FL245')",
    ),
    "floor_ft_not_a_number": (
        [feature(floor_ft="low")],
        SchemaError,
        "z",
        "give the floor as a number of feet",
    ),
    "floor_unlimited": (
        [feature(floor="UNL")],
        SchemaError,
        "z",
        "use 'GND' for the ground",
    ),
    "floor_above_ceiling": (
        [feature(floor="FL245", ceiling="5000 ft")],
        SchemaError,
        "z",
        "swap floor and ceiling",
    ),
    "unknown_altitude_reference": (
        [feature(ceiling="5000 ft QNH")],
        SchemaError,
        "z",
        "use AMSL (or MSL) or AGL",
    ),
    "complete_not_boolean": (
        [feature(complete="maybe")],
        SchemaError,
        "z",
        "write true or false",
    ),
    "claimants_not_text": (
        [feature(claimants=410)],
        SchemaError,
        "z",
        '"claimants": "KOR;JPN"',
    ),
    "claimants_space_separated": (
        [feature(claimants="KOR JPN")],
        SchemaError,
        "z",
        "separate codes with ';'",
    ),
    "source_not_text": (
        [feature(source={"url": "x"})],
        SchemaError,
        "z",
        "write it as a string",
    ),
}


@pytest.mark.parametrize(
    ("features", "error", "label", "fix"),
    list(INVALID_FEATURES.values()),
    ids=list(INVALID_FEATURES),
)
def test_invalid_feature_raises_naming_file_feature_and_fix(
    tmp_path: Path,
    features: list[dict[str, Any]],
    error: type[InputError],
    label: str,
    fix: str,
) -> None:
    path = write(tmp_path, collection(*features))
    with pytest.raises(error) as info:
        read_geojson_zones(path)
    exc = info.value
    assert type(exc) is error
    assert exc.path == str(path)
    assert exc.feature == label
    assert exc.line is None
    assert fix in exc.reason
    assert str(exc).startswith(f"{path}:-: feature {label!r}: ")


def test_bad_json_raises_parse_error_with_line_number(tmp_path: Path) -> None:
    text = '{\n "type": "FeatureCollection",\n "features": [\n  {"type": "Feature",,}\n ]\n}\n'
    path = write(tmp_path, text)
    with pytest.raises(ParseError) as info:
        read_geojson_zones(path)
    assert info.value.line == 4  # the doubled comma is on line 4
    assert info.value.path == str(path)
    assert "fix the syntax there" in info.value.reason
    assert str(info.value).startswith(f"{path}:4: invalid JSON")


@pytest.mark.parametrize(
    ("doc", "fix"),
    [
        ({"type": "Polygon", "coordinates": [SQUARE]}, "write each zone as"),
        ([feature()], "write each zone as"),
        ({"type": "FeatureCollection"}, 'add "features": [...]'),
    ],
    ids=["bare_geometry", "bare_list", "no_features"],
)
def test_document_that_is_not_a_feature_collection_raises(
    tmp_path: Path, doc: Any, fix: str
) -> None:
    path = write(tmp_path, doc)
    with pytest.raises(SchemaError) as info:
        read_geojson_zones(path)
    assert info.value.path == str(path)
    assert info.value.feature is None
    assert fix in info.value.reason


def test_non_utf8_file_raises_parse_error_with_line(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_bytes(b'{"type": "FeatureCollection",\n "features": [], "x": "\xff"}')
    with pytest.raises(ParseError) as info:
        read_geojson_zones(path)
    assert info.value.line == 2
    assert "re-save the file as UTF-8" in info.value.reason


def test_damaged_gzip_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson.gz"
    path.write_bytes(gzip.compress(json.dumps(collection(feature())).encode())[:-12])
    with pytest.raises(ParseError) as info:
        read_geojson_zones(path)
    assert info.value.path == str(path)
    assert "re-compress the file" in info.value.reason


def test_gz_name_without_gzip_content_raises(tmp_path: Path) -> None:
    path = write(tmp_path, collection(feature()), name="zones.geojson.gz")
    with pytest.raises(ParseError, match=r"rename it without \.gz"):
        read_geojson_zones(path)


@pytest.mark.parametrize(("kind", "claimants"), [("", None), (None, "KOR JPN")])
def test_bad_reader_defaults_raise_config_error(
    tmp_path: Path, kind: str | None, claimants: str | None
) -> None:
    path = write(tmp_path, collection(feature()))
    with pytest.raises(ConfigError):
        read_geojson_zones(path, kind=kind, claimants=claimants)


# --- properties ----------------------------------------------------------------------


def test_defaults_for_a_minimal_polygon_feature(tmp_path: Path) -> None:
    path = write(tmp_path, collection(feature()))
    zone = read_geojson_zones(path)[0]
    assert (zone.id, zone.name, zone.kind, zone.claimants) == ("z", "z", "custom", ())
    assert zone.edges == "lonlat"
    assert zone.complete is True
    assert (zone.source, zone.as_of, zone.caveat) == ("", "", "")
    assert math.isnan(zone.buffer_m) and not zone.is_buffer
    assert math.isnan(zone.floor_m) and math.isnan(zone.ceiling_m)
    assert (zone.floor_ref, zone.ceiling_ref) == ("", "")
    assert zone.reference is None
    assert zone.origin == f"{path}#0"
    assert zone.properties == {}
    assert zone.geometry.equals_exact(shape(polygon()), 0.0)


def test_unknown_properties_are_kept_unchanged(tmp_path: Path) -> None:
    extra = {"vertices_dms": ["39°00'N 123°30'E"], "nested": {"a": [1, None]}, "n": 3}
    zone = read_one(tmp_path, feature(kind="ADIZ", source="MND", **extra))
    assert zone.properties == extra
    assert zone.kind == "adiz"
    assert zone.source == "MND"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("KOR;JPN", ("KOR", "JPN")),
        ("kor; jpn ;", ("KOR", "JPN")),
        ("JPN;CHN;TWN;chn", ("JPN", "CHN", "TWN")),
        ("KOR,JPN", ("KOR", "JPN")),
        (["jpn", "kor", "JPN"], ("JPN", "KOR")),
        ([], ()),
        ("", ()),
    ],
)
def test_claimants_parsed_upper_case_order_kept_repeats_dropped(
    tmp_path: Path, value: Any, expected: tuple[str, ...]
) -> None:
    assert read_one(tmp_path, feature(claimants=value)).claimants == expected


def test_kind_and_claimants_arguments_are_defaults_for_features_without_them(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path, collection(feature(id="a"), feature(id="b", kind="fir", claimants="JPN"))
    )
    a, b = read_geojson_zones(path, kind="Restricted", claimants="kor")
    assert (a.kind, a.claimants) == ("restricted", ("KOR",))
    assert (b.kind, b.claimants) == ("fir", ("JPN",))


@pytest.mark.parametrize(
    ("feat", "expected_id", "expected_name"),
    [
        (feature(id="adiz:KOR", name="KADIZ"), "adiz:KOR", "KADIZ"),
        (feature(id=None, name="KADIZ"), "KADIZ", "KADIZ"),
        (feature(id=7), "7", "7"),
        ({"type": "Feature", "id": "f1", "properties": {}, "geometry": polygon()}, "f1", "f1"),
    ],
    ids=["id_property", "name_fallback", "integer_id", "feature_member_id"],
)
def test_id_taken_from_property_then_feature_id_then_name(
    tmp_path: Path, feat: dict[str, Any], expected_id: str, expected_name: str
) -> None:
    zone = read_one(tmp_path, feat)
    assert (zone.id, zone.name) == (expected_id, expected_name)


def test_id_field_argument_picks_the_id_property(tmp_path: Path) -> None:
    zone = read_one(tmp_path, feature(zone_code="R-101"), id_field="zone_code")
    assert zone.id == "R-101"
    assert zone.properties == {"id": "z"}  # not the id field here: kept as a property


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (False, False),
        ("false", False),
        ("FALSE", False),
        ("no", False),
        (True, True),
        ("true", True),
    ],
)
def test_complete_accepts_booleans_and_strings(tmp_path: Path, value: Any, expected: bool) -> None:
    assert read_one(tmp_path, feature(complete=value)).complete is expected


@pytest.mark.parametrize(
    ("props", "buffer_m"),
    [
        ({"buffer_nm": 12}, 22224.0),  # by hand: 12 x 1852 m
        ({"buffer_nm": "12"}, 22224.0),
        ({"buffer_nm": 0.5}, 926.0),  # 0.5 x 1852
        ({"buffer_m": 500}, 500.0),
        ({"buffer": "12 NM"}, 22224.0),
        ({"buffer": "12nm"}, 22224.0),
        ({"buffer": "12 nmi"}, 22224.0),
        ({"buffer": "22 km"}, 22000.0),
        ({"buffer": "1000 ft"}, 304.8),  # 1000 x 0.3048 m
        ({"buffer": "250 m"}, 250.0),
    ],
)
def test_buffer_converted_to_metres(tmp_path: Path, props: dict[str, Any], buffer_m: float) -> None:
    zone = read_one(tmp_path, feature(POINT, **props))
    assert zone.buffer_m == pytest.approx(buffer_m, rel=1e-12)
    assert zone.is_buffer


@pytest.mark.parametrize(
    "geometry",
    [
        POINT,
        {"type": "MultiPoint", "coordinates": [ISLET, [131.865167, 37.241833]]},
        LINE,
        {"type": "MultiLineString", "coordinates": [LINE["coordinates"], [[129, 35], [130, 35]]]},
        polygon(),
        {"type": "MultiPolygon", "coordinates": [[SQUARE]]},
    ],
    ids=lambda g: g["type"],
)
def test_buffer_zone_keeps_geometry_unbuffered_as_reference(
    tmp_path: Path, geometry: dict[str, Any]
) -> None:
    zone = read_one(tmp_path, feature(geometry, buffer_nm=12, edges="geodesic"))
    assert zone.geometry.equals_exact(shape(geometry), 0.0)  # not buffered, not densified
    assert zone.reference is zone.geometry
    assert zone.edges == "geodesic"


@pytest.mark.parametrize(
    ("props", "floor", "ceiling"),
    [
        # FL245 = 24 500 ft = 24 500 x 0.3048 m = 7467.6 m, by hand.
        ({"floor": "FL245"}, (7467.6, "FL"), (math.nan, "")),
        ({"floor": "fl 100", "ceiling": "FL660"}, (3048.0, "FL"), (20116.8, "FL")),
        ({"floor": "5000 ft"}, (1524.0, "AMSL"), (math.nan, "")),
        ({"floor": "5000ft AMSL"}, (1524.0, "AMSL"), (math.nan, "")),
        ({"floor": "5000 ft MSL"}, (1524.0, "AMSL"), (math.nan, "")),
        ({"floor": "1500 m"}, (1500.0, "AMSL"), (math.nan, "")),
        ({"floor": "1000 ft AGL", "ceiling": "3000 ft AGL"}, (304.8, "AGL"), (914.4, "AGL")),
        ({"floor": "GND", "ceiling": "UNL"}, (0.0, "GND"), (math.nan, "UNL")),
        ({"floor": "SFC", "ceiling": "FL195"}, (0.0, "GND"), (5943.6, "FL")),
        ({"floor_m": 300, "ceiling_m": 6000}, (300.0, "AMSL"), (6000.0, "AMSL")),
        ({"floor_ft": 1000, "ceiling_ft": "5000"}, (304.8, "AMSL"), (1524.0, "AMSL")),
        # AGL and AMSL cannot be compared without terrain: no floor-above-ceiling error.
        ({"floor": "2000 ft AGL", "ceiling": "1000 ft"}, (609.6, "AGL"), (304.8, "AMSL")),
    ],
)
def test_floor_and_ceiling_converted_to_metres_with_reference(
    tmp_path: Path,
    props: dict[str, Any],
    floor: tuple[float, str],
    ceiling: tuple[float, str],
) -> None:
    zone = read_one(tmp_path, feature(**props))
    assert zone.floor_m == pytest.approx(floor[0], rel=1e-12, nan_ok=True)
    assert zone.ceiling_m == pytest.approx(ceiling[0], rel=1e-12, nan_ok=True)
    assert (zone.floor_ref, zone.ceiling_ref) == (floor[1], ceiling[1])


@pytest.mark.parametrize(
    "reference",
    [
        {"type": "LineString", "coordinates": [[124.0, 30.0], [125.0, 30.0]]},
        "LINESTRING (124 30, 125 30)",
    ],
    ids=["geojson", "wkt"],
)
def test_reference_property_sets_zone_reference(
    tmp_path: Path, reference: dict[str, Any] | str
) -> None:
    zone = read_one(tmp_path, feature(reference=reference))
    assert zone.reference.equals_exact(LineString([(124, 30), (125, 30)]), 0.0)
    assert "reference" not in zone.properties


def test_geodesic_polygon_is_densified_and_keeps_its_edge_model(tmp_path: Path) -> None:
    ring = [[123.5, 30.0], [133.0, 30.0], [133.0, 39.0], [123.5, 39.0], [123.5, 30.0]]
    zone = read_one(
        tmp_path,
        feature(
            polygon(ring), edges="geodesic", reference={"type": "LineString", "coordinates": ring}
        ),
    )
    assert zone.edges == "geodesic"
    coords = list(zone.geometry.exterior.coords)
    assert len(coords) > len(ring)
    assert all(tuple(v) in coords for v in ring)
    # The geodesic between two points on 39°N bulges north of the parallel.
    assert max(lat for _, lat in coords) > 39.0
    assert zone.geometry.covers(Point(128.25, 39.05))
    assert len(zone.reference.coords) > len(ring)


def test_lonlat_polygon_is_kept_as_drawn(tmp_path: Path) -> None:
    ring = [[123.5, 30.0], [133.0, 30.0], [133.0, 39.0], [123.5, 39.0], [123.5, 30.0]]
    zone = read_one(tmp_path, feature(polygon(ring), edges="LonLat"))
    assert zone.edges == "lonlat"
    assert [list(c) for c in zone.geometry.exterior.coords] == ring
    assert not zone.geometry.covers(Point(128.25, 39.05))


def test_polygon_with_hole_excludes_the_hole(tmp_path: Path) -> None:
    shell = [[120.0, 30.0], [130.0, 30.0], [130.0, 40.0], [120.0, 40.0], [120.0, 30.0]]
    hole = [[124.0, 34.0], [126.0, 34.0], [126.0, 36.0], [124.0, 36.0], [124.0, 34.0]]
    zone = read_one(tmp_path, feature(polygon(shell, hole)))
    assert len(zone.geometry.interiors) == 1
    assert zone.geometry.area == pytest.approx(100.0 - 4.0)  # square degrees, planar
    assert not zone.geometry.covers(Point(125.0, 35.0))
    assert zone.geometry.covers(Point(122.0, 32.0))


def test_single_feature_document(tmp_path: Path) -> None:
    zones = read_geojson_zones(write(tmp_path, feature(id="solo")))
    assert zones.ids.tolist() == ["solo"]


def test_gzip_compressed_file(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson.gz"
    path.write_bytes(gzip.compress(json.dumps(collection(feature(id="g"))).encode()))
    assert read_geojson_zones(path).ids.tolist() == ["g"]
    assert read_zones([path]).ids.tolist() == ["g"]


def test_elevation_in_positions_is_dropped(tmp_path: Path) -> None:
    ring = [[*xy, 100.0] for xy in SQUARE]
    zone = read_one(tmp_path, feature(polygon(ring)))
    assert not zone.geometry.has_z


# --- antimeridian ----------------------------------------------------------------------


def test_ring_jumping_across_antimeridian_is_unwrapped_to_the_small_polygon(
    tmp_path: Path,
) -> None:
    ring = [[179.0, 50.0], [-179.0, 50.0], [-179.0, 51.0], [179.0, 51.0], [179.0, 50.0]]
    zone = read_one(tmp_path, feature(polygon(ring)))
    assert zone.geometry.bounds == (179.0, 50.0, 181.0, 51.0)
    assert zone.geometry.area == pytest.approx(2.0)  # 2 x 1 degrees, not 358 x 1
    assert zone.geometry.covers(Point(180.5, 50.5))


def test_ring_starting_east_of_antimeridian_continues_below_minus_180(tmp_path: Path) -> None:
    ring = [[-179.0, 50.0], [-179.0, 51.0], [179.0, 51.0], [179.0, 50.0], [-179.0, 50.0]]
    zone = read_one(tmp_path, feature(polygon(ring)))
    assert zone.geometry.bounds == (-181.0, 50.0, -179.0, 51.0)


def test_longitudes_already_beyond_180_are_kept(tmp_path: Path) -> None:
    ring = [[179.0, 50.0], [181.0, 50.0], [181.0, 51.0], [179.0, 51.0], [179.0, 50.0]]
    zone = read_one(tmp_path, feature(polygon(ring)))
    assert [list(c) for c in zone.geometry.exterior.coords] == ring


def test_hole_is_moved_next_to_its_shell_across_the_antimeridian(tmp_path: Path) -> None:
    shell = [[170.0, 40.0], [-170.0, 40.0], [-170.0, 50.0], [170.0, 50.0], [170.0, 40.0]]
    hole = [[-178.0, 44.0], [-176.0, 44.0], [-176.0, 46.0], [-178.0, 46.0], [-178.0, 44.0]]
    zone = read_one(tmp_path, feature(polygon(shell, hole)))
    assert zone.geometry.is_valid
    assert zone.geometry.interiors[0].bounds == (182.0, 44.0, 184.0, 46.0)
    assert not zone.geometry.covers(Point(183.0, 45.0))
    assert zone.geometry.covers(Point(181.0, 45.0))


def test_buffered_line_across_antimeridian_is_unwrapped(tmp_path: Path) -> None:
    line = {"type": "LineString", "coordinates": [[178.0, 60.0], [-178.0, 61.0], [-175.0, 61.5]]}
    zone = read_one(tmp_path, feature(line, buffer_nm=12))
    assert list(zone.geometry.coords) == [(178.0, 60.0), (182.0, 61.0), (185.0, 61.5)]


def test_multipolygon_split_at_antimeridian_is_kept_as_given(tmp_path: Path) -> None:
    west = [[170.0, 50.0], [180.0, 50.0], [180.0, 51.0], [170.0, 51.0], [170.0, 50.0]]
    east = [[-180.0, 50.0], [-170.0, 50.0], [-170.0, 51.0], [-180.0, 51.0], [-180.0, 50.0]]
    geometry = {"type": "MultiPolygon", "coordinates": [[west], [east]]}
    zone = read_one(tmp_path, feature(geometry))
    assert zone.geometry.equals_exact(shape(geometry), 0.0)


@st.composite
def star_rings(draw: st.DrawFn) -> list[list[float]]:
    """Simple rings around a random centre, longitudes continuous (may pass 180)."""
    lon0 = draw(st.floats(-180.0, 180.0))
    lat0 = draw(st.floats(-75.0, 75.0))
    n = draw(st.integers(3, 12))
    jitter = draw(st.lists(st.floats(0.0, 0.8), min_size=n, max_size=n))
    radii = draw(st.lists(st.floats(0.05, 8.0), min_size=n, max_size=n))
    angles = [(k + j) * 2.0 * math.pi / n for k, j in enumerate(jitter)]
    ring = [
        [lon0 + r * math.cos(a), max(-89.0, min(89.0, lat0 + r * math.sin(a)))]
        for r, a in zip(radii, angles, strict=True)
    ]
    return [*ring, ring[0]]


@settings(max_examples=60, deadline=None)
@given(ring=star_rings())
def test_wrapped_ring_reads_as_the_continuous_ring(
    tmp_path_factory: Any, ring: list[list[float]]
) -> None:
    wrapped = [[(lon + 180.0) % 360.0 - 180.0, lat] for lon, lat in ring]
    tmp_path = tmp_path_factory.mktemp("wrap")
    zone = read_one(tmp_path, feature(polygon(wrapped)))
    got = np.asarray(zone.geometry.exterior.coords)
    turns = round((wrapped[0][0] - ring[0][0]) / 360.0)
    np.testing.assert_allclose(got[:, 0], np.asarray(ring)[:, 0] + 360.0 * turns, atol=1e-9)
    np.testing.assert_array_equal(got[:, 1], np.asarray(ring)[:, 1])
    assert zone.geometry.area == pytest.approx(shapely.Polygon(ring).area, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(ring=star_rings(), edges=st.sampled_from(["lonlat", "geodesic"]), buffer=st.booleans())
def test_zones_round_trip_through_to_geojson(
    tmp_path_factory: Any, ring: list[list[float]], edges: str, buffer: bool
) -> None:
    tmp_path = tmp_path_factory.mktemp("roundtrip")
    props: dict[str, Any] = {
        "kind": "restricted",
        "claimants": "kor;jpn",
        "edges": edges,
        "source": "test",
        "complete": False,
        "ceiling": "1500 m",
        "note": [1, 2],
    }
    if buffer:
        props["buffer"] = "3 NM"
    first = read_geojson_zones(write(tmp_path, collection(feature(polygon(ring), **props))))
    again = read_geojson_zones(write(tmp_path, first.to_geojson(), name="again.geojson"))
    a, b = first[0], again[0]
    assert b.geometry.equals_exact(a.geometry, 0.0)
    for attr in ("id", "name", "kind", "claimants", "edges", "source", "complete", "properties"):
        assert getattr(b, attr) == getattr(a, attr)
    assert b.ceiling_m == a.ceiling_m == 1500.0
    assert b.buffer_m == pytest.approx(a.buffer_m, nan_ok=True)


# --- read_zones ------------------------------------------------------------------------


def test_read_zones_concatenates_files_in_order(tmp_path: Path) -> None:
    p1 = write(tmp_path, collection(feature(id="a"), feature(id="b")), name="one.geojson")
    p2 = write(tmp_path, collection(feature(id="c")), name="two.json")
    zones = read_zones([p1, str(p2)])
    assert isinstance(zones, Zones)
    assert zones.ids.tolist() == ["a", "b", "c"]
    assert [z.origin for z in zones] == [f"{p1}#0", f"{p1}#1", f"{p2}#0"]


def test_read_zones_accepts_a_single_path(tmp_path: Path) -> None:
    path = write(tmp_path, collection(feature(id="a")), name="one.GEOJSON")
    assert read_zones(path).ids.tolist() == ["a"]
    assert read_zones(str(path)).ids.tolist() == ["a"]


def test_read_zones_of_no_files_is_empty() -> None:
    assert len(read_zones([])) == 0


def test_duplicate_id_across_files_names_both_origins(tmp_path: Path) -> None:
    p1 = write(tmp_path, collection(feature(id="x"), feature(id="dup")), name="one.geojson")
    p2 = write(tmp_path, collection(feature(id="dup")), name="two.geojson")
    with pytest.raises(SchemaError) as info:
        read_zones([p1, p2])
    assert info.value.path == str(p2)
    assert info.value.feature == "dup"
    assert f"{p1}#1" in info.value.reason and f"{p2}#0" in info.value.reason
    assert "rename one" in info.value.reason


@pytest.mark.parametrize("name", ["zones.csv", "zones.xml", "zones.txt", "zones"])
def test_unknown_zone_file_format_names_supported_formats(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("whatever")
    with pytest.raises(InputError) as info:
        read_zones([path])
    assert type(info.value) is InputError
    assert info.value.path == str(path)
    assert "Supported: GeoJSON (.geojson, .json, .geojson.gz, .json.gz)" in info.value.reason
    assert "ogr2ogr -f GeoJSON" in info.value.reason


# --- real files ------------------------------------------------------------------------


@needs_shared
def test_incident_zones_file() -> None:
    zones = read_zones(INCIDENT_ZONES)
    assert zones.ids.tolist() == ["adiz:KOR", "KOR-TS-DOKDO"]
    kadiz, dokdo = zones
    assert (kadiz.kind, kadiz.claimants, kadiz.complete) == ("adiz", ("KOR",), False)
    assert kadiz.geometry.geom_type == "Polygon" and kadiz.geometry.is_valid
    assert len(kadiz.geometry.exterior.coords) == 10  # 9 published points, closed
    assert "assumed_segments" in kadiz.properties
    assert kadiz.origin == f"{INCIDENT_ZONES}#0"
    # Seoul is not in KADIZ's sea area but Jeju's south coast (33.2N 126.5E) is.
    assert kadiz.geometry.covers(Point(126.5, 33.2))
    assert (dokdo.kind, dokdo.claimants) == ("territorial", ("KOR", "JPN"))
    assert dokdo.buffer_m == 22224.0  # 12 NM x 1852 m, by hand
    assert dokdo.geometry.geom_type == "MultiPoint"
    assert dokdo.reference is dokdo.geometry
    assert dokdo.complete is True


@needs_shared
def test_adiz_file_rejects_jadiz_line_without_buffer() -> None:
    with pytest.raises(ZoneGeometryError) as info:
        read_zones(ADIZ)
    assert info.value.path == str(ADIZ)
    assert info.value.feature == "adiz:JPN"
    assert "a LineString has no area" in info.value.reason
    assert "add buffer_nm or buffer_m" in info.value.reason
    assert "marked complete: false" in info.value.reason


@needs_shared
def test_adiz_file_polygons_read_once_the_line_is_left_out(tmp_path: Path) -> None:
    doc = json.loads(ADIZ.read_text(encoding="utf-8"))
    doc["features"] = [f for f in doc["features"] if f["geometry"]["type"] != "LineString"]
    zones = read_zones(write(tmp_path, doc, name="adiz_polygons.geojson"))
    assert zones.ids.tolist() == ["adiz:KOR", "adiz:CHN-ECS"]
    assert [z.complete for z in zones] == [False, True]
    assert all(z.geometry.is_valid and z.kind == "adiz" for z in zones)
