"""Property: however the input is split into files, the dask engine gives the events of
the single-machine engine on the same files, exactly.

Hypothesis draws a scene (tracks and zones from ``tests/strategies.py``: antimeridian,
high latitudes, single-fix tracks, duplicate times) and a partitioning of its fixes into
files: one file, by time, by track, random sizes, or many (a file per fix, at most 40),
each file CSV or Parquet, files in a drawn order; and a number of engine partitions (1 to
6). Events are compared exactly, ``source_rows`` included (it names the files), and the
events without ``source_rows`` must not depend on the partitioning at all (when no track
has two fixes at one time, whose order is the input's).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import patrolwatch as pw
from patrolwatch import scale
from strategies import Scene, scenes

from .conftest import assert_same_events, write_rows

MODES = ("one", "by_time", "by_track", "random_sizes", "many")


@st.composite
def partitionings(draw: st.DrawFn) -> tuple[Scene, str, list[int], list[str], int]:
    """(scene, mode, file number of each fix, format of each file, engine partitions)."""
    scene = draw(scenes(max_tracks=4, max_fixes=8, duplicate_times=True))
    tr = scene.tracks
    n = len(tr)
    mode = draw(st.sampled_from(MODES))
    if mode == "one":
        key = np.zeros(n, dtype=np.int64)
    elif mode == "by_time":
        fractions = draw(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4))
        cuts = np.quantile(tr.t_ns.astype(np.float64), sorted(fractions))
        key = np.searchsorted(cuts, tr.t_ns.astype(np.float64)).astype(np.int64)
    elif mode == "by_track":
        key = tr.track_index.copy()
    elif mode == "random_sizes":
        key = np.asarray(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), np.int64)
    else:
        key = np.minimum(np.arange(n), 39)
    # files in a drawn order (file order decides which duplicate is kept, as on one machine)
    files = np.unique(key)
    perm = draw(st.permutations(files.tolist()))
    key = np.asarray(perm, dtype=np.int64)[np.searchsorted(files, key)]
    fmts = [draw(st.sampled_from(["csv", "parquet"])) for _ in range(int(key.max()) + 1)]
    n_partitions = draw(st.integers(1, 6))
    return scene, mode, key.tolist(), fmts, n_partitions


def _write(folder: Path, scene: Scene, key: list[int], fmts: list[str]) -> list[str]:
    tr = scene.tracks
    fixes = {
        "track_id": tr.track_ids[tr.track_index],
        "t_ns": tr.t_ns,
        "lon_deg": tr.lon_deg,
        "lat_deg": tr.lat_deg,
        "alt_m": np.where(np.isnan(tr.alt_m), 5000.0, tr.alt_m),
        "operator": np.full(len(tr), "", dtype=object),
    }
    k = np.asarray(key)
    paths = [
        write_rows(folder / f"f{f:02d}", fixes, np.flatnonzero(k == f), fmts[f])
        for f in np.unique(k).tolist()
    ]
    return [str(p) for p in paths]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=partitionings())
def test_events_equal_single_machine_for_any_partitioning(
    client: object, case: tuple[Scene, str, list[int], list[str], int]
) -> None:
    scene, _mode, key, fmts, n_partitions = case
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write(Path(tmp), scene, key, fmts)
        want_read = pw.read_tracks(paths, max_speed_mps=400.0)
        want = pw.crossings(want_read.tracks, scene.zones, near_m=20_000.0, max_speed_mps=400.0)
        got_read = scale.read_tracks(
            paths, client=client, n_partitions=n_partitions, max_speed_mps=400.0
        )
        assert got_read.rejects == want_read.rejects
        assert got_read.report == want_read.report
        got = scale.crossings(
            got_read.tracks, scene.zones, near_m=20_000.0, max_speed_mps=400.0
        ).compute()
        assert_same_events(got, want)
        # without provenance, the events of one file on one machine; unless a track has
        # two fixes at one time: their order is then the input order, which the split
        # changes (and so may be the events, on either engine)
        tix = scene.tracks.track_index
        if ((np.diff(scene.tracks.t_ns) == 0) & (np.diff(tix) == 0)).any():
            return
        one = _write(Path(tmp) / "one", scene, [0] * len(key), ["parquet"])
        ref = pw.crossings(
            pw.read_tracks(one, max_speed_mps=400.0).tracks,
            scene.zones,
            near_m=20_000.0,
            max_speed_mps=400.0,
        )
        drop = ["source_rows"]
        assert_same_events(
            pw.Events(got.to_arrow().drop_columns(drop)),
            pw.Events(ref.to_arrow().drop_columns(drop)),
        )
