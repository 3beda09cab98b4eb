"""Daily sales intensity per channel and region: weekday, month, Spring Festival dip,
618 / Double 11 peaks, campaigns and the planted growth trends."""

from __future__ import annotations

import datetime as dt

import numpy as np

from .config import CHANNEL_GROWTH, CHANNELS, DAYS, N_DAYS, REGION_GROWTH, REGION_SHARE, SPRING_FESTIVAL, START
from .regions import REGION_CODES

MONTH_PROFILE = {
    "online": [1.0, 1.0, 1.0, 0.95, 1.0, 1.1, 0.95, 0.95, 1.0, 1.0, 1.1, 1.1],
    "retail": [1.05, 1.0, 0.95, 1.0, 1.05, 1.05, 1.1, 1.05, 0.95, 1.1, 1.0, 1.05],
    "direct": [0.95, 1.0, 1.05, 1.0, 1.0, 1.05, 0.95, 0.95, 1.05, 0.95, 1.05, 1.15],
    "distribution": [0.9, 1.0, 1.1, 1.0, 1.0, 1.1, 0.9, 0.95, 1.1, 1.0, 1.1, 1.05],
}
WEEKDAY = {  # Monday..Sunday
    "online": [1.0, 1.0, 1.0, 1.0, 1.05, 1.15, 1.15],
    "retail": [0.8, 0.8, 0.85, 0.85, 1.0, 1.45, 1.45],
    "direct": [1.15, 1.15, 1.15, 1.15, 1.1, 0.2, 0.1],
    "distribution": [1.15, 1.15, 1.15, 1.15, 1.1, 0.2, 0.1],
}
SF_DIP = {"online": 0.45, "retail": 0.3, "direct": 0.15, "distribution": 0.15}
SF_WINDOW = (-14, 6)  # days around the festival (B2B slows down two weeks before)


def _d(y, m, d):
    return (dt.date(y, m, d) - START).days


def campaigns() -> list[dict]:
    """Marketing campaigns (fixed calendar; spend is drawn later)."""
    out = []
    for y in (2023, 2024, 2025):
        yy = y % 100
        spec = [
            ("女神节焕新季", "online", "social", (3, 1), (3, 8), 1.4),
            ("618年中大促", "online", "search", (6, 1), (6, 18), 1.8),
            ("暑期门店焕新", "retail", "store", (7, 10), (7, 31), 1.3),
            ("99划算节", "online", "livestream", (9, 5), (9, 9), 1.4),
            ("国庆门店周年庆", "retail", "store", (9, 28), (10, 7), 1.35),
            ("双11狂欢节", "online", "livestream", (10, 24), (11, 11), 1.5),
            ("双12年终盛典", "online", "social", (12, 8), (12, 12), 1.4),
        ]
        for k, (name, ch, src, s, e, boost) in enumerate(spec):
            out.append({
                "campaign_id": f"CP{yy}{k + 1:02d}", "name": f"{y}{name}", "channel": ch, "source": src,
                "start": _d(y, *s), "end": _d(y, *e), "boost": boost,
            })
    return out


def daily_weights(rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """channel -> array (regions, days) of relative daily intensity, mean ≈ 1."""
    idx = np.arange(N_DAYS)
    months = DAYS.astype("datetime64[M]").astype(int) % 12
    weekday = (DAYS.astype("datetime64[D]").astype(int) - 4) % 7  # 1970-01-01 was a Thursday
    t = idx / 365.25
    camps = campaigns()
    out = {}
    for ch in CHANNELS:
        w = np.asarray(MONTH_PROFILE[ch])[months] * np.asarray(WEEKDAY[ch])[weekday]
        for sf in SPRING_FESTIVAL.values():
            c = (sf - START).days
            w[max(0, c + SF_WINDOW[0]): c + SF_WINDOW[1] + 1] *= SF_DIP[ch]
        for c in camps:
            if c["channel"] == ch:
                w[c["start"]: c["end"] + 1] *= c["boost"]
        if ch == "online":
            for y in (2023, 2024, 2025):
                w[_d(y, 6, 18)] *= 4.0
                w[_d(y, 11, 11)] *= 7.0
                w[_d(y, 11, 12): _d(y, 11, 15) + 1] *= 1.5
        elif ch == "retail":
            for y in (2023, 2024, 2025):
                w[_d(y, 6, 1): _d(y, 6, 18) + 1] *= 1.15
                w[_d(y, 11, 1): _d(y, 11, 11) + 1] *= 1.1
        w = w * (1 + CHANNEL_GROWTH[ch]) ** t
        # region trends are relative: the share-weighted mix keeps the channel's own growth
        rel = np.stack([(1 + REGION_GROWTH[r]) ** t for r in REGION_CODES])
        share = np.array([REGION_SHARE[r] for r in REGION_CODES])[:, None]
        reg = w * rel / (rel * share).sum(axis=0)
        out[ch] = reg / reg.mean()
    return out
