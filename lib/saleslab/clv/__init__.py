"""Customer lifetime value (CLV, domain.md §6): BG/NBD + Gamma-Gamma by maximum likelihood, hold-out check, LTV/CAC.

The simple entry point: ``predicted_clv(eng, as_of, params) -> DataFrame(customer_id, clv, ...)``.
"""

from .models import (  # noqa: F401
    TIME_UNITS, VALUES, MAX_FREQUENCY_GROUP, HORIZON_RANGE, MIN_REPEAT_CUSTOMERS, DAYS_PER_MONTH, purchase_days_expr,
    summary_expr, summary, BetaGeoModel, GammaGammaModel, bg_nbd_log_likelihood, gamma_gamma_log_likelihood,
    fit_bg_nbd, fit_gamma_gamma, model_parameters, customer_value, predicted_clv, clv_totals, HoldoutCheck,
    frequency_group, holdout_purchases_expr, calibration_end, holdout_check, holdout_errors_table, UNKNOWN_CHANNEL,
    ltv_cac, simulate_bg_nbd, simulate_gamma_gamma, SHARED_TABLE, shared_values, value_parts,
)
from .params import Params  # noqa: F401
from ..parts import Part, attempt, value_of  # noqa: F401
