"""Tests of the demo export generator (saleslab.demo) at small scale."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from saleslab.demo import generate
from saleslab.demo.regions import ALL_ALIASES

GBK_FILES = ("erp/orders_", "erp/order_lines_", "erp/invoices", "erp/payments", "erp/returns", "erp/inventory")


def _encoding(rel: str) -> str:
    if rel.startswith(GBK_FILES):
        return "gb18030"
    return "utf-8-sig"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    a = generate(base / "a", "small", seed=42)
    b = generate(base / "b", "small", seed=42)
    c = generate(base / "c", "small", seed=7)
    return {"a": (base / "a", a), "b": (base / "b", b), "c": (base / "c", c)}


@pytest.fixture(scope="module")
def demo(runs):
    return runs["a"][0]


@pytest.fixture(scope="module")
def ex(demo):
    return demo / "exports"


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _read(ex: Path, rel: str) -> pd.DataFrame:
    return pd.read_csv(ex / rel, dtype=str, keep_default_na=False, encoding=_encoding(rel), on_bad_lines="skip")


def _lines(ex: Path, rel: str) -> list[str]:
    return (ex / rel).read_bytes().decode(_encoding(rel)).splitlines()


def _truth(demo: Path, name: str):
    p = demo / "truth" / name
    if name.endswith(".json"):
        return json.loads(p.read_text(encoding="utf-8"))
    return pd.read_csv(p, dtype={"line": "Int64", "value": str}, keep_default_na=False, na_values={"line": [""]})


# ---- determinism and size ----------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(runs):
    ha, hb = _hashes(runs["a"][0]), _hashes(runs["b"][0])
    assert ha and ha == hb


def test_different_seed_gives_different_files(runs):
    ha, hc = _hashes(runs["a"][0]), _hashes(runs["c"][0])
    assert ha.keys() == hc.keys()
    assert sum(ha[k] != hc[k] for k in ha) > len(ha) * 0.8


def test_small_scale_has_about_50k_order_lines_and_is_fast(runs):
    summary = runs["a"][1]
    assert 35_000 <= summary["order_lines"] <= 65_000
    assert summary["seconds"] < 20
    assert summary["files"]["crm/customers.csv"] > 0


def test_summary_rows_match_files(demo, runs):
    files = runs["a"][1]["files"]
    for rel, n in files.items():
        path = demo / "exports" / rel
        assert path.exists(), rel
        if rel.endswith(".csv"):
            assert len(_lines(demo / "exports", rel)) == n + 1, rel


# ---- file formats ----------------------------------------------------------------------
def test_erp_exports_are_gbk_not_utf8(ex):
    for p in sorted((ex / "erp").glob("*.csv")):
        data = p.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        header = data.decode("gb18030").splitlines()[0]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in header), p.name


def test_crm_customers_has_bom_and_chinese_headers(ex):
    data = (ex / "crm/customers.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header == ["客户编号", "客户名称", "客户类型", "行业", "员工数", "区域", "城市", "地址", "电话", "邮箱",
                      "统一社会信用代码", "负责人", "获客渠道", "创建日期"]


def test_products_workbook_has_title_row_above_header(ex):
    from openpyxl import load_workbook

    ws = load_workbook(ex / "erp/products.xlsx", read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert str(rows[0][0]).startswith("产品主数据")
    assert rows[2][:3] == ("产品编码", "产品名称", "品类")
    assert rows[3][0] == "P0001"


def test_targets_month_is_a_plain_excel_serial(ex):
    from openpyxl import load_workbook

    ws = load_workbook(ex / "targets/targets.xlsx", read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "月份"
    assert isinstance(rows[1][0], int) and rows[1][0] == 44927  # 2023-01-01


def test_distributor_amounts_are_wan_with_separators_and_six_decimals(ex):
    df = _read(ex, "distributor/sell_in_2024.csv")
    amt = df["金额(万元)"]
    assert amt.str.fullmatch(r"\d{1,3}(,\d{3})*\.\d{6}").mean() > 0.99
    dates = df["日期"]
    assert dates.str.fullmatch(r"\d{5}").any() and dates.str.contains("/").any()


def test_ecommerce_english_headers_and_datetime_formats(ex):
    df = _read(ex, "ecommerce/orders_2024.csv")
    assert list(df.columns[:3]) == ["order_no", "order_time", "member_id"]
    t = df.order_time
    assert t.str.fullmatch(r"2024-\d\d-\d\d \d\d:\d\d:\d\d").any() and t.str.fullmatch(r"2024-\d\d-\d\d").any()


def test_pos_dates_compact_and_few_anonymous_receipts(ex):
    df = pd.concat([_read(ex, f"pos/pos_2024{m:02d}.csv") for m in range(1, 13)])
    assert df["交易日期"].str.fullmatch(r"2024\d{4}").mean() > 0.99
    receipts = df.drop_duplicates("小票号")
    anon = (receipts["会员卡号"] == "").mean()
    assert 0.003 < anon < 0.03


def test_emitted_region_aliases_are_known_to_ingest():
    from saleslab.ingest import regions

    for code, aliases in ALL_ALIASES.items():
        for a in aliases:
            assert regions.region_code(a) == code, (a, code)


def test_export_region_cells_are_known_aliases(ex):
    known = {a for v in ALL_ALIASES.values() for a in v}
    cells = set(_read(ex, "crm/customers.csv")["区域"]) | set(_read(ex, "erp/orders_2024.csv")["区域"]) \
        | set(_read(ex, "ecommerce/orders_2024.csv")["ship_province"]) | set(_read(ex, "pos/members.csv")["区域"])
    assert cells - {""} <= known


# ---- truth -------------------------------------------------------------------------------
def test_every_truth_reference_points_at_an_existing_line(demo, ex):
    for name in ("errors.csv", "duplicate_rows.csv", "outliers.csv", "duplicate_orders.csv"):
        df = _truth(demo, name)
        assert len(df) > 0, name
        for rel, g in df.groupby("file"):
            n = len(_lines(ex, rel))
            assert g.line.notna().all() and (g.line >= 2).all() and (g.line <= n).all(), (name, rel)
    dor = _truth(demo, "duplicate_orders.csv")
    for rel, g in dor.groupby("duplicate_of_file"):
        assert (ex / rel).exists()
        assert g.duplicate_of_line.notna().all()


def test_errors_point_at_the_corrupted_cell(demo, ex):
    err = _truth(demo, "errors.csv")
    kinds = set(err.kind)
    assert {"bad_date", "missing_id", "non_numeric", "field_count"} <= kinds
    cache = {}
    for r in err.itertuples():
        if r.file not in cache:
            cache[r.file] = _lines(ex, r.file)
        lines = cache[r.file]
        header, row = lines[0].split(","), lines[r.line - 1]
        if r.kind == "field_count":
            assert len(next(iter(pd.read_csv(pd.io.common.StringIO(row), header=None, dtype=str).itertuples(index=False)))) < len(header)
        elif r.kind in ("bad_date", "non_numeric"):
            assert str(r.value) in row, (r.file, r.line)


def test_error_rate_is_small(demo, runs):
    err = _truth(demo, "errors.csv")
    rows = sum(runs["a"][1]["files"].values())
    assert 0.0005 < len(err) / rows < 0.005


def test_outliers_are_far_above_normal_quantities(demo, ex):
    out = _truth(demo, "outliers.csv")
    for r in out.itertuples():
        row = _lines(ex, r.file)[r.line - 1]
        assert r.order_id in row
    assert out.factor.between(20, 100).all()


def test_duplicate_orders_match_across_systems(demo, ex):
    dor = _truth(demo, "duplicate_orders.csv")
    assert {"external_ref", "customer_date_lines"} <= set(dor.match)
    files = set(dor.file.str.split("/").str[0]) | set(dor.duplicate_of_file.str.split("/").str[0])
    assert {"erp", "ecommerce", "distributor"} <= files
    for r in dor.itertuples():
        assert r.order_id in _lines(ex, r.file)[r.line - 1]
        assert r.duplicate_of_order_id in _lines(ex, r.duplicate_of_file)[r.duplicate_of_line - 1]
    # ERP rows carry the web-shop order number when the match is by external ref
    ec = dor[dor.file.str.startswith("ecommerce") & (dor.match == "external_ref")]
    erp = pd.concat([_read(ex, f"erp/orders_{y}.csv") for y in (2023, 2024, 2025)])
    ref = dict(zip(erp["订单编号"], erp["外部单号"]))
    assert all(ref[o] == e for o, e in zip(ec.duplicate_of_order_id, ec.order_id))


def test_customer_entities_cover_every_customer_and_contain_duplicates(demo, ex):
    ent = _truth(demo, "customer_entities.csv")
    ids = set(_read(ex, "crm/customers.csv")["客户编号"]) | set(_read(ex, "ecommerce/members.csv").member_id) \
        | set(_read(ex, "pos/members.csv")["会员卡号"])
    assert ids - {""} <= set(ent.customer_id)
    sizes = ent.groupby("entity_id").size()
    assert (sizes > 1).sum() > 20
    variants = set(ent.name_variant) - {"original"}
    assert {"fullwidth", "llc_suffix", "spaces", "city_prefix"} & variants
    # duplicates inside the CRM and across CRM / web shop / POS
    multi = ent[ent.entity_id.isin(sizes[sizes > 1].index)]
    pairs = multi.groupby("entity_id").system.agg(lambda s: "+".join(sorted(s)))
    assert {"crm+crm", "crm+ecommerce", "ecommerce+pos"} <= set(pairs)


def test_coverage_of_customers_and_products_is_at_least_98_percent(ex):
    cust = set(_read(ex, "crm/customers.csv")["客户编号"]) | set(_read(ex, "ecommerce/members.csv").member_id) \
        | set(_read(ex, "pos/members.csv")["会员卡号"])
    prod = set(pd.read_excel(ex / "erp/products.xlsx", header=2, dtype=str)["产品编码"])
    parts = []
    for y in (2023, 2024, 2025):
        o = _read(ex, f"erp/orders_{y}.csv")[["订单编号", "客户编号"]].drop_duplicates("订单编号")
        ln = _read(ex, f"erp/order_lines_{y}.csv").merge(o, on="订单编号", how="left")
        parts.append(pd.DataFrame({"c": ln["客户编号"], "p": ln["产品编码"]}))
        e = _read(ex, f"ecommerce/orders_{y}.csv")
        parts.append(pd.DataFrame({"c": e.member_id, "p": e.sku}))
        d = _read(ex, f"distributor/sell_in_{y}.csv")
        parts.append(pd.DataFrame({"c": d["经销商编号"], "p": d["产品编码"]}))
    for p in sorted((ex / "pos").glob("pos_*.csv")):
        d = _read(ex, f"pos/{p.name}")
        parts.append(pd.DataFrame({"c": d["会员卡号"], "p": d["商品编码"]}))
    lines = pd.concat(parts)
    assert lines.c.isin(cust).mean() >= 0.98
    assert lines.p.isin(prod).mean() >= 0.98


# ---- planted behaviour -------------------------------------------------------------------
def test_planted_lists_stars_slow_movers_weak_distributor_and_reps(demo, ex):
    pl = _truth(demo, "planted.json")
    prods = set(pd.read_excel(ex / "erp/products.xlsx", header=2, dtype=str)["产品编码"])
    assert pl["star_products"]["ids"] and set(pl["star_products"]["ids"]) <= prods
    assert pl["slow_movers"]["ids"] and set(pl["slow_movers"]["ids"]) <= prods
    assert set(pl["weak_distributor"]["ids"]) <= set(_read(ex, "distributor/distributors.csv")["经销商编号"])
    reps = set(_read(ex, "crm/reps.csv")["销售编号"])
    assert pl["reps_above_target"]["ids"] and set(pl["reps_above_target"]["ids"]) <= reps
    assert pl["reps_below_target"]["ids"] and set(pl["reps_below_target"]["ids"]) <= reps
    gt = _truth(demo, "ground_truth.json")
    assert gt["seed"] == 42 and gt["scale"] == "small"
    assert gt["period"] == {"start": "2023-01-01", "end": "2025-12-31"}


def _wan(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.replace(",", ""), errors="coerce") * 10_000


def test_weak_distributor_collects_less_than_60_percent(demo, ex):
    weak = _truth(demo, "planted.json")["weak_distributor"]["ids"][0]
    inv = _read(ex, "distributor/receivables.csv")
    pay = _read(ex, "distributor/collections.csv")
    inv["amt"], pay["amt"] = _wan(inv["应收金额(万元)"]), _wan(pay["回款金额(万元)"])
    due = inv[pd.to_datetime(inv["到期日"], format="%Y/%m/%d") <= "2025-10-31"]
    paid = pay[pay["发票号"].isin(due["发票号"])].groupby("经销商编号").amt.sum()
    rate = paid / due.groupby("经销商编号").amt.sum()
    assert rate[weak] < 0.6
    assert rate.drop(weak).median() > 0.85


def test_reps_above_and_below_target(demo, ex):
    from openpyxl import load_workbook

    pl = _truth(demo, "planted.json")
    ws = load_workbook(ex / "targets/targets.xlsx", read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    t = pd.DataFrame(rows[1:], columns=rows[0])
    t = t[t["层级"] == "销售代表"]
    target = t.groupby("对象编号")["目标金额"].sum()
    erp = pd.concat([_read(ex, f"erp/orders_{y}.csv") for y in (2023, 2024, 2025)]).drop_duplicates("订单编号")
    erp = erp[erp["销售类型"] == "直销"]
    actual = pd.to_numeric(erp["订单金额"], errors="coerce").groupby(erp["销售编号"]).sum()
    ach = (actual / target).dropna()
    assert (ach[pl["reps_above_target"]["ids"]] >= 1.2).all()
    assert (ach[pl["reps_below_target"]["ids"]] <= 0.6).all()
    others = ach.drop(pl["reps_above_target"]["ids"] + pl["reps_below_target"]["ids"])
    assert others.between(0.7, 1.3).mean() > 0.8


def test_online_peaks_in_june_and_november(demo, ex):
    out = _truth(demo, "outliers.csv")
    for y in (2023, 2024, 2025):
        rel = f"ecommerce/orders_{y}.csv"
        df = _read(ex, rel)
        df["line"] = np.arange(len(df)) + 2
        bad_lines = set(out[out.file == rel].line)
        df = df[~df.line.isin(bad_lines)]
        df = df[df.order_no.str.len() > 0]  # rows whose order id was blanked (planted errors)
        amt = pd.to_numeric(df.item_amount, errors="coerce")
        month = df.order_time.str[5:7]
        rev = amt.groupby(month).sum()
        rev = rev[rev.index.str.fullmatch(r"\d\d")]
        assert rev["06"] > rev.mean() and rev["11"] > rev.mean(), (y, rev)


def test_spring_festival_month_is_below_its_neighbours(demo):
    mr = _truth(demo, "monthly_revenue.csv")
    rev = mr.groupby("month").net_amount_excl_outliers.sum()
    assert rev["2023-01"] < rev["2023-02"]
    assert rev["2024-02"] < rev["2024-01"] and rev["2024-02"] < rev["2024-03"]
    assert rev["2025-01"] < rev["2024-12"] and rev["2025-01"] < rev["2025-02"]


def test_trends_online_grows_retail_shrinks_southwest_beats_northeast(demo):
    mr = _truth(demo, "monthly_revenue.csv")
    mr["year"] = mr.month.str[:4]
    by_ch = mr.pivot_table(index="year", columns="channel", values="net_amount_excl_outliers", aggfunc="sum")
    assert by_ch.loc["2025", "online"] > 1.3 * by_ch.loc["2023", "online"]
    assert by_ch.loc["2025", "retail"] < by_ch.loc["2023", "retail"] * 1.05
    by_r = mr.pivot_table(index="year", columns="region", values="net_amount_excl_outliers", aggfunc="sum")
    growth = by_r.loc["2025"] / by_r.loc["2023"]
    assert growth["southwest"] > growth["northeast"]


def test_star_products_outsell_and_slow_movers_sit_in_stock(demo, ex):
    pl = _truth(demo, "planted.json")
    qty = []
    for y in (2023, 2024, 2025):
        e = _read(ex, f"ecommerce/orders_{y}.csv")
        qty.append(pd.to_numeric(e.qty, errors="coerce").groupby(e.sku).sum())
    units = pd.concat(qty).groupby(level=0).sum()
    stars, slow = pl["star_products"]["ids"], pl["slow_movers"]["ids"]
    assert units.reindex(stars).fillna(0).min() > units.median()
    assert units.reindex(slow).fillna(0).max() < units.median()
    inv = _read(ex, "erp/inventory.csv")
    inv["q"] = pd.to_numeric(inv["库存数量"])
    stock = inv.groupby("产品编码").q.mean()
    assert stock[slow].min() > stock.median()


# ---- the real ingestion quarantines exactly the planted errors ----------------------------
def test_ingest_quarantines_exactly_the_planted_row_errors(demo, tmp_path):
    from saleslab.ingest import load

    sources = Path(__file__).resolve().parents[1] / "parameters" / "sources"
    rep = load.ingest(demo / "exports", sources, tmp_path / "wh")
    q = pd.concat([pd.read_parquet(p) for p in (tmp_path / "wh" / "_quarantine").glob("*.parquet")])
    got = set(zip(q.file, q.line))
    err = _truth(demo, "errors.csv")
    dup = _truth(demo, "duplicate_rows.csv")
    want = set(zip(err.file, err.line))
    assert want <= got
    # beyond the planted errors: rows that follow a planted error of another row (the lines of an
    # order whose header is planted bad, a return of such an order), and the planted repeats
    follow = {"order_quarantined", "order_missing", "return_order_unknown", "no_valid_lines"}
    consequences = set(zip(q.file[q.reason.isin(follow)], q.line[q.reason.isin(follow)]))
    assert got - want <= set(zip(dup.file, dup.line)) | consequences
    assert rep.totals()["rows_quarantined"] == len(got)
