"""Format inference from content, bad input, and the ``patrolwatch ingest`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import patrolwatch as pw
from patrolwatch.cli import main
from patrolwatch.errors import InputError
from patrolwatch.io.dispatch import sniff_format

GOOD = "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"# comment\n" + GOOD.encode() + b"\n", "nmea"),
        (b"[2024-07-19 08:45:27.141] " + GOOD.encode(), "nmea"),
        (b"\xef\xbb\xbftrack_id;time;lat;lon\n", "csv"),
        (b"# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status\n", "dma"),
        (b"MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading\n", "marinecad"),
        (b"time,icao24,lat,lon,velocity,heading,vertrate\n", "opensky"),
        (b"timestamp,icao24,latitude,longitude,altitude,groundspeed,track\n", "traffic"),
        (b'{"icao":"ac671b","timestamp":1.0,"trace":[]}', "readsb"),
        (b'{"time":1,"states":[]}', "opensky-json"),
        (b'<?xml version="1.0"?>\n<gpx version="1.0">', "gpx"),
        (b'<kml xmlns="http://www.opengis.net/kml/2.2">', "kml"),
    ],
)
def test_format_inferred_from_content(head: bytes, fmt: str) -> None:
    assert sniff_format(head) == fmt


def test_suffix_does_not_decide(tmp_path: Path) -> None:
    p = tmp_path / "tracks.csv"
    p.write_text(GOOD + "\n")
    assert pw.read_tracks(p, date="2021-01-02").report.format == "nmea"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\x00\x01\x02garbage\xff\xfe" * 50, "binary"),
        (b"<html><body>hi</body></html>", "neither GPX"),
        (b'{"a": 1}', "JSON of an unknown layout"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path: Path, content: bytes, match: str) -> None:
    p = tmp_path / "x.dat"
    p.write_bytes(content)
    with pytest.raises(InputError, match=match):
        pw.read_tracks(p, clean=True)


def test_semicolon_csv_with_bom_and_null_column(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_bytes(
        "\ufefftrack_id;time;lat;lon;alt_m\n"
        "a;2019-07-23T00:09:00Z;37,2;131,8;\n"
        "a;2019-07-23T00:10:00Z;37,3;131,9;\n".encode()
    )
    tracks, _rejects, rep = pw.read_tracks(p, clean=True)
    assert rep.rows_used == 2 and tracks.lat_deg.tolist() == [37.2, 37.3]


def test_ingest_writes_geoparquet_and_report(shared_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "o" / "tracks.parquet"
    code = main(
        [
            "ingest",
            str(shared_data_dir / "ais_nmea_sample_pyais.txt"),
            str(shared_data_dir / "gpx_track_sample.gpx"),
            "--date",
            "2021-01-02",
            "--assume-tz",
            "UTC",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    rep = json.loads((out.parent / "ingest_report.json").read_text())
    assert rep["rows_read"] == 978 + 303
    assert rep["rows_read"] == rep["rows_used"] + rep["rows_rejected"]
    assert rep["format"] == "nmea+gpx"
    for key in ("rejected_by_reason", "n_tracks", "time_start", "time_end", "columns"):
        assert key in rep
    meta = json.loads(pq.read_schema(out).metadata[b"geo"])
    assert meta["primary_column"] == "geometry"
    table = pq.read_table(out)
    assert table.num_rows > 0 and "lat_deg" in table.column_names


def test_ingest_bad_input_exit_code_2(tmp_path: Path) -> None:
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    assert main(["ingest", str(p), "--out", str(tmp_path / "t.parquet"), "-q"]) == 2
