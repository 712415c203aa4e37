"""Clean tracks to GeoParquet: one row per fix, a WKB point geometry, WGS84 lon/lat.

The file follows GeoParquet 1.1: a ``geometry`` column of WKB points (x = longitude,
y = latitude, degrees; no ``crs`` key, which means OGC:CRS84, i.e. WGS84 lon/lat) with the
``geo`` key in the Parquet metadata (encoding, geometry types, bounding box). The other
columns are those of :meth:`patrolwatch.Tracks.to_arrow` (``track_id``, ``time`` as
``timestamp[ns, UTC]``, ``lat_deg``, ``lon_deg``, ``alt_m``, ``speed_mps``,
``heading_deg``, ``source_file``, ``source_line`` and the per-track attributes), so
readers that ignore geometry still have plain columns.

Examples
--------
>>> import pathlib, tempfile, pyarrow.parquet as pq
>>> from patrolwatch import Tracks
>>> t = Tracks.from_arrays(["a"], [0], [131.8], [37.2])
>>> p = write_geoparquet(t, pathlib.Path(tempfile.mkdtemp()) / "t.parquet")
>>> bytes(pq.read_table(p).column("geometry")[0].as_py()).hex()[:10]
'0101000000'
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.tracks import Tracks

__all__ = ["point_wkb", "write_geoparquet"]


def point_wkb(lon_deg: np.ndarray, lat_deg: np.ndarray) -> pa.BinaryArray:
    """Little-endian WKB points, vectorized: 21 bytes each (byte order, type 1, x, y)."""
    n = lon_deg.shape[0]
    rec = np.empty(n, dtype=[("bo", "u1"), ("t", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["bo"] = 1
    rec["t"] = 1
    rec["x"] = lon_deg
    rec["y"] = lat_deg
    offsets = np.arange(0, 21 * n + 1, 21, dtype=np.int32)
    return pa.BinaryArray.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rec.tobytes())]
    )


def write_geoparquet(tracks: Tracks, path: str | os.PathLike[str]) -> Path:
    """Write ``tracks`` as GeoParquet to ``path``; returns the path."""
    table = tracks.to_arrow()
    table = table.append_column("geometry", point_wkb(tracks.lon_deg, tracks.lat_deg))
    bbox = (
        [
            float(tracks.lon_deg.min()),
            float(tracks.lat_deg.min()),
            float(tracks.lon_deg.max()),
            float(tracks.lat_deg.max()),
        ]
        if len(tracks)
        else []
    )
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["Point"],
                **({"bbox": bbox} if bbox else {}),
            }
        },
    }
    meta = dict(table.schema.metadata or {})
    meta[b"geo"] = json.dumps(geo).encode()
    table = table.replace_schema_metadata(meta)
    out = Path(path)
    pq.write_table(table, out)
    return out
