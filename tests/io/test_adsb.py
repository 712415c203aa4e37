"""ADS-B formats: readsb trace (real sample), traffic table (real sample), OpenSky CSV and
JSON (hand-written fixtures). Expected values: SOURCES.md and the fixtures' rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import patrolwatch as pw
from patrolwatch.units import FT_M


def test_readsb_trace_legs_ground_and_times(shared_data_dir: Path) -> None:
    path = shared_data_dir / "readsb_trace_sample.json"
    tracks, _rejects, rep = pw.read_tracks(path, clean=True, split_gap_s=None)
    assert rep.format == "readsb"
    assert rep.rows_read == 2500 and rep.rows_used == 2500  # SOURCES.md: 2,500 points
    # flags: 3 points with bit 1 (value 3) start new legs: 4 tracks
    assert tracks.n_tracks == 4
    assert tracks.track_ids.tolist() == ["ac671b", "ac671b#2", "ac671b#3", "ac671b#4"]
    assert int(np.isnan(tracks.alt_m).sum()) >= 394  # "ground" in 394 points
    # base timestamp 1738703622.619 + offset 0.00: 2025-02-04T21:13:42.619Z
    assert tracks.t_ns.min() == 1738703622619000000
    assert tracks.alt_m[tracks.src_line == 1][0] == 32000 * FT_M


def test_traffic_sample_reads_all_rows(shared_data_dir: Path) -> None:
    _tracks, _rejects, rep = pw.read_tracks(shared_data_dir / "adsb_tracks_traffic_samples.csv")
    assert rep.format == "traffic"
    assert rep.rows_read == 111_511 and rep.rows_used == 111_511  # SOURCES.md


def test_opensky_csv_uses_lastposupdate_and_drops_stale_repeats(tmp_path: Path) -> None:
    head = (
        "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,baroaltitude,lastposupdate"
    )
    rows = [
        "1563840540,71be12,37.5,131.2,200.0,90.0,0,KAL123,False,10000,1563840539.5",
        "1563840550,71be12,37.5,131.2,200.0,90.0,0,KAL123,False,10000,1563840539.5",
        "1563840560,71be12,37.5,131.23,200.0,90.0,0,KAL123,False,10000,1563840559.0",
    ]
    p = tmp_path / "states.csv"
    p.write_text(head + "\n" + "\n".join(rows) + "\n")
    tracks, rejects, rep = pw.read_tracks(p, clean=True)
    assert rep.format == "opensky"
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [(3, "duplicate")]
    assert tracks.t_ns.tolist() == [1563840539500000000, 1563840559000000000]
    assert tracks.alt_m.tolist() == [10000.0, 10000.0]


def test_opensky_json_states(tmp_path: Path) -> None:
    doc = {
        "time": 1458564121,
        "states": [
            [
                "3c6444",
                "DLH9LF  ",
                "Germany",
                1458564120,
                1458564120,
                6.1546,
                50.1964,
                9639.3,
                False,
                232.88,
                98.26,
                4.55,
                None,
                9547.86,
                "1000",
                False,
                0,
            ],
            [
                "3c6444",
                "DLH9LF  ",
                "Germany",
                None,
                1458564120,
                None,
                None,
                None,
                False,
                None,
                None,
                None,
                None,
                None,
                "1000",
                False,
                0,
            ],
        ],
    }
    p = tmp_path / "states.json"
    p.write_text(json.dumps(doc))
    tracks, rejects, rep = pw.read_tracks(p)
    assert rep.format == "opensky-json"
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [(2, "missing_time")]
    assert tracks.lon_deg.tolist() == [6.1546] and tracks.lat_deg.tolist() == [50.1964]
    assert tracks.attr("callsign").tolist() == ["DLH9LF"]
