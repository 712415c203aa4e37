"""Tests of :func:`patrolwatch.detect.encounters.encounters` and ``loitering``.

Scenarios are built with ``geographiclib`` (``strategies.geodesic_direct``): vessels drift
or steam along given azimuths, with fixes every 10 minutes on the grid, so the expected
events follow by hand from the construction (a vessel placed 300 m from another by the
direct geodesic problem is 300 m away); coast distances are checked against
``geographiclib``'s inverse problem.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patrolwatch.core.tracks import Tracks
from patrolwatch.detect.encounters import (
    ENCOUNTER_SCHEMA,
    LOITERING_SCHEMA,
    encounters,
    loitering,
)
from patrolwatch.errors import ConfigError
from patrolwatch.units import KT_MPS, NM_M
from strategies import NS_PER_S, event_rows, geodesic_direct, geodesic_distance_m

T0_S = 1_563_800_400
"""2019-07-22T13:00:00Z, a multiple of the 10-minute grid, seconds since the epoch."""
STEP_S = 600
LON0, LAT0 = 150.0, 10.0
"""Open ocean (western Pacific), far from any land."""


def drift(
    t_s: np.ndarray, speed_kt: float, azi_deg: float, lon0: float = LON0, lat0: float = LAT0
) -> tuple[np.ndarray, np.ndarray]:
    """Positions at ``t_s`` moving ``speed_kt`` along the geodesic at ``azi_deg``."""
    pts = [geodesic_direct(lon0, lat0, azi_deg, speed_kt * KT_MPS * float(t))[:2] for t in t_s]
    lon, lat = zip(*pts, strict=True)
    return np.array(lon), np.array(lat)


def offset(
    lon: np.ndarray, lat: np.ndarray, dist_m: np.ndarray, azi_deg: float = 90.0
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``dist_m`` from each (lon, lat) along ``azi_deg``."""
    pts = [
        geodesic_direct(float(a), float(b), azi_deg, float(d))[:2]
        for a, b, d in zip(lon, lat, dist_m, strict=True)
    ]
    x, y = zip(*pts, strict=True)
    return np.array(x), np.array(y)


def build(tracks: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Tracks:
    ids, t, lon, lat = [], [], [], []
    for name, (ts, x, y) in tracks.items():
        ids += [name] * len(ts)
        t.append((T0_S + ts.astype(np.int64)) * NS_PER_S)
        lon.append(x)
        lat.append(y)
    return Tracks.from_arrays(ids, np.concatenate(t), np.concatenate(lon), np.concatenate(lat))


def meeting(
    together_h: float,
    *,
    b_silent: tuple[float, float] | None = None,
    speed_kt: float = 0.5,
    apart_m: float = 300.0,
) -> Tracks:
    """A drifts north at ``speed_kt`` for 8 h; B comes from the east at 10 kn, keeps
    ``apart_m`` east of A from t = 2 h for ``together_h`` hours, then leaves at 10 kn."""
    t = np.arange(0, 8 * 3600 + 1, STEP_S, dtype=float)
    lon_a, lat_a = drift(t, speed_kt, 0.0)
    ta, tb = 2 * 3600.0, (2 + together_h) * 3600.0
    away = np.where(t < ta, (ta - t), np.where(t > tb, t - tb, 0.0)) * 10 * KT_MPS
    lon_b, lat_b = offset(lon_a, lat_a, apart_m + away)
    keep = np.ones(t.size, dtype=bool)
    if b_silent is not None:
        keep = ~((t > b_silent[0] * 3600) & (t < b_silent[1] * 3600))
    return build({"A": (t, lon_a, lat_a), "B": (t[keep], lon_b[keep], lat_b[keep])})


def rows_s(events: Any) -> list[dict[str, Any]]:
    rows = event_rows(events)
    for r in rows:
        r["t0"] = r["start_time"] // NS_PER_S - T0_S
        r["t1"] = r["end_time"] // NS_PER_S - T0_S
    return rows


# --------------------------------------------------------------------------- encounters
def test_two_ships_meeting_for_three_hours_is_an_encounter() -> None:
    rows = rows_s(encounters(meeting(3.0)))
    assert len(rows) == 1
    r = rows[0]
    # by construction: 300 m apart from t = 2 h to 5 h; 10 minutes earlier B is
    # 300 m + 10 kn x 600 s = 3386 m away
    assert (r["t0"], r["t1"], r["duration_s"]) == (7200, 18000, 10800.0)
    assert (r["track_a"], r["track_b"], r["track_id"]) == ("A", "B", "A;B")
    assert r["median_dist_m"] == pytest.approx(300.0, abs=1e-3)
    assert r["min_dist_m"] == pytest.approx(300.0, abs=1e-3)
    # A drifts at 0.5 kn: its median speed (path speed, no speed reported) is 0.5 kn
    assert r["median_speed_a_mps"] == pytest.approx(0.5 * KT_MPS, rel=1e-3)
    assert r["coast_rule"] == "skipped: no coast given" and r["coast_dist_m"] is None
    assert r["kind"] == "encounter"
    assert len(r["source_rows"].split(";")) == 4  # A and B at the start and at the end


def test_two_ships_meeting_for_one_hour_is_not_an_encounter() -> None:
    assert len(encounters(meeting(1.0))) == 0
    assert encounters(meeting(1.0)).to_arrow().schema == ENCOUNTER_SCHEMA


def test_ships_steaming_together_are_not_an_encounter() -> None:
    # side by side 200 m apart for 8 h, at 10 kn: close, but not slow
    assert len(encounters(meeting(6.0, speed_kt=10.0, apart_m=200.0))) == 0
    assert len(encounters(meeting(6.0, speed_kt=1.5, apart_m=200.0))) == 1


@pytest.mark.parametrize(("silent_h", "found"), [((3.0, 3.85), True), ((3.0, 4.2), False)])
def test_silences_over_one_hour_are_not_interpolated(
    silent_h: tuple[float, float], found: bool
) -> None:
    # B silent for 50 min (bridged) or 70 min (not: the 3 h meeting falls in two pieces
    # of under 2 h)
    ev = encounters(meeting(3.0, b_silent=silent_h))
    assert (len(ev) == 1) is found


def _coast_apex(dist_m: float) -> tuple[shapely.Polygon, tuple[float, float]]:
    """A land triangle whose apex points east at the meeting, ``dist_m`` west of A's
    start: the apex is the nearest land to anything east of it."""
    lon, lat, _ = geodesic_direct(LON0, LAT0 + 0.01, 270.0, dist_m)
    tri = shapely.Polygon([(lon, lat), (lon - 1.0, lat + 0.5), (lon - 1.0, lat - 0.5)])
    return tri, (lon, lat)


def test_encounters_near_the_coast_are_dropped_and_far_ones_measured() -> None:
    tracks = meeting(3.0)
    near, _ = _coast_apex(8_000.0)
    assert len(encounters(tracks, coast=near)) == 0
    assert len(encounters(tracks, coast=near, min_coast_dist_m=5_000.0)) == 1
    far, apex = _coast_apex(15_000.0)
    rows = rows_s(encounters(tracks, coast=far))
    assert len(rows) == 1
    r = rows[0]
    assert r["coast_rule"].startswith("applied")
    # independent: the smallest geographiclib distance from the pair's midpoint to the
    # apex over the grid steps of the encounter
    t = np.arange(7200, 18001, STEP_S, dtype=float)
    lon_a, lat_a = drift(t, 0.5, 0.0)
    lon_b, lat_b = offset(lon_a, lat_a, np.full(t.size, 300.0))
    d = min(
        geodesic_distance_m((a + b) / 2, (c + e) / 2, apex[0], apex[1])
        for a, b, c, e in zip(lon_a, lon_b, lat_a, lat_b, strict=True)
    )
    assert r["coast_dist_m"] == pytest.approx(d, abs=120.0)  # positions rounded 0.001 deg


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_dist_m": 0.0},
        {"min_duration_s": -1.0},
        {"grid_s": math.nan},
        {"max_median_speed_mps": 0.0},
    ],
)
def test_encounter_bad_thresholds_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        encounters(meeting(3.0), **kwargs)


def test_encounter_coast_must_be_a_geometry() -> None:
    with pytest.raises(ConfigError):
        encounters(meeting(3.0), coast=shapely.Polygon())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shift=st.integers(-(10**6), 10**6))
def test_shifting_all_times_shifts_encounters(shift: int) -> None:
    tracks = meeting(3.0)
    delta = shift * STEP_S * NS_PER_S
    a = event_rows(encounters(tracks))
    b = event_rows(encounters(tracks.shift_time(delta)))
    assert [(r["start_time"] + delta, r["end_time"] + delta) for r in a] == [
        (r["start_time"], r["end_time"]) for r in b
    ]


# --------------------------------------------------------------------------- loitering
def loiterer(slow_h: float, *, lon0: float = LON0) -> Tracks:
    """A vessel at 1 kn (north) for ``slow_h`` hours, then 10 kn for 2 h."""
    t_slow = np.arange(0, slow_h * 3600 + 1, STEP_S, dtype=float)
    lon_s, lat_s = drift(t_slow, 1.0, 0.0, lon0)
    t_fast = np.arange(STEP_S, 2 * 3600 + 1, STEP_S, dtype=float)
    lon_f, lat_f = drift(t_fast, 10.0, 0.0, float(lon_s[-1]), float(lat_s[-1]))
    t = np.concatenate([t_slow, t_slow[-1] + t_fast])
    return build({"L": (t, np.concatenate([lon_s, lon_f]), np.concatenate([lat_s, lat_f]))})


def test_vessel_slow_for_five_hours_is_loitering() -> None:
    rows = rows_s(loitering(loiterer(5.0)))
    assert len(rows) == 1
    r = rows[0]
    assert (r["t0"], r["t1"], r["duration_s"]) == (0, 18000, 18000.0)
    # 1 kn along one geodesic: the mean speed is 1 kn
    assert r["mean_speed_mps"] == pytest.approx(KT_MPS, rel=1e-3)
    assert r["coast_rule"] == "skipped: no coast given"
    assert r["kind"] == "loitering" and r["track_id"] == "L"


def test_vessel_slow_for_three_hours_is_not_loitering() -> None:
    ev = loitering(loiterer(3.0))
    assert len(ev) == 0 and ev.to_arrow().schema == LOITERING_SCHEMA


def test_loitering_within_twenty_nautical_miles_of_the_coast_is_dropped() -> None:
    near, _ = _coast_apex(15 * NM_M)
    assert len(loitering(loiterer(5.0), coast=near)) == 0
    far, apex = _coast_apex(25 * NM_M)
    rows = rows_s(loitering(loiterer(5.0), coast=far))
    assert len(rows) == 1 and rows[0]["coast_rule"].startswith("applied")
    # independent: the smallest geographiclib distance from the grid positions of the
    # event to the apex (the nearest land to anything east of it)
    t = np.arange(0, 5 * 3600 + 1, STEP_S, dtype=float)
    lon, lat = drift(t, 1.0, 0.0)
    d = min(geodesic_distance_m(a, b, apex[0], apex[1]) for a, b in zip(lon, lat, strict=True))
    assert rows[0]["coast_dist_m"] == pytest.approx(d, abs=120.0)
