"""UTC time helpers: int64 nanoseconds since the epoch <-> ISO 8601 with ``Z``.

Examples
--------
>>> to_iso_z(np.array([1_563_831_841_311_000_000]))[0]
'2019-07-22T21:44:01.311Z'
>>> parse_utc("2019-07-22T21:44:01.311Z")
1563831841311000000
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from ..errors import NaiveTimeError

__all__ = ["NAT_NS", "parse_utc", "to_iso_z", "to_t_ns"]

NAT_NS = np.iinfo(np.int64).min
"""The int64 value numpy uses for NaT; an absent time in an int64 ``t_ns`` column."""


def to_iso_z(t_ns: npt.NDArray[np.int64], *, digits: int = 3) -> list[str | None]:
    """Format UTC nanoseconds as ISO 8601 strings ending in ``Z``; NaT gives ``None``.

    Parameters
    ----------
    t_ns : ndarray of int64, ns since epoch, UTC
    digits : int
        Fractional second digits (0, 3, 6 or 9). Values are rounded to that precision.
    """
    unit = {0: "s", 3: "ms", 6: "us", 9: "ns"}[digits]
    arr = np.asarray(t_ns, dtype=np.int64)
    nat = arr == NAT_NS
    step = {0: 10**9, 3: 10**6, 6: 10**3, 9: 1}[digits]
    # round half away from zero to the requested precision
    rounded = np.where(nat, 0, (arr + step // 2) // step * step) if step > 1 else arr
    strs = np.datetime_as_string(rounded.astype("datetime64[ns]").astype(f"datetime64[{unit}]"))
    return [None if n else f"{s}Z" for s, n in zip(strs.tolist(), nat.tolist(), strict=True)]


def parse_utc(text: str) -> int:
    """Parse one ISO 8601 time that states its zone (``Z`` or an offset) to UTC nanoseconds.

    Raises
    ------
    NaiveTimeError
        When the text has no zone.
    """
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(s)
    except ValueError as exc:
        raise NaiveTimeError(
            f"cannot read time {text!r}: use ISO 8601 such as 2019-07-23T00:09:00Z",
            path="<argument>",
        ) from exc
    return to_t_ns(value, what=text)


def to_t_ns(value: dt.datetime, *, what: str = "datetime") -> int:
    """A timezone-aware datetime to UTC nanoseconds; a naive one raises :class:`NaiveTimeError`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveTimeError(
            f"{what} has no time zone; patrolwatch never guesses: "
            "pass an aware datetime (e.g. tzinfo=datetime.timezone.utc)",
            path="<argument>",
        )
    delta = value.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
