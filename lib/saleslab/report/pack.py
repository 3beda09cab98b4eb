"""The report pack's pages: the executive summary (``index.html``), the glossary
(``glossary.html``) and the frame of every stage page (stylesheet, top bar), for desktop, tablet,
phone and print (the PDF, :mod:`saleslab.report.pdf`).

The summary reads only what the stages recorded for it, never the stage tables (which may be
encrypted): ``data/<stage>/headlines.json`` (:meth:`saleslab.stage.Stage.headline`: value,
``previous`` = last year's value, ``target``, ``group``), ``data/<stage>/findings.json``
(:meth:`saleslab.stage.Stage.finding`: movements, risks, alerts, actions) and, when the actions
stage ran, ``data/13_actions/summary.json`` (a list of ``{key, text}``).

Order of the summary (issue 13, domain.md §12 "a monthly report with headline KPIs first"):
headline cards grouped (sales, customers, products, ... at most :data:`MAX_CARDS`), each with its
change against last year and against target; the three biggest movements and their causes; top
risks and alerts; top actions; then the stage list. Data health is one strip with a link.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
import mimetypes
import re
import struct
from pathlib import Path

from . import format as formatting
from . import glossary, i18n

#: at most this many headline cards on the front page; the others stay on their stage's line
MAX_CARDS = 12
#: card groups in the order the summary shows them
GROUPS = ("sales", "customers", "products", "channels", "team", "forecast", "risk", "other")
#: figures for which a fall is good news (the arrow's colour flips)
LOWER_IS_BETTER = frozenset({"bad_debt_rate", "risk_receivables_overdue", "risk_high_alerts", "churn_at_risk",
                             "lc_at_risk", "lc_monthly_churn_rate", "days_of_inventory", "slow_mover_count",
                             "rows_quarantined", "coaching_reps", "channels_flagged", "distributors_flagged"})
#: the data-quality figures shown in the data-health strip (stage 00), in this order
HEALTH_KEYS = ("coverage", "rows_quarantined", "review_pairs", "unbalanced_files")
HEALTH_STAGE = "00_data_quality"
ACTIONS_STAGE = "13_actions"
#: smallest text size (CSS px) a chart's text may have on screen; charts are rendered with 9 pt
#: as their smallest text at their own dpi, so a chart is never shown narrower than this allows
MIN_CHART_TEXT_PX = 9.0
CHART_SMALLEST_PT = 9.0

#: the pack's own words (the summary frame); figures and stages keep their areas' labels
LABELS: dict[str, tuple[str, str]] = {
    "pack_summary": ("经营摘要", "Executive summary"),
    "pack_key_figures": ("核心指标", "Key figures"),
    "pack_group_sales": ("销售", "Sales"),
    "pack_group_customers": ("客户", "Customers"),
    "pack_group_products": ("产品", "Products"),
    "pack_group_channels": ("渠道", "Channels"),
    "pack_group_team": ("团队", "Team"),
    "pack_group_forecast": ("预测", "Forecast"),
    "pack_group_risk": ("风险", "Risk"),
    "pack_group_other": ("其他", "Other"),
    "pack_vs_last_year": ("同比", "vs last year"),
    "pack_vs_target": ("对目标", "vs target"),
    "pack_last_year": ("去年", "last year"),
    "pack_target": ("目标", "target"),
    "pack_points": ("个百分点", "pp"),
    "pack_movements": ("三大变动及原因", "Biggest movements and their causes"),
    "pack_risks": ("主要风险与预警", "Top risks and alerts"),
    "pack_actions": ("重点行动", "Top actions"),
    "pack_none_recorded": ("本次运行未记录。", "None recorded in this run."),
    "pack_data_health": ("数据健康", "Data health"),
    "pack_details": ("详情", "details"),
    "pack_stages": ("分析阶段", "Stages"),
    "pack_stage": ("阶段", "Stage"),
    "pack_figures": ("指标", "Figures"),
    "pack_downloads": ("下载", "Downloads"),
    "pack_tables": ("数据表", "tables"),
    "pack_seconds": ("用时", "Time"),
    "pack_glossary": ("指标释义", "Glossary"),
    "pack_glossary_intro": ("本报告中每个指标的含义与口径。", "What each figure in this pack means and how it is measured."),
    "pack_term": ("指标", "Figure"),
    "pack_definition": ("定义", "Definition"),
    "pack_where": ("出处", "Where"),
    "pack_back": ("返回摘要", "Summary"),
    "pack_period": ("期间", "Period"),
    "pack_generated": ("生成时间", "Generated"),
    "pack_run": ("运行", "Run"),
    "pack_page": ("第 {page} / {total} 页", "Page {page} of {total}"),
    "pack_title": ("销售分析报告", "Sales analysis report"),
    "pack_no_definition": ("（尚无释义）", "(no definition yet)"),
    "pack_status_failed": ("本次运行未完成：以下内容不完整。", "This run did not finish: the pack is incomplete."),
}


def t(key: str, lang: str) -> str:
    """The pack's label of ``key`` in ``lang`` (its own words first, then every area's labels)."""
    if key in LABELS:
        return LABELS[key][0 if lang == "zh-CN" else 1]
    return i18n.t(key, lang) if i18n.has(key) else key


def _e(s) -> str:
    return html.escape("" if s is None else str(s))


# ---- numbers --------------------------------------------------------------------------------

def fmt(value, kind: str, lang: str, key: str | None = None) -> str:
    """A figure for people through the shared formatter (:func:`saleslab.report.format.fmt`); a
    figure recorded as a plain "number" takes the kind its glossary entry gives (a count, days ...)."""
    if kind == "number" and key is not None:
        try:
            kind = glossary.kind(key)
        except KeyError:
            pass
    return formatting.fmt(value, kind, lang)


def change(item: dict, against: str, lang: str) -> dict | None:
    """The change of a headline figure against ``previous`` (last year) or ``target``:
    ``{"arrow", "good", "text", "base"}`` or None when the comparison value is missing or zero.

    Percent figures change in percentage points; money and counts by a relative change
    (value / base − 1); ``good`` says whether the change is good news (falls are for the
    figures in :data:`LOWER_IS_BETTER`)."""
    base, value = item.get(against), item.get("value")
    if base is None or value is None or isinstance(base, str) or isinstance(value, str):
        return None
    diff = float(value) - float(base)
    if item.get("kind") == "percent":
        text = f"{diff * 100:+.1f} {t('pack_points', lang)}"
    else:
        if float(base) == 0:
            return None
        text = f"{(float(value) - float(base)) / abs(float(base)) * 100:+.1f}%"  # a negative base: the sign of the move
    up = diff > 0
    lower_better = item.get("better") == "lower" or item.get("key") in LOWER_IS_BETTER
    return {"arrow": "▲" if up else "▼" if diff < 0 else "■", "good": (diff == 0) or (up != lower_better),
            "text": text, "base": fmt(base, item.get("kind", "number"), lang), "diff": diff}


# ---- what the stages recorded ---------------------------------------------------------------

def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def stage_names(manifest: dict) -> list[str]:
    return [e["stage"] for e in manifest.get("stages", []) if e.get("stage") != "ingest"]


def collect(run_dir: Path, manifest: dict) -> dict:
    """What the summary shows, from the files the stages wrote (see the module docstring):
    ``{"headlines": {stage: [item, ...]}, "cards": [item, ...], "health": [...],
    "movements": [...], "risks": [...], "actions": [...]}``; each item carries its ``stage``."""
    run_dir = Path(run_dir)
    heads, findings = {}, []
    for stage in stage_names(manifest):
        d = run_dir / "data" / stage
        heads[stage] = [dict(i, stage=stage) for i in _read_json(d / "headlines.json", [])]
        findings += [dict(f, stage=f.get("stage", stage)) for f in _read_json(d / "findings.json", [])]
    grouped = [i for items in heads.values() for i in items if i.get("group")]
    order = {g: n for n, g in enumerate(GROUPS)}
    grouped.sort(key=lambda i: order.get(i["group"], len(GROUPS)))  # stable: stage order within a group
    cards = grouped[:MAX_CARDS]
    health = [i for k in HEALTH_KEYS for i in heads.get(HEALTH_STAGE, []) if i["key"] == k]

    def ranked(kinds, n):
        chosen = [f for f in findings if f.get("kind") in kinds]
        chosen.sort(key=lambda f: (f.get("rank") is None, f.get("rank") or 0,
                                   -abs(f["value"]) if isinstance(f.get("value"), (int, float)) else 0))
        return chosen[:n]

    actions = ranked(("action",), 5)
    act = run_dir / "data" / ACTIONS_STAGE / "summary.json"
    if act.exists():
        extra = [{"kind": "action", "text": a.get("text", ""), "key": a.get("key"), "stage": ACTIONS_STAGE,
                  "link": f"{ACTIONS_STAGE}.html"} for a in _read_json(act, []) if isinstance(a, dict)]
        actions = (extra + actions)[:5]
    return {"headlines": heads, "cards": cards, "health": health, "movements": ranked(("movement",), 3),
            "risks": ranked(("risk", "alert"), 5), "actions": actions,
            "shown": {(i["stage"], i["key"]) for i in cards}}


# ---- glossary -------------------------------------------------------------------------------

def definition(key: str, lang: str) -> str:
    """The glossary's definition of ``key`` (:mod:`saleslab.report.glossary`), or "" for a figure it
    does not define (the glossary test keeps every headline figure defined)."""
    try:
        return glossary.definition(key, lang)
    except KeyError:
        return ""


def glossary_entries(lang: str) -> list[tuple[str, str, str]]:
    """``(key, term, definition)`` of every glossary entry."""
    return glossary.entries(lang)


def _term(item: dict, lang: str) -> str:
    """A figure's name with its definition as a tooltip (and a link into the glossary)."""
    tip = definition(item["key"], lang) or item.get("label", "")
    return (f'<a class="term" href="glossary.html#{_e(item["key"])}"><abbr title="{_e(tip)}">'
            f'{_e(item.get("label") or t(item["key"], lang))}</abbr></a>')


# ---- page frame -----------------------------------------------------------------------------

def _colour(params) -> str:
    company = getattr(params, "company", None)
    return (getattr(company, "colour", None) if company is not None else None) or \
        (list(getattr(params, "palette", None) or ["#1f4e79"])[0])


def logo_uri(params) -> str:
    """The company logo as a data URI (no request leaves the pack), or ""."""
    company = getattr(params, "company", None)
    logo = getattr(company, "logo", None) if company is not None else None
    if not logo:
        return ""
    path = params.path(Path(logo)) if hasattr(params, "path") else Path(logo)
    if not path.is_file():
        return ""
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def company_name(params, lang: str) -> str:
    company = getattr(params, "company", None)
    name = getattr(company, "name", "") if company is not None else ""
    return name or ""


FONTS = ('"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC","Source Han Sans SC",'
         'sans-serif')


def stylesheet(colour: str = "#1f4e79") -> str:
    """One stylesheet for the summary, the glossary and the stage pages: a fluid card grid, tables
    that scroll inside their own box, images that fit, no per-character wrapping of CJK names, and
    print rules for the PDF (a page break before every stage)."""
    return f"""
:root{{--brand:{colour};--good:#1e7d3a;--bad:#b3261e;--muted:#5f6368;--line:#e3e3e3}}
*{{box-sizing:border-box}}
html{{-webkit-text-size-adjust:100%;text-size-adjust:100%}}
body{{font-family:{FONTS};margin:0;color:#222;line-height:1.5;font-size:16px;background:#fff}}
main{{max-width:1200px;margin:0 auto;padding:1rem clamp(.75rem,3vw,2rem) 3rem}}
h1{{font-size:clamp(1.35rem,4.5vw,2rem);margin:.6rem 0 .2rem}} h2{{font-size:clamp(1.1rem,3.6vw,1.4rem);margin:1.6rem 0 .6rem;border-bottom:2px solid var(--brand);padding-bottom:.2rem}}
h3{{font-size:1.05rem}}
a{{color:var(--brand)}}
.topbar{{position:sticky;top:0;z-index:10;display:flex;align-items:center;gap:.75rem;flex-wrap:wrap;padding:.45rem clamp(.75rem,3vw,2rem);background:var(--brand);color:#fff}}
.topbar a{{color:#fff;text-decoration:none;font-weight:600}} .topbar .co{{font-weight:600}} .topbar img{{height:1.6rem;width:auto}}
.topbar .sp{{flex:1}} .topbar .meta{{font-size:.85rem;color:#fff;opacity:.9}}
.meta{{color:var(--muted);font-size:.9rem}}
.health{{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center;font-size:.88rem;color:var(--muted);border:1px solid var(--line);border-radius:6px;padding:.35rem .7rem;margin:.6rem 0}}
.health b{{color:#333}}
.group{{margin:.9rem 0 .3rem;font-size:.95rem;color:var(--muted);font-weight:600}}
.cards{{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,13.5rem),1fr));gap:.7rem}}
.card{{border:1px solid var(--line);border-left:4px solid var(--brand);border-radius:8px;padding:.65rem .85rem;min-width:0}}
.card .k{{font-size:.92rem;color:#444}} .card .k a{{color:inherit;text-decoration:none}}
.card .v{{font-size:clamp(1.3rem,5vw,1.7rem);font-weight:700;color:var(--brand);white-space:nowrap}}
.card .c{{font-size:.85rem;color:var(--muted)}} .card .c span{{white-space:nowrap}}
.up.good,.down.good,.flat.good{{color:var(--good)}} .up.bad,.down.bad{{color:var(--bad)}}
abbr[title]{{text-decoration:underline dotted;text-underline-offset:2px;cursor:help}}
ol.findings,ul.findings{{padding-left:1.3rem}} ol.findings li,ul.findings li{{margin:.35rem 0}}
.tbl{{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch;margin:.5rem 0}}
table{{border-collapse:collapse;font-size:.9rem}} td,th{{padding:.3rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}}
th{{background:#f6f7f9}}
td,th{{word-break:keep-all;overflow-wrap:normal}}
.stages td:first-child{{white-space:nowrap}} .stages .figs{{font-size:.85rem;color:#444}} .stage-cards{{margin:.8rem 0 1.2rem}}
.stages .figs span{{display:inline-block;margin-right:.8rem}}
details summary{{cursor:pointer;color:var(--brand)}}
img{{max-width:100%;height:auto}}
.fig{{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}}
.fig img{{display:block}}
dl.glossary dt{{font-weight:700;margin-top:.9rem}} dl.glossary dd{{margin:.2rem 0 0 0;color:#333}}
dl.glossary .where{{font-size:.82rem;color:var(--muted)}}
/* the nbconvert "basic" markup of the stage pages */
.rendered_html{{overflow-wrap:anywhere}} .output_area pre{{white-space:pre-wrap;overflow-wrap:anywhere}}
.anchor-link{{display:none}}
.cell{{min-width:0}}
@media (max-width:480px){{ body{{font-size:15px}} table{{font-size:.82rem}} .card{{padding:.5rem .6rem}}
  .topbar .meta{{display:none}} .cards{{grid-template-columns:repeat(2,minmax(0,1fr));gap:.5rem}} .card .v{{font-size:1.2rem}} .card .c{{font-size:.78rem}} }}
@media print{{
  .topbar{{display:none}} main{{max-width:none;padding:0}} body{{font-size:10.5pt}}
  .stage-print{{break-before:page}} h2{{break-after:avoid}} .card,li,tr,img{{break-inside:avoid}}
  .fig{{overflow:visible}} .fig img{{min-width:0!important;max-width:100%}}
  .tbl{{overflow:visible}} table{{font-size:7.5pt}}
  a{{color:inherit;text-decoration:none}}
}}
"""


def _shell(title: str, body: str, lang: str, colour: str, topbar: str = "") -> str:
    return (f'<!doctype html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{_e(title)}</title><style>{stylesheet(colour)}</style></head>'
            f'<body>{topbar}<main id="content">\n<!--content-->\n{body}\n<!--/content-->\n</main></body></html>')


def topbar(lang: str, params=None, stage: str | None = None, period: str = "", back: bool = True) -> str:
    """The bar at the top of every page: company, the way back to the summary, the glossary."""
    logo = logo_uri(params) if params is not None else ""
    name = company_name(params, lang) if params is not None else ""
    parts = [f'<nav class="topbar">']
    if logo:
        parts.append(f'<img src="{logo}" alt="">')
    if name:
        parts.append(f'<span class="co">{_e(name)}</span>')
    if back:
        parts.append(f'<a href="index.html">← {_e(t("pack_back", lang))}</a>')
    parts.append('<span class="sp"></span>')
    if period:
        parts.append(f'<span class="meta">{_e(period)}</span>')
    parts.append(f'<a href="glossary.html">{_e(t("pack_glossary", lang))}</a></nav>')
    return "".join(parts)


def period_text(params, lang: str) -> str:
    p = getattr(params, "period", None)
    return f"{p.start} – {p.end}" if p is not None else ""


def local_time(iso: str | None, tz: str | None = None) -> str:
    """An ISO timestamp of the manifest (with its offset) in the run's time zone (``time_zone`` of the
    run file, else the machine's), e.g. ``2026-12-02 10:13 CST``."""
    from .format import timestamp

    if not iso:
        return ""
    try:
        return timestamp(dt.datetime.fromisoformat(iso), tz)
    except ValueError:
        return iso


# ---- the summary ----------------------------------------------------------------------------

def _card(item: dict, lang: str) -> str:
    comps = []
    for against, word in (("previous", "pack_vs_last_year"), ("target", "pack_vs_target")):
        c = change(item, against, lang)
        if c is None:
            continue
        cls = ("up" if c["diff"] > 0 else "down" if c["diff"] < 0 else "flat") + (" good" if c["good"] else " bad")
        base_word = t("pack_last_year" if against == "previous" else "pack_target", lang)
        comps.append(f'<span class="{cls}" title="{_e(base_word)} {_e(c["base"])}">{c["arrow"]} {_e(t(word, lang))} '
                     f'{_e(c["text"])}</span> <span>({_e(base_word)} {_e(c["base"])})</span>')
    value = fmt(item.get("value"), item.get("kind", "number"), lang, item.get("key"))
    return (f'<div class="card" data-key="{_e(item["key"])}"><div class="k">{_term(item, lang)}</div>'
            f'<div class="v">{_e(value)}</div>' + "".join(f'<div class="c">{c}</div>' for c in comps) + "</div>")


def _inline(text: str) -> str:
    """A finding's sentence as HTML: escaped, with Markdown's **bold** (the stories' emphasis) kept."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", _e(text))


def _findings(items: list[dict], lang: str, ordered: bool = True) -> str:
    if not items:
        return f'<p class="meta">{_e(t("pack_none_recorded", lang))}</p>'
    tag = "ol" if ordered else "ul"
    rows = "".join(f'<li>{_inline(f.get("text", ""))} <a href="{_e(f.get("link") or (f.get("stage", "") + ".html"))}">'
                   f'{_e(t("pack_details", lang))}</a></li>' for f in items)
    return f'<{tag} class="findings">{rows}</{tag}>'


def summary_html(run_dir: Path, manifest: dict, params, data: dict | None = None) -> str:
    """The body of the executive summary (the index page's content and the PDF's first page)."""
    lang = params.language
    data = data or collect(run_dir, manifest)
    name = company_name(params, lang)
    title = f"{name} · {t('pack_title', lang)}" if name else t("pack_title", lang)
    out = [f'<h1>{_e(title)}</h1>',
           f'<p class="meta">{_e(t("pack_period", lang))}: {_e(period_text(params, lang))} · '
           f'{_e(t("pack_generated", lang))}: {_e(local_time(manifest.get("finished"), getattr(params, "time_zone", None)))} · '
           f'{_e(t("pack_run", lang))} {_e(manifest.get("run_id", ""))}</p>']
    if manifest.get("status") not in (None, "ok"):
        out.append(f'<p class="down bad"><b>{_e(t("pack_status_failed", lang))}</b></p>')
    out.append(f'<h2 id="summary">{_e(t("pack_summary", lang))}</h2>')
    group = None
    cards: list[str] = []
    for item in data["cards"]:
        if item["group"] != group:
            if cards:
                out.append(f'<div class="cards">{"".join(cards)}</div>')
                cards = []
            group = item["group"]
            out.append(f'<div class="group">{_e(t("pack_group_" + group, lang) if ("pack_group_" + group) in LABELS else t(group, lang))}</div>')
        cards.append(_card(item, lang))
    if cards:
        out.append(f'<div class="cards">{"".join(cards)}</div>')
    if not data["cards"]:
        out.append(f'<p class="meta">{_e(t("pack_none_recorded", lang))}</p>')
    out.append(f'<h2 id="movements">{_e(t("pack_movements", lang))}</h2>{_findings(data["movements"], lang)}')
    out.append(f'<h2 id="risks">{_e(t("pack_risks", lang))}</h2>{_findings(data["risks"], lang)}')
    if data["actions"] or any(s == ACTIONS_STAGE for s in stage_names(manifest)):
        out.append(f'<h2 id="actions">{_e(t("pack_actions", lang))}</h2>{_findings(data["actions"], lang)}')
    if data["health"]:
        figs = " · ".join(f'{_term(i, lang)} <b>{_e(fmt(i["value"], i["kind"], lang, i["key"]))}</b>' for i in data["health"])
        out.append(f'<div class="health" id="health"><span>{_e(t("pack_data_health", lang))}:</span> {figs} '
                   f'<a href="{HEALTH_STAGE}.html">{_e(t("pack_details", lang))} →</a></div>')
    return "\n".join(out)


def stage_list_html(run_dir: Path, manifest: dict, params, data: dict) -> str:
    lang = params.language
    rows = []
    for entry in manifest.get("stages", []):
        stage = entry["stage"]
        if stage == "ingest":
            continue
        # the figures that are not on the front page are on the stage's own page; here only their names
        rest = [i for i in data["headlines"].get(stage, []) if (stage, i["key"]) not in data["shown"]]
        figs = (f'<span>{" · ".join(_term(i, lang) for i in rest)}</span>' if rest else "")
        tables = " ".join(f'{_e(tb)} ({" · ".join(links)})' for tb in entry.get("tables", {})
                          if (links := [f'<a href="data/{_e(stage)}/{_e(tb)}.{ext}">{ext}</a>' for ext in ("csv", "xlsx")
                                        if (Path(run_dir) / "data" / stage / f"{tb}.{ext}").exists()]))
        dl = (f'<details><summary>{_e(t("pack_downloads", lang))}</summary>{tables} · '
              f'<a href="{_e(stage)}.ipynb">ipynb</a></details>') if tables else f'<a href="{_e(stage)}.ipynb">ipynb</a>'
        status = "" if entry.get("status", "ok") == "ok" else f' <b class="bad">({_e(entry.get("status"))})</b>'
        rows.append(f'<tr><td><a href="{_e(stage)}.html">{_e(t(stage, lang))}</a>{status}</td>'
                    f'<td class="figs">{figs}{dl}</td></tr>')
    return (f'<h2 id="stages">{_e(t("pack_stages", lang))}</h2><div class="tbl"><table class="stages">'
            f'<thead><tr><th>{_e(t("pack_stage", lang))}</th><th>{_e(t("pack_figures", lang))}</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>'
            f'<p class="meta"><a href="glossary.html">{_e(t("pack_glossary", lang))}</a> · '
            f'<a href="manifest.json">manifest.json</a></p>')


def write_index(run_dir: Path, manifest: dict, params) -> Path:
    """The pack's front page (``index.html``): the executive summary, then the stage list; and
    the glossary page beside it."""
    run_dir = Path(run_dir)
    lang = params.language
    data = collect(run_dir, manifest)
    body = summary_html(run_dir, manifest, params, data) + "\n" + stage_list_html(run_dir, manifest, params, data)
    page = _shell(f"{t('pack_title', lang)} {manifest.get('run_id', '')}", body, lang, _colour(params),
                  topbar(lang, params, None, period_text(params, lang), back=False))
    out = run_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    write_glossary(run_dir, manifest, params, data)
    return out


def write_glossary(run_dir: Path, manifest: dict, params, data: dict | None = None) -> Path:
    """``glossary.html``: every figure of this pack with its definition, then the rest of the
    glossary; each entry has an anchor (the summary's figures link to it)."""
    lang = params.language
    data = data or collect(run_dir, manifest)
    seen: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for stage, items in data["headlines"].items():
        for i in items:
            seen.setdefault(i["key"], []).append(stage)
            labels.setdefault(i["key"], i.get("label") or t(i["key"], lang))
    entries = []
    for key, stages in seen.items():
        text = definition(key, lang) or t("pack_no_definition", lang)
        where = ", ".join(f'<a href="{_e(s)}.html">{_e(t(s, lang))}</a>' for s in stages)
        entries.append(f'<dt id="{_e(key)}">{_e(labels[key])}</dt><dd>{_e(text)}'
                       f'<div class="where">{_e(t("pack_where", lang))}: {where}</div></dd>')
    for key, term, text in glossary_entries(lang):
        if key not in seen:
            entries.append(f'<dt id="{_e(key)}">{_e(term)}</dt><dd>{_e(text)}</dd>')
    body = (f'<h1>{_e(t("pack_glossary", lang))}</h1><p class="meta">{_e(t("pack_glossary_intro", lang))}</p>'
            f'<dl class="glossary">{"".join(entries)}</dl>')
    out = Path(run_dir) / "glossary.html"
    out.write_text(_shell(t("pack_glossary", lang), body, lang, _colour(params),
                          topbar(lang, params, None, period_text(params, lang))), encoding="utf-8")
    return out


# ---- stage pages ----------------------------------------------------------------------------

def _png_size(data: bytes) -> tuple[int, int, float | None]:
    """Width, height and dpi (from the pHYs chunk, None when absent) of a PNG."""
    w, h = struct.unpack(">II", data[16:24])
    dpi = None
    i = data.find(b"pHYs")
    if i > 0:
        x, _, unit = struct.unpack(">IIB", data[i + 4:i + 13])
        if unit == 1 and x:
            dpi = x * 0.0254
    return w, h, dpi


_IMG = re.compile(r'<img\b([^>]*?)src="data:image/png;base64,([A-Za-z0-9+/=]+)"([^>]*)>')


def _figure(m: re.Match) -> str:
    before, b64, after = m.group(1), m.group(2), m.group(3)
    try:
        w, _, dpi = _png_size(base64.b64decode(b64[:120] + "=" * (-len(b64[:120]) % 4)))
    except (ValueError, struct.error):
        return m.group(0)
    smallest_px = CHART_SMALLEST_PT * (dpi or 100.0) / 72.0
    min_w = min(w, math.ceil(round(w * MIN_CHART_TEXT_PX / smallest_px, 2)))
    before = re.sub(r'\salt="No description has been provided for this image"', ' alt=""', before)
    after = re.sub(r'\salt="No description has been provided for this image"', ' alt=""', after)
    return (f'<div class="fig"><img{before}src="data:image/png;base64,{b64}"{after} '
            f'style="min-width:{min_w}px" data-min-text="{MIN_CHART_TEXT_PX:g}" data-text-px="{smallest_px:.2f}"></div>')


def stage_cards(run_dir: Path | None, stage: str, lang: str) -> str:
    """The stage's headline figures as cards (with their comparisons and tooltips), or ""."""
    if run_dir is None:
        return ""
    items = [dict(i, stage=stage) for i in _read_json(Path(run_dir) / "data" / stage / "headlines.json", [])]
    return f'<div class="cards stage-cards">{"".join(_card(i, lang) for i in items)}</div>' if items else ""


def stage_page(body: str, lang: str, stage: str, params=None, run_dir: Path | None = None) -> str:
    """A stage page from nbconvert's "basic" body: the pack's stylesheet and top bar; the stage's
    headline figures as cards under its title (read from ``run_dir``); tables in a box that scrolls
    sideways; charts never narrower than :data:`MIN_CHART_TEXT_PX` allows for their smallest text
    (a phone scrolls a wide chart inside its box instead of shrinking it)."""
    body = re.sub(r"<table\b", '<div class="tbl"><table', body)
    body = body.replace("</table>", "</table></div>")
    body = _IMG.sub(_figure, body)
    cards = stage_cards(run_dir, stage, lang)
    if cards:
        at = body.find("</h1>")
        body = body[:at + 5] + cards + body[at + 5:] if at >= 0 else cards + body
    body = f'<div class="stage-print" id="stage-{_e(stage)}">{body}</div>'
    colour = _colour(params) if params is not None else "#1f4e79"
    period = period_text(params, lang) if params is not None else ""
    return _shell(t(stage, lang) if i18n.has(stage) else stage, body, lang, colour, topbar(lang, params, stage, period))


def page_content(page_html: str) -> str:
    """The content of a page written by this module (between its content markers)."""
    a, b = page_html.find("<!--content-->"), page_html.rfind("<!--/content-->")
    return page_html[a + len("<!--content-->"):b] if a >= 0 and b > a else page_html
