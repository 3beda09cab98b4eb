"""The forecasting stage's narrative: the outlook first, then how far to trust it.

Each finding is one template of :mod:`saleslab.forecast.labels` (``story_forecast_*``) in both
languages; the figures come from :mod:`saleslab.forecast.summary`.
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import has, join, say, t
from . import summary


def _money(v: float, volume: bool, lang: str) -> str:
    return f"{v:,.0f} {t('forecast_unit_volume', lang)}" if volume else money(v, lang)


def _name(code, lang: str) -> str:
    return t(code, lang) if has(code) else str(code)


def _model(name: str, lang: str) -> str:
    if name.startswith("ensemble("):
        parts = name[len("ensemble("):-1].split("+")
        return ("组合" if lang == "zh-CN" else "ensemble of ") + join([_name(p, lang) for p in parts], lang)
    return _name(name, lang)


def outlook_text(history: pd.DataFrame, forecast: pd.DataFrame, lang: str, months: int = 3) -> str:
    """The opening sentence: next quarter's total with its 80 % range, growth vs last year and the
    region that drives it (:func:`saleslab.forecast.summary.outlook`)."""
    o = summary.outlook(history, forecast, months)
    volume = used(forecast, "forecast_measure") == "volume"
    measure = t("volume" if volume else "revenue", lang)
    head = dict(months=o["months"], measure=measure, value=_money(o["value"], volume, lang), lo=_money(o["lo_80"], volume, lang),
                hi=_money(o["hi_80"], volume, lang))
    if o["growth"] is None or o["driver"] is None:
        return say("story_forecast_head_no_yoy", lang, **head)
    return say("story_forecast_head", lang, **head, growth=f"{abs(o['growth']):.1%}",
               direction=t("story_forecast_up" if o["growth"] >= 0 else "story_forecast_down", lang),
               level_name=t("story_forecast_levels_region", lang), driver=_name(o["driver"], lang),
               driver_delta=("+" if o["driver_delta"] >= 0 else "") + _money(o["driver_delta"], volume, lang))


def backtest_text(backtest: pd.DataFrame, methods: pd.DataFrame, lang: str) -> str:
    """The back-test against seasonal naive, the achieved coverage and the reconciliation that won."""
    s = summary.backtest_summary(backtest)
    win = methods[(methods["winner"]) & (methods["level"] == "overall")].iloc[0]
    lines = [
        say("story_forecast_backtest", lang, windows=used(backtest, "forecast_windows"), h=used(backtest, "forecast_horizon"),
            model=_model(s["model"], lang), mase=f"{s['mase']:.2f}", naive=f"{s['naive']:.2f}", beat=s["beat"],
            series=s["series"]),
        say("story_forecast_coverage", lang, cov80=f"{s['coverage_80']:.0%}", cov95=f"{s['coverage_95']:.0%}"),
        say("story_forecast_method", lang, method=_name(win["reconciliation"], lang), mase=f"{win['mase']:.2f}"),
    ]
    return "\n\n".join(lines)


def narrative(history: pd.DataFrame, forecast: pd.DataFrame, backtest: pd.DataFrame, methods: pd.DataFrame,
              lang: str) -> str:
    """The stage's opening: the outlook, then the back-test, coverage and reconciliation."""
    return outlook_text(history, forecast, lang) + "\n\n" + backtest_text(backtest, methods, lang)


def _month_names(ms, lang: str) -> str:
    return join([f"{m}月" if lang == "zh-CN" else pd.Timestamp(2000, m, 1).strftime("%b") for m in ms], lang)


def season_text(profile: pd.DataFrame, lang: str) -> str:
    """Which calendar months the decomposition finds lowest and highest."""
    e = summary.season_extremes(profile)
    return say("story_forecast_season", lang, low=_month_names(e["low"], lang), peaks=_month_names(e["peaks"], lang))


def prep_text(diagnostics: pd.DataFrame, lang: str) -> str:
    """How many series carry a pre-processing warning, and which warnings."""
    d = diagnostics[diagnostics["warnings"].fillna("") != ""]
    if d.empty:
        return say("story_forecast_prep_clean", lang)
    codes = sorted({c for w in d["warnings"] for c in w.split(",") if c})
    return say("story_forecast_prep", lang, n=len(d), items=join([t(c, lang) for c in codes], lang))


def effects_text(effects: pd.DataFrame, lang: str) -> str:
    """One line per channel: elasticity with its interval, the promotion lift with its interval."""
    lines = []
    for r in effects.itertuples():
        ch = _name(r.unique_id.split("/", 1)[1], lang)
        common = dict(channel=ch, elasticity=f"{r.elasticity:.2f}", lo=f"{r.elasticity_lo:.2f}", hi=f"{r.elasticity_hi:.2f}")
        if r.promo_days and r.promo_lift == r.promo_lift:
            lines.append(say("story_forecast_effects", lang, **common, lift=f"{r.promo_lift:+.0%}",
                             lift_lo=f"{r.promo_lift_lo:+.0%}", lift_hi=f"{r.promo_lift_hi:+.0%}"))
        else:
            lines.append(say("story_forecast_effects_no_promo", lang, **common))
    return "\n".join(f"- {x}" for x in lines)
