"""Vectorized numerical kernels shared by the detectors.

Each kernel works on whole arrays at once (one element per problem) with a fixed number
of iterations, so there is no Python loop over rows; the loop is over iterations only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba as _numba
import numpy as np
import numpy.typing as npt

__all__ = ["BISECT_ITERS", "GOLDEN_ITERS", "bisect_root", "golden_min"]

F64 = npt.NDArray[np.float64]

GOLDEN_ITERS = 52
"""Golden-section iterations: the bracket shrinks by 0.618**52 ~ 1.4e-11 of its width
(0.1 mm on 10,000 km)."""
BISECT_ITERS = 56
"""Bisection iterations: the bracket shrinks by 2**-56 ~ 1.4e-17 of its width."""

_INVPHI = (np.sqrt(5.0) - 1.0) / 2.0


def golden_min(
    func: Callable[[F64, npt.NDArray[np.intp]], F64],
    lo: F64,
    hi: F64,
    *,
    iters: int = GOLDEN_ITERS,
) -> tuple[F64, F64]:
    """Minimise many unimodal functions at once by golden-section search.

    Parameters
    ----------
    func : callable ``(x, idx) -> values``
        Evaluates problem ``idx[k]`` at ``x[k]``.
    lo, hi : ndarray of float64
        Bracket of each problem (``lo <= hi``).

    Returns
    -------
    x_min, f_min : ndarray of float64
        Minimiser and minimum of each problem. The end points are also evaluated, so a
        minimum at either end of the bracket is found exactly.

    Examples
    --------
    >>> x, f = golden_min(lambda x, i: (x - np.array([0.25, 2.0])[i]) ** 2,
    ...                   np.zeros(2), np.ones(2))
    >>> np.round(x, 9).tolist(), np.round(f, 9).tolist()
    ([0.25, 1.0], [0.0, 1.0])
    """
    n = lo.shape[0]
    idx = np.arange(n)
    a = lo.copy()
    b = hi.copy()
    c = b - _INVPHI * (b - a)
    d = a + _INVPHI * (b - a)
    fc = func(c, idx)
    fd = func(d, idx)
    for _ in range(iters):
        left = fc < fd
        # keep [a, d] where f(c) < f(d), else [c, b]
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new_c = np.where(left, b - _INVPHI * (b - a), d)
        new_d = np.where(left, c, a + _INVPHI * (b - a))
        f_new_c = np.where(left, np.nan, fd)
        f_new_d = np.where(left, fc, np.nan)
        need = np.flatnonzero(left)
        if need.size:
            f_new_c[need] = func(new_c[need], need)
        need = np.flatnonzero(~left)
        if need.size:
            f_new_d[need] = func(new_d[need], need)
        c, d, fc, fd = new_c, new_d, f_new_c, f_new_d
    x = np.where(fc < fd, c, d)
    fx = np.minimum(fc, fd)
    # the ends of the original bracket
    f_lo = func(lo, idx)
    f_hi = func(hi, idx)
    x = np.where(f_lo < fx, lo, x)
    fx = np.minimum(fx, f_lo)
    x = np.where(f_hi < fx, hi, x)
    fx = np.minimum(fx, f_hi)
    return x, fx


def bisect_root(
    func: Callable[[F64, npt.NDArray[np.intp]], F64],
    lo: F64,
    hi: F64,
    *,
    iters: int = BISECT_ITERS,
) -> F64:
    """Find a sign change of many functions at once by bisection.

    ``func(lo)`` and ``func(hi)`` must have opposite signs (or one be zero); the result is
    within ``(hi - lo) * 2**-iters`` of a root.

    Examples
    --------
    >>> r = bisect_root(lambda x, i: x ** 2 - 2.0, np.array([0.0]), np.array([2.0]))
    >>> round(float(r[0]), 12)
    1.414213562373
    """
    idx = np.arange(lo.shape[0])
    a = lo.copy()
    b = hi.copy()
    fa = func(a, idx)
    for _ in range(iters):
        m = 0.5 * (a + b)
        fm = func(m, idx)
        same = np.sign(fm) == np.sign(fa)
        a = np.where(same, m, a)
        fa = np.where(same, fm, fa)
        b = np.where(same, b, m)
    return 0.5 * (a + b)


def chord_edge_distance_m(
    x0: F64,
    y0: F64,
    x1: F64,
    y1: F64,
    ex0: F64,
    ey0: F64,
    ex1: F64,
    ey1: F64,
    *,
    chunk: int = 2_000_000,
) -> F64:
    """Smallest planar distance (m) from each chord to any edge, in a local equirectangular
    metric at the chord's mean latitude (0 where they intersect).

    Chords are (x0, y0)-(x1, y1) and edges (ex0, ey0)-(ex1, ey1), longitudes in one frame,
    degrees. Memory is bounded by working on chunks of ``chunk`` chord-edge pairs.
    """
    n = x0.shape[0]
    e = ex0.shape[0]
    out = np.full(n, np.inf)
    if n == 0 or e == 0:
        return out
    ky = 110_574.0
    step = max(1, chunk // e)
    for s in range(0, n, step):  # chunks of chords bound the memory, not a per-row loop
        sl = slice(s, s + step)
        kx = np.maximum(111_320.0 * np.cos(np.radians(0.5 * (y0[sl] + y1[sl]))), 1.0)[:, None]
        ox, oy = x0[sl][:, None], y0[sl][:, None]
        ax, ay = (x0[sl][:, None] - ox) * kx, (y0[sl][:, None] - oy) * ky
        bx, by = (x1[sl][:, None] - ox) * kx, (y1[sl][:, None] - oy) * ky
        cx, cy = (ex0[None, :] - ox) * kx, (ey0[None, :] - oy) * ky
        dx, dy = (ex1[None, :] - ox) * kx, (ey1[None, :] - oy) * ky
        d = np.minimum(
            np.minimum(_pt_seg(ax, ay, cx, cy, dx, dy), _pt_seg(bx, by, cx, cy, dx, dy)),
            np.minimum(_pt_seg(cx, cy, ax, ay, bx, by), _pt_seg(dx, dy, ax, ay, bx, by)),
        )
        d = np.where(_crosses(ax, ay, bx, by, cx, cy, dx, dy), 0.0, d)
        out[sl] = d.min(axis=1)
    return out


def _pt_seg(px: F64, py: F64, ax: F64, ay: F64, bx: F64, by: F64) -> F64:
    ex, ey = bx - ax, by - ay
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.clip(((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    u = np.where(np.isfinite(u), u, 0.0)
    return np.asarray(np.hypot(ax + u * ex - px, ay + u * ey - py), dtype=np.float64)


def _crosses(ax: F64, ay: F64, bx: F64, by: F64, cx: F64, cy: F64, dx: F64, dy: F64) -> Any:
    def orient(px: F64, py: F64, qx: F64, qy: F64, rx: F64, ry: F64) -> F64:
        return np.sign((qx - px) * (ry - py) - (qy - py) * (rx - px))

    o1 = orient(ax, ay, bx, by, cx, cy)
    o2 = orient(ax, ay, bx, by, dx, dy)
    o3 = orient(cx, cy, dx, dy, ax, ay)
    o4 = orient(cx, cy, dx, dy, bx, by)
    # collinear (or degenerate) pairs meet only where their boxes overlap
    collinear = (o1 == 0) & (o2 == 0) & (o3 == 0) & (o4 == 0)
    boxes_meet = (
        (np.maximum(ax, bx) >= np.minimum(cx, dx))
        & (np.maximum(cx, dx) >= np.minimum(ax, bx))
        & (np.maximum(ay, by) >= np.minimum(cy, dy))
        & (np.maximum(cy, dy) >= np.minimum(ay, by))
    )
    return (o1 * o2 <= 0) & (o3 * o4 <= 0) & (~collinear | boxes_meet)


def point_chord_distance_m(
    qx: F64, qy: F64, x0: F64, y0: F64, x1: F64, y1: F64
) -> tuple[F64, F64, F64, F64]:
    """Planar estimates (local equirectangular at the point) from points Q to chords of the
    same index: (distance to the chord, foot parameter in [0, 1], distance to end 0, to end 1),
    metres."""
    ky = 110_574.0
    kx = np.maximum(111_320.0 * np.cos(np.radians(qy)), 1.0)
    ax, ay = (x0 - qx) * kx, (y0 - qy) * ky
    bx, by = (x1 - qx) * kx, (y1 - qy) * ky
    ex, ey = bx - ax, by - ay
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.clip(-(ax * ex + ay * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    u = np.where(np.isfinite(u), u, 0.0)
    return (
        np.asarray(np.hypot(ax + u * ex, ay + u * ey), dtype=np.float64),
        np.asarray(u, dtype=np.float64),
        np.asarray(np.hypot(ax, ay), dtype=np.float64),
        np.asarray(np.hypot(bx, by), dtype=np.float64),
    )


def _chord_edge_distance_loop(
    x0: F64,
    y0: F64,
    x1: F64,
    y1: F64,
    ex0: F64,
    ey0: F64,
    ex1: F64,
    ey1: F64,
) -> F64:  # pragma: no cover - compiled; tested against chord_edge_distance_m
    n = x0.shape[0]
    e = ex0.shape[0]
    out = np.empty(n)
    ky = 110_574.0
    for i in range(n):
        kx = max(111_320.0 * np.cos(np.radians(0.5 * (y0[i] + y1[i]))), 1.0)
        ax, ay = 0.0, 0.0
        bx, by = (x1[i] - x0[i]) * kx, (y1[i] - y0[i]) * ky
        best = np.inf
        for j in range(e):
            cx, cy = (ex0[j] - x0[i]) * kx, (ey0[j] - y0[i]) * ky
            dx, dy = (ex1[j] - x0[i]) * kx, (ey1[j] - y0[i]) * ky
            o1 = np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))
            o2 = np.sign((bx - ax) * (dy - ay) - (by - ay) * (dx - ax))
            o3 = np.sign((dx - cx) * (ay - cy) - (dy - cy) * (ax - cx))
            o4 = np.sign((dx - cx) * (by - cy) - (dy - cy) * (bx - cx))
            collinear = o1 == 0 and o2 == 0 and o3 == 0 and o4 == 0
            meet = (
                max(ax, bx) >= min(cx, dx)
                and max(cx, dx) >= min(ax, bx)
                and max(ay, by) >= min(cy, dy)
                and max(cy, dy) >= min(ay, by)
            )
            if o1 * o2 <= 0 and o3 * o4 <= 0 and (not collinear or meet):
                best = 0.0
                break
            d = min(
                _pt_seg_1(ax, ay, cx, cy, dx, dy),
                _pt_seg_1(bx, by, cx, cy, dx, dy),
                _pt_seg_1(cx, cy, ax, ay, bx, by),
                _pt_seg_1(dx, dy, ax, ay, bx, by),
            )
            best = min(best, d)
        out[i] = best
    return out


def _pt_seg_1(
    px: float, py: float, ax: float, ay: float, bx: float, by: float
) -> float:  # pragma: no cover - compiled
    ex, ey = bx - ax, by - ay
    den = ex * ex + ey * ey
    u = 0.0
    if den > 0.0:
        u = min(max(((px - ax) * ex + (py - ay) * ey) / den, 0.0), 1.0)
    return float(np.hypot(ax + u * ex - px, ay + u * ey - py))


_pt_seg_1 = _numba.njit(cache=True, nogil=True)(_pt_seg_1)
_chord_edge_distance_loop = _numba.njit(cache=True, nogil=True)(_chord_edge_distance_loop)


def chord_edge_distance_fast_m(
    x0: F64, y0: F64, x1: F64, y1: F64, ex0: F64, ey0: F64, ex1: F64, ey1: F64
) -> F64:
    """:func:`chord_edge_distance_m` compiled with numba (same values)."""
    if x0.shape[0] == 0 or ex0.shape[0] == 0:
        return chord_edge_distance_m(x0, y0, x1, y1, ex0, ey0, ex1, ey1)
    arrays = [
        np.ascontiguousarray(a, dtype=np.float64) for a in (x0, y0, x1, y1, ex0, ey0, ex1, ey1)
    ]
    return np.asarray(_chord_edge_distance_loop(*arrays), dtype=np.float64)
