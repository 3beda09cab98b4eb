"""Products (产品分析, domain.md §4): stars and slow movers, BCG, ABC, sell-through, turnover, price bands, penetration.

Compute :func:`product_performance` once per period and pass the frame to the analyses of that period.
"""

from .params import Params  # noqa: F401
from .portfolio import (  # noqa: F401
    UNKNOWN, BCG_QUADRANTS, DEFAULT_PRICE_EDGES, period_days, product_performance, star_products,
    inventory_turnover, slow_movers, sell_through_window, sell_through_rate, abc_classes, abc_summary, bcg_windows, bcg_matrix,
    bcg_summary, price_band_performance, penetration, top_bottom, leading_rows, headline_figures,
)
