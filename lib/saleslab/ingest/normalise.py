"""Vectorised normalisers: raw export strings -> canonical values.

Each parser takes a pandas Series of raw strings (``None`` for an empty cell) and returns
``(values, bad)`` where ``bad`` marks cells that were not empty but could not be parsed.
Empty cells are never "bad": whether a column may be empty is the schema's business.
"""

from __future__ import annotations

import functools
import re
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from .regions import region_code
from .text import _FULLWIDTH, clean_text

#: Date formats tried when a source does not list its own.
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "excel_serial")

# Excel's day 0 (1899-12-30, which absorbs Lotus' 1900 leap-year bug for serials > 60).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serials between 1982-01-05 and 2064-12-31: wide enough for sales data, narrow enough
# not to read a 5-digit code as a date.
_SERIAL_MIN, _SERIAL_MAX = 30000, 60000

UNITS = {"元": 1.0, "yuan": 1.0, "CNY": 1.0, "万元": 10_000.0}

_WHITESPACE = re.compile(r"\s+")


def per_unique(func):
    """Run a parser on the distinct values only and spread the result back (exports repeat a lot)."""

    @functools.wraps(func)
    def wrapper(raw: pd.Series, *args, **kwargs):
        codes, uniques = pd.factorize(raw.astype(object), use_na_sentinel=True)
        if len(uniques) > 0.7 * len(raw):  # mostly distinct: factorising would not pay
            return func(raw, *args, **kwargs)
        vals, bad = func(pd.Series(uniques, dtype=object), *args, **kwargs)
        codes = np.where(codes < 0, len(uniques), codes)  # NA -> an appended empty slot
        vals = vals.reset_index(drop=True).reindex(range(len(uniques) + 1))
        bad = bad.reset_index(drop=True).reindex(range(len(uniques) + 1), fill_value=False).astype(bool)
        out = vals.take(codes)
        out.index = raw.index
        flags = pd.Series(bad.to_numpy()[codes], index=raw.index)
        return out, flags

    return wrapper


def _blank_to_none(raw: pd.Series) -> pd.Series:
    s = raw.astype(object)
    return s.where(s.notna() & (s.astype(str).str.strip() != ""), None)


@per_unique
def norm_text(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Free text: half-width, whitespace collapsed, trimmed; empty -> None."""
    s = _blank_to_none(raw)
    out = s.map(clean_text, na_action="ignore")
    return out.where(out.notna(), None), pd.Series(False, index=raw.index)


@per_unique
def norm_id(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Identifiers: half-width, all whitespace removed; empty -> None."""
    s = _blank_to_none(raw)
    out = s.map(lambda v: _WHITESPACE.sub("", str(v).translate(_FULLWIDTH)) or None, na_action="ignore")
    return out.where(out.notna(), None), pd.Series(False, index=raw.index)


@per_unique
def parse_dates(raw: pd.Series, formats=DEFAULT_DATE_FORMATS) -> tuple[pd.Series, pd.Series]:
    """Dates in any of ``formats`` (strptime codes or ``excel_serial``) -> datetime.date.

    >>> parse_dates(pd.Series(["2024/5/1", "20240501", "45413", "2024-13-45", None]))[0].tolist()
    [datetime.date(2024, 5, 1), datetime.date(2024, 5, 1), datetime.date(2024, 5, 1), None, None]
    """
    s = _blank_to_none(raw).map(lambda v: str(v).translate(_FULLWIDTH).strip(), na_action="ignore")
    result = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    todo = s.notna()
    for fmt in formats:
        if not todo.any():
            break
        part = s[todo]
        if fmt == "excel_serial":
            num = pd.to_numeric(part, errors="coerce")
            ok = num.notna() & (num >= _SERIAL_MIN) & (num <= _SERIAL_MAX) & part.str.fullmatch(r"\d+(\.0+)?")
            parsed = (_EXCEL_EPOCH + pd.to_timedelta(num[ok].astype("int64"), unit="D")).reindex(part.index)
        else:
            parsed = pd.to_datetime(part, format=fmt, errors="coerce")
        hit = parsed.notna()
        result.loc[hit[hit].index] = parsed[hit]
        todo.loc[hit[hit].index] = False
    bad = s.notna() & result.isna()
    dates = result.dt.date.astype(object).where(result.notna(), None)
    return dates, bad


class NumberFormat(NamedTuple):
    """How a source writes numbers: decimal mark, thousands separator (``""``: none) and whether
    ``(1,234.00)`` means −1234 (accounting negatives)."""

    decimal: str = "."
    thousands: str = ","
    accounting_negatives: bool = True


DEFAULT_NUMBER_FORMAT = NumberFormat()
_CURRENCY = re.compile(r"[¥￥元$€£]|RMB|CNY|USD|EUR", re.IGNORECASE)


@lru_cache(maxsize=32)
def _number_pattern(fmt: NumberFormat) -> re.Pattern:
    d, t = re.escape(fmt.decimal), re.escape(fmt.thousands) if fmt.thousands else None
    grouped = rf"\d{{1,3}}(?:{t}\d{{3}})+" if t else None
    integer = rf"(?:{grouped}|\d+)" if grouped else r"\d+"
    return re.compile(rf"^(?P<sign>[+-]?)(?P<int>{integer})?(?:{d}(?P<frac>\d*))?(?P<exp>[eE][+-]?\d+)?$")


def to_number(text, fmt: NumberFormat = DEFAULT_NUMBER_FORMAT) -> float | None:
    """One number written in ``fmt``; None when it does not fit the format (never reinterpreted:
    with the default format ``1.234,56`` is not a number, and ``2.500`` is 2.5).

    >>> to_number("1,234.5"), to_number("(1,234.00)"), to_number("1.234,56"), to_number("1.234,56", NumberFormat(",", "."))
    (1234.5, -1234.0, None, 1234.56)
    """
    v = str(text).translate(_FULLWIDTH).strip()
    v = _CURRENCY.sub("", v).strip()
    neg = False
    if fmt.accounting_negatives and len(v) > 2 and v[0] == "(" and v[-1] == ")":
        v, neg = v[1:-1].strip(), True
    if fmt.thousands != " ":
        v = v.replace(" ", "")
    m = _number_pattern(fmt).match(v)
    if not m or (m["int"] is None and not m["frac"]) or (neg and m["sign"]):
        return None
    digits = (m["int"] or "0").replace(fmt.thousands, "") if fmt.thousands else (m["int"] or "0")
    num = float(f"{m['sign']}{digits}.{m['frac'] or '0'}{m['exp'] or ''}")
    return -num if neg else num


def _numbers(raw: pd.Series, fmt: NumberFormat) -> tuple[pd.Series, pd.Series]:
    s = _blank_to_none(raw)
    num = s.map(lambda v: to_number(v, fmt), na_action="ignore")
    num = pd.to_numeric(num, errors="coerce").astype("float64")
    return num, s.notna() & num.isna()


@per_unique
def parse_money(raw: pd.Series, unit: str = "元", fmt: NumberFormat = DEFAULT_NUMBER_FORMAT) -> tuple[pd.Series, pd.Series]:
    """Amounts with thousands separators / currency signs, in ``unit`` -> 元 rounded to the cent.
    A value that does not fit the source's number format is bad (quarantined), not guessed.

    >>> parse_money(pd.Series(["1,234.5", "¥ 12", "0.012345", "abc"]), "万元")[0].tolist()
    [12345000.0, 120000.0, 123.45, nan]
    """
    if unit not in UNITS:
        raise ValueError(f"unknown money unit {unit!r}; allowed: {', '.join(UNITS)}")
    num, bad = _numbers(raw, fmt)
    return (num * UNITS[unit]).round(2), bad


@per_unique
def parse_number(raw: pd.Series, fmt: NumberFormat = DEFAULT_NUMBER_FORMAT) -> tuple[pd.Series, pd.Series]:
    """Plain numbers in the source's number format (thousands separators allowed) -> float64."""
    return _numbers(raw, fmt)


@per_unique
def parse_share(raw: pd.Series, fmt: NumberFormat = DEFAULT_NUMBER_FORMAT) -> tuple[pd.Series, pd.Series]:
    """Shares in [0, 1]: ``0.6``, ``60%`` and ``60`` (a CRM's percent column) are all 0.6; a value
    outside [0, 100] is bad.

    >>> parse_share(pd.Series(["0.6", "60%", "60", "250"]))[0].tolist()
    [0.6, 0.6, 0.6, nan]
    """
    s = _blank_to_none(raw)
    pct = pd.Series([v is not None and str(v).strip().endswith("%") for v in s], index=s.index, dtype=bool)
    num, bad = _numbers(s.map(lambda v: str(v).strip().rstrip("%"), na_action="ignore"), fmt)
    num = num.where(~(pct | (num > 1)), num / 100)
    out_of_range = num.notna() & ((num < 0) | (num > 1))
    return num.where(~out_of_range).round(6), bad | out_of_range


def parse_int(raw: pd.Series, fmt: NumberFormat = DEFAULT_NUMBER_FORMAT) -> tuple[pd.Series, pd.Series]:
    """Integers (``12``, ``12.0``, ``1,200``) -> Int64; fractional values are bad."""
    num, bad = parse_number(raw, fmt)
    frac = num.notna() & (num != np.floor(num))
    out = num.where(~frac).astype("Int64")
    return out, bad | frac


def norm_region(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Free-text regions -> region codes; text that names no known region is bad."""
    s = _blank_to_none(raw)
    uniq = {v: region_code(v) for v in s.dropna().unique()}
    out = s.map(uniq, na_action="ignore")
    bad = s.notna() & out.isna()
    return out.where(out.notna(), None), bad


def norm_choice(raw: pd.Series, allowed) -> tuple[pd.Series, pd.Series]:
    """Codes that must be one of ``allowed`` (case-insensitive)."""
    s, _ = norm_id(raw)
    low = {a.lower(): a for a in allowed}
    out = s.map(lambda v: low.get(str(v).lower()), na_action="ignore")
    bad = s.notna() & out.isna()
    return out.where(out.notna(), None), bad
