"""Vectorized parsing of time columns into UTC nanoseconds (``t_ns``).

One entry point, :func:`parse_times`, takes a whole column (an Arrow array of text,
numbers or timestamps) and returns int64 nanoseconds since the Unix epoch, UTC, with a
per-row status. What it accepts:

- ISO 8601 with ``Z`` or a UTC offset (``+09:00``, ``+0900``, ``+09``), ``T`` or a space
  between date and time, optional fractional seconds; a trailing ``UTC``/``GMT`` counts as
  ``Z``. Converted to UTC.
- ISO 8601 without a zone (``2019-07-23 00:09:00``), ``yyyy/mm/dd hh:mm:ss`` and the Danish
  Maritime Authority's ``dd/mm/yyyy hh:mm:ss`` (day first, always): these are *naive*.
  They are interpreted in ``assume_tz`` when it is given; otherwise they get the status
  :data:`TIME_NAIVE` and the caller raises :class:`~patrolwatch.errors.NaiveTimeError`.
  A naive time is never taken as the machine's local time.
- Epoch numbers (a column whose values are mostly numbers, or a numeric Arrow type): the
  unit is decided once per column from the median absolute value, see
  :func:`epoch_unit`.
- Arrow ``timestamp`` columns (Parquet): with a zone they are converted to UTC, without
  one they are naive; ``date`` columns are naive midnights.

The common case runs as a few whole-column Arrow casts. Values that fail the fast path
are isolated by bisection and parsed one by one with :mod:`datetime`, so the Python-level
work is proportional to the number of unusual values, not to the number of rows.

Examples
--------
>>> import pyarrow as pa
>>> r = parse_times(pa.array(["2019-07-23T09:09:00+09:00", "2019-07-23T00:09:00Z"]),
...                 assume_tz=None)
>>> r.t_ns.tolist()
[1563840540000000000, 1563840540000000000]
>>> parse_times(pa.array([1563840540]), assume_tz=None).kind
'epoch seconds'
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.times import NAT_NS
from ..errors import ConfigError

__all__ = [
    "EPOCH_MS_MIN",
    "EPOCH_NS_MIN",
    "EPOCH_US_MIN",
    "NULL_TOKENS",
    "TIME_AMBIGUOUS",
    "TIME_BAD",
    "TIME_MISSING",
    "TIME_NAIVE",
    "TIME_OK",
    "TimeParse",
    "cast_robust",
    "epoch_unit",
    "missing_mask",
    "parse_times",
    "parse_tz",
]

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
BOOL = npt.NDArray[np.bool_]

TIME_OK = 0
"""Status: parsed, ``t_ns`` holds UTC nanoseconds."""
TIME_MISSING = 1
"""Status: empty cell (or a null token such as ``NaN``, ``null``)."""
TIME_BAD = 2
"""Status: could not be parsed, or outside the int64-nanosecond range (1677-2262)."""
TIME_AMBIGUOUS = 3
"""Status: a naive local time repeated or skipped by a DST change of ``assume_tz``."""
TIME_NAIVE = 4
"""Status: a time without zone and no ``assume_tz`` was given (the caller raises)."""

NULL_TOKENS = ("", "nan", "nat", "null", "none", "na", "n/a")
"""Cell texts (compared case-insensitively, after trimming spaces) that mean "no value"."""

EPOCH_MS_MIN = 1e11
"""Epoch columns whose median absolute value is at least this are milliseconds.

Below it they are seconds. 1e11 s is the year 5138; 1e11 ms is 1973-03-03, so every time
from 1973-03-03 to 5138 is read in the right unit."""
EPOCH_US_MIN = 1e14
"""Epoch columns with median absolute value in [1e14, 1e17) are microseconds."""
EPOCH_NS_MIN = 1e17
"""Epoch columns with median absolute value of at least 1e17 are nanoseconds."""

_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_UNIT_WORD = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
_BISECT_MIN = 64
_INT64_MAX = int(np.iinfo(np.int64).max)

_NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_INT_RE = r"^[+-]?\d+$"
# aware: a time of day followed by Z or an offset (a bare date never counts as aware)
_AWARE_RE = r"[T ]\d{1,2}(:\d{2}){0,2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)$"
_OFFSET_RE = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_SLASH_FORMATS = (
    "%d/%m/%Y %H:%M:%S.%f",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)
_EPOCH_DT = dt.datetime(1970, 1, 1)


class TimeParse(NamedTuple):
    """The result of :func:`parse_times`.

    Attributes
    ----------
    t_ns : ndarray of int64, ns since the Unix epoch, UTC
        One per input value; :data:`~patrolwatch.core.times.NAT_NS` where ``status`` is
        not :data:`TIME_OK`.
    status : ndarray of int8
        :data:`TIME_OK`, :data:`TIME_MISSING`, :data:`TIME_BAD`, :data:`TIME_AMBIGUOUS` or
        :data:`TIME_NAIVE` per value.
    kind : str
        How the column was read: ``"ISO 8601 text"``, ``"epoch seconds"``,
        ``"epoch milliseconds"``, ``"timestamp"``, ...
    n_naive : int
        Number of values without a zone (interpreted in ``assume_tz``, or flagged).
    n_aware : int
        Number of values that stated their zone or offset.
    epoch_column : bool
        True when the column was read as epoch numbers (then a non-number is bad).
    """

    t_ns: I64
    status: I8
    kind: str
    n_naive: int
    n_aware: int
    epoch_column: bool


# ---------------------------------------------------------------------------- zones
def parse_tz(assume_tz: str) -> dt.tzinfo:
    """Read ``assume_tz``: an IANA zone name or a fixed UTC offset.

    Parameters
    ----------
    assume_tz : str
        ``"UTC"``, ``"Z"``, an IANA name such as ``"Asia/Seoul"``, or a fixed offset such as
        ``"+09:00"``, ``"+0900"``, ``"-05"`` or ``"UTC+09:00"``.

    Returns
    -------
    datetime.tzinfo
        A :class:`datetime.timezone` for fixed offsets, a :class:`zoneinfo.ZoneInfo`
        otherwise.

    Raises
    ------
    ConfigError
        When the text is neither a known zone nor an offset within +/-18 h.

    Examples
    --------
    >>> parse_tz("+09:00")
    datetime.timezone(datetime.timedelta(seconds=32400))
    >>> parse_tz("Asia/Seoul")
    zoneinfo.ZoneInfo(key='Asia/Seoul')
    """
    text = assume_tz.strip()
    if text.upper() in ("UTC", "Z", "GMT", "ZULU"):
        return dt.UTC
    m = _OFFSET_RE.match(text)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours <= 18 and minutes < 60:
            return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {assume_tz!r}: use an IANA name such as 'UTC' or "
            "'Asia/Seoul', or a fixed offset such as '+09:00'"
        ) from None


def _localize(naive_ns: I64, tz: dt.tzinfo) -> I64:
    """Wall-clock nanoseconds in ``tz`` to UTC; NaT where the wall time is ambiguous."""
    if isinstance(tz, dt.timezone):
        offset = tz.utcoffset(None)
        off_ns = (offset.days * 86400 + offset.seconds) * 1_000_000_000
        return naive_ns - np.int64(off_ns)
    idx = pd.DatetimeIndex(naive_ns.view("datetime64[ns]"))
    local = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return np.asarray(local.asi8, dtype=np.int64)


# ---------------------------------------------------------------------------- helpers
def missing_mask(values: pa.Array, *, trimmed: bool = False) -> BOOL:
    """Per value, True when it is null or a null token (``""``, ``NaN``, ``null``, ...).

    Parameters
    ----------
    values : pyarrow.Array
        Any type; only string values can be null tokens (float NaN is also missing).
    trimmed : bool
        True when string values are already stripped of surrounding spaces.

    Returns
    -------
    ndarray of bool
    """
    null = np.array(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        text = values if trimmed else pc.ascii_trim_whitespace(values)
        # null tokens are at most 4 characters: only short values need a closer look
        short = np.flatnonzero(
            np.asarray(pc.binary_length(text).fill_null(0).to_numpy(), dtype=np.int64) <= 4
        )
        if short.size:
            sub = pc.ascii_lower(text.take(pa.array(short)))
            token = pc.is_in(sub, value_set=pa.array(NULL_TOKENS, pa.string()))
            null[short] |= np.asarray(
                token.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool
            )
    elif pa.types.is_floating(values.type):
        null |= np.asarray(pc.is_nan(values).fill_null(False).to_numpy(zero_copy_only=False))
    return null


def _bool(arr: pa.Array | pa.ChunkedArray) -> BOOL:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def cast_robust(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, BOOL]:
    """Cast a whole array; where that fails, find the failing values by bisection.

    Parameters
    ----------
    values : pyarrow.Array
    target : pyarrow.DataType

    Returns
    -------
    cast : pyarrow.Array of ``target``
        Null where the value failed to cast (or was null).
    failed : ndarray of bool
        True where a non-null value failed to cast.
    """
    try:
        return pc.cast(values, target), np.zeros(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
        pass
    n = len(values)
    if n <= _BISECT_MIN:
        out: list[pa.Array] = []
        failed = np.zeros(n, dtype=bool)
        for i in range(n):
            piece = values.slice(i, 1)
            try:
                out.append(pc.cast(piece, target))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
                out.append(pa.nulls(1, target))
                failed[i] = True
        return pa.concat_arrays(out), failed
    half = n // 2
    a, fa = cast_robust(values.slice(0, half), target)
    b, fb = cast_robust(values.slice(half), target)
    return pa.concat_arrays([a, b]), np.concatenate([fa, fb])


def epoch_unit(abs_median: float) -> str:
    """The epoch unit of a numeric time column from its median absolute value.

    Parameters
    ----------
    abs_median : float
        Median of ``|value|`` over the column's numbers.

    Returns
    -------
    str
        ``"s"`` below :data:`EPOCH_MS_MIN` (1e11), ``"ms"`` in [1e11, 1e14), ``"us"`` in
        [1e14, 1e17), ``"ns"`` from :data:`EPOCH_NS_MIN` (1e17) up.

    Notes
    -----
    Each threshold is 1973-03-03 in the smaller unit and the year 5138 in the larger one,
    so any time between those dates is read in the right unit.

    Examples
    --------
    >>> epoch_unit(1.56e9), epoch_unit(1.56e12), epoch_unit(1.56e15), epoch_unit(1.56e18)
    ('s', 'ms', 'us', 'ns')
    """
    if abs_median >= EPOCH_NS_MIN:
        return "ns"
    if abs_median >= EPOCH_US_MIN:
        return "us"
    if abs_median >= EPOCH_MS_MIN:
        return "ms"
    return "s"


def _epoch_to_ns(
    whole: I64,
    frac: pa.Array | None,
    exact_ok: BOOL,
    floats: npt.NDArray[np.float64],
    float_ok: BOOL,
) -> tuple[I64, BOOL, str]:
    """Epoch numbers to ns; returns (t_ns, ok, unit).

    ``whole`` (signed integers) with ``frac`` (the decimal digits as written, or None) are
    exact; ``floats`` are split into integer and fractional parts before scaling, so a
    float64 second count keeps sub-microsecond precision.
    """
    n = whole.size
    mags = np.concatenate([np.abs(whole[exact_ok].astype(np.float64)), np.abs(floats[float_ok])])
    t = np.full(n, NAT_NS, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    if mags.size == 0:
        return t, ok, "s"
    unit = epoch_unit(float(np.median(mags)))
    scale = _NS_PER_UNIT[unit]
    digits = len(str(scale)) - 1
    lim = _INT64_MAX // scale - 1
    fits = exact_ok & (np.abs(np.where(exact_ok, whole, 0)) <= lim)
    t[fits] = whole[fits] * np.int64(scale)
    if frac is not None and digits:
        idx = np.flatnonzero(fits)
        sub = frac if idx.size == n else frac.take(pa.array(idx))
        if idx.size:
            text = pc.utf8_slice_codeunits(
                pc.utf8_rpad(sub.fill_null(""), width=digits, padding="0"), 0, digits
            )
            part = np.asarray(text.cast(pa.int64()).to_numpy(), dtype=np.int64)
            t[idx] += np.where(whole[idx] < 0, -part, part)
    ok |= fits
    with np.errstate(invalid="ignore", over="ignore"):
        ip = np.floor(floats)
        fits = float_ok & np.isfinite(floats) & (np.abs(ip) <= lim)
        ipf, fpf = ip[fits], floats[fits] - ip[fits]
    t[fits] = ipf.astype(np.int64) * np.int64(scale) + np.rint(fpf * scale).astype(np.int64)
    ok |= fits
    return t, ok, unit


def _parse_one(text: str) -> tuple[int, bool] | None:
    """One unusual time text to (ns, naive) by :mod:`datetime`; None when unreadable."""
    s = text.strip()
    value: dt.datetime | None = None
    iso = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
    try:
        value = dt.datetime.fromisoformat(iso)
    except ValueError:
        for fmt in _SLASH_FORMATS:
            try:
                value = dt.datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
    if value is None:
        return None
    naive = value.tzinfo is None or value.utcoffset() is None
    if not naive:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    delta = value - _EPOCH_DT
    ns = (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    if not -_INT64_MAX <= ns <= _INT64_MAX:
        return None
    return ns, naive


# ---------------------------------------------------------------------------- main
def parse_times(values: pa.Array | pa.ChunkedArray, *, assume_tz: str | None) -> TimeParse:
    """Parse a time column to UTC nanoseconds, vectorized.

    Parameters
    ----------
    values : pyarrow.Array
        The column: text, integer or floating epoch numbers, ``timestamp`` or ``date``.
    assume_tz : str or None
        Zone for naive times (IANA name or fixed offset, see :func:`parse_tz`). Zone-aware
        values ignore it. With None, naive values get :data:`TIME_NAIVE`.

    Returns
    -------
    TimeParse
        ``t_ns`` (int64 ns, UTC), per-value ``status`` and how the column was read.

    Raises
    ------
    ConfigError
        When ``assume_tz`` is not a zone.

    Notes
    -----
    - A text column is read as epoch numbers when more than half of its non-empty values
      are numbers; its other values are then bad (and numbers in a text column are bad).
    - Epoch integers and decimal texts are exact (digits beyond the nanosecond are
      dropped); binary floats (Parquet ``double``) are split into whole and fractional
      parts and rounded to the nearest nanosecond.
    - ``dd/mm/yyyy`` is always day first (DMA); ``mm/dd/yyyy`` dates with a day above 12
      are bad, never swapped.
    - With a DST zone, a naive wall time that occurs twice or never is
      :data:`TIME_AMBIGUOUS`; it is not guessed.

    Examples
    --------
    >>> import pyarrow as pa
    >>> r = parse_times(pa.array(["23/07/2019 09:09:00"]), assume_tz="Asia/Seoul")
    >>> r.t_ns.tolist(), r.n_naive
    ([1563840540000000000], 1)
    >>> parse_times(pa.array(["23/07/2019 09:09:00"]), assume_tz=None).status.tolist()
    [4]
    """
    tz = parse_tz(assume_tz) if assume_tz is not None else None
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    n = len(values)
    typ = values.type
    is_text = pa.types.is_string(typ) or pa.types.is_large_string(typ)
    if is_text:
        values = pc.ascii_trim_whitespace(values)
    missing = missing_mask(values, trimmed=is_text)
    t = np.full(n, NAT_NS, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    naive = np.zeros(n, dtype=bool)
    epoch_column = False

    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        aware_col = pa.types.is_timestamp(typ) and typ.tz is not None
        target = pa.timestamp("ns", tz="UTC") if aware_col else pa.timestamp("ns")
        cast, failed = cast_robust(values, target)
        ints = np.asarray(cast.cast(pa.int64()).fill_null(NAT_NS).to_numpy(), dtype=np.int64)
        ok = ~missing & ~failed
        t[ok] = ints[ok]
        if not aware_col:
            naive = ok.copy()
        kind = "timestamp" if pa.types.is_timestamp(typ) else "date"
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        epoch_column = True
        present = ~missing
        if pa.types.is_integer(typ):
            whole = np.asarray(values.cast(pa.int64()).fill_null(0).to_numpy(), dtype=np.int64)
            t, ok, unit = _epoch_to_ns(whole, None, present, np.zeros(n), np.zeros(n, bool))
        else:
            floats = np.asarray(
                values.cast(pa.float64()).fill_null(np.nan).to_numpy(), dtype=np.float64
            )
            t, ok, unit = _epoch_to_ns(
                np.zeros(n, np.int64), None, np.zeros(n, bool), floats, present
            )
        kind = f"epoch {_UNIT_WORD[unit]}"
    else:
        text = values if is_text else pc.ascii_trim_whitespace(values.cast(pa.string()))
        t, ok, naive, epoch_column, kind = _parse_text(text, missing)

    status = np.full(n, TIME_BAD, dtype=np.int8)
    status[missing] = TIME_MISSING
    n_naive = int(naive.sum())
    n_aware = int((ok & ~naive).sum())
    if n_naive:
        if tz is None:
            t[naive] = NAT_NS
            ok &= ~naive
            status[naive] = TIME_NAIVE
        else:
            local = _localize(t[naive], tz)
            t[naive] = local
            amb = np.zeros(n, dtype=bool)
            amb[np.flatnonzero(naive)[local == NAT_NS]] = True
            ok &= ~amb
            status[amb] = TIME_AMBIGUOUS
    # the int64 minimum is NaT: a parse that lands there is not a time
    ok &= t != NAT_NS
    status[ok] = TIME_OK
    t[~ok] = NAT_NS
    return TimeParse(t, status, kind, n_naive, n_aware, epoch_column)


def _parse_text(text: pa.Array, missing: BOOL) -> tuple[I64, BOOL, BOOL, bool, str]:
    """Text column to (t_ns or wall-clock ns, ok, naive, epoch_column, kind)."""
    n = len(text)
    t = np.full(n, NAT_NS, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    naive = np.zeros(n, dtype=bool)
    present = ~missing
    present_idx = np.flatnonzero(present)
    if present_idx.size == 0:
        return t, ok, naive, False, "empty"
    sub = text if present_idx.size == n else text.take(pa.array(present_idx))

    # fast path 1: every value has a zone (the common ISO ...Z case)
    try:
        cast = pc.cast(sub, pa.timestamp("ns", tz="UTC"))
        t[present_idx] = np.asarray(cast.cast(pa.int64()).to_numpy(), dtype=np.int64)
        ok[present_idx] = True
        return t, ok, naive, False, "ISO 8601 text"
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # fast path 2: every value is naive ISO
    try:
        cast = pc.cast(sub, pa.timestamp("ns"))
        t[present_idx] = np.asarray(cast.cast(pa.int64()).to_numpy(), dtype=np.int64)
        ok[present_idx] = True
        naive[present_idx] = True
        return t, ok, naive, False, "ISO 8601 text"
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass

    is_num = _bool(pc.match_substring_regex(sub, _NUMBER_RE))
    if 2 * int(is_num.sum()) > present_idx.size:
        num_idx = np.flatnonzero(is_num)
        nums = sub.take(pa.array(num_idx))
        parts = pc.extract_regex(nums, r"^(?P<sign>[+-]?)(?P<ip>\d*)(?:\.(?P<fp>\d*))?$")
        exact = ~np.asarray(parts.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        ip_text = pc.if_else(
            pc.equal(parts.field("ip"), ""),
            "0",
            pc.binary_join_element_wise(parts.field("sign"), parts.field("ip"), ""),
        )
        whole_a, whole_failed = cast_robust(ip_text, pa.int64())
        exact &= ~whole_failed
        fp = parts.field("fp").fill_null("")
        frac = fp if pc.any(pc.not_equal(fp, "")).as_py() else None
        floats_a, float_failed = cast_robust(nums, pa.float64())
        whole = np.asarray(whole_a.fill_null(0).to_numpy(), dtype=np.int64)
        floats = np.asarray(floats_a.fill_null(np.nan).to_numpy(), dtype=np.float64)
        # "-0.5": the integer part is 0, so the sign lives with the fraction
        neg_zero = exact & (whole == 0) & _bool(pc.equal(parts.field("sign"), "-"))
        tn, okn, unit = _epoch_to_ns(
            whole, frac, exact & ~neg_zero, floats, (~exact | neg_zero) & ~float_failed
        )
        rows = present_idx[num_idx]
        t[rows] = tn
        ok[rows] = okn
        return t, ok, naive, True, f"epoch {_UNIT_WORD[unit]}"

    # general path: normalize the known layouts to ISO, then cast by class
    norm = pc.replace_substring_regex(sub, r"^(\d{2})/(\d{2})/(\d{4})[ T]", r"\3-\2-\1T")
    norm = pc.replace_substring_regex(norm, r"^(\d{2})/(\d{2})/(\d{4})$", r"\3-\2-\1")
    norm = pc.replace_substring_regex(norm, r"^(\d{4})/(\d{2})/(\d{2})", r"\1-\2-\3")
    norm = pc.replace_substring_regex(norm, r"(\d{2}:\d{2}:\d{2}),(\d)", r"\1.\2")
    norm = pc.replace_substring_regex(norm, r"(\d)\s*(?i:UTC|GMT|z)$", r"\1Z")
    norm = pc.replace_substring_regex(norm, r"(\d)\s+([+-]\d{2}(:?\d{2})?)$", r"\1\2")
    aware = _bool(pc.match_substring_regex(norm, _AWARE_RE))
    failed = np.zeros(present_idx.size, dtype=bool)
    for mask, target, is_naive in (
        (aware, pa.timestamp("ns", tz="UTC"), False),
        (~aware, pa.timestamp("ns"), True),
    ):
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            continue
        cast, bad = cast_robust(norm.take(pa.array(idx)), target)
        good = idx[~bad]
        vals = np.asarray(cast.cast(pa.int64()).fill_null(NAT_NS).to_numpy(), dtype=np.int64)
        rows = present_idx[good]
        t[rows] = vals[~bad]
        ok[rows] = True
        naive[rows] = is_naive
        failed[idx[bad]] = True
    # per-value fallback, only for what the casts could not read
    fail_idx = np.flatnonzero(failed)
    if fail_idx.size:
        originals = sub.take(pa.array(fail_idx)).to_pylist()
        for j, s in zip(fail_idx.tolist(), originals, strict=True):
            got = _parse_one(s) if s is not None else None
            if got is not None:
                row = int(present_idx[j])
                t[row], naive[row], ok[row] = got[0], got[1], True
    return t, ok, naive, False, "ISO 8601 text"
