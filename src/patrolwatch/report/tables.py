"""Write events as CSV, Parquet or JSON, chosen by the output file's suffix.

CSV and JSON render times as ISO 8601 UTC strings ending in ``Z`` with millisecond
precision, absent values as empty cells (CSV) or ``null`` (JSON); Parquet keeps the Arrow
types (``timestamp[ns, UTC]``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..core.events import Events
from ..core.times import to_iso_z
from ..errors import ConfigError

__all__ = ["OUTPUT_FORMATS", "events_to_strings", "write_events"]

OUTPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json"}
"""Output suffixes and the format each selects."""


def events_to_strings(events: Events, *, digits: int = 3) -> pa.Table:
    """The event table with every timestamp column rendered as ISO 8601 ``...Z`` text."""
    table = events.to_arrow()
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            col = table.column(i).cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64())
            values = col.to_numpy(zero_copy_only=False)
            mask = col.is_null().to_numpy(zero_copy_only=False)
            ints = np.where(mask, 0, np.nan_to_num(values)).astype(np.int64)
            text = to_iso_z(ints, digits=digits)
            arr = pa.array([None if m else s for s, m in zip(text, mask, strict=True)], pa.string())
            table = table.set_column(i, field.name, arr)
    return table


def write_events(events: Events, path: str | os.PathLike[str]) -> Path:
    """Write ``events`` to ``path``; the suffix (``.csv``, ``.parquet``, ``.json``) picks
    the format. Parent folders are created.

    Raises
    ------
    ConfigError
        For an unsupported suffix.
    """
    out = Path(path)
    fmt = OUTPUT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"cannot write {out}: unknown suffix {out.suffix!r}; "
            f"use one of {', '.join(OUTPUT_FORMATS)}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(events.to_arrow(), out)
    elif fmt == "csv":
        pacsv.write_csv(
            events_to_strings(events),
            out,
            write_options=pacsv.WriteOptions(quoting_style="needed"),
        )
    else:
        rows: list[dict[str, Any]] = events_to_strings(events).to_pylist()
        for row in rows:
            for key, value in row.items():
                if isinstance(value, float) and not np.isfinite(value):
                    row[key] = None
        out.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out
