"""Formations and gaps (detectors that compare tracks) on a real LocalCluster give the
single-machine events; ``analyze --engine dask`` writes the single-machine tables.

Inputs: the bundled 2019-07-23 incident, and a seeded data set of pairs flying together
for hours (formations and shared gaps across many time windows) among solo tracks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Geod

import patrolwatch as pw
from patrolwatch import scale
from patrolwatch.cli import main
from patrolwatch.core.tracks import Tracks
from patrolwatch.scale._timeparts import time_bounds, window_slice

from .conftest import T0_NS, assert_same_events, make_zones

INCIDENT = Path(pw.__file__).resolve().parent / "data" / "incidents" / "2019-07-23-sea-of-japan"
GEOD = Geod(ellps="WGS84")
MIN_GAP_S = 300.0


def make_pairs(n_pairs: int = 5, n_solo: int = 6, seed: int = 5) -> Tracks:
    """Pairs of aircraft 1-3 km apart for 1-3 h (each member with its own reporting times
    and, now and then, a silence of 6-12 min, often shared by the pair), and solo tracks;
    start times over 2 h."""
    rng = np.random.default_rng(seed)
    ids: list[np.ndarray] = []
    ts, lons, lats, alts = [], [], [], []
    ops: list[str] = []
    names: list[str] = []

    def path(
        t_s: np.ndarray, lon0: float, lat0: float, az0: float, v: float
    ) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = np.empty(t_s.size), np.empty(t_s.size)
        lon[0], lat[0] = lon0, lat0
        az = az0 + np.cumsum(rng.uniform(-1.0, 1.0, t_s.size))
        for i in range(1, t_s.size):  # test data generation
            lon[i], lat[i], _ = GEOD.fwd(lon[i - 1], lat[i - 1], az[i], v * (t_s[i] - t_s[i - 1]))
        return lon, lat

    def add(
        name: str, t_s: np.ndarray, lon: np.ndarray, lat: np.ndarray, alt: float, op: str
    ) -> None:
        names.append(name)
        ids.append(np.full(t_s.size, name))
        ts.append(T0_NS + (t_s * 1e9).astype(np.int64))
        lons.append(lon)
        lats.append(lat)
        alts.append(np.full(t_s.size, alt))
        ops.append(op)

    for p in range(n_pairs):  # test data generation, per pair
        start = float(rng.integers(0, 7200))
        dur = float(rng.integers(3600, 10800))
        base = np.arange(start, start + dur, 10.0)
        lon, lat = path(base, rng.uniform(129.0, 131.0), rng.uniform(36.2, 37.8), 90.0, 200.0)
        silence = rng.uniform(base[0] + 600, base[-1] - 1200)
        quiet = (base > silence) & (base < silence + rng.uniform(360, 720))
        for m, op in enumerate(("CHN", "RUS")):
            jitter = rng.uniform(0.0, 3.0, base.size)
            t = base + jitter * m
            off = 1000.0 + 2000.0 * m
            mlon, mlat, _ = GEOD.fwd(lon, lat, np.full(base.size, 0.0), np.full(base.size, off))
            keep = ~quiet if (m == 0 or p % 2 == 0) else np.ones(base.size, bool)
            add(f"P{p:02d}{'ab'[m]}", t[keep], mlon[keep], mlat[keep], 6000.0 + 100 * m, op)
        if p == 0:  # the same route 30 min later: a chance closeness for the background
            tlon, tlat, _ = GEOD.fwd(lon, lat, np.full(base.size, 0.0), np.full(base.size, 1500.0))
            add("Q00", base + 1800.0, tlon, tlat, 6050.0, "KOR")
        if p == 1:  # joins the pair for its middle third, then leaves
            mid = slice(base.size // 3, 2 * base.size // 3)
            jlon, jlat, _ = GEOD.fwd(
                lon, lat, np.full(base.size, 180.0), np.full(base.size, 2000.0)
            )
            add("J01", base[mid] + 1.0, jlon[mid], jlat[mid], 6050.0, "CHN")
    for s in range(n_solo):  # test data generation, per solo track
        start = float(rng.integers(0, 7200))
        t = np.arange(start, start + float(rng.integers(1800, 7200)), 12.0)
        t = np.delete(t, np.s_[50:100]) if s % 2 else t  # a 10-minute silence
        lon, lat = path(t, rng.uniform(129.0, 131.0), rng.uniform(36.2, 37.8), 0.0, 180.0)
        add(f"S{s:02d}", t, lon, lat, 8000.0, "")
    per_track_op = dict(zip(names, ops, strict=True))
    all_ids = np.concatenate(ids)
    return Tracks.from_arrays(
        all_ids,
        np.concatenate(ts),
        np.concatenate(lons),
        np.concatenate(lats),
        alt_m=np.concatenate(alts),
        attrs={"operator": [per_track_op[i] for i in all_ids]},
    )


@pytest.fixture(scope="module")
def pairs() -> Tracks:
    return make_pairs()


def test_window_slice_keeps_the_fixes_either_side() -> None:
    tr = Tracks.from_arrays(
        ["A"] * 5 + ["B"] * 2, [0, 10, 20, 30, 40, 100, 200], [0.0] * 7, [0.0] * 7
    )
    s = window_slice(tr, 15, 25)
    assert s.track_ids.tolist() == ["A", "B"]
    assert s.t_ns.tolist() == [10, 20, 30, 100]
    b = time_bounds(5, 95, 4, grid_ns=10)
    assert b.tolist() == [0, 20, 50, 70, 100]


def test_pairs_data_set_spans_many_windows_with_formations_and_gaps(pairs: Tracks) -> None:
    """The data set tests what it should: episodes and gaps in several windows."""
    fm = pw.formations(pairs, chance_shifts_s=())
    gp = pw.gaps(pairs, min_gap_s=MIN_GAP_S)
    bounds = time_bounds(int(pairs.t_ns.min()), int(pairs.t_ns.max()), 6)
    starts = np.asarray(fm.to_arrow().column("start_time").cast("int64"))
    ends = np.asarray(fm.to_arrow().column("end_time").cast("int64"))
    spanning = np.searchsorted(bounds, starts, "right") != np.searchsorted(bounds, ends, "right")
    assert spanning.sum() >= 3
    assert len(gp) >= 5
    assert any(s for s in gp.column("shared_with") if s)


@pytest.mark.parametrize("n_windows", [1, 6, 17])
def test_gaps_by_time_windows_identical_to_single_machine(
    client: Any, pairs: Tracks, n_windows: int
) -> None:
    zones = make_zones()
    want = pw.gaps(pairs, min_gap_s=MIN_GAP_S, zones=zones)
    got = scale.gaps(
        pairs, min_gap_s=MIN_GAP_S, zones=zones, client=client, n_windows=n_windows
    ).compute()
    assert_same_events(got, want)


@pytest.mark.parametrize("n_windows", [1, 6, 17])
def test_formations_by_time_windows_identical_to_single_machine(
    client: Any, pairs: Tracks, n_windows: int
) -> None:
    """Episodes cut by window boundaries are merged, groups and episodes numbered, joins,
    leaves and the background (non-zero here) as on one machine."""
    zones = make_zones()
    want = pw.formations(pairs, zones=zones)
    got = scale.formations(pairs, zones=zones, client=client, n_windows=n_windows).compute()
    assert len(want) >= 10
    assert max(want.column("chance_rate")) > 0
    assert {"joined", "left"} <= set(want.column("start_change"))
    assert_same_events(got, want)


def test_incident_formations_and_gaps_identical_to_single_machine(client: Any) -> None:
    tr = pw.read_tracks(INCIDENT / "tracks.csv").tracks
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    for min_gap_s in (60.0, MIN_GAP_S):
        want = pw.gaps(tr, min_gap_s=min_gap_s, zones=zones)
        got = scale.gaps(tr, min_gap_s=min_gap_s, zones=zones, client=client, n_windows=7)
        assert_same_events(got.compute(), want)
    want_f = pw.formations(tr, zones=zones)
    got_f = scale.formations(tr, zones=zones, client=client, n_windows=9).compute()
    assert_same_events(got_f, want_f)


def test_bad_parameters_raise_before_anything_runs(client: Any, pairs: Tracks) -> None:
    with pytest.raises(pw.ConfigError, match="min_gap_s"):
        scale.gaps(pairs, min_gap_s=0.0, client=client)
    with pytest.raises(pw.ConfigError, match="grid_s"):
        scale.formations(pairs, grid_s=-1.0, client=client)


def _write_pairs_csv(tracks: Tracks, path: Path) -> Path:
    table = tracks.to_arrow()
    times = np.asarray(table.column("time").cast("int64")).astype("datetime64[ns]").astype(str)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("track_id,time,lat,lon,alt_m,operator\n")
        for row in zip(  # test data writing
            table.column("track_id").to_pylist(),
            times.tolist(),
            table.column("lat_deg").to_pylist(),
            table.column("lon_deg").to_pylist(),
            table.column("alt_m").to_pylist(),
            table.column("operator").to_pylist(),
            strict=True,
        ):
            fh.write(f"{row[0]},{row[1]}Z,{row[2]!r},{row[3]!r},{row[4]!r},{row[5]}\n")
    return path


def _zones_geojson(path: Path) -> Path:
    feats = []
    for zid, (w, s, e, n) in {
        "box-w": (129.3, 36.6, 129.9, 37.3),
        "box-e": (130.3, 36.9, 130.8, 37.6),
    }.items():
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"id": zid, "name": zid, "kind": "custom"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


@pytest.mark.parametrize("which", ["incident", "pairs"])
def test_cli_analyze_engine_dask_writes_the_single_machine_tables(
    client: Any, pairs: Tracks, tmp_path: Path, which: str
) -> None:
    if which == "incident":
        args = [str(INCIDENT / "tracks.csv"), "--zones", str(INCIDENT / "zones.geojson")]
    else:
        tracks_csv = _write_pairs_csv(pairs, tmp_path / "pairs.csv")
        args = [str(tracks_csv), "--zones", str(_zones_geojson(tmp_path / "zones.geojson"))]
    args += ["--no-png", "-q"]
    address = client.scheduler.address
    assert main(["analyze", *args, "--out", str(tmp_path / "local")]) == 0
    dask_args = ["--engine", "dask", "--scheduler", address]
    assert main(["analyze", *args, "--out", str(tmp_path / "dask"), *dask_args]) == 0
    for name in ("events.csv", "formations.csv", "gaps.csv"):
        local = (tmp_path / "local" / name).read_bytes()
        assert (tmp_path / "dask" / name).read_bytes() == local, name
    assert b"formation" in (tmp_path / "local" / "events.csv").read_bytes()
