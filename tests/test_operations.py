"""Operations that lose nothing: locks, versions and atomic publish, guards, hostile input, faults.

Fault injection uses real processes: ingests started with the CLI and killed with SIGKILL at
random moments, two ingests racing for one warehouse, a full disk on a small tmpfs.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import handmade
from saleslab.errors import GuardRefused, IngestError, LockBusy, ParameterError
from saleslab.ingest import store
from saleslab.ingest.load import ingest
from saleslab.ingest.store import Safeguards
from saleslab.locks import warehouse_lock

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "saleslab.cli"]

FILES = {
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  + "".join(f"O{i},2024-01-{1 + i % 28:02d},C{i % 7},direct,华东,P{i % 3},{1 + i % 4},10\n"
                            for i in range(60)),
    "products.csv": "sku,name,cat,price,cost\nP0,A,x,10,6\nP1,B,x,30,12\nP2,C,y,50,20\n",
}
MAPS = {"orders.yaml": handmade.ORDERS, "products.yaml": handmade.PRODUCTS}


def _setup(tmp: Path, files=FILES, maps=MAPS) -> tuple[Path, Path, Path]:
    for folder, texts in (("in", files), ("src", maps)):
        (tmp / folder).mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (tmp / folder / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / folder / name).write_text(text, encoding="utf-8")
    return tmp / "in", tmp / "src", tmp / "wh"


def _lines(wh: Path) -> int:
    return len(pd.read_parquet(wh / "order_lines"))


def _cli(*args, timeout=300, env=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **(env or {})})


# ------------------------------------------------------------------ versions and atomic publish
def test_each_ingest_publishes_a_new_version_and_keeps_the_last_ones(tmp_path):
    inp, src, wh = _setup(tmp_path)
    for _ in range(4):
        ingest(inp, src, wh, safeguards=Safeguards(keep_versions=2))
    assert wh.is_symlink() and store.current(wh).parent == store.versions_dir(wh)
    versions = store.list_versions(wh)
    assert len(versions) == 2 and versions[-1]["current"] and versions[-1]["order_lines"] == 60
    assert not [p for p in store.versions_dir(wh).iterdir() if p.name.endswith(".building")]
    # the ingest history survives the versions (one line per ingest)
    hist = (wh / "_ingest" / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(hist) == 4


def test_rollback_points_the_warehouse_at_the_previous_version(tmp_path):
    inp, src, wh = _setup(tmp_path)
    ingest(inp, src, wh)
    first = store.current(wh).name
    (inp / "orders.csv").write_text(FILES["orders.csv"] + "O99,2024-02-01,C1,direct,华东,P1,1,10\n", encoding="utf-8")
    ingest(inp, src, wh)
    assert _lines(wh) == 61
    out = _cli("warehouse", "rollback", "--warehouse", str(wh))
    assert out.returncode == 0, out.stderr
    assert store.current(wh).name == first and _lines(wh) == 60
    listing = _cli("warehouse", "list", "--warehouse", str(wh)).stdout
    assert f"* {first}" in listing


def test_a_warehouse_of_an_older_version_becomes_the_first_version(tmp_path):
    inp, src, wh = _setup(tmp_path)
    ingest(inp, src, wh)
    # an older SalesLab wrote a plain folder: make one from the current version
    legacy = store.current(wh)
    wh.unlink()
    os.replace(legacy, wh)
    ingest(inp, src, wh)
    assert wh.is_symlink() and len(store.list_versions(wh)) == 2 and _lines(wh) == 60


def test_leftovers_of_a_crashed_build_are_removed_and_a_lost_pointer_is_recovered(tmp_path):
    inp, src, wh = _setup(tmp_path)
    ingest(inp, src, wh)
    good = store.current(wh)
    crashed = store.versions_dir(wh) / "20990101-000000-000000.building"
    (crashed / "orders").mkdir(parents=True)
    (crashed / "orders" / "half.parquet").write_bytes(b"PAR1 half written")
    wh.unlink()  # a crash between the two steps of an older publish left no pointer
    ingest(inp, src, wh)
    assert not crashed.exists() and _lines(wh) == 60
    assert good.exists()  # the version that was current stays available for rollback


# ------------------------------------------------------------------ locks
def test_a_second_ingest_refuses_naming_the_holder_when_it_may_not_wait(tmp_path):
    inp, src, wh = _setup(tmp_path)
    ingest(inp, src, wh)
    with warehouse_lock(wh):
        with pytest.raises(LockBusy, match=rf"warehouse .* is in use by pid {os.getpid()} on "):
            ingest(inp, src, wh, safeguards=Safeguards(lock_wait_seconds=0))
    assert _lines(wh) == 60


def test_the_lock_of_a_killed_holder_is_taken_over(tmp_path):
    inp, src, wh = _setup(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]);"
        "from saleslab.locks import warehouse_lock;"
        "l = warehouse_lock(sys.argv[2]).acquire(); print('locked', flush=True); time.sleep(600)"),
        str(ROOT / "lib"), str(wh)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockBusy):
            ingest(inp, src, wh, safeguards=Safeguards(lock_wait_seconds=0.2))
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        ingest(inp, src, wh, safeguards=Safeguards(lock_wait_seconds=5))
        assert _lines(wh) == 60
    finally:
        holder.kill()


def test_overlapping_ingests_wait_for_each_other_and_never_corrupt_the_warehouse(tmp_path):
    """Two scheduled ingests started together, 3 trials: both finish (one waits), the warehouse
    always has every line and balances."""
    inp, src, wh = _setup(tmp_path)
    params = tmp_path / "parameters" / "p.yaml"
    params.parent.mkdir()
    params.write_text(f"input_dir: {inp}\nwarehouse_dir: {wh}\nsources_dir: {src}\n"
                      "period: {start: 2024-01-01, end: 2024-12-31}\n", encoding="utf-8")
    for _ in range(3):
        procs = [subprocess.Popen([*CLI, "ingest", "--params", str(params), "--full"], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        assert _lines(wh) == 60
        acc = json.loads((wh / "_ingest" / "accounting.json").read_text(encoding="utf-8"))
        assert all(f["rows_read"] == f["rows_loaded"] + f["rows_merged"] + f["rows_quarantined"] for f in acc["files"])


def test_a_sigkilled_ingest_leaves_the_previous_warehouse_and_the_rerun_equals_a_full_ingest(tmp_path):
    """SIGKILL at random moments (5 trials, seeded) of a CLI ingest reading with two worker processes."""
    inp, src, wh = _setup(tmp_path, files={**FILES, **{f"orders_{k}.csv": FILES["orders.csv"].replace("O", f"K{k}-")
                                                     for k in range(6)}},
                          maps={**MAPS, "more.yaml": handmade.ORDERS.replace("orders.csv", "orders_*.csv")})
    ingest(inp, src, wh)
    before = _lines(wh)
    rng = random.Random(7)
    env = {**os.environ, "SALESLAB_INGEST_WORKERS": "2", "PYTHONPATH": str(ROOT / "lib")}
    workers: set[int] = set()
    for _ in range(5):
        p = subprocess.Popen([*CLI, "ingest", "--input", str(inp), "--sources", str(src), "--warehouse", str(wh),
                              "--full"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 4.0))
        workers |= _spawned_children(p.pid)
        p.send_signal(signal.SIGKILL)
        p.wait(30)
        assert _lines(wh) == before  # the current version is untouched
    deadline = time.time() + 15  # the workers die with their parent
    while time.time() < deadline and _alive(workers):
        time.sleep(0.5)
    assert workers, "no reader worker was running when killed: the trials prove nothing"
    assert not _alive(workers)
    ingest(inp, src, wh)
    full = tmp_path / "full"
    ingest(inp, src, full, incremental=False)
    assert _lines(wh) == _lines(full) == before
    assert not [p for p in store.versions_dir(wh).iterdir() if p.name.endswith(".building")]


def _spawned_children(pid: int) -> set[int]:
    """The multiprocessing workers (spawn_main) whose parent is ``pid``."""
    out = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat[1]) == pid and "spawn_main" in cmd:
            out.add(int(d.name))
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


# ------------------------------------------------------------------ guards
def test_an_empty_or_wrong_input_folder_is_an_error_and_the_warehouse_is_kept(tmp_path):
    inp, src, wh = _setup(tmp_path)
    ingest(inp, src, wh)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IngestError, match="no file in .* matches any mapping"):
        ingest(empty, src, wh)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("hello", encoding="utf-8")
    out = _cli("ingest", "--input", str(other), "--sources", str(src), "--warehouse", str(wh))
    assert out.returncode != 0 and out.stderr.count("\n") == 1 and "matches any mapping" in out.stderr
    assert _lines(wh) == 60


def test_a_table_that_would_shrink_a_lot_is_not_published_unless_allowed(tmp_path):
    inp, src, wh = _setup(tmp_path)
    ingest(inp, src, wh, safeguards=Safeguards())
    head = "".join(FILES["orders.csv"].splitlines(keepends=True)[:11])  # 10 of 60 lines
    (inp / "orders.csv").write_text(head, encoding="utf-8")
    with pytest.raises(GuardRefused, match=r"table order_lines would shrink from 60 to 10 rows"):
        ingest(inp, src, wh, safeguards=Safeguards())
    assert _lines(wh) == 60
    ingest(inp, src, wh, safeguards=Safeguards(allow_shrink=True))
    assert _lines(wh) == 10


def test_a_source_mostly_quarantined_fails_the_ingest_naming_file_and_reason(tmp_path):
    bad = "order,date,cust,channel,region,sku,qty,price\n" + "".join(
        f"X{i},{i}/31/2024,C1,direct,华东,P1,1,10\n" for i in range(40))  # every date unparseable
    inp, src, wh = _setup(tmp_path, files={**FILES, "sf.csv": bad},
                          maps={**MAPS, "sf.yaml": handmade.ORDERS.replace("orders.csv", "sf.csv")})
    with pytest.raises(GuardRefused, match=r"source sf: 40 of 40 rows quarantined .* worst file sf.csv, "
                                           r"top reason unparseable_date"):
        ingest(inp, src, wh, safeguards=Safeguards())
    assert not wh.exists()


def test_unmapped_files_unused_mappings_and_outside_links_are_reported(tmp_path):
    inp, src, wh = _setup(tmp_path, maps={**MAPS, "pos.yaml": handmade.ORDERS.replace("orders.csv", "pos_*.csv")})
    (inp / "readme.xlsx").write_bytes(b"x")
    secret = tmp_path / "secret.csv"
    secret.write_text("order,date,cust,channel,region,sku,qty,price\nS1,2024-01-01,C1,direct,华东,P1,1,99\n",
                      encoding="utf-8")
    (inp / "pos_2024.csv").symlink_to(secret)
    said = []
    ingest(inp, src, wh, progress=said.append)
    acc = json.loads((wh / "_ingest" / "accounting.json").read_text(encoding="utf-8"))["cleaning"]
    assert acc["unmapped_files"] == ["readme.xlsx"] and acc["unused_mappings"] == ["pos"]
    assert acc["refused_files"] == ["pos_2024.csv"]
    assert any("REFUSED pos_2024.csv" in s for s in said)
    q = pd.read_parquet(wh / "_quarantine")
    assert not q["raw"].str.contains("S1").any()  # the outside file was never read


# ------------------------------------------------------------------ hostile input
@pytest.mark.parametrize("run_id", ["../../x", "latest", "a/b", "", "x" * 101, ".hidden"])
def test_bad_run_ids_are_refused_in_one_line(tmp_path, run_id):
    inp, src, wh = _setup(tmp_path)
    params = tmp_path / "parameters" / "p.yaml"
    params.parent.mkdir()
    params.write_text(f"input_dir: {inp}\nwarehouse_dir: {wh}\nsources_dir: {src}\nreports_dir: {tmp_path / 'r'}\n"
                      "period: {start: 2024-01-01, end: 2024-12-31}\n", encoding="utf-8")
    out = _cli("run", "--params", str(params), "--run-id", run_id, "--stages", "01_overview")
    assert out.returncode == 2 and "is not allowed" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "r" / "latest").exists()


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k, prev in zip("bcdefghi", "abcdefgh"):
        rows.append(f"{k}: &{k} [" + ",".join([f"*{prev}"] * 9) + "]")
    (tmp_path / "parameters").mkdir()
    bomb = tmp_path / "parameters" / "bomb.yaml"
    bomb.write_text("\n".join(rows) + "\n", encoding="utf-8")
    t0 = time.perf_counter()
    out = _cli("check-params", str(bomb), timeout=60)
    assert time.perf_counter() - t0 < 30
    assert out.returncode == 2 and "expands to more than 100,000 values" in out.stderr
    assert len(out.stderr) < 400


def test_an_error_never_echoes_a_huge_value(tmp_path):
    (tmp_path / "parameters").mkdir()
    p = tmp_path / "parameters" / "p.yaml"
    p.write_text("input_dir: in\nwarehouse_dir: wh\nperiod: {start: 2024-01-01, end: 2024-12-31}\n"
                 "name: " + "x !" * 50_000 + "\n", encoding="utf-8")
    with pytest.raises(ParameterError) as e:
        from saleslab.config import load_params

        load_params(p, check_input=False)
    assert len(str(e.value)) < 600 and "..." in str(e.value)


def test_european_numbers_follow_the_declared_format_and_never_get_reinterpreted(tmp_path):
    files = {"orders.csv": "order;date;cust;channel;region;sku;qty;price\n"
                           "E1;2024-01-05;C1;direct;华东;P1;2;1.234,56\n"
                           "E2;2024-01-06;C1;direct;华东;P1;1;2.500\n"
                           "E3;2024-01-07;C1;direct;华东;P1;1;(1.000,00)\n",
             "us.csv": "order,date,cust,channel,region,sku,qty,price\n"
                       "U1,2024-01-05,C2,direct,华东,P1,1,\"1.234,56\"\n"
                       "U2,2024-01-06,C2,direct,华东,P1,1,\"(1,234.00)\"\n"
                       "U3,2024-01-07,C2,direct,华东,P1,1,2.500\n"}
    eu = handmade.ORDERS.replace("format: csv\n", "format: csv\ndelimiter: \";\"\nnumber_format: "
                                 "{decimal: \",\", thousands: \".\"}\n")
    maps = {"orders.yaml": eu, "us.yaml": handmade.ORDERS.replace("orders.csv", "us.csv")}
    inp, src, wh = _setup(tmp_path, files=files, maps=maps)
    ingest(inp, src, wh)
    lines = pd.read_parquet(wh / "order_lines").set_index("order_id")
    assert lines.loc["E1", "unit_price"] == 1234.56 and lines.loc["E2", "unit_price"] == 2500.0
    assert lines.loc["U3", "unit_price"] == 2.5
    q = pd.read_parquet(wh / "_quarantine")
    # (1.000,00) read as -1000: a negative price, quarantined as impossible (not as unreadable)
    assert "E3" not in lines.index and set(q[q["raw"].str.contains("E3")]["reason"]) == {"impossible_value"}
    u1 = q[q["raw"].str.contains("U1")]
    assert u1["reason"].tolist() == ["unparseable_number"]  # 1.234,56 in a source declaring 1,234.56
    assert "U2" not in set(lines.index)  # -1234: a negative price is impossible, quarantined
    assert set(q[q["raw"].str.contains("U2")]["reason"]) == {"impossible_value"}


# ------------------------------------------------------------------ full disk
@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if ok.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): " + ok.stderr.decode()[:200])
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_is_one_line_and_leaves_no_partial_state(tmp_path, small_disk):
    big = "order,date,cust,channel,region,sku,qty,price\n" + "".join(
        f"B{i},2024-01-{1 + i % 28:02d},C{i % 997},direct,华东,P{i % 3},{1 + i % 4},10\n" for i in range(120_000))
    inp, src, _ = _setup(tmp_path, files={**FILES, "orders.csv": big})
    wh = small_disk / "wh"
    out = _cli("ingest", "--input", str(inp), "--sources", str(src), "--warehouse", str(wh),
               env={"SALESLAB_CLEAN_MEMORY": "256MB"})
    assert out.returncode == 5, out.stderr[-2000:]
    assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("error: disk full")
    assert "Traceback" not in out.stderr
    left = [p for p in small_disk.rglob("*") if p.is_file() and p.suffix != ".lock"]
    assert not left, left[:5]


# ------------------------------------------------------------------ mappings for real systems
def test_trailer_lines_are_skipped_and_counted_not_quarantined(tmp_path):
    body = FILES["orders.csv"] + "合计,,,,,,240,\nGrand Totals (60 records)\nCopyright (c) 2026 Acme CRM\n"
    orders = handmade.ORDERS.replace("format: csv\n", "format: csv\nskip_lines: ['^合计', '^Grand Totals', "
                                     "'^Copyright']\n")
    inp, src, wh = _setup(tmp_path, files={**FILES, "orders.csv": body}, maps={**MAPS, "orders.yaml": orders})
    rep = ingest(inp, src, wh)
    acc = next(a for a in rep.files if a.file == "orders.csv")
    assert (acc.rows_read, acc.rows_loaded, acc.rows_skipped, acc.rows_quarantined) == (63, 60, 3, 0)
    assert acc.balanced and _lines(wh) == 60


def test_rows_are_routed_to_a_table_by_a_condition(tmp_path):
    body = ("order,date,cust,channel,region,sku,qty,price,ret\n"
            "A1,2024-01-05,C1,direct,华东,P1,2,10,\nA2,2024-01-06,C1,direct,华东,P2,1,30,\n"
            "A1,2024-01-20,C1,direct,华东,P1,-1,10,R1\n")   # a return booked as a negative line
    mapping = ("files: pos.csv\nformat: csv\ntargets:\n"
               "  - table: orders\n    distinct: true\n    where: qty > 0\n"
               "    columns: {order_id: order, order_date: date, customer_id: cust, channel: channel, region: region}\n"
               "  - table: order_lines\n    where: qty > 0\n"
               "    columns: {order_id: order, product_id: sku, quantity: qty, unit_price: price}\n"
               "  - table: returns\n    where: qty < 0\n"
               "    columns: {return_id: ret, order_id: order, product_id: sku, return_date: date,"
               " quantity: {column: qty, negate: true}, amount: {column: price}}\n")
    inp, src, wh = _setup(tmp_path, files={"pos.csv": body, "products.csv": FILES["products.csv"]},
                          maps={"pos.yaml": mapping, "products.yaml": handmade.PRODUCTS})
    rep = ingest(inp, src, wh)
    assert all(a.balanced for a in rep.files) and not any(a.rows_quarantined for a in rep.files)
    r = pd.read_parquet(wh / "returns")
    assert r[["return_id", "order_id", "quantity", "amount"]].values.tolist() == [["R1", "A1", 1.0, 10.0]]
    assert sorted(pd.read_parquet(wh / "order_lines")["order_id"]) == ["A1", "A2"]


def test_a_company_name_as_customer_id_is_normalised_like_a_name(tmp_path):
    body = ("order,date,cust,channel,region,sku,qty,price\n"
            "N1,2024-01-05,华信电器有限责任公司,direct,华东,P1,1,10\n"
            "N2,2024-01-06,华信电器有限公司,direct,华东,P1,1,10\n")
    orders = handmade.ORDERS.replace("customer_id: cust", "customer_id: {column: cust, kind: company_name}")
    inp, src, wh = _setup(tmp_path, files={**FILES, "orders.csv": body}, maps={**MAPS, "orders.yaml": orders})
    ingest(inp, src, wh)
    assert pd.read_parquet(wh / "orders")["customer_id"].nunique() == 1


def test_customers_of_an_opted_in_source_merge_on_their_name_alone(tmp_path):
    cust = "id,name\nK1,宏达机械有限责任公司\nK2,宏达机械有限公司\n"
    files = {**FILES, "customers.csv": cust, "legacy.csv": cust.replace("K1", "L1").replace("K2", "L2")}
    maps = {**MAPS, "customers.yaml": handmade.CUSTOMERS,
            "legacy.yaml": "merge_customers_on_name: true\n" + handmade.CUSTOMERS.replace("customers.csv", "legacy.csv")}
    inp, src, wh = _setup(tmp_path, files=files, maps=maps)
    ingest(inp, src, wh)
    cmap = pd.read_parquet(wh / "customer_map").set_index("customer_id")
    assert cmap.loc["L1", "canonical_id"] == cmap.loc["L2", "canonical_id"]  # opted in: merged, rule name
    assert cmap.loc["K1", "canonical_id"] != cmap.loc["K2", "canonical_id"]  # default: a look-alike for review
    assert "name" in set(cmap["rule"])


def test_tax_inclusive_amounts_are_kept_net_of_vat(tmp_path):
    body = "order,date,cust,channel,region,sku,qty,price,vat\nT1,2024-01-05,C1,direct,华东,P1,2,113,13%\n"
    orders = handmade.orders_yaml(line_columns={**handmade.LINE_COLUMNS, "tax_rate": "vat"}).replace(
        "  - table: order_lines\n", "  - table: order_lines\n    amounts_include_tax: true\n")
    inp, src, wh = _setup(tmp_path, files={**FILES, "orders.csv": body}, maps={**MAPS, "orders.yaml": orders})
    ingest(inp, src, wh)
    ln = pd.read_parquet(wh / "order_lines").iloc[0]
    assert (ln["tax_rate"], ln["unit_price"], ln["net_amount"]) == (0.13, 100.0, 200.0)


def test_opportunity_fields_load_into_leads(tmp_path):
    leads = ("id,created,stage,close,prob,type,amount\n"
             "L1,2024-01-02,proposal,2024-03-31,60%,New Business,\"12,000\"\n"
             "L2,2024-01-03,contract,2024-02-15,100,Renewal,5000\n")
    mapping = handmade.source_yaml("leads.csv", "leads", {"lead_id": "id", "created_date": "created", "stage": "stage",
                                                         "close_date": "close", "probability": "prob",
                                                         "opportunity_type": "type", "expected_amount": "amount"})
    inp, src, wh = _setup(tmp_path, files={**FILES, "leads.csv": leads}, maps={**MAPS, "leads.yaml": mapping})
    ingest(inp, src, wh)
    ld = pd.read_parquet(wh / "leads").set_index("lead_id")
    assert ld.loc["L1", "probability"] == 0.6 and ld.loc["L2", "probability"] == 1.0
    assert str(ld.loc["L1", "close_date"]) == "2024-03-31" and ld.loc["L1", "expected_amount"] == 12000.0
    assert ld.loc["L2", "opportunity_type"] == "Renewal"


def test_the_readme_worked_example_of_a_new_system_loads_with_a_mapping_alone(tmp_path):
    import re

    readme = (ROOT / "parameters" / "sources" / "README.md").read_text(encoding="utf-8")
    part = readme.split("## A new system, worked through", 1)[1]
    blocks = re.findall(r"```(?:yaml)?\n(.*?)```", part, flags=re.S)
    sample, mapping = blocks[0], blocks[1]
    rows = sample.replace("...\n", "").splitlines()
    body = "\n".join(rows[:2] + ['"0062","02/01/2024","Closed Won","02/20/2024","100","Renewal","5000","Web"']
                     + rows[2:]) + "\n"
    inp, src, wh = _setup(tmp_path, files={"crm/opportunities.csv": body}, maps={"sf.yaml": mapping})
    rep = ingest(inp, src, wh, safeguards=Safeguards())
    acc = rep.files[0]
    assert (acc.rows_read, acc.rows_loaded, acc.rows_skipped, acc.rows_quarantined) == (4, 2, 2, 0)
    ld = pd.read_parquet(wh / "leads").set_index("lead_id")
    assert ld.loc["0061", ["stage", "probability", "expected_amount", "lead_source"]].tolist() == \
        ["proposal", 0.6, 12000.0, "展会"]
    assert str(ld.loc["0062", "close_date"]) == "2024-02-20"


# ------------------------------------------------------------------ runs: kills and overlaps
def _run_params(tmp: Path, inp: Path, src: Path, wh: Path, wait: float = 600) -> Path:
    p = tmp / "parameters" / "run.yaml"
    p.parent.mkdir(exist_ok=True)
    p.write_text(f"name: ops\ninput_dir: {inp}\nwarehouse_dir: {wh}\nsources_dir: {src}\n"
                 f"reports_dir: {tmp / 'reports'}\nperiod: {{start: 2024-01-01, end: 2024-12-31}}\n"
                 f"duckdb: {{memory_limit: 1GB, temp_directory: {tmp / 'duck'}}}\n"
                 f"safeguards: {{lock_wait_seconds: {wait}}}\nstages: [01_overview]\n", encoding="utf-8")
    return p


def _start_run(params: Path, run_id: str) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "run", "--params", str(params), "--no-ingest", "--run-id", run_id], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


@pytest.mark.slow
def test_a_killed_run_leaves_latest_at_the_previous_complete_run(tmp_path):
    inp, src, wh = _setup(tmp_path)
    ingest(inp, src, wh)
    params = _run_params(tmp_path, inp, src, wh)
    first = _start_run(params, "first")
    assert first.wait(300) == 0, first.communicate()
    latest = tmp_path / "reports" / "latest"
    rng = random.Random(11)
    for k in range(3):  # SIGKILL to the run and its kernel at a random moment
        p = _start_run(params, f"killed{k}")
        time.sleep(rng.uniform(0.5, 6.0))
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(30)
        assert latest.resolve().name == "first" and (latest / "index.html").exists()
    again = _start_run(params, "again")
    assert again.wait(300) == 0, again.communicate()
    assert latest.resolve().name == "again"


@pytest.mark.slow
def test_overlapping_runs_wait_for_each_other_and_one_that_may_not_wait_refuses(tmp_path):
    from saleslab.locks import reports_lock

    inp, src, wh = _setup(tmp_path)
    ingest(inp, src, wh)
    params = _run_params(tmp_path, inp, src, wh)
    procs = [_start_run(params, f"r{k}") for k in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all((tmp_path / "reports" / f"r{k}" / "index.html").exists() for k in range(2))
    assert (tmp_path / "reports" / "latest").resolve().name in ("r0", "r1")
    hasty = _run_params(tmp_path, inp, src, wh, wait=0)
    with reports_lock(tmp_path / "reports"):
        p = _start_run(hasty, "hasty")
        out, err = p.communicate(timeout=120)
    assert p.returncode == 4 and err.strip().count("\n") == 0 and "is in use by pid" in err
    assert not (tmp_path / "reports" / "hasty").exists()


def test_out_of_memory_is_one_line_and_leaves_no_partial_state(tmp_path):
    big = "order,date,cust,channel,region,sku,qty,price\n" + "".join(
        f"M{i},2024-01-{1 + i % 28:02d},C{i % 997},direct,华东,P{i % 3},{1 + i % 4},10\n" for i in range(50_000))
    inp, src, wh = _setup(tmp_path, files={**FILES, "orders.csv": big})
    out = _cli("ingest", "--input", str(inp), "--sources", str(src), "--warehouse", str(wh),
               env={"SALESLAB_CLEAN_MEMORY": "100KB"})
    assert out.returncode == 6, out.stderr[-2000:]
    assert out.stderr.startswith("error: out of memory") and out.stderr.strip().count("\n") == 0
    assert not wh.exists() and not any(store.versions_dir(wh).iterdir())
