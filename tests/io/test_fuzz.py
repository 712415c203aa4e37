"""Random bytes and random edits of real lines: only patrolwatch errors, and accounting.

Every reader is fed through ``read_tracks`` (format inference included) and directly by
format; whatever comes back must satisfy ``rows_read == rows_used + rows_rejected``, and
anything raised must be a :class:`~patrolwatch.PatrolwatchError`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import patrolwatch as pw
from patrolwatch.errors import PatrolwatchError

SHARED_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"

FILES = {
    "nmea": "ais_nmea_sample_pyais.txt",
    "dma": "ais_dma_sample.csv",
    "gpx": "gpx_track_sample.gpx",
    "readsb": "readsb_trace_sample.json",
}


def _lines(name: str, n: int = 60) -> list[bytes]:
    p = SHARED_DATA_DIR / name
    if not p.exists():
        return [b"x"]
    return p.read_bytes().splitlines(keepends=True)[:n]


SEEDS = {k: _lines(v) for k, v in FILES.items()}


def check(path: Path, **kw: object) -> None:
    try:
        _tracks, rejects, rep = pw.read_tracks(path, **kw)  # type: ignore[arg-type]
    except PatrolwatchError:
        return
    assert rep.rows_read == rep.rows_used + rep.rows_rejected
    assert len(rejects) == rep.rows_rejected


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "r.bin"
    p.write_bytes(data)
    check(p, assume_tz="UTC", date="2021-01-02")
    check(p, format="nmea", date="2021-01-02", clean=True)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(sorted(FILES)),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    st.integers(0, 3000),
)
def test_random_edits_of_real_lines(
    tmp_path: Path, fmt: str, edits: list[tuple[int, int]], cut: int
) -> None:
    if not (SHARED_DATA_DIR / FILES[fmt]).exists():
        pytest.skip("shared data absent")
    data = bytearray(
        b"".join(SEEDS[fmt])
        if fmt != "readsb"
        else (SHARED_DATA_DIR / FILES[fmt]).read_bytes()[:3000]
    )
    for pos, byte in edits:
        if data:
            data[pos % len(data)] = byte
    data = data[: max(cut, len(data) // 2)]
    p = tmp_path / f"e.{fmt}"
    p.write_bytes(bytes(data))
    check(p, assume_tz="UTC", date="2021-01-02")
    check(p, assume_tz="UTC", date="2021-01-02", clean=True)
