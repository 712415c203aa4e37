"""The streaming detector gives the batch detector's answers, batch after batch.

Every comparison is against :func:`patrolwatch.crossings` on the whole input (the batch
detector, itself tested against geographiclib in ``tests/detect``): text, ids, evidence,
brackets and ``source_rows`` must be equal; interpolated floats agree to 1e-9 relative
(the batch root finder's stopping test looks at all roots of a call, so the batch's own
answers move by ~1e-15 with the other tracks it is given).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from shapely.geometry import box

import patrolwatch as pw
from patrolwatch.core.events import CROSSING_SCHEMA
from patrolwatch.core.zones import Zone, Zones
from patrolwatch.serve.stream import Detector, FixBatch, StreamEvent
from strategies import Scene, scenes

INCIDENT = (
    Path(__file__).resolve().parents[2] / "src/patrolwatch/data/incidents/2019-07-23-sea-of-japan"
)
S = 1_000_000_000
ROW_TYPES = ("visit", "near", "possible")


def batch_rows(events: pw.Events) -> list[dict[str, Any]]:
    table = events.to_arrow()
    for name in table.column_names:
        if pa.types.is_timestamp(table.schema.field(name).type):
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, table.column(name).cast(pa.int64()))
    return list(table.to_pylist())


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (
        r["track_id"],
        r["zone_id"],
        r["evidence"],
        r["entry_bracket_start"] or 0,
        r["first_fix_time"] or 0,
        r["closest_time"] or 0,
        r["entry_time"] or 0,
    )


def assert_same_rows(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> None:
    expected = sorted(expected, key=_key)
    got = sorted(got, key=_key)
    assert [_key(r)[:3] for r in got] == [_key(r)[:3] for r in expected]
    for a, b in zip(expected, got, strict=True):
        assert set(b) == set(CROSSING_SCHEMA.names)
        for name in CROSSING_SCHEMA.names:
            va, vb = a[name], b[name]
            if isinstance(va, float) and isinstance(vb, float):
                if math.isnan(va):
                    assert math.isnan(vb), name
                else:
                    assert vb == pytest.approx(va, rel=1e-9, abs=1e-6), (name, a, b)
            elif name in ("entry_time", "exit_time", "closest_time") and va is not None:
                assert vb is not None and abs(va - vb) <= 1_000, (name, a, b)  # 1 us
            else:
                assert va == vb, (name, a, b)


def final_rows(events: list[StreamEvent]) -> list[dict[str, Any]]:
    """The rows left after applying corrections (last word per id wins)."""
    last: dict[str, StreamEvent] = {}
    for e in events:
        if e.type in ROW_TYPES:
            last[e.id] = e
    return [e.row for e in last.values() if e.correction != "retracted"]


def replay(
    det: Detector, tracks: pw.Tracks, sizes: list[int], order: np.ndarray | None = None
) -> list[StreamEvent]:
    if order is None:
        order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
    out: list[StreamEvent] = []
    i = 0
    k = 0
    while i < order.size:  # bounded: each step consumes at least one fix
        step = max(1, sizes[k % len(sizes)])
        out += det.push(FixBatch.from_tracks(tracks, order[i : i + step]))
        i += step
        k += 1
    return out + det.flush()


# --------------------------------------------------------------------------- equivalence
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(40, 400), min_size=1, max_size=6))
def test_incident_replay_in_random_batches_equals_batch(sizes: list[int]) -> None:
    tracks, _, _ = pw.read_tracks(INCIDENT / "tracks.csv")
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    expected = batch_rows(pw.crossings(tracks, zones, near_m=30_000))
    det = Detector(zones, near_m=30_000, evict_after_s=None)
    events = replay(det, tracks, sizes)
    assert_same_rows(expected, [e.row for e in events if e.type in ROW_TYPES])
    # every visit was announced by an entry event, before it, with the same entry columns
    entries = {(e.track_id, e.zone_id, e.row["entry_time"]) for e in events if e.type == "entry"}
    visits = [e for e in events if e.type == "visit"]
    assert {(e.track_id, e.zone_id, e.row["entry_time"]) for e in visits} <= entries
    assert len(expected) > 20  # the incident has ADIZ and territorial visits and near passes


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    scene=scenes(max_tracks=3, max_fixes=10, duplicate_times=True),
    sizes=st.lists(st.integers(1, 7), min_size=1, max_size=5),
    near=st.sampled_from([None, 25_000.0]),
    speed=st.sampled_from([None, 400.0]),
)
def test_random_tracks_in_random_batches_equal_batch(
    scene: Scene, sizes: list[int], near: float | None, speed: float | None
) -> None:
    note(repr([(z.id, z.geometry.wkt, z.buffer_m) for z in scene.zones]))
    note(repr((scene.tracks.lat_deg.tolist(), scene.tracks.lon_deg.tolist())))
    expected = batch_rows(pw.crossings(scene.tracks, scene.zones, near_m=near, max_speed_mps=speed))
    det = Detector(scene.zones, near_m=near, max_speed_mps=speed, evict_after_s=None)
    assert_same_rows(expected, final_rows(replay(det, scene.tracks, sizes)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scene=scenes(max_tracks=2, max_fixes=10),
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_late_fixes_within_window_end_with_the_batch_answer(
    scene: Scene, sizes: list[int], seed: int
) -> None:
    """Fixes arriving out of order (within the lateness window) are used: after the
    corrections are applied the rows are the batch rows."""
    tracks = scene.tracks
    rng = np.random.default_rng(seed)
    # arrival = time + a random delay of up to 1 h; lateness covers any delay
    arrival = tracks.t_ns + rng.integers(0, 3600, len(tracks)) * S
    order = np.lexsort((np.arange(len(tracks)), arrival))
    expected = batch_rows(pw.crossings(tracks, scene.zones))
    det = Detector(scene.zones, lateness_s=10 * 86_400, evict_after_s=None, gap_s=None)
    events = replay(det, tracks, sizes, order)
    assert_same_rows(expected, final_rows(events))
    assert det.stats["fixes_too_late"] == 0


def _stream_signature(events: list[StreamEvent]) -> list[tuple[str, str, str, str]]:
    return sorted((e.id, e.type, e.correction, e.content_key()) for e in events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scene=scenes(max_tracks=3, max_fixes=12, duplicate_times=True),
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    lateness=st.sampled_from([0.0, 300.0, 5_000.0]),
    max_delay_s=st.sampled_from([0, 600, 7_200]),
)
def test_quiet_tier_publishes_exactly_what_the_per_track_path_publishes(
    scene: Scene, sizes: list[int], seed: int, lateness: float, max_delay_s: int
) -> None:
    """The columnar tier of resting tracks is an optimisation: with fixes arriving late
    (some beyond the lateness window), gaps and evictions, every event (id, type,
    correction and content) is the one the per-track path publishes."""
    tracks = scene.tracks
    rng = np.random.default_rng(seed)
    arrival = tracks.t_ns + rng.integers(0, max_delay_s + 1, len(tracks)) * S
    order = np.lexsort((np.arange(len(tracks)), arrival))
    kw: dict[str, Any] = {"lateness_s": lateness, "gap_s": 900.0, "evict_after_s": 7_200.0}
    fast = Detector(scene.zones, **kw)
    slow = Detector(scene.zones, quiet_tier=False, **kw)
    got = replay(fast, tracks, sizes, order)
    want = replay(slow, tracks, sizes, order)
    assert _stream_signature(got) == _stream_signature(want)
    assert fast.stats["fixes_too_late"] == slow.stats["fixes_too_late"]


def test_quiet_tier_holds_resting_tracks_and_promotes_them_at_a_boundary() -> None:
    det = Detector(ZONES, lateness_s=60, evict_after_s=None, gap_s=None)
    # west of the box, flying east in 0.05 degree steps: quiet until near the edge at 130
    ev = []
    for k in range(40):
        ev += det.push(fixes("A", [60 * k], [128.5 + 0.05 * k], start_id=k))
    assert det.stats["tracks_demoted"] >= 1
    assert det.stats["fixes_quiet"] > 20  # most fixes took the columnar path
    assert det.stats["tracks_promoted"] >= 1  # the segment reaching the edge
    entries = [e for e in ev if e.type == "entry"]
    assert len(entries) == 1
    # the edge at 130.0 is crossed between the fixes at 129.95 (k=29) and 130.0 (k=30)
    assert entries[0].row["entry_bracket_end"] == 60 * 30 * S
    # a late fix inside the lateness window, between the last two fixes (both in the
    # box): used, nothing published changes
    more = det.push(fixes("A", [60 * 39 - 30], [130.42], start_id=500))
    assert det.stats["fixes_late_used"] == 1
    assert [e for e in more if e.type in ("entry", "visit")] == []


# --------------------------------------------------------------------------- small cases
ZONES = Zones([Zone("z", "Box", "custom", ("KOR",), box(130.0, 37.0, 131.0, 38.0))])


def fixes(track: str, times_s: list[int], lons: list[float], start_id: int = 0) -> FixBatch:
    n = len(times_s)
    return FixBatch.from_arrays(
        [track] * n,
        np.asarray(times_s) * S,
        lons,
        [37.5] * n,
        fix_id=np.arange(start_id, start_id + n),
        line=np.arange(start_id + 1, start_id + n + 1),
    )


def test_entry_is_published_with_the_batch_entry_before_the_exit_is_known() -> None:
    det = Detector(ZONES)
    ev = det.push(fixes("A", [0, 60], [129.5, 130.5]))
    assert [e.type for e in ev] == ["entry"]
    whole = batch_rows(
        pw.crossings(
            pw.Tracks.from_arrays(
                ["A"] * 3, [0, 60 * S, 120 * S], [129.5, 130.5, 131.5], [37.5] * 3
            ),
            ZONES,
        )
    )[0]
    for name in ("entry_time", "entry_lat", "entry_lon", "entry_bracket_start"):
        assert ev[0].row[name] == whole[name]
    ev = det.push(fixes("A", [120], [131.5], start_id=2))
    assert [(e.type, e.closed_by) for e in ev] == [("visit", "exit")]
    assert ev[0].row["exit_time"] == whole["exit_time"]
    assert det.open_visits() == []


def test_fix_later_than_the_window_gives_a_late_fix_event_naming_the_affected_visit() -> None:
    det = Detector(ZONES, lateness_s=60)
    ev = det.push(fixes("A", [0, 60, 120, 600, 700], [129.5, 130.5, 131.5, 131.6, 131.7]))
    visit = next(e for e in ev if e.type == "visit")
    ev = det.push(fixes("A", [90], [130.9], start_id=10))  # 610 s late, window 60 s
    assert [e.type for e in ev] == ["late_fix"]
    assert ev[0].affects == (visit.id,)
    assert ev[0].row["source_rows"] == "<stream>:11"
    assert det.stats["fixes_too_late"] == 1


def test_late_fix_inside_the_window_retracts_a_visit_it_disproves() -> None:
    det = Detector(ZONES, lateness_s=600)
    ev = det.push(fixes("A", [0, 120], [129.5, 131.5]))  # straight through the box
    assert [e.type for e in ev] == ["entry", "visit"]
    # a fix at 60 s shows the track went north of the box
    late = FixBatch.from_arrays(["A"], [60 * S], [130.5], [38.5], fix_id=[5], line=[6])
    ev = det.push(late)
    assert sorted((e.type, e.correction) for e in ev) == [
        ("entry", "retracted"),
        ("visit", "retracted"),
    ]
    assert det.stats["fixes_late_used"] == 1


def test_idle_track_is_evicted_and_its_open_visit_closes_as_lost_contact() -> None:
    det = Detector(ZONES, evict_after_s=600, gap_s=300)
    ev = det.push(fixes("A", [0, 60], [129.5, 130.5]))
    assert [e.type for e in ev] == ["entry"]
    ev = det.push(fixes("B", [400], [100.0], start_id=5))
    assert [e.type for e in ev] == ["gap_open"]
    ev = det.advance(701 * S)
    assert [(e.type, e.track_id, e.closed_by) for e in ev] == [
        ("gap_open", "B", ""),
        ("visit", "A", "lost_contact"),
    ]
    assert ev[1].row["exit_time"] is None and ev[1].row["entry_time"] is not None
    assert det.open_tracks == 1  # B stays (silent 300 s < 600 s)


def test_gap_closes_when_the_track_reports_again() -> None:
    det = Detector(ZONES, evict_after_s=None, gap_s=300)
    det.push(fixes("A", [0], [100.0]))
    assert [e.type for e in det.advance(400 * S)] == ["gap_open"]
    ev = det.push(fixes("A", [500], [100.1], start_id=1))
    assert [e.type for e in ev] == ["gap_close"]
    # the row of the batch gaps detector on the same two fixes
    from patrolwatch.detect.gaps import gaps

    whole = pw.Tracks.from_arrays(["A", "A"], [0, 500 * S], [100.0, 100.1], [37.5, 37.5])
    want = batch_rows(gaps(whole, min_gap_s=300.0))[0]
    got = ev[0].row
    for name in ("start_time", "end_time", "duration_s", "dist_m", "implied_speed_mps"):
        assert got[name] == want[name], name
    assert got["source_rows"] == "<stream>:1;<stream>:2" and got["coverage"] is None


def test_event_ids_do_not_depend_on_batching() -> None:
    tracks, _, _ = pw.read_tracks(INCIDENT / "tracks.csv")
    zones = pw.read_zones(INCIDENT / "zones.geojson")
    ids = []
    for sizes in ([5000], [37, 101]):
        det = Detector(zones, evict_after_s=None, gap_s=None)
        ids.append(sorted(e.id for e in replay(det, tracks, sizes)))
    assert ids[0] == ids[1]


def test_window_memory_is_bounded_by_open_visits() -> None:
    det = Detector(ZONES, lateness_s=0, evict_after_s=None, gap_s=None)
    t = 0
    for k in range(50):  # outside the box: nothing open, window is one fix
        det.push(fixes("A", [t + 10 * k], [120.0 + 0.001 * k], start_id=k))
    assert det.state_size()["window_fixes"] == 1
    det.push(fixes("A", [600, 660], [130.5, 130.6], start_id=100))  # inside: window grows
    assert det.state_size()["window_fixes"] >= 2


def test_source_names_of_past_deliveries_are_forgotten_and_provenance_stays_right() -> None:
    """A live service names every delivery; the detector keeps only the names its held
    fixes use, and events still name their fixes by delivery and line."""
    det = Detector(ZONES, lateness_s=0, evict_after_s=None, gap_s=None)
    # west of the box (up to 129.499), then one fix inside and one east of it
    lons = [128.0 + 0.001 * k for k in range(1500)] + [130.5, 131.5]
    events = []
    for k, lon in enumerate(lons):  # one delivery per fix: 1,502 source names
        b = FixBatch.from_arrays(["A"], [60 * k * S], [lon], [37.5], fix_id=[k], source=f"d{k}")
        events += det.push(b)
    assert len(det._sources) < 1000  # compacted (only the held fixes' deliveries remain)
    visit = next(e for e in events if e.type == "visit")
    # entered between the fixes k=1499 and k=1500, left between k=1500 and k=1501
    assert visit.row["source_rows"] == "d1499:1;d1500:1;d1501:1"


def test_malformed_batch_raises_with_the_line() -> None:
    with pytest.raises(pw.SchemaError, match="out of range"):
        FixBatch.from_arrays(["A"], [0], [37.5], [131.0 + 100], line=[7])
