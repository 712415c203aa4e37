"""The ``patrolwatch`` command line. It parses arguments, calls the public API, prints.

Exit codes: 0 on success, 2 on bad usage or bad input (the message says what, where and
how to fix it), 1 on an unexpected internal error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console

from ._version import __version__
from .errors import ConfigError, PatrolwatchError
from .units import KT_MPS, distance_to_m

__all__ = ["main"]

EPILOG = """\
examples:
  patrolwatch crossings tracks.csv --zones zones.geojson --out events.csv
  patrolwatch crossings tracks.csv --zones zones.geojson --near 30km --out events.json
  patrolwatch crossings ais.csv --assume-tz UTC --zones eez.geojson --max-speed 30kt --out v.parquet

An ADIZ entry is reported as an ADIZ entry: an ADIZ is not sovereign airspace.
"""


def speed_to_mps(text: str) -> float:
    """Parse a speed such as ``"250"`` (m/s), ``"250mps"``, ``"480kt"``, ``"900kmh"``.

    Examples
    --------
    >>> speed_to_mps("480kt") == 480 * KT_MPS
    True
    >>> speed_to_mps("36kmh")
    10.0
    """
    s = text.strip().lower().replace(" ", "").replace("/", "")
    units = {"mps": 1.0, "ms": 1.0, "kt": KT_MPS, "kts": KT_MPS, "kn": KT_MPS, "kmh": 1 / 3.6}
    for unit in sorted(units, key=len, reverse=True):
        if s.endswith(unit):
            number = s[: -len(unit)]
            break
    else:
        unit, number = "mps", s
    try:
        value = float(number) * units[unit]
    except ValueError:
        raise ConfigError(
            f"cannot read speed {text!r}: use a number with m/s, kt or km/h, e.g. 480kt"
        ) from None
    if value <= 0:
        raise ConfigError(f"speed must be positive, got {text!r}")
    return value


def _distance(text: str) -> float:
    try:
        value = distance_to_m(text)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if value <= 0:
        raise ConfigError(f"distance must be positive, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patrolwatch",
        description=(
            "Answer, from raw position reports, which aircraft or ships entered which zones, "
            "exactly when and where, and how sure we can be."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"patrolwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "crossings",
        help="every visit of every track to every zone, with interpolated entry and exit",
        description=(
            "Find every visit of every track to every zone. Entry and exit are interpolated "
            "along the WGS84 geodesic between the bracketing fixes; buffer zones (e.g. 12 NM "
            "around an islet) use exact geodesic distance. Writes CSV, Parquet or JSON by "
            "the suffix of --out. Times are UTC (ISO 8601, 'Z')."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("tracks", nargs="+", metavar="TRACKS", help="CSV or Parquet track files")
    src = p.add_argument_group("zones (at least one of)")
    src.add_argument(
        "--zones",
        action="append",
        default=[],
        metavar="FILE",
        help="zone file (repeatable): GeoJSON, OpenAir, GeoPackage, Shapefile, KML/KMZ, GeoParquet",
    )
    _add_zone_field_options(src)
    src.add_argument(
        "--catalog",
        metavar="NAME",
        help="built-in zone catalog, e.g. 'nea' (Northeast Asia ADIZs and territorial limits)",
    )
    p.add_argument(
        "--out", required=True, metavar="FILE", help="output file: .csv, .parquet or .json"
    )
    p.add_argument(
        "--near",
        metavar="DIST",
        help="also report tracks that came within DIST of a zone's feature without "
        "entering (e.g. 30km, 12nm, 5000m)",
    )
    p.add_argument(
        "--max-speed",
        metavar="SPEED",
        help="reject fixes needing more than SPEED, and report zones that could have been "
        "entered between fixes at that speed (evidence 'possible'); e.g. 300mps, 600kt",
    )
    p.add_argument(
        "--assume-tz",
        metavar="TZ",
        help="time zone of input times written without one (e.g. UTC, Asia/Seoul, +09:00); "
        "without it such times are refused",
    )
    cols = p.add_argument_group("column overrides (default: detected by name)")
    for role in ("track_id", "time", "lat", "lon", "alt", "operator", "type", "callsign"):
        cols.add_argument(
            f"--{role.replace('_', '-')}-col", dest=f"col_{role}", metavar="NAME", default=None
        )
    p.add_argument("--rejects", metavar="FILE", help="write rejected input rows with reasons (CSV)")
    p.add_argument("--strict", action="store_true", help="stop at the first rejected row")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    _add_engine_options(p)
    z = sub.add_parser(
        "zones",
        help="list, show, export or check zones (built-in catalogs and your files)",
        description="Inspect the built-in zone catalogs and validate zone files.",
    )
    zsub = z.add_subparsers(dest="zones_command", metavar="ACTION")
    zl = zsub.add_parser("list", help="one line per zone: id, kind, claimants, source")
    zl.add_argument("--catalog", default="nea", metavar="NAME", help="catalog (default: nea)")
    zs = zsub.add_parser("show", help="every property of one zone, with source and caveat")
    zs.add_argument("zone_id", metavar="ZONE_ID")
    zs.add_argument("--catalog", default="nea", metavar="NAME", help="catalog (default: nea)")
    ze = zsub.add_parser("export", help="write a catalog's zones as GeoJSON")
    ze.add_argument("--catalog", default="nea", metavar="NAME", help="catalog (default: nea)")
    ze.add_argument("--out", required=True, metavar="FILE", help="output .geojson file")
    zc = zsub.add_parser("check", help="validate a zone file and explain every problem")
    zc.add_argument("files", nargs="+", metavar="FILE", help="zone files (any format)")
    _add_analyze_parsers(sub)
    from ._cli_joint import add_joint_parsers

    add_joint_parsers(sub)
    from .serve.command import add_serve_parser

    add_serve_parser(sub)
    _add_ingest_parser(sub)
    return parser


def _add_ingest_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``ingest`` subcommand (see :mod:`patrolwatch.io.dispatch`)."""
    from .io.dispatch import FORMATS

    g = sub.add_parser(
        "ingest",
        help="read track files of any format (AIS NMEA, AIS/ADS-B tables, readsb, GPX, KML), "
        "clean them and write GeoParquet plus ingest_report.json",
        description=(
            "Read track files (format inferred from content; compressed files read as they "
            "are), clean identities (duplicates, silences, impossible jumps, ids shared by two "
            "vehicles, speed outliers) and write the clean fixes to --out as GeoParquet (a WKB "
            "point 'geometry' column, WGS84 lon/lat, with 'geo' metadata, plus lat_deg and "
            "lon_deg) and ingest_report.json beside it. Every input row is used or rejected "
            "with a reason."
        ),
    )
    g.add_argument("inputs", nargs="+", metavar="INPUT", help="track files (any format)")
    g.add_argument("--out", required=True, metavar="FILE", help="output .parquet file")
    g.add_argument("--format", default="auto", choices=FORMATS, help="default: auto")
    g.add_argument(
        "--date",
        metavar="DATE",
        help="AIS NMEA without any timestamp: YYYY-MM-DD (or a UTC minute such as "
        "2021-01-02T10:05Z) the recording starts in; fixes are timed by their UTC second",
    )
    g.add_argument(
        "--split-gap",
        default="auto",
        metavar="DURATION",
        help="split a track where its id is silent longer than this (e.g. 30min, 6h); "
        "'auto' (default): 6h for ships, 30min for aircraft; 'off' never",
    )
    g.add_argument("--assume-tz", metavar="TZ", help="zone of times written without one")
    g.add_argument("--max-speed", metavar="SPEED", help="speed limit (default: by class)")
    g.add_argument(
        "--shared-ids",
        choices=("separate", "reject"),
        default="separate",
        help="ids used by two vehicles at once: separate them (default) or reject them",
    )
    g.add_argument("--no-clean", action="store_true", help="no identity cleaning")
    g.add_argument("--rejects", metavar="FILE", help="also write the rejected rows (CSV)")
    g.add_argument("--strict", action="store_true", help="stop at the first rejected row")
    g.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def _cmd_ingest(args: argparse.Namespace, console: Console) -> int:
    import json

    from ._api import read_tracks
    from .io.geoparquet import write_geoparquet

    out = Path(args.out)
    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"--out {out}: the clean tracks are GeoParquet; use a .parquet name")
    gap = args.split_gap.strip().lower()
    if gap == "auto":
        split: float | str | None = "auto"
    elif gap in ("off", "none", "no"):
        split = None
    else:
        from ._analyze import parse_duration_s

        split = parse_duration_s(args.split_gap)
    t0 = time.perf_counter()
    with console.status("reading tracks…"):
        tracks, rejects, report = read_tracks(
            args.inputs,
            format=args.format,
            assume_tz=args.assume_tz,
            date=args.date,
            max_speed_mps=speed_to_mps(args.max_speed) if args.max_speed else None,
            strict=args.strict,
            clean=not args.no_clean,
            split_gap_s=split,  # type: ignore[arg-type]
            shared_ids=args.shared_ids,
        )
    if report.rows_read != report.rows_used + report.rows_rejected:  # pragma: no cover
        raise AssertionError("row accounting failed")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_geoparquet(tracks, out)
    report_path = out.parent / "ingest_report.json"
    doc = report.to_dict()
    doc["output"] = str(out)
    report_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    console.print(
        f"format: {report.format}; read {report.rows_read} rows: {report.rows_used} used, "
        f"{report.rows_rejected} rejected"
        + (
            " (" + ", ".join(f"{k}: {v}" for k, v in report.rejected_by_reason.items()) + ")"
            if report.rows_rejected
            else ""
        )
        + f"; {report.n_tracks} tracks, {len(tracks)} fixes, {report.time_start} to "
        f"{report.time_end}",
        highlight=False,
    )
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    if args.rejects:
        import pyarrow.csv as pacsv

        Path(args.rejects).parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(rejects.to_arrow(), args.rejects)
        console.print(f"rejected rows written to {args.rejects}", highlight=False)
    console.print(
        f"wrote {out} and {report_path} ({time.perf_counter() - t0:.1f} s)", highlight=False
    )
    return 0


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine (same results on either)")
    g.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: this process (default); dask: partitioned on a Dask cluster, from a "
        "folder of (hive-partitioned) Parquet or any files (needs patrolwatch[dask]); with "
        "dask, --out may be a folder: Parquet per partition, plus events.csv when small",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDR|local",
        default=None,
        help="with --engine dask: a running scheduler (tcp://host:8786) or 'local' "
        "(default: a LocalCluster sized to this machine); see docs/scale.md",
    )


def _cmd_zones(args: argparse.Namespace, console: Console) -> int:
    out = Console()
    action = args.zones_command
    if action is None:
        raise ConfigError("say what to do: patrolwatch zones list|show|export|check (see --help)")
    if action == "check":
        from .io.zones_ogr import check_zone_file

        bad = 0
        for path in args.files:
            zones, problems = check_zone_file(path)
            for problem in problems:
                out.print(f"[red]problem:[/] {problem}", highlight=False)
            bad += len(problems)
            out.print(
                f"{path}: {len(zones)} valid zone(s), {len(problems)} problem(s)", highlight=False
            )
        return 2 if bad else 0
    from .catalog import catalog_zone, load_catalog

    if action == "show":
        zone = catalog_zone(args.catalog, args.zone_id)
        fields = {
            "id": zone.id,
            "name": zone.name,
            "kind": zone.kind,
            "claimants": ";".join(zone.claimants),
            "geometry": f"{zone.geometry.geom_type}, bounds "
            f"{tuple(round(v, 4) for v in zone.geometry.bounds)}",
            "buffer_m": "" if not zone.is_buffer else f"{zone.buffer_m:.1f}",
            "edges": zone.edges,
            "complete": str(zone.complete),
            "source": zone.source,
            "as_of": zone.as_of,
            "caveat": zone.caveat,
        }
        for key, value in fields.items():
            out.print(f"[bold]{key}[/]: {value}", highlight=False)
        return 0
    cat = load_catalog(args.catalog)
    if action == "list":
        from rich.table import Table

        table = Table(title=f"catalog {args.catalog!r}", show_lines=False)
        for col in ("id", "kind", "claimants", "complete", "as_of", "source", "caveat"):
            table.add_column(col, overflow="fold")
        for zone in list(cat.zones) + list(cat.incomplete):
            table.add_row(
                zone.id,
                zone.kind,
                ";".join(zone.claimants),
                "yes" if zone.complete and zone not in cat.incomplete else "NO (not used)",
                zone.as_of,
                zone.source[:120],
                zone.caveat[:160],
            )
        out.print(table)
        for note in cat.notes:
            out.print(f"note: {note}", highlight=False)
        return 0
    if action == "export":
        import json

        from .core.zones import Zones

        target = Path(args.out)
        target.parent.mkdir(parents=True, exist_ok=True)
        doc = Zones(list(cat.zones)).to_geojson()
        target.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"wrote {len(cat.zones)} zones to {target}", highlight=False)
        return 0
    raise ConfigError(f"unknown zones action {action!r}")  # pragma: no cover


def _add_zone_field_options(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument(
        "--id-field", default="id", metavar="NAME", help="column/property holding zone ids"
    )
    p.add_argument("--kind", metavar="KIND", help="kind of zones without one, e.g. adiz")
    p.add_argument("--claimants", metavar="CODES", help="claimants of zones without, e.g. KOR")
    p.add_argument(
        "--zone-map",
        metavar="FILE",
        help='JSON object mapping zone properties to your columns, e.g. {"name": "NAME_EN"}',
    )
    p.add_argument("--zone-crs", metavar="CRS", help="CRS of zone files without one")


def _zone_field_options(args: argparse.Namespace) -> dict[str, Any]:
    """read_zones keyword arguments from --id-field, --kind, --claimants, --zone-map."""
    import json

    mapping = None
    if getattr(args, "zone_map", None):
        try:
            with open(args.zone_map, encoding="utf-8") as fh:
                mapping = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"--zone-map {args.zone_map}: cannot read it ({exc})") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ConfigError(
                f'--zone-map {args.zone_map}: write a JSON object such as {{"name": "NAME_EN"}}'
            )
    return {
        "id_field": getattr(args, "id_field", "id"),
        "kind": getattr(args, "kind", None),
        "claimants": getattr(args, "claimants", None),
        "mapping": mapping,
        "crs": getattr(args, "zone_crs", None),
    }


def _load_zones(args: argparse.Namespace, console: Console) -> object:
    from ._api import read_zones
    from .core.zones import Zones

    zones = Zones()
    if args.catalog:
        try:
            from .catalog import load_catalog
        except ImportError:  # pragma: no cover - the catalog ships with the package
            raise ConfigError(f"catalog {args.catalog!r} is not available in this build") from None
        with console.status(f"loading catalog {args.catalog!r}…"):
            cat = load_catalog(args.catalog)
        zones = zones + cat.zones
        for note in cat.notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
    if args.zones:
        zones = zones + read_zones(args.zones, **_zone_field_options(args))
    if len(zones) == 0:
        raise ConfigError("no zones: give --zones FILE (GeoJSON) or --catalog NAME (e.g. nea)")
    return zones


def _cmd_crossings(args: argparse.Namespace, console: Console) -> int:
    with ExitStack() as stack:  # closes the Dask client (and local cluster) of --engine dask
        return _run_crossings(args, console, stack)


def _run_crossings(args: argparse.Namespace, console: Console, stack: ExitStack) -> int:
    from collections import Counter

    from ._api import crossings, read_tracks
    from .core.zones import Zones
    from .report.tables import OUTPUT_FORMATS, write_events
    from .scale import expand_inputs

    out = Path(args.out)
    dask = args.engine == "dask"
    if args.scheduler and not dask:
        raise ConfigError("--scheduler needs --engine dask")
    if out.suffix.lower() not in OUTPUT_FORMATS and not (dask and out.suffix == ""):
        raise ConfigError(
            f"--out {out}: unknown suffix {out.suffix!r}; use one of {', '.join(OUTPUT_FORMATS)}"
            + (" or, with --engine dask, a folder" if dask else "")
        )
    near_m = _distance(args.near) if args.near else None
    max_speed = speed_to_mps(args.max_speed) if args.max_speed else None
    columns = {
        role: getattr(args, f"col_{role}")
        for role in ("track_id", "time", "lat", "lon", "alt", "operator", "type", "callsign")
        if getattr(args, f"col_{role}")
    }
    zones = _load_zones(args, console)
    assert isinstance(zones, Zones)
    t0 = time.perf_counter()
    paths = expand_inputs(args.tracks)
    with console.status("reading tracks…"):
        if dask:
            from .scale import dask as pw_dask

            client = stack.enter_context(pw_dask.connect(args.scheduler))
            dread = pw_dask.read_tracks(
                paths,
                client=client,
                columns=columns or None,
                assume_tz=args.assume_tz,
                max_speed_mps=max_speed,
                strict=args.strict,
            )
            rejects, report = dread.rejects, dread.report
        else:
            tracks, rejects, report = read_tracks(
                paths,
                columns=columns or None,
                assume_tz=args.assume_tz,
                max_speed_mps=max_speed,
                strict=args.strict,
            )
    console.print(
        f"read {report.rows_read} rows: {report.rows_used} used, {report.rows_rejected} rejected"
        + (
            " (" + ", ".join(f"{k}: {v}" for k, v in report.rejected_by_reason.items()) + ")"
            if report.rows_rejected
            else ""
        )
        + f"; {report.n_tracks} tracks",
        highlight=False,
    )
    console.print(
        "columns: " + ", ".join(f"{k}={v}" for k, v in report.columns.items()), highlight=False
    )
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    if args.rejects:
        import pyarrow.csv as pacsv

        Path(args.rejects).parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(rejects.to_arrow(), args.rejects)
        console.print(f"rejected rows written to {args.rejects}", highlight=False)
    with console.status(f"finding crossings of {report.rows_used} fixes with {len(zones)} zones…"):
        if dask:
            pev = pw_dask.crossings(dread.tracks, zones, near_m=near_m, max_speed_mps=max_speed)
            pw_dask.write_output(pev, out)
            counts = Counter(pev.counts("zone_kind", "evidence"))
        else:
            events = crossings(tracks, zones, near_m=near_m, max_speed_mps=max_speed)
            write_events(events, out)
            counts = Counter(
                zip(events.column("zone_kind"), events.column("evidence"), strict=True)
            )
    elapsed = time.perf_counter() - t0
    visit_kinds: Counter[str] = Counter()
    by_evidence: Counter[str] = Counter()
    for (kind, evidence), n in counts.items():
        by_evidence[str(evidence)] += n
        if evidence in ("observed", "interpolated"):
            visit_kinds[str(kind)] += n
    n_visits = sum(visit_kinds.values())
    summary = ", ".join(f"{e}: {by_evidence[e]}" for e in sorted(by_evidence))
    console.print(
        f"{n_visits} zone visits ({visit_kinds['adiz']} ADIZ, "
        f"{visit_kinds['territorial']} territorial, "
        f"{n_visits - visit_kinds['adiz'] - visit_kinds['territorial']} other)"
        + (f"; rows by evidence: {summary}" if summary else "")
        + f"; {elapsed:.2f} s",
        highlight=False,
    )
    console.print(f"wrote {out}", highlight=False)
    return 0


def _add_analyze_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``analyze`` and ``plot`` subcommands."""
    from ._analyze import DEFAULT_MIN_GAP_S, DEFAULT_NEAR_M

    a = sub.add_parser(
        "analyze",
        help="everything at once: crossings, formations, gaps; offline HTML report, PNG map, "
        "manifest",
        description=(
            "Run every detector and write to --out DIR: events.csv/.parquet, formations.csv, "
            "report.html (self-contained, works offline), map.png, ingest_report.json and "
            "manifest.json (SHA-256 of every input, every parameter). Re-run exactly with "
            "'patrolwatch analyze --manifest DIR/manifest.json --out DIR2'."
        ),
    )
    a.add_argument("tracks", nargs="*", metavar="TRACKS", help="CSV or Parquet track files")
    a.add_argument("--zones", action="append", default=[], metavar="FILE", help="zone file")
    _add_zone_field_options(a)
    a.add_argument("--catalog", metavar="NAME", help="built-in zone catalog, e.g. 'nea'")
    a.add_argument("--out", required=True, metavar="DIR", help="output folder")
    a.add_argument(
        "--near",
        default=f"{DEFAULT_NEAR_M / 1000:g}km",
        metavar="DIST",
        help="report near passes within DIST of a zone's feature (default: %(default)s; "
        "'off' to disable)",
    )
    a.add_argument("--max-speed", metavar="SPEED", help="e.g. 600kt; rejects and 'possible'")
    a.add_argument("--assume-tz", metavar="TZ", help="zone of times written without one")
    a.add_argument(
        "--min-gap",
        default=f"{DEFAULT_MIN_GAP_S:g}s",
        metavar="DURATION",
        help="silences longer than this are gaps (default: %(default)s)",
    )
    a.add_argument("--title", metavar="TEXT", help="report title")
    a.add_argument("--no-png", action="store_true", help="do not draw map.png")
    a.add_argument(
        "--manifest",
        metavar="FILE",
        help="re-run the analysis recorded in a manifest.json (inputs checked by SHA-256)",
    )
    a.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    _add_engine_options(a)
    pl = sub.add_parser(
        "plot",
        help="a static PNG map of tracks, zones and crossings",
        description="Draw tracks, zones, entries, exits and closest approaches as a PNG.",
    )
    pl.add_argument("tracks", nargs="+", metavar="TRACKS", help="CSV or Parquet track files")
    pl.add_argument("--zones", action="append", default=[], metavar="FILE", help="zone file")
    _add_zone_field_options(pl)
    pl.add_argument("--catalog", metavar="NAME", help="built-in zone catalog, e.g. 'nea'")
    pl.add_argument("--out", required=True, metavar="FILE", help="output .png")
    pl.add_argument("--near", metavar="DIST", help="also mark near passes within DIST")
    pl.add_argument("--assume-tz", metavar="TZ", help="zone of times written without one")
    pl.add_argument("--title", metavar="TEXT", help="map title")
    pl.add_argument("--dpi", type=int, default=200, help="resolution (default: %(default)s)")
    pl.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def _cmd_analyze(args: argparse.Namespace, console: Console, argv: Sequence[str]) -> int:
    from ._analyze import analyze, analyze_manifest, parse_duration_s

    if args.scheduler and args.engine != "dask":
        raise ConfigError("--scheduler needs --engine dask")
    if args.engine == "dask" and args.manifest:
        raise ConfigError("--manifest replays on one machine: give no --engine dask")
    command = ["patrolwatch", *argv]
    t0 = time.perf_counter()
    with console.status("analysing…"):
        if args.manifest:
            if args.tracks or args.zones or args.catalog:
                raise ConfigError("--manifest takes its inputs from the manifest: give no TRACKS")
            result = analyze_manifest(
                args.manifest, out=args.out, png=not args.no_png, command=command
            )
        else:
            if not args.tracks:
                raise ConfigError("give TRACKS files, or --manifest FILE to re-run an analysis")
            near = None if args.near.strip().lower() == "off" else _distance(args.near)
            result = analyze(
                args.tracks,
                out=args.out,
                zones=args.zones,
                catalog=args.catalog,
                near_m=near,
                max_speed_mps=speed_to_mps(args.max_speed) if args.max_speed else None,
                assume_tz=args.assume_tz,
                min_gap_s=parse_duration_s(args.min_gap),
                title=args.title,
                png=not args.no_png,
                command=command,
                engine=args.engine,
                scheduler=args.scheduler,
            )
    ing = result.ingest
    console.print(
        f"read {ing.rows_read} rows: {ing.rows_used} used, {ing.rows_rejected} rejected; "
        f"{ing.n_tracks} tracks",
        highlight=False,
    )
    counts = result.manifest.get("counts", {})
    console.print(
        "events: "
        + ", ".join(f"{k}: {v}" for k, v in counts.items() if k != "events")
        + f" ({time.perf_counter() - t0:.1f} s)",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    for name, path in result.files.items():
        console.print(f"wrote {path}  ({name})", highlight=False)
    return 0


def _cmd_plot(args: argparse.Namespace, console: Console) -> int:
    from ._api import crossings, read_tracks
    from .core.zones import Zones
    from .report.png import plot_map

    if not args.out.lower().endswith(".png"):
        raise ConfigError(f"--out {args.out}: the map is a PNG; use a .png file name")
    zones = _load_zones(args, console)
    assert isinstance(zones, Zones)
    tracks, _rejects, _report = read_tracks(args.tracks, assume_tz=args.assume_tz)
    events = crossings(tracks, zones, near_m=_distance(args.near) if args.near else None)
    out = plot_map(
        tracks,
        zones,
        args.out,
        events=events,
        title=args.title or "patrolwatch map",
        dpi=args.dpi,
    )
    console.print(f"wrote {out}", highlight=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    console = Console(stderr=True, quiet=bool(getattr(args, "quiet", False)))
    err = Console(stderr=True)
    try:
        if args.command == "crossings":
            return _cmd_crossings(args, console)
        if args.command == "zones":
            return _cmd_zones(args, console)
        if args.command in ("formations", "gaps", "encounters"):
            from ._cli_joint import run_joint

            return run_joint(args, console)
        if args.command == "analyze":
            return _cmd_analyze(args, console, sys.argv[1:] if argv is None else list(argv))
        if args.command == "plot":
            return _cmd_plot(args, console)
        if args.command == "ingest":
            return _cmd_ingest(args, console)
        if args.command == "serve":
            from .serve.command import run_serve

            return run_serve(args, console)
    except PatrolwatchError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except FileNotFoundError as exc:
        err.print(
            f"[bold red]error:[/] {exc.filename}: no such file; check the path", highlight=False
        )
        return 2
    parser.print_help()
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
