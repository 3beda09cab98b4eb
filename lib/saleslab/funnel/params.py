"""The funnel stage's parameters (domain.md §7: stage conversion, time in stage, lead-source ROI)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ..params import AreaParams


def parse_size_bands(edges: str) -> tuple[int, ...]:
    """Employee band edges from ``"50,500"``: strictly increasing positive whole numbers."""
    from ..errors import InvalidArgument

    parts = [e.strip() for e in str(edges).replace("，", ",").split(",") if e.strip()]
    try:
        out = tuple(int(e) for e in parts)
    except ValueError:
        raise InvalidArgument(f"size band edges must be whole numbers, got {edges[:80]!r}") from None
    if not out or out[0] <= 0 or any(b <= a for a, b in zip(out, out[1:])):
        raise InvalidArgument(f"size band edges must be strictly increasing positive numbers, got {edges[:80]!r}")
    return out


def parse_source_costs(text: str) -> dict[str, float]:
    """Acquisition cost per lead source from ``"展会=120000;线上推广=80000"`` (元 over the analysed
    period); empty: no cost is known."""
    from ..errors import InvalidArgument

    out: dict[str, float] = {}
    for part in str(text).replace("；", ";").split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        try:
            cost = float(value.replace(",", ""))
        except ValueError:
            cost = -1.0
        if not sep or not name.strip() or cost < 0:
            raise InvalidArgument(f"source costs must read 'source=amount;...' with amounts ≥ 0, got {part.strip()!r}")
        out[name.strip()] = cost
    return out


class Params(AreaParams):
    """Thresholds and definitions of the funnel analysis (each field's description is its help)."""

    funnel_size_bands: str = Field(
        "50,500", description="customer size bands by employees: edges, comma-separated "
                              "(小微 < 50, 中型 50–499, 大型 ≥ 500)")
    funnel_repeat_window_days: int = Field(
        365, ge=1, le=3650, description="a signed lead with no repeat purchase this many days after its contract "
                                        "counts as not repeated; before, it is open")
    funnel_min_leads: int = Field(
        20, ge=1, description="a source or rep needs at least this many closed stage outcomes to be ranked for "
                              "the biggest loss")
    funnel_interval_level: float = Field(
        0.95, gt=0.5, lt=1, description="confidence level of the conversion intervals (Wilson score interval)")
    funnel_source_costs: str = Field(
        "", description="acquisition cost per lead source over the period, 元, pairs of a source and its amount joined by an equals sign, "
                        "separated by ';' (no source exports it); empty: unknown")
    funnel_cost_channel: Literal["direct", "online", "retail", "distribution"] = Field(
        "direct", description="sales channel whose acquisition cost (channel_costs) pays for the lead funnel, "
                              "for the overall CAC")

    @field_validator("funnel_size_bands")
    @classmethod
    def _bands(cls, v):
        parse_size_bands(v)
        return v

    @field_validator("funnel_source_costs")
    @classmethod
    def _costs(cls, v):
        parse_source_costs(v)
        return v
