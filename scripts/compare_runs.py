#!/usr/bin/env python3
"""Compare every stage table of two report runs: which tables changed, and how.

    python scripts/compare_runs.py reports/<run-a> reports/<run-b> [--tolerance 0.005] [--json]

For each ``data/<stage>/<table>.parquet`` in either run it prints one line: ``same``, ``only in A``
/ ``only in B``, or ``changed`` with the row counts, the columns added or removed, the number of
rows that differ (rows matched on their position after sorting on every shared column that is not
a float) and, for money-like float columns, the change of their sum. Exit code 0 when nothing
changed, 1 otherwise (so it can gate a refactoring that must not move a number).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def tables(run: Path) -> dict[str, Path]:
    return {f"{p.parent.name}/{p.stem}": p for p in sorted((run / "data").glob("*/*.parquet"))}


def _key_columns(a: pd.DataFrame, cols: list[str]) -> list[str]:
    return [c for c in cols if not pd.api.types.is_float_dtype(a[c])]


def _normalise(df: pd.DataFrame, cols: list[str], keys: list[str]) -> pd.DataFrame:
    df = df[cols].copy()
    for c in cols:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(str)
    if keys:
        df = df.sort_values(keys, kind="mergesort", na_position="first").reset_index(drop=True)
    return df


def compare_table(pa_: Path, pb: Path, tol: float, keyring=None) -> dict:
    from saleslab.crypto import read_table

    # stage tables of an encrypted warehouse's runs are encrypted: read with the key (--key-file / environment)
    a, b = read_table(pa_, keyring).to_pandas(), read_table(pb, keyring).to_pandas()
    shared = [c for c in a.columns if c in b.columns]
    out = {"rows_a": len(a), "rows_b": len(b),
           "columns_removed": [c for c in a.columns if c not in b.columns],
           "columns_added": [c for c in b.columns if c not in a.columns]}
    keys = [c for c in _key_columns(a, shared) if a[c].map(lambda v: isinstance(v, (str, int, float, bool, np.integer,
                                                                              np.floating, type(None))) or hasattr(v, "isoformat")).all()]
    na, nb = _normalise(a, shared, keys), _normalise(b, shared, keys)
    diff_rows, changed_cols, sums = 0, [], {}
    if len(na) == len(nb):
        mask = np.zeros(len(na), dtype=bool)
        for c in shared:
            x, y = na[c], nb[c]
            if pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
                d = ~(np.isclose(x.to_numpy(float), y.to_numpy(float), rtol=0, atol=tol, equal_nan=True))
            else:
                d = ~((x.astype(str) == y.astype(str)).to_numpy())
            if d.any():
                changed_cols.append(c)
                mask |= d
        diff_rows = int(mask.sum())
    for c in shared:
        if pd.api.types.is_float_dtype(a[c]) and pd.api.types.is_float_dtype(b[c]):
            sa, sb = float(a[c].sum()), float(b[c].sum())
            if abs(sa - sb) > tol:
                sums[c] = round(sb - sa, 4)
    same = (len(a) == len(b) and not out["columns_removed"] and not out["columns_added"] and diff_rows == 0)
    out.update(status="same" if same else "changed", rows_differing=diff_rows, columns_differing=changed_cols,
               sum_changes=sums)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_a", type=Path)
    ap.add_argument("run_b", type=Path)
    ap.add_argument("--tolerance", type=float, default=0.005, help="absolute tolerance on floats (default 0.005)")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    ap.add_argument("--key-file", help="key of encrypted stage tables (default: $SALESLAB_KEY_FILE / $SALESLAB_KEY)")
    args = ap.parse_args(argv)
    from saleslab.crypto import keyring_from

    keyring = keyring_from(args.key_file)
    ta, tb = tables(args.run_a), tables(args.run_b)
    if not ta and not tb:
        print(f"no stage tables under {args.run_a}/data or {args.run_b}/data", file=sys.stderr)
        return 2
    result = {}
    for name in sorted(set(ta) | set(tb)):
        if name not in tb:
            result[name] = {"status": "only in A"}
        elif name not in ta:
            result[name] = {"status": "only in B"}
        else:
            result[name] = compare_table(ta[name], tb[name], args.tolerance, keyring)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        for name, r in result.items():
            line = f"{name:45s} {r['status']}"
            if r["status"] == "changed":
                line += f"  rows {r['rows_a']} -> {r['rows_b']}"
                if r["rows_differing"]:
                    line += f", {r['rows_differing']} rows differ in {', '.join(r['columns_differing'][:6])}"
                if r["columns_added"]:
                    line += f", +columns {', '.join(r['columns_added'])}"
                if r["columns_removed"]:
                    line += f", -columns {', '.join(r['columns_removed'])}"
                if r["sum_changes"]:
                    line += ", sums " + ", ".join(f"{k} {v:+,.2f}" for k, v in list(r["sum_changes"].items())[:4])
            print(line)
        n = sum(r["status"] != "same" for r in result.values())
        print(f"{len(result)} tables, {n} changed or missing")
    return 0 if all(r["status"] == "same" for r in result.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
