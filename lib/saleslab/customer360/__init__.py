"""Customer 360° (客户360, domain.md §6): one customer's profile, orders, segment, value, risk and next action."""

from .card import (  # noqa: F401
    ACTIONS, IMPORTANT_CLASSES, PROFILE_FIELDS, CustomerNotFound, top_customer, resolve_customer, profile,
    profile_table, order_history, monthly_history, followups, run_table, segment_info, value_info,
    risk_reasons, is_high_value, next_action, customer_card,
)
