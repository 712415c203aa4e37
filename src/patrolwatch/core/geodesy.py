"""Geodesy on the WGS84 ellipsoid (Karney's algorithms via :class:`pyproj.Geod`).

Every function takes and returns arrays (or scalars) in **(lon, lat)** order, degrees, and
distances in metres. Shapely is used elsewhere for topology only, never for metres.

Examples
--------
>>> az12, dist_m = inv(-71.0, 42.0, -70.0, 43.0)  # GeographicLib Inverse: 138186.210 m
>>> round(float(dist_m), 3)
138186.21
>>> lon, lat = fwd(0.0, 0.0, 90.0, 111319.49079327357)
>>> round(float(lon), 9), round(float(lat), 9)
(1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Geod

__all__ = [
    "GEOD",
    "M_PER_DEG_LAT_MIN",
    "distance_m",
    "fwd",
    "inv",
    "m_per_deg_lon",
    "wrap180",
]

F64 = npt.NDArray[np.float64]

GEOD = Geod(ellps="WGS84")
"""The WGS84 geodesic solver shared by patrolwatch."""

M_PER_DEG_LAT_MIN = 110_574.0
"""Smallest length of one degree of latitude on WGS84 (at the equator), metres; used to
turn metres into degree margins that are never too small."""


def _arr(x: npt.ArrayLike) -> F64:
    return np.asarray(x, dtype=np.float64)


def wrap180(lon_deg: npt.ArrayLike) -> F64:
    """Wrap longitudes to [-180, 180).

    Examples
    --------
    >>> wrap180([179.5, 180.0, 181.0, -540.0]).tolist()
    [179.5, -180.0, -179.0, -180.0]
    """
    x = _arr(lon_deg)
    return np.asarray((x + 180.0) % 360.0 - 180.0, dtype=np.float64)


def inv(
    lon1_deg: npt.ArrayLike,
    lat1_deg: npt.ArrayLike,
    lon2_deg: npt.ArrayLike,
    lat2_deg: npt.ArrayLike,
) -> tuple[F64, F64]:
    """Inverse geodesic problem: forward azimuth at point 1 and distance.

    Parameters
    ----------
    lon1_deg, lat1_deg, lon2_deg, lat2_deg : array of float64, degrees (any longitude)

    Returns
    -------
    az12_deg : ndarray of float64
        Azimuth at point 1 towards point 2, degrees clockwise from north, (-180, 180].
    dist_m : ndarray of float64
        Geodesic distance, metres, >= 0.
    """
    return _solve(GEOD.inv, lon1_deg, lat1_deg, lon2_deg, lat2_deg, keep=(0, 2))


def _solve(
    method: Callable[..., tuple[Any, Any, Any]],
    *args: npt.ArrayLike,
    keep: tuple[int, int],
) -> tuple[F64, F64]:
    """Call a pyproj ``Geod`` method on four broadcast arrays (flattened, contiguous)
    and return two of its three outputs in the arrays' shape."""
    arrays = np.broadcast_arrays(*(_arr(x) for x in args))
    shape = arrays[0].shape
    if arrays[0].size == 0:
        return np.zeros(shape), np.zeros(shape)
    out = method(*(np.ascontiguousarray(x).ravel() for x in arrays))
    i, j = keep
    return (
        np.asarray(out[i], dtype=np.float64).reshape(shape),
        np.asarray(out[j], dtype=np.float64).reshape(shape),
    )


def distance_m(
    lon1_deg: npt.ArrayLike,
    lat1_deg: npt.ArrayLike,
    lon2_deg: npt.ArrayLike,
    lat2_deg: npt.ArrayLike,
) -> F64:
    """Geodesic distance in metres between point pairs (symmetric, >= 0)."""
    return inv(lon1_deg, lat1_deg, lon2_deg, lat2_deg)[1]


def fwd(
    lon_deg: npt.ArrayLike, lat_deg: npt.ArrayLike, az_deg: npt.ArrayLike, dist_m: npt.ArrayLike
) -> tuple[F64, F64]:
    """Direct geodesic problem: the point ``dist_m`` metres from (lon, lat) along ``az_deg``.

    Returns
    -------
    lon_deg, lat_deg : ndarray of float64
        Longitude in [-180, 180], latitude in [-90, 90], degrees.
    """
    return _solve(GEOD.fwd, lon_deg, lat_deg, az_deg, dist_m, keep=(0, 1))


def m_per_deg_lon(lat_deg: npt.ArrayLike) -> F64:
    """Approximate metres per degree of longitude at a latitude (spherical, for margins only;
    never below 1 m so that divisions stay finite at the poles)."""
    lat = np.radians(np.clip(_arr(lat_deg), -90.0, 90.0))
    return np.asarray(np.maximum(111_320.0 * np.cos(lat), 1.0), dtype=np.float64)
