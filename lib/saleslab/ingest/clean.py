"""The whole-warehouse cleaning layer: runs after every file is loaded into ``_parts/``.

Steps, in order (every one is counted in the per-file accounting):

1. **Customer entity resolution** (:mod:`saleslab.ingest.entities`): ``customer_map`` (every source
   id -> canonical id, with the rule) and ``customer_review`` (look-alikes not merged).
2. **Impossible values** in orders and lines are quarantined with a reason: a negative unit price,
   a quantity of zero (``impossible_value``), an order date after ``latest_date`` or before
   ``company_founded`` (``impossible_date``; its lines follow as ``order_quarantined``); an order
   none of whose lines is left is quarantined too (``no_valid_lines``); a line whose order header
   is not there is quarantined (``order_quarantined`` when its header was quarantined while
   reading, ``order_missing`` when no system exported it), so that nothing counted as loaded is
   invisible to the analyses. Negative
   quantities are kept: they are returns booked as negative lines and net the revenue.
3. **Cross-system duplicate orders**: the same order exported by two systems is recognised by its
   key (``external_ref`` names the other system's order id: rule ``external_ref``) or else by the
   same canonical customer, the same lines (count, quantities and products) and an amount and date
   within tolerances (rule ``customer_date_lines``; customers that are look-alikes in the review
   list count as the same customer here). The copy from the source with the best
   ``priority`` (lowest number; then the smaller order id) is kept; the others, header and lines,
   are recorded in ``_merged`` with the order, file and line they merged into; a return booked
   against a merged copy is relinked to the kept order; a return whose order is not in the
   warehouse is quarantined (``return_order_unknown``): no stage could attribute it.
4. **Fills** with explicit markers, each recorded in ``_fills``: a company's missing industry ->
   ``fill_industry`` (其他); an order's missing region -> the region of its customer when the
   customer's records agree on one, else the owning rep's region.
5. **Outliers** (flagged in ``_outliers``, never deleted): a line whose quantity is far above its
   product's normal range in its channel (``outlier_method`` ``mad``: robust
   z = (q - median) / max(1.4826 MAD, median / 2, 1); ``iqr``: (q - Q3) / max(IQR, 1)), or whose size
   relative to the product's median is far above the customer's usual (same robust z over the
   customer's lines; needs ``outlier_min_history`` lines), above ``outlier_threshold`` — or both
   moderately unusual (customer z above half and product z above a sixth of the threshold).

Final tables are written to ``<table>/`` (orders: ``customer_id`` becomes the canonical id, the
exported id is kept in ``source_customer_id``); the others are the per-file parts, linked.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Literal

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from .. import crypto, schema
from .entities import MAP_COLUMNS, REVIEW_COLUMNS, resolve_customers

CLEANED = ("orders", "order_lines", "customers", "returns")

MAP_SCHEMA = pa.schema([(c, pa.string()) for c in MAP_COLUMNS])
REVIEW_SCHEMA = pa.schema([(c, pa.string()) for c in REVIEW_COLUMNS])
FILLS_SCHEMA = pa.schema([
    ("table", pa.string()), ("key", pa.string()), ("column", pa.string()), ("value", pa.string()),
    ("rule", pa.string()), ("_source", pa.string()), ("_file", pa.string()), ("_line", pa.int64()),
])
OUTLIER_SCHEMA = pa.schema([
    ("order_id", pa.string()), ("line_no", pa.int64()), ("customer_id", pa.string()),
    ("product_id", pa.string()), ("channel", pa.string()), ("order_date", pa.date32()),
    ("quantity", pa.float64()), ("net_amount", pa.float64()), ("product_typical", pa.float64()),
    ("customer_typical", pa.float64()), ("score", pa.float64()), ("rule", pa.string()),
    ("_source", pa.string()), ("_file", pa.string()), ("_line", pa.int64()),
])
#: Derived tables of the cleaning layer: name -> schema (read with ``Engine.table(name)``).
DERIVED = {"customer_map": MAP_SCHEMA, "customer_review": REVIEW_SCHEMA, "_fills": FILLS_SCHEMA,
           "_outliers": OUTLIER_SCHEMA}


class CleaningRules(BaseModel):
    """Parameters of the cleaning layer (``cleaning:`` in a run parameter file)."""

    model_config = ConfigDict(extra="forbid")

    duplicate_date_days: int = Field(1, ge=0, le=31)  # copies of one order may differ by this many days
    duplicate_amount_tolerance: float = Field(0.005, ge=0, le=0.5)  # relative difference of order amounts
    duplicate_amount_abs: float = Field(1.0, ge=0)  # ... or this many 元, whichever is larger
    outlier_method: Literal["mad", "iqr"] = "mad"
    outlier_threshold: float = Field(12.0, gt=0)
    outlier_min_history: int = Field(5, ge=2)
    company_founded: dt.date | None = None  # orders before this date are impossible
    latest_date: dt.date | None = None  # orders after this date are impossible (default: today)
    fill_industry: str = "其他"


def _con(build: Path, memory_limit: str | None = None, threads: int = 2, engine: str = "duckdb",
         spark: dict | None = None, keyring=None):
    """The cleaning layer's backend: DuckDB with ``duckdb.memory_limit`` of the run parameters (2GB
    when the caller gives none; the SALESLAB_CLEAN_MEMORY variable, for the library API, overrides
    that default), spilling inside the build folder (removed with it); or Spark (``engine``
    ``pyspark`` / ``spark-connect``, ``spark``: ``spark_master``, ``spark_driver_memory``,
    ``spark_remote``): the same expressions, through the engine."""
    from ..engine import scratch_backend

    (build / "_tmp").mkdir(parents=True, exist_ok=True)
    limit = memory_limit or os.environ.get("SALESLAB_CLEAN_MEMORY", "2GB")
    return scratch_backend(build / "_tmp", memory_limit=limit, threads=threads, engine=engine, keyring=keyring,
                           **{k: v for k, v in (spark or {}).items() if v is not None})


def _read(con, build: Path, name: str, keyring=None):
    from ..engine import scratch_cache

    return scratch_cache(con, _read_files(con, build / "_parts" / name / "*.parquet", f"p_{name.strip('_')}", keyring))


def _read_files(con, pattern: Path, table_name: str, keyring=None):
    """Parquet files (a path or glob) as a table of the cleaning connection, decrypted with
    ``keyring`` when they are encrypted (through the engine's helper: DuckDB cannot decrypt them)."""
    from ..engine import read_parquet_files

    return read_parquet_files(con, pattern, table_name, keyring)


def _to_parquet(con, expr, path: Path, keyring=None) -> None:
    """Write an expression of the cleaning connection to one Parquet file (encrypted with ``keyring``),
    through the engine's writer (:func:`saleslab.engine.write_parquet`)."""
    from ..engine import write_parquet

    write_parquet(con, expr, path, keyring)


class _Timer:
    """Seconds per cleaning step, for the progress line and the accounting."""

    def __init__(self):
        self.t = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.t, 2)
        self.t = now


def _int(v) -> int:
    """An aggregate as int (a sum over no rows is null)."""
    return int(v) if v is not None and pd.notna(v) else 0


def _tbl(con, name: str, df):
    """A small pandas table (or an expression) materialised in the cleaning connection."""
    from ..engine import scratch_table

    if isinstance(df, pd.DataFrame):
        df = ibis.memtable(df.astype({c: "string" for c in df.columns if df[c].dtype == object}))
    return scratch_table(con, name, df)


def _link_parts(build: Path, name: str) -> None:
    for p in (build / "_parts" / name).glob("*.parquet"):
        if p.name == "0-schema.parquet":
            continue
        dst = build / name / p.name
        try:
            os.link(p, dst)
        except OSError:
            shutil.copy2(p, dst)


def _write(df: pd.DataFrame, sch: pa.Schema, path: Path, keyring=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = {}
    for f in sch:
        v = df[f.name] if f.name in df else pd.Series([None] * len(df))
        if pa.types.is_integer(f.type):
            cols[f.name] = pa.array(pd.array(v, dtype="Int64"), type=f.type, from_pandas=True)
        elif pa.types.is_floating(f.type):
            cols[f.name] = pa.array(pd.to_numeric(v).astype("float64"), type=f.type, from_pandas=True)
        elif pa.types.is_date(f.type):
            cols[f.name] = pa.array(pd.to_datetime(v).dt.date, type=f.type, from_pandas=True)
        else:
            cols[f.name] = pa.array(v.astype(object).where(v.notna(), None).tolist(), type=f.type)
    crypto.write_table(pa.table(cols, schema=sch), path, keyring)


# --------------------------------------------------------------------------------------------
def clean_warehouse(build: Path, accounts: list, rules: CleaningRules, priority: dict[str, int],
                    systems: dict[str, str], progress: Callable[[str], None] | None = None,
                    name_sources: frozenset[str] = frozenset(), duckdb_config: dict | None = None,
                    keyring=None, engine: str = "duckdb", spark: dict | None = None) -> dict:
    """Run the cleaning steps over ``build`` (a warehouse being built); update ``accounts`` in place.
    ``name_sources``: sources whose customers may be merged on their name alone.

    Returns a summary: counts per step and the coverage of order lines. With ``keyring`` every file
    written (and the temporary ones) is encrypted. ``engine`` (``duckdb``, ``pyspark``,
    ``spark-connect``; ``spark``: the Spark settings) runs the same steps on another backend.
    """
    from ..engine import close_scratch

    say = progress or (lambda m: None)
    build = Path(build)
    for name in schema.TABLES:
        if name not in CLEANED:
            _link_parts(build, name)
    _link_parts(build, "_quarantine")
    _link_parts(build, "_merged")
    cfg = duckdb_config or {}
    con = _con(build, cfg.get("memory_limit"), int(cfg.get("threads", 2)), engine, spark, keyring)
    try:
        summary = _clean(con, build, accounts, rules, priority, systems, say, name_sources, keyring)
    finally:
        close_scratch(con)
        shutil.rmtree(build / "_tmp", ignore_errors=True)
    return summary


def _clean(con, build, accounts, rules, priority, systems, say, name_sources=frozenset(), keyring=None) -> dict:
    summary: dict = {}
    by_file = {a.file: a for a in accounts}

    timer = _Timer()
    # 1. customers and entity resolution ----------------------------------------------------
    cust = _read(con, build, "customers", keyring).to_pandas()
    cust = cust.sort_values(["customer_id", "_source", "_file", "_line"]).reset_index(drop=True)
    cmap, review = resolve_customers(cust, priority, name_sources)
    _write(cmap, MAP_SCHEMA, build / "customer_map" / "customer_map.parquet", keyring)
    _write(review, REVIEW_SCHEMA, build / "customer_review" / "customer_review.parquet", keyring)
    summary.update(customers=int(len(cmap)), canonical_customers=int(cmap.canonical_id.nunique()),
                   review_pairs=int(len(review)), customer_rules=cmap.rule.value_counts().to_dict())
    say(f"  entity resolution: {len(cmap):,} customer records -> {cmap.canonical_id.nunique():,} customers "
        f"({len(review):,} pairs for review)")

    fills = []
    miss_ind = cust.industry.isna() & (cust.customer_type == "company")
    if miss_ind.any():
        f = cust[miss_ind]
        fills.append(pd.DataFrame({"table": "customers", "key": f.customer_id, "column": "industry",
                                   "value": rules.fill_industry, "rule": "missing industry -> marker",
                                   "_source": f._source, "_file": f._file, "_line": f._line}))
        cust.loc[miss_ind, "industry"] = rules.fill_industry
    _write(cust, schema.TABLES["customers"].arrow_schema(), build / "customers" / "customers.parquet", keyring)

    timer.lap("entity_resolution")
    # 2. impossible values ------------------------------------------------------------------
    o = _read(con, build, "orders", keyring)
    ln = _read(con, build, "order_lines", keyring)
    latest = rules.latest_date or dt.date.today()
    bad_o = o.filter(o.order_date > latest)
    bad_o = bad_o.mutate(reason=ibis.literal("impossible_date"), column=ibis.literal("order_date"),
                         expected=ibis.literal(f"a date on or before {latest}"))
    if rules.company_founded:
        early = o.filter(o.order_date < rules.company_founded).mutate(
            reason=ibis.literal("impossible_date"), column=ibis.literal("order_date"),
            expected=ibis.literal(f"a date on or after {rules.company_founded} (company founded)"))
        bad_o = bad_o.union(early)
    bad_o = bad_o.to_pandas()
    bad_ids = set(bad_o.order_id)
    bad_l = ln.filter((ln.unit_price < 0) | (ln.quantity == 0)).to_pandas()
    if len(bad_l):
        neg = bad_l.unit_price < 0
        bad_l["reason"] = "impossible_value"
        bad_l["column"] = np.where(neg, "unit_price", "quantity")
        bad_l["expected"] = np.where(neg, "a unit price of 0 or more", "a quantity other than 0")
        # an order none of whose lines is left goes too (header without lines)
        hit = set(bad_l.order_id) - bad_ids
        n_bad = bad_l[bad_l.order_id.isin(hit)].groupby("order_id").size()
        hit_lines = ln.filter(ln.order_id.isin(sorted(hit)))
        n_all = hit_lines.group_by("order_id").aggregate(n=hit_lines.count()).to_pandas()
        empty = sorted(set(n_all.order_id[n_all.n.to_numpy() <= n_bad.reindex(n_all.order_id).fillna(0).to_numpy()]))
        if empty:
            extra = o.filter(o.order_id.isin(empty)).to_pandas().assign(
                reason="no_valid_lines", column="order_id", expected="at least one order line that is not quarantined")
            bad_o = pd.concat([bad_o, extra], ignore_index=True)
            bad_ids |= set(empty)
    orphans = _orphan_lines(con, build, o, ln, keyring)
    if len(orphans):
        bad_l = pd.concat([bad_l, orphans], ignore_index=True) if len(bad_l) else orphans
    if bad_ids:
        follow = ln.filter(ln.order_id.isin(list(bad_ids))).to_pandas()
        follow = follow[~follow.set_index(["_file", "_line"]).index.isin(
            bad_l.set_index(["_file", "_line"]).index)] if len(bad_l) else follow
        follow = follow.assign(reason="order_quarantined", column="order_id",
                               expected="an order that is not quarantined")
        bad_l = pd.concat([bad_l, follow], ignore_index=True)
    quarantined = _quarantine_rows(bad_o, bad_l)
    summary["impossible"] = {"orders": int(len(bad_o)), "lines": int(len(bad_l) - len(orphans))}
    summary["lines_without_order"] = {r: int(n) for r, n in orphans.reason.value_counts().items()} if len(orphans) else {}

    timer.lap("impossible_values")
    # 3. cross-system duplicate orders ------------------------------------------------------
    ok_o = o.filter(~o.order_id.isin(list(bad_ids))) if bad_ids else o
    cm = _tbl(con, "cmap", _match_keys(cmap, review))
    jc = ok_o.left_join(cm, ok_o.customer_id == cm.customer_id)
    ok_o = jc.select(*[jc[c] for c in ok_o.columns], canonical=ibis.coalesce(jc.canonical_id, jc.customer_id),
                     match_key=ibis.coalesce(jc.match_key, jc.customer_id))
    merged_o, merged_l = _duplicate_orders(con, ok_o, ln, bad_l, rules, priority, systems)
    summary["duplicate_orders"] = int(len(merged_o))
    summary["duplicate_rules"] = merged_o.rule.value_counts().to_dict() if len(merged_o) else {}
    say(f"  duplicate orders: {len(merged_o):,} copies merged across systems; "
        f"{len(bad_o):,} orders and {len(bad_l):,} lines quarantined as impossible")

    timer.lap("duplicate_orders")
    # 4. final orders with canonical customers and region fills -----------------------------
    drop_ids = sorted(bad_ids | set(merged_o.order_id))
    drop_t = _tbl(con, "drop_ids", pd.DataFrame({"order_id": pd.Series(drop_ids, dtype=object)}))
    keep_o = ok_o.filter(~ok_o.order_id.isin(drop_t.order_id))
    reps = _read(con, build, "reps", keyring).select("rep_id", rep_region="region").distinct(
        on="rep_id", keep="first")
    regions = (cust.merge(cmap[["customer_id", "canonical_id"]], on="customer_id")
               .dropna(subset=["region"]).groupby("canonical_id")["region"].agg(lambda s: sorted(set(s))))
    creg = pd.DataFrame({"canonical_id": pd.Series(regions.index, dtype="string"),
                         "cust_region": pd.Series([r[0] if len(r) == 1 else None for r in regions], dtype="string")})
    creg_t = _tbl(con, "creg", creg)
    j = keep_o.left_join(creg_t, keep_o.canonical == creg_t.canonical_id).left_join(
        reps, keep_o.rep_id == reps.rep_id)
    region_fill = ibis.coalesce(j.cust_region, j.rep_region)
    filled = j.region.isnull() & region_fill.notnull()
    cols = {c: j[c] for c in schema.TABLES["orders"].column_names if c not in ("customer_id", "region",
                                                                               "source_customer_id")}
    final_o = j.select(**cols, customer_id=j.canonical, source_customer_id=j.customer_id,
                       region=ibis.coalesce(j.region, region_fill), _source=j._source, _file=j._file,
                       _line=j._line, _filled=filled,
                       _fill_rule=ibis.ifelse(j.cust_region.notnull(), "region from customer",
                                              "region from owning rep"))
    final_o = final_o.select(*[c.name for c in schema.TABLES["orders"].columns], "_source", "_file", "_line",
                             "_filled", "_fill_rule")
    tmp_o = build / "_tmp" / "orders.parquet"
    _to_parquet(con, final_o, tmp_o, keyring)
    fo = _read_files(con, tmp_o, "final_orders", keyring)
    rf = fo.filter(fo._filled).select(key=fo.order_id, value=fo.region, rule=fo._fill_rule,
                                      _source=fo._source, _file=fo._file, _line=fo._line).to_pandas()
    if len(rf):
        fills.append(rf.assign(table="orders", column="region"))
    # sorted by input row: the same inputs give byte-identical tables (and sums in the same order)
    _to_parquet(con, fo.drop("_filled", "_fill_rule").order_by(["_file", "_line", "order_id"]),
                build / "orders" / "orders.parquet", keyring)
    fo = _read_files(con, build / "orders" / "orders.parquet", "final_orders2", keyring)

    keep_l = ln.filter(~ln.order_id.isin(drop_t.order_id))
    if len(bad_l):
        bl = _tbl(con, "bad_lines", bad_l[["_file", "_line"]].drop_duplicates())
        keep_l = keep_l.anti_join(bl, ["_file", "_line"])
    _to_parquet(con, keep_l.order_by(["_file", "_line", "order_id", "line_no"]),
                build / "order_lines" / "order_lines.parquet", keyring)
    fl = _read_files(con, build / "order_lines" / "order_lines.parquet", "final_lines", keyring)

    timer.lap("final_orders_and_lines")
    # returns follow their order: a return booked against a merged copy points at the kept order
    r = _read(con, build, "returns", keyring)
    relink = _tbl(con, "relink", merged_o[["order_id", "into_id"]].rename(columns={"order_id": "copy_id"}))
    rj = r.left_join(relink, r.order_id == relink.copy_id)
    r2 = rj.select(*[rj[c] if c != "order_id" else ibis.coalesce(rj.into_id, rj.order_id).name("order_id")
                     for c in r.columns])
    # a return whose order is not in the warehouse is quarantined: no stage can attribute it, so
    # none may deduct it (one stage deducting and another dropping it gave two revenue totals)
    r2 = _tbl(con, "returns_relinked", r2)
    known = _tbl(con, "known_orders", fo.select(o_id=fo.order_id))
    unknown_r = r2.anti_join(known, r2.order_id == known.o_id)
    bad_r = unknown_r.to_pandas().assign(reason="return_order_unknown", column="order_id",
                                         expected="a return of an order that is in the warehouse")
    if len(bad_r):
        quarantined = pd.concat([quarantined, _quarantine_table(bad_r, "returns")], ignore_index=True)
    r2 = r2.semi_join(known, r2.order_id == known.o_id)
    _to_parquet(con, r2.order_by(["_file", "_line", "return_id"]), build / "returns" / "returns.parquet", keyring)
    r2 = _read_files(con, build / "returns" / "returns.parquet", "final_returns", keyring)
    relinked = rj.into_id.notnull().sum().to_pandas()
    summary["returns"] = {"rows": _int(r2.count().to_pandas()), "relinked_to_kept_order": _int(relinked),
                          "quarantined_without_order": int(len(bad_r))}

    fills_df = pd.concat(fills, ignore_index=True).sort_values(["table", "_file", "_line", "key"], ignore_index=True) \
        if fills else pd.DataFrame(columns=FILLS_SCHEMA.names)
    _write(fills_df, FILLS_SCHEMA, build / "_fills" / "fills.parquet", keyring)
    summary["values_filled"] = fills_df.groupby(["table", "column"]).size().rename("n").reset_index() \
        .to_dict(orient="records") if len(fills_df) else []

    timer.lap("returns_and_fills")
    # 5. outliers ---------------------------------------------------------------------------
    out = _outliers(fl, fo, rules).to_pandas().sort_values(["_file", "_line", "order_id", "line_no"],
                                                           ignore_index=True)
    _write(out, OUTLIER_SCHEMA, build / "_outliers" / "outliers.parquet", keyring)
    summary["outliers"] = int(len(out))
    say(f"  fills: {len(fills_df):,} values; outliers flagged: {len(out):,} lines")

    timer.lap("outliers")
    # coverage of the final order lines
    # a customer is known when its id is in the customer master; a product when in the product master
    cov = fl.left_join(fo.select("order_id", "customer_id", "region", "channel"), "order_id")
    known_products = _read(con, build, "products", keyring).select("product_id").distinct()
    cov = cov.left_join(known_products.mutate(_known=True), cov.product_id == known_products.product_id)
    known_c = cm.select(kc=cm.canonical_id).distinct()
    cov = cov.left_join(known_c, cov.customer_id == known_c.kc)
    c = cov.aggregate(lines=cov.count(), customer=cov.kc.notnull().sum(),
                      region=cov.region.notnull().sum(), channel=cov.channel.notnull().sum(),
                      product=cov._known.notnull().sum()).to_pandas().iloc[0]
    c = {k: (int(v) if pd.notna(v) else 0) for k, v in c.items()}
    n = max(c["lines"], 1)
    summary["coverage"] = {k: round(c[k] / n, 5) for k in ("customer", "product", "region", "channel")}
    summary["order_lines"] = int(c["lines"])

    timer.lap("coverage")
    # accounting ----------------------------------------------------------------------------
    merged_rows = _merged_rows(merged_o, merged_l).sort_values(["file", "line"], ignore_index=True)
    quarantined = quarantined.sort_values(["file", "line"], ignore_index=True)
    from .load import MERGED_SCHEMA, QUARANTINE_SCHEMA
    _write(merged_rows, MERGED_SCHEMA, build / "_merged" / "clean.parquet", keyring)
    _write(quarantined, QUARANTINE_SCHEMA, build / "_quarantine" / "clean.parquet", keyring)
    _account(by_file, quarantined, merged_rows, fills_df, out)
    timer.lap("accounting")
    summary["step_seconds"] = timer.laps
    say("  cleaning steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timer.laps.items()))
    return summary


def _match_keys(cmap: pd.DataFrame, review: pd.DataFrame) -> pd.DataFrame:
    """customer_id -> canonical_id and the key orders are compared on: the canonical id, widened to
    the look-alikes in the review list (not merged as customers, but an identical order of two
    look-alike customers on the same day is one order)."""
    canon = dict(zip(cmap.customer_id, cmap.canonical_id))
    parent: dict[str, str] = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x
    for a, b in zip(review.customer_id, review.other_id):
        ra, rb = find(canon.get(a, a)), find(canon.get(b, b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out = cmap[["customer_id", "canonical_id"]].copy()
    out["match_key"] = pd.Series([find(c) for c in out.canonical_id], index=out.index, dtype=object)
    return out


_REASON_RANK = {"impossible_date": 0, "impossible_value": 1, "order_quarantined": 2, "order_missing": 2,
                "no_valid_lines": 3}


def _orphan_lines(con, build: Path, o, ln, keyring=None) -> pd.DataFrame:
    """Order lines whose order header is not among the loaded headers, with their reason:
    ``order_quarantined`` when a row quarantined while reading mentions the order id (its header
    could not be read), else ``order_missing`` (no system exported the header)."""
    heads = o.select(h_order_id=o.order_id)
    orphans = ln.anti_join(heads, ln.order_id == heads.h_order_id).to_pandas()
    if not len(orphans):
        return orphans.assign(reason=pd.Series(dtype=object), column=pd.Series(dtype=object),
                              expected=pd.Series(dtype=object))
    ids = [i for i in orphans.order_id.dropna().unique()]
    raw = pd.Series(dtype=object)
    if any((build / "_parts" / "_quarantine").glob("*.parquet")):
        q = _read(con, build, "_quarantine", keyring)
        raw = q.filter(q.raw.notnull()).raw.to_pandas()
    text = "\n".join(raw.astype(str))
    seen = {i for i in ids[:5000] if i in text}  # bounded: orphans are rare; beyond that, missing
    orphans["reason"] = ["order_quarantined" if i in seen else "order_missing" for i in orphans.order_id]
    orphans["column"] = "order_id"
    orphans["expected"] = ["an order whose header is not quarantined" if i in seen else
                           "an order id that has an order header" for i in orphans.order_id]
    return orphans


def _quarantine_table(df: pd.DataFrame, tbl: str) -> pd.DataFrame:
    cols = [c for c in schema.TABLES[tbl].column_names if c in df]
    raw = df[cols].astype(object).where(df[cols].notna(), None)
    return pd.DataFrame({
        "source": df._source, "file": df._file, "line": df._line, "reason": df.reason,
        "column": df.column, "expected": df.expected,
        "raw": [json.dumps(r, ensure_ascii=False, default=str) for r in raw.to_dict(orient="records")]})


def _quarantine_rows(bad_o: pd.DataFrame, bad_l: pd.DataFrame) -> pd.DataFrame:
    parts = [_quarantine_table(df, tbl) for df, tbl in ((bad_o, "orders"), (bad_l, "order_lines")) if len(df)]
    if not parts:
        return pd.DataFrame(columns=["source", "file", "line", "reason", "column", "expected", "raw"])
    q = pd.concat(parts, ignore_index=True)
    # one quarantine row per input row (an order's header and its line can share a row): the
    # row's own fault first, then the consequences for the rest of its order
    q["_rank"] = q.reason.map(_REASON_RANK).fillna(9)
    q = q.sort_values(["_rank"], kind="mergesort").drop_duplicates(["file", "line"])
    return q.drop(columns="_rank").reset_index(drop=True)


def _line_signature(ln):
    """Per order: line count, total quantity and a product fingerprint (order-free)."""
    h = (ln.product_id.hash() % 1_000_003).abs()
    return ln.group_by("order_id").aggregate(
        n_lines=ln.count(), qty=ln.quantity.sum().round(3), prod_sig=(h * (ln.quantity.round(0) + 1)).sum(),
        amount=ln.net_amount.sum().round(2))


def _duplicate_orders(con, ok_o, ln, bad_l, rules: CleaningRules, priority, systems):
    """(merged orders, merged lines) across systems; see the module docstring for the rules."""
    src = _tbl(con, "src_meta", pd.DataFrame({
        "_source": list(priority), "_prio": [priority[s] for s in priority],
        "_system": [systems.get(s) or s for s in priority]}))
    sig = _line_signature(ln)
    h = ok_o.left_join(sig, "order_id").left_join(src, "_source")
    h = h.select("order_id", "order_date", "match_key", "external_ref", "_source", "_file", "_line", "_prio",
                 "_system", n_lines=h.n_lines.fill_null(0), qty=h.qty.fill_null(0),
                 prod_sig=h.prod_sig.fill_null(0), amount=ibis.coalesce(h.amount, h.order_amount, 0))
    _tbl(con, "heads", h)
    a = con.table("heads")
    b = a.view()
    # (a) keys: an order naming another system's order id
    by_ref = a.join(b, a.external_ref == b.order_id).filter(lambda t: t._system != t._system_right)
    by_ref = by_ref.select(a_id=by_ref.order_id, b_id=by_ref.order_id_right, rule=ibis.literal("external_ref"))
    # (b) same customer, same lines, amount and date within tolerance, different systems
    j = a.join(b, [a.match_key == b.match_key, a.n_lines == b.n_lines, a.qty == b.qty,
                   a.prod_sig == b.prod_sig])
    tol = ibis.greatest(rules.duplicate_amount_abs, j.amount.abs() * rules.duplicate_amount_tolerance)
    j = j.filter((j.order_id < j.order_id_right) & (j._system != j._system_right) & (j.n_lines > 0)
                 & ((j.amount - j.amount_right).abs() <= tol)
                 & (j.order_date.delta(j.order_date_right, unit="day").abs() <= rules.duplicate_date_days))
    fuzzy = j.select(a_id=j.order_id, b_id=j.order_id_right, rule=ibis.literal("customer_date_lines"))
    pairs = by_ref.union(fuzzy).to_pandas().drop_duplicates(["a_id", "b_id"])
    heads = a.filter(a.order_id.isin(list(set(pairs.a_id) | set(pairs.b_id)))).to_pandas() if len(pairs) else \
        pd.DataFrame(columns=["order_id", "_prio", "_file", "_line"])
    empty_o = pd.DataFrame(columns=["order_id", "rule", "into_id", "into_file", "into_line", "_source", "_file",
                                    "_line"])
    if not len(pairs):
        return empty_o, ln.filter(ibis.literal(False)).to_pandas()
    # a key match wins over a fuzzy one for the same pair of orders
    pairs["key"] = [tuple(sorted(x)) for x in zip(pairs.a_id, pairs.b_id)]
    pairs = pairs.sort_values(["key", "rule"], ascending=[True, False]).drop_duplicates("key")
    heads = heads.drop_duplicates("order_id").set_index("order_id")
    ids = sorted(heads.index)
    pos = {k: i for i, k in enumerate(ids)}
    parent = list(range(len(ids)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rule_of = {}
    for x, y, r in zip(pairs.a_id, pairs.b_id, pairs.rule):
        if x in pos and y in pos:
            parent[find(pos[x])] = find(pos[y])
            rule_of.setdefault(x, r)
            rule_of.setdefault(y, r)
    groups: dict[int, list[str]] = {}
    for k in ids:
        groups.setdefault(find(pos[k]), []).append(k)
    rows = []
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = min(members, key=lambda k: (heads.at[k, "_prio"] if pd.notna(heads.at[k, "_prio"]) else 99, k))
        for k in members:
            if k != keep:
                rows.append((k, rule_of.get(k, "customer_date_lines"), keep, heads.at[keep, "_file"],
                             heads.at[keep, "_line"], heads.at[k, "_source"], heads.at[k, "_file"], heads.at[k, "_line"]))
    merged_o = pd.DataFrame(rows, columns=empty_o.columns)
    mo = _tbl(con, "merged_heads", merged_o[["order_id", "rule", "into_id"]])
    ml = ln.join(mo, "order_id")
    if len(bad_l):
        bl = _tbl(con, "bad_lines2", bad_l[["_file", "_line"]].drop_duplicates())
        ml = ml.anti_join(bl, ["_file", "_line"])
    return merged_o, ml.to_pandas()


def _merged_rows(merged_o: pd.DataFrame, merged_l: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``_merged`` for cross-system copies: one per input row (header and line rows)."""
    parts = []
    if len(merged_o):
        parts.append(pd.DataFrame({"source": merged_o._source, "file": merged_o._file, "line": merged_o._line,
                                   "table": "orders", "key": merged_o.order_id, "rule": merged_o.rule,
                                   "merged_into_file": merged_o.into_file, "merged_into_line": merged_o.into_line,
                                   "merged_into_key": merged_o.into_id}))
    if len(merged_l):
        info = merged_o.set_index("order_id")
        parts.append(pd.DataFrame({"source": merged_l._source, "file": merged_l._file, "line": merged_l._line,
                                   "table": "order_lines",
                                   "key": merged_l.order_id + "#" + merged_l.line_no.astype(str),
                                   "rule": merged_l.rule,
                                   "merged_into_file": info.into_file.reindex(merged_l.order_id).to_numpy(),
                                   "merged_into_line": info.into_line.reindex(merged_l.order_id).to_numpy(),
                                   "merged_into_key": merged_l.into_id}))
    if not parts:
        return pd.DataFrame(columns=["source", "file", "line", "table", "key", "rule", "merged_into_file",
                                     "merged_into_line", "merged_into_key"])
    m = pd.concat(parts, ignore_index=True)
    # a line-level export carries header and line in one input row: count the row once (as the header)
    return m.drop_duplicates(["file", "line"]).reset_index(drop=True)


def _outliers(fl, fo, rules: CleaningRules):
    """Lines far above their product's normal quantity (in the channel) or their customer's normal
    size (the line's quantity relative to its product's median, compared with the customer's own
    lines); both moderately unusual (above half and a sixth of the threshold) also counts."""
    lines = fl.join(fo.select("order_id", "customer_id", "channel", "order_date"), "order_id")
    lines = lines.filter(lines.quantity > 0)
    mad = rules.outlier_method == "mad"

    def robust(t, value, keys, prefix, floor):
        g = t.group_by(keys).aggregate(**{f"{prefix}_med": t[value].median(), f"{prefix}_n": t.count(),
                                          f"{prefix}_q1": t[value].quantile(0.25),
                                          f"{prefix}_q3": t[value].quantile(0.75)})
        d = t.join(g, keys)
        spread = d.group_by(keys).aggregate(**{f"{prefix}_mad": (d[value] - d[f"{prefix}_med"]).abs().median()})
        x = t.join(g.join(spread, keys), keys)
        med, q1, q3 = x[f"{prefix}_med"], x[f"{prefix}_q1"], x[f"{prefix}_q3"]
        if mad:
            z = (x[value] - med) / ibis.greatest(x[f"{prefix}_mad"] * 1.4826, med / 2, floor)
        else:
            z = (x[value] - q3) / ibis.greatest(q3 - q1, floor)
        return x.mutate(**{f"_z{prefix}": z})

    x = robust(lines, "quantity", ["product_id", "channel"], "p", 1)
    x = x.mutate(_ratio=x.quantity / ibis.greatest(x.p_med, 1))
    known = x.filter(x.customer_id.notnull())
    c = robust(known, "_ratio", ["customer_id"], "c", 0.5).select("order_id", "line_no", "_zc", "c_n", "c_med")
    x = x.left_join(c, ["order_id", "line_no"])
    thr = rules.outlier_threshold
    zc = ibis.ifelse(x.c_n >= rules.outlier_min_history, x._zc, None).fill_null(-1.0)
    hit_p, hit_c = x._zp > thr, zc > thr
    both = (zc > thr / 2) & (x._zp > thr / 6)
    y = x.mutate(_zcc=zc, _hp=hit_p, _hc=hit_c, _hb=both).filter(hit_p | hit_c | both)
    return y.select(
        "order_id", "line_no", "customer_id", "product_id", "channel", "order_date", "quantity", "net_amount",
        product_typical=y.p_med, customer_typical=(y.c_med * y.p_med).round(2),
        score=ibis.greatest(y._zp, y._zcc).round(2),
        rule=ibis.cases((y._hp & y._hc, "product+customer"), (y._hp, "product"), (y._hc, "customer"),
                        else_="product+customer (moderate)"),
        _source=y._source, _file=y._file, _line=y._line,
    )


def _account(by_file: dict, quarantined: pd.DataFrame, merged: pd.DataFrame, fills: pd.DataFrame,
             outliers: pd.DataFrame) -> None:
    """Move rows from loaded to quarantined / merged in the per-file accounting."""
    q = quarantined.copy()
    m = merged.copy()
    # an input row both quarantined and merged (e.g. a bad line of a copied order) counts as quarantined
    if len(q) and len(m):
        m = m[~m.set_index(["file", "line"]).index.isin(q.set_index(["file", "line"]).index)]
    for f, g in q.groupby("file"):
        a = by_file[f]
        a.rows_loaded -= len(g)
        a.rows_quarantined += len(g)
        for r, n in g.reason.value_counts().items():
            a.quarantined_by_reason[r] = a.quarantined_by_reason.get(r, 0) + int(n)
    for f, g in m.groupby("file"):
        a = by_file[f]
        a.rows_loaded -= len(g)
        a.rows_merged += len(g)
        for r, n in g.rule.value_counts().items():
            a.merged_by_rule[r] = a.merged_by_rule.get(r, 0) + int(n)
    for f, n in fills.groupby("_file").size().items():
        by_file[f].values_filled += int(n)
    for f, n in outliers.groupby("_file").size().items():
        by_file[f].outliers_flagged += int(n)
