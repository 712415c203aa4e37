"""Identity cleaning on hand-made tracks whose right answer is stated in each test."""

from __future__ import annotations

import numpy as np

from patrolwatch.io._clean import clean_fixes
from patrolwatch.io._fixes import CLASS_AIRCRAFT, CLASS_SHIP, FixTable

S = 10**9


def ship(ids: list[str], t_s: list[float], lon: list[float], lat: list[float]) -> FixTable:
    return FixTable.build(
        ids,
        (np.asarray(t_s) * S).astype(np.int64),
        lon,
        lat,
        np.arange(2, 2 + len(ids)),
        vclass=CLASS_SHIP,
    )


def test_silence_over_six_hours_splits_a_ship() -> None:
    fx = ship(
        ["m"] * 4,
        [0, 3600, 3600 + 6 * 3600 + 1, 3600 + 6 * 3600 + 61],
        [1.0, 1.01, 1.02, 1.021],
        [0.0] * 4,
    )
    res = clean_fixes(fx)
    assert res.fixes.track_id.tolist() == ["m", "m", "m#2", "m#2"]
    assert res.fixes.attrs["id_flag"].tolist() == ["", "", "gap", "gap"]


def test_one_fix_spike_is_implied_speed() -> None:
    # 1 minute steps of ~1 km (~16 m/s); the third fix is 1 degree away (111 km in 60 s)
    fx = ship(["m"] * 5, [0, 60, 120, 180, 240], [1.0, 1.01, 2.0, 1.03, 1.04], [0.0] * 5)
    res = clean_fixes(fx)
    assert res.reason == ["implied_speed"]
    assert fx.src_line[res.rejected].tolist() == [4]


def test_duplicates_rejected_with_original_line() -> None:
    fx = ship(["m"] * 3, [0, 0, 60], [1.0, 1.0, 1.01], [0.0] * 3)
    res = clean_fixes(fx)
    assert res.reason == ["duplicate"] and "line 2" in res.message[0]


def test_two_ships_sharing_an_mmsi_are_kept_apart() -> None:
    # two vessels 5 degrees (~555 km) apart report in turn every 30 s for 10 minutes
    t = np.arange(20) * 30.0
    lon = np.where(np.arange(20) % 2 == 0, 10.0, 15.0) + np.arange(20) * 1e-4
    fx = ship(["m"] * 20, t.tolist(), lon.tolist(), [0.0] * 20)
    res = clean_fixes(fx)
    assert sorted(set(res.fixes.track_id.tolist())) == ["m", "m#2"]
    assert set(res.fixes.attrs["id_flag"].tolist()) == {"shared_id"}
    assert any("two vehicles" in n for n in res.notes)
    rej = clean_fixes(fx, shared_ids="reject")
    assert rej.reason == ["shared_id"] * 20 and len(rej.fixes) == 0


def test_reused_id_after_a_jump_is_split() -> None:
    # an aircraft over France, then the same id 8,000 km away 10 minutes later
    t = [0, 10, 20, 30, 600, 610, 620, 630]
    lon = [2.0, 2.01, 2.02, 2.03, 100.0, 100.01, 100.02, 100.03]
    fx = FixTable.build(
        ["a"] * 8, np.asarray(t) * S, lon, [48.0] * 8, np.arange(8), vclass=CLASS_AIRCRAFT
    )
    res = clean_fixes(fx)
    assert res.fixes.track_id.tolist() == ["a"] * 4 + ["a#2"] * 4
    assert res.fixes.attrs["id_flag"][-1] == "jump"
