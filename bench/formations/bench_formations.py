"""Synthetic scale test: N concurrent tracks, 10-s fixes, H hours; 10% fly in pairs."""
import sys, time, resource
import numpy as np
from patrolwatch.core.tracks import Tracks
from patrolwatch.detect.formations import formations

n_tr = int(sys.argv[1]); hours = float(sys.argv[2]); shifts = sys.argv[3] == "chance" if len(sys.argv) > 3 else True
rng = np.random.default_rng(1)
dt_s = 10
n_fix = int(hours * 3600 / dt_s)
t0 = 1_600_000_000
# straight-ish great-circle-free motion in a 40 x 30 degree box, 150-250 m/s, random headings
lon0 = rng.uniform(100, 140, n_tr); lat0 = rng.uniform(15, 45, n_tr)
hdg = rng.uniform(0, 360, n_tr); spd = rng.uniform(150, 250, n_tr)
alt = rng.choice(np.arange(6000, 12001, 300), n_tr).astype(float)
n_pair = n_tr // 20  # 10% of tracks in pairs: track 2i+1 follows 2i at 1.5 km abeam
lead = np.arange(n_pair) * 2
wing = lead + 1
lon0[wing] = lon0[lead] + 0.015; lat0[wing] = lat0[lead]; hdg[wing] = hdg[lead]; spd[wing] = spd[lead]; alt[wing] = alt[lead] + 30
tsec = np.arange(n_fix) * dt_s
# per track bounce around inside the box: position = start + v*t, reflect lon/lat in box
def pos(start, rate, lo, hi):
    span = hi - lo
    x = (start[:, None] - lo) + rate[:, None] * tsec[None, :]
    x = np.mod(x, 2 * span)
    return lo + np.where(x > span, 2 * span - x, x)
mlat = 111_000.0
vlat = spd * np.cos(np.radians(hdg)) / mlat
vlon = spd * np.sin(np.radians(hdg)) / (mlat * np.cos(np.radians(lat0)))
lat = pos(lat0, vlat, 15, 45); lon = pos(lon0, vlon, 100, 140)
jit = rng.integers(-3, 4, size=(n_tr, n_fix))  # irregular reporting: +-3 s
t_ns = ((t0 + tsec[None, :] + jit) * 1_000_000_000).astype(np.int64)
ids = np.array([f"T{i:05d}" for i in range(n_tr)])
offsets = np.arange(n_tr + 1, dtype=np.int64) * n_fix
n = n_tr * n_fix
tracks = Tracks(track_ids=ids, offsets=offsets, t_ns=t_ns.ravel(), lon_deg=lon.ravel(), lat_deg=lat.ravel(),
                alt_m=np.repeat(alt, n_fix), speed_mps=np.repeat(spd, n_fix), heading_deg=np.full(n, np.nan),
                src_file=np.zeros(n, np.int32), src_line=np.arange(n, dtype=np.int64), sources=("synthetic",),
                attrs={"operator": np.where(np.arange(n_tr) % 2 == 0, "AAA", "BBB")})
del lat, lon, t_ns, jit
print(f"{n_tr} tracks x {n_fix} fixes = {n:,} fixes; {n_pair} pairs planted", flush=True)
t = time.perf_counter(); c = time.process_time()
ev = formations(tracks, chance_shifts_s=() if not shifts else (-3600.0, -2700.0, -1800.0, -900.0, 900.0, 1800.0, 2700.0, 3600.0))
el = time.perf_counter() - t; cpu = time.process_time() - c
df = ev.to_pandas()
planted = {f"T{2*i:05d};T{2*i+1:05d}" for i in range(n_pair)}
found = set(df.members)
print(f"formations: wall {el:.1f} s, cpu {cpu:.1f} s, {len(df)} episodes, planted found {len(planted & found)}/{n_pair}, other {len(found - planted)}; "
      f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1e6:.2f} GB")
print(df[~df.members.isin(planted)][["members", "start_time", "duration_s", "median_sep_m", "chance_rate"]].head(10))
print(df.chance_rate.describe())
