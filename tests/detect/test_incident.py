"""The reconstructed 2019-07-23 Sea of Japan incident (``shared/data/incidents/...``).

Inputs are built here, not by patrolwatch's readers: ``tracks.csv`` with the ``csv`` module
(ISO times parsed by hand to int64 ns), the two zones from ``zones.geojson`` by hand (KADIZ:
polygon, lon/lat edges; Dokdo/Takeshima: MultiPoint of the two islets buffered by 12 NM =
12 x 1852 m = 22 224 m, claimants KOR;JPN). ``expected.json`` was computed by an
independent reference implementation (see ``REPORTED.md``); the reported times are the
Korean JCS's minute-rounded figures. Skipped when the shared data is absent.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely.geometry

from patrolwatch.core.tracks import Tracks
from patrolwatch.core.zones import Zone, Zones
from patrolwatch.detect.crossings import crossings
from strategies import NS_PER_S, geodesic_distance_m, rows_by_pair

INCIDENT = Path("incidents") / "2019-07-23-sea-of-japan"
TWELVE_NM_M = 22_224.0
"""12 NM in metres, by hand: 12 x 1852 m."""
NEAR_M = 30_000.0
"""The near distance of ``crossing_runs[0]`` (``--near 30km``), metres."""
REPORTED_TOL_S = 15.0
"""Reported (minute-rounded) times vs our crossings, seconds (REPORTED.md: all within 15 s)."""
VISIT = frozenset({"observed", "interpolated"})

Pair = tuple[str, str]


# --------------------------------------------------------------------------- inputs, by hand
def parse_utc_ns(text: str) -> int:
    """An ISO 8601 time ending in ``Z`` (or with an offset) to int64 ns since the epoch, UTC."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    assert value.utcoffset() is not None, f"naive time {text!r}"
    seconds = calendar.timegm(value.utctimetuple())
    return seconds * NS_PER_S + value.microsecond * 1000


def _float_or_nan(text: str) -> float:
    return float(text) if text.strip() else math.nan


def load_tracks(path: Path) -> tuple[Tracks, dict[str, dict[int, list[int]]]]:
    """Tracks from the incident CSV and, per track, fix time (ns) -> CSV line numbers."""
    cols: dict[str, list[Any]] = defaultdict(list)
    lines_at: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for row in reader:
            t = parse_utc_ns(row["time"])
            cols["track_id"].append(row["track_id"])
            cols["t_ns"].append(t)
            cols["lat_deg"].append(float(row["lat"]))
            cols["lon_deg"].append(float(row["lon"]))
            cols["alt_m"].append(_float_or_nan(row["alt_m"]))
            cols["speed_mps"].append(_float_or_nan(row["speed_mps"]))
            cols["heading_deg"].append(_float_or_nan(row["heading_deg"]))
            cols["src_line"].append(reader.line_num)
            for key in ("operator", "type", "callsign"):
                cols[key].append(row[key])
            lines_at[row["track_id"]][t].append(reader.line_num)
    tracks = Tracks.from_arrays(
        np.asarray(cols["track_id"], dtype=str),
        np.asarray(cols["t_ns"], dtype=np.int64),
        np.asarray(cols["lon_deg"]),
        np.asarray(cols["lat_deg"]),
        alt_m=np.asarray(cols["alt_m"]),
        speed_mps=np.asarray(cols["speed_mps"]),
        heading_deg=np.asarray(cols["heading_deg"]),
        src_line=np.asarray(cols["src_line"]),
        sources=(path.name,),
        attrs={k: np.asarray(cols[k], dtype=str) for k in ("operator", "type", "callsign")},
    )
    return tracks, lines_at


def load_zones(path: Path) -> Zones:
    """The KADIZ polygon and the Dokdo/Takeshima 12 NM buffer zone, from ``zones.geojson``."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    by_id = {f["properties"]["id"]: (i, f) for i, f in enumerate(features)}
    i_adiz, adiz = by_id["adiz:KOR"]
    i_ts, ts = by_id["KOR-TS-DOKDO"]
    adiz_geom = shapely.geometry.shape(adiz["geometry"])
    ts_geom = shapely.geometry.shape(ts["geometry"])
    assert adiz_geom.geom_type == "Polygon" and adiz["properties"]["edges"] == "lonlat"
    assert ts_geom.geom_type == "MultiPoint" and len(ts_geom.geoms) == 2
    assert ts["properties"]["buffer_nm"] == 12
    p_adiz, p_ts = adiz["properties"], ts["properties"]
    return Zones(
        [
            Zone(
                id="adiz:KOR",
                name=p_adiz["name"],
                kind="adiz",
                claimants=("KOR",),
                geometry=adiz_geom,
                edges="lonlat",
                source=p_adiz["source"],
                as_of=p_adiz["as_of"],
                caveat=p_adiz["caveat"],
                complete=False,
                origin=f"{path.name}#{i_adiz}",
            ),
            Zone(
                id="KOR-TS-DOKDO",
                name=p_ts["name"],
                kind="territorial",
                claimants=("KOR", "JPN"),
                geometry=ts_geom,
                buffer_m=TWELVE_NM_M,
                reference=ts_geom,
                source=p_ts["source"],
                origin=f"{path.name}#{i_ts}",
            ),
        ]
    )


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def incident_dir(shared_data_dir: Path) -> Path:
    d = shared_data_dir / INCIDENT
    if not d.is_dir():
        pytest.skip(f"incident data not found at {d}")
    return d


@pytest.fixture(scope="module")
def expected(incident_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((incident_dir / "expected.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def run(incident_dir: Path) -> dict[str, Any]:
    """crossings(near_m=30 km) on the hand-built inputs, plus the inputs."""
    tracks, lines_at = load_tracks(incident_dir / "tracks.csv")
    zones = load_zones(incident_dir / "zones.geojson")
    events = crossings(tracks, zones, near_m=NEAR_M)
    return {"tracks": tracks, "lines_at": lines_at, "zones": zones, "events": events}


def _time(text: str | None) -> int | None:
    return None if text is None else parse_utc_ns(text)


def _iso(t: int | None) -> str:
    if t is None:
        return "null"
    return dt.datetime.fromtimestamp(t / NS_PER_S, tz=dt.UTC).isoformat(timespec="milliseconds")


# --------------------------------------------------------------------------- tests
def test_every_expected_visit_is_found_with_its_times_and_evidence(
    run: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Per (track, zone), our visits match ``crossing_runs[0].crossings`` one to one:
    entry/exit within ``tolerance_s`` (null where null), evidence in ``evidence_accept``,
    max_depth_m and closest_m within 100 m where given."""
    want: dict[Pair, list[dict[str, Any]]] = defaultdict(list)
    for c in expected["crossing_runs"][0]["crossings"]:
        want[(c["track_id"], c["zone_id"])].append(c)
    got = rows_by_pair(run["events"], VISIT)
    errors: list[str] = []
    for pair, cs in want.items():
        big = np.iinfo(np.int64).max
        cs = sorted(
            cs,
            key=lambda c: (
                -big if c["entry_time"] is None else _time(c["entry_time"]),
                big if c["exit_time"] is None else _time(c["exit_time"]),
            ),
        )
        rows = got.get(pair, [])
        if len(rows) != len(cs):
            errors.append(
                f"{pair}: {len(rows)} visits, want {len(cs)}: got "
                f"{[(_iso(r['entry_time']), _iso(r['exit_time'])) for r in rows]}, want "
                f"{[(c['entry_time'], c['exit_time']) for c in cs]}"
            )
            continue
        for c, r in zip(cs, rows, strict=True):
            tol_ns = round(c["tolerance_s"] * NS_PER_S)
            for col in ("entry_time", "exit_time"):
                w, g = _time(c[col]), r[col]
                ok = (w is None and g is None) or (
                    w is not None and g is not None and abs(g - w) <= tol_ns
                )
                if not ok:
                    errors.append(f"{pair} {col}: got {_iso(g)}, want {c[col]}")
            if r["evidence"] not in c["evidence_accept"]:
                errors.append(f"{pair}: evidence {r['evidence']}, want {c['evidence_accept']}")
            for mine, theirs in (
                ("max_depth_m", "max_depth_m"),
                ("closest_m", "closest_to_geometry_m"),
            ):
                if theirs in c and (r[mine] is None or abs(r[mine] - c[theirs]) > 100.0):
                    errors.append(f"{pair} {mine}: got {r[mine]}, want {c[theirs]} +- 100 m")
    extra = sorted(set(got) - set(want))
    if extra:
        errors.append(f"visits to pairs not expected: {extra}")
    assert not errors, "\n".join(errors)


def test_no_visit_pairs_have_no_visit_rows(run: dict[str, Any], expected: dict[str, Any]) -> None:
    got = rows_by_pair(run["events"], VISIT)
    offending = [tuple(p) for p in expected["crossing_runs"][0]["no_visit"] if tuple(p) in got]
    assert not offending


def test_expected_near_rows_give_closest_approach(
    run: dict[str, Any], expected: dict[str, Any]
) -> None:
    """``near`` entries: one near row, closest_m to the zone geometry and closest_edge_m to its
    edge within ``tolerance_m``; entry/exit null."""
    near = rows_by_pair(run["events"], frozenset({"near"}))
    errors = []
    for n in expected["crossing_runs"][0]["near"]:
        pair = (n["track_id"], n["zone_id"])
        rows = near.get(pair, [])
        if len(rows) != 1:
            errors.append(f"{pair}: {len(rows)} near rows, want 1")
            continue
        (r,) = rows
        tol = n["tolerance_m"]
        if r["closest_m"] is None or abs(r["closest_m"] - n["closest_to_geometry_m"]) > tol:
            errors.append(f"{pair} closest_m {r['closest_m']}, want {n['closest_to_geometry_m']}")
        edge = r.get("closest_edge_m")
        if edge is None or abs(edge - n["closest_to_edge_m"]) > tol:
            errors.append(f"{pair} closest_edge_m {edge}, want {n['closest_to_edge_m']}")
        if r["entry_time"] is not None or r["exit_time"] is not None:
            errors.append(f"{pair}: near row with entry/exit")
    assert not errors, "\n".join(errors)


def test_near_rows_for_dokdo_agree_with_fix_distances(
    run: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Independent check on every no-visit pair with the 12 NM zone: the smallest
    geographiclib distance from a *fix* to either islet bounds the path's closest approach
    from above. Where it is within near_m of the islets (with 100 m to spare; then it is also
    within near_m of the 12 NM edge, so a near row is due whichever distance near_m is
    compared with) a near row must exist with closest_m <= that bound, and
    closest_edge_m = closest_m - 22 224 m."""
    tracks: Tracks = run["tracks"]
    zone = run["zones"]["KOR-TS-DOKDO"]
    islets = [(p.x, p.y) for p in zone.geometry.geoms]
    near = rows_by_pair(run["events"], frozenset({"near"}))
    index = {str(t): k for k, t in enumerate(tracks.track_ids)}
    checked = 0
    for tid, zid in expected["crossing_runs"][0]["no_visit"]:
        if zid != "KOR-TS-DOKDO":
            continue
        k = index[tid]
        sl = slice(int(tracks.offsets[k]), int(tracks.offsets[k + 1]))
        bound_m = min(
            geodesic_distance_m(lon, lat, x, y)
            for lon, lat in zip(tracks.lon_deg[sl], tracks.lat_deg[sl], strict=True)
            for x, y in islets
        )
        if bound_m < NEAR_M - 100.0:
            checked += 1
            rows = near.get((tid, zid), [])
            assert len(rows) == 1, f"{tid}: fixes come {bound_m:.0f} m from an islet, no near row"
            (r,) = rows
            assert r["closest_m"] <= bound_m + 1.0, (tid, r["closest_m"], bound_m)
            assert r["closest_edge_m"] == pytest.approx(r["closest_m"] - TWELVE_NM_M, abs=1.0)
    assert checked >= 1


def test_reported_times_are_within_15_s_of_our_crossings(
    run: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Each government-reported (minute-rounded) entry/exit time is within 15 s of one of our
    crossings of that kind for that track and zone."""
    got = rows_by_pair(run["events"], VISIT)
    errors = []
    for rep in expected["reported_vs_reconstruction"]:
        pair = (rep["track_id"], rep["zone_id"])
        col = f"{rep['event']}_time"
        t_rep = parse_utc_ns(rep["reported_utc"])
        ours = [r[col] for r in got.get(pair, []) if r[col] is not None]
        best = min((abs(t - t_rep) for t in ours), default=None)
        if best is None or best > REPORTED_TOL_S * NS_PER_S:
            errors.append(
                f"{rep['what']}: reported {rep['reported_utc']}, ours {[_iso(t) for t in ours]}"
            )
    assert not errors, "\n".join(errors)


def test_source_rows_name_the_csv_lines_of_the_bracketing_fixes(run: dict[str, Any]) -> None:
    """Every visit's source_rows contains ``tracks.csv:<line>`` for each bracketing fix."""
    lines_at = run["lines_at"]
    name = run["tracks"].sources[0]
    errors = []
    for (tid, zid), rows in rows_by_pair(run["events"], VISIT).items():
        for r in rows:
            items = {
                (f, int(n)) for f, n in re.findall(r"([^\s;,]+):(\d+)", r["source_rows"] or "")
            }
            for col in (
                "entry_bracket_start",
                "entry_bracket_end",
                "exit_bracket_start",
                "exit_bracket_end",
            ):
                t = r[col]
                if t is None:
                    continue
                lines = lines_at[tid].get(t, [])
                if not lines:
                    errors.append(f"{tid}/{zid} {col} {_iso(t)} is not a fix time")
                elif not any((name, n) in items for n in lines):
                    errors.append(f"{tid}/{zid} {col}: lines {lines} not in {r['source_rows']!r}")
    assert not errors, "\n".join(errors)


def test_readers_give_the_same_visits_as_hand_built_inputs(
    incident_dir: Path, run: dict[str, Any]
) -> None:
    """Optional: when ``patrolwatch.read_tracks``/``read_zones`` exist, reading the files with
    them gives the same visits (times within 1 ms) as the hand-built inputs."""
    import patrolwatch

    read_tracks = getattr(patrolwatch, "read_tracks", None)
    read_zones = getattr(patrolwatch, "read_zones", None)
    if read_tracks is None or read_zones is None:
        pytest.skip("patrolwatch.read_tracks / read_zones not available yet")
    read = read_tracks(incident_dir / "tracks.csv")  # a Tracks, or (tracks, rejects, ...)
    tracks = read if isinstance(read, Tracks) else getattr(read, "tracks", None) or read[0]
    zones = read_zones(incident_dir / "zones.geojson")
    zones = zones if isinstance(zones, Zones) else getattr(zones, "zones", None) or zones[0]
    ours = rows_by_pair(crossings(tracks, zones, near_m=NEAR_M), VISIT)
    hand = rows_by_pair(run["events"], VISIT)
    assert ours.keys() == hand.keys()
    for pair, rows in hand.items():
        assert len(ours[pair]) == len(rows), pair
        for a, b in zip(rows, ours[pair], strict=True):
            for col in ("entry_time", "exit_time"):
                assert (a[col] is None) == (b[col] is None), (pair, col)
                if a[col] is not None:
                    assert abs(a[col] - b[col]) <= 1_000_000, (pair, col)
