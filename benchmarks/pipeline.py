"""Benchmark: the whole monthly pack — ingest and every stage notebook — at a demo scale.

    python benchmarks/pipeline.py --scale small|medium|large [--seed 42] [--workdir .tmp]
                                  [--stages 01_overview,06_customers] [--reuse-warehouse]
                                  [--memory-limit 4GB] [--encrypted] [--replicate N]

Uses the demo exports ``<workdir>/<scale>/demo/exports`` when they exist, else generates them
(``saleslab demo-data``, in its own process). The pack is ``saleslab run`` on a run file written to
``<workdir>/<scale>/bench.yaml`` (warehouse ``<workdir>/<scale>/warehouse``, reports
``<workdir>/<scale>/reports``, DuckDB spill folder ``<workdir>/<scale>/duckdb_tmp``), period
2023-01-01 .. 2025-12-31 as of 2025-12-31 like the demo run file. ``--encrypted`` runs it like
``parameters/demo.yaml``: the warehouse and stage tables encrypted with a key made in the workdir
(the CSV / Excel copies are then not written; a reused plaintext warehouse stays plaintext, only
the stage tables are encrypted). ``--reuse-warehouse`` skips the ingest when the warehouse exists
(its time is then not measured).

``--replicate N`` (the 100 M-line path, issue 16 item 4): the large warehouse is copied N times
into ``<workdir>/x<N>/warehouse`` — every replica's order, line, return, invoice, payment and
customer ids get a suffix ``~<k>`` so they are distinct customers and orders with the same
history — and the stages run on that copy (no CSV ingest: reading 100 M lines of CSV is hours).

Measured for the run (``saleslab run`` in a child process): wall seconds per step from the run's
``manifest.json``; the **process-tree peak** (RSS of the run process and every descendant, the
papermill kernels included, summed, polled every 0.2 s with psutil), the largest single process,
and the largest size of the DuckDB spill folder. Baselines in the same run, each in its own process
so that its peak is its own: ``scan``: one full pass over the order lines through the engine (Σ
net_amount joined to the orders: the data floor of any stage); ``stage_floor``: a notebook that
only opens the stage (kernel start, imports, ``open_stage``, ``close``) through papermill — the
fixed cost a stage would pay with a fresh kernel (the run starts each stage's kernel and imports
while the stage before runs, ``saleslab.pipeline.KernelAhead``, so most of it is paid beside it).
Ends with ONE JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
START, END = "2023-01-01", "2025-12-31"


# ---- measuring a child process tree -------------------------------------------------------------

class TreeWatch:
    """Poll a process and its descendants: peak of the summed RSS, largest process, spill size."""

    def __init__(self, pid: int, spill: Path | None = None, every: float = 0.2):
        import psutil

        self.proc = psutil.Process(pid)
        self.spill, self.every = spill, every
        self.tree_peak = self.largest = self.spill_peak = 0
        self.largest_cmd = ""
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        import psutil

        n = 0
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
            except psutil.Error:
                break
            total = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                if rss > self.largest:
                    self.largest = rss
                    try:
                        self.largest_cmd = " ".join(p.cmdline()[:3])[:120]
                    except psutil.Error:
                        pass
            self.tree_peak = max(self.tree_peak, total)
            n += 1
            if self.spill is not None and n % 10 == 0:  # du every 2 s
                self.spill_peak = max(self.spill_peak, dir_bytes(self.spill))
            self._stop.wait(self.every)

    def stop(self):
        self._stop.set()
        self._t.join(timeout=5)
        if self.spill is not None:
            self.spill_peak = max(self.spill_peak, dir_bytes(self.spill))


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def run_measured(cmd: list[str], spill: Path | None = None, log: Path | None = None, env=None) -> dict:
    """Run ``cmd``; return seconds, tree_peak_mb, largest_mb, spill_peak_mb, returncode, stdout tail."""
    t0 = time.perf_counter()
    out = open(log, "w", encoding="utf-8") if log else subprocess.PIPE
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    w = TreeWatch(p.pid, spill)
    stdout, _ = p.communicate()
    w.stop()
    if log:
        out.close()
        stdout = log.read_text(encoding="utf-8", errors="replace")
    return {"seconds": time.perf_counter() - t0, "tree_peak_mb": w.tree_peak / 2**20, "largest_mb": w.largest / 2**20,
            "largest_cmd": w.largest_cmd, "spill_peak_mb": w.spill_peak / 2**20, "returncode": p.returncode,
            "stdout": stdout or ""}


def _env():
    env = dict(os.environ)
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(v, "1")
    env["PYTHONPATH"] = str(ROOT / "lib") + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ---- the demo and the run file ------------------------------------------------------------------

def ensure_exports(work: Path, scale: str, seed: int, figures: dict) -> Path:
    exports = work / "demo" / "exports"
    if exports.is_dir() and any(exports.iterdir()):
        print(f"reusing demo exports {exports}", flush=True)
        return exports
    print(f"generating the {scale} demo into {work / 'demo'} (own process) ...", flush=True)
    r = run_measured([PY, "-m", "saleslab.cli", "demo-data", "--out", str(work / "demo"), "--scale", scale,
                      "--seed", str(seed)], env=_env())
    if r["returncode"]:
        raise SystemExit(f"demo-data failed:\n{r['stdout'][-3000:]}")
    figures.update(demo_data_s=round(r["seconds"], 1), demo_data_peak_mb=round(r["tree_peak_mb"]))
    print(f"  {r['seconds']:.0f}s, peak {r['tree_peak_mb']:,.0f} MB", flush=True)
    return exports


def write_run_file(work: Path, exports: Path, warehouse: Path, a) -> Path:
    spill = work / "duckdb_tmp"
    lines = [
        "# written by benchmarks/pipeline.py",
        "name: bench",
        f"input_dir: {exports.resolve()}",
        f"warehouse_dir: {warehouse.resolve()}",
        f"sources_dir: {(ROOT / 'parameters' / 'sources').resolve()}",
        f"reports_dir: {(work / 'reports').resolve()}",
        f"language: {a.language}",
        "period:", f"  start: {START}", f"  end: {END}",
        f"as_of: {END}",
        "engine: duckdb",
        "duckdb:", f"  memory_limit: {a.memory_limit}", f"  threads: {a.threads}",
        f"  temp_directory: {spill.resolve()}", f"  max_temp_directory_size: {a.max_spill}",
        "cleaning:", "  company_founded: 2005-01-01",
    ]
    if a.encrypted:
        key = work / "bench.key"
        if not key.exists():
            subprocess.run([PY, "-c", "import sys; from saleslab import crypto; crypto.new_key_file(sys.argv[1])",
                            str(key)], check=True, cwd=ROOT, env=_env())
        lines += ["encryption:", f"  key_file: {key.resolve()}",
                  f"access_policy: {(ROOT / 'parameters' / 'access.yaml').resolve()}"]
    path = work / "bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---- replicas (the 100 M path) ------------------------------------------------------------------

#: id columns that make a replica's rows distinct (customers, orders and what points at them)
REPLICA_IDS = ("customer_id", "order_id", "line_id", "return_id", "invoice_id", "payment_id", "contact_id",
               "followup_id", "lead_id", "owner_customer_id")
#: tables copied once (masters shared by every replica); every other table is replicated
SHARED = {"products", "reps", "distributors", "targets", "campaigns", "channel_costs", "inventory", "web_traffic",
          "_ingest", "_parts"}


def replicate(src: Path, dst: Path, n: int) -> None:
    """``dst``: ``src`` (a plaintext warehouse) with every per-customer table repeated ``n`` times,
    ids suffixed ``~k`` in replica k > 0 (Parquet in, Parquet out, one DuckDB COPY per table and
    replica, so memory stays flat)."""
    import duckdb  # a benchmark, not the library: it may name the driver

    if (dst / "_ingest").is_dir():
        print(f"reusing replicated warehouse {dst}", flush=True)
        return
    tmp = dst.with_name(dst.name + ".part")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    con = duckdb.connect(config={"memory_limit": "2GB", "threads": 2, "temp_directory": str(dst.parent / "rep_tmp")})
    for t in sorted(p for p in src.iterdir() if p.is_dir()):
        if t.name in SHARED or t.name.startswith("_") and t.name not in ("_quarantine",):
            shutil.copytree(t, tmp / t.name)
            continue
        (tmp / t.name).mkdir()
        files = sorted(t.glob("*.parquet"))
        data = [f for f in files if f.name != "0-schema.parquet"]
        for f in files:
            if f.name == "0-schema.parquet":
                shutil.copy2(f, tmp / t.name / f.name)
        if not data:
            continue
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{t}/*.parquet')").fetchall()]
        for k in range(n):
            sel = ", ".join(f'CASE WHEN "{c}" IS NULL THEN NULL ELSE "{c}" || \'~{k}\' END AS "{c}"'
                            if k and c in REPLICA_IDS else f'"{c}"' for c in cols)
            con.execute(f"COPY (SELECT {sel} FROM read_parquet({[str(f) for f in data]})) "
                        f"TO '{tmp / t.name}/r{k:03d}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000000)")
        print(f"  {t.name}: {n} replicas", flush=True)
    con.close()
    tmp.rename(dst)


# ---- baselines ----------------------------------------------------------------------------------

SCAN = r"""
import sys, time
from saleslab import facts
from saleslab.engine import connect
cfg = {"memory_limit": sys.argv[2], "threads": int(sys.argv[3]), "temp_directory": sys.argv[4]}
with connect(sys.argv[1], "duckdb", cfg, keyring=sys.argv[5] or None) as eng:
    t0 = time.perf_counter()
    r = eng.execute(facts.revenue_by_expr(eng, "1900-01-01", "2100-12-31", []))
    print("SCAN_S", time.perf_counter() - t0, "LINES", int(eng.rows("order_lines")), "REVENUE", float(r["revenue"][0]))
"""

FLOOR_NB = {
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [],
         "source": "run_dir = ''\nwarehouse = ''\nengine = 'duckdb'\nduckdb_memory_limit = '4GB'\n"
                   "duckdb_temp_directory = ''\nencryption_key_file = ''\naccess_policy = ''\nuser = ''\n"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "import matplotlib.pyplot as plt\nfrom IPython.display import Markdown, display\n"
                   "from saleslab import facts\nfrom saleslab.stage import open_stage\n"
                   "st = open_stage('00_floor', globals())\nst.engine.rows('orders')\nst.close()\n"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def stage_floor(work: Path, warehouse: Path, a, key: str) -> dict:
    nb = work / "floor.ipynb"
    nb.write_text(json.dumps(FLOOR_NB), encoding="utf-8")
    out_dir = work / "floor_run"
    out_dir.mkdir(exist_ok=True)
    params = {"run_dir": str(out_dir), "warehouse": str(warehouse), "duckdb_memory_limit": a.memory_limit,
              "duckdb_temp_directory": str(work / "duckdb_tmp"), "encryption_key_file": key}
    code = ("import json, sys, papermill as pm; pm.execute_notebook(sys.argv[1], sys.argv[2], "
            "parameters=json.loads(sys.argv[3]), kernel_name='python3', progress_bar=False, cwd=sys.argv[4])")
    return run_measured([PY, "-c", code, str(nb), str(out_dir / "floor.ipynb"), json.dumps(params), str(out_dir)],
                        env=_env())


# ---- main ---------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "medium", "large"], default="medium")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", default=str(ROOT / ".tmp"))
    ap.add_argument("--stages", default="", help="comma-separated stages (default: all)")
    ap.add_argument("--reuse-warehouse", action="store_true", help="skip the ingest when the warehouse exists")
    ap.add_argument("--memory-limit", default="4GB", help="duckdb.memory_limit of the run")
    ap.add_argument("--max-spill", default="50GB", help="duckdb.max_temp_directory_size of the run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--language", default="zh-CN", choices=["zh-CN", "en"])
    ap.add_argument("--encrypted", action="store_true", help="encrypted warehouse and stage tables, access policy "
                                                             "(like parameters/demo.yaml)")
    ap.add_argument("--replicate", type=int, default=0, help="run on the large warehouse copied N times "
                                                             "(N=10: 100 M lines); implies --scale large")
    ap.add_argument("--keep-reports", action="store_true", help="keep the run folder (default: only manifest.json)")
    a = ap.parse_args()
    if a.replicate:
        a.scale = "large"  # the replicas are copies of the large warehouse
    figures: dict = {"benchmark": "pipeline", "scale": a.scale, "seed": a.seed, "memory_limit": a.memory_limit,
                     "threads": a.threads, "encrypted": a.encrypted, "load_before": os.getloadavg()[0]}
    base = Path(a.workdir).resolve()
    work = base / a.scale
    work.mkdir(parents=True, exist_ok=True)
    exports = ensure_exports(work, a.scale, a.seed, figures)
    warehouse = work / "warehouse"
    ingest = not (a.reuse_warehouse and (warehouse.is_dir() or warehouse.is_symlink()))
    if a.replicate:
        if not warehouse.exists():
            raise SystemExit(f"--replicate needs the ingested {a.scale} warehouse {warehouse} first "
                             f"(run this benchmark once without --replicate)")
        src = warehouse.resolve()
        work = base / f"x{a.replicate}"
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        print(f"replicating {src} x{a.replicate} ...", flush=True)
        replicate(src, work / "warehouse", a.replicate)
        figures.update(replicate=a.replicate, replicate_s=round(time.perf_counter() - t0, 1))
        warehouse, ingest = work / "warehouse", False
    run_file = write_run_file(work, exports, warehouse, a)
    spill = work / "duckdb_tmp"
    spill.mkdir(exist_ok=True)
    key = str((work / "bench.key").resolve()) if a.encrypted else ""

    cmd = [PY, "-m", "saleslab.cli", "run", "--params", str(run_file), "--run-id",
           f"bench-{time.strftime('%Y%m%d-%H%M%S')}", "--allow-shrink"]
    if not ingest:
        cmd.append("--no-ingest")
    if a.stages:
        cmd += ["--stages", a.stages]
    print(f"saleslab run {'with' if ingest else 'without'} ingest ({run_file}) ...", flush=True)
    r = run_measured(cmd, spill, work / "run.log", env=_env())
    runs = sorted((work / "reports").glob("bench-*/manifest.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise SystemExit(f"the run wrote no manifest:\n{r['stdout'][-3000:]}")
    manifest = json.loads(runs[-1].read_text(encoding="utf-8"))
    steps = {s["stage"]: s.get("seconds") for s in manifest["stages"]}
    print(f"{'step':<22}{'seconds':>9}", flush=True)
    for name, s in steps.items():
        print(f"{name:<22}{s if s is not None else float('nan'):9.1f}", flush=True)
    stages_s = sum(v or 0 for k, v in steps.items() if k != "ingest")
    figures.update(status=manifest["status"], run_s=round(r["seconds"], 1), stages_s=round(stages_s, 1),
                   ingest_s=steps.get("ingest"), steps=steps, tree_peak_mb=round(r["tree_peak_mb"]),
                   largest_process_mb=round(r["largest_mb"]), largest_process=r["largest_cmd"],
                   spill_peak_mb=round(r["spill_peak_mb"]), load_after_run=os.getloadavg()[0])
    print(f"run {r['seconds']:.1f}s ({manifest['status']}): stages {stages_s:.1f}s, ingest "
          f"{steps.get('ingest', '–')}s; process-tree peak {r['tree_peak_mb']:,.0f} MB, largest process "
          f"{r['largest_mb']:,.0f} MB ({r['largest_cmd']}), spill peak {r['spill_peak_mb']:,.0f} MB", flush=True)
    if manifest["status"] != "ok":
        print(r["stdout"][-3000:], flush=True)
    wh = warehouse.resolve()  # the current version the stages read

    print("baseline: one pass over the order lines through the engine (own process) ...", flush=True)
    s = run_measured([PY, "-c", SCAN, str(wh), a.memory_limit, str(a.threads), str(spill), key], spill, env=_env())
    words = next((ln.split() for ln in s["stdout"].splitlines() if ln.startswith("SCAN_S")), None)
    if words:
        figures.update(scan_s=round(float(words[1]), 2), order_lines=int(words[3]), scan_peak_mb=round(s["tree_peak_mb"]))
        print(f"  {float(words[1]):.2f}s over {int(words[3]):,} lines, peak {s['tree_peak_mb']:,.0f} MB", flush=True)
    else:
        print(f"  failed: {s['stdout'][-1500:]}", flush=True)
    print("baseline: a stage that only opens (papermill kernel, imports, open_stage; own process) ...", flush=True)
    f = stage_floor(work, wh, a, key)
    if f["returncode"] == 0:
        n = sum(1 for k in steps if k != "ingest")
        figures.update(stage_floor_s=round(f["seconds"], 1), stage_floor_peak_mb=round(f["tree_peak_mb"]),
                       fixed_cost_share=round(n * f["seconds"] / stages_s, 3) if stages_s else None)
        print(f"  {f['seconds']:.1f}s, peak {f['tree_peak_mb']:,.0f} MB: x {n} stages = {n * f['seconds']:.0f}s "
              f"(with fresh kernels) against the run's {stages_s:.0f}s", flush=True)
    else:
        print(f"  failed: {f['stdout'][-1500:]}", flush=True)
    figures["load_after"] = os.getloadavg()[0]
    if not a.keep_reports:
        shutil.rmtree(runs[-1].parent / "data", ignore_errors=True)
        for p in runs[-1].parent.glob("*.ipynb"):
            p.unlink()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
