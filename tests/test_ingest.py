"""Ingestion: mapping, normalising, quarantining, and row accounting that always balances."""

import json
import string
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saleslab.errors import ParameterError
from saleslab.ingest.load import ingest, read_accounting
from saleslab.ingest.mapping import load_mapping

ORDERS_MAP = """
system: ERP
files: "erp/*.csv"
format: csv
encoding: {encoding}
money_unit: {unit}
targets:
  - table: orders
    columns: {{order_id: 订单编号, order_date: 成交日期, customer_id: 客户, order_amount: 金额, region: 区域}}
    constants: {{channel: direct}}
"""

HEADER = "订单编号,成交日期,客户,金额,区域\n"


def setup(tmp: Path, body: bytes, encoding="auto", unit="元", name="orders.csv", mapping=ORDERS_MAP):
    (tmp / "in" / "erp").mkdir(parents=True, exist_ok=True)
    (tmp / "src").mkdir(exist_ok=True)
    (tmp / "in" / "erp" / name).write_bytes(body)
    (tmp / "src" / "erp_orders.yaml").write_text(mapping.format(encoding=encoding, unit=unit), encoding="utf-8")
    return tmp / "in", tmp / "src", tmp / "wh"


def load(wh: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(wh / table)


def test_every_row_is_loaded_or_quarantined_with_file_line_and_reason(tmp_path):
    body = (HEADER + 'SO1,2024/5/1,C1,"1,234.5",华东\nSO2,20240502,C2,12,上海市\nSO3,2024-13-45,C3,5,华南\n'
            'SO1,2024/5/1,C1,"1,234.5",华东\n\nSO4,2024/5/1,C1\n' + HEADER + "SO5,45413,,abc,成都\n"
            "SO2,2024/5/3,C9,1,华北\n")
    rep = ingest(*setup(tmp_path, body.encode("utf-8")))
    (acc,) = rep.files
    assert (acc.rows_read, acc.rows_loaded, acc.rows_merged, acc.rows_quarantined, acc.blank_lines) == (8, 2, 1, 5, 1)
    orders = load(tmp_path / "wh", "orders").sort_values("order_id")
    assert orders["order_id"].tolist() == ["SO1", "SO2"]
    assert orders["_line"].tolist() == [2, 3]
    assert orders["region"].tolist() == ["east", "east"]
    assert orders["order_amount"].tolist() == [1234.5, 12.0]
    q = load(tmp_path / "wh", "_quarantine").sort_values("line")
    assert list(zip(q["line"], q["reason"])) == [
        (4, "unparseable_date"), (7, "field_count"), (8, "repeated_header"),
        (9, "unparseable_number"), (10, "duplicate_key")]
    # the exact repeat of line 2 is merged into it, not an error
    m = load(tmp_path / "wh", "_merged")
    assert list(zip(m["line"], m["rule"], m["merged_into_line"])) == [(5, "duplicate_row", 2)]
    bad_date = q[q["line"] == 4].iloc[0]
    assert bad_date["column"] == "成交日期 -> order_date" and bad_date["file"] == "erp/orders.csv"
    assert json.loads(bad_date["raw"])["成交日期"] == "2024-13-45"


def test_gbk_file_with_wan_yuan_amounts(tmp_path):
    body = (HEADER + 'SO1,2024/5/1,C1,"1,234.567800",华东\n').encode("gbk")
    rep = ingest(*setup(tmp_path, body, unit="万元"))
    assert rep.files[0].rows_loaded == 1 and rep.files[0].encoding == "per-line"
    assert load(tmp_path / "wh", "orders")["order_amount"].tolist() == [12345678.0]


def test_utf8_bom_header_is_recognised(tmp_path):
    body = ("\ufeff" + HEADER + "SO1,2024/5/1,C1,1,华东\n").encode("utf-8")
    rep = ingest(*setup(tmp_path, body))
    assert rep.files[0].rows_loaded == 1 and rep.files[0].encoding == "utf-8-sig"


def test_mixed_encodings_in_one_file_load_and_undecodable_lines_are_quarantined(tmp_path):
    body = (HEADER.encode("utf-8") + "SO1,2024/5/1,C1,1,华东\n".encode("utf-8")
            + "SO2,2024/5/1,C2,1,华南\n".encode("gbk") + b"\xff\xff\x80,\xff\n" + "SO3,2024/5/1,C3,1,华北\n".encode())
    rep = ingest(*setup(tmp_path, body))
    acc = rep.files[0]
    assert (acc.rows_read, acc.rows_loaded, acc.quarantined_by_reason) == (4, 3, {"undecodable": 1})
    orders = load(tmp_path / "wh", "orders").sort_values("order_id")
    assert orders["region"].tolist() == ["east", "south", "north"]
    assert orders["_line"].tolist() == [2, 3, 5]
    assert load(tmp_path / "wh", "_quarantine")["line"].tolist() == [4]


def test_quoted_newlines_keep_physical_line_numbers(tmp_path):
    mapping = ORDERS_MAP.replace("order_amount: 金额, region: 区域", "order_amount: 金额, region: 区域, external_ref: 备注")
    body = (HEADER.replace("区域\n", "区域,备注\n") + 'SO1,2024/5/1,C1,1,华东,"two\nlines"\nSO2,2024/5/1,C2,1,华东,x\n')
    rep = ingest(*setup(tmp_path, body.encode(), mapping=mapping))
    assert rep.files[0].rows_loaded == 2
    assert load(tmp_path / "wh", "orders").sort_values("order_id")["_line"].tolist() == [2, 4]


@pytest.mark.parametrize("body, message", [
    (b"", "file is empty"),
    (b"PK\x03\x04" + b"\x00" * 40, "Excel/zip file, not a CSV"),
    (b"\x00\x01\x02binary", "binary content"),
    ("订单编号,日期\nSO1,2024/5/1\n".encode(), "mapped column(s) '区域', '客户', '成交日期', '金额' not in the header"),
])
def test_unreadable_files_are_rejected_with_one_clear_message(tmp_path, body, message):
    rep = ingest(*setup(tmp_path, body))
    (acc,) = rep.files
    assert acc.status == "rejected" and message in acc.message and "erp/orders.csv" in acc.message
    assert acc.rows_read == acc.rows_quarantined and acc.rows_loaded == 0
    assert not list((tmp_path / "wh" / "orders").glob("erp_orders*"))
    q = load(tmp_path / "wh", "_quarantine")
    assert len(q) == acc.rows_quarantined and set(q["reason"]) <= {"file_rejected"}


def test_declared_encoding_that_does_not_fit_names_the_line(tmp_path):
    body = (HEADER + "SO1,2024/5/1,C1,1,华东\n").encode("gbk")
    rep = ingest(*setup(tmp_path, body, encoding="utf-8"))
    assert rep.files[0].status == "rejected"
    assert "line 1" in rep.files[0].message and "header row cannot be read" in rep.files[0].message
    assert "not UTF-8" in rep.files[0].message


def test_declared_encoding_quarantines_the_lines_it_cannot_decode(tmp_path):
    body = (HEADER + "SO1,2024/5/1,C1,1,华东\n").encode("utf-8") + "SO2,2024/5/1,C2,1,华南\n".encode("gbk")
    rep = ingest(*setup(tmp_path, body, encoding="utf-8"))
    assert rep.files[0].quarantined_by_reason == {"undecodable": 1} and rep.files[0].rows_loaded == 1


def test_excel_with_title_row_above_header(tmp_path):
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["产品主数据 导出时间 2026-01-02"])
    ws.append(["产品编码", "产品名称", "品类", "标价", "单位成本", "上市日期"])
    ws.append(["P0001", "电饭煲", "厨房电器", 399, 210.5, dt.datetime(2023, 3, 1)])
    ws.append(["P0002", "吹风机", "个护电器", "129", "70", 45000])
    ws.append([None, None, None, None, None, None])
    ws.append(["P0003", "", "个护电器", 1, 1, None])
    (tmp_path / "in" / "erp").mkdir(parents=True)
    wb.save(tmp_path / "in" / "erp" / "products.xlsx")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "erp_products.yaml").write_text("""
files: erp/products.xlsx
format: excel
header_row: 2
targets:
  - table: products
    columns: {product_id: 产品编码, name: 产品名称, category: 品类, list_price: 标价, unit_cost: 单位成本, launch_date: 上市日期}
""", encoding="utf-8")
    rep = ingest(tmp_path / "in", tmp_path / "src", tmp_path / "wh")
    acc = rep.files[0]
    assert (acc.rows_read, acc.rows_loaded, acc.rows_quarantined) == (3, 2, 1)
    p = load(tmp_path / "wh", "products").sort_values("product_id")
    assert p["launch_date"].astype(str).tolist() == ["2023-03-01", "2023-03-15"]
    assert p["_line"].tolist() == [3, 4]
    q = load(tmp_path / "wh", "_quarantine")
    assert q["reason"].tolist() == ["missing_required"] and q["line"].tolist() == [6]


def test_excel_file_that_is_not_a_workbook_is_rejected(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "p.xlsx").write_text("a,b\n1,2\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "p.yaml").write_text(
        "files: p.xlsx\nformat: excel\ntargets:\n  - table: distributors\n    columns: {distributor_id: a, name: b}\n")
    rep = ingest(tmp_path / "in", tmp_path / "src", tmp_path / "wh")
    assert rep.files[0].status == "rejected" and "not an Excel workbook" in rep.files[0].message
    assert rep.files[0].rows_quarantined == 2


LINES_MAP = """
files: "pos/*.csv"
format: csv
date_formats: ["%Y%m%d"]
targets:
  - table: orders
    distinct: true
    columns: {order_id: txn, order_date: date, customer_id: member, store_id: store}
    constants: {channel: retail}
  - table: order_lines
    columns: {order_id: txn, product_id: sku, quantity: qty, unit_price: price, discount: disc}
"""


def test_line_level_export_fills_order_headers_once_and_numbers_lines(tmp_path):
    (tmp_path / "in" / "pos").mkdir(parents=True)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "pos.yaml").write_text(LINES_MAP)
    (tmp_path / "in" / "pos" / "t.csv").write_text(
        "txn,date,member,store,sku,qty,price,disc\n"
        "T1,20240501,V1,S1,P1,2,10.5,1\n"
        "T1,20240501,V1,S1,P2,1,3,\n"
        "T2,20240502,,S1,P1,1,10.5,0\n"
        "T1,20240509,V1,S1,P3,1,1,0\n")  # same order id, different header: conflicting
    rep = ingest(tmp_path / "in", tmp_path / "src", tmp_path / "wh")
    acc = rep.files[0]
    assert (acc.rows_read, acc.rows_loaded) == (4, 3)
    assert acc.loaded_by_table == {"orders": 2, "order_lines": 3}
    assert acc.quarantined_by_reason == {"conflicting_duplicate": 1}
    lines = load(tmp_path / "wh", "order_lines").sort_values(["order_id", "line_no"])
    assert lines[["order_id", "line_no"]].values.tolist() == [["T1", 1], ["T1", 2], ["T2", 1]]
    assert lines["net_amount"].tolist() == [20.0, 3.0, 10.5]
    assert lines["discount"].tolist() == [1.0, 0.0, 0.0]


def test_mapping_with_unknown_column_fails_fast_naming_file_and_key(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("files: a.csv\nformat: csv\ntargets:\n  - table: orders\n    columns: {order_idd: x}\n")
    with pytest.raises(ParameterError) as e:
        load_mapping(p)
    assert "bad.yaml" in str(e.value) and "order_idd" in str(e.value) and "columns:" in str(e.value)


def test_mapping_missing_required_columns_is_rejected(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("files: a.csv\nformat: csv\ntargets:\n  - table: orders\n    columns: {order_id: x}\n")
    with pytest.raises(ParameterError, match="required columns of orders not mapped: order_date, channel"):
        load_mapping(p)


def test_accounting_is_written_beside_the_warehouse(tmp_path):
    ingest(*setup(tmp_path, (HEADER + "SO1,2024/5/1,C1,1,华东\n").encode()))
    acc = read_accounting(tmp_path / "wh")
    assert acc["files"][0]["rows_read"] == 1 and len(acc["files"][0]["sha256"]) == 64


# ---- property: randomly broken files always balance ---------------------------------------
GOOD = st.tuples(
    st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=6),
    st.sampled_from(["2024/5/1", "20240502", "2024-05-03", "45413", "2024-13-45", "", "N/A"]),
    st.sampled_from(["C1", "", "Ｃ２"]),
    st.sampled_from(["1", "1,234.5", "abc", "", "-3"]),
    st.sampled_from(["华东", "East China", "火星", ""]),
).map(lambda t: ",".join(t).encode())
BROKEN = st.sampled_from([
    b"", b"   ", b"only,three,fields", b"a,b,c,d,e,f,g", "订单编号,成交日期,客户,金额,区域".encode(),
    b"\xff\xfe\x80,\xff", "SO9,2024/5/1,C1,1,华南".encode("gbk"), b'"unterminated,x,y,z,w',
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(GOOD, GOOD, BROKEN), max_size=30), eol=st.sampled_from([b"\n", b"\r\n"]),
       bom=st.booleans())
def test_randomly_broken_files_always_balance(tmp_path_factory, rows, eol, bom):
    tmp = tmp_path_factory.mktemp("prop")
    body = (b"\xef\xbb\xbf" if bom else b"") + HEADER.encode().rstrip(b"\n") + eol + eol.join(rows) + eol
    rep = ingest(*setup(tmp, body))
    (acc,) = rep.files
    assert acc.rows_read == acc.rows_loaded + acc.rows_merged + acc.rows_quarantined
    if acc.status == "loaded":
        q = load(tmp / "wh", "_quarantine")
        assert len(q) == acc.rows_quarantined
        orders = load(tmp / "wh", "orders")
        assert len(orders) == acc.rows_loaded
        # nothing dropped: non-blank records = loaded + quarantined (an unterminated quote may
        # swallow the lines after it into one record, so only an upper bound holds then)
        nonblank = sum(1 for r in rows if r.strip(b" ,"))
        if not any(r.startswith(b'"unterminated') for r in rows):
            assert acc.rows_read == nonblank
        else:
            assert acc.rows_read <= nonblank
        text = body.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
        for oid, line in zip(orders["order_id"], orders["_line"]):
            assert oid in text[line - 1].replace("Ｃ２", "C2")
