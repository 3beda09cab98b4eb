"""The run history page ``reports/history.html``: the last runs from their manifests (start, duration,
status, user, stages, failing stage) and the process indicators of source 002 (domain.md §11):

- **age of the newest export at run time**: run start minus the newest input file's modification
  time (``manifest["newest_export"]``, recorded by the pipeline). The file's mtime is when the source
  system wrote the export — the data-entry/export timeliness the indicator is about; the dates inside
  the files say which period the data cover, which the run's ``period`` already states. (A copy that
  does not keep mtimes — ``cp`` without ``-p`` — makes an export look fresher than it is.)
- **report frequency**: the median interval between successive successful full runs of the scheduled
  pack (the service user's), and how many there were in the last 90 days.
- **time from data to report**: a successful run's finish minus its newest export's mtime.

Rewritten after every run (:func:`write_history`, called by the pipeline).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import statistics
from pathlib import Path

LABELS = {
    "history_title": ("运行历史", "Run history"),
    "history_indicators": ("过程指标", "Process indicators"),
    "history_runs": ("最近的运行", "Recent runs"),
    "history_run": ("运行", "Run"),
    "history_started": ("开始时间", "Started"),
    "history_duration": ("耗时", "Duration"),
    "history_status": ("状态", "Status"),
    "history_user": ("用户", "User"),
    "history_stages": ("阶段", "Stages"),
    "history_failed_stage": ("失败阶段", "Failing stage"),
    "history_error": ("错误", "Error"),
    "history_export_age": ("最新导出文件的时效", "Age of the newest export"),
    "history_data_to_report": ("数据到报告的时间", "Time from data to report"),
    "history_frequency": ("报告频率", "Report frequency"),
    "history_last_full": ("最近一次完整运行", "Last full run"),
    "history_runs_90d": ("近 90 天完整运行次数", "Full runs in the last 90 days"),
    "history_every": ("每 {days} 天一次（中位数）", "every {days} days (median)"),
    "history_full": ("全部", "all"),
    "history_partial": ("部分：{n}/{total}", "partial: {n} of {total}"),
    "history_status_ok": ("成功", "succeeded"),
    "history_status_failed": ("失败", "failed"),
    "history_status_running": ("运行中或中断", "running or interrupted"),
    "history_none": ("—", "—"),
    "history_hours": ("{v} 小时", "{v} h"),
    "history_days": ("{v} 天", "{v} days"),
    "history_seconds": ("{v} 秒", "{v} s"),
    "history_minutes": ("{v} 分钟", "{v} min"),
    "history_note": (
        "导出时效 = 运行开始时间 − 最新输入文件的修改时间（源系统写出导出文件的时间）；数据到报告的时间 = 成功运行的结束时间 − "
        "最新输入文件的修改时间；报告频率 = 定时报告（服务用户）相邻两次成功完整运行的间隔中位数。",
        "Age of the export = run start − the newest input file's modification time (when the source "
        "system wrote the export); time from data to report = a successful run's finish − that time; "
        "report frequency = median interval between successive successful full runs of the scheduled "
        "pack (the service user's)."),
    "history_report": ("报告", "report"),
}


def _t(key: str, lang: str, **values) -> str:
    zh, en = LABELS[key]
    text = zh if lang == "zh-CN" else en
    return text.format(**values) if values else text


def _time(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def read_manifests(reports: Path) -> list[dict]:
    """Every run's manifest in ``reports`` (newest first); ``_dir`` is the run folder's name."""
    out = []
    for m in Path(reports).glob("*/manifest.json"):
        if m.parent.is_symlink() or m.parent.name.startswith((".", "_")):
            continue
        try:
            data = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("started"):
            data["_dir"] = m.parent.name
            out.append(data)
    return sorted(out, key=lambda d: (_time(d["started"]) or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                                      d["_dir"]), reverse=True)


def _hours(a: dt.datetime | None, b: dt.datetime | None) -> float | None:
    if a is None or b is None:
        return None
    try:
        return (b - a).total_seconds() / 3600
    except TypeError:  # one naive, one aware
        return None


def _scheduled(m: dict) -> bool:
    """A run of the scheduled pack: full, by the service user (or ungoverned)."""
    return bool(m.get("full", True)) and m.get("service", True)


def indicators(manifests: list[dict], now: dt.datetime | None = None) -> dict:
    """The process indicators from the manifests (newest first):

    ``export_age_hours`` (at the last run), ``data_to_report_hours`` (of the last successful full
    run), ``frequency_days`` (median interval between successive successful full runs; None with
    fewer than two), ``full_runs_90d``, ``last_full`` (its start, ISO)."""
    now = now or dt.datetime.now().astimezone()
    good = [m for m in manifests if m.get("status") == "ok" and _scheduled(m)]
    starts = [s for s in (_time(m["started"]) for m in good) if s is not None]
    gaps = [(a - b).total_seconds() / 86400 for a, b in zip(starts, starts[1:])]
    last = manifests[0] if manifests else {}
    newest_good = good[0] if good else {}
    recent = [s for s in starts if _hours(s, now) is not None and _hours(s, now) <= 90 * 24]
    return {
        "export_age_hours": _hours(_time(last.get("newest_export")), _time(last.get("started"))),
        "data_to_report_hours": _hours(_time(newest_good.get("newest_export")), _time(newest_good.get("finished"))),
        "frequency_days": statistics.median(gaps) if gaps else None,
        "full_runs_90d": len(recent),
        "last_full": newest_good.get("started"),
    }


def _duration(seconds, lang: str) -> str:
    if seconds is None:
        return _t("history_none", lang)
    return (_t("history_seconds", lang, v=f"{seconds:,.0f}") if seconds < 120
            else _t("history_minutes", lang, v=f"{seconds / 60:,.1f}"))


def _age(hours, lang: str) -> str:
    if hours is None:
        return _t("history_none", lang)
    return (_t("history_hours", lang, v=f"{hours:,.1f}") if abs(hours) < 48
            else _t("history_days", lang, v=f"{hours / 24:,.1f}"))


def _when(text: str | None) -> str:
    t = _time(text)
    return t.strftime("%Y-%m-%d %H:%M") if t else "—"


def write_history(reports: Path, lang: str = "zh-CN", limit: int = 50, now: dt.datetime | None = None) -> Path:
    """(Re)write ``reports/history.html`` from the manifests of the runs in ``reports``."""
    reports = Path(reports)
    runs = read_manifests(reports)
    ind = indicators(runs, now)
    e = html.escape
    tr = lambda k, **v: e(_t(k, lang, **v))  # noqa: E731
    freq = (tr("history_every", days=f"{ind['frequency_days']:,.1f}") if ind["frequency_days"] is not None
            else tr("history_none"))
    cards = [
        (tr("history_last_full"), e(_when(ind["last_full"]))),
        (tr("history_frequency"), freq),
        (tr("history_runs_90d"), f"{ind['full_runs_90d']:,}"),
        (tr("history_export_age"), e(_age(ind["export_age_hours"], lang))),
        (tr("history_data_to_report"), e(_age(ind["data_to_report_hours"], lang))),
    ]
    rows = []
    for m in runs[:limit]:
        status = m.get("status", "running")
        key = {"ok": "history_status_ok", "failed": "history_status_failed"}.get(status, "history_status_running")
        n = len([s for s in m.get("stages", []) if s.get("stage") != "ingest"])
        total = m.get("stages_total")
        stages = tr("history_full") if m.get("full", True) else tr("history_partial", n=n, total=total or "?")
        link = f'<a href="{e(m["_dir"])}/index.html">{e(m.get("run_id", m["_dir"]))}</a>' \
            if (reports / m["_dir"] / "index.html").exists() else e(m.get("run_id", m["_dir"]))
        rows.append(
            f'<tr class="{e(status)}"><td>{link}</td><td>{e(_when(m.get("started")))}</td>'
            f'<td>{e(_duration(m.get("seconds"), lang))}</td><td>{tr(key)}</td>'
            f'<td>{e(str((m.get("access") or {}).get("user") or m.get("user") or "—"))}</td><td>{stages}</td>'
            f'<td>{e(m.get("failed_stage") or "—")}</td><td class="err">{e(m.get("error") or "")}</td>'
            f'<td>{e(_age(_hours(_time(m.get("newest_export")), _time(m.get("started"))), lang))}</td>'
            f'<td>{e(_age(_hours(_time(m.get("newest_export")), _time(m.get("finished"))), lang)) if status == "ok" else "—"}</td></tr>')
    head = "".join(f"<th>{tr(k)}</th>" for k in (
        "history_run", "history_started", "history_duration", "history_status", "history_user", "history_stages",
        "history_failed_stage", "history_error", "history_export_age", "history_data_to_report"))
    page = f"""<!doctype html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{tr('history_title')}</title>
<style>
body{{font-family:"Microsoft YaHei","PingFang SC","WenQuanYi Micro Hei","Noto Sans CJK SC",sans-serif;margin:1rem;color:#222}}
.cards{{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.8rem;margin:1rem 0}}
.card{{border:1px solid #ddd;border-radius:8px;padding:.8rem 1rem}} .card .v{{font-size:1.3rem;font-weight:600}}
.card .k{{color:#666}} .scroll{{overflow-x:auto;max-width:100%}}
table{{border-collapse:collapse}} td,th{{padding:.3rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top;white-space:nowrap}}
td.err{{white-space:normal;min-width:14rem;color:#a33}} tr.failed td{{background:#fff5f5}}
.note{{color:#666;font-size:.9rem;max-width:60rem}}
</style></head><body>
<h1>{tr('history_title')}</h1>
<h2>{tr('history_indicators')}</h2>
<div class="cards">{''.join(f'<div class="card"><div class="v">{v}</div><div class="k">{k}</div></div>' for k, v in cards)}</div>
<p class="note">{tr('history_note')}</p>
<h2>{tr('history_runs')}</h2>
<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>
</body></html>"""
    out = reports / "history.html"
    tmp = reports / f".history-{id(page)}.html"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
