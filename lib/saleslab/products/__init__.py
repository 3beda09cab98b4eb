"""Products (产品分析, domain.md §4): stars and slow movers, BCG, ABC, sell-through, turnover, price bands, penetration."""

from .portfolio import (  # noqa: F401
    UNKNOWN, BCG_QUADRANTS, DEFAULT_PRICE_EDGES, period_days, product_performance, star_products,
    classify_stars, inventory_turnover, slow_movers, sell_through_rate, abc_classes, classify_abc,
    abc_summary, bcg_windows, bcg_matrix, bcg_summary, parse_edges, band_label, price_band_performance,
    penetration, top_bottom, headline_figures,
)
