"""One formatter per locale: every number, date and time a person reads goes through here.

One entry point, :func:`fmt` ``(value, kind, lang)``; the kinds:

============  ==========================================  ===============================
kind          zh-CN                                       en
============  ==========================================  ===============================
money         ``950 元``, ``1.80 万元``, ``6,738.9 万元``,   ``CNY 950``, ``CNY 1.8 K``,
              ``1.23 亿元``                               ``CNY 67.4 M``, ``CNY 1.23 B``
count         ``1,252`` (an integer: customers, orders, rows, quantities)
number        ``0.77`` (two decimals; an integral value without decimals: ``1,252``)
percent       ``12.3%`` (a share or rate stored in [0, 1], one decimal)
growth        ``+12.3%`` (a change stored as a fraction, with its sign)
pp            ``+1.2 个百分点``                              ``+1.2 pp`` (a difference of two shares)
days          ``886 天``                                  ``886 days``
date          ``2024-04-02`` (never ``00:00:00``)
month         ``2024年04月``                              ``Apr 2024``
timestamp     ``2026-12-02 10:13 CST`` (in the run's time zone, never UTC ISO)
text          the value as it is
============  ==========================================  ===============================

Money: the unit is chosen after rounding, so 9,999.6 元 is ``1.00 万元`` (not ``10,000 元``) and
99,999,999 元 is ``1.00 亿元``; zh-CN two decimals below 10 of the unit, one above; en three
significant digits; 元 / CNY without decimals.

Values that are not meaningful are written :data:`NA` (``—``) and :func:`why` gives the reason (a
footnote or a tooltip): a missing value, infinity (a division by zero: growth from a zero base,
days of inventory with no sales), days beyond :data:`DAYS_CAP` (ten years at the current pace:
practically no sales).

>>> fmt(1797, "money", "zh-CN"), fmt(1797, "money", "en")
('1,797 元', 'CNY 1.80 K')
>>> fmt(67_389_000, "money", "zh-CN"), fmt(67_389_000, "money", "en")
('6,738.9 万元', 'CNY 67.4 M')
>>> fmt(9_999.6, "money", "zh-CN"), fmt(9_999.4, "money", "zh-CN"), fmt(99_999_999, "money", "zh-CN")
('1.00 万元', '9,999 元', '1.00 亿元')
>>> fmt(999_999.96, "money", "en"), fmt(-1_234_567, "money", "zh-CN"), fmt(0, "money", "en")
('CNY 1.00 M', '-123.5 万元', 'CNY 0')
>>> fmt(float("nan"), "money", "zh-CN"), fmt(None, "count", "en"), fmt(float("inf"), "growth", "en")
('—', '—', '—')
>>> why(float("inf"), "growth", "en")
'growth from a zero base cannot be computed'
>>> fmt(1252.0, "count", "en"), fmt(0.12345, "percent", "en"), fmt(-0.05, "growth", "zh-CN")
('1,252', '12.3%', '-5.0%')
>>> fmt(885.9, "days", "zh-CN"), fmt(9_692_202, "days", "zh-CN"), why(9_692_202, "days", "en")[:28]
('886 天', '—', 'more than 10 years to sell a')
>>> import pandas as pd
>>> fmt(pd.Timestamp("2024-04-02 00:00:00"), "date", "zh-CN"), fmt("2024-04-01", "month", "en")
('2024-04-02', 'Apr 2024')
>>> fmt(pd.Timestamp("2026-12-02T02:13:00Z"), "timestamp", "en", tz="Asia/Shanghai")
'2026-12-02 10:13 CST'
>>> fmt(0.012, "pp", "zh-CN"), fmt(0.7678, "number", "en"), fmt(True, "text", "zh-CN")
('+1.2 个百分点', '0.77', '是')
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as _np
from zoneinfo import ZoneInfo

from . import i18n

#: What a value that is not meaningful is shown as.
NA = "—"
#: Days beyond this (ten years at the current pace) are not meaningful: practically nothing sells.
DAYS_CAP = 3650
KINDS = ("money", "count", "number", "percent", "growth", "pp", "days", "date", "month", "timestamp", "text")

#: money units per language: (threshold in 元, divisor, zh/en unit, unit before the number)
_UNITS = {
    "zh-CN": ((0, 1, "元"), (1e4, 1e4, "万元"), (1e8, 1e8, "亿元")),
    "en": ((0, 1, "CNY"), (1e3, 1e3, "CNY K"), (1e6, 1e6, "CNY M"), (1e9, 1e9, "CNY B")),
}


def _lang(lang: str) -> str:
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(i18n.LANGUAGES)} (got {lang!r})")
    return lang


def _number(value) -> float | None:
    """``value`` as a float, or None when it is missing (None, NaN, NaT, pd.NA)."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def why(value, kind: str = "number", lang: str = "zh-CN", *, days_cap: float = DAYS_CAP) -> str | None:
    """Why ``value`` is shown as :data:`NA` (a footnote / tooltip text), None when it is shown.

    >>> why(None, "money", "zh-CN"), why(3.0, "days", "en")
    ('无数据', None)
    >>> why(float("inf"), "days", "zh-CN")
    '没有销售，无法计算售完天数'
    """
    key = reason_key(value, kind, days_cap=days_cap)
    return None if key is None else i18n.t(key, _lang(lang))


def reason_key(value, kind: str = "number", *, days_cap: float = DAYS_CAP) -> str | None:
    """The label key of the reason ``value`` is not meaningful (``na_*``), None when it is."""
    if kind in ("text", "date", "month", "timestamp"):
        return "na_missing" if _missing(value) else None
    if isinstance(value, bool):
        return None
    v = _number(value)
    if v is None:
        return "na_missing"
    if math.isinf(v):
        return {"days": "na_no_sales", "growth": "na_from_zero", "percent": "na_from_zero",
                "pp": "na_from_zero"}.get(kind, "na_division_by_zero")
    if kind == "days" and abs(v) > days_cap:
        return "na_beyond_horizon"
    return None


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def money_unit(magnitude: float, lang: str) -> tuple[float, str]:
    """The divisor and unit for an amount of ``magnitude`` 元 (after rounding to that unit).

    >>> money_unit(9_999.4, "zh-CN"), money_unit(9_999.6, "zh-CN"), money_unit(2e9, "en")
    ((1, '元'), (10000.0, '万元'), (1000000000.0, 'CNY B'))
    """
    units = _UNITS[_lang(lang)]
    m = abs(magnitude)
    chosen = units[0]
    for unit in units:
        if m >= unit[0]:
            chosen = unit
    # 9,999.6 元 rounds to 10,000 元 (no decimals): that is 1.00 万元; likewise 9,999.996 万元 at one decimal
    i = units.index(chosen)
    if i + 1 < len(units):
        nxt = units[i + 1]
        if round(m / chosen[1], _decimals(m / chosen[1], chosen[1], lang)) * chosen[1] >= nxt[0]:
            chosen = nxt
    return float(chosen[1]) if chosen[1] != 1 else 1, chosen[2]


def _decimals(scaled: float, divisor: float, lang: str = "zh-CN") -> int:
    """Decimals of an amount in its unit: none in 元 / CNY; zh-CN two below 10 万元/亿元, else one
    (the 万元 habit); en three significant digits (CNY 9.08 M, CNY 67.4 M, CNY 300 K)."""
    if divisor == 1:
        return 0
    m = abs(scaled)
    if round(m, 2) < 10:
        return 2
    if lang == "zh-CN" or round(m, 1) < 100:
        return 1
    return 0


def money(value, lang: str) -> str:
    """An amount in 元 in ``lang``'s units (see the module's table).

    >>> money(0.4, "zh-CN"), money(12_345, "zh-CN"), money(123_456_789, "zh-CN"), money(950, "en")
    ('0 元', '1.23 万元', '1.23 亿元', 'CNY 950')
    """
    v = _number(value)
    if v is None or math.isinf(v):
        return NA
    divisor, unit = money_unit(v, lang)
    scaled = v / divisor
    text = f"{scaled:,.{_decimals(scaled, divisor, lang)}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")  # -0.00 is 0.00
    if lang == "en":  # CNY 950, CNY 1.80 K, CNY 67.4 M
        head, _, tail = unit.partition(" ")
        return f"{head} {text} {tail}".strip()
    return f"{text} {unit}"


def money_in(value, divisor: float, decimals: int) -> str:
    """An amount in a given unit without the unit (for a table column whose header names it)."""
    v = _number(value)
    if v is None or math.isinf(v):
        return NA
    text = f"{v / divisor:,.{decimals}f}"
    return text.lstrip("-") if text.lstrip("-").strip("0.,") == "" else text


def column_money_unit(values, lang: str) -> tuple[float, int, str]:
    """One unit for a column of amounts (chosen from the median magnitude, so the column compares):
    (divisor, decimals, unit).

    >>> column_money_unit([12_000, 350_000, 4_000_000], "zh-CN"), column_money_unit([120, 80], "en")
    ((10000.0, 1, '万元'), (1, 0, 'CNY'))
    """
    mags = sorted(abs(v) for v in (_number(x) for x in values) if v is not None and not math.isinf(v) and v != 0)
    median = mags[len(mags) // 2] if mags else 0.0
    divisor, unit = money_unit(median, lang)
    return divisor, _decimals(median / divisor, divisor, lang), unit


def count(value) -> str:
    """An integer with thousands separators (counts, quantities): 1252.0 -> '1,252'."""
    v = _number(value)
    if v is None or math.isinf(v):
        return NA
    return f"{round(v):,}"


def number(value) -> str:
    """A plain number: two decimals, none when integral.

    >>> number(2.0), number(-0.004), number(1234.567)
    ('2', '0.00', '1,234.57')
    """
    v = _number(value)
    if v is None or math.isinf(v):
        return NA
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    text = f"{v:,.2f}"
    return text.lstrip("-") if text.lstrip("-").strip("0.,") == "" else text


def percent(value, signed: bool = False) -> str:
    """A share in [0, 1] as a percentage with one decimal (``signed``: with its sign)."""
    v = _number(value)
    if v is None or math.isinf(v):
        return NA
    text = f"{v:+.1%}" if signed else f"{v:.1%}"
    if text.lstrip("+-") == "0.0%":
        return "0.0%"
    return text


def pp(value, lang: str) -> str:
    """A difference of two shares in percentage points: 0.012 -> '+1.2 pp' / '+1.2 个百分点'."""
    v = _number(value)
    if v is None or math.isinf(v):
        return NA
    text = f"{v * 100:+.1f}"
    if text.lstrip("+-") == "0.0":
        text = "0.0"
    return f"{text} {i18n.t('unit_pp', lang)}"


def days(value, lang: str, days_cap: float = DAYS_CAP) -> str:
    """A number of days, an integer with its unit; beyond ``days_cap`` not meaningful."""
    if reason_key(value, "days", days_cap=days_cap) is not None:
        return NA
    return f"{round(float(value)):,} {i18n.t('unit_days', lang)}"


def _timestamp(value):
    import pandas as pd

    return pd.Timestamp(value)


def date(value) -> str:
    """A date as ``YYYY-MM-DD`` (whatever time of day it carries)."""
    if _missing(value):
        return NA
    return _timestamp(value).strftime("%Y-%m-%d")


def month(value, lang: str) -> str:
    """A month: ``2024年04月`` / ``Apr 2024``."""
    if _missing(value):
        return NA
    ts = _timestamp(value)
    return f"{ts.year}年{ts.month:02d}月" if lang == "zh-CN" else ts.strftime("%b %Y")


def local_zone(tz: str | None = None):
    """The run's time zone: ``tz`` (an IANA name such as ``Asia/Shanghai``), else the machine's."""
    if tz:
        return ZoneInfo(tz)
    return _dt.datetime.now().astimezone().tzinfo


def timestamp(value, tz: str | None = None) -> str:
    """A moment in the run's time zone: ``2026-12-02 10:13 CST``. A naive value is taken as UTC
    (how the pipeline records times)."""
    if _missing(value):
        return NA
    ts = _timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    local = ts.to_pydatetime().astimezone(local_zone(tz))
    return local.strftime("%Y-%m-%d %H:%M %Z").strip()


def yes_no(value, lang: str) -> str:
    """A boolean as 是/否, Yes/No."""
    if _missing(value):
        return NA
    return i18n.t("yes" if bool(value) else "no", lang)


def fmt(value, kind: str = "number", lang: str = "zh-CN", *, tz: str | None = None,
        days_cap: float = DAYS_CAP) -> str:
    """``value`` written for a person in ``lang``; ``kind`` is one of :data:`KINDS` (the module's
    table). A value that is not meaningful is :data:`NA`; :func:`why` says why."""
    _lang(lang)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
    if isinstance(value, (bool, _np.bool_)):
        return yes_no(value, lang)
    if kind == "text":
        return NA if _missing(value) else str(value)
    if kind == "date":
        return date(value)
    if kind == "month":
        return month(value, lang)
    if kind == "timestamp":
        return timestamp(value, tz)
    if kind == "money":
        return money(value, lang)
    if kind == "count":
        return count(value)
    if kind == "percent":
        return percent(value)
    if kind == "growth":
        return percent(value, signed=True)
    if kind == "pp":
        return pp(value, lang)
    if kind == "days":
        return days(value, lang, days_cap)
    return number(value)


def wan(v: float) -> str:
    """An amount in 元 written in 万元 with one decimal: 1234567 -> '123.5'. Kept for charts' axes;
    sentences and tables use :func:`money` (the unit follows the amount and the language)."""
    return f"{v / 1e4:,.1f}"
