"""Visit-for-visit comparison of patrolwatch with PyMEOS, MovingPandas and traffic.

Rules (documented in bench/README.md, "Correctness"):

patrolwatch vs PyMEOS (all tracks)
    Polygons (edges straight in lon/lat): visits pair one to one per (zone, track), in time
    order; entry and exit must agree within ``TOL_NS`` (1 ms). patrolwatch moves along the
    WGS84 geodesic between fixes, PyMEOS along the straight lon/lat segment: each paired
    crossing's difference is also *predicted* from the offset between the two paths at
    patrolwatch's crossing (a first-order step along the straight segment to the crossed
    edge); a difference over 1 ms is explained only if the prediction matches it within
    ``PRED_TOL_NS``.
    12 NM circles: patrolwatch uses the exact geodesic circle, PyMEOS the inscribed
    polygon of ``CIRCLE_VERTICES`` vertices, which lies in the ring between the apothem
    ``a = r cos(pi/N)`` and ``r``. A pair agrees when PyMEOS's visit lies within
    patrolwatch's (up to ``TOL_NS``) and each PyMEOS crossing point (on the straight
    segment) is at a geodesic distance from the centre in ``[a - RING_TOL_M, r +
    RING_TOL_M]``. A patrolwatch visit without a PyMEOS visit is explained when its
    closest approach is ``>= a - RING_TOL_M`` (it never got inside the apothem); one
    PyMEOS visit split in two is explained when the track at the gap is in the ring.
MovingPandas, traffic (subsample)
    Their answers are predicted from PyMEOS's visits (same polygons, same planar straight
    segments) by each tool's documented rules, and compared with what they returned:
    MovingPandas: times truncated to the µs; a crossing within 10 ms of a fix reported at
    that fix (``is_equal``); ranges that touch or are within 10 ms merged
    (``_dissolve_ranges``); point touches (zero-length intersections) dropped.
    traffic: ``Flight.between(entry, exit, strict=True)``: the visit is the fixes strictly
    between the interpolated entry and exit; a visit without such a fix is dropped.
    A difference from patrolwatch is explained when the tool matches its prediction and
    the corresponding PyMEOS visits are explained against patrolwatch.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import workload as wl
from peers import Visits
from pyproj import Geod

TOL_NS = 1_000_000  # 1 ms
PRED_TOL_NS = 20_000  # 20 µs: MEOS µs rounding + second-order terms of the prediction
RING_TOL_M = 0.10  # > largest geodesic/straight-segment offset on this data (see report)
MP_SNAP_NS = 10_000_000  # MovingPandas is_equal(): 10 ms
GEOD = Geod(ellps="WGS84")
KEY_SHIFT = 2**48  # track * 2**48 + (t - T0): fits int64 for < 32k tracks, < 3.2 days


# ------------------------------------------------------------------ path positions
class Paths:
    """Positions of the workload's tracks at given times (lon/lat straight segments)."""

    def __init__(self, w: wl.Workload) -> None:
        assert w.track.max() < 32_000 and (w.t_ns.max() - wl.T0_NS) < KEY_SHIFT
        self.w = w
        self.key = w.track * KEY_SHIFT + (w.t_ns - wl.T0_NS)

    def bracket(self, track: np.ndarray, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the fixes at or before / after ``t`` in the same track."""
        k = track * KEY_SHIFT + (t_ns - wl.T0_NS)
        hi = np.searchsorted(self.key, k, side="left")
        hi = np.minimum(hi, self.w.n - 1)
        exact = self.key[hi] == k
        lo = np.where(exact, hi, np.maximum(hi - 1, 0))
        return lo, hi

    def chord_point(self, track: np.ndarray, t_ns: np.ndarray) -> tuple[np.ndarray, ...]:
        lo, hi = self.bracket(track, t_ns)
        w = self.w
        dt = (w.t_ns[hi] - w.t_ns[lo]).astype(float)
        f = np.where(dt > 0, (t_ns - w.t_ns[lo]) / np.where(dt > 0, dt, 1.0), 0.0)
        lon = w.lon_deg[lo] + f * (w.lon_deg[hi] - w.lon_deg[lo])
        lat = w.lat_deg[lo] + f * (w.lat_deg[hi] - w.lat_deg[lo])
        return lon, lat, lo, hi

    def fixes_strictly_between(
        self, track: np.ndarray, t0: np.ndarray, t1: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """First and last fix time with t0 < t < t1 (-1 when none)."""
        k0 = track * KEY_SHIFT + (t0 - wl.T0_NS)
        k1 = track * KEY_SHIFT + (t1 - wl.T0_NS)
        a = np.searchsorted(self.key, k0, side="right")
        b = np.searchsorted(self.key, k1, side="left") - 1
        ok = b >= a
        first = np.where(ok, self.w.t_ns[np.minimum(a, self.w.n - 1)], -1)
        last = np.where(ok, self.w.t_ns[np.maximum(b, 0)], -1)
        return first, last


def geodesic_chord_offsets(w: wl.Workload) -> dict[str, float]:
    """Distance between the geodesic and the straight lon/lat segment at mid-segment (m),
    over every segment of the workload."""
    same = w.track[1:] == w.track[:-1]
    a = np.flatnonzero(same)
    lon1, lat1, lon2, lat2 = w.lon_deg[a], w.lat_deg[a], w.lon_deg[a + 1], w.lat_deg[a + 1]
    az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    glon, glat, _ = GEOD.fwd(lon1, lat1, az, dist / 2)
    _, _, off = GEOD.inv(glon, glat, 0.5 * (lon1 + lon2), 0.5 * (lat1 + lat2))
    return {
        "segments": int(a.size),
        "median_m": float(np.median(off)),
        "p99_m": float(np.percentile(off, 99)),
        "max_m": float(off.max()),
        "segment_len_median_m": float(np.median(dist)),
    }


# ------------------------------------------------------------------ results
@dataclass
class Report:
    name: str
    compared: int = 0  # visits of patrolwatch in the compared tracks
    agree: int = 0
    explained: dict[str, int] = field(default_factory=dict)
    unexplained: dict[str, int] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def add(self, bucket: dict[str, int], reason: str, n: int = 1) -> None:
        bucket[reason] = bucket.get(reason, 0) + n

    @property
    def n_explained(self) -> int:
        return sum(self.explained.values())

    @property
    def n_unexplained(self) -> int:
        return sum(self.unexplained.values())


def _groups(v: Visits) -> dict[tuple[int, int], np.ndarray]:
    """(zone, track) -> indices of its visits in time order (v is sorted so)."""
    if len(v) == 0:
        return {}
    key = v.zone * 1_000_000 + v.track
    brk = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(brk)
    ends = np.r_[starts[1:], key.size]
    return {
        (int(v.zone[s]), int(v.track[s])): np.arange(s, e)
        for s, e in zip(starts, ends, strict=True)
    }


def _overlap_pairs(a0, a1, b0, b1, slack):  # type: ignore[no-untyped-def]
    """For each a, the list of b overlapping it (with slack)."""
    return [
        [j for j in range(len(b0)) if b0[j] <= a1[i] + slack and b1[j] >= a0[i] - slack]
        for i in range(len(a0))
    ]


# ------------------------------------------------------------------ patrolwatch vs PyMEOS
def pw_vs_pymeos(
    pw_df: pd.DataFrame,
    meos: Visits,
    w: wl.Workload,
    zones: list[wl.ZoneSpec],
    rings: list[np.ndarray],
) -> tuple[Report, dict]:
    """Returns the report and, per (zone, track) group, whether it is fully explained."""
    rep = Report("patrolwatch vs PyMEOS")
    paths = Paths(w)
    r = wl.CIRCLE_RADIUS_M
    apothem = r * np.cos(np.pi / wl.CIRCLE_VERTICES)
    pw_v = Visits.of(pw_df["track"], pw_df["zone"], pw_df["t0_ns"], pw_df["t1_ns"])
    # pw_df is sorted like Visits.of (zone, track, t0)
    pw_rows = pw_df.sort_values(["zone", "track", "t0_ns"]).reset_index(drop=True)
    g_pw, g_me = _groups(pw_v), _groups(meos)
    rep.compared = len(pw_v)
    group_ok: dict[tuple[int, int], bool] = {}
    poly_d: list[float] = []  # observed ms differences, polygons
    poly_pred_err: list[float] = []
    circ_d: list[float] = []
    ring_d: list[float] = []
    # entry/exit crossings to check in bulk
    chk_poly: list[tuple] = []  # (zone, track, t_pw, t_me, lon_pw, lat_pw)
    chk_circ: list[tuple] = []  # (zone, track, t_me)
    for key in sorted(set(g_pw) | set(g_me)):
        z, k = key
        ip = g_pw.get(key, np.zeros(0, int))
        im = g_me.get(key, np.zeros(0, int))
        ok = True
        if zones[z].kind == "adiz":
            if ip.size != im.size:
                ok = False
                rep.add(rep.unexplained, "polygon: visit count differs", abs(ip.size - im.size))
                rep.examples.append(
                    f"zone {zones[z].id} track {w.track_ids[k]}: "
                    f"patrolwatch {ip.size} visits, PyMEOS {im.size}"
                )
            else:
                for a, b in zip(ip, im, strict=True):
                    row = pw_rows.iloc[a]
                    for end, null in (("entry", row["entry_null"]), ("exit", row["exit_null"])):
                        t_pw = int(row["t0_ns"] if end == "entry" else row["t1_ns"])
                        t_me = int(meos.t0_ns[b] if end == "entry" else meos.t1_ns[b])
                        if null:  # track starts/ends inside: both report the fix
                            poly_d.append((t_me - t_pw) / 1e6)
                            if abs(t_me - t_pw) > TOL_NS:
                                ok = False
                                rep.add(rep.unexplained, f"polygon: {end} at track end differs")
                            continue
                        chk_poly.append(
                            (
                                z,
                                k,
                                t_pw,
                                t_me,
                                float(row[f"{end}_lon"]),
                                float(row[f"{end}_lat"]),
                                key,
                            )
                        )
            group_ok[key] = ok
            continue
        # ---- circles
        pairs = _overlap_pairs(
            pw_v.t0_ns[ip], pw_v.t1_ns[ip], meos.t0_ns[im], meos.t1_ns[im], TOL_NS
        )
        used = set()
        for n_a, a in enumerate(ip):
            row = pw_rows.iloc[a]
            js = pairs[n_a]
            used.update(js)
            if not js:
                if row["closest_m"] >= apothem - RING_TOL_M:
                    rep.add(
                        rep.explained,
                        "circle: grazing visit outside the inscribed "
                        "polygon (closest approach in the ring)",
                    )
                else:
                    ok = False
                    rep.add(rep.unexplained, "circle: visit missing in PyMEOS")
                continue
            if len(js) > 1:
                # split: the gaps must lie in the ring
                gaps_mid = [
                    (int(meos.t1_ns[im[j]]) + int(meos.t0_ns[im[j2]])) // 2
                    for j, j2 in itertools.pairwise(js)
                ]
                lon, lat, _, _ = paths.chord_point(
                    np.full(len(gaps_mid), k), np.asarray(gaps_mid, np.int64)
                )
                c = zones[z].center
                _, _, d = GEOD.inv(np.full(lon.size, c[0]), np.full(lon.size, c[1]), lon, lat)
                if np.all(d >= apothem - RING_TOL_M):
                    rep.add(
                        rep.explained,
                        "circle: PyMEOS splits one visit where the path "
                        "runs in the ring between polygon and circle",
                    )
                else:
                    ok = False
                    rep.add(rep.unexplained, "circle: split visit not in the ring")
                continue
            b = im[js[0]]
            for end, null in (("entry", row["entry_null"]), ("exit", row["exit_null"])):
                t_pw = int(row["t0_ns"] if end == "entry" else row["t1_ns"])
                t_me = int(meos.t0_ns[b] if end == "entry" else meos.t1_ns[b])
                inside = (t_me >= t_pw - TOL_NS) if end == "entry" else (t_me <= t_pw + TOL_NS)
                circ_d.append((t_me - t_pw) / 1e6)
                if not inside:
                    ok = False
                    rep.add(rep.unexplained, f"circle: PyMEOS {end} outside patrolwatch's visit")
                if null:
                    if abs(t_me - t_pw) > TOL_NS:
                        ok = False
                        rep.add(rep.unexplained, f"circle: {end} at track end differs")
                    continue
                chk_circ.append((z, k, t_me, key))
        for j in range(im.size):
            if j not in used:
                ok = False
                rep.add(rep.unexplained, "circle: PyMEOS visit outside every patrolwatch visit")
        group_ok[key] = ok

    # ---- polygon crossings: observed difference and prediction from the path offset
    n_exact = 0
    if chk_poly:
        z, k, t_pw, t_me, plon, plat, keys = (
            np.asarray(c) if i < 6 else list(c) for i, c in enumerate(zip(*chk_poly, strict=True))
        )
        z, k = z.astype(int), k.astype(int)
        t_pw, t_me = t_pw.astype(np.int64), t_me.astype(np.int64)
        clon, clat, lo, hi = paths.chord_point(k, t_pw)
        # edge of the zone nearest to patrolwatch's crossing point (lon/lat plane)
        pred = np.full(z.size, np.nan)
        for zi in np.unique(z):
            ring = rings[zi]
            ax, ay, bx, by = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
            s = np.flatnonzero(z == zi)
            ex, ey = bx - ax, by - ay
            px, py = plon[s, None] - ax, plat[s, None] - ay
            u = np.clip((px * ex + py * ey) / (ex * ex + ey * ey), 0, 1)
            dd = np.hypot(px - u * ex, py - u * ey)
            e = np.argmin(dd, axis=1)
            nx, ny = -ey[e], ex[e]  # edge normal (unnormalised)
            # signed distance (x normal) of the straight-segment point at t_pw from the edge
            s_chord = (clon[s] - ax[e]) * nx + (clat[s] - ay[e]) * ny
            w_ = paths.w
            vx = (w_.lon_deg[hi[s]] - w_.lon_deg[lo[s]]) / np.maximum(
                (w_.t_ns[hi[s]] - w_.t_ns[lo[s]]), 1
            )
            vy = (w_.lat_deg[hi[s]] - w_.lat_deg[lo[s]]) / np.maximum(
                (w_.t_ns[hi[s]] - w_.t_ns[lo[s]]), 1
            )
            rate = vx * nx + vy * ny  # d(signed distance)/d(ns) along the straight segment
            pred[s] = -s_chord / rate
        diff = (t_me - t_pw).astype(float)
        poly_d.extend((diff / 1e6).tolist())
        err = np.abs(diff - pred)
        poly_pred_err = (err / 1e6).tolist()
        for i in range(z.size):
            if abs(diff[i]) <= TOL_NS:
                n_exact += 1
                continue
            if err[i] <= PRED_TOL_NS:
                rep.add(
                    rep.explained,
                    "polygon: crossing over 1 ms apart, equal to the "
                    "geodesic-vs-straight-segment shift predicted at the crossing",
                )
            else:
                group_ok[keys[i]] = False
                rep.add(rep.unexplained, "polygon: crossing time differs > 1 ms, not explained")
                rep.examples.append(
                    f"zone {zones[z[i]].id} track {w.track_ids[k[i]]}: "
                    f"Δt {diff[i] / 1e6:.3f} ms, predicted {pred[i] / 1e6:.3f}"
                )
    # ---- circle crossings: PyMEOS's crossing point must be in the ring
    if chk_circ:
        z, k, t_me, keys = (
            np.asarray(c) if i < 3 else list(c) for i, c in enumerate(zip(*chk_circ, strict=True))
        )
        z, k, t_me = z.astype(int), k.astype(int), t_me.astype(np.int64)
        lon, lat, _, _ = paths.chord_point(k, t_me)
        cx = np.asarray([zones[i].center[0] for i in z])
        cy = np.asarray([zones[i].center[1] for i in z])
        _, _, d = GEOD.inv(cx, cy, lon, lat)
        ring_d = d.tolist()
        bad = (d < apothem - RING_TOL_M) | (d > r + RING_TOL_M)
        for i in np.flatnonzero(bad):
            group_ok[keys[i]] = False
            rep.add(rep.unexplained, "circle: PyMEOS crossing point outside the ring")
    # visits fully agreeing: every group that is ok and pairs 1:1
    n_agree = 0
    for key, ok in group_ok.items():
        ip = g_pw.get(key, np.zeros(0, int))
        im = g_me.get(key, np.zeros(0, int))
        if ok and ip.size == im.size:
            n_agree += ip.size
    rep.agree = n_agree
    pd_ = np.abs(np.asarray(poly_d)) * 1000 if poly_d else np.zeros(1)
    cd_ = np.abs(np.asarray(circ_d)) if circ_d else np.zeros(1)
    pe_ = np.asarray(poly_pred_err) * 1000 if poly_pred_err else np.zeros(1)
    rd_ = np.asarray(ring_d) if ring_d else np.full(1, np.nan)
    rep.stats = {
        "polygon crossings compared": float(len(poly_d)),
        "polygon |Δt| median (µs)": float(np.median(pd_)),
        "polygon |Δt| p99 (µs)": float(np.percentile(pd_, 99)),
        "polygon |Δt| max (µs)": float(pd_.max()),
        "polygon crossings > 1 ms": float(np.sum(pd_ > 1000)),
        "polygon |Δt - predicted| max (µs)": float(pe_.max()),
        "circle crossings compared": float(len(circ_d)),
        "circle |Δt| median (ms)": float(np.median(cd_)),
        "circle |Δt| max (ms)": float(cd_.max()),
        "circle PyMEOS crossing distance from centre min (m)": float(np.nanmin(rd_)),
        "circle PyMEOS crossing distance from centre max (m)": float(np.nanmax(rd_)),
        "apothem a (m)": float(apothem),
    }
    return rep, group_ok


# ------------------------------------------------------------------ MovingPandas / traffic
def _predict_mp(meos: Visits, paths: Paths) -> Visits:
    """MovingPandas's visits predicted from PyMEOS's (same geometry, same planar path)."""
    if len(meos) == 0:
        return meos
    w = paths.w
    keep = meos.t1_ns > meos.t0_ns  # zero-length (point) intersections are dropped
    tr, zo = meos.track[keep], meos.zone[keep]
    t0 = meos.t0_ns[keep] // 1000 * 1000  # truncated to the µs (MEOS rounds to the µs)
    t1 = meos.t1_ns[keep] // 1000 * 1000
    # is_equal(): an entry within 10 ms after its segment's first fix is reported at that
    # fix; an exit within 10 ms before its segment's last fix at that fix
    lo0, _ = paths.bracket(tr, t0)
    _, hi1 = paths.bracket(tr, t1)
    snap0 = (t0 - w.t_ns[lo0] < MP_SNAP_NS) & (w.track[lo0] == tr)
    snap1 = (w.t_ns[hi1] - t1 < MP_SNAP_NS) & (w.track[hi1] == tr)
    t0 = np.where(snap0, w.t_ns[lo0], t0)
    t1 = np.where(snap1, w.t_ns[hi1], t1)
    # merge ranges that touch or are within 10 ms
    out = []
    for i in range(tr.size):
        if out and out[-1][0] == tr[i] and out[-1][1] == zo[i] and t0[i] - out[-1][3] < MP_SNAP_NS:
            out[-1][3] = max(out[-1][3], int(t1[i]))
        else:
            out.append([int(tr[i]), int(zo[i]), int(t0[i]), int(t1[i])])
    if not out:
        return Visits.of([], [], [], [])
    return Visits.of(*zip(*out, strict=True))


def _predict_traffic(meos: Visits, paths: Paths) -> Visits:
    """traffic's visits predicted from PyMEOS's: fixes strictly inside (entry, exit)."""
    first, last = paths.fixes_strictly_between(meos.track, meos.t0_ns, meos.t1_ns)
    keep = first >= 0
    return Visits.of(meos.track[keep], meos.zone[keep], first[keep], last[keep])


def _same(a: Visits, b: Visits, tol_ns: int) -> tuple[int, list[tuple[int, int]]]:
    """Visits of ``a`` equal (within tol) to one of ``b``; list of differing groups."""
    ga, gb = _groups(a), _groups(b)
    n_same = 0
    bad = []
    for key in sorted(set(ga) | set(gb)):
        ia = ga.get(key, np.zeros(0, int))
        ib = gb.get(key, np.zeros(0, int))
        if (
            ia.size == ib.size
            and np.all(np.abs(a.t0_ns[ia] - b.t0_ns[ib]) <= tol_ns)
            and np.all(np.abs(a.t1_ns[ia] - b.t1_ns[ib]) <= tol_ns)
        ):
            n_same += ia.size
        else:
            bad.append(key)
    return n_same, bad


def _traffic_merge_explains(
    key: tuple[int, int], got: Visits, pred: Visits, w: wl.Workload
) -> bool:
    """traffic merged visits of a self-intersecting track: every predicted visit lies
    inside one of traffic's, whose bounds are fix times of the track."""
    import shapely

    z, k = key
    s = w.track == k
    line = shapely.LineString(np.column_stack([w.lon_deg[s], w.lat_deg[s]]))
    if line.is_simple:
        return False
    g = (got.zone == z) & (got.track == k)
    p = (pred.zone == z) & (pred.track == k)
    fix_t = set(w.t_ns[s].tolist())
    if not all(int(t) in fix_t for t in np.r_[got.t0_ns[g], got.t1_ns[g]]):
        return False
    return all(
        np.any((got.t0_ns[g] <= a) & (got.t1_ns[g] >= b))
        for a, b in zip(pred.t0_ns[p], pred.t1_ns[p], strict=True)
    )


def peer_vs_pw(
    name: str,
    got: Visits,
    meos_sub: Visits,
    pw_sub: Visits,
    w: wl.Workload,
    meos_ok: dict,
    zones: list[wl.ZoneSpec],
) -> Report:
    """Explain every difference between a peer and patrolwatch on the subsample."""
    rep = Report(f"patrolwatch vs {name}")
    paths = Paths(w)
    if name == "MovingPandas":
        pred = _predict_mp(meos_sub, paths)
        tol, semantics = 2_000, "MovingPandas semantics (µs truncation, 10 ms snapping, merging)"
    else:
        pred = _predict_traffic(meos_sub, paths)
        tol, semantics = 0, "traffic semantics (fixes strictly inside the visit)"
    rep.compared = len(pw_sub)
    n_same, bad_pw = _same(got, pw_sub, TOL_NS)
    _, bad_pred = _same(got, pred, tol)
    bad_pred = set(bad_pred)
    rep.agree = n_same
    ga, gp = _groups(got), _groups(pw_sub)
    for key in bad_pw:
        na = ga.get(key, np.zeros(0)).size
        npw = gp.get(key, np.zeros(0)).size
        n = max(na, npw, 1)
        if key in bad_pred and name == "traffic" and _traffic_merge_explains(key, got, pred, w):
            rep.add(
                rep.explained,
                "merged visits: the track crosses itself; GEOS gives a "
                "self-intersection node one time (Z), the clipped pieces span wrong "
                "times and clip_iterate merges them (traffic: 'the clipped trajectory "
                "may have points outside the shape')",
                n,
            )
            continue
        if key in bad_pred:
            rep.add(rep.unexplained, f"{name} differs from its documented semantics", n)
            rep.examples.append(f"zone {zones[key[0]].id} track {w.track_ids[key[1]]}")
            continue
        if not meos_ok.get(key, True):
            rep.add(rep.unexplained, "PyMEOS reference itself unexplained", n)
            continue
        kind = "circle" if zones[key[0]].kind != "adiz" else "polygon"
        # which documented difference: classify for the report
        gm = _groups(meos_sub).get(key, np.zeros(0, int))
        reasons = []
        if npw != gm.size:
            reasons.append("polygonised circle (visit in the ring)")
        if na < gm.size:
            reasons.append(
                "samples: visit without a fix inside dropped"
                if name == "traffic"
                else "merged or point-touch visits"
            )
        if not reasons:
            reasons.append(
                "samples instead of interpolated times"
                if name == "traffic"
                else (
                    "snapped to a fix within 10 ms"
                    if kind == "polygon"
                    else "polygonised circle: crossing in the ring"
                )
            )
        rep.add(rep.explained, f"{kind}: {'; '.join(reasons)} [{semantics}]", n)
    return rep


# ------------------------------------------------------------------ sample-based tools
def samples_vs_pw(name: str, got: Visits, pw_df: pd.DataFrame, w: wl.Workload) -> dict[str, int]:
    """Sample tools (first/last fix inside) against patrolwatch's fixes inside each visit,
    polygons only (circles differ by polygonisation). Expected differences: a visit with
    no fix inside is invisible to samples, and two visits separated by an exit and re-entry
    between two consecutive fixes (no fix outside) are one run of inside fixes."""
    paths = Paths(w)
    s = pw_df[(pw_df["zone"] < 5)].sort_values(["zone", "track", "t0_ns"])
    has = (s["n_fixes_inside"] > 0).to_numpy()
    tr, zo = s["track"].to_numpy(), s["zone"].to_numpy()
    ex, en = s["t1_ns"].to_numpy(), s["t0_ns"].to_numpy()
    f0, f1 = s["first_fix_time_ns"].to_numpy(), s["last_fix_time_ns"].to_numpy()
    # merge a visit into the previous one when no fix lies between that exit and this entry
    same = np.r_[False, (tr[1:] == tr[:-1]) & (zo[1:] == zo[:-1])]
    prev_exit = np.r_[0, ex[:-1]]
    first_between, _ = paths.fixes_strictly_between(tr, prev_exit, en)
    merge = same & (first_between < 0) & has & np.r_[False, has[:-1]]
    rows = []
    for i in np.flatnonzero(has):
        if merge[i] and rows:
            rows[-1][3] = int(f1[i])
        else:
            rows.append([int(tr[i]), int(zo[i]), int(f0[i]), int(f1[i])])
    exp = Visits.of(*zip(*rows, strict=True)) if rows else Visits.of([], [], [], [])
    p = got.zone < 5
    gp = Visits.of(got.track[p], got.zone[p], got.t0_ns[p], got.t1_ns[p])
    plain = Visits.of(tr[has], zo[has], f0[has], f1[has])
    _, bad_plain = _same(gp, plain, 0)
    _, bad_exp = _same(gp, exp, 0)
    return {
        "polygon visits of the tool": len(gp),
        "patrolwatch polygon visits with no fix inside (invisible to samples)": int((~has).sum()),
        "(zone, track) groups equal to patrolwatch's fixes inside": len(_groups(plain))
        - len(bad_plain),
        "groups differing": len(bad_plain),
        "of which explained: exit and re-entry between two consecutive fixes": len(bad_plain)
        - len(bad_exp),
        "unexplained": len(bad_exp),
    }
