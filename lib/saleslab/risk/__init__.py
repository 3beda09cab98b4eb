"""Risk (风险, domain.md §10): customer credit rating, receivables ageing, bad-debt rate, distributor
collection, inventory turnover watch, customer concentration, and the alerts table."""

from .alerts import ALERTS, SEVERITIES, RiskTables, alert_counts, headlines, risk_alerts, risk_tables  # noqa: F401
from .concentration import concentration_by_channel  # noqa: F401
from .credit import GRADES, credit_rating, credit_watch_list, grade_counts  # noqa: F401
from .inventory import FREQUENCIES, frequency_of, latest_turnover, turnover_watch  # noqa: F401
from .params import Params  # noqa: F401
from .receivables import (  # noqa: F401
    COLLECTION_STATUS, ageing_labels, ageing_summary, bad_debt, distributor_collection, receivables_ageing,
)
