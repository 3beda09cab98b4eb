"""Every stage notebook executes on the small demo, in both languages; notebooks stay thin."""

import json
import re
import warnings
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from saleslab.config import NOTEBOOKS, available_stages
from saleslab.pipeline import execute_stage, render_html

ARTIFACTS = Path(__file__).parent / "artifacts"
CJK = re.compile(r"[\u4e00-\u9fff]")


def params(run_dir: Path, warehouse: Path, language: str) -> dict:
    return {"run_dir": str(run_dir), "warehouse": str(warehouse), "language": language,
            "period_start": "2023-01-01", "period_end": "2025-12-31", "as_of": "2025-12-31",
            "engine": "duckdb", "duckdb_memory_limit": "1GB", "duckdb_temp_directory": str(run_dir / "duck")}


@pytest.mark.parametrize("stage", available_stages())
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_stage_notebook_executes_on_small_demo(stage, language, demo_warehouse, tmp_path):
    execute_stage(stage, params(tmp_path, demo_warehouse, language), tmp_path)
    nb = nbformat.read(tmp_path / f"{stage}.ipynb", as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    tables = list((tmp_path / "data" / stage).glob("*.parquet"))
    assert tables and all(len(pd.read_parquet(t)) > 0 for t in tables)
    assert list((tmp_path / "figures").glob(f"{stage}-*.png"))
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert shown, "charts are displayed in the notebook, not only saved"
    html = render_html(tmp_path / f"{stage}.ipynb").read_text(encoding="utf-8")
    assert "open_stage(" not in html  # code cells are not in the report
    assert "data:image/png" in html
    # tables are shown with their column names in the run's language
    from saleslab.report.i18n import LABELS, t

    first = pd.read_parquet(sorted(tables)[0]).columns
    labelled = [c for c in first if c in LABELS]
    assert labelled and t(labelled[0], language) in html
    heads = json.loads((tmp_path / "data" / stage / "headlines.json").read_text(encoding="utf-8"))
    assert heads and all(h["label"] == t(h["key"], language) for h in heads)
    # one language per pack: the other language's cells are gone, headings and prose in the run's language
    other = "lang-en" if language == "zh-CN" else "lang-zh-CN"
    assert not [c for c in nb.cells if other in c.get("metadata", {}).get("tags", [])]
    prose = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert prose
    if language == "en":
        assert not [p for p in prose if CJK.search(p)], "Chinese prose in an English pack"
        headings = re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", html, flags=re.S)
        assert headings and not [h for h in headings if CJK.search(h)], "Chinese headings in an English pack"
    else:
        assert all(CJK.search(p) for p in prose), "a heading or paragraph of a Chinese pack has no Chinese"


@pytest.mark.parametrize("stage", available_stages())
def test_markdown_is_written_once_per_language(stage):
    """Every markdown cell is for one language (tag ``lang-zh-CN`` or ``lang-en``; the run drops the
    other's), they come in pairs (a text in both languages), English cells hold no Chinese and
    headings are in one language (no "中文 · English")."""
    nb = nbformat.read(NOTEBOOKS / f"{stage}.ipynb", as_version=4)
    langs = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        tags = [t for t in cell.metadata.get("tags", []) if t.startswith("lang-")]
        assert tags in (["lang-zh-CN"], ["lang-en"]), f"{stage}: markdown cell without one language tag: {cell.source[:60]!r}"
        langs.append(tags[0])
        if tags == ["lang-en"]:
            assert not CJK.search(cell.source), f"{stage}: Chinese in an English cell: {cell.source[:60]!r}"
        else:
            assert CJK.search(cell.source), f"{stage}: no Chinese in a Chinese cell: {cell.source[:60]!r}"
        assert not re.search(r"^#+ .*·", cell.source, flags=re.M), f"{stage}: a two-language heading"
    assert langs and langs.count("lang-zh-CN") == langs.count("lang-en")


@pytest.mark.parametrize("stage", available_stages())
def test_notebooks_are_thin_and_parameterised(stage):
    nb = nbformat.read(NOTEBOOKS / f"{stage}.ipynb", as_version=4)
    first = nb.cells[0]
    assert "parameters" in first.metadata.get("tags", [])
    code = "\n".join(c.source for c in nb.cells[1:] if c.cell_type == "code")
    for forbidden in ("def ", "class ", "for ", "while ", "lambda", "import pandas", "import duckdb", "import ibis"):
        assert forbidden not in code, f"{stage} has '{forbidden}': logic belongs in lib/saleslab"
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs are not committed"


def test_chinese_renders_with_a_cjk_font(demo_warehouse, tmp_path):
    """Renders the overview chart with Chinese labels to tests/artifacts/overview_zh.png with no missing glyphs."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from saleslab.performance import kpis
    from saleslab.engine import connect
    from saleslab.performance import charts as perf_charts
    from saleslab.report import charts

    family = charts.setup_fonts()
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    font = FT2Font(path)
    assert all(font.get_char_index(ord(ch)) for ch in "销售额毛利率月度趋势")
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path)}) as eng:
        monthly = kpis.monthly_overview(eng, "2023-01-01", "2025-12-31")
    ARTIFACTS.mkdir(exist_ok=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = perf_charts.monthly_revenue_chart(monthly, "zh-CN")
        fig.savefig(ARTIFACTS / "overview_zh.png")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing
    assert (ARTIFACTS / "overview_zh.png").stat().st_size > 10_000


def test_headlines_are_recorded_for_the_index_page(demo_warehouse, tmp_path):
    execute_stage("01_overview", params(tmp_path, demo_warehouse, "en"), tmp_path)
    items = json.loads((tmp_path / "data" / "01_overview" / "headlines.json").read_text())
    keys = {i["key"]: i for i in items}
    assert set(keys) == {"revenue", "gross_margin", "orders", "active_customers"}
    monthly = pd.read_parquet(tmp_path / "data" / "01_overview" / "monthly.parquet")
    assert keys["revenue"]["value"] == pytest.approx(monthly["revenue"].sum(), abs=0.01)
    assert keys["revenue"]["label"] == "Revenue"
