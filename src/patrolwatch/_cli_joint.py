"""CLI subcommands for joint activity: ``formations``, ``gaps``, ``encounters``.

Each parses its arguments, calls the public detectors and writes the events by suffix.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from .errors import ConfigError

__all__ = ["add_joint_parsers", "run_joint"]

JOINT_COMMANDS = ("formations", "gaps", "encounters")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("tracks", nargs="+", metavar="TRACKS", help="track files (CSV, Parquet, ...)")
    p.add_argument("--out", required=True, metavar="FILE", help="output: .csv, .parquet or .json")
    p.add_argument(
        "--assume-tz",
        metavar="TZ",
        help="time zone of input times written without one (e.g. UTC); else they are refused",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def add_joint_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the joint-activity subcommands on the CLI's subparsers."""
    f = sub.add_parser(
        "formations",
        help="groups of tracks flying or sailing together (joint when operators differ)",
        description=(
            "Find formations: two or more tracks within --max-sep horizontally and, where "
            "both report altitude, --max-vsep vertically, for at least --min-duration, "
            "tolerating drop-outs under --max-dropout. One row per episode of constant "
            "membership; group_id links the episodes of one evolving group."
        ),
    )
    _common(f)
    f.add_argument("--max-sep", default="5km", metavar="DIST", help="default 5km")
    f.add_argument("--max-vsep", default="300m", metavar="DIST", help="default 300m")
    f.add_argument("--min-duration", default="5min", metavar="DUR", help="default 5min")
    f.add_argument("--max-dropout", default="2min", metavar="DUR", help="default 2min")
    f.add_argument(
        "--zones", action="append", default=[], metavar="FILE", help="zones crossed together"
    )
    f.add_argument("--catalog", metavar="NAME", help="built-in zone catalog, e.g. nea")

    g = sub.add_parser(
        "gaps",
        help="reporting gaps (transponders silent), dark vs low coverage",
        description=(
            "Find silences longer than --min-gap (default: 5min for --source adsb, 6h for "
            "--source ais, as Global Fishing Watch logs them), with where they started and "
            "ended and whether they began near a zone."
        ),
    )
    _common(g)
    g.add_argument("--source", choices=("adsb", "ais"), default="adsb", help="default adsb")
    g.add_argument("--min-gap", metavar="DUR", help="override the default minimum gap")
    g.add_argument("--zones", action="append", default=[], metavar="FILE", help="zone files")
    g.add_argument("--catalog", metavar="NAME", help="built-in zone catalog, e.g. nea")

    e = sub.add_parser(
        "encounters",
        help="ships meeting at sea (and loitering), Global Fishing Watch's definitions",
        description=(
            "Encounters: two vessels within 500 m for at least 2 h at a median speed under "
            "2 kn, at least 10 km from the coast; loitering: one vessel under 2 kn for 4 h, "
            "20 NM from shore. The coast is the built-in land of the 'nea' region."
        ),
    )
    _common(e)


def _zones(args: argparse.Namespace) -> object:
    from ._api import read_zones
    from .core.zones import Zones

    zones = Zones()
    if getattr(args, "catalog", None):
        from .catalog import load_catalog

        zones = zones + load_catalog(args.catalog).zones
    if getattr(args, "zones", None):
        zones = zones + read_zones(args.zones)
    return zones if len(zones) else None


def run_joint(args: argparse.Namespace, console: Console) -> int:
    """Run one joint-activity subcommand; returns the exit code."""
    from ._analyze import parse_duration_s
    from ._api import read_tracks
    from .core.events import Events
    from .core.zones import Zones
    from .report.tables import OUTPUT_FORMATS, write_events
    from .units import distance_to_m

    out = Path(args.out)
    if out.suffix.lower() not in OUTPUT_FORMATS:
        raise ConfigError(
            f"--out {out}: unknown suffix {out.suffix!r}; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    tracks, _rejects, report = read_tracks(args.tracks, assume_tz=args.assume_tz)
    console.print(
        f"read {report.rows_read} rows: {report.rows_used} used, {report.rows_rejected} "
        f"rejected; {report.n_tracks} tracks",
        highlight=False,
    )
    events: Events
    if args.command == "formations":
        from .detect.formations import formations

        try:
            max_sep = distance_to_m(args.max_sep)
            max_vsep = distance_to_m(args.max_vsep)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        zones = _zones(args)
        events = formations(
            tracks,
            max_sep_m=max_sep,
            max_vsep_m=max_vsep,
            min_duration_s=parse_duration_s(args.min_duration),
            max_dropout_s=parse_duration_s(args.max_dropout),
            zones=zones if isinstance(zones, Zones) else None,
        )
        joint = sum(1 for j in events.column("joint") if j) if len(events) else 0
        console.print(f"{len(events)} formation episodes ({joint} joint)", highlight=False)
    elif args.command == "gaps":
        from .detect.gaps import ADSB_MIN_GAP_S, AIS_MIN_GAP_S, gaps

        default = AIS_MIN_GAP_S if args.source == "ais" else ADSB_MIN_GAP_S
        min_gap = parse_duration_s(args.min_gap) if args.min_gap else default
        zones = _zones(args)
        events = gaps(tracks, min_gap_s=min_gap, zones=zones if isinstance(zones, Zones) else None)
        console.print(f"{len(events)} gaps over {min_gap:.0f} s", highlight=False)
    else:
        from ._analyze import _coast
        from .detect.encounters import encounters, loitering

        coast = _coast(tracks)  # the shipped GSHHG land near the tracks (None outside it)
        if coast is None:
            console.print(
                "note: no shipped coastline covers these tracks: the distance-from-shore "
                "rule is not applied (see the coast_rule column)",
                highlight=False,
            )
        events = Events.concat([encounters(tracks, coast=coast), loitering(tracks, coast=coast)])
        console.print(f"{len(events)} encounters and loitering events", highlight=False)
    write_events(events, out)
    console.print(f"wrote {out}", highlight=False)
    return 0
