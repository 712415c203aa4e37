"""Benchmark runner for issue 8: patrolwatch crossings against the tools users would pick.

Run through ``bench/run`` (or ``make bench``), which creates the bench environment. Writes
``bench/results/<YYYY-MM-DD>.md`` (``-quick.md`` in quick mode), a ``.json`` with every
measurement, and ``-profile.txt`` with the cProfile listing.

Every run of a tool: ``prepare`` (in-memory arrays -> the tool's own structure) then
``query`` (find every visit), timed apart, each repeated ``--runs`` times round-robin
across tools (so that load from other processes spreads over all of them); figures are
medians. Peak memory is the rise of the process's resident high-water mark (VmHWM, reset
through /proc/self/clear_refs) over its resident size before the step.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import gc
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import warnings

warnings.filterwarnings("ignore", message="Missing optional dependencies")

import correctness as cx  # noqa: E402
import peers as P  # noqa: E402, N812  (short name for the many peer calls)
import workload as wl  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

QUICK_SIZE = 250_000
QUICK_SUB = 5_000
FULL_SUB = 30_000
TARGET_MPS = 30.0  # M fixes/s at 10M x 20 zones
TARGET_VS_PYMEOS = 20.0
TARGET_VS_SHAPELY = 2.0
TARGET_CLI_S = 3.0
TARGET_MEM_X = 3.0


# ------------------------------------------------------------------ machine facts
def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def _trim() -> None:
    """Give freed heap memory back to the OS (glibc ``malloc_trim``), so that the resident
    size before a step does not include memory a previous tool freed but malloc kept."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> int:
    """Reset the resident high-water mark; returns the current resident size (bytes)."""
    _trim()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _status()["VmRSS"]


def _peak_since(rss0: int) -> int:
    return max(0, _status()["VmHWM"] - rss0)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    mem = 0
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        meminfo = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        cpuinfo, meminfo = [], []
    for line in cpuinfo:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    for line in meminfo:
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) * 1024
    return {
        "cpu": cpu,
        "cores (os.cpu_count)": os.cpu_count(),
        "cores usable (sched_getaffinity)": len(os.sched_getaffinity(0)),
        "memory": f"{mem / 2**30:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version() + " (" + sys.executable + ")",
        "load average at start (1, 5, 15 min)": os.getloadavg(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
    }


def source_fingerprint() -> str:
    """sha256 of patrolwatch's source files as measured, and the checked-out commit read
    from .git (no git command is run); the working tree may differ from that commit."""
    import hashlib

    import patrolwatch

    src = Path(patrolwatch.__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(src.rglob("*.py")):
        h.update(str(f.relative_to(src)).encode())
        h.update(f.read_bytes())
    commit = "unknown"
    try:
        git = src.parents[1] / ".git"
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            p = git / ref
            if p.exists():
                commit = p.read_text().strip()
            else:
                for line in (git / "packed-refs").read_text().splitlines():
                    if line.endswith(" " + ref):
                        commit = line.split()[0]
        else:
            commit = head
    except OSError:
        pass
    return f"src/patrolwatch sha256 {h.hexdigest()[:16]}; checked-out commit {commit[:12]}"


# ------------------------------------------------------------------ timing
class Runs:
    def __init__(self, tool: str, n: int, note: str = "") -> None:
        self.tool, self.n, self.note = tool, n, note
        self.prepare: list[float] = []
        self.query: list[float] = []
        self.cpu: list[float] = []
        self.peak: list[int] = []  # rise during prepare + query
        self.peak_q: list[int] = []  # rise during query only
        self.visits = 0
        self.threads = "1"

    def med(self, xs: list[float]) -> float:
        return statistics.median(xs) if xs else float("nan")

    @property
    def q(self) -> float:
        return self.med(self.query)

    @property
    def cpu_mps(self) -> float:
        return self.n / self.med(self.cpu) / 1e6

    @property
    def e2e(self) -> float:
        return self.med([a + b for a, b in zip(self.prepare, self.query, strict=True)])

    @property
    def mps(self) -> float:
        return self.n / self.q / 1e6

    @property
    def e2e_mps(self) -> float:
        return self.n / self.e2e / 1e6

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "n_fixes": self.n,
            "note": self.note,
            "prepare_s": self.prepare,
            "query_s": self.query,
            "cpu_s": self.cpu,
            "peak_extra_bytes": self.peak,
            "peak_query_bytes": self.peak_q,
            "visits": self.visits,
            "threads": self.threads,
            "query_median_s": self.q,
            "m_fixes_per_s": self.mps,
            "m_fixes_per_cpu_s": self.cpu_mps,
            "end_to_end_m_fixes_per_s": self.e2e_mps,
        }


def timed(runs: Runs, prepare: Callable[[], Any], query: Callable[[Any], Any]) -> Any:
    gc.collect()
    rss0 = _reset_peak()
    t = time.perf_counter()
    state = prepare()
    runs.prepare.append(time.perf_counter() - t)
    peak_p = _peak_since(rss0)
    gc.collect()
    rss1 = _reset_peak()
    t, c = time.perf_counter(), time.process_time()
    out = query(state)
    runs.query.append(time.perf_counter() - t)
    runs.cpu.append(time.process_time() - c)
    peak_q = _peak_since(rss1)
    runs.peak_q.append(peak_q)
    runs.peak.append(max(peak_q + (rss1 - rss0), peak_p))
    del state
    return out


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------ one size
def bench_size(n: int, runs: int, sub_n: int | None, out: dict[str, Any]) -> dict[str, Any]:
    t = time.perf_counter()
    tracks_path, zones_path, made = wl.ensure(n)
    gen_s = time.perf_counter() - t
    log(f"{n:,} fixes: data {'written' if made else 'reused'} ({gen_s:.1f} s): {tracks_path}")
    w = wl.load(n)
    table = pq.read_table(tracks_path)
    input_bytes = int(table.nbytes)
    del table
    specs = wl.generate_zones()
    rings = wl.peer_polygons(specs)
    zones = P.pw_zones(zones_path)
    zone_ids = [z.id for z in zones]
    assert zone_ids == [s.id for s in specs]
    res: dict[str, Runs] = {}
    keep: dict[str, Any] = {}

    def tool(name: str, n_fixes: int, note: str = "") -> Runs:
        if name not in res:
            res[name] = Runs(name, n_fixes, note)
        return res[name]

    sub = w.head_tracks(sub_n) if sub_n else None
    sub_note = (
        f"subsample: first {sub.track_ids.size} tracks = {sub.n:,} fixes" if sub is not None else ""
    )
    # warm-up (imports, JIT compilation) on a few tracks, not timed
    tiny = w.head_tracks(3000)
    P.pw_query(P.pw_prepare(tiny, zones))
    P.numba_query(P.numba_prepare(tiny, rings))
    P.duckdb_query(P.duckdb_prepare(tiny, rings))
    P.geopandas_query(P.geopandas_prepare(tiny, rings))
    P.pymeos_query(P.pymeos_prepare(tiny, rings))
    if sub is not None:
        P.movingpandas_query(P.movingpandas_prepare(tiny.head_tracks(600), rings))
        P.traffic_query(P.traffic_prepare(tiny.head_tracks(600), rings))
    out_dir = Path(tempfile.mkdtemp(prefix="pwbench-"))
    cli_peak: list[int] = []
    for r in range(runs):
        log(f"{n:,} fixes: run {r + 1}/{runs}")
        first = r == 0
        ev = timed(tool("patrolwatch", n), lambda: P.pw_prepare(w, zones), P.pw_query)
        if first:
            keep["pw_events"] = ev
        res["patrolwatch"].visits = len(ev)
        del ev
        # CLI end to end (Parquet in, Parquet out), in a child process
        rc = tool("patrolwatch CLI", n, "end to end: process start, read Parquet, write Parquet")
        wall, cpu, maxrss = P.cli_run(tracks_path, zones_path, out_dir / "events.parquet")
        rc.prepare.append(0.0)
        rc.query.append(wall)
        rc.cpu.append(cpu)
        rc.peak.append(maxrss)
        rc.peak_q.append(maxrss)
        cli_peak.append(maxrss)
        for name, prep, query in (
            ("numba bbox+PIP", P.numba_prepare, P.numba_query),
            ("Shapely 2", P.shapely_prepare, P.shapely_query),
            ("DuckDB spatial", P.duckdb_prepare, P.duckdb_query),
            ("GeoPandas sjoin", P.geopandas_prepare, P.geopandas_query),
            ("PyMEOS", P.pymeos_prepare, P.pymeos_query),
        ):
            v = timed(tool(name, n), lambda p=prep: p(w, rings), query)
            res[name].visits = len(v)
            if first:
                keep[name] = v
        if sub is not None:
            ev = timed(
                tool("patrolwatch (subsample)", sub.n, sub_note),
                lambda: P.pw_prepare(sub, zones),
                P.pw_query,
            )
            res["patrolwatch (subsample)"].visits = len(ev)
            for name, prep, query in (
                ("MovingPandas", P.movingpandas_prepare, P.movingpandas_query),
                ("traffic", P.traffic_prepare, P.traffic_query),
            ):
                v = timed(tool(name, sub.n, sub_note), lambda p=prep: p(sub, rings), query)
                res[name].visits = len(v)
                if first:
                    keep[name] = v
    shutil.rmtree(out_dir, ignore_errors=True)
    k = P._numba_kernels()
    res["numba bbox+PIP"].threads = str(k["threads"])
    res["DuckDB spatial"].threads = str(
        P.duckdb_connect().execute("SELECT current_setting('threads')").fetchone()[0]
    )
    res["patrolwatch CLI"].visits = res["patrolwatch"].visits

    # ---------------------------------------------------------------- correctness
    log(f"{n:,} fixes: correctness")
    corr: dict[str, Any] = {}
    pw_v, pw_df = P.pw_visits(keep["pw_events"], w, zone_ids)
    rep, meos_ok = cx.pw_vs_pymeos(pw_df, keep["PyMEOS"], w, specs, rings)
    corr["pymeos"] = rep
    corr["offsets"] = cx.geodesic_chord_offsets(w)
    corr["samples"] = {
        name: cx.samples_vs_pw(name, keep[name], pw_df, w)
        for name in ("numba bbox+PIP", "Shapely 2", "DuckDB spatial", "GeoPandas sjoin")
    }
    if sub is not None:
        ntr = sub.track_ids.size
        pw_sub_df = pw_df[pw_df["track"] < ntr]
        pw_sub = P.Visits.of(
            pw_sub_df["track"], pw_sub_df["zone"], pw_sub_df["t0_ns"], pw_sub_df["t1_ns"]
        )
        m = keep["PyMEOS"]
        s = m.track < ntr
        meos_sub = P.Visits.of(m.track[s], m.zone[s], m.t0_ns[s], m.t1_ns[s])
        for name in ("MovingPandas", "traffic"):
            corr[name] = cx.peer_vs_pw(name, keep[name], meos_sub, pw_sub, sub, meos_ok, specs)
    out["sizes"][str(n)] = {
        "n_fixes": n,
        "n_tracks": int(w.track_ids.size),
        "data_file": str(tracks_path),
        "generation_s": gen_s if made else None,
        "input_column_bytes": input_bytes,
        "tools": {k_: v.as_dict() for k_, v in res.items()},
        "visits_patrolwatch": len(pw_v),
    }
    return {
        "runs": res,
        "corr": corr,
        "input_bytes": input_bytes,
        "w": w,
        "n_tracks": int(w.track_ids.size),
        "zones": zones,
    }


# ------------------------------------------------------------------ profile
def profile(n: int, out_txt: Path) -> dict[str, Any]:
    tracks_path, zones_path, _ = wl.ensure(n)
    w = wl.load(n)
    zones = P.pw_zones(zones_path)
    tracks, _ = P.pw_prepare(w, zones)
    import patrolwatch as pw
    from patrolwatch.core.zones import Zones

    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    pw.crossings(tracks, zones)
    prof.disable()
    total = time.perf_counter() - t
    # per zone kind, without the profiler
    split = {}
    for label, sel in (
        ("5 polygons", [z for z in zones if not z.is_buffer]),
        ("15 circles (buffer zones)", [z for z in zones if z.is_buffer]),
    ):
        t = time.perf_counter()
        pw.crossings(tracks, Zones(sel))
        split[label] = time.perf_counter() - t
    # the CLI's stages, in this process (one run each)
    stages = {}
    t = time.perf_counter()
    read = pw.read_tracks(str(tracks_path))
    stages["read_tracks (Parquet, validation, rejects accounting)"] = time.perf_counter() - t
    t = time.perf_counter()
    events = pw.crossings(read[0], zones)
    stages["crossings"] = time.perf_counter() - t
    out_path = Path(tempfile.mkdtemp(prefix="pwbench-")) / "events.parquet"
    t = time.perf_counter()
    pw.write_events(events, out_path)
    stages["write_events (Parquet)"] = time.perf_counter() - t
    shutil.rmtree(out_path.parent, ignore_errors=True)
    rprof = cProfile.Profile()
    rprof.enable()
    pw.read_tracks(str(tracks_path))
    rprof.disable()
    rst = pstats.Stats(rprof)
    rtot = sum(v[2] for v in rst.stats.values())  # type: ignore[attr-defined]
    read_top = sorted(
        (
            {
                "function": f,
                "where": f"{_short(fl)}:{ln}",
                "calls": nc,
                "tottime_s": tt,
                "cumtime_s": ct,
            }
            for (fl, ln, f), (cc, nc, tt, ct, _) in rst.stats.items()
        ),  # type: ignore[attr-defined]
        key=lambda r: -r["tottime_s"],
    )[:8]
    st = pstats.Stats(prof)
    st.sort_stats("tottime")
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(40)
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(60)
    out_txt.write_text(buf.getvalue())
    prof_total = sum(v[2] for v in st.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _) in st.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": func,
                "where": f"{_short(file)}:{line}",
                "calls": nc,
                "tottime_s": tt,
                "cumtime_s": ct,
            }
        )
    by_tot = sorted(rows, key=lambda r: -r["tottime_s"])[:15]
    pw_rows = [r for r in rows if "patrolwatch" in r["where"]]
    by_cum = sorted(pw_rows, key=lambda r: -r["cumtime_s"])[:25]
    return {
        "n": n,
        "wall_with_profiler_s": total,
        "profiled_total_s": prof_total,
        "cli_stages_s": stages,
        "read_top": read_top,
        "read_total_s": rtot,
        "top_tottime": by_tot,
        "top_cumtime_patrolwatch": by_cum,
        "split_s": split,
    }


def _short(path: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


# ------------------------------------------------------------------ report
def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def write_report(
    path: Path,
    meta: dict[str, Any],
    sizes: dict[int, dict[str, Any]],
    prof: dict[str, Any] | None,
    quick: bool,
) -> str:
    lines: list[str] = []
    a = lines.append
    a(f"# patrolwatch benchmark, {meta['date']}{' (quick mode)' if quick else ''}")
    a("")
    a(
        f"Command: `{meta['command']}`; total wall time {meta['total_s']:.0f} s, CPU time "
        f"{meta['cpu_total_s']:.0f} s (this process and its children; with the machine "
        "to itself the wall time would be close to the CPU time, numba and DuckDB aside). "
        "Generated by `bench/run_bench.py`; the raw measurements are in the `.json` beside "
        "this file. Issue 8."
    )
    a("")
    a(
        f"patrolwatch measured: {meta['source']} (the working tree may hold uncommitted "
        "changes; the hash identifies the exact sources)."
    )
    a("")
    a("## Machine")
    a("")
    for k, v in meta["machine"].items():
        a(f"- {k}: {v}")
    a(f"- load average at end (1, 5, 15 min): {meta['load_end']}")
    a(
        "- Other processes shared these 2 cores during the run (the load average says how "
        "much); runs are round-robin across tools so that such load spreads over all of "
        "them, and CPU time is reported beside wall time."
    )
    a("")
    a("Library versions (bench environment `bench/.venv`):")
    a("")
    a(", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    a("")
    a("## Workload")
    a("")
    a(
        "Seeded (`bench/workload.py`, seed "
        f"{wl.SEED}): aircraft-like tracks over lon 120-140 E, lat 25-45 N, a fix every "
        "10 s, 150-250 m/s, 500-1,500 fixes per track; 20 zones: 5 ADIZ-like polygons of "
        "12 vertices (edges straight in lon/lat) and 15 circles of 12 NM. patrolwatch gets "
        "the circles as buffer zones (exact geodesic distance); every peer gets the same "
        f"polygon per circle: {wl.CIRCLE_VERTICES} vertices on the geodesic circle "
        "(sagitta 6.7 m)."
    )
    a("")
    for n, s in sizes.items():
        a(
            f"- {n:,} fixes: {s['n_tracks']:,} tracks; input columns (track_id, time, lat, "
            f"lon as Arrow) {s['input_bytes'] / 1e6:.0f} MB"
        )
    a("")
    a("## Results")
    a("")
    a(
        "*query*: from the tool's own in-memory structure to the list of visits (the "
        "headline). *prepare*: from NumPy arrays to that structure (patrolwatch: "
        "`Tracks.from_arrays`; GeoPandas: a GeoDataFrame of points; PyMEOS: one "
        "TGeomPointSeq per track; ...). *end to end* = prepare + query. Medians of "
        f"{meta['runs']} runs (min-max in brackets). Peak = rise of resident memory during "
        "the query, and during prepare+query (the CLI: the whole process's peak RSS, "
        "VmHWM). Threads: what the tool used on the 2 cores."
    )
    a("")
    for n, s in sizes.items():
        res: dict[str, Runs] = s["runs"]
        a(f"### {n:,} fixes x 20 zones")
        a("")
        a(
            "| tool | fixes timed | query s | M fixes/s | prepare s | end to end M fixes/s "
            "| CPU s (query) | M fixes per CPU s | peak MB (query) | peak MB (prepare+query) "
            "| threads | visits | visit semantics |"
        )
        a("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for name, r in res.items():
            sem = P.VISIT_SEMANTICS.get(name.replace(" (subsample)", ""), "")
            fixes = f"{r.n:,}" + (f" ({r.note})" if r.note and "subsample" in r.note else "")
            a(
                f"| {name} | {fixes} | {fmt_s(r.q)} ({fmt_s(min(r.query))}-"
                f"{fmt_s(max(r.query))}) | {r.mps:.3f} | {fmt_s(r.med(r.prepare))} | "
                f"{r.e2e_mps:.3f} | {fmt_s(r.med(r.cpu))} | {r.cpu_mps:.3f} | "
                f"{statistics.median(r.peak_q) / 1e6:.0f} | "
                f"{statistics.median(r.peak) / 1e6:.0f} | {r.threads} | {r.visits:,} | {sem} |"
            )
        a("")
        a(
            "Ratios of throughput (M fixes/s of the row / M fixes/s of the column), query "
            "figures, same run; > 1: the row is faster. The CLI row uses its end-to-end time. "
            "MovingPandas and traffic ran on the stated subsample (their rate is per fix of "
            "that subsample; not extrapolated), patrolwatch (subsample) is patrolwatch on the "
            "same subsample."
        )
        a("")
        names = list(res)
        a("| row / column | " + " | ".join(names) + " |")
        a("|---|" + "---|" * len(names))
        for rn in names:
            a(f"| {rn} | " + " | ".join(_ratio(res[rn].mps / res[cn].mps) for cn in names) + " |")
        a("")
    # targets
    a("## Targets (issue 8)")
    a("")
    big = max(sizes)
    res = sizes[big]["runs"]
    pwr, cli = res["patrolwatch"], res["patrolwatch CLI"]
    inp = sizes[big]["input_bytes"]
    rows = [
        (
            f"crossings throughput at {big:,} x 20",
            f">= {TARGET_MPS:g} M fixes/s",
            f"{pwr.mps:.3f} M fixes/s (by CPU time: {pwr.cpu_mps:.3f})",
            pwr.mps >= TARGET_MPS,
        ),
        (
            "vs PyMEOS",
            f">= {TARGET_VS_PYMEOS:g}x",
            f"{pwr.mps / res['PyMEOS'].mps:.3f}x",
            pwr.mps / res["PyMEOS"].mps >= TARGET_VS_PYMEOS,
        ),
        (
            "vs Shapely 2 baseline",
            f">= {TARGET_VS_SHAPELY:g}x",
            f"{pwr.mps / res['Shapely 2'].mps:.3f}x",
            pwr.mps / res["Shapely 2"].mps >= TARGET_VS_SHAPELY,
        ),
        (
            f"CLI end to end from Parquet, {big:,} fixes",
            f"< {TARGET_CLI_S:g} s",
            f"{cli.q:.1f} s (CPU {cli.med(cli.cpu):.1f} s)",
            cli.q < TARGET_CLI_S,
        ),
        (
            "peak memory of crossings() (rise of resident memory during the call)",
            f"< {TARGET_MEM_X:g}x input columns ({TARGET_MEM_X * inp / 1e6:.0f} MB)",
            f"{max(pwr.peak_q) / 1e6:.0f} MB = {max(pwr.peak_q) / inp:.1f}x",
            max(pwr.peak_q) < TARGET_MEM_X * inp,
        ),
        (
            "peak memory, Tracks.from_arrays + crossings() (rise)",
            f"< {TARGET_MEM_X:g}x input columns ({TARGET_MEM_X * inp / 1e6:.0f} MB)",
            f"{max(pwr.peak) / 1e6:.0f} MB = {max(pwr.peak) / inp:.1f}x",
            max(pwr.peak) < TARGET_MEM_X * inp,
        ),
        (
            "peak memory, CLI process (whole process, incl. interpreter and libraries)",
            f"< {TARGET_MEM_X:g}x input columns ({TARGET_MEM_X * inp / 1e6:.0f} MB)",
            f"{max(cli.peak) / 1e6:.0f} MB = {max(cli.peak) / inp:.1f}x",
            max(cli.peak) < TARGET_MEM_X * inp,
        ),
    ]
    a("| target | wanted | measured | met |")
    a("|---|---|---|---|")
    for t, want, got, ok in rows:
        a(f"| {t} | {want} | {got} | {'yes' if ok else '**no**'} |")
    a("")
    # correctness
    a("## Correctness")
    a("")
    a("Rules: `bench/correctness.py` (module docstring) and `bench/README.md`.")
    a("")
    for n, s in sizes.items():
        c = s["corr"]
        rep: cx.Report = c["pymeos"]
        a(f"### {n:,} fixes")
        a("")
        off = c["offsets"]
        a(
            f"Geodesic vs straight lon/lat segment, over all {off['segments']:,} segments "
            f"(median length {off['segment_len_median_m']:.0f} m): offset at mid-segment "
            f"median {off['median_m'] * 100:.2f} cm, p99 {off['p99_m'] * 100:.2f} cm, max "
            f"{off['max_m'] * 100:.2f} cm."
        )
        a("")
        for r in [rep] + [c[k] for k in ("MovingPandas", "traffic") if k in c]:
            a(
                f"**{r.name}**: {r.compared:,} patrolwatch visits compared; {r.agree:,} agree; "
                f"{r.n_explained:,} differences explained; **{r.n_unexplained:,} "
                "unexplained disagreements**."
            )
            a("")
            for reason, k_ in sorted(r.explained.items()):
                a(f"- explained ({k_:,}): {reason}")
            for reason, k_ in sorted(r.unexplained.items()):
                a(f"- UNEXPLAINED ({k_:,}): {reason}")
            for ex in r.examples[:10]:
                a(f"  - e.g. {ex}")
            if r.stats:
                a("")
                a("| statistic | value |")
                a("|---|---|")
                for k_, v in r.stats.items():
                    a(f"| {k_} | {v:,.3f} |")
            a("")
        a(
            "Sample-based tools (first and last fix inside) against patrolwatch's first and "
            "last fix inside each visit, polygon zones, exact equality (for information; "
            "circles differ by polygonisation):"
        )
        a("")
        a("| tool | " + " | ".join(next(iter(c["samples"].values())).keys()) + " |")
        a("|---|" + "---|" * len(next(iter(c["samples"].values()))))
        for name, d in c["samples"].items():
            a(f"| {name} | " + " | ".join(f"{v:,}" for v in d.values()) + " |")
        a("")
    # profile
    if prof:
        a(f"## Where patrolwatch's time goes ({prof['n']:,} fixes x 20 zones, cProfile)")
        a("")
        a(
            f"Wall time under the profiler {prof['wall_with_profiler_s']:.2f} s. Without it, "
            "by zone kind: "
            + ", ".join(f"{k}: {v:.2f} s" for k, v in prof["split_s"].items())
            + ". Full listing: the `-profile.txt` beside this file."
        )
        a("")
        tot = prof["profiled_total_s"]
        a("Top functions by own time (tottime):")
        a("")
        a("| function | where | calls | own s | own % | cumulative s |")
        a("|---|---|---|---|---|---|")
        for r in prof["top_tottime"]:
            a(
                f"| {r['function']} | {r['where']} | {r['calls']:,} | {r['tottime_s']:.3f} | "
                f"{100 * r['tottime_s'] / tot:.1f} | {r['cumtime_s']:.3f} |"
            )
        a("")
        a("patrolwatch functions by cumulative time (including what they call):")
        a("")
        a("| function | where | calls | cumulative s | cumulative % |")
        a("|---|---|---|---|---|")
        for r in prof["top_cumtime_patrolwatch"]:
            a(
                f"| {r['function']} | {r['where']} | {r['calls']:,} | {r['cumtime_s']:.3f} | "
                f"{100 * r['cumtime_s'] / tot:.1f} |"
            )
        a("")
        a(
            f"The CLI's stages on {prof['n']:,} fixes (in-process, one run each): "
            + ", ".join(f"{k}: {v:.2f} s" for k, v in prof["cli_stages_s"].items())
            + "."
        )
        a("")
        a(f"Top functions of read_tracks by own time (of {prof['read_total_s']:.2f} s profiled):")
        a("")
        a("| function | where | calls | own s | own % |")
        a("|---|---|---|---|---|")
        for r in prof["read_top"]:
            a(
                f"| {r['function']} | {r['where']} | {r['calls']:,} | {r['tottime_s']:.3f} | "
                f"{100 * r['tottime_s'] / prof['read_total_s']:.1f} |"
            )
        a("")
    a("## Notes")
    a("")
    for note in meta["notes"]:
        a(f"- {note}")
    a("")
    text = "\n".join(lines)
    path.write_text(text)
    return text


def _ratio(x: float) -> str:
    if not np.isfinite(x):
        return "-"
    return f"{x:.3g}"


NOTES = [
    "traffic 2.13 (the newest on PyPI) imports `pandas.core.internals.blocks."
    "DatetimeTZBlock`, which pandas 3 removed: it fails to import with pandas 3.x, so the "
    "bench environment pins pandas < 3 (2.3.x); patrolwatch itself is measured in that "
    "same environment (its runtime .venv has pandas 3; the crossings path does not use "
    "pandas).",
    "DuckDB 1.5.5 with the spatial extension from the PyPI package "
    "`duckdb-extension-spatial` 1.5.5 (pins duckdb==1.5.5), loaded from the file it "
    "installs (`LOAD '<path>'`, autoinstall off): no network. DuckDB uses both cores.",
    "PyMEOS: the zone is serialised for MEOS once per zone and `tgeo_at_geom` (the MEOS "
    "function `TGeomPoint.at(geometry)` calls) is called per track and zone where the "
    "track's bounding box meets the zone's; calling `.at(shapely_polygon)` directly "
    "re-serialises the polygon on every call and measured about 10x slower on 100k fixes. "
    "Trajectories are built with `tpointseq_make_coords` from the arrays (SRID 0: planar "
    "lon/lat, MEOS's exact linear mode, µs timestamps).",
    "numba: `@njit(parallel=True)` over fixes (2 threads), bbox test then crossing-number "
    "point-in-polygon for each zone, then a serial pass turning the per-fix zone bitmask "
    "into visits. Compilation is done in prepare (warm-up), not timed in query.",
    "MovingPandas and traffic are orders of magnitude slower; they run on the stated "
    "subsample (whole first tracks of the same file) and their figure is per fix of that "
    "subsample, never extrapolated. MovingPandas' `TrajectoryCollection.clip` swallows "
    "every exception of a trajectory (`except: pass`); none was observed to change the "
    "visits here (see Correctness).",
    "patrolwatch computes more per visit than any peer (closest approach, depth, "
    "brackets, source rows, evidence); the peers return only (track, zone, start, end).",
    "The CLI figure includes interpreter start-up and imports, reading and validating the "
    "Parquet file (rows used/rejected), crossings, and writing events Parquet.",
]


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_SIZE:,} fixes only, {QUICK_SUB:,}-fix subsample",
    )
    ap.add_argument("--runs", type=int, default=3, help="runs per tool (median; >= 3)")
    ap.add_argument("--sizes", type=str, default=None, help="e.g. 1000000,10000000")
    ap.add_argument(
        "--subsample",
        type=int,
        default=None,
        help="fixes for MovingPandas and traffic (whole tracks)",
    )
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    quick = args.quick
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else [QUICK_SIZE]
        if quick
        else [1_000_000, 10_000_000]
    )
    sub_n = args.subsample or (QUICK_SUB if quick else FULL_SUB)
    meta: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "command": " ".join(["bench/run"] + (argv if argv is not None else sys.argv[1:])),
        "machine": machine(),
        "versions": P.versions(),
        "runs": args.runs,
        "source": source_fingerprint(),
        "notes": list(NOTES),
        "sizes": {},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = meta["date"] + ("-quick" if quick else "")
    done: dict[int, dict[str, Any]] = {}
    for i, n in enumerate(sizes):
        # MovingPandas and traffic: once, on a subsample of the smallest size
        done[n] = bench_size(n, args.runs, sub_n if i == 0 else None, meta)
        if i > 0:
            for name in ("patrolwatch (subsample)", "MovingPandas", "traffic"):
                if name in done[sizes[0]]["runs"]:
                    r = copy.copy(done[sizes[0]]["runs"][name])
                    r.note += f" (measured in the {sizes[0]:,} run, same figure)"
                    done[n]["runs"][name] = r
        gc.collect()
    prof = None
    if not args.no_profile:
        log(f"profiling crossings on {sizes[0]:,} fixes")
        prof = profile(sizes[0], RESULTS / f"{stem}-profile.txt")
    meta["load_end"] = os.getloadavg()
    meta["total_s"] = time.perf_counter() - t_start
    import resource

    ru_s, ru_c = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    meta["cpu_total_s"] = ru_s.ru_utime + ru_s.ru_stime + ru_c.ru_utime + ru_c.ru_stime
    meta["profile"] = prof
    text = write_report(RESULTS / f"{stem}.md", meta, done, prof, quick)
    for n in sizes:
        c = done[n]["corr"]
        meta["sizes"][str(n)]["correctness"] = {
            k: (v.__dict__ if isinstance(v, cx.Report) else v) for k, v in c.items()
        }
    (RESULTS / f"{stem}.json").write_text(json.dumps(meta, indent=1, default=str))
    print(text)
    # the disagreement counts, last, for the console
    for n in sizes:
        c = done[n]["corr"]
        parts = [
            f"{r.name}: {r.n_unexplained} unexplained"
            for r in [c["pymeos"]] + [c[k] for k in ("MovingPandas", "traffic") if k in c]
        ]
        log(f"{n:,} fixes: disagreements: " + "; ".join(parts))
    log(f"wrote {RESULTS / (stem + '.md')} ({meta['total_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
