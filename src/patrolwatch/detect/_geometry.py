"""Zone geometry prepared for the crossing detector.

Two models share one interface: :class:`PolygonModel` (a polygon zone tested in the lon/lat
plane) and :class:`BufferModel` (everything within ``buffer_m`` of a feature, tested by
exact geodesic distance). :class:`Feature` measures geodesic distances from points and
from track segments to a feature made of points, lon/lat-straight edges and polygon
interiors. Every coordinate is put into the zone's *frame*: longitudes unwrapped around
the zone's central longitude, so that zones across the antimeridian are continuous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from ..core.geodesy import M_PER_DEG_LAT_MIN, fwd, inv, m_per_deg_lon, wrap180
from ._kernels import golden_min

__all__ = ["Feature", "Frame", "SegmentGeo"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
IXP = npt.NDArray[np.intp]

EDGE_GOLDEN_ITERS = 48
"""Golden-section iterations for the closest point on one lon/lat edge (relative 1e-10)."""

EDGE_BRACKET_ITERS = 24
"""Golden-section iterations inside the bracket around the planar foot point: the
bracket shrinks by 1e-5, so the distance error is far below a millimetre."""


def _planar_foot(x: F64, y: F64, ax: F64, ay: F64, bx: F64, by: F64) -> tuple[F64, F64, F64]:
    """Foot point parameter on edges A-B, distance and edge length (m), in a local
    equirectangular metric around each point (x, y) (frame longitudes)."""
    kx = m_per_deg_lon(y)
    ky = M_PER_DEG_LAT_MIN
    pax, pay = (ax - x) * kx, (ay - y) * ky
    ex, ey = (bx - ax) * kx, (by - ay) * ky
    len2 = ex * ex + ey * ey
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.clip(-(pax * ex + pay * ey) / len2, 0.0, 1.0)
    u = np.where(np.isfinite(u), u, 0.0)
    d = np.hypot(pax + u * ex, pay + u * ey)
    return u, d, np.sqrt(len2)


@dataclass(frozen=True)
class Frame:
    """Longitudes unwrapped around a central longitude ``center_deg``."""

    center_deg: float

    def __call__(self, lon_deg: npt.ArrayLike) -> F64:
        """Longitude in the frame: ``center + wrap180(lon - center)``."""
        return np.asarray(
            self.center_deg + wrap180(np.asarray(lon_deg, dtype=np.float64) - self.center_deg),
            dtype=np.float64,
        )

    @classmethod
    def for_geometry(cls, geom: BaseGeometry) -> Frame:
        """The frame centred on the circular mean of the geometry's longitudes."""
        coords = shapely.get_coordinates(geom)
        if coords.shape[0] == 0:
            return cls(0.0)
        lon = np.radians(coords[:, 0])
        center = float(np.degrees(np.arctan2(np.sin(lon).mean(), np.cos(lon).mean())))
        return cls(center)

    def geometry(self, geom: BaseGeometry) -> BaseGeometry:
        """The geometry with each ring or line unwrapped into the frame."""

        def _unwrap(xy: F64) -> F64:
            out = xy.copy()
            if out.shape[0] == 0:
                return out
            # each part continuous, its first vertex placed in the frame
            out[:, 0] = self(out[:, 0])
            return out

        parts = []
        for part in shapely.get_parts(geom):
            gtype = shapely.get_type_id(part)
            if gtype in (3,):  # Polygon
                rings = [_continuous(_unwrap(np.asarray(part.exterior.coords)))]
                rings += [_continuous(_unwrap(np.asarray(r.coords))) for r in part.interiors]
                parts.append(shapely.Polygon(rings[0], rings[1:]))
            elif gtype == 1:  # LineString
                parts.append(shapely.LineString(_continuous(_unwrap(np.asarray(part.coords)))))
            elif gtype == 0:  # Point
                x, y = part.x, part.y
                parts.append(shapely.Point(float(self(x)), y))
            else:  # pragma: no cover - get_parts only returns simple parts
                parts.append(part)
        if not parts:
            return geom
        if len(parts) == 1:
            return parts[0]
        return (
            shapely.GeometryCollection(parts)
            if len({p.geom_type for p in parts}) > 1
            else (
                shapely.MultiPolygon(parts)
                if parts[0].geom_type == "Polygon"
                else shapely.MultiLineString(parts)
                if parts[0].geom_type == "LineString"
                else shapely.MultiPoint(parts)
            )
        )


def _continuous(xy: F64) -> F64:
    """Make longitudes of a vertex sequence continuous (no jump over 180 degrees)."""
    if xy.shape[0] < 2:
        return xy
    d = np.diff(xy[:, 0])
    d = wrap180(d)
    out = xy.copy()
    out[1:, 0] = xy[0, 0] + np.cumsum(d)
    return out


def edges_of(geom: BaseGeometry) -> tuple[F64, F64, F64, F64]:
    """All edges (consecutive vertex pairs) of every line and ring, as (ax, ay, bx, by)."""
    rings = []
    for part in shapely.get_parts(geom):
        gtype = shapely.get_type_id(part)
        if gtype == 3:
            rings.append(np.asarray(part.exterior.coords))
            rings.extend(np.asarray(r.coords) for r in part.interiors)
        elif gtype == 1:
            rings.append(np.asarray(part.coords))
    if not rings:
        e = np.zeros(0)
        return e, e.copy(), e.copy(), e.copy()
    a = np.concatenate([r[:-1, :2] for r in rings if r.shape[0] > 1])
    b = np.concatenate([r[1:, :2] for r in rings if r.shape[0] > 1])
    keep = np.any(a != b, axis=1)
    a, b = a[keep], b[keep]
    return a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy()


def pad_box_deg(lat_lo: F64, lat_hi: F64, margin_m: F64 | float) -> tuple[F64, F64]:
    """Degree margins (lon, lat) that cover ``margin_m`` metres around a latitude band."""
    m = np.asarray(margin_m, dtype=np.float64) + np.zeros_like(lat_lo)
    dlat = m / M_PER_DEG_LAT_MIN
    worst = np.maximum(np.abs(lat_lo), np.abs(lat_hi)) + dlat
    dlon = np.where(worst >= 89.5, 360.0, m / m_per_deg_lon(np.minimum(worst, 89.5)))
    return np.asarray(dlon, dtype=np.float64), np.asarray(dlat, dtype=np.float64)


class SegmentGeo:
    """Geodesic parameters of track segments (one element per segment), solved lazily.

    A vehicle moves from fix ``a`` to fix ``b`` along the geodesic at constant speed: at
    fraction ``f`` of the time it is ``f * length`` along it. The inverse problem (azimuth
    and length) is solved only for the segments that need it, once each.
    """

    def __init__(self, lon_a: F64, lat_a: F64, lon_b: F64, lat_b: F64) -> None:
        self.lon_a = lon_a
        self.lat_a = lat_a
        self.lon_b = lon_b
        self.lat_b = lat_b
        n = lon_a.shape[0]
        self._az = np.full(n, np.nan)
        self._len = np.full(n, np.nan)

    @classmethod
    def build(cls, lon_a: F64, lat_a: F64, lon_b: F64, lat_b: F64) -> SegmentGeo:
        """Segments from their end fixes (nothing is solved yet)."""
        return cls(lon_a, lat_a, lon_b, lat_b)

    def _ensure(self, idx: IXP | I64) -> None:
        idx = np.asarray(idx, dtype=np.intp)
        if idx.size == 0:
            return
        miss = idx[np.isnan(self._len[idx])]
        if miss.size:
            miss = np.unique(miss)
            az, length = inv(self.lon_a[miss], self.lat_a[miss], self.lon_b[miss], self.lat_b[miss])
            self._az[miss] = az
            self._len[miss] = length

    def length(self, idx: IXP | I64) -> F64:
        """Geodesic length (m) of segments ``idx``."""
        self._ensure(idx)
        return self._len[idx]

    def take(self, idx: IXP | I64) -> SegmentGeo:
        """The subset of segments ``idx`` (already solved ones stay solved)."""
        sub = SegmentGeo(self.lon_a[idx], self.lat_a[idx], self.lon_b[idx], self.lat_b[idx])
        sub._az = self._az[idx].copy()
        sub._len = self._len[idx].copy()
        return sub

    def approx_length(self, idx: IXP | I64) -> F64:
        """Planar estimate of the length (m), for margins only (within ~1 % below 1000 km)."""
        dlon = wrap180(self.lon_b[idx] - self.lon_a[idx])
        lat_m = 0.5 * (self.lat_a[idx] + self.lat_b[idx])
        return np.asarray(
            np.hypot(dlon * m_per_deg_lon(lat_m), (self.lat_b[idx] - self.lat_a[idx]) * 111_320.0),
            dtype=np.float64,
        )

    def point(self, idx: IXP | I64, f: F64) -> tuple[F64, F64]:
        """Position at fraction ``f`` in [0, 1] of segments ``idx`` (exact fixes at 0 and 1)."""
        self._ensure(idx)
        lon, lat = fwd(self.lon_a[idx], self.lat_a[idx], self._az[idx], f * self._len[idx])
        at_a = f <= 0.0
        at_b = f >= 1.0
        lon = np.where(at_a, self.lon_a[idx], np.where(at_b, self.lon_b[idx], lon))
        lat = np.where(at_a, self.lat_a[idx], np.where(at_b, self.lat_b[idx], lat))
        return lon, lat


class Feature:
    """Geodesic distance to a feature made of points, lon/lat-straight edges and polygons.

    Parameters
    ----------
    geom : shapely geometry, lon/lat degrees
        The feature (Point, MultiPoint, LineString, Polygon, multi-parts, collections).
    frame : Frame
        The zone frame the feature's longitudes are unwrapped into.

    Notes
    -----
    The distance from a point to an edge is the geodesic distance to the nearest point of
    the edge drawn straight in lon/lat, found by golden-section search along the edge.
    A point inside a polygon part is at distance 0.
    """

    def __init__(self, geom: BaseGeometry, frame: Frame) -> None:
        self.frame = frame
        g = frame.geometry(geom)
        pts = [
            p
            for p in shapely.get_parts(g)
            if shapely.get_type_id(p) == 0 and not shapely.is_empty(p)
        ]
        self.px = np.asarray([p.x for p in pts], dtype=np.float64)
        self.py = np.asarray([p.y for p in pts], dtype=np.float64)
        self.ax, self.ay, self.bx, self.by = edges_of(g)
        polys = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) == 3]
        self.area: BaseGeometry | None = shapely.union_all(polys) if polys else None
        if self.area is not None:
            shapely.prepare(self.area)
        self.n_points = self.px.shape[0]
        self.n_comp = self.n_points + self.ax.shape[0]
        # component boxes (points are degenerate boxes)
        self.cminx = np.concatenate([self.px, np.minimum(self.ax, self.bx)])
        self.cmaxx = np.concatenate([self.px, np.maximum(self.ax, self.bx)])
        self.cminy = np.concatenate([self.py, np.minimum(self.ay, self.by)])
        self.cmaxy = np.concatenate([self.py, np.maximum(self.ay, self.by)])
        self.bounds = (
            (
                float(self.cminx.min()),
                float(self.cminy.min()),
                float(self.cmaxx.max()),
                float(self.cmaxy.max()),
            )
            if self.n_comp
            else (0.0, 0.0, 0.0, 0.0)
        )
        self._tree: shapely.STRtree | None = None
        self._tree_margin_m = -1.0
        self._ntree: shapely.STRtree | None = None
        self._raw_boxes: shapely.STRtree | None = None

    # ---------------------------------------------------------------- candidate pairs
    def _component_tree(self, margin_m: float) -> shapely.STRtree:
        if self._tree is None or self._tree_margin_m != margin_m:
            dlon, dlat = pad_box_deg(self.cminy, self.cmaxy, margin_m)
            boxes = shapely.box(
                self.cminx - dlon, self.cminy - dlat, self.cmaxx + dlon, self.cmaxy + dlat
            )
            self._tree = shapely.STRtree(boxes)
            self._tree_margin_m = margin_m
        return self._tree

    def pairs_boxes(
        self, minx: F64, miny: F64, maxx: F64, maxy: F64, margin_m: float
    ) -> tuple[IXP, IXP]:
        """(query index, component index) pairs whose boxes, the components' grown by
        ``margin_m`` metres, overlap. Query boxes are in the frame."""
        if self.n_comp == 0 or minx.shape[0] == 0:
            e = np.zeros(0, dtype=np.intp)
            return e, e.copy()
        tree = self._component_tree(margin_m)
        q, c = tree.query(shapely.box(minx, miny, maxx, maxy))
        return q.astype(np.intp), c.astype(np.intp)

    # ---------------------------------------------------------------- distances
    def component_distance(self, lon: F64, lat: F64, comp: IXP) -> tuple[F64, F64, F64]:
        """Distance from each point to component ``comp`` of the same index, and the
        nearest position on the component (lon, lat)."""
        out = np.empty(lon.shape[0])
        nx = np.empty(lon.shape[0])
        ny = np.empty(lon.shape[0])
        is_pt = comp < self.n_points
        i = np.flatnonzero(is_pt)
        if i.size:
            c = comp[i]
            out[i] = inv(lon[i], lat[i], self.px[c], self.py[c])[1]
            nx[i] = self.px[c]
            ny[i] = self.py[c]
        j = np.flatnonzero(~is_pt)
        if j.size:
            e = comp[j] - self.n_points
            ax, ay, bx, by = self.ax[e], self.ay[e], self.bx[e], self.by[e]
            plon, plat = lon[j], lat[j]

            def along(u: F64, k: IXP) -> F64:
                return inv(
                    plon[k], plat[k], ax[k] + u * (bx[k] - ax[k]), ay[k] + u * (by[k] - ay[k])
                )[1]

            # the local planar foot point is off by well under a bracket of 2 % of the
            # distance + d**2/R + 100 m; golden-section search inside that bracket, and
            # over the whole edge where the minimum lands on the bracket's end
            u0, d0, edge_m = _planar_foot(self.frame(plon), plat, ax, ay, bx, by)
            with np.errstate(invalid="ignore", divide="ignore"):
                du = (0.02 * d0 + d0**2 / 6_356_752.0 + 100.0) / edge_m
            du = np.where(np.isfinite(du), du, 1.0)
            lo = np.clip(u0 - du, 0.0, 1.0)
            hi = np.clip(u0 + du, 0.0, 1.0)
            u, d = golden_min(along, lo, hi, iters=EDGE_BRACKET_ITERS)
            redo = np.flatnonzero(((u - lo <= 1e-9) & (lo > 0.0)) | ((hi - u <= 1e-9) & (hi < 1.0)))
            if redo.size:
                u_r, d_r = golden_min(
                    lambda uu, kk: along(uu, redo[kk]),
                    np.zeros(redo.size),
                    np.ones(redo.size),
                    iters=EDGE_GOLDEN_ITERS,
                )
                u[redo], d[redo] = u_r, d_r
            out[j] = d
            nx[j] = ax + u * (bx - ax)
            ny[j] = ay + u * (by - ay)
        return out, nx, ny

    def inside_area(self, lon: F64, lat: F64) -> npt.NDArray[np.bool_]:
        """True where the point lies in a polygon part of the feature (boundary included)."""
        if self.area is None or lon.shape[0] == 0:
            return np.zeros(lon.shape[0], dtype=bool)
        return np.asarray(shapely.intersects_xy(self.area, self.frame(lon), lat), dtype=bool)

    def approx_component_distance(self, lon: F64, lat: F64, comp: IXP) -> F64:
        """Estimated distance (m) from each point to component ``comp`` of the same index,
        in a local equirectangular metric around the point (relative error well under 2 %
        at a few hundred km; used only to rank components)."""
        x = self.frame(lon)
        kx = m_per_deg_lon(lat)
        ky = M_PER_DEG_LAT_MIN
        out = np.empty(lon.shape[0])
        is_pt = comp < self.n_points
        i = np.flatnonzero(is_pt)
        if i.size:
            c = comp[i]
            out[i] = np.hypot((self.px[c] - x[i]) * kx[i], (self.py[c] - lat[i]) * ky)
        j = np.flatnonzero(~is_pt)
        if j.size:
            e = comp[j] - self.n_points
            ax, ay = (self.ax[e] - x[j]) * kx[j], (self.ay[e] - lat[j]) * ky
            bx, by = (self.bx[e] - x[j]) * kx[j], (self.by[e] - lat[j]) * ky
            ex, ey = bx - ax, by - ay
            with np.errstate(invalid="ignore", divide="ignore"):
                u = np.clip(-(ax * ex + ay * ey) / (ex * ex + ey * ey), 0.0, 1.0)
            u = np.where(np.isfinite(u), u, 0.0)
            out[j] = np.hypot(ax + u * ex, ay + u * ey)
        return out

    def _nearest_tree(self) -> shapely.STRtree:
        if self._ntree is None:
            geoms = np.concatenate(
                [
                    shapely.points(self.px, self.py),
                    shapely.linestrings(
                        np.stack(
                            [np.c_[self.ax, self.ay], np.c_[self.bx, self.by]], axis=1
                        ).reshape(-1, 2, 2)
                    )
                    if self.ax.size
                    else np.zeros(0, dtype=object),
                ]
            )
            self._ntree = shapely.STRtree(geoms)
            self._raw_boxes = shapely.STRtree(
                shapely.box(self.cminx, self.cminy, self.cmaxx, self.cmaxy)
            )
        return self._ntree

    def local_pairs(
        self, lon: F64, lat: F64, radius_m: F64, *, chunk: int = 1024
    ) -> tuple[IXP, IXP, F64]:
        """(point, component, estimate) for every component whose local-metric estimate
        (:meth:`approx_component_distance`) from the point is at most ``radius_m`` (per
        point, metres): the same set a dense evaluation of every component gives, found
        through the R-tree of the components (points in chunks to bound the memory)."""
        e = np.zeros(0, dtype=np.intp)
        if self.n_comp == 0 or lon.shape[0] == 0:
            return e, e.copy(), np.zeros(0)
        tree = self._nearest_tree()
        flon = self.frame(lon)
        # the estimate scales lon by m_per_deg_lon(lat) and lat by M_PER_DEG_LAT_MIN, so
        # it is at least their minimum times the distance in the lon/lat plane
        k = np.minimum(m_per_deg_lon(lat), M_PER_DEG_LAT_MIN)
        r_deg = np.asarray(radius_m, dtype=np.float64) / k * (1.0 + 1e-9) + 1e-12
        qs, cs, ds = [], [], []
        for s in range(0, lon.shape[0], chunk):
            sl = slice(s, s + chunk)
            q, c = tree.query(shapely.points(flon[sl], lat[sl]), "dwithin", distance=r_deg[sl])
            q = q.astype(np.intp) + s
            c = c.astype(np.intp)
            d = self.approx_component_distance(lon[q], lat[q], c)
            keep = d <= radius_m[q]
            qs.append(q[keep])
            cs.append(c[keep])
            ds.append(d[keep])
        return np.concatenate(qs), np.concatenate(cs), np.concatenate(ds)

    def local_min_distance(self, lon: F64, lat: F64) -> F64:
        """Smallest local-metric estimate (m) over the components, per point: exactly the
        minimum of :meth:`approx_component_distance` over every component (``inf`` for a
        feature without components). An estimate to rank points, not a geodesic distance."""
        n = lon.shape[0]
        out = np.full(n, np.inf)
        if self.n_comp == 0 or n == 0:
            return out
        tree = self._nearest_tree()
        qi, ci = tree.query_nearest(shapely.points(self.frame(lon), lat), all_matches=False)
        qi, ci = qi.astype(np.intp), ci.astype(np.intp)
        bound = np.full(n, np.inf)
        bound[qi] = self.approx_component_distance(lon[qi], lat[qi], ci)
        q, _, d = self.local_pairs(lon, lat, bound)
        np.minimum.at(out, q, d)
        return out

    def _candidate_pairs(self, lon: F64, lat: F64, search_m: float) -> tuple[IXP, IXP]:
        """(point, component) pairs that can hold each point's nearest component within
        ``search_m``: the nearest component in the lon/lat plane bounds the true nearest
        distance from above; every component whose box lies within that bound (+2 % and
        200 m) is a candidate, then those within 2 % + 200 m of the best estimate stay."""
        e = np.zeros(0, dtype=np.intp)
        if self.n_comp == 0 or lon.shape[0] == 0:
            return e, e.copy()
        tree = self._nearest_tree()
        flon = self.frame(lon)
        pts = shapely.points(flon, lat)
        qi, ci = tree.query_nearest(pts, all_matches=False)
        qi, ci = qi.astype(np.intp), ci.astype(np.intp)
        bound = np.full(lon.shape[0], np.inf)
        bound[qi] = self.approx_component_distance(lon[qi], lat[qi], ci) * 1.02 + 200.0
        radius = np.minimum(bound, search_m * 1.02 + 200.0)
        dlon, dlat = pad_box_deg(lat, lat, radius)
        assert self._raw_boxes is not None
        q, c = self._raw_boxes.query(shapely.box(flon - dlon, lat - dlat, flon + dlon, lat + dlat))
        q, c = q.astype(np.intp), c.astype(np.intp)
        if q.size == 0:
            return q, c
        approx = self.approx_component_distance(lon[q], lat[q], c)
        best = np.full(lon.shape[0], np.inf)
        np.minimum.at(best, q, approx)
        keep = (approx <= best[q] * 1.02 + 200.0) & (approx <= search_m * 1.02 + 200.0)
        return q[keep], c[keep]

    def distance_near(
        self, lon: F64, lat: F64, search_m: float, r_m: float, band_m: F64
    ) -> tuple[F64, F64]:
        """Distance to the feature with an error bound: exact (error 0) where the estimate
        lies within ``band_m`` (+ its own error, twice) of ``r_m``, else the local planar
        estimate with its error bound (2 % + 200 m). ``inf`` beyond ``search_m``."""
        n = lon.shape[0]
        out = np.full(n, np.inf)
        err = np.zeros(n)
        if n == 0:
            return out, err
        q, c = self._candidate_pairs(lon, lat, search_m)
        if q.size:
            approx = self.approx_component_distance(lon[q], lat[q], c)
            best = np.full(n, np.inf)
            np.minimum.at(best, q, approx)
            slack = 0.02 * best + 200.0
            exact_pt = np.abs(best - r_m) <= band_m + 2.0 * slack
            far = np.isfinite(best) & ~exact_pt
            out[far] = best[far]
            err[far] = slack[far]
            sel = exact_pt[q]
            if sel.any():
                d, _, _ = self.component_distance(lon[q[sel]], lat[q[sel]], c[sel])
                np.minimum.at(out, q[sel], d)
        inside = self.inside_area(lon, lat)
        out[inside] = 0.0
        err[inside] = 0.0
        return out, err

    def distance(self, lon: F64, lat: F64, search_m: float) -> F64:
        """Geodesic distance (m) from each point to the feature; ``inf`` beyond ``search_m``."""
        return self.nearest(lon, lat, search_m)[0]

    def nearest(self, lon: F64, lat: F64, search_m: float) -> tuple[F64, F64, F64]:
        """Distance to the feature and the nearest feature position, per point (inf/NaN
        beyond ``search_m``)."""
        n = lon.shape[0]
        out = np.full(n, np.inf)
        nx = np.full(n, np.nan)
        ny = np.full(n, np.nan)
        if n == 0:
            return out, nx, ny
        q, c = self._candidate_pairs(lon, lat, search_m)
        if q.size:
            d, x, y = self.component_distance(lon[q], lat[q], c)
            order = np.lexsort((d, q))
            q, d, x, y = q[order], d[order], x[order], y[order]
            first = np.ones(q.size, dtype=bool)
            first[1:] = q[1:] != q[:-1]
            out[q[first]] = d[first]
            nx[q[first]] = x[first]
            ny[q[first]] = y[first]
        inside = self.inside_area(lon, lat)
        out[inside] = 0.0
        nx[inside] = lon[inside]
        ny[inside] = lat[inside]
        return out, nx, ny

    @property
    def has_edges(self) -> bool:
        """True when the feature has lines or polygon rings (not only points)."""
        return bool(self.ax.shape[0] > 0 or self.area is not None)


class EdgeCells:
    """Which cells of a regular lon/lat grid an edge passes through, as a summed-area
    table: :meth:`may_meet` tells in O(1) per box whether a box can touch any edge.

    A prefilter only: a box that touches an edge always answers True (cells are marked
    conservatively: every edge is sampled at most one cell apart and the 3 x 3
    neighbourhood of each sample's cell is marked, which covers the edge between
    samples). A box far from every edge answers False without an R-tree query, which is
    most boxes of a track crossing a large zone's interior or exterior.

    Parameters
    ----------
    ax, ay, bx, by : ndarray of float64
        Edge ends, in the zone's frame (degrees).
    max_cells : int
        Bound on the grid size; cells are at least ``min_cell_deg`` wide.
    """

    def __init__(
        self,
        ax: F64,
        ay: F64,
        bx: F64,
        by: F64,
        *,
        max_cells: int = 1 << 20,
        min_cell_deg: float = 0.01,
    ) -> None:
        self.empty = ax.size == 0
        if self.empty:
            self.x0 = self.y0 = 0.0
            self.cell = 1.0
            self.nx = self.ny = 1
            self.sat = np.zeros((2, 2), dtype=np.int64)
            return
        x0 = float(min(ax.min(), bx.min()))
        y0 = float(min(ay.min(), by.min()))
        w = float(max(ax.max(), bx.max())) - x0
        h = float(max(ay.max(), by.max())) - y0
        cell = max(min_cell_deg, math.sqrt(max(w * h, 1e-12) / max_cells), w / 4096, h / 4096)
        # one cell of margin on every side so that the 3 x 3 marks stay in the grid
        self.x0, self.y0, self.cell = x0 - cell, y0 - cell, cell
        self.nx = int(w / cell) + 3
        self.ny = int(h / cell) + 3
        length = np.hypot(bx - ax, by - ay)
        k = np.ceil(length / cell).astype(np.int64) + 1  # samples per edge, <= 1 cell apart
        owner = np.repeat(np.arange(ax.size), k)
        j = np.arange(owner.size) - np.repeat(np.cumsum(k) - k, k)
        f = j / np.maximum(k[owner] - 1, 1)
        sx = ax[owner] + f * (bx[owner] - ax[owner])
        sy = ay[owner] + f * (by[owner] - ay[owner])
        cx = np.clip(((sx - self.x0) / cell).astype(np.int64), 1, self.nx - 2)
        cy = np.clip(((sy - self.y0) / cell).astype(np.int64), 1, self.ny - 2)
        grid = np.zeros((self.ny, self.nx), dtype=np.int8)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                grid[cy + dy, cx + dx] = 1
        sat = np.zeros((self.ny + 1, self.nx + 1), dtype=np.int64)
        np.cumsum(np.cumsum(grid, axis=0), axis=1, out=sat[1:, 1:])
        self.sat = sat

    def may_meet(self, x0: F64, y0: F64, x1: F64, y1: F64) -> npt.NDArray[np.bool_]:
        """True where the box ``[x0, x1] x [y0, y1]`` (frame degrees) may touch an edge."""
        if self.empty:
            return np.zeros(np.shape(x0), dtype=bool)
        c = self.cell
        i0 = np.floor((np.asarray(x0) - self.x0) / c)
        i1 = np.floor((np.asarray(x1) - self.x0) / c)
        j0 = np.floor((np.asarray(y0) - self.y0) / c)
        j1 = np.floor((np.asarray(y1) - self.y0) / c)
        outside = (i1 < 0) | (j1 < 0) | (i0 >= self.nx) | (j0 >= self.ny)
        outside |= ~(np.isfinite(i0) & np.isfinite(i1) & np.isfinite(j0) & np.isfinite(j1))
        i0 = np.clip(i0, 0, self.nx - 1).astype(np.int64)
        i1 = np.clip(i1, 0, self.nx - 1).astype(np.int64)
        j0 = np.clip(j0, 0, self.ny - 1).astype(np.int64)
        j1 = np.clip(j1, 0, self.ny - 1).astype(np.int64)
        s = self.sat
        count = s[j1 + 1, i1 + 1] - s[j0, i1 + 1] - s[j1 + 1, i0] + s[j0, i0]
        return np.asarray((count > 0) & ~outside, dtype=bool)


def segment_boxes(seg: SegmentGeo, frame: Frame) -> tuple[F64, F64, F64, F64]:
    """Bounding boxes of segments in the frame, grown to cover the geodesic's bulge.

    The geodesic between two fixes departs from their lon/lat chord by about
    ``L**2 * tan(lat) / (8 R)``; the box is grown by twice that plus 1 m.
    """
    ax = frame(seg.lon_a)
    bx = ax + wrap180(seg.lon_b - seg.lon_a)
    lat_lo = np.minimum(seg.lat_a, seg.lat_b)
    lat_hi = np.maximum(seg.lat_a, seg.lat_b)
    worst = np.minimum(np.maximum(np.abs(lat_lo), np.abs(lat_hi)), 89.9)
    length = seg.approx_length(np.arange(seg.lon_a.shape[0])) * 1.05 + 10.0
    bulge_m = 2.0 * length**2 * (np.tan(np.radians(worst)) + 0.05) / (8.0 * 6_356_752.0) + 1.0
    dlon, dlat = pad_box_deg(lat_lo, lat_hi, bulge_m)
    return (
        np.minimum(ax, bx) - dlon,
        np.maximum(lat_lo - dlat, -90.0),
        np.maximum(ax, bx) + dlon,
        np.minimum(lat_hi + dlat, 90.0),
    )
