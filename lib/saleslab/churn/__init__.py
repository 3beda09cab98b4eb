"""Churn warning (流失预警, domain.md §6): features, a logistic model scored on a later cut-off against baselines, the call list."""

from .model import (  # noqa: F401
    LOG_FEATURES, LINEAR_FEATURES, REASON_FEATURES, FEATURE_COLUMNS, SCORERS, features_expr, features,
    last_purchase_date, churn_labels, dataset, design_matrix, ChurnModel, fit_churn_model, top_reasons,
    roc_auc, top_share_precision, calibration_table, lift_table, roc_points, evaluate, ChurnBacktest, cutoffs,
    backtest, score_customers, customer_scores, VALUE_BASES, call_list, model_totals, risk_totals, churn_totals,
    combined_scores,
)
from .params import Params  # noqa: F401
