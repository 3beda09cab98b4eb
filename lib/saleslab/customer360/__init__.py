"""Customer 360° (客户360, domain.md §6): one customer's profile, orders, segment, value, risk and next action."""

from ..parts import Part, attempt, value_of  # noqa: F401
from .card import (  # noqa: F401
    ACTIONS, IMPORTANT_CLASSES, PROFILE_FIELDS, STAGES_TABLE, SEGMENTS_TABLE, SCORES_TABLE, COMPUTED, CARD_COLUMNS,
    top_customer, resolve_customer, profile, profile_view, profile_table, customer_revenue, order_history,
    monthly_history, followups, stage_info, segment_info, value_info, risk_reasons, is_high_value, next_action,
    customer_card,
)
from .links import COMPUTED as LINK_COMPUTED, FACTS as LINK_FACTS, LINK_COLUMNS, linked_facts, review_and_value  # noqa: F401
from .params import Params  # noqa: F401
