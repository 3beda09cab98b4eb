"""Every stage on partial data: a company rarely has all 25 demo sources.

The whole pipeline runs on warehouses built from a few of the demo's exports: a section whose
inputs are missing says in one line which source it needs, the rest of the stage renders and the
run succeeds; a model without enough data says so on the page.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from saleslab.config import available_stages
from saleslab.errors import InsufficientData, MissingSource

ROOT = Path(__file__).parents[1]
SOURCES = ROOT / "parameters" / "sources"

#: warehouses a real company might have: the sources (mapping names) it keeps
CASES = {
    # an ERP export of orders and their lines, nothing else (the "two-file" case)
    "erp_orders_only": ["erp_orders", "erp_order_lines"],
    # a CRM and an ERP without finance, stock, marketing or targets
    "crm_and_erp": ["crm_customers", "crm_reps", "crm_leads", "crm_lead_stages", "crm_followups", "erp_orders",
                    "erp_order_lines", "erp_products", "erp_returns"],
}


def _subset(tmp: Path, demo_dir: Path, keep: list[str]) -> tuple[Path, Path]:
    src = tmp / "sources"
    src.mkdir()
    for name in keep:
        shutil.copy(SOURCES / f"{name}.yaml", src / f"{name}.yaml")
    return demo_dir / "exports", src


def _run(tmp: Path, exports: Path, sources: Path) -> subprocess.CompletedProcess:
    p = tmp / "params.yaml"
    p.write_text("\n".join([
        "name: partial", f"input_dir: {exports}", f"warehouse_dir: {tmp / 'warehouse'}", f"sources_dir: {sources}",
        f"reports_dir: {tmp / 'reports'}", "period: {start: 2023-01-01, end: 2025-12-31}",
        "duckdb: {memory_limit: 1GB, threads: 2, temp_directory: %s}" % (tmp / "duck"),
        "cleaning: {company_founded: 2005-01-01}",
    ]) + "\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "saleslab.cli", "run", "--params", str(p), "--run-id", "partial"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                          timeout=1500)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_whole_pipeline_runs_on_a_warehouse_with_a_few_sources(case, demo_dir, tmp_path):
    exports, sources = _subset(tmp_path, demo_dir, CASES[case])
    r = _run(tmp_path, exports, sources)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    run = tmp_path / "reports" / "partial"
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert m["status"] == "ok" and [s["stage"] for s in m["stages"]][1:] == available_stages()
    notes = [n for st in available_stages() for n in
             (json.loads((run / "data" / st / "notes.json").read_text(encoding="utf-8"))
              if (run / "data" / st / "notes.json").exists() else [])]
    assert notes, "a warehouse this small must skip some sections, and say so"
    assert all(n["kind"] in ("MissingSource", "InsufficientData") and n["text"] for n in notes)
    # every skipped section is said on its page, in one line
    for st in available_stages():
        path = run / "data" / st / "notes.json"
        if path.exists():
            html = (run / f"{st}.html").read_text(encoding="utf-8")
            for n in json.loads(path.read_text(encoding="utf-8")):
                assert n["text"].split("**")[1] in html


def test_a_section_without_its_source_says_so_and_the_stage_goes_on(tmp_path, capsys):
    from saleslab.stage import open_stage

    st = open_stage("99_test", run_dir=str(tmp_path), warehouse=str(tmp_path / "wh"), language="en")
    with st.section("inventory_turnover"):
        raise MissingSource("turnover needs inventory", tables=("inventory",), needed_for="turnover")
    with st.section("churn_model"):
        raise InsufficientData("2 customers, at least 50 are needed")
    notes = json.loads((tmp_path / "data" / "99_test" / "notes.json").read_text(encoding="utf-8"))
    assert [n["kind"] for n in notes] == ["MissingSource", "InsufficientData"]
    assert "needs inventory snapshots, which no source in this warehouse provides" in notes[0]["text"]
    assert "not enough data" in notes[1]["text"] and "at least 50" in notes[1]["text"]
    with pytest.raises(ZeroDivisionError):  # any other error still fails the stage
        with st.section("x"):
            1 / 0


def test_the_engine_names_the_tables_no_source_provides(tmp_path):
    import handmade
    from saleslab.engine import connect

    wh = handmade.build_warehouse(tmp_path, {"orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                                                           "O1,2024-01-05,C1,direct,华东,P1,1,10\n"},
                                  {"orders.yaml": handmade.ORDERS})
    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "d")}) as eng:
        eng.require("orders", "order_lines", needed_for="revenue")
        with pytest.raises(MissingSource) as e:
            eng.require("orders", "inventory", "targets", needed_for="turnover")
    assert e.value.tables == ("inventory", "targets") and "turnover needs inventory, targets" in str(e.value)
