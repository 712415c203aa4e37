"""Tests for patrolwatch.io.tables.read_table_tracks (CSV and Parquet tracks).

Expected values are derived independently of the reader: by hand (line numbers of small
files written here; 1 ft = 0.3048 m and 1 kt = 1852 m / 3600 s by definition), with
``calendar.timegm`` for instants, with Python's ``csv`` module for the shared sample files,
with ``geographiclib`` for geodesic distances, and from published facts in
``shared/data/SOURCES.md``.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from geographiclib.geodesic import Geodesic

from patrolwatch.errors import (
    ConfigError,
    InputError,
    NaiveTimeError,
    ParseError,
    SchemaError,
)
from patrolwatch.io._rejects import REJECT_REASONS
from patrolwatch.io.tables import TrackRead, read_table_tracks

NS = 1_000_000_000
T0_S = calendar.timegm((2019, 7, 23, 0, 9, 0))  # 2019-07-23T00:09:00Z
T0_NS = T0_S * NS
HEADER = "track_id,time,lat,lon,alt_m"


def read(path: Path | list[Path], **kwargs: object) -> TrackRead:
    """Read and check the row accounting that every call must satisfy."""
    result = read_table_tracks(path, **kwargs)  # type: ignore[arg-type]
    rep = result.report
    assert rep.rows_read == rep.rows_used + rep.rows_rejected
    assert len(result.tracks) == rep.rows_used
    assert len(result.rejects) == rep.rows_rejected
    assert set(result.rejects.reason) <= set(REJECT_REASONS)
    return result


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def utc_iso_to_ns(text: str) -> int:
    """'2019-07-23T00:09:00Z' to ns with the standard library only."""
    value = dt.datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
    return calendar.timegm(value.utctimetuple()) * NS


# ----------------------------------------------------------------------------- rejects
GOOD_2 = "a,2019-07-23T00:00:00Z,1,2,5"
GOOD_4 = "a,2019-07-23T00:20:00Z,1,2.001,5"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",2019-07-23T00:10:00Z,1,2,5", "missing_id"),
        ("  ,2019-07-23T00:10:00Z,1,2,5", "missing_id"),
        ("a,,1,2,5", "missing_time"),
        ("a,NaN,1,2,5", "missing_time"),
        ("a,not a time,1,2,5", "bad_time"),
        ("a,2019-02-30T00:10:00Z,1,2,5", "bad_time"),
        ("a,2019-07-23T00:10:00Z,,2,5", "missing_coordinate"),
        ("a,2019-07-23T00:10:00Z,1,,5", "missing_coordinate"),
        ("a,2019-07-23T00:10:00Z,north,2,5", "bad_coordinate"),
        ("a,2019-07-23T00:10:00Z,inf,2,5", "bad_coordinate"),
        ("a,2019-07-23T00:10:00Z,91,2,5", "not_available"),
        ("a,2019-07-23T00:10:00Z,10,181,5", "not_available"),
        ("a,2019-07-23T00:10:00Z,95,2,5", "lat_out_of_range"),
        ("a,2019-07-23T00:10:00Z,-90.5,2,5", "lat_out_of_range"),
        ("a,2019-07-23T00:10:00Z,1,200,5", "lon_out_of_range"),
        ("a,2019-07-23T00:10:00Z,1,-180.01,5", "lon_out_of_range"),
        ("a,2019-07-23T00:10:00Z,1,2", "bad_row"),
        ("a,2019-07-23T00:10:00Z,1,2,5,6", "bad_row"),
        (GOOD_2, "duplicate"),
    ],
)
def test_malformed_row_is_rejected_with_reason_and_line(
    tmp_path: Path, row: str, reason: str
) -> None:
    path = write(tmp_path, "t.csv", f"{HEADER}\n{GOOD_2}\n{row}\n{GOOD_4}\n")
    tracks, rejects, report = read(path)
    assert rejects.reason == [reason]
    assert rejects.line == [3]
    assert rejects.raw == [row]
    assert rejects.source == [str(path)]
    assert sorted(tracks.src_line.tolist()) == [2, 4]
    assert report.rejected_by_reason == {reason: 1}
    assert report.rows_read == 3


def test_many_malformed_rows_each_get_their_own_line(tmp_path: Path) -> None:
    rows = [
        GOOD_2,  # 2
        "a,,1,2,5",  # 3 missing_time
        "",  # 4 blank: not a row
        "a,2019-07-23T00:10:00Z,95,2,5",  # 5 lat_out_of_range
        GOOD_2,  # 6 duplicate of line 2
        "b,2019-07-23T00:11:00Z,1,2",  # 7 bad_row
        "b,2019-07-23T00:12:00Z,1,2,5",  # 8 used
        ",2019-07-23T00:13:00Z,1,2,5",  # 9 missing_id
        "b,2019-07-23T00:14:00Z,1,181,5",  # 10 not_available
    ]
    path = write(tmp_path, "t.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    tracks, rejects, report = read(path)
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [
        (3, "missing_time"),
        (5, "lat_out_of_range"),
        (6, "duplicate"),
        (7, "bad_row"),
        (9, "missing_id"),
        (10, "not_available"),
    ]
    assert sorted(tracks.src_line.tolist()) == [2, 8]
    assert report.rows_read == 8  # 9 lines after the header, one of them blank
    assert "line 2" in rejects.message[rejects.line.index(6)]


def test_duplicate_needs_every_column_equal(tmp_path: Path) -> None:
    # same track, time and position but another altitude: a second report, kept
    path = write(tmp_path, "t.csv", f"{HEADER}\n{GOOD_2}\na,2019-07-23T00:00:00Z,1,2,6\n")
    tracks, rejects, _ = read(path)
    assert len(rejects) == 0
    assert tracks.alt_m.tolist() == [5.0, 6.0]  # equal times keep input order


def test_unparseable_altitude_and_speed_become_nan_and_are_counted(tmp_path: Path) -> None:
    text = (
        "track_id,time,lat,lon,alt_m,speed_mps\n"
        "a,2019-07-23T00:00:00Z,1,2,high,fast\n"
        "a,2019-07-23T00:01:00Z,1,2,100,50\n"
        "a,2019-07-23T00:02:00Z,1,2,,\n"
    )
    tracks, rejects, report = read(write(tmp_path, "t.csv", text))
    assert len(rejects) == 0
    assert np.isnan(tracks.alt_m[[0, 2]]).all() and tracks.alt_m[1] == 100.0
    assert np.isnan(tracks.speed_mps[[0, 2]]).all() and tracks.speed_mps[1] == 50.0
    notes = " ".join(report.notes)
    assert "altitude ('alt_m'): 1 values are not numbers (first at line 2)" in notes
    assert "speed ('speed_mps'): 1 values are not numbers (first at line 2)" in notes


def test_strict_raises_the_first_reject(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        f"{HEADER}\n{GOOD_2}\na,2019-07-23T00:10:00Z,1,200,5\na,,1,2,5\n",
    )
    with pytest.raises(ParseError) as info:
        read_table_tracks(path, strict=True)
    assert info.value.line == 3
    assert "lon_out_of_range" in str(info.value)


def test_many_rows_with_bad_rows_keep_exact_lines(tmp_path: Path) -> None:
    # enough rows for several Arrow blocks; bad rows at known lines
    n = 120_000
    bad_lines = {2, 5_003, 77_777, n + 1}
    lines = [HEADER]
    for i in range(n):
        line_no = i + 2
        if line_no in bad_lines:
            lines.append(f"x{i},2019-07-23T00:00:00Z,1")
        else:
            lines.append(f"x{i % 50},{T0_S + i},{i % 80},{i % 170},1.5")
    text = "\n".join(lines)
    text = text.replace("2019-07-23T00:00:00Z", "1563840540")  # whole column is epoch s
    tracks, rejects, report = read(write(tmp_path, "big.csv", text))
    assert rejects.line == sorted(bad_lines)
    assert set(rejects.reason) == {"bad_row"}
    assert report.rows_read == n
    # fix i sits on line i + 2 and has lat i % 80
    rows = tracks.src_line - 2
    assert np.array_equal(tracks.lat_deg, (rows % 80).astype(float))
    assert np.array_equal(tracks.t_ns, (T0_S + rows) * NS)


# -------------------------------------------------------------------- bytes and lines
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [False, True])
def test_lines_count_from_the_header_with_bom_crlf_and_no_final_newline(
    tmp_path: Path, bom: bool, newline: str, final_newline: bool
) -> None:
    rows = [HEADER, GOOD_2, "", "a,2019-07-23T00:10:00Z,95,2,5", GOOD_4]
    text = newline.join(rows) + (newline if final_newline else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    tracks, rejects, report = read(write(tmp_path, "t.csv", data))
    assert rejects.line == [4]
    assert rejects.raw == ["a,2019-07-23T00:10:00Z,95,2,5"]
    assert tracks.src_line.tolist() == [2, 5]
    assert report.columns["track_id"] == "track_id"  # the BOM is not part of the name
    assert tracks.lon_deg.tolist() == [2.0, 2.001]  # no "\r" left on the last field


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    text = "\n".join(
        r.replace(",", delimiter) for r in [HEADER, GOOD_2, "a,2019-07-23T00:10:00Z,95,2,5"]
    )
    tracks, rejects, report = read(write(tmp_path, "t.csv", text))
    assert tracks.lat_deg.tolist() == [1.0]
    assert rejects.line == [3]
    assert any(repr(delimiter) in note for note in report.notes)


def test_semicolon_files_accept_decimal_commas(tmp_path: Path) -> None:
    text = "mmsi;time;lat;lon\n219000734;2019-07-23T00:09:00Z;57,296787;10,922245\n"
    tracks, _, _ = read(write(tmp_path, "t.csv", text))
    assert tracks.lat_deg.tolist() == [57.296787]
    assert tracks.lon_deg.tolist() == [10.922245]


def test_quoted_newline_counts_from_the_first_line(tmp_path: Path) -> None:
    text = (
        "track_id,time,lat,lon,name\n"
        'a,2019-07-23T00:09:00Z,1,2,"two\nlines"\n'
        "a,2019-07-23T00:10:00Z,95,2,x\n"
    )
    tracks, rejects, _ = read(write(tmp_path, "t.csv", text))
    assert tracks.src_line.tolist() == [2]
    assert tracks.attr("callsign").tolist() == ["two\nlines"]
    assert rejects.line == [4]


def test_stray_quote_inside_a_field_does_not_shift_lines(tmp_path: Path) -> None:
    text = (
        "track_id,time,lat,lon,name\n"
        'a,2019-07-23T00:09:00Z,1,2,5" gun\n'
        "a,2019-07-23T00:10:00Z,95,2,x\n"
        "a,2019-07-23T00:11:00Z,3,2,y\n"
    )
    tracks, rejects, _ = read(write(tmp_path, "t.csv", text))
    assert tracks.src_line.tolist() == [2, 4]
    assert rejects.line == [3]


def test_unterminated_quote_rejects_the_row_that_opens_it(tmp_path: Path) -> None:
    text = (
        "track_id,time,lat,lon,name\n"
        "a,2019-07-23T00:09:00Z,1,2,x\n"
        'a,2019-07-23T00:10:00Z,1,2,"never closed\n'
        "a,2019-07-23T00:11:00Z,1,2,y\n"
    )
    tracks, rejects, report = read(write(tmp_path, "t.csv", text))
    assert tracks.src_line.tolist() == [2]
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [(3, "bad_row")]
    assert "never closed" in rejects.message[0]
    assert report.rows_read == 2  # the open quote makes lines 3-4 one record


def test_non_utf8_bytes_are_a_parse_error_at_their_line(tmp_path: Path) -> None:
    data = f"{HEADER}\n{GOOD_2}\n".encode() + b"a,2019-07-23T00:10:00Z,1,2,caf\xe9\n"
    path = write(tmp_path, "latin1.csv", data)
    with pytest.raises(ParseError, match="UTF-8") as info:
        read_table_tracks(path)
    assert info.value.line == 3


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open") as info:
        read_table_tracks(tmp_path / "absent.csv")
    assert info.value.path == str(tmp_path / "absent.csv")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n", b"\r\n"])
def test_empty_file_is_a_clear_input_error(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "empty.csv", content)
    with pytest.raises(InputError, match="empty") as info:
        read_table_tracks(path)
    assert info.value.path == str(path)


def test_header_only_file_gives_empty_tracks(tmp_path: Path) -> None:
    tracks, rejects, report = read(write(tmp_path, "t.csv", HEADER + "\n"))
    assert len(tracks) == 0 and len(rejects) == 0
    assert report.rows_read == 0 and report.n_tracks == 0
    assert report.time_start is None


def test_gzip_csv_reads_like_the_plain_file(tmp_path: Path) -> None:
    text = f"{HEADER}\r\n{GOOD_2}\r\na,2019-07-23T00:10:00Z,95,2,5\r\n{GOOD_4}"
    plain = read(write(tmp_path, "t.csv", text))
    gz = read(write(tmp_path, "t.csv.gz", gzip.compress(text.encode())))
    assert gz.tracks.t_ns.tolist() == plain.tracks.t_ns.tolist()
    assert gz.tracks.src_line.tolist() == plain.tracks.src_line.tolist() == [2, 4]
    assert gz.rejects.line == plain.rejects.line == [3]
    assert any("gzip" in n for n in gz.report.notes)
    assert gz.report.format == "csv"


# ----------------------------------------------------------------------------- times
def test_offset_and_z_give_the_same_instant(tmp_path: Path) -> None:
    text = (
        "track_id,time,lat,lon\n"
        "a,2019-07-23T09:09:00+09:00,1,2\n"
        "b,2019-07-23T00:09:00Z,1,2\n"
        "c,2019-07-22T19:09:00-05:00,1,2\n"
    )
    tracks, _, report = read(write(tmp_path, "t.csv", text))
    assert tracks.t_ns.tolist() == [T0_NS] * 3
    assert report.time_start == report.time_end == "2019-07-23T00:09:00.000Z"


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ([str(T0_S), str(T0_S + 60)], "epoch seconds"),
        ([str(T0_S * 1000), str(T0_S * 1000 + 60_000)], "epoch milliseconds"),
        ([f"{T0_S}.0", f"{T0_S + 60}.0"], "epoch seconds"),
    ],
)
def test_epoch_columns_are_read_in_the_unit_their_magnitude_implies(
    tmp_path: Path, values: list[str], unit: str
) -> None:
    text = "id,ts,lat,lon\n" + "".join(f"a,{v},1,2\n" for v in values)
    tracks, _, report = read(write(tmp_path, "t.csv", text), columns={"time": "ts"})
    assert tracks.t_ns.tolist() == [T0_NS, T0_NS + 60 * NS]
    assert any(unit in note for note in report.notes)
    assert report.columns["time"] == f"ts ({unit})"


def test_naive_time_raises_at_its_file_and_line_and_says_what_to_do(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        "track_id,time,lat,lon\na,2019-07-23T00:09:00Z,1,2\na,2019-07-23 09:09:00,1,2\n",
    )
    with pytest.raises(NaiveTimeError) as info:
        read_table_tracks(path)
    err = info.value
    assert (err.path, err.line) == (str(path), 3)
    message = str(err)
    assert message.startswith(f"{path}:3:")
    assert "'2019-07-23 09:09:00'" in message
    assert "assume_tz" in message
    assert "--assume-tz UTC" in message


@pytest.mark.parametrize(
    "naive", ["23/07/2019 09:09:00", "2019-07-23 09:09:00", "2019-07-23T09:09:00"]
)
def test_assume_tz_seoul_applies_to_naive_times_only(tmp_path: Path, naive: str) -> None:
    text = f"track_id,time,lat,lon\na,{naive},1,2\nb,2019-07-23T00:09:00Z,1,2\n"
    tracks, _, report = read(write(tmp_path, "t.csv", text), assume_tz="Asia/Seoul")
    # Korea Standard Time is UTC+9 all year: 09:09 KST is 00:09 UTC
    assert tracks.t_ns.tolist() == [T0_NS, T0_NS]
    assert any("Asia/Seoul" in n for n in report.notes)


def test_bad_assume_tz_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", f"{HEADER}\n{GOOD_2}\n")
    with pytest.raises(ConfigError):
        read_table_tracks(path, assume_tz="Korea/Nowhere")


def test_dst_repeated_local_time_is_rejected_not_guessed(tmp_path: Path) -> None:
    text = (
        "track_id,time,lat,lon\n"
        "a,2019-11-03 00:30:00,1,2\n"
        "a,2019-11-03 01:30:00,1,2\n"  # happens twice in New York that night
        "a,2019-11-03 03:30:00,1,2\n"
    )
    tracks, rejects, _ = read(write(tmp_path, "t.csv", text), assume_tz="America/New_York")
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [(3, "ambiguous_time")]
    # 00:30 EDT (UTC-4) and 03:30 EST (UTC-5)
    assert tracks.t_ns.tolist() == [
        calendar.timegm((2019, 11, 3, 4, 30, 0)) * NS,
        calendar.timegm((2019, 11, 3, 8, 30, 0)) * NS,
    ]


def test_out_of_order_rows_are_sorted_not_dropped(tmp_path: Path) -> None:
    text = (
        "track_id,time,lat,lon\n"
        "b,2019-07-23T00:02:00Z,3,0\n"
        "a,2019-07-23T00:01:00Z,2,0\n"
        "a,2019-07-23T00:00:00Z,1,0\n"
    )
    tracks, rejects, _ = read(write(tmp_path, "t.csv", text))
    assert len(rejects) == 0
    assert tracks.track_ids.tolist() == ["a", "b"]
    assert tracks.lat_deg.tolist() == [1.0, 2.0, 3.0]
    assert tracks.src_line.tolist() == [4, 3, 2]


# ----------------------------------------------------------------------------- columns
@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            "id,icao24,time,lat,lon",
            "x,y,2019-07-23T00:09:00Z,1,2",
            {"track_id": "id", "time": "time", "lat": "lat", "lon": "lon"},
        ),
        (
            " ICAO24 ,Callsign,Timestamp,Latitude,Longitude",
            "y,KAL1,2019-07-23T00:09:00Z,1,2",
            {
                "track_id": "ICAO24",
                "callsign": "Callsign",
                "time": "Timestamp",
                "lat": "Latitude",
                "lon": "Longitude",
            },
        ),
        (
            "callsign,time,lat,lon,name",
            "KAL1,2019-07-23T00:09:00Z,1,2,Korean",
            {"track_id": "callsign", "callsign": "name", "time": "time"},
        ),
        (
            "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,Flag",
            "1,2019-07-23T00:09:00Z,1,2,10,90,91,SHIP,KOR",
            {
                "track_id": "MMSI",
                "time": "BaseDateTime",
                "speed": "SOG (kt)",
                "heading": "Heading (deg)",
                "callsign": "VesselName",
                "operator": "Flag",
            },
        ),
        (
            "icao24,time,lat,lon,velocity,true_track,geoaltitude,baroaltitude,typecode",
            "y,2019-07-23T00:09:00Z,1,2,200,90,1000,990,B738",
            {
                "speed": "velocity (m/s)",
                "heading": "true_track (deg)",
                "altitude": "baroaltitude (m)",
                "type": "typecode",
            },
        ),
        (
            "track_id,# Timestamp,lat_deg,lon_deg,alt_ft,speed_kt,heading_deg,ship type",
            "a,2019-07-23T00:09:00Z,1,2,1000,10,90,Tanker",
            {
                "time": "# Timestamp",
                "lat": "lat_deg",
                "lon": "lon_deg",
                "altitude": "alt_ft (ft)",
                "speed": "speed_kt (kt)",
                "type": "ship type",
            },
        ),
    ],
)
def test_columns_are_auto_detected_by_name(
    tmp_path: Path, header: str, row: str, expected: dict[str, str]
) -> None:
    _, _, report = read(write(tmp_path, "t.csv", f"{header}\n{row}\n"))
    for role, column in expected.items():
        assert report.columns[role] == column


def test_units_are_converted_to_metres_and_metres_per_second(tmp_path: Path) -> None:
    text = (
        "icao24,time,lat,lon,altitude,groundspeed,track\na,2019-07-23T00:09:00Z,1,2,1000,100,90\n"
    )
    tracks, _, _ = read(write(tmp_path, "t.csv", text))
    assert tracks.alt_m[0] == pytest.approx(304.8, abs=1e-9)  # 1000 ft, 1 ft = 0.3048 m
    assert tracks.speed_mps[0] == pytest.approx(185_200 / 3600)  # 100 kt = 100 NM/h
    assert tracks.heading_deg[0] == 90.0


def test_ais_not_available_heading_and_sog_become_nan(tmp_path: Path) -> None:
    text = (
        "mmsi,time,lat,lon,sog,heading\n"
        "1,2019-07-23T00:09:00Z,1,2,102.3,511\n"
        "1,2019-07-23T00:10:00Z,1,2,10,90\n"
    )
    tracks, rejects, report = read(write(tmp_path, "t.csv", text))
    assert len(rejects) == 0
    assert np.isnan(tracks.speed_mps[0]) and np.isnan(tracks.heading_deg[0])
    assert tracks.speed_mps[1] == pytest.approx(18_520 / 3600)
    assert tracks.heading_deg[1] == 90.0
    notes = " ".join(report.notes)
    assert "511" in notes and "102.3" in notes


def test_column_override_is_case_insensitive(tmp_path: Path) -> None:
    text = "HEX,Ts,lat,lon\n3c6592,2019-07-23T00:09:00Z,1,2\n"
    tracks, _, report = read(
        write(tmp_path, "t.csv", text), columns={"time": "ts", "track_id": "hex"}
    )
    assert tracks.track_ids.tolist() == ["3c6592"]
    assert tracks.t_ns.tolist() == [T0_NS]
    assert report.columns["track_id"] == "HEX" and report.columns["time"] == "Ts"


def test_override_takes_the_unit_of_a_known_name(tmp_path: Path) -> None:
    text = "track_id,time,lat,lon,alt_m,alt_ft\na,2019-07-23T00:09:00Z,1,2,1,1000\n"
    tracks, _, report = read(write(tmp_path, "t.csv", text), columns={"altitude": "alt_ft"})
    assert tracks.alt_m[0] == pytest.approx(304.8)
    assert report.columns["altitude"] == "alt_ft (ft)"


def test_empty_override_turns_an_optional_role_off(tmp_path: Path) -> None:
    text = "track_id,time,lat,lon,callsign\na,2019-07-23T00:09:00Z,1,2,KAL1\n"
    tracks, _, report = read(write(tmp_path, "t.csv", text), columns={"callsign": ""})
    assert "callsign" not in report.columns
    assert tracks.attr("callsign").tolist() == [""]


def test_override_naming_an_absent_column_is_a_schema_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", f"{HEADER}\n{GOOD_2}\n")
    with pytest.raises(SchemaError, match="'when'"):
        read_table_tracks(path, columns={"time": "when"})


def test_unknown_role_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", f"{HEADER}\n{GOOD_2}\n")
    with pytest.raises(ConfigError, match="role"):
        read_table_tracks(path, columns={"clock": "time"})


def test_missing_time_column_names_the_file_the_columns_and_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "track_id,when,lat,lon\na,2019-07-23T00:09:00Z,1,2\n")
    with pytest.raises(SchemaError) as info:
        read_table_tracks(path)
    err = info.value
    assert (err.path, err.line) == (str(path), 1)
    message = str(err)
    assert "no time column" in message
    assert "['track_id', 'when', 'lat', 'lon']" in message
    assert "columns={'time': " in message
    assert "--time-col" in message


# ----------------------------------------------------------------------------- parquet
def _parquet(tmp_path: Path, name: str = "t.parquet") -> Path:
    table = pa.table(
        {
            "mmsi": pa.array([219000734, 219000734, 219000735, 219000735], pa.int64()),
            "timestamp": pa.array(
                [T0_S * 1000, (T0_S + 60) * 1000, T0_S * 1000, (T0_S + 60) * 1000],
                pa.timestamp("ms", tz="UTC"),
            ),
            "latitude": pa.array([57.3, 57.31, 95.0, 57.2]),
            "longitude": pa.array([10.9, 10.91, 10.0, 10.8]),
            "altitude": pa.array([1000.0, None, 0.0, 2000.0]),
            "vesselname": pa.array(["ANE LAESOE", None, "OTHER", ""]),
        }
    )
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def test_parquet_round_trip(tmp_path: Path) -> None:
    tracks, rejects, report = read(_parquet(tmp_path))
    assert report.format == "parquet"
    assert tracks.track_ids.tolist() == ["219000734", "219000735"]
    assert tracks.t_ns.tolist() == [T0_NS, T0_NS + 60 * NS, T0_NS + 60 * NS]
    assert tracks.lat_deg.tolist() == [57.3, 57.31, 57.2]
    assert tracks.alt_m[0] == pytest.approx(304.8) and np.isnan(tracks.alt_m[1])
    assert tracks.attr("callsign").tolist() == ["ANE LAESOE", ""]
    # Parquet "lines" are 1-based row numbers
    assert tracks.src_line.tolist() == [1, 2, 4]
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [(3, "lat_out_of_range")]
    assert "95.0" in rejects.raw[0]


def test_parquet_is_detected_by_content_not_by_name(tmp_path: Path) -> None:
    path = _parquet(tmp_path, "looks_like.csv")
    assert read(path).report.format == "parquet"
    with pytest.raises(InputError, match="Parquet"):
        read_table_tracks(path, format="csv")


def test_csv_forced_as_parquet_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.parquet", f"{HEADER}\n{GOOD_2}\n")
    with pytest.raises(InputError, match="not a Parquet file"):
        read_table_tracks(path, format="parquet")


def test_parquet_naive_timestamps_raise_at_the_row(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["a", "a"],
            "time": pa.array([T0_S, T0_S + 9 * 3600], pa.timestamp("s")),
            "lat": [1.0, 1.0],
            "lon": [2.0, 2.0],
        }
    )
    path = tmp_path / "naive.parquet"
    pq.write_table(table, path)
    with pytest.raises(NaiveTimeError) as info:
        read_table_tracks(path)
    assert info.value.line == 1
    tracks, _, _ = read(path, assume_tz="+09:00")
    assert tracks.t_ns.tolist() == [T0_NS - 9 * 3600 * NS, T0_NS]


# ----------------------------------------------------------------------------- several files
def test_several_files_are_concatenated_with_provenance(tmp_path: Path) -> None:
    p1 = write(tmp_path, "one.csv", f"{HEADER}\n{GOOD_2}\n")
    p2 = write(tmp_path, "two.csv", f"{HEADER}\n{GOOD_4}\n{GOOD_2}\n")
    tracks, rejects, report = read([p1, p2])
    assert tracks.sources == (str(p1), str(p2))
    assert report.files == (str(p1), str(p2))
    assert list(zip(tracks.src_file.tolist(), tracks.src_line.tolist(), strict=True)) == [
        (0, 2),
        (1, 2),
    ]
    # the row of two.csv line 3 repeats one.csv line 2 exactly
    assert (rejects.source, rejects.line, rejects.reason) == ([str(p2)], [3], ["duplicate"])
    assert str(p1) in rejects.message[0]


def test_csv_and_parquet_can_be_read_together(tmp_path: Path) -> None:
    p1 = _parquet(tmp_path)
    p2 = write(tmp_path, "t.csv", "mmsi,time,lat,lon\n219000734,2019-07-23T00:20:00Z,57,10\n")
    tracks, _, report = read([p1, p2])
    assert report.format == "parquet+csv"
    assert tracks.n_tracks == 2 and len(tracks) == 4


# ----------------------------------------------------------------------------- speed
def _speed_csv(tmp_path: Path, lons: list[float], lats: list[float] | None = None) -> Path:
    lats = lats or [0.0] * len(lons)
    rows = [
        f"a,{T0_S + 60 * i},{lat},{lon}"
        for i, (lon, lat) in enumerate(zip(lons, lats, strict=True))
    ]
    return write(tmp_path, "s.csv", "track_id,time,lat,lon\n" + "\n".join(rows) + "\n")


def test_implied_speed_rejects_the_spike_not_its_neighbours(tmp_path: Path) -> None:
    # 0.01 deg of longitude a minute on the equator is about 18.6 m/s; 5 deg is ~9.3 km/s
    path = _speed_csv(tmp_path, [0.0, 0.01, 5.0, 0.03, 0.04])
    tracks, rejects, report = read(path, max_speed_mps=300.0)
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [(4, "implied_speed")]
    assert tracks.src_line.tolist() == [2, 3, 5, 6]
    assert "line 3" in rejects.message[0]
    assert any("implied_speed" in n for n in report.notes)


def test_implied_speed_rejects_a_burst_of_outliers(tmp_path: Path) -> None:
    path = _speed_csv(tmp_path, [0.0, 0.01, 5.0, 5.01, 5.02, 0.05, 0.06])
    tracks, rejects, _ = read(path, max_speed_mps=300.0)
    assert rejects.line == [4, 5, 6]
    assert tracks.src_line.tolist() == [2, 3, 7, 8]


def test_implied_speed_rejects_a_bad_first_fix(tmp_path: Path) -> None:
    path = _speed_csv(tmp_path, [5.0, 0.0, 0.01, 0.02])
    tracks, rejects, _ = read(path, max_speed_mps=300.0)
    assert rejects.line == [2]
    assert tracks.src_line.tolist() == [3, 4, 5]


def test_no_implied_speed_check_without_max_speed(tmp_path: Path) -> None:
    tracks, rejects, _ = read(_speed_csv(tmp_path, [0.0, 0.01, 5.0, 0.03]))
    assert len(rejects) == 0 and len(tracks) == 4


@pytest.mark.parametrize(("factor", "rejected"), [(1.001, False), (0.999, True)])
def test_implied_speed_uses_the_wgs84_geodesic(
    tmp_path: Path, factor: float, rejected: bool
) -> None:
    # a meridian step at 60 N: the WGS84 geodesic (55.7 km) is ~0.2 % longer than on a
    # mean-radius sphere, so thresholds 0.1 % either side of the geographiclib speed
    # tell an ellipsoidal distance from a spherical one
    lats = [60.0, 60.5]
    step_m = Geodesic.WGS84.Inverse(lats[0], 10.0, lats[1], 10.0)["s12"]
    speed_mps = step_m / 60.0
    path = _speed_csv(tmp_path, [10.0, 10.0], lats)
    _, rejects, _ = read(path, max_speed_mps=speed_mps * factor)
    assert (rejects.line == [3]) is rejected


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan")])
def test_max_speed_must_be_positive(tmp_path: Path, bad: float) -> None:
    with pytest.raises(ConfigError):
        read_table_tracks(_speed_csv(tmp_path, [0.0]), max_speed_mps=bad)


# ----------------------------------------------------------------------------- real files
def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_incident_tracks_file_is_read_whole(shared_data_dir: Path) -> None:
    path = shared_data_dir / "incidents" / "2019-07-23-sea-of-japan" / "tracks.csv"
    header, rows = _csv_rows(path)
    tracks, rejects, report = read(path)
    assert report.rows_read == len(rows) == report.rows_used
    assert len(rejects) == 0
    col = {name: i for i, name in enumerate(header)}
    assert tracks.track_ids.tolist() == sorted({r[col["track_id"]] for r in rows})
    times = [utc_iso_to_ns(r[col["time"]]) for r in rows]
    assert tracks.t_ns.min() == min(times) and tracks.t_ns.max() == max(times)
    assert report.columns["altitude"] == "alt_m (m)"
    # provenance: each fix's line holds its values
    i = 17
    row = rows[int(tracks.src_line[i]) - 2]
    assert row[col["track_id"]] == tracks.track_ids[tracks.track_index[i]]
    assert float(row[col["lat"]]) == tracks.lat_deg[i]
    assert float(row[col["alt_m"]]) == tracks.alt_m[i]


def test_adsb_sample_feet_knots_and_icao24(shared_data_dir: Path) -> None:
    path = shared_data_dir / "adsb_tracks_traffic_samples.csv"
    header, rows = _csv_rows(path)
    tracks, rejects, report = read(path)
    assert report.rows_read == 111_511 == len(rows)  # SOURCES.md
    assert report.rows_used == 111_511 and len(rejects) == 0
    col = {name: i for i, name in enumerate(header)}
    assert report.n_tracks == len({r[col["icao24"]] for r in rows})
    assert report.columns["track_id"] == "icao24"
    assert report.columns["altitude"] == "altitude (ft)"
    assert report.columns["speed"] == "groundspeed (kt)"
    assert report.columns["heading"] == "track (deg)"
    first = int(np.flatnonzero(tracks.src_line == 2)[0])
    assert tracks.alt_m[first] == pytest.approx(float(rows[0][col["altitude"]]) * 0.3048)
    assert tracks.speed_mps[first] == pytest.approx(
        float(rows[0][col["groundspeed"]]) * 1852 / 3600
    )
    # quickstart leaves altitude empty on 11,881 rows (SOURCES.md): NaN, rows kept
    assert int(np.isnan(tracks.alt_m).sum()) == sum(1 for r in rows if r[col["altitude"]] == "")
    assert report.time_start == "2017-12-01T12:47:57.000Z"
    assert report.time_end == "2021-10-07T13:59:59.000Z"


def test_dma_sample_needs_assume_tz(shared_data_dir: Path) -> None:
    path = shared_data_dir / "ais_dma_sample.csv"
    with pytest.raises(NaiveTimeError) as info:
        read_table_tracks(path)
    assert info.value.line == 2
    assert "assume_tz" in str(info.value)


def test_dma_sample_rejects_its_one_duplicated_row(shared_data_dir: Path) -> None:
    path = shared_data_dir / "ais_dma_sample.csv"
    assert not path.read_bytes().endswith(b"\n")  # the quirk under test
    header, rows = _csv_rows(path)
    # the line of each row that repeats an earlier row exactly (header is line 1)
    seen: set[tuple[str, ...]] = set()
    dup_lines = []
    for line, row in enumerate(rows, start=2):
        if tuple(row) in seen:
            dup_lines.append(line)
        seen.add(tuple(row))
    assert len(dup_lines) == 1  # SOURCES.md: 1 fully duplicated row
    tracks, rejects, report = read(path, assume_tz="UTC")
    assert report.rows_read == 735 == len(rows)
    assert list(zip(rejects.line, rejects.reason, strict=True)) == [(dup_lines[0], "duplicate")]
    assert report.rows_used == 734
    assert tracks.track_ids.tolist() == ["219000734"]
    assert report.columns["time"] == "# Timestamp"
    assert report.columns["speed"] == "SOG (kt)"
    assert tracks.attr("callsign").tolist() == [rows[0][header.index("Callsign")]]
    # SOURCES.md: 2022-10-15 11:16:01 to 13:02:58
    assert report.time_start == "2022-10-15T11:16:01.000Z"
    assert report.time_end == "2022-10-15T13:02:58.000Z"
    # the last line has no final newline and is still read
    assert int(tracks.src_line.max()) == len(rows) + 1
