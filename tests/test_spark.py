"""The whole pack on Spark (issue 16): ingest parity, every stage on ``--engine pyspark``, one stage
through a local Spark Connect server (``--engine spark-connect``), and every Spark listener on loopback.

All on the small demo (conftest's ``demo_dir`` / ``demo_warehouse``, ingested once on DuckDB); the
DuckDB pack and the Spark pack are built once per module and compared table by table with
``scripts/compare_runs.py`` (money to the cent, counts exactly).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import SOURCES, spark_ready
from saleslab import schema
from saleslab.engine import EXTRA_TABLES, connect
from saleslab.ingest.load import ingest, read_accounting

ROOT = Path(__file__).parents[1]
LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}
pytestmark = [pytest.mark.spark,
              pytest.mark.skipif(not spark_ready() and not os.environ.get("CI"),
                                 reason="needs Java and pyspark (make test installs both)")]

_spec = importlib.util.spec_from_file_location("compare_runs", ROOT / "scripts" / "compare_runs.py")
compare_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_runs)


def _env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def saleslab(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "saleslab.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=_env())


def write_params(tmp: Path, demo_dir: Path, warehouse: Path, reports: str, **extra) -> Path:
    """A run file on the module's warehouse; one reports folder per engine (13_actions keeps its
    actions database in the reports folder: two engines must not share it)."""
    p = tmp / f"{reports}.yaml"
    lines = [f"name: spark-{reports}", f"input_dir: {demo_dir / 'exports'}", f"warehouse_dir: {warehouse}",
             f"sources_dir: {SOURCES}", f"reports_dir: {tmp / reports}",
             "period: {start: 2023-01-01, end: 2025-12-31}",
             "duckdb: {memory_limit: 1GB, threads: 2, temp_directory: %s}" % (tmp / "duck"),
             f"actions: {{strategy: {ROOT / 'parameters' / 'strategy.yaml'}}}",
             ] + [f"{k}: {v}" for k, v in extra.items()]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def java_listeners(root: int) -> dict[int, set[str]]:
    """Listening TCP addresses of the Java processes in the process tree under ``root`` (pid -> ips)."""
    import psutil

    procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    out: dict[int, set[str]] = {}
    for p in procs:
        try:
            if "java" not in p.name():
                continue
            out[p.pid] = {c.laddr.ip for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        except psutil.NoSuchProcess:
            continue
    return out


def diff_runs(a: Path, b: Path, stages=None) -> list[str]:
    """Tables that differ between two runs (money to the cent, counts exactly), as lines."""
    ta, tb = compare_runs.tables(a), compare_runs.tables(b)
    if stages is not None:
        ta = {k: v for k, v in ta.items() if k.split("/")[0] in stages}
        tb = {k: v for k, v in tb.items() if k.split("/")[0] in stages}
    bad = [f"{k}: only in {a.name}" for k in sorted(set(ta) - set(tb))]
    bad += [f"{k}: only in {b.name}" for k in sorted(set(tb) - set(ta))]
    for k in sorted(set(ta) & set(tb)):
        r = compare_runs.compare_table(ta[k], tb[k], 0.005)
        if r.get("status", "changed") != "same":
            bad.append(f"{k}: {r}")
    return bad


# ---- ingest -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark_warehouse(demo_dir, tmp_path_factory) -> Path:
    """The same small demo ingested with the cleaning layer on Spark (local mode, in this process)."""
    wh = tmp_path_factory.mktemp("spark_wh") / "warehouse"
    ingest(demo_dir / "exports", SOURCES, wh, engine="pyspark")
    return wh


def _table(warehouse: Path, name: str) -> pd.DataFrame:
    with connect(warehouse) as eng:
        df = eng.execute(eng.table(name))
    cols = sorted(df.columns)
    return df[cols].astype(str).sort_values(cols, kind="mergesort").reset_index(drop=True)


def test_ingest_on_spark_gives_the_same_warehouse(demo_warehouse, spark_warehouse):
    """Same tables, same rows (every column, the money to the cent as stored), same quarantine, merge,
    fill and outlier logs, same per-file accounting and cleaning summary."""
    with connect(demo_warehouse) as a, connect(spark_warehouse) as b:
        names = [n for n in [*schema.TABLES, *EXTRA_TABLES] if n != "_accounting" and (a.has(n) or b.has(n))]
        assert {n for n in names if a.has(n)} == {n for n in names if b.has(n)}
        for n in names:
            assert a.table(n).schema() == b.table(n).schema(), n
    for n in names:
        x, y = _table(demo_warehouse, n), _table(spark_warehouse, n)
        assert len(x) == len(y) and x.equals(y), f"{n}: {len(x)} vs {len(y)} rows"
    assert len(_table(demo_warehouse, "_quarantine")) > 0 and len(_table(demo_warehouse, "_merged")) > 0

    def accounts(wh):
        acc = read_accounting(wh)
        def timeless(d):  # timings differ, nothing else may
            return {k: timeless(v) if isinstance(v, dict) else v for k, v in d.items() if k != "seconds"}
        files = [timeless(f) for f in acc["files"]]
        clean = {k: v for k, v in acc["cleaning"].items() if k not in ("step_seconds", "seconds_clean")}
        return sorted(files, key=lambda f: f["file"]), clean

    assert accounts(demo_warehouse) == accounts(spark_warehouse)


def test_local_spark_listens_on_loopback_only(spark_warehouse):
    """The driver this process started (RPC, block manager) listens on 127.0.0.1 only."""
    listeners = java_listeners(os.getpid())
    assert listeners, "no Java process under this test process: Spark did not start here"
    for pid, ips in listeners.items():
        assert ips and ips <= LOOPBACK, f"java {pid} listens on {ips}"


# ---- the whole pack ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def packs(demo_dir, demo_warehouse, tmp_path_factory):
    """The pack on DuckDB and on Spark (local mode; every stage), on the same warehouse."""
    tmp = tmp_path_factory.mktemp("spark_packs")
    out = {}
    for engine in ("duckdb", "pyspark"):
        t0 = time.perf_counter()
        r = saleslab("run", "--params", str(write_params(tmp, demo_dir, demo_warehouse, engine)), "--no-ingest",
                     "--engine", engine, "--run-id", engine)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        out[engine] = tmp / engine / engine
        print(f"pack on {engine}: {time.perf_counter() - t0:.0f}s")
    return tmp, out


def test_every_stage_on_spark_gives_the_same_tables(packs):
    _, runs = packs
    folders = sorted(p.name for p in (runs["duckdb"] / "data").iterdir() if p.is_dir())
    from saleslab.config import available_stages
    from saleslab.serve.cube import SERVE_FOLDER

    # every stage saved tables (09-13 included), and the pages' cubes (compared below as well)
    assert folders == sorted([*available_stages(), SERVE_FOLDER])
    assert len(compare_runs.tables(runs["duckdb"])) >= 69
    assert diff_runs(runs["duckdb"], runs["pyspark"]) == []


# ---- Spark Connect ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A local Spark Connect server (the pyspark wheel's jars), on loopback; stopped at the end."""
    import pyspark

    home = Path(pyspark.__file__).parent
    port = _free_port()
    tmp = tmp_path_factory.mktemp("spark_connect")
    env = {**_env(), "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    kms = []  # SalesLab's KMS client on the server's class path: it decrypts an encrypted warehouse
    if shutil.which("javac"):
        from saleslab.crypto import spark_kms_classes

        kms = ["--driver-class-path", str(spark_kms_classes(home / "jars"))]
    cmd = [str(home / "bin" / "spark-submit"), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
           "--master", "local[2]", "--driver-memory", "1g", *kms,
           "--conf", f"spark.connect.grpc.binding.port={port}",
           "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
           "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
           "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.session.timeZone=UTC", "spark-internal"]
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp, start_new_session=True)
    try:
        deadline = time.time() + 180
        while True:
            assert proc.poll() is None, (tmp / "server.log").read_text()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "Spark Connect server did not start in 180 s"
                time.sleep(1)
        yield f"sc://127.0.0.1:{port}", proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_spark_connect_server_listens_on_loopback_only(connect_server):
    _, proc = connect_server
    listeners = java_listeners(proc.pid)
    assert listeners
    for pid, ips in listeners.items():
        assert ips and ips <= LOOPBACK, f"java {pid} listens on {ips}"


def test_stages_through_spark_connect_give_the_same_tables(connect_server, packs, demo_dir, demo_warehouse):
    """`saleslab run --engine spark-connect --spark-remote sc://...`: the KPI stage and the customer
    stage give DuckDB's tables."""
    remote, _ = connect_server
    tmp, runs = packs
    stages = "01_overview,06_customers"
    r = saleslab("run", "--params", str(write_params(tmp, demo_dir, demo_warehouse, "connect")), "--no-ingest",
                 "--engine", "spark-connect", "--spark-remote", remote, "--stages", stages, "--run-id", "connect")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = tmp / "connect" / "connect"
    assert len(compare_runs.tables(run)) >= 5
    assert diff_runs(runs["duckdb"], run, stages.split(",")) == []


def test_spark_connect_engine_reads_the_warehouse(connect_server, demo_warehouse):
    remote, _ = connect_server
    from saleslab import facts

    with connect(demo_warehouse) as d:
        want = d.execute(facts.revenue_by_expr(d, "2024-01-01", "2024-12-31", ["channel"]).order_by("channel"))
    e = connect(demo_warehouse, "spark-connect", spark_remote=remote)
    got = e.execute(facts.revenue_by_expr(e, "2024-01-01", "2024-12-31", ["channel"]).order_by("channel"))
    pd.testing.assert_frame_equal(want.round(2), got.round(2), check_dtype=False)


def test_spark_connect_needs_a_remote(demo_warehouse):
    from saleslab.errors import SalesLabError

    with pytest.raises(SalesLabError, match="sc://HOST:PORT"):
        connect(demo_warehouse, "spark-connect")
    r = saleslab("ingest", "--input", "x", "--warehouse", "y", "--engine", "spark-connect")
    assert r.returncode != 0 and "--spark-remote" in r.stderr + r.stdout


@pytest.mark.skipif(shutil.which("javac") is None, reason="the Spark KMS client is compiled with javac (a JDK)")
def test_spark_connect_reads_an_encrypted_warehouse(connect_server, demo_warehouse, tmp_path):
    """The keys reach the server as session properties (no JVM in the client): an encrypted copy of
    the orders reads the same through Spark Connect as in clear on DuckDB."""
    from saleslab import crypto

    remote, _ = connect_server
    key = crypto.new_key_file(tmp_path / "key")
    ring = crypto.KeyRing.from_file(key)
    wh = tmp_path / "enc"
    (wh / "orders").mkdir(parents=True)
    with connect(demo_warehouse) as d:
        o = d.table("orders")
        want = (int(d.execute(o.count())), round(float(d.execute(o.order_amount.sum())), 2))
        crypto.write_table(d.con.to_pyarrow(o), wh / "orders" / "orders.parquet", ring)
    assert crypto.is_encrypted(wh / "orders" / "orders.parquet")
    e = connect(wh, "spark-connect", spark_remote=remote, keyring=ring)
    o = e.table("orders")
    assert (int(e.execute(o.count())), round(float(e.execute(o.order_amount.sum())), 2)) == want
