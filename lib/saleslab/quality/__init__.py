"""Data quality (数据质量, domain.md §2): row accounting, quarantine reasons, merges, coverage, fills, outliers, trend."""

from .checks import (  # noqa: F401
    input_inventory,
    COVERAGE_TARGET, COVERAGE_MEASURES, file_accounting, source_accounting, row_accounting, accounting_totals,
    table_rows, quarantine_reasons, reason_totals, merged_by_rule, merged_orders, coverage, overall_coverage,
    coverage_vs_target, customer_resolution, resolution_totals, review_list, outliers_for_review,
    outliers_by_rule, fills_by_column, quality_trend, quality_headlines, ACCURACY_TARGET, cleaning_accuracy,
)
