"""Compressed inputs read transparently; corrupt ones give a clear error."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import pytest
import zstandard

import patrolwatch as pw
from patrolwatch.errors import InputError

SAMPLE = "ais_nmea_sample_pyais.txt"


@pytest.mark.parametrize(
    ("suffix", "pack"),
    [
        (".gz", gzip.compress),
        (".bz2", bz2.compress),
        (".xz", lzma.compress),
        (".zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_compressed_nmea_reads_like_plain(
    shared_data_dir: Path, tmp_path: Path, suffix: str, pack: object
) -> None:
    data = (shared_data_dir / SAMPLE).read_bytes()
    plain = pw.read_tracks(shared_data_dir / SAMPLE, assume_tz="UTC", date="2021-01-02")
    p = tmp_path / ("x.txt" + suffix)
    p.write_bytes(pack(data))  # type: ignore[operator]
    got = pw.read_tracks(p, assume_tz="UTC", date="2021-01-02")
    assert got.tracks.t_ns.tolist() == plain.tracks.t_ns.tolist()
    assert got.report.rejected_by_reason == plain.report.rejected_by_reason
    assert got.report.format.startswith("nmea (")


def test_zip_members_are_inputs(shared_data_dir: Path, tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.write(shared_data_dir / "gpx_track_sample.gpx", "a.gpx")
        z.write(shared_data_dir / "readsb_trace_sample.json", "b.json")
    _tracks, _rejects, rep = pw.read_tracks(p)
    assert rep.format == "gpx (zip)+readsb (zip)"
    assert rep.rows_read == 303 + 2500


def test_truncated_gzip_is_an_input_error(shared_data_dir: Path, tmp_path: Path) -> None:
    data = gzip.compress((shared_data_dir / SAMPLE).read_bytes())
    p = tmp_path / "t.txt.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        pw.read_tracks(p, date="2021-01-02")
