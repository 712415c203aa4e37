"""Tests for patrolwatch.io._times: vectorized time parsing to UTC nanoseconds.

Expected values are computed independently with the standard library (``calendar.timegm``
on hand-written UTC calendar dates, or ``datetime`` with ``zoneinfo``), never by calling
the parser under test.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from patrolwatch.errors import ConfigError
from patrolwatch.io._times import (
    EPOCH_MS_MIN,
    EPOCH_NS_MIN,
    EPOCH_US_MIN,
    TIME_AMBIGUOUS,
    TIME_BAD,
    TIME_MISSING,
    TIME_NAIVE,
    TIME_OK,
    epoch_unit,
    parse_times,
    parse_tz,
)

NS = 1_000_000_000
# 2019-07-23T00:09:00Z, by calendar.timegm on the UTC calendar date
T0_S = calendar.timegm((2019, 7, 23, 0, 9, 0))
T0_NS = T0_S * NS


def utc_ns(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    """UTC calendar time to ns since the epoch, independently of the parser."""
    return calendar.timegm((y, mo, d, h, mi, s)) * NS


def test_reference_instant_is_what_we_think() -> None:
    # 1563840540 s is 2019-07-23T00:09:00Z (checked by hand: 18100 days * 86400 + 540)
    assert T0_S == 18100 * 86400 + 9 * 60


@pytest.mark.parametrize(
    "text",
    [
        "2019-07-23T00:09:00Z",
        "2019-07-23T00:09:00z",
        "2019-07-23 00:09:00Z",
        "2019-07-23T09:09:00+09:00",
        "2019-07-23T09:09:00+0900",
        "2019-07-23T09:09+09",
        "2019-07-22T19:09:00-05:00",
        "2019-07-23T00:09:00 UTC",
        "2019-07-23 00:09:00 GMT",
        "2019-07-23T00:09:00+00:00",
        "  2019-07-23T00:09:00Z  ",
    ],
)
def test_zone_aware_iso_text_is_converted_to_utc(text: str) -> None:
    r = parse_times(pa.array([text]), assume_tz=None)
    assert r.status.tolist() == [TIME_OK]
    assert r.t_ns.tolist() == [T0_NS]


def test_fractional_seconds_are_kept_to_the_nanosecond() -> None:
    r = parse_times(
        pa.array(["2019-07-23T00:09:00.123456789Z", "2019-07-23T09:09:00.5+09:00"]),
        assume_tz=None,
    )
    assert r.t_ns.tolist() == [T0_NS + 123_456_789, T0_NS + 500_000_000]


@pytest.mark.parametrize(
    "text",
    ["2019-07-23 00:09:00", "2019-07-23T00:09:00", "23/07/2019 00:09:00", "2019/07/23 00:09:00"],
)
def test_times_without_zone_are_flagged_naive_when_no_zone_is_assumed(text: str) -> None:
    r = parse_times(pa.array([text, "2019-07-23T00:09:00Z"]), assume_tz=None)
    assert r.status.tolist() == [TIME_NAIVE, TIME_OK]
    assert r.t_ns[1] == T0_NS


@pytest.mark.parametrize(
    ("assume_tz", "text", "expected_ns"),
    [
        ("UTC", "2019-07-23 00:09:00", T0_NS),
        ("Asia/Seoul", "23/07/2019 09:09:00", T0_NS),  # KST = UTC+9, no DST
        ("Asia/Seoul", "2019-07-23T09:09:00", T0_NS),
        ("+09:00", "2019-07-23 09:09:00", T0_NS),
        ("UTC+0900", "2019-07-23 09:09:00", T0_NS),
        ("-05:30", "2019-07-22 18:39:00", T0_NS),
        # New York: EST (UTC-5) in January, EDT (UTC-4) in July
        ("America/New_York", "2019-01-15 07:00:00", utc_ns(2019, 1, 15, 12)),
        ("America/New_York", "2019-07-15 08:00:00", utc_ns(2019, 7, 15, 12)),
        # day-first DMA layout, one-digit fields go through the per-value fallback
        ("UTC", "5/7/2019 9:05:00", utc_ns(2019, 7, 5, 9, 5)),
    ],
)
def test_assume_tz_interprets_naive_times_in_that_zone(
    assume_tz: str, text: str, expected_ns: int
) -> None:
    r = parse_times(pa.array([text]), assume_tz=assume_tz)
    assert r.status.tolist() == [TIME_OK]
    assert r.t_ns.tolist() == [expected_ns]
    assert r.n_naive == 1


def test_assume_tz_does_not_touch_times_that_state_their_zone() -> None:
    r = parse_times(
        pa.array(["2019-07-23T00:09:00Z", "2019-07-23 09:09:00"]), assume_tz="Asia/Seoul"
    )
    assert r.t_ns.tolist() == [T0_NS, T0_NS]
    assert (r.n_aware, r.n_naive) == (1, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2019-11-03 01:30:00",  # New York falls back: 01:30 happens twice
        "2019-03-10 02:30:00",  # New York springs forward: 02:30 never happens
    ],
)
def test_dst_ambiguous_local_times_are_not_guessed(text: str) -> None:
    r = parse_times(pa.array([text, "2019-07-15 08:00:00"]), assume_tz="America/New_York")
    assert r.status.tolist() == [TIME_AMBIGUOUS, TIME_OK]


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ([T0_S, T0_S + 1], "seconds"),
        ([T0_S * 1000, T0_S * 1000 + 1500], "milliseconds"),
        ([T0_S * 10**6, T0_S * 10**6 + 1_500_000], "microseconds"),
        ([T0_S * 10**9, T0_S * 10**9 + 1_500_000_000], "nanoseconds"),
    ],
)
@pytest.mark.parametrize("as_text", [True, False])
def test_epoch_numbers_unit_is_decided_by_magnitude(
    values: list[int], unit: str, as_text: bool
) -> None:
    arr = pa.array([str(v) for v in values]) if as_text else pa.array(values, pa.int64())
    r = parse_times(arr, assume_tz=None)
    assert r.kind == f"epoch {unit}"
    assert r.t_ns[0] == T0_NS
    assert r.status.tolist() == [TIME_OK, TIME_OK]
    assert r.epoch_column


def test_epoch_floats_are_rounded_to_the_nanosecond() -> None:
    r = parse_times(pa.array([f"{T0_S}.25", f"{T0_S}"]), assume_tz=None)
    assert r.t_ns.tolist() == [T0_NS + 250_000_000, T0_NS]
    r = parse_times(pa.array([T0_S + 0.5], pa.float64()), assume_tz=None)
    assert r.t_ns.tolist() == [T0_NS + 500_000_000]


@pytest.mark.parametrize(
    ("magnitude", "unit"),
    [
        (1.5e9, "s"),
        (EPOCH_MS_MIN * 0.999, "s"),
        (EPOCH_MS_MIN, "ms"),
        (EPOCH_US_MIN * 0.999, "ms"),
        (EPOCH_US_MIN, "us"),
        (EPOCH_NS_MIN * 0.999, "us"),
        (EPOCH_NS_MIN, "ns"),
    ],
)
def test_epoch_unit_thresholds(magnitude: float, unit: str) -> None:
    assert epoch_unit(magnitude) == unit


def test_epoch_thresholds_leave_1973_to_5138_unambiguous() -> None:
    # each threshold is 1973-03-03 in the smaller unit and year 5138 in the larger one
    for threshold, small_per_s in ((EPOCH_MS_MIN, 1e3), (EPOCH_US_MIN, 1e6), (EPOCH_NS_MIN, 1e9)):
        early = dt.datetime.fromtimestamp(threshold / small_per_s, dt.UTC)
        assert early.date() == dt.date(1973, 3, 3)
        late_s = threshold * 1e3 / small_per_s
        assert 1970 + int(late_s // (365.2425 * 86400)) == 5138


def test_non_numbers_in_an_epoch_column_are_bad() -> None:
    r = parse_times(pa.array([str(T0_S), str(T0_S + 1), "yesterday"]), assume_tz=None)
    assert r.status.tolist() == [TIME_OK, TIME_OK, TIME_BAD]


@pytest.mark.parametrize("token", ["", " ", "NaN", "nan", "null", "NULL", "None", "NaT", None])
def test_empty_cells_and_null_tokens_are_missing(token: str | None) -> None:
    r = parse_times(pa.array([token, "2019-07-23T00:09:00Z"], pa.string()), assume_tz=None)
    assert r.status.tolist() == [TIME_MISSING, TIME_OK]


@pytest.mark.parametrize(
    "text",
    ["garbage", "2019-13-45T00:00:00Z", "31/02/2019 00:00:00", "07/23/2019 00:09:00", "12:00"],
)
def test_unreadable_times_are_bad(text: str) -> None:
    r = parse_times(pa.array(["2019-07-23T00:09:00Z", text]), assume_tz="UTC")
    assert r.status.tolist() == [TIME_OK, TIME_BAD]
    assert r.t_ns[1] == np.iinfo(np.int64).min


def test_one_bad_value_among_many_is_isolated() -> None:
    n = 5000
    texts = [f"2019-07-23T00:{i // 60 % 60:02d}:{i % 60:02d}Z" for i in range(n)]
    texts[3777] = "2019-07-23T25:00:00Z"
    r = parse_times(pa.array(texts), assume_tz=None)
    assert np.flatnonzero(r.status != TIME_OK).tolist() == [3777]
    assert r.t_ns[3776] == utc_ns(2019, 7, 23, 0, 3776 // 60 % 60, 3776 % 60)


def test_arrow_timestamp_columns() -> None:
    aware = pa.array([T0_S * 1000], pa.timestamp("ms", tz="Asia/Seoul"))
    assert parse_times(aware, assume_tz=None).t_ns.tolist() == [T0_NS]
    naive = pa.array([T0_S * 1000], pa.timestamp("ms"))
    assert parse_times(naive, assume_tz=None).status.tolist() == [TIME_NAIVE]
    # a naive 09:09 in Seoul is 00:09 UTC
    naive9 = pa.array([(T0_S + 9 * 3600) * 1000], pa.timestamp("ms"))
    assert parse_times(naive9, assume_tz="Asia/Seoul").t_ns.tolist() == [T0_NS]


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "+25:00", "nine"])
def test_unknown_zone_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="time zone"):
        parse_tz(bad)


@pytest.mark.parametrize(
    ("text", "offset_s"), [("UTC", 0), ("+09:00", 32400), ("-0530", -19800), ("UTC+9", 32400)]
)
def test_fixed_offsets(text: str, offset_s: int) -> None:
    tz = parse_tz(text)
    off = tz.utcoffset(None)
    assert off is not None and off.total_seconds() == offset_s


@given(
    instant_s=st.integers(min_value=0, max_value=4_102_444_800),  # 1970 .. 2100
    offset_min=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_any_offset_round_trips_to_the_same_instant(instant_s: int, offset_min: int) -> None:
    tz = dt.timezone(dt.timedelta(minutes=offset_min))
    local = dt.datetime.fromtimestamp(instant_s, tz)
    text = local.isoformat()
    r = parse_times(pa.array([text]), assume_tz=None)
    assert r.t_ns.tolist() == [instant_s * NS]


@given(instant_s=st.integers(min_value=0, max_value=4_102_444_800))
def test_naive_seoul_wall_time_is_nine_hours_ahead(instant_s: int) -> None:
    wall = dt.datetime.fromtimestamp(instant_s, zoneinfo.ZoneInfo("Asia/Seoul"))
    text = wall.replace(tzinfo=None).strftime("%d/%m/%Y %H:%M:%S")
    r = parse_times(pa.array([text]), assume_tz="Asia/Seoul")
    assert r.t_ns.tolist() == [instant_s * NS]
