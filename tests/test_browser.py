"""The demo's report pack in a real browser (Playwright driving Debian's chromium): every page at
phone (390 px) and desktop (1,400 px) width without horizontal overflow, console errors or a
request leaving 127.0.0.1; Chinese text drawn with a CJK font (asked of the browser's renderer,
not eyeballed); charts never scaled below a legible text size; the PDF's first page is the summary.

Screenshots go to ``tests/artifacts/browser/`` (git-ignored: CI keeps them as artifacts).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from saleslab.report import pdf as pack_pdf

pytestmark = [
    pytest.mark.slow,
    # on CI (CI=true) the browser must be there: `make test` installs it, a missing one fails the tests
    pytest.mark.skipif(not pack_pdf.available() and not os.environ.get("CI"), reason="needs Playwright and Debian's chromium "
                                                        "(make system-deps DEPS=browser)"),
]

ROOT = Path(__file__).parents[1]
ARTIFACTS = Path(__file__).parent / "artifacts" / "browser"
WIDTHS = (390, 1400)
CJK_FAMILIES = ("Noto Sans CJK", "WenQuanYi", "Source Han", "Microsoft YaHei", "PingFang")


@pytest.fixture(scope="module")
def pack_dir(demo_dir, tmp_path_factory) -> Path:
    """One demo pack (zh-CN, every stage, with its PDF) for the module: `saleslab run` as a user runs it."""
    import os

    from test_pipeline import saleslab, write_params

    if os.environ.get("SALESLAB_TEST_PACK"):  # while iterating on the pages: a pack already built
        return Path(os.environ["SALESLAB_TEST_PACK"])
    tmp = tmp_path_factory.mktemp("browser")
    company = "{name: 华信电器, colour: '#1f4e79'}"
    r = saleslab("run", "--params", str(write_params(tmp, demo_dir, company=company, pdf="true")), "--run-id", "pack")
    assert r.returncode == 0, r.stdout + r.stderr
    return tmp / "reports" / "pack"


@pytest.fixture(scope="module")
def server(pack_dir):
    handler = functools.partial(_Quiet, directory=str(pack_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102 — no access log on the test's stderr
        pass


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = pack_pdf.launch(p)
        yield b
        b.close()


def pages(pack_dir: Path) -> list[str]:
    m = json.loads((pack_dir / "manifest.json").read_text(encoding="utf-8"))
    return ["index.html", "glossary.html"] + [f"{s['stage']}.html" for s in m["stages"] if s["stage"] != "ingest"]


# how a chart is shown: its width on screen over its own width, times its smallest text (px at its dpi)
CHART_TEXT = """() => [...document.querySelectorAll('.fig img')].map(i => ({
  shown: i.getBoundingClientRect().width, natural: i.naturalWidth,
  min: parseFloat(i.dataset.minText), px: parseFloat(i.dataset.textPx)}))"""


@pytest.fixture(scope="module")
def visits(pack_dir, server, browser):
    """Every page at every width, once: what each visit found (overflow, errors, requests, fonts)."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    found = {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
        outside: list[str] = []

        def route(r, outside=outside):
            if r.request.url.startswith(server + "/") or r.request.url.startswith("data:"):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        cdp = context.new_cdp_session(page)
        for name in pages(pack_dir):
            errors.clear()
            outside.clear()
            response = page.goto(f"{server}/{name}", wait_until="load")
            overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            charts = page.evaluate(CHART_TEXT)
            fonts = _fonts_of(cdp, "h1")
            page.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}-{width}.png"), full_page=name == "index.html")
            found[(name, width)] = {"status": response.status, "overflow": overflow, "errors": list(errors),
                                    "outside": list(outside), "charts": charts, "fonts": fonts,
                                    "h1": page.inner_text("h1") if page.query_selector("h1") else ""}
        context.close()
    return found


def _fonts_of(cdp, selector: str) -> list[str]:
    """The platform fonts Chromium used to draw the first ``selector`` (DevTools CSS domain)."""
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    if not node:
        return []
    # the text node inside the element carries the glyphs
    desc = cdp.send("DOM.describeNode", {"nodeId": node, "depth": 1})["node"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    if not fonts and desc.get("children"):
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": desc["children"][0]["nodeId"]})["fonts"]
    return [f["familyName"] for f in fonts if f.get("glyphCount", 0) > 0]


def test_every_page_loads_at_phone_and_desktop_width(visits, pack_dir):
    assert len(visits) == len(pages(pack_dir)) * len(WIDTHS) >= 2 * 15
    bad = {k: v["status"] for k, v in visits.items() if v["status"] != 200}
    assert not bad


def test_no_page_overflows_sideways(visits):
    wide = {k: v["overflow"] for k, v in visits.items() if v["overflow"][0] > v["overflow"][1]}
    assert not wide, f"scrollWidth > innerWidth on {wide}"


def test_no_console_errors_and_no_request_leaves_localhost(visits):
    assert not {k: v["errors"] for k, v in visits.items() if v["errors"]}
    assert not {k: v["outside"] for k, v in visits.items() if v["outside"]}


def test_chinese_is_drawn_with_a_cjk_font(visits):
    for key, v in visits.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in v["h1"]), (key, v["h1"])
        assert any(f.startswith(CJK_FAMILIES) for f in v["fonts"]), (key, v["fonts"])


def test_chart_text_stays_legible_on_a_phone(visits):
    phone = [(k, c) for k, v in visits.items() if k[1] == 390 for c in v["charts"]]
    assert len(phone) >= 20  # the stages show their charts
    small = [(k, round(c["shown"] / c["natural"] * c["px"], 1)) for k, c in phone
             if c["shown"] / c["natural"] * c["px"] < c["min"] - 0.05]
    assert not small, f"chart text below {phone[0][1]['min']} px on screen: {small}"


def test_the_summary_leads_the_index_page(visits, pack_dir):
    html = (pack_dir / "index.html").read_text(encoding="utf-8")
    body = html[html.index("<main"):]
    assert body.index('id="summary"') < body.index('id="movements"') < body.index('id="risks"') \
        < body.index('id="health"') < body.index('id="stages"')
    cards = body.count('<div class="card"')
    assert 5 <= cards <= 12
    assert "▲" in body or "▼" in body  # changes vs last year / target are shown
    for key in ("ytd_revenue", "ytd_gross_margin", "ytd_orders", "ytd_active_customers", "ytd_achievement"):
        assert f'data-key="{key}"' in body, key
    assert body.count("<li>") >= 3  # movements and risks were recorded by the stages


def test_pdf_first_page_is_the_summary(pack_dir):
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed"
    pdf = pack_dir / "pack.pdf"
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    assert "经营摘要" in first and "华信电器" in first and "年初至今销售额" in first
    assert "第 1 /" in first  # the footer's page numbers
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")))
    assert n >= 14  # the summary, then every stage from a new page
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "风险管理" in text and "数据质量" in text
