"""The generated summary: hedged words, UTC with local time, ADIZ never a violation."""

from __future__ import annotations

import re

import pytest
from shapely.geometry import Point, box

import patrolwatch as pw
from patrolwatch.report._model import build_model
from patrolwatch.report._summary import plain_text, summarize


def _summary(events: pw.Events, tracks: pw.Tracks, zones: pw.Zones) -> str:
    return plain_text(summarize(build_model(events, tracks, zones)))


def test_demo_summary_states_the_a50_visits_in_utc_and_korean_japanese_time(
    demo: pw.Analysis,
) -> None:
    text = _summary(demo.events, demo.tracks, demo.zones)
    line = next(s for s in text.splitlines() if s.startswith("- RUS-A50-01 (RUS) entered Dokdo"))
    # the README's published result: 00:09:01-00:11:59Z and 00:33:00-00:37:01Z, 13.0/9.0 km
    assert "twice" in line
    assert "00:09:01–00:11:59Z" in line and "09:09:01–09:11:59 KST/JST (UTC+9)" in line
    assert "00:33:00–00:37:01Z" in line and "09:33:00–09:37:01 KST/JST (UTC+9)" in line
    assert "closest 13.0 km" in line and "closest 9.0 km" in line
    assert "claimed by KOR and JPN" in line
    assert "evidence: observed" in line


def test_adiz_entries_are_never_called_violations(demo: pw.Analysis) -> None:
    text = _summary(demo.events, demo.tracks, demo.zones)
    assert "ADIZ entry (zone declared by KOR)" in text
    assert not re.search(r"violat", text, flags=re.I)
    adiz_lines = [s for s in text.splitlines() if "KADIZ" in s and s.startswith("- ")]
    assert adiz_lines and all("territorial" not in s for s in adiz_lines if "entered" in s)


def test_adiz_only_case_says_adiz_entry_and_not_sovereign_airspace() -> None:
    zones = pw.Zones([pw.Zone("adiz:X", "X ADIZ", "adiz", ("CHN",), box(120, 30, 125, 35))])
    tracks = pw.Tracks.from_arrays(
        ["B1", "B1"], [0, 3_600_000_000_000], [118.0, 127.0], [32.0, 32.0]
    )
    text = _summary(pw.crossings(tracks, zones), tracks, zones)
    assert "ADIZ entry (zone declared by CHN)" in text
    assert "not that state's sovereign airspace" in text
    assert not re.search(r"violat", text, flags=re.I)


def test_local_time_comes_from_the_claimants() -> None:
    # China: UTC+8 (CST); the reader never converts
    zones = pw.Zones(
        [pw.Zone("ts", "Rock 12 NM", "territorial", ("CHN",), Point(123.0, 30.0), buffer_m=22224.0)]
    )
    t0 = 1_563_840_000 * 10**9  # 2019-07-23T00:00:00Z
    tracks = pw.Tracks.from_arrays(
        ["S1", "S1"], [t0, t0 + 3_600 * 10**9], [122.5, 123.5], [30.0, 30.0]
    )
    text = _summary(pw.crossings(tracks, zones), tracks, zones)
    line = next(s for s in text.splitlines() if s.startswith("- S1"))
    assert "CST (UTC+8)" in line
    assert "claimed by CHN" in line


def test_near_pass_is_reported_as_staying_outside_with_its_distance(demo: pw.Analysis) -> None:
    text = _summary(demo.events, demo.tracks, demo.zones)
    line = next(s for s in text.splitlines() if s.startswith("- KCG-CN235-01 stayed outside"))
    # README: "stayed 26.8 km from the islets"
    assert "26.8 km from the zone's feature" in line


def test_zone_caveat_is_printed_once_under_the_summary(demo: pw.Analysis) -> None:
    text = _summary(demo.events, demo.tracks, demo.zones)
    assert "Zone caveats (from the zone sources)" in text
    assert text.count("is NOT sourced") == 1
    assert "See the zone caveat below." in text


def test_joint_formation_comes_first_and_names_both_operators(demo: pw.Analysis) -> None:
    if "formation" not in demo.manifest["counts"]:
        pytest.skip("this build has no formations detector")
    text = _summary(demo.events, demo.tracks, demo.zones)
    section = text.split("Formations (tracks flying together)")[1]
    first = next(s for s in section.splitlines() if s.startswith("- "))
    assert "joint formation" in first and "CHN and RUS" in first
