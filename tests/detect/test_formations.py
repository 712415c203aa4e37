"""Tests of :func:`patrolwatch.detect.formations.formations`.

Expected values are derived independently of patrolwatch: scenario positions are built by
hand on a 10 s grid (so no interpolation is involved), separations come from
``geographiclib`` (Karney, via ``strategies.geodesic_distance_m``), and the episodes of
each scenario are derived by brute force over every grid step from those distances. The
real-data tests check the reconstructed incident against its ``expected.json`` (computed
by an independent reference implementation) and every formation found in the ADS-B
sample against the raw CSV, including its ``onground`` flag, which patrolwatch never
reads.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patrolwatch.core.tracks import Tracks
from patrolwatch.core.zones import Zone, Zones
from patrolwatch.detect.formations import FORMATION_SCHEMA, formations
from patrolwatch.errors import ConfigError
from patrolwatch.units import FT_M, KT_MPS
from strategies import NS_PER_S, event_rows, geodesic_distance_m

T0_S = 1_563_800_000
"""2019-07-22T12:53:20Z, a multiple of the 10 s grid, seconds since the epoch."""
GRID_S = 10
LON0 = 130.0
LAT0 = 35.0
SPEED_MPS = 200.0
M_PER_DEG_LON = 111_412.0 * math.cos(math.radians(LAT0))
"""Rough metres per degree of longitude at 35 N: only sets the tracks' speed (~200 m/s)."""

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --------------------------------------------------------------------------- scenario helpers
def lon_at(t_s: np.ndarray) -> np.ndarray:
    """Every scenario track flies east at ~200 m/s along the same longitudes."""
    return LON0 + SPEED_MPS * t_s / M_PER_DEG_LON


def piecewise(t_s: np.ndarray, knots: list[tuple[float, float]]) -> np.ndarray:
    """Latitude at ``t_s`` linear between (time, latitude) knots."""
    kt, kv = zip(*knots, strict=True)
    return np.interp(t_s, kt, kv)


def build(tracks: dict[str, dict[str, Any]], attrs: dict[str, str] | None = None) -> Tracks:
    """Tracks from per-track dicts of ``t`` (s after T0), ``lat``, ``lon`` and optional
    ``alt`` and ``speed`` arrays."""
    ids, t, lon, lat, alt, spd, op = [], [], [], [], [], [], []
    for name, d in tracks.items():
        n = len(d["t"])
        ids += [name] * n
        t.append((T0_S + np.asarray(d["t"], dtype=np.int64)) * NS_PER_S)
        lon.append(np.asarray(d.get("lon", lon_at(np.asarray(d["t"], dtype=float)))))
        lat.append(np.asarray(d["lat"], dtype=float))
        alt.append(np.asarray(d.get("alt", np.full(n, 8000.0)), dtype=float))
        spd.append(np.asarray(d.get("speed", np.full(n, np.nan)), dtype=float))
        op += [(attrs or {}).get(name, "")] * n
    return Tracks.from_arrays(
        ids,
        np.concatenate(t),
        np.concatenate(lon),
        np.concatenate(lat),
        alt_m=np.concatenate(alt),
        speed_mps=np.concatenate(spd),
        attrs={"operator": op},
    )


def episodes(events: Any) -> list[dict[str, Any]]:
    """Rows with times as seconds after T0."""
    rows = event_rows(events)
    for r in rows:
        r["t0"] = r["start_time"] // NS_PER_S - T0_S
        r["t1"] = r["end_time"] // NS_PER_S - T0_S
    return rows


def close_steps(
    pa_: tuple[np.ndarray, np.ndarray], pb: tuple[np.ndarray, np.ndarray], max_m: float = 5000.0
) -> np.ndarray:
    """Per grid step, whether two positions are within ``max_m`` (geographiclib)."""
    return np.array(
        [
            geodesic_distance_m(float(a), float(b), float(c), float(d)) <= max_m
            for a, b, c, d in zip(pa_[0], pa_[1], pb[0], pb[1], strict=True)
        ]
    )


# --------------------------------------------------------------------------- scenarios
T_END = 3600
STEPS = np.arange(0, T_END + 1, GRID_S, dtype=float)
LAT_A = np.full(STEPS.size, 35.000)
LAT_B = np.full(STEPS.size, 35.018)  # ~2.0 km north of A
LAT_C = piecewise(
    STEPS,
    [(0, 35.100), (1200, 35.100), (1320, 35.036), (2400, 35.036), (2520, 35.100), (3600, 35.100)],
)
LAT_D = LAT_C + 0.018


@pytest.fixture(scope="module")
def four() -> tuple[Tracks, Zones]:
    """Two pairs (A, B: CHN; C, D: RUS) that join, fly together and split."""
    tracks = build(
        {
            "A": {"t": STEPS, "lat": LAT_A},
            "B": {"t": STEPS, "lat": LAT_B},
            "C": {"t": STEPS, "lat": LAT_C},
            "D": {"t": STEPS, "lat": LAT_D},
        },
        attrs={"A": "CHN", "B": "CHN", "C": "RUS", "D": "RUS"},
    )
    lon_1800, lon_2000 = lon_at(np.array([1800.0, 2000.0]))
    lon_300, lon_400 = lon_at(np.array([300.0, 400.0]))
    zones = Zones(
        [
            # every member is inside from t = 1800 to 2000 s (joint episode)
            Zone("joint-box", "J", "custom", (), shapely.box(lon_1800, 34.9, lon_2000, 35.2)),
            # only A and B pass through it (t = 300-400 s); C and D are 9 km north
            Zone("ab-box", "AB", "custom", (), shapely.box(lon_300, 34.99, lon_400, 35.03)),
        ]
    )
    return tracks, zones


def expected_join_split() -> tuple[int, int]:
    """First and last grid step at which some cross pair (A or B with C or D) is within
    5 km, by brute force with geographiclib."""
    lon = lon_at(STEPS)
    any_close = np.zeros(STEPS.size, dtype=bool)
    for la in (LAT_A, LAT_B):
        for lc in (LAT_C, LAT_D):
            any_close |= close_steps((lon, la), (lon, lc))
    idx = np.flatnonzero(any_close)
    assert np.all(np.diff(idx) == 1), "the scenario has one joint period"
    return int(STEPS[idx[0]]), int(STEPS[idx[-1]])


def test_two_pairs_join_fly_together_and_split(four: tuple[Tracks, Zones]) -> None:
    tracks, zones = four
    t_join, t_split = expected_join_split()
    # by hand: B (35.018) meets C descending from 35.100 to 35.036 between t = 1200 and
    # 1320 s, 5 km = 0.0451 deg of latitude: t = 1200 + 120 * (0.0369 / 0.064) = 1269 s
    assert 1260 <= t_join <= 1280 and 2440 <= t_split <= 2460
    rows = episodes(formations(tracks, zones=zones, chance_shifts_s=()))
    got = {(r["members"], r["t0"], r["t1"]) for r in rows}
    assert got == {
        ("A;B", 0, t_join - GRID_S),
        ("C;D", 0, t_join - GRID_S),
        ("A;B;C;D", t_join, t_split),
        ("A;B", t_split + GRID_S, T_END),
        ("C;D", t_split + GRID_S, T_END),
    }
    assert {r["group_id"] for r in rows} == {1}
    by = {(r["members"], r["t0"]): r for r in rows}
    joint = by[("A;B;C;D", t_join)]
    assert joint["joint"] is True and joint["operators"] == "CHN;RUS"
    assert joint["n_members"] == 4 and joint["track_id"] == "A;B;C;D"
    assert joint["duration_s"] == t_split - t_join
    # ties between the two pairs are broken by the first member's name: A;B continues
    assert joint["joined"] == "C;D" and joint["left"] == "C;D"
    assert (joint["start_change"], joint["end_change"]) == ("merged", "split")
    assert by[("A;B", 0)]["joint"] is False and by[("A;B", 0)]["operators"] == "CHN"
    assert (by[("A;B", 0)]["joined"], by[("A;B", 0)]["left"]) == ("A;B", "")
    assert by[("A;B", 0)]["end_change"] == "merged"
    assert by[("C;D", t_split + GRID_S)]["start_change"] == "split"
    assert by[("C;D", t_split + GRID_S)]["end_change"] == "dissolved"
    assert joint["zones"] == "joint-box"
    assert by[("A;B", 0)]["zones"] == "ab-box"
    assert by[("C;D", 0)]["zones"] == ""
    # centroid at the start of the joint episode: mean of the four latitudes (same lon)
    k = int(t_join / GRID_S)
    assert joint["start_lat"] == pytest.approx(
        (LAT_A[k] + LAT_B[k] + LAT_C[k] + LAT_D[k]) / 4, abs=1e-9
    )
    assert joint["start_lon"] == pytest.approx(float(lon_at(np.array([t_join]))[0]), abs=1e-9)


def test_separation_statistics_are_nearest_fellow_member_distances(
    four: tuple[Tracks, Zones],
) -> None:
    tracks, _ = four
    t_join, t_split = expected_join_split()
    rows = episodes(formations(tracks, chance_shifts_s=()))
    joint = next(r for r in rows if r["members"] == "A;B;C;D")
    lon = lon_at(STEPS)
    nn: list[float] = []
    lats = [LAT_A, LAT_B, LAT_C, LAT_D]
    for k in range(int(t_join / GRID_S), int(t_split / GRID_S) + 1):
        for i, li in enumerate(lats):
            nn.append(
                min(
                    geodesic_distance_m(lon[k], li[k], lon[k], lj[k])
                    for j, lj in enumerate(lats)
                    if j != i
                )
            )
    assert joint["median_sep_m"] == pytest.approx(float(np.median(nn)), abs=0.01)
    assert joint["max_sep_m"] == pytest.approx(max(nn), abs=0.01)
    pair = next(r for r in rows if r["members"] == "A;B" and r["t0"] == 0)
    d_ab = geodesic_distance_m(LON0, 35.0, LON0, 35.018)  # constant: same longitudes
    assert pair["median_sep_m"] == pytest.approx(d_ab, abs=0.01)
    assert pair["max_sep_m"] == pytest.approx(d_ab, abs=0.01)


def test_results_do_not_depend_on_time_chunking(
    four: tuple[Tracks, Zones], monkeypatch: pytest.MonkeyPatch
) -> None:
    tracks, zones = four
    # the same flights at 1,000 m: airborne by their path speed, measured across chunks
    low = Tracks.from_arrays(
        tracks.track_ids[tracks.track_index],
        tracks.t_ns,
        tracks.lon_deg,
        tracks.lat_deg,
        alt_m=np.full(len(tracks), 1000.0),
        attrs={"operator": tracks.attr("operator")[tracks.track_index]},
    )
    runs = [
        lambda: formations(tracks, zones=zones, chance_shifts_s=(-600.0, 600.0)),
        lambda: formations(low, chance_shifts_s=(-600.0, 600.0)),
    ]
    whole = [event_rows(run()) for run in runs]
    assert len(whole[1]) == 5
    # about 50 samples per chunk: the 1,444 grid samples go in ~30 chunks
    monkeypatch.setattr("patrolwatch.detect._resample.TARGET_CHUNK_SAMPLES", 50)
    assert [event_rows(run()) for run in runs] == whole


def test_schema_and_empty_result_are_concrete() -> None:
    tracks = build({"A": {"t": STEPS, "lat": LAT_A}, "C": {"t": STEPS, "lat": LAT_A + 0.2}})
    ev = formations(tracks)
    assert len(ev) == 0 and ev.to_arrow().schema == FORMATION_SCHEMA
    ev = formations(build({"A": {"t": STEPS, "lat": LAT_A}}))
    assert len(ev) == 0


@pytest.mark.parametrize(("vsep_m", "found"), [(600.0, False), (250.0, True)])
def test_pair_on_one_airway_apart_vertically_is_not_a_formation(vsep_m: float, found: bool) -> None:
    t = np.arange(0, 1801, GRID_S, dtype=float)
    tracks = build(
        {
            "LOW": {"t": t, "lat": np.full(t.size, 35.0), "alt": np.full(t.size, 10_000.0)},
            "HIGH": {
                "t": t,
                "lat": np.full(t.size, 35.005),  # 555 m north
                "alt": np.full(t.size, 10_000.0 + vsep_m),
            },
        }
    )
    ev = formations(tracks, chance_shifts_s=())
    assert (len(ev) == 1) is found
    # without altitudes only the horizontal rule applies
    unknown = build(
        {
            "LOW": {
                "t": t,
                "lat": np.full(t.size, 35.0),
                "alt": np.full(t.size, np.nan),
                "speed": np.full(t.size, SPEED_MPS),
            },
            "HIGH": {
                "t": t,
                "lat": np.full(t.size, 35.005),
                "alt": np.full(t.size, np.nan),
                "speed": np.full(t.size, SPEED_MPS),
            },
        }
    )
    assert len(formations(unknown, chance_shifts_s=())) == 1


def test_tracks_crossing_at_a_distance_are_not_a_formation() -> None:
    # EAST flies east along 35.0 N; NORTH flies north at 200 m/s, crossing EAST's path
    # 3 km behind it: within 5 km for well under 5 minutes
    t = np.arange(0, 1201, GRID_S, dtype=float)
    lon_e = lon_at(t)
    lat_n = 35.0 + (t - 600.0) * SPEED_MPS / 110_950.0
    lon_n = np.full(t.size, float(lon_at(np.array([600.0]))[0]) - 3000.0 / M_PER_DEG_LON)
    close = close_steps((lon_e, np.full(t.size, 35.0)), (lon_n, lat_n))
    assert 0 < close.sum() * GRID_S < 300  # independent check of the geometry
    tracks = build(
        {
            "EAST": {"t": t, "lat": np.full(t.size, 35.0), "lon": lon_e},
            "NORTH": {"t": t, "lat": lat_n, "lon": lon_n},
        }
    )
    assert len(formations(tracks, chance_shifts_s=())) == 0


def test_sparse_tracks_form_a_formation_like_dense_ones() -> None:
    # a fix every 3 to 4 minutes (aligned on the grid), flying together for an hour
    t = np.cumsum(np.r_[0, np.tile([180, 240], 8)]).astype(float)
    lat_b = np.full(t.size, 35.02)
    tracks = build({"A": {"t": t, "lat": np.full(t.size, 35.0)}, "B": {"t": t, "lat": lat_b}})
    rows = episodes(formations(tracks, chance_shifts_s=()))
    assert [(r["members"], r["t0"], r["t1"]) for r in rows] == [("A;B", 0, int(t[-1]))]


@pytest.mark.parametrize(("silence_s", "n_episodes"), [(100, 1), (600, 2)])
def test_short_dropouts_are_bridged_long_ones_end_the_formation(
    silence_s: int, n_episodes: int
) -> None:
    t = STEPS
    keep_b = ~((t > 1000) & (t < 1000 + silence_s + GRID_S))
    tracks = build({"A": {"t": t, "lat": LAT_A}, "B": {"t": t[keep_b], "lat": LAT_B[keep_b]}})
    rows = episodes(formations(tracks, chance_shifts_s=()))
    assert len(rows) == n_episodes
    if n_episodes == 2:
        # the 610 s interval is not interpolated: B is off the grid strictly inside it
        assert [(r["t0"], r["t1"]) for r in rows] == [(0, 1000), (1000 + silence_s + 10, T_END)]
        assert {r["group_id"] for r in rows} == {1, 2}


def test_parked_aircraft_never_form_formations() -> None:
    # two aircraft standing 60 m apart for an hour; the feed repeats a stale 108 kt
    t = STEPS
    still = {"lon": np.full(t.size, 2.36), "alt": np.full(t.size, np.nan)}
    stale = np.full(t.size, 108 * KT_MPS)
    tracks = build(
        {
            "P1": {"t": t, "lat": np.full(t.size, 48.7270), **still, "speed": stale},
            "P2": {"t": t, "lat": np.full(t.size, 48.7275), **still, "speed": stale},
        }
    )
    assert len(formations(tracks)) == 0
    # the same pair slow but at 9,000 m (a tight turn in a reconstruction) is airborne
    high = {"lon": np.full(t.size, 130.0), "alt": np.full(t.size, 9000.0)}
    slow = np.full(t.size, 30.0)
    tracks = build(
        {
            "H1": {"t": t, "lat": np.full(t.size, 35.0), **high, "speed": slow},
            "H2": {"t": t, "lat": np.full(t.size, 35.01), **high, "speed": slow},
        }
    )
    assert len(formations(tracks, chance_shifts_s=())) == 1
    # and at 0 m/s minimum speed even parked aircraft count
    assert (
        len(
            formations(
                build(
                    {
                        "P1": {"t": t, "lat": np.full(t.size, 48.7270), **still},
                        "P2": {"t": t, "lat": np.full(t.size, 48.7275), **still},
                    }
                ),
                min_speed_mps=0.0,
                chance_shifts_s=(),
            )
        )
        == 1
    )


def test_background_rate_counts_time_shifted_traffic_on_the_same_route() -> None:
    # A and B fly together; E flies the same route 30 min later, between them. Moved 30
    # min earlier, E sits 1.1 km from both for the whole hour; moved 30 min later it is
    # an hour of flight behind. Trials: 2 members x 2 shifts, of which 2 succeed: 0.5.
    # With +-15 min shifts E is always 15 or 45 min of flight away: 0.
    t = np.arange(0, 3601, GRID_S, dtype=float)
    te = t + 1800.0
    tracks = build(
        {
            "A": {"t": t, "lat": np.full(t.size, 35.0)},
            "B": {"t": t, "lat": np.full(t.size, 35.02)},
            "E": {"t": te, "lat": np.full(t.size, 35.01), "lon": lon_at(t)},
        }
    )
    rows = episodes(formations(tracks, chance_shifts_s=(-1800.0, 1800.0)))
    assert [r["members"] for r in rows] == ["A;B"]
    assert rows[0]["chance_rate"] == pytest.approx(0.5)
    rows = episodes(formations(tracks, chance_shifts_s=(-900.0, 900.0)))
    assert rows[0]["chance_rate"] == 0.0
    rows = episodes(formations(tracks, chance_shifts_s=()))
    assert rows[0]["chance_rate"] is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_sep_m": 0.0},
        {"max_sep_m": math.inf},
        {"min_duration_s": -1.0},
        {"grid_s": 0.0},
        {"max_vsep_m": -5.0},
        {"chance_shifts_s": (0.0,)},
    ],
)
def test_bad_thresholds_raise_config_error(kwargs: dict[str, Any]) -> None:
    tracks = build({"A": {"t": STEPS, "lat": LAT_A}, "B": {"t": STEPS, "lat": LAT_B}})
    with pytest.raises(ConfigError):
        formations(tracks, **kwargs)


# --------------------------------------------------------------------------- properties
@st.composite
def flights(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """2 to 4 tracks flying east together-ish: random latitude knots (within ~7 km),
    random start and end, altitudes within a few hundred metres, 10 s fixes."""
    n = draw(st.integers(2, 4))
    out: dict[str, dict[str, Any]] = {}
    for i in range(n):
        start = draw(st.integers(0, 60)) * GRID_S
        end = draw(st.integers(start // GRID_S + 40, 360)) * GRID_S
        t = np.arange(start, end + 1, GRID_S, dtype=float)
        n_knots = draw(st.integers(1, 4))
        kt = sorted(
            draw(st.lists(st.integers(0, 360), min_size=n_knots, max_size=n_knots, unique=True))
        )
        kv = draw(st.lists(st.floats(34.97, 35.03), min_size=n_knots, max_size=n_knots))
        lat = np.interp(t, np.asarray(kt, float) * GRID_S, kv)
        alt = 8000.0 + draw(st.sampled_from([0.0, 100.0, 250.0, 400.0]))
        drop = draw(st.integers(0, 3))  # optional drop-out of up to 3 minutes
        keep = np.ones(t.size, dtype=bool)
        if drop and t.size > 30:
            s = draw(st.integers(5, t.size - 25))
            keep[s : s + drop * 6] = False
        out[f"T{i}"] = {"t": t[keep], "lat": lat[keep], "alt": np.full(keep.sum(), alt)}
    return out


def _canon(rows: list[dict[str, Any]], rename: dict[str, str] | None = None) -> set[Any]:
    def names(text: str) -> frozenset[str]:
        parts = [p for p in text.split(";") if p]
        return frozenset((rename or {}).get(p, p) for p in parts)

    return {
        (
            names(r["members"]),
            r["t0"],
            r["t1"],
            round(r["median_sep_m"], 6),
            round(r["max_sep_m"], 6),
            names(r["joined"]),
            names(r["left"]),
            r["start_change"],
            r["end_change"],
        )
        for r in rows
    }


def _groups(rows: list[dict[str, Any]], rename: dict[str, str] | None = None) -> set[Any]:
    """The partition of episodes into groups, independent of group numbering."""
    by: dict[int, set[Any]] = defaultdict(set)
    for r in rows:
        m = frozenset((rename or {}).get(p, p) for p in r["members"].split(";"))
        by[r["group_id"]].add((m, r["t0"]))
    return {frozenset(v) for v in by.values()}


@PROPERTY_SETTINGS
@given(scene=flights(), perm_seed=st.integers(0, 1000))
def test_relabelling_tracks_relabels_groups_and_nothing_else(
    scene: dict[str, dict[str, Any]], perm_seed: int
) -> None:
    names = list(scene)
    perm = list(np.random.default_rng(perm_seed).permutation(len(names)))
    rename = {n: f"R{names[p]}" for n, p in zip(names, perm, strict=True)}
    renamed = {rename[n]: d for n, d in scene.items()}
    a = episodes(formations(build(scene), chance_shifts_s=(-900.0, 900.0)))
    b = episodes(formations(build(renamed), chance_shifts_s=(-900.0, 900.0)))
    assert _canon(a, rename) == _canon(b)
    assert _groups(a, rename) == _groups(b)
    assert sorted(r["chance_rate"] for r in a) == sorted(r["chance_rate"] for r in b)


@PROPERTY_SETTINGS
@given(scene=flights())
def test_membership_is_symmetric(scene: dict[str, dict[str, Any]]) -> None:
    # swapping the data of the first two tracks swaps their names in every episode
    names = list(scene)
    swapped = dict(scene)
    swapped[names[0]], swapped[names[1]] = scene[names[1]], scene[names[0]]
    swap = {names[0]: names[1], names[1]: names[0]}
    a = episodes(formations(build(scene), chance_shifts_s=()))
    b = episodes(formations(build(swapped), chance_shifts_s=()))
    assert _canon(a, swap) == _canon(b)
    for r in a:  # every member is listed with every other: a pair is mutual
        members = r["members"].split(";")
        assert len(members) == len(set(members)) >= 2


@PROPERTY_SETTINGS
@given(scene=flights(), shift_steps=st.integers(-(10**7), 10**7))
def test_shifting_all_times_shifts_every_episode(
    scene: dict[str, dict[str, Any]], shift_steps: int
) -> None:
    tracks = build(scene)
    delta_ns = shift_steps * GRID_S * NS_PER_S
    a = event_rows(formations(tracks, chance_shifts_s=(-900.0, 900.0)))
    b = event_rows(formations(tracks.shift_time(delta_ns), chance_shifts_s=(-900.0, 900.0)))
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert rb["start_time"] - ra["start_time"] == delta_ns
        assert rb["end_time"] - ra["end_time"] == delta_ns
        for key in ("members", "group_id", "episode", "joined", "left", "chance_rate"):
            assert ra[key] == rb[key]
        assert ra["start_lat"] == pytest.approx(rb["start_lat"], abs=1e-9)


@PROPERTY_SETTINGS
@given(first=flights(), second=flights())
def test_splitting_input_far_from_events_gives_the_same_events(
    first: dict[str, dict[str, Any]], second: dict[str, dict[str, Any]]
) -> None:
    # the second scene happens 5 h later with the same track ids; split between them
    later = 5 * 3600
    both = {
        name: {
            key: np.concatenate(
                [first[name][key], second[name][key] + (later if key == "t" else 0)]
            )
            for key in ("t", "lat", "alt")
        }
        for name in first
        if name in second
    }
    only_first = {n: d for n, d in first.items() if n in both}
    only_second = {n: {**d, "t": d["t"] + later} for n, d in second.items() if n in both}
    whole = episodes(formations(build(both), chance_shifts_s=(-900.0, 900.0)))
    parts = episodes(formations(build(only_first), chance_shifts_s=(-900.0, 900.0))) + episodes(
        formations(build(only_second), chance_shifts_s=(-900.0, 900.0))
    )

    def key(rows: list[dict[str, Any]]) -> list[Any]:
        return sorted(
            (
                r["members"],
                r["t0"],
                r["t1"],
                round(r["median_sep_m"], 6),
                r["joined"],
                r["left"],
                r["start_change"],
                r["end_change"],
                r["chance_rate"],
            )
            for r in rows
        )

    assert key(whole) == key(parts)


# --------------------------------------------------------------------------- the incident
INCIDENT = Path("incidents") / "2019-07-23-sea-of-japan"


def _parse_utc_s(text: str) -> float:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.timestamp()


def _load_incident(d: Path) -> Tracks:
    """The incident CSV read with the csv module (times parsed by hand)."""
    cols: dict[str, list[Any]] = defaultdict(list)
    with (d / "tracks.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cols["id"].append(row["track_id"])
            cols["t"].append(round(_parse_utc_s(row["time"])) * NS_PER_S)
            cols["lon"].append(float(row["lon"]))
            cols["lat"].append(float(row["lat"]))
            cols["alt"].append(float(row["alt_m"]) if row["alt_m"] else math.nan)
            cols["spd"].append(float(row["speed_mps"]) if row["speed_mps"] else math.nan)
            cols["op"].append(row["operator"])
    return Tracks.from_arrays(
        cols["id"],
        cols["t"],
        cols["lon"],
        cols["lat"],
        alt_m=cols["alt"],
        speed_mps=cols["spd"],
        attrs={"operator": cols["op"]},
    )


@pytest.fixture(scope="module")
def incident_dir(shared_data_dir: Path) -> Path:
    d = shared_data_dir / INCIDENT
    if not d.is_dir():
        pytest.skip(f"incident data not found at {d}")
    return d


def test_incident_formations_match_the_reference(incident_dir: Path) -> None:
    expected = json.loads((incident_dir / "expected.json").read_text(encoding="utf-8"))
    rows = event_rows(formations(_load_incident(incident_dir)))
    assert len(rows) == len(expected["formations"])
    unmatched = list(rows)
    for exp in expected["formations"]:
        tol = exp["tolerance_s"]
        t0 = _parse_utc_s(exp["start_time"])
        t1 = _parse_utc_s(exp["end_time"])
        match = [
            r
            for r in unmatched
            if r["members"] == ";".join(exp["members"])
            and abs(r["start_time"] / NS_PER_S - t0) <= tol
            and abs(r["end_time"] / NS_PER_S - t1) <= tol
        ]
        assert len(match) == 1, f"no match for {exp}"
        r = match[0]
        unmatched.remove(r)
        assert r["joint"] is exp["joint"]
        assert r["operators"] == ";".join(exp["operators"])
        assert r["duration_s"] == pytest.approx(exp["duration_s"], abs=2 * tol)
        assert r["chance_rate"] == 0.0  # nothing else in the sky flies with them
    assert len({r["group_id"] for r in rows}) == 1  # one evolving group


def test_incident_decoys_are_never_members(incident_dir: Path) -> None:
    expected = json.loads((incident_dir / "expected.json").read_text(encoding="utf-8"))
    members = {
        m
        for r in event_rows(formations(_load_incident(incident_dir)))
        for m in r["members"].split(";")
    }
    assert not members & set(expected["not_members"])


# --------------------------------------------------------------------------- ADS-B sample
ADSB = "adsb_tracks_traffic_samples.csv"


@pytest.fixture(scope="module")
def adsb(
    shared_data_dir: Path,
) -> tuple[Tracks, dict[str, list[tuple[float, float, float, float, bool]]]]:
    """The ADS-B sample (feet and knots converted by hand) and, per icao24, the raw
    ``(t, lon, lat, alt_m, onground)`` rows."""
    path = shared_data_dir / ADSB
    if not path.is_file():
        pytest.skip(f"{path} not found")
    cols: dict[str, list[Any]] = defaultdict(list)
    raw: dict[str, list[tuple[float, float, float, float, bool]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            t = _parse_utc_s(row["timestamp"])
            lon, lat = float(row["longitude"]), float(row["latitude"])
            alt = float(row["altitude"]) * FT_M if row["altitude"] else math.nan
            cols["id"].append(row["icao24"])
            cols["t"].append(round(t) * NS_PER_S)
            cols["lon"].append(lon)
            cols["lat"].append(lat)
            cols["alt"].append(alt)
            cols["spd"].append(
                float(row["groundspeed"]) * KT_MPS if row["groundspeed"] else math.nan
            )
            raw[row["icao24"]].append((t, lon, lat, alt, row["onground"] == "true"))
            # (an empty onground means "not reported", taken as airborne here)
    tracks = Tracks.from_arrays(
        cols["id"], cols["t"], cols["lon"], cols["lat"], alt_m=cols["alt"], speed_mps=cols["spd"]
    )
    return tracks, raw


@pytest.fixture(scope="module")
def adsb_rows(adsb: tuple[Tracks, Any]) -> list[dict[str, Any]]:
    return event_rows(formations(adsb[0]))


def test_adsb_sample_finds_the_real_close_formation(adsb_rows: list[dict[str, Any]]) -> None:
    # SOURCES.md: 3900fb / 39c424 within 2 km from 15:02:30 to 15:20:20Z, ~100 ft apart
    t_a, t_b = _parse_utc_s("2017-12-01T15:02:30Z"), _parse_utc_s("2017-12-01T15:20:20Z")
    pair = [r for r in adsb_rows if r["members"] == "3900fb;39c424"]
    assert len(pair) == 1
    r = pair[0]
    assert r["start_time"] / NS_PER_S <= t_a + 60 and r["end_time"] / NS_PER_S >= t_b - 60
    assert r["median_sep_m"] < 500.0 and r["chance_rate"] == 0.0


def test_adsb_sample_rejects_the_airway_pair_and_parked_aircraft(
    adsb_rows: list[dict[str, Any]],
) -> None:
    member_sets = [set(r["members"].split(";")) for r in adsb_rows]
    # the switzerland pair flies one airway 2,000 ft apart
    assert not any({"3c56f3", "3ce3b3"} <= m for m in member_sets)
    # every aircraft of SOURCES.md's on-ground list (Paris airports, quickstart)
    on_ground = {
        "345043",
        "345359",
        "398495",
        "39ceb0",
        "3964f4",
        "346091",
        "49514e",
        "39a2a0",
        "4241bb",
        "460861",
        "477ff6",
        "39cea9",
        "39ceb1",
        "4400ec",
        "3cc1c8",
        "4d02ad",
        "4d22d2",
    }
    assert not set().union(*member_sets) & on_ground


def test_every_adsb_formation_is_confirmed_by_the_raw_reports(
    adsb: tuple[Tracks, dict[str, list[tuple[float, float, float, float, bool]]]],
    adsb_rows: list[dict[str, Any]],
) -> None:
    """Each reported formation is checked against the raw CSV, independently: at every
    whole minute of an episode, each member's position is interpolated linearly in time
    between its two raw reports either side (when they are at most 150 s apart); both
    reports must say it is airborne (``onground`` not true), and some fellow member must be
    within 5 km (geographiclib) and, both with altitude, 300 m (feet converted by hand)."""
    _, raw = adsb
    arrays = {m: np.array(rows, dtype=float) for m, rows in raw.items()}
    checked = 0
    for r in adsb_rows:
        members = r["members"].split(";")
        t0, t1 = r["start_time"] / NS_PER_S, r["end_time"] / NS_PER_S
        for t in np.arange(math.ceil(t0 / 60) * 60, t1 + 1, 60.0):
            pos: dict[str, tuple[float, float, float]] = {}
            for m in members:
                a = arrays[m]
                j = int(np.searchsorted(a[:, 0], t))
                if j == 0 or j >= len(a) or a[j, 0] - a[j - 1, 0] > 150:
                    continue
                assert not (a[j - 1, 4] or a[j, 4]), f"{m} on the ground at {t}"
                f = (t - a[j - 1, 0]) / (a[j, 0] - a[j - 1, 0])
                lon, lat, alt = a[j - 1, 1:4] + f * (a[j, 1:4] - a[j - 1, 1:4])
                pos[m] = (float(lon), float(lat), float(alt))
            for m, (lon, lat, alt) in pos.items():
                fellows = [p for o, p in pos.items() if o != m]
                if not fellows:
                    continue
                checked += 1
                assert any(
                    geodesic_distance_m(lon, lat, p[0], p[1]) <= 5000.0 + 1.0
                    and not abs(alt - p[2]) > 300.0 + 0.5
                    for p in fellows
                ), f"{m} not with its formation at {t} in {r['members']}"
    assert checked > 100


# --------------------------------------------------------------------------- docs run
DOC = Path(__file__).resolve().parents[2] / "docs" / "joint-activity.md"


@pytest.mark.parametrize(
    "block",
    re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    if DOC.is_file()
    else [],
)
def test_joint_activity_doc_examples_run(block: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", block],
        cwd=DOC.parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
