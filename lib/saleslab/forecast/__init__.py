"""Forecasting (销售预测, domain.md §9): monthly series from the facts layer, pre-processing,
rolling-origin back-test and automatic choice across model families, conformal intervals,
coherent forecasts of the hierarchy, price elasticity and promotion effect."""

from ..parts import attempt, value_of  # noqa: F401
from .effects import elasticity, price_promo_effects  # noqa: F401
from .hierarchy import hierarchy_forecast  # noqa: F401
from .params import Params  # noqa: F401
from .prep import decompose, prepare, seasonal_profile  # noqa: F401
from .selection import Result, auto_forecast, backtest, run  # noqa: F401
from .series import cube, sales_series  # noqa: F401
from .summary import backtest_summary, outlook  # noqa: F401
