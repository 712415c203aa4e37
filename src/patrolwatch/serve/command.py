"""The ``patrolwatch serve`` subcommand: its options, and the config they make."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..units import KT_MPS, distance_to_m

__all__ = ["add_serve_parser", "config_from_args", "run_serve"]

SERVE_EPILOG = """\
examples:
  patrolwatch serve --feed nmea+tcp://127.0.0.1:10110 --feed sbs://127.0.0.1:30003 \\
      --catalog nea --rules rules.yaml --api-key-file key.txt
  patrolwatch serve --demo                # replay the bundled 2019-07-23 incident, open the map
  patrolwatch serve --feed 'aircraft-json+http://127.0.0.1:8080/data/aircraft.json?interval=1'

Feeds: nmea+tcp://H:P, nmea+udp://H:P, sbs://H:P[?tz=UTC], aircraft-json+http://H:P/PATH,
nmea+file:///PATH, sbs+file:///PATH, jsonl+file:///PATH (loopback hosts only).
Writes (POST /api/ingest) need the API key; reads too unless --public-read.
"""


def add_serve_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``serve`` to the CLI's subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="live service: feeds, streaming detector, alerts, DuckDB store, web map",
        description=(
            "Run the live service: read AIS and ADS-B feeds, detect zone entries and "
            "formations as fixes arrive (the same detectors as 'crossings' and "
            "'formations'), raise alerts by rules, store "
            "everything in one DuckDB file and serve a REST API, Server-Sent Events and a "
            "live map on http://HOST:PORT/."
        ),
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--feed", action="append", default=[], metavar="SPEC", help="a feed (repeatable)"
    )
    p.add_argument("--zones", action="append", default=[], metavar="FILE", help="GeoJSON zones")
    p.add_argument("--catalog", metavar="NAME", help="built-in zone catalog, e.g. nea")
    p.add_argument(
        "--rules",
        metavar="FILE",
        help="alert rules (YAML); 'example' uses the shipped Northeast Asia rules "
        "(default with --demo)",
    )
    p.add_argument(
        "--db",
        metavar="FILE",
        help="DuckDB file (default patrolwatch.duckdb in the working folder; with --demo a "
        "new temporary file)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="file holding the API key(s), one per line (or set PATROLWATCH_API_KEY)",
    )
    p.add_argument(
        "--public-read", action="store_true", help="let GET requests and the map in without a key"
    )
    p.add_argument("--near", metavar="DIST", help="also report near passes (e.g. 30km)")
    p.add_argument("--max-speed", metavar="SPEED", help="report 'possible' entries (e.g. 600kt)")
    p.add_argument("--lateness", type=float, default=60.0, metavar="S", help="lateness window, s")
    p.add_argument(
        "--evict-after", type=float, default=1800.0, metavar="S", help="idle track eviction, s"
    )
    p.add_argument("--gap", type=float, default=300.0, metavar="S", help="reporting gap, s")
    p.add_argument(
        "--retention",
        metavar="DURATION",
        help="delete fixes older than this (e.g. 7d, 12h, 3600s); default: keep all",
    )
    p.add_argument("--webhook", metavar="URL", help="POST alerts here (signed, retried)")
    p.add_argument(
        "--webhook-secret-file",
        metavar="FILE",
        help="HMAC secret for --webhook (or set PATROLWATCH_WEBHOOK_SECRET)",
    )
    p.add_argument(
        "--max-body", type=int, default=8 * 1024 * 1024, metavar="BYTES", help="request size limit"
    )
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN")
    p.add_argument("--allow-remote-feeds", action="store_true", help="allow non-loopback feeds")
    p.add_argument("--clock", choices=("wall", "stream"), help="time for gaps and eviction")
    p.add_argument(
        "--no-formations",
        action="store_true",
        help="do not follow formations (groups of tracks flying together) live",
    )
    p.add_argument(
        "--formation-sep",
        default="5km",
        metavar="DIST",
        help="largest distance between formation members, as 'formations --max-sep' (default 5km)",
    )
    p.add_argument("--demo", action="store_true", help="replay the bundled incident live")
    p.add_argument("--demo-speed", type=float, default=60.0, metavar="X", help="replay speed")
    p.add_argument("--demo-loop", action="store_true", help="replay again and again")
    return p


def _speed_mps(text: str) -> float:
    """``"600kt"``, ``"300mps"``, ``"900kmh"`` or a bare number (m/s) in m/s."""
    t = text.strip().lower().replace(" ", "").replace("/", "")
    for unit, k in (("kmh", 1 / 3.6), ("mps", 1.0), ("ms", 1.0), ("kts", KT_MPS), ("kt", KT_MPS)):
        if t.endswith(unit):
            return float(t[: -len(unit)]) * k
    return float(t)


def _positive(parse: Any, text: str, option: str) -> float:
    try:
        value = float(parse(text))
    except ValueError:
        raise ConfigError(f"{option} {text!r}: cannot read it (e.g. 30km, 12nm, 600kt)") from None
    if not value > 0:
        raise ConfigError(f"{option} must be positive, got {text!r}")
    return value


def _duration_s(text: str) -> float:
    units = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    t = text.strip().lower()
    try:
        if t[-1] in units:
            return float(t[:-1]) * units[t[-1]]
        return float(t)
    except (ValueError, IndexError):
        raise ConfigError(f"cannot read duration {text!r}: use e.g. 3600s, 12h, 7d") from None


def _read_secret(path: str | None, env: str) -> list[str]:
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    value = os.environ.get(env, "").strip()
    return [value] if value else []


def config_from_args(args: argparse.Namespace) -> Any:
    """A :class:`~patrolwatch.serve.service.ServeConfig` from parsed options."""
    from ..core.zones import Zones
    from ..io.geojson import read_zones
    from .alerts import example_rules_path, load_rules
    from .feeds import INCIDENT_DIR, parse_feed
    from .service import ServeConfig

    zones = Zones()
    if args.catalog:
        from ..catalog import load_catalog

        zones = zones + load_catalog(args.catalog).zones
    if args.zones:
        zones = zones + read_zones(args.zones)
    if args.demo and len(zones) == 0:
        zones = read_zones(INCIDENT_DIR / "zones.geojson")
    if len(zones) == 0:
        raise ConfigError("no zones: give --zones FILE, --catalog NAME (e.g. nea) or --demo")
    rules_path = args.rules or ("example" if args.demo else None)
    rules = []
    if rules_path == "example":
        rules = load_rules(example_rules_path())
    elif rules_path:
        rules = load_rules(rules_path)
    for spec in args.feed:
        parse_feed(spec, allow_remote=args.allow_remote_feeds)  # fail early, with the spec
    keys = _read_secret(args.api_key_file, "PATROLWATCH_API_KEY")
    public_read = args.public_read or (args.demo and not keys)  # a demo opens without a key
    if args.db:
        db = Path(args.db)
    elif args.demo:
        import tempfile

        db = Path(tempfile.mkdtemp(prefix="patrolwatch-demo-")) / "demo.duckdb"
    else:
        db = Path("patrolwatch.duckdb")
    secret = _read_secret(args.webhook_secret_file, "PATROLWATCH_WEBHOOK_SECRET")
    if args.webhook and not secret:
        raise ConfigError(
            "--webhook needs a secret: --webhook-secret-file or PATROLWATCH_WEBHOOK_SECRET"
        )
    return ServeConfig(
        zones=zones,
        rules=rules,
        db=db,
        host=args.host,
        port=args.port,
        api_keys=tuple(keys),
        public_read=public_read,
        feeds=tuple(args.feed),
        allow_remote_feeds=args.allow_remote_feeds,
        near_m=_positive(distance_to_m, args.near, "--near") if args.near else None,
        max_speed_mps=_positive(_speed_mps, args.max_speed, "--max-speed")
        if args.max_speed
        else None,
        lateness_s=args.lateness,
        evict_after_s=args.evict_after,
        gap_s=args.gap,
        clock=args.clock or ("stream" if args.demo else "wall"),
        retention_s=_duration_s(args.retention) if args.retention else None,
        webhook_url=args.webhook,
        webhook_secret=secret[0].encode() if secret else b"",
        max_body_bytes=args.max_body,
        cors_origins=tuple(args.cors_origin),
        demo=args.demo,
        demo_speed=args.demo_speed,
        demo_loop=args.demo_loop,
        formations=not args.no_formations,
        formation_max_sep_m=_positive(distance_to_m, args.formation_sep, "--formation-sep"),
    )


def run_serve(args: argparse.Namespace, console: Any) -> int:
    """Run ``patrolwatch serve`` until interrupted; returns the exit code."""
    import logging

    from . import run

    config = config_from_args(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    where = f"http://{config.host}:{config.port}/"
    console.print(
        f"patrolwatch serve: {len(config.zones)} zones, {len(config.rules)} rules, "
        f"{len(config.feeds)} feed(s){', demo replay' if config.demo else ''}; db {config.db}; "
        f"map at {where}"
        + ("" if config.api_keys else " (no API key: writes disabled)")
        + (" (reads open: --public-read)" if config.public_read else ""),
        highlight=False,
    )
    if config.host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            f"[yellow]warning:[/] listening on {config.host}, not loopback", highlight=False
        )
    run(config)
    return 0
