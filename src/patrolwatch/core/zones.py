"""The zone table: one row per zone (ADIZ, territorial sea, FIR, restricted area, ...).

A zone is either a **polygon zone** (the area of a Polygon/MultiPolygon feature) or a
**buffer zone**: everything within ``buffer_m`` metres (geodesic, WGS84) of a feature
geometry of any type, e.g. the 12 NM territorial airspace around an islet. Zones carry
their claimants, sources and caveats, which every output repeats.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import ConfigError

__all__ = ["EDGE_MODELS", "KNOWN_KINDS", "Zone", "Zones", "kind_phrase"]

EdgeModel = Literal["lonlat", "geodesic"]
EDGE_MODELS: tuple[EdgeModel, ...] = ("lonlat", "geodesic")
"""``lonlat``: edges are straight lines in longitude/latitude (RFC 7946, the default);
``geodesic``: edges are shortest paths on the WGS84 ellipsoid."""

KNOWN_KINDS = (
    "adiz",
    "territorial",
    "contiguous",
    "eez",
    "fir",
    "restricted",
    "danger",
    "prohibited",
    "strait",
    "feature",
    "custom",
)
"""Zone kinds patrolwatch knows the words for; other kinds are accepted as ``custom``-like."""


def kind_phrase(kind: str, claimants: Sequence[str]) -> str:
    """How an entry into a zone of this kind is named in reports.

    ADIZ entries are never called violations: an ADIZ is not sovereign airspace.

    Examples
    --------
    >>> kind_phrase("adiz", ["KOR"])
    'ADIZ entry (zone declared by KOR)'
    >>> kind_phrase("territorial", ["KOR", "JPN"])
    'territorial airspace/sea entry (claimed by KOR and JPN)'
    """
    who = " and ".join(
        [", ".join(claimants[:-1]), claimants[-1]] if len(claimants) > 1 else claimants
    )
    if kind == "adiz":
        return f"ADIZ entry (zone declared by {who})" if who else "ADIZ entry"
    if kind == "territorial":
        return (
            f"territorial airspace/sea entry (claimed by {who})"
            if who
            else "territorial airspace/sea entry"
        )
    label = {"fir": "FIR", "eez": "EEZ"}.get(kind, kind)
    return f"{label} zone entry" + (f" ({who})" if who else "")


@dataclass(frozen=True)
class Zone:
    """One zone, as read from a file or the catalog.

    Attributes
    ----------
    id, name, kind : str
    claimants : tuple of str
        ISO 3166 alpha-3 codes of every state claiming the zone; a disputed feature is one
        zone with several claimants.
    geometry : shapely geometry, lon/lat degrees WGS84
        For a polygon zone, its area (Polygon or MultiPolygon, densified along geodesics
        when ``edges="geodesic"``); for a buffer zone, the feature that is buffered (any
        geometry type: Point, MultiPoint, LineString, Polygon, ...).
    buffer_m : float
        Geodesic buffer distance in metres, NaN for a polygon zone.
    floor_m, ceiling_m : float
        Vertical limits in metres (NaN = unbounded); ``floor_ref``/``ceiling_ref`` keep the
        reference (``AMSL``, ``AGL``, ``GND``, ``UNL``, ``FL``).
    edges : {"lonlat", "geodesic"}
        Edge model of ``geometry``.
    reference : shapely geometry or None
        Feature to measure closest approach to: the buffered feature of a buffer zone, or a
        polygon zone's optional ``reference`` property.
    source, as_of, caveat : str
        Provenance, repeated in every output that uses the zone.
    complete : bool
        False when the zone could not honestly be closed (a partial boundary).
    origin : str
        ``file#feature-index`` the zone came from.
    properties : mapping
        The remaining properties of the feature, unchanged.
    """

    id: str
    name: str
    kind: str
    claimants: tuple[str, ...]
    geometry: BaseGeometry
    buffer_m: float = float("nan")
    floor_m: float = float("nan")
    ceiling_m: float = float("nan")
    floor_ref: str = ""
    ceiling_ref: str = ""
    edges: EdgeModel = "lonlat"
    reference: BaseGeometry | None = None
    source: str = ""
    as_of: str = ""
    caveat: str = ""
    complete: bool = True
    origin: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_buffer(self) -> bool:
        """True for a buffer zone (``buffer_m`` set)."""
        return not np.isnan(self.buffer_m)

    @property
    def has_vertical_limits(self) -> bool:
        """True when a floor or a ceiling is set."""
        return not (np.isnan(self.floor_m) and np.isnan(self.ceiling_m))


class Zones(Sequence[Zone]):
    """An ordered collection of zones with unique ids.

    Zones are few (tens to thousands) and each carries a geometry, so the table is a
    sequence of :class:`Zone` rows with columnar accessors for the detectors.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> islet = Point(131.87, 37.24)
    >>> z = Zones([Zone("z1", "Islet", "territorial", ("KOR",), islet, buffer_m=22224.0)])
    >>> len(z), z.ids.tolist(), z["z1"].is_buffer
    (1, ['z1'], True)
    """

    def __init__(self, zones: Sequence[Zone] = ()) -> None:
        self._zones: tuple[Zone, ...] = tuple(zones)
        seen: dict[str, int] = {}
        for i, zone in enumerate(self._zones):
            if zone.id in seen:
                raise ConfigError(
                    f"zone id {zone.id!r} appears twice ({self._zones[seen[zone.id]].origin} and "
                    f"{zone.origin}); ids must be unique: rename one"
                )
            seen[zone.id] = i
        self._index = seen

    def __len__(self) -> int:
        return len(self._zones)

    def __iter__(self) -> Iterator[Zone]:
        return iter(self._zones)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return self._zones[self._index[key]]
            except KeyError:
                raise KeyError(f"no zone with id {key!r}; ids are {sorted(self._index)}") from None
        if isinstance(key, slice):
            return Zones(self._zones[key])
        return self._zones[key]

    def __repr__(self) -> str:
        return f"Zones({[z.id for z in self._zones]!r})"

    def __add__(self, other: Zones) -> Zones:
        return Zones(self._zones + tuple(other))

    @property
    def ids(self) -> npt.NDArray[np.str_]:
        """Zone ids, in order."""
        return np.asarray([z.id for z in self._zones], dtype=str)

    def select(self, ids: Sequence[str]) -> Zones:
        """The zones with these ids, in the order given (KeyError for an unknown id)."""
        return Zones([self[i] for i in ids])

    def geometries(self) -> npt.NDArray[np.object_]:
        """Zone geometries as a shapely array."""
        return np.asarray([z.geometry for z in self._zones], dtype=object)

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of the zones (buffer zones as their base feature
        with ``buffer_m``), readable back by :func:`patrolwatch.read_zones`."""
        features = []
        for z in self._zones:
            geom = z.geometry
            props: dict[str, Any] = dict(z.properties)
            props.update(
                id=z.id,
                name=z.name,
                kind=z.kind,
                claimants=";".join(z.claimants),
                edges=z.edges,
                source=z.source,
                as_of=z.as_of,
                caveat=z.caveat,
                complete=z.complete,
            )
            if z.is_buffer:
                props["buffer_m"] = z.buffer_m
            if not np.isnan(z.floor_m):
                props["floor"] = f"{z.floor_m} m"
            if not np.isnan(z.ceiling_m):
                props["ceiling"] = f"{z.ceiling_m} m"
            features.append(
                {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
            )
        return {"type": "FeatureCollection", "features": features}
