"""Sales funnel (销售漏斗, domain.md §7): cohort funnel by stage, time in stage, biggest losses, lead-source
ROI and CAC."""

from .conversion import (  # noqa: F401
    CUTS, OPEN_STAGES, STAGE_CODES, STAGES, biggest_losses, cohort_table, funnel_cuts, funnel_table, km_quantiles,
    km_table, leads_expr, select_cuts, size_band_labels, stay_histogram, stays_expr, wilson,
)
from .params import Params  # noqa: F401
from .roi import acquisition_cost, source_roi  # noqa: F401
