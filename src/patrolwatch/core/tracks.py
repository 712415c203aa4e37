"""The columnar track table: one row per fix, sorted by (track, time).

A :class:`Tracks` holds parallel NumPy arrays, one element per fix, and per-track
attributes. Fixes are sorted by track then time, so the fixes of track ``k`` are the slice
``offsets[k]:offsets[k + 1]``. Readers build it (``patrolwatch.io``); detectors read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..errors import SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TRACK_ATTRIBUTES", "Tracks"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

TRACK_ATTRIBUTES = ("operator", "type", "callsign")
"""Per-track attributes patrolwatch knows; readers may add others."""


def _f64(x: npt.ArrayLike | None, n: int) -> F64:
    if x is None:
        return np.full(n, np.nan)
    return np.ascontiguousarray(x, dtype=np.float64)


def check_lonlat(
    lon_deg: F64, lat_deg: F64, *, path: str, lines: npt.ArrayLike | None = None
) -> None:
    """Refuse a longitude outside [-180, 180] or a latitude outside [-90, 90] (NaN too).

    Raises
    ------
    SchemaError
        Naming the first bad fix (its position, and its line when ``lines`` is given).

    Examples
    --------
    >>> lon, lat = np.array([131.0, 37.5]), np.array([37.5, 131.0])
    >>> check_lonlat(lon, lat, path="<memory>")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    patrolwatch.SchemaError: <memory>:-: fix 1: lon 37.5, lat 131.0 out of range or missing ...
    """
    bad = ~(np.abs(lat_deg) <= 90.0) | ~(np.abs(lon_deg) <= 180.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"fix {i}: lon {lon_deg[i]}, lat {lat_deg[i]} out of range or missing "
            "(lon in [-180, 180], lat in [-90, 90]; are they swapped?)",
            path=path,
            line=None if lines is None else int(np.asarray(lines)[i]),
        )


@dataclass(frozen=True, eq=False)
class Tracks:
    """Position fixes of many tracks, columnar, sorted by ``(track_id, t_ns)``.

    Attributes
    ----------
    track_ids : ndarray of str, one per track
        Stable track identifiers, in sorted order.
    offsets : ndarray of int64, shape (n_tracks + 1,)
        Fixes of track ``k`` are ``offsets[k]:offsets[k+1]``.
    t_ns : ndarray of int64, one per fix
        Time, nanoseconds since the Unix epoch, UTC.
    lon_deg, lat_deg : ndarray of float64
        WGS84 longitude in [-180, 180] and latitude in [-90, 90], degrees.
    alt_m : ndarray of float64
        Altitude in metres (NaN where unknown). Barometric or geometric as the source gave it.
    speed_mps : ndarray of float64
        Reported ground speed, m/s (NaN where unknown).
    heading_deg : ndarray of float64
        Reported course or heading, degrees clockwise from true north (NaN where unknown).
    src_file : ndarray of int32
        Index into ``sources`` of the file each fix came from.
    src_line : ndarray of int64
        1-based line of that file (the header is line 1 for CSV), or row number for
        formats without lines.
    sources : tuple of str
        Input file names.
    attrs : mapping of str to ndarray of str, one per track
        Per-track attributes such as ``operator`` (ISO 3166 alpha-3 state or operator),
        ``type`` and ``callsign``; ``""`` where unknown.

    Notes
    -----
    Fixes with equal time in one track keep their input order. Build one with
    :meth:`from_arrays`, which sorts and validates.
    """

    track_ids: npt.NDArray[np.str_]
    offsets: I64
    t_ns: I64
    lon_deg: F64
    lat_deg: F64
    alt_m: F64
    speed_mps: F64
    heading_deg: F64
    src_file: npt.NDArray[np.int32]
    src_line: I64
    sources: tuple[str, ...] = ()
    attrs: Mapping[str, npt.NDArray[np.str_]] = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        track_id: Sequence[str] | npt.ArrayLike,
        t_ns: npt.ArrayLike,
        lon_deg: npt.ArrayLike,
        lat_deg: npt.ArrayLike,
        *,
        alt_m: npt.ArrayLike | None = None,
        speed_mps: npt.ArrayLike | None = None,
        heading_deg: npt.ArrayLike | None = None,
        src_file: npt.ArrayLike | None = None,
        src_line: npt.ArrayLike | None = None,
        sources: Sequence[str] = ("<memory>",),
        attrs: Mapping[str, npt.ArrayLike] | None = None,
    ) -> Tracks:
        """Build tracks from per-fix arrays, sorting by (track_id, t_ns) (stable).

        Parameters
        ----------
        track_id : array of str, one per fix
        t_ns : array of int64, UTC nanoseconds since the epoch, one per fix
        lon_deg, lat_deg : array of float64, degrees, WGS84
        alt_m, speed_mps, heading_deg : array of float64, optional
            Metres, metres per second, degrees; NaN where unknown.
        src_file, src_line : array of int, optional
            Provenance of each fix (index into ``sources``; 1-based line). Default: file 0,
            line = 1-based position in the given arrays.
        attrs : mapping of str to array of str, one value per *fix*, optional
            Per-track attributes; the first non-empty value of each track is kept.

        Raises
        ------
        SchemaError
            When arrays differ in length, or coordinates are out of range.

        Examples
        --------
        >>> t = Tracks.from_arrays(["b", "a", "a"], [2, 5, 1], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
        >>> t.track_ids.tolist(), t.t_ns.tolist(), t.offsets.tolist()
        (['a', 'b'], [1, 5, 2], [0, 2, 3])
        """
        ids = np.asarray(track_id, dtype=str)
        n = ids.shape[0]
        t = np.asarray(t_ns, dtype=np.int64)
        lon = _f64(lon_deg, n)
        lat = _f64(lat_deg, n)
        cols = {"t_ns": t, "lon_deg": lon, "lat_deg": lat}
        for name, arr in cols.items():
            if arr.shape != (n,):
                raise SchemaError(
                    f"{name} has {arr.shape[0]} values but track_id has {n}", path="<memory>"
                )
        check_lonlat(lon, lat, path="<memory>", lines=src_line)
        alt = _f64(alt_m, n)
        spd = _f64(speed_mps, n)
        hdg = _f64(heading_deg, n)
        sfile = (
            np.zeros(n, dtype=np.int32)
            if src_file is None
            else np.asarray(src_file, dtype=np.int32)
        )
        sline = (
            np.arange(1, n + 1, dtype=np.int64)
            if src_line is None
            else np.asarray(src_line, dtype=np.int64)
        )
        uniq, codes = np.unique(ids, return_inverse=True)
        order = np.lexsort((t, codes))
        codes = codes[order]
        counts = np.bincount(codes, minlength=uniq.shape[0])
        offsets = np.zeros(uniq.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        track_attrs: dict[str, npt.NDArray[np.str_]] = {}
        for key, values in (attrs or {}).items():
            v = np.asarray(values, dtype=str)[order]
            out = np.full(uniq.shape[0], "", dtype=v.dtype if v.size else "<U1")
            nonempty = v != ""
            # first non-empty value per track: iterate in reverse so the first wins
            idx = np.flatnonzero(nonempty)[::-1]
            out[codes[idx]] = v[idx]
            track_attrs[key] = out
        return cls(
            track_ids=uniq,
            offsets=offsets,
            t_ns=t[order],
            lon_deg=lon[order],
            lat_deg=lat[order],
            alt_m=alt[order],
            speed_mps=spd[order],
            heading_deg=hdg[order],
            src_file=sfile[order],
            src_line=sline[order],
            sources=tuple(sources),
            attrs=track_attrs,
        )

    # ------------------------------------------------------------------ shape
    def __len__(self) -> int:
        """Number of fixes."""
        return int(self.t_ns.shape[0])

    @property
    def n_tracks(self) -> int:
        """Number of tracks."""
        return int(self.track_ids.shape[0])

    @property
    def track_index(self) -> npt.NDArray[np.int64]:
        """Per fix, the index of its track in ``track_ids``."""
        return np.repeat(np.arange(self.n_tracks, dtype=np.int64), np.diff(self.offsets))

    def attr(self, name: str) -> npt.NDArray[np.str_]:
        """Per-track attribute ``name`` (``""`` where unknown or absent)."""
        if name in self.attrs:
            return self.attrs[name]
        return np.full(self.n_tracks, "", dtype="<U1")

    def has_altitude(self) -> npt.NDArray[np.bool_]:
        """Per fix, True where the altitude is known."""
        return ~np.isnan(self.alt_m)

    # ------------------------------------------------------------------ conversion
    def to_arrow(self) -> pa.Table:
        """One row per fix: ``track_id, time (timestamp[ns, UTC]), lat_deg, lon_deg, alt_m,
        speed_mps, heading_deg, source_file, source_line`` and the per-track attributes."""
        tix = self.track_index
        cols: dict[str, pa.Array] = {
            "track_id": pa.array(self.track_ids[tix].astype(object), pa.string()),
            "time": pa.array(self.t_ns, pa.timestamp("ns", tz="UTC")),
            "lat_deg": pa.array(self.lat_deg),
            "lon_deg": pa.array(self.lon_deg),
            "alt_m": pa.array(self.alt_m, from_pandas=True),
            "speed_mps": pa.array(self.speed_mps, from_pandas=True),
            "heading_deg": pa.array(self.heading_deg, from_pandas=True),
            "source_file": pa.array(
                np.asarray(self.sources, dtype=object)[self.src_file]
                if self.sources
                else np.full(len(self), "", dtype=object),
                pa.string(),
            ),
            "source_line": pa.array(self.src_line),
        }
        for key, values in self.attrs.items():
            cols[key] = pa.array(values[tix].astype(object), pa.string())
        return pa.table(cols)

    def to_pandas(self) -> pd.DataFrame:
        """The :meth:`to_arrow` table as a pandas DataFrame (UTC-aware times)."""
        df: pd.DataFrame = self.to_arrow().to_pandas()
        return df

    def select_tracks(self, mask: npt.NDArray[np.bool_]) -> Tracks:
        """A new :class:`Tracks` with only the tracks where ``mask`` (one per track) is True."""
        keep_fix = np.repeat(mask, np.diff(self.offsets))
        counts = np.diff(self.offsets)[mask]
        offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return Tracks(
            track_ids=self.track_ids[mask],
            offsets=offsets,
            t_ns=self.t_ns[keep_fix],
            lon_deg=self.lon_deg[keep_fix],
            lat_deg=self.lat_deg[keep_fix],
            alt_m=self.alt_m[keep_fix],
            speed_mps=self.speed_mps[keep_fix],
            heading_deg=self.heading_deg[keep_fix],
            src_file=self.src_file[keep_fix],
            src_line=self.src_line[keep_fix],
            sources=self.sources,
            attrs={k: v[mask] for k, v in self.attrs.items()},
        )

    def shift_time(self, delta_ns: int) -> Tracks:
        """The same tracks with every time shifted by ``delta_ns`` nanoseconds."""
        import dataclasses

        return dataclasses.replace(self, t_ns=self.t_ns + np.int64(delta_ns))
