"""AIS NMEA reader: pyais agreement on the real sample, line accounting, times, rejects.

Expected values come from outside the decoder: ``pyais`` 3 (the reference decoder) for
every decoded field, ``shared/data/SOURCES.md`` for the sample's counts, ``calendar`` for
instants, and hand-written lines whose outcome is stated in the test.
"""

from __future__ import annotations

import calendar
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyais.exceptions import AISBaseException
from pyais.messages import NMEAMessage

import patrolwatch as pw
from patrolwatch.errors import NaiveTimeError
from patrolwatch.io import _ais_kernels as K  # noqa: N812 - the kernels' namespace
from patrolwatch.io._rejects import REJECT_REASONS
from patrolwatch.io.ais_nmea import decode_ais

SAMPLE = "ais_nmea_sample_pyais.txt"
NS = 1_000_000_000
GOOD = "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"  # type 1 (pyais: MMSI 237836700)


def read(path: Path, **kw: object) -> pw.TrackRead:
    r = pw.read_tracks(path, **kw)  # type: ignore[arg-type]
    rep = r.report
    assert rep.rows_read == rep.rows_used + rep.rows_rejected
    assert len(r.rejects) == rep.rows_rejected
    assert set(r.rejects.reason) <= set(REJECT_REASONS)
    return r


def pyais_reference(data: bytes) -> dict[int, object]:
    """pyais decode keyed by the 1-based line of the first fragment; multi-part messages
    assembled by (sequence id, channel), as SOURCES.md describes."""
    out: dict[int, object] = {}
    pending: dict[tuple[object, object], list[tuple[int, NMEAMessage]]] = {}
    for i, raw in enumerate(data.splitlines(), start=1):
        j = raw.find(b"!")
        if j < 0 or b"VDM" not in raw[j : j + 7]:
            continue
        try:
            msg = NMEAMessage.from_bytes(raw[j:].strip())
        except AISBaseException:
            continue
        if msg.is_multi:
            key = (msg.seq_id, msg.channel)
            if msg.frag_num == 1:
                pending[key] = [(i, msg)]
                continue
            if key not in pending:
                continue
            pending[key].append((i, msg))
            if len(pending[key]) < msg.frag_cnt:
                continue
            parts = pending.pop(key)
            first = parts[0][0]
            msg = NMEAMessage.assemble_from_iterable([m for _, m in parts])
        else:
            first = i
        try:
            out[first] = msg.decode()
        except AISBaseException:
            continue
    return out


def test_every_sentence_pyais_decodes_agrees_exactly(shared_data_dir: Path) -> None:
    data = (shared_data_dir / SAMPLE).read_bytes()
    ref = pyais_reference(data)
    ours = decode_ais(data, check_checksum=False)
    by_line = {int(ln): k for k, ln in enumerate(ours.line.tolist())}
    missing = [ln for ln in ref if ln not in by_line]
    # pyais also decodes the 3 sentences that lack a '*hh' checksum (SOURCES.md: "3
    # sentences have a bad checksum"); patrolwatch never decodes those
    assert len(missing) == 3
    assert all(b"*" not in data.splitlines()[ln - 1].split(b"\\!")[-1] for ln in missing)
    checked = 0
    for ln, m in ref.items():
        if ln in missing:
            continue
        k = by_line[ln]
        assert ours.msg_type[k] == m.msg_type, ln
        assert ours.mmsi[k] == m.mmsi, ln
        if m.msg_type in (1, 2, 3, 18, 19, 27):
            assert ours.lon_deg[k] == m.lon and ours.lat_deg[k] == m.lat, ln
            assert ours.speed_kt[k] == m.speed and ours.course_deg[k] == m.course, ln
            if m.msg_type != 27:
                assert ours.heading_deg[k] == m.heading and ours.second[k] == m.second, ln
        if m.msg_type == 5 or (m.msg_type == 24 and m.partno == 0):
            assert ours.shipname[k] == (m.shipname or "").strip(), ln
        if m.msg_type == 5 or (m.msg_type == 24 and m.partno == 1):
            assert ours.callsign[k] == (m.callsign or "").strip(), ln
        checked += 1
    # SOURCES.md: 811 single-sentence + 3 two-part messages decode with pyais
    assert checked == 814 - 3
    types = np.bincount(ours.msg_type[ours.status == 0], minlength=64)
    # SOURCES.md counts per type (1: 700, 3: 76, 18: 19 ...), less the 3 type-1 sentences
    # without a checksum
    assert (types[1], types[3], types[5], types[18], types[24]) == (697, 76, 3, 19, 2)
    assert types[2] == 0 and types[19] == 0


def test_sample_lines_all_accounted(shared_data_dir: Path) -> None:
    r = read(shared_data_dir / SAMPLE, assume_tz="UTC", date="2021-01-02")
    rep = r.report
    assert rep.format == "nmea"
    assert rep.rows_read == 978  # SOURCES.md: 978 lines
    c = rep.rejected_by_reason
    # SOURCES.md: 100 empty payloads, 20 orphan first fragments, 1 fragment count 0,
    # 15 comments, 10 blank lines; 4 junk lines + 4 other $ NMEA are not AIS
    assert c["empty_payload"] == 100
    assert c["missing_fragment"] == 20
    assert c["bad_sentence"] == 1
    assert c["comment"] == 15 and c["blank"] == 10 and c["not_ais"] == 8
    # each line exactly once: used (fix, fragment, wrapper, static) or rejected
    assert len(set(r.rejects.line)) == len(r.rejects)


def test_sample_quirks_rejected_with_reason_and_line(shared_data_dir: Path) -> None:
    r = read(shared_data_dir / SAMPLE, assume_tz="UTC", date="2021-01-02")
    got = dict(zip(r.rejects.line, r.rejects.reason, strict=True))
    # lines found by reading the file (SOURCES.md's quirks): 915 is the fragment-count-0
    # sentence; 910 lacks its '*hh'; 913 has a one-digit tag-block checksum '*A'; 908 is
    # 'IamNotAnAisMessage1111'; 927 is $GPGGA; 4 is '!AIVDM,1,1,,B,,0*25'
    assert got[915] == "bad_sentence"
    assert got[910] == "bad_checksum"
    assert got[913] == "bad_tag_block"
    assert got[908] == "not_ais" and got[927] == "not_ais"
    assert got[4] == "empty_payload"
    # $PGHP with year 2009 and checksum *17 fails its checksum (the 2008 one passes)
    assert got[919] == "bad_checksum"


def test_pyais_agrees_on_orphans_and_empties_being_unusable(shared_data_dir: Path) -> None:
    data = (shared_data_dir / SAMPLE).read_bytes()
    ours = decode_ais(data)
    assert int((ours.status == K.S_EMPTY).sum()) == 100  # SOURCES.md


def _write(tmp_path: Path, lines: list[str], name: str = "a.nmea") -> Path:
    p = tmp_path / name
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return p


def test_tag_block_time_and_line_numbers(tmp_path: Path) -> None:
    body = "s:r1,c:1563840540"
    cs = 0
    for ch in body.encode():
        cs ^= ch
    p = _write(tmp_path, ["# header", "", f"\\{body}*{cs:02X}\\{GOOD}", GOOD])
    r = read(p)
    assert r.tracks.t_ns.tolist() == [calendar.timegm((2019, 7, 23, 0, 9, 0)) * NS]
    assert r.tracks.src_line.tolist() == [3]
    assert dict(zip(r.rejects.line, r.rejects.reason, strict=True)) == {
        1: "comment",
        2: "blank",
        4: "no_time",
    }
    assert r.tracks.track_ids.tolist() == [str(NMEAMessage.from_string(GOOD).decode().mmsi)]
    # MID 237 is Greece (ITU table)
    assert r.tracks.attr("operator").tolist() == ["GRC"]


def test_receiver_prefixes_need_a_zone(tmp_path: Path) -> None:
    p = _write(tmp_path, [f"[2024-07-19 08:45:27.141] {GOOD}"])
    with pytest.raises(NaiveTimeError) as err:
        read(p)
    assert err.value.line == 1
    r = read(p, assume_tz="UTC")
    want = calendar.timegm((2024, 7, 19, 8, 45, 27)) * NS + 141_000_000
    assert r.tracks.t_ns.tolist() == [want]
    r2 = read(_write(tmp_path, [f"1563840540.5 {GOOD}", f"2019-07-23T00:09:01Z,{GOOD}"], "b"))
    assert sorted(r2.tracks.t_ns.tolist()) == [1563840540500000000, 1563840541000000000]


def test_gatehouse_wrapper_times_the_sentence_it_names(tmp_path: Path) -> None:
    # the 2008 wrapper of the sample: its last field 09 is the next sentence's checksum
    pghp = "$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17"
    s = "!AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0*09"
    r = read(_write(tmp_path, [pghp, s, pghp, GOOD]))
    assert r.tracks.t_ns.tolist() == [calendar.timegm((2008, 5, 9, 0, 0, 0)) * NS + 10_000_000]
    got = dict(zip(r.rejects.line, r.rejects.reason, strict=True))
    assert got == {3: "unmatched_wrapper", 4: "no_time"}
    assert r.report.rows_used == 2  # the wrapper and its sentence


def test_date_and_utc_second_count_minutes(tmp_path: Path) -> None:
    from pyais.encode import encode_dict

    def line(second: int) -> str:
        d = {"type": 1, "mmsi": 366053209, "lon": -122.4, "lat": 37.8, "second": second}
        return encode_dict(d, radio_channel="A", talker_id="AI")[0]

    # 50, 58, 03 (next minute), 57 (late, the minute before), 10
    p = _write(tmp_path, [line(s) for s in (50, 58, 3, 57, 10)])
    r = read(p, date="2021-01-02")
    day = calendar.timegm((2021, 1, 2, 0, 0, 0))
    want = [day + s for s in (50, 58, 63, 57, 70)]
    assert sorted(r.tracks.t_ns // NS) == sorted(want)
    assert any("UTC second" in n for n in r.report.notes)


def test_static_report_names_the_track_and_counts_as_used(
    shared_data_dir: Path, tmp_path: Path
) -> None:
    from pyais.encode import encode_dict

    lines = (shared_data_dir / SAMPLE).read_text().splitlines()
    # lines 935-936: the complete two-part type 5 of mixed.txt
    static = lines[934:936]
    ref = NMEAMessage.assemble_from_iterable([NMEAMessage.from_string(s) for s in static]).decode()
    pos = encode_dict({"type": 1, "mmsi": ref.mmsi, "lon": 5.0, "lat": 53.0}, talker_id="AI")[0]
    p = _write(tmp_path, [*static, pos])
    r = read(p, date="2021-01-02")
    assert r.report.rows_used == 3
    assert r.tracks.attr("callsign").tolist() == [ref.callsign.strip()]
    assert r.tracks.attrs["name"].tolist() == [ref.shipname.strip()]


def test_malformed_sentences_rejected_with_reason_and_line(tmp_path: Path) -> None:
    lines = [
        "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6D",  # 1 wrong checksum
        "!AIVDM,2,1,3,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1E",
        "garbage \x7f",  # 3 junk
        "!AIVDM,1,1,,A,402B4L1uubaN`1d:>REe@jA028Gh,0*6B",  # 4 type 4
        "!AIVDM,1,1,,A,13cc3o?P?w<tSF0l4Q@>4?wv0PRr,0*0F",  # 5 lat 91 / lon 181
    ]
    r = read(_write(tmp_path, lines), date="2021-01-02")
    got = dict(zip(r.rejects.line, r.rejects.reason, strict=True))
    assert got == {
        1: "bad_checksum",
        2: "missing_fragment",
        3: "not_ais",
        4: "unsupported_type",
        5: "not_available",
    }


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=60), st.integers(0, 5))
def test_compiled_decoder_matches_python_reference(raw: bytes, fill: int) -> None:
    alphabet = b"0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"
    payload = bytes(alphabet[b % len(alphabet)] for b in raw)
    buf = np.frombuffer(payload, dtype=np.uint8)
    ints, _, _ = K.decode_payloads(
        buf,
        np.zeros(0, np.uint8),
        np.array([0], np.int64),
        np.array([len(payload)], np.int64),
        np.array([fill], np.int64),
        np.zeros(1, dtype=bool),
    )
    assert ints[:, 0].tolist() == K.decode_payloads_py(payload, fill)
