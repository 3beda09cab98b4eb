"""The cleaning layer: entity resolution, duplicate orders, impossible values, fills, outliers,
incremental refresh — on hand-made exports with hand-worked expectations, and scored against the
demo generator's answer key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from saleslab.demo.score import score
from saleslab.ingest.clean import CleaningRules
from saleslab.ingest.entities import normalise_name, resolve_customers
from saleslab.ingest.load import ingest, read_accounting, read_history

# ---- entity resolution (pure) --------------------------------------------------------------


@pytest.mark.parametrize("variant", [
    "华信电器有限公司", "华信电器有限责任公司", "华信 电器有限公司", " 华信电器有限公司 ", "上海华信电器有限公司",
    "(上海)华信电器有限公司", "（上海）华信电器有限公司", "华信電器有限公司".replace("電", "电"),
])
def test_company_name_variants_normalise_to_one_form(variant):
    assert normalise_name(variant) == normalise_name("华信电器有限公司") == "华信电器有限公司"


def test_fullwidth_and_case_are_the_same_name():
    assert normalise_name("ＡＢＣ科技（深圳）有限公司") == normalise_name("abc科技(深圳)有限公司")
    assert normalise_name(None) is None and normalise_name("  ") is None


def _cust(rows):
    cols = ["customer_id", "name", "customer_type", "phone", "email", "tax_id", "_source"]
    return pd.DataFrame(rows, columns=cols)


def test_strong_signals_merge_and_weak_ones_go_to_review():
    c = _cust([
        ("C1", "华信电器有限公司", "company", "13800000001", None, "91AAAA0001", "crm"),
        ("C2", "华信电器有限责任公司", "company", None, None, "91AAAA0001", "crm"),     # same tax id
        ("M1", "上海华信电器有限公司", "company", "138-0000-0001", None, None, "web"),  # phone + name
        ("M2", "宏达机械有限公司", "company", None, "a@x.cn", None, "web"),
        ("C3", "宏达机械有限公司", "company", None, "A@X.CN ", None, "crm"),         # e-mail + name
        ("C4", "远大贸易有限公司", "company", "13900000009", None, None, "crm"),
        ("M3", "远大贸易有限公司", "company", "13700000007", None, None, "web"),      # name only: review
        ("C5", "星光零售有限公司", "company", "13600000006", None, None, "crm"),
        ("M4", "月亮餐饮有限公司", "company", "13600000006", None, None, "web"),      # phone only: review
        ("P1", "王伟", "person", "15000000001", None, None, "pos"),
        ("P2", "王伟", "person", "15000000002", None, None, "web"),                  # namesakes: nothing
    ])
    m, r = resolve_customers(c, {"crm": 1, "web": 3, "pos": 3})
    canon = dict(zip(m.customer_id, m.canonical_id))
    rule = dict(zip(m.customer_id, m.rule))
    assert canon["C2"] == canon["M1"] == canon["C1"] == "C1"
    assert (rule["C1"], rule["C2"], rule["M1"]) == ("self", "tax_id", "phone+name")
    assert canon["M2"] == canon["C3"] == "C3"  # the CRM record is the canonical one
    assert rule["M2"] == "email+name"
    for a, b in (("C4", "M3"), ("C5", "M4"), ("P1", "P2")):
        assert canon[a] != canon[b]
    pairs = {frozenset((x, y)): s for x, y, s in zip(r.customer_id, r.other_id, r.signal)}
    assert pairs == {frozenset(("C4", "M3")): "name_only", frozenset(("C5", "M4")): "phone_only"}
    assert len(m) == len(c) and m.customer_id.is_unique


def test_conflicting_tax_ids_merge_only_on_name_and_phone_and_are_shown_for_review():
    c = _cust([
        ("C1", "华信电器有限公司", "company", "13800000001", None, "91AAAA0001", "crm"),
        ("C2", "华信电器有限公司", "company", "13800000001", None, "91BBBB0002", "crm"),
        ("C3", "华信电器有限公司", "company", None, None, "91CCCC0003", "crm"),  # name only, own tax id
    ])
    m, r = resolve_customers(c)
    canon = dict(zip(m.customer_id, m.canonical_id))
    assert canon["C1"] == canon["C2"] and canon["C3"] == "C3"
    assert set(r.signal) == {"tax_id_conflict", "name_only"}


# ---- the warehouse layer on hand-made exports ------------------------------------------------

ERP = """source: erp
system: ERP
priority: 1
files: erp_orders.csv
format: csv
targets:
  - table: orders
    columns: {order_id: order, order_date: date, customer_id: cust, channel: channel, region: region, rep_id: rep, external_ref: ref}
"""
ERP_LINES = """source: erp_lines
system: ERP
priority: 1
files: erp_lines.csv
format: csv
targets:
  - table: order_lines
    columns: {order_id: order, line_no: line, product_id: sku, quantity: qty, unit_price: price}
"""
WEB = """source: web
system: Web
priority: 3
files: web_*.csv
format: csv
targets:
  - table: orders
    distinct: true
    columns: {order_id: order, order_date: date, customer_id: member, region: region}
    constants: {channel: online}
  - table: order_lines
    columns: {order_id: order, product_id: sku, quantity: qty, unit_price: price}
"""
CRM = """source: crm
system: CRM
priority: 1
files: crm.csv
format: csv
targets:
  - table: customers
    columns: {customer_id: id, name: name, customer_type: type, industry: industry, region: region, tax_id: tax, phone: phone}
"""
MEMBERS = """source: members
system: Web
priority: 3
files: members.csv
format: csv
targets:
  - table: customers
    columns: {customer_id: id, name: name, customer_type: type, tax_id: tax, phone: phone}
"""
REPS = """source: reps
files: reps.csv
format: csv
targets:
  - table: reps
    columns: {rep_id: id, name: name, team: team, region: region}
"""

FILES = {
    "crm.csv": "id,name,type,industry,region,tax,phone\n"
               "C1,华信电器有限公司,company,制造业,华东,91AAAA0001,13800000001\n"
               "C2,宏达机械有限公司,company,,华南,91BBBB0002,13900000002\n",
    "members.csv": "id,name,type,tax,phone\n"
                   "M1,华信电器有限责任公司,company,91AAAA0001,\n"
                   "M2,宏达机械有限公司,company,,13900000002\n",
    "reps.csv": "id,name,team,region\nR1,张三,一组,华北\n",
    "erp_orders.csv": "order,date,cust,channel,region,rep,ref\n"
                      "SO1,2024-05-01,C1,direct,华东,R1,W1\n"     # W1 is its web copy (by key)
                      "SO2,2024-05-02,C1,direct,华东,R1,\n"       # W2 is its web copy (no key)
                      "SO3,2024-05-02,C2,direct,,R1,\n"           # region missing -> customer's (south)
                      "SO4,2099-01-01,C2,direct,华南,R1,\n"       # impossible date
                      "SO5,2024-05-04,C9,direct,,R1,\n"           # unknown customer: region from rep
                      "SO6,2024-05-06,C1,direct,华东,R1,\n",       # its only line is impossible
    "erp_lines.csv": "order,line,sku,qty,price\n"
                     "SO1,1,P1,2,100\nSO1,2,P2,1,50\n"
                     "SO2,1,P1,1,100\nSO2,2,P3,3,10\n"
                     "SO3,1,P1,0,100\nSO3,2,P2,-1,50\nSO3,3,P2,2,50\n"   # qty 0 quarantined; -1 is a return line
                     "SO4,1,P1,1,100\n"
                     "SO5,1,P1,1,-5\nSO5,2,P2,1,50\n"                    # negative price quarantined
                     "SO6,1,P1,0,100\n",
    "web_2024.csv": "order,date,member,region,sku,qty,price\n"
                    "W1,2024-05-01,M1,上海,P1,2,100\nW1,2024-05-01,M1,上海,P2,1,50\n"
                    "W2,2024-05-03,M1,上海,P1,1,100\nW2,2024-05-03,M1,上海,P3,3,10\n"
                    "W3,2024-05-02,M1,上海,P1,1,100\nW3,2024-05-02,M1,上海,P3,3,12\n"  # amount differs: not a copy
                    "W4,2024-05-05,M2,广州,P2,1,50\nW4,2024-05-05,M2,广州,P2,1,50\n",  # exact repeat row
}
RETURNS = """source: returns
files: returns.csv
format: csv
targets:
  - table: returns
    columns: {return_id: id, order_id: order, product_id: sku, return_date: date, quantity: qty, amount: amount}
"""
FILES["returns.csv"] = ("id,order,sku,date,qty,amount\n"
                        "R1,W1,P1,2024-05-10,1,100\n"     # booked against the web copy of SO1
                        "R2,SO9,P1,2024-05-11,1,10\n")    # an order nobody exported
MAPS = {"returns.yaml": RETURNS, "erp.yaml": ERP, "erp_lines.yaml": ERP_LINES, "web.yaml": WEB, "crm.yaml": CRM,
        "members.yaml": MEMBERS, "reps.yaml": REPS}
RULES = CleaningRules(latest_date=dt.date(2025, 12, 31))


def _write(folder: Path, texts: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clean")
    _write(tmp / "in", FILES)
    _write(tmp / "src", MAPS)
    rep = ingest(tmp / "in", tmp / "src", tmp / "wh", cleaning=RULES)
    return tmp / "wh", rep


def _t(wh: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(wh / name)


def test_cross_system_copies_are_merged_into_the_priority_source(cleaned):
    wh, _ = cleaned
    m = _t(wh, "_merged")
    heads = m[m.table == "orders"].set_index("key")
    assert set(heads.index) == {"W1", "W2"}
    assert heads.loc["W1", "rule"] == "external_ref" and heads.loc["W1", "merged_into_key"] == "SO1"
    assert heads.loc["W2", "rule"] == "customer_date_lines" and heads.loc["W2", "merged_into_key"] == "SO2"
    assert heads.loc["W1", "merged_into_file"] == "erp_orders.csv" and heads.loc["W1", "merged_into_line"] == 2
    orders = _t(wh, "orders")
    assert sorted(orders.order_id) == ["SO1", "SO2", "SO3", "SO5", "W3", "W4"]
    lines = _t(wh, "order_lines")
    assert not lines.order_id.isin(["W1", "W2", "SO4"]).any()


def test_exact_repeat_rows_are_merged_not_quarantined(cleaned):
    wh, rep = cleaned
    m = _t(wh, "_merged")
    dup = m[m.rule == "duplicate_row"]
    assert list(zip(dup.file, dup.line, dup.merged_into_line)) == [("web_2024.csv", 9, 8)]
    web = next(a for a in rep.files if a.file == "web_2024.csv")
    # 8 rows: W1 (2) and W2 (2) merged as copies, 1 exact repeat merged, W3 (2) + W4 (1) loaded
    assert (web.rows_read, web.rows_loaded, web.rows_merged, web.rows_quarantined) == (8, 3, 5, 0)
    assert web.merged_by_rule == {"duplicate_row": 1, "external_ref": 2, "customer_date_lines": 2}


def test_impossible_values_are_quarantined_and_returns_kept(cleaned):
    wh, rep = cleaned
    q = _t(wh, "_quarantine")
    got = {(f, ln): (r, c) for f, ln, r, c in zip(q.file, q.line, q.reason, q.column)}
    assert got == {
        ("erp_orders.csv", 5): ("impossible_date", "order_date"),
        ("erp_lines.csv", 6): ("impossible_value", "quantity"),
        ("erp_lines.csv", 9): ("order_quarantined", "order_id"),
        ("erp_lines.csv", 10): ("impossible_value", "unit_price"),
        ("erp_orders.csv", 7): ("no_valid_lines", "order_id"),
        ("erp_lines.csv", 12): ("impossible_value", "quantity"),
        ("returns.csv", 3): ("return_order_unknown", "order_id"),
    }
    lines = _t(wh, "order_lines")
    so3 = lines[lines.order_id == "SO3"].sort_values("line_no")
    assert so3.quantity.tolist() == [-1, 2] and so3.net_amount.sum() == 50  # the return line nets revenue
    for a in rep.files:
        assert a.rows_read == a.rows_loaded + a.rows_merged + a.rows_quarantined, a.file
    erp_lines = next(a for a in rep.files if a.file == "erp_lines.csv")
    # SO1 and SO2 are kept (ERP has priority): their copies W1, W2 are merged in the web file
    assert (erp_lines.rows_read, erp_lines.rows_loaded, erp_lines.rows_merged, erp_lines.rows_quarantined) == \
        (11, 7, 0, 4)


def test_lines_whose_order_header_is_quarantined_or_missing_are_quarantined_with_it(tmp_path):
    files = dict(FILES)
    files["erp_orders.csv"] += ("SO7,2024-13-45,C1,direct,华东,R1,\n"   # unreadable date: header quarantined
                                ",2024-05-07,C1,direct,华东,R1,\n")      # blank order id: header quarantined
    files["erp_lines.csv"] += "SO7,1,P1,1,100\nSO7,2,P2,1,50\nSO8,1,P1,3,100\n"  # SO8: no header anywhere
    _write(tmp_path / "in", files)
    _write(tmp_path / "src", MAPS)
    rep = ingest(tmp_path / "in", tmp_path / "src", tmp_path / "wh", cleaning=RULES)
    q = _t(tmp_path / "wh", "_quarantine")
    got = {ln: r for f, ln, r in zip(q.file, q.line, q.reason) if f == "erp_lines.csv" and ln >= 13}
    assert got == {13: "order_quarantined", 14: "order_quarantined", 15: "order_missing"}
    assert not set(_t(tmp_path / "wh", "order_lines").order_id) & {"SO7", "SO8"}
    lines = next(a for a in rep.files if a.file == "erp_lines.csv")
    assert lines.rows_read == lines.rows_loaded + lines.rows_merged + lines.rows_quarantined
    assert lines.quarantined_by_reason["order_quarantined"] == 3 and lines.quarantined_by_reason["order_missing"] == 1


def test_orders_carry_the_canonical_customer_and_explicit_fills(cleaned):
    wh, rep = cleaned
    o = _t(wh, "orders").set_index("order_id")
    assert o.loc["W3", "customer_id"] == "C1" and o.loc["W3", "source_customer_id"] == "M1"
    assert o.loc["W4", "customer_id"] == "C2" and o.loc["W4", "source_customer_id"] == "M2"
    assert o.loc["SO3", "region"] == "south" and o.loc["SO5", "region"] == "north"
    fills = _t(wh, "_fills")
    got = {(t, k, c): (v, r) for t, k, c, v, r in zip(fills.table, fills.key, fills.column, fills.value, fills.rule)}
    assert got == {
        ("customers", "C2", "industry"): ("其他", "missing industry -> marker"),
        ("customers", "M1", "industry"): ("其他", "missing industry -> marker"),
        ("customers", "M2", "industry"): ("其他", "missing industry -> marker"),
        ("orders", "SO3", "region"): ("south", "region from customer"),
        ("orders", "SO5", "region"): ("north", "region from owning rep"),
    }
    cust = _t(wh, "customers").set_index("customer_id")
    assert cust.loc["C2", "industry"] == "其他"
    assert sum(a.values_filled for a in rep.files) == 5
    cmap = _t(wh, "customer_map").set_index("customer_id")
    assert cmap.loc["M1", "canonical_id"] == "C1" and cmap.loc["M1", "rule"] == "tax_id"
    assert cmap.loc["M2", "rule"] == "phone+name"


def test_revenue_after_cleaning_equals_the_hand_sum(cleaned):
    wh, _ = cleaned
    lines = _t(wh, "order_lines")
    # SO1 250, SO2 130, SO3 -50+100, SO5 50, W3 136, W4 50
    assert round(lines.net_amount.sum(), 2) == 250 + 130 + 50 + 50 + 136 + 50


def test_coverage_is_reported(cleaned):
    wh, _ = cleaned
    cov = read_accounting(wh)["cleaning"]["coverage"]
    # 10 final lines; SO5's customer C9 is not in the customer master: 9 of 10 lines have a known customer
    assert cov["customer"] == 0.9 and cov["region"] == 1.0 and cov["channel"] == 1.0
    assert cov["product"] == 0.0  # no product master in this warehouse


def test_returns_follow_their_order_to_the_kept_copy(cleaned):
    wh, _ = cleaned
    r = _t(wh, "returns").set_index("return_id")
    assert r.loc["R1", "order_id"] == "SO1"
    assert read_accounting(wh)["cleaning"]["returns"] == {"rows": 1, "relinked_to_kept_order": 1,
                                                          "quarantined_without_order": 1}


def test_a_return_of_an_unknown_order_is_quarantined_not_loaded(cleaned):
    wh, _ = cleaned
    assert "R2" not in set(_t(wh, "returns").return_id)  # its order SO9 is in no export
    q = _t(wh, "_quarantine")
    row = q[q.reason == "return_order_unknown"]
    assert len(row) == 1 and '"SO9"' in row.raw.iloc[0] and row.column.iloc[0] == "order_id"


# ---- outliers -----------------------------------------------------------------------------

def test_outliers_are_flagged_by_product_and_by_customer_not_deleted(tmp_path):
    rows = ["order,date,member,region,sku,qty,price"]
    n = 0
    for i in range(40):  # P1 is bought one or two at a time
        n += 1
        rows.append(f"W{n},2024-05-{1 + i % 28:02d},M{i % 8},上海,P1,{1 + i % 2},10")
    rows.append("W900,2024-06-01,M1,上海,P1,60,10")  # 60 units: far above P1's range
    for i in range(10):  # M77 always buys 100 of P2; one order of 5000
        rows.append(f"X{i},2024-05-{1 + i:02d},M77,上海,P2,{100 + i},1")
        rows.append(f"Y{i},2024-05-{1 + i:02d},M{i % 8},上海,P2,{95 + i},1")
    rows.append("X99,2024-06-02,M77,上海,P2,5000,1")
    _write(tmp_path / "in", {"web_1.csv": "\n".join(rows) + "\n"})
    _write(tmp_path / "src", {"web.yaml": WEB})
    ingest(tmp_path / "in", tmp_path / "src", tmp_path / "wh", cleaning=RULES)
    out = _t(tmp_path / "wh", "_outliers")
    assert sorted(out.order_id) == ["W900", "X99"]
    w = out.set_index("order_id").loc["W900"]
    assert w.product_typical == 2 and w.quantity == 60  # median of 20 ones, 20 twos and the 60 and "product" in w.rule
    assert "customer" in out.set_index("order_id").loc["X99", "rule"]
    assert len(_t(tmp_path / "wh", "order_lines")) == len(rows) - 1  # flagged lines stay in the warehouse


# ---- incremental refresh ------------------------------------------------------------------

def _month(m: int, seed: int = 0) -> str:
    rows = ["order,date,member,region,sku,qty,price"]
    for i in range(6):
        rows.append(f"W{m:02d}{i}{seed},2024-{m:02d}-{1 + i:02d},M{i % 3},上海,P{i % 2},{1 + i % 3},{10 + seed}")
    return "\n".join(rows) + "\n"


def _snapshot(wh: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ("orders", "order_lines", "customers", "_quarantine", "_merged", "_outliers", "_fills",
                 "customer_map"):
        df = pd.read_parquet(wh / name)
        out[name] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def _same(a: Path, b: Path) -> None:
    sa, sb = _snapshot(a), _snapshot(b)
    for k in sa:
        pd.testing.assert_frame_equal(sa[k], sb[k], check_dtype=False, obj=k)


def test_incremental_refresh_equals_a_full_rebuild(tmp_path):
    src = _write(tmp_path / "src", {"web.yaml": WEB, "members.yaml": MEMBERS})
    inp = _write(tmp_path / "in", {"web_01.csv": _month(1), "web_02.csv": _month(2),
                                   "members.csv": "id,name,type,tax,phone\nM0,甲,person,,1\nM1,乙,person,,2\n"})
    wh = tmp_path / "wh"
    ingest(inp, src, wh, cleaning=RULES)
    # one new monthly file: only it is read
    (inp / "web_03.csv").write_text(_month(3), encoding="utf-8")
    rep = ingest(inp, src, wh, cleaning=RULES)
    assert sorted(a.file for a in rep.files if not a.reused) == ["web_03.csv"]
    full = tmp_path / "full"
    ingest(inp, src, full, cleaning=RULES, incremental=False)
    _same(wh, full)
    # twice in a row: nothing is read, nothing changes
    before = _snapshot(wh)
    rep = ingest(inp, src, wh, cleaning=RULES)
    assert all(a.reused for a in rep.files)
    for k, df in _snapshot(wh).items():
        pd.testing.assert_frame_equal(df, before[k], check_dtype=False, obj=k)
    # a corrected file replaces its old rows
    (inp / "web_02.csv").write_text(_month(2, seed=7), encoding="utf-8")
    rep = ingest(inp, src, wh, cleaning=RULES)
    assert [a.file for a in rep.files if not a.reused] == ["web_02.csv"]
    lines = pd.read_parquet(wh / "order_lines")
    feb = lines[lines.order_id.str.startswith("W02")]
    assert len(feb) == 6 and set(feb.unit_price) == {17.0}
    full2 = tmp_path / "full2"
    ingest(inp, src, full2, cleaning=RULES, incremental=False)
    _same(wh, full2)
    # a removed file's rows leave the warehouse
    (inp / "web_01.csv").unlink()
    ingest(inp, src, wh, cleaning=RULES)
    assert not pd.read_parquet(wh / "orders").order_id.str.startswith("W01").any()
    hist = read_history(wh)
    assert len(hist) == 5 and hist.files_reused.tolist() == [0, 3, 4, 3, 3]


def test_a_changed_mapping_rereads_its_files(tmp_path):
    src = _write(tmp_path / "src", {"web.yaml": WEB})
    inp = _write(tmp_path / "in", {"web_01.csv": _month(1)})
    ingest(inp, src, tmp_path / "wh", cleaning=RULES)
    (src / "web.yaml").write_text(WEB.replace("priority: 3", "priority: 2"), encoding="utf-8")
    rep = ingest(inp, src, tmp_path / "wh", cleaning=RULES)
    assert not any(a.reused for a in rep.files)


# ---- scored against the demo's answer key -------------------------------------------------

def test_cleaning_scores_on_the_demo_meet_the_targets(demo_warehouse, demo_dir):
    s = score(demo_warehouse, demo_dir / "truth")
    assert s["dup_precision"] >= 0.99 and s["dup_recall"] >= 0.98, s
    assert s["customer_precision"] >= 0.99 and s["customer_recall"] >= 0.98, s
    assert s["outlier_recall"] >= 0.98, s
    assert s["coverage"] >= 0.98, s
    assert s["dup_pairs"]["truth"] > 10 and s["customer_pairs"]["truth"] > 100  # the key is not trivial


def test_every_demo_file_balances_with_merged_rows(demo_warehouse, demo_dir):
    acc = read_accounting(demo_warehouse)
    files = acc["files"]
    assert all(f["rows_read"] == f["rows_loaded"] + f["rows_merged"] + f["rows_quarantined"] for f in files)
    dup_rows = pd.read_csv(demo_dir / "truth" / "duplicate_rows.csv")
    merged = pd.read_parquet(demo_warehouse / "_merged")
    got = set(zip(merged[merged.rule == "duplicate_row"].file, merged[merged.rule == "duplicate_row"].line))
    assert set(zip(dup_rows.file, dup_rows.line)) <= got


def test_reading_files_in_two_processes_gives_the_same_warehouse(tmp_path):
    src = _write(tmp_path / "src", {"web.yaml": WEB, "members.yaml": MEMBERS})
    inp = _write(tmp_path / "in", {**{f"web_{m:02d}.csv": _month(m) for m in range(1, 7)},
                                   "members.csv": "id,name,type,tax,phone\nM0,甲,person,,1\nM1,乙,person,,2\n"})
    serial = ingest(inp, src, tmp_path / "serial", cleaning=RULES, workers=1)
    parallel = ingest(inp, src, tmp_path / "parallel", cleaning=RULES, workers=2)
    assert [(a.file, a.rows_read, a.rows_loaded) for a in serial.files] == \
        [(a.file, a.rows_read, a.rows_loaded) for a in parallel.files]
    _same(tmp_path / "serial", tmp_path / "parallel")


def test_a_missing_part_makes_the_file_read_again(tmp_path):
    src = _write(tmp_path / "src", {"web.yaml": WEB})
    dup = _month(1) + _month(1).splitlines()[1] + "\n"  # one exact repeat: a _merged part exists
    inp = _write(tmp_path / "in", {"web_01.csv": dup, "web_02.csv": _month(2)})
    wh = tmp_path / "wh"
    ingest(inp, src, wh, cleaning=RULES)
    for p in (wh / "_parts" / "_merged").glob("web--web_01-*.parquet"):
        p.unlink()
    rep = ingest(inp, src, wh, cleaning=RULES)
    assert {a.file: a.reused for a in rep.files} == {"web_01.csv": False, "web_02.csv": True}
    assert next(a for a in rep.files if a.file == "web_01.csv").rows_merged == 1
    assert all(a.seconds == 0.0 for a in rep.files if a.reused)
