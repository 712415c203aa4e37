"""The HTML file itself: self-contained, escaped, locked down."""

from __future__ import annotations

import base64
import hashlib
import re

from shapely.geometry import Point, box

import patrolwatch as pw
from patrolwatch.report.html import render_report

HOSTILE = "<img src=x onerror=alert(1)>"


def _hostile_report() -> str:
    zones = pw.Zones(
        [
            pw.Zone(
                "z<b>",
                '<script>alert("zone")</script> "quoted" & more',
                "territorial",
                ("KOR",),
                Point(131.87, 37.24),
                buffer_m=22224.0,
                caveat="</script><script>alert(2)</script>",
            )
        ]
    )
    tracks = pw.Tracks.from_arrays(
        [HOSTILE, HOSTILE],
        [0, 600_000_000_000],
        [131.70, 131.70],
        [37.60, 36.90],
        sources=["<evil>.csv"],
        attrs={"operator": ["<op>", "<op>"], "callsign": [HOSTILE, HOSTILE]},
    )
    return render_report(pw.crossings(tracks, zones), tracks=tracks, zones=zones, title=HOSTILE)


def test_report_loads_no_resource_from_anywhere(demo: pw.Analysis) -> None:
    text = demo.files["report_html"].read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", text)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", text)
    assert "@import" not in text
    assert not re.search(r"<link\b", text) and not re.search(r"<script[^>]*\bsrc=", text)
    assert not re.search(r"<(?:img|iframe|object|embed|audio|video)\b", text)


def test_content_security_policy_allows_only_the_reports_own_script(demo: pw.Analysis) -> None:
    text = demo.files["report_html"].read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1) and "connect-src 'none'" in csp.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", text, flags=re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp.group(1)


def test_every_string_from_the_data_is_escaped() -> None:
    text = _hostile_report()
    assert HOSTILE not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "alert(2)</script>" not in text and '<script>alert("zone")' not in text
    assert "&lt;evil&gt;.csv" in text
    # inside the JSON data block "<" is written as \u003c, so nothing can close the block
    data = re.search(r'<script type="application/json" id="pw-data">(.*?)</script>', text, re.S)
    assert data is not None and "<" not in data.group(1)
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in data.group(1)


def test_the_script_never_writes_html_from_data() -> None:
    from importlib import resources

    js = resources.files("patrolwatch.report").joinpath("templates", "report.js").read_text()
    assert "innerHTML" not in js and "outerHTML" not in js and "insertAdjacentHTML" not in js
    assert "document.write" not in js and "eval(" not in js


def test_report_with_no_events_says_so() -> None:
    zones = pw.Zones([pw.Zone("z", "Z", "adiz", ("JPN",), box(0, 0, 1, 1))])
    tracks = pw.Tracks.from_arrays(["A", "A"], [0, 10**9], [130.0, 130.1], [37.0, 37.0])
    text = render_report(pw.crossings(tracks, zones), tracks=tracks, zones=zones)
    assert "No events were found." in text
    assert "found 0 zone visits" in text
