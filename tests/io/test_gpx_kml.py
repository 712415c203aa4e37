"""GPX (real sample) and KML (hand-written fixtures). Expected values: SOURCES.md (296
timed points, 7 waypoints, 8 trk elements, 14:23:59Z to 16:23:49Z) and the fixtures."""

from __future__ import annotations

import calendar
import zipfile
from pathlib import Path

import pytest

import patrolwatch as pw
from patrolwatch.errors import ParseError

NS = 10**9


def test_gpx_sample(shared_data_dir: Path) -> None:
    tracks, rejects, rep = pw.read_tracks(shared_data_dir / "gpx_track_sample.gpx")
    assert rep.format == "gpx"
    assert rep.rows_used == 296
    assert rejects.reason == ["unsupported_type"] * 7  # the 7 waypoints
    assert rejects.line[:2] == [10, 17]  # <wpt ...> start tags, read in the file
    # 8 trk elements, the first ("ACTIVE LOG", lines 59-63) has no point
    assert tracks.n_tracks == 7
    assert rep.time_start == "2010-08-05T14:23:59.000Z"
    assert rep.time_end == "2010-08-05T16:23:49.000Z"


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document>
<Placemark><name>A50</name>
<gx:Track>
<when>2019-07-23T00:09:00Z</when>
<when>2019-07-23T00:10:00Z</when>
<when>2019-07-23T00:11:00Z</when>
<gx:coord>131.70 37.60 9000</gx:coord>
<gx:coord>131.75 37.50 9000</gx:coord>
</gx:Track>
</Placemark>
<Placemark><name>H6K</name>
<TimeSpan><begin>2019-07-23T01:00:00Z</begin><end>2019-07-23T01:10:00Z</end></TimeSpan>
<LineString><coordinates>130.0,35.0,8000 130.0,35.1,8000 130.0,35.3,8000</coordinates></LineString>
</Placemark>
<Placemark><name>untimed</name>
<LineString><coordinates>130.0,35.0 130.1,35.0</coordinates></LineString>
</Placemark>
<Folder><name>SHIP1</name>
<Placemark><name>p1</name><TimeStamp><when>2019-07-23T02:00:00Z</when></TimeStamp>
<Point><coordinates>129.0,34.0</coordinates></Point></Placemark>
<Placemark><name>p2</name><TimeStamp><when>2019-07-23T02:10:00Z</when></TimeStamp>
<Point><coordinates>129.1,34.0</coordinates></Point></Placemark>
</Folder>
</Document>
</kml>
"""


def test_kml_track_linestring_and_points(tmp_path: Path) -> None:
    p = tmp_path / "t.kml"
    p.write_text(KML)
    tracks, rejects, rep = pw.read_tracks(p)
    assert rep.format == "kml"
    got = list(zip(rejects.line, rejects.reason, strict=True))
    # the third <when> (line 8) has no coordinate; the untimed LineString's 2 vertices
    assert got == [(8, "missing_coordinate"), (18, "missing_time"), (18, "missing_time")]
    assert tracks.track_ids.tolist() == ["A50", "H6K", "SHIP1"]
    t0 = calendar.timegm((2019, 7, 23, 1, 0, 0)) * NS
    h6k = tracks.t_ns[tracks.offsets[1] : tracks.offsets[2]]
    # vertices 0.1 deg then 0.2 deg apart along a meridian: one third of the time, then all
    assert h6k[0] == t0 and h6k[-1] == t0 + 600 * NS
    assert abs(h6k[1] - (t0 + 200 * NS)) < 2 * NS
    assert rep.rows_read == 3 + 3 + 2 + 2


def test_kmz_and_truncated_kml(tmp_path: Path) -> None:
    kmz = tmp_path / "t.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", KML)
        z.writestr("files/icon.png", b"\x89PNG")
    assert pw.read_tracks(kmz).report.format == "kml (zip)"
    bad = tmp_path / "bad.kml"
    bad.write_text(KML[:500])
    with pytest.raises(ParseError) as err:
        pw.read_tracks(bad)
    assert err.value.line is not None
