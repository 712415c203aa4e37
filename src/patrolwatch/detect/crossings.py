"""Zone crossings: every visit of every track to every zone, with exact entry and exit.

Model
-----
Between two consecutive fixes a vehicle moves along the WGS84 geodesic at constant speed,
and its altitude (where reported at both fixes) changes linearly in time. A zone is closed:
a point on its boundary is inside. A *visit* is a maximal time interval during which the
moving vehicle is inside the zone; its entry and exit are found on the path between the
bracketing fixes, not only at fixes, so a segment whose two fixes are both outside but
whose path clips the zone is a visit (evidence ``interpolated``).

* Polygon zones (``edges="lonlat"``): inside means inside the polygon in the lon/lat plane
  (RFC 7946). Each segment is cut into pieces whose lon/lat chords stay within
  :data:`CHORD_TOLERANCE_M` of the geodesic; crossings of the chords with zone edges are
  then refined on the geodesic itself (regula falsi on the edge's side function). Zones
  with ``edges="geodesic"`` are densified by the reader and handled the same way.
* Buffer zones: inside means geodesic distance to the feature ``<= buffer_m``. The closest
  approach of each segment to each feature component is found by golden-section search,
  and the crossings of the distance with ``buffer_m`` by bisection: no polygonised circle.
* Vertical limits apply where the zone has them and the track reports altitude at both
  ends of a segment; otherwise the horizontal answer stands and ``altitude`` says
  ``unknown altitude``.

Every state between two consecutive crossing candidates is checked by an exact test at
its midpoint, so spurious candidates never create visits.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import shapely

from ..core.events import CROSSING_SCHEMA, TIME_TYPE, Events
from ..core.geodesy import M_PER_DEG_LAT_MIN, inv, m_per_deg_lon, wrap180
from ..core.tracks import Tracks
from ..core.zones import Zone, Zones
from ..errors import ConfigError
from ._geometry import (
    EdgeCells,
    Feature,
    Frame,
    SegmentGeo,
    edges_of,
    pad_box_deg,
    segment_boxes,
)
from ._kernels import (
    bisect_root,
    chord_edge_distance_fast_m,
    golden_min,
    point_chord_distance_m,
)

__all__ = ["CHORD_TOLERANCE_M", "crossings"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
IXP = npt.NDArray[np.intp]
B = npt.NDArray[np.bool_]

CHORD_TOLERANCE_M = 0.05
"""Largest distance (m) between a track's geodesic and the lon/lat chords used to find
candidate crossings with polygon edges. Crossings are then refined on the geodesic."""

REFINE_ITERS = 60
"""Regula-falsi (Illinois) iterations refining a crossing on the geodesic."""

POSSIBLE_SAMPLE_M = 500.0
"""Spacing (m) of the zone-boundary points tested for ``possible`` entries."""

DENSE_POINTS_MAX = 64
"""Buffer zones around at most this many points are pre-screened with planar estimates
for every candidate segment; the crossings themselves are always solved exactly."""

DENSE_EDGES_MAX = 256
"""Polygon zones with at most this many edges are tested against every candidate segment
directly; larger ones go through an R-tree of edge boxes."""

PROFILE_STEP_M = 1000.0
"""Sampling step (m) along segments for buffer zones around lines and polygons."""

PROFILE_TOL_M = 1e-3
"""Length (m) below which an interval holding a buffer-zone crossing is not cut further."""
"""Spacing (m) of the zone-boundary points tested for ``possible`` entries."""

REFERENCE_SEARCH_M = 2_000_000.0
"""How far (m) from a polygon zone its ``reference`` feature is searched for."""

_NAT = np.iinfo(np.int64).min


# =============================================================================== segments
@dataclass
class _Fixes:
    t_ns: I64
    lon: F64
    lat: F64
    alt: F64
    track: I64


@dataclass
class _Segments:
    """Consecutive fix pairs of one track: fix ``a`` to fix ``a + 1``."""

    a: I64
    b: I64
    track: I64
    first: B  # fix a is the first fix of its track
    last: B  # fix b is the last fix of its track

    @classmethod
    def of(cls, tracks: Tracks) -> _Segments:
        tix = tracks.track_index
        if tix.shape[0] < 2:
            e = np.zeros(0, dtype=np.int64)
            return cls(e, e.copy(), e.copy(), np.zeros(0, bool), np.zeros(0, bool))
        a = np.flatnonzero(tix[:-1] == tix[1:]).astype(np.int64)
        starts = tracks.offsets[:-1]
        ends = tracks.offsets[1:] - 1
        first = np.zeros(len(tracks), dtype=bool)
        first[starts[starts <= ends]] = True
        last = np.zeros(len(tracks), dtype=bool)
        last[ends[starts <= ends]] = True
        return cls(a, a + 1, tix[a], first[a], last[a + 1])


@dataclass
class _SegmentBoxes:
    """Bounding boxes of all segments, computed once for every zone.

    Longitudes are raw (fix ``a`` in [-180, 180], fix ``b`` unwrapped next to it, so a box
    may reach past 180); boxes are grown to cover the geodesic's bulge away from the
    lon/lat chord (about ``L**2 tan(lat) / (8 R)``, doubled, plus 1 m and 1 % of L).
    """

    x0: F64
    y0: F64
    x1: F64
    y1: F64

    @classmethod
    def of(cls, fixes: _Fixes, segs: _Segments) -> _SegmentBoxes:
        la, lb = fixes.lat[segs.a], fixes.lat[segs.b]
        ax = fixes.lon[segs.a]
        bx = ax + wrap180(fixes.lon[segs.b] - ax)
        lat_lo, lat_hi = np.minimum(la, lb), np.maximum(la, lb)
        worst = np.minimum(np.maximum(np.abs(lat_lo), np.abs(lat_hi)), 89.9)
        approx_len = np.hypot((bx - ax) * m_per_deg_lon(worst), (lb - la) * M_PER_DEG_LAT_MIN)
        bulge = (
            2.0 * approx_len**2 * (np.tan(np.radians(worst)) + 0.05) / (8 * 6_356_752.0)
            + 1.0
            + 0.01 * approx_len
        )
        dlon, dlat = pad_box_deg(lat_lo, lat_hi, bulge)
        return cls(
            np.minimum(ax, bx) - dlon, lat_lo - dlat, np.maximum(ax, bx) + dlon, lat_hi + dlat
        )

    def overlapping(self, x0: float, y0: float, x1: float, y1: float) -> B:
        """Segments whose box meets the box [x0, x1] x [y0, y1] (longitudes in any frame:
        the box is also tried one turn east and west)."""
        lat_ok = (self.y1 >= y0) & (self.y0 <= y1)
        hit = np.zeros(self.x0.shape[0], dtype=bool)
        for turn in (-360.0, 0.0, 360.0):
            hit |= (self.x1 >= x0 + turn) & (self.x0 <= x1 + turn)
        return hit & lat_ok


@dataclass
class _Intervals:
    """Inside intervals of segments, as fractions of each segment's duration."""

    seg: I64  # index into _Segments (or -1 for a single-fix track)
    fix: I64  # for single-fix tracks, the fix index
    f0: F64
    f1: F64

    @classmethod
    def empty(cls) -> _Intervals:
        e = np.zeros(0, dtype=np.int64)
        return cls(e, e.copy(), np.zeros(0), np.zeros(0))


# =============================================================================== zone models
class _ZoneModel:
    """Common interface: bounds, horizontal inside test, crossing candidates."""

    frame: Frame
    bounds: tuple[float, float, float, float]
    reference: Feature | None

    def contains(self, lon: F64, lat: F64) -> B:
        raise NotImplementedError

    def roots(self, geo: SegmentGeo, idx: IXP) -> tuple[IXP, F64]:
        """Candidate crossing fractions (segment position in ``idx``, f)."""
        raise NotImplementedError

    def margin_m(self) -> float:
        return 0.0


class _PolygonModel(_ZoneModel):
    def __init__(self, zone: Zone) -> None:
        self.frame = Frame.for_geometry(zone.geometry)
        self.geom = self.frame.geometry(zone.geometry)
        shapely.prepare(self.geom)
        self.bounds = tuple(float(v) for v in shapely.bounds(self.geom))  # type: ignore[assignment]
        self.ax, self.ay, self.bx, self.by = edges_of(self.geom)
        self.edge_tree = shapely.STRtree(
            shapely.box(
                np.minimum(self.ax, self.bx),
                np.minimum(self.ay, self.by),
                np.maximum(self.ax, self.bx),
                np.maximum(self.ay, self.by),
            )
        )
        self.cells = EdgeCells(self.ax, self.ay, self.bx, self.by)
        self.reference = Feature(zone.reference, self.frame) if zone.reference is not None else None
        self.boundary = Feature(shapely.boundary(zone.geometry), self.frame)

    def boxes_near_edges(self, x0: F64, y0: F64, x1: F64, y1: F64) -> IXP:
        """Positions (ascending, unique) of the boxes (frame degrees) that overlap some
        edge's box and pass through a cell an edge crosses (:class:`EdgeCells`)."""
        maybe = np.flatnonzero(self.cells.may_meet(x0, y0, x1, y1))
        if maybe.size == 0:
            return maybe.astype(np.intp)
        hit = self.edge_tree.query(shapely.box(x0[maybe], y0[maybe], x1[maybe], y1[maybe]))[0]
        return np.unique(maybe[hit]).astype(np.intp)

    def contains(self, lon: F64, lat: F64) -> B:
        if lon.shape[0] == 0:
            return np.zeros(0, dtype=bool)
        return np.asarray(shapely.intersects_xy(self.geom, self.frame(lon), lat), dtype=bool)

    def roots(self, geo: SegmentGeo, idx: IXP) -> tuple[IXP, F64]:
        if idx.size == 0 or self.ax.size == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        # 0. only segments whose chord passes within the geodesic's bulge of an edge can
        # cross it: a dense planar test for zones of few edges, an R-tree for many
        if self.ax.size <= DENSE_EDGES_MAX:
            x0 = self.frame(geo.lon_a[idx])
            x1 = x0 + wrap180(geo.lon_b[idx] - geo.lon_a[idx])
            y0, y1 = geo.lat_a[idx], geo.lat_b[idx]
            d = chord_edge_distance_fast_m(x0, y0, x1, y1, self.ax, self.ay, self.bx, self.by)
            length = geo.approx_length(idx) * 1.05 + 10.0
            worst = np.minimum(np.maximum(np.abs(y0), np.abs(y1)), 89.9)
            bulge = 2.0 * length**2 * (np.tan(np.radians(worst)) + 0.05) / (8 * 6_356_752.0)
            near_edge = np.flatnonzero(d <= 1.05 * bulge + 1.0)
        else:
            bx0, by0, bx1, by1 = segment_boxes(geo.take(idx), self.frame)
            near_edge = self.boxes_near_edges(bx0, by0, bx1, by1)
        if near_edge.size == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        own_sub, f_sub = self._roots_near_edges(geo, idx[near_edge])
        return near_edge[own_sub].astype(np.intp), f_sub

    def _roots_near_edges(self, geo: SegmentGeo, idx: IXP) -> tuple[IXP, F64]:
        # 1. pieces: chord deviation from the geodesic scales as 1/n**2
        lon_m, lat_m = geo.point(idx, np.full(idx.size, 0.5))
        ax = self.frame(geo.lon_a[idx])
        bx = ax + wrap180(geo.lon_b[idx] - geo.lon_a[idx])
        mx = ax + wrap180(lon_m - geo.lon_a[idx])
        chord_mx = 0.5 * (ax + bx)
        chord_my = 0.5 * (geo.lat_a[idx] + geo.lat_b[idx])
        dev_m = np.hypot((mx - chord_mx) * m_per_deg_lon(lat_m), (lat_m - chord_my) * 111_320.0)
        n_piece = np.clip(np.ceil(np.sqrt(dev_m / CHORD_TOLERANCE_M)), 1, 4096).astype(np.int64)
        owner = np.repeat(np.arange(idx.size), n_piece)
        k = np.arange(owner.size) - np.repeat(np.cumsum(n_piece) - n_piece, n_piece)
        f_lo = k / n_piece[owner]
        f_hi = (k + 1) / n_piece[owner]
        fs = np.concatenate([f_lo, f_hi])
        os_ = np.concatenate([owner, owner])
        plon, plat = geo.point(idx[os_], fs)
        px = ax[os_] + wrap180(plon - geo.lon_a[idx[os_]])
        m = owner.size
        x0, y0, x1, y1 = px[:m], plat[:m], px[m:], plat[m:]
        # 2. chord/edge pairs by box overlap, then exact planar intersection
        q, e = self.edge_tree.query(
            shapely.box(
                np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1)
            )
        )
        if q.size == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        dx, dy = x1[q] - x0[q], y1[q] - y0[q]
        ex, ey = self.bx[e] - self.ax[e], self.by[e] - self.ay[e]
        wx, wy = self.ax[e] - x0[q], self.ay[e] - y0[q]
        denom = dx * ey - dy * ex
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (wx * ey - wy * ex) / denom
            u = (wx * dy - wy * dx) / denom
        eps = 1e-9
        hit = (denom != 0) & (t >= -eps) & (t <= 1 + eps) & (u >= -eps) & (u <= 1 + eps)
        q, e, t = q[hit], e[hit], np.clip(t[hit], 0.0, 1.0)
        if q.size == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        own = owner[q]
        lo = f_lo[q]
        hi = f_hi[q]
        f = lo + t * (hi - lo)
        f = self._refine(geo, idx, own, ax, e, lo, hi, f)
        return own.astype(np.intp), f

    def _side(self, geo: SegmentGeo, idx: IXP, own: IXP, ax: F64, e: IXP, f: F64) -> F64:
        plon, plat = geo.point(idx[own], f)
        px = ax[own] + wrap180(plon - geo.lon_a[idx[own]])
        ex, ey = self.bx[e] - self.ax[e], self.by[e] - self.ay[e]
        return np.asarray(ex * (plat - self.ay[e]) - ey * (px - self.ax[e]), dtype=np.float64)

    def _refine(
        self, geo: SegmentGeo, idx: IXP, own: IXP, ax: F64, e: IXP, lo: F64, hi: F64, f: F64
    ) -> F64:
        """Refine chord crossings onto the geodesic (Illinois regula falsi on the edge line)."""
        s_lo = self._side(geo, idx, own, ax, e, lo)
        s_hi = self._side(geo, idx, own, ax, e, hi)
        ok = np.sign(s_lo) * np.sign(s_hi) <= 0
        a, b, fa, fb = lo.copy(), hi.copy(), s_lo.copy(), s_hi.copy()
        side = np.zeros(f.size)
        # each crossing stops on its own, so that its value never depends on the others
        done = ~ok | (fa == 0) | (fb == 0)
        for _ in range(REFINE_ITERS):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            aa, bb, ffa, ffb = a[act], b[act], fa[act], fb[act]
            with np.errstate(divide="ignore", invalid="ignore"):
                c = np.where(ffb != ffa, (aa * ffb - bb * ffa) / (ffb - ffa), 0.5 * (aa + bb))
            c = np.clip(np.where(np.isfinite(c), c, 0.5 * (aa + bb)), aa, bb)
            fc = self._side(geo, idx, own[act], ax, e[act], c)
            left = np.sign(fc) == np.sign(ffa)
            sd = side[act]
            # Illinois modification halves the retained end's value
            ffb = np.where(left & (sd == 1), ffb / 2, ffb)
            ffa = np.where(~left & (sd == -1), ffa / 2, ffa)
            a[act] = np.where(left, c, aa)
            fa[act] = np.where(left, fc, ffa)
            b[act] = np.where(left, bb, c)
            fb[act] = np.where(left, ffb, fc)
            side[act] = np.where(left, 1, -1)
            done[act] = ((b[act] - a[act]) <= 1e-15) | (fc == 0)
        refined = np.where(np.abs(fa) < np.abs(fb), a, b)
        return np.where(ok, refined, f)


_POLYGON_MODELS: dict[int, tuple[weakref.ref[Zone], _PolygonModel]] = {}


def polygon_model(zone: Zone) -> _PolygonModel:
    """The prepared model of a polygon zone (edges, R-trees), built once per ``Zone``
    object and kept while the zone lives: a stream calls ``crossings`` on the same zones
    many times, and a coastline zone of 30,000 edges takes tens of ms to prepare."""
    key = id(zone)
    hit = _POLYGON_MODELS.get(key)
    if hit is not None and hit[0]() is zone:
        return hit[1]
    model = _PolygonModel(zone)

    def forget(_ref: weakref.ref[Zone], k: int = key) -> None:
        _POLYGON_MODELS.pop(k, None)

    _POLYGON_MODELS[key] = (weakref.ref(zone, forget), model)
    return model


class _BufferModel(_ZoneModel):
    def __init__(self, zone: Zone, search_m: float) -> None:
        self.frame = Frame.for_geometry(zone.geometry)
        self.r = float(zone.buffer_m)
        self.feature = Feature(zone.geometry, self.frame)
        self.reference = self.feature
        x0, y0, x1, y1 = self.feature.bounds
        dlon, dlat = pad_box_deg(np.array([y0]), np.array([y1]), self.r + search_m)
        self.bounds = (
            x0 - float(dlon[0]),
            y0 - float(dlat[0]),
            x1 + float(dlon[0]),
            y1 + float(dlat[0]),
        )
        self.tight_bounds = self.bounds
        self.search_m = search_m
        # closest approaches of candidate segments to components, kept for the visits
        # (segment, component, s*, d*, error bound of d*; 0 where exact)
        self.closest: tuple[IXP, IXP, F64, F64, F64] | None = None

    def margin_m(self) -> float:
        return self.r

    def contains(self, lon: F64, lat: F64) -> B:
        if lon.shape[0] == 0:
            return np.zeros(0, dtype=bool)
        # estimates far from the buffer distance decide by themselves; the rest is exact
        d, _err = self.feature.distance_near(lon, lat, self.r, self.r, np.zeros(lon.shape[0]))
        return np.asarray(d <= self.r, dtype=bool)

    def roots(self, geo: SegmentGeo, idx: IXP) -> tuple[IXP, F64]:
        if idx.size == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        if self.feature.has_edges:
            return _profile_roots(self.feature, geo, idx, self.r)
        if self.feature.n_points <= DENSE_POINTS_MAX:
            # planar estimates decide most pairs: a segment whose ends are both surely
            # inside a point's circle stays inside it (the disk is convex) and one that
            # surely stays outside has no crossing; only the rest is solved exactly
            own, comp, amin, err, d0, d1 = _approx_point_pairs(self.feature, geo, idx, self.r)
            inside_both = (d0 + err < self.r) & (d1 + err < self.r)
            exact = ~inside_both
            s_star = np.zeros(own.size)
            d_star = amin.copy()
            ex = np.flatnonzero(exact)
            s_star[ex], d_star[ex] = _closest_pairs(self.feature, geo, idx[own[ex]], comp[ex])
            err = np.where(exact, 0.0, err)
            self.closest = (idx[own], comp, s_star, d_star, err)
            keep = exact
            own, comp, s_star, d_star = own[keep], comp[keep], s_star[keep], d_star[keep]
        else:
            close = _closest_to_feature(self.feature, geo, idx, self.r)
            own, comp, s_star, d_star = close
            self.closest = (idx[own], comp, s_star, d_star, np.zeros(own.size))
        hit = d_star <= self.r
        own, comp, s_star, d_star = own[hit], comp[hit], s_star[hit], d_star[hit]
        out_own: list[IXP] = []
        out_f: list[F64] = []
        length = geo.length(idx[own])
        with np.errstate(invalid="ignore", divide="ignore"):
            f_star = np.where(length > 0, s_star / length, 0.0)
        out_own.append(own)
        out_f.append(f_star)  # tangent points and closest points are harmless candidates
        feat = self.feature

        def h(f: F64, k: IXP, sel: IXP) -> F64:
            lon, lat = geo.point(idx[own[sel][k]], f)
            d, _, _ = feat.component_distance(lon, lat, comp[sel][k])
            return d - self.r

        for lo_is_end in (True, False):
            # root between the segment end and the closest point, where the end is outside
            f_end = np.zeros(own.size) if lo_is_end else np.ones(own.size)
            lon_e, lat_e = geo.point(idx[own], f_end)
            d_end, _, _ = feat.component_distance(lon_e, lat_e, comp)
            sel = np.flatnonzero(d_end > self.r)
            if sel.size == 0:
                continue
            lo = f_end[sel] if lo_is_end else f_star[sel]
            hi = f_star[sel] if lo_is_end else f_end[sel]

            def h_sel(f: F64, k: IXP, sel: IXP = sel) -> F64:
                return h(f, k, sel)

            root = bisect_root(h_sel, lo, hi)
            out_own.append(own[sel])
            out_f.append(root)
        return np.concatenate(out_own).astype(np.intp), np.concatenate(out_f)


def _profile_samples(
    feature: Feature, geo: SegmentGeo, idx: IXP, cap_m: float
) -> tuple[IXP, F64, F64]:
    """Distance to the feature sampled every :data:`PROFILE_STEP_M` along segments ``idx``.

    Returns (position in idx, distance along the segment in m, distance to the feature in
    m capped at ``cap_m``), ordered by segment then distance along it, both ends included.
    """
    length = geo.length(idx)
    n = np.clip(np.ceil(length / PROFILE_STEP_M), 1, 1_000_000).astype(np.int64)
    owner = np.repeat(np.arange(idx.size), n + 1)
    k = np.arange(owner.size) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
    f = k / n[owner]
    lon, lat = geo.point(idx[owner], f)
    d = np.minimum(feature.distance(lon, lat, cap_m), cap_m)
    return owner.astype(np.intp), f * length[owner], d


def _profile_roots(feature: Feature, geo: SegmentGeo, idx: IXP, r_m: float) -> tuple[IXP, F64]:
    """Where the distance to a feature with edges crosses ``r_m`` along segments ``idx``.

    The distance is 1-Lipschitz in the distance travelled, so an interval between two
    samples with distances d0, d1 (each known to within e0, e1) and length h stays within
    [(d0-e0 + d1-e1 - h)/2, (d0+e0 + d1+e1 + h)/2]. Intervals whose range straddles ``r_m``
    are cut in eight until shorter than :data:`PROFILE_TOL_M`; their midpoints are the
    crossing candidates. Samples are measured exactly near ``r_m`` and estimated (with a
    bound) far from it. No crossing longer than the tolerance can be missed, whatever
    the shape of the feature.
    """
    cap = r_m + 2.0 * PROFILE_STEP_M + 1.0
    length = geo.length(idx)
    n = np.clip(np.ceil(length / PROFILE_STEP_M), 1, 1_000_000).astype(np.int64)
    owner = np.repeat(np.arange(idx.size), n + 1)
    k = np.arange(owner.size) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
    f = k / n[owner]
    lon, lat = geo.point(idx[owner], f)
    step = (length / n)[owner]
    d, e = feature.distance_near(lon, lat, cap, r_m, step)
    d = np.minimum(d, cap)
    s_along = f * length[owner]
    same = np.flatnonzero(owner[1:] == owner[:-1])
    own = owner[same]
    lo_s, hi_s = s_along[same], s_along[same + 1]
    lo_d, hi_d, lo_e, hi_e = d[same], d[same + 1], e[same], e[same + 1]
    out_own: list[npt.NDArray[np.int64]] = []
    out_s: list[F64] = []
    for _ in range(40):  # refinement levels: each cuts the ambiguous intervals by 8
        h = hi_s - lo_s
        lower = (lo_d - lo_e + hi_d - hi_e - h) / 2
        upper = (lo_d + lo_e + hi_d + hi_e + h) / 2
        amb = (lower <= r_m) & (upper > r_m)
        done = amb & (h <= PROFILE_TOL_M)
        out_own.append(own[done])
        out_s.append(0.5 * (lo_s[done] + hi_s[done]))
        work = np.flatnonzero(amb & (h > PROFILE_TOL_M))
        if work.size == 0:
            break
        j = np.arange(1, 8)
        w_own = np.repeat(own[work], 7)
        w_s = (lo_s[work][:, None] + h[work][:, None] * j[None, :] / 8.0).ravel()
        seg_len = geo.length(idx[w_own])
        with np.errstate(invalid="ignore", divide="ignore"):
            wf = np.where(seg_len > 0, w_s / seg_len, 0.0)
        wlon, wlat = geo.point(idx[w_own], wf)
        w_d, w_e = feature.distance_near(wlon, wlat, cap, r_m, np.repeat(h[work] / 8.0, 7))
        w_d = np.minimum(w_d, cap).reshape(-1, 7)
        w_e = w_e.reshape(-1, 7)
        all_s = np.concatenate([lo_s[work][:, None], w_s.reshape(-1, 7), hi_s[work][:, None]], 1)
        all_d = np.concatenate([lo_d[work][:, None], w_d, hi_d[work][:, None]], 1)
        all_e = np.concatenate([lo_e[work][:, None], w_e, hi_e[work][:, None]], 1)
        own = np.repeat(own[work], 8)
        lo_s, hi_s = all_s[:, :-1].ravel(), all_s[:, 1:].ravel()
        lo_d, hi_d = all_d[:, :-1].ravel(), all_d[:, 1:].ravel()
        lo_e, hi_e = all_e[:, :-1].ravel(), all_e[:, 1:].ravel()
    own_all = np.concatenate(out_own) if out_own else np.zeros(0, dtype=np.int64)
    s_all = np.concatenate(out_s) if out_s else np.zeros(0)
    seg_len = geo.length(idx[own_all])
    with np.errstate(invalid="ignore", divide="ignore"):
        f_all = np.where(seg_len > 0, s_all / seg_len, 0.0)
    return own_all.astype(np.intp), np.clip(f_all, 0.0, 1.0)


def _profile_minima(
    feature: Feature,
    geo: SegmentGeo,
    idx: IXP,
    within_m: float,
    group_of: Callable[[IXP, F64], I64] | None = None,
) -> tuple[IXP, F64, F64]:
    """Closest approach to a feature with edges: (position in idx, s* in m, d* in m).

    The feature's distance is sampled along the segments; the smallest sample of each
    group (``group_of(position, fraction)`` maps samples to groups such as visits or
    tracks, -1 to none; default: one group per segment) is refined by golden-section
    search over the sample steps either side. Groups farther than ``within_m`` are left out.
    """
    cap = within_m + 2.0 * PROFILE_STEP_M + 1.0
    owner, s_along, d = _profile_samples(feature, geo, idx, cap)
    if owner.size == 0:
        e = np.zeros(0)
        return np.zeros(0, dtype=np.intp), e, e.copy()
    length_all = geo.length(idx[owner])
    with np.errstate(invalid="ignore", divide="ignore"):
        f_all = np.where(length_all > 0, s_along / length_all, 0.0)
    group = owner.astype(np.int64) if group_of is None else group_of(owner, f_all)
    ok = (group >= 0) & (d <= within_m + PROFILE_STEP_M)
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        e = np.zeros(0)
        return np.zeros(0, dtype=np.intp), e, e.copy()
    # the distance is 1-Lipschitz along the path, so the minimum lies within one sample
    # step of a sample no more than half a step above the smallest sample of its group:
    # refine every such sample, then keep the best per group
    gmin = np.full(int(group.max()) + 1, np.inf)
    np.minimum.at(gmin, group[cand], d[cand])
    step = geo.length(idx[owner[cand]]) / np.maximum(
        np.bincount(owner, minlength=idx.size)[owner[cand]] - 1, 1
    )
    keep = cand[d[cand] <= gmin[group[cand]] + 0.5 * step + 1.0]
    own = owner[keep]
    length = geo.length(idx[own])
    lo = np.maximum(s_along[keep] - PROFILE_STEP_M, 0.0)
    hi = np.minimum(s_along[keep] + PROFILE_STEP_M, length)

    def dist_at(s: F64, k: IXP) -> F64:
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(length[k] > 0, s / length[k], 0.0)
        lon, lat = geo.point(idx[own[k]], f)
        return feature.distance(lon, lat, cap)

    s_star, d_star = golden_min(dist_at, lo, hi, iters=40)
    grp = group[keep]
    o = np.lexsort((d_star, grp))
    first = o[np.r_[True, grp[o][1:] != grp[o][:-1]]]
    good = first[d_star[first] <= within_m]
    return own[good].astype(np.intp), s_star[good], d_star[good]


def _segment_minima(
    feature: Feature,
    geo: SegmentGeo,
    idx: IXP,
    within_m: float,
    group_of: Callable[[IXP, F64], I64] | None = None,
) -> tuple[IXP, F64, F64]:
    """Closest approach of segments to a feature, rows (position in idx, s*, d*): for a
    feature of points one row per nearby (segment, point); otherwise one per group (see
    :func:`_profile_minima`)."""
    if feature.has_edges:
        return _profile_minima(feature, geo, idx, within_m, group_of)
    own, _comp, s_star, d_star = _closest_to_feature(feature, geo, idx, within_m)
    return own, s_star, d_star


def _closest_to_feature(
    feature: Feature, geo: SegmentGeo, idx: IXP, margin_m: float
) -> tuple[IXP, IXP, F64, F64]:
    """Closest approach of each segment ``idx`` to each nearby feature component.

    Returns (position in idx, component, distance along the segment s* in m, distance d*
    in m). Pairs are those whose boxes are within ``margin_m``.
    """
    sub = geo.take(idx)
    minx, miny, maxx, maxy = segment_boxes(sub, feature.frame)
    own, comp = feature.pairs_boxes(minx, miny, maxx, maxy, margin_m)
    s_star, d_star = _closest_pairs(feature, geo, idx[own], comp)
    return own, comp, s_star, d_star


def _closest_pairs(feature: Feature, geo: SegmentGeo, seg: IXP, comp: IXP) -> tuple[F64, F64]:
    """Exact closest approach of segments ``seg`` to components ``comp`` (same index):
    (distance along the segment s* in m, geodesic distance d* in m), golden-section."""
    if seg.size == 0:
        e = np.zeros(0)
        return e, e.copy()
    length = geo.length(seg)

    def d_along(s: F64, k: IXP) -> F64:
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(length[k] > 0, s / length[k], 0.0)
        lon, lat = geo.point(seg[k], f)
        d, _, _ = feature.component_distance(lon, lat, comp[k])
        return d

    s_star, d_star = golden_min(d_along, np.zeros(seg.size), length.copy())
    # a minimum within 1 mm of a fix is at the fix
    s_star = np.where(s_star < 1e-3, 0.0, np.where(length - s_star < 1e-3, length, s_star))
    return s_star, d_star


def _approx_point_pairs(
    feature: Feature, geo: SegmentGeo, idx: IXP, within_m: float
) -> tuple[IXP, IXP, F64, F64, F64, F64]:
    """Planar estimates for every (segment, point component) pair that may come within
    ``within_m``: (position in idx, component, estimated closest distance, its error bound,
    estimated distance of each end from the point ... as (d_end0, d_end1)).

    The error bound covers the local planar metric (1 % of the distance + 50 m) and the
    geodesic's departure from the lon/lat chord.
    """
    x0 = feature.frame(geo.lon_a[idx])
    x1 = x0 + wrap180(geo.lon_b[idx] - geo.lon_a[idx])
    y0, y1 = geo.lat_a[idx], geo.lat_b[idx]
    length = geo.approx_length(idx) * 1.05 + 10.0
    worst = np.minimum(np.maximum(np.abs(y0), np.abs(y1)), 89.9)
    bulge = 2.0 * length**2 * (np.tan(np.radians(worst)) + 0.05) / (8 * 6_356_752.0)
    owns, comps, dmins, errs, d0s, d1s = [], [], [], [], [], []
    for c in range(feature.n_points):  # few point components: vectorized over segments
        qx = np.full(idx.size, feature.px[c])
        qy = np.full(idx.size, feature.py[c])
        dmin, _u, d0, d1 = point_chord_distance_m(qx, qy, x0, y0, x1, y1)
        err = 0.01 * np.maximum(d0, d1) + bulge + 50.0
        ok = np.flatnonzero(dmin - err <= within_m)
        owns.append(ok)
        comps.append(np.full(ok.size, c, dtype=np.intp))
        dmins.append(dmin[ok])
        errs.append(err[ok])
        d0s.append(d0[ok])
        d1s.append(d1[ok])
    cat = np.concatenate
    return (
        cat(owns).astype(np.intp),
        cat(comps).astype(np.intp),
        cat(dmins),
        cat(errs),
        cat(d0s),
        cat(d1s),
    )


# =============================================================================== detector
def crossings(
    tracks: Tracks,
    zones: Zones,
    *,
    near_m: float | None = None,
    max_speed_mps: float | None = None,
) -> Events:
    """Every visit of every track to every zone, with interpolated entry and exit.

    Parameters
    ----------
    tracks : Tracks
        Fixes sorted by track and time (as readers return them).
    zones : Zones
        Polygon and buffer zones. A zone marked ``complete=False`` by its source (e.g. a
        polygon with an assumed closing edge) is used as drawn, and ``zone_caveat`` says so.
    near_m : float, optional, metres, > 0
        Also report tracks that came within this distance of a zone's feature without
        entering the zone: one row per (track, zone) with evidence ``near``. The feature
        is what a buffer zone is built from (the islet: "stayed 26.8 km from Dokdo"), or
        a polygon zone's area. ``closest_edge_m`` gives the distance to the zone's edge.
    max_speed_mps : float, optional, metres per second, > 0
        Also report, with evidence ``possible``, the zones a track could have entered
        between two fixes at this speed although its geodesic path does not enter them.

    Returns
    -------
    Events
        One row per visit (``kind="crossing"``) with the columns of
        :data:`~patrolwatch.core.events.CROSSING_SCHEMA`, sorted by track, zone and time.
        An empty table when nothing is found, never ``None``.

    Notes
    -----
    * A point on a zone boundary is inside. A track that only touches the boundary at one
      instant gives a visit of zero duration.
    * A track whose first (last) fix is inside has a null entry (exit); ``duration_s`` is
      then null.
    * ``entry_bracket_start``/``end`` are the times of the fixes either side of the entry;
      they are equal when the crossing is exactly at a fix.
    * ``max_depth_m``: for a buffer zone ``buffer_m - closest_m``; for a polygon zone the
      largest geodesic distance to the boundary over the reported fixes inside the visit
      (the path between fixes may reach deeper by at most half a segment's length).
    * ``closest_m``/``closest_time``: closest approach during the visit to the zone's
      reference feature (the buffered feature, or a polygon zone's ``reference``); null for
      a polygon zone without one.
    * Consecutive fixes with equal times are a jump: its crossings take that time.
    * Longitudes are handled across the antimeridian; segments passing over a pole are not
      supported.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from patrolwatch.core.zones import Zone, Zones
    >>> t = Tracks.from_arrays(["A", "A"], [0, 600_000_000_000], [130.0, 130.0], [36.5, 37.5])
    >>> z = Zones([Zone("box", "Box", "custom", (), box(129.0, 37.0, 131.0, 38.0))])
    >>> ev = crossings(t, z)
    >>> ev.column("evidence"), ev.column("exit_time")
    (['observed'], [None])
    """
    if near_m is not None and not (near_m > 0):
        raise ConfigError(f"near_m must be a positive distance in metres, got {near_m!r}")
    if max_speed_mps is not None and not (max_speed_mps > 0):
        raise ConfigError(f"max_speed_mps must be positive (m/s), got {max_speed_mps!r}")
    fixes = _Fixes(tracks.t_ns, tracks.lon_deg, tracks.lat_deg, tracks.alt_m, tracks.track_index)
    segs = _Segments.of(tracks)
    boxes = _SegmentBoxes.of(fixes, segs)
    tables = []
    for zone in zones:
        tables.append(_zone_crossings(tracks, fixes, segs, boxes, zone, near_m, max_speed_mps))
    if not tables:
        return Events.empty()
    table = pa.concat_tables(tables)
    if table.num_rows:
        table = table.sort_by(
            [("track_id", "ascending"), ("zone_id", "ascending"), ("sort_time", "ascending")]
        )
    return Events(table.drop_columns(["sort_time"]))


def _caveat(zone: Zone) -> str:
    """The zone's caveat, saying so when its source marks it incomplete."""
    if zone.complete:
        return zone.caveat
    return ("zone marked incomplete by its source. " + zone.caveat).strip()


def _empty_table() -> pa.Table:
    return CROSSING_SCHEMA.append(pa.field("sort_time", pa.int64())).empty_table()


def _zone_crossings(
    tracks: Tracks,
    fixes: _Fixes,
    segs: _Segments,
    boxes: _SegmentBoxes,
    zone: Zone,
    near_m: float | None,
    max_speed_mps: float | None,
) -> pa.Table:
    search_m = float(near_m or 0.0)
    model: _ZoneModel = _BufferModel(zone, search_m) if zone.is_buffer else polygon_model(zone)
    frame = model.frame
    x0, y0, x1, y1 = model.bounds
    limits = _VerticalLimits(zone)

    # ---- candidate segments: boxes overlapping the zone's box (grown by the near distance)
    dlon_g, dlat_g = pad_box_deg(np.array([y0]), np.array([y1]), search_m)
    cand = boxes.overlapping(
        x0 - float(dlon_g[0]), y0 - float(dlat_g[0]), x1 + float(dlon_g[0]), y1 + float(dlat_g[0])
    )
    cidx = np.flatnonzero(cand).astype(np.intp)
    geo = SegmentGeo.build(
        fixes.lon[segs.a[cidx]],
        fixes.lat[segs.a[cidx]],
        fixes.lon[segs.b[cidx]],
        fixes.lat[segs.b[cidx]],
    )
    local = np.arange(cidx.size, dtype=np.intp)

    # ---- fix states (for fixes of candidate segments and single-fix tracks)
    single = np.flatnonzero(np.diff(tracks.offsets) == 1)
    single_fix = tracks.offsets[:-1][single].astype(np.int64)
    fix_ids = np.unique(np.concatenate([segs.a[cidx], segs.b[cidx], single_fix]))
    h_state = np.zeros(len(tracks), dtype=bool)
    if fix_ids.size:
        flon = frame(fixes.lon[fix_ids])
        inbox = (
            (flon >= x0) & (flon <= x1) & (fixes.lat[fix_ids] >= y0) & (fixes.lat[fix_ids] <= y1)
        )
        sel = fix_ids[inbox]
        h_state[sel] = model.contains(fixes.lon[sel], fixes.lat[sel])
    v_state = limits.state(fixes.alt)
    state = h_state & v_state

    # ---- crossing candidates on candidate segments
    r_own, r_f = model.roots(geo, local)
    alt_a = fixes.alt[segs.a[cidx]]
    alt_b = fixes.alt[segs.b[cidx]]
    v_own, v_f = limits.roots(alt_a, alt_b)
    s_a = state[segs.a[cidx]]
    s_b = state[segs.b[cidx]]
    need = np.zeros(cidx.size, dtype=bool)
    need[r_own] = True
    need[v_own] = True
    need |= s_a != s_b
    intervals = _segment_intervals(
        model,
        limits,
        geo,
        local,
        need,
        s_a,
        s_b,
        alt_a,
        alt_b,
        np.concatenate([r_own, v_own]),
        np.concatenate([r_f, v_f]),
    )
    # map local segment positions back to global segment numbers
    intervals.seg = cidx[intervals.seg].astype(np.int64)
    # single-fix tracks inside
    sf_in = single_fix[state[single_fix]]
    intervals = _Intervals(
        np.concatenate([intervals.seg, np.full(sf_in.size, -1, dtype=np.int64)]),
        np.concatenate([intervals.fix, sf_in]),
        np.concatenate([intervals.f0, np.zeros(sf_in.size)]),
        np.concatenate([intervals.f1, np.zeros(sf_in.size)]),
    )
    visits = _visits(tracks, fixes, segs, intervals, state, cidx, geo)
    table_visits = _visit_rows(tracks, fixes, segs, zone, model, limits, visits, cidx, geo)

    tables = [table_visits]
    visited_tracks = np.unique(visits.track) if visits.track.size else np.zeros(0, np.int64)
    if near_m is not None:
        tables.append(
            _near_rows(tracks, fixes, segs, zone, model, cidx, geo, visited_tracks, near_m)
        )
    if max_speed_mps is not None:
        tables.append(_possible_rows(tracks, fixes, segs, zone, model, visits, max_speed_mps))
    return pa.concat_tables(tables)


# =============================================================================== vertical
class _VerticalLimits:
    def __init__(self, zone: Zone) -> None:
        self.floor = zone.floor_m
        self.ceiling = zone.ceiling_m
        self.active = zone.has_vertical_limits

    def state(self, alt: F64) -> B:
        """True where the altitude is within limits, or unknown (no limits apply)."""
        if not self.active:
            return np.ones(alt.shape[0], dtype=bool)
        ok = np.ones(alt.shape[0], dtype=bool)
        known = ~np.isnan(alt)
        if not np.isnan(self.floor):
            ok &= ~known | (alt >= self.floor)
        if not np.isnan(self.ceiling):
            ok &= ~known | (alt <= self.ceiling)
        return ok

    def roots(self, alt_a: F64, alt_b: F64) -> tuple[IXP, F64]:
        if not self.active or alt_a.size == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        owns, fs = [], []
        for v in (self.floor, self.ceiling):
            if np.isnan(v):
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                f = (v - alt_a) / (alt_b - alt_a)
            ok = np.isfinite(f) & (f > 0) & (f < 1)
            owns.append(np.flatnonzero(ok).astype(np.intp))
            fs.append(f[ok])
        if not owns:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(owns), np.concatenate(fs)


# =============================================================================== intervals
def _segment_intervals(
    model: _ZoneModel,
    limits: _VerticalLimits,
    geo: SegmentGeo,
    local: IXP,
    need: B,
    s_a: B,
    s_b: B,
    alt_a: F64,
    alt_b: F64,
    own: IXP,
    f: F64,
) -> _Intervals:
    """Inside intervals (fractions) of candidate segments.

    Segments without candidates are inside throughout when their first fix is inside.
    Others are cut at their candidates; the state of each piece is tested at its midpoint
    and each candidate point counts as inside when next to an inside piece or exactly on
    the boundary.
    """
    simple = np.flatnonzero(~need & s_a)
    parts = [
        _Intervals(
            simple.astype(np.int64),
            np.zeros(simple.size, np.int64),
            np.zeros(simple.size),
            np.ones(simple.size),
        )
    ]
    work = np.flatnonzero(need)
    if work.size:
        # breakpoints: 0, candidates, 1 for every segment in work
        keep = need[own]
        bp_seg = np.concatenate([work, own[keep], work])
        bp_f = np.concatenate([np.zeros(work.size), np.clip(f[keep], 0.0, 1.0), np.ones(work.size)])
        order = np.lexsort((bp_f, bp_seg))
        bp_seg, bp_f = bp_seg[order], bp_f[order]
        # drop duplicate breakpoints
        dup = np.zeros(bp_f.size, dtype=bool)
        dup[1:] = (bp_seg[1:] == bp_seg[:-1]) & (bp_f[1:] - bp_f[:-1] <= 1e-13)
        # keep exact 1.0 rather than its near-duplicate
        bp_f_prev_fix = bp_f.copy()
        bp_seg, bp_f = bp_seg[~dup], bp_f_prev_fix[~dup]
        # enforce exact end at 1.0 for last breakpoint of each segment
        last_of_seg = np.ones(bp_seg.size, dtype=bool)
        last_of_seg[:-1] = bp_seg[1:] != bp_seg[:-1]
        bp_f[last_of_seg] = 1.0
        first_of_seg = np.ones(bp_seg.size, dtype=bool)
        first_of_seg[1:] = bp_seg[1:] != bp_seg[:-1]
        bp_f[first_of_seg] = 0.0
        # pieces between consecutive breakpoints of the same segment
        same = bp_seg[1:] == bp_seg[:-1]
        pc_seg = bp_seg[:-1][same]
        pc_lo = bp_f[:-1][same]
        pc_hi = bp_f[1:][same]
        mid = 0.5 * (pc_lo + pc_hi)
        mlon, mlat = geo.point(local[pc_seg], mid)
        pc_state = model.contains(mlon, mlat)
        if limits.active:
            a_, b_ = alt_a[pc_seg], alt_b[pc_seg]
            alt_mid = a_ + mid * (b_ - a_)
            pc_state &= limits.state(alt_mid)
        # breakpoint states: ends from fixes, interior candidates inside if on the boundary
        # or adjacent to an inside piece
        bp_state = np.zeros(bp_seg.size, dtype=bool)
        bp_state[first_of_seg] = s_a[bp_seg[first_of_seg]]
        bp_state[last_of_seg] = s_b[bp_seg[last_of_seg]]
        interior = ~first_of_seg & ~last_of_seg
        # index of piece before/after each breakpoint
        piece_pos = np.cumsum(np.concatenate([[0], same.astype(np.int64)]))  # pieces before bp
        ii = np.flatnonzero(interior)
        before = pc_state[piece_pos[ii] - 1]
        after = pc_state[piece_pos[ii]]
        bp_state[ii] = before | after
        # a candidate between two outside pieces is a touch only if exactly on the boundary
        touch = ii[~before & ~after]
        if touch.size:
            tlon, tlat = geo.point(local[bp_seg[touch]], bp_f[touch])
            on = model.contains(tlon, tlat)
            if limits.active:
                a_, b_ = alt_a[bp_seg[touch]], alt_b[bp_seg[touch]]
                on &= limits.state(a_ + bp_f[touch] * (b_ - a_))
            bp_state[touch] = on
        # sequence of elements: bp0, pc0, bp1, pc1, ..., bpk  (per segment)
        n_bp = bp_seg.size
        n_pc = pc_seg.size
        el_seg = np.empty(n_bp + n_pc, dtype=np.int64)
        el_lo = np.empty(n_bp + n_pc)
        el_hi = np.empty(n_bp + n_pc)
        el_state = np.empty(n_bp + n_pc, dtype=bool)
        # position of bp i in element order = i + (pieces before it)
        bp_pos = np.arange(n_bp) + piece_pos
        pc_idx = np.flatnonzero(same)  # piece j follows breakpoint pc_idx[j]
        pc_pos = bp_pos[pc_idx] + 1
        el_seg[bp_pos], el_lo[bp_pos], el_hi[bp_pos], el_state[bp_pos] = (
            bp_seg,
            bp_f,
            bp_f,
            bp_state,
        )
        el_seg[pc_pos], el_lo[pc_pos], el_hi[pc_pos], el_state[pc_pos] = (
            pc_seg,
            pc_lo,
            pc_hi,
            pc_state,
        )
        # runs of inside elements within a segment
        prev_same = np.zeros(el_seg.size, dtype=bool)
        prev_same[1:] = (el_seg[1:] == el_seg[:-1]) & el_state[:-1]
        next_same = np.zeros(el_seg.size, dtype=bool)
        next_same[:-1] = (el_seg[:-1] == el_seg[1:]) & el_state[1:]
        starts = np.flatnonzero(el_state & ~prev_same)
        ends = np.flatnonzero(el_state & ~next_same)
        parts.append(
            _Intervals(
                el_seg[starts].astype(np.int64),
                np.zeros(starts.size, np.int64),
                el_lo[starts],
                el_hi[ends],
            )
        )
    seg = np.concatenate([p.seg for p in parts])
    return _Intervals(
        seg,
        np.concatenate([p.fix for p in parts]),
        np.concatenate([p.f0 for p in parts]),
        np.concatenate([p.f1 for p in parts]),
    )


@dataclass
class _Visits:
    track: I64
    # start: segment (global), fraction; -1 segment for a single-fix visit
    s_seg: I64
    s_f: F64
    e_seg: I64
    e_f: F64
    t0: I64
    t1: I64
    single_fix: I64  # fix index for single-fix visits, else -1
    first_in: I64  # first fix index inside the visit (or -1)
    last_in: I64  # last fix index inside the visit (or -1)
    seg_lo: I64  # first and last segment (global) of the visit
    seg_hi: I64


def _time_at(fixes: _Fixes, segs: _Segments, seg: I64, f: F64) -> I64:
    ta = fixes.t_ns[segs.a[seg]]
    tb = fixes.t_ns[segs.b[seg]]
    dt = (tb - ta).astype(np.float64)
    t = ta + np.round(f * dt).astype(np.int64)
    return np.where(f >= 1.0, tb, np.where(f <= 0.0, ta, t))


def _visits(
    tracks: Tracks,
    fixes: _Fixes,
    segs: _Segments,
    iv: _Intervals,
    state: B,
    cidx: IXP,
    geo: SegmentGeo,
) -> _Visits:
    """Merge per-segment inside intervals that touch at shared fixes into visits."""
    n = iv.seg.size
    is_single = iv.seg < 0
    seg_safe = np.where(is_single, 0, iv.seg)
    if segs.a.size == 0:
        t0 = fixes.t_ns[iv.fix]
        t1 = t0.copy()
        track = fixes.track[iv.fix]
    else:
        t0 = np.where(is_single, fixes.t_ns[iv.fix], _time_at(fixes, segs, seg_safe, iv.f0))
        t1 = np.where(is_single, fixes.t_ns[iv.fix], _time_at(fixes, segs, seg_safe, iv.f1))
        track = np.where(
            is_single, fixes.track[iv.fix], segs.track[seg_safe] if segs.track.size else 0
        )
    # order: track, then segment position (segments are time ordered), then fraction
    gkey = np.where(
        is_single, fixes.track[iv.fix] * 0 + iv.fix, segs.a[seg_safe] if segs.a.size else 0
    )
    order = np.lexsort((iv.f0, gkey, track))
    track, t0, t1 = track[order], t0[order], t1[order]
    seg, f0, f1, fix, single = (
        iv.seg[order],
        iv.f0[order],
        iv.f1[order],
        iv.fix[order],
        is_single[order],
    )
    # intervals continue when the previous one ends at the fix where this one starts
    cont = np.zeros(n, dtype=bool)
    if n > 1:
        cont[1:] = (
            (track[1:] == track[:-1])
            & ~single[1:]
            & ~single[:-1]
            & (f1[:-1] >= 1.0)
            & (f0[1:] <= 0.0)
            & (seg[1:] == seg[:-1] + 1)
        )
    start = np.flatnonzero(~cont)
    end = np.concatenate([start[1:] - 1, [n - 1]]) if n else start
    v_track = track[start]
    # fixes inside the visit: from the first fix at or after t0 to the last at or before t1
    first_in = np.full(start.size, -1, dtype=np.int64)
    last_in = np.full(start.size, -1, dtype=np.int64)
    s_seg = seg[start]
    e_seg = seg[end]
    s_f = f0[start]
    e_f = f1[end]
    sv = single[start]
    first_in[sv] = fix[start][sv]
    last_in[sv] = fix[start][sv]
    ns = ~sv
    if ns.any():
        # the first fix inside is fix a of the start segment if f0 == 0 else fix b (if reached)
        a0 = segs.a[s_seg[ns]]
        cand_first = np.where(s_f[ns] <= 0.0, a0, a0 + 1)
        b1 = segs.b[e_seg[ns]]
        cand_last = np.where(e_f[ns] >= 1.0, b1, b1 - 1)
        valid = cand_first <= cand_last
        first_in[ns] = np.where(valid, cand_first, -1)
        last_in[ns] = np.where(valid, cand_last, -1)
    return _Visits(
        track=v_track.astype(np.int64),
        s_seg=s_seg,
        s_f=s_f,
        e_seg=e_seg,
        e_f=e_f,
        t0=t0[start],
        t1=t1[end],
        single_fix=np.where(sv, fix[start], -1),
        first_in=first_in,
        last_in=last_in,
        seg_lo=np.where(sv, -1, s_seg),
        seg_hi=np.where(sv, -1, e_seg),
    )


# =============================================================================== rows
def _fmt_rows(tracks: Tracks, fix_lists: list[I64]) -> list[str]:
    """``file:line;file:line`` naming the given fixes of each row, in input order."""
    names = np.asarray(tracks.sources if tracks.sources else ("<memory>",), dtype=object)
    out = []
    for fx in fix_lists:  # per event row (not per fix): formatting only
        fx = np.unique(fx[fx >= 0])
        order = np.lexsort((tracks.src_line[fx], tracks.src_file[fx]))
        fx = fx[order]
        out.append(
            ";".join(
                f"{names[f]}:{int(line)}"
                for f, line in zip(tracks.src_file[fx], tracks.src_line[fx], strict=True)
            )
        )
    return out


def _visit_rows(
    tracks: Tracks,
    fixes: _Fixes,
    segs: _Segments,
    zone: Zone,
    model: _ZoneModel,
    limits: _VerticalLimits,
    v: _Visits,
    cidx: IXP,
    geo: SegmentGeo,
) -> pa.Table:
    n = v.track.size
    if n == 0:
        return _empty_table()
    # global segment -> local candidate position; one padding entry stands for the
    # single-fix visits (which have no segment: their entries and exits are null)
    n_seg = segs.a.size
    loc = np.full(n_seg + 1, -1, dtype=np.intp)
    loc[cidx] = np.arange(cidx.size)
    sv = v.single_fix >= 0
    s_seg = np.where(sv, n_seg, v.s_seg)
    e_seg = np.where(sv, n_seg, v.e_seg)
    seg_a = np.append(segs.a, 0)
    seg_b = np.append(segs.b, 0)
    seg_first = np.append(segs.first, True)
    seg_last = np.append(segs.last, True)
    # entry: null when the visit starts at the track's first fix
    entry_null = sv | ((v.s_f <= 0.0) & seg_first[s_seg])
    exit_null = sv | ((v.e_f >= 1.0) & seg_last[e_seg])
    # positions (segment visits only)
    en_lon = np.full(n, np.nan)
    en_lat = np.full(n, np.nan)
    ex_lon = np.full(n, np.nan)
    ex_lat = np.full(n, np.nan)
    ns = np.flatnonzero(~sv)
    en_lon[ns], en_lat[ns] = geo.point(loc[s_seg[ns]], v.s_f[ns])
    ex_lon[ns], ex_lat[ns] = geo.point(loc[e_seg[ns]], v.e_f[ns])
    ta_s, tb_s = fixes.t_ns[seg_a[s_seg]], fixes.t_ns[seg_b[s_seg]]
    ta_e, tb_e = fixes.t_ns[seg_a[e_seg]], fixes.t_ns[seg_b[e_seg]]
    # brackets: the fixes either side; a crossing exactly at a fix is bracketed by it alone
    en_b0 = np.where(v.s_f >= 1.0, tb_s, ta_s)
    en_b1 = np.where(v.s_f <= 0.0, ta_s, tb_s)
    ex_b0 = np.where(v.e_f >= 1.0, tb_e, ta_e)
    ex_b1 = np.where(v.e_f <= 0.0, ta_e, tb_e)
    en_fix0 = np.where(v.s_f >= 1.0, seg_b[s_seg], seg_a[s_seg])
    en_fix1 = np.where(v.s_f <= 0.0, seg_a[s_seg], seg_b[s_seg])
    ex_fix0 = np.where(v.e_f >= 1.0, seg_b[e_seg], seg_a[e_seg])
    ex_fix1 = np.where(v.e_f <= 0.0, seg_a[e_seg], seg_b[e_seg])
    observed = v.first_in >= 0
    n_in = np.where(observed, v.last_in - v.first_in + 1, 0)

    # closest approach to the reference feature during the visit
    closest_m = np.full(n, np.nan)
    closest_t = np.full(n, _NAT, dtype=np.int64)
    closest_lon = np.full(n, np.nan)
    closest_lat = np.full(n, np.nan)
    if model.reference is not None:
        margin = zone.buffer_m + 1.0 if zone.is_buffer else REFERENCE_SEARCH_M
        _visit_closest(
            tracks,
            fixes,
            segs,
            model.reference,
            v,
            cidx,
            geo,
            closest_m,
            closest_t,
            closest_lon,
            closest_lat,
            margin,
            model.closest if isinstance(model, _BufferModel) else None,
        )
    # depth
    if zone.is_buffer:
        depth = zone.buffer_m - closest_m
    else:
        assert isinstance(model, _PolygonModel)
        depth = _polygon_depth(fixes, model, v)

    # altitude status
    if limits.active:
        seg_lo = np.where(sv, n_seg, v.seg_lo)
        seg_hi = np.where(sv, n_seg, v.seg_hi)
        alt_known = ~np.isnan(fixes.alt)
        # any fix of the visit's segments without altitude -> unknown
        unknown_fix = np.cumsum(np.concatenate([[0], (~alt_known).astype(np.int64)]))
        lo_fix = np.where(sv, v.single_fix, seg_a[seg_lo])
        hi_fix = np.where(sv, v.single_fix, seg_b[seg_hi])
        n_unknown = unknown_fix[hi_fix + 1] - unknown_fix[lo_fix]
        altitude = np.where(n_unknown > 0, "unknown altitude", "within limits").astype(object)
    else:
        altitude = np.full(n, "", dtype=object)

    def ts(values: I64, null: B) -> pa.Array:
        return pa.array(np.where(null, 0, values), TIME_TYPE, mask=null)

    def fl(values: F64, null: B) -> pa.Array:
        return pa.array(np.where(null, np.nan, values), pa.float64(), mask=null | np.isnan(values))

    duration = (v.t1 - v.t0) / 1e9
    src_lists = []
    for i in range(n):  # per visit (not per fix): formatting only
        items = []
        if not entry_null[i]:
            items += [en_fix0[i], en_fix1[i]]
        elif v.first_in[i] >= 0:
            items.append(v.first_in[i])
        if not exit_null[i]:
            items += [ex_fix0[i], ex_fix1[i]]
        elif v.last_in[i] >= 0:
            items.append(v.last_in[i])
        src_lists.append(np.asarray(items, dtype=np.int64))
    src_rows = _fmt_rows(tracks, src_lists)
    track_ids = tracks.track_ids[v.track].astype(object)
    cols = {
        "kind": pa.array(["crossing"] * n, pa.string()),
        "track_id": pa.array(track_ids, pa.string()),
        "zone_id": pa.array([zone.id] * n, pa.string()),
        "zone_name": pa.array([zone.name] * n, pa.string()),
        "zone_kind": pa.array([zone.kind] * n, pa.string()),
        "claimants": pa.array([";".join(zone.claimants)] * n, pa.string()),
        "entry_time": ts(v.t0, entry_null),
        "exit_time": ts(v.t1, exit_null),
        "duration_s": fl(duration, entry_null | exit_null),
        "entry_lat": fl(en_lat, entry_null),
        "entry_lon": fl(en_lon, entry_null),
        "exit_lat": fl(ex_lat, exit_null),
        "exit_lon": fl(ex_lon, exit_null),
        "entry_bracket_start": ts(en_b0, entry_null),
        "entry_bracket_end": ts(en_b1, entry_null),
        "exit_bracket_start": ts(ex_b0, exit_null),
        "exit_bracket_end": ts(ex_b1, exit_null),
        "max_depth_m": fl(depth, np.isnan(depth)),
        "closest_m": fl(closest_m, np.isnan(closest_m)),
        "closest_time": ts(closest_t, closest_t == _NAT),
        "evidence": pa.array(np.where(observed, "observed", "interpolated").tolist(), pa.string()),
        "source_rows": pa.array(src_rows, pa.string()),
        "closest_lat": fl(closest_lat, np.isnan(closest_lat)),
        "closest_lon": fl(closest_lon, np.isnan(closest_lon)),
        "closest_edge_m": pa.nulls(n, pa.float64()),
        "first_fix_time": ts(fixes.t_ns[np.maximum(v.first_in, 0)], ~observed),
        "last_fix_time": ts(fixes.t_ns[np.maximum(v.last_in, 0)], ~observed),
        "n_fixes_inside": pa.array(n_in, pa.int64()),
        "altitude": pa.array(altitude.tolist(), pa.string()),
        "zone_caveat": pa.array([_caveat(zone)] * n, pa.string()),
        "sort_time": pa.array(v.t0, pa.int64()),
    }
    return pa.table(cols, schema=_empty_table().schema)


def _assign(track_c: I64, t_c: I64, track_v: I64, t0_v: I64, t1_v: I64) -> I64:
    """For each candidate (track, time), the index of the visit containing it, else -1.

    Visits must be sorted by (track, t0) and not overlap.
    """
    nv = track_v.size
    nc = track_c.size
    if nv == 0 or nc == 0:
        return np.full(nc, -1, dtype=np.int64)
    tr = np.concatenate([track_v, track_c])
    tt = np.concatenate([t0_v, t_c])
    kind = np.concatenate([np.zeros(nv, np.int64), np.ones(nc, np.int64)])
    ident = np.concatenate([np.arange(nv), np.arange(nc)])
    order = np.lexsort((kind, tt, tr))
    is_v = kind[order] == 0
    last_v = np.where(is_v, ident[order], -1)
    last_v = np.maximum.accumulate(last_v)
    res = np.full(nc, -1, dtype=np.int64)
    cpos = np.flatnonzero(~is_v)
    vi = last_v[cpos]
    ci = ident[order][cpos]
    ok = vi >= 0
    vi_safe = np.where(ok, vi, 0)
    ok &= (
        (track_v[vi_safe] == track_c[ci]) & (t_c[ci] <= t1_v[vi_safe]) & (t_c[ci] >= t0_v[vi_safe])
    )
    res[ci[ok]] = vi[ok]
    return res


def _visit_closest(
    tracks: Tracks,
    fixes: _Fixes,
    segs: _Segments,
    feature: Feature,
    v: _Visits,
    cidx: IXP,
    geo: SegmentGeo,
    out_m: F64,
    out_t: I64,
    out_lon: F64,
    out_lat: F64,
    margin_m: float,
    cache: tuple[IXP, IXP, F64, F64, F64] | None = None,
) -> None:
    """Closest approach to ``feature`` within each visit, in place (components farther
    than ``margin_m`` from a segment's box are not considered)."""
    order = np.lexsort((v.t0, v.track))
    inv_order = np.empty_like(order)
    inv_order[order] = np.arange(order.size)
    tv, t0v, t1v = v.track[order], v.t0[order], v.t1[order]
    cand_track: list[I64] = []
    cand_t: list[I64] = []
    cand_d: list[F64] = []
    cand_lon: list[F64] = []
    cand_lat: list[F64] = []
    # closest points on segments of visits (only candidate segments can be in a visit)
    seg_in = np.zeros(cidx.size, dtype=bool)
    nsv = v.single_fix < 0
    if nsv.any() and cidx.size:
        mark = np.zeros(segs.a.size + 1, dtype=np.int64)
        np.add.at(mark, v.seg_lo[nsv], 1)
        np.add.at(mark, v.seg_hi[nsv] + 1, -1)
        seg_in = np.cumsum(mark)[:-1][cidx] > 0
    loc = np.flatnonzero(seg_in).astype(np.intp)
    if loc.size:
        if cache is not None:
            # the zone's own closest approaches, computed with its crossings; estimates
            # (error > 0) that could still be a visit's closest are solved exactly here
            c_loc, c_comp, s_star, d_star, c_err = cache
            keep = np.flatnonzero(seg_in[c_loc])
            c_loc, c_comp, s_star, d_star, c_err = (
                c_loc[keep],
                c_comp[keep],
                s_star[keep],
                d_star[keep],
                c_err[keep],
            )
            g0 = cidx[c_loc].astype(np.int64)
            ta0 = fixes.t_ns[segs.a[g0]]
            mid_t = ta0 + (fixes.t_ns[segs.b[g0]] - ta0) // 2
            vis = _assign(segs.track[g0], mid_t, tv, t0v, t1v)
            upper = np.full(max(int(tv.size), 1), np.inf)
            ok_v = vis >= 0
            np.minimum.at(upper, vis[ok_v], (d_star + c_err)[ok_v])
            solve = np.flatnonzero(
                ok_v & (c_err > 0) & (d_star - c_err <= upper[np.maximum(vis, 0)])
            )
            if solve.size:
                s_star[solve], d_star[solve] = _closest_pairs(
                    feature, geo, c_loc[solve], c_comp[solve]
                )
            exact_rows = c_err == 0
            exact_rows[solve] = True
            seg_local, s_star, d_star = c_loc[exact_rows], s_star[exact_rows], d_star[exact_rows]
        else:

            def visit_of(pos: IXP, f: F64) -> I64:
                g = cidx[loc[pos]].astype(np.int64)
                return _assign(segs.track[g], _time_at(fixes, segs, g, f), tv, t0v, t1v)

            own, s_star, d_star = _segment_minima(feature, geo, loc, margin_m, visit_of)
            seg_local = loc[own]
        if seg_local.size:
            length = geo.length(seg_local)
            with np.errstate(invalid="ignore", divide="ignore"):
                f = np.where(length > 0, s_star / length, 0.0)
            g = cidx[seg_local]
            lon, lat = geo.point(seg_local, f)
            cand_track.append(segs.track[g])
            cand_t.append(_time_at(fixes, segs, g.astype(np.int64), f))
            cand_d.append(d_star)
            cand_lon.append(lon)
            cand_lat.append(lat)
        # fixes inside polygon parts of the feature are at distance 0
        if feature.area is not None:
            fx = np.unique(np.concatenate([segs.a[cidx[loc]], segs.b[cidx[loc]]]))
            ins = feature.inside_area(fixes.lon[fx], fixes.lat[fx])
            fx = fx[ins]
            cand_track.append(fixes.track[fx])
            cand_t.append(fixes.t_ns[fx])
            cand_d.append(np.zeros(fx.size))
            cand_lon.append(fixes.lon[fx])
            cand_lat.append(fixes.lat[fx])
    sfx = v.single_fix[~nsv]
    if sfx.size:
        d, _, _ = feature.nearest(fixes.lon[sfx], fixes.lat[sfx], 1e7)
        cand_track.append(fixes.track[sfx])
        cand_t.append(fixes.t_ns[sfx])
        cand_d.append(d)
        cand_lon.append(fixes.lon[sfx])
        cand_lat.append(fixes.lat[sfx])
    if not cand_track:
        return
    ctr = np.concatenate(cand_track)
    ct = np.concatenate(cand_t)
    cd = np.concatenate(cand_d)
    clon = np.concatenate(cand_lon)
    clat = np.concatenate(cand_lat)
    which = _assign(ctr, ct, tv, t0v, t1v)
    ok = which >= 0
    which, ct, cd, clon, clat = which[ok], ct[ok], cd[ok], clon[ok], clat[ok]
    if which.size == 0:
        return
    # minimum per visit, ties -> earliest time
    o = np.lexsort((ct, cd, which))
    which, ct, cd, clon, clat = which[o], ct[o], cd[o], clon[o], clat[o]
    first = np.ones(which.size, dtype=bool)
    first[1:] = which[1:] != which[:-1]
    tgt = inv_order_lookup = order[which[first]]
    del inv_order_lookup
    out_m[tgt] = cd[first]
    out_t[tgt] = ct[first]
    out_lon[tgt] = clon[first]
    out_lat[tgt] = clat[first]


def _polygon_depth(fixes: _Fixes, model: _PolygonModel, v: _Visits) -> F64:
    """Largest geodesic distance to the zone boundary over the fixes inside each visit.

    Fixes are ranked by a local-metre estimate of their distance to the nearest edge
    (:meth:`Feature.local_min_distance`, found through an R-tree); the deepest fix of each
    visit is then measured exactly (geodesic distance to the lon/lat edges whose estimate
    is within 5 % + 2 km of the nearest, golden-section search along each).
    """
    n = v.track.size
    depth = np.zeros(n)
    has = v.first_in >= 0
    if not has.any():
        return depth
    counts = np.where(has, v.last_in - v.first_in + 1, 0)
    owner = np.repeat(np.arange(n), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    fx = np.repeat(v.first_in, counts) + (np.arange(owner.size) - start)
    boundary = model.boundary
    approx = boundary.local_min_distance(fixes.lon[fx], fixes.lat[fx])
    # deepest fix per visit by the estimate (ties: the earliest)
    o = np.lexsort((-approx, owner))
    first = np.ones(o.size, dtype=bool)
    first[1:] = owner[o][1:] != owner[o][:-1]
    best_owner, best_fx, best_approx = owner[o][first], fx[o][first], approx[o][first]
    lon, lat = fixes.lon[best_fx], fixes.lat[best_fx]
    p_idx, comp, _ = boundary.local_pairs(lon, lat, best_approx * 1.05 + 2_000.0)
    p_idx, comp = _prune_by_ends(boundary, lon, lat, p_idx, comp)
    d, _, _ = boundary.component_distance(lon[p_idx], lat[p_idx], comp)
    exact = np.full(best_owner.size, np.inf)
    np.minimum.at(exact, p_idx, d)
    depth[best_owner] = exact
    return depth


M_PER_DEG_MAX = 111_700.0
"""More than the length of one degree of latitude anywhere, and of longitude at the
equator, on WGS84 (111,694 m and 111,320 m), metres."""


def _prune_by_ends(feature: Feature, lon: F64, lat: F64, p_idx: IXP, comp: IXP) -> tuple[IXP, IXP]:
    """Drop (point, edge) pairs that cannot hold the point's nearest edge point.

    Every point of an edge (drawn straight in lon/lat) is within the edge's length ``L``
    of its nearer end, so its geodesic distance from the point is at least
    ``min(d_a, d_b) - L``; the nearest end of any candidate edge bounds the minimum from
    above. ``L`` is bounded with :data:`M_PER_DEG_MAX` (degree lengths on WGS84, the
    longitude at the edge's lowest latitude). Coastline zones give hundreds of candidate
    edges of ~100 m within a few km; only those whose ends are close survive, and the
    exact search along each (golden-section) runs on them alone.
    """
    if p_idx.size == 0:
        return p_idx, comp
    e = comp - feature.n_points
    is_edge = e >= 0
    ei = np.where(is_edge, e, 0)
    ax, ay, bx, by = feature.ax[ei], feature.ay[ei], feature.bx[ei], feature.by[ei]
    plon, plat = lon[p_idx], lat[p_idx]
    d_a = inv(plon, plat, ax, ay)[1]
    d_b = inv(plon, plat, bx, by)[1]
    ends = np.minimum(d_a, d_b)
    low_lat = np.where(ay * by <= 0.0, 0.0, np.minimum(np.abs(ay), np.abs(by)))
    length = M_PER_DEG_MAX * np.hypot(by - ay, (bx - ax) * np.cos(np.radians(low_lat)))
    lower = np.where(is_edge, ends - length * 1.001 - 1.0, 0.0)  # points: always kept
    upper = np.full(lon.shape[0], np.inf)
    np.minimum.at(upper, p_idx, np.where(is_edge, ends, np.inf))
    keep = lower <= upper[p_idx]
    return p_idx[keep], comp[keep]


def _near_rows(
    tracks: Tracks,
    fixes: _Fixes,
    segs: _Segments,
    zone: Zone,
    model: _ZoneModel,
    cidx: IXP,
    geo: SegmentGeo,
    visited: I64,
    near_m: float,
) -> pa.Table:
    """One ``near`` row per track that came within ``near_m`` of the zone without entering."""
    if isinstance(model, _BufferModel):
        feature = model.feature
        offset = model.r
    else:
        assert isinstance(model, _PolygonModel)
        feature = model.boundary
        offset = 0.0
    ok_seg = ~np.isin(segs.track[cidx], visited)
    loc = np.flatnonzero(ok_seg).astype(np.intp)
    ctr: list[I64] = []
    ct: list[I64] = []
    cd: list[F64] = []
    clon: list[F64] = []
    clat: list[F64] = []
    if loc.size:

        def track_of(pos: IXP, f: F64) -> I64:
            return segs.track[cidx[loc[pos]]].astype(np.int64)

        own, s_star, d_star = _segment_minima(feature, geo, loc, near_m, track_of)
        if own.size:
            length = geo.length(loc[own])
            with np.errstate(invalid="ignore", divide="ignore"):
                f = np.where(length > 0, s_star / length, 0.0)
            g = cidx[loc[own]].astype(np.int64)
            lon, lat = geo.point(loc[own], f)
            ctr.append(segs.track[g])
            ct.append(_time_at(fixes, segs, g, f))
            cd.append(d_star)
            clon.append(lon)
            clat.append(lat)
    # single-fix tracks
    single = np.flatnonzero(np.diff(tracks.offsets) == 1)
    sf = tracks.offsets[:-1][single].astype(np.int64)
    sf = sf[~np.isin(fixes.track[sf], visited)]
    if sf.size:
        d, _, _ = feature.nearest(fixes.lon[sf], fixes.lat[sf], near_m)
        ctr.append(fixes.track[sf])
        ct.append(fixes.t_ns[sf])
        cd.append(d)
        clon.append(fixes.lon[sf])
        clat.append(fixes.lat[sf])
    if not ctr:
        return _empty_table()
    tr = np.concatenate(ctr)
    t = np.concatenate(ct)
    d = np.concatenate(cd)
    lo = np.concatenate(clon)
    la = np.concatenate(clat)
    o = np.lexsort((t, d, tr))
    tr, t, d, lo, la = tr[o], t[o], d[o], lo[o], la[o]
    first = np.ones(tr.size, dtype=bool)
    first[1:] = tr[1:] != tr[:-1]
    tr, t, d, lo, la = tr[first], t[first], d[first], lo[first], la[first]
    edge = d - offset
    # within near_m of the zone's feature (a buffer zone's islet or line; a polygon's area)
    keep = d <= near_m
    tr, t, d, lo, la, edge = tr[keep], t[keep], d[keep], lo[keep], la[keep], edge[keep]
    n = tr.size
    if n == 0:
        return _empty_table()
    if zone.is_buffer or model.reference is None:
        closest = d
    else:
        closest, _, _ = model.reference.nearest(lo, la, 1e8)
    source_rows = _fmt_rows(
        tracks, [_bracket_fixes(tracks, fixes, int(a), int(b)) for a, b in zip(tr, t, strict=True)]
    )
    return _zone_rows(
        tracks,
        zone,
        tr,
        "near",
        t,
        {
            "closest_m": pa.array(closest, pa.float64()),
            "closest_time": pa.array(t, TIME_TYPE),
            "source_rows": pa.array(source_rows, pa.string()),
            "closest_lat": pa.array(la, pa.float64()),
            "closest_lon": pa.array(lo, pa.float64()),
            "closest_edge_m": pa.array(edge, pa.float64()),
        },
    )


def _zone_rows(
    tracks: Tracks,
    zone: Zone,
    track: I64,
    evidence: str | list[str],
    sort_time: I64,
    given: dict[str, pa.Array],
) -> pa.Table:
    """Event rows of one zone: the zone's own columns, ``given`` columns, nulls elsewhere."""
    n = track.size
    schema = _empty_table().schema
    cols: dict[str, pa.Array] = {
        "kind": pa.array(["crossing"] * n, pa.string()),
        "track_id": pa.array(tracks.track_ids[track].astype(object), pa.string()),
        "zone_id": pa.array([zone.id] * n, pa.string()),
        "zone_name": pa.array([zone.name] * n, pa.string()),
        "zone_kind": pa.array([zone.kind] * n, pa.string()),
        "claimants": pa.array([";".join(zone.claimants)] * n, pa.string()),
        "evidence": pa.array(
            [evidence] * n if isinstance(evidence, str) else evidence, pa.string()
        ),
        "n_fixes_inside": pa.array(np.zeros(n, np.int64), pa.int64()),
        "altitude": pa.array([""] * n, pa.string()),
        "zone_caveat": pa.array([_caveat(zone)] * n, pa.string()),
        "sort_time": pa.array(sort_time, pa.int64()),
    }
    cols.update(given)
    return pa.table({f.name: cols.get(f.name, pa.nulls(n, f.type)) for f in schema}, schema=schema)


def _bracket_fixes(tracks: Tracks, fixes: _Fixes, track: int, t: int) -> I64:
    """The fixes of ``track`` bracketing time ``t`` (one fix when ``t`` is a fix time)."""
    lo, hi = int(tracks.offsets[track]), int(tracks.offsets[track + 1])
    ts = fixes.t_ns[lo:hi]
    i = int(np.searchsorted(ts, t, side="left"))
    if i < ts.size and ts[i] == t:
        return np.asarray([lo + i], dtype=np.int64)
    return np.asarray([lo + max(i - 1, 0), lo + min(i, ts.size - 1)], dtype=np.int64)


def _possible_rows(
    tracks: Tracks,
    fixes: _Fixes,
    segs: _Segments,
    zone: Zone,
    model: _ZoneModel,
    v: _Visits,
    max_speed_mps: float,
) -> pa.Table:
    """Segments whose reachable ellipse at ``max_speed_mps`` meets the zone although the
    geodesic path does not enter it (merged over consecutive segments)."""
    n_seg = segs.a.size
    if n_seg == 0:
        return _empty_table()
    dt_s = (fixes.t_ns[segs.b] - fixes.t_ns[segs.a]) / 1e9
    budget = max_speed_mps * dt_s
    # segments inside any visit are not 'possible'
    in_visit = np.zeros(n_seg, dtype=bool)
    nsv = v.single_fix < 0
    if nsv.any():
        mark = np.zeros(n_seg + 1, dtype=np.int64)
        np.add.at(mark, v.seg_lo[nsv], 1)
        np.add.at(mark, v.seg_hi[nsv] + 1, -1)
        in_visit = np.cumsum(mark)[:-1] > 0
    # boundary sample points of the zone
    bx, by = _boundary_samples(zone, model)
    if bx.size == 0:
        return _empty_table()
    frame = model.frame
    la, lb = fixes.lat[segs.a], fixes.lat[segs.b]
    ax = frame(fixes.lon[segs.a])
    bxx = ax + wrap180(fixes.lon[segs.b] - fixes.lon[segs.a])
    radius = budget  # the ellipse lies within V*dt of either fix
    dlon, dlat = pad_box_deg(np.minimum(la, lb), np.maximum(la, lb), radius)
    x0, y0, x1, y1 = float(bx.min()), float(by.min()), float(bx.max()), float(by.max())
    cand = (
        ~in_visit
        & (budget > 0)
        & (np.maximum(ax, bxx) + dlon >= x0)
        & (np.minimum(ax, bxx) - dlon <= x1)
        & (np.maximum(la, lb) + dlat >= y0)
        & (np.minimum(la, lb) - dlat <= y1)
    )
    ci = np.flatnonzero(cand)
    if ci.size == 0:
        return _empty_table()
    tree = shapely.STRtree(shapely.points(bx, by))
    q, p = tree.query(
        shapely.box(
            np.minimum(ax, bxx)[ci] - dlon[ci],
            np.minimum(la, lb)[ci] - dlat[ci],
            np.maximum(ax, bxx)[ci] + dlon[ci],
            np.maximum(la, lb)[ci] + dlat[ci],
        )
    )
    if q.size == 0:
        return _empty_table()
    g = ci[q]
    d1 = inv(fixes.lon[segs.a[g]], fixes.lat[segs.a[g]], bx[p], by[p])[1]
    d2 = inv(bx[p], by[p], fixes.lon[segs.b[g]], fixes.lat[segs.b[g]])[1]
    reach = d1 + d2 <= budget[g]
    segp = np.unique(g[reach])
    if segp.size == 0:
        return _empty_table()
    # merge consecutive segments of one track
    brk = np.ones(segp.size, dtype=bool)
    brk[1:] = (segp[1:] != segp[:-1] + 1) | (segs.track[segp[1:]] != segs.track[segp[:-1]])
    starts = segp[brk]
    ends = segp[np.concatenate([np.flatnonzero(brk)[1:] - 1, [segp.size - 1]])]
    t0 = fixes.t_ns[segs.a[starts]]
    t1 = fixes.t_ns[segs.b[ends]]
    source_rows = _fmt_rows(
        tracks, [np.asarray([segs.a[a], segs.b[b]]) for a, b in zip(starts, ends, strict=True)]
    )
    return _zone_rows(
        tracks,
        zone,
        segs.track[starts],
        "possible",
        t0,
        {
            "entry_bracket_start": pa.array(t0, TIME_TYPE),
            "entry_bracket_end": pa.array(t1, TIME_TYPE),
            "exit_bracket_start": pa.array(t0, TIME_TYPE),
            "exit_bracket_end": pa.array(t1, TIME_TYPE),
            "source_rows": pa.array(source_rows, pa.string()),
        },
    )


def _boundary_samples(zone: Zone, model: _ZoneModel) -> tuple[F64, F64]:
    """Points on the zone boundary every :data:`POSSIBLE_SAMPLE_M` metres (frame lon, lat)."""
    if isinstance(model, _BufferModel):
        feat = model.feature
        # circles around points and around edge vertices, plus offsets of edges
        cx = np.concatenate([feat.px, feat.ax, feat.bx])
        cy = np.concatenate([feat.py, feat.ay, feat.by])
        if cx.size == 0:
            return np.zeros(0), np.zeros(0)
        n_az = max(16, int(np.ceil(2 * np.pi * model.r / POSSIBLE_SAMPLE_M)))
        az = np.linspace(0.0, 360.0, n_az, endpoint=False)
        from ..core.geodesy import fwd

        lon, lat = fwd(
            np.repeat(cx, n_az),
            np.repeat(cy, n_az),
            np.tile(az, cx.size),
            np.full(cx.size * n_az, model.r),
        )
        return model.frame(lon), lat
    assert isinstance(model, _PolygonModel)
    ax, ay, bx, by = model.ax, model.ay, model.bx, model.by
    length = inv(ax, ay, bx, by)[1]
    k = np.maximum(1, np.ceil(length / POSSIBLE_SAMPLE_M)).astype(np.int64)
    owner = np.repeat(np.arange(ax.size), k)
    j = np.arange(owner.size) - np.repeat(np.cumsum(k) - k, k)
    u = j / k[owner]
    return ax[owner] + u * (bx[owner] - ax[owner]), ay[owner] + u * (by[owner] - ay[owner])
