"""Benchmark: `saleslab serve` under 1, 5 and 20 concurrent signed-in users (issue 17 item 3).

    python benchmarks/serve.py --scale small|medium|large [--seed 42] [--workdir .tmp]
                               [--params P --reports DIR] [--levels 1,5,20] [--language zh-CN|en]

Without ``--params``: the demo exports ``<workdir>/<scale>/demo/exports`` (generated when missing, like
benchmarks/pipeline.py), a run file ``<workdir>/<scale>/serve/bench.yaml`` governed by a copy of the
demo's access policy (its keys and audit trail in the workdir) and one full ``saleslab run`` into
``<workdir>/<scale>/serve/reports`` (reused when its ``latest`` exists). With ``--params P --reports
DIR``: an existing run is reused as it is (its warehouse, access policy and ``DIR/latest``); only the
``serve:`` section is replaced by one of the benchmark's (password login, hashes and cookie secret in
the workdir), so no real password store is touched.

The benchmark users (spread over the roles: management, the viewer, the supervisors, the reps) get a
password with ``saleslab users set-password --password-stdin``; ``saleslab serve`` is started on a free
port of 127.0.0.1. One headless Chromium (Debian's, through Playwright); each user is their own browser
context, signed in through the login form before the clock starts. For each concurrency level N, the N
users open the dashboard at the same moment: **render time** = from navigation until the KPI cards exist
and the trend chart is drawn (``.sl-kpi[data-key=revenue]`` and plotly's SVG in ``.sl-trend``: the
kernel has run the page, the widgets and the chart are drawn); the pages are
closed (their kernels shut down) and the N users open the 360 page the same way (until its search box
exists). Per page and level: p50 / p95 / max seconds; **HTML** p50 / p95: until the server had sent the
page's HTML (its kernel started or taken from the warm ones, the page run: the server's part, before
the browser's JavaScript, which shares the same 2 cores here); the **server's process-tree RSS peak** (the
server and every kernel, summed, polled every 0.2 s with psutil) and each kernel's own peak RSS
(median / max). Baselines in the same run: the static pack's summary page (``/pack/index.html``, load
event, best of 3) and the first render with one user; ratios of every p50 to both. Targets (issue 17):
first full render <= 3 s at small scale, <= 5 s at large. Ends with ONE JSON line of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
START, END = "2023-01-01", "2025-12-31"
PASSWORD = "bench-Serve-2026"
DASHBOARD = "/voila/render/dashboard.ipynb"
CUSTOMER = "/voila/render/customer360.ipynb"
#: what must exist for a page to count as rendered (all of them, waited for in turn)
READY = {"dashboard": (DASHBOARD, (".sl-kpi[data-key=revenue]", ".sl-trend .main-svg, .sl-trend.js-plotly-plot .main-svg")),
         "customer360": (CUSTOMER, (".sl-search input",))}
TARGET_S = {"small": 3.0, "medium": 4.0, "large": 5.0}
RENDER_TIMEOUT_MS = 600_000


def _env():
    env = dict(os.environ)
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(v, "1")
    env["PYTHONPATH"] = str(ROOT / "lib") + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cli(*args, stdin: str | None = None, log: Path | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run([PY, "-m", "saleslab.cli", *args], cwd=ROOT, input=stdin, capture_output=True, text=True,
                       env=_env())
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"$ saleslab {' '.join(args)}\n{r.stdout}{r.stderr}\n")
    return r


# ---- the run the pages read ---------------------------------------------------------------------

def ensure_exports(work: Path, scale: str, seed: int) -> Path:
    exports = work / "demo" / "exports"
    if exports.is_dir() and any(exports.iterdir()):
        print(f"reusing demo exports {exports}", flush=True)
        return exports
    print(f"generating the {scale} demo into {work / 'demo'} ...", flush=True)
    r = cli("demo-data", "--out", str(work / "demo"), "--scale", scale, "--seed", str(seed))
    if r.returncode:
        raise SystemExit(f"demo-data failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    return exports


#: serve.warm_kernels of the benchmark's server (--warm-kernels)
WARM_KERNELS = 1
#: seconds given to the warm pool to finish refilling (kernel start + imports) before a step's clock starts
WARM_SETTLE_S = 5.0


def bench_serve_section(bench: Path) -> dict:
    return {"identity": "password", "passwords": str(bench / "auth" / "passwords.json"),
            "cookie_secret_file": str(bench / "keys" / "serve-cookie.secret"), "kernel_idle_seconds": 120,
            "warm_kernels": WARM_KERNELS}


def own_run(work: Path, a, figures: dict) -> tuple[Path, Path]:
    """The benchmark's own run file and reports folder (the run made once, then reused)."""
    import yaml

    exports = ensure_exports(work, a.scale, a.seed)
    bench = work / "serve"
    (bench / "policy").mkdir(parents=True, exist_ok=True)
    policy = bench / "policy" / "access.yaml"  # a copy: its keys and audit trail stay in the workdir
    if not policy.exists():
        policy.write_text((ROOT / "parameters" / "access.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    reports = bench / "reports"
    doc = {"name": "bench-serve", "input_dir": str(exports.resolve()), "warehouse_dir": str((bench / "warehouse").resolve()),
           "sources_dir": str((ROOT / "parameters" / "sources").resolve()), "reports_dir": str(reports.resolve()),
           "language": a.language, "period": {"start": START, "end": END}, "as_of": END, "engine": "duckdb",
           "duckdb": {"memory_limit": a.memory_limit, "threads": 2, "temp_directory": str((bench / "duckdb_tmp").resolve())},
           "cleaning": {"company_founded": "2005-01-01"}, "access_policy": str(policy.resolve()), "pdf": False,
           "serve": bench_serve_section(bench)}
    run_file = bench / "bench.yaml"
    run_file.write_text("# written by benchmarks/serve.py\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    if (reports / "latest" / "manifest.json").exists():
        print(f"reusing the run {(reports / 'latest').resolve()}", flush=True)
        return run_file, reports
    print(f"saleslab run ({run_file}) ...", flush=True)
    t0 = time.perf_counter()
    r = cli("run", "--params", str(run_file), "--run-id", f"serve-{time.strftime('%Y%m%d-%H%M%S')}",
            "--allow-shrink", log=bench / "run.log")
    if r.returncode:
        raise SystemExit(f"saleslab run failed (exit {r.returncode}); see {bench / 'run.log'}:\n{r.stdout[-2000:]}")
    figures["run_s"] = round(time.perf_counter() - t0, 1)
    print(f"  {figures['run_s']:.0f}s", flush=True)
    return run_file, reports


def given_run(work: Path, params: Path, reports: Path) -> tuple[Path, Path]:
    """``params`` with its relative paths made absolute and its ``serve:`` section the benchmark's own."""
    import yaml

    from saleslab.config import load_params

    settings = load_params(params, check_input=False)
    raw = yaml.safe_load(params.read_text(encoding="utf-8")) or {}
    absolute(raw, settings)
    bench = work / "serve-given"
    bench.mkdir(parents=True, exist_ok=True)
    raw["serve"] = bench_serve_section(bench)
    raw["reports_dir"] = str(reports)  # the pages read <reports>/latest as /pack/ does
    run_file = bench / "bench.yaml"
    run_file.write_text(f"# written by benchmarks/serve.py from {params}\n"
                        + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if not (reports / "latest").exists():
        raise SystemExit(f"--reports {reports}: no latest run in it (run `saleslab run --params {params}` first)")
    return run_file, reports


def absolute(raw: dict, model, root=None) -> None:
    """Replace in ``raw`` (the YAML of ``model``) every path field's value by the resolved path (against the
    run file's project folder, as the run reads it), so the file means the same from another folder."""
    from pydantic import BaseModel

    root = root or model
    for name, field in type(model).model_fields.items():  # defaults too (sources_dir ...): relative to the project
        if field.exclude:  # internal (project_dir)
            continue
        value = getattr(model, name, None)
        if isinstance(value, Path):
            raw[name] = str(root.path(value))
        elif isinstance(value, BaseModel) and isinstance(raw.get(name), dict):
            absolute(raw[name], value, root)


def bench_users(run_file: Path, n: int) -> list[str]:
    """``n`` users of the run's access policy, spread over the roles (management and viewers first, then
    supervisors and reps alternately)."""
    from saleslab import access
    from saleslab.config import load_params

    policy = access.load_policy(load_params(run_file, check_input=False).policy_path)
    by_role: dict[str, list[str]] = {}
    for u in access.users(policy):
        if u["user"] == policy.service_user:
            continue
        by_role.setdefault(policy.users[u["user"]].role, []).append(u["user"])
    order = [by_role.get(r, []) for r in ("management", "viewer", "supervisor", "rep")]
    order += [v for k, v in by_role.items() if k not in ("management", "viewer", "supervisor", "rep")]
    picked: list[str] = []
    while len(picked) < n and any(order):
        for group in order:
            if group and len(picked) < n:
                picked.append(group.pop(0))
    if len(picked) < n:
        raise SystemExit(f"the access policy has only {len(picked)} users who may read; {n} needed")
    return picked


# ---- the server and its memory ------------------------------------------------------------------

class TreeWatch:
    """Poll a process and its descendants every ``every`` s: peak of the summed RSS, and each kernel's peak."""

    def __init__(self, pid: int, every: float = 0.2):
        import psutil

        self.proc = psutil.Process(pid)
        self.every = every
        self.tree_peak = 0
        self.kernels: dict[int, int] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def reset(self):
        self.tree_peak = 0
        self.kernels = {}

    def _run(self):
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
            except psutil.Error:
                break
            total = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    total += rss
                    if p.pid != self.proc.pid and "ipykernel" in " ".join(p.cmdline()):
                        self.kernels[p.pid] = max(self.kernels.get(p.pid, 0), rss)
                except psutil.Error:
                    continue
            self.tree_peak = max(self.tree_peak, total)
            self._stop.wait(self.every)

    def live_kernels(self) -> int:
        import psutil

        try:
            return sum(1 for p in self.proc.children(recursive=True) if "ipykernel" in " ".join(p.cmdline()))
        except psutil.Error:
            return 0

    def rss_mb(self) -> float:
        import psutil

        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def stop(self):
        self._stop.set()
        self._t.join(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run_file: Path, reports: Path, log: Path) -> tuple[subprocess.Popen, str]:
    import urllib.error
    import urllib.request

    port = free_port()
    out = open(log, "w", encoding="utf-8")
    cmd = [PY, "-m", "saleslab.cli", "serve", "--params", str(run_file), "--host", "127.0.0.1", "--port", str(port),
           "--reports", str(reports)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 120:
        if proc.poll() is not None:
            raise SystemExit(f"saleslab serve exited with {proc.returncode}:\n{log.read_text(encoding='utf-8')[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/login", timeout=5) as r:
                if r.status == 200:
                    return proc, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"saleslab serve did not answer on {base}/login within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    import psutil

    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        kids = []
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    for k in kids:  # kernels the server did not shut down: only the ones it started
        try:
            if k.is_running():
                k.kill()
        except psutil.Error:
            pass


# ---- the browser side ---------------------------------------------------------------------------

async def new_user(browser, base: str, user: str, outside: list[str]):
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900})

    async def route(r):
        if r.request.url.startswith(base + "/") or r.request.url.startswith(("data:", "blob:")):
            await r.continue_()
        else:
            outside.append(r.request.url)
            await r.abort()

    await ctx.route("**/*", route)
    page = await ctx.new_page()
    await page.goto(base + "/login", wait_until="load")
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation(wait_until="load"):
        await page.locator("form").locator("button[type=submit], input[type=submit]").first.click()
    if "/login" in page.url:
        raise SystemExit(f"login of {user} failed")
    await page.close()
    return ctx


class RenderFailed(Exception):
    """A page that did not render in time: what it showed, and its console errors."""

    def __init__(self, page, what: str):
        super().__init__(what)
        self.page = page


async def render(ctx, base: str, which: str, errors: list[str], timeout_ms: int) -> tuple[float, object, float]:
    """(seconds until the page is drawn, the page, seconds until the server had sent its HTML)."""
    path, ready = READY[which]
    page = await ctx.new_page()
    console: list[str] = []
    page.on("pageerror", lambda e: (errors.append(str(e)), console.append(f"pageerror: {e}")))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    served: list[float] = []  # when the server finished the page's HTML (the kernel has run the page)
    page.on("requestfinished", lambda r: served.append(time.perf_counter() - t0) if "/voila/render/" in r.url else None)
    t0 = time.perf_counter()
    try:
        await page.goto(base + path, wait_until="commit", timeout=timeout_ms)
        for selector in ready:
            await page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
    except Exception as e:  # noqa: BLE001 — reported with what the page showed; the page is closed by the caller
        try:
            body = (await page.inner_text("body"))[:300].replace("\n", " | ")
        except Exception:  # noqa: BLE001
            body = "?"
        try:  # which of the page's parts exist (what the page got to)
            state = await page.evaluate(
                "sels => Object.assign(Object.fromEntries(sels.map(s => [s, document.querySelectorAll(s).length])),"
                " {plotly: typeof globalThis.Plotly, ready: document.readyState, html: document.body.innerHTML.length,"
                " tail: document.body.innerHTML.slice(-400)})",
                list(ready) + [".jupyter-widgets", "script[type='application/vnd.jupyter.widget-view+json']"])
        except Exception:  # noqa: BLE001
            state = "?"
        raise RenderFailed(page, f"{type(e).__name__} after {time.perf_counter() - t0:.0f}s; page: {body!r}; "
                                 f"found: {state}; console: {[c for c in console if 'Unsatisfied version' not in c][:4]}") from None
    return time.perf_counter() - t0, page, (served[0] if served else float("nan"))


async def static_pack(ctx, base: str) -> float:
    best = float("inf")
    page = await ctx.new_page()
    for _ in range(3):
        t0 = time.perf_counter()
        r = await page.goto(base + "/pack/index.html", wait_until="load")
        dt = time.perf_counter() - t0
        if r is None or r.status != 200 or "/login" in page.url:
            await page.close()
            return float("nan")
        best = min(best, dt)
    await page.close()
    return best


def pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


async def measure(base: str, users: list[str], levels: list[int], watch: TreeWatch, figures: dict,
                  timeout_ms: int = RENDER_TIMEOUT_MS) -> dict:
    from playwright.async_api import async_playwright

    from saleslab.report.pdf import CHROMIUM_ARGS, chromium_path

    outside: list[str] = []
    errors: list[str] = []
    results: dict = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        print(f"signing {len(users)} users in ...", flush=True)
        contexts = {}
        for u in users:  # not timed: the login is not the page
            contexts[u] = await new_user(browser, base, u, outside)
        pack_s = await static_pack(contexts[users[0]], base)
        figures["static_pack_s"] = round(pack_s, 3)
        print(f"baseline: static pack page /pack/index.html (as {users[0]}), best of 3: {pack_s:.3f}s", flush=True)
        print(f"{'users':>5} {'page':<12}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'HTML p50':>9}{'tree peak MB':>14}"
              f"{'kernels':>9}{'kernel MB med/max':>19}", flush=True)
        for n in levels:
            for which in READY:
                # the previous step's kernels are gone and the warm ones ready before the clock starts
                while watch.live_kernels() != WARM_KERNELS:
                    await asyncio.sleep(0.5)
                if WARM_KERNELS:
                    await asyncio.sleep(WARM_SETTLE_S)
                watch.reset()
                idle_mb = watch.rss_mb()
                t0 = time.perf_counter()
                done = await asyncio.gather(*(render(contexts[u], base, which, errors, timeout_ms)
                                              for u in users[:n]), return_exceptions=True)
                wall = time.perf_counter() - t0
                times = [d[0] for d in done if not isinstance(d, BaseException)]
                html = [d[2] for d in done if not isinstance(d, BaseException) and d[2] == d[2]]
                failed = [str(d)[:600] for d in done if isinstance(d, BaseException)]
                await asyncio.sleep(1.0)  # the kernels settle after the first render (one more sample)
                kern = sorted(watch.kernels.values())
                row = {"users": n, "page": which, "ok": len(times), "failed": len(failed),
                       "p50_s": round(pct(times, 50), 3), "p95_s": round(pct(times, 95), 3),
                       "max_s": round(max(times), 3) if times else None, "wall_s": round(wall, 2),
                       # the server's part: the page's HTML sent (kernel started or taken, page run)
                       "html_p50_s": round(pct(html, 50), 3), "html_p95_s": round(pct(html, 95), 3),
                       "tree_peak_mb": round(watch.tree_peak / 2**20), "idle_tree_mb": round(idle_mb),
                       "kernels": len(kern), "kernel_mb_median": round(pct(kern, 50) / 2**20) if kern else None,
                       "kernel_mb_max": round(kern[-1] / 2**20) if kern else None}
                if failed:
                    row["errors"] = failed[:3]
                results[f"{which}_{n}"] = row
                print(f"{n:>5} {which:<12}{row['p50_s']:>8.2f}{row['p95_s']:>8.2f}{row['max_s'] or float('nan'):>8.2f}"
                      f"{row['html_p50_s']:>9.2f}{row['tree_peak_mb']:>14,}{row['kernels']:>9}"
                      f"{str(row['kernel_mb_median']) + ' / ' + str(row['kernel_mb_max']):>19}"
                      + (f"   {len(failed)} failed: {failed[0]}" if failed else ""), flush=True)
                for d in done:
                    page = d.page if isinstance(d, RenderFailed) else None if isinstance(d, BaseException) else d[1]
                    if page is not None:
                        await page.close(run_before_unload=True)  # Voila shuts the page's kernel down
                t_wait = time.perf_counter()
                while watch.live_kernels() > WARM_KERNELS and time.perf_counter() - t_wait < 60:
                    await asyncio.sleep(0.5)
                if watch.live_kernels() > WARM_KERNELS:
                    left = watch.live_kernels() - WARM_KERNELS
                    row["kernels_left_after_close"] = left
                    print(f"      {left} kernels still running 60 s after their pages closed", flush=True)
                    # not measured any further: they would be the next step's memory; the culler takes them
                    while watch.live_kernels() > WARM_KERNELS:
                        await asyncio.sleep(2)
        for ctx in contexts.values():
            await ctx.close()
        await browser.close()
    figures["requests_outside"] = len(outside)
    figures["page_errors"] = errors[:5]
    return results


# ---- main ---------------------------------------------------------------------------------------

def main() -> None:
    global WARM_KERNELS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", default=str(ROOT / ".tmp"))
    ap.add_argument("--params", help="an existing run file whose run is done (with --reports)")
    ap.add_argument("--reports", help="the reports folder of that run (its latest is served)")
    ap.add_argument("--levels", default="1,5,20", help="concurrent users per step")
    ap.add_argument("--language", default="zh-CN", choices=["zh-CN", "en"])
    ap.add_argument("--timeout", type=float, default=RENDER_TIMEOUT_MS / 1000, help="seconds a page may take to render")
    ap.add_argument("--warm-kernels", type=int, default=WARM_KERNELS,
                    help="serve.warm_kernels of the benchmark's server (kernels started ahead; 0 = off)")
    ap.add_argument("--memory-limit", default="2GB", help="duckdb.memory_limit of the benchmark's own run")
    a = ap.parse_args()
    WARM_KERNELS = max(0, a.warm_kernels)
    sys.path.insert(0, str(ROOT / "lib"))
    levels = sorted({int(x) for x in a.levels.split(",") if x.strip()})
    figures: dict = {"benchmark": "serve", "scale": a.scale, "levels": levels, "warm_kernels": WARM_KERNELS,
                     "load_before": os.getloadavg()[0],
                     "cores": os.cpu_count()}
    work = Path(a.workdir).resolve() / a.scale
    work.mkdir(parents=True, exist_ok=True)
    if a.params:
        if not a.reports:
            raise SystemExit("--params needs --reports DIR (the folder whose latest run is served)")
        run_file, reports = given_run(work, Path(a.params).resolve(), Path(a.reports).resolve())
        figures["reused_run"] = str((Path(a.reports) / "latest").resolve())
    else:
        run_file, reports = own_run(work, a, figures)
    users = bench_users(run_file, max(levels))
    bench = run_file.parent
    if (bench / "auth").exists():
        shutil.rmtree(bench / "auth")
    for u in users:
        r = cli("users", "set-password", "--params", str(run_file), u, "--password-stdin", stdin=PASSWORD + "\n")
        if r.returncode:
            raise SystemExit(f"set-password {u} failed: {r.stdout}{r.stderr}")
    figures["users"] = users
    proc, base = start_server(run_file, reports, bench / "serve.log")
    watch = TreeWatch(proc.pid)
    try:
        figures["server_idle_mb"] = round(watch.rss_mb())
        results = asyncio.run(measure(base, users, levels, watch, figures, int(a.timeout * 1000)))
    finally:
        watch.stop()
        stop_server(proc)
    first = results.get(f"dashboard_{levels[0]}", {}).get("p50_s")
    figures["first_render_s"] = first
    figures["first_render_360_s"] = results.get(f"customer360_{levels[0]}", {}).get("p50_s")
    figures["target_s"] = TARGET_S[a.scale]
    figures["meets_target"] = bool(first is not None and first <= TARGET_S[a.scale])
    for row in results.values():
        base_1 = results.get(f"{row['page']}_{levels[0]}", {}).get("p50_s")
        row["p50_vs_1_user"] = round(row["p50_s"] / base_1, 2) if base_1 else None
        pack = figures.get("static_pack_s")
        row["p50_vs_static_pack"] = round(row["p50_s"] / pack, 1) if pack and pack == pack else None
    figures["results"] = results
    figures["load_after"] = os.getloadavg()[0]
    print(f"first full render (dashboard, 1 user): {first}s (target {TARGET_S[a.scale]}s at {a.scale}: "
          f"{'met' if figures['meets_target'] else 'NOT met'})", flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
