"""Compiled kernels of the AIS NMEA decoder: bytes in, integer arrays out.

Every function here takes whole arrays and loops in machine code (numba), one pass over
the input bytes: no Python object is created per line or per message. The Python side
(:mod:`patrolwatch.io.ais_nmea`) turns the arrays into fixes, times and rejects.

Kernels
-------
:func:`split_lines`
    Line starts and ends (``\\n``, ``\\r\\n`` or a lone ``\\r`` ends a line).
:func:`parse_lines`
    Classifies each line (blank, comment, AIS sentence, ``$PGHP`` wrapper, other NMEA,
    junk), locates its tag block, receiver prefix, sentence fields and checksum.
:func:`assemble`
    Groups the fragments of multi-sentence messages by (talker, channel, sequence id,
    fragment count), in line order.
:func:`decode_payloads`
    Decodes the 6-bit payloads of message types 1, 2, 3, 5, 18, 19, 24 and 27 into raw
    integer fields (ITU-R M.1371-5 bit layouts, as documented by gpsd's AIVDM page).
:func:`minute_rollover`
    Rebuilds times from a start minute and the messages' UTC second field.

:func:`decode_payloads_py` is the plain-Python reference of :func:`decode_payloads`
(same layout table, one message at a time); a property test checks they agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

__all__ = [
    "K_AIS",
    "K_BAD_CHECKSUM",
    "K_BAD_SENTENCE",
    "K_BAD_TAG",
    "K_BLANK",
    "K_COMMENT",
    "K_JUNK",
    "K_OTHER_NMEA",
    "K_PGHP",
    "K_PGHP_BAD",
    "N_INT_FIELDS",
    "assemble",
    "decode_payloads",
    "decode_payloads_py",
    "minute_rollover",
    "parse_lines",
    "split_lines",
]

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

# line kinds
K_BLANK = 0
K_COMMENT = 1
K_AIS = 2
K_PGHP = 3
K_OTHER_NMEA = 4
K_JUNK = 5
K_BAD_SENTENCE = 6
K_BAD_CHECKSUM = 7
K_BAD_TAG = 8
K_PGHP_BAD = 9

# columns of the per-line integer table returned by parse_lines
(
    C_KIND,
    C_BANG,
    C_PRE_S,
    C_PRE_E,
    C_TAG_S,
    C_TAG_E,
    C_TAG_C,
    C_TAG_C_DIGITS,
    C_TALKER,
    C_CNT,
    C_NUM,
    C_SEQ,
    C_CHAN,
    C_PAY_S,
    C_PAY_E,
    C_FILL,
    C_CS,
    C_SUF_S,
    C_SUF_E,
    C_DETAIL,
    C_VALID,
) = range(21)
N_LINE_COLS = 21
"""Columns of :func:`parse_lines`'s table (``C_*`` constants)."""
# PGHP fields reuse the sentence columns: year..ms in C_CNT..C_FILL+1 is awkward, so they
# get their own small table (see parse_lines)

# detail codes for bad sentences / tags (the Python side turns them into messages)
D_NONE = 0
D_NO_CHECKSUM = 1
D_FIELDS = 2
D_FRAG_COUNT = 3
D_FRAG_NUM = 4
D_SEQ = 5
D_FILL = 6
D_CHAN = 7
D_TAG_NO_CHECKSUM = 8
D_TAG_CHECKSUM = 9
D_TAG_FIELD = 10
D_CS_MISMATCH = 11

# columns of decode_payloads' integer table
(
    F_STATUS,
    F_TYPE,
    F_REPEAT,
    F_MMSI,
    F_NAV,
    F_SPEED,
    F_LON,
    F_LAT,
    F_COURSE,
    F_HEADING,
    F_SECOND,
    F_PART,
    F_SHIPTYPE,
    F_NBITS,
    F_ALT,
) = range(15)
N_INT_FIELDS = 15
"""Columns of :func:`decode_payloads`'s integer table (``F_*`` constants)."""

# decode status
S_OK = 0
S_BAD_CHARS = 1
S_SHORT = 2
S_UNSUPPORTED = 3
S_EMPTY = 4

NAME_CHARS = 20
CALL_CHARS = 7
_CHUNK = 16384  # lines or messages per parallel task


# =========================================================================== lines
@njit(cache=True, nogil=True)
def split_lines(buf: U8) -> tuple[I64, I64]:  # pragma: no cover - compiled
    """Start and end (exclusive, terminator excluded) of every physical line."""
    n = buf.size
    cap = 16
    for i in range(n):
        c = buf[i]
        if c == 10 or c == 13:
            cap += 1
    starts = np.empty(cap, dtype=np.int64)
    ends = np.empty(cap, dtype=np.int64)
    k = 0
    s = 0
    i = 0
    while i < n:
        c = buf[i]
        if c == 10 or c == 13:
            starts[k] = s
            ends[k] = i
            k += 1
            if c == 13 and i + 1 < n and buf[i + 1] == 10:
                i += 1
            s = i + 1
        i += 1
    if s < n:
        starts[k] = s
        ends[k] = n
        k += 1
    return starts[:k], ends[:k]


@njit(cache=True, nogil=True)
def _hexval(c: int) -> int:  # pragma: no cover - compiled
    if 48 <= c <= 57:
        return c - 48
    if 65 <= c <= 70:
        return c - 55
    if 97 <= c <= 102:
        return c - 87
    return -1


@njit(cache=True, nogil=True)
def _is_space(c: int) -> bool:  # pragma: no cover - compiled
    return c == 32 or c == 9 or c == 0


@njit(cache=True, nogil=True)
def _parse_tag(buf: U8, s: int, e: int, row: I64) -> None:  # pragma: no cover - compiled
    """Tag block content buf[s:e] (between the backslashes): checksum and ``c:``."""
    star = -1
    for i in range(s, e):
        if buf[i] == 42:
            star = i
            break
    if star < 0 or e - star != 3:
        row[C_DETAIL] = D_TAG_NO_CHECKSUM
        row[C_KIND] = K_BAD_TAG
        return
    h1 = _hexval(buf[star + 1])
    h2 = _hexval(buf[star + 2])
    x = 0
    for i in range(s, star):
        x ^= buf[i]
    if h1 < 0 or h2 < 0 or x != h1 * 16 + h2:
        row[C_DETAIL] = D_TAG_CHECKSUM
        row[C_KIND] = K_BAD_TAG
        return
    # fields: key:value separated by commas
    f = s
    while f < star:
        g = f
        while g < star and buf[g] != 44:
            g += 1
        if g - f < 2 or buf[f + 1] != 58:
            row[C_DETAIL] = D_TAG_FIELD
            row[C_KIND] = K_BAD_TAG
            return
        if buf[f] == 99:  # c:
            v = 0
            nd = 0
            ok = g > f + 2
            for i in range(f + 2, g):
                c = buf[i]
                if 48 <= c <= 57:
                    if nd < 18:
                        v = v * 10 + (c - 48)
                    nd += 1
                else:
                    ok = False
                    break
            if not ok:
                row[C_DETAIL] = D_TAG_FIELD
                row[C_KIND] = K_BAD_TAG
                return
            row[C_TAG_C] = v
            row[C_TAG_C_DIGITS] = nd
        f = g + 1


@njit(cache=True, nogil=True)
def _read_int(buf: U8, s: int, e: int) -> int:  # pragma: no cover - compiled
    """Digits buf[s:e] as an int; -1 when empty, -2 when not all digits."""
    if e <= s:
        return -1
    v = 0
    for i in range(s, e):
        c = buf[i]
        if c < 48 or c > 57 or i - s > 9:
            return -2
        v = v * 10 + (c - 48)
    return v


@njit(cache=True, nogil=True)
def _parse_pghp(buf: U8, s: int, e: int, row: I64, pg: I64) -> None:  # pragma: no cover
    """``$PGHP,1,yyyy,m,d,h,m,s,ms,country,region,pss,online,cc*hh``."""
    star = -1
    for i in range(s, e):
        if buf[i] == 42:
            star = i
    if star < 0 or e - star < 3:
        row[C_KIND] = K_PGHP_BAD
        row[C_DETAIL] = D_NO_CHECKSUM
        return
    h1 = _hexval(buf[star + 1])
    h2 = _hexval(buf[star + 2])
    x = 0
    for i in range(s + 1, star):
        x ^= buf[i]
    row[C_CS] = x
    if h1 < 0 or h2 < 0 or x != h1 * 16 + h2:
        row[C_KIND] = K_PGHP_BAD
        row[C_DETAIL] = D_CS_MISMATCH
        return
    # split fields
    k = 0
    f = s
    vals = np.full(14, -1, dtype=np.int64)
    while f <= star and k < 14:
        g = f
        while g < star and buf[g] != 44:
            g += 1
        if k == 13:
            a = _hexval(buf[f]) if g - f == 2 else -1
            b = _hexval(buf[f + 1]) if g - f == 2 else -1
            vals[k] = a * 16 + b if a >= 0 and b >= 0 else -1
        elif k >= 1:
            vals[k] = _read_int(buf, f, g)
        k += 1
        f = g + 1
    row[C_KIND] = K_PGHP
    pg[:] = -1
    for j in range(7):
        pg[j] = vals[2 + j]  # year, month, day, hour, minute, second, millisecond
    pg[7] = vals[13]  # checksum of the sentence it wraps
    pg[8] = vals[1]  # message type (1)


@njit(cache=True, nogil=True, parallel=True)
def parse_lines(buf: U8, starts: I64, ends: I64) -> tuple[I64, I64]:  # pragma: no cover - compiled
    """Classify and locate the parts of every line.

    Returns
    -------
    table : ndarray of int64, shape (N_LINE_COLS, n_lines)
        ``C_*`` rows: kind, positions of the sentence (``!``), receiver prefix, tag
        block, payload and suffix; ``c:`` value and digit count; talker (two bytes),
        fragment count and number, sequence id (-1 empty), channel byte (0 empty), fill
        bits, the sentence's checksum value and a detail code.
    pghp : ndarray of int64, shape (n_lines, 9)
        For ``$PGHP`` lines: year, month, day, hour, minute, second, millisecond, the
        checksum of the wrapped sentence and the message type; -1 elsewhere.
    """
    n = starts.size
    tab = np.empty((N_LINE_COLS, n), dtype=np.int64)
    pghp = np.full((n, 9), -1, dtype=np.int64)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for k in prange(n_chunks):
        row = np.empty(N_LINE_COLS, dtype=np.int64)
        commas = np.empty(6, dtype=np.int64)
        pg = np.empty(9, dtype=np.int64)
        for li in range(k * _CHUNK, min(n, (k + 1) * _CHUNK)):
            pg[0] = -2
            _parse_one(buf, starts[li], ends[li], row, pg, commas)
            for c in range(N_LINE_COLS):
                tab[c, li] = row[c]
            if pg[0] != -2:
                pghp[li, :] = pg
    return tab, pghp


@njit(cache=True, nogil=True)
def _parse_one(
    buf: U8, s: int, e: int, row: I64, pg: I64, commas: I64
) -> None:  # pragma: no cover - compiled
    """One line into ``row`` (``C_*`` columns) and, for ``$PGHP``, ``pg``."""
    row[:] = -1
    row[C_DETAIL] = D_NONE
    while s < e and _is_space(buf[s]):
        s += 1
    while e > s and _is_space(buf[e - 1]):
        e -= 1
    if s == e:
        row[C_KIND] = K_BLANK
        return
    if buf[s] == 35:  # '#'
        row[C_KIND] = K_COMMENT
        return
    # the sentence: the first "!xxVDM," or "!xxVDO,"
    bang = -1
    for i in range(s, e - 6):
        if (
            buf[i] == 33
            and buf[i + 3] == 86
            and buf[i + 4] == 68
            and (buf[i + 5] == 77 or buf[i + 5] == 79)
            and buf[i + 6] == 44
        ):
            bang = i
            break
    if bang < 0:
        if buf[s] == 36:  # '$'
            if (
                e - s > 6
                and buf[s + 1] == 80
                and buf[s + 2] == 71
                and buf[s + 3] == 72
                and buf[s + 4] == 80
                and buf[s + 5] == 44
            ):
                _parse_pghp(buf, s, e, row, pg)
            else:
                row[C_KIND] = K_OTHER_NMEA
        else:
            row[C_KIND] = K_JUNK
        return
    row[C_BANG] = bang
    row[C_KIND] = K_AIS
    row[C_TALKER] = buf[bang + 1] * 256 + buf[bang + 2]
    # prefix: [s, bang) = receiver text, then optionally a tag block \...\
    pe = bang
    while pe > s and _is_space(buf[pe - 1]):
        pe -= 1
    if pe > s and buf[pe - 1] == 92:  # '\'
        t1 = -1
        for i in range(pe - 2, s - 1, -1):
            if buf[i] == 92:
                t1 = i
                break
        if t1 < 0:
            row[C_KIND] = K_BAD_TAG
            row[C_DETAIL] = D_TAG_FIELD
        else:
            row[C_TAG_S] = t1 + 1
            row[C_TAG_E] = pe - 1
            pe = t1
            while pe > s and _is_space(buf[pe - 1]):
                pe -= 1
    row[C_PRE_S] = s
    row[C_PRE_E] = pe
    # the sentence fields: one pass for the checksum and the commas
    star = -1
    x = 0
    nc = 0
    for i in range(bang + 1, e):
        c = buf[i]
        if c == 42:
            star = i
            break
        x ^= c
        if c == 44:
            if nc < 6:
                commas[nc] = i
            nc += 1
    if star < 0 or star + 3 > e:
        row[C_KIND] = K_BAD_CHECKSUM
        row[C_DETAIL] = D_NO_CHECKSUM
        return
    h1 = _hexval(buf[star + 1])
    h2 = _hexval(buf[star + 2])
    row[C_CS] = x
    after = star + 3
    if h1 < 0 or h2 < 0 or (after < e and buf[after] != 44 and not _is_space(buf[after])):
        row[C_KIND] = K_BAD_CHECKSUM
        row[C_DETAIL] = D_NO_CHECKSUM
        return
    if after < e:
        row[C_SUF_S] = after
        row[C_SUF_E] = e
    row[C_VALID] = 0
    if nc != 6:
        row[C_KIND] = K_BAD_SENTENCE
        row[C_DETAIL] = D_FIELDS
    else:
        cnt = _read_int(buf, commas[0] + 1, commas[1])
        num = _read_int(buf, commas[1] + 1, commas[2])
        seq = _read_int(buf, commas[2] + 1, commas[3])
        fill = _read_int(buf, commas[5] + 1, star)
        chan_len = commas[4] - commas[3] - 1
        if cnt < 1 or cnt > 9:
            row[C_KIND] = K_BAD_SENTENCE
            row[C_DETAIL] = D_FRAG_COUNT
        elif num < 1 or num > cnt:
            row[C_KIND] = K_BAD_SENTENCE
            row[C_DETAIL] = D_FRAG_NUM
        elif seq == -2 or seq > 9:
            row[C_KIND] = K_BAD_SENTENCE
            row[C_DETAIL] = D_SEQ
        elif fill < 0 or fill > 5:
            row[C_KIND] = K_BAD_SENTENCE
            row[C_DETAIL] = D_FILL
        elif chan_len > 1:
            row[C_KIND] = K_BAD_SENTENCE
            row[C_DETAIL] = D_CHAN
        else:
            row[C_VALID] = 1
        row[C_CNT] = cnt
        row[C_NUM] = num
        row[C_SEQ] = seq
        row[C_CHAN] = buf[commas[3] + 1] if chan_len == 1 else 0
        row[C_PAY_S] = commas[4] + 1
        row[C_PAY_E] = commas[5]
        row[C_FILL] = fill
    if x != h1 * 16 + h2:
        # a checksum failure explains a malformed sentence best: it is reported first
        row[C_KIND] = K_BAD_CHECKSUM
        row[C_DETAIL] = D_CS_MISMATCH
        return
    if row[C_KIND] == K_AIS and row[C_TAG_S] >= 0:
        _parse_tag(buf, row[C_TAG_S], row[C_TAG_E], row)


# =========================================================================== assembly
@njit(cache=True, nogil=True)
def assemble(
    eligible: I64, talker: I64, chan: I64, seq: I64, cnt: I64, num: I64, max_span: int
) -> tuple[I64, I64, I64, I64]:  # pragma: no cover - compiled
    """Group sentences into messages, in line order.

    Parameters
    ----------
    eligible : ndarray of int64
        Line indices of well-formed sentences with a valid checksum, increasing.
    talker, chan, seq, cnt, num : ndarray of int64, one per line of the file
    max_span : int
        Most lines between the first and the last fragment of one message.

    Returns
    -------
    msg_start : ndarray of int64, shape (n_messages + 1,)
        Message ``m`` is ``frag_lines[msg_start[m]:msg_start[m + 1]]``.
    frag_lines : ndarray of int64
        Line indices of the fragments, in fragment order.
    missing : ndarray of int64
        Line indices of fragments whose message never completed (``missing_fragment``).
    missing_why : ndarray of int64
        Per ``missing`` line: 1 no later fragment, 2 a later fragment 1 restarted the
        sequence id, 3 out of order or no first fragment, 4 companions too far apart.
    """
    m = eligible.size
    msg_start = np.empty(m + 1, dtype=np.int64)
    frag_lines = np.empty(m, dtype=np.int64)
    missing = np.empty(m, dtype=np.int64)
    why = np.empty(m, dtype=np.int64)
    nm = 0
    nf = 0
    nmiss = 0
    # pending message per key: [count, line1, ..., line9]; a slot per distinct key
    slots = dict()
    slots[np.int64(-1)] = np.int64(0)
    pend = np.zeros((64, 10), dtype=np.int64)
    n_slots = 1
    for j in range(m):
        li = eligible[j]
        c = cnt[li]
        k = num[li]
        if c == 1:
            msg_start[nm] = nf
            frag_lines[nf] = li
            nf += 1
            nm += 1
            continue
        key = ((talker[li] * 256 + chan[li]) * 16 + (seq[li] + 1)) * 16 + c
        if key in slots:
            sl = slots[key]
        else:
            if n_slots == pend.shape[0]:
                bigger = np.zeros((2 * n_slots, 10), dtype=np.int64)
                bigger[:n_slots] = pend
                pend = bigger
            sl = n_slots  # type: ignore[assignment]  # numba: one int64 type
            n_slots += 1
            slots[key] = sl
        got = pend[sl, 0]
        if k == 1:
            for q in range(got):
                missing[nmiss] = pend[sl, 1 + q]
                why[nmiss] = 2
                nmiss += 1
            pend[sl, 0] = 1
            pend[sl, 1] = li
            continue
        if got == k - 1 and got > 0 and li - pend[sl, 1] <= max_span:
            pend[sl, 0] = got + 1
            pend[sl, got + 1] = li
            if k == c:
                msg_start[nm] = nf
                for q in range(c):
                    frag_lines[nf] = pend[sl, 1 + q]
                    nf += 1
                nm += 1
                pend[sl, 0] = 0
            continue
        reason = 4 if (got == k - 1 and got > 0) else 3
        for q in range(got):
            missing[nmiss] = pend[sl, 1 + q]
            why[nmiss] = reason
            nmiss += 1
        pend[sl, 0] = 0
        missing[nmiss] = li
        why[nmiss] = reason
        nmiss += 1
    for sl in range(1, n_slots):  # type: ignore[assignment]  # numba: one int64 type
        for q in range(pend[sl, 0]):
            missing[nmiss] = pend[sl, 1 + q]
            why[nmiss] = 1
            nmiss += 1
    msg_start[nm] = nf
    return msg_start[: nm + 1], frag_lines[:nf], missing[:nmiss], why[:nmiss]


@njit(cache=True, nogil=True)
def gather_payloads(
    buf: U8, pay_s: I64, pay_e: I64, msg_start: I64, frag_lines: I64, fill: I64
) -> tuple[U8, I64, I64, I64, npt.NDArray[np.bool_]]:  # pragma: no cover - compiled
    """Where each message's payload is: single-sentence payloads stay in ``buf``; the
    fragments of multi-sentence messages are concatenated into a new buffer.

    Returns (extra_bytes, start, length, fill_bits, in_extra) per message."""
    nm = msg_start.size - 1
    extra_n = 0
    for m in range(nm):
        if msg_start[m + 1] - msg_start[m] > 1:
            for q in range(msg_start[m], msg_start[m + 1]):
                li = frag_lines[q]
                extra_n += pay_e[li] - pay_s[li]
    extra = np.empty(extra_n, dtype=np.uint8)
    start = np.empty(nm, dtype=np.int64)
    length = np.empty(nm, dtype=np.int64)
    fb = np.empty(nm, dtype=np.int64)
    in_extra = np.zeros(nm, dtype=np.bool_)
    pos = 0
    for m in range(nm):
        a = msg_start[m]
        b = msg_start[m + 1]
        last = frag_lines[b - 1]
        fb[m] = fill[last]
        if b - a == 1:
            start[m] = pay_s[last]
            length[m] = pay_e[last] - pay_s[last]
            continue
        in_extra[m] = True
        start[m] = pos
        for q in range(a, b):
            li = frag_lines[q]
            for i in range(pay_s[li], pay_e[li]):
                extra[pos] = buf[i]
                pos += 1
        length[m] = pos - start[m]
    return extra, start, length, fb, in_extra


# =========================================================================== payloads
@njit(cache=True, nogil=True)
def _bits(six: U8, nbits: int, start: int, width: int) -> int:  # pragma: no cover
    """Unsigned integer of ``width`` bits from bit ``start``; -1 past the end."""
    if start + width > nbits:
        return -1
    v = 0
    first = start // 6
    last = (start + width - 1) // 6
    for j in range(first, last + 1):
        v = (v << 6) | six[j]
    drop = (last + 1) * 6 - (start + width)
    return (v >> drop) & ((1 << width) - 1)


@njit(cache=True, nogil=True)
def _signed(v: int, width: int) -> int:  # pragma: no cover - compiled
    if v >= 1 << (width - 1):
        return v - (1 << width)
    return v


@njit(cache=True, nogil=True)
def _text(six: U8, nbits: int, start: int, nchars: int, out: U8) -> None:  # pragma: no cover
    """6-bit ASCII (ITU-R M.1371 table 47) into ``out`` (zero bytes past the end)."""
    for k in range(nchars):
        v = _bits(six, nbits, start + 6 * k, 6)
        if v < 0:
            out[k] = 0
        elif v < 32:
            out[k] = v + 64
        else:
            out[k] = v


@njit(cache=True, nogil=True, parallel=True)
def decode_payloads(
    buf: U8,
    extra: U8,
    start: I64,
    length: I64,
    fill: I64,
    in_extra: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int32], U8, U8]:  # pragma: no cover - compiled
    """Decode the payload of every message.

    Returns
    -------
    ints : ndarray of int32, shape (N_INT_FIELDS, n)
        ``F_*`` rows: decode status (0 ok, 1 a character outside the 6-bit alphabet,
        2 too short for its type, 3 a type not decoded here, 4 empty), type, repeat,
        MMSI, navigation status, raw speed, raw lon, raw lat, raw course, heading, UTC
        second, type-24 part number, ship type, payload bits, raw altitude (type 9).
        Fields a type does not carry are -1.
    name : ndarray of uint8, shape (n, 20)
        Ship name (types 5, 19, 24A), 6-bit ASCII decoded; zeros elsewhere.
    callsign : ndarray of uint8, shape (n, 7)
        Call sign (types 5, 24B).
    """
    n = start.size
    ints = np.empty((N_INT_FIELDS, n), dtype=np.int32)
    name = np.zeros((n, NAME_CHARS), dtype=np.uint8)
    call = np.zeros((n, CALL_CHARS), dtype=np.uint8)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for k in prange(n_chunks):
        six = np.empty(256, dtype=np.uint8)
        row = np.empty(N_INT_FIELDS, dtype=np.int64)
        for m in range(k * _CHUNK, min(n, (k + 1) * _CHUNK)):
            _decode_one(
                buf, extra, start[m], length[m], fill[m], in_extra[m], six, row, name[m], call[m]
            )
            for f in range(N_INT_FIELDS):
                ints[f, m] = row[f]
    return ints, name, call


@njit(cache=True, nogil=True)
def _decode_one(
    buf: U8,
    extra: U8,
    s0: int,
    n_chars: int,
    fill_bits: int,
    ext: bool,
    six: U8,
    row: I64,
    name: U8,
    call: U8,
) -> None:  # pragma: no cover - compiled
    row[:] = -1
    src = extra if ext else buf
    if n_chars == 0:
        row[F_STATUS] = S_EMPTY
        return
    if n_chars > 256:
        n_chars = 256
    bad = False
    for j in range(n_chars):
        c = src[s0 + j]
        if 48 <= c <= 87:
            six[j] = c - 48
        elif 96 <= c <= 119:
            six[j] = c - 56
        else:
            bad = True
            break
    if bad:
        row[F_STATUS] = S_BAD_CHARS
        return
    nb = 6 * n_chars - fill_bits
    row[F_NBITS] = nb
    t = _bits(six, nb, 0, 6)
    row[F_TYPE] = t
    if t < 0:
        row[F_STATUS] = S_SHORT
        return
    row[F_REPEAT] = _bits(six, nb, 6, 2)
    row[F_MMSI] = _bits(six, nb, 8, 30)
    if t == 1 or t == 2 or t == 3:
        need = 143
        if nb < need:
            row[F_STATUS] = S_SHORT
            return
        row[F_NAV] = _bits(six, nb, 38, 4)
        row[F_SPEED] = _bits(six, nb, 50, 10)
        row[F_LON] = _signed(_bits(six, nb, 61, 28), 28)
        row[F_LAT] = _signed(_bits(six, nb, 89, 27), 27)
        row[F_COURSE] = _bits(six, nb, 116, 12)
        row[F_HEADING] = _bits(six, nb, 128, 9)
        row[F_SECOND] = _bits(six, nb, 137, 6)
    elif t == 18 or t == 19:
        need = 139 if t == 18 else 271
        if nb < need:
            row[F_STATUS] = S_SHORT
            return
        row[F_SPEED] = _bits(six, nb, 46, 10)
        row[F_LON] = _signed(_bits(six, nb, 57, 28), 28)
        row[F_LAT] = _signed(_bits(six, nb, 85, 27), 27)
        row[F_COURSE] = _bits(six, nb, 112, 12)
        row[F_HEADING] = _bits(six, nb, 124, 9)
        row[F_SECOND] = _bits(six, nb, 133, 6)
        if t == 19:
            _text(six, nb, 143, NAME_CHARS, name)
            row[F_SHIPTYPE] = _bits(six, nb, 263, 8)
    elif t == 27:
        if nb < 95:
            row[F_STATUS] = S_SHORT
            return
        row[F_NAV] = _bits(six, nb, 40, 4)
        row[F_LON] = _signed(_bits(six, nb, 44, 18), 18)
        row[F_LAT] = _signed(_bits(six, nb, 62, 17), 17)
        row[F_SPEED] = _bits(six, nb, 79, 6)
        row[F_COURSE] = _bits(six, nb, 85, 9)
    elif t == 5:
        if nb < 240:
            row[F_STATUS] = S_SHORT
            return
        _text(six, nb, 70, CALL_CHARS, call)
        _text(six, nb, 112, NAME_CHARS, name)
        row[F_SHIPTYPE] = _bits(six, nb, 232, 8)
    elif t == 24:
        part = _bits(six, nb, 38, 2)
        row[F_PART] = part
        if part == 0:
            if nb < 160:
                row[F_STATUS] = S_SHORT
                return
            _text(six, nb, 40, NAME_CHARS, name)
        elif part == 1:
            if nb < 132:
                row[F_STATUS] = S_SHORT
                return
            row[F_SHIPTYPE] = _bits(six, nb, 40, 8)
            _text(six, nb, 90, CALL_CHARS, call)
        else:
            row[F_STATUS] = S_UNSUPPORTED
            return
    else:
        row[F_STATUS] = S_UNSUPPORTED if row[F_MMSI] >= 0 else S_SHORT
        return
    row[F_STATUS] = S_OK


# plain-Python reference: (field, type set, start bit, width, signed)
_LAYOUT: tuple[tuple[int, tuple[int, ...], int, int, bool], ...] = (
    (F_NAV, (1, 2, 3), 38, 4, False),
    (F_SPEED, (1, 2, 3), 50, 10, False),
    (F_LON, (1, 2, 3), 61, 28, True),
    (F_LAT, (1, 2, 3), 89, 27, True),
    (F_COURSE, (1, 2, 3), 116, 12, False),
    (F_HEADING, (1, 2, 3), 128, 9, False),
    (F_SECOND, (1, 2, 3), 137, 6, False),
    (F_SPEED, (18, 19), 46, 10, False),
    (F_LON, (18, 19), 57, 28, True),
    (F_LAT, (18, 19), 85, 27, True),
    (F_COURSE, (18, 19), 112, 12, False),
    (F_HEADING, (18, 19), 124, 9, False),
    (F_SECOND, (18, 19), 133, 6, False),
    (F_SHIPTYPE, (19,), 263, 8, False),
    (F_NAV, (27,), 40, 4, False),
    (F_LON, (27,), 44, 18, True),
    (F_LAT, (27,), 62, 17, True),
    (F_SPEED, (27,), 79, 6, False),
    (F_COURSE, (27,), 85, 9, False),
    (F_SHIPTYPE, (5,), 232, 8, False),
)
_NEED = {1: 143, 2: 143, 3: 143, 18: 139, 19: 271, 27: 95, 5: 240}


def decode_payloads_py(payload: bytes, fill: int) -> list[int]:
    """Reference decoder of one payload: the ``F_*`` integer row of
    :func:`decode_payloads`, with big integers instead of compiled bit twiddling.

    Examples
    --------
    >>> row = decode_payloads_py(b"13RlIW?04F1beOVEFLB9bRvH0L0L", 0)
    >>> row[F_TYPE], row[F_MMSI]
    (1, 237836700)
    """
    row = [-1] * N_INT_FIELDS
    if not payload:
        row[F_STATUS] = S_EMPTY
        return row
    payload = payload[:256]
    vals = []
    for c in payload:
        if 48 <= c <= 87:
            vals.append(c - 48)
        elif 96 <= c <= 119:
            vals.append(c - 56)
        else:
            row[F_STATUS] = S_BAD_CHARS
            return row
    nb = 6 * len(vals) - fill
    big = 0
    for v in vals:
        big = (big << 6) | v
    total = 6 * len(vals)

    def get(s: int, w: int, signed: bool = False) -> int:
        if s + w > nb:
            return -1
        v = (big >> (total - s - w)) & ((1 << w) - 1)
        if signed and v >= 1 << (w - 1):
            v -= 1 << w
        return v

    row[F_NBITS] = nb
    t = get(0, 6)
    row[F_TYPE] = t
    if t < 0:
        row[F_STATUS] = S_SHORT
        return row
    row[F_REPEAT] = get(6, 2)
    row[F_MMSI] = get(8, 30)
    if t == 24:
        part = get(38, 2)
        row[F_PART] = part
        if part == 0:
            row[F_STATUS] = S_OK if nb >= 160 else S_SHORT
        elif part == 1:
            if nb < 132:
                row[F_STATUS] = S_SHORT
            else:
                row[F_SHIPTYPE] = get(40, 8)
                row[F_STATUS] = S_OK
        else:
            row[F_STATUS] = S_UNSUPPORTED
        return row
    if t not in _NEED:
        row[F_STATUS] = S_UNSUPPORTED if row[F_MMSI] >= 0 else S_SHORT
        return row
    if nb < _NEED[t]:
        row[F_STATUS] = S_SHORT
        return row
    for field, types, s, w, signed in _LAYOUT:
        if t in types:
            row[field] = get(s, w, signed)
    row[F_STATUS] = S_OK
    return row


# =========================================================================== times
@njit(cache=True, nogil=True)
def minute_rollover(second: I64, late_s: int) -> I64:  # pragma: no cover - compiled
    """Seconds since the start minute of each message, from its UTC second (0-59).

    Messages are taken in file order. The minute advances when the second drops by more
    than ``late_s`` from the last one (59 -> 02); a second that rises by more than
    ``late_s`` (02 -> 58) is a late message of the previous minute.
    """
    n = second.size
    out = np.empty(n, dtype=np.int64)
    minute = 0
    ref = -1
    for i in range(n):
        s = second[i]
        if ref < 0:
            ref = s
        d = s - ref
        if d < -late_s:
            minute += 1
            ref = s
            out[i] = minute * 60 + s
        elif d > late_s:
            out[i] = max(minute - 1, 0) * 60 + s
        else:
            ref = s
            out[i] = minute * 60 + s
    return out
