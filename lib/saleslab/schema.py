"""The canonical model: every warehouse table, its columns, types and keys.

This is the one place where tables are defined. Source mappings
(``parameters/sources/*.yaml``) map raw export columns onto these columns;
ingestion normalises each value according to the column's *kind* and
validates required columns and keys; the per-file layer stores one Parquet part
per (table, input file) with exactly the columns listed here, and the cleaning layer
(:mod:`saleslab.ingest.clean`) writes the final ``orders``, ``order_lines``, ``customers`` and
``returns`` with the same columns. Tables the cleaning layer adds (schemas in ``clean.py``):
``customer_map`` (source customer id -> canonical id, rule), ``customer_review`` (look-alikes,
not merged), ``_merged``, ``_outliers``, ``_fills``; ``_quarantine`` holds rejected rows.

Column kinds and how ingestion normalises them:

==========  ===============================================================
kind        normalisation
==========  ===============================================================
``id``      text, full-width -> half-width, trimmed, upper/lower case kept
``text``    free text, full-width -> half-width, whitespace collapsed
``date``    one of the source's date formats (``2024/5/1``, ``20240501``,
            Excel serials ...) -> ``date``
``money``   number with thousands separators, in the source's unit
            (元 or 万元) -> 元 rounded to the cent (float64)
``number``  plain number -> float64
``int``     integer -> int64
``region``  free-text region (华东 / East China / 上海) -> region code
``channel`` channel code, one of :data:`CHANNELS`
==========  ===============================================================

Every loaded row also carries the lineage columns :data:`LINEAGE` so any
number can be traced back to the file and line it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

KINDS = ("id", "text", "date", "money", "number", "share", "int", "region", "channel")

#: Channel codes (domain.md §3, §5): online / offline, direct / distribution.
CHANNELS = ("online", "retail", "direct", "distribution")

#: Canonical region codes; labels live in :mod:`saleslab.report.i18n`.
REGIONS = ("north", "east", "south", "central", "southwest", "northwest", "northeast")

_ARROW = {
    "id": pa.string(),
    "text": pa.string(),
    "date": pa.date32(),
    "money": pa.float64(),
    "number": pa.float64(),
    "share": pa.float64(),
    "int": pa.int64(),
    "region": pa.string(),
    "channel": pa.string(),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))
        missing = [k for k in self.key if k not in self.column_names]
        if missing:
            raise ValueError(f"table {self.name}: key columns {missing} not defined")

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of the stored table: canonical columns then lineage."""
        fields = [pa.field(c.name, _ARROW[c.kind]) for c in self.columns]
        return pa.schema(fields + [pa.field(n, t) for n, t in LINEAGE])


#: Lineage columns added to every loaded row.
LINEAGE = (
    ("_source", pa.string()),  # source mapping name, e.g. "erp_orders"
    ("_file", pa.string()),  # path of the input file relative to the input folder
    ("_line", pa.int64()),  # physical line (CSV) or row (Excel) number, 1-based
)


def C(name: str, kind: str, required: bool = False, doc: str = "") -> Column:
    return Column(name, kind, required, doc)


TABLES: dict[str, Table] = {}


def _table(name: str, doc: str, key: tuple[str, ...], *columns: Column) -> None:
    TABLES[name] = Table(name, doc, key, tuple(columns))


_table(
    "customers",
    "Customer master (CRM companies, e-commerce members, POS members). One row per source record; "
    "entity resolution later maps source ids to canonical ids.",
    ("customer_id",),
    C("customer_id", "id", True, "customer id as the source system knows it (prefixed by system)"),
    C("name", "text", True, "company or person name"),
    C("customer_type", "text", doc="'company' (B2B) or 'person' (B2C)"),
    C("industry", "text", doc="制造业 / 零售业 / 服务业 / 其他; null when the source left it empty"),
    C("employees", "int", doc="number of employees (companies)"),
    C("region", "region", doc="region code"),
    C("city", "text"),
    C("address", "text"),
    C("phone", "id"),
    C("email", "id"),
    C("tax_id", "id", doc="unified social credit code (companies)"),
    C("owner_rep_id", "id", doc="owning sales rep"),
    C("acquisition_channel", "channel", doc="channel through which the customer was won"),
    C("created_date", "date", doc="date the customer record was created"),
)

_table(
    "contacts",
    "Contact persons of CRM customers.",
    ("contact_id",),
    C("contact_id", "id", True),
    C("customer_id", "id", True),
    C("name", "text", True),
    C("title", "text"),
    C("phone", "id"),
    C("email", "id"),
)

_table(
    "reps",
    "Sales reps with their team and region.",
    ("rep_id",),
    C("rep_id", "id", True),
    C("name", "text", True),
    C("team", "text", True),
    C("region", "region"),
    C("hire_date", "date"),
)

_table(
    "leads",
    "Leads / opportunities from the CRM.",
    ("lead_id",),
    C("lead_id", "id", True),
    C("customer_id", "id", doc="customer once known"),
    C("lead_source", "text", doc="展会 trade show / 线上推广 online ads / 转介绍 referral / ..."),
    C("rep_id", "id"),
    C("industry", "text"),
    C("created_date", "date", True),
    C("stage", "text", doc="current stage"),
    C("expected_amount", "money", doc="the opportunity's amount, 元"),
    C("close_date", "date", doc="expected (open) or actual (won / lost) close date of the opportunity"),
    C("probability", "share", doc="win probability in [0, 1] ('60%' and 60 read as 0.6)"),
    C("opportunity_type", "text", doc="new business / renewal / upsell ..., as the CRM names it"),
)

_table(
    "lead_stages",
    "Stage history of leads: one row per stage entered.",
    ("lead_id", "stage"),
    C("lead_id", "id", True),
    C("stage", "text", True, doc="lead / needs / proposal / contract / repeat / lost"),
    C("entered_date", "date", True),
)

_table(
    "followups",
    "CRM follow-up records (visits, calls, complaints).",
    ("followup_id",),
    C("followup_id", "id", True),
    C("customer_id", "id"),
    C("lead_id", "id"),
    C("rep_id", "id"),
    C("followup_date", "date", True),
    C("kind", "text", doc="visit / call / complaint / ..."),
    C("content", "text"),
)

_table(
    "orders",
    "Order headers from every selling system (ERP, POS, e-commerce, distributor sell-in).",
    ("order_id",),
    C("order_id", "id", True, "order id as the source system knows it (prefixed by system)"),
    C("order_date", "date", True),
    C("customer_id", "id", doc="canonical customer id after entity resolution (the exported id is in "
                               "source_customer_id); null for anonymous buyers"),
    C("channel", "channel", True),
    C("region", "region"),
    C("rep_id", "id"),
    C("store_id", "id", doc="POS store"),
    C("distributor_id", "id", doc="distributor for sell-in orders"),
    C("external_ref", "id", doc="the order's id in another system (e.g. platform order no.)"),
    C("campaign_id", "id"),
    C("order_amount", "money", doc="order total as exported, 元"),
    C("source_customer_id", "id", doc="customer id as the source system exported it (set by the cleaning layer)"),
)

_table(
    "order_lines",
    "Order lines: the sales fact table. net_amount = quantity x unit_price - discount, 元.",
    ("order_id", "line_no"),
    C("order_id", "id", True),
    C("line_no", "int", True),
    C("product_id", "id", True),
    C("quantity", "number", True),
    C("unit_price", "money", True, "price per unit before discount, 元"),
    C("discount", "money", doc="discount on the line, 元 (0 when absent)"),
    C("net_amount", "money", True, "line revenue after discount, 元, excluding tax (a source whose amounts "
                                    "include tax declares amounts_include_tax and its tax_rate)"),
    C("tax_rate", "share", doc="VAT rate of the line (0.13 for 13 %), when the source gives one"),
)

_table(
    "invoices",
    "Invoices issued (ERP and distributor receivables).",
    ("invoice_id",),
    C("invoice_id", "id", True),
    C("order_id", "id"),
    C("customer_id", "id"),
    C("distributor_id", "id"),
    C("invoice_date", "date", True),
    C("due_date", "date", True),
    C("amount", "money", True),
)

_table(
    "payments",
    "Payments received (回款) against invoices.",
    ("payment_id",),
    C("payment_id", "id", True),
    C("invoice_id", "id"),
    C("customer_id", "id"),
    C("distributor_id", "id"),
    C("payment_date", "date", True),
    C("amount", "money", True),
)

_table(
    "returns",
    "Returned goods, linked to the original order.",
    ("return_id",),
    C("return_id", "id", True),
    C("order_id", "id", True),
    C("product_id", "id", True),
    C("return_date", "date", True),
    C("quantity", "number", True),
    C("amount", "money", True, "refunded amount, 元"),
)

_table(
    "products",
    "Product master with category, list price and unit cost.",
    ("product_id",),
    C("product_id", "id", True),
    C("name", "text", True),
    C("category", "text", True),
    C("list_price", "money", True),
    C("unit_cost", "money", True),
    C("launch_date", "date"),
)

_table(
    "inventory",
    "Inventory snapshots (库存) by product and date.",
    ("snapshot_date", "product_id", "warehouse"),
    C("snapshot_date", "date", True),
    C("product_id", "id", True),
    C("warehouse", "id", True),
    C("quantity", "number", True),
)

_table(
    "web_traffic",
    "E-commerce site visits and clicks per day and traffic source.",
    ("date", "traffic_source"),
    C("date", "date", True),
    C("traffic_source", "text", True),
    C("visits", "int", True),
    C("clicks", "int"),
)

_table(
    "distributors",
    "Distributor master.",
    ("distributor_id",),
    C("distributor_id", "id", True),
    C("name", "text", True),
    C("region", "region"),
)

_table(
    "campaigns",
    "Marketing campaigns with spend and funnel counts.",
    ("campaign_id",),
    C("campaign_id", "id", True),
    C("name", "text", True),
    C("channel", "channel"),
    C("region", "region", doc="the region the campaign targets; null = nationwide (no control region)"),
    C("start_date", "date", True),
    C("end_date", "date", True),
    C("spend", "money", True),
    C("visits", "int"),
    C("clicks", "int"),
    C("conversions", "int"),
)

_table(
    "channel_costs",
    "Monthly cost per channel (advertising, platform fees, acquisition spend).",
    ("month", "channel", "cost_type"),
    C("month", "date", True, "first day of the month"),
    C("channel", "channel", True),
    C("cost_type", "text", True, "acquisition / operating"),
    C("amount", "money", True),
)

_table(
    "targets",
    "Monthly sales targets by rep, team or region.",
    ("month", "level", "level_id"),
    C("month", "date", True, "first day of the month"),
    C("level", "text", True, "rep / team / region"),
    C("level_id", "id", True, "rep id, team name or region code"),
    C("target_amount", "money", True, "revenue target, 元"),
)


def table(name: str) -> Table:
    """The canonical table called ``name``; KeyError lists the known tables."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(sorted(TABLES))}") from None
