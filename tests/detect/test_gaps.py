"""Tests of :func:`patrolwatch.detect.gaps.gaps`.

Expected values are derived by hand from the constructed fixes (times, which fixes bracket
a silence) and with ``geographiclib`` (distances, zone edges), never from patrolwatch's
own output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patrolwatch.core.tracks import Tracks
from patrolwatch.core.zones import Zone, Zones
from patrolwatch.detect.gaps import ADSB_MIN_GAP_S, AIS_MIN_GAP_S, GAP_SCHEMA, gaps
from patrolwatch.errors import ConfigError
from strategies import NS_PER_S, event_rows, geodesic_distance_m

T0_S = 1_563_800_000
LAT = 36.5
SPEED_MPS = 200.0
DEG_LON_M = 111_412.0 * np.cos(np.radians(LAT))
"""Rough metres per degree of longitude at 36.5 N (only sets the tracks' speed)."""


def east(t_s: np.ndarray, lon0: float = 130.5, lat: float = LAT) -> dict[str, np.ndarray]:
    return {"t": t_s, "lon": lon0 + SPEED_MPS * t_s / DEG_LON_M, "lat": np.full(t_s.size, lat)}


def build(tracks: dict[str, dict[str, np.ndarray]]) -> Tracks:
    ids, t, lon, lat = [], [], [], []
    for name, d in tracks.items():
        ids += [name] * len(d["t"])
        t.append((T0_S + np.asarray(d["t"]).astype(np.int64)) * NS_PER_S)
        lon.append(d["lon"])
        lat.append(d["lat"])
    return Tracks.from_arrays(
        ids,
        np.concatenate(t),
        np.concatenate(lon),
        np.concatenate(lat),
        alt_m=np.full(sum(len(x) for x in t), 9000.0),
    )


def silent(d: dict[str, np.ndarray], t_from: float, t_to: float) -> dict[str, np.ndarray]:
    """The track without its fixes strictly between ``t_from`` and ``t_to``."""
    keep = ~((d["t"] > t_from) & (d["t"] < t_to))
    return {k: v[keep] for k, v in d.items()}


def rows_s(events: Any) -> list[dict[str, Any]]:
    rows = event_rows(events)
    for r in rows:
        r["t0"] = r["start_time"] // NS_PER_S - T0_S
        r["t1"] = r["end_time"] // NS_PER_S - T0_S
    return rows


MINUTE = np.arange(0, 3 * 3600 + 1, 60, dtype=float)


def test_a_silence_longer_than_the_threshold_is_a_gap() -> None:
    a = silent(east(MINUTE), 1200, 3000)
    rows = rows_s(gaps(build({"A": a}), min_gap_s=ADSB_MIN_GAP_S))
    assert len(rows) == 1
    r = rows[0]
    # by hand: last fix before the silence at 1200 s, first after at 3000 s
    assert (r["t0"], r["t1"], r["duration_s"]) == (1200, 3000, 1800.0)
    lon0, lon1 = 130.5 + 200 * 1200 / DEG_LON_M, 130.5 + 200 * 3000 / DEG_LON_M
    assert (r["start_lon"], r["end_lon"]) == (pytest.approx(lon0), pytest.approx(lon1))
    d = geodesic_distance_m(lon0, LAT, lon1, LAT)
    assert r["dist_m"] == pytest.approx(d, abs=1e-3)
    assert r["implied_speed_mps"] == pytest.approx(d / 1800.0, abs=1e-6)
    assert r["kind"] == "gap" and r["track_id"] == "A" and r["shared_with"] == ""
    assert r["start_zone"] is None  # no zones given
    assert len(r["source_rows"].split(";")) == 2


def test_a_silence_equal_to_the_threshold_is_not_a_gap() -> None:
    a = silent(east(MINUTE), 1200, 1500)  # 1200 -> 1500 s: exactly 300 s
    ev = gaps(build({"A": a}), min_gap_s=300.0)
    assert len(ev) == 0 and ev.to_arrow().schema == GAP_SCHEMA
    assert len(gaps(build({"A": a}), min_gap_s=299.0)) == 1


def test_gap_at_a_zone_edge_went_dark_before_entering() -> None:
    box_w = 131.0
    zones = Zones(
        [
            Zone("box", "Box", "custom", (), shapely.box(box_w, 36.0, 132.0, 37.0)),
            Zone("far", "Far", "custom", (), shapely.box(140.0, 36.0, 141.0, 37.0)),
            # 12 NM (22 224 m) around a point 0.3 deg east of where the track reappears
            Zone(
                "circle",
                "Circle",
                "territorial",
                ("KOR",),
                shapely.Point(131.5, LAT),
                buffer_m=22_224.0,
            ),
        ]
    )
    track = east(np.arange(0, 3601, 10, dtype=float))
    lon = track["lon"]
    # silent from the last fix ~9 km west of the box's edge to the first fix at 131.2 E
    i0 = int(np.flatnonzero(lon < box_w - 0.1)[-1])
    i1 = int(np.flatnonzero(lon >= 131.2)[0])
    a = silent(track, track["t"][i0], track["t"][i1])
    rows = rows_s(gaps(build({"A": a}), min_gap_s=120.0, zones=zones, near_m=30_000.0))
    assert len(rows) == 1
    r = rows[0]
    # independent: the start is west of the box, within 30 km of its edge (geographiclib,
    # along the parallel, which is where the nearest edge point is); the end is inside
    d_start = geodesic_distance_m(lon[i0], LAT, box_w, LAT)
    assert 5_000 < d_start < 30_000
    # the end is 22 224 m + a few km from the circle's centre: outside it, near its edge
    d_end = geodesic_distance_m(lon[i1], LAT, 131.5, LAT) - 22_224.0
    assert 0 < d_end < 30_000
    assert (r["start_zone"], r["end_zone"], r["path_zone"]) == ("", "box", "box")
    assert r["near_zone"] == "box;circle"
    rows = rows_s(gaps(build({"A": a}), min_gap_s=120.0, zones=zones, near_m=1_000.0))
    assert rows[0]["near_zone"] == ""


def test_gaps_shared_by_a_formation_are_reported_together() -> None:
    a = silent(east(MINUTE), 1200, 3000)
    b = silent(east(MINUTE, lat=LAT + 0.01), 1260, 3120)  # 1.1 km north, 1 and 2 min later
    c = silent(east(MINUTE, lon0=133.0), 1200, 3000)  # same times, 220 km east
    d = silent(east(MINUTE, lat=LAT - 0.01), 1800, 3600)  # close by, 10 minutes later
    rows = rows_s(gaps(build({"A": a, "B": b, "C": c, "D": d}), min_gap_s=300.0))
    shared = {r["track_id"]: r["shared_with"] for r in rows}
    assert shared == {"A": "B", "B": "A", "C": "", "D": ""}


def test_coverage_labels_a_gap_dark_only_when_others_were_heard_nearby() -> None:
    a = silent(east(MINUTE), 1200, 3000)
    alone = rows_s(gaps(build({"A": a}), min_gap_s=300.0))
    assert alone[0]["label"] == "low coverage" and alone[0]["coverage"] == 0.0
    # E circles 20 km north of where A went silent, reporting every 10 s throughout:
    # every 30 s coverage bin strictly inside the gap holds one of E's reports
    t = np.arange(0, 3 * 3600 + 1, 10, dtype=float)
    lon_start = 130.5 + SPEED_MPS * 1200 / DEG_LON_M
    e = {
        "t": t,
        "lon": lon_start + 0.01 * np.sin(t / 300),
        "lat": LAT + 0.18 + 0.01 * np.cos(t / 300),
    }
    rows = rows_s(gaps(build({"A": a, "E": e}), min_gap_s=300.0))
    assert [r["track_id"] for r in rows] == ["A"]
    assert rows[0]["label"] == "dark" and rows[0]["coverage"] == 1.0
    # E reporting only in the first quarter of A's silence: 0.25 < 0.5
    quarter = {k: v[(t >= 1200) & (t < 1650)] for k, v in e.items()}
    rows = rows_s(gaps(build({"A": a, "E": quarter}), min_gap_s=300.0))
    assert rows[0]["label"] == "low coverage"
    assert 0.2 < rows[0]["coverage"] < 0.3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_gap_s": 0.0},
        {"min_gap_s": float("nan")},
        {"min_gap_s": 300.0, "min_coverage": 2.0},
        {"min_gap_s": 300.0, "shared_m": 0.0},
    ],
)
def test_gap_bad_thresholds_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        gaps(build({"A": east(MINUTE)}), **kwargs)


def test_suggested_thresholds() -> None:
    assert (AIS_MIN_GAP_S, ADSB_MIN_GAP_S) == (6 * 3600.0, 5 * 60.0)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    silences=st.lists(st.tuples(st.integers(1, 130), st.integers(6, 40)), min_size=1, max_size=3),
    shift_s=st.integers(-(10**8), 10**8),
)
def test_shifting_all_times_shifts_every_gap(silences: list[tuple[int, int]], shift_s: int) -> None:
    a = east(MINUTE)
    for start, length in silences:
        a = silent(a, start * 60.0, (start + length) * 60.0)
    tracks = build({"A": a, "B": east(MINUTE, lat=LAT + 0.3)})
    delta = shift_s * NS_PER_S
    ra = event_rows(gaps(tracks, min_gap_s=300.0))
    rb = event_rows(gaps(tracks.shift_time(delta), min_gap_s=300.0))
    assert len(ra) == len(rb) >= 1
    for x, y in zip(ra, rb, strict=True):
        assert (y["start_time"] - x["start_time"], y["end_time"] - x["end_time"]) == (delta,) * 2
        assert x["dist_m"] == y["dist_m"] and x["shared_with"] == y["shared_with"]


def test_incident_decoy_dropout_is_the_only_gap_over_five_minutes(
    shared_data_dir: Path,
) -> None:
    import csv
    import datetime as dt

    path = shared_data_dir / "incidents" / "2019-07-23-sea-of-japan" / "tracks.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    ids, t, lon, lat = [], [], [], []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ids.append(row["track_id"])
            when = dt.datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
            t.append(round(when.timestamp()) * NS_PER_S)
            lon.append(float(row["lon"]))
            lat.append(float(row["lat"]))
    rows = event_rows(gaps(Tracks.from_arrays(ids, t, lon, lat), min_gap_s=ADSB_MIN_GAP_S))
    # REPORTED.md: "one 6-minute dropout on a decoy"; formation members' dropouts are
    # under 2 minutes
    assert [r["track_id"] for r in rows] == ["JPN-P3C-01"]
    assert 300 < rows[0]["duration_s"] < 420
