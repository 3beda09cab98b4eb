"""Customer lifecycle (生命周期, domain.md §6): stages and movements, cohorts, monthly retention, repurchase and churn rates."""

from .stages import (  # noqa: F401
    STAGES, ABSENT, REASONS, CLOSED_LEAD_STAGES, STAGES_TABLE, MIN_PRIOR_ORDERS, buying_orders,
    customer_activity_expr, known_customers, lifecycle_stages, stage_counts, headline_counts, stage_movements,
    changed_stages, movement_matrix, one_month_earlier, previous_stages, customer_stage, cohort_expr, cohort_table, cohort_matrix,
    cohort_summary, retention_curve, monthly_rates, rates_summary, prospects_known, require_prospect_sources,
)
