"""Cross-sell (交叉销售, domain.md §6): association rules (support, confidence, lift) and recommendations."""

from .rules import (  # noqa: F401
    ITEMS, BASKETS, SCORES, RULE_COLUMNS, RECOMMENDATION_COLUMNS, basket_items, pair_counts_expr, item_names,
    association_rules, customer_items_expr, recommendations, rule_summary,
)
from .params import Params  # noqa: F401
