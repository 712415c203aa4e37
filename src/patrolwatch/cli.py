"""The ``patrolwatch`` command line. It parses arguments, calls the public API, prints.

Exit codes: 0 on success, 2 on bad usage or bad input (the message says what, where and
how to fix it), 1 on an unexpected internal error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from . import __version__
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
        help="GeoJSON zone file (repeatable)",
    )
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
    zc.add_argument("files", nargs="+", metavar="FILE", help="GeoJSON zone files")
    return parser


def _cmd_zones(args: argparse.Namespace, console: Console) -> int:
    out = Console()
    action = args.zones_command
    if action is None:
        raise ConfigError("say what to do: patrolwatch zones list|show|export|check (see --help)")
    if action == "check":
        from .io.geojson import check_geojson_zones

        bad = 0
        for path in args.files:
            zones, problems = check_geojson_zones(path)
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
        zones = zones + read_zones(args.zones)
    if len(zones) == 0:
        raise ConfigError("no zones: give --zones FILE (GeoJSON) or --catalog NAME (e.g. nea)")
    return zones


def _cmd_crossings(args: argparse.Namespace, console: Console) -> int:
    from ._api import crossings, read_tracks
    from .core.zones import Zones
    from .report.tables import OUTPUT_FORMATS, write_events

    out = Path(args.out)
    if out.suffix.lower() not in OUTPUT_FORMATS:
        raise ConfigError(
            f"--out {out}: unknown suffix {out.suffix!r}; use one of {', '.join(OUTPUT_FORMATS)}"
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
    with console.status("reading tracks…"):
        tracks, rejects, report = read_tracks(
            args.tracks,
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
    with console.status(f"finding crossings of {len(tracks)} fixes with {len(zones)} zones…"):
        events = crossings(tracks, zones, near_m=near_m, max_speed_mps=max_speed)
    write_events(events, out)
    elapsed = time.perf_counter() - t0
    ev = events.column("evidence")
    kinds = events.column("zone_kind")
    visits = [k for k, e in zip(kinds, ev, strict=True) if e in ("observed", "interpolated")]
    summary = ", ".join(f"{e}: {ev.count(e)}" for e in sorted(set(ev)))
    console.print(
        f"{len(visits)} zone visits ({visits.count('adiz')} ADIZ, "
        f"{visits.count('territorial')} territorial, "
        f"{len(visits) - visits.count('adiz') - visits.count('territorial')} other)"
        + (f"; rows by evidence: {summary}" if summary else "")
        + f"; {elapsed:.2f} s",
        highlight=False,
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
