"""Fast vectorised formatting of days, times and money for the exports."""

from __future__ import annotations

import datetime as dt

import numpy as np

from .config import START

_OFF = 6000  # days before START covered by the lookup tables
_SPAN = _OFF + 2000
_BASE = np.datetime64(START.isoformat(), "D") - _OFF
_ALL = _BASE + np.arange(_SPAN)
_Y = _ALL.astype("datetime64[Y]").astype(int) + 1970
_M = _ALL.astype("datetime64[M]").astype(int) % 12 + 1
_D = (_ALL - _ALL.astype("datetime64[M]")).astype(int) + 1

_ISO = np.array([f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(_Y, _M, _D)], dtype=object)
_SLASH = np.array([f"{y}/{m}/{d}" for y, m, d in zip(_Y, _M, _D)], dtype=object)
_COMPACT = np.array([f"{y:04d}{m:02d}{d:02d}" for y, m, d in zip(_Y, _M, _D)], dtype=object)
_MONTH = np.array([f"{y:04d}-{m:02d}" for y, m in zip(_Y, _M)], dtype=object)
_HMS = np.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)], dtype=object)
_TWO = np.array([f"{i:02d}" for i in range(100)], dtype=object)
EXCEL_START = (START - dt.date(1899, 12, 30)).days  # serial of 2023-01-01


def _i(day):
    return np.asarray(day, dtype=np.int64) + _OFF


def iso(day):
    return _ISO[_i(day)]


def slash(day):
    return _SLASH[_i(day)]


def compact(day):
    return _COMPACT[_i(day)]


def month(day):
    return _MONTH[_i(day)]


def year(day):
    return _Y[_i(day)]


def month_num(day):
    return _M[_i(day)]


def hms(sec):
    return _HMS[np.asarray(sec, dtype=np.int64)]


def serial(day):
    return (np.asarray(day, dtype=np.int64) + EXCEL_START).astype(str).astype(object)


def to_date(day: int) -> dt.date:
    return START + dt.timedelta(days=int(day))


def ints(x):
    return np.asarray(x, dtype=np.int64).astype(str).astype(object)


def cents(c):
    """Cents -> '1234.56'."""
    c = np.asarray(c, dtype=np.int64)
    neg = c < 0
    a = np.abs(c)
    out = (a // 100).astype(str).astype(object) + "." + _TWO[a % 100]
    if neg.any():
        out[neg] = "-" + out[neg]
    return out


def wan(c):
    """Cents -> 万元 with thousands separators and 6 decimals: 12345678900 -> '12,345.678900'."""
    c = np.asarray(c, dtype=np.int64)
    whole = c // 1_000_000
    frac = c % 1_000_000
    w = np.array([f"{v:,}" for v in whole.tolist()], dtype=object)
    f = np.char.zfill(frac.astype(str), 6).astype(object)
    return w + "." + f
