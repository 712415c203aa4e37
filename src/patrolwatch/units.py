"""Unit constants and conversions.

Internal units are SI with angles in degrees: metres, seconds, metres per second, and
time as int64 nanoseconds since the Unix epoch, UTC. Knots, feet, nautical miles and
flight levels exist only at the edges (readers and reporters) and are converted here.

Examples
--------
>>> 12 * NM_M
22224.0
>>> round(float(ft_to_m(35000.0)), 1)
10668.0
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "FT_M",
    "KT_MPS",
    "NM_M",
    "NS_PER_S",
    "WGS84_A_M",
    "distance_to_m",
    "ft_to_m",
    "kt_to_mps",
    "length_unit_to_m",
]

NM_M = 1852.0
"""One international nautical mile in metres (exact)."""
FT_M = 0.3048
"""One international foot in metres (exact)."""
KT_MPS = NM_M / 3600.0
"""One knot in metres per second."""
NS_PER_S = 1_000_000_000
"""Nanoseconds per second."""
WGS84_A_M = 6378137.0
"""WGS84 semi-major axis in metres."""

_LENGTH_UNITS_M: dict[str, float] = {
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "km": 1000.0,
    "nm": NM_M,
    "nmi": NM_M,
    "ft": FT_M,
    "feet": FT_M,
    "fl": 100.0 * FT_M,
}


def length_unit_to_m(unit: str) -> float:
    """Metres per one ``unit`` (``m``, ``km``, ``nm``/``nmi``, ``ft``, ``fl``); case-insensitive.

    Raises
    ------
    KeyError
        For an unknown unit; callers turn it into their own error with context.

    Examples
    --------
    >>> length_unit_to_m("NM")
    1852.0
    """
    return _LENGTH_UNITS_M[unit.strip().lower()]


def distance_to_m(text: str) -> float:
    """Parse a distance with its unit, e.g. ``"30km"``, ``"12nm"``, ``"500 m"``, into metres.

    A bare number is metres.

    Raises
    ------
    ValueError
        When the number or unit cannot be read.

    Examples
    --------
    >>> distance_to_m("30km")
    30000.0
    >>> distance_to_m("12 NM")
    22224.0
    """
    s = text.strip().lower().replace(" ", "")
    i = len(s)
    while i > 0 and s[i - 1].isalpha():
        i -= 1
    number, unit = s[:i], s[i:] or "m"
    try:
        return float(number) * length_unit_to_m(unit)
    except (KeyError, ValueError):
        raise ValueError(
            f"cannot read distance {text!r}: use a number and a unit among m, km, nm, ft"
        ) from None


def ft_to_m(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Feet to metres, elementwise."""
    return np.asarray(x, dtype=np.float64) * FT_M


def kt_to_mps(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Knots to metres per second, elementwise."""
    return np.asarray(x, dtype=np.float64) * KT_MPS
