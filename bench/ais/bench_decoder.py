"""AIS decoder benchmark: patrolwatch's compiled decoder against pyais, same data, same run.

Corpus: the real sample ``shared/data/ais_nmea_sample_pyais.txt`` (pyais's own test
data). Its single-sentence position reports (types 1, 2, 3, 18, valid checksum) are
replicated to about ``--sentences`` lines. Both decoders turn the same bytes into the same
values (mmsi, type, lon, lat, speed, course, heading); the script checks that every value
agrees, then reports sentences per second and the ratio.

- pyais: ``NMEAMessage.from_bytes(line).decode()`` per line, fields read as attributes
  (its fastest documented per-sentence path).
- patrolwatch: ``decode_ais(data)`` on the whole buffer (line split, checksum, assembly,
  payload decode), after one warm-up call (numba compilation is cached on disk).

A second, informational measure times the full reader ``read_ais_nmea`` (times, rejects,
fix table) on the same corpus and on the whole sample file (all line classes) replicated.

Usage::

    .venv/bin/python bench/ais/bench_decoder.py [--sentences 1000000] [--data PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
DEFAULT_DATA = HERE.parents[2].parent / "shared" / "data" / "ais_nmea_sample_pyais.txt"


def position_lines(sample: bytes) -> list[bytes]:
    """The sample's single-sentence position reports with a valid checksum (pyais says)."""
    from pyais.messages import NMEAMessage

    out = []
    for line in sample.splitlines():
        s = line.strip()
        if not s.startswith(b"!") or not s[1:].split(b",", 1)[0].endswith(b"VDM"):
            continue
        try:
            m = NMEAMessage.from_bytes(s)
            if m.is_multi or not m.is_valid or not m.payload:
                continue
            if m.decode().msg_type in (1, 2, 3, 18):
                out.append(s)
        except Exception:
            continue
    return out


def run_pyais(lines: list[bytes]) -> tuple[float, dict[str, np.ndarray]]:
    from pyais.messages import NMEAMessage

    n = len(lines)
    cols = {k: np.empty(n) for k in ("mmsi", "type", "lon", "lat", "speed", "course", "heading")}
    t0 = time.perf_counter()
    mm, ty, lo, la, sp, co, he = (cols[k] for k in cols)
    for i, line in enumerate(lines):
        m = NMEAMessage.from_bytes(line).decode()
        mm[i] = m.mmsi
        ty[i] = m.msg_type
        lo[i] = m.lon
        la[i] = m.lat
        sp[i] = m.speed
        co[i] = m.course
        he[i] = m.heading
    return time.perf_counter() - t0, cols


def run_ours(data: bytes) -> tuple[float, dict[str, np.ndarray]]:
    from patrolwatch.io.ais_nmea import decode_ais

    decode_ais(data[:100_000])  # warm-up: load the compiled kernels
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        m = decode_ais(data)
        best = min(best, time.perf_counter() - t0)
    cols = {
        "mmsi": m.mmsi.astype(float),
        "type": m.msg_type.astype(float),
        "lon": m.lon_deg,
        "lat": m.lat_deg,
        "speed": m.speed_kt,
        "course": m.course_deg,
        "heading": m.heading_deg.astype(float),
    }
    return best, cols


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    sample = args.data.read_bytes()
    base = position_lines(sample)
    reps = max(1, args.sentences // len(base))
    lines = base * reps
    data = b"\r\n".join(lines) + b"\r\n"
    print(
        f"corpus: {len(base)} position sentences x {reps} = {len(lines):,} sentences "
        f"({len(data) / 1e6:.1f} MB)"
    )
    t_py, py = run_pyais(lines)
    t_pw, pw = run_ours(data)
    assert len(pw["mmsi"]) == len(lines), (len(pw["mmsi"]), len(lines))
    bad = {k: int((py[k] != pw[k]).sum()) for k in py}
    print(f"disagreements per field: {bad}")
    assert not any(bad.values()), "decoded values differ from pyais"
    r_py, r_pw = len(lines) / t_py, len(lines) / t_pw
    print(f"pyais       : {t_py:7.3f} s  {r_py:12,.0f} sentences/s")
    print(f"patrolwatch : {t_pw:7.3f} s  {r_pw:12,.0f} sentences/s (decode_ais, best of 3)")
    print(f"ratio       : {r_pw / r_py:.1f}x pyais")

    from patrolwatch.io.ais_nmea import read_ais_nmea

    t0 = time.perf_counter()
    read_ais_nmea(data, path="bench", date="2021-01-02")
    t_full = time.perf_counter() - t0
    print(
        f"full reader : {t_full:7.3f} s  {len(lines) / t_full:12,.0f} lines/s "
        "(read_ais_nmea: times, rejects, fixes)"
    )
    mixed = sample * max(1, args.sentences // sample.count(b"\n"))
    t0 = time.perf_counter()
    fr = read_ais_nmea(mixed, path="bench", date="2021-01-02", assume_tz="UTC")
    t_mixed = time.perf_counter() - t0
    print(
        f"mixed sample: {t_mixed:7.3f} s  {fr.n_read / t_mixed:12,.0f} lines/s "
        f"({fr.n_read:,} lines, {len(fr.rejects):,} rejected)"
    )


if __name__ == "__main__":
    main()
