"""Decoders of live feeds: lines or documents in, fixes and rejected lines out.

Every decoder returns a :class:`Decoded`: the fixes (SI units: m, m/s, degrees; times
int ns UTC), the rejected lines with a reason code and the number of lines read, so that
``n_read == n_fixes + n_rejected + n_other`` (``n_other``: lines used only for track
attributes, such as AIS static reports or SBS callsign messages, or carrying no position
by design). Knots and feet are converted here, on the way in, through
:mod:`patrolwatch.units`.

Formats
-------
AIS NMEA 0183 (``!AIVDM``/``!AIVDO``)
    Decoded by ``patrolwatch.io.ais_nmea`` when that module exists, else by ``pyais``
    behind :class:`NmeaDecoder` (the adapter to swap). Multi-sentence messages are
    assembled per channel and sequence id; a fragment without its companions for
    :data:`FRAGMENT_TIMEOUT_S` is rejected as ``missing_fragment``. Fix time: the tag
    block's ``c:`` (UNIX seconds) when present, else the time the line was received.
SBS-1 BaseStation (port 30003 of dump1090/readsb)
    ``MSG,3`` (airborne) and ``MSG,2`` (surface) carry positions; ``MSG,1`` the
    callsign. The message's generated date and time are read in the time zone given
    (dump1090 writes the receiver's local time; say so with ``?tz=``), or the receive
    time with ``tz="received"``.
aircraft.json (tar1090/readsb)
    Fix time ``now - seen_pos``; a position already delivered is not repeated.
JSON lines and CSV (HTTP POST)
    ``track_id``, ``time`` (ISO 8601 with ``Z`` or an offset, or ``t_ns``), ``lat``,
    ``lon`` and optional ``alt_m``, ``speed_mps``, ``heading_deg``, ``operator``,
    ``type``, ``callsign``, ``source_kind``. A time without a zone is refused
    (``naive_time``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from ..errors import ConfigError
from ..units import FT_M, KT_MPS, NS_PER_S
from .store import Reject
from .stream import FixBatch

__all__ = [
    "FRAGMENT_TIMEOUT_S",
    "AircraftJsonDecoder",
    "Decoded",
    "NmeaDecoder",
    "SbsDecoder",
    "decode_csv",
    "decode_json_lines",
    "icao_operator",
    "mmsi_operator",
]

FRAGMENT_TIMEOUT_S = 10.0
"""Seconds a fragment of a multi-sentence AIS message waits for the others."""

MAX_LINE_CHARS = 4096
"""Longer lines are rejected (``line_too_long``) without being parsed."""


# =========================================================================== operators
# ITU Maritime Identification Digits (first 3 digits of a ship MMSI) of the region and
# of the largest fleets; unknown MIDs give "" (not a guess).
_MID: dict[int, str] = {
    412: "CHN",
    413: "CHN",
    414: "CHN",
    416: "TWN",
    431: "JPN",
    432: "JPN",
    440: "KOR",
    441: "KOR",
    445: "PRK",
    273: "RUS",
    338: "USA",
    366: "USA",
    367: "USA",
    368: "USA",
    369: "USA",
    303: "USA",
    477: "HKG",
    453: "MAC",
    457: "MNG",
    525: "IDN",
    533: "MYS",
    548: "PHL",
    563: "SGP",
    564: "SGP",
    565: "SGP",
    566: "SGP",
    567: "THA",
    574: "VNM",
    351: "PAN",
    352: "PAN",
    353: "PAN",
    354: "PAN",
    355: "PAN",
    356: "PAN",
    357: "PAN",
    370: "PAN",
    371: "PAN",
    372: "PAN",
    373: "PAN",
    374: "PAN",
    636: "LBR",
    637: "LBR",
    538: "MHL",
    215: "MLT",
    229: "MLT",
    248: "MLT",
    249: "MLT",
    256: "MLT",
    209: "CYP",
    210: "CYP",
    212: "CYP",
    308: "BHS",
    309: "BHS",
    311: "BHS",
    232: "GBR",
    233: "GBR",
    234: "GBR",
    235: "GBR",
    211: "DEU",
    218: "DEU",
    219: "DNK",
    220: "DNK",
    226: "FRA",
    227: "FRA",
    228: "FRA",
    244: "NLD",
    245: "NLD",
    246: "NLD",
    257: "NOR",
    258: "NOR",
    259: "NOR",
    265: "SWE",
    266: "SWE",
    230: "FIN",
    247: "ITA",
    224: "ESP",
    225: "ESP",
    237: "GRC",
    239: "GRC",
    240: "GRC",
    241: "GRC",
    316: "CAN",
    503: "AUS",
    512: "NZL",
    419: "IND",
}

# ICAO 24-bit address blocks (ICAO Annex 10 Vol III, Appendix to Chapter 9), of the region
# and some large registries; unknown blocks give "".
_ICAO_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x780000, 0x7BFFFF, "CHN"),
    (0x840000, 0x87FFFF, "JPN"),
    (0x718000, 0x71FFFF, "KOR"),
    (0x720000, 0x727FFF, "PRK"),
    (0x100000, 0x1FFFFF, "RUS"),
    (0xA00000, 0xAFFFFF, "USA"),
    (0x899000, 0x8993FF, "TWN"),
    (0x682000, 0x682FFF, "MNG"),
    (0x400000, 0x43FFFF, "GBR"),
    (0x3C0000, 0x3FFFFF, "DEU"),
    (0x380000, 0x3BFFFF, "FRA"),
    (0x300000, 0x33FFFF, "ITA"),
    (0x340000, 0x37FFFF, "ESP"),
    (0x480000, 0x487FFF, "NLD"),
    (0xC00000, 0xC3FFFF, "CAN"),
    (0x7C0000, 0x7FFFFF, "AUS"),
    (0x800000, 0x83FFFF, "IND"),
    (0x4B0000, 0x4B7FFF, "CHE"),
)


def mmsi_operator(mmsi: int) -> str:
    """Flag state (ISO 3166 alpha-3) of a ship MMSI from its MID, ``""`` if unknown.

    Examples
    --------
    >>> mmsi_operator(440123456), mmsi_operator(273000001), mmsi_operator(999)
    ('KOR', 'RUS', '')
    """
    if 100_000_000 <= mmsi <= 999_999_999:
        return _MID.get(mmsi // 1_000_000, "")
    return ""


def icao_operator(icao24: str) -> str:
    """State of registry (ISO 3166 alpha-3) of an ICAO 24-bit address, ``""`` if unknown.

    Examples
    --------
    >>> icao_operator("780a3b"), icao_operator("71BE12"), icao_operator("zz")
    ('CHN', 'KOR', '')
    """
    try:
        a = int(icao24, 16)
    except ValueError:
        return ""
    for lo, hi, iso in _ICAO_BLOCKS:
        if lo <= a <= hi:
            return iso
    return ""


# =========================================================================== result
@dataclass
class Decoded:
    """Fixes and rejected lines decoded from one delivery of a feed."""

    track_id: list[str] = field(default_factory=list)
    t_ns: list[int] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    alt_m: list[float] = field(default_factory=list)
    speed_mps: list[float] = field(default_factory=list)
    heading_deg: list[float] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    attrs: dict[str, list[str]] = field(
        default_factory=lambda: {"operator": [], "type": [], "callsign": [], "source_kind": []}
    )
    rejects: list[Reject] = field(default_factory=list)
    n_read: int = 0
    n_other: int = 0
    columns: FixBatch | None = None  # set by the columnar path (every line was clean)

    def add(
        self,
        track_id: str,
        t_ns: int,
        lon: float,
        lat: float,
        line: int,
        *,
        alt_m: float = math.nan,
        speed_mps: float = math.nan,
        heading_deg: float = math.nan,
        attrs: Mapping[str, str] | None = None,
    ) -> None:
        """Add one fix."""
        self.track_id.append(track_id)
        self.t_ns.append(int(t_ns))
        self.lon.append(float(lon))
        self.lat.append(float(lat))
        self.alt_m.append(float(alt_m))
        self.speed_mps.append(float(speed_mps))
        self.heading_deg.append(float(heading_deg))
        self.line.append(int(line))
        for key, values in self.attrs.items():
            values.append(str((attrs or {}).get(key, "") or ""))

    def reject(self, line: int, raw: str, reason: str, message: str) -> None:
        """Record a line that is not used."""
        self.rejects.append(Reject(int(line), raw[:MAX_LINE_CHARS], reason, message))

    def __len__(self) -> int:
        return len(self.columns) if self.columns is not None else len(self.t_ns)

    def fix_batch(self, source: str) -> FixBatch:
        """The fixes as a :class:`FixBatch` (``fix_id`` is assigned by the store)."""
        if self.columns is not None:
            c = self.columns
            return FixBatch(
                c.track_id,
                c.t_ns,
                c.lon_deg,
                c.lat_deg,
                c.alt_m,
                c.speed_mps,
                c.heading_deg,
                c.fix_id,
                np.full(len(c), source, dtype=object).astype(str),
                c.line,
                c.attrs,
            )
        return FixBatch(
            track_id=np.asarray(self.track_id, dtype=str),
            t_ns=np.asarray(self.t_ns, dtype=np.int64),
            lon_deg=np.asarray(self.lon, dtype=np.float64),
            lat_deg=np.asarray(self.lat, dtype=np.float64),
            alt_m=np.asarray(self.alt_m, dtype=np.float64),
            speed_mps=np.asarray(self.speed_mps, dtype=np.float64),
            heading_deg=np.asarray(self.heading_deg, dtype=np.float64),
            fix_id=np.zeros(len(self.t_ns), dtype=np.int64),
            source=np.full(len(self.t_ns), source, dtype=object).astype(str),
            line=np.asarray(self.line, dtype=np.int64),
            attrs={k: np.asarray(v, dtype=str) for k, v in self.attrs.items()},
        )

    def check(self, i0: int, raw: str, line: int) -> bool:
        """Validate the fixes added since index ``i0``; reject and drop bad ones."""
        ok = True
        for i in range(len(self.t_ns) - 1, i0 - 1, -1):
            lat, lon = self.lat[i], self.lon[i]
            reason = ""
            if not math.isfinite(lat) or not math.isfinite(lon):
                reason = "missing_coordinate"
            elif abs(lat) > 90:
                reason = "lat_out_of_range"
            elif abs(lon) > 180:
                reason = "lon_out_of_range"
            if reason:
                ok = False
                self.reject(line, raw, reason, f"lat {lat}, lon {lon}: {reason.replace('_', ' ')}")
                for values in (
                    self.track_id,
                    self.t_ns,
                    self.lon,
                    self.lat,
                    self.alt_m,
                    self.speed_mps,
                    self.heading_deg,
                    self.line,
                ):
                    values.pop(i)
                for values in self.attrs.values():
                    values.pop(i)
        return ok


def _clean_line(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text.strip("\r\n\x00 ")


# =========================================================================== AIS NMEA
_TAG_C = re.compile(r"(?:^|,)c:(\d+)")


@dataclass
class _Pending:
    lines: list[tuple[int, str, Any]]
    first_seen: float


class NmeaDecoder:
    """AIS NMEA sentences (one per line) to fixes; stateful (multi-sentence messages).

    Parameters
    ----------
    source : str
        Name used in rejects and provenance.
    clock : callable returning float seconds, optional
        Receive time for fixes without a tag-block time (default ``time.time``).

    Examples
    --------
    >>> d = NmeaDecoder("test", clock=lambda: 1_600_000_000.0)
    >>> good = b"!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"
    >>> out = d.decode([good, b"!AIVDM,1,1,,B,x,0*00"])
    >>> len(out), [r.reason for r in out.rejects], out.n_read
    (1, ['bad_checksum'], 2)
    """

    def __init__(self, source: str = "nmea", *, clock: Any = None) -> None:
        from pyais.messages import NMEAMessage

        self._nmea = NMEAMessage
        self.source = source
        self.clock = clock or time.time
        self.line_no = 0
        self._pending: dict[tuple[str, str, int], _Pending] = {}
        self._static: dict[str, dict[str, str]] = {}

    def decode(self, lines: Iterable[bytes | str]) -> Decoded:
        """Decode lines (and expire fragments waiting too long)."""
        from pyais.exceptions import AISBaseException

        out = Decoded()
        now = float(self.clock())
        for raw_line in lines:
            self.line_no += 1
            line_no = self.line_no
            text = _clean_line(raw_line)
            if not text:
                out.n_read += 1
                out.n_other += 1  # keep-alive blank line
                continue
            out.n_read += 1
            if len(text) > MAX_LINE_CHARS:
                out.reject(line_no, text, "line_too_long", f"longer than {MAX_LINE_CHARS} chars")
                continue
            tag_t: float | None = None
            body = text
            if text.startswith("\\"):
                parts = text.split("\\")
                if len(parts) >= 3:
                    m = _TAG_C.search(parts[1].split("*")[0])
                    if m:
                        stamp = int(m.group(1))
                        tag_t = stamp / 1000.0 if stamp > 10**11 else float(stamp)
                    body = parts[2]
            try:
                msg = self._nmea.from_string(body)
            except (AISBaseException, ValueError, IndexError, TypeError) as exc:
                out.reject(line_no, text, "bad_sentence", f"not an AIS sentence: {exc}")
                continue
            if not msg.is_valid:
                out.reject(line_no, text, "bad_checksum", "NMEA checksum does not match")
                continue
            if msg.is_multi:
                key = (str(msg.channel), str(msg.seq_id), int(msg.frag_cnt))
                pend = self._pending.setdefault(key, _Pending([], now))
                pend.lines.append((line_no, text, msg))
                if len(pend.lines) < int(msg.frag_cnt):
                    out.n_read -= 1  # counted when the message completes or expires
                    continue
                del self._pending[key]
                pend.lines.sort(key=lambda x: int(x[2].frag_num))
                nums = [int(x[2].frag_num) for x in pend.lines]
                out.n_read += len(pend.lines) - 1
                if nums != list(range(1, int(msg.frag_cnt) + 1)):
                    for ln, tx, _ in pend.lines:
                        out.reject(
                            ln, tx, "missing_fragment", f"fragments {nums} of {msg.frag_cnt}"
                        )
                    continue
                try:
                    msg = self._nmea.assemble_from_iterable([x[2] for x in pend.lines])
                except (AISBaseException, ValueError) as exc:
                    for ln, tx, _ in pend.lines:
                        out.reject(ln, tx, "bad_sentence", f"cannot assemble: {exc}")
                    continue
                extra_lines = [(ln, tx) for ln, tx, _ in pend.lines[:-1]]
            else:
                extra_lines = []
            self._message(out, msg, line_no, text, tag_t if tag_t is not None else now, extra_lines)
        self._expire(out, now - FRAGMENT_TIMEOUT_S)
        return out

    def flush(self) -> Decoded:
        """End of input: reject every fragment still waiting for its companions."""
        out = Decoded()
        self._expire(out, math.inf)
        return out

    def _expire(self, out: Decoded, before: float) -> None:
        for key, pend in list(self._pending.items()):
            if pend.first_seen <= before:
                del self._pending[key]
                out.n_read += len(pend.lines)
                for ln, tx, _ in pend.lines:
                    out.reject(
                        ln,
                        tx,
                        "missing_fragment",
                        f"no companion fragment within {FRAGMENT_TIMEOUT_S:g} s",
                    )

    def _message(
        self,
        out: Decoded,
        msg: Any,
        line_no: int,
        text: str,
        t_s: float,
        extra_lines: Sequence[tuple[int, str]],
    ) -> None:
        from pyais.exceptions import AISBaseException

        if not msg.payload:
            out.reject(line_no, text, "empty_payload", "sentence without payload")
            out.n_other += len(extra_lines)
            return
        try:
            data = msg.decode().asdict()
        except (AISBaseException, ValueError, IndexError, TypeError, KeyError) as exc:
            out.reject(line_no, text, "bad_payload", f"cannot decode payload: {exc}")
            out.n_other += len(extra_lines)
            return
        out.n_other += len(extra_lines)  # earlier fragments: used through the last one
        mtype = int(data.get("msg_type", 0))
        mmsi = str(data.get("mmsi", "")).strip()
        if mtype in (5, 24, 19):
            st = self._static.setdefault(mmsi, {})
            name = str(data.get("shipname") or "").strip(" @")
            call = str(data.get("callsign") or "").strip(" @")
            if call:
                st["callsign"] = call
            if name:
                st["name"] = name
            ship_type = data.get("ship_type")
            if ship_type not in (None, 0):
                st["type"] = f"ais:{int(ship_type)}"
            if mtype != 19:
                out.n_other += 1
                return
        if mtype not in (1, 2, 3, 9, 18, 19, 27):
            out.n_other += 1  # no position by design (binary, safety, base station...)
            return
        lon, lat = data.get("lon"), data.get("lat")
        if lon is None or lat is None:
            out.reject(line_no, text, "missing_coordinate", "position message without position")
            return
        if float(lon) == 181.0 or float(lat) == 91.0:
            out.reject(line_no, text, "not_available", "position not available (lat 91, lon 181)")
            return
        if not mmsi or not mmsi.isdigit():
            out.reject(line_no, text, "missing_id", "message without MMSI")
            return
        st = self._static.get(mmsi, {})
        speed = data.get("speed")
        course = data.get("course")
        alt = data.get("alt") if mtype == 9 else None
        i0 = len(out)
        out.add(
            mmsi,
            int(t_s * NS_PER_S),
            float(lon),
            float(lat),
            line_no,
            alt_m=float(alt) if alt not in (None, 4095) else math.nan,
            speed_mps=float(speed) * KT_MPS
            if speed is not None and float(speed) < 102.3
            else math.nan,
            heading_deg=float(course) if course is not None and float(course) < 360 else math.nan,
            attrs={
                "operator": mmsi_operator(int(mmsi)),
                "type": st.get("type", "sar_aircraft" if mtype == 9 else ""),
                "callsign": st.get("callsign") or st.get("name", ""),
                "source_kind": "ais",
            },
        )
        out.check(i0, text, line_no)


def make_nmea_decoder(source: str, clock: Any = None) -> NmeaDecoder:
    """The NMEA decoder to use (the adapter over ``pyais``).

    When the ingest module ``patrolwatch.io.ais_nmea`` ships a streaming decoder, swap it
    in here: the rest of the service only calls ``decode(lines) -> Decoded``.
    """
    return NmeaDecoder(source, clock=clock)


# =========================================================================== SBS-1
class SbsDecoder:
    """SBS-1 BaseStation CSV (dump1090/readsb port 30003) to fixes.

    Parameters
    ----------
    source : str
    tz : str
        Time zone of the messages' generated date/time (``"UTC"``, ``"Asia/Seoul"``), or
        ``"received"`` to time fixes when they arrive.

    Examples
    --------
    >>> d = SbsDecoder("sbs", tz="UTC")
    >>> line = ("MSG,3,1,1,71BE12,1,2019/07/23,00:09:01.000,2019/07/23,00:09:01.100,,25000,,,"
    ...         "37.5,131.2,,,0,0,0,0")
    >>> out = d.decode([line, "MSG,1,1,1,71BE12,1,2019/07/23,00:09:02.000,,,KAL123,,,,,,,,,,,"])
    >>> out.track_id, round(out.alt_m[0], 1), out.attrs["operator"], out.n_other
    (['71be12'], 7620.0, ['KOR'], 1)
    """

    def __init__(self, source: str = "sbs", *, tz: str = "UTC", clock: Any = None) -> None:
        self.source = source
        self.clock = clock or time.time
        self.line_no = 0
        self.received = tz == "received"
        try:
            self.tz = dt.UTC if tz in ("UTC", "Z", "received") else ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"unknown time zone {tz!r} for SBS times (e.g. UTC, Asia/Seoul)"
            ) from None
        self._callsign: dict[str, str] = {}

    def decode(self, lines: Iterable[bytes | str]) -> Decoded:
        """Decode lines."""
        out = Decoded()
        now = float(self.clock())
        for raw in lines:
            self.line_no += 1
            ln = self.line_no
            text = _clean_line(raw)
            out.n_read += 1
            if not text:
                out.n_other += 1
                continue
            if len(text) > MAX_LINE_CHARS:
                out.reject(ln, text, "line_too_long", f"longer than {MAX_LINE_CHARS} chars")
                continue
            f = text.split(",")
            if f[0] != "MSG":
                if f[0] in ("SEL", "ID", "AIR", "STA", "CLK"):
                    out.n_other += 1
                else:
                    out.reject(ln, text, "bad_sbs", f"unknown message type {f[0][:10]!r}")
                continue
            if len(f) < 16 or not f[1].strip().isdigit():
                out.reject(ln, text, "bad_sbs", f"{len(f)} fields; MSG lines have 22")
                continue
            hexid = f[4].strip().lower()
            if not re.fullmatch(r"~?[0-9a-f]{6}", hexid):
                out.reject(ln, text, "missing_id", f"bad ICAO address {f[4][:10]!r}")
                continue
            kind = int(f[1])
            if kind == 1:
                if f[10].strip():
                    self._callsign[hexid] = f[10].strip()
                out.n_other += 1
                continue
            if kind not in (2, 3):
                out.n_other += 1
                continue
            if not f[14].strip() or not f[15].strip():
                out.n_other += 1  # position not (yet) decoded: dump1090 sends such MSG,3
                continue
            try:
                lat, lon = float(f[14]), float(f[15])
                alt_ft = float(f[11]) if f[11].strip() else math.nan
                gs_kt = float(f[12]) if f[12].strip() else math.nan
                trk = float(f[13]) if f[13].strip() else math.nan
            except ValueError:
                out.reject(ln, text, "bad_value", "a number could not be read")
                continue
            if self.received:
                t_ns = int(now * NS_PER_S)
            else:
                try:
                    stamp = dt.datetime.strptime(
                        f"{f[6].strip()} {f[7].strip()}", "%Y/%m/%d %H:%M:%S.%f"
                    )
                except ValueError:
                    try:
                        stamp = dt.datetime.strptime(
                            f"{f[6].strip()} {f[7].strip()}", "%Y/%m/%d %H:%M:%S"
                        )
                    except ValueError:
                        out.reject(ln, text, "bad_time", f"cannot read time {f[6]!r} {f[7]!r}")
                        continue
                aware = stamp.replace(tzinfo=self.tz)
                t_ns = int(aware.timestamp()) * NS_PER_S + aware.microsecond * 1000
            i0 = len(out)
            out.add(
                hexid,
                t_ns,
                lon,
                lat,
                ln,
                alt_m=alt_ft * FT_M,
                speed_mps=gs_kt * KT_MPS,
                heading_deg=trk,
                attrs={
                    "operator": icao_operator(hexid.lstrip("~")),
                    "callsign": self._callsign.get(hexid, ""),
                    "source_kind": "adsb",
                },
            )
            out.check(i0, text, ln)
        return out


# =========================================================================== aircraft.json
class AircraftJsonDecoder:
    """tar1090/readsb ``aircraft.json`` documents to fixes (new positions only)."""

    def __init__(self, source: str = "aircraft.json") -> None:
        self.source = source
        self.doc_no = 0
        self._last: dict[str, int] = {}

    def decode(self, body: bytes) -> Decoded:
        """Decode one document; each aircraft entry counts as one line read."""
        self.doc_no += 1
        out = Decoded()
        try:
            doc = json.loads(body)
            now = float(doc["now"])
            aircraft = doc["aircraft"]
            if not isinstance(aircraft, list):
                raise TypeError("'aircraft' is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            out.n_read = 1
            out.reject(
                self.doc_no,
                body[:200].decode("utf-8", "replace"),
                "bad_json",
                f"not an aircraft.json document: {exc}",
            )
            return out
        for k, a in enumerate(aircraft, start=1):
            out.n_read += 1
            raw = json.dumps(a)[:500] if isinstance(a, dict) else repr(a)[:500]
            if not isinstance(a, dict) or not isinstance(a.get("hex"), str):
                out.reject(k, raw, "missing_id", "entry without 'hex'")
                continue
            if "lat" not in a or "lon" not in a:
                out.n_other += 1  # no position (yet): not an error
                continue
            hexid = a["hex"].strip().lower()
            try:
                seen_s = float(a.get("seen_pos", a.get("seen", 0.0)) or 0.0)
                t_ns = int((now - seen_s) * NS_PER_S)
                lat, lon = float(a["lat"]), float(a["lon"])
                alt = a.get("alt_geom", a.get("alt_baro"))
                alt_m = math.nan if alt in (None, "ground") else float(alt) * FT_M
                gs = float(a["gs"]) * KT_MPS if a.get("gs") is not None else math.nan
                trk = float(a["track"]) if a.get("track") is not None else math.nan
            except (TypeError, ValueError) as exc:
                out.reject(k, raw, "bad_value", f"a number could not be read: {exc}")
                continue
            if self._last.get(hexid, -1) >= t_ns:
                out.n_other += 1  # the same position as the previous poll
                continue
            self._last[hexid] = t_ns
            i0 = len(out)
            out.add(
                hexid,
                t_ns,
                lon,
                lat,
                k,
                alt_m=alt_m,
                speed_mps=gs,
                heading_deg=trk,
                attrs={
                    "operator": icao_operator(hexid.lstrip("~")),
                    "callsign": str(a.get("flight") or "").strip(),
                    "type": str(a.get("t") or ""),
                    "source_kind": "adsb",
                },
            )
            out.check(i0, raw, k)
        return out


# =========================================================================== JSON lines, CSV
_FIELDS = ("alt_m", "speed_mps", "heading_deg")


def _parse_time(value: Any) -> tuple[int | None, str]:
    """(t_ns, reason): ISO 8601 with a zone, or epoch seconds (number)."""
    if isinstance(value, bool) or value is None or value == "":
        return None, "missing_time"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None, "bad_time"
        return round(float(value) * NS_PER_S), ""
    if not isinstance(value, str):
        return None, "bad_time"
    try:
        stamp = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None, "bad_time"
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        return None, "naive_time"
    stamp = stamp.astimezone(dt.UTC)
    return int(stamp.replace(microsecond=0).timestamp()) * NS_PER_S + stamp.microsecond * 1000, ""


COLUMNAR_MIN_LINES = 64
"""Deliveries of at least this many lines are first read by Arrow (C++), all columns at
once; a delivery with any line the per-line decoder would reject, or with blank lines, is
decoded line by line instead, so rejects keep their line and reason. Same fixes either
way (``columnar=False`` forces the per-line path)."""

_ISO_ZONED = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$"
_ATTRS = ("operator", "type", "callsign", "source_kind")


def _columnar(table: Any, first_line: int) -> Decoded | None:
    """The fixes of a table read by Arrow when every row is clean (what the per-line
    decoder would accept without a reject, with the same values); ``None`` otherwise,
    and the caller decodes line by line to name each bad line and its reason."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = set(table.column_names)
    n = table.num_rows
    if n == 0 or not {"track_id", "lat", "lon"} <= names:
        return None

    def numeric(name: str, *, required: bool) -> npt.NDArray[np.float64] | None:
        if name not in names:
            return None if required else np.full(n, math.nan)
        col = table.column(name)
        typ = col.type
        if pa.types.is_null(typ) and not required:
            return np.full(n, math.nan)
        if not (pa.types.is_floating(typ) or pa.types.is_integer(typ)):
            return None
        if required and col.null_count:
            return None
        return np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)

    tid_col = table.column("track_id")
    if pa.types.is_integer(tid_col.type):
        tid_col = tid_col.cast(pa.string())
    if not (pa.types.is_string(tid_col.type) or pa.types.is_large_string(tid_col.type)):
        return None
    if tid_col.null_count:
        return None
    trimmed = pc.utf8_trim_whitespace(tid_col)
    if pc.any(pc.equal(trimmed, "")).as_py() or not pc.all(pc.equal(trimmed, tid_col)).as_py():
        return None  # blank ids, or ids with spaces around (the per-line path trims CSV)
    if "t_ns" in names and pa.types.is_integer(table.column("t_ns").type):
        col = table.column("t_ns")
        if col.null_count:
            return None
        t_ns = np.asarray(col.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    elif "time" in names and "t_ns" not in names:
        col = table.column("time")
        if col.null_count:
            return None
        if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
            v = np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False))
            if not np.isfinite(v).all():
                return None
            t_ns = np.round(v * NS_PER_S).astype(np.int64)
        elif pa.types.is_string(col.type):
            col = pc.utf8_trim_whitespace(col)
            if not pc.all(pc.match_substring_regex(col, _ISO_ZONED)).as_py():
                return None
            try:
                stamps = pc.cast(col, pa.timestamp("ns", tz="UTC"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None
            t_ns = np.asarray(stamps.cast(pa.int64()).to_numpy(zero_copy_only=False))
        else:
            return None
    else:
        return None
    lat = numeric("lat", required=True)
    lon = numeric("lon", required=True)
    if lat is None or lon is None:
        return None
    if not (np.all(np.abs(lat) <= 90.0) and np.all(np.abs(lon) <= 180.0)):
        return None
    extra = {name: numeric(name, required=False) for name in _FIELDS}
    if any(v is None for v in extra.values()):
        return None
    attrs: dict[str, npt.NDArray[np.str_]] = {}
    for a in _ATTRS:
        if a not in names or pa.types.is_null(table.column(a).type):
            attrs[a] = np.full(n, "", dtype=str)
            continue
        col = table.column(a)
        if not pa.types.is_string(col.type):
            return None
        filled = col.fill_null("")
        if not pc.all(pc.equal(pc.utf8_trim_whitespace(filled), filled)).as_py():
            return None
        attrs[a] = np.asarray(col.fill_null("").to_numpy(zero_copy_only=False), dtype=str)
    out = Decoded()
    out.n_read = n
    tids = np.asarray(tid_col.to_numpy(zero_copy_only=False), dtype=str)
    out.columns = FixBatch(
        track_id=tids,
        t_ns=t_ns,
        lon_deg=lon,
        lat_deg=lat,
        alt_m=extra["alt_m"],  # type: ignore[arg-type]
        speed_mps=extra["speed_mps"],  # type: ignore[arg-type]
        heading_deg=extra["heading_deg"],  # type: ignore[arg-type]
        fix_id=np.zeros(n, dtype=np.int64),
        source=np.full(n, "", dtype=str),
        line=np.arange(first_line, first_line + n, dtype=np.int64),
        attrs=attrs,
    )
    return out


def _plain_lines(body: bytes) -> int | None:
    """Number of lines when none is blank (``None`` otherwise): only then are Arrow's
    rows the body's lines one for one."""
    text = body[:-1] if body.endswith(b"\n") else body
    if not text or b"\r" in text or b"\n\n" in text or text.startswith(b"\n"):
        return None
    return text.count(b"\n") + 1


def decode_json_lines(body: bytes, *, first_line: int = 1, columnar: bool = True) -> Decoded:
    """Decode JSON lines: one object per line (see the module docstring for the fields).

    Examples
    --------
    >>> out = decode_json_lines(b'{"track_id": "A", "time": "2019-07-23T00:00:00Z", '
    ...                         b'"lat": 37.5, "lon": 131.0}\\n{"track_id": "A", "time": '
    ...                         b'"2019-07-23T00:01:00", "lat": 37.5, "lon": 131.1}\\n[1]')
    >>> len(out), [(r.line, r.reason) for r in out.rejects]
    (1, [(2, 'naive_time'), (3, 'bad_json')])
    """
    lines = _plain_lines(body) if columnar else None
    if lines is not None and lines >= COLUMNAR_MIN_LINES and body.lstrip()[:1] == b"{":
        import pyarrow as pa
        import pyarrow.json as pj

        try:
            table = pj.read_json(pa.BufferReader(body))
            if "time" in table.column_names and pa.types.is_timestamp(table["time"].type):
                # Arrow's own ISO inference: read the text and parse it as the per-line
                # path does (zone required, microseconds kept)
                table = pj.read_json(
                    pa.BufferReader(body),
                    parse_options=pj.ParseOptions(
                        explicit_schema=pa.schema([("time", pa.string())])
                    ),
                )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
        if table is not None and table.num_rows == lines:
            fast = _columnar(table, first_line)
            if fast is not None:
                return fast
    out = Decoded()
    for k, raw in enumerate(body.split(b"\n"), start=first_line):
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        out.n_read += 1
        try:
            obj = json.loads(text)
        except ValueError as exc:
            out.reject(k, text, "bad_json", f"not JSON: {exc.args[0][:80]}")
            continue
        if not isinstance(obj, dict):
            out.reject(k, text, "bad_json", "a line must be a JSON object")
            continue
        _record(out, obj, k, text)
    return out


def _record(out: Decoded, obj: Mapping[str, Any], k: int, text: str) -> None:
    tid = obj.get("track_id")
    if not isinstance(tid, str | int) or str(tid).strip() == "":
        out.reject(k, text, "missing_id", "field 'track_id' is missing or empty")
        return
    t_ns: int | None
    if "t_ns" in obj and isinstance(obj["t_ns"], int) and not isinstance(obj["t_ns"], bool):
        t_ns, why = int(obj["t_ns"]), ""
    else:
        t_ns, why = _parse_time(obj.get("time"))
    if t_ns is None:
        msg = {
            "missing_time": "field 'time' is missing",
            "naive_time": "field 'time' has no zone: write 'Z' or an offset such as +09:00",
            "bad_time": "field 'time' is not ISO 8601 or epoch seconds",
        }[why]
        out.reject(k, text, why, msg)
        return
    try:
        lat = float(obj["lat"])
        lon = float(obj["lon"])
    except KeyError as exc:
        out.reject(k, text, "missing_coordinate", f"field {exc.args[0]!r} is missing")
        return
    except (TypeError, ValueError):
        out.reject(k, text, "bad_coordinate", "field 'lat' or 'lon' is not a number")
        return
    extra: dict[str, float] = {}
    for name in _FIELDS:
        v = obj.get(name)
        try:
            extra[name] = math.nan if v is None or v == "" else float(v)
        except (TypeError, ValueError):
            out.reject(k, text, "bad_value", f"field {name!r} is not a number")
            return
    i0 = len(out)
    out.add(
        str(tid),
        t_ns,
        lon,
        lat,
        k,
        **extra,
        attrs={a: str(obj.get(a) or "") for a in ("operator", "type", "callsign", "source_kind")},
    )
    out.check(i0, text, k)


def decode_csv(body: bytes, *, columnar: bool = True) -> Decoded:
    """Decode a CSV batch with a header (``track_id,time,lat,lon,...``), same fields as
    JSON lines; the header is line 1."""
    import csv
    import io

    lines = _plain_lines(body) if columnar else None
    if lines is not None and lines > COLUMNAR_MIN_LINES and not body.startswith(b"\xef\xbb\xbf"):
        import pyarrow as pa
        import pyarrow.csv as pcsv

        try:
            table = pcsv.read_csv(
                pa.BufferReader(body),
                convert_options=pcsv.ConvertOptions(
                    column_types={"track_id": pa.string(), "time": pa.string()},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
        if table is not None and table.num_rows == lines - 1:
            fast = _columnar(table, 2)
            if fast is not None:
                fast.n_read += 1
                fast.n_other = 1  # the header
                return fast
    out = Decoded()
    text = body.decode("utf-8-sig", "replace")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return out
    out.n_read += 1
    out.n_other += 1  # the header
    for k, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        out.n_read += 1
        raw = ",".join(row)
        if len(row) != len(header):
            out.reject(k, raw, "bad_row", f"{len(row)} fields, header has {len(header)}")
            continue
        obj: dict[str, Any] = dict(zip(header, (c.strip() for c in row), strict=True))
        if obj.get("t_ns"):
            try:
                obj["t_ns"] = int(obj["t_ns"])
            except ValueError:
                out.reject(k, raw, "bad_time", "field 't_ns' is not an integer")
                continue
        elif isinstance(obj.get("time"), str) and re.fullmatch(r"-?\d+(\.\d+)?", obj["time"]):
            obj["time"] = float(obj["time"])
        _record(out, obj, k, raw)
    return out
