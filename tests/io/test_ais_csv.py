"""AIS archive tables: DMA (real sample) and Marine Cadastre (hand-written fixture).

Expected values: SOURCES.md for the DMA sample (735 rows, 1 duplicated row, one vessel
MMSI 219000734); the ITU MID table (219 = Denmark, 366 = USA); the fixture's rows by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import patrolwatch as pw
from patrolwatch.errors import NaiveTimeError
from patrolwatch.units import KT_MPS

MC_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)


def test_dma_sample_needs_a_zone_then_reads_every_row(shared_data_dir: Path) -> None:
    path = shared_data_dir / "ais_dma_sample.csv"
    with pytest.raises(NaiveTimeError):
        pw.read_tracks(path)
    tracks, rejects, rep = pw.read_tracks(path, assume_tz="UTC")
    assert rep.format == "dma"
    assert rep.rows_read == 735 and rep.rows_used == 734  # SOURCES.md
    assert rejects.reason == ["duplicate"]
    assert tracks.track_ids.tolist() == ["219000734"]
    assert tracks.attr("operator").tolist() == ["DNK"]  # MID 219, ITU
    assert tracks.attr("callsign").tolist() == ["OXXL"]
    assert np.nanmax(tracks.speed_mps) <= 11.6 * KT_MPS + 1e-9  # SOURCES.md: SOG <= 11.6 kn


def test_marine_cadastre_sentinels(tmp_path: Path) -> None:
    rows = [
        "366053209,2023-01-01T00:00:00,37.80000,-122.40000,10.2,90.0,511,ALPHA,,WDA1234,70,0,,,,,A",
        "366053209,2023-01-01T00:01:00,91.00000,181.00000,10.2,90.0,88,ALPHA,,WDA1234,70,0,,,,,A",
        "366053209,2023-01-01T00:02:00,37.80100,-122.39000,102.3,360.0,88,ALPHA,,WDA1234,70,0,,,,,A",
    ]
    p = tmp_path / "AIS_2023_01_01.csv"
    p.write_text(MC_HEADER + "\n" + "\n".join(rows) + "\n")
    tracks, rejects, rep = pw.read_tracks(p)
    assert rep.format == "marinecad"
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [(3, "not_available")]
    # BaseDateTime is UTC by the format's documentation: 2023-01-01T00:00:00Z
    assert tracks.t_ns[0] == 1672531200 * 10**9
    assert tracks.speed_mps[0] == pytest.approx(10.2 * KT_MPS)
    assert np.isnan(tracks.speed_mps[1])  # 102.3 kn = not available
    assert tracks.attr("operator").tolist() == ["USA"]
    assert tracks.attr("type").tolist() == ["cargo"]  # ship type 70
