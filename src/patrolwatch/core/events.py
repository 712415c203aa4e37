"""The event table: one row per event (zone visit, near pass, formation episode, gap, ...).

Every detector returns :class:`Events`, a thin wrapper over an Arrow table whose common
columns are ``kind`` and ``track_id``; each kind adds its own columns (see
:data:`CROSSING_SCHEMA`). Times are ``timestamp[ns, UTC]``; absent values are null.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CROSSING_COLUMNS", "CROSSING_SCHEMA", "TIME_TYPE", "Events"]

TIME_TYPE = pa.timestamp("ns", tz="UTC")

CROSSING_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("track_id", pa.string()),
        ("zone_id", pa.string()),
        ("zone_name", pa.string()),
        ("zone_kind", pa.string()),
        ("claimants", pa.string()),
        ("entry_time", TIME_TYPE),
        ("exit_time", TIME_TYPE),
        ("duration_s", pa.float64()),
        ("entry_lat", pa.float64()),
        ("entry_lon", pa.float64()),
        ("exit_lat", pa.float64()),
        ("exit_lon", pa.float64()),
        ("entry_bracket_start", TIME_TYPE),
        ("entry_bracket_end", TIME_TYPE),
        ("exit_bracket_start", TIME_TYPE),
        ("exit_bracket_end", TIME_TYPE),
        ("max_depth_m", pa.float64()),
        ("closest_m", pa.float64()),
        ("closest_time", TIME_TYPE),
        ("evidence", pa.string()),
        ("source_rows", pa.string()),
        # extras (not in the public contract's minimum, documented in the README)
        ("closest_lat", pa.float64()),
        ("closest_lon", pa.float64()),
        ("closest_edge_m", pa.float64()),
        ("first_fix_time", TIME_TYPE),
        ("last_fix_time", TIME_TYPE),
        ("n_fixes_inside", pa.int64()),
        ("altitude", pa.string()),
        ("zone_caveat", pa.string()),
    ]
)
"""Columns of crossing events (``kind`` is ``"crossing"``; ``evidence`` is ``observed``,
``interpolated``, ``possible`` or ``near``)."""

CROSSING_COLUMNS: tuple[str, ...] = tuple(CROSSING_SCHEMA.names[:22])
"""The public output contract, in order."""


class Events:
    """A table of events, one row each, columnar (Arrow).

    Examples
    --------
    >>> ev = Events.empty()
    >>> len(ev), ev.columns[:3]
    (0, ['kind', 'track_id', 'zone_id'])
    """

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    @classmethod
    def empty(cls, schema: pa.Schema = CROSSING_SCHEMA) -> Events:
        """An empty event table with ``schema``."""
        return cls(schema.empty_table())

    @classmethod
    def concat(cls, parts: Sequence[Events]) -> Events:
        """Rows of all ``parts``, in order (columns unified, missing ones null)."""
        tables = [p.to_arrow() for p in parts]
        if not tables:
            return cls.empty()
        return cls(pa.concat_tables(tables, promote_options="default"))

    def __len__(self) -> int:
        return int(self._table.num_rows)

    def __repr__(self) -> str:
        return f"Events({len(self)} rows, columns={self.columns})"

    @property
    def columns(self) -> list[str]:
        """Column names."""
        return list(self._table.column_names)

    def column(self, name: str) -> list[Any]:
        """One column as a Python list (times as aware datetimes, null as None)."""
        return list(self._table.column(name).to_pylist())

    def filter(self, **equals: str) -> Events:
        """Rows whose columns equal the given values, e.g. ``filter(zone_kind="adiz")``."""
        table = self._table
        for name, value in equals.items():
            table = table.filter(pc.equal(table.column(name), value))
        return Events(table)

    def to_arrow(self) -> pa.Table:
        """The events as an Arrow table."""
        return self._table

    def to_pandas(self) -> pd.DataFrame:
        """The events as a pandas DataFrame (times UTC-aware)."""
        df: pd.DataFrame = self._table.to_pandas()
        return df

    def to_pylist(self) -> list[dict[str, Any]]:
        """One dict per event."""
        return list(self._table.to_pylist())

    def to_geopandas(self, where: str = "entry") -> Any:
        """A GeoDataFrame with a point geometry at ``where`` (``entry``, ``exit`` or
        ``closest``), EPSG:4326. Needs ``geopandas`` installed."""
        try:
            import geopandas as gpd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_geopandas needs geopandas: pip install geopandas") from exc
        df = self.to_pandas()
        geometry = gpd.points_from_xy(df[f"{where}_lon"], df[f"{where}_lat"], crs="EPSG:4326")
        return gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")
