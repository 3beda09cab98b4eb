"""Number formatting shared by every area's story and table (money in 万元, ...)."""

from __future__ import annotations


def wan(v: float) -> str:
    """An amount in 元 written in 万元 with one decimal: 1234567 -> '123.5'."""
    return f"{v / 1e4:,.1f}"
