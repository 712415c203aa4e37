"""The plain-words summary at the top of a report, generated from the events.

Sentences are hedged ("according to these tracks"), give UTC and the zone's local time
side by side, and use :func:`~patrolwatch.core.zones.kind_phrase` for what an entry is:
an ADIZ entry is an ADIZ entry, never anything more. The summary is built as segments
``(style, text)`` so that the HTML writer escapes every piece of data and tests can read
the plain text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.zones import kind_phrase
from ._model import (
    EventView,
    LocalZone,
    ReportModel,
    _offset_text,
    _round_s,
    _zoneinfo,
    display_path,
    fmt_duration,
    fmt_km,
    short_name,
)

__all__ = ["Section", "Segment", "plain_text", "span_text", "summarize"]

Segment = tuple[str, str]
"""``(style, text)``; style is ``""``, ``"b"`` (a name from the data), ``"i"`` or ``"q"``
(a quoted caveat)."""

VISIT = ("observed", "interpolated")


@dataclass
class Section:
    """A titled list of summary items (each a list of segments)."""

    key: str
    title: str
    intro: list[Segment] = field(default_factory=list)
    items: list[list[Segment]] = field(default_factory=list)


def plain_text(sections: Sequence[Section]) -> str:
    """The summary as plain text (for tests and logs)."""
    lines = []
    for s in sections:
        lines.append(s.title)
        if s.intro:
            lines.append("".join(t for _, t in s.intro))
        lines += ["- " + "".join(t for _, t in item) for item in s.items]
    return "\n".join(lines)


def _times(t0: int | None, t1: int | None, zone: dt.tzinfo, *, with_date: bool, suffix: str) -> str:
    if t0 is None:
        return ""
    d0 = _round_s(t0).astimezone(zone)
    d1 = _round_s(t1 if t1 is not None else t0).astimezone(zone)
    date0 = f"{d0:%d %b} " if with_date else ""
    if d1 == d0:
        return f"{date0}{d0:%H:%M:%S}{suffix}"
    if d0.date() == d1.date() or not with_date:
        return f"{date0}{d0:%H:%M:%S}–{d1:%H:%M:%S}{suffix}"
    return f"{date0}{d0:%H:%M:%S}{suffix}–{d1:%d %b %H:%M:%S}{suffix}"


def span_text(
    t0: int | None, t1: int | None, local: Sequence[LocalZone], *, with_date: bool = True
) -> tuple[str, str]:
    """A time span in UTC and in local time: ``("23 Jul 00:09:01–00:11:59Z",
    "23 Jul 09:09:01–09:11:59 KST/JST (UTC+9)")``.

    Examples
    --------
    >>> from patrolwatch.report._model import LocalZone
    >>> span_text(1_563_840_541_313_707_432, 1_563_840_719_153_973_699,
    ...           [LocalZone("Asia/Seoul", "KST"), LocalZone("Asia/Tokyo", "JST")])
    ('23 Jul 00:09:01–00:11:59Z', '23 Jul 09:09:01–09:11:59 KST/JST (UTC+9)')
    """
    utc = _times(t0, t1, dt.UTC, with_date=with_date, suffix="Z")
    groups: dict[tuple[str, int], list[str]] = {}
    for lz in local:
        info = _zoneinfo(lz.iana)
        if info is None or t0 is None:
            continue
        text = _times(t0, t1, info, with_date=with_date, suffix="")
        off = _round_s(t0).astimezone(info).utcoffset()
        key = (text, int(off.total_seconds()) if off is not None else 0)
        labels = groups.setdefault(key, [])
        if lz.label not in labels:
            labels.append(lz.label)
    local_text = "; ".join(
        f"{text} {'/'.join(labels)} ({_offset_text(off)})" for (text, off), labels in groups.items()
    )
    return utc, local_text


def _when(e: EventView, *, extra: Sequence[str] = ()) -> str:
    utc, local = span_text(e.t0_ns, e.t1_ns, e.local_zones)
    inner = [local] if local else []
    inner += [x for x in extra if x]
    return f"{utc} ({'; '.join(inner)})" if inner else utc


def _count_word(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _evidence_sentence(evs: Sequence[EventView]) -> str:
    counts = Counter(e.evidence for e in evs)
    n = len(evs)
    parts = []
    if counts["observed"]:
        who = (
            "each visit"
            if counts["observed"] == n and n > 1
            else ("the visit" if n == 1 else f"{counts['observed']} of the {n} visits")
        )
        parts.append(f"{who} has at least one reported position inside (evidence: observed)")
    if counts["interpolated"]:
        who = (
            "the visit"
            if n == 1
            else (
                "every visit" if counts["interpolated"] == n else f"{counts['interpolated']} visits"
            )
        )
        parts.append(
            f"{who} has no reported position inside: it is inferred from the path between "
            "two reports (evidence: interpolated)"
        )
    widths = [w for e in evs if (w := e.bracket_width_s()) is not None]
    text = "; ".join(parts)
    if widths:
        text += (
            f". Entry and exit times are interpolated between reports up to "
            f"{max(widths):.0f} s apart"
        )
    return text[0].upper() + text[1:] + "." if text else ""


def _visit_details(e: EventView) -> str:
    extra = [fmt_duration(e.duration_s)]
    closest = e.row.get("closest_m")
    if isinstance(closest, float) and math.isfinite(closest):
        extra.append(f"closest {fmt_km(closest)}")
    if e.row.get("entry_time") is None:
        extra.append("already inside at the first report")
    if e.row.get("exit_time") is None:
        extra.append("still inside at the last report")
    if e.row.get("altitude") == "unknown altitude":
        extra.append("altitude not reported: vertical limits not checked")
    return _when(e, extra=extra)


def _visit_groups(evs: Sequence[EventView]) -> list[list[EventView]]:
    groups: dict[tuple[str, str], list[EventView]] = {}
    for e in evs:
        groups.setdefault((e.tracks[0] if e.tracks else "", e.zone_id), []).append(e)
    out = list(groups.values())
    out.sort(key=lambda g: min(x.t0_ns or 0 for x in g))
    return out


def _operator(model: ReportModel, track_id: str) -> str:
    for t in model.tracks:
        if t.track_id == track_id:
            return t.operator
    return ""


def _own_claimant(model: ReportModel, e: EventView) -> bool:
    """True when the event's (first) track is operated by one of the zone's claimants."""
    op = _operator(model, e.tracks[0]) if e.tracks else ""
    return bool(op) and op in e.claimants


def _visit_item(group: Sequence[EventView], model: ReportModel) -> list[Segment]:
    first = group[0]
    track = first.tracks[0] if first.tracks else "?"
    zv = model.zone_view(first.zone_id)
    name = short_name(zv.zone.name) if zv is not None else first.what
    n = len(group)
    entered = "entered" if any(e.row.get("entry_time") is not None for e in group) else "was in"
    op = _operator(model, track)
    segs: list[Segment] = [("b", track)]
    if op:
        segs.append(("", f" ({op})"))
    segs += [
        ("", f" {entered} "),
        ("b", name),
        ("", f" {_count_word(n)} — {kind_phrase(first.zone_kind, first.claimants)}: "),
        ("", _join([_visit_details(e) for e in group])),
        ("", ". "),
        ("", _evidence_sentence(group)),
    ]
    if zv is not None and (zv.zone.caveat or not zv.zone.complete):
        segs.append(("", " See the zone caveat below."))
    return segs


def _near_item(e: EventView, model: ReportModel) -> list[Segment]:
    track = e.tracks[0] if e.tracks else "?"
    zv = model.zone_view(e.zone_id)
    name = short_name(zv.zone.name) if zv is not None else e.what
    closest = e.row.get("closest_m")
    edge = e.row.get("closest_edge_m")
    ref = (
        "the zone's feature"
        if zv is not None and (zv.zone.is_buffer or zv.zone.reference is not None)
        else "the zone"
    )
    dist = f"{fmt_km(closest)} from {ref}" if isinstance(closest, float) else ""
    if (
        isinstance(edge, float)
        and isinstance(closest, float)
        and math.isfinite(edge)
        and abs(edge - closest) > 1.0
    ):
        dist += f" ({fmt_km(edge)} short of its edge)"
    utc, local = span_text(e.t0_ns, e.t0_ns, e.local_zones)
    return [
        ("b", track),
        ("", " stayed outside "),
        ("b", name),
        ("", f" ({_kind_noun(e.zone_kind)}{' ' + _claim_words(e) if e.claimants else ''}); "),
        ("", f"at its closest it was {dist}, at {utc}" + (f" ({local})" if local else "") + "."),
    ]


def _kind_noun(kind: str) -> str:
    return {
        "adiz": "an ADIZ",
        "territorial": "territorial airspace/sea",
        "fir": "an FIR",
        "eez": "an EEZ",
    }.get(kind, f"a {kind or 'custom'} zone")


def _claim_words(e: EventView) -> str:
    verb = "declared by" if e.zone_kind == "adiz" else "claimed by"
    return f"{verb} {_join(list(e.claimants))}"


def _possible_item(e: EventView, model: ReportModel) -> list[Segment]:
    track = e.tracks[0] if e.tracks else "?"
    zv = model.zone_view(e.zone_id)
    name = short_name(zv.zone.name) if zv is not None else e.what
    return [
        ("b", track),
        ("", " could have entered "),
        ("b", name),
        (
            "",
            f" between two reports ({_when(e)}) at the stated maximum speed, but its reported "
            "positions do not show it: a possibility, not a finding (evidence: possible).",
        ),
    ]


def _formation_item(e: EventView, model: ReportModel) -> list[Segment]:
    row = e.row
    ops = [o for o in str(row.get("operators") or "").split(";") if o]
    extra = [fmt_duration(e.duration_s)]
    max_sep = row.get("max_sep_m")
    med_sep = row.get("median_sep_m")
    segs: list[Segment] = []
    for i, t in enumerate(e.tracks):
        if i:
            segs.append(("", " and " if i == len(e.tracks) - 1 else ", "))
        segs.append(("b", t))
    if ops:
        segs.append(("", " (" + _join(ops) + ")"))
    joint = " — a joint formation of different operators —" if row.get("joint") else ""
    segs.append(("", f" flew together{joint} {_when(e, extra=extra)}"))
    if isinstance(max_sep, float) and math.isfinite(max_sep):
        sep = f"; each stayed within {fmt_km(max_sep)} of another member"
        if isinstance(med_sep, float) and math.isfinite(med_sep):
            sep += f" (median {fmt_km(med_sep)})"
        segs.append(("", sep))
    zones_together = [z for z in str(row.get("zones") or "").split(";") if z]
    if zones_together:
        segs.append(("", "; inside "))
        for i, z in enumerate(zones_together):
            if i:
                segs.append(("", ", "))
            zv = model.zone_view(z)
            segs.append(("b", short_name(zv.zone.name) if zv is not None else z))
        segs.append(("", " together"))
    start_change, end_change = row.get("start_change"), row.get("end_change")
    if isinstance(start_change, str) and isinstance(end_change, str):
        segs.append(("", f" (began: {start_change}; ended: {end_change})"))
    chance = row.get("chance_rate")
    if isinstance(chance, float) and math.isfinite(chance):
        segs.append(
            (
                "",
                f". In the same data, comparable closeness arose by chance in "
                f"{chance * 100:.0f}% of time-shifted trials",
            )
        )
    segs.append(("", "."))
    return segs


def _gap_item(e: EventView, model: ReportModel) -> list[Segment]:
    track = e.tracks[0] if e.tracks else "?"
    segs: list[Segment] = [
        ("b", track),
        ("", f": no position reports for {fmt_duration(e.duration_s)}, {_when(e)}"),
    ]
    dist = e.row.get("dist_m")
    if isinstance(dist, float) and math.isfinite(dist):
        segs.append(("", f"; it moved {fmt_km(dist)} meanwhile"))
    for col, words in (
        ("path_zone", "the straight path across the gap passes through"),
        ("near_zone", "one end of the gap is near"),
    ):
        ids = [z for z in str(e.row.get(col) or "").split(";") if z]
        if ids:
            names = []
            for z in ids:
                zv = model.zone_view(z)
                names.append(short_name(zv.zone.name) if zv is not None else z)
            segs.append(("", f"; {words} "))
            segs.append(("b", ", ".join(names)))
    label = e.row.get("label")
    if label == "dark":
        segs.append(
            ("", " (other tracks were heard nearby meanwhile: the track itself was silent)")
        )
    elif label == "low coverage":
        segs.append(("", " (few other reports nearby meanwhile: the receivers may have been deaf)"))
    segs.append(("", "."))
    return segs


def _generic_item(e: EventView) -> list[Segment]:
    segs: list[Segment] = []
    for i, t in enumerate(e.tracks):
        if i:
            segs.append(("", ", "))
        segs.append(("b", t))
    segs.append(("", f": {e.what}, {_when(e, extra=[fmt_duration(e.duration_s)])}"))
    if e.evidence:
        segs.append(("", f" (evidence: {e.evidence})"))
    segs.append(("", "."))
    return segs


def summarize(model: ReportModel) -> list[Section]:
    """The summary sections of a report, generated from its events.

    Sections, in order: what was analysed; territorial and other non-ADIZ zone visits;
    ADIZ entries; near passes; possible entries; formations (joint first); reporting gaps;
    other event kinds; zone caveats; how sure.
    """
    sections: list[Section] = []
    evs = model.events
    files = sorted({display_path(s) for s in model.sources})
    utc, local = span_text(model.t_start_ns, model.t_end_ns, model.local_zones)
    lede: list[Segment] = [
        ("", f"From {model.n_fixes} position reports of {len(model.tracks)} tracks in "),
    ]
    for i, f in enumerate(files):
        if i:
            lede.append(("", ", "))
        lede.append(("b", f))
    lede.append(("", f", {utc}" + (f" ({local})" if local else "") + ". "))
    visits = [e for e in evs if e.kind == "crossing" and e.evidence in VISIT]
    kinds = Counter(_kind_noun(e.zone_kind).removeprefix("an ").removeprefix("a ") for e in visits)
    counts = Counter(e.kind for e in evs if e.kind != "crossing")
    found = [
        f"{len(visits)} zone visit{'s' if len(visits) != 1 else ''}"
        + (
            " (" + ", ".join(f"{n} in {k}" for k, n in sorted(kinds.items())) + ")"
            if visits
            else ""
        )
    ]
    n_near = sum(1 for e in evs if e.evidence == "near")
    if n_near:
        found.append(f"{n_near} near pass{'es' if n_near != 1 else ''}")
    n_possible = sum(1 for e in evs if e.evidence == "possible")
    if n_possible:
        found.append(f"{n_possible} possible entr{'ies' if n_possible != 1 else 'y'}")
    for k, n in sorted(counts.items()):
        found.append(f"{n} {k} event{'s' if n != 1 else ''}")
    lede.append(("", "According to these tracks, patrolwatch found " + _join(found) + "."))
    sections.append(Section("lede", "What was analysed", intro=lede))

    main = [e for e in visits if e.zone_kind != "adiz"]
    foreign = [e for e in main if not _own_claimant(model, e)]
    own = [e for e in main if _own_claimant(model, e)]
    if foreign:
        sec = Section(
            "visits",
            "Zone visits (territorial and other zones)",
            intro=[
                (
                    "",
                    "Zones other than ADIZs entered by tracks whose operator is not a claimant "
                    "of the zone, earliest first.",
                )
            ],
        )
        sec.items = [_visit_item(g, model) for g in _visit_groups(foreign)]
        sections.append(sec)
    if own:
        sec = Section(
            "own",
            "Visits by a claimant's own tracks",
            intro=[("", "Tracks operated by a state that claims the zone they entered.")],
        )
        sec.items = [_visit_item(g, model) for g in _visit_groups(own)]
        sections.append(sec)
    adiz = [e for e in visits if e.zone_kind == "adiz"]
    if adiz:
        sec = Section(
            "adiz",
            "ADIZ entries",
            intro=[
                (
                    "",
                    "An air defense identification zone (ADIZ) is declared by a state over "
                    "international airspace so that it can ask aircraft to identify "
                    "themselves; it is not that state's sovereign airspace.",
                )
            ],
        )
        sec.items = [_visit_item(g, model) for g in _visit_groups(adiz)]
        sections.append(sec)
    near = sorted((e for e in evs if e.evidence == "near"), key=lambda e: e.t0_ns or 0)
    if near:
        sec = Section("near", "Near passes (stayed outside)")
        sec.items = [_near_item(e, model) for e in near]
        sections.append(sec)
    possible = [e for e in evs if e.evidence == "possible"]
    if possible:
        sec = Section("possible", "Possible entries (not shown by the positions)")
        sec.items = [_possible_item(e, model) for e in possible]
        sections.append(sec)
    forms = [e for e in evs if e.kind == "formation"]
    if forms:
        forms.sort(key=lambda e: (not e.row.get("joint"), e.t0_ns or 0))
        sec = Section(
            "formations",
            "Formations (tracks flying together)",
            intro=[("", "Joint formations (members of different operators) first.")],
        )
        sec.items = [_formation_item(e, model) for e in forms]
        sections.append(sec)
    gaps = sorted((e for e in evs if e.kind == "gap"), key=lambda e: e.t0_ns or 0)
    if gaps:
        sec = Section(
            "gaps",
            "Reporting gaps",
            intro=[
                (
                    "",
                    "Nothing is known of a track during a gap; crossings inside one are "
                    "inferred from the path between the reports either side.",
                )
            ],
        )
        sec.items = [_gap_item(e, model) for e in gaps]
        sections.append(sec)
    others = [e for e in evs if e.kind not in ("crossing", "formation", "gap")]
    if others:
        sec = Section("other", "Other events")
        sec.items = [_generic_item(e) for e in sorted(others, key=lambda e: e.t0_ns or 0)]
        sections.append(sec)
    caveat_items: list[list[Segment]] = []
    used = {e.zone_id for e in evs if e.zone_id}
    for zv in model.zones:
        z = zv.zone
        if z.id not in used:
            continue
        text = z.caveat
        if not z.complete:
            text = ("The source marks this zone incomplete. " + text).strip()
        if text:
            caveat_items.append([("b", short_name(z.name)), ("", ": "), ("q", text)])
    if caveat_items:
        sec = Section("caveats", "Zone caveats (from the zone sources)")
        sec.items = caveat_items
        sections.append(sec)
    sections.append(
        Section(
            "how",
            "How sure",
            intro=[
                (
                    "",
                    "These findings are what the reported positions show when a vehicle is "
                    "assumed to move along the shortest (geodesic) path at constant speed "
                    "between two reports; they are only as good as the input data and the "
                    "zone boundaries. Evidence words: observed = at least one reported "
                    "position lies inside; interpolated = only the path between two reports "
                    "crosses the zone; possible = the zone was reachable between two reports "
                    "at the stated maximum speed; near = stayed outside within the stated "
                    "distance. Each event in the table lists the input lines it rests on.",
                )
            ],
        )
    )
    return sections
