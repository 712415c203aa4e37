"""The report as a person sees it: Debian's Chromium, offline, through Playwright."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import patrolwatch as pw
from patrolwatch.report.html import write_report

HL = (0xFF, 0xD4, 0x00)  # the highlight colour, used for nothing else
HOSTILE = "<img src=x onerror=alert(1)>"


class Opened:
    """A report page opened offline, with every request and console message recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, offline=True)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith("file:")
                else (self.requests.append(route.request.url), route.abort())
            ),
        )
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        t0 = time.perf_counter()
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=15_000)
        self.load_s = time.perf_counter() - t0

    def pixels(self, selector: str) -> Image.Image:
        png = self.page.locator(selector).screenshot()
        return Image.open(io.BytesIO(png)).convert("RGB")


def _count(img: Image.Image, rgb: tuple[int, int, int], tol: int = 12) -> int:
    r, g, b = rgb
    return sum(
        n
        for n, (pr, pg, pb) in img.getcolors(maxcolors=1 << 24) or []
        if abs(pr - r) <= tol and abs(pg - g) <= tol and abs(pb - b) <= tol
    )


@pytest.fixture(scope="module")
def opened(browser: Any, demo: pw.Analysis) -> Iterator[Opened]:
    o = Opened(browser, demo.files["report_html"])
    print(f"report {demo.files['report_html'].stat().st_size} bytes, loaded in {o.load_s:.2f} s")
    yield o
    o.context.close()


def test_report_opens_offline_without_requests_or_errors(opened: Opened) -> None:
    assert opened.requests == []
    assert opened.errors == []
    assert opened.page.title().startswith("23 July 2019")


def test_map_draws_land_zones_and_tracks(opened: Opened) -> None:
    img = opened.pixels("#map")
    w, h = img.size
    total = w * h
    sea = _count(img, (0xDC, 0xEA, 0xF3), tol=3)
    land = _count(img, (0xEF, 0xE8, 0xD6), tol=3)
    drawn = total - sea - land
    assert land > 0.05 * total  # Korea, Japan and China are on the basemap
    assert drawn > 0.01 * total  # zones, tracks, labels
    for colour in pw.report._model.OPERATOR_PALETTE[:4]:  # CHN, JPN, KOR, RUS tracks
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert _count(img, rgb, tol=20) > 50, colour
    assert _count(img, (0xD9, 0x82, 0x2B), tol=20) > 100  # the KADIZ outline (orange)


def test_timeline_draws_rows_and_bars(opened: Opened) -> None:
    img = opened.pixels("#timeline")
    white = _count(img, (255, 255, 255), tol=2)
    assert img.size[1] > 12 * 24  # one row per track
    assert white < 0.95 * img.size[0] * img.size[1]
    assert _count(img, (0xC6, 0x28, 0x28), tol=20) > 50  # territorial visits (red bars)


def test_clicking_a_row_highlights_the_event_on_map_and_timeline(opened: Opened) -> None:
    page = opened.page
    assert _count(opened.pixels("#map"), HL) == 0
    assert _count(opened.pixels("#timeline"), HL) == 0
    row = page.locator("#events tbody tr", has_text="RUS-A50-01").filter(has_text="Dokdo").first
    row.click()
    assert "sel" in (row.get_attribute("class") or "")
    assert "RUS-A50-01" in page.locator("#selinfo").inner_text()
    assert "00:09:01" in page.locator("#clock").inner_text()  # slider moved to the entry
    assert _count(opened.pixels("#map"), HL) > 200
    assert _count(opened.pixels("#timeline"), HL) > 20
    assert opened.errors == []


def test_table_sorts_and_filters(opened: Opened) -> None:
    page = opened.page
    page.fill("#filter", "Dokdo")
    visible = page.locator("#events tbody tr:not([hidden])")
    assert 0 < visible.count() < page.locator("#events tbody tr").count()
    assert all("Dokdo" in t for t in visible.all_inner_texts())
    page.fill("#filter", "")
    page.click("#events thead th:nth-child(7)")  # duration
    page.click("#events thead th:nth-child(7)")  # descending
    first = page.locator("#events tbody tr").first.inner_text()
    assert "CHN-H6K" in first  # the longest event: a formation of the H-6Ks


def test_hostile_callsign_shows_as_text_and_runs_nothing(browser: Any, tmp_path: Path) -> None:
    from shapely.geometry import Point

    zones = pw.Zones(
        [pw.Zone("z", HOSTILE, "territorial", ("KOR",), Point(131.87, 37.24), buffer_m=22224.0)]
    )
    tracks = pw.Tracks.from_arrays(
        [HOSTILE, HOSTILE], [0, 600_000_000_000], [131.70, 131.70], [37.60, 36.90]
    )
    path = write_report(pw.crossings(tracks, zones), tmp_path / "r.html", tracks=tracks,
                        zones=zones, title=HOSTILE)  # fmt: skip
    o = Opened(browser, path)
    try:
        o.page.wait_for_timeout(300)
        assert o.dialogs == []
        assert o.page.locator("img").count() == 0
        assert o.page.get_by_text(HOSTILE, exact=True).first.is_visible()
        o.page.locator("#events tbody tr").first.click()
        assert HOSTILE in o.page.locator("#selinfo").inner_text()
        assert o.dialogs == [] and o.errors == [] and o.requests == []
    finally:
        o.context.close()
