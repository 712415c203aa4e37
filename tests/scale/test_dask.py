"""The dask engine gives the single-machine engine's results on a real LocalCluster.

Two worker processes (``processes=True, n_workers=2, threads_per_worker=1``), created
once for this module. Inputs: the bundled 2019-07-23 incident and a seeded data set of
40 tracks split into about 65 hive partitions (by 5-minute window and by region, CSV and
Parquet mixed, tracks crossing partitions), with bad rows, duplicates across files and
implied-speed outliers so that every stage of the reader runs across partitions.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

import patrolwatch as pw
from patrolwatch import scale
from patrolwatch.cli import main

from .conftest import assert_same_events, make_fixes, make_zones, write_partitioned

INCIDENT = Path(pw.__file__).resolve().parent / "data" / "incidents" / "2019-07-23-sea-of-japan"
MAX_SPEED_MPS = 400.0
NEAR_M = 30_000.0
DATASET_NEAR_M = 2_000.0
"""near_m on the generated data set: small, as near passes cost the local engine much
(about 10 s for 30 km on its 6,000 fixes) and the tests run it several times."""


def _same_read(got: scale.PartitionedRead, want: pw.TrackRead) -> None:
    assert got.tracks.compute().to_arrow().equals(want.tracks.to_arrow())
    assert got.rejects == want.rejects
    assert got.report == want.report


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The seeded multi-partition data set (files in expand_inputs order)."""
    fixes = make_fixes(40, seed=11)
    n = fixes["t_ns"].size
    # an implied-speed outlier (2 deg off its track), and a cross-file duplicate
    fixes["lat_deg"][100] += 2.0
    dup = np.array([5, 2000, 4000])
    for name in fixes:
        fixes[name] = np.concatenate([fixes[name], fixes[name][dup]])
    window = (fixes["t_ns"] - fixes["t_ns"].min()) // (300 * 10**9)
    key = window * 2 + (fixes["lon_deg"] >= 130.0)
    key[n:] = key[n:] + 2  # duplicates: in another file (of the same format) than originals
    folder = tmp_path_factory.mktemp("hive")
    write_partitioned(folder / "tracks", fixes, key, ("parquet", "csv"))
    # a file with bad rows: latitude out of range, missing time
    bad = folder / "tracks" / "part=9999" / "bad.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "track_id,time,lat,lon,alt_m,operator\n"
        "T001,2024-01-01T00:30:00Z,95.0,130.0,5000,\n"
        "T001,,37.0,130.0,5000,\n"
    )
    (folder / "tracks" / "_SUCCESS").write_text("")
    return scale.expand_inputs(folder / "tracks")


def test_expand_inputs_reads_hive_folders_and_globs_in_sorted_order(dataset: list[str]) -> None:
    root = Path(dataset[0]).parents[1]
    assert len(dataset) > 40
    assert dataset == sorted(dataset)
    assert not any(p.endswith("_SUCCESS") for p in dataset)
    assert scale.expand_inputs(str(root / "part=*" / "*")) == dataset
    with pytest.raises(pw.ConfigError, match="matches no file"):
        scale.expand_inputs(str(root / "nothing-*.parquet"))


def test_incident_crossings_identical_to_single_machine(client: object) -> None:
    paths = [str(INCIDENT / "tracks.csv")]
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    want_read = pw.read_tracks(paths, max_speed_mps=MAX_SPEED_MPS)
    want = pw.crossings(want_read.tracks, zones, near_m=NEAR_M, max_speed_mps=MAX_SPEED_MPS)
    got_read = scale.read_tracks(paths, client=client, n_partitions=3, max_speed_mps=MAX_SPEED_MPS)
    _same_read(got_read, want_read)
    got = scale.crossings(
        got_read.tracks, zones, near_m=NEAR_M, max_speed_mps=MAX_SPEED_MPS
    ).compute()
    assert_same_events(got, want)
    # the A-50's two visits to the Dokdo/Takeshima 12 NM zone survive partitioning
    assert len(want) > 10


def test_partitioned_dataset_identical_to_single_machine(
    client: object, dataset: list[str]
) -> None:
    zones = make_zones()
    want_read = pw.read_tracks(dataset, max_speed_mps=MAX_SPEED_MPS)
    reasons = want_read.report.rejected_by_reason
    assert reasons["duplicate"] == 3 and reasons["implied_speed"] >= 1, reasons
    assert reasons["lat_out_of_range"] == 1 and reasons["missing_time"] == 1, reasons
    want = pw.crossings(want_read.tracks, zones, near_m=DATASET_NEAR_M, max_speed_mps=MAX_SPEED_MPS)
    assert len(want.filter(evidence="interpolated")) + len(want.filter(evidence="observed")) > 20
    for n_partitions in (1, 5):
        got_read = scale.read_tracks(
            dataset, client=client, n_partitions=n_partitions, max_speed_mps=MAX_SPEED_MPS
        )
        _same_read(got_read, want_read)
        got = scale.crossings(
            got_read.tracks, zones, near_m=DATASET_NEAR_M, max_speed_mps=MAX_SPEED_MPS
        ).compute()
        assert_same_events(got, want)
        # provenance: every visit names fixes of several files when its track spans them
        rows = pc.utf8_length(got.to_arrow().column("source_rows"))
        assert pc.min(rows).as_py() > 0


def test_in_memory_tracks_identical_for_any_number_of_partitions(client: object) -> None:
    tracks = pw.read_tracks(INCIDENT / "tracks.csv").tracks
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    want = pw.crossings(tracks, zones, max_speed_mps=MAX_SPEED_MPS)
    for n_partitions in (1, 7, 40):  # 40 > number of tracks: empty partitions
        got = scale.crossings(
            tracks, zones, max_speed_mps=MAX_SPEED_MPS, client=client, n_partitions=n_partitions
        ).compute()
        assert_same_events(got, want)


def test_api_engine_keyword_takes_a_client(client: object) -> None:
    tracks = pw.read_tracks(INCIDENT / "tracks.csv").tracks
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    want = pw.crossings(tracks, zones)
    assert_same_events(pw.crossings(tracks, zones, engine=client), want)  # type: ignore[arg-type]


def test_partitioned_parquet_output_reads_back_in_single_machine_order(
    client: object, dataset: list[str], tmp_path: Path
) -> None:
    zones = make_zones()
    read = scale.read_tracks(dataset, client=client, n_partitions=4)
    pev = scale.crossings(read.tracks, zones)
    files = pev.to_parquet(tmp_path / "events")
    assert [f.name for f in files] == [f"part-{b:05d}.parquet" for b in range(4)]
    assert pev.num_rows() == len(pev.compute())
    assert_same_events(scale.read_events_dataset(tmp_path / "events"), pev.compute(), ulps=0)


def test_bad_input_raises_the_single_machine_error(client: object, tmp_path: Path) -> None:
    good = INCIDENT / "tracks.csv"
    naive = tmp_path / "naive.csv"
    naive.write_text("track_id,time,lat,lon\nA,2019-07-23 00:00:00,37.0,131.0\n")
    missing = tmp_path / "missing.csv"
    for paths in ([good, naive], [good, naive, missing]):
        with pytest.raises(pw.InputError) as want:
            pw.read_tracks(paths)
        with pytest.raises(pw.InputError) as got:
            scale.read_tracks(paths, client=client)
        assert type(got.value) is type(want.value)
        assert str(got.value) == str(want.value)


def test_cli_engine_dask_writes_the_single_machine_csv_and_a_partitioned_dataset(
    client: object, dataset: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones_file = tmp_path / "zones.geojson"
    zones_file.write_text(__import__("json").dumps(make_zones().to_geojson()))
    folder = str(Path(dataset[0]).parents[1])
    common = [folder, "--zones", str(zones_file), "--near", "2km", "--max-speed", "400mps"]
    assert main(["crossings", *common, "--out", str(tmp_path / "local.csv")]) == 0
    local_err = capsys.readouterr().err
    address = client.scheduler.address  # type: ignore[attr-defined]
    args = ["--engine", "dask", "--scheduler", address]
    assert main(["crossings", *common, *args, "--out", str(tmp_path / "dask.csv")]) == 0
    dask_err = capsys.readouterr().err
    local = pacsv.read_csv(tmp_path / "local.csv")
    assert pacsv.read_csv(tmp_path / "dask.csv").equals(local)
    # the same ingest summary (rows read, used, rejected by reason)
    assert local_err.splitlines()[0] == dask_err.splitlines()[0]
    # a folder as --out: partitioned Parquet from the workers, plus the CSV (small)
    assert main(["crossings", *common, *args, "--out", str(tmp_path / "events")]) == 0
    assert sorted(p.name for p in (tmp_path / "events").iterdir())[:2] == [
        "events.csv",
        "part-00000.parquet",
    ]
    assert pacsv.read_csv(tmp_path / "events" / "events.csv").equals(local)
    back = scale.read_events_dataset(tmp_path / "events").to_arrow()
    assert back.num_rows == local.num_rows
    shutil.rmtree(tmp_path / "events")


def test_local_crossings_of_a_track_do_not_depend_on_other_tracks() -> None:
    tracks = pw.read_tracks(INCIDENT / "tracks.csv").tracks
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    full = pw.crossings(tracks, zones).to_arrow()
    for tid in tracks.track_ids.tolist():
        alone = pw.crossings(tracks.select_tracks(tracks.track_ids == tid), zones).to_arrow()
        assert full.filter(pc.equal(full.column("track_id"), tid)).equals(alone), tid


def test_assert_same_events_catches_a_one_nanosecond_difference() -> None:
    tracks = pw.read_tracks(INCIDENT / "tracks.csv").tracks
    ev = pw.crossings(tracks, pw.read_zones(INCIDENT / "zones.geojson"))
    table = ev.to_arrow()
    i = table.column_names.index("entry_time")
    shifted = pc.add(table.column(i).cast(pa.int64()), 1).cast(table.column(i).type)
    with pytest.raises(AssertionError):
        assert_same_events(pw.Events(table.set_column(i, "entry_time", shifted)), ev)


def test_docs_scale_python_example_runs() -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "scale.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    result = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2249 fixes, 24 events"


def test_cli_analyze_scheduler_needs_engine_dask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """(analyze --engine dask itself: tests/scale/test_dask_joint.py.)"""
    args = ["analyze", str(INCIDENT / "tracks.csv"), "--zones", str(INCIDENT / "zones.geojson")]
    assert main([*args, "--out", str(tmp_path / "a"), "--scheduler", "local"]) == 2
    assert "--scheduler needs --engine dask" in capsys.readouterr().err
