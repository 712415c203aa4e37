"""``analyze``: the whole pipeline in one call, with evidence a reader can check.

Reads the tracks, finds crossings (with near passes), formations, reporting gaps and ship
encounters (each detector that this build has), and writes to one folder:

========================  ===============================================================
``events.csv``/``.parquet`` every event of every kind, one row each
``formations.csv``        formation episodes (``gaps.csv``, ``encounters.csv`` likewise)
``report.html``           the self-contained offline report
``map.png``               the static map
``ingest_report.json``    rows read, used and rejected (``IngestReport.to_dict()``)
``rejects.csv``           every rejected input row with its reason (when there are any)
``manifest.json``         SHA-256 of every input, every parameter, software versions
========================  ===============================================================

``analyze_manifest`` runs the same analysis again from a manifest, after checking that
every input still has the SHA-256 it had: the events come out identical.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import importlib.util
import inspect
import json
import math
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import shapely

from .core.events import Events
from .core.tracks import Tracks
from .core.zones import Zones
from .detect.crossings import crossings
from .errors import ConfigError, InputError
from .io._rejects import IngestReport, Rejects
from .io.geojson import read_zones
from .io.tables import read_table_tracks
from .report.tables import write_events

__all__ = [
    "DEFAULT_MIN_GAP_S",
    "DEFAULT_NEAR_M",
    "MANIFEST_VERSION",
    "Analysis",
    "analyze",
    "analyze_manifest",
    "parse_duration_s",
]

PathLike = str | os.PathLike[str]

DEFAULT_NEAR_M = 30_000.0
"""Default ``near_m`` of :func:`analyze`, metres (30 km): tracks that stayed outside a zone
but came this close to its feature are reported as ``near``."""

DEFAULT_MIN_GAP_S = 300.0
"""Default ``min_gap_s`` of :func:`analyze`, seconds (5 minutes, as for ADS-B): longer
silences of a track are reported as gaps."""

MANIFEST_VERSION = 1
"""Version of the ``manifest.json`` layout."""

_OPTIONAL_DETECTORS = ("formations", "gaps", "encounters")


@dataclasses.dataclass
class Analysis:
    """What :func:`analyze` did and wrote.

    Attributes
    ----------
    out_dir : Path
    events : Events
        All events (crossings, formations, gaps, encounters), in that order.
    tracks : Tracks
    zones : Zones
    rejects : Rejects
    ingest : IngestReport
    manifest : dict
        The content of ``manifest.json``.
    files : dict of str to Path
        Output name (``events_csv``, ``report_html``, ``map_png``, ...) to file.
    notes : list of str
        What could not be done, and why (a detector absent from this build, ...).
    """

    out_dir: Path
    events: Events
    tracks: Tracks
    zones: Zones
    rejects: Rejects
    ingest: IngestReport
    manifest: dict[str, Any]
    files: dict[str, Path]
    notes: list[str]


def parse_duration_s(text: str) -> float:
    """Parse a duration such as ``"300"`` (seconds), ``"300s"``, ``"5min"``, ``"2h"``.

    Raises
    ------
    ConfigError
        When the number or unit cannot be read, or the duration is not positive.

    Examples
    --------
    >>> parse_duration_s("5min"), parse_duration_s("90s"), parse_duration_s("1.5h")
    (300.0, 90.0, 5400.0)
    """
    s = text.strip().lower().replace(" ", "")
    units = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    i = len(s)
    while i > 0 and s[i - 1].isalpha():
        i -= 1
    number, unit = s[:i], s[i:] or "s"
    try:
        value = float(number) * units[unit]
    except (KeyError, ValueError):
        raise ConfigError(
            f"cannot read duration {text!r}: use a number with s, min or h, e.g. 5min"
        ) from None
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"duration must be positive, got {text!r}")
    return value


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _input_record(path: Path, role: str) -> dict[str, Any]:
    return {
        "role": role,
        "path": str(path),
        "abs_path": str(path.resolve()),
        "bytes": path.stat().st_size,
        "sha256": _sha256(path),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return repr(value)


def _from_json(value: Any, default: Any) -> Any:
    """Back to the type of the detector's default (lists to tuples, 'inf' to inf)."""
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(value)
    if isinstance(default, float) and isinstance(value, str):
        return float(value)
    return value


def _detector(name: str) -> Callable[..., Events] | None:
    module = f"patrolwatch.detect.{name}"
    if importlib.util.find_spec(module) is None:
        return None
    mod = importlib.import_module(module)
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def _keyword_defaults(fn: Callable[..., Any]) -> tuple[dict[str, Any], list[str]]:
    """Keyword parameters of a detector with their defaults, and the required ones."""
    defaults: dict[str, Any] = {}
    required: list[str] = []
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        if p.default is p.empty:
            required.append(p.name)
        else:
            defaults[p.name] = p.default
    return defaults, required


def _software() -> dict[str, str]:
    from ._version import __version__

    out = {"patrolwatch": __version__, "python": platform.python_version()}
    for dist in ("numpy", "pyarrow", "pyproj", "shapely", "pandas", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    try:
        import pyproj

        out["PROJ"] = str(pyproj.proj_version_str)
    except (ImportError, AttributeError):  # pragma: no cover - pyproj is a dependency
        pass
    return out


def _zones_sha256(zones: Zones) -> str:
    doc = zones.to_geojson()
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _coast(tracks: Tracks) -> Any:
    """Land near the tracks (shipped GSHHG, simplified) as one geometry, for encounters."""
    from .report._land import load_land

    if len(tracks) == 0:
        return None
    lon, lat = tracks.lon_deg, tracks.lat_deg
    land = load_land(
        float(lon.min()) - 1.0,
        float(lat.min()) - 1.0,
        float(lon.max()) + 1.0,
        float(lat.max()) + 1.0,
    )
    return shapely.union_all(land.geometries) if len(land) else None


def _flat_for_csv(events: Events) -> Events:
    """List columns joined with ';' so that CSV can hold them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = events.to_arrow()
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            joined = pc.binary_join(table.column(i).cast(pa.list_(pa.string())), ";")
            table = table.set_column(i, field.name, joined)
    return Events(table)


def _runners(
    engine: str, scheduler: Any, tr: Tracks, stack: contextlib.ExitStack
) -> dict[str, Callable[..., Events]]:
    """With ``engine="dask"``, the detectors that run on the cluster (by name), each
    called like the single-machine one (tracks first) and returning its events."""
    if engine != "dask":
        return {}
    from .scale import _formations, _timeparts
    from .scale import dask as pw_dask

    client = stack.enter_context(pw_dask.connect(scheduler))
    pt = pw_dask.partition_tracks(tr, client=client)

    def run(fn: Callable[..., Any]) -> Callable[..., Events]:
        def call(_tracks: Tracks, *args: Any, **kwargs: Any) -> Events:
            result: Events = fn(pt, *args, **kwargs).compute()
            return result

        return call

    return {
        "crossings": run(pw_dask.crossings),
        "formations": run(_formations.formations),
        "gaps": run(_timeparts.gaps),
    }


def analyze(
    tracks: PathLike | Sequence[PathLike],
    *,
    out: PathLike,
    zones: PathLike | Sequence[PathLike] = (),
    catalog: str | None = None,
    near_m: float | None = DEFAULT_NEAR_M,
    max_speed_mps: float | None = None,
    assume_tz: str | None = None,
    columns: Mapping[str, str] | None = None,
    min_gap_s: float = DEFAULT_MIN_GAP_S,
    detector_params: Mapping[str, Mapping[str, Any]] | None = None,
    title: str | None = None,
    png: bool = True,
    command: Sequence[str] | None = None,
    notes: Sequence[str] = (),
    source_names: Sequence[str] | None = None,
    engine: str = "local",
    scheduler: Any = None,
) -> Analysis:
    """Run the whole analysis and write its evidence to the folder ``out``.

    Parameters
    ----------
    tracks : path or sequence of paths
        Track files (CSV or Parquet; see :func:`patrolwatch.read_tracks`).
    out : path
        Output folder (created). Existing files of the same names are replaced.
    zones : path or sequence of paths
        GeoJSON zone files.
    catalog : str, optional
        A built-in zone catalog (``"nea"``); its zones come before the files' zones.
    near_m : float or None, metres, > 0
        Report tracks that stayed outside a zone within this distance of its feature
        (evidence ``near``); None turns it off. Default :data:`DEFAULT_NEAR_M` (30 km).
    max_speed_mps : float, optional, m/s
        Reject fixes needing more than this speed, and report ``possible`` entries.
    assume_tz : str, optional
        Time zone of times written without one (else such rows are refused).
    columns : mapping, optional
        Column overrides (see :func:`patrolwatch.read_tracks`).
    min_gap_s : float, seconds, > 0
        Silences longer than this are gaps. Default :data:`DEFAULT_MIN_GAP_S` (5 min).
    detector_params : mapping of detector name to keyword arguments, optional
        Overrides for ``formations``, ``gaps`` and ``encounters`` (their defaults
        otherwise); every value used is recorded in the manifest.
    title : str, optional
        Report title (default: from the track file names).
    png : bool
        Also draw ``map.png``.
    command : sequence of str, optional
        The command line, recorded in the manifest.
    notes : sequence of str
        Extra notes for the report and manifest.
    source_names : sequence of str, optional
        Names to record for the track files (one per file, in order) in ``source_rows``
        and the manifest instead of their paths: a re-run from a manifest uses the
        original names, so that its events are identical wherever the files now are.

    engine : {"local", "dask"}
        ``"dask"`` runs crossings, formations and gaps on a Dask cluster
        (:mod:`patrolwatch.scale`; needs ``patrolwatch[dask]``), with the same events and
        files as ``"local"``; reading, encounters, the map and the report stay on this
        machine.
    scheduler : str or distributed.Client, optional
        With ``engine="dask"``: see :func:`patrolwatch.scale.connect` (default: a new
        local cluster).

    Returns
    -------
    Analysis

    Raises
    ------
    ConfigError
        No zones, an unknown catalog, bad thresholds.
    InputError
        Unreadable input (with file and line).

    Notes
    -----
    Detectors missing from this build (``formations``, ``gaps``, ``encounters``) are
    skipped, and the report and manifest say so. Re-running with the manifest
    (:func:`analyze_manifest`) checks the inputs' SHA-256 and reproduces the events.
    """
    from ._version import __version__
    from .report.html import write_report
    from .report.png import plot_map

    track_paths = (
        [Path(tracks)] if isinstance(tracks, str | os.PathLike) else [Path(p) for p in tracks]
    )
    zone_paths = [Path(zones)] if isinstance(zones, str | os.PathLike) else [Path(p) for p in zones]
    if not track_paths:
        raise ConfigError("no track files given")
    if engine not in ("local", "dask"):
        raise ConfigError(f"engine must be 'local' or 'dask', got {engine!r}")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    notes = list(notes)
    inputs = [_input_record(p, "tracks") for p in track_paths]
    inputs += [_input_record(p, "zones") for p in zone_paths]

    zone_set = Zones()
    catalog_info: dict[str, Any] | None = None
    if catalog:
        if importlib.util.find_spec("patrolwatch.catalog") is None:
            raise ConfigError(f"catalog {catalog!r} is not available in this build")
        from .catalog import load_catalog

        cat = load_catalog(catalog)
        zone_set = zone_set + cat.zones
        notes += [f"catalog {catalog}: {n}" for n in cat.notes]
        catalog_info = {
            "name": catalog,
            "zones": [z.id for z in cat.zones],
            "zones_sha256": _zones_sha256(Zones(list(cat.zones))),
        }
    if zone_paths:
        zone_set = zone_set + read_zones(zone_paths)
    if len(zone_set) == 0:
        raise ConfigError("no zones: give zone files (GeoJSON) or a catalog (e.g. 'nea')")

    read = read_table_tracks(
        track_paths, columns=columns, assume_tz=assume_tz, max_speed_mps=max_speed_mps
    )
    tr, rejects, ingest = read.tracks, read.rejects, read.report
    if source_names is not None:
        if len(source_names) != len(track_paths):
            raise ConfigError("source_names needs one name per track file")
        rename = {str(p): str(n) for p, n in zip(track_paths, source_names, strict=True)}
        tr = dataclasses.replace(tr, sources=tuple(rename.get(s, s) for s in tr.sources))
        rejects.source = [rename.get(s, s) for s in rejects.source]
        ingest = dataclasses.replace(ingest, files=[rename.get(s, s) for s in ingest.files])
        for record, name in zip(inputs, source_names, strict=False):
            record["path"] = str(name)
    with contextlib.ExitStack() as stack:  # closes the Dask client of engine="dask"
        runners = _runners(engine, scheduler, tr, stack)
        run_crossings = runners.get("crossings", crossings)
        parts = [run_crossings(tr, zone_set, near_m=near_m, max_speed_mps=max_speed_mps)]
        detectors: dict[str, Any] = {
            "crossings": {
                "status": "run",
                "parameters": {"near_m": near_m, "max_speed_mps": max_speed_mps},
                "rows": len(parts[0]),
            }
        }
        per_kind: dict[str, Events] = {}
        overrides = {k: dict(v) for k, v in (detector_params or {}).items()}
        unknown = set(overrides) - set(_OPTIONAL_DETECTORS)
        if unknown:
            raise ConfigError(
                f"unknown detector(s) {sorted(unknown)}; parameters can be given for "
                f"{', '.join(_OPTIONAL_DETECTORS)}"
            )
        for name in _OPTIONAL_DETECTORS:
            fn = _detector(name)
            if fn is None:
                detectors[name] = {"status": "not available", "note": "not in this build"}
                notes.append(f"{name}: not run (this build of patrolwatch has no {name} detector).")
                continue
            defaults, required = _keyword_defaults(fn)
            kwargs: dict[str, Any] = {}
            if name == "gaps":
                kwargs["min_gap_s"] = min_gap_s
                if near_m is not None and "near_m" in defaults:
                    kwargs["near_m"] = near_m
            for key, value in overrides.get(name, {}).items():
                if key not in defaults and key not in required:
                    raise ConfigError(f"{name}() has no parameter {key!r}")
                kwargs[key] = _from_json(value, defaults.get(key))
            missing = [r for r in required if r not in kwargs]
            if missing:
                detectors[name] = {"status": "skipped", "note": f"needs {', '.join(missing)}"}
                notes.append(f"{name}: not run (it needs {', '.join(missing)}).")
                continue
            params = {k: v for k, v in defaults.items() if k not in ("zones", "coast")}
            params.update({k: v for k, v in kwargs.items()})
            call = dict(kwargs)
            if "zones" in defaults:
                call["zones"] = zone_set
            note = ""
            if name == "encounters" and "coast" in defaults and "coast" not in kwargs:
                coast = _coast(tr)
                if coast is not None:
                    call["coast"] = coast
                    note = "coast: the report's shipped GSHHG land (simplified 0.004°)"
            found = runners.get(name, fn)(tr, **call)
            parts.append(found)
            per_kind[name] = found
            detectors[name] = {
                "status": "run",
                "parameters": {k: _jsonable(v) for k, v in params.items()},
                "rows": len(found),
                "note": note,
            }
        events = Events.concat(parts)

    files: dict[str, Path] = {}
    files["events_csv"] = write_events(_flat_for_csv(events), out_dir / "events.csv")
    files["events_parquet"] = write_events(events, out_dir / "events.parquet")
    for name, found in per_kind.items():
        files[f"{name}_csv"] = write_events(_flat_for_csv(found), out_dir / f"{name}.csv")
    ingest_path = out_dir / "ingest_report.json"
    ingest_path.write_text(json.dumps(ingest.to_dict(), indent=1) + "\n", encoding="utf-8")
    files["ingest_report"] = ingest_path
    if len(rejects):
        import pyarrow.csv as pacsv

        pacsv.write_csv(rejects.to_arrow(), out_dir / "rejects.csv")
        files["rejects_csv"] = out_dir / "rejects.csv"

    manifest_path = out_dir / "manifest.json"
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "patrolwatch_version": __version__,
        "generated_at": generated,
        "command": list(command) if command else None,
        "reproduce": f"patrolwatch analyze --manifest {manifest_path} --out NEW_FOLDER",
        "inputs": inputs,
        "catalog": catalog_info,
        "parameters": {
            "near_m": near_m,
            "max_speed_mps": max_speed_mps,
            "assume_tz": assume_tz,
            "columns": dict(columns) if columns else None,
            "min_gap_s": min_gap_s,
            "title": title,
        },
        "detectors": detectors,
        "zones": [
            {
                "id": z.id,
                "name": z.name,
                "kind": z.kind,
                "claimants": list(z.claimants),
                "source": z.source,
                "as_of": z.as_of,
                "complete": z.complete,
                "caveat": z.caveat,
                "origin": z.origin,
            }
            for z in zone_set
        ],
        "zones_sha256": _zones_sha256(zone_set),
        "ingest": ingest.to_dict(),
        "software": _software(),
        "notes": notes,
        "counts": {
            "events": len(events),
            **{k: v for k, v in _count_kinds(events).items()},
        },
    }
    report_title = title or (
        "Analysis of "
        + ", ".join(p.name for p in track_paths[:3])
        + (" …" if len(track_paths) > 3 else "")
    )
    gap_draw = float(min_gap_s)
    if png:
        files["map_png"] = plot_map(
            tr,
            zone_set,
            out_dir / "map.png",
            events=events,
            title=report_title,
            footnote=f"SHA-256 of {track_paths[0].name}: {inputs[0]['sha256'][:16]}…",
        )
    files["report_html"] = write_report(
        events,
        out_dir / "report.html",
        tracks=tr,
        zones=zone_set,
        title=report_title,
        provenance=manifest,
        notes=notes,
        gap_draw_s=gap_draw,
    )
    manifest["outputs"] = [
        {
            "name": name,
            "path": str(path.name),
            "sha256": _sha256(path),
            "bytes": path.stat().st_size,
        }
        for name, path in files.items()
    ]
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", "utf-8")
    files["manifest"] = manifest_path
    return Analysis(out_dir, events, tr, zone_set, rejects, ingest, manifest, files, list(notes))


def _count_kinds(events: Events) -> dict[str, int]:
    counts: dict[str, int] = {}
    if "kind" in events.columns:
        for k in events.column("kind"):
            counts[str(k)] = counts.get(str(k), 0) + 1
    return counts


def _locate(record: Mapping[str, Any], manifest_dir: Path) -> Path:
    """The input file of a manifest record whose SHA-256 matches."""
    given = Path(str(record["path"]))
    candidates = [
        Path(str(record.get("abs_path", given))),
        given,
        manifest_dir / given,
        manifest_dir / given.name,
    ]
    seen_other: list[str] = []
    for c in candidates:
        if c.is_file():
            digest = _sha256(c)
            if digest == record["sha256"]:
                return c
            seen_other.append(f"{c} (SHA-256 {digest[:12]}…)")
    if seen_other:
        raise InputError(
            f"input changed since the manifest was written: expected SHA-256 "
            f"{record['sha256']}, found {', '.join(seen_other)}; restore the original file",
            path=str(given),
        )
    raise InputError(
        "input named in the manifest not found (tried its recorded path, the current folder "
        "and the manifest's folder); copy it next to the manifest",
        path=str(given),
    )


def analyze_manifest(
    manifest: PathLike, *, out: PathLike, png: bool = True, command: Sequence[str] | None = None
) -> Analysis:
    """Run an analysis again from its ``manifest.json``.

    Every input is located (its recorded path, the current folder, or the manifest's
    folder) and must have the recorded SHA-256; the parameters, the catalog and the
    detector parameters are those recorded. The events are then identical to the
    original run's when the patrolwatch version is the same (a different version is
    noted in the report).

    Raises
    ------
    InputError
        When an input is missing or its SHA-256 differs.
    ConfigError
        When the manifest cannot be read.
    """
    from ._version import __version__

    mpath = Path(manifest)
    try:
        doc = json.loads(mpath.read_text(encoding="utf-8"))
        inputs = doc["inputs"]
        params = doc["parameters"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read manifest {mpath}: {exc}") from None
    located = [(r["role"], _locate(r, mpath.parent), str(r["path"])) for r in inputs]
    detector_params = {
        name: d.get("parameters", {})
        for name, d in (doc.get("detectors") or {}).items()
        if name in _OPTIONAL_DETECTORS and isinstance(d, Mapping) and d.get("status") == "run"
    }
    for d in detector_params.values():
        d.pop("min_gap_s", None)
    notes = [f"re-run of the analysis recorded in {mpath.name} (inputs checked by SHA-256)"]
    if doc.get("patrolwatch_version") != __version__:
        notes.append(
            f"the manifest was written by patrolwatch {doc.get('patrolwatch_version')}; "
            f"this run used {__version__}: events may differ"
        )
    result = analyze(
        [p for role, p, _ in located if role == "tracks"],
        out=out,
        zones=[p for role, p, _ in located if role == "zones"],
        catalog=(doc.get("catalog") or {}).get("name"),
        near_m=params.get("near_m"),
        max_speed_mps=params.get("max_speed_mps"),
        assume_tz=params.get("assume_tz"),
        columns=params.get("columns"),
        min_gap_s=float(params.get("min_gap_s", DEFAULT_MIN_GAP_S)),
        detector_params=detector_params,
        title=params.get("title"),
        png=png,
        command=command,
        notes=notes,
        source_names=[name for role, _, name in located if role == "tracks"],
    )
    if doc.get("zones_sha256") and doc["zones_sha256"] != result.manifest["zones_sha256"]:
        result.notes.append("the zones differ from the manifest's (catalog changed?)")
    result.manifest["replayed_from"] = {"manifest": str(mpath), "sha256": _sha256(mpath)}
    Path(result.files["manifest"]).write_text(
        json.dumps(result.manifest, indent=1, ensure_ascii=False) + "\n", "utf-8"
    )
    return result
