"""Established routes: cluster past tracks into routes and say which one a new track follows.

"Was it on the established route?" Past tracks (earlier incidents) are resampled to
:data:`ROUTE_POINTS` points equally spaced along their geodesic path and compared by the
discrete Fréchet distance (the leash length two walkers need to traverse both paths in
order, metres, geodesic). Tracks closer than ``max_frechet_m`` are linked; linked groups
(single linkage) are routes, each represented by its medoid (the member with the smallest
summed distance to the others). A new track follows the route whose medoid is nearest by
the same distance, if within ``max_frechet_m``; its largest deviation is the largest
geodesic distance from one of its fixes to the medoid's path, with where and when.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import shapely

from ..core.events import TIME_TYPE, Events
from ..core.geodesy import fwd, inv
from ..core.tracks import Tracks
from ..errors import ConfigError
from ._geometry import Feature, Frame

__all__ = ["DEFAULT_MAX_FRECHET_M", "ROUTE_POINTS", "RouteLibrary", "match_routes", "route_library"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

ROUTE_POINTS = 32
"""Points each path is resampled to, equally spaced along its geodesic length."""

DEFAULT_MAX_FRECHET_M = 25_000.0
"""Largest discrete Fréchet distance (m) between two paths of one route."""


def _resample(tracks: Tracks, n_points: int) -> tuple[F64, F64]:
    """Each track's path at ``n_points`` equally spaced distances: (lon, lat), shape
    (n_tracks, n_points). Single-fix tracks repeat their fix."""
    n_tr = tracks.n_tracks
    counts = np.diff(tracks.offsets)
    tix = tracks.track_index
    same = np.flatnonzero(tix[:-1] == tix[1:]) if len(tracks) > 1 else np.zeros(0, np.int64)
    az = np.zeros(len(tracks))
    step = np.zeros(len(tracks))
    if same.size:
        a, d = inv(
            tracks.lon_deg[same],
            tracks.lat_deg[same],
            tracks.lon_deg[same + 1],
            tracks.lat_deg[same + 1],
        )
        az[same], step[same] = a, d
    # cumulative distance at each fix, restarting per track
    cum = np.concatenate([[0.0], np.cumsum(step[:-1])]) if len(tracks) else np.zeros(0)
    start = cum[tracks.offsets[:-1]]
    cum = cum - np.repeat(start, counts)
    total = cum[tracks.offsets[1:] - 1]
    frac = np.linspace(0.0, 1.0, n_points)
    want = total[:, None] * frac[None, :]  # (n_tr, n_points)
    # global search: offset each track's distances by its index so they increase overall
    span = float(total.max()) + 1.0 if n_tr else 1.0
    key = cum + np.repeat(np.arange(n_tr) * span, counts)
    q = (want + (np.arange(n_tr) * span)[:, None]).ravel()
    pos = np.searchsorted(key, q, side="right") - 1
    lo = np.repeat(tracks.offsets[:-1], n_points)
    hi = np.repeat(tracks.offsets[1:] - 1, n_points)
    pos = np.clip(pos, lo, hi)
    along = np.maximum(q - key[pos], 0.0)
    lon, lat = fwd(
        tracks.lon_deg[pos], tracks.lat_deg[pos], az[pos], np.where(pos < hi, along, 0.0)
    )
    return lon.reshape(n_tr, n_points), lat.reshape(n_tr, n_points)


def _frechet(lon_a: F64, lat_a: F64, lon_b: F64, lat_b: F64) -> F64:
    """Discrete Fréchet distance (m) between path pairs: inputs shape (pairs, n)."""
    n = lon_a.shape[1]
    pairs = lon_a.shape[0]
    d = inv(
        np.repeat(lon_a, n, axis=1),
        np.repeat(lat_a, n, axis=1),
        np.tile(lon_b, (1, n)),
        np.tile(lat_b, (1, n)),
    )[1].reshape(pairs, n, n)
    ca = np.empty_like(d)
    ca[:, 0, 0] = d[:, 0, 0]
    for i in range(1, n):  # dynamic programme over path positions, vectorized over pairs
        ca[:, i, 0] = np.maximum(ca[:, i - 1, 0], d[:, i, 0])
        ca[:, 0, i] = np.maximum(ca[:, 0, i - 1], d[:, 0, i])
    for i in range(1, n):
        for j in range(1, n):
            prev = np.minimum(np.minimum(ca[:, i - 1, j], ca[:, i - 1, j - 1]), ca[:, i, j - 1])
            ca[:, i, j] = np.maximum(prev, d[:, i, j])
    return np.asarray(ca[:, n - 1, n - 1], dtype=np.float64)


@dataclass(frozen=True)
class RouteLibrary:
    """Routes found in past tracks.

    Attributes
    ----------
    route_ids : list of str
        ``route-1``, ``route-2``, ... ordered by their first member's id.
    members : list of tuple of str
        Past track ids of each route.
    medoid : list of str
        The member that represents each route.
    lon_deg, lat_deg : ndarray, shape (routes, ROUTE_POINTS)
        The medoids' resampled paths.
    paths : list of shapely LineString
        The medoids' full paths (lon/lat), to measure deviations against.
    max_frechet_m : float
        The linking distance the routes were built with.
    """

    route_ids: list[str]
    members: list[tuple[str, ...]]
    medoid: list[str]
    lon_deg: F64
    lat_deg: F64
    paths: list[shapely.LineString]
    max_frechet_m: float


def route_library(
    tracks: Tracks, *, max_frechet_m: float = DEFAULT_MAX_FRECHET_M, n_points: int = ROUTE_POINTS
) -> RouteLibrary:
    """Cluster past tracks into routes (single linkage on the discrete Fréchet distance).

    Parameters
    ----------
    tracks : Tracks
        Past tracks (for example the tracks of earlier incidents).
    max_frechet_m : float, metres, > 0
        Tracks closer than this are on one route.
    n_points : int, >= 2
        Points each path is resampled to.

    Examples
    --------
    >>> t = Tracks.from_arrays(["a", "a", "b", "b"], [0, 10**12, 0, 10**12],
    ...                        [125.0, 126.0, 125.0, 126.0], [33.0, 33.0, 33.01, 33.01])
    >>> route_library(t).members
    [('a', 'b')]
    """
    if not max_frechet_m > 0:
        raise ConfigError(
            f"max_frechet_m must be a positive distance in metres, got {max_frechet_m!r}"
        )
    if n_points < 2:
        raise ConfigError(f"n_points must be at least 2, got {n_points!r}")
    n = tracks.n_tracks
    lon, lat = _resample(tracks, n_points)
    ia, ib = np.triu_indices(n, k=1)
    dist = np.zeros((n, n))
    if ia.size:
        f = _frechet(lon[ia], lat[ia], lon[ib], lat[ib])
        dist[ia, ib] = f
        dist[ib, ia] = f
    # single linkage: propagate the smallest label over links until stable
    label = np.arange(n)
    link = dist[ia, ib] <= max_frechet_m if ia.size else np.zeros(0, bool)
    la, lb = ia[link], ib[link]
    for _ in range(n):  # at most n rounds; each round vectorized over links
        new = label.copy()
        np.minimum.at(new, la, label[lb])
        np.minimum.at(new, lb, label[la])
        if np.array_equal(new, label):
            break
        label = new
    groups = [np.flatnonzero(label == g) for g in np.unique(label)]
    groups.sort(key=lambda g: str(tracks.track_ids[g[0]]))
    medoids = [int(g[np.argmin(dist[np.ix_(g, g)].sum(axis=1))]) for g in groups]
    paths = []
    for m in medoids:
        sl = slice(int(tracks.offsets[m]), int(tracks.offsets[m + 1]))
        xy = np.c_[tracks.lon_deg[sl], tracks.lat_deg[sl]]
        paths.append(shapely.LineString(xy if xy.shape[0] > 1 else np.vstack([xy, xy])))
    return RouteLibrary(
        route_ids=[f"route-{k + 1}" for k in range(len(groups))],
        members=[tuple(str(t) for t in tracks.track_ids[g]) for g in groups],
        medoid=[str(tracks.track_ids[m]) for m in medoids],
        lon_deg=lon[medoids],
        lat_deg=lat[medoids],
        paths=paths,
        max_frechet_m=float(max_frechet_m),
    )


ROUTE_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("track_id", pa.string()),
        ("route_id", pa.string()),
        ("on_route", pa.bool_()),
        ("frechet_m", pa.float64()),
        ("route_members", pa.string()),
        ("max_deviation_m", pa.float64()),
        ("deviation_time", TIME_TYPE),
        ("deviation_lat", pa.float64()),
        ("deviation_lon", pa.float64()),
    ]
)
"""Columns of route events (``kind`` is ``"route"``)."""


def match_routes(library: RouteLibrary, tracks: Tracks) -> Events:
    """For each track, the nearest known route and its largest deviation from it.

    Returns
    -------
    Events
        One row per track (kind ``"route"``): ``route_id`` of the nearest route and
        ``frechet_m`` to its medoid; ``on_route`` when within the library's
        ``max_frechet_m``; ``max_deviation_m`` (geodesic distance from the fix farthest
        from the route's path to that path) with its ``deviation_time``/``_lat``/``_lon``.
        Empty when the library or the tracks are empty.
    """
    n_tr, n_rt = tracks.n_tracks, len(library.route_ids)
    if n_tr == 0 or n_rt == 0:
        return Events(ROUTE_SCHEMA.empty_table())
    lon, lat = _resample(tracks, library.lon_deg.shape[1])
    ti, ri = np.repeat(np.arange(n_tr), n_rt), np.tile(np.arange(n_rt), n_tr)
    f = _frechet(lon[ti], lat[ti], library.lon_deg[ri], library.lat_deg[ri]).reshape(n_tr, n_rt)
    best = np.argmin(f, axis=1)
    tix = tracks.track_index
    dev = np.zeros(len(tracks))
    for r in np.unique(best):  # one pass per route (few), vectorized over its tracks' fixes
        fix = np.flatnonzero(best[tix] == r)
        path = library.paths[int(r)]
        feature = Feature(path, Frame.for_geometry(path))
        dev[fix] = feature.distance(tracks.lon_deg[fix], tracks.lat_deg[fix], 1e7)
    order = np.lexsort((-dev, tix))
    first = order[np.r_[True, tix[order][1:] != tix[order][:-1]]]
    far = first[np.argsort(tix[first])]
    return Events(
        pa.table(
            {
                "kind": ["route"] * n_tr,
                "track_id": pa.array(tracks.track_ids.astype(object), pa.string()),
                "route_id": [library.route_ids[int(b)] for b in best],
                "on_route": pa.array(f[np.arange(n_tr), best] <= library.max_frechet_m),
                "frechet_m": pa.array(f[np.arange(n_tr), best]),
                "route_members": [";".join(library.members[int(b)]) for b in best],
                "max_deviation_m": pa.array(dev[far]),
                "deviation_time": pa.array(tracks.t_ns[far], TIME_TYPE),
                "deviation_lat": pa.array(tracks.lat_deg[far]),
                "deviation_lon": pa.array(tracks.lon_deg[far]),
            },
            schema=ROUTE_SCHEMA,
        )
    )
