"""`saleslab serve` in a real browser (Playwright driving Debian's chromium), as its stakeholders use it.

One demo run and one server per module (``saleslab serve`` started as a subprocess on a free port of
127.0.0.1, passwords set with ``saleslab users set-password --password-stdin``), one browser, a new
context per login. Each signed-in user (a rep, a supervisor, management) logs in through the login
form and sees on the dashboard exactly the figures the engine returns for their scope
(``saleslab.facts.revenue_by_expr`` through ``saleslab.engine.connect(identity=...)``, the pack's own
definition), with a filter, drill-down, sorting and a zoomable chart; management views as a rep; the
360 page finds an own customer and refuses one outside the scope; anonymous and spoofed visits see no
data. Every page is checked for console errors and for requests leaving 127.0.0.1 (routed to abort and
recorded); the 390 px pages must not overflow sideways. Screenshots go to ``tests/artifacts/serve/``
(git-ignored).

``SALESLAB_TEST_SERVE_PARAMS=<run file>`` (while iterating): a run file whose run is finished and whose
``serve:`` section and passwords are set (password ``SERVE_TEST_PASSWORD`` for the three users).
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from saleslab.report import pdf as browser_launch

pytestmark = [
    pytest.mark.slow,
    # on CI (CI=true) the browser must be there: `make test` installs it, a missing one fails the tests
    pytest.mark.skipif(not browser_launch.available() and not os.environ.get("CI"),
                       reason="needs Playwright and Debian's chromium (make system-deps DEPS=browser)"),
]

ROOT = Path(__file__).parents[1]
ARTIFACTS = Path(__file__).parent / "artifacts" / "serve"
PASSWORD = os.environ.get("SERVE_TEST_PASSWORD", "Correct-Horse-17")
#: one user per role: a rep with customers, a region's supervisor, management
USERS = {"rep": "S001", "supervisor": "sup_east", "management": "ceo"}
DASHBOARD = "/voila/render/dashboard.ipynb"
CUSTOMER = "/voila/render/customer360.ipynb"
RENDER_MS = 120_000  # a page's widgets (kernel start + first render) on a busy 2-core machine
DUCK = {"memory_limit": "1GB", "threads": 1, "temp_directory": str(ROOT / ".tmp" / "serve-test-duck")}
KPIS = ("revenue", "gross_profit", "gross_margin", "orders", "active_customers")


# ---- the run, the server, the browser -----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "saleslab.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          input=stdin, env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=1800)


@pytest.fixture(scope="module")
def run_file(demo_dir, tmp_path_factory) -> Path:
    """A finished demo run under the demo's access policy, with a ``serve:`` section (password login;
    hashes and cookie secret in tmp) and the three users' passwords set through the CLI."""
    if os.environ.get("SALESLAB_TEST_SERVE_PARAMS"):
        return Path(os.environ["SALESLAB_TEST_SERVE_PARAMS"]).resolve()
    from test_pipeline import write_params

    tmp = tmp_path_factory.mktemp("serve")
    (tmp / "policy").mkdir()
    policy = tmp / "policy" / "access.yaml"  # copied: its keys and audit trail stay in tmp
    policy.write_text((ROOT / "parameters" / "access.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    serve = ("{identity: password, passwords: %s, cookie_secret_file: %s, kernel_idle_seconds: 300}"
             % (tmp / "auth" / "passwords.json", tmp / "keys" / "serve-cookie.secret"))
    params = write_params(tmp, demo_dir, access_policy=policy, language="zh-CN", serve=serve)
    r = cli("run", "--params", str(params), "--run-id", "serve")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for user in USERS.values():
        r = cli("users", "set-password", "--params", str(params), user, "--password-stdin", stdin=PASSWORD + "\n")
        assert r.returncode == 0, (user, r.stdout, r.stderr)
    return params


@pytest.fixture(scope="module")
def settings(run_file):
    from saleslab.config import load_params

    return load_params(run_file, check_input=False)


@pytest.fixture(scope="module")
def server(run_file, tmp_path_factory):
    """``saleslab serve`` on a free port of 127.0.0.1, until its login page answers; stopped (its kernels
    too) at the end."""
    import psutil

    port = free_port()
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    out = open(log, "w", encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "saleslab.cli", "serve", "--params", str(run_file),
                             "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, stdout=out,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            out.close()
            pytest.fail(f"saleslab serve exited with {proc.returncode}:\n{log.read_text(encoding='utf-8')[-4000:]}")
        try:
            with urllib.request.urlopen(base + "/login", timeout=5) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            proc.kill()
            out.close()
            pytest.fail(f"saleslab serve did not answer on {base}/login in 90 s:\n"
                        f"{log.read_text(encoding='utf-8')[-4000:]}")
        time.sleep(0.5)
    server_proc = psutil.Process(proc.pid)
    yield type("Server", (), {"base": base, "port": port, "log": log, "proc": proc})
    kernels = [p for p in _tree(server_proc) if p.pid != proc.pid]
    proc.send_signal(signal.SIGTERM)  # jupyter-server shuts its kernels down on SIGTERM
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    for k in kernels + [p for p in kernels if p.is_running()]:  # what survived: only the ones we started
        try:
            if k.is_running():
                k.kill()
        except psutil.Error:
            pass
    out.close()


def _tree(p):
    import psutil

    try:
        return [p, *p.children(recursive=True)]
    except psutil.Error:
        return [p]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as p:
        b = browser_launch.launch(p)
        yield b
        b.close()


class Visit:
    """One browser context (one person's session) at a width: every console error, failed page script and
    request to a host other than the server is recorded; anything not on 127.0.0.1:<port> is aborted."""

    def __init__(self, browser, base: str, width: int = 1400, headers: dict | None = None):
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1,
                                           extra_http_headers=headers or {})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.context.route("**/*", self._route)
        self.new_page()

    def new_page(self):
        """A fresh tab of this session (the previous one closed: Voila shuts its kernel down)."""
        if getattr(self, "page", None) is not None:
            self.page.close(run_before_unload=True)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("websocket", self._websocket)
        self.page.set_default_timeout(RENDER_MS)
        return self

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base + "/") or url == self.base or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _websocket(self, ws):
        if not ws.url.startswith(self.base.replace("http://", "ws://") + "/"):
            self.outside.append(ws.url)

    def login(self, user: str, password: str = PASSWORD, next_path: str = "/"):
        p = self.page
        p.goto(self.base + "/login", wait_until="load")
        p.fill("input[name=username]", user)
        p.fill("input[name=password]", password)
        with p.expect_navigation(wait_until="load"):
            p.locator("form").locator("button[type=submit], input[type=submit]").first.click()
        assert "/login" not in p.url, f"login of {user} failed: still on {p.url}: {p.inner_text('body')[:300]}"
        if next_path != "/":
            self.open(next_path)
        return self

    def open(self, path: str, ready: str = ".sl-kpi[data-key=revenue]"):
        self.page.goto(self.base + path, wait_until="load")
        if ready:
            self.page.wait_for_selector(ready, state="attached", timeout=RENDER_MS)
        return self

    def kpis(self) -> dict[str, float]:
        got = self.page.eval_on_selector_all(
            ".sl-kpi", "els => els.map(e => [e.dataset.key, e.dataset.value])")
        return {k: float(v) for k, v in got if v not in (None, "", "nan", "NaN")}

    def wait_kpi_change(self, before: dict, key: str = "revenue"):
        self.page.wait_for_function(
            "([k, v]) => { const e = document.querySelector(`.sl-kpi[data-key=${k}]`);"
            " return e && e.dataset.value !== v; }", arg=[key, _raw(before[key])], timeout=RENDER_MS)
        self.page.wait_for_timeout(300)  # the other cards are set in the same update

    def shot(self, name: str, full_page: bool = False):
        """A screenshot; ``full_page``: the whole page (Voila scrolls inside ``#rendered_cells``, so the
        viewport is made as tall as that content for the shot)."""
        size = self.page.viewport_size
        if full_page:
            h = self.page.evaluate("() => { const s = document.querySelector('#rendered_cells');"
                                   " return s ? s.scrollHeight + s.getBoundingClientRect().top : document.body.scrollHeight; }")
            self.page.set_viewport_size({"width": size["width"], "height": int(min(max(h, size["height"]), 8000))})
            self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
        if full_page:
            self.page.set_viewport_size(size)

    def overflow(self) -> dict:
        """What sticks out sideways: the page's scroll widths against the viewport, and the outermost
        visible elements reaching past its right edge that are not inside a box scrolling sideways
        (a table in its own scroll box is fine; a chart cut off or a page scrolling sideways is not)."""
        return self.page.evaluate(OVERFLOW)

    def close(self):
        try:
            self.page.close(run_before_unload=True)  # Voila shuts the page's kernel down on unload
        finally:
            self.context.close()


OVERFLOW = """() => {
  const W = window.innerWidth, scroller = document.querySelector('#rendered_cells') || document.scrollingElement;
  const inScrollBox = e => { for (let a = e.parentElement; a && a !== scroller && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX; if (ox === 'auto' || ox === 'scroll') return true; } return false; };
  const wide = [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.right > W + 1 && !inScrollBox(e); });
  const outer = wide.filter(e => !wide.includes(e.parentElement));
  return {width: W, page: document.documentElement.scrollWidth, scroller: scroller.scrollWidth,
          wide: outer.slice(0, 8).map(e => `${e.tagName.toLowerCase()}.${(e.getAttribute('class') || '').trim().split(/\\s+/).slice(-2).join('.')}`
                                        + ` right=${Math.round(e.getBoundingClientRect().right)}`)};
}"""


def _raw(value: float) -> str:
    return str(value)


@pytest.fixture(scope="module")
def visit(browser, server):
    """``visit(width=..., headers=...)``: a new context; every one is closed at the end, and their console
    errors and outside requests are what :func:`test_no_console_errors_and_no_request_leaves_localhost`
    checks."""
    made: list[Visit] = []

    def _new(width: int = 1400, headers: dict | None = None) -> Visit:
        v = Visit(browser, server.base, width, headers)
        made.append(v)
        return v

    _new.made = made
    yield _new
    for v in made:
        try:
            v.close()
        except Exception:  # noqa: BLE001 — already closed
            pass


# ---- the engine's figures for a user's scope ----------------------------------------------------

def month_bounds(label: str, end: bool = False) -> dt.date:
    """A month option of the period filter ("2025-12", "2025年12月", "Dec 2025" ...) as its first or last day."""
    m = re.search(r"(\d{4})\D{1,3}(\d{1,2})", label)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
    else:
        d = dt.datetime.strptime(re.sub(r"\s+", " ", label.strip()), "%b %Y")
        y, mo = d.year, d.month
    return dt.date(y, mo, calendar.monthrange(y, mo)[1] if end else 1)


def engine_kpis(settings, user: str, start, end, where: dict | None = None) -> dict[str, float]:
    """Revenue, gross profit, margin, orders and active customers of ``user``'s scope in [start, end]
    (``where``: {movement column: value}), computed by the engine and the facts layer as the pack does."""
    from saleslab import access, facts
    from saleslab.engine import connect

    policy = access.load_policy(settings.policy_path)
    ident = access.identity(policy, user)
    key = settings.path(settings.encryption.key_file) if settings.encryption.key_file else None
    basis = settings.thresholds.get("returns_basis", "return_date")  # the facts layer's default
    with connect(settings.warehouse_path, "duckdb", DUCK, identity=ident, keyring=key) as eng:
        m = facts.revenue_by_expr(eng, start, end, list(where or {}), returns_basis=basis)
        for col, value in (where or {}).items():
            m = m.filter(m[col] == value)
        df = eng.execute(m)
    if df.empty:
        return {"revenue": 0.0, "gross_profit": 0.0, "orders": 0, "active_customers": 0}
    r = df.iloc[0]
    revenue, cost = round(float(r["revenue"]), 2), float(r["cost"])
    out = {"revenue": revenue, "gross_profit": round(revenue - cost, 2), "orders": int(r["orders"]),
           "active_customers": int(r["active_customers"])}
    if revenue:
        out["gross_margin"] = round((revenue - cost) / revenue, 6)
    return out


def assert_same(shown: dict, expected: dict, who: str):
    assert set(expected) - {"gross_margin"} <= set(shown), (who, shown)
    for k, v in expected.items():
        if k not in shown:
            continue
        tol = {"revenue": 0.011, "gross_profit": 0.011, "gross_margin": 1.1e-6}.get(k, 0)
        assert abs(shown[k] - v) <= tol, f"{who}: {k} shown {shown[k]!r}, engine {v!r} (all shown: {shown})"


def selected(page, cls: str) -> str:
    """The label selected in the Dropdown (or first of a SelectMultiple) classed ``cls``."""
    return page.eval_on_selector(f".{cls} select", "s => (s.selectedOptions[0] || s.options[0]).textContent").strip()


def options(page, cls: str) -> list[str]:
    return [o.strip() for o in page.eval_on_selector_all(f".{cls} select option", "os => os.map(o => o.textContent)")]


def period_of(page, settings) -> tuple[dt.date, dt.date]:
    start = month_bounds(selected(page, "sl-filter-period-start"))
    end = month_bounds(selected(page, "sl-filter-period-end"), end=True)
    return max(start, settings.period.start), min(end, settings.period.end)


def codes_of(settings, column: str) -> list[str]:
    """The values of an order attribute (region, channel) in the warehouse."""
    from saleslab.engine import connect

    key = settings.path(settings.encryption.key_file) if settings.encryption.key_file else None
    with connect(settings.warehouse_path, "duckdb", DUCK, keyring=key) as eng:
        o = eng.table("orders")
        vals = eng.execute(o.filter(o[column].notnull()).select(column).distinct())[column]
    return sorted(vals)


def label_of(code: str, lang: str) -> str:
    from saleslab.report import i18n

    return i18n.t(code, lang) if i18n.has(code) else code


# ---- the dashboard, per role --------------------------------------------------------------------

@pytest.fixture(scope="module")
def dashboards(visit, settings):
    """Each role's dashboard at 1,400 px, signed in through the form: what it showed and what the engine
    returns for the same user and period."""
    found = {}
    for role, user in USERS.items():
        v = visit().login(user).open(DASHBOARD)
        start, end = period_of(v.page, settings)
        found[role] = {"visit": v, "user": user, "shown": v.kpis(), "period": (start, end),
                       "expected": engine_kpis(settings, user, start, end),
                       "who": v.page.inner_text(".sl-user"), "view_as": v.page.locator(".sl-view-as").count()}
        v.shot(f"dashboard-{role}-1400")
    return found


@pytest.mark.parametrize("role", list(USERS))
def test_each_role_sees_exactly_the_engines_figures_for_their_scope(dashboards, role):
    d = dashboards[role]
    assert set(KPIS) - {"gross_margin"} <= set(d["shown"]), d["shown"]
    assert_same(d["shown"], d["expected"], f"{role} {d['user']} {d['period']}")
    assert d["user"] in d["who"], d["who"]


def test_scopes_are_nested_rep_within_supervisor_within_management(dashboards):
    rev = {role: d["expected"]["revenue"] for role, d in dashboards.items()}
    assert 0 < rev["rep"] < rev["management"] and 0 < rev["supervisor"] < rev["management"], rev


def test_a_region_filter_changes_the_figures_to_the_engines_filtered_figure(dashboards, settings):
    d = dashboards["management"]
    page, v = d["visit"].page, d["visit"]
    labels = options(page, "sl-filter-region")
    assert len(labels) >= 3, labels  # "all" first, then the regions
    codes = {label_of(c, settings.language): c for c in codes_of(settings, "region")}
    pick = next(lbl for lbl in labels[1:] if lbl in codes)
    before = v.kpis()
    page.select_option(".sl-filter-region select", label=pick)
    v.wait_kpi_change(before)
    start, end = period_of(page, settings)
    expected = engine_kpis(settings, d["user"], start, end, {"region": codes[pick]})
    assert_same(v.kpis(), expected, f"management, region {pick}")
    # back to all regions: the unfiltered figure again
    before = v.kpis()
    page.select_option(".sl-filter-region select", label=labels[0])
    v.wait_kpi_change(before)
    assert_same(v.kpis(), d["expected"], "management, all regions again")


def test_a_channel_filter_on_the_supervisors_page(dashboards, settings):
    d = dashboards["supervisor"]
    page, v = d["visit"].page, d["visit"]
    labels = options(page, "sl-filter-channel")
    assert len(labels) >= 2, labels
    codes = {label_of(c, settings.language): c for c in codes_of(settings, "channel")}
    start, end = period_of(page, settings)
    cand = [lbl for lbl in labels[1:] if lbl in codes]
    assert cand, f"no channel label of {labels} is a known channel code's label"
    pick = cand[0]
    before = v.kpis()
    page.select_option(".sl-filter-channel select", label=pick)
    v.wait_kpi_change(before)
    assert_same(v.kpis(), engine_kpis(settings, d["user"], start, end, {"channel": codes[pick]}),
                f"supervisor, channel {pick}")


def drill_table(page) -> tuple[str, list[dict]]:
    """The drill-down table: its level and, per row, id, label and the figures' raw values."""
    got = page.evaluate("""() => [...document.querySelectorAll('.sl-drill .sl-drill-line')].map(line => {
        const t = line.querySelector('table.sl-row'), first = line.querySelector('.sl-drill-row, .sl-customer-link');
        const v = {}; t.querySelectorAll('td[data-key]').forEach(c => v[c.dataset.key] = parseFloat(c.dataset.value));
        return {level: t.dataset.level, id: t.dataset.id, label: first ? first.textContent.trim() : '', ...v}; })""")
    return (got[0]["level"] if got else ""), got


def wait_level(page, level: str):
    page.wait_for_function("l => { const t = document.querySelector('.sl-drill table.sl-row');"
                           " return t && t.dataset.level === l; }", arg=level)
    page.wait_for_timeout(300)


def test_drill_down_total_region_team_rep_customer_and_back(visit, settings):
    """Clicking a row goes one level down; the cards follow the path (a region: the engine's figure for
    it), the rows of a level add up to the row clicked above; the first crumb goes back to the total."""
    v = visit().login(USERS["management"]).open(DASHBOARD)
    page = v.page
    total = v.kpis()
    level, rows = drill_table(page)
    assert level == "region" and len(rows) >= 3, (level, rows)
    assert abs(sum(r["revenue"] for r in rows) - total["revenue"]) < 0.05 * len(rows)
    path = []
    for nxt in ("team", "rep_id", "customer_id"):
        row = next(r for r in rows if r["id"] != "unknown")  # the largest named one
        page.locator(".sl-drill .sl-drill-line", has=page.locator(f"table.sl-row[data-id='{row['id']}']")) \
            .locator(".sl-drill-row").first.click()
        wait_level(page, nxt)
        path.append(row)
        shown = v.kpis()
        assert abs(shown["revenue"] - row["revenue"]) <= 0.011, (path, shown, row)
        level, rows = drill_table(page)
        assert rows and abs(sum(r["revenue"] for r in rows) - row["revenue"]) < 0.05 * len(rows), (path, rows)
        assert row["label"] in page.inner_text(".sl-breadcrumb"), (row, page.inner_text(".sl-breadcrumb"))
        if nxt == "team":  # the region's figures are the engine's for that region
            start, end = period_of(page, settings)
            assert_same(shown, engine_kpis(settings, USERS["management"], start, end, {"region": row["id"]}),
                        f"drilled into region {row['id']}")
    assert page.locator(".sl-breadcrumb .sl-crumb").count() == 3  # total > region > team (> rep, current)
    # at customer level every row is a link to that customer's 360 page
    links = page.eval_on_selector_all(".sl-drill a.sl-drill-row[href]", "as => as.map(a => a.getAttribute('href'))")
    assert links and all(h.startswith("customer360.ipynb?customer=") for h in links), links
    v.shot("dashboard-drill-rep-1400")
    # the first crumb (total) takes it back to the top: the regions and the total figures again
    page.locator(".sl-breadcrumb .sl-crumb").first.click()
    wait_level(page, "region")
    assert page.locator(".sl-breadcrumb .sl-crumb").count() == 0
    assert path[0]["id"] in [r["id"] for r in drill_table(page)[1]]
    assert_same(v.kpis(), total, "back at the total")


def test_a_table_column_sorts_both_ways(dashboards):
    page = dashboards["management"]["visit"].page
    buttons = page.eval_on_selector_all(".sl-table [class*=sl-sort-]",
                                        "bs => bs.map(b => [...b.classList].find(c => c.startsWith('sl-sort-')))")
    assert "sl-sort-name" in buttons and "sl-sort-revenue" in buttons, buttons
    col = "sl-sort-orders"  # not the default order (revenue, largest first)
    key = col.removeprefix("sl-sort-")

    def click(mark: str) -> list[float]:
        page.locator(f".sl-table .{col}").first.click()
        page.wait_for_function("([c, m]) => { const b = document.querySelector(`.sl-table .${c}`);"
                               " return b && b.textContent.trim().endsWith(m); }", arg=[col, mark])
        page.wait_for_timeout(300)
        return [r[key] for r in drill_table(page)[1]]

    first = click("▼")  # a figure sorts largest first
    assert len(first) >= 2 and len(set(first)) >= 2, f"nothing to sort in {key}: {first}"
    assert first == sorted(first, reverse=True), first
    second = click("▲")
    assert second == sorted(first), (first, second)


TREND = """() => { const gd = document.querySelector('.sl-trend.js-plotly-plot, .sl-trend .js-plotly-plot');
    return {traces: gd.data.map(t => ({type: t.type, x: [...(t.x || [])].map(String), y: [...(t.y || [])]})),
            width: gd._fullLayout.width, box: gd.getBoundingClientRect().width}; }"""


@pytest.mark.parametrize("role", ["supervisor", "rep"])
def test_the_trend_chart_shows_the_months_of_the_period_and_adds_up_to_the_revenue(dashboards, role):
    d = dashboards[role]
    page = d["visit"].page
    page.wait_for_selector(".sl-trend .nsewdrag")
    got = page.evaluate(TREND)
    bars = next(t for t in got["traces"] if t["type"] == "bar")
    start, end = d["period"]
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    assert len(bars["x"]) == months and str(start.year) in bars["x"][0], (months, bars)
    # the bars are in the chart's money unit (元, 万元, K, M ...): the months add up to the revenue card
    total, revenue = sum(bars["y"]), d["visit"].kpis()["revenue"]  # the card as it stands (after the filter tests)
    unit = min((1, 1e3, 1e4, 1e6, 1e8), key=lambda u: abs(total * u - revenue))
    assert abs(total * unit - revenue) <= max(1e-5 * revenue, 0.01 * months), (total, unit, revenue)
    assert got["width"] >= 0.9 * got["box"], f"the chart is drawn {got['width']} px wide in a {got['box']} px box"


def test_the_trend_chart_is_plotly_and_zooms(dashboards):
    page = dashboards["management"]["visit"].page
    page.wait_for_selector(".sl-trend .nsewdrag")
    # the widget's element is plotly's graph div itself (class js-plotly-plot)
    rng = "() => document.querySelector('.sl-trend.js-plotly-plot, .sl-trend .js-plotly-plot')._fullLayout.xaxis.range.slice()"
    before = page.evaluate(rng)
    box = page.locator(".sl-trend .nsewdrag").first.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.45, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()
    page.wait_for_function(f"b => {{ const r = ({rng})(); return r[0] !== b[0] || r[1] !== b[1]; }}", arg=before)
    after = page.evaluate(rng)

    def span(r):
        a, b = (dt.datetime.fromisoformat(str(x)[:19]).timestamp() if isinstance(x, str) else x for x in r)
        return b - a

    assert span(after) < span(before) * 0.7, (before, after)


def test_management_views_as_a_rep_and_sees_the_reps_figures(dashboards, settings):
    d = dashboards["management"]
    assert d["view_as"] == 1
    page, v = d["visit"].page, d["visit"]
    # the earlier tests of this page leave the filters at "all": the reference is the rep's own page
    rep = dashboards["rep"]
    labels = options(page, "sl-view-as")
    assert labels[0] and USERS["rep"] not in labels[0]  # first option: yourself
    pick = next(lbl for lbl in labels if re.search(rf"\b{USERS['rep']}\b", lbl))
    before = v.kpis()
    page.select_option(".sl-view-as select", label=pick)
    v.wait_kpi_change(before)
    start, end = period_of(page, settings)
    assert (start, end) == rep["period"]
    assert_same(v.kpis(), rep["expected"], f"management viewing as {USERS['rep']}")
    assert USERS["rep"] in page.inner_text(".sl-user")
    v.shot("dashboard-management-view-as-rep-1400")


def test_a_supervisor_and_a_rep_have_no_view_as(dashboards):
    assert dashboards["supervisor"]["view_as"] == 0
    assert dashboards["rep"]["view_as"] == 0


# ---- the 360 page -------------------------------------------------------------------------------

def customers_of(settings, user: str, tables=("orders", "customers")) -> set[str]:
    """Customer ids ``user`` may read (of their orders and the customer master; "" = every customer)."""
    from saleslab import access
    from saleslab.engine import connect

    ident = None
    if user:
        ident = access.identity(access.load_policy(settings.policy_path), user)
    key = settings.path(settings.encryption.key_file) if settings.encryption.key_file else None
    with connect(settings.warehouse_path, "duckdb", DUCK, identity=ident, keyring=key) as eng:
        ids = set()
        for name in tables:
            t = eng.table(name)
            ids |= set(eng.execute(t.filter(t.customer_id.notnull()).select("customer_id").distinct())["customer_id"])
    return ids


def test_the_360_page_finds_an_own_customer(visit, settings):
    own = sorted(customers_of(settings, USERS["rep"], ("customers",)))
    assert own
    v = visit().login(USERS["rep"]).open(CUSTOMER, ready=".sl-search input")
    page = v.page
    page.fill(".sl-search input", own[0])
    page.locator(".sl-search input").press("Enter")
    page.wait_for_selector(".sl-search-results .sl-result")
    results = page.locator(".sl-search-results .sl-result")
    assert results.count() >= 1
    results.first.click()
    page.wait_for_selector(".sl-card")
    assert own[0] in page.inner_text(".sl-card") or own[0] in page.content()
    assert page.locator(".sl-refused").count() == 0
    v.shot("customer360-rep-1400", full_page=True)


def test_the_360_page_refuses_a_customer_outside_the_scope(visit, settings):
    outside = sorted(customers_of(settings, "") - customers_of(settings, USERS["rep"]))
    assert outside
    v = visit().login(USERS["rep"]).open(f"{CUSTOMER}?customer={outside[0]}", ready=".sl-refused")
    page = v.page
    page.wait_for_timeout(500)
    assert page.locator(".sl-card").count() == 0
    assert page.locator(".sl-kpi").count() == 0
    v.shot("customer360-refused-1400")


# ---- phone and desktop --------------------------------------------------------------------------

@pytest.mark.parametrize("width", [390, 1400])
def test_pages_at_phone_and_desktop_width_do_not_overflow(visit, settings, width):
    """The supervisor on a phone, the rep on a desktop: the dashboard and a customer's 360 card."""
    user = USERS["supervisor"] if width == 390 else USERS["rep"]
    own = sorted(customers_of(settings, user, ("customers",)))
    v = visit(width=width).login(user)
    v.open(DASHBOARD)
    v.page.wait_for_timeout(500)
    v.shot(f"dashboard-{width}", full_page=True)
    dash = v.overflow()
    # a new tab: navigating the dashboard's own tab away makes its widgets log "Could not send widget sync
    # message" while the page unloads (Voila's widget manager), which is not what this test looks at
    v.new_page().open(f"{CUSTOMER}?customer={own[0]}", ready=".sl-card")
    v.page.wait_for_timeout(500)
    v.shot(f"customer360-{width}", full_page=True)
    cust = v.overflow()
    for name, o in (("dashboard", dash), ("360", cust)):
        assert o["page"] <= o["width"] and o["scroller"] <= o["width"], f"{name} scrolls sideways at {width} px: {o}"
        assert not o["wide"], f"{name} at {width} px: cut off or sticking out past the right edge: {o['wide']}"


# ---- nobody signed in, and spoofing -------------------------------------------------------------

def _get(url: str, headers: dict | None = None):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        r = opener.open(urllib.request.Request(url, headers=headers or {}), timeout=30)
        return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


FIGURE_MARKS = ("sl-kpi", "data-value", "sl-card", "sl-drill")


@pytest.mark.parametrize("headers,query", [({}, ""), ({"X-Forwarded-User": "ceo"}, "?user=ceo"),
                                           ({"X-Forwarded-User": "ceo", "X-Remote-User": "ceo"}, "?user=ceo&customer=C0001")])
def test_anonymous_requests_get_the_login_page_and_no_data(server, headers, query):
    for path in (DASHBOARD, CUSTOMER, "/", "/pack/", "/pack/index.html"):
        status, h, body = _get(server.base + path + query, headers)
        assert status in (302, 303), (path, status, body[:200])
        assert "/login" in h.get("Location", ""), (path, h)
        assert not any(m in body for m in FIGURE_MARKS), (path, body[:300])
    fake = "/api/kernels/00000000-0000-0000-0000-000000000000"
    for path in (fake, fake + "/channels", "/api/kernels", "/api/contents", "/api/sessions", "/api/contents/dashboard.ipynb"):
        status, _, body = _get(server.base + path, headers)
        # the kernel API answers 403; what Voila does not serve at all (the contents API, lists) is 404
        assert status == 403 if path.startswith(fake) else status in (403, 404), (path, status, body[:200])
        assert not any(m in body for m in FIGURE_MARKS + ("customer_id", "cells")), (path, body[:200])


def test_an_anonymous_browser_sees_the_login_form_only(visit, server):
    v = visit(headers={"X-Forwarded-User": "ceo"})
    v.page.goto(server.base + DASHBOARD + "?user=ceo", wait_until="load")
    v.page.wait_for_timeout(1000)
    assert "/login" in v.page.url
    assert v.page.locator("input[name=password]").count() == 1
    html = v.page.content()
    assert not any(m in html for m in FIGURE_MARKS)
    v.shot("login-1400")


def test_a_wrong_password_is_refused(visit, server):
    v = visit()
    v.page.goto(server.base + "/login", wait_until="load")
    v.page.fill("input[name=username]", USERS["management"])
    v.page.fill("input[name=password]", PASSWORD + "x")
    with v.page.expect_response(lambda r: r.request.method == "POST" and "/login" in r.url) as answer:
        v.page.locator("form").locator("button[type=submit], input[type=submit]").first.click()
    v.page.wait_for_load_state("load")
    assert answer.value.status in (401, 403), answer.value.status
    assert "/login" in v.page.url and v.page.locator("p.error").count() == 1
    v.errors.clear()  # Chromium logs the refused POST's status as a console error: expected here
    v.page.goto(server.base + DASHBOARD, wait_until="load")
    assert "/login" in v.page.url and "sl-kpi" not in v.page.content()


def test_a_spoofed_header_and_user_parameter_change_nothing_for_a_signed_in_rep(visit, dashboards):
    rep = dashboards["rep"]
    v = visit(headers={"X-Forwarded-User": USERS["management"]}).login(USERS["rep"])
    v.open(DASHBOARD + f"?user={USERS['management']}")
    assert_same(v.kpis(), rep["expected"], "rep with a spoofed header and ?user=")
    who = v.page.inner_text(".sl-user")
    assert USERS["rep"] in who and USERS["management"] not in who, who
    assert v.page.locator(".sl-view-as").count() == 0


# ---- last: what every visit recorded ------------------------------------------------------------

def test_no_console_errors_and_no_request_leaves_localhost(visit, dashboards):
    assert len(visit.made) >= 8
    errors = {i: v.errors for i, v in enumerate(visit.made) if v.errors}
    outside = {i: v.outside for i, v in enumerate(visit.made) if v.outside}
    assert not outside, f"requests leaving 127.0.0.1: {outside}"
    assert not errors, f"console errors: {errors}"
