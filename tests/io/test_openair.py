"""OpenAir zone reader: arcs and circles against geographiclib, limits, errors, lenient mode."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import shapely
from geographiclib.geodesic import Geodesic

from patrolwatch.errors import InputError, ParseError, ZoneGeometryError
from patrolwatch.io.geojson import read_zones
from patrolwatch.io.openair import read_openair, read_openair_zones

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "openair_sample.openair"
WGS84 = Geodesic.WGS84
FT = 0.3048


def dms(d: int, m: float, s: float = 0.0) -> float:
    return d + m / 60.0 + s / 3600.0


def write(tmp_path: Path, text: str, name: str = "a.openair") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def dist_az(lon0: float, lat0: float, lon1: float, lat1: float) -> tuple[float, float]:
    g = WGS84.Inverse(lat0, lon0, lat1, lon1)
    return g["s12"], g["azi1"] % 360.0


def geodesic_midpoint(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
    line = WGS84.InverseLine(p[1], p[0], q[1], q[0])
    mid = line.Position(line.s13 / 2.0)
    return mid["lon2"], mid["lat2"]


CIRCLE = """AC R
AN C1
AL SFC
AH 3000 ft
V X=37:30:00 N 127:00:00 E
DC {radius}
"""


@pytest.mark.parametrize("radius_nm", [5.0, 0.5, 60.0])
def test_circle_vertices_and_chords_within_10_m(tmp_path: Path, radius_nm: float) -> None:
    zone = read_openair_zones(write(tmp_path, CIRCLE.format(radius=radius_nm)))["C1"]
    centre = (127.0, 37.5)
    r = radius_nm * 1852.0
    coords = list(zone.geometry.exterior.coords)
    assert len(coords) < 2000
    for lon, lat in coords:
        assert dist_az(*centre, lon, lat)[0] == pytest.approx(r, abs=10.0)
    for p, q in itertools.pairwise(coords):
        d_mid = dist_az(*centre, *geodesic_midpoint(p, q))[0]
        assert r - 10.0 <= d_mid <= r + 10.0  # sagitta <= 10 m
    assert zone.geometry.contains(shapely.Point(127.0, 37.5))


def test_dc_5nm_every_vertex_9260_m_from_centre(tmp_path: Path) -> None:
    zone = read_openair_zones(write(tmp_path, CIRCLE.format(radius=5)))["C1"]
    for lon, lat in zone.geometry.exterior.coords:
        assert abs(dist_az(127.0, 37.5, lon, lat)[0] - 9260.0) <= 10.0


ARC = """AC Q
AN A1
AL FL50
AH FL100
V X=37:00:00 N 127:00:00 E
{direction}DP 37:00:00 N 127:00:00 E
DA 10, 90, 180
"""


def test_da_arc_end_points_at_stated_angles_clockwise(tmp_path: Path) -> None:
    zone = read_openair_zones(write(tmp_path, ARC.format(direction="")))["A1"]
    coords = list(zone.geometry.exterior.coords)[:-1]
    assert coords[0] == (127.0, 37.0)
    # the straight edges to the centre are densified along geodesics: keep the arc
    arc = [p for p in coords if dist_az(127.0, 37.0, *p)[0] > 18000.0]
    r0, az0 = dist_az(127.0, 37.0, *arc[0])
    r1, az1 = dist_az(127.0, 37.0, *arc[-1])
    assert (r0, r1) == (pytest.approx(18520.0, abs=0.01), pytest.approx(18520.0, abs=0.01))
    assert az0 == pytest.approx(90.0, abs=1e-6) and az1 == pytest.approx(180.0, abs=1e-6)
    # clockwise: every vertex between east and south
    assert all(89.999 <= dist_az(127.0, 37.0, *p)[1] <= 180.001 for p in arc)
    # the quarter disc: area close to pi r^2 / 4 (planar estimate good to < 1 %)
    assert zone.geometry.contains(shapely.Point(127.08, 36.92))
    assert not zone.geometry.contains(shapely.Point(126.92, 36.92))


def test_da_arc_counter_clockwise_goes_the_long_way(tmp_path: Path) -> None:
    zone = read_openair_zones(write(tmp_path, ARC.format(direction="V D=-\n")))["A1"]
    coords = list(zone.geometry.exterior.coords)[:-1]
    arc = [p for p in coords if dist_az(127.0, 37.0, *p)[0] > 18000.0]
    azimuths = [dist_az(127.0, 37.0, *p)[1] for p in arc]
    assert azimuths[0] == pytest.approx(90.0, abs=1e-6)
    assert azimuths[-1] == pytest.approx(180.0, abs=1e-6)
    assert any(abs(a - 270.0) < 5.0 for a in azimuths)  # through west
    assert not any(100.0 < a < 170.0 for a in azimuths)
    assert zone.geometry.contains(shapely.Point(126.92, 36.92))


def test_sample_file_restricted_area_polygon(tmp_path: Path) -> None:
    result = read_openair(SAMPLE)
    assert result.skipped == 0
    zones = result.zones
    assert zones.ids.tolist() == ["R-TEST 1", "D-TEST 2", "CTR TEST", "P-TEST"]
    r = zones["R-TEST 1"]
    assert (r.kind, r.properties["class"]) == ("restricted", "R")
    assert (r.floor_m, r.floor_ref) == (0.0, "GND")
    assert r.ceiling_m == pytest.approx(9500 * FT) and r.ceiling_ref == "AMSL"
    assert r.origin == f"{SAMPLE}:8"
    # expected polygon, built independently: the four published points and the arc
    # through east, drawn with geographiclib every degree
    a = (dms(126, 50), dms(37, 42))
    b = (dms(127, 0), dms(37, 42))
    c = (dms(127, 0), dms(37, 32))
    d = (dms(126, 50), dms(37, 32))
    centre = (dms(127, 0), dms(37, 37))
    r_m = dist_az(*centre, *b)[0]
    arc = []
    for k in range(181):
        g = WGS84.Direct(centre[1], centre[0], float(k), r_m)
        arc.append((g["lon2"], g["lat2"]))
    expected = shapely.Polygon([a, b, *arc[1:-1], c, d, a])
    got = r.geometry
    for corner in (a, b, c, d):
        assert any(math.dist(corner, p) < 1e-9 for p in got.exterior.coords)
    # boundaries agree within ~15 m (1e-4 degree of latitude is 11 m)
    assert shapely.hausdorff_distance(got.exterior, expected.exterior) < 1.5e-4
    east = WGS84.Direct(centre[1], centre[0], 90.0, r_m - 100.0)
    assert got.contains(shapely.Point(east["lon2"], east["lat2"]))
    east = WGS84.Direct(centre[1], centre[0], 90.0, r_m + 100.0)
    assert not got.contains(shapely.Point(east["lon2"], east["lat2"]))


def test_sample_file_limits_and_kinds() -> None:
    zones = read_openair_zones(SAMPLE, kind="adiz", claimants="KOR")
    dz, ctr, p = zones["D-TEST 2"], zones["CTR TEST"], zones["P-TEST"]
    assert (dz.kind, dz.properties["type"]) == ("danger", "DANGER")
    assert dz.floor_m == pytest.approx(5000 * FT) and dz.floor_ref == "FL"
    assert dz.ceiling_m == pytest.approx(19500 * FT) and dz.ceiling_ref == "FL"
    centre = (dms(126, 30.25), dms(37, 10.5))
    for lon, lat in dz.geometry.exterior.coords:
        assert dist_az(*centre, lon, lat)[0] == pytest.approx(3 * 1852.0, abs=10.0)
    assert (ctr.kind, ctr.properties["class"]) == ("adiz", "CTR")  # the kind= default
    assert ctr.ceiling_m == pytest.approx(1500 * FT) and ctr.ceiling_ref == "AGL"
    assert ctr.geometry.contains(shapely.Point(127.45, 36.5))  # western half
    assert not ctr.geometry.contains(shapely.Point(127.55, 36.5))
    assert (p.kind, p.floor_m, p.floor_ref, p.ceiling_ref) == ("prohibited", 300.0, "AMSL", "UNL")
    assert math.isnan(p.ceiling_m)
    assert all(z.claimants == ("KOR",) for z in zones)


@pytest.mark.parametrize(
    ("text", "expected_m", "ref"),
    [
        ("FL95", 9500 * FT, "FL"),
        ("FL 95", 9500 * FT, "FL"),
        ("3500ft MSL", 3500 * FT, "AMSL"),
        ("3500 FT AMSL", 3500 * FT, "AMSL"),
        ("3500", 3500 * FT, "AMSL"),
        ("2000ft AGL", 2000 * FT, "AGL"),
        ("2000 ft SFC", 2000 * FT, "AGL"),
        ("900m", 900.0, "AMSL"),
        ("900 m AGL", 900.0, "AGL"),
        ("SFC", 0.0, "GND"),
        ("GND", 0.0, "GND"),
        ("0", 0.0, "GND"),
    ],
)
def test_floor_units(tmp_path: Path, text: str, expected_m: float, ref: str) -> None:
    body = f"AC R\nAN X\nAL {text}\nAH UNL\nV X=37:00:00 N 127:00:00 E\nDC 1\n"
    zone = read_openair_zones(write(tmp_path, body))["X"]
    assert zone.floor_m == pytest.approx(expected_m) and zone.floor_ref == ref


def test_db_arc_ends_exact_and_on_radius(tmp_path: Path) -> None:
    body = (
        "AC R\nAN B\nAL SFC\nAH FL100\nV X=10:00:00 S 020:00:00 W\n"
        "DB 09:50:00 S 020:00:00 W, 10:00:00 S 019:50:00 W\n"
    )
    zone = read_openair_zones(write(tmp_path, body))["B"]
    ring = list(zone.geometry.exterior.coords)
    p0, p1 = (-20.0, -dms(9, 50)), (-dms(19, 50), -10.0)
    assert ring[0] == pytest.approx(p0)
    end = next(k for k, p in enumerate(ring) if p == pytest.approx(p1))
    arc = ring[: end + 1]  # after it, the closing chord (densified along the geodesic)
    r0 = dist_az(-20.0, -10.0, *p0)[0]
    r1, az1 = dist_az(-20.0, -10.0, *p1)
    for lon, lat in arc:
        d, az = dist_az(-20.0, -10.0, lon, lat)
        assert d == pytest.approx(r0 + (r1 - r0) * az / az1, abs=10.0)
        assert 0.0 <= az <= az1 + 1e-6


HEADER = "* comment\nAC R\nAN E\nAL SFC\nAH FL100\n"


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("DP 37:00:00 N 127:00:00\n", 6, "not a point"),
        ("DP 37:61:00 N 127:00:00 E\n", 6, "below 60"),
        ("DP 91:00:00 N 127:00:00 E\n", 6, "beyond 90"),
        ("DP 37:00:00 N 181:00:00 E\n", 6, "beyond 180"),
        ("XX 1\n", 6, "unknown record"),
        ("DA 5, 0, 90\n", 6, "needs a centre"),
        ("V X=37:00:00 N 127:00:00 E\nDA 5, 0\n", 7, "radius, start, end"),
        ("V X=37:00:00 N 127:00:00 E\nDA five, 0, 90\n", 7, "not a number"),
        ("V X=37:00:00 N 127:00:00 E\nDC 0\n", 7, "positive"),
        ("V X=37:00:00 N 127:00:00 E\nDB 37:05:00 N 127:00:00 E\n", 7, "two points"),
        ("V D=x\n", 6, "V D=+"),
        ("V Q=1\n", 6, "unknown variable"),
        ("DY 37:00:00 N 127:00:00 E\n", 6, "airways"),
        ("", 2, "no geometry"),
        ("V X=37:00:00 N 127:00:00 E\nDC 1\nDC 2\n", 8, "second 'DC'"),
        ("V X=37:00:00 N 127:00:00 E\nDC 1\nDP 37:00:00 N 127:00:00 E\n", 2, "mixes"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, body: str, line: int, words: str) -> None:
    path = write(tmp_path, HEADER + body)
    with pytest.raises(ParseError) as info:
        read_openair(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}:")
    assert words in info.value.reason


def test_bad_altitude_and_missing_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "AC R\nAN E\nAL 12 parsecs\nAH FL100\n")
    with pytest.raises(ParseError) as info:
        read_openair(path)
    assert info.value.line == 3 and "floor" in info.value.reason
    path = write(tmp_path, "AC R\nAN E\nAL SFC\nV X=37:00:00 N 127:00:00 E\nDC 1\n")
    with pytest.raises(ParseError) as info:
        read_openair(path)
    assert info.value.line == 1 and "AH" in info.value.reason


def test_line_before_first_ac(tmp_path: Path) -> None:
    path = write(tmp_path, "* header\nAN orphan\n" + CIRCLE.format(radius=1))
    with pytest.raises(ParseError) as info:
        read_openair(path)
    assert info.value.line == 2 and "before the first 'AC'" in info.value.reason


def test_invalid_polygon_and_floor_above_ceiling_name_the_ac_line(tmp_path: Path) -> None:
    bow = (
        "AC R\nAN BOW\nAL SFC\nAH FL100\nDP 37:00:00 N 127:00:00 E\nDP 37:10:00 N 127:10:00 E\n"
        "DP 37:10:00 N 127:00:00 E\nDP 37:00:00 N 127:10:00 E\n"
    )
    with pytest.raises(ZoneGeometryError) as info:
        read_openair(write(tmp_path, "* x\n" + bow))
    assert info.value.line == 2 and info.value.feature == "BOW"
    swapped = "AC R\nAN S\nAL FL100\nAH FL50\nV X=37:00:00 N 127:00:00 E\nDC 1\n"
    with pytest.raises(InputError) as info2:
        read_openair(write(tmp_path, swapped))
    assert info2.value.line == 1 and "above the ceiling" in info2.value.reason


def test_lenient_mode_skips_and_counts(tmp_path: Path) -> None:
    text = (
        CIRCLE.format(radius=1)
        + "AC R\nAN BAD1\nAL SFC\nAH FL100\nDP 37:00 N\n"  # line 10
        + CIRCLE.format(radius=2).replace("C1", "C2")
        + "AC Q\nAN BAD2\nAL nowhere\nAH FL100\nV X=37:00:00 N 127:00:00 E\nDC 1\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ParseError) as info:
        read_openair(path)
    assert info.value.line == 11
    with pytest.warns(UserWarning, match="skipped an airspace block") as record:
        result = read_openair(path, strict=False)
    assert result.zones.ids.tolist() == ["C1", "C2"]
    assert result.skipped == 2 and len(record) == 2
    assert f"{path}:11:" in result.notes[0] and f"{path}:20:" in result.notes[1]


def test_repeated_names_get_distinct_ids(tmp_path: Path) -> None:
    text = CIRCLE.format(radius=1) + CIRCLE.format(radius=2)
    result = read_openair(write(tmp_path, text))
    assert result.zones.ids.tolist() == ["C1", "C1 (2)"]
    assert "used again" in result.notes[0]


def test_read_zones_dispatches_openair(tmp_path: Path) -> None:
    legacy = write(tmp_path, "* OpenAir\n\n" + CIRCLE.format(radius=1), name="legacy.txt")
    air = write(tmp_path, CIRCLE.format(radius=1).replace("C1", "C9"), name="x.air")
    zones = read_zones([legacy, air, SAMPLE], claimants="KOR")
    assert zones.ids.tolist()[:2] == ["C1", "C9"] and len(zones) == 6
    assert zones["C1"].claimants == ("KOR",)


def test_latin1_file(tmp_path: Path) -> None:
    path = tmp_path / "l.openair"
    path.write_bytes(CIRCLE.format(radius=1).replace("C1", "Zürich").encode("latin-1"))
    assert read_openair_zones(path).ids.tolist() == ["Zürich"]


@pytest.mark.parametrize(
    ("text", "lon", "lat"),
    [
        ("39:00:00 N 123:30:00 E", 123.5, 39.0),
        ("39:00.5 N 123:30.25 E", dms(123, 30.25), dms(39, 0.5)),
        ("45:40:30N 014:18:20E", dms(14, 18, 20), dms(45, 40, 30)),
        ("33:51:36.5 S, 151:12:40 E", dms(151, 12, 40), -dms(33, 51, 36.5)),
        ("40:38:23 N 073:46:44 W", -dms(73, 46, 44), dms(40, 38, 23)),
    ],
)
def test_point_formats(tmp_path: Path, text: str, lon: float, lat: float) -> None:
    body = f"AC R\nAN X\nAL SFC\nAH FL100\nV X={text}\nDC 2\n"
    zone = read_openair_zones(write(tmp_path, body))["X"]
    for x, y in zone.geometry.exterior.coords:
        assert dist_az(lon, lat, x, y)[0] == pytest.approx(2 * 1852.0, abs=10.0)


def test_circle_across_the_antimeridian(tmp_path: Path) -> None:
    body = "AC R\nAN AM\nAL SFC\nAH FL100\nV X=52:00:00 N 179:59:00 E\nDC 5\n"
    zone = read_openair_zones(write(tmp_path, body))["AM"]
    assert zone.geometry.is_valid
    lon_min, _, lon_max, _ = zone.geometry.bounds
    assert lon_max - lon_min < 1.0  # the small circle, not one spanning the globe
    assert zone.geometry.contains(shapely.Point(180.05, 52.0))
