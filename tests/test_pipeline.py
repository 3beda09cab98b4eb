"""End to end: `saleslab run` on the small demo, as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from saleslab.config import available_stages
from saleslab.ingest.load import read_accounting

ROOT = Path(__file__).parents[1]


def write_params(tmp: Path, demo_dir: Path, **extra) -> Path:
    """A run file for the small demo; no PDF unless asked (``pdf="true"``: the browser tests check it)."""
    extra.setdefault("pdf", "false")
    p = tmp / "params.yaml"
    lines = [
        "name: e2e", f"input_dir: {demo_dir / 'exports'}", f"warehouse_dir: {tmp / 'warehouse'}",
        f"sources_dir: {ROOT / 'parameters' / 'sources'}", f"reports_dir: {tmp / 'reports'}",
        "period: {start: 2023-01-01, end: 2025-12-31}",
        "duckdb: {memory_limit: 1GB, threads: 2, temp_directory: %s}" % (tmp / "duck"),
    ] + [f"{k}: {v}" for k, v in extra.items()]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def saleslab(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "saleslab.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.fixture(scope="module")
def first_run(demo_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    # governed as `make demo` is: the demo's access policy (copied: its keys and audit trail stay in tmp)
    (tmp / "policy").mkdir()
    policy = tmp / "policy" / "access.yaml"
    policy.write_text((ROOT / "parameters" / "access.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    r = saleslab("run", "--params", str(write_params(tmp, demo_dir, access_policy=policy)), "--run-id", "first")
    assert r.returncode == 0, r.stdout + r.stderr
    return tmp, r


def test_run_writes_the_report_pack(first_run):
    tmp, r = first_run
    run = tmp / "reports" / "first"
    for stage in available_stages():
        assert (run / f"{stage}.ipynb").exists() and (run / f"{stage}.html").exists()
        assert f"{stage} done in" in r.stdout
    assert f"[1/{len(available_stages()) + 1}] ingest" in r.stdout
    assert (tmp / "reports" / "latest").resolve() == run.resolve()
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "ok" and m["parameters"]["name"] == "e2e"
    assert [s["stage"] for s in m["stages"]] == ["ingest", *available_stages()]
    assert all(s["seconds"] >= 0 for s in m["stages"])
    assert m["stages"][2]["tables"]["monthly"] == 36
    assert m["inputs"] and all(len(f["sha256"]) == 64 for f in m["inputs"])
    assert m["git_commit"] and m["saleslab_version"]
    assert m["access"]["user"] == "report_service" and m["access"]["scope"] == "all" and not m["access"]["pii"]
    # the whole pack's reads were recorded, and the trail verifies
    v = saleslab("audit", "verify", "--params", str(tmp / "params.yaml"), "--json")
    res = json.loads(v.stdout)
    assert v.returncode == 0 and res["ok"] and res["entries"] > 100, v.stdout + v.stderr
    index = (run / "index.html").read_text(encoding="utf-8")
    assert "销售额" in index and "00_data_quality.html" in index and "data/01_overview/monthly.csv" in index
    assert (run / "data" / "01_overview" / "monthly.xlsx").exists()
    # one CLV per run: 06 hands its predicted CLV to 07 (a Parquet hand-off, no people's copy), and
    # 07's table is that very table
    shared = run / "data" / "06_customers" / "predicted_clv.parquet"
    assert shared.exists() and not shared.with_suffix(".csv").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(run / "data" / "07_clv_churn" / "clv.parquet"), pd.read_parquet(shared))


def test_console_counts_per_file_are_the_data_quality_pages(first_run):
    """The per-file line the ingest prints is the accounting the data-quality page reads, including
    the rows the warehouse-wide layer merged (orders another export holds) after the file was read."""
    import re

    tmp, r = first_run
    line = re.compile(r"^\s+(\S+)\s+(\S+)\s+read\s+([\d,]+)\s+loaded\s+([\d,]+)\s+merged\s+([\d,]+)"
                      r"\s+quarantined\s+([\d,]+)\s")
    printed = {}
    for ln in r.stdout.splitlines():
        m = line.match(ln)
        if m:
            printed[m[2]] = tuple(int(x.replace(",", "")) for x in m.groups()[2:])
    acc = read_accounting(tmp / "warehouse")
    expected = {f["file"]: (f["rows_read"], f["rows_loaded"], f["rows_merged"], f["rows_quarantined"])
                for f in acc["files"]}
    assert printed == expected
    # not vacuous: some file had rows merged by the warehouse layer, after its own reading
    later = [f["file"] for f in acc["files"] if f["rows_merged"] > (f.get("layer1") or {}).get("rows_merged", 0)]
    assert later, "the demo has orders exported by two systems"
    m = json.loads((tmp / "reports" / "first" / "manifest.json").read_text())
    assert m["full"] and m["service"] and m["newest_export"] and m["export_age_hours"] >= 0
    assert 'href="first/index.html"' in (tmp / "reports" / "history.html").read_text(encoding="utf-8")


def test_two_runs_on_the_same_inputs_give_identical_numbers(first_run, demo_dir):
    tmp, _ = first_run
    policy = tmp / "policy" / "access.yaml"
    r = saleslab("run", "--params", str(write_params(tmp, demo_dir, access_policy=policy)), "--run-id", "second")
    assert r.returncode == 0, r.stderr
    # the second run's ingest reuses every file (incremental): its numbers must still be the same.
    # Tables about the run history itself differ by design: the ingest trend gains a row, lifecycle
    # movements compare with the previous run instead of one month earlier, files are marked reused.
    # The actions database is shared by the two runs: the second finds the first's actions (its rule
    # table counts them as updated, not new).
    history = {("00_data_quality", "trend"), ("06_customers", "stage_movements")}
    about_the_ingest = ["reused", "seconds", "actions_new", "actions_updated", "actions_kept_closed", "actions_reopened"]
    compared = 0
    for stage in available_stages():
        for t in (tmp / "reports" / "first" / "data" / stage).glob("*.parquet"):
            if (stage, t.stem) in history:
                continue
            a = pd.read_parquet(t)
            b = pd.read_parquet(tmp / "reports" / "second" / "data" / stage / t.name)
            pd.testing.assert_frame_equal(a.drop(columns=about_the_ingest, errors="ignore"),
                                          b.drop(columns=about_the_ingest, errors="ignore"), obj=f"{stage}/{t.name}")
            compared += 1
    assert compared > 40
    acc = read_accounting(tmp / "warehouse")
    assert all(f["reused"] for f in acc["files"])


def test_failing_stage_stops_the_run_and_names_cell_and_notebook(first_run, demo_dir):
    tmp, _ = first_run
    # break the warehouse the stages read: the returns table disappears
    import shutil

    shutil.rmtree(tmp / "warehouse" / "returns")
    r = saleslab("run", "--params", str(write_params(tmp, demo_dir)), "--no-ingest", "--run-id", "broken")
    assert r.returncode == 3
    assert "Traceback" not in r.stderr
    # the data-quality stage counts the rows of every table: it is the first to miss returns
    assert "stage 00_data_quality failed" in r.stderr and "no table returns" in r.stderr
    assert "partially executed notebook:" in r.stderr and "broken/00_data_quality.ipynb" in r.stderr
    m = json.loads((tmp / "reports" / "broken" / "manifest.json").read_text())
    assert m["status"] == "failed" and m["stages"][-1] == {"stage": "00_data_quality", "status": "failed",
                                                           "seconds": m["stages"][-1]["seconds"]}
    assert (tmp / "reports" / "latest").resolve().name != "broken"  # latest only moves on success


def test_help_lists_the_commands():
    r = saleslab("--help")
    assert r.returncode == 0
    for cmd in ("demo-data", "ingest", "run", "check-params", "stages"):
        assert cmd in r.stdout
