"""Fixed calendar and per-scale sizes of the demo world."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

START = dt.date(2023, 1, 1)
END = dt.date(2025, 12, 31)  # inclusive
EXPORT_STAMP = "2026-01-02 08:30:00"  # fixed "export time" printed in title rows

DAY0 = np.datetime64(START.isoformat(), "D")
N_DAYS = (END - START).days + 1
DAYS = DAY0 + np.arange(N_DAYS)

#: Spring Festival (春节) dates in the period.
SPRING_FESTIVAL = {2023: dt.date(2023, 1, 22), 2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29)}

CHANNELS = ("online", "retail", "direct", "distribution")


@dataclass(frozen=True)
class Scale:
    name: str
    order_lines: int  # target total over the four selling systems
    online_members: int
    pos_members: int
    crm_companies: int
    distributors: int
    reps: int
    products: int
    stores: int
    lines_per_chunk: int = 400_000


SCALES = {
    "small": Scale("small", 50_000, 4_000, 3_000, 400, 12, 24, 120, 12),
    "medium": Scale("medium", 1_000_000, 60_000, 45_000, 4_000, 30, 48, 300, 40),
    "large": Scale("large", 10_000_000, 250_000, 210_000, 25_000, 60, 80, 600, 120),
}

#: Share of order lines per selling system.
LINE_SHARE = {"online": 0.42, "retail": 0.33, "direct": 0.17, "distribution": 0.08}
#: Mean lines per order.
LINES_PER_ORDER = {"online": 1.5, "retail": 2.2, "direct": 4.0, "distribution": 6.0}

#: Intended yearly growth by channel and by region (multiplicative on the daily intensity).
CHANNEL_GROWTH = {"online": 0.25, "retail": -0.05, "direct": 0.08, "distribution": 0.03}
REGION_GROWTH = {
    "north": 0.03, "east": 0.06, "south": 0.08, "central": 0.10,
    "southwest": 0.22, "northwest": 0.05, "northeast": -0.12,
}
REGION_SHARE = {
    "north": 0.15, "east": 0.30, "south": 0.20, "central": 0.12,
    "southwest": 0.12, "northwest": 0.05, "northeast": 0.06,
}


def day_index(d: dt.date) -> int:
    return (d - START).days


def to_date(idx) -> np.ndarray:
    return DAY0 + np.asarray(idx, dtype="int64")
