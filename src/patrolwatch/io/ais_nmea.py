"""AIS NMEA 0183 reader: ``!AIVDM``/``!AIVDO`` lines in, ship fixes out, every line counted.

What is read
------------
- Position reports: message types 1, 2, 3 (class A), 18, 19 (class B) and 27 (long
  range), decoded by compiled kernels (:mod:`patrolwatch.io._ais_kernels`) over the whole
  file at once; type 9 (search-and-rescue aircraft) through ``pyais``, the fallback for
  rare types. Decoded values are those of ``pyais`` (degrees rounded to 1e-6 as pyais
  does, speed in tenths of a knot, course in tenths of a degree).
- Static data: types 5 and 24 (and the static part of 19) give each MMSI its ship name,
  call sign and ship type; the flag comes from the MMSI's MID (:mod:`._mid`, ITU table).
- Multi-sentence messages are reassembled by (talker, channel, sequence id, fragment
  count), in line order: fragment 1 opens a message, fragments 2..n must follow in order
  within :data:`MAX_FRAGMENT_SPAN_LINES` lines; a new fragment 1 with the same key
  abandons the open one.
- Checksums are checked (sentence, tag block and ``$PGHP`` wrapper).

Times
-----
Each message takes the first of these that its lines carry:

1. an NMEA 4.10 tag block ``\\c:<epoch>,...*hh\\`` (seconds; 13 digits: milliseconds);
2. a receiver prefix before the sentence: epoch seconds or milliseconds, ISO 8601
   (``2019-07-23T00:09:00Z``), or ``[YYYY-MM-DD hh:mm:ss.sss]``. A prefix without a
   zone is read in ``assume_tz``; without ``assume_tz`` it raises
   :class:`~patrolwatch.NaiveTimeError`;
3. a trailing epoch field after the checksum (``...*hh,1563840540``, as in USCG NAIS);
4. a Gatehouse ``$PGHP,1,yyyy,m,d,h,m,s,ms,...,cc*hh`` wrapper on the line before, whose
   last field ``cc`` equals the wrapped sentence's checksum (Gatehouse times are UTC);
5. only when the caller passes ``date``: the UTC minute it names plus the message's own
   UTC second field (0-59), counting minutes in file order (a drop of the second by more
   than :data:`LATE_MESSAGE_S` starts a new minute; a rise by as much is a late message of
   the minute before). This assumes the file is in receive order with no silence longer
   than a minute; the report says how many fixes were timed this way.

Accounting
----------
A row is one input line (``\\n``, ``\\r\\n`` or a lone ``\\r`` ends it; blank lines
count). Every line is *used* or *rejected* with one reason:

- used: a sentence that gave a fix; every fragment of a multi-sentence message that gave
  a fix; a ``$PGHP`` wrapper that timed a used sentence; a static message (types 5, 24)
  whose data joins its MMSI's track.
- rejected: ``blank``, ``comment``, ``not_ais`` (other NMEA, junk), ``bad_checksum``,
  ``bad_sentence`` (e.g. fragment count 0), ``bad_tag_block``, ``bad_time`` (a receiver
  prefix that is not a time), ``missing_fragment``, ``empty_payload``, ``bad_payload``,
  ``unsupported_type`` (no vessel position: base stations, binary messages, ...),
  ``not_available`` (lat 91 / lon 181), ``lat_out_of_range``, ``lon_out_of_range``,
  ``missing_id`` (MMSI 0), ``no_time``, ``unmatched_wrapper``; after decoding,
  ``duplicate``, ``implied_speed`` and ``shared_id`` (:mod:`._clean`).

The lines of one message share its outcome (so ``rows_used`` counts lines, not fixes: a
two-sentence type-19 report is two used lines and one fix).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..core.times import NAT_NS
from ..errors import ConfigError, NaiveTimeError
from ..units import KT_MPS, NS_PER_S
from . import _ais_kernels as K  # noqa: N812 - K.<name> reads as the kernels' namespace
from ._fixes import CLASS_AIRCRAFT, CLASS_SHIP, FileRead, FixTable
from ._mid import mmsi_flag
from ._rejects import Rejects
from ._times import TIME_NAIVE, TIME_OK, parse_times

__all__ = [
    "LATE_MESSAGE_S",
    "MAX_FRAGMENT_SPAN_LINES",
    "MAX_RAW_CHARS",
    "POSITION_TYPES",
    "AisMessages",
    "decode_ais",
    "parse_date",
    "read_ais_nmea",
    "ship_category",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]
STR = npt.NDArray[np.str_]

MAX_FRAGMENT_SPAN_LINES = 100
"""Most lines from the first to the last fragment of one multi-sentence message."""
LATE_MESSAGE_S = 30
"""With ``date``: a UTC second this much below the previous one starts a new minute."""
MAX_RAW_CHARS = 1000
"""Rejected lines longer than this keep their first characters and ``...`` in ``raw``."""
POSITION_TYPES = (1, 2, 3, 18, 19, 27)
"""Message types decoded into fixes by the compiled decoder (9 goes through pyais)."""

_LAT_NA_RAW = 91 * 600_000
_LON_NA_RAW = 181 * 600_000
_LAT_NA_RAW_27 = 91 * 600
_LON_NA_RAW_27 = 181 * 600

_TYPE_NAMES = {
    4: "base station report",
    6: "binary addressed message",
    7: "binary acknowledge",
    8: "binary broadcast message",
    10: "UTC/date inquiry",
    11: "UTC/date response",
    12: "addressed safety message",
    13: "safety acknowledge",
    14: "safety broadcast message",
    15: "interrogation",
    16: "assignment mode command",
    17: "DGNSS broadcast",
    20: "data link management",
    21: "aid-to-navigation report",
    22: "channel management",
    23: "group assignment",
    25: "single slot binary message",
    26: "multiple slot binary message",
}

# line outcome codes (0 = used)
_REASONS = (
    "",
    "blank",
    "comment",
    "not_ais",
    "bad_checksum",
    "bad_sentence",
    "bad_tag_block",
    "bad_time",
    "missing_fragment",
    "empty_payload",
    "bad_payload",
    "unsupported_type",
    "not_available",
    "lat_out_of_range",
    "lon_out_of_range",
    "missing_id",
    "no_time",
    "unmatched_wrapper",
)
_R = {name: i for i, name in enumerate(_REASONS)}
_UNDECIDED = -1
_KIND_REASON = {
    K.K_BLANK: _R["blank"],
    K.K_COMMENT: _R["comment"],
    K.K_JUNK: _R["not_ais"],
    K.K_OTHER_NMEA: _R["not_ais"],
    K.K_BAD_CHECKSUM: _R["bad_checksum"],
    K.K_PGHP_BAD: _R["bad_checksum"],
    K.K_BAD_SENTENCE: _R["bad_sentence"],
    K.K_BAD_TAG: _R["bad_tag_block"],
}
_DETAIL_TEXT = {
    K.D_NO_CHECKSUM: "no valid '*hh' checksum at the end of the sentence",
    K.D_FIELDS: "an AIS sentence has 7 comma-separated fields before '*'",
    K.D_FRAG_COUNT: "the fragment count must be 1-9",
    K.D_FRAG_NUM: "the fragment number must be 1..fragment count",
    K.D_SEQ: "the sequence id must be empty or one digit",
    K.D_FILL: "the fill-bit count must be 0-5",
    K.D_CHAN: "the channel must be one character",
    K.D_TAG_NO_CHECKSUM: "the tag block has no valid '*hh' checksum (two hex digits)",
    K.D_TAG_CHECKSUM: "the tag block checksum does not match",
    K.D_TAG_FIELD: "a tag block field is not 'k:value' (or c: is not digits)",
}
_MISSING_WHY = {
    1: "no later fragment of this message in the file",
    2: "a new first fragment with the same sequence id came before the rest",
    3: "out of order, or its first fragment is missing",
    4: f"its fragments are more than {MAX_FRAGMENT_SPAN_LINES} lines apart",
}
_EPOCH_RE = re.compile(r"^(\d{9,10}|\d{13})(\.\d+)?$")
_BOM = b"\xef\xbb\xbf"

# ship type code (ITU-R M.1371 table 53) -> category; first digit where not listed
_SHIP_TYPES = {
    30: "fishing",
    31: "towing",
    32: "towing",
    33: "dredging",
    34: "diving",
    35: "military",
    36: "sailing",
    37: "pleasure craft",
    50: "pilot vessel",
    51: "search and rescue",
    52: "tug",
    53: "port tender",
    54: "anti-pollution",
    55: "law enforcement",
    58: "medical transport",
    59: "noncombatant",
}
_SHIP_DECADES = {
    2: "wing in ground",
    4: "high-speed craft",
    6: "passenger",
    7: "cargo",
    8: "tanker",
    9: "other",
}


def ship_category(code: npt.ArrayLike) -> STR:
    """AIS ship type codes (ITU-R M.1371 table 53) to category names; ``""`` for 0/unknown.

    Examples
    --------
    >>> ship_category([35, 55, 70, 84, 0, 300]).tolist()
    ['military', 'law enforcement', 'cargo', 'tanker', '', '']
    """
    c = np.asarray(code, dtype=np.int64)
    table = np.full(100, "", dtype="<U20")
    for dec, name in _SHIP_DECADES.items():
        table[dec * 10 : dec * 10 + 10] = name
    for k, name in _SHIP_TYPES.items():
        table[k] = name
    out = np.full(c.shape, "", dtype="<U20")
    ok = (c > 0) & (c < 100)
    out[ok] = table[c[ok]]
    return out


# =========================================================================== scanning
@dataclass
class _Scan:
    buf: npt.NDArray[np.uint8]
    starts: I64
    ends: I64
    tab: I64
    pghp: I64

    @property
    def n(self) -> int:
        return int(self.starts.size)

    def col(self, c: int) -> I64:
        return np.asarray(self.tab[c], dtype=np.int64)

    def text(self, i: int, s: int | None = None, e: int | None = None) -> str:
        a = int(self.starts[i]) if s is None else s
        b = int(self.ends[i]) if e is None else e
        raw = bytes(self.buf[a:b]).decode("utf-8", errors="replace")
        return raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS] + "..."


def _scan(data: bytes) -> _Scan:
    buf = np.frombuffer(data, dtype=np.uint8)
    if data.startswith(_BOM):
        buf = buf.copy()
        buf[:3] = 32
    starts, ends = K.split_lines(buf)
    tab, pg = K.parse_lines(buf, starts, ends)
    return _Scan(buf, starts, ends, tab, pg)


@dataclass
class _Messages:
    msg_start: I64
    frag_lines: I64
    missing: I64
    missing_why: I64
    ints: npt.NDArray[np.int32]
    name: npt.NDArray[np.object_]
    callsign: npt.NDArray[np.object_]
    first_line: I64  # line index of the first fragment

    @property
    def n(self) -> int:
        return int(self.msg_start.size - 1)


def _text_array(raw: npt.NDArray[np.uint8], rows: I64) -> npt.NDArray[np.object_]:
    """6-bit text fields of the messages ``rows`` (stripped of ``@`` and spaces); ``""``
    for the other messages (object array: most messages have no text)."""
    out = np.full(raw.shape[0], "", dtype=object)
    if rows.size:
        fixed = np.ascontiguousarray(raw[rows]).view(f"S{raw.shape[1]}").ravel()
        out[rows] = np.char.strip(np.char.rstrip(np.char.decode(fixed, "ascii"), "@ "))
    return out


def _messages(sc: _Scan, eligible: I64) -> _Messages:
    msg_start, frag_lines, missing, why = K.assemble(
        eligible,
        sc.col(K.C_TALKER),
        sc.col(K.C_CHAN),
        sc.col(K.C_SEQ),
        sc.col(K.C_CNT),
        sc.col(K.C_NUM),
        MAX_FRAGMENT_SPAN_LINES,
    )
    extra, start, length, fill, in_extra = K.gather_payloads(
        sc.buf, sc.col(K.C_PAY_S), sc.col(K.C_PAY_E), msg_start, frag_lines, sc.col(K.C_FILL)
    )
    ints32, name, call = K.decode_payloads(sc.buf, extra, start, length, fill, in_extra)
    ints = ints32
    mtype = ints[K.F_TYPE]
    texty = np.flatnonzero(
        (ints[K.F_STATUS] == K.S_OK) & ((mtype == 5) | (mtype == 19) | (mtype == 24))
    )
    return _Messages(
        msg_start=msg_start,
        frag_lines=frag_lines,
        missing=missing,
        missing_why=why,
        ints=ints,
        name=_text_array(name, texty),
        callsign=_text_array(call, texty),
        first_line=frag_lines[msg_start[:-1]] if msg_start.size > 1 else np.zeros(0, np.int64),
    )


# =========================================================================== low level
@dataclass
class AisMessages:
    """Decoded AIS messages of a file, one element per message (low-level view).

    Attributes
    ----------
    line, last_line : ndarray of int64
        1-based lines of the first and last fragment.
    n_fragments : ndarray of int64
    checksum_ok : ndarray of bool
        False only with ``check_checksum=False``, for sentences decoded despite a bad
        checksum.
    status : ndarray of int64
        0 decoded; 1 a payload character outside the 6-bit alphabet; 2 too short; 3 a
        type this decoder does not read; 4 empty payload.
    msg_type, repeat, mmsi : ndarray of int64
    lon_deg, lat_deg : ndarray of float64
        Degrees rounded to 1e-6 exactly as pyais does (NaN for non-position types);
        181 / 91 mean "not available".
    speed_kt : ndarray of float64
        Knots (102.3: not available; type 27: whole knots, 63 not available).
    course_deg : ndarray of float64
        Course over ground, degrees (360: not available; type 27: 511).
    heading_deg : ndarray of int64
        True heading, degrees (511: not available; -1: the type has none).
    second : ndarray of int64
        UTC second of the report (60-63: not available; -1: the type has none).
    ship_type : ndarray of int64
    shipname, callsign : ndarray of str
        Stripped of trailing ``@`` and spaces.
    """

    line: I64
    last_line: I64
    n_fragments: I64
    checksum_ok: BOOL
    status: I64
    msg_type: I64
    repeat: I64
    mmsi: I64
    lon_deg: F64
    lat_deg: F64
    speed_kt: F64
    course_deg: F64
    heading_deg: I64
    second: I64
    ship_type: I64
    shipname: npt.NDArray[np.object_]
    callsign: npt.NDArray[np.object_]

    def __len__(self) -> int:
        return int(self.line.shape[0])


_POS_LUT = np.zeros(64, dtype=bool)
_POS_LUT[list(POSITION_TYPES)] = True
_FULL_LUT = _POS_LUT.copy()
_FULL_LUT[27] = False


def _is_type(mtype: npt.NDArray[np.int32] | I64, lut: BOOL) -> BOOL:
    return np.asarray(lut[mtype & 63] & (mtype >= 0), dtype=bool)


def _degrees(raw: npt.NDArray[np.int32] | I64, mtype: npt.NDArray[np.int32] | I64) -> F64:
    """Raw 1/10000-minute (1/10-minute for type 27) units to degrees, as pyais rounds."""
    r = raw.astype(np.int64)
    lr = mtype == 27
    num = np.where(lr, 10000 * r, 10 * r) + 3
    out = (num // 6) / 1e6
    out[~(_is_type(mtype, _FULL_LUT) | lr)] = np.nan
    return np.asarray(out, dtype=np.float64)


def decode_ais(data: bytes, *, check_checksum: bool = True) -> AisMessages:
    """Decode every AIS message of an NMEA text, vectorized (no time, no cleaning).

    Parameters
    ----------
    data : bytes
        The file's content (uncompressed).
    check_checksum : bool
        With False, sentences failing their checksum are decoded too (as ``pyais`` does
        by default); :func:`read_ais_nmea` always rejects them.

    Returns
    -------
    AisMessages

    Examples
    --------
    >>> m = decode_ais(b"!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C\\r\\n")
    >>> int(m.mmsi[0]), int(m.msg_type[0]), float(m.lon_deg[0]), float(m.lat_deg[0])
    (237836700, 1, 23.311338, 37.312973)
    """
    sc = _scan(data)
    kind = sc.col(K.C_KIND)
    ok_kind = kind == K.K_AIS
    if not check_checksum:
        detail = sc.col(K.C_DETAIL)
        ok_kind |= (
            (kind == K.K_BAD_CHECKSUM) & (detail == K.D_CS_MISMATCH) & (sc.col(K.C_VALID) == 1)
        )
    # bad tag blocks do not matter for decoding
    ok_kind |= (kind == K.K_BAD_TAG) & (sc.col(K.C_VALID) == 1)
    eligible = np.flatnonzero(ok_kind).astype(np.int64)
    ms = _messages(sc, eligible)
    ints = ms.ints
    mtype = ints[K.F_TYPE]
    last = ms.frag_lines[ms.msg_start[1:] - 1] if ms.n else np.zeros(0, np.int64)
    spd = ints[K.F_SPEED].astype(np.float64)
    crs = ints[K.F_COURSE].astype(np.float64)
    lr = mtype == 27
    has_pos = _is_type(mtype, _POS_LUT) & (ints[K.F_STATUS] == K.S_OK)
    speed = np.where(lr, spd, spd / 10.0)
    course = np.where(lr, crs, crs / 10.0)
    speed[~has_pos] = np.nan
    course[~has_pos] = np.nan
    return AisMessages(
        line=ms.first_line + 1,
        last_line=last + 1,
        n_fragments=np.diff(ms.msg_start),
        checksum_ok=kind[ms.first_line] != K.K_BAD_CHECKSUM,
        status=ints[K.F_STATUS].astype(np.int64),
        msg_type=mtype.astype(np.int64),
        repeat=ints[K.F_REPEAT].astype(np.int64),
        mmsi=ints[K.F_MMSI].astype(np.int64),
        lon_deg=np.where(has_pos, _degrees(ints[K.F_LON], mtype), np.nan),
        lat_deg=np.where(has_pos, _degrees(ints[K.F_LAT], mtype), np.nan),
        speed_kt=speed,
        course_deg=course,
        heading_deg=ints[K.F_HEADING].astype(np.int64),
        second=ints[K.F_SECOND].astype(np.int64),
        ship_type=ints[K.F_SHIPTYPE].astype(np.int64),
        shipname=ms.name,
        callsign=ms.callsign,
    )


# =========================================================================== times
def parse_date(date: str) -> int:
    """The start minute for ``date=``: ``YYYY-MM-DD`` (00:00 UTC) or an ISO 8601 time
    with a zone, floored to its minute; UTC nanoseconds.

    Raises
    ------
    ConfigError
        Not a date, or a date-time without a zone.

    Examples
    --------
    >>> parse_date("2021-01-02") // 10**9, parse_date("2021-01-02T10:05:30Z") // 10**9
    (1609545600, 1609581900)
    """
    s = date.strip()
    try:
        if len(s) == 10:
            d = dt.date.fromisoformat(s)
            value = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
        else:
            value = dt.datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)
    except ValueError:
        raise ConfigError(
            f"cannot read date {date!r}: use YYYY-MM-DD (UTC) or a time with zone such as "
            "2021-01-02T10:05Z"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(
            f"date {date!r} has a time but no zone: add Z or an offset (e.g. 2021-01-02T10:05Z)"
        )
    value = value.astimezone(dt.UTC).replace(second=0, microsecond=0)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86400 + delta.seconds) * NS_PER_S


def _epoch_text_ns(text: str) -> int | None:
    m = _EPOCH_RE.match(text)
    if not m:
        return None
    whole, frac = m.group(1), (m.group(2) or ".")[1:]
    if len(whole) == 13:
        ns = int(whole) * 1_000_000 + int((frac + "000000")[:6])
    else:
        ns = int(whole) * NS_PER_S + int((frac + "000000000")[:9])
    return ns


@dataclass
class _LineTimes:
    t_ns: I64
    src: I64  # 0 none, 1 tag, 2 prefix, 3 suffix, 4 wrapper
    wrapper_of: I64  # per line: index of the $PGHP line that timed it, -1


_SRC_NAMES = ("", "tag block c:", "receiver prefix", "trailing epoch", "$PGHP wrapper")


def _line_times(
    sc: _Scan,
    reason: I64,
    detail_msg: dict[int, str],
    assume_tz: str | None,
    path: str,
    first_line: int,
    notes: list[str],
) -> _LineTimes:
    n = sc.n
    t = np.full(n, NAT_NS, dtype=np.int64)
    src = np.zeros(n, dtype=np.int64)
    kind = sc.col(K.C_KIND)
    ais = (kind == K.K_AIS) & (reason == _UNDECIDED)
    # 1. tag block c:
    c_val = sc.col(K.C_TAG_C)
    c_dig = sc.col(K.C_TAG_C_DIGITS)
    has_c = ais & (c_val >= 0)
    bad_c = has_c & ~((c_dig <= 10) | (c_dig == 13))
    for i in np.flatnonzero(bad_c).tolist():
        reason[i] = _R["bad_tag_block"]
        detail_msg[i] = (
            f"tag block c:{c_val[i]} has {c_dig[i]} digits: neither epoch seconds "
            "(up to 10 digits) nor milliseconds (13)"
        )
    has_c &= ~bad_c
    secs = has_c & (c_dig <= 10)
    t[secs] = c_val[secs] * NS_PER_S
    ms = has_c & (c_dig == 13)
    t[ms] = c_val[ms] * 1_000_000
    src[has_c] = 1
    # 2. receiver prefix
    ais = (kind == K.K_AIS) & (reason == _UNDECIDED)
    pre_s, pre_e = sc.col(K.C_PRE_S), sc.col(K.C_PRE_E)
    pre = np.flatnonzero(ais & (pre_e > pre_s))
    if pre.size:
        texts = [
            sc.text(i, int(pre_s[i]), int(pre_e[i])).strip().strip("[]").strip(" \t,;:|")
            for i in pre.tolist()
        ]
        other_idx: list[int] = []
        other_txt: list[str] = []
        for i, tx in zip(pre.tolist(), texts, strict=True):
            ns = _epoch_text_ns(tx)
            if ns is not None:
                t[i], src[i] = ns, 2
            else:
                other_idx.append(i)
                other_txt.append(tx)
        if other_idx:
            tp = parse_times(pa.array(other_txt, pa.string()), assume_tz=assume_tz)
            naive = np.flatnonzero(tp.status == TIME_NAIVE)
            if naive.size:
                i = other_idx[int(naive[0])]
                raise NaiveTimeError(
                    f"receiver time {other_txt[int(naive[0])]!r} has no time zone, and "
                    "patrolwatch never takes a time as local: pass assume_tz='UTC' (CLI "
                    "--assume-tz UTC) if the receiver wrote UTC, or the zone it used",
                    path=path,
                    line=i + first_line,
                )
            for j, i in enumerate(other_idx):
                if tp.status[j] == TIME_OK:
                    t[i], src[i] = tp.t_ns[j], 2
                else:
                    reason[i] = _R["bad_time"]
                    detail_msg[i] = (
                        f"the text before the sentence, {other_txt[j]!r}, is not a time "
                        "(expected epoch seconds, ISO 8601 or [YYYY-MM-DD hh:mm:ss.sss])"
                    )
            if tp.n_naive:
                notes.append(
                    f"{path}: {tp.n_naive} receiver times without zone read in {assume_tz!r}"
                )
    # 3. trailing epoch after the checksum
    suf_s, suf_e = sc.col(K.C_SUF_S), sc.col(K.C_SUF_E)
    suf = np.flatnonzero((kind == K.K_AIS) & (reason == _UNDECIDED) & (suf_s >= 0) & (src == 0))
    n_ignored = 0
    for i in suf.tolist():
        last = sc.text(i, int(suf_s[i]), int(suf_e[i])).strip().rsplit(",", 1)[-1].strip()
        ns = _epoch_text_ns(last)
        if ns is not None:
            t[i], src[i] = ns, 3
        else:
            n_ignored += 1
    if n_ignored:
        notes.append(
            f"{path}: {n_ignored} sentences have fields after the checksum that are not an "
            "epoch time; ignored"
        )
    # 4. $PGHP wrappers: the next line, if its checksum is the wrapper's last field
    wrapper_of = np.full(n, -1, dtype=np.int64)
    pg_lines = np.flatnonzero(kind == K.K_PGHP)
    if pg_lines.size:
        cs = sc.col(K.C_CS)
        for i in pg_lines.tolist():
            j = i + 1
            f = sc.pghp[i]
            target_ok = j < n and kind[j] in (K.K_AIS, K.K_BAD_TAG) and f[7] >= 0 and cs[j] == f[7]
            if not target_ok:
                reason[i] = _R["unmatched_wrapper"]
                detail_msg[i] = (
                    "the next line is not the AIS sentence with checksum "
                    f"{f[7]:02X} that this wrapper names"
                    if f[7] >= 0
                    else "the wrapper's last field is not a checksum"
                )
                continue
            try:
                value = dt.datetime(
                    int(f[0]), int(f[1]), int(f[2]), int(f[3]), int(f[4]), min(int(f[5]), 59)
                )
                if not 0 <= f[6] <= 999 or f[5] > 60:
                    raise ValueError("millisecond or second out of range")
            except (ValueError, OverflowError) as exc:
                reason[i] = _R["bad_time"]
                detail_msg[i] = f"the $PGHP date/time is not valid ({exc})"
                continue
            wrapper_of[j] = i
            if src[j] == 0 and reason[j] == _UNDECIDED:
                delta = value - dt.datetime(1970, 1, 1)
                ns = (delta.days * 86400 + delta.seconds + (f[5] == 60)) * NS_PER_S
                t[j] = ns + int(f[6]) * 1_000_000
                src[j] = 4
    return _LineTimes(t, src, wrapper_of)


# =========================================================================== reader
def read_ais_nmea(
    data: bytes,
    *,
    path: str = "<memory>",
    assume_tz: str | None = None,
    date: str | None = None,
    first_line: int = 1,
) -> FileRead:
    """Read AIS NMEA text into candidate ship fixes, accounting for every line.

    Parameters
    ----------
    data : bytes
        The text (uncompressed); any mix of ``\\n``, ``\\r\\n`` and ``\\r`` endings.
    path : str
        Name used in rejects and errors.
    assume_tz : str, optional
        Zone of receiver prefixes written without one.
    date : str, optional
        ``YYYY-MM-DD`` or an ISO time with zone: the UTC minute the recording starts in,
        for sentences without any time (see the module docstring).
    first_line : int
        Number of the first line (for files read in batches).

    Returns
    -------
    FileRead
        Fixes in input order (``track_id`` is the MMSI), rejects, lines read, static lines.

    Raises
    ------
    NaiveTimeError
        A receiver prefix time without zone and no ``assume_tz``.
    ConfigError
        A bad ``date``.
    """
    start_ns = parse_date(date) if date is not None else None
    sc = _scan(data)
    n = sc.n
    notes: list[str] = []
    kind = sc.col(K.C_KIND)
    detail = sc.col(K.C_DETAIL)
    reason = np.full(n, _UNDECIDED, dtype=np.int64)
    for k, r in _KIND_REASON.items():
        reason[kind == k] = r
    detail_msg: dict[int, str] = {}
    lt = _line_times(sc, reason, detail_msg, assume_tz, path, first_line, notes)

    eligible = np.flatnonzero((kind == K.K_AIS) & (reason == _UNDECIDED)).astype(np.int64)
    ms = _messages(sc, eligible)
    missing_why = dict(zip(ms.missing.tolist(), ms.missing_why.tolist(), strict=True))
    reason[ms.missing] = _R["missing_fragment"]

    nm = ms.n
    ints = ms.ints
    status = ints[K.F_STATUS].astype(np.int64)
    mtype = ints[K.F_TYPE].astype(np.int64)
    mmsi = ints[K.F_MMSI].astype(np.int64)
    owner = np.full(n, -1, dtype=np.int64)
    msg_of_frag = np.repeat(np.arange(nm, dtype=np.int64), np.diff(ms.msg_start))
    owner[ms.frag_lines] = msg_of_frag
    m_reason = np.zeros(nm, dtype=np.int64)
    m_detail: dict[int, str] = {}
    m_reason[status == K.S_EMPTY] = _R["empty_payload"]
    m_reason[(status == K.S_BAD_CHARS) | (status == K.S_SHORT)] = _R["bad_payload"]
    for m in np.flatnonzero(status == K.S_SHORT).tolist():
        m_detail[m] = (
            f"payload of {ints[K.F_NBITS, m]} bits is too short for message type {mtype[m]}"
        )
    for m in np.flatnonzero(status == K.S_BAD_CHARS).tolist():
        m_detail[m] = "a payload character is outside the AIS 6-bit alphabet"

    # rare types through pyais (type 9: search-and-rescue aircraft)
    sar = np.flatnonzero((status == K.S_UNSUPPORTED) & (mtype == 9))
    sar_vals = _decode_sar(sc, ms, sar, m_reason, m_detail)
    unsupported = (status == K.S_UNSUPPORTED) & (mtype != 9)
    m_reason[unsupported] = _R["unsupported_type"]
    for m in np.flatnonzero(unsupported).tolist():
        t_ = int(mtype[m])
        m_detail[m] = (
            f"message type {t_} ({_TYPE_NAMES.get(t_, 'not a position report')}) carries "
            "no vessel position"
        )

    ok = (status == K.S_OK) | np.isin(np.arange(nm), sar[m_reason[sar] == 0])
    is_pos = ok & (np.isin(mtype, POSITION_TYPES) | (mtype == 9))
    is_static = ok & np.isin(mtype, (5, 24))
    # position checks
    lon_raw, lat_raw = ints[K.F_LON], ints[K.F_LAT]
    lr = mtype == 27
    na = np.where(
        lr,
        (lat_raw == _LAT_NA_RAW_27) | (lon_raw == _LON_NA_RAW_27),
        (lat_raw == _LAT_NA_RAW) | (lon_raw == _LON_NA_RAW),
    )
    lon = _degrees(lon_raw, mtype)
    lat = _degrees(lat_raw, mtype)
    alt = np.full(nm, np.nan)
    spd_raw = ints[K.F_SPEED].astype(np.float64)
    crs_raw = ints[K.F_COURSE].astype(np.float64)
    speed_kt = np.where(lr, np.where(spd_raw == 63, np.nan, spd_raw), spd_raw / 10.0)
    speed_kt[~lr & (spd_raw == 1023)] = np.nan
    course = np.where(lr, crs_raw, crs_raw / 10.0)
    course[(course >= 360.0) | (course < 0)] = np.nan
    if sar.size:
        lon[sar], lat[sar] = sar_vals[0], sar_vals[1]
        speed_kt[sar], course[sar], alt[sar] = sar_vals[2], sar_vals[3], sar_vals[4]
        na[sar] = (lat[sar] == 91.0) | (lon[sar] == 181.0)
    with np.errstate(invalid="ignore"):
        lat_out = np.abs(lat) > 90.0
        lon_out = np.abs(lon) > 180.0
    pos_checks = [
        (na, "not_available"),
        (lat_out, "lat_out_of_range"),
        (lon_out, "lon_out_of_range"),
        (mmsi == 0, "missing_id"),
    ]
    for cond, name in pos_checks:
        sel = is_pos & cond & (m_reason == 0)
        m_reason[sel] = _R[name]
    # times: the first fragment line with a time
    frag_t = lt.t_ns[ms.frag_lines]
    frag_src = lt.src[ms.frag_lines]
    big_pos = np.iinfo(np.int64).max
    pos_in = np.where(frag_src > 0, np.arange(ms.frag_lines.size), big_pos)
    first_timed = np.minimum.reduceat(pos_in, ms.msg_start[:-1]) if nm else np.zeros(0, np.int64)
    has_t = first_timed != big_pos
    m_t = np.full(nm, NAT_NS, dtype=np.int64)
    m_src = np.zeros(nm, dtype=np.int64)
    m_t[has_t] = frag_t[first_timed[has_t]]
    m_src[has_t] = frag_src[first_timed[has_t]]
    second = ints[K.F_SECOND].astype(np.int64)
    need = is_pos & (m_reason == 0) & ~has_t
    if start_ns is not None:
        by_date = need & (second >= 0) & (second <= 59)
        idx = np.flatnonzero(by_date)
        if idx.size:
            rel = K.minute_rollover(second[idx].astype(np.int64), LATE_MESSAGE_S)
            m_t[idx] = start_ns + rel * NS_PER_S
            m_src[idx] = 5
            span_min = int(rel.max() // 60) + 1
            notes.append(
                f"{path}: {idx.size} fixes timed from date={date!r} and their UTC second "
                f"field, counting {span_min} minute(s) in file order; exact only if the "
                "file is in receive order with no silence over a minute"
            )
        need &= ~by_date
    m_reason[need] = _R["no_time"]
    for m in np.flatnonzero(need).tolist():
        m_detail[m] = "no time: no tag block c:, receiver time or $PGHP wrapper" + (
            f"; UTC second field is {second[m]} (not available)"
            if start_ns is not None
            else "; pass date='YYYY-MM-DD' (CLI --date) to time it by its UTC second"
        )
    # static data per MMSI: the last non-empty value in file order
    st_idx = np.flatnonzero((is_static | (is_pos & (mtype == 19))) & (m_reason == 0))
    static_attrs = _static_table(st_idx, mmsi, ms, ints)

    # line outcomes from message outcomes
    frag_reason = m_reason[msg_of_frag]
    reason[ms.frag_lines] = frag_reason
    for m, text in m_detail.items():
        for q in range(int(ms.msg_start[m]), int(ms.msg_start[m + 1])):
            detail_msg[int(ms.frag_lines[q])] = text
    # wrappers follow the line they timed
    wr_target = np.flatnonzero(lt.wrapper_of >= 0)
    wr_line = lt.wrapper_of[wr_target]
    reason[wr_line] = reason[wr_target]
    for w, j in zip(wr_line.tolist(), wr_target.tolist(), strict=True):
        if reason[j] > 0:
            detail_msg[w] = f"the sentence it wraps (line {j + first_line}) is rejected"
    if (reason == _UNDECIDED).any():  # pragma: no cover - a bug, not an input problem
        bad = int(np.flatnonzero(reason == _UNDECIDED)[0])
        raise AssertionError(f"{path}:{bad + first_line}: line left unaccounted")

    fix_m = np.flatnonzero(is_pos & (m_reason == 0))
    n_frag = np.diff(ms.msg_start)
    fixes = _fix_table(
        fix_m, ms, n_frag, mmsi, mtype, m_t, lon, lat, alt, speed_kt, course, static_attrs
    )
    # auxiliary lines: other fragments, and the wrapper of the timed line
    aux_fix: list[I64] = []
    aux_line: list[I64] = []
    if fix_m.size:
        pos_of = np.full(nm, -1, dtype=np.int64)
        pos_of[fix_m] = np.arange(fix_m.size)
        frag_fix = pos_of[msg_of_frag]
        is_first = np.zeros(ms.frag_lines.size, dtype=bool)
        is_first[ms.msg_start[:-1]] = True
        sel = (frag_fix >= 0) & ~is_first
        aux_fix.append(frag_fix[sel])
        aux_line.append(ms.frag_lines[sel])
        wr_fix = pos_of[owner[wr_target]] if wr_target.size else np.zeros(0, np.int64)
        wr_fix = np.where(owner[wr_target] >= 0, wr_fix, -1) if wr_target.size else wr_fix
        selw = wr_fix >= 0
        aux_fix.append(wr_fix[selw])
        aux_line.append(wr_line[selw])
    fixes.src_line = fixes.src_line + first_line
    if aux_fix:
        fixes.aux_fix = np.concatenate(aux_fix)
        fixes.aux_line = np.concatenate(aux_line) + first_line
    # used lines that are not part of a fix: static messages and their wrappers
    st_msgs = np.flatnonzero(is_static & (m_reason == 0))
    st_lines = ms.frag_lines[np.isin(msg_of_frag, st_msgs)]
    st_wr = wr_line[np.isin(owner[wr_target], st_msgs)] if wr_target.size else wr_line
    meta = np.sort(np.concatenate([st_lines, st_wr])) + first_line

    rejects = Rejects()
    rej = np.flatnonzero(reason > 0)
    for i in rej.tolist():
        r = int(reason[i])
        msg = detail_msg.get(i) or _default_message(r, i, sc, kind, detail, missing_why)
        rejects.add(path, i + first_line, sc.text(i), _REASONS[r], msg)

    counts = np.bincount(m_src[fix_m], minlength=6) if fix_m.size else np.zeros(6, np.int64)
    used_src = [
        f"{name} ({int(counts[k])})"
        for k, name in enumerate((*_SRC_NAMES, "date + UTC second"))
        if k and counts[k]
    ]
    if fix_m.size:
        notes.append(f"{path}: fix times from " + ", ".join(used_src))
    columns = {
        "track_id": "MMSI",
        "time": ", ".join(used_src) if used_src else "none",
        "lat": "latitude (AIS 1/10000 min)",
        "lon": "longitude (AIS 1/10000 min)",
        "speed": "SOG (kt)",
        "heading": "COG (deg)",
        "operator": "flag from the MMSI's MID (ITU)",
        "type": "AIS ship type (types 5, 19, 24)",
        "callsign": "AIS call sign (types 5, 24)",
    }
    return FileRead(
        fixes=fixes,
        rejects=rejects,
        n_read=n,
        fmt="ais-nmea",
        meta_lines=meta.astype(np.int64),
        columns=columns,
        notes=notes,
    )


def _default_message(
    r: int, i: int, sc: _Scan, kind: I64, detail: I64, missing_why: dict[int, int]
) -> str:
    name = _REASONS[r]
    if name == "blank":
        return "empty line"
    if name == "comment":
        return "comment line"
    if name == "not_ais":
        if kind[i] == K.K_OTHER_NMEA:
            head = sc.text(i).strip().split(",", 1)[0][:10]
            return f"NMEA sentence {head} is not AIS (only !xxVDM and !xxVDO are read)"
        return "not an NMEA sentence"
    if name in ("bad_checksum", "bad_sentence", "bad_tag_block"):
        d = int(detail[i])
        if d == K.D_CS_MISMATCH:
            what = "$PGHP wrapper" if kind[i] == K.K_PGHP_BAD else "sentence"
            return f"{what} checksum does not match the computed {int(sc.tab[K.C_CS, i]):02X}"
        return _DETAIL_TEXT.get(d, name.replace("_", " "))
    if name == "missing_fragment":
        cnt, num = int(sc.tab[K.C_CNT, i]), int(sc.tab[K.C_NUM, i])
        return f"fragment {num} of {cnt}: {_MISSING_WHY.get(missing_why.get(i, 1), '')}"
    if name == "empty_payload":
        return "sentence without payload"
    if name == "not_available":
        return "position not available (lat 91 / lon 181)"
    if name == "lat_out_of_range":
        return "latitude outside [-90, 90]"
    if name == "lon_out_of_range":
        return "longitude outside [-180, 180]"
    if name == "missing_id":
        return "MMSI 0 is not a station identity"
    return name.replace("_", " ")


def _decode_sar(
    sc: _Scan, ms: _Messages, sar: I64, m_reason: I64, m_detail: dict[int, str]
) -> tuple[F64, F64, F64, F64, F64]:
    """Type 9 through pyais: (lon, lat, speed kt, course deg, alt m) per message."""
    out = tuple(np.full(sar.size, np.nan) for _ in range(5))
    if not sar.size:
        return out  # type: ignore[return-value]  # a 5-tuple of arrays
    from pyais import decode as pyais_decode
    from pyais.exceptions import AISBaseException

    for k, m in enumerate(sar.tolist()):
        lines = ms.frag_lines[ms.msg_start[m] : ms.msg_start[m + 1]].tolist()
        sentences = [
            sc.text(i, int(sc.tab[K.C_BANG, i]), int(sc.ends[i])).split("*")[0]
            + "*"
            + f"{int(sc.tab[K.C_CS, i]):02X}"
            for i in lines
        ]
        try:
            msg = pyais_decode(*sentences)
            vals = (msg.lon, msg.lat, msg.speed, msg.course, msg.alt)  # type: ignore[union-attr]
        except (AISBaseException, AttributeError, ValueError, IndexError, TypeError) as exc:
            m_reason[m] = _R["bad_payload"]
            m_detail[m] = f"pyais cannot decode this type-9 message: {exc}"
            continue
        lon, lat, spd, crs, alt = (np.nan if v is None else float(v) for v in vals)
        out[0][k], out[1][k] = lon, lat
        out[2][k] = np.nan if spd >= 1023 else spd
        out[3][k] = np.nan if crs >= 360 else crs
        out[4][k] = np.nan if alt >= 4095 else alt
    return out  # type: ignore[return-value]  # a 5-tuple of arrays


def _static_table(
    st_idx: I64, mmsi: I64, ms: _Messages, ints: npt.NDArray[np.int32]
) -> dict[str, tuple[I64, STR]]:
    """Per attribute: (sorted MMSIs, value) from the last non-empty static value."""
    out: dict[str, tuple[I64, STR]] = {}
    cols = {
        "name": ms.name[st_idx].astype(str) if st_idx.size else np.zeros(0, str),
        "callsign": ms.callsign[st_idx].astype(str) if st_idx.size else np.zeros(0, str),
        "type": ship_category(ints[K.F_SHIPTYPE, st_idx]),
    }
    ids = mmsi[st_idx]
    for key, vals in cols.items():
        sel = np.flatnonzero(vals != "")
        if not sel.size:
            continue
        rev = sel[::-1]  # last in file order wins
        u, first = np.unique(ids[rev], return_index=True)
        out[key] = (u, vals[rev][first])
    return out


def _fix_table(
    fix_m: I64,
    ms: _Messages,
    n_frag: I64,
    mmsi: I64,
    mtype: I64,
    m_t: I64,
    lon: F64,
    lat: F64,
    alt: F64,
    speed_kt: F64,
    course: F64,
    static_attrs: dict[str, tuple[I64, STR]],
) -> FixTable:
    ids = mmsi[fix_m]
    attrs: dict[str, STR] = {
        "operator": mmsi_flag(ids),
        "source": np.full(fix_m.size, "ais", dtype="<U3"),
    }
    for key in ("type", "callsign", "name"):
        vals = np.full(fix_m.size, "", dtype="<U1")
        if key in static_attrs and fix_m.size:
            u, v = static_attrs[key]
            pos = np.clip(np.searchsorted(u, ids), 0, max(u.size - 1, 0))
            hit = u[pos] == ids
            vals = np.where(hit, v[pos], "")
        attrs[key] = vals
    sar = mtype[fix_m] == 9
    if sar.any():
        attrs["type"] = np.where(
            sar & (attrs["type"] == ""), "search and rescue aircraft", attrs["type"]
        )
    return FixTable.build(
        ids.astype(str),
        m_t[fix_m],
        lon[fix_m],
        lat[fix_m],
        ms.first_line[fix_m],
        vclass=np.where(sar, CLASS_AIRCRAFT, CLASS_SHIP).astype(np.int8),
        alt_m=alt[fix_m],
        speed_mps=speed_kt[fix_m] * KT_MPS,
        heading_deg=course[fix_m],
        attrs=attrs,
    )
