"""Data-quality figures over the cleaning layer (stage ``00_data_quality``, domain.md §2).

What a reader needs to trust the warehouse and to act on it:

- **row accounting** per file and per source: rows read = rows loaded + rows merged (duplicates)
  + rows quarantined, exactly, with a check column; values filled and outliers flagged;
- **where the rows went**: final rows per source and table, quarantined rows by reason, merged
  rows by rule (``_merged``);
- **coverage** of the final order lines: share with a known customer (the order's customer id is
  in the customer master), a known product (in the product master), a region and a channel;
  compared with the 98 % target of domain.md §2;
- **customer resolution**: source records -> canonical customers by rule (``customer_map``) and
  the look-alike pairs left for a person to decide (``customer_review``);
- **what to look at**: the outlier lines with the highest scores (``_outliers``), fills by table
  and column (``_fills``);
- the **trend** of these figures across ingests (``warehouse/_ingest/history.jsonl``).

Everything reads the warehouse through the engine (:meth:`saleslab.engine.Engine.table`, Ibis, so
it runs on DuckDB and PySpark; the ingest history through :meth:`~saleslab.engine.Engine.ingest_history`).
Thresholds come from :class:`saleslab.quality.params.Params` and are recorded on the results.
"""

from __future__ import annotations

import math

import ibis
import pandas as pd

from .. import schema
from ..engine import Engine
from ..params import attach
from .params import Params

#: domain.md §2: data coverage >= 98 %.
COVERAGE_TARGET = 0.98
#: The coverage measures, as columns of :func:`coverage`.
COVERAGE_MEASURES = ("known_customer", "known_product", "known_region", "known_channel")

_COUNTS = ("rows_read", "rows_loaded", "rows_merged", "rows_quarantined", "rows_skipped", "values_filled",
           "outliers_flagged")


def _int(expr):
    return expr.cast("int64")


# ---------------------------------------------------------------------------- row accounting
def file_accounting(eng: Engine) -> pd.DataFrame:
    """Per input file: where its rows went, with two checks.

    Columns: source, system, file, status (loaded | rejected), reused (unchanged since the last
    ingest), rows_read, rows_loaded, rows_merged, rows_quarantined, rows_skipped (lines the mapping's
    ``skip_lines`` skip: totals, trailers), values_filled,
    outliers_flagged, quarantine_kept (rows of the file held in ``_quarantine``), merged_kept
    (rows of the file held in ``_merged`` and not quarantined), balanced
    (rows_read = rows_loaded + rows_merged + rows_quarantined + rows_skipped) and traced (quarantine_kept =
    rows_quarantined and merged_kept = rows_merged: every row not loaded can be looked up).
    Ordered by source and file.
    """
    a = eng.table("_accounting")
    if "rows_skipped" not in a.columns:  # a warehouse ingested before skip_lines existed
        a = a.mutate(rows_skipped=ibis.literal(0, "int64"))
    q = eng.table("_quarantine")
    m = eng.table("_merged")
    qk = q.select("source", "file", "line").distinct()
    # a row both merged and quarantined is counted as quarantined by the ingest
    mk = m.select("source", "file", "line").distinct().anti_join(qk, ["source", "file", "line"])
    qn = qk.group_by(["source", "file"]).aggregate(quarantine_kept=qk.count())
    qn = qn.rename(q_source="source", q_file="file")
    mn = mk.group_by(["source", "file"]).aggregate(merged_kept=mk.count())
    mn = mn.rename(m_source="source", m_file="file")
    j = a.left_join(qn, (a.source == qn.q_source) & (a.file == qn.q_file))
    j = j.left_join(mn, (j.source == mn.m_source) & (j.file == mn.m_file))
    expr = j.select(
        "source", "system", "file", "status", "reused", *[j[c] for c in _COUNTS],
        quarantine_kept=_int(j.quarantine_kept.fill_null(0)), merged_kept=_int(j.merged_kept.fill_null(0)),
    ).order_by(["source", "file"])
    df = eng.execute(expr)
    for c in (*_COUNTS, "quarantine_kept", "merged_kept"):
        df[c] = df[c].fillna(0).astype("int64")
    df["reused"] = df["reused"].fillna(False).astype(bool)
    df["balanced"] = df["rows_read"] == df["rows_loaded"] + df["rows_merged"] + df["rows_quarantined"] + \
        df["rows_skipped"]
    df["traced"] = (df["quarantine_kept"] == df["rows_quarantined"]) & (df["merged_kept"] == df["rows_merged"])
    return df.reset_index(drop=True)


def source_accounting(files: pd.DataFrame) -> pd.DataFrame:
    """:func:`file_accounting` summed per source.

    Columns: source, system, files, rejected_files, rows_read, rows_loaded, rows_merged,
    rows_quarantined, values_filled, outliers_flagged, quarantined_share (rows_quarantined /
    rows_read), balanced (every file of the source balances) and traced (likewise).
    """
    g = files.assign(rejected_files=(files["status"] == "rejected").astype("int64"))
    out = g.groupby(["source", "system"], as_index=False, dropna=False).agg(
        files=("file", "count"), rejected_files=("rejected_files", "sum"),
        **{c: (c, "sum") for c in _COUNTS}, balanced=("balanced", "all"), traced=("traced", "all"))
    out["quarantined_share"] = (out["rows_quarantined"] / out["rows_read"]).where(out["rows_read"] > 0).round(6)
    cols = ["source", "system", "files", "rejected_files", *_COUNTS, "quarantined_share", "balanced", "traced"]
    return out[cols].sort_values("source").reset_index(drop=True)


def row_accounting(eng: Engine) -> pd.DataFrame:
    """Per source: files, rows read / loaded / merged / quarantined, fills, outliers and the checks
    (:func:`source_accounting` of :func:`file_accounting`)."""
    return source_accounting(file_accounting(eng))


def accounting_totals(files: pd.DataFrame) -> dict:
    """Totals of :func:`file_accounting`: files, rows_read, rows_loaded, rows_merged,
    rows_quarantined, values_filled, outliers_flagged, unbalanced_files, untraced_files,
    rejected_files, reused_files."""
    out = {"files": int(len(files))}
    out.update({c: int(files[c].sum()) for c in _COUNTS})
    out.update(unbalanced_files=int((~files["balanced"]).sum()), untraced_files=int((~files["traced"]).sum()),
               rejected_files=int((files["status"] == "rejected").sum()), reused_files=int(files["reused"].sum()))
    return out


def table_rows(eng: Engine, tables: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Rows in the final warehouse tables per source (after the cleaning layer).

    Columns: source, table, rows. Tables without rows are left out. ``tables`` defaults to
    every canonical table (:data:`saleslab.schema.TABLES`).
    """
    parts = []
    for name in tables or tuple(schema.TABLES):
        t = eng.table(name)
        parts.append(t.group_by(source=t._source).aggregate(rows=t.count())
                     .mutate(table=ibis.literal(name)))
    expr = ibis.union(*parts) if len(parts) > 1 else parts[0]
    df = eng.execute(expr.select("source", "table", "rows"))
    df["rows"] = df["rows"].astype("int64")
    df = df[df["rows"] > 0]
    return df.sort_values(["source", "table"]).reset_index(drop=True)


# ---------------------------------------------------------------------------- quarantine, merges
def quarantine_reasons(eng: Engine) -> pd.DataFrame:
    """Quarantined rows by source and reason code. Columns: source, reason, rows, example_file, example_line."""
    q = eng.table("_quarantine")
    expr = q.group_by(["source", "reason"]).aggregate(
        rows=q.count(), example_file=q.file.min(), example_line=q.line.min(),
    ).order_by([ibis.desc("rows"), "source", "reason"])
    df = eng.execute(expr)
    df["rows"] = df["rows"].astype("int64")
    return df


def reason_totals(reasons: pd.DataFrame) -> pd.DataFrame:
    """:func:`quarantine_reasons` summed over sources: reason, rows (largest first)."""
    out = reasons.groupby("reason", as_index=False)["rows"].sum()
    return out.sort_values(["rows", "reason"], ascending=[False, True]).reset_index(drop=True)


def merged_by_rule(eng: Engine) -> pd.DataFrame:
    """Input rows merged as duplicates (``_merged``) by source, table and rule.

    Rules: ``duplicate_row`` (an exact repeat of an earlier row of the same file; table
    ``row``), ``external_ref`` and ``customer_date_lines`` (the same order exported by two
    systems; tables ``orders`` and ``order_lines``). Rows also quarantined are left out (the
    accounting counts them as quarantined). Columns: source, table, rule, rows.
    """
    m = eng.table("_merged")
    q = eng.table("_quarantine").select("source", "file", "line").distinct()
    m = m.anti_join(q, ["source", "file", "line"])
    expr = m.group_by(["source", m.table.fill_null("row").name("table"), "rule"]).aggregate(rows=m.count())
    df = eng.execute(expr.order_by([ibis.desc("rows"), "source", "table", "rule"]))
    df["rows"] = df["rows"].astype("int64")
    return df


def merged_orders(eng: Engine, params: Params | None = None) -> pd.DataFrame:
    """The orders merged across systems: which copy was dropped and which order it merged into.

    Columns: order_id (the dropped copy), source, file, line, rule, merged_into (the order kept),
    merged_into_file, merged_into_line. Ordered by rule, then order_id; at most ``params.review_rows``.
    """
    limit = (params or Params()).review_rows
    m = eng.table("_merged")
    m = m.filter(m.table == "orders")
    expr = m.select(order_id=m.key, source=m.source, file=m.file, line=m.line, rule=m.rule,
                    merged_into=m.merged_into_key, merged_into_file=m.merged_into_file,
                    merged_into_line=m.merged_into_line).order_by(["rule", "order_id"])
    return eng.execute(expr.limit(limit) if limit else expr)


# ---------------------------------------------------------------------------- coverage
def coverage(eng: Engine, by: str = "channel") -> pd.DataFrame:
    """Share of the final order lines with a known customer, product, region and channel.

    known customer = the order's (canonical) customer id is in ``customers``; known product = the
    line's product id is in ``products``; known region / channel = the order has one (after the
    region fill). A line whose order header is missing knows none of the order's fields.
    ``by``: ``channel`` (the order's channel, ``unknown`` when missing) or ``source`` (the source
    that delivered the line). Columns: <by>, order_lines, known_customer, known_product,
    known_region, known_channel (shares in [0, 1]); the last row (``all``) covers every line.
    """
    if by not in ("channel", "source"):
        raise ValueError(f"coverage by must be 'channel' or 'source' (got {by!r})")
    ln = eng.table("order_lines").select("order_id", "product_id", line_source="_source")
    o = eng.table("orders").select(o_order_id="order_id", customer_id="customer_id", channel="channel",
                                   region="region")
    c = eng.table("customers").select(known_customer_id="customer_id").distinct()
    p = eng.table("products").select(known_product_id="product_id").distinct()
    j = ln.left_join(o, ln.order_id == o.o_order_id)
    j = j.left_join(c, j.customer_id == c.known_customer_id)
    j = j.left_join(p, j.product_id == p.known_product_id)
    key = j.channel.fill_null("unknown") if by == "channel" else j.line_source.fill_null("unknown")
    per = j.group_by(key.name(by)).aggregate(
        order_lines=j.count(),
        known_customer=_int(j.known_customer_id.notnull()).sum(),
        known_product=_int(j.known_product_id.notnull()).sum(),
        known_region=_int(j.region.notnull()).sum(),
        known_channel=_int(j.channel.notnull()).sum(),
    ).order_by(by)
    df = eng.execute(per)
    for k in ("order_lines", *COVERAGE_MEASURES):
        df[k] = df[k].fillna(0).astype("int64")
    total = df[["order_lines", *COVERAGE_MEASURES]].sum()
    df = pd.concat([df, pd.DataFrame([{by: "all", **total.to_dict()}])], ignore_index=True)
    for k in COVERAGE_MEASURES:
        df[k] = (df[k] / df["order_lines"]).where(df["order_lines"] > 0).astype("float64").round(6)
    df["order_lines"] = df["order_lines"].astype("int64")
    return df


def overall_coverage(cov: pd.DataFrame) -> dict:
    """The ``all`` row of :func:`coverage` as a dict (order_lines and the four shares)."""
    row = cov.iloc[-1]
    return {k: row[k] for k in ("order_lines", *COVERAGE_MEASURES) if k in cov}


def coverage_vs_target(cov: pd.DataFrame, params: Params | None = None) -> pd.DataFrame:
    """The overall coverage of :func:`coverage` against ``params.coverage_target`` (domain.md §2: 98 %).

    Columns: coverage_measure (known_customer, ...), coverage (share of all order lines), target,
    shortfall (target - coverage when below, else 0), lines_missing (order lines without the
    field), lines_to_fix (fewest lines to complete to reach the target), meets_target.
    """
    params = params or Params()
    target = params.coverage_target
    allrow = overall_coverage(cov)
    n = int(allrow["order_lines"])
    rows = []
    for m in COVERAGE_MEASURES:
        share = allrow[m]
        share = float(share) if pd.notna(share) else 0.0
        known = round(share * n)
        need = max(0, math.ceil(round(target * n, 6)) - known)
        rows.append({"coverage_measure": m, "coverage": share, "target": float(target),
                     "shortfall": round(max(0.0, target - share), 6), "lines_missing": n - known,
                     "lines_to_fix": need, "meets_target": bool(n > 0 and share >= target)})
    return attach(pd.DataFrame(rows), params)


# ---------------------------------------------------------------------------- customers
def customer_resolution(eng: Engine) -> pd.DataFrame:
    """Source customer records by the entity-resolution rule that linked them (``customer_map``).

    Rules: ``self`` (the representative record of a customer), ``tax_id``, ``phone+name``,
    ``email+name`` (merged into another record). Columns: rule, records, share (of all records).
    Ordered: ``self`` first, then by records.
    """
    cm = eng.table("customer_map")
    df = eng.execute(cm.group_by("rule").aggregate(records=cm.count()))
    df["records"] = df["records"].astype("int64")
    total = int(df["records"].sum())
    df["share"] = (df["records"] / total).round(6) if total else 0.0
    df["_o"] = (df["rule"] != "self").astype(int)
    return df.sort_values(["_o", "records", "rule"], ascending=[True, False, True]).drop(columns="_o") \
        .reset_index(drop=True)


def resolution_totals(eng: Engine) -> dict:
    """records (source customer records), customers (canonical ids), merged_records
    (records linked into another one) and review_pairs (look-alikes left for review)."""
    cm = eng.table("customer_map")
    rv = eng.table("customer_review")
    r = eng.execute(cm.aggregate(records=cm.count(), customers=cm.canonical_id.nunique(),
                                 merged=_int(cm.rule != "self").sum())).iloc[0]
    n_review = int(eng.execute(rv.aggregate(n=rv.count()))["n"].iloc[0])
    return {"records": int(r["records"]), "customers": int(r["customers"]),
            "merged_records": int(r["merged"] if pd.notna(r["merged"]) else 0), "review_pairs": n_review}


def review_list(eng: Engine, params: Params | None = None) -> pd.DataFrame:
    """Pairs of customer records that look alike but were not merged (``customer_review``), for a
    person to decide. Signals: ``name_only`` (same normalised name, no shared identifier),
    ``phone_only`` / ``email_only`` (a shared phone or e-mail, different names), ``tax_id_conflict``
    (merged on name and contact although the tax ids differ).
    Columns: customer_id, customer_name, other_id, other_name, signal. Ordered by signal,
    customer_id, other_id; at most ``params.review_rows`` rows.
    """
    limit = (params or Params()).review_rows
    rv = eng.table("customer_review")
    expr = rv.select("customer_id", customer_name=rv.name, other_id=rv.other_id, other_name=rv.other_name,
                     signal=rv.signal) \
        .order_by(["signal", "customer_id", "other_id"])
    return eng.execute(expr.limit(limit) if limit else expr)


# ---------------------------------------------------------------------------- outliers, fills
def outliers_for_review(eng: Engine, params: Params | None = None) -> pd.DataFrame:
    """The flagged outlier lines with the highest scores (``_outliers``; flagged, never deleted).

    score = robust z of the quantity against the product's lines in its channel or the customer's
    lines (see :mod:`saleslab.ingest.clean`). Columns: order_id, line_no, order_date, customer_id,
    product_id, channel, quantity, product_typical, customer_typical, net_amount, outlier_score,
    outlier_rule, file, line. Highest score first; ties by order_id, line_no; the first
    ``params.outliers_top``.
    """
    top = (params or Params()).outliers_top
    o = eng.table("_outliers")
    expr = o.select("order_id", "line_no", "order_date", "customer_id", "product_id", "channel", "quantity",
                    "product_typical", "customer_typical", "net_amount", outlier_score=o.score,
                    outlier_rule=o.rule, file=o._file, line=o._line)
    return eng.execute(expr.order_by([ibis.desc("outlier_score"), "order_id", "line_no"]).limit(top))


def outliers_by_rule(eng: Engine) -> pd.DataFrame:
    """Flagged outlier lines by rule (``product``, ``customer``, ``product+customer``).
    Columns: outlier_rule, lines, net_amount (their revenue, 元, rounded to the cent)."""
    o = eng.table("_outliers")
    df = eng.execute(o.group_by(outlier_rule=o.rule).aggregate(lines=o.count(), net_amount=o.net_amount.sum()))
    df["lines"] = df["lines"].astype("int64")
    df["net_amount"] = df["net_amount"].astype("float64").round(2)
    return df.sort_values(["lines", "outlier_rule"], ascending=[False, True]).reset_index(drop=True)


def fills_by_column(eng: Engine) -> pd.DataFrame:
    """Values filled with an explicit marker or a derived value (``_fills``), by table, column,
    rule and the value written. Columns: table, column, fill_rule, filled_value, rows."""
    f = eng.table("_fills")
    expr = f.group_by(["table", "column", f.rule.name("fill_rule"), f.value.name("filled_value")]) \
        .aggregate(rows=f.count())
    df = eng.execute(expr)
    df["rows"] = df["rows"].astype("int64")
    return df.sort_values(["table", "column", "rows", "filled_value"], ascending=[True, True, False, True]) \
        .reset_index(drop=True)


# ---------------------------------------------------------------------------- trend
_TREND = ("files", "rows_read", "rows_loaded", "rows_merged", "rows_quarantined", "values_filled",
          "outliers_flagged", "duplicate_orders", "customers", "canonical_customers", "review_pairs")


def quality_trend(eng: Engine, params: Params | None = None) -> pd.DataFrame:
    """One row per ingest of the warehouse, oldest first (``_ingest/history.jsonl``).

    Columns: ingest_no (1, 2, ...), ingested_at, files, rows_read, rows_loaded, rows_merged,
    rows_quarantined, values_filled, outliers_flagged, duplicate_orders, customers,
    canonical_customers, review_pairs, quarantined_share (rows_quarantined / rows_read),
    balanced (read = loaded + merged + quarantined), coverage_customer, coverage_product,
    coverage_region, coverage_channel. The coverage figures are those the ingest recorded: there
    a customer counts as known when the order carries a customer id (:func:`coverage` also
    requires the id to be in the customer master). A figure an older ingest did not record is
    empty. No ingest history: an empty table with these columns.
    """
    params = params or Params()
    h = eng.ingest_history()
    cov = [f"coverage_{k}" for k in ("customer", "product", "region", "channel")]
    cols = ["ingest_no", "ingested_at", *_TREND, "quarantined_share", "balanced", *cov]
    if h.empty:
        return attach(pd.DataFrame({c: pd.Series(dtype="object") for c in cols}), params)
    h = h.rename(columns={f"coverage.{k}": f"coverage_{k}" for k in ("customer", "product", "region", "channel")})
    for c in (*_TREND, *cov):
        if c not in h:
            h[c] = pd.NA
    for c in _TREND:
        h[c] = pd.to_numeric(h[c], errors="coerce").astype("Int64")
    for c in cov:
        h[c] = pd.to_numeric(h[c], errors="coerce").astype("float64")
    h["ingest_no"] = range(1, len(h) + 1)
    h["ingested_at"] = pd.to_datetime(h["ingested_at"])
    h["quarantined_share"] = (h["rows_quarantined"] / h["rows_read"]).astype("float64").round(6)
    h["balanced"] = (h["rows_read"] == h["rows_loaded"] + h["rows_merged"].fillna(0) + h["rows_quarantined"]) \
        .fillna(False).astype(bool)
    return attach(h[cols].reset_index(drop=True), params)


# ---------------------------------------------------------------------------- inputs nobody used
def input_inventory(eng: Engine) -> pd.DataFrame:
    """What the last ingest could not use, for a person to check: files in the input folder that no
    mapping claims (``unmapped_file``), mappings that matched no file (``unused_mapping``), links
    leading out of the input folder (``refused_file``, never read) and, per file, values of a
    region column that named no known region (``unresolved_regions``; the rows are loaded without
    a region).

    Columns: issue, input (file or mapping), rows. Empty when there is nothing to report.
    """
    acc = eng.accounting()
    summary = acc.get("cleaning", {})
    rows = [("unmapped_file", f, None) for f in summary.get("unmapped_files", [])]
    rows += [("unused_mapping", m, None) for m in summary.get("unused_mappings", [])]
    rows += [("refused_file", f, None) for f in summary.get("refused_files", [])]
    rows += [("unresolved_regions", f["file"], int(f["unmapped_regions"])) for f in acc.get("files", [])
             if f.get("unmapped_regions")]
    return pd.DataFrame(rows, columns=["issue", "input", "rows"]).astype({"rows": "Int64"})


# ---------------------------------------------------------------------------- headline
def quality_headlines(files: pd.DataFrame, target_table: pd.DataFrame, resolution: dict) -> dict:
    """The stage's headline figures from :func:`file_accounting`, :func:`coverage_vs_target` and
    :func:`resolution_totals`: rows_read, rows_loaded, rows_merged, rows_quarantined,
    values_filled, outliers_flagged, unbalanced_files, untraced_files, coverage (the lowest of the four
    coverage shares), coverage_measure (which one), coverage_target_met (how many of the four
    reach the target), canonical_customers, review_pairs."""
    tot = accounting_totals(files)
    low = target_table.sort_values(["coverage", "coverage_measure"]).iloc[0]
    return {**{k: tot[k] for k in ("rows_read", "rows_loaded", "rows_merged", "rows_quarantined",
                                    "values_filled", "outliers_flagged", "unbalanced_files",
                                    "untraced_files")},
            "coverage": float(low["coverage"]), "coverage_measure": str(low["coverage_measure"]),
            "coverage_target_met": int(target_table["meets_target"].sum()),
            "canonical_customers": resolution["customers"], "review_pairs": resolution["review_pairs"]}


# ---------------------------------------------------------------------------- cleaning accuracy
#: domain.md §2: cleaning accuracy >= 99 %.
ACCURACY_TARGET = 0.99


def cleaning_accuracy(eng: Engine, params: Params | None = None) -> pd.DataFrame:
    """The cleaning layer scored against an answer key (the demo generator's ``truth/`` folder;
    real exports have none), see :mod:`saleslab.demo.score`.

    Columns: accuracy_measure (dup_precision, dup_recall, customer_precision, customer_recall,
    outlier_recall), accuracy (in [0, 1]), target (``params.accuracy_target``), meets_target.
    Empty when ``params.truth_dir`` is empty.
    """
    from .accuracy import score

    params = params or Params()
    truth_dir, target = params.truth_dir, params.accuracy_target
    cols = ["accuracy_measure", "accuracy", "target", "meets_target"]
    if not truth_dir:
        return attach(pd.DataFrame({c: pd.Series(dtype="object") for c in cols}), params)
    s = score(eng, truth_dir)
    names = ("dup_precision", "dup_recall", "customer_precision", "customer_recall", "outlier_recall")
    return attach(pd.DataFrame([{"accuracy_measure": k, "accuracy": float(s[k]), "target": float(target),
                                 "meets_target": bool(s[k] >= target)} for k in names]), params)
