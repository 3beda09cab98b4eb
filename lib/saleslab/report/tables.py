"""Tables for people: labelled columns and codes, numbers through the locale's formatter.

Two views of a stage table (the Parquet hand-over between stages stays raw):

* :func:`for_display` — the page: column names and code values in the run's language, booleans as
  是/否 / Yes/No, money in one unit per column (named in the header), shares as percentages, counts
  as integers, dates as dates, "—" for values that are not meaningful with the reasons in a
  footnote, a product's or customer's name before its id, and one line saying why when the table is
  empty;
* :func:`for_people` — the CSV / Excel copy: the same labels (a code column stays beside its
  label), numbers kept as numbers so a spreadsheet can sum them, dates without a time of day.

The kind of a column (:func:`column_kind`) comes from the labels' registries (``SHARES`` and
``MONEY`` of every ``labels.py``) and from naming conventions:

>>> import pandas as pd
>>> [column_kind(c, s) for c, s in pd.DataFrame({"revenue": [1.0], "orders": [2], "gross_margin": [0.1],
...     "days_overdue": [3.0], "order_date": pd.to_datetime(["2024-01-02"]), "yoy_growth": [0.1]}).items()]
['money', 'count', 'percent', 'days', 'date', 'growth']
>>> label_code("tag_high_value,tag_churn_risk", "en"), label_code("total/east/online", "zh-CN")
('High value, Churn risk', '合计 / 华东 / 线上电商')
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import format as F
from . import i18n

#: Columns holding an identifier or a name: their values are never looked up as codes.
_ID_SUFFIXES = ("_id", "_name", "id", "name", "file", "_file", "description", "evidence", "example_line")
_GROWTH = {"yoy_growth", "pop_growth", "pct_change", "revenue_growth", "growth", "lift_pct", "lift_pct_lo",
           "lift_pct_hi", "total_relative_error", "turnover_deviation", "deviation"}
_COUNT_NAMES = {"orders", "customers", "quantity", "volume", "rows", "lines", "invoices", "reps", "leads", "visits",
                "clicks", "buyers", "n", "n_obs", "records", "files", "conversions", "flagged", "outliers"}
_MONTH_NAMES = {"month", "period", "base_period", "cohort_month", "entry_month"}


def _is_share(name: str) -> bool:
    return name in i18n.SHARE_COLUMNS or name.endswith(("_share", "_rate")) or name.startswith("share_")


def column_kind(name, series: pd.Series) -> str:
    """The formatter kind of a column (see the module's docstring)."""
    name = str(name)
    if pd.api.types.is_bool_dtype(series) or _booleans(series):
        return "text"
    if pd.api.types.is_datetime64_any_dtype(series) or _dates(series):
        if name in _MONTH_NAMES and _first_of_month(series):
            return "month"
        return "date"
    if not pd.api.types.is_numeric_dtype(series):
        return "text"
    if name in _GROWTH or name.endswith("_growth"):
        return "growth"
    if _is_share(name):
        return "percent"
    if name in i18n.MONEY_COLUMNS:
        if name in _SHARE_IF_FRACTION and _fractions(series):
            return "percent"  # a coverage target of 0.98 beside a coverage share, not 0.98 元
        return "money"
    if name.endswith("_days") or name.startswith("days_") or name in ("days", "tenure_days", "recency_days"):
        return "days"
    if pd.api.types.is_integer_dtype(series):
        return "count"
    if name in _COUNT_NAMES or name.startswith(("n_", "rows_", "leads_")) or name.endswith(
            ("_count", "_orders", "_customers", "_units", "_baskets", "_invoices", "_leads")):
        return "count"
    return "number"


#: Money columns that hold a share in some tables (``target``: 元 in 02/05, a coverage share in 00).
_SHARE_IF_FRACTION = {"target"}


def _fractions(s: pd.Series) -> bool:
    vals = pd.to_numeric(s, errors="coerce").dropna()
    return len(vals) > 0 and bool(((vals >= 0) & (vals <= 1)).all())


def _booleans(s: pd.Series) -> bool:
    if s.dtype != object:
        return False
    vals = s.dropna()
    return len(vals) > 0 and all(isinstance(v, bool) or type(v).__name__ == "bool_" for v in vals)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( 00:00:00)?$")


def _dates(s: pd.Series) -> bool:
    """Date objects, or text that is an ISO date (``2024-04-02``, ``2024-04-02 00:00:00``)."""
    if s.dtype != object and not pd.api.types.is_string_dtype(s):
        return False
    import datetime as dt

    vals = s.dropna().head(200)
    return len(vals) > 0 and all(isinstance(v, (dt.date, pd.Timestamp)) or (isinstance(v, str) and _ISO_DATE.match(v))
                                 for v in vals)


def _first_of_month(s: pd.Series) -> bool:
    ts = pd.to_datetime(s.dropna(), errors="coerce")
    return len(ts) > 0 and bool((ts.dt.day == 1).all())


def label_code(value, lang: str, column: str | None = None):
    """A code value in ``lang``: a label key, ``<column>_<value>`` (``table`` ``orders`` is the label
    ``table_orders``; tried first), a list of keys (``a,b``) or a path (``a/b/c``) of keys; anything else unchanged."""
    if not isinstance(value, str):
        return value
    if column is not None and i18n.has(f"{column}_{value}"):  # first: table "customers" is the master, not a count
        return i18n.t(f"{column}_{value}", lang)
    if i18n.has(value):
        return i18n.t(value, lang)
    for sep, glue in ((",", "、" if lang == "zh-CN" else ", "), ("/", " / ")):
        if sep in value:
            parts = [p.strip() for p in value.split(sep)]
            if parts and all(i18n.has(p) for p in parts if p):
                return glue.join(i18n.t(p, lang) for p in parts if p)
    return value


def _is_id_column(name) -> bool:
    n = str(name)
    return n.endswith(_ID_SUFFIXES) or n in ("antecedent", "consequent")


def _code_columns(df: pd.DataFrame, value_columns) -> list:
    cols = []
    for c in df.columns:
        s = df[c]
        if c in value_columns or (not _is_id_column(c) and (s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype)
                                                           or pd.api.types.is_string_dtype(s))):
            if not _booleans(s):
                cols.append(c)
    return cols


def _name_first(df: pd.DataFrame) -> pd.DataFrame:
    """A product's or customer's name before its id: ``customer_id, customer_name`` -> name, id."""
    cols = list(df.columns)
    for c in list(cols):
        base = c[:-3] if isinstance(c, str) and c.endswith("_id") else c
        name_col = f"{base}_name"
        if isinstance(c, str) and name_col in cols and name_col != c and cols.index(name_col) > cols.index(c):
            cols.remove(name_col)
            cols.insert(cols.index(c), name_col)
    return df[cols]


_UNIT_IN_LABEL = re.compile(r"\s*[（(](元|万元|CNY|10k CNY)[)）]")


def _header(col, lang: str, unit: str | None = None) -> str:
    text = i18n.t(col, lang) if i18n.has(col) else str(col)
    if unit:
        text = _UNIT_IN_LABEL.sub("", text)  # "消费金额(元)" holding 万元 is "消费金额（万元）"
        text = f"{text}（{unit}）" if lang == "zh-CN" else f"{text} ({unit})"
    return text


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n} ({seen[n]})")
        else:
            seen[n] = 1
            out.append(n)
    return out


def display_frame(df: pd.DataFrame, lang: str, value_columns=(), kinds: dict | None = None,
                  tz: str | None = None) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The page's table as text: (frame of strings with labelled headers, the numeric headers (right
    aligned), the reasons of the "—" cells)."""
    kinds = dict(kinds or {})
    df = _name_first(df.reset_index(drop=True))
    codes = set(_code_columns(df, value_columns))
    out, headers, numeric, reasons = {}, [], [], []
    for c in df.columns:
        s = df[c]
        kind = kinds.get(c) or column_kind(c, s)
        if kind in ("date", "month", "timestamp") and c not in value_columns:
            codes.discard(c)
        unit = None
        if c in codes:
            shown = s.map(lambda v: F.NA if F._missing(v) else label_code(v, lang, str(c)) if isinstance(v, str) else
                          F.fmt(v, "text", lang))
        elif kind == "money":
            divisor, decimals, unit = F.column_money_unit(s.tolist(), lang)
            shown = s.map(lambda v: F.money_in(v, divisor, decimals))
        else:
            shown = s.map(lambda v, k=kind: F.fmt(v, k, lang, tz=tz))
        if kind not in ("text", "date", "month", "timestamp") and c not in codes:
            numeric.append(len(headers))
            for v in s:
                r = F.reason_key(v, kind)
                if r is not None and r not in reasons:
                    reasons.append(r)
        headers.append(_header(c, lang, unit))
        out[c] = shown.astype(object)
    frame = pd.DataFrame(out)
    frame.columns = _unique(headers)
    return frame, [frame.columns[i] for i in numeric], [i18n.t(r, lang) for r in reasons]


def for_display(df: pd.DataFrame, lang: str, value_columns=(), *, empty: str | None = None,
                kinds: dict | None = None, define=(), tz: str | None = None, rows: int | None = None):
    """The table for a stage page: a Styler (no index), or one Markdown line when ``df`` is empty
    (the label ``empty`` says why; a generic reason by default). ``define``: headline keys whose
    definitions (:mod:`saleslab.report.glossary`) are given under the table. ``rows``: at most this
    many rows are shown (the first, in the table's order), and a footnote says how many there are
    (a page listing thousands of rows is megabytes that nobody reads on a phone; the saved table
    keeps them all)."""
    from IPython.display import Markdown

    if df is None or len(df) == 0:
        return Markdown(f"> {i18n.t(empty or 'empty_table', lang)}")
    total = len(df)
    if rows is not None and total > rows:
        df = df.head(rows)
    frame, numeric, reasons = display_frame(df, lang, value_columns, kinds, tz)
    notes = []
    if len(df) < total:
        notes.append(i18n.say("rows_footnote", lang, shown=f"{len(df):,}", total=f"{total:,}"))
    if reasons:
        notes.append(i18n.say("na_footnote", lang, reasons=("；" if lang == "zh-CN" else "; ").join(reasons)))
    if define:
        from . import glossary

        notes += [i18n.say("definition_footnote", lang, name=glossary.name(k, lang), text=glossary.definition(k, lang))
                  .replace("**", "") for k in define]
    # cells and headers come from the data (a customer name may hold "<script>"): escaped as HTML
    style = frame.style.format(escape="html").format_index(escape="html", axis=1).hide(axis="index")
    if numeric:
        style = style.set_properties(subset=numeric, **{"text-align": "right"})
    if notes:
        style = style.set_caption("<br>".join(notes)).set_table_styles(
            [{"selector": "caption", "props": "caption-side: bottom; font-size: 0.85em; text-align: left;"}],
            overwrite=False)
    return style


def _per_value(s: pd.Series, fn) -> pd.Series:
    """``s.map(fn)`` computing ``fn`` once per distinct value (labels of a code column repeat: a
    37,841-row table took 25 s labelled cell by cell)."""
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists): one call per cell
        return s.map(fn)
    labelled = np.empty(len(uniques), dtype=object)
    labelled[:] = [fn(u) for u in uniques]
    out = pd.Series(labelled[codes] if len(uniques) else np.full(len(s), None, dtype=object), index=s.index,
                    dtype=object)
    missing = codes < 0
    if missing.any():
        out[missing] = s[missing].map(fn)
    return out


def for_people(df: pd.DataFrame, lang: str, value_columns=()) -> pd.DataFrame:
    """The CSV / Excel copy: labelled headers and code values (the code beside its label, headed
    "<label> (编号/ID)"), booleans as 是/否 / Yes/No, dates without a time of day, numbers as numbers.

    >>> for_people(pd.DataFrame({"channel": ["online"], "tag_potential": [True], "revenue": [1.5]}), "en").to_dict("records")
    [{'Channel': 'Online', 'Channel (ID)': 'online', 'Potential': 'Yes', 'Revenue': 1.5}]
    """
    df = _name_first(df.reset_index(drop=True))
    codes = set(_code_columns(df, value_columns))
    out: dict[str, pd.Series] = {}
    headers: list[str] = []
    series: list[pd.Series] = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or _booleans(s):
            headers.append(_header(c, lang))
            series.append(_per_value(s, lambda v: F.yes_no(v, lang) if not F._missing(v) else None))
        elif c in codes and not _dates(s):
            shown = _per_value(s, lambda v, c=str(c): label_code(v, lang, c))
            headers.append(_header(c, lang))
            series.append(shown)
            if not shown.equals(s):  # codes were labelled: keep the code beside its label
                headers.append(f"{_header(c, lang)}（{i18n.t('id_suffix', lang)}）" if lang == "zh-CN"
                               else f"{_header(c, lang)} ({i18n.t('id_suffix', lang)})")
                series.append(s)
        elif _dates(s) and not pd.api.types.is_datetime64_any_dtype(s):
            headers.append(_header(c, lang))
            series.append(s.map(lambda v: v[:10] if isinstance(v, str) else v))
        elif pd.api.types.is_datetime64_any_dtype(s):
            headers.append(_header(c, lang))
            times = s.dropna()
            midnight = len(times) == 0 or bool((times == times.dt.normalize()).all())
            series.append(s.dt.date if midnight else s)
        else:
            headers.append(_header(c, lang))
            series.append(s)
    for h, s in zip(_unique(headers), series):
        out[h] = s.reset_index(drop=True)
    return pd.DataFrame(out)
