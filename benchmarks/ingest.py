"""Benchmark: time and peak memory of `saleslab demo-data` and `saleslab ingest` (reading, checking
and the whole-warehouse cleaning), and of an incremental refresh after one new monthly file.

    python benchmarks/ingest.py --scale medium [--seed 42] [--workdir .tmp/bench] [--exports DIR]

Steps: generate the demo (skipped with ``--exports``, which reuses exports made before); ingest all
files but the newest monthly POS export; put that file back and ingest again (incremental: only
the new file is read, then the warehouse is cleaned again) — ``refresh_s``; then a full rebuild of
the same files (``--full``) — ``ingest_s``; ``refresh_vs_full`` is their ratio. Targets (issue 3,
large scale): ingest_s <= 180 and peak <= 4 GB on 2 cores.

Each step runs in its own process so its peak RSS is measured alone. The baseline, measured
in the same run, is plain pandas reading every export as text (no normalising, no checks),
so `ingest_vs_raw_read` says what ingestion costs on top of reading the files.
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RAW_READ = r"""
import sys, glob, os, pandas as pd
n = 0
for p in sorted(glob.glob(os.path.join(sys.argv[1], "**", "*"), recursive=True)):
    if p.endswith(".csv"):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                n += len(pd.read_csv(p, dtype=str, encoding=enc, on_bad_lines="skip", engine="c", header=None))
                break
            except UnicodeDecodeError:
                continue
    elif p.endswith(".xlsx"):
        n += len(pd.read_excel(p, dtype=str, header=None))
print(n)
"""


PEAK = r"""
import os, resource, runpy, sys, threading, time

def tree_rss_kb():
    # resident memory of this process and all its descendants (worker processes included), kB
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total

peak = [0]
def watch():
    while True:
        peak[0] = max(peak[0], tree_rss_kb())
        time.sleep(0.2)

threading.Thread(target=watch, daemon=True).start()
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__") if sys.argv[0].endswith(".py") \
        else runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
finally:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("PEAK_KB", max(peak[0], own), file=sys.stderr)
"""


def timed(target: str, *args: str) -> tuple[float, float, str]:
    """Run a module or script in a fresh process; return (seconds, the peak resident memory of it and
    its worker processes together in MB (sampled every 0.2 s), stdout)."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK, target, *args], capture_output=True, text=True, cwd=ROOT)
    secs = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"{target} {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    peak_kb = int(next(ln.split()[1] for ln in out.stderr.splitlines() if ln.startswith("PEAK_KB")))
    return secs, peak_kb / 1024, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "medium", "large"], default="medium")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", default=str(ROOT / ".tmp" / "bench"))
    ap.add_argument("--keep", action="store_true", help="keep the generated exports and warehouse")
    ap.add_argument("--exports", help="reuse this folder of exports instead of generating the demo (never modified)")
    a = ap.parse_args()
    work = Path(a.workdir) / a.scale
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    raw_script = work / "raw_read.py"
    raw_script.write_text(RAW_READ)
    figures: dict = {"benchmark": "ingest", "scale": a.scale, "seed": a.seed}

    if a.exports:
        # a private copy made of hard links: moving one file aside never touches the original folder
        shutil.copytree(a.exports, work / "demo" / "exports", copy_function=os.link)
    else:
        print(f"demo-data --scale {a.scale} ...", flush=True)
        secs, peak, _ = timed("saleslab.cli", "demo-data", "--out", str(work / "demo"), "--scale", a.scale,
                              "--seed", str(a.seed))
        figures.update(demo_data_s=round(secs, 1), demo_data_peak_mb=round(peak))
        print(f"  {secs:.1f}s, peak {peak:.0f} MB", flush=True)

    print("baseline: pandas reads every export as text ...", flush=True)
    secs_raw, peak_raw, rows = timed(str(raw_script), str(work / "demo" / "exports"))
    figures.update(raw_read_s=round(secs_raw, 1), raw_read_rows=int(rows.strip() or 0))
    figures["raw_read_peak_mb"] = round(peak_raw)
    print(f"  {secs_raw:.1f}s for {int(rows.strip() or 0):,} rows", flush=True)

    exports = work / "demo" / "exports"
    newest = sorted((exports / "pos").glob("pos_*.csv"))[-1]
    aside = work / newest.name
    newest.rename(aside)
    ingest_args = ["ingest", "--input", str(exports), "--sources", str(ROOT / "parameters" / "sources"),
                   "--warehouse", str(work / "warehouse")]
    print(f"ingest without {newest.name} (to have something to refresh) ...", flush=True)
    secs0, _, _ = timed("saleslab.cli", *ingest_args)
    print(f"  {secs0:.1f}s", flush=True)
    aside.rename(newest)
    print(f"incremental refresh: {newest.name} arrives ...", flush=True)
    secs_ref, peak_ref, out = timed("saleslab.cli", *ingest_args)
    print("  " + out.strip().splitlines()[-1])
    acc = json.loads((work / "warehouse" / "_ingest" / "accounting.json").read_text(encoding="utf-8"))
    figures.update(refresh_s=round(secs_ref, 1), refresh_peak_mb=round(peak_ref),
                   refresh_files_read=sum(not f.get("reused") for f in acc["files"]))

    print("full rebuild (ingest --full) ...", flush=True)
    secs, peak, out = timed("saleslab.cli", *ingest_args, "--full")
    acc = json.loads((work / "warehouse" / "_ingest" / "accounting.json").read_text(encoding="utf-8"))
    rows_read = sum(f["rows_read"] for f in acc["files"])
    lines = sum(f["loaded_by_table"].get("order_lines", 0) for f in acc["files"])
    figures.update(ingest_s=round(secs, 1), ingest_peak_mb=round(peak), rows_read=rows_read,
                   order_lines_loaded=lines, ingest_rows_per_s=round(rows_read / secs),
                   ingest_vs_raw_read=round(secs / secs_raw, 2) if secs_raw else None,
                   clean_s=acc.get("cleaning", {}).get("seconds_clean"),
                   refresh_vs_full=round(secs_ref / secs, 3))
    print(out.strip().splitlines()[-1])
    print(f"  {secs:.1f}s ({rows_read / secs:,.0f} rows/s, cleaning {figures['clean_s']}s), peak {peak:.0f} MB, "
          f"{secs / secs_raw:.1f}x the raw pandas read; refresh {secs_ref:.1f}s = {secs_ref / secs:.2f}x full",
          flush=True)
    if not a.keep:
        shutil.rmtree(work)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
