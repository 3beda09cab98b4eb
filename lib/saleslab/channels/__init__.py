"""Channels (渠道分析, domain.md §5): revenue and share, margin, conversion, retention, CAC and ROI per channel; collection per distributor."""

from .performance import (  # noqa: F401
    LEADS_CHANNEL, WON_STAGES, channel_revenue, first_orders, retention, conversion_funnel, conversion,
    channel_costs, channel_performance, ROI_COLUMNS, roi_table, collected_invoices, COLLECTION_TABLES,
    distributor_performance, collection_table, flagged,
)
