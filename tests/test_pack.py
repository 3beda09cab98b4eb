"""The report pack's pages (saleslab.report.pack): the executive summary from what the stages
recorded (headlines with last year and target, findings), the glossary, the stage-page frame;
the summary's year-to-date figures (performance.kpis.year_to_date) on a hand-made warehouse.

Every expected number below is computed by hand.
"""

import base64
import datetime as dt
import json
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest

import handmade
from saleslab.config import Period
from saleslab.errors import ParameterError
from saleslab.report import pack
from saleslab.stage import Stage

from test_kpis import FILES as KPI_FILES, MAPS as KPI_MAPS


def params(lang="zh-CN", **company):
    return SimpleNamespace(language=lang, period=Period(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31)),
                           palette=["#123456"], company=SimpleNamespace(name=company.get("name", ""),
                                                                         logo=None, colour=company.get("colour")),
                           path=lambda p: p)


def manifest(*stages, status="ok"):
    return {"run_id": "r1", "status": status, "finished": "2026-12-02T10:13:00+08:00",
            "stages": [{"stage": "ingest"}] + [{"stage": s, "status": "ok", "tables": {"t": 1}} for s in stages]}


def record(tmp: Path, stage: str, lang="zh-CN") -> Stage:
    return Stage(stage, tmp, tmp / "wh", lang)


# ---- Stage.headline / Stage.finding -------------------------------------------------------------

def test_headline_records_last_year_target_and_group(tmp_path):
    import numpy as np

    st = record(tmp_path, "02_performance")
    st.headline("ytd_revenue", np.float64(120.5), "money", previous=100, target=np.float64(150.0), group="sales")
    st.headline("yoy_growth", 0.2, "percent")
    st.headline("ytd_revenue", 121.0, "money", previous=100, group="sales")  # replaces the first, in its place
    items = json.loads((tmp_path / "data" / "02_performance" / "headlines.json").read_text(encoding="utf-8"))
    assert items == [
        {"key": "ytd_revenue", "label": "年初至今销售额", "value": 121.0, "kind": "money", "previous": 100,
         "group": "sales"},
        {"key": "yoy_growth", "label": "同比增长", "value": 0.2, "kind": "percent"},
    ]


def test_findings_are_ranked_and_a_rerun_replaces_them(tmp_path):
    st = record(tmp_path, "12_risk")
    st.findings("alert", [{"text": "a", "value": 5.0}, {"text": "b", "value": 9.0}])
    st.finding("risk", "r", 1.0, rank=1)
    st.findings("alert", [{"text": "c", "value": 1.0}])  # the cell ran again with one alert left
    items = json.loads((tmp_path / "data" / "12_risk" / "findings.json").read_text(encoding="utf-8"))
    assert [(i["kind"], i["text"], i["rank"], i["link"]) for i in items] == [
        ("risk", "r", 1, "12_risk.html"), ("alert", "c", 1, "12_risk.html")]
    with pytest.raises(ParameterError, match="finding kind"):
        st.finding("gossip", "x")


# ---- arrows and comparisons -----------------------------------------------------------------------

def test_change_against_last_year_and_target():
    rev = {"key": "ytd_revenue", "kind": "money", "value": 120.0, "previous": 100.0, "target": 150.0}
    c = pack.change(rev, "previous", "en")
    assert (c["arrow"], c["good"], c["text"], c["base"]) == ("▲", True, "+20.0%", pack.fmt(100.0, "money", "en"))
    c = pack.change(rev, "target", "zh-CN")
    assert (c["arrow"], c["good"], c["text"]) == ("▼", False, "-20.0%")  # 120 / 150 - 1
    # a share changes in percentage points: 36.3% -> 37.3%
    c = pack.change({"key": "ytd_gross_margin", "kind": "percent", "value": 0.3728, "previous": 0.3628}, "previous",
                    "zh-CN")
    assert (c["arrow"], c["text"]) == ("▲", "+1.0 个百分点")
    # a rise of the bad-debt rate above its target is bad news: red, not green
    c = pack.change({"key": "bad_debt_rate", "kind": "percent", "value": 0.044, "target": 0.02}, "target", "en")
    assert (c["arrow"], c["good"], c["text"]) == ("▲", False, "+2.4 pp")
    # no comparison without a base, or from a zero base
    assert pack.change({"key": "x", "kind": "money", "value": 5.0}, "previous", "en") is None
    assert pack.change({"key": "x", "kind": "money", "value": 5.0, "previous": 0}, "previous", "en") is None


# ---- the summary -----------------------------------------------------------------------------------

def write(tmp: Path, stage: str, name: str, items):
    d = tmp / "data" / stage
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def run(tmp_path):
    write(tmp_path, "00_data_quality", "headlines.json", [
        {"key": "rows_read", "label": "读取行数", "value": 1000, "kind": "number"},
        {"key": "coverage", "label": "数据覆盖率", "value": 0.995, "kind": "percent"},
        {"key": "rows_quarantined", "label": "隔离行数", "value": 12, "kind": "number"}])
    write(tmp_path, "02_performance", "headlines.json", [
        {"key": "latest_month_revenue", "label": "最近月份销售额", "value": 260000.0, "kind": "money"},
        {"key": "ytd_revenue", "label": "年初至今销售额", "value": 26_839_095.26, "kind": "money",
         "previous": 21_834_553.83, "target": 27_000_000.0, "group": "sales"},
        {"key": "ytd_active_customers", "label": "年初至今活跃客户数", "value": 2451, "kind": "number",
         "previous": 2341, "group": "customers"}])
    write(tmp_path, "12_risk", "headlines.json", [
        {"key": "bad_debt_rate", "label": "坏账率", "value": 0.0441, "kind": "percent", "target": 0.02, "group": "risk"},
        *[{"key": f"extra_{i}", "label": f"附加{i}", "value": i, "kind": "number", "group": "other"} for i in range(12)]])
    write(tmp_path, "02_performance", "findings.json", [
        {"kind": "movement", "text": f"变动{i}", "value": v, "rank": i, "link": "02_performance.html"}
        for i, v in ((1, 5.0), (2, -9.0), (3, 1.0), (4, 100.0))])
    write(tmp_path, "12_risk", "findings.json", [
        {"kind": "alert", "text": "【高】坏账率超标：公司整体", "value": 1.0, "rank": 1, "link": "12_risk.html"}])
    return tmp_path


def test_summary_groups_cards_caps_them_and_ranks_findings(run):
    data = pack.collect(run, manifest("00_data_quality", "02_performance", "12_risk"))
    keys = [c["key"] for c in data["cards"]]
    # sales, then customers, then risk, then "other" up to MAX_CARDS (12): 3 + 9 extras
    assert keys == ["ytd_revenue", "ytd_active_customers", "bad_debt_rate"] + [f"extra_{i}" for i in range(9)]
    assert len(keys) == pack.MAX_CARDS
    assert [m["text"] for m in data["movements"]] == ["变动1", "变动2", "变动3"]  # by rank, three
    assert [h["key"] for h in data["health"]] == ["coverage", "rows_quarantined"]  # data-quality strip only
    assert data["actions"] == []


def test_index_leads_with_the_summary_and_keeps_plumbing_in_one_strip(run):
    m = manifest("00_data_quality", "02_performance", "12_risk")
    page = pack.write_index(run, m, params("zh-CN", name="华信电器")).read_text(encoding="utf-8")
    body = page[page.index("<main"):]
    # the order: summary cards, movements, risks, data health, stage list
    order = [body.index(s) for s in ('id="summary"', 'id="movements"', 'id="risks"', 'id="health"', 'id="stages"')]
    assert order == sorted(order)
    assert "华信电器 · 销售分析报告" in page
    card = re.search(r'<div class="card" data-key="ytd_revenue">.*?</div></div>', body, re.S).group(0)
    # ▲ +22.9 % vs last year (26,839,095.26 / 21,834,553.83 − 1 = 0.2292), ▼ −0.6 % vs target (/ 27,000,000 − 1)
    assert "▲ 同比 +22.9%" in card and "▼ 对目标 -0.6%" in card
    assert pack.fmt(21_834_553.83, "money", "zh-CN") in card and pack.fmt(27_000_000.0, "money", "zh-CN") in card
    assert 'class="up good"' in card and 'class="down bad"' in card
    bad = re.search(r'<div class="card" data-key="bad_debt_rate">.*?</div></div>', body, re.S).group(0)
    assert "▲ 对目标 +2.4 个百分点" in bad and 'class="up bad"' in bad
    # every figure has a tooltip and a link into the glossary
    terms = re.findall(r'<a class="term" href="glossary.html#([a-z_0-9]+)"><abbr title="[^"]+">', body)
    assert {"ytd_revenue", "coverage", "rows_read", "latest_month_revenue"} <= set(terms)
    # the data-quality figures are not cards; the figure not on the front page stays on its stage's line
    assert 'data-key="rows_read"' not in body and 'data-key="coverage"' not in body
    stages = body[body.index('id="stages"'):]
    assert "最近月份销售额" in stages and "年初至今销售额" not in stages
    assert pack.fmt(260000.0, "money", "zh-CN") not in stages  # its value is on the stage's own page
    # no English words of the frame in a zh-CN pack
    for word in ("Summary", "Stages", "Glossary", "vs last year", "Data health"):
        assert word not in page
    assert (run / "glossary.html").exists()


def test_the_english_pack_has_english_frame_and_formatting(run):
    page = pack.write_index(run, manifest("02_performance", "12_risk"), params("en")).read_text(encoding="utf-8")
    assert "Executive summary" in page and "▲ vs last year +22.9%" in page and "经营摘要" not in page
    assert pack.fmt(26_839_095.26, "money", "en") in page


def test_actions_appear_when_the_actions_stage_wrote_them(run):
    write(run, "13_actions", "summary.json", [{"key": "a1", "text": "给D011安排回款复核"}])
    data = pack.collect(run, manifest("02_performance", "13_actions"))
    assert [a["text"] for a in data["actions"]] == ["给D011安排回款复核"]
    page = pack.write_index(run, manifest("02_performance", "13_actions"), params()).read_text(encoding="utf-8")
    assert 'id="actions"' in page and "给D011安排回款复核" in page
    import shutil

    shutil.rmtree(run / "data" / "13_actions")
    page = pack.write_index(run, manifest("02_performance"), params()).read_text(encoding="utf-8")
    assert 'id="actions"' not in page  # no actions stage in this run: no empty section


def test_glossary_lists_every_figure_of_the_pack_with_an_anchor(run):
    m = manifest("00_data_quality", "02_performance", "12_risk")
    page = pack.write_glossary(run, m, params()).read_text(encoding="utf-8")
    for key in ("rows_read", "ytd_revenue", "bad_debt_rate", "latest_month_revenue"):
        assert f'<dt id="{key}">' in page
    assert '<a href="02_performance.html">' in page


# ---- stage pages ------------------------------------------------------------------------------------

def png(width: int, height: int, dpi: float) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ppm = round(dpi / 0.0254)
    raw = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def test_stage_page_boxes_tables_and_keeps_chart_text_legible():
    img = base64.b64encode(png(1100, 10, 110)).decode()
    body = (f'<div class="output"><table><tr><td>华信电器</td></tr></table>'
            f'<img alt="No description has been provided for this image" src="data:image/png;base64,{img}"></div>')
    page = pack.stage_page(body, "en", "02_performance", params("en"))
    assert '<div class="tbl"><table>' in page and "</table></div>" in page
    # 9 pt at 110 dpi = 13.75 px; shown at 9 px at least: 1100 * 9 / 13.75 = 720 px minimum width
    assert 'style="min-width:720px"' in page and '<div class="fig">' in page
    assert "No description" not in page
    assert 'href="index.html"' in page and "Summary" in page  # the top bar back to the summary
    assert "http://" not in page and "https://" not in page  # nothing fetched from outside the pack


def test_stage_page_shows_its_figures_under_its_title(run):
    page = pack.stage_page("<h1>业绩分析</h1><p>正文</p>", "zh-CN", "02_performance", params(), run_dir=run)
    head = page[page.index("<h1>"):page.index("<p>正文")]
    assert 'data-key="latest_month_revenue"' in head and 'data-key="ytd_revenue"' in head
    assert "▲ 同比 +22.9%" in head


# ---- the summary's year-to-date figures ---------------------------------------------------------------

@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory) -> Path:
    return handmade.build_warehouse(tmp_path_factory.mktemp("packhand"), KPI_FILES, KPI_MAPS)


def test_year_to_date_against_the_same_days_last_year(eng):
    from saleslab.performance import kpis

    y = kpis.year_to_date(eng, "2024-02-29")
    assert (y["start"], y["end"], y["ly_start"], y["ly_end"]) == (
        dt.date(2024, 1, 1), dt.date(2024, 2, 29), dt.date(2023, 1, 1), dt.date(2023, 2, 28))
    # Jan: B1 1800 + B2 600 + B3 100 - R1 100 = 2400; Feb: B4 300 + B5 1400 + B6 100 - R2 300 = 1500
    # (R3 returns in March: outside); last year: A0 200 + A1 300
    assert (y["revenue"], y["revenue_last_year"]) == (3900.0, 500.0)
    assert (y["orders"], y["orders_last_year"]) == (6, 2)
    # C1, C2, C3, C4 (B3 is anonymous); last year C1, C2
    assert (y["active_customers"], y["active_customers_last_year"]) == (4, 2)
    # cost 1080 + 240 + 60 - 60 + 120 + 900 + 60 - 120 = 2280: (3900 - 2280) / 3900; last year (500 - 240) / 500
    assert y["gross_margin"] == pytest.approx(0.4154) and y["gross_margin_last_year"] == pytest.approx(0.52)


def test_company_logo_is_embedded_and_pdf_switch_off_writes_nothing(tmp_path):
    from saleslab.report import pdf

    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', encoding="utf-8")
    p = params("en", name="Huaxin", colour="#aa0000")
    p.company.logo = logo
    assert pack.logo_uri(p).startswith("data:image/svg+xml;base64,")
    bar = pack.topbar("en", p)
    assert "Huaxin" in bar and 'src="data:image/svg+xml' in bar
    assert "--brand:#aa0000" in pack.stylesheet(pack._colour(p))
    p.company.logo = tmp_path / "missing.png"
    assert pack.logo_uri(p) == ""  # a missing logo is left out, the pack still renders
    p.pdf = False
    said = []
    assert pdf.for_run(tmp_path, manifest(), p, said.append) is None and not said
    assert not (tmp_path / "pack.pdf").exists()


def test_pdf_parameters_from_a_finished_runs_manifest():
    from saleslab.report import pdf

    p = pdf.params_of({"parameters": {"language": "en", "period": {"start": "2025-01-01", "end": "2025-03-31"},
                                      "palette": ["#00aa00"], "company": {"name": "Huaxin", "logo": None}}})
    assert (p.language, str(p.period.start), str(p.period.end), p.company.name) == ("en", "2025-01-01", "2025-03-31",
                                                                                    "Huaxin")
    assert pack._colour(p) == "#00aa00" and pack.period_text(p, "en") == "2025-01-01 – 2025-03-31"
