"""The static map: the report's map as a print-quality PNG (matplotlib, Agg backend).

Land from the shipped GSHHG coastline; zones coloured by kind with their names and
claimants; tracks coloured by operator with direction arrows and hourly UTC labels;
entry and exit points, closest approaches with their distance, formation start and end;
a legend, a scale bar, a graticule and a footnote saying where the data came from.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from ..core.events import Events
from ..core.tracks import Tracks
from ..core.zones import Zones
from ..units import NS_PER_S
from ._model import ReportModel, build_model, display_path, short_name

__all__ = ["DEFAULT_DPI", "plot_map", "render_map"]

DEFAULT_DPI = 200
"""Resolution of the PNG, dots per inch (the figure is 11 x 8.5 in)."""

_MARKERS = {"entry": "o", "exit": "o", "closest": "D", "start": "^", "end": "v"}


def _ring_path(rings: Sequence[np.ndarray]) -> MplPath | None:
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for r in rings:
        r = np.asarray(r, dtype=np.float64)
        if r.shape[0] < 3:
            continue
        c = np.full(r.shape[0], MplPath.LINETO, dtype=np.uint8)
        c[0] = MplPath.MOVETO
        c[-1] = MplPath.CLOSEPOLY
        verts.append(r)
        codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _nice(value: float, steps: Sequence[float]) -> float:
    for s in steps:
        if s >= value:
            return s
    return steps[-1]


def _scale_bar(ax: Axes, extent: tuple[float, float, float, float], lat0: float) -> None:
    west, south, east, north = extent
    km_per_deg_lon = 111.32 * math.cos(math.radians(lat0))
    width_km = (east - west) * km_per_deg_lon
    km = _nice(width_km / 6.0, (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000))
    x0 = west + (east - west) * 0.05
    y0 = south + (north - south) * 0.04
    x1 = x0 + km / km_per_deg_lon
    ax.plot([x0, x1], [y0, y0], color="black", lw=2.5, solid_capstyle="butt", zorder=20)
    ax.annotate(
        f"{km:g} km",
        ((x0 + x1) / 2, y0),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=7,
        zorder=20,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1},
    )


def _focus_extent(model: ReportModel) -> tuple[float, float, float, float] | None:
    """A close-up around the small zones (e.g. 12 NM territorial limits) that have events."""
    used = {e.zone_id for e in model.events if e.zone_id}
    boxes = []
    for zv in model.zones:
        if zv.zone.id in used and zv.zone.is_buffer and zv.rings:
            xy = np.concatenate(zv.rings)
            boxes.append((*xy.min(axis=0), *xy.max(axis=0)))
    if not boxes:
        return None
    w = min(b[0] for b in boxes)
    s = min(b[1] for b in boxes)
    e = max(b[2] for b in boxes)
    n = max(b[3] for b in boxes)
    mw, ms, me, mn = model.extent
    if (e - w) > 0.5 * (me - mw) or (n - s) > 0.5 * (mn - ms):
        return None
    pad_x, pad_y = (e - w) * 0.6, (n - s) * 0.6
    return (float(w - pad_x), float(s - pad_y), float(e + pad_x), float(n + pad_y))


def _draw(
    ax: Axes,
    model: ReportModel,
    extent: tuple[float, float, float, float],
    *,
    detail: bool,
) -> float:
    """Draw the map on ``ax`` for ``extent``; returns the time-label step in seconds."""
    west, south, east, north = extent
    fs = 6.5 if detail else 5.5
    ax.set_facecolor("#dceaf3")
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1.0 / math.cos(math.radians((south + north) / 2)))
    ax.grid(color="#7890a8", alpha=0.25, lw=0.6)
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{abs(v):g}°{'E' if v >= 0 else 'W'}")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{abs(v):g}°{'N' if v >= 0 else 'S'}")
    ax.tick_params(labelsize=7)
    land_rings: list[np.ndarray] = []
    for g in model.land.geometries:
        for poly in getattr(g, "geoms", [g]):
            if poly.geom_type == "Polygon":
                land_rings.append(np.asarray(poly.exterior.coords))
                land_rings += [np.asarray(r.coords) for r in poly.interiors]
    land = _ring_path(land_rings)
    if land is not None:  # one compound path: fast to draw
        # add_artist, not add_patch: the limits are set, and updating them from a large
        # path is slow
        ax.add_artist(PathPatch(land, facecolor="#efe8d6", edgecolor="#a89d84", lw=0.3, zorder=1))
    for zv in model.zones:
        p = _ring_path(zv.rings + zv.holes)
        dashed = zv.zone.kind == "adiz"
        if p is not None:
            ax.add_patch(
                PathPatch(
                    p,
                    facecolor=zv.color,
                    alpha=0.16 if zv.zone.kind == "territorial" else 0.06,
                    edgecolor="none",
                    zorder=2,
                )
            )
            ax.add_patch(
                PathPatch(
                    p,
                    facecolor="none",
                    edgecolor=zv.color,
                    lw=1.4,
                    ls=(0, (6, 3)) if dashed else "-",
                    zorder=3,
                )
            )
        for line in zv.lines:
            ax.plot(line[:, 0], line[:, 1], color=zv.color, lw=1.4, zorder=3)
        if zv.reference_points:
            xy = np.asarray(zv.reference_points)
            ax.plot(xy[:, 0], xy[:, 1], "^", color="black", ms=3, zorder=4)
        inside = west <= zv.label_lon <= east and south <= zv.label_lat <= north
        if not inside or (zv.zone.is_buffer and not detail and _focus_extent(model)):
            continue
        claim = ";".join(zv.zone.claimants)
        ax.annotate(
            f"{short_name(zv.zone.name)}\n{zv.zone.kind}" + (f" · {claim}" if claim else ""),
            (zv.label_lon, zv.label_lat),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=fs + 1,
            color=zv.color,
            fontweight="bold",
            zorder=15,
            annotation_clip=True,
            bbox={"facecolor": "white", "alpha": 0.65, "edgecolor": "none", "pad": 1},
        )
    span_s = max((model.t_end_ns - model.t_start_ns) / NS_PER_S, 1.0)
    steps = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
    step_s = _nice(span_s / (40.0 if detail else 5.0), steps)
    for tv in model.tracks:
        if tv.t_ns.size == 0:
            continue
        ax.plot(tv.lon_deg, tv.lat_deg, color=tv.color, lw=1.0, zorder=6)
        n = tv.t_ns.size
        if n >= 2:
            for k in np.linspace(0, n - 2, num=min(8 if not detail else 30, n - 1), dtype=int)[1:]:
                mid = (
                    (tv.lon_deg[k] + tv.lon_deg[k + 1]) / 2,
                    (tv.lat_deg[k] + tv.lat_deg[k + 1]) / 2,
                )
                if not (west <= mid[0] <= east and south <= mid[1] <= north):
                    continue
                ax.annotate(
                    "",
                    xy=(tv.lon_deg[k + 1], tv.lat_deg[k + 1]),
                    xytext=(tv.lon_deg[k], tv.lat_deg[k]),
                    arrowprops={"arrowstyle": "-|>", "color": tv.color, "lw": 0.8},
                    zorder=7,
                    annotation_clip=True,
                )
        t0 = int(tv.t_ns[0] // NS_PER_S)
        first = (t0 // int(step_s) + 1) * int(step_s)
        for ts in range(first, int(tv.t_ns[-1] // NS_PER_S) + 1, int(step_s)):
            pos = tv.position_at(ts * NS_PER_S)
            if pos is None or not (west <= pos[0] <= east and south <= pos[1] <= north):
                continue
            ax.plot(*pos, "o", color=tv.color, ms=2, zorder=7)
            label = dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%H:%MZ")
            ax.annotate(
                label,
                pos,
                xytext=(3, 2),
                textcoords="offset points",
                fontsize=fs,
                color=tv.color,
                zorder=8,
                annotation_clip=True,
            )
    for e in model.events:
        color = "#7b4fb0" if e.kind == "formation" else None
        if color is None:
            ezv = model.zone_view(e.zone_id)
            color = ezv.color if ezv is not None else "#34495e"
        for pt in e.points:
            if not (west <= pt.lon_deg <= east and south <= pt.lat_deg <= north):
                continue
            filled = pt.role != "exit"
            ax.plot(
                pt.lon_deg,
                pt.lat_deg,
                _MARKERS.get(pt.role, "o"),
                ms=4 if pt.role != "closest" else 3.5,
                mfc=color if filled else "white",
                mec=color if not filled else "white",
                mew=0.7,
                zorder=12,
            )
            show = pt.role == "closest" if detail else pt.role in ("start", "end")
            if show:
                ax.annotate(
                    pt.label,
                    (pt.lon_deg, pt.lat_deg),
                    xytext=(4, -3),
                    textcoords="offset points",
                    fontsize=fs,
                    zorder=13,
                    annotation_clip=True,
                    bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 0.5},
                )
    _scale_bar(ax, extent, (south + north) / 2)
    return step_s


def render_map(
    model: ReportModel, path: Path, *, dpi: int = DEFAULT_DPI, footnote: str = ""
) -> Path:
    """Draw ``model`` to a PNG at ``path`` (see :func:`plot_map`)."""
    focus = _focus_extent(model)
    fig = Figure(figsize=(11, 8.5), dpi=dpi)
    FigureCanvasAgg(fig)  # the Agg backend, without pyplot's global state
    if focus is not None:
        ax = fig.add_axes((0.05, 0.07, 0.52, 0.86))
        detail = fig.add_axes((0.60, 0.07, 0.38, 0.60))
    else:
        ax = fig.add_axes((0.05, 0.07, 0.90, 0.86))
        detail = None
    step_s = _draw(ax, model, model.extent, detail=False)
    if detail is not None and focus is not None:
        _draw(detail, model, focus, detail=True)
        names = [
            short_name(zv.zone.name)
            for zv in model.zones
            if zv.zone.is_buffer and zv.zone.id in {e.zone_id for e in model.events}
        ]
        detail.set_title("Close-up: " + "; ".join(names), fontsize=8, loc="left")
        w, s, e, n = focus
        ax.add_patch(
            PathPatch(
                MplPath([(w, s), (e, s), (e, n), (w, n), (w, s)], closed=True),
                facecolor="none",
                edgecolor="black",
                lw=0.8,
                zorder=25,
            )
        )
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=c, lw=2, label=f"{op or 'unknown'} tracks")
        for op, c in model.operator_colors.items()
    ]
    kinds: dict[str, str] = {}
    for zv in model.zones:
        kinds.setdefault(zv.zone.kind, zv.color)
    handles += [
        Patch(
            facecolor="none",
            edgecolor=c,
            ls="--" if k == "adiz" else "-",
            label=f"{'ADIZ' if k == 'adiz' else k} zone",
        )
        for k, c in kinds.items()
    ]
    handles += [
        Line2D([], [], ls="", marker="o", color="#555", label="entry"),
        Line2D([], [], ls="", marker="o", mfc="white", mec="#555", label="exit"),
        Line2D([], [], ls="", marker="D", color="#555", ms=4, label="closest approach"),
        Line2D([], [], ls="", marker="^", color="#7b4fb0", label="formation start"),
        Line2D([], [], ls="", marker="v", color="#7b4fb0", label="formation end"),
        Line2D([], [], ls="", marker="^", color="black", ms=3, label="zone feature (islet)"),
    ]
    if detail is not None:
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.60, 0.97),
            fontsize=7,
            ncols=2,
            framealpha=0.9,
        )
    else:
        ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
    ax.set_title(model.title, fontsize=11, loc="left")
    files = ", ".join(sorted({display_path(s) for s in model.sources}))
    note = (
        f"Tracks: {files}. Times UTC (labels every {int(step_s // 60)} min on the main map). "
        "Coastline: GSHHG (LGPL-3.0), simplified. " + footnote
    )
    fig.text(0.01, 0.01, note.strip(), fontsize=6, color="#444", wrap=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, metadata={"Software": "patrolwatch"})
    return path


def plot_map(
    tracks: Tracks,
    zones: Zones,
    path: str | os.PathLike[str],
    *,
    events: Events | None = None,
    title: str = "patrolwatch map",
    dpi: int = DEFAULT_DPI,
    footnote: str = "",
) -> Path:
    """Draw tracks, zones and events on a static map and save it as PNG.

    Parameters
    ----------
    tracks : Tracks
    zones : Zones
    path : path
        The ``.png`` to write; parent folders are created.
    events : Events, optional
        Events to mark (entries, exits, closest approaches, formation start and end).
    title : str
    dpi : int, dots per inch, > 0
        The figure is 11 x 8.5 inches.
    footnote : str
        Extra text for the footnote (e.g. input hashes).

    Returns
    -------
    Path
        The file written.
    """
    model = build_model(
        events if events is not None else Events.empty(), tracks, zones, title=title
    )
    return render_map(model, Path(path), dpi=dpi, footnote=footnote)
