"""Vectorized numerical kernels shared by the detectors.

Each kernel works on whole arrays at once (one element per problem) with a fixed number
of iterations, so there is no Python loop over rows; the loop is over iterations only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = ["BISECT_ITERS", "GOLDEN_ITERS", "bisect_root", "golden_min"]

F64 = npt.NDArray[np.float64]

GOLDEN_ITERS = 64
"""Golden-section iterations: the bracket shrinks by 0.618**64 ~ 4e-14 of its width."""
BISECT_ITERS = 64
"""Bisection iterations: the bracket shrinks by 2**-64 of its width."""

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
