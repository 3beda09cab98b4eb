"""Benchmark: the KPI cube on an encrypted warehouse vs the same warehouse in plaintext, in one run.

    python benchmarks/encryption.py --scale small|medium|large [--seed 42] [--workdir DIR] [--repeat 3]

The demo (``saleslab.demo.generate``) is generated once into ``<workdir>/<scale>/demo`` and ingested
twice: ``plain/warehouse`` without a key, ``encrypted/warehouse`` with a fresh key
(``<workdir>/<scale>/bench.key``; Parquet modular encryption, AES_GCM_V1, 256-bit data keys,
footer and all columns encrypted, see ``saleslab.crypto``). Existing warehouses are reused.

The work is ``benchmarks/kpi_cube.py``'s Ibis contender (``saleslab.performance.kpis.kpi_cube``:
month x region x channel with YoY, PoP and region target; month x product) on DuckDB with the same
settings; on the encrypted warehouse every table is decrypted through a ``pyarrow.dataset``
registered in DuckDB (the engine's path). The two results are checked to agree (money to the cent).
Each side's time is the best of ``--repeat`` runs, the sides alternating, each on a fresh engine
(so the decryption of the footers is counted every time). Also timed: the two ingests. The goal is
encrypted / plain <= 1.3. Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from kpi_cube import check_same, run_ibis  # noqa: E402

from saleslab import crypto  # noqa: E402
from saleslab.engine import connect  # noqa: E402

GOAL = 1.3


def ensure(work: Path, scale: str, seed: int) -> tuple[Path, Path, crypto.KeyRing, dict]:
    from saleslab.demo import generate
    from saleslab.ingest.load import ingest

    base = work / scale
    demo = base / "demo"
    if not (demo / "exports").is_dir():
        t0 = time.perf_counter()
        print(f"generating the {scale} demo into {demo} ...", flush=True)
        generate(demo, scale=scale, seed=seed)
        print(f"  {time.perf_counter() - t0:.0f}s", flush=True)
    key = base / "bench.key"
    if not key.exists():
        crypto.new_key_file(key)
    ring = crypto.KeyRing.from_file(key)
    times = {}
    out = {}
    for label, keyring in (("plain", None), ("encrypted", ring)):
        wh = base / label / "warehouse"
        out[label] = wh
        if wh.is_dir() and (wh / "_ingest").is_dir():
            print(f"reusing {label} warehouse {wh}", flush=True)
            continue
        t0 = time.perf_counter()
        print(f"ingesting {label} into {wh} ...", flush=True)
        ingest(demo / "exports", ROOT / "parameters" / "sources", wh, keyring=keyring)
        times[label] = round(time.perf_counter() - t0, 2)
        print(f"  {times[label]:.1f}s", flush=True)
    return out["plain"], out["encrypted"], ring, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "medium", "large"], default="medium")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", default=str(ROOT / ".tmp" / "bench_encryption"))
    ap.add_argument("--repeat", type=int, default=3, help="runs per side; the best time counts")
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    work = Path(a.workdir).resolve()
    plain, enc, ring, ingest_s = ensure(work, a.scale, a.seed)
    tmp = work / "duckdb_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = {"memory_limit": a.memory_limit, "threads": a.threads, "temp_directory": str(tmp)}

    files = list((enc / "order_lines").glob("*.parquet"))
    lines = sum(crypto.num_rows(f, ring) for f in files)
    print(f"{lines:,} order lines; cubes month x region x channel (YoY, PoP, region target) and month x product",
          flush=True)

    best = {"plain": float("inf"), "encrypted": float("inf")}
    results = {}
    for _ in range(a.repeat):
        for label, wh, keyring in (("plain", plain, None), ("encrypted", enc, ring)):
            t0 = time.perf_counter()
            with connect(wh, "duckdb", cfg, keyring=keyring) as eng:
                results[label] = run_ibis(eng)
            best[label] = min(best[label], time.perf_counter() - t0)
    check_same(results["plain"], results["encrypted"], "encrypted")
    ratio = best["encrypted"] / best["plain"]
    rc = results["encrypted"]["region_channel"]
    print(f"plain      {best['plain']:7.2f}s", flush=True)
    print(f"encrypted  {best['encrypted']:7.2f}s   ratio {ratio:.2f}x (goal <= {GOAL}x: "
          f"{'met' if ratio <= GOAL else 'NOT met'})", flush=True)
    print(f"results agree: {len(rc):,} region x channel rows, revenue {rc['revenue'].sum():,.2f}", flush=True)
    print(json.dumps({
        "benchmark": "encryption", "scale": a.scale, "order_lines": int(lines), "repeat": a.repeat,
        "threads": a.threads, "plain_s": round(best["plain"], 3), "encrypted_s": round(best["encrypted"], 3),
        "ratio": round(ratio, 2), "goal": GOAL, "goal_met": ratio <= GOAL, "results_agree": True,
        "ingest_plain_s": ingest_s.get("plain"), "ingest_encrypted_s": ingest_s.get("encrypted"),
    }))


if __name__ == "__main__":
    main()
