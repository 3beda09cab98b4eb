"""Dates, periods and comparison windows, the same for every area.

Weeks start on Monday; the same period last year is 52 weeks earlier for days and weeks, one
calendar year earlier otherwise.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

#: Time grains and their Ibis truncation units (weeks start on Monday on every engine).
GRAINS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def as_date(value) -> dt.date:
    """A date from a date or an ISO string (notebook parameters arrive as strings)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def period_start(d, grain: str) -> dt.date:
    """First day of the ``grain`` period holding date ``d`` (weeks start on Monday)."""
    d = as_date(d)
    if grain == "day":
        return d
    if grain == "week":
        return d - dt.timedelta(days=d.weekday())
    if grain == "month":
        return d.replace(day=1)
    if grain == "quarter":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return d.replace(month=1, day=1)


def comparison_offset(grain: str, kind: str) -> pd.DateOffset:
    """Shift from a period to the one it is compared with: same period last year (weeks and days:
    52 weeks back, the same weekday) or the previous period."""
    if kind == "yoy":
        return pd.DateOffset(days=364) if grain in ("day", "week") else pd.DateOffset(years=1)
    return {"day": pd.DateOffset(days=1), "week": pd.DateOffset(days=7), "month": pd.DateOffset(months=1),
            "quarter": pd.DateOffset(months=3), "year": pd.DateOffset(years=1)}[grain]


def period_end(p, grain: str) -> dt.date:
    """Last day of the ``grain`` period starting on ``p``."""
    return (pd.Timestamp(as_date(p)) + comparison_offset(grain, "pop") - pd.Timedelta(days=1)).date()


def comparison_window(start, end, grain: str, kind: str) -> tuple[dt.date, dt.date]:
    """The dates [start, end] shifted back a year (``yoy``) or a period (``pop``); an end that
    closes a period maps to the end of the shifted period (Feb 29 -> Jan 31, not Jan 29)."""
    start, end = as_date(start), as_date(end)
    off = comparison_offset(grain, kind)
    lo = (pd.Timestamp(start) - off).date()
    pe = period_start(end, grain)
    if end == period_end(pe, grain):
        hi = period_end(period_start((pd.Timestamp(pe) - off).date(), grain), grain)
    else:
        hi = (pd.Timestamp(end) - off).date()
    return lo, hi
