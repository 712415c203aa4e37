"""HTTP deliveries (JSON lines, CSV): the columnar (Arrow) path gives exactly what the
per-line decoder gives, and falls back to it for anything the per-line decoder would
reject, so every bad line keeps its line number and reason."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patrolwatch.serve.decode import COLUMNAR_MIN_LINES, Decoded, decode_csv, decode_json_lines

T0 = dt.datetime(2019, 7, 23, tzinfo=dt.UTC)


def _same(a: Decoded, b: Decoded) -> None:
    fa, fb = a.fix_batch("s"), b.fix_batch("s")
    assert fa.track_id.tolist() == fb.track_id.tolist()
    assert fa.t_ns.tolist() == fb.t_ns.tolist()
    assert fa.line.tolist() == fb.line.tolist()
    for name in ("lon_deg", "lat_deg", "alt_m", "speed_mps", "heading_deg"):
        np.testing.assert_array_equal(getattr(fa, name), getattr(fb, name), err_msg=name)
    for key in ("operator", "type", "callsign", "source_kind"):
        assert fa.attrs[key].tolist() == fb.attrs[key].tolist(), key
    assert [(r.line, r.reason) for r in a.rejects] == [(r.line, r.reason) for r in b.rejects]
    assert (a.n_read, a.n_other) == (b.n_read, b.n_other)


TIME_FORMS = {
    "utc": st.integers(0, 86_400_000).map(
        lambda ms: (T0 + dt.timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")
    ),
    "offset": st.integers(0, 86_400).map(
        lambda s: (
            (T0 + dt.timedelta(seconds=s))
            .astimezone(dt.timezone(dt.timedelta(hours=9)))
            .isoformat()
        )
    ),
    "epoch": st.floats(1.5e9, 1.6e9),
}


@st.composite
def deliveries(draw: Any, n_min: int = COLUMNAR_MIN_LINES) -> tuple[str, list[dict[str, Any]]]:
    """Records of one time form and one id type (a feed writes them one way)."""
    form = draw(st.sampled_from(sorted(TIME_FORMS)))
    ids = draw(st.sampled_from([["A", "B7", "ca-1"], [42, 7]]))  # text or numbers (MMSI)
    record = st.fixed_dictionaries(
        {
            "track_id": st.sampled_from(ids),
            "time": TIME_FORMS[form],
            "lat": st.floats(-90, 90),
            "lon": st.floats(-180, 180),
            "alt_m": st.one_of(st.none(), st.floats(-100, 15_000)),
            "operator": st.sampled_from(["", "CHN", "RUS", None]),
        }
    )
    return form, draw(st.lists(record, min_size=n_min, max_size=n_min + 40))


bad = st.sampled_from(
    [
        {"track_id": "X", "time": "2019-07-23T00:00:00", "lat": 1.0, "lon": 2.0},  # naive
        {"track_id": "X", "time": "2019-07-23T00:00:00Z", "lat": 91.0, "lon": 2.0},
        {"track_id": "", "time": "2019-07-23T00:00:00Z", "lat": 1.0, "lon": 2.0},
        {"track_id": "X", "time": "2019-07-23T00:00:00Z", "lat": "n", "lon": 2.0},
        {"track_id": "X", "lat": 1.0, "lon": 2.0},
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(delivery=deliveries(), broken=st.lists(st.tuples(st.integers(0, 200), bad), max_size=2))
def test_json_lines_columnar_equals_per_line(
    delivery: tuple[str, list[dict[str, Any]]], broken: list[tuple[int, dict[str, Any]]]
) -> None:
    _, rows = delivery
    for at, obj in broken:
        rows.insert(at % (len(rows) + 1), obj)
    body = "\n".join(json.dumps(r) for r in rows).encode() + b"\n"
    fast = decode_json_lines(body)
    _same(fast, decode_json_lines(body, columnar=False))
    if not broken:  # a clean delivery is read by Arrow
        assert fast.columns is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(delivery=deliveries(), spaces=st.booleans())
def test_csv_columnar_equals_per_line(
    delivery: tuple[str, list[dict[str, Any]]], spaces: bool
) -> None:
    form, rows = delivery

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return repr(v)
        return str(v)

    cols = ("track_id", "time", "lat", "lon", "alt_m", "operator")
    lines = [",".join(cell(r[k]) for k in cols) for r in rows]
    if spaces:
        lines[len(lines) // 2] = " " + lines[len(lines) // 2]
    body = (",".join(cols) + "\n" + "\n".join(lines) + "\n").encode()
    fast = decode_csv(body)
    _same(fast, decode_csv(body, columnar=False))
    if form != "epoch" and not spaces:  # epoch seconds as text are parsed line by line
        assert fast.columns is not None


def test_clean_delivery_takes_the_columnar_path_with_exact_values() -> None:
    n = 100
    body = "\n".join(
        json.dumps(
            {
                "track_id": f"T{i % 7}",
                "time": f"2019-07-23T00:{i // 60:02d}:{i % 60:02d}.250+09:00",
                "lat": 37.0 + i / 1000,
                "lon": 131.0,
                "speed_mps": 200,
            }
        )
        for i in range(n)
    ).encode()
    out = decode_json_lines(body)
    assert out.columns is not None and not out.rejects
    f = out.fix_batch("http")
    # 00:00:00.250 at +09:00 is 2019-07-22T15:00:00.25Z: 1563807600 s after the epoch
    # (18,099 days * 86,400 s + 15 h), by hand
    assert 18_099 * 86_400 + 15 * 3600 == 1_563_807_600
    assert f.t_ns[0] == 1_563_807_600 * 10**9 + 250_000_000
    assert f.t_ns[99] - f.t_ns[0] == 99 * 10**9  # 00:01:39.250
    assert f.line.tolist() == list(range(1, n + 1))
    assert math.isnan(f.alt_m[0]) and f.speed_mps[0] == 200.0
    assert f.track_id[8] == "T1"
