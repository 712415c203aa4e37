"""`analyze`: every output, the manifest, and re-running from the manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import patrolwatch as pw
from patrolwatch import _analyze
from patrolwatch.cli import main

from .conftest import INCIDENT


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_analyze_writes_every_output(demo: pw.Analysis) -> None:
    out = demo.out_dir
    for name in (
        "events.csv",
        "events.parquet",
        "formations.csv",
        "report.html",
        "map.png",
        "ingest_report.json",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    ingest = json.loads((out / "ingest_report.json").read_text())
    assert ingest["rows_read"] == ingest["rows_used"] + ingest["rows_rejected"] == 2249
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_manifest_records_hashes_parameters_and_software(demo: pw.Analysis) -> None:
    m = json.loads((demo.out_dir / "manifest.json").read_text())
    by_role = {i["role"]: i for i in m["inputs"]}
    assert by_role["tracks"]["sha256"] == _sha(INCIDENT / "tracks.csv")
    assert by_role["zones"]["sha256"] == _sha(INCIDENT / "zones.geojson")
    assert m["parameters"]["near_m"] == 30_000.0  # the documented default, 30 km
    assert m["parameters"]["min_gap_s"] == 300.0
    assert m["detectors"]["crossings"]["status"] == "run"
    assert m["software"]["patrolwatch"] == pw.__version__
    assert {z["id"] for z in m["zones"]} == {"adiz:KOR", "KOR-TS-DOKDO"}
    outputs = {o["path"]: o["sha256"] for o in m["outputs"]}
    assert outputs["events.csv"] == _sha(demo.out_dir / "events.csv")
    assert "--manifest" in m["reproduce"]
    html = (demo.out_dir / "report.html").read_text(encoding="utf-8")
    assert by_role["tracks"]["sha256"] in html  # provenance is in the report itself


def test_rerun_from_the_manifest_reproduces_identical_events(
    demo: pw.Analysis, tmp_path: Path
) -> None:
    again = pw.analyze_manifest(demo.out_dir / "manifest.json", out=tmp_path, png=False)
    first = pq.read_table(demo.out_dir / "events.parquet")
    second = pq.read_table(tmp_path / "events.parquet")
    assert len(first) > 20
    assert first.equals(second)
    assert (demo.out_dir / "events.csv").read_bytes() == (tmp_path / "events.csv").read_bytes()
    assert again.manifest["replayed_from"]["sha256"] == _sha(demo.out_dir / "manifest.json")


def test_rerun_refuses_an_input_that_changed(demo: pw.Analysis, tmp_path: Path) -> None:
    manifest = json.loads((demo.out_dir / "manifest.json").read_text())
    changed = tmp_path / "tracks.csv"
    changed.write_bytes((INCIDENT / "tracks.csv").read_bytes() + b"X,2019-07-23T02:00:00Z,37,131\n")
    for record in manifest["inputs"]:
        if record["role"] == "tracks":
            record["path"] = record["abs_path"] = str(changed)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(pw.InputError, match="SHA-256"):
        pw.analyze_manifest(tmp_path / "manifest.json", out=tmp_path / "b", png=False)
    assert not (tmp_path / "b").exists()  # refused before anything was written


def test_missing_detector_is_skipped_and_said_in_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_analyze, "_detector", lambda name: None)
    result = pw.analyze(
        INCIDENT / "tracks.csv", zones=INCIDENT / "zones.geojson", out=tmp_path, png=False
    )
    assert result.manifest["detectors"]["formations"]["status"] == "not available"
    assert not (tmp_path / "formations.csv").exists()
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "formations: not run" in html and "gaps: not run" in html


def test_cli_analyze_gives_the_same_events_and_plot_draws_a_map(
    demo: pw.Analysis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracks, zones = str(INCIDENT / "tracks.csv"), str(INCIDENT / "zones.geojson")
    rc = main(["analyze", tracks, "--zones", zones, "--out", str(tmp_path / "a"), "--no-png"])
    assert rc == 0
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["command"][:2] == ["patrolwatch", "analyze"]
    # same inputs and default parameters as the demo fixture: the same events, byte for byte
    assert (tmp_path / "a" / "events.csv").read_bytes() == (
        demo.out_dir / "events.csv"
    ).read_bytes()
    rc = main(["analyze", tracks, "--manifest", str(tmp_path / "a" / "manifest.json"),
               "--out", str(tmp_path / "b")])  # fmt: skip
    assert rc == 2 and "give no TRACKS" in capsys.readouterr().err
    rc = main(["plot", tracks, "--zones", zones, "--out", str(tmp_path / "m.png"), "--dpi", "60"])
    assert rc == 0
    from PIL import Image

    with Image.open(tmp_path / "m.png") as im:
        assert im.size == (660, 510)  # 11 x 8.5 in at 60 dpi
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50  # drawn, not blank
    assert main(["plot", tracks, "--zones", zones, "--out", str(tmp_path / "m.jpg")]) == 2
    assert "PNG" in capsys.readouterr().err
