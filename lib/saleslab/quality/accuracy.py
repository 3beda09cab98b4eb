"""Score a cleaned warehouse against an answer key (the demo generator's ``truth/`` folder).

- duplicate orders: pairs {copy, original} of order ids. Predicted pairs are (merged order, the
  order it merged into) from ``_merged``; truth pairs from ``truth/duplicate_orders.csv``. A pair
  counts whichever of the two copies was kept (which one is kept is a priority choice);
- customers: pairwise — every pair of source ids in one canonical customer (``customer_map``)
  against every pair in one entity (``truth/customer_entities.csv``), over the ids in both;
- outliers: share of the planted lines (``truth/outliers.csv``, by file and line) flagged in
  ``_outliers``, plus the number flagged in all;
- coverage: share of order lines with known customer, product, region and channel (the lowest of
  the four), from the ingest's accounting.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd

from ..engine import Engine, connect


def _pairs(groups) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups:
        out.update(itertools.combinations(sorted(members), 2))
    return out


def _pr(pred: set, truth: set) -> tuple[float, float]:
    tp = len(pred & truth)
    return (tp / len(pred) if pred else 1.0), (tp / len(truth) if truth else 1.0)


def score(source: Engine | str | Path, truth_dir: Path) -> dict:
    """The cleaning scores (see the module docstring) as a dict of floats and counts.

    ``source``: an open engine, or a warehouse folder (opened with the default DuckDB settings).
    """
    if not isinstance(source, Engine):
        with connect(source) as eng:
            return score(eng, truth_dir)
    eng, truth = source, Path(truth_dir)

    def _read(_, name):
        return eng.execute(eng.table(name))

    wh = None
    merged = _read(wh, "_merged")
    mo = merged[merged.table == "orders"]
    pred_dup = {tuple(sorted(p)) for p in zip(mo.key, mo.merged_into_key)}
    t = pd.read_csv(truth / "duplicate_orders.csv", dtype=str)
    truth_dup = {tuple(sorted(p)) for p in zip(t.order_id, t.duplicate_of_order_id)}
    dup_p, dup_r = _pr(pred_dup, truth_dup)

    cmap = _read(wh, "customer_map")
    ents = pd.read_csv(truth / "customer_entities.csv", dtype=str)
    ents = ents[ents.customer_id.isin(set(cmap.customer_id))]
    cmap = cmap[cmap.customer_id.isin(set(ents.customer_id))]
    pred_c = _pairs(g.tolist() for _, g in cmap.groupby("canonical_id").customer_id)
    truth_c = _pairs(g.tolist() for _, g in ents.groupby("entity_id").customer_id)
    cust_p, cust_r = _pr(pred_c, truth_c)

    out = _read(wh, "_outliers")
    planted = pd.read_csv(truth / "outliers.csv", dtype={"file": str, "line": "int64"})
    flagged = set(zip(out._file, out._line.astype("int64")))
    hit = sum((f, ln) in flagged for f, ln in zip(planted.file, planted.line))
    outlier_recall = hit / len(planted) if len(planted) else 1.0

    cov = eng.accounting().get("cleaning", {}).get("coverage", {})
    return {
        "dup_precision": round(dup_p, 4), "dup_recall": round(dup_r, 4),
        "customer_precision": round(cust_p, 4), "customer_recall": round(cust_r, 4),
        "outlier_recall": round(outlier_recall, 4),
        "coverage": round(min(cov.values()), 4) if cov else 0.0,
        "coverage_by_field": cov,
        "dup_pairs": {"predicted": len(pred_dup), "truth": len(truth_dup), "both": len(pred_dup & truth_dup)},
        "customer_pairs": {"predicted": len(pred_c), "truth": len(truth_c), "both": len(pred_c & truth_c)},
        "outliers": {"planted": int(len(planted)), "found": int(hit), "flagged": int(len(out))},
    }
