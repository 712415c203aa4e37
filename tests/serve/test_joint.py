"""The streaming formation tracker gives the batch formations' answers, batch after batch.

Every comparison is against :func:`patrolwatch.formations` on the whole input (the batch
detector, itself tested against geographiclib and brute force in
``tests/detect/test_formations.py``), with ``chance_shifts_s=()``: the tracker leaves the
chance rate null. What the incident should show comes from the batch detector and from
the published reports quoted in the incident's ``PROVENANCE.md``, never from the
tracker's own output.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import patrolwatch as pw
from patrolwatch.core.tracks import Tracks
from patrolwatch.detect.formations import FORMATION_SCHEMA, formations
from patrolwatch.errors import ConfigError
from patrolwatch.serve.alerts import example_rules_path, load_rules, match_rules, parse_rules
from patrolwatch.serve.joint import FORMATION_EVENT_TYPES, FormationTracker
from patrolwatch.serve.service import ServeConfig
from patrolwatch.serve.stream import FixBatch, StreamEvent
from strategies import NS_PER_S, event_rows

from .conftest import box_zones, serve, wait_until

INCIDENT = (
    Path(__file__).resolve().parents[2] / "src/patrolwatch/data/incidents/2019-07-23-sea-of-japan"
)
S = NS_PER_S
T0_S = 1_563_840_000  # 2019-07-23T00:00:00Z, a multiple of the 10 s grid
M_PER_DEG_LAT = 111_000.0  # only sets where the test tracks are, not any expected value
START_TYPES = ("formation_start", "formation_change")


# --------------------------------------------------------------------------- helpers
def replay(
    tracker: FormationTracker,
    tracks: Tracks,
    sizes: Sequence[int],
    order: np.ndarray | None = None,
) -> list[StreamEvent]:
    """Push the fixes in ``order`` (default: time order) in batches of ``sizes`` (cycled),
    then flush."""
    if order is None:
        order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
    out: list[StreamEvent] = []
    i = k = 0
    while i < order.size:  # bounded: each step consumes at least one fix
        step = max(1, sizes[k % len(sizes)])
        out += tracker.push(FixBatch.from_tracks(tracks, order[i : i + step]))
        i += step
        k += 1
    return out + tracker.flush()


def final_rows(events: Sequence[StreamEvent]) -> list[dict[str, Any]]:
    """Rows of the ``formation_end`` events after corrections (last word per id wins)."""
    last: dict[str, StreamEvent] = {}
    for e in events:
        if e.type == "formation_end":
            last[e.id] = e
    rows = [e.row for e in last.values() if e.correction != "retracted"]
    return sorted(rows, key=lambda r: (r["group_id"], r["episode"]))


def assert_same_rows(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> None:
    assert [(r["group_id"], r["episode"], r["members"]) for r in got] == [
        (r["group_id"], r["episode"], r["members"]) for r in expected
    ]
    for a, b in zip(expected, got, strict=True):
        assert set(b) == set(FORMATION_SCHEMA.names)
        for name in FORMATION_SCHEMA.names:
            va, vb = a[name], b[name]
            if isinstance(va, float) and isinstance(vb, float) and math.isnan(va):
                assert math.isnan(vb), name
            elif isinstance(va, float):
                assert vb == pytest.approx(va, rel=1e-12, abs=1e-9), (name, a, b)
            else:
                assert va == vb, (name, a, b)


def batch_rows(tracks: Tracks, **kw: Any) -> list[dict[str, Any]]:
    return event_rows(formations(tracks, chance_shifts_s=(), **kw))


@pytest.fixture(scope="module")
def incident() -> Tracks:
    tracks, _, _ = pw.read_tracks(INCIDENT / "tracks.csv")
    return tracks


@pytest.fixture(scope="module")
def incident_events(incident: Tracks) -> list[StreamEvent]:
    return replay(FormationTracker(), incident, [37])


# --------------------------------------------------------------------------- equivalence
@pytest.mark.parametrize("sizes", [[1], [7], [60, 3, 250], [100_000]])
def test_incident_replay_in_batches_equals_batch(incident: Tracks, sizes: list[int]) -> None:
    expected = batch_rows(incident)
    events = replay(FormationTracker(), incident, sizes)
    assert_same_rows(expected, final_rows(events))
    assert {e.type for e in events} <= set(FORMATION_EVENT_TYPES)
    # every final episode was announced first, by a start or change event with its id
    starts = {(e.row["start_time"], e.row["members"]) for e in events if e.type in START_TYPES}
    assert {(r["start_time"], r["members"]) for r in expected} <= starts
    assert len(expected) == 5  # the H-6K pair, the Tu-95 pair, the four, and the split


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(5, 400), min_size=1, max_size=5))
def test_incident_ids_do_not_depend_on_batching(
    incident: Tracks, incident_events: list[StreamEvent], sizes: list[int]
) -> None:
    events = replay(FormationTracker(), incident, sizes)
    assert {e.id for e in events if not e.correction} == {
        e.id for e in incident_events if not e.correction
    }
    assert_same_rows(batch_rows(incident), final_rows(events))


@st.composite
def flights(draw: st.DrawFn) -> Tracks:
    """Two or three aircraft flying east at ~200 m/s through a shared sequence of 2-15 min
    segments; in each, every aircraft takes a lane 0, 1.5 or 3 km north of a common line
    (together; 80 %) or 12 or 25 km (apart), so pairs are together or apart and groups
    form, grow, merge and split. Each reports every 10-60 s, with silences (5 % of the
    intervals) that are bridged whatever the median interval (<= 120 s) or never
    (>= 200 s): the batch's bridge limit is ``max_dropout_s`` (120 s) plus the median
    interval, and the tracker takes the median over its window (module docstring,
    *Equivalence*). Hypothesis draws the structure; a seeded generator the details, with
    these frequencies."""
    n_tracks = draw(st.integers(2, 3))
    n_segments = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    durations = rng.integers(120, 901, n_segments)
    ids, t_all, lon_all, lat_all, alt_all, ops = [], [], [], [], [], []
    for i in range(n_tracks):
        t0 = float(rng.integers(0, 121))
        lanes = np.where(
            rng.random(n_segments + 1) < 0.8,
            rng.choice([0.0, 1.5, 3.0], n_segments + 1),
            rng.choice([12.0, 25.0], n_segments + 1),
        )
        knots_t, knots_y = [t0], [float(lanes[0])]
        for dur, lane in zip(durations.tolist(), lanes[1:].tolist(), strict=True):
            knots_t += [knots_t[-1] + 60.0, knots_t[-1] + dur]  # 60 s to change lane
            knots_y += [lane, lane]
        end = knots_t[-1] - float(rng.integers(0, 121))
        steps = rng.integers(10, 61, int(end - t0) // 10 + 2).astype(float)
        silent = rng.random(steps.size) < 0.05
        steps[silent] = rng.choice([90.0, 120.0, 200.0, 400.0], int(silent.sum()))
        t = t0 + np.concatenate([[0.0], np.cumsum(steps)])
        t = t[t <= max(end, t0)]
        n = t.size
        ids += [f"T{i}"] * n
        t_all.append((T0_S + t.astype(np.int64)) * S)
        lon_all.append(130.0 + 200.0 * t / 91_000.0)  # ~200 m/s at 35 N
        lat_all.append(35.0 + np.interp(t, knots_t, knots_y) * 1000.0 / M_PER_DEG_LAT)
        alt_all.append(np.full(n, 9000.0 if rng.random() < 0.15 else 8000.0))
        ops += [str(rng.choice(["CHN", "RUS", ""]))] * n
    return Tracks.from_arrays(
        ids,
        np.concatenate(t_all),
        np.concatenate(lon_all),
        np.concatenate(lat_all),
        alt_m=np.concatenate(alt_all),
        attrs={"operator": ops},
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tracks=flights(),
    sizes=st.lists(st.integers(3, 60), min_size=1, max_size=4),
    every_s=st.sampled_from([0.0, 30.0, 300.0]),
)
def test_random_flights_in_random_batches_equal_batch(
    tracks: Tracks, sizes: list[int], every_s: float
) -> None:
    note(repr((tracks.track_ids.tolist(), tracks.offsets.tolist())))
    expected = batch_rows(tracks)
    events = replay(FormationTracker(every_s=every_s), tracks, sizes)
    assert_same_rows(expected, final_rows(events))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tracks=flights(), seed=st.integers(0, 2**32 - 1))
def test_fixes_up_to_a_minute_late_end_with_the_batch_answer(tracks: Tracks, seed: int) -> None:
    """Fixes arriving out of order (each up to 60 s after its time) are inserted in time
    order; after the corrections are applied the rows are the batch rows."""
    rng = np.random.default_rng(seed)
    arrival = tracks.t_ns + rng.integers(0, 61, len(tracks)) * S
    order = np.lexsort((np.arange(len(tracks)), arrival))
    tracker = FormationTracker()
    events = replay(tracker, tracks, [5], order)
    assert_same_rows(batch_rows(tracks), final_rows(events))
    assert tracker.stats["fixes_too_old"] == 0


# --------------------------------------------------------------------------- scenarios
def lanes(spec: dict[str, tuple[float, float, list[tuple[float, float]]]]) -> Tracks:
    """Tracks flying east at ~200 m/s, one fix every 30 s from ``t0`` to ``t1`` minutes,
    north of a common line by the (minute, km) knots, all at 8,000 m."""
    ids, t_all, lon, lat = [], [], [], []
    for name, (m0, m1, knots) in spec.items():
        t = np.arange(m0 * 60.0, m1 * 60.0 + 1, 30.0)
        ids += [name] * t.size
        t_all.append((T0_S + t.astype(np.int64)) * S)
        lon.append(130.0 + 200.0 * t / 91_000.0)
        kt, ky = zip(*knots, strict=True)
        lat.append(35.0 + np.interp(t / 60.0, kt, ky) * 1000.0 / M_PER_DEG_LAT)
    n = sum(a.size for a in t_all)
    return Tracks.from_arrays(
        ids,
        np.concatenate(t_all),
        np.concatenate(lon),
        np.concatenate(lat),
        alt_m=np.full(n, 8000.0),
        attrs={"operator": [x[0] for x in ids]},
    )


def test_groups_renumbered_by_a_later_merge_are_republished_as_updated() -> None:
    """A, B fly together from 0; C, D together from 10 min, far away; E, F together from
    20 to 40 min; at 60 min C and D join A and B. The batch numbers the merged group 1 and
    E, F's group 2, which the tracker could only know after E, F's episode was final."""
    far = [(0.0, 40.0), (58.0, 40.0), (60.0, 3.0), (200.0, 3.0)]
    tracks = lanes(
        {
            "A": (0, 100, [(0.0, 0.0)]),
            "B": (0, 100, [(0.0, 2.0)]),
            "C": (10, 100, far),
            "D": (10, 100, [(k, y + 2.0) for k, y in far]),
            "E": (20, 40, [(0.0, 80.0)]),
            "F": (20, 40, [(0.0, 82.0)]),
        }
    )
    expected = batch_rows(tracks)
    ef = [r for r in expected if r["members"] == "E;F"]
    assert [r["group_id"] for r in ef] == [2]  # the batch's numbering, derived above
    events = replay(FormationTracker(), tracks, [12])
    assert_same_rows(expected, final_rows(events))
    ends = [e for e in events if e.type == "formation_end" and e.row["members"] == "E;F"]
    assert [(e.correction, e.row["group_id"]) for e in ends] == [("", 3), ("updated", 2)]


def test_a_group_open_longer_than_max_group_s_ends_as_window_full_and_state_is_bounded() -> None:
    tracks = lanes({"A": (0, 240, [(0.0, 0.0)]), "B": (0, 240, [(0.0, 2.0)])})
    tracker = FormationTracker(max_group_s=3600.0)
    order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
    events: list[StreamEvent] = []
    most = 0
    for part in np.array_split(order, 96):
        events += tracker.push(FixBatch.from_tracks(tracks, part))
        most = max(most, tracker.state_size()["window_fixes"])
    events += tracker.flush()
    full = [e for e in events if e.type == "formation_end" and e.closed_by == "window_full"]
    assert len(full) >= 2  # 4 h of flight, followed at most 1 h at a time
    assert [e.type for e in events].count("formation_start") == len(full) + 1
    # at most max_group_s plus the base window (< 30 min) of two tracks at 2 fixes a minute
    assert most <= 2 * 2 * (60 + 30) + 20


def test_idle_tracks_are_evicted_and_runs_follow_the_cadence() -> None:
    tracks = lanes(
        {
            "A": (0, 30, [(0.0, 0.0)]),
            "B": (0, 30, [(0.0, 2.0)]),
            "C": (0, 120, [(0.0, 50.0)]),
        }
    )
    tracker = FormationTracker(evict_after_s=600.0, every_s=60.0)
    order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
    for i in order.tolist():  # one fix at a time
        tracker.push(FixBatch.from_tracks(tracks, [i]))
    assert tracker.stats["runs"] <= 120 + 1  # one per minute of stream time at most
    assert tracker.state_size()["tracks"] == 1  # A and B silent for 90 min: forgotten
    assert tracker.open_groups == 0
    # a fix older than what C's window dropped cannot be used, and is counted
    tracker.push(FixBatch.from_tracks(tracks, [int(tracks.offsets[2])]))
    tracker.window_start_ns()  # per-track bookkeeping runs with the next run or a query
    assert tracker.stats["fixes_too_old"] == 1


def test_advance_ends_a_formation_whose_members_went_silent() -> None:
    tracks = lanes({"A": (0, 30, [(0.0, 0.0)]), "B": (0, 30, [(0.0, 2.0)])})
    tracker = FormationTracker(latency_s=60.0)
    events = tracker.push(FixBatch.from_tracks(tracks))
    assert [e.type for e in events] == ["formation_start"]
    assert tracker.advance((T0_S + 31 * 60) * S) == []  # the end is not settled yet
    events = tracker.advance((T0_S + 60 * 60) * S)
    assert [(e.type, e.row["end_time"]) for e in events] == [
        ("formation_end", batch_rows(tracks)[0]["end_time"])
    ]


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"max_sep_m": 0.0}, "max_sep_m"),
        ({"every_s": -1.0}, "every_s"),
        ({"max_group_s": math.inf}, "max_group_s"),
        ({"evict_after_s": 0.0}, "evict_after_s"),
    ],
)
def test_bad_parameters_are_refused(kw: dict[str, float], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        FormationTracker(**kw)


# --------------------------------------------------------------------------- the incident
def test_incident_joint_episode_is_announced_as_a_joint_chn_rus_formation(
    incident: Tracks, incident_events: list[StreamEvent]
) -> None:
    types = dict(zip(incident.track_ids.tolist(), incident.attr("type").tolist(), strict=True))
    # the batch detector: one joint episode, the two H-6K with the two Tu-95MS
    joint = [r for r in batch_rows(incident) if r["joint"]]
    assert len(joint) == 1
    row = joint[0]
    assert sorted(types[m] for m in row["members"].split(";")) == ["H-6K"] * 2 + ["Tu-95MS"] * 2
    # PROVENANCE.md: the H-6s "joined two Tu-95s at 08:33" KST, i.e. 23:33Z; the bombers
    # already flew in pairs, so the batch calls the four a merge of two formations
    reported = (T0_S - 27 * 60) * S  # 2019-07-22T23:33:00Z
    assert abs(row["start_time"] - reported) <= 120 * S
    assert row["start_change"] == "merged"
    found = [e for e in incident_events if e.type in START_TYPES and e.row["joint"]]
    assert len(found) == 1
    e = found[0]
    assert e.type == "formation_change"  # a new episode of the H-6K pair's group
    assert (e.time_ns, e.row["start_time"], e.row["members"]) == (
        row["start_time"],
        row["start_time"],
        row["members"],
    )
    assert e.row["operators"] == "CHN;RUS" and e.attrs["operator"] == "CHN;RUS"
    assert e.track_id == row["members"].split(";")[0] and e.zone_id == ""
    # found once the four stayed close for min_duration_s, within minutes
    min_duration = 300 * S
    assert row["start_time"] + min_duration <= e.row["detected_time"]
    assert e.row["detected_time"] <= row["start_time"] + min_duration + 5 * 60 * S
    # its fixes are the incident's own rows
    assert e.fix_ids and all(0 <= i < len(incident) for i in e.fix_ids)
    files = {p.rsplit(":", 1)[0] for p in e.row["source_rows"].split(";")}
    assert files == {str(INCIDENT / "tracks.csv")}


def test_joint_rule_fires_on_the_joint_episode_and_not_on_a_same_operator_pair(
    incident_events: list[StreamEvent],
) -> None:
    rules = parse_rules(
        {
            "rules": [
                {"name": "joint", "events": list(START_TYPES), "joint": True},
                {"name": "single", "events": list(START_TYPES), "joint": False},
            ]
        }
    )
    starts = [e for e in incident_events if e.type in START_TYPES]
    hits = {e.row["members"]: [r.name for r in match_rules(rules, e)] for e in starts}
    pair = "CHN-H6K-01;CHN-H6K-02"
    four = "CHN-H6K-01;CHN-H6K-02;RUS-TU95-01;RUS-TU95-02"
    assert hits[four] == ["joint"]
    assert hits[pair] == ["single"] and hits["RUS-TU95-01;RUS-TU95-02"] == ["single"]
    # the shipped rules: the critical joint-formation alert only for the four
    shipped = load_rules(example_rules_path())
    joint_rule = [r for r in shipped if r.name == "joint-formation"]
    assert [e.row["members"] for e in starts if match_rules(joint_rule, e)] == [four]
    rus_chn = [r for r in shipped if r.name == "formation-rus-chn"]
    assert all(match_rules(rus_chn, e) for e in starts)


# --------------------------------------------------------------------------- the service
def test_demo_replay_raises_the_joint_formation_alert(
    cfg: Callable[..., ServeConfig],
) -> None:
    """``patrolwatch serve --demo``, sped up: the page's alert list gets the joint
    formation at the time the batch detector gives for it."""
    incident, _, _ = pw.read_tracks(INCIDENT / "tracks.csv")
    row = next(r for r in batch_rows(incident) if r["joint"])
    config = cfg(
        rules=load_rules(example_rules_path()),
        demo=True,
        demo_speed=1500.0,
        clock="stream",
        public_read=True,
    )
    with serve(config) as run, run.client() as c:

        def joint_alerts() -> list[dict[str, Any]]:
            alerts = c.get("/api/alerts", params={"limit": 1000}).json()["alerts"]
            return [a for a in alerts if a["rule"] == "joint-formation"]

        alerts = wait_until(joint_alerts, timeout_s=60)
        a = alerts[0]
        assert a["severity"] == "critical" and a["event_type"] == "formation_change"
        assert a["time_ns"] == row["start_time"] and a["zone_id"] == ""
        assert "Joint formation of 4 (CHN+RUS)" in a["message"]
        assert "RUS-TU95-02" in a["message"] and "H-6K" in a["message"]
        ev = c.get(a["links"]["event"]).json()
        assert ev["event"]["row"]["members"] == row["members"]
        # the store finds it by time: its span is the episode's
        inside = row["start_time"] + 60 * S
        found = c.get(
            "/api/events",
            params={"from": inside, "to": inside, "type": "formation_change"},
        ).json()["events"]
        assert row["members"] in {e["row"]["members"] for e in found}


def incident_lines(tracks: Tracks, lo_ns: int, hi_ns: int, step_s: int = 120) -> list[bytes]:
    """The incident's fixes with ``lo_ns <= t < hi_ns``, in time order, as JSON-lines
    bodies of ``step_s`` of incident time each."""
    order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
    order = order[(tracks.t_ns[order] >= lo_ns) & (tracks.t_ns[order] < hi_ns)]
    tix = tracks.track_index
    bodies = []
    edges = np.arange(lo_ns, hi_ns + step_s * S, step_s * S)
    for a, b in itertools.pairwise(edges.tolist()):
        sel = order[(tracks.t_ns[order] >= a) & (tracks.t_ns[order] < b)]
        if sel.size:
            bodies.append(
                "\n".join(
                    json.dumps(
                        {
                            "track_id": str(tracks.track_ids[tix[i]]),
                            "t_ns": int(tracks.t_ns[i]),
                            "lat": float(tracks.lat_deg[i]),
                            "lon": float(tracks.lon_deg[i]),
                            "alt_m": float(tracks.alt_m[i]),
                            "operator": str(tracks.attr("operator")[tix[i]]),
                            "type": str(tracks.attr("type")[tix[i]]),
                        }
                    )
                    for i in sel.tolist()
                ).encode()
            )
    return bodies


def test_service_restart_rebuilds_the_tracker_and_ends_with_the_batch_rows(
    incident: Tracks, cfg: Callable[..., ServeConfig]
) -> None:
    """Stop the service after the joint formation was announced, start it again on the
    same store, send the rest: the stored final rows are the batch rows and no episode is
    announced twice (the restart replays what the tracker needs; what the replay
    publishes again is already stored)."""
    expected = batch_rows(incident)
    joint = next(r for r in expected if r["joint"])
    cut = joint["start_time"] + 20 * 60 * S  # 20 min into the joint episode
    first, last = int(incident.t_ns.min()), int(incident.t_ns.max()) + 1
    # a zone far away: the zone detector alone would replay only the newest fixes
    far = box_zones(("far", "adiz", 0.0, 0.0, 1.0, 1.0))
    config = cfg(zones=far, rules=load_rules(example_rules_path()), clock="stream")
    with serve(config) as run, run.client() as c:
        for body in incident_lines(incident, first, cut):
            assert c.post("/api/ingest", content=body).status_code == 200
        run.settle()
        before = c.get("/api/events", params={"limit": 10_000}).json()["events"]
        assert joint["members"] in {e["row"].get("members") for e in before}
    with serve(config) as run, run.client() as c:
        for body in incident_lines(incident, cut, last):
            assert c.post("/api/ingest", content=body).status_code == 200
        run.settle()
        events = c.get("/api/events", params={"limit": 10_000}).json()["events"]
        alerts = c.get("/api/alerts", params={"limit": 10_000}).json()["alerts"]
    ends = sorted(
        (e["row"] for e in events if e["type"] == "formation_end"),
        key=lambda r: (r["group_id"], r["episode"]),
    )
    # provenance names the service's deliveries ("http:http#batch:line"), not the file
    for r in [*expected, *ends]:
        r["source_rows"] = ""
    # a live service never flushes: episodes flying until the last fix are still open
    still_open = [r for r in expected if r["end_time"] > last - 15 * 60 * S]
    assert [r["start_change"] for r in still_open] == ["split", "split"]
    assert_same_rows([r for r in expected if r not in still_open], ends)
    assert [a["rule"] for a in alerts].count("joint-formation") == 1
    starts = [e for e in events if e["type"] in START_TYPES]
    assert len(starts) == len({e["id"] for e in starts}) == len(expected)
