"""Bad input: ≥ 1,000 generated broken exports through ingestion, and formula-safe exports.

Every broken file (see ``badinput.py``) must come out of ``ingest`` without an exception, with its
row accounting balanced (rows read = loaded + merged + quarantined), with the number of records
the generator put in it, each record at its physical line with an outcome its damage allows, and,
when it cannot be read at all, rejected with one message that names the file (and line). What
ingestion loads is then written by our exporters with no cell that a spreadsheet would run as a
formula.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import badinput
from saleslab.errors import SalesLabError
from saleslab.ingest.load import ingest, read_accounting
from saleslab.report.export import FORMULA_START, neutralise, write_table

N_FILES = 1000
BATCHES = 2
SEED = 20260


# ---- ingest and look at the result ------------------------------------------------------------------
def _ingest(input_dir: Path, sources: Path, wh: Path, files: list[badinput.BadFile]):
    """ingest(); on an exception that is not ours, find and name the file that causes it."""
    try:
        return ingest(input_dir, sources, wh)
    except SalesLabError:
        raise
    except Exception as e:  # noqa: BLE001 - we want the file that crashes ingestion, not the traceback
        for f in files:
            one = wh.parent / "one"
            shutil.rmtree(one, ignore_errors=True)
            badinput.write_files(one / "in", [f])
            try:
                ingest(one / "in", sources, one / "wh")
            except Exception as e1:  # noqa: BLE001
                pytest.fail(f"ingest crashed on {f.path} (kinds {f.kinds}): {type(e1).__name__}: {e1}")
        raise AssertionError(f"ingest crashed on the batch but on no single file: {e!r}") from e


def _outcomes(wh: Path):
    """Accounting per file, quarantine reasons and merge rules per (file, line), loaded lines per
    (table, file)."""
    acc = {a["file"]: a for a in read_accounting(wh)["files"]}
    q = pd.read_parquet(wh / "_quarantine")
    quarantined: dict[tuple[str, int], list[str]] = defaultdict(list)
    for f, line, reason in zip(q["file"], q["line"], q["reason"]):
        quarantined[(f, int(line) if pd.notna(line) else -1)].append(reason)
    if (wh / "_merged").exists():  # a merged row is one line, or one per table it was loaded into
        m = pd.read_parquet(wh / "_merged", columns=["file", "line", "table"]).drop_duplicates(["file", "line"])
        for f, line in zip(m["file"], m["line"]):
            quarantined[(f, int(line))].append("merged")
    loaded: dict[str, dict[str, list[int]]] = {}
    for table in {spec[3] for spec in badinput.FAMILIES.values()}:
        df = pd.read_parquet(wh / table, columns=["_file", "_line"])
        per: dict[str, list[int]] = defaultdict(list)
        for f, line in zip(df["_file"], df["_line"]):
            per[f].append(int(line))
        loaded[table] = per
    return acc, q, quarantined, loaded


def check_file(f: badinput.BadFile, a: dict, q: pd.DataFrame, quarantined, loaded) -> list[str]:
    """Everything a correct ingestion must satisfy for one broken file; returns the violations."""
    bad: list[str] = []
    where = f"{f.path} {f.kinds}"
    merged = a.get("rows_merged", 0)
    if a["rows_read"] != a["rows_loaded"] + merged + a["rows_quarantined"]:
        bad.append(f"{where}: read {a['rows_read']} != loaded {a['rows_loaded']} + merged {merged} "
                   f"+ quarantined {a['rows_quarantined']}")
    mine_q = q[q["file"] == f.path]
    n_merged = sum(r.count("merged") for (file, _), r in quarantined.items() if file == f.path)
    if n_merged != merged:
        bad.append(f"{where}: {n_merged} rows in _merged, accounting says {merged}")
    if len(mine_q) != a["rows_quarantined"]:
        bad.append(f"{where}: {len(mine_q)} quarantine rows, accounting says {a['rows_quarantined']}")
    if mine_q["line"].isna().any() or (mine_q["line"] < 1).any() or mine_q["reason"].isna().any() \
            or (mine_q["reason"] == "").any():
        bad.append(f"{where}: quarantined rows without line or reason")
    lines_loaded = loaded[f.table].get(f.path, [])
    if f.rejected is not None and (a["status"] == "rejected") != f.rejected:
        bad.append(f"{where}: status {a['status']} ({a['message']}), expected "
                   f"{'rejected' if f.rejected else 'loaded'}")
    if a["status"] == "rejected":
        msg = a["message"]
        if not msg.startswith(f.path) or any(m not in msg for m in f.message if f.rejected):
            bad.append(f"{where}: rejection message {msg!r} should name the file and contain {f.message}")
        if a["rows_loaded"] or lines_loaded:
            bad.append(f"{where}: rejected but {a['rows_loaded']} rows loaded")
        if set(mine_q["reason"]) - {"file_rejected"}:
            bad.append(f"{where}: rejected file with reasons {set(mine_q['reason'])}")
        if f.rejected and f.nonblank is not None and a["rows_read"] != f.nonblank:
            bad.append(f"{where}: rejected file read {a['rows_read']} lines, has {f.nonblank} non-blank lines")
        return bad
    if f.records is not None and a["rows_read"] != f.records:
        bad.append(f"{where}: read {a['rows_read']} records, the file has {f.records}")
    if len(lines_loaded) != a["rows_loaded"] or len(set(lines_loaded)) != len(lines_loaded):
        bad.append(f"{where}: {len(lines_loaded)} loaded lines in {f.table}, accounting says {a['rows_loaded']}")
    if not f.lines_known:
        return bad
    seen = set(lines_loaded) | {line for (file, line) in quarantined if file == f.path}
    if seen - set(f.lines):
        bad.append(f"{where}: outcomes at lines {sorted(seen - set(f.lines))} where no record starts "
                   f"(records start at {sorted(f.lines)})")
    if seen & f.blank:
        bad.append(f"{where}: blank lines {sorted(seen & f.blank)} were counted as records")
    for line, allowed in f.lines.items():
        reasons = quarantined.get((f.path, line), [])
        is_loaded = line in lines_loaded
        if len(reasons) + is_loaded > 1:
            bad.append(f"{where}: line {line} has several outcomes: loaded={is_loaded}, {reasons}")
            continue
        got = reasons[0] if reasons else ("loaded" if is_loaded else "nowhere")
        if allowed is not None and got not in allowed:
            bad.append(f"{where}: line {line} was {got}, expected one of {sorted(allowed)}")
    return bad


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return badinput.write_sources(tmp_path_factory.mktemp("bad_sources"))


@pytest.fixture(scope="module")
def batches(tmp_path_factory, sources):
    """N_FILES generated broken exports ingested in BATCHES folders: [(files, warehouse, outcomes)]."""
    files = badinput.generate(SEED, N_FILES)
    out = []
    for b in range(BATCHES):
        part = files[b::BATCHES]
        root = tmp_path_factory.mktemp(f"bad_batch{b}")
        badinput.write_files(root / "in", part)
        _ingest(root / "in", sources, root / "wh", part)
        out.append((part, root / "wh", _outcomes(root / "wh")))
    return out


# ---- the generated files ------------------------------------------------------------------------
def test_generator_is_deterministic_and_covers_every_kind():
    a, b = badinput.generate(3, 150), badinput.generate(3, 150)
    assert [(f.path, f.data) for f in a] == [(f.path, f.data) for f in b]
    assert [f.data for f in badinput.generate(4, 150)] != [f.data for f in a]
    covered = {(f.family, k) for f in a for k in f.kinds}
    assert covered == {(fam, k) for fam, kinds in badinput.KINDS.items() for k in kinds}


def test_generator_counts_records_from_construction():
    # with only repeated headers and blank lines, a record is any line with more than ';' and spaces
    for seed in range(20):
        f = badinput.make_csv("semi", ("repeated_header", "blank_lines"), seed)
        lines = f.data.decode("utf-8").splitlines()
        nonblank = [ln for ln in lines if ln.replace(";", "").strip()]
        assert f.records == len(nonblank) - 1 and f.records == len(f.lines)
        assert sum(ln.strip().startswith("工号") for ln in nonblank[1:]) == sum(
            a == {"repeated_header"} for a in f.lines.values()) >= 1
        assert len(lines) - len(nonblank) <= len(f.blank)
    xls = badinput.make_xlsx(("merged_cells",), 5)
    ws = openpyxl.load_workbook(io.BytesIO(xls.data)).active
    assert ws.merged_cells.ranges and xls.records == ws.max_row - 2


# ---- ≥ 1,000 broken files ------------------------------------------------------------------------
def test_a_thousand_broken_exports_ingest_without_crashing(batches):
    files = [f for part, _, _ in batches for f in part]
    assert len(files) >= 1000
    kinds = Counter(k for f in files for k in f.kinds)
    assert min(kinds.values()) >= 5, kinds  # every damage kind is exercised several times
    assert all(f.path in acc for part, _, (acc, *_) in batches for f in part)


def test_every_broken_file_balances_and_every_record_has_an_allowed_outcome(batches):
    problems = []
    for part, _, (acc, q, quarantined, loaded) in batches:
        for f in part:
            problems += check_file(f, acc[f.path], q, quarantined, loaded)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:30])


def test_rejected_files_are_the_unreadable_ones_with_file_and_line_in_the_message(batches):
    rejected = [(f, acc[f.path]) for part, _, (acc, *_) in batches for f in part
                if acc[f.path]["status"] == "rejected"]
    assert len(rejected) >= 100
    for f, a in rejected:
        assert a["message"].startswith(f.path + ", line ") or "file is empty" in a["message"] \
            or "binary content" in a["message"] or "not an Excel workbook" in a["message"], a["message"]
    # every file whose damage keeps it readable was loaded
    loaded_ok = [f for part, _, (acc, *_) in batches for f in part
                 if f.rejected is False and acc[f.path]["status"] != "loaded"]
    assert not loaded_ok


def test_header_repeated_with_its_bom_mid_file_is_a_repeated_header(tmp_path, sources):
    # regression: two UTF-8-with-BOM exports concatenated; the second header used to load as a data
    # row (and fail as unparseable_date) because the BOM made its first field differ
    header = "工号;姓名;团队;区域;入职日期\n"
    body = ("\ufeff" + header + "R1;李娜;一组;华东;2020-01-02\n" + "\ufeff" + header + "R2;王强;二组;华南;2021-03-04\n")
    badinput.write_files(tmp_path / "in", [])
    (tmp_path / "in" / "semi" / "reps.csv").write_bytes(body.encode("utf-8"))
    rep = ingest(tmp_path / "in", sources, tmp_path / "wh")
    (acc,) = rep.files
    assert (acc.rows_read, acc.rows_loaded, acc.quarantined_by_reason) == (3, 2, {"repeated_header": 1})
    q = pd.read_parquet(tmp_path / "wh" / "_quarantine")
    assert q[["file", "line", "reason"]].values.tolist() == [["semi/reps.csv", 3, "repeated_header"]]


def test_10mb_single_line_garbage_is_rejected_as_one_line(tmp_path, sources):
    f = badinput.garbage_file(seed=1)
    assert len(f.data) == 10 * 1024 * 1024 and b"\n" not in f.data
    good = badinput.make_csv("cust", (), 1)
    badinput.write_files(tmp_path / "in", [f, good])
    _ingest(tmp_path / "in", sources, tmp_path / "wh", [f, good])
    acc, q, quarantined, loaded = _outcomes(tmp_path / "wh")
    assert check_file(f, acc[f.path], q, quarantined, loaded) == []
    a = acc[f.path]
    assert (a["status"], a["rows_read"], a["rows_quarantined"]) == ("rejected", 1, 1)
    assert len(q[q["file"] == f.path]["raw"].iloc[0]) <= 2000  # the line is kept, cut short
    assert acc[good.path]["rows_loaded"] == good.records  # the other file of the source still loads


def test_ingest_without_order_lines_does_not_crash(tmp_path, sources):
    f = badinput.make_csv("cust", (), 1)
    badinput.write_files(tmp_path / "in", [f])
    rep = ingest(tmp_path / "in", sources, tmp_path / "wh")
    assert rep.files[0].rows_loaded == f.records


# ---- property: small random damage --------------------------------------------------------------
FAMILY_KINDS = st.sampled_from(sorted(badinput.FAMILIES)).flatmap(
    lambda fam: st.tuples(st.just(fam), st.sets(st.sampled_from(badinput.KINDS[fam]), max_size=3)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(FAMILY_KINDS, st.integers(0, 10_000)), min_size=1, max_size=4))
def test_any_small_combination_of_damage_balances(tmp_path_factory, sources, picks):
    files = {}
    for (family, kinds), seed in picks:
        f = badinput.make_file(family, tuple(sorted(kinds - {"huge_field"})), seed)  # huge: in the batches
        files[f.path] = f
    tmp = tmp_path_factory.mktemp("prop")
    badinput.write_files(tmp / "in", list(files.values()))
    _ingest(tmp / "in", sources, tmp / "wh", list(files.values()))
    acc, q, quarantined, loaded = _outcomes(tmp / "wh")
    assert [p for f in files.values() for p in check_file(f, acc[f.path], q, quarantined, loaded)] == []


# ---- formula injection ---------------------------------------------------------------------------
INJECTED = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "=1+1", "@张三", "-"]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _assert_safe_csv(path: Path) -> int:
    """No cell of the CSV starts with a formula character unless it is a plain number (a negative
    amount); returns the number of prefixed cells."""
    prefixed = 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            for cell in row:
                assert not cell.startswith(FORMULA_START) or _is_number(cell), (path.name, cell)
                prefixed += cell.startswith("'") and cell[1:].startswith(FORMULA_START)
    return prefixed


def _assert_safe_xlsx(path: Path) -> tuple[int, list[float]]:
    """No formula cell and no text cell starting with a formula character; returns the count of
    prefixed text cells and the negative numbers found."""
    ws = openpyxl.load_workbook(path).active
    prefixed, negatives = 0, []
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f", (path.name, c.coordinate, c.value)
            if isinstance(c.value, str):
                assert not c.value.startswith(FORMULA_START), (path.name, c.coordinate, c.value)
                prefixed += c.value.startswith("'") and c.value[1:].startswith(FORMULA_START)
            elif isinstance(c.value, (int, float)) and c.value < 0:
                assert c.data_type == "n"
                negatives.append(c.value)
    return prefixed, negatives


def test_formula_names_loaded_by_ingestion_come_out_neutralised_and_negative_numbers_stay_numbers(tmp_path):
    names = INJECTED + ["华信科技", "Acme"]
    cust = "客户编号,客户名称\n" + "".join(
        f'K{i},"{n.replace(chr(34), chr(34) * 2)}"\n' for i, n in enumerate(names, 1))
    orders = "订单编号,下单日期,客户编号,销售类型,订单金额,商品,数量,单价\n" + "".join(
        f"SO{i},2024/5/{i},K{i},直销,{amount},P1,1,5\n" for i, amount in enumerate(["-12.5", "\"1,000\"", "-3", "7"], 1))
    (tmp_path / "in").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "in" / "cust.csv").write_text(cust, encoding="utf-8")
    (tmp_path / "in" / "orders.csv").write_text(orders, encoding="utf-8")
    (tmp_path / "src" / "cust.yaml").write_text(
        "files: cust.csv\nformat: csv\ntargets:\n  - table: customers\n"
        "    columns: {customer_id: 客户编号, name: 客户名称}\n", encoding="utf-8")
    (tmp_path / "src" / "orders.yaml").write_text(
        'files: orders.csv\nformat: csv\ndate_formats: ["%Y/%m/%d"]\ntargets:\n  - table: orders\n'
        "    columns: {order_id: 订单编号, order_date: 下单日期, customer_id: 客户编号, order_amount: 订单金额,\n"
        "              channel: {column: 销售类型, values: {直销: direct}}}\n"
        "  - table: order_lines\n    columns: {order_id: 订单编号, product_id: 商品, quantity: 数量, unit_price: 单价}\n",
        encoding="utf-8")
    rep = ingest(tmp_path / "in", tmp_path / "src", tmp_path / "wh")
    assert [a.rows_loaded for a in rep.files] == [len(names), 4]

    from saleslab.stage import open_stage  # imported here: the stage imports every label file

    stage = open_stage("bad_input", run_dir=str(tmp_path / "run"), warehouse=str(tmp_path / "wh"))
    customers = stage.engine.table("customers").to_pandas()
    assert sorted(customers["name"]) == sorted(names)  # ingestion keeps the names as they are
    orders_df = stage.engine.table("orders").to_pandas()
    table = (orders_df[["source_customer_id", "order_amount"]].rename(columns={"source_customer_id": "customer_id"})
             .merge(customers[["customer_id", "name"]], on="customer_id")
             .sort_values("customer_id").reset_index(drop=True))
    table["label"] = table["name"]
    stage.save_table("injected", table)

    csv_path, xlsx_path = stage.data_dir / "injected.csv", stage.data_dir / "injected.xlsx"
    assert _assert_safe_csv(csv_path) == 2 * 4  # name and label of the 4 orders' customers
    prefixed, negatives = _assert_safe_xlsx(xlsx_path)
    assert prefixed == 2 * 4 and sorted(negatives) == [-12.5, -3]
    back = pd.read_csv(csv_path, encoding="utf-8-sig")
    from saleslab.report import i18n

    head = {c: i18n.t(c, "zh-CN") if i18n.has(c) else c for c in ("name", "order_amount")}  # the copy for people is labelled
    assert back[head["name"]].tolist() == ["'" + n for n in INJECTED[:4]]
    assert back[head["order_amount"]].tolist() == [-12.5, 1000.0, -3.0, 7.0]
    # the Parquet hand-over between stages keeps the true values
    assert pd.read_parquet(stage.data_dir / "injected.parquet")["name"].tolist() == INJECTED[:4]


def test_column_names_that_look_like_formulas_are_neutralised_too(tmp_path):
    # a pivot by customer name turns names into column headers
    df = pd.DataFrame({"month": ["2024-01"], "=HYPERLINK(\"http://x\",\"y\")": [-1.5], "@SUM(A1)": [2.0]})
    csv_path, xlsx_path = write_table(df, tmp_path, "pivot")
    assert _assert_safe_csv(csv_path) == 2
    prefixed, negatives = _assert_safe_xlsx(xlsx_path)
    assert prefixed == 2 and negatives == [-1.5]
    assert list(df.columns)[1].startswith("=")  # the caller's frame is untouched


def test_every_text_loaded_from_the_broken_batch_exports_safely(batches, tmp_path):
    frames = []
    for _, wh, _ in batches:
        for table, cols in (("customers", ["customer_id", "name", "address"]), ("reps", ["rep_id", "name", "team"]),
                            ("products", ["product_id", "name", "category", "list_price"]),
                            ("order_lines", ["order_id", "product_id", "unit_price"])):
            frames.append(pd.read_parquet(wh / table, columns=cols).add_prefix(f"{table}."))
    everything = pd.concat(frames, ignore_index=True)
    starts = everything.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
    everything = everything[starts.any(axis=1) | (everything.index < 300)]  # the risky rows and some others
    risky = starts.loc[everything.index].to_numpy().sum()
    assert risky >= 50  # the broken exports did carry formula-like values into the warehouse
    csv_path, xlsx_path = write_table(everything, tmp_path, "everything")
    assert _assert_safe_csv(csv_path) == risky
    assert _assert_safe_xlsx(xlsx_path)[0] == risky


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.text(alphabet=st.sampled_from("=+-@\t\r'a1 ,\"华\n"), max_size=6),
                                 st.floats(-1e6, 1e6, allow_nan=False), st.integers(-10**6, 10**6), st.none()),
                       min_size=1, max_size=8))
def test_neutralise_leaves_no_text_starting_with_a_formula_character(values):
    df = pd.DataFrame({"v": pd.Series(values, dtype=object)})
    out = neutralise(df)["v"].tolist()
    for before, after in zip(values, out):
        if isinstance(before, str):
            assert not after.startswith(FORMULA_START)
            assert after == (("'" + before) if before.startswith(FORMULA_START) else before)
        else:
            assert (pd.isna(after) and before is None) or (after == before and not isinstance(after, str))
