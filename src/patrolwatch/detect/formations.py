"""Formations: groups of tracks flying together, with every change of membership.

Model
-----
1. **Common time grid.** Every track is sampled at the UTC times ``k * grid_s`` (aligned to
   the Unix epoch) that lie between two of its consecutive fixes at most
   ``max_dropout_s`` plus the track's median reporting interval apart, by linear
   interpolation (see :class:`~patrolwatch.detect._resample.Resampler`). A member that
   stops reporting for longer than that is absent from the grid: a longer silence ends its
   formation. A track reporting every few minutes is therefore as continuous as 1 Hz ADS-B.
2. **Airborne only.** A sample counts when the track moves at ``min_speed_mps`` or faster
   (default 50 m/s, about 97 kt), or when it reports an altitude above
   :data:`GROUND_MAX_ALT_M` (4,500 m, above the highest airports), so that a tight turn at
   cruise level is not mistaken for a landing. The speed is the reported ground speed
   capped at twice the path speed through the track's positions over
   :data:`SPEED_WINDOW_S` around the sample (the path speed alone where no speed is
   reported): some feeds repeat the last airborne speed while an aircraft is parked (the
   ADS-B sample shows 100+ kt on aircraft standing at Orly), and the path through sparse
   fixes cuts the corners of a tight orbit. Parked and taxiing aircraft (and ships) never
   form formations; neither do slow aircraft below 4,500 m (for helicopters pass
   ``min_speed_mps=0``).
3. **Close pairs.** Two airborne samples at one grid time are *close* when their geodesic
   distance is at most ``max_sep_m`` and, where both report an altitude, their vertical
   separation is at most ``max_vsep_m``. Pairs are found per time step with a spatial grid
   (cells of ``max_sep_m``, 3 x 3 neighbourhood), never by comparing all pairs.
4. **Pair runs.** A pair that is close at every step of a run of consecutive grid steps
   lasting at least ``min_duration_s`` (last step minus first) is *linked* during the run.
5. **Groups and episodes.** At each grid step, the members of a formation are a connected
   component of the linked pairs (so a chain A-B-C is one group of three). An *episode* is
   a maximal run of consecutive steps with the same members. Episodes that share a member
   at consecutive steps belong to one *group* (``group_id``): a group's life is a chain of
   episodes, one per membership change (join, leave, merge, split).

Background model (``chance_rate``)
----------------------------------
How often does the same data put comparable traffic that close by chance? Each member of
an episode is compared with every *other* track (not a member of the episode) shifted in
time by each of :data:`CHANCE_SHIFTS_S` (+-15, 30, 45 and 60 minutes). Time-shifting keeps
each track's route, speeds, headings and altitudes (its speed and heading distribution)
and the traffic's time-of-day pattern, but destroys any real coordination: a real partner
shifted by 15 minutes is 15 minutes of flight away. A *trial* (member, shift) succeeds
when some shifted track passes the same pair test with the member (airborne, within
``max_sep_m`` and ``max_vsep_m`` for ``min_duration_s``) at a time overlapping the
episode. ``chance_rate`` is the fraction of trials that succeed: 0 means nothing in the
data comes this close by chance (as over open sea), values near 1 mean such closeness is
routine along these routes (a busy airway). It is null when no shifts are requested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..core.events import TIME_TYPE, Events
from ..core.geodesy import wrap180
from ..core.tracks import Tracks
from ..core.zones import Zones
from ..errors import ConfigError, check_nonneg, check_positive
from ..units import NS_PER_S
from ._resample import (
    CellIndex,
    GridSamples,
    Resampler,
    bridge_limits_ns,
    expand_ranges,
    group_median,
    interp_at,
    join_strings,
    runs,
    source_rows,
    within,
)

__all__ = [
    "CHANCE_SHIFTS_S",
    "DEFAULT_GRID_S",
    "DEFAULT_MAX_DROPOUT_S",
    "DEFAULT_MAX_SEP_M",
    "DEFAULT_MAX_VSEP_M",
    "DEFAULT_MIN_DURATION_S",
    "FORMATION_SCHEMA",
    "GROUND_MAX_ALT_M",
    "MIN_AIRBORNE_SPEED_MPS",
    "SPEED_WINDOW_S",
    "formations",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
U64 = npt.NDArray[np.uint64]

DEFAULT_MAX_SEP_M = 5_000.0
"""Largest horizontal (geodesic) distance between formation members, metres."""
DEFAULT_MAX_VSEP_M = 300.0
"""Largest vertical separation between members that both report altitude, metres (about
1,000 ft: aircraft on one airway 2,000 ft apart are not a formation)."""
DEFAULT_MIN_DURATION_S = 300.0
"""Shortest time a pair must stay close to be linked, seconds."""
DEFAULT_MAX_DROPOUT_S = 120.0
"""Longest silence of a member, beyond its usual reporting interval, that is bridged by
interpolation, seconds."""
DEFAULT_GRID_S = 10.0
"""Spacing of the common time grid, seconds."""
MIN_AIRBORNE_SPEED_MPS = 50.0
"""Slowest ground speed of an airborne formation member, m/s (about 97 kt); slower samples
(parked, taxiing, ships) are ignored."""
GROUND_MAX_ALT_M = 4_500.0
"""Highest altitude, metres, at which a slow sample may be on the ground (the highest
airports are below 4,500 m); a slow sample reported higher counts as airborne."""
SPEED_WINDOW_S = 60.0
"""Window over which the displacement speed of a sample is measured, seconds."""
CHANCE_SHIFTS_S: tuple[float, ...] = (
    -3600.0,
    -2700.0,
    -1800.0,
    -900.0,
    900.0,
    1800.0,
    2700.0,
    3600.0,
)
"""Time shifts of the background model, seconds."""

FORMATION_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("track_id", pa.string()),
        ("group_id", pa.int64()),
        ("episode", pa.int64()),
        ("members", pa.string()),
        ("operators", pa.string()),
        ("joint", pa.bool_()),
        ("start_time", TIME_TYPE),
        ("end_time", TIME_TYPE),
        ("duration_s", pa.float64()),
        ("start_lat", pa.float64()),
        ("start_lon", pa.float64()),
        ("end_lat", pa.float64()),
        ("end_lon", pa.float64()),
        ("median_sep_m", pa.float64()),
        ("max_sep_m", pa.float64()),
        ("joined", pa.string()),
        ("left", pa.string()),
        ("zones", pa.string()),
        ("chance_rate", pa.float64()),
        # extras
        ("n_members", pa.int64()),
        ("start_change", pa.string()),
        ("end_change", pa.string()),
        ("source_rows", pa.string()),
    ]
)
"""Columns of formation events (``kind`` is ``"formation"``), one row per episode."""


# =============================================================================== public
def formations(
    tracks: Tracks,
    *,
    max_sep_m: float = DEFAULT_MAX_SEP_M,
    max_vsep_m: float = DEFAULT_MAX_VSEP_M,
    min_duration_s: float = DEFAULT_MIN_DURATION_S,
    max_dropout_s: float = DEFAULT_MAX_DROPOUT_S,
    grid_s: float = DEFAULT_GRID_S,
    zones: Zones | None = None,
    min_speed_mps: float = MIN_AIRBORNE_SPEED_MPS,
    chance_shifts_s: tuple[float, ...] = CHANCE_SHIFTS_S,
) -> Events:
    """Groups of two or more tracks flying together, one row per episode of constant
    membership.

    Parameters
    ----------
    tracks : Tracks
        Fixes sorted by track and time. The per-track attribute ``operator`` (``""`` where
        unknown) decides whether a formation is joint.
    max_sep_m : float, metres, > 0
        Largest geodesic distance between two linked members at one time.
    max_vsep_m : float, metres, >= 0 (``inf`` disables)
        Largest vertical separation of two linked members that both report altitude.
    min_duration_s : float, seconds, >= 0
        Shortest run of consecutive grid steps during which a pair must stay close.
    max_dropout_s : float, seconds, >= 0
        Longest silence of a member, beyond its median reporting interval, bridged by
        interpolation.
    grid_s : float, seconds, > 0
        Spacing of the common time grid (steps at multiples of ``grid_s`` since the epoch).
    zones : Zones, optional
        When given, the ``zones`` column lists the zones all members of an episode were
        inside at one same time during the episode (visits found by
        :func:`~patrolwatch.detect.crossings.crossings`); null when not given.
    min_speed_mps : float, m/s, >= 0
        Slowest airborne ground speed; slower samples are ignored (0 keeps all).
    chance_shifts_s : tuple of float, seconds
        Time shifts of the background model (empty: ``chance_rate`` is null).

    Returns
    -------
    Events
        ``kind="formation"``, columns of :data:`FORMATION_SCHEMA`, sorted by ``group_id``
        then ``episode`` (both numbered from 1 in order of start time). Lists (``members``,
        ``operators``, ``joined``, ``left``, ``zones``) are sorted and ``;``-joined;
        ``track_id`` repeats ``members``. Empty when nothing is found.

    Raises
    ------
    ConfigError
        For a negative, zero (where positive is required) or non-finite threshold.

    Notes
    -----
    * ``start_time``/``end_time`` are the first and last grid times of the episode and
      ``duration_s`` their difference (0 for a one-step episode). ``start_lat``/``lon``
      and ``end_lat``/``lon`` are the centroid of the members at those times.
    * ``median_sep_m``/``max_sep_m``: over every grid step of the episode and every
      member, the geodesic distance to the member's nearest fellow member.
    * ``joined``: members not in the main preceding episode (the one sharing most members;
      all members when the group formed). ``left``: members not in the main following
      episode (all when it dissolved). ``start_change`` is ``formed``, ``joined``,
      ``left``, ``merged``, ``split`` or ``changed``; ``end_change`` is ``dissolved``,
      ``joined``, ``left``, ``merged``, ``split`` or ``changed`` (the end of the data
      counts as ``dissolved``).
    * ``joint`` is True when members have at least two distinct known operators.
    * ``chance_rate``: the background model of the module docstring (fraction of
      time-shifted trials in which other traffic passes the same test with a member).
    * Which samples count as airborne, and how drop-outs are bridged: see the module
      docstring (``min_speed_mps``, :data:`GROUND_MAX_ALT_M`, ``max_dropout_s``).
    * ``source_rows``: the fixes bracketing each member at the start and end.
    * ``group_id`` and ``chance_rate`` depend on the whole input: splitting the input in
      time renumbers groups, and the background is taken from the data given.
    * Grid positions are linear in longitude and latitude between fixes (see
      :class:`~patrolwatch.detect._resample.Resampler`); distances are geodesic (WGS84).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 601, 60) * 1_000_000_000
    >>> lon = 130.0 + np.arange(11) * 0.1
    >>> tr = Tracks.from_arrays(["A"] * 11 + ["B"] * 11, np.r_[t, t],
    ...                         np.r_[lon, lon], np.r_[[37.0] * 11, [37.02] * 11],
    ...                         attrs={"operator": ["CHN"] * 11 + ["RUS"] * 11})
    >>> ev = formations(tr, chance_shifts_s=())
    >>> ev.column("members"), ev.column("joint"), ev.column("duration_s")
    (['A;B'], [True], [600.0])
    """
    check_positive("max_sep_m", max_sep_m)
    check_nonneg("max_vsep_m", max_vsep_m, allow_inf=True)
    check_nonneg("min_duration_s", min_duration_s)
    check_nonneg("max_dropout_s", max_dropout_s)
    check_positive("grid_s", grid_s)
    check_nonneg("min_speed_mps", min_speed_mps)
    for s in chance_shifts_s:
        if not (math.isfinite(s) and s != 0.0):
            raise ConfigError(f"chance_shifts_s must be finite, non-zero seconds, got {s!r}")
    g_ns = round(grid_s * NS_PER_S)
    params = _Params(
        max_sep_m=float(max_sep_m),
        max_vsep_m=float(max_vsep_m),
        min_duration_ns=round(min_duration_s * NS_PER_S),
        grid_ns=g_ns,
        min_speed_mps=float(min_speed_mps),
    )
    if tracks.n_tracks < 2:
        return Events(FORMATION_SCHEMA.empty_table())
    limits = bridge_limits_ns(tracks, max_dropout_s, plus_median_interval=True)
    half = max(1, round(SPEED_WINDOW_S / 2.0 / grid_s))
    rs = Resampler(tracks, grid_ns=g_ns, limit_ns=limits, window_half_steps=half)
    close = _close_pair_steps(rs, params)
    ep = _episodes(close, tracks, params)
    if ep is None:
        return Events(FORMATION_SCHEMA.empty_table())
    shifts = tuple(round(s * NS_PER_S / g_ns) for s in chance_shifts_s)
    shifts = tuple(s for s in shifts if s != 0)
    chance = _chance_rate(tracks, rs, limits, half, ep, params, shifts)
    zone_text = _zones_together(tracks, zones, ep, g_ns)
    return Events(_table(tracks, ep, g_ns, chance, zone_text))


# =============================================================================== internals
@dataclass(frozen=True)
class _Params:
    max_sep_m: float
    max_vsep_m: float
    min_duration_ns: int
    grid_ns: int
    min_speed_mps: float


@dataclass
class _Close:
    """Close pair-steps: tracks ``ta < tb`` close at grid step ``k``, ``d_m`` apart."""

    ta: I64
    tb: I64
    k: I64
    d_m: F64


@dataclass
class _Episodes:
    k0: I64  # first grid step
    k1: I64  # last grid step
    group: I64  # 1-based group id
    number: I64  # 1-based episode number within the group
    mem_ep: I64  # membership rows (episode, track), sorted by episode then name
    mem_track: I64
    joined: B  # per membership row
    left: B
    start_change: npt.NDArray[np.object_]
    end_change: npt.NDArray[np.object_]
    median_sep_m: F64
    max_sep_m: F64

    @property
    def n(self) -> int:
        return int(self.k0.shape[0])


def _airborne(s: GridSamples, min_speed_mps: float) -> B:
    """Samples moving at ``min_speed_mps`` or faster (see :func:`_ground_speed`), or
    reported above :data:`GROUND_MAX_ALT_M`."""
    if min_speed_mps <= 0:
        return np.ones(len(s), dtype=bool)
    v = _ground_speed(s)
    return np.asarray((v >= min_speed_mps) | (s.alt_m > GROUND_MAX_ALT_M), dtype=bool)


def _ground_speed(s: GridSamples) -> F64:
    """The reported speed, capped at twice the path speed through the positions; the path
    speed where none is reported; the reported speed alone for an isolated sample."""
    capped = np.fmin(s.speed_mps, 2.0 * s.move_mps)
    return np.asarray(np.fmax(capped, s.move_mps), dtype=np.float64)


def _pair_test(s: GridSamples, i: I64, r: GridSamples, j: I64, params: _Params) -> tuple[B, F64]:
    """Close test of sample pairs ``(s[i], r[j])``: distance and vertical separation."""
    ok, d = within(s.lon_deg[i], s.lat_deg[i], r.lon_deg[j], r.lat_deg[j], params.max_sep_m)
    dz = np.abs(s.alt_m[i] - r.alt_m[j])
    ok &= ~(dz > params.max_vsep_m)  # NaN (an altitude unknown) passes
    return ok, d


def _close_pair_steps(rs: Resampler, params: _Params) -> _Close:
    parts: list[tuple[I64, I64, I64, F64]] = []
    for k0, k1 in rs.chunks():  # time chunks; each is vectorised over all tracks
        s = rs.samples(k0, k1)
        s = s.take(_airborne(s, params.min_speed_mps))
        if len(s) < 2:
            continue
        idx = CellIndex(s.step, s.lon_deg, s.lat_deg, params.max_sep_m)
        i, j = idx.pairs()
        ok, d = _pair_test(s, i, s, j, params)
        i, j, d = i[ok], j[ok], d[ok]
        ti, tj = s.track[i], s.track[j]
        parts.append((np.minimum(ti, tj), np.maximum(ti, tj), s.step[i], d))
    if not parts:
        e = np.zeros(0, dtype=np.int64)
        return _Close(e, e.copy(), e.copy(), np.zeros(0))
    return _Close(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        np.concatenate([p[3] for p in parts]),
    )


def _components(n: int, u: I64, v: I64) -> I64:
    """Connected components of an undirected graph: per node, the smallest node index of
    its component (hooking and pointer jumping; loops over rounds, not over nodes)."""
    label = np.arange(n, dtype=np.int64)
    if u.size == 0:
        return label
    while True:
        lu, lv = label[u], label[v]
        diff = lu != lv
        if not diff.any():
            return label
        m = np.minimum(lu[diff], lv[diff])
        np.minimum.at(label, lu[diff], m)
        np.minimum.at(label, lv[diff], m)
        while True:
            nxt = label[label]
            if np.array_equal(nxt, label):
                break
            label = nxt


def _hash64(x: I64) -> U64:
    """SplitMix64 of each value (a fixed, well-mixed 64-bit hash)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


def _name_rank(tracks: Tracks) -> I64:
    """Rank of each track id in sorted order (track ids are normally already sorted)."""
    rank = np.empty(tracks.n_tracks, dtype=np.int64)
    rank[np.argsort(tracks.track_ids, kind="stable")] = np.arange(tracks.n_tracks)
    return rank


def _episodes(close: _Close, tracks: Tracks, params: _Params) -> _Episodes | None:
    n_tr = tracks.n_tracks
    if close.k.size == 0:
        return None
    # ---- pair runs, linked when long enough
    code = close.ta * n_tr + close.tb
    order = np.lexsort((close.k, code))
    ta, tb, k, d = close.ta[order], close.tb[order], close.k[order], close.d_m[order]
    code = code[order]
    first, last = runs(code, k)
    linked_run = (k[last] - k[first]) * params.grid_ns >= params.min_duration_ns
    linked = np.repeat(linked_run, last - first + 1)
    if not linked.any():
        return None
    # ---- nodes (step, track) of linked pairs and their components per step
    kmin = int(k[linked].min())
    key_a = (k - kmin) * n_tr + ta
    key_b = (k - kmin) * n_tr + tb
    nodes = np.unique(np.concatenate([key_a[linked], key_b[linked]]))
    n_nodes = nodes.size
    u = np.searchsorted(nodes, key_a[linked]).astype(np.int64)
    v = np.searchsorted(nodes, key_b[linked]).astype(np.int64)
    label = _components(n_nodes, u, v)
    node_k = nodes // n_tr + kmin
    node_t = nodes % n_tr
    # ---- membership signature of each component; episodes = runs of equal signature
    sig = np.zeros(n_nodes, dtype=np.uint64)
    np.add.at(sig, label, _hash64(node_t))
    size = np.bincount(label, minlength=n_nodes).astype(np.int64)
    roots = np.flatnonzero(label == np.arange(n_nodes))
    r_order = np.lexsort((node_k[roots], size[roots], sig[roots]))
    roots = roots[r_order]
    rs_sig, rs_size, rs_k = sig[roots], size[roots], node_k[roots]
    brk = np.ones(roots.size, dtype=bool)
    brk[1:] = (
        (rs_sig[1:] != rs_sig[:-1]) | (rs_size[1:] != rs_size[:-1]) | (rs_k[1:] != rs_k[:-1] + 1)
    )
    ep_of_root_sorted = np.cumsum(brk) - 1
    n_ep_raw = int(ep_of_root_sorted[-1]) + 1
    ep_k0 = np.full(n_ep_raw, np.iinfo(np.int64).max, dtype=np.int64)
    ep_k1 = np.full(n_ep_raw, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(ep_k0, ep_of_root_sorted, rs_k)
    np.maximum.at(ep_k1, ep_of_root_sorted, rs_k)
    root_ep = np.full(n_nodes, -1, dtype=np.int64)
    root_ep[roots] = ep_of_root_sorted
    node_ep = root_ep[label]
    # ---- members (from each episode's first step), ordered by name
    rank = _name_rank(tracks)
    at_first = node_k == ep_k0[node_ep]
    m_ep, m_t = node_ep[at_first], node_t[at_first]
    n_mem = np.bincount(m_ep, minlength=n_ep_raw).astype(np.int64)
    min_rank = np.full(n_ep_raw, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(min_rank, m_ep, rank[m_t])
    # ---- canonical episode order: start step, then first member name
    ep_order = np.lexsort((min_rank, ep_k0))
    new_id = np.empty(n_ep_raw, dtype=np.int64)
    new_id[ep_order] = np.arange(n_ep_raw)
    node_ep = new_id[node_ep]
    m_ep = new_id[m_ep]
    ep_k0, ep_k1 = ep_k0[ep_order], ep_k1[ep_order]
    n_mem, min_rank = n_mem[ep_order], min_rank[ep_order]
    n_ep = n_ep_raw
    mo = np.lexsort((rank[m_t], m_ep))
    m_ep, m_t = m_ep[mo], m_t[mo]
    # ---- links between episodes: a track in one episode at k and another at k + 1
    nxt = np.searchsorted(nodes, nodes + n_tr)
    nxt_c = np.minimum(nxt, n_nodes - 1)
    has_next = (nxt < n_nodes) & (nodes[nxt_c] == nodes + n_tr)
    pe, ne = node_ep[has_next], node_ep[nxt_c[has_next]]
    cross = pe != ne
    link_code, shared = np.unique(pe[cross] * n_ep + ne[cross], return_counts=True)
    l_prev, l_next = link_code // n_ep, link_code % n_ep
    shared = shared.astype(np.int64)
    # ---- groups: components of the episode links, numbered by first start
    g_label = _components(n_ep, l_prev, l_next)
    g_roots, g_inv = np.unique(g_label, return_inverse=True)
    g_k0 = np.full(g_roots.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(g_k0, g_inv, ep_k0)
    g_rank = np.full(g_roots.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(g_rank, g_inv, min_rank)
    g_order = np.lexsort((g_rank, g_k0))
    g_id = np.empty(g_roots.size, dtype=np.int64)
    g_id[g_order] = np.arange(1, g_roots.size + 1)
    group = g_id[g_inv]
    # episode numbers within a group: episodes are already in (start, name) order
    by_group = np.lexsort((np.arange(n_ep), group))
    g_sorted = group[by_group]
    g_first = np.concatenate([[0], np.flatnonzero(g_sorted[1:] != g_sorted[:-1]) + 1])
    g_start = np.repeat(g_first, np.diff(np.append(g_first, n_ep)))
    number = np.empty(n_ep, dtype=np.int64)
    number[by_group] = np.arange(n_ep) - g_start + 1
    # ---- main predecessor / successor and the membership changes
    n_pred = np.bincount(l_next, minlength=n_ep).astype(np.int64)
    n_succ = np.bincount(l_prev, minlength=n_ep).astype(np.int64)
    main_pred, pred_shared = _main_link(l_next, l_prev, shared, ep_k0, min_rank, n_ep)
    main_succ, succ_shared = _main_link(l_prev, l_next, shared, ep_k0, min_rank, n_ep)
    mem_key = m_ep * n_tr + m_t
    joined = ~_isin_sorted(main_pred[m_ep] * n_tr + m_t, mem_key) | (main_pred[m_ep] < 0)
    left = ~_isin_sorted(main_succ[m_ep] * n_tr + m_t, mem_key) | (main_succ[m_ep] < 0)
    start_change = _start_change(n_pred, n_succ, main_pred, pred_shared, n_mem)
    end_change = _end_change(n_succ, n_pred, main_succ, succ_shared, n_mem)
    # ---- separations: each member's nearest fellow member, per step
    ia = np.searchsorted(nodes, key_a)
    ib = np.searchsorted(nodes, key_b)
    ia_c, ib_c = np.minimum(ia, n_nodes - 1), np.minimum(ib, n_nodes - 1)
    both = (nodes[ia_c] == key_a) & (nodes[ib_c] == key_b) & (key_a >= 0)
    both &= label[ia_c] == label[ib_c]
    nn = np.full(n_nodes, np.inf)
    np.minimum.at(nn, ia_c[both], d[both])
    np.minimum.at(nn, ib_c[both], d[both])
    med = group_median(nn, node_ep, n_ep)
    mx = np.full(n_ep, -np.inf)
    np.maximum.at(mx, node_ep, nn)
    return _Episodes(
        k0=ep_k0,
        k1=ep_k1,
        group=group,
        number=number,
        mem_ep=m_ep,
        mem_track=m_t,
        joined=joined,
        left=left,
        start_change=start_change,
        end_change=end_change,
        median_sep_m=med,
        max_sep_m=mx,
    )


def _isin_sorted(values: I64, sorted_keys: I64) -> B:
    """``np.isin`` for a sorted key array (negative values are never in it)."""
    pos = np.minimum(np.searchsorted(sorted_keys, values), max(sorted_keys.size - 1, 0))
    return np.asarray(
        (sorted_keys.size > 0) & (values >= 0) & (sorted_keys[pos] == values), dtype=bool
    )


def _main_link(
    this: I64, other: I64, shared: I64, ep_k0: I64, min_rank: I64, n_ep: int
) -> tuple[I64, I64]:
    """Per episode, the linked episode (on ``other``'s side) sharing most members (ties:
    earliest start, then first member name), and how many it shares; -1/0 when none."""
    main = np.full(n_ep, -1, dtype=np.int64)
    count = np.zeros(n_ep, dtype=np.int64)
    if this.size == 0:
        return main, count
    order = np.lexsort((min_rank[other], ep_k0[other], -shared, this))
    t_sorted = this[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = t_sorted[1:] != t_sorted[:-1]
    sel = order[first]
    main[this[sel]] = other[sel]
    count[this[sel]] = shared[sel]
    return main, count


def _start_change(
    n_pred: I64, n_succ: I64, main_pred: I64, shared: I64, n_mem: I64
) -> npt.NDArray[np.object_]:
    p = np.maximum(main_pred, 0)
    out = np.full(n_pred.size, "changed", dtype=object)
    out[(shared == n_mem[p]) & (n_mem > shared)] = "joined"
    out[(shared == n_mem) & (n_mem[p] > shared)] = "left"
    out[(main_pred >= 0) & (n_succ[p] >= 2)] = "split"
    out[n_pred >= 2] = "merged"
    out[n_pred == 0] = "formed"
    return out


def _end_change(
    n_succ: I64, n_pred: I64, main_succ: I64, shared: I64, n_mem: I64
) -> npt.NDArray[np.object_]:
    s = np.maximum(main_succ, 0)
    out = np.full(n_succ.size, "changed", dtype=object)
    out[(shared == n_mem) & (n_mem[s] > shared)] = "joined"
    out[(shared == n_mem[s]) & (n_mem > shared)] = "left"
    out[(main_succ >= 0) & (n_pred[s] >= 2)] = "merged"
    out[n_succ >= 2] = "split"
    out[n_succ == 0] = "dissolved"
    return out


# =============================================================================== background
def _chance_rate(
    tracks: Tracks,
    rs: Resampler,
    limits: I64,
    half: int,
    ep: _Episodes,
    params: _Params,
    shifts: tuple[int, ...],
) -> F64:
    """The background model: see the module docstring."""
    out = np.full(ep.n, np.nan)
    if not shifts:
        return out
    n_tr = tracks.n_tracks
    g = params.grid_ns
    # member samples, only around the member's episodes
    lo_t, hi_t = _member_steps(ep, n_tr, params)
    is_member = lo_t <= hi_t
    member_ids = np.flatnonzero(is_member).astype(np.int64)
    sub = tracks.select_tracks(is_member)
    mrs = Resampler(sub, grid_ns=g, limit_ns=limits[is_member], window_half_steps=half)
    ms = mrs.all_samples().renumbered(member_ids)
    keep = _airborne(ms, params.min_speed_mps)
    keep &= (ms.step >= lo_t[ms.track]) & (ms.step <= hi_t[ms.track])
    ms = ms.take(keep)
    n_sh = len(shifts)
    recs: list[tuple[I64, I64, I64, I64]] = []
    if len(ms):
        for k0, k1 in rs.chunks():  # time chunks, vectorised over tracks
            wanted = [np.flatnonzero((ms.step - sh >= k0) & (ms.step - sh < k1)) for sh in shifts]
            if not any(w.size for w in wanted):
                continue
            s = rs.samples(k0, k1)
            s = s.take(_airborne(s, params.min_speed_mps))
            if len(s) == 0:
                continue
            idx = CellIndex(s.step, s.lon_deg, s.lat_deg, params.max_sep_m)
            for si, (shift, qsel) in enumerate(zip(shifts, wanted, strict=True)):
                if qsel.size:
                    recs.append(_shift_hits(ms, qsel, s, idx, shift, si, params))
    return _chance_from_hits(ep, n_tr, n_sh, params, recs)


def _member_steps(ep: _Episodes, n_tr: int, params: _Params) -> tuple[I64, I64]:
    """Per track, the grid steps its episodes span, grown by ``min_duration_s`` (empty,
    lo > hi, for a track in no episode): where the background model compares it."""
    dk = -(-params.min_duration_ns // params.grid_ns)
    lo_t = np.full(n_tr, np.iinfo(np.int64).max, dtype=np.int64)
    hi_t = np.full(n_tr, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(lo_t, ep.mem_track, ep.k0[ep.mem_ep] - dk)
    np.maximum.at(hi_t, ep.mem_track, ep.k1[ep.mem_ep] + dk)
    return lo_t, hi_t


def _shift_hits(
    ms: GridSamples,
    qsel: I64,
    s: GridSamples,
    idx: CellIndex,
    shift: int,
    si: int,
    params: _Params,
) -> tuple[I64, I64, I64, I64]:
    """Member samples ``qsel`` that pass the pair test with another track's sample
    ``shift`` steps later: (member track, other track, shift index, step) per hit."""
    q, r = idx.query(ms.step[qsel] - shift, ms.lon_deg[qsel], ms.lat_deg[qsel])
    qq = qsel[q]
    other = s.track[r] != ms.track[qq]
    qq, r = qq[other], r[other]
    ok, _ = _pair_test(ms, qq, s, r, params)
    qq, r = qq[ok], r[ok]
    return ms.track[qq], s.track[r], np.full(qq.size, si, dtype=np.int64), ms.step[qq]


def _chance_from_hits(
    ep: _Episodes,
    n_tr: int,
    n_sh: int,
    params: _Params,
    recs: list[tuple[I64, I64, I64, I64]],
) -> F64:
    """``chance_rate`` per episode from the per-step hits (member track, other track,
    shift index, step): runs of at least ``min_duration_s``, joined to the episodes'
    members; a trial (member, shift) succeeds when such a run overlaps the episode.
    Shared with the Dask engine, which gathers the hits partition by partition."""
    out = np.full(ep.n, np.nan)
    if n_sh == 0:
        return out
    if not recs:
        out[:] = 0.0
        return out
    g = params.grid_ns
    m = np.concatenate([x[0] for x in recs])
    o = np.concatenate([x[1] for x in recs])
    sh = np.concatenate([x[2] for x in recs])
    k = np.concatenate([x[3] for x in recs])
    code = (m * n_tr + o) * n_sh + sh
    order = np.lexsort((k, code))
    code, k, m, o, sh = code[order], k[order], m[order], o[order], sh[order]
    first, last = runs(code, k)
    long_enough = (k[last] - k[first]) * g >= params.min_duration_ns
    first, last = first[long_enough], last[long_enough]
    r_m, r_o, r_sh, r_k0, r_k1 = m[first], o[first], sh[first], k[first], k[last]
    # join runs to (episode, member) rows by member
    ro = np.argsort(r_m, kind="stable")
    r_m, r_o, r_sh, r_k0, r_k1 = r_m[ro], r_o[ro], r_sh[ro], r_k0[ro], r_k1[ro]
    lo = np.searchsorted(r_m, ep.mem_track, side="left").astype(np.int64)
    hi = np.searchsorted(r_m, ep.mem_track, side="right").astype(np.int64)
    row, pos = expand_ranges(lo, hi)
    e = ep.mem_ep[row]
    overlap = (r_k0[pos] <= ep.k1[e]) & (r_k1[pos] >= ep.k0[e])
    mem_key = ep.mem_ep * n_tr + ep.mem_track
    not_member = ~_isin_sorted(e * n_tr + r_o[pos], mem_key)
    hit = overlap & not_member
    trial = np.unique(row[hit] * n_sh + r_sh[pos][hit])
    n_hit = np.bincount(ep.mem_ep[trial // n_sh], minlength=ep.n).astype(np.float64)
    n_mem = np.bincount(ep.mem_ep, minlength=ep.n).astype(np.float64)
    return np.asarray(n_hit / (n_mem * n_sh), dtype=np.float64)


# =============================================================================== zones
def _zones_together(
    tracks: Tracks, zones: Zones | None, ep: _Episodes, g_ns: int
) -> pa.Array | None:
    """Per episode, ``;``-joined ids of zones every member was inside at one time."""
    if zones is None:
        return None
    from .crossings import crossings  # local: crossings is heavy and optional here

    n_tr = tracks.n_tracks
    mask = np.zeros(n_tr, dtype=bool)
    mask[ep.mem_track] = True
    member_ids = np.flatnonzero(mask)
    table = crossings(tracks.select_tracks(mask), zones).to_arrow()
    if table.num_rows:
        visit = pc.is_in(table.column("evidence"), pa.array(["observed", "interpolated"]))
        table = table.filter(visit)
    if table.num_rows == 0 or len(zones) == 0:
        return pa.array([""] * ep.n, pa.string())
    sub_ids = tracks.track_ids[member_ids]
    sub_order = np.argsort(sub_ids)
    vid = np.asarray(table.column("track_id").to_numpy(zero_copy_only=False), dtype=str)
    v_track = member_ids[sub_order[np.searchsorted(sub_ids[sub_order], vid)]]
    zone_ids = np.asarray(zones.ids, dtype=str)
    z_order = np.argsort(zone_ids)
    zid = np.asarray(table.column("zone_id").to_numpy(zero_copy_only=False), dtype=str)
    v_zone = z_order[np.searchsorted(zone_ids[z_order], zid)].astype(np.int64)
    big = np.iinfo(np.int64).max
    ent = table.column("entry_time").cast(pa.int64()).fill_null(-big).to_numpy()
    ext = table.column("exit_time").cast(pa.int64()).fill_null(big).to_numpy()
    # membership rows x visits of the member
    vo = np.argsort(v_track, kind="stable")
    v_track, v_zone, ent, ext = v_track[vo], v_zone[vo], ent[vo], ext[vo]
    lo = np.searchsorted(v_track, ep.mem_track, side="left").astype(np.int64)
    hi = np.searchsorted(v_track, ep.mem_track, side="right").astype(np.int64)
    row, pos = expand_ranges(lo, hi)
    e = ep.mem_ep[row]
    a = np.maximum(ent[pos], ep.k0[e] * g_ns)
    b = np.minimum(ext[pos], ep.k1[e] * g_ns)
    ok = a <= b
    e, z, a, b = e[ok], v_zone[pos][ok], a[ok], b[ok]
    # sweep per (episode, zone): how many members are inside at once
    n_z = len(zones)
    grp = np.concatenate([e * n_z + z, e * n_z + z])
    t = np.concatenate([a, b])
    delta = np.concatenate([np.ones(a.size, np.int64), -np.ones(b.size, np.int64)])
    order = np.lexsort((-delta, t, grp))  # entries before exits at equal times
    grp, delta = grp[order], delta[order]
    csum = np.cumsum(delta)
    starts = np.concatenate([[0], np.flatnonzero(grp[1:] != grp[:-1]) + 1]) if grp.size else grp
    base = np.repeat(csum[starts] - delta[starts], np.diff(np.append(starts, grp.size)))
    inside = csum - base
    best = np.zeros(ep.n * n_z, dtype=np.int64)
    np.maximum.at(best, grp, inside)
    n_mem = np.bincount(ep.mem_ep, minlength=ep.n)
    together = np.flatnonzero(best >= np.repeat(n_mem, n_z))
    t_ep, t_z = together // n_z, together % n_z
    o2 = np.lexsort((zone_ids[t_z], t_ep))
    return join_strings(t_ep[o2], zone_ids[t_z[o2]].astype(object), ep.n)


# =============================================================================== table
def _table(
    tracks: Tracks, ep: _Episodes, g_ns: int, chance: F64, zone_text: pa.Array | None
) -> pa.Table:
    n = ep.n
    ids = tracks.track_ids.astype(object)
    members = join_strings(ep.mem_ep, ids[ep.mem_track], n)
    joined = join_strings(ep.mem_ep[ep.joined], ids[ep.mem_track[ep.joined]], n)
    left = join_strings(ep.mem_ep[ep.left], ids[ep.mem_track[ep.left]], n)
    # operators: distinct known values per episode
    ops = tracks.attr("operator")[ep.mem_track].astype(str)
    known = ops != ""
    if known.any():
        u_code, u_inv = np.unique(ops[known], return_inverse=True)
        pair = np.unique(ep.mem_ep[known] * len(u_code) + u_inv)
        op_ep, op_val = pair // len(u_code), u_code[pair % len(u_code)]
    else:
        op_ep, op_val = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=str)
    operators = join_strings(op_ep, op_val.astype(object), n)
    n_ops = np.bincount(op_ep, minlength=n)
    # centroids and bracketing fixes at the start and end
    t0 = ep.k0 * g_ns
    t1 = ep.k1 * g_ns
    lon0, lat0, _, a0, b0 = interp_at(tracks, ep.mem_track, t0[ep.mem_ep])
    lon1, lat1, _, a1, b1 = interp_at(tracks, ep.mem_track, t1[ep.mem_ep])
    c_lon0, c_lat0 = _centroid(ep.mem_ep, lon0, lat0, n)
    c_lon1, c_lat1 = _centroid(ep.mem_ep, lon1, lat1, n)
    src = source_rows(tracks, np.tile(ep.mem_ep, 4), np.concatenate([a0, b0, a1, b1]), n)
    n_mem = np.bincount(ep.mem_ep, minlength=n).astype(np.int64)
    order = np.lexsort((ep.number, ep.group))
    cols: dict[str, pa.Array] = {
        "kind": pa.array(["formation"] * n, pa.string()),
        "track_id": members,
        "group_id": pa.array(ep.group),
        "episode": pa.array(ep.number),
        "members": members,
        "operators": operators,
        "joint": pa.array(n_ops >= 2),
        "start_time": pa.array(t0, TIME_TYPE),
        "end_time": pa.array(t1, TIME_TYPE),
        "duration_s": pa.array((t1 - t0) / NS_PER_S),
        "start_lat": pa.array(c_lat0),
        "start_lon": pa.array(c_lon0),
        "end_lat": pa.array(c_lat1),
        "end_lon": pa.array(c_lon1),
        "median_sep_m": pa.array(ep.median_sep_m),
        "max_sep_m": pa.array(ep.max_sep_m),
        "joined": joined,
        "left": left,
        "zones": zone_text if zone_text is not None else pa.nulls(n, pa.string()),
        "chance_rate": pa.array(chance, pa.float64(), from_pandas=True),
        "n_members": pa.array(n_mem),
        "start_change": pa.array(ep.start_change, pa.string()),
        "end_change": pa.array(ep.end_change, pa.string()),
        "source_rows": src,
    }
    table = pa.table(cols, schema=FORMATION_SCHEMA)
    return table.take(pa.array(order))


def _centroid(owner: I64, lon: F64, lat: F64, n: int) -> tuple[F64, F64]:
    """Mean position per owner (longitudes unwrapped around the owner's first point)."""
    first = np.searchsorted(owner, np.arange(n))  # owner is sorted
    ref = lon[np.minimum(first, max(owner.size - 1, 0))] if owner.size else np.zeros(n)
    dl = wrap180(lon - ref[owner])
    cnt = np.bincount(owner, minlength=n).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        c_lon = wrap180(ref + np.bincount(owner, weights=dl, minlength=n) / cnt)
        c_lat = np.bincount(owner, weights=lat, minlength=n) / cnt
    return np.asarray(c_lon, dtype=np.float64), np.asarray(c_lat, dtype=np.float64)
