"""The HTML report: one self-contained file that a reader can check, offline.

The file holds everything it needs: styles, a plain-JavaScript map (canvas: land from the
shipped GSHHG coastline, zones, tracks, events, zoom, pan and a time slider), a timeline,
the event table (sortable, filterable, each row with its evidence, bracketing fixes and
the input lines it rests on), a generated summary and the provenance of every input. It
loads nothing from the network: a Content-Security-Policy forbids it, and the only script
allowed to run is the report's own (by its SHA-256).

Every string that comes from the data (track ids, callsigns, zone names, file names) is
HTML-escaped here; the script inserts text with ``textContent`` or draws it on a canvas.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import html
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ..core.events import Events
from ..core.tracks import Tracks
from ..core.zones import Zones, kind_phrase
from ..units import NS_PER_S
from ._model import (
    HIGHLIGHT_COLOR,
    ZONE_KIND_COLORS,
    EventView,
    ReportModel,
    _zoneinfo,
    build_model,
    display_path,
    fmt_duration,
    fmt_km,
    fmt_local,
    fmt_utc,
    short_name,
)
from ._summary import Section, Segment, summarize

__all__ = ["DEFAULT_GAP_DRAW_S", "render_report", "write_report"]

DEFAULT_GAP_DRAW_S = 300.0
"""Track segments longer than this (seconds) are drawn dashed on the map."""

MAX_LINES_PER_EVENT = 12
"""Input lines shown per event (the rest are listed by number only)."""

LAND_ATTRIBUTION = "Coastline: GSHHG (LGPL-3.0), simplified; for orientation only"

_ESC = html.escape


def _version() -> str:
    try:
        return metadata.version("patrolwatch")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _template(name: str) -> str:
    return resources.files("patrolwatch.report").joinpath("templates", name).read_text("utf-8")


def _json_for_script(obj: Any) -> str:
    """JSON safe to place inside a ``<script type="application/json">`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _flat(xy: np.ndarray[Any, Any], digits: int = 4) -> list[float]:
    return [float(v) for v in np.round(np.asarray(xy, dtype=np.float64)[:, :2], digits).ravel()]


def _tz_schedule(model: ReportModel, base_s: int) -> list[dict[str, Any]]:
    """Local zones of the report grouped by identical offsets, with the offset (s) in force
    from each time (s after ``base_s``) so the page shows local time without a time-zone
    database."""
    out: list[dict[str, Any]] = []
    t0 = model.t_start_ns // NS_PER_S
    t1 = max(model.t_end_ns // NS_PER_S, t0)
    samples = [*range(int(t0), int(t1) + 1, 900), int(t1)]
    keyed: dict[tuple[tuple[int, int], ...], list[str]] = {}
    for lz in model.local_zones:
        info = _zoneinfo(lz.iana)
        if info is None:
            continue
        sched: list[tuple[int, int]] = []
        for s in samples:
            off = dt.datetime.fromtimestamp(s, tz=dt.UTC).astimezone(info).utcoffset()
            o = int(off.total_seconds()) if off is not None else 0
            if not sched or sched[-1][1] != o:
                sched.append((s - base_s, o))
        labels = keyed.setdefault(tuple(sched), [])
        if lz.label not in labels:
            labels.append(lz.label)
    for sched_key, labels in keyed.items():
        out.append({"label": "/".join(labels), "offsets": [list(p) for p in sched_key]})
    return out


def _event_color(e: EventView) -> str:
    if e.kind == "crossing":
        return ZONE_KIND_COLORS.get(e.zone_kind, ZONE_KIND_COLORS["custom"])
    if e.kind == "formation":
        return "#7b4fb0" if e.row.get("joint") else "#555555"
    if e.kind == "gap":
        return "#6b6b6b"
    return "#34495e"


def _event_label(e: EventView) -> str:
    who = ", ".join(e.tracks)
    when = fmt_utc(e.t0_ns)
    if e.t1_ns is not None and e.t1_ns != e.t0_ns:
        when += "–" + fmt_utc(e.t1_ns, date=False)
    what = e.what if e.kind != "crossing" else f"{e.what} ({e.phrase})"
    ev = f" [{e.evidence}]" if e.evidence else ""
    return f"{e.kind}: {who} — {what}, {when}{ev}"


def _payload(model: ReportModel, gap_draw_s: float) -> dict[str, Any]:
    base_s = model.t_start_ns // NS_PER_S

    def rel(t_ns: int | None) -> float | None:
        return None if t_ns is None else round(t_ns / NS_PER_S - base_s, 3)

    tracks = [
        {
            "id": t.track_id,
            "op": t.operator,
            "color": t.color,
            "t": [round(float(v), 3) for v in t.t_ns / NS_PER_S - base_s],
            "x": [round(float(v), 5) for v in t.lon_deg],
            "y": [round(float(v), 5) for v in t.lat_deg],
        }
        for t in model.tracks
    ]
    zones = []
    for z in model.zones:
        claim = ";".join(z.zone.claimants)
        label = short_name(z.zone.name) + f" · {z.zone.kind}" + (f" · {claim}" if claim else "")
        zones.append(
            {
                "id": z.zone.id,
                "kind": z.zone.kind,
                "color": z.color,
                "rings": [_flat(r) for r in z.rings],
                "holes": [_flat(r) for r in z.holes],
                "lines": [_flat(r) for r in z.lines],
                "lx": round(z.label_lon, 4),
                "ly": round(z.label_lat, 4),
                "refs": [[round(x, 5), round(y, 5)] for x, y in z.reference_points],
                "label": label,
            }
        )
    west, south, east, north = model.extent
    span = max(east - west, north - south)
    min_area = (span / 2500.0) ** 2
    land = []
    for g in model.land.geometries:
        for poly in getattr(g, "geoms", [g]):
            if poly.geom_type != "Polygon" or poly.area < min_area:
                continue
            rings = [_flat(np.asarray(poly.exterior.coords))]
            rings += [_flat(np.asarray(r.coords)) for r in poly.interiors]
            land.append(rings)
    events = []
    t_lo = model.t_start_ns
    t_hi = model.t_end_ns
    for e in model.events:
        t0 = e.t0_ns if e.t0_ns is not None else t_lo
        t1 = e.t1_ns if e.t1_ns is not None else t0
        t_lo, t_hi = min(t_lo, t0), max(t_hi, t1)
        events.append(
            {
                "index": e.index,
                "kind": e.kind,
                "tracks": e.tracks,
                "t0": rel(t0),
                "t1": rel(t1),
                "evidence": e.evidence,
                "zone_kind": e.zone_kind,
                "joint": bool(e.row.get("joint")),
                "color": _event_color(e),
                "label": _event_label(e),
                "points": [
                    {
                        "x": round(p.lon_deg, 5),
                        "y": round(p.lat_deg, 5),
                        "role": p.role,
                        "label": p.label,
                    }
                    for p in e.points
                ],
            }
        )
    return {
        "base": base_s,
        "t_min": rel(t_lo),
        "t_max": rel(t_hi),
        "extent": [round(v, 4) for v in model.extent],
        "lat0": round(model.lat0_deg, 4),
        "tracks": tracks,
        "zones": zones,
        "land": land,
        "events": events,
        "tz": _tz_schedule(model, base_s),
        "gap_s": gap_draw_s,
        "highlight": HIGHLIGHT_COLOR,
        "attribution": LAND_ATTRIBUTION,
    }


# ============================================================================ HTML pieces
def _segments_html(segs: Sequence[Segment]) -> str:
    out = []
    for style, text in segs:
        t = _ESC(text)
        if style == "b":
            out.append(f'<b class="d">{t}</b>')
        elif style == "i":
            out.append(f"<i>{t}</i>")
        elif style == "q":
            out.append(f'<q class="caveat">{t}</q>')
        else:
            out.append(t)
    return "".join(out)


def _summary_html(sections: Sequence[Section]) -> str:
    parts = []
    for s in sections:
        if s.key == "lede":
            parts.append(f'<p class="lede">{_segments_html(s.intro)}</p>')
            continue
        parts.append(f'<h3 id="sum-{_ESC(s.key)}">{_ESC(s.title)}</h3>')
        if s.intro:
            parts.append(f"<p>{_segments_html(s.intro)}</p>")
        if s.items:
            parts.append(
                "<ul>" + "".join(f"<li>{_segments_html(i)}</li>" for i in s.items) + "</ul>"
            )
    return "\n".join(parts)


def _legend_html(model: ReportModel) -> str:
    parts = ["<h4>Tracks (by operator)</h4>"]
    for op, color in model.operator_colors.items():
        n = sum(1 for t in model.tracks if t.operator == op)
        parts.append(
            f'<div><span class="sw line" style="background:{color}"></span>'
            f"{_ESC(op or 'unknown operator')} ({n} track{'s' if n != 1 else ''})</div>"
        )
    parts.append("<h4>Zones (by kind)</h4>")
    kinds: dict[str, str] = {}
    for z in model.zones:
        kinds.setdefault(z.zone.kind, z.color)
    for kind, color in kinds.items():
        style = "dashed" if kind == "adiz" else "solid"
        parts.append(
            f'<div><span class="sw zone" style="border-color:{color};border-style:{style}">'
            f"</span>{_ESC(kind_phrase(kind, []).replace(' entry', ''))}</div>"
        )
    parts.append("<h4>Markers</h4>")
    for mark, text in (
        ("●", "entry into a zone"),
        ("○", "exit from a zone"),
        ("◆", "closest approach (distance to the zone's feature)"),
        ("▲", "formation formed / joined"),
        ("▼", "formation split / dissolved"),
        ("▸", "direction of travel"),
        ("◉", "position at the slider's time"),
        ("┅", "reporting gap (dashed)"),
    ):
        parts.append(f'<div><span class="mk">{mark}</span>{_ESC(text)}</div>')
    parts.append(
        '<p style="margin:6px 0 0;color:#5b6670">Drag to pan, wheel or +/− to zoom. '
        "Small time labels along tracks are UTC.</p>"
    )
    return "\n".join(parts)


def _read_input_lines(needed: Mapping[str, set[int]]) -> dict[tuple[str, int], str]:
    """The text of the given (1-based) lines of text inputs, plus each file's line 1."""
    out: dict[tuple[str, int], str] = {}
    for path, lines in needed.items():
        want = set(lines) | {1}
        last = max(want)
        try:
            with open(path, "rb") as fh:
                magic = fh.read(4)
            if magic == b"PAR1":
                continue
            opener: Any = gzip.open if magic[:2] == b"\x1f\x8b" else open
            with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
                for i, line in enumerate(fh, start=1):
                    if i in want:
                        out[(path, i)] = line.rstrip("\r\n")
                    if i >= last:
                        break
        except OSError:
            continue
    return out


def _lines_cell(e: EventView, texts: Mapping[tuple[str, int], str]) -> str:
    if not e.source_rows:
        return "<td></td>"
    by_file: dict[str, list[int]] = {}
    for path, line in e.source_rows:
        by_file.setdefault(path, []).append(line)
    summary = "; ".join(
        f"{display_path(p)}:{', '.join(str(n) for n in ls)}" for p, ls in by_file.items()
    )
    shown = []
    for path, ls in by_file.items():
        header = texts.get((path, 1))
        body = [
            f"{n:>7}: {texts[(path, n)]}" for n in ls[:MAX_LINES_PER_EVENT] if (path, n) in texts
        ]
        if body:
            shown.append(
                f"{display_path(path)}\n"
                + (f"{'line':>7}: {header}\n" if header else "")
                + "\n".join(body)
            )
    title = _ESC("; ".join(p for p in by_file), quote=True)
    if not shown:
        return f'<td class="mono" title="{title}">{_ESC(summary)}</td>'
    return (
        f'<td class="mono" title="{title}"><details><summary>{_ESC(summary)}</summary>'
        f'<pre class="lines">{_ESC(chr(10).join(shown))}</pre></details></td>'
    )


def _sort_key(t_ns: int | None) -> str:
    return "" if t_ns is None else str(t_ns)


def _what_cell(e: EventView, model: ReportModel) -> str:
    if e.kind == "crossing":
        zv = model.zone_view(e.zone_id)
        name = zv.zone.name if zv is not None else e.what
        text = f"<b>{_ESC(short_name(name))}</b><br><small>{_ESC(e.phrase)}</small>"
        if e.caveat:
            text += (
                f'<details class="caveat"><summary>⚠ zone caveat</summary>'
                f"{_ESC(e.caveat)}</details>"
            )
        alt = e.row.get("altitude")
        if isinstance(alt, str) and alt:
            text += f"<br><small>altitude: {_ESC(alt)}</small>"
        return f"<td>{text}</td>"
    extra = ""
    if e.kind == "formation":
        zones = e.row.get("zones")
        if isinstance(zones, str) and zones:
            extra = f"<br><small>inside together: {_ESC(zones.replace(';', ', '))}</small>"
    return f"<td>{_ESC(e.what)}{extra}</td>"


def _closest_cell(e: EventView) -> str:
    c = e.row.get("closest_m")
    if isinstance(c, float) and math.isfinite(c):
        text = fmt_km(c)
        ct = e.row.get("closest_time")
        if isinstance(ct, int):
            text += f" at {fmt_utc(ct, date=False)}"
        edge = e.row.get("closest_edge_m")
        if isinstance(edge, float) and math.isfinite(edge) and abs(edge - c) > 1.0:
            text += f" ({fmt_km(edge)} from edge)"
        return f'<td class="num w" data-sort="{c:.1f}">{_ESC(text)}</td>'
    sep = e.row.get("max_sep_m")
    if isinstance(sep, float) and math.isfinite(sep):
        return f'<td class="num" data-sort="{sep:.1f}">{_ESC("≤ " + fmt_km(sep) + " apart")}</td>'
    return '<td class="num" data-sort=""></td>'


def _rows_html(model: ReportModel) -> str:
    needed: dict[str, set[int]] = {}
    for e in model.events:
        for path, line in e.source_rows[: MAX_LINES_PER_EVENT * 4]:
            needed.setdefault(path, set()).add(line)
    texts = _read_input_lines(needed)
    rows = []
    for e in model.events:
        ev_html = (
            f'<span class="ev ev-{_ESC(e.evidence, quote=True)}">{_ESC(e.evidence)}</span>'
            if e.evidence
            else ""
        )
        start_text = fmt_utc(e.t0_ns)
        open_start = e.kind == "crossing" and e.row.get("entry_time") is None
        open_end = e.kind == "crossing" and e.row.get("exit_time") is None
        visit = e.evidence in ("observed", "interpolated")
        if open_start and visit and e.t0_ns is not None:
            start_text = "≤ " + start_text
        end_text = ""
        if e.t1_ns is not None and e.t1_ns != e.t0_ns:
            same_day = fmt_utc(e.t1_ns)[:10] == fmt_utc(e.t0_ns)[:10]
            end_text = ("≥ " if open_end and visit else "") + fmt_utc(e.t1_ns, date=not same_day)
        utc_html = _ESC(start_text) + (f"<br>→ {_ESC(end_text)}" if end_text else "")
        local = fmt_local(e.t0_ns, e.local_zones)
        local_html = _ESC(local)
        if end_text and e.t1_ns is not None:
            same_day = fmt_local(e.t1_ns, e.local_zones)[:10] == local[:10]
            local_end = fmt_local(e.t1_ns, e.local_zones, date=not same_day)
            if local_end:
                local_html += f"<br>→ {_ESC(local_end)}"
        dur = e.duration_s
        bracket = e.bracket_text()
        rows.append(
            f'<tr data-idx="{e.index}" data-kind="{_ESC(e.kind, quote=True)}" '
            f'data-evidence="{_ESC(e.evidence, quote=True)}">'
            f'<td class="num" data-sort="{e.index + 1}">{e.index + 1}</td>'
            f"<td>{_ESC(e.kind)}</td>"
            f'<td class="trk">{"<br>".join(_ESC(t) for t in e.tracks)}</td>'
            f"{_what_cell(e, model)}"
            f'<td class="t" data-sort="{_sort_key(e.t0_ns)}">{utc_html}</td>'
            f'<td class="t">{local_html}</td>'
            f'<td class="num" data-sort="{"" if dur is None else f"{dur:.3f}"}">'
            f"{_ESC(fmt_duration(dur))}</td>"
            f"{_closest_cell(e)}"
            f"<td>{ev_html}" + (f"<br><small>{_ESC(bracket)}</small>" if bracket else "") + "</td>"
            f"{_lines_cell(e, texts)}"
            "</tr>"
        )
    if not rows:
        rows.append('<tr data-idx="-1"><td colspan="10">No events were found.</td></tr>')
    return "\n".join(rows)


def _kv_table(items: Sequence[tuple[str, str]], *, mono: bool = False) -> str:
    cls = ' class="hash"' if mono else ""
    body = "".join(f"<tr><th>{_ESC(k)}</th><td{cls}>{_ESC(v)}</td></tr>" for k, v in items)
    return f"<table>{body}</table>"


def _value_text(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False)


def _provenance_html(
    model: ReportModel, provenance: Mapping[str, Any] | None, generated: str
) -> str:
    p = dict(provenance or {})
    parts: list[str] = []
    parts.append(
        "<p>What this report was made from and how to make it again (Berkeley Protocol: "
        "identify every input by its hash, record every parameter and tool version).</p>"
    )
    inputs = p.get("inputs") or [{"path": s, "role": "tracks"} for s in model.sources]
    rows = "".join(
        f"<tr><td>{_ESC(str(i.get('role', '')))}</td>"
        f'<td title="{_ESC(str(i.get("path", "")), quote=True)}">'
        f"{_ESC(display_path(str(i.get('path', ''))))}</td>"
        f'<td class="num">{_ESC(str(i.get("bytes", "")))}</td>'
        f'<td class="hash">{_ESC(str(i.get("sha256", "")))}</td></tr>'
        for i in inputs
    )
    parts.append(
        "<h3>Input files</h3><table><thead><tr><th>role</th><th>file</th><th>bytes</th>"
        f"<th>SHA-256</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    ingest = p.get("ingest")
    if isinstance(ingest, Mapping):
        rej = ingest.get("rejected_by_reason") or {}
        rej_text = ", ".join(f"{k}: {v}" for k, v in rej.items()) if rej else "none"
        parts.append(
            "<h3>Ingest</h3>"
            + _kv_table(
                [
                    ("rows read", str(ingest.get("rows_read", ""))),
                    ("rows used", str(ingest.get("rows_used", ""))),
                    ("rows rejected", f"{ingest.get('rows_rejected', '')} ({rej_text})"),
                    ("tracks", str(ingest.get("n_tracks", ""))),
                    ("first / last fix", f"{ingest.get('time_start')} / {ingest.get('time_end')}"),
                    ("columns used", _value_text(ingest.get("columns"))),
                ]
            )
        )
    params = p.get("parameters")
    if isinstance(params, Mapping):
        parts.append(
            "<h3>Parameters</h3>" + _kv_table([(k, _value_text(v)) for k, v in params.items()])
        )
    detectors = p.get("detectors")
    if isinstance(detectors, Mapping):
        rows = "".join(
            f"<tr><th>{_ESC(name)}</th><td>{_ESC(str(d.get('status', '')))}</td>"
            f"<td>{_ESC(_value_text(d.get('parameters', {})))}</td>"
            f"<td>{_ESC(str(d.get('note', '')))}</td></tr>"
            for name, d in detectors.items()
            if isinstance(d, Mapping)
        )
        parts.append(
            "<h3>Detectors</h3><table><thead><tr><th>detector</th><th>status</th>"
            f"<th>parameters</th><th>note</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    zrows = []
    for zv in model.zones:
        z = zv.zone
        zrows.append(
            f'<tr><td class="mono">{_ESC(z.id)}</td><td>{_ESC(z.name)}</td>'
            f"<td>{_ESC(z.kind)}</td><td>{_ESC(';'.join(z.claimants))}</td>"
            f"<td>{_ESC(z.source)}</td><td>{_ESC(z.as_of)}</td>"
            f"<td>{'yes' if z.complete else 'NO'}</td><td>{_ESC(z.caveat)}</td>"
            f"<td>{_ESC(z.origin)}</td></tr>"
        )
    parts.append(
        "<h3>Zones</h3><table><thead><tr><th>id</th><th>name</th><th>kind</th>"
        "<th>claimants</th><th>source</th><th>as of</th><th>complete</th><th>caveat</th>"
        f"<th>from</th></tr></thead><tbody>{''.join(zrows)}</tbody></table>"
    )
    sw = p.get("software")
    items: list[tuple[str, str]] = [("generated at (UTC)", str(p.get("generated_at", generated)))]
    if isinstance(sw, Mapping):
        items += [(k, str(v)) for k, v in sw.items()]
    if p.get("command"):
        items.append(("command", _value_text(p.get("command"))))
    if p.get("reproduce"):
        items.append(("to reproduce", str(p.get("reproduce"))))
    items.append(("basemap", LAND_ATTRIBUTION + " (see LAND-PROVENANCE.md in the package)"))
    parts.append("<h3>Software and reproduction</h3>" + _kv_table(items))
    return "\n".join(parts)


def _options(values: Sequence[str]) -> str:
    return "".join(f'<option value="{_ESC(v, quote=True)}">{_ESC(v)}</option>' for v in values if v)


def render_report(
    events: Events,
    *,
    tracks: Tracks,
    zones: Zones,
    title: str = "patrolwatch report",
    provenance: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    gap_draw_s: float = DEFAULT_GAP_DRAW_S,
    generated_at: str | None = None,
) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    model = build_model(events, tracks, zones, title=title, notes=notes)
    generated = generated_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    sections = summarize(model)
    notes_html = "".join(f'<p class="note">{_ESC(n)}</p>' for n in model.notes)
    js = _template("report.js")
    script_hash = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    csp = (
        "default-src 'none'; "
        f"script-src 'sha256-{script_hash}'; "
        "style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "connect-src 'none'; form-action 'none'; base-uri 'none'"
    )
    kinds = sorted({e.kind for e in model.events})
    evidences = sorted({e.evidence for e in model.events if e.evidence})
    version = _version()
    parts = {
        "CSP": csp,
        "VERSION": _ESC(version),
        "TITLE": _ESC(title),
        "GENERATED": _ESC(generated),
        "CSS": _template("report.css"),
        "SUMMARY": _summary_html(sections),
        "NOTES": notes_html,
        "LEGEND": _legend_html(model),
        "KIND_OPTIONS": _options(kinds),
        "EVIDENCE_OPTIONS": _options(evidences),
        "ROWS": _rows_html(model),
        "PROVENANCE": _provenance_html(model, provenance, generated),
        "FOOTER": _ESC(
            f"patrolwatch {version}. {LAND_ATTRIBUTION}. Findings describe the input data "
            "under the stated model; see Summary → How sure."
        ),
        "DATA": _json_for_script(_payload(model, gap_draw_s)),
        "JS": js,
    }
    # one pass: text inserted for one marker is never scanned for another
    return re.sub(r"@@([A-Z_]+)@@", lambda m: parts[m.group(1)], _template("report.html"))


def write_report(
    events: Events,
    path: str | os.PathLike[str],
    *,
    tracks: Tracks,
    zones: Zones,
    title: str = "patrolwatch report",
    provenance: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    gap_draw_s: float = DEFAULT_GAP_DRAW_S,
) -> Path:
    """Write a self-contained, offline HTML report of ``events``.

    Parameters
    ----------
    events : Events
        Events of any kinds (crossings, formations, gaps, ...), shown in the given order.
    path : path
        The ``.html`` file to write; parent folders are created.
    tracks : Tracks
        The tracks the events come from (drawn on the map and timeline).
    zones : Zones
        The zones used (drawn on the map with their kind, claimants and caveats).
    title : str
        Heading of the report.
    provenance : mapping, optional
        The analysis manifest (see :func:`patrolwatch.analyze`): input hashes,
        parameters, detectors, software versions, the command to reproduce.
    notes : sequence of str
        Notes shown under the summary (e.g. a detector that was not run, and why).
    gap_draw_s : float, seconds, > 0
        Track segments between fixes further apart than this are drawn dashed.

    Returns
    -------
    Path
        The file written.

    Notes
    -----
    The page needs no network: styles, script, data and basemap are inside it, and its
    Content-Security-Policy blocks every request. Land comes from the shipped simplified
    GSHHG coastline (about 0.5 km accuracy). Times are UTC with the local time of each
    zone's claimants (KST for KOR, JST for JPN, ...) precomputed beside them.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(
        events,
        tracks=tracks,
        zones=zones,
        title=title,
        provenance=provenance,
        notes=notes,
        gap_draw_s=gap_draw_s,
    )
    out.write_text(text, encoding="utf-8")
    return out


_ = shapely  # geometry types flow through the model
