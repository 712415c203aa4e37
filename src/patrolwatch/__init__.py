"""patrolwatch: exact zone crossings and joint activity from raw position reports.

The public API is what ``__all__`` lists; everything else is private and may change.

Examples
--------
>>> import patrolwatch as pw
>>> from shapely.geometry import Point
>>> zones = pw.Zones([pw.Zone("islet", "Islet 12 NM", "territorial", ("KOR", "JPN"),
...                           Point(131.8696, 37.2408), buffer_m=12 * pw.units.NM_M)])
>>> tracks = pw.Tracks.from_arrays(["A50", "A50"], [0, 300_000_000_000],
...                                [131.70, 131.70], [37.60, 36.90])
>>> events = pw.crossings(tracks, zones)
>>> events.column("evidence"), events.column("claimants")
(['interpolated'], ['KOR;JPN'])
"""

import contextlib

from . import units
from ._api import (
    Analysis,
    analyze,
    analyze_manifest,
    crossings,
    read_tracks,
    read_zones,
    write_report,
)
from ._version import __version__
from .core.events import CROSSING_COLUMNS, Events
from .core.tracks import Tracks
from .core.zones import Zone, Zones
from .detect.encounters import encounters, loitering
from .detect.formations import formations
from .detect.gaps import gaps
from .detect.routes import RouteLibrary, match_routes, route_library
from .errors import (
    ConfigError,
    InputError,
    NaiveTimeError,
    ParseError,
    PatrolwatchError,
    SchemaError,
    ZoneGeometryError,
)
from .io._rejects import IngestReport, Rejects
from .io.tables import TrackRead
from .report.tables import write_events

__all__ = [
    "CROSSING_COLUMNS",
    "Analysis",
    "ConfigError",
    "Events",
    "IngestReport",
    "InputError",
    "NaiveTimeError",
    "ParseError",
    "PatrolwatchError",
    "Rejects",
    "RouteLibrary",
    "SchemaError",
    "TrackRead",
    "Tracks",
    "Zone",
    "ZoneGeometryError",
    "Zones",
    "__version__",
    "analyze",
    "analyze_manifest",
    "crossings",
    "encounters",
    "formations",
    "gaps",
    "loitering",
    "match_routes",
    "read_tracks",
    "read_zones",
    "route_library",
    "units",
    "write_events",
    "write_report",
]

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        with contextlib.suppress(AttributeError, TypeError):  # builtins refuse
            _obj.__module__ = "patrolwatch"
del _name, _obj, contextlib
