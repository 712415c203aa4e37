"""Territorial zones of ``nea``: 12 NM (3 NM in straits areas) from the claimants' land.

Expected distances are computed independently: geographiclib on the shipped land, islets
and baselines (see ``_reference.py``), and positions converted from the published DMS by
hand. 12 NM = 22,224 m and 3 NM = 5,556 m exactly (1 NM = 1,852 m).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from geographiclib.geodesic import Geodesic

from patrolwatch.catalog import Catalog

from . import _reference as ref

TOL_M = 50.0
DOMAIN = (110.5, 18.25, 154.5, 51.75)  # documented coverage of the territorial zones
TERRITORIAL = [
    "territorial:KOR",
    "territorial:JPN",
    "territorial:CHN",
    "territorial:RUS",
    "territorial:TWN",
    "territorial:PRK",
    "territorial:KOR-JPN:dokdo",
    "territorial:JPN-CHN-TWN:senkaku",
    "territorial:RUS-JPN:kurils",
]
GROUP = {  # zone id -> claimant set of the shipped land/islets
    "territorial:KOR": "KOR",
    "territorial:JPN": "JPN",
    "territorial:CHN": "CHN",
    "territorial:RUS": "RUS",
    "territorial:TWN": "TWN;CHN",
    "territorial:PRK": "PRK",
    "territorial:KOR-JPN:dokdo": "KOR;JPN",
    "territorial:JPN-CHN-TWN:senkaku": "JPN;CHN;TWN",
    "territorial:RUS-JPN:kurils": "RUS;JPN",
}
G = Geodesic.WGS84


def dms(deg: int, minutes: int, seconds: float = 0.0) -> float:
    return deg + minutes / 60 + seconds / 3600


DOKDO_EAST = (dms(131, 52, 10.4), dms(37, 14, 26.8))  # NGII, east islet summit
DOKDO_WEST = (dms(131, 51, 54.6), dms(37, 14, 30.6))  # NGII, west islet summit
IEODO = (dms(125, 10, 56.81), dms(32, 7, 22.63))


def direct(p: tuple[float, float], azimuth_deg: float, dist_m: float) -> tuple[float, float]:
    q = G.Direct(p[1], p[0], azimuth_deg, dist_m)
    return (q["lon2"], q["lat2"])


def zones_containing(nea: Catalog, p: tuple[float, float]) -> list[str]:
    point = shapely.Point(p)
    return [z.id for z in nea.zones if z.kind == "territorial" and z.geometry.contains(point)]


def boundary_samples(geom: shapely.Geometry, n: int, seed: int) -> list[tuple[float, float]]:
    """n points spread at random along the boundary, by length (seeded)."""
    parts = list(shapely.get_parts(geom.boundary))
    lengths = np.array([p.length for p in parts])
    u = np.random.default_rng(seed).uniform(0, lengths.sum(), n)
    k = np.searchsorted(np.cumsum(lengths), u)
    out = []
    for ui, ki in zip(u, k, strict=True):
        q = shapely.line_interpolate_point(parts[ki], ui - (lengths[:ki].sum()))
        out.append((q.x, q.y))
    return out


def boxes_of(state: str) -> list[shapely.Polygon]:
    return [box for s, box in ref.straits_boxes() if s == state]


@pytest.mark.parametrize("zone_id", TERRITORIAL)
def test_edge_points_are_12nm_from_claimant_land(
    zone_id: str,
    nea: Catalog,
    sources: dict[str, ref.Sources],
    land_only: dict[str, ref.Sources],
) -> None:
    """Each sampled edge point is 12 NM (3 NM in its state's straits boxes) from the zone's
    land, or lies on an equidistance line with another claimant set's land, on a straits box
    edge, or on the edge of the documented coverage."""
    zone = nea.zones[zone_id]
    group = GROUP[zone_id]
    boxes = boxes_of(zone.claimants[0])
    on_limit = 0
    for p in boundary_samples(zone.geometry, 20, seed=sum(map(ord, zone_id))):
        if (
            min(abs(p[0] - DOMAIN[0]), abs(p[0] - DOMAIN[2])) < 1e-7
            or min(abs(p[1] - DOMAIN[1]), abs(p[1] - DOMAIN[3])) < 1e-7
        ):
            continue
        point = shapely.Point(p)
        d = ref.nearest_m(sources[group], p)
        limit = ref.THREE_NM_M if any(b.covers(point) for b in boxes) else ref.TWELVE_NM_M
        if abs(d - limit) <= TOL_M:
            on_limit += 1
            continue
        if any(b.boundary.distance(point) < 1e-6 for b in boxes):
            assert ref.THREE_NM_M - TOL_M <= d <= ref.TWELVE_NM_M + TOL_M, p
            continue
        d_land = ref.nearest_m(land_only[group], p)
        others = {g: ref.nearest_m(s, p) for g, s in land_only.items() if g != group}
        assert any(abs(d_land - dg) <= TOL_M for dg in others.values()), (
            f"{zone_id} edge point {p}: {d:.1f} m from its sources (limit {limit} m), "
            f"{d_land:.1f} m from its land; others {others}"
        )
    assert on_limit >= 2  # the test must measure real limit points, not only borders


@pytest.mark.parametrize(
    ("zone_id", "state"), [("territorial:JPN", "JPN"), ("territorial:KOR", "KOR")]
)
def test_edges_inside_straits_boxes_are_3nm(
    zone_id: str, state: str, nea: Catalog, sources: dict[str, ref.Sources]
) -> None:
    zone = nea.zones[zone_id]
    checked = 0
    for box in boxes_of(state):
        inner = box.buffer(-0.01)  # keep away from the box edges
        inside = zone.geometry.boundary.intersection(inner)
        if inside.is_empty:
            continue
        for f in np.linspace(0.05, 0.95, 4):
            q = shapely.line_interpolate_point(shapely.line_merge(inside), f, normalized=True)
            if q.is_empty:
                continue
            d = ref.nearest_m(sources[GROUP[zone_id]], (q.x, q.y))
            assert abs(d - ref.THREE_NM_M) <= TOL_M, (zone_id, q, d)
            checked += 1
    assert checked >= 4


def test_straits_rule_applies_only_to_the_boxes_state(
    nea: Catalog, land_only: dict[str, ref.Sources]
) -> None:
    # In the Soya box, 18.8 km off Sakhalin (RUS) and 25 km off Hokkaido (JPN): Russian
    # waters (12 NM), because the box is Japan's.
    p = (141.95, 45.75)
    assert ref.nearest_m(land_only["RUS"], p) < ref.TWELVE_NM_M - 1000
    assert ref.nearest_m(land_only["JPN"], p) > ref.THREE_NM_M + 1000
    assert zones_containing(nea, p) == ["territorial:RUS"]
    # Mid Tsugaru Strait, 12.6 km from Japan: outside the 3 NM, so in no territorial zone.
    q = (140.75, 41.55)
    assert ref.THREE_NM_M + 1000 < ref.nearest_m(land_only["JPN"], q) < ref.TWELVE_NM_M
    assert zones_containing(nea, q) == []


def test_dokdo_is_one_zone_claimed_by_kor_and_jpn(nea: Catalog) -> None:
    zone = nea.zones["territorial:KOR-JPN:dokdo"]
    assert zone.claimants == ("KOR", "JPN")
    inside = direct(DOKDO_EAST, 90.0, ref.TWELVE_NM_M - 200.0)
    outside = direct(DOKDO_EAST, 90.0, ref.TWELVE_NM_M + 200.0)
    assert zone.geometry.contains(shapely.Point(inside))
    assert not zone.geometry.contains(shapely.Point(outside))
    assert zones_containing(nea, inside) == ["territorial:KOR-JPN:dokdo"]
    assert zones_containing(nea, outside) == []
    for islet in (DOKDO_EAST, DOKDO_WEST):
        assert zones_containing(nea, islet) == ["territorial:KOR-JPN:dokdo"]


def test_kor_and_jpn_zones_leave_dokdo_waters_out(nea: Catalog) -> None:
    ring = [direct(DOKDO_EAST, az, 11 * ref.NM_M) for az in range(0, 360, 10)]
    for zid in ("territorial:KOR", "territorial:JPN"):
        geom = nea.zones[zid].geometry
        assert not any(geom.contains(shapely.Point(p)) for p in [DOKDO_EAST, *ring]), zid


def test_ieodo_generates_no_territorial_sea(nea: Catalog) -> None:
    assert zones_containing(nea, IEODO) == []


def test_senkaku_is_one_zone_with_three_claimants(nea: Catalog) -> None:
    uotsuri = (dms(123, 28, 24), dms(25, 44, 36))  # SOA centre point 25°44.6'N 123°28.4'E
    assert zones_containing(nea, uotsuri) == ["territorial:JPN-CHN-TWN:senkaku"]
    zone = nea.zones["territorial:JPN-CHN-TWN:senkaku"]
    assert zone.claimants == ("JPN", "CHN", "TWN")
    assert "2012" in zone.caveat and "not used" in zone.caveat


def test_southern_kurils_are_one_zone_claimed_by_rus_and_jpn(nea: Catalog) -> None:
    kunashir = (145.85, 44.05)  # inland on Kunashir
    assert zones_containing(nea, kunashir) == ["territorial:RUS-JPN:kurils"]
    hokkaido = (144.0, 43.4)  # inland near Kushiro
    assert zones_containing(nea, hokkaido) == ["territorial:JPN"]


def test_territorial_zones_do_not_overlap(nea: Catalog) -> None:
    zones = [nea.zones[z] for z in TERRITORIAL]
    for i, a in enumerate(zones):
        for b in zones[i + 1 :]:
            overlap = a.geometry.intersection(b.geometry)
            lat = overlap.centroid.y if not overlap.is_empty else 0.0
            # deg^2 to m^2, roughly; numerical seams of a few square metres at most
            m2 = overlap.area * 111_320.0**2 * math.cos(math.radians(lat))
            assert m2 < 100.0, (a.id, b.id, m2)


def test_overlapping_limits_are_split_on_the_equidistance_line(
    nea: Catalog, land_only: dict[str, ref.Sources]
) -> None:
    # between Kinmen (TWN) and Xiamen (CHN), and between Yeonpyeongdo (KOR) and PRK
    checked = 0
    for lon in np.arange(118.15, 118.55, 0.1):
        for lat in (24.35, 24.42, 24.5):
            p = (float(lon), lat)
            d_chn = ref.nearest_m(land_only["CHN"], p)
            d_twn = ref.nearest_m(land_only["TWN;CHN"], p)
            if abs(d_chn - d_twn) < 200 or min(d_chn, d_twn) > ref.TWELVE_NM_M:
                continue
            expected = "territorial:CHN" if d_chn < d_twn else "territorial:TWN"
            assert zones_containing(nea, p) == [expected], (p, d_chn, d_twn)
            checked += 1
    for p in [(125.6, 37.62), (125.7, 37.6), (125.75, 37.7), (125.5, 37.7)]:
        d_kor = ref.nearest_m(land_only["KOR"], p)
        d_prk = ref.nearest_m(land_only["PRK"], p)
        if abs(d_kor - d_prk) < 200:
            continue
        expected = "territorial:KOR" if d_kor < d_prk else "territorial:PRK"
        assert zones_containing(nea, p) == [expected], (p, d_kor, d_prk)
        checked += 1
    assert checked >= 8


def test_chn_is_measured_from_the_1996_baselines(
    nea: Catalog, sources: dict[str, ref.Sources], land_only: dict[str, ref.Sources]
) -> None:
    with open(ref.DATA / "baselines.geojson", encoding="utf-8") as fh:
        (chain,) = [
            f["geometry"]["coordinates"]
            for f in json.load(fh)["features"]
            if f["properties"]["id"] == "baseline:CHN-1996-mainland-pts1-21"
        ]
    a, b = chain[7], chain[8]  # points 8 (Dashan Dao) and 9 (Macaiheng): 230 km apart
    line = G.InverseLine(a[1], a[0], b[1], b[0])
    mid = line.Position(line.s13 / 2)
    seaward = mid["azi2"] - 90.0  # left of the direction of travel, away from Jiangsu
    inner = direct((mid["lon2"], mid["lat2"]), seaward, ref.TWELVE_NM_M - 300.0)
    outer = direct((mid["lon2"], mid["lat2"]), seaward, ref.TWELVE_NM_M + 300.0)
    # far from any land: only the baseline puts the inner point in Chinese waters
    assert ref.nearest_m(land_only["CHN"], inner, search_m=80_000) > ref.TWELVE_NM_M + 10_000
    geom = nea.zones["territorial:CHN"].geometry
    assert geom.contains(shapely.Point(inner))
    assert not geom.contains(shapely.Point(outer))
    # internal waters behind the baselines, over 12 NM from both coast and baseline
    behind = (121.0, 33.3)
    assert ref.nearest_m(sources["CHN"], behind, search_m=80_000) > 25_000
    assert geom.contains(shapely.Point(behind))


def test_land_is_included(nea: Catalog) -> None:
    seoul, tokyo, beijing = (126.978, 37.566), (139.692, 35.690), (116.397, 39.907)
    assert zones_containing(nea, seoul) == ["territorial:KOR"]
    assert zones_containing(nea, tokyo) == ["territorial:JPN"]
    assert zones_containing(nea, beijing) == ["territorial:CHN"]


def test_zone_edges_are_dense_enough_for_lonlat_segments(
    nea: Catalog, land_only: dict[str, ref.Sources]
) -> None:
    """Straight lon/lat edges must stay within metres of the limit, so no edge is longer than
    2.5 km, except along meridians and parallels (coverage and straits box edges) and along
    land borders, which are drawn as in the land data."""
    for zid in TERRITORIAL:
        for ring in shapely.get_parts(shapely.get_rings(nea.zones[zid].geometry)):
            xy = shapely.get_coordinates(ring)
            d = np.diff(xy, axis=0)
            km = np.hypot(d[:, 0] * 111.32 * np.cos(np.radians(xy[:-1, 1])), d[:, 1] * 110.6)
            axis_parallel = (np.abs(d[:, 0]) < 1e-9) | (np.abs(d[:, 1]) < 1e-9)
            for i in np.flatnonzero((km >= 2.5) & ~axis_parallel):
                mid = tuple((xy[i] + xy[i + 1]) / 2)
                assert ref.nearest_m(land_only[GROUP[zid]], mid) < 1.0, (zid, xy[i], xy[i + 1])
