"""Acceptance: the catalog reproduces the territorial visits of the 2019-07-23 incident.

``expected.json`` (shared data, computed by an independent reference implementation with
the rule "12 NM from land/islets of the claimant set; 3 NM in the administering state's
straits areas") lists every territorial visit a tool must report with ``--catalog nea``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import patrolwatch as pw
from patrolwatch.catalog import Catalog

INCIDENT = "incidents/2019-07-23-sea-of-japan"


def _same(got: pd.Timestamp, want: str | None, tol: pd.Timedelta) -> bool:
    """A reported time (NaT when open) against an expected one (None when open)."""
    if want is None:
        return bool(pd.isna(got))
    return not pd.isna(got) and abs(got - pd.Timestamp(want)) <= tol


def test_incident_territorial_visits_match_expected(shared_data_dir: Path, nea: Catalog) -> None:
    folder = shared_data_dir / INCIDENT
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))["catalog"]
    read = pw.read_tracks(folder / "tracks.csv")
    tracks = read.tracks
    events = pw.crossings(tracks, nea.zones).to_pandas()
    got = events[events["zone_kind"] == "territorial"]
    rows = [
        (r.track_id, frozenset(r.claimants.split(";")), r.entry_time, r.exit_time)
        for r in got.itertuples()
    ]
    assert len(rows) == len(expected["territorial_visits"])
    for visit in expected["territorial_visits"]:
        want = (visit["track_id"], frozenset(visit["claimants"]))
        tol = pd.Timedelta(seconds=visit["tolerance_s"])
        matches = [
            r
            for r in rows
            if r[:2] == want
            and _same(r[2], visit["entry_time"], tol)
            and _same(r[3], visit["exit_time"], tol)
        ]
        assert len(matches) == 1, visit
    assert not set(got["track_id"]) & set(expected["no_territorial"])
