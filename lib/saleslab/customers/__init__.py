"""Customers (客户, domain.md §6): RFM, tiers, rule tags, firmographics, value matrix and clusters."""

from .segments import (  # noqa: F401
    RFM_CLASSES, TREATMENTS, THRESHOLDS, TIERS, TAGS, INDUSTRIES, INDUSTRY_BANDS, SIZE_BANDS, CUSTOMER_TYPES,
    QUADRANTS, window, rfm_expr, quintile_score, score_rfm, rfm, rfm_summary, rfm_grid, assign_tiers,
    tier_summary, activity_expr, customer_activity, rule_tags, tag_summary, industry_band, size_band,
    firmographics, firmographic_cuts, value_table, POTENTIAL_BASES, potential_value_table, value_threshold,
    value_matrix, quadrant_counts, SEGMENT_COLUMNS, segment_table, headline_figures, top_customers,
    Part, attempt, value_of, FOLLOWUP_RULES, require_followups, require_clv_potential,
)
from .clusters import (  # noqa: F401
    NUMERIC, TRAITS, cluster_features, feature_matrix, choose_k, ClusterResult, fit_clusters,
    cluster_profiles, cluster_rfm_crosstab,
)
