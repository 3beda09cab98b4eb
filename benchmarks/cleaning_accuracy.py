"""Benchmark: cleaning accuracy against the demo generator's answer key.

    python benchmarks/cleaning_accuracy.py --scale small|medium [--seed 42] [--workdir .tmp/bench_clean]

Generates the demo, ingests and cleans it, and scores the warehouse against ``truth/``
(:func:`saleslab.demo.score.score`): duplicate-order precision and recall (pairs), customer
resolution precision and recall (pairwise), outlier recall, and coverage (the lowest share of order
lines with a known customer, product, region and channel). Targets (issue 3): precision >= 0.99,
recall >= 0.98, coverage >= 0.98. Ends with one JSON line with the keys ``dup_precision``,
``dup_recall``, ``customer_precision``, ``customer_recall``, ``outlier_recall``, ``coverage``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("dup_precision", "dup_recall", "customer_precision", "customer_recall", "outlier_recall", "coverage")
TARGETS = {"dup_precision": 0.99, "dup_recall": 0.98, "customer_precision": 0.99, "customer_recall": 0.98,
           "outlier_recall": 0.98, "coverage": 0.98}


def main() -> int:
    from saleslab.demo import generate
    from saleslab.demo.score import score
    from saleslab.ingest.load import ingest

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", default=str(ROOT / ".tmp" / "bench_clean"))
    a = ap.parse_args()
    work = Path(a.workdir) / f"{a.scale}-{a.seed}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    generate(work / "demo", scale=a.scale, seed=a.seed)
    t1 = time.perf_counter()
    rep = ingest(work / "demo" / "exports", ROOT / "parameters" / "sources", work / "warehouse")
    t2 = time.perf_counter()
    s = score(work / "warehouse", work / "demo" / "truth")
    print(f"generated in {t1 - t0:.1f}s, ingested and cleaned in {t2 - t1:.1f}s "
          f"({rep.totals()['rows_read']:,} rows)")
    for k in KEYS:
        mark = "ok" if s[k] >= TARGETS[k] else "BELOW TARGET"
        print(f"  {k:<20} {s[k]:.4f}   target >= {TARGETS[k]}   {mark}")
    print(f"  duplicate pairs {s['dup_pairs']}, customer pairs {s['customer_pairs']}, outliers {s['outliers']}")
    shutil.rmtree(work)
    print(json.dumps({"benchmark": "cleaning_accuracy", "scale": a.scale, "seed": a.seed,
                      **{k: s[k] for k in KEYS}, "ingest_s": round(t2 - t1, 1),
                      "coverage_by_field": s["coverage_by_field"], "outliers_flagged": s["outliers"]["flagged"]}))
    return 0 if all(s[k] >= TARGETS[k] for k in KEYS) else 1


if __name__ == "__main__":
    sys.exit(main())
