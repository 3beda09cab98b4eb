"""Sales performance (业绩分析, domain.md §3): the monthly overview, the KPI cube against last year, the previous period and target, shares, anomalies and drivers."""

from .kpis import (  # noqa: F401
    as_date, sales_lines, monthly_overview, active_customers, headline_totals, GRAINS, DIMENSIONS,
    TARGET_LEVELS, DEFAULT_PRICE_BANDS, UNKNOWN, CUBE_MONEY, COLLECTION_DIMENSIONS, parse_price_bands,
    price_band_labels, price_band, period_start, period_end, comparison_window, movements, cube_expr,
    target_by_period, kpi_cube, collection_rate,
)
from .analysis import (  # noqa: F401
    ADDITIVE, comparison, shares, anomalies, ChangeExplanation, explain_change, comparison_period,
    biggest_movements, correlate, marketing_spend, SpendRevenue, spend_vs_revenue, overall_achievement,
    flagged, latest_period,
)
from .params import Params  # noqa: F401
