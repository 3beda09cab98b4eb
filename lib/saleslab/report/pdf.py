"""The whole report pack as one PDF (``pack.pdf``): the executive summary first, then every
stage on its own pages, a header and footer with company, period and page numbers.

Rendered by headless Chromium through Playwright for Python (charts and CJK text as in the
browser; WeasyPrint runs no JavaScript). Debian's chromium is used as it is installed
(``/usr/lib/chromium/chromium``, or ``SALESLAB_CHROMIUM``); Playwright's own browser download
(``playwright install``) is never needed. Nothing is fetched from the network: the pages are
local files and every other request is refused.
"""

from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path

from ..errors import SalesLabError
from . import pack

#: where Debian's chromium package puts the browser itself (/usr/bin/chromium is a shell wrapper)
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class PdfUnavailable(SalesLabError):
    """No browser (or no Playwright) to print the pack with."""


def chromium_path() -> str | None:
    """The Chromium executable (``SALESLAB_CHROMIUM``, else Debian's), or None."""
    env = os.environ.get("SALESLAB_CHROMIUM")
    for c in ([env] if env else []) + list(CHROMIUM_CANDIDATES):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    found = shutil.which("chromium")
    return found


def available() -> bool:
    """Whether a PDF can be made here: Playwright for Python and a Chromium executable."""
    import importlib.util

    return importlib.util.find_spec("playwright") is not None and chromium_path() is not None


def launch(playwright):
    """Launch headless Chromium with the house flags (no sandbox as root, no background traffic)."""
    exe = chromium_path()
    if exe is None:
        raise PdfUnavailable("no Chromium found (Debian: apt-get install chromium; or set SALESLAB_CHROMIUM)")
    return playwright.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)


def print_html(run_dir: Path, manifest: dict, params) -> str:
    """One document for printing: the summary (with the stage list), then each stage's page
    content, each starting on a new page."""
    run_dir = Path(run_dir)
    lang = params.language
    index = (run_dir / "index.html").read_text(encoding="utf-8") if (run_dir / "index.html").exists() else ""
    parts = [f'<section class="summary-print">{pack.page_content(index)}</section>']
    for stage in pack.stage_names(manifest):
        page = run_dir / f"{stage}.html"
        if page.exists():
            parts.append(pack.page_content(page.read_text(encoding="utf-8")))
    title = f"{pack.t('pack_title', lang)} {manifest.get('run_id', '')}"
    return pack._shell(title, "\n".join(parts), lang, pack._colour(params))


def _header(params, lang: str) -> str:
    logo = pack.logo_uri(params)
    name = html.escape(pack.company_name(params, lang) or pack.t("pack_title", lang))
    colour = pack._colour(params)
    img = f'<img src="{logo}" style="height:14px;vertical-align:middle;margin-right:6px">' if logo else ""
    return (f'<div style="font-size:8px;width:100%;margin:0 12mm;padding-bottom:3px;border-bottom:1px solid {colour};'
            f'font-family:{html.escape(pack.FONTS)};display:flex;justify-content:space-between;color:#333">'
            f'<span>{img}<b style="color:{colour}">{name}</b> · {html.escape(pack.t("pack_title", lang))}</span>'
            f'<span>{html.escape(pack.t("pack_period", lang))}: {html.escape(pack.period_text(params, lang))}</span></div>')


def _footer(params, manifest: dict, lang: str) -> str:
    page = html.escape(pack.t("pack_page", lang)).replace(
        "{page}", '<span class="pageNumber"></span>').replace("{total}", '<span class="totalPages"></span>')
    name = html.escape(pack.company_name(params, lang))
    return (f'<div style="font-size:8px;width:100%;margin:0 12mm;font-family:{html.escape(pack.FONTS)};'
            f'display:flex;justify-content:space-between;color:#555">'
            f'<span>{name} · {html.escape(pack.t("pack_run", lang))} {html.escape(manifest.get("run_id", ""))} · '
            f'{html.escape(pack.local_time(manifest.get("finished"), getattr(params, "time_zone", None)))}</span><span>{page}</span></div>')


def for_run(run_dir: Path, manifest: dict, params, progress=print) -> Path | None:
    """The run's PDF as the run file asks (``pdf:``): true — required (raises
    :class:`PdfUnavailable` without a browser); false — none; unset — made when Chromium and
    Playwright are installed, else one line saying what is missing."""
    wanted = getattr(params, "pdf", None)
    if wanted is False:
        return None
    if wanted is None and not available():
        progress("      no pack.pdf: Chromium or Playwright is not installed (make system-deps DEPS=browser; "
                 "set pdf: false in the run file to silence this)")
        return None
    import time

    t0 = time.perf_counter()
    try:
        out = write_pdf(run_dir, params, manifest)
    except PdfUnavailable:
        raise
    except Exception as e:  # noqa: BLE001 — a printing failure is reported, the pack itself is complete
        if wanted:
            raise PdfUnavailable(f"pack.pdf could not be written: {e}") from e
        progress(f"      pack.pdf not written: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
        return None
    progress(f"      pack.pdf written in {time.perf_counter() - t0:.1f}s")
    return out


def params_of(manifest: dict):
    """What the PDF needs of a finished run's parameters (language, period, palette, company),
    from its manifest: for printing a pack after the run (e.g. the mail of ``--notify``)."""
    import datetime as dt
    from types import SimpleNamespace

    from ..config import PROJECT_ROOT

    p = manifest.get("parameters") or {}
    period = p.get("period") or {}
    company = p.get("company") or {}
    logo = company.get("logo")
    return SimpleNamespace(
        language=p.get("language", "zh-CN"), palette=p.get("palette") or ["#1f4e79"],
        period=SimpleNamespace(start=dt.date.fromisoformat(period.get("start", "1970-01-01")),
                               end=dt.date.fromisoformat(period.get("end", "1970-01-01"))) if period else None,
        company=SimpleNamespace(name=company.get("name", ""), logo=Path(logo) if logo else None,
                                colour=company.get("colour")),
        path=lambda q: q if Path(q).is_absolute() else PROJECT_ROOT / q)


def write_pdf(run_dir: Path, params=None, manifest: dict | None = None, out: Path | None = None,
              timeout_ms: int = 120_000) -> Path:
    """Print the pack in ``run_dir`` to ``run_dir/pack.pdf`` (or ``out``) and return its path.

    ``params``: the run's :class:`saleslab.config.RunParams` (language, period, company, colours;
    None: taken from the manifest, :func:`params_of`); ``manifest``: the run's manifest (read from
    ``run_dir`` when None). Raises :class:`PdfUnavailable` without Playwright or Chromium.
    """
    run_dir = Path(run_dir)
    if manifest is None:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    if params is None:
        params = params_of(manifest)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PdfUnavailable("the PDF needs Playwright for Python (pip install playwright; the browser is "
                             "Debian's chromium, no `playwright install`)") from None
    out = Path(out) if out else run_dir / "pack.pdf"
    doc = run_dir / ".pack-print.html"
    doc.write_text(print_html(run_dir, manifest, params), encoding="utf-8")
    lang = params.language
    root = run_dir.resolve().as_uri()
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                page = browser.new_page()
                # the pack is self-contained: anything but its own files is refused
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(root)
                           or route.request.url.startswith("data:") else route.abort())
                page.goto(doc.resolve().as_uri(), wait_until="load", timeout=timeout_ms)
                page.emulate_media(media="print")
                page.pdf(path=str(tmp), format="A4", print_background=True, display_header_footer=True,
                         header_template=_header(params, lang), footer_template=_footer(params, manifest, lang),
                         margin={"top": "18mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
        os.replace(tmp, out)
    finally:
        doc.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return out
