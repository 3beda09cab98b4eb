"""Charts of the forecasting stage: fan charts per level, the STL decomposition, the back-test
against seasonal naive and the price / promotion effects. They draw; the figures come from
:mod:`saleslab.forecast`."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from ..params import used
from ..report.charts import money_ticks, palette_colours, setup_fonts
from ..report.i18n import has, t


def _axis(ax, volume: bool, lang: str, top: float) -> str:
    """Volumes as they are; money in the run's units, one unit for every panel (``top``: the
    largest amount of the figure); returns the unit."""
    if volume:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        return t("forecast_unit_volume", lang)
    return money_ticks(ax, lang, top=top)


def _name(code, lang):
    return t(code, lang) if has(code) else str(code)


def fan_chart(history, forecast, level: str, lang: str, palette=None, months_shown: int = 24):
    """History (last ``months_shown`` months) and the coherent forecast with its 80 % and 95 %
    bands, one panel per member of ``level`` (total: one panel). Inputs: the stage's ``history``
    and ``forecast`` tables (:func:`saleslab.forecast.hierarchy.hierarchy_forecast`)."""
    setup_fonts()
    c = palette_colours(palette)
    hist_c, fc_c = c[0], c[1 % len(c)]
    volume = used(forecast, "forecast_measure") == "volume"
    ids = list(dict.fromkeys(forecast.loc[forecast["level"] == level, "unique_id"]))
    n = len(ids)
    cols = 1 if n == 1 else min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11 if n > 1 else 9, 3.1 * rows + 0.6 if n > 1 else 4.2), dpi=110,
                             squeeze=False)
    shown = [history[history["unique_id"] == u].sort_values("month").tail(months_shown)["y"] for u in ids]
    top = max([float(s.abs().max()) for s in shown if len(s)]
              + [float(forecast.loc[forecast["unique_id"].isin(ids), "hi_95"].abs().max() or 0)])
    for ax, uid in zip(axes.ravel(), ids):
        h = history[history["unique_id"] == uid].sort_values("month").tail(months_shown)
        f = forecast[forecast["unique_id"] == uid].sort_values("month")
        ax.plot(h["month"], h["y"], color=hist_c, linewidth=1.4, label=t("forecast_history", lang))
        if len(h):
            ax.plot([h["month"].iloc[-1], f["month"].iloc[0]], [h["y"].iloc[-1], f["forecast"].iloc[0]], color=fc_c,
                    linewidth=1.0, linestyle=":")
        ax.fill_between(f["month"], f["lo_95"], f["hi_95"], color=fc_c, alpha=0.15, label=t("forecast_band_95", lang))
        ax.fill_between(f["month"], f["lo_80"], f["hi_80"], color=fc_c, alpha=0.3, label=t("forecast_band_80", lang))
        ax.plot(f["month"], f["forecast"], color=fc_c, linewidth=1.8, label=t("forecast", lang))
        out = h[h["outlier"]] if "outlier" in h else h.iloc[:0]
        if len(out):
            ax.scatter(out["month"], out["y"], color=c[2 % len(c)], s=18, zorder=3, label=t("outlier", lang))
        member = uid.split("/", 1)[1] if "/" in uid else uid
        ax.set_title(_name(member, lang), fontsize=10)
        unit = _axis(ax, volume, lang, top)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel(f"{t('volume' if volume else 'revenue', lang)} ({unit})")
    axes[0, 0].legend(loc="upper left", frameon=False, fontsize=7)
    fig.suptitle(t(f"forecast_fan_{level}", lang))
    fig.tight_layout()
    return fig


def decomposition_chart(dec, lang: str, palette=None):
    """Observed, trend, seasonal and remainder of :func:`saleslab.forecast.prep.decompose`, with
    the flagged outlier months marked on the observed panel."""
    setup_fonts()
    c = palette_colours(palette)
    fig, axes = plt.subplots(4, 1, figsize=(9, 7.2), dpi=110, sharex=True)
    parts = [("observed", "observed"), ("trend_component", "trend_component"),
             ("seasonal_component", "seasonal_component"), ("remainder", "remainder")]
    for i, (ax, (col, key)) in enumerate(zip(axes, parts)):
        if col == "remainder":
            ax.bar(dec["month"], dec[col], width=20, color=c[i % len(c)])
        else:
            ax.plot(dec["month"], dec[col], color=c[i % len(c)], linewidth=1.5)
        ax.set_ylabel(t(key, lang), fontsize=9)
        unit = _axis(ax, False, lang, float(dec["observed"].abs().max() or 0))
        ax.spines[["top", "right"]].set_visible(False)
    o = dec[dec["outlier"]]
    if len(o):
        axes[0].scatter(o["month"], o["observed"], color=c[4 % len(c)], zorder=3, s=20, label=t("outlier", lang))
        axes[0].legend(frameon=False, fontsize=8)
    axes[0].set_title(f"{t('forecast_decomposition', lang)} ({unit})")
    fig.tight_layout()
    return fig


def backtest_chart(backtest, lang: str, palette=None):
    """MASE of the chosen (reconciled) forecast and of seasonal naive per series (lower is better;
    the line at 1 is the in-sample seasonal naive error)."""
    setup_fonts()
    c = palette_colours(palette)
    b = backtest.reset_index(drop=True)
    labels = [_name(m, lang) for m in b["member"]]
    x = np.arange(len(b))
    fig, ax = plt.subplots(figsize=(max(8, 0.55 * len(b) + 2), 4.2), dpi=110)
    ax.bar(x - 0.2, b["mase"], 0.4, color=c[0], label=t("forecast", lang))
    ax.bar(x + 0.2, b["mase_seasonal_naive"], 0.4, color=c[1 % len(c)], label=t("seasonal_naive", lang))
    ax.axhline(1.0, color=c[2 % len(c)], linestyle="--", linewidth=1)
    ax.set_xticks(x, labels, rotation=60, fontsize=8)
    ax.set_ylabel(t("mase", lang))
    ax.set_title(t("forecast_backtest", lang))
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def effects_chart(effects, lang: str, palette=None):
    """Price elasticity and promotion lift per channel with their 95 % intervals."""
    setup_fonts()
    c = palette_colours(palette)
    e = effects.reset_index(drop=True)
    labels = [_name(u.split("/", 1)[1], lang) for u in e["unique_id"]]
    y = np.arange(len(e))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 0.5 * len(e) + 2.2), dpi=110, sharey=True)
    a1.errorbar(e["elasticity"], y, xerr=[e["elasticity"] - e["elasticity_lo"], e["elasticity_hi"] - e["elasticity"]],
                fmt="o", color=c[0], capsize=3)
    a1.axvline(0, color="grey", linewidth=0.8)
    a1.set_yticks(y, labels)
    a1.set_title(t("elasticity", lang))
    lift = e["promo_lift"].fillna(0)
    a2.errorbar(lift, y, xerr=[(lift - e["promo_lift_lo"]).fillna(0), (e["promo_lift_hi"] - lift).fillna(0)], fmt="o",
                color=c[1 % len(c)], capsize=3)
    a2.axvline(0, color="grey", linewidth=0.8)
    a2.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    a2.set_title(t("promo_lift", lang))
    for a in (a1, a2):
        a.spines[["top", "right"]].set_visible(False)
    fig.suptitle(t("forecast_effects", lang))
    fig.tight_layout()
    return fig
