"""Hand-made warehouses for the tests: tiny CSV texts and source mappings, ingested into a temp folder.

A plain helper module, not a test file; test modules import it as ``import handmade`` (the tests
folder has no ``__init__.py``), the way they import ``hand_sales``.

The mapping texts below are the ones several test modules share. A module whose data needs a
different mapping keeps its own, written with :func:`source_yaml` or :func:`orders_yaml`; each
module keeps its own CSV data and expectations.
"""

from __future__ import annotations

from pathlib import Path

from saleslab.ingest.load import ingest


def _flow(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in columns.items()) + "}"


def source_yaml(files: str, table: str, columns: dict[str, str]) -> str:
    """A CSV source mapping onto one warehouse table; ``columns`` maps warehouse column -> CSV header."""
    return f"files: {files}\nformat: csv\ntargets:\n  - table: {table}\n    columns: {_flow(columns)}\n"


ORDER_COLUMNS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "channel": "channel",
                 "region": "region"}
LINE_COLUMNS = {"order_id": "order", "product_id": "sku", "quantity": "qty", "unit_price": "price"}


def orders_yaml(order_columns: dict[str, str] = ORDER_COLUMNS, line_columns: dict[str, str] = LINE_COLUMNS) -> str:
    """orders.csv (one row per order line) onto ``orders`` (distinct rows) and ``order_lines``."""
    return ("files: orders.csv\nformat: csv\ntargets:\n"
            f"  - table: orders\n    distinct: true\n    columns: {_flow(order_columns)}\n"
            f"  - table: order_lines\n    columns: {_flow(line_columns)}\n")


# the standard mappings, for the ``orders.yaml``, ``products.yaml``, ... entries of a module's MAPS
ORDERS = orders_yaml()
PRODUCTS = source_yaml("products.csv", "products", {"product_id": "sku", "name": "name", "category": "cat",
                                                    "list_price": "price", "unit_cost": "cost"})
CUSTOMERS = source_yaml("customers.csv", "customers", {"customer_id": "id", "name": "name"})
RETURNS = source_yaml("returns.csv", "returns", {"return_id": "id", "order_id": "order", "product_id": "sku",
                                                 "return_date": "date", "quantity": "qty", "amount": "amount"})
TARGETS = source_yaml("targets.csv", "targets", {"month": "month", "level": "level", "level_id": "id",
                                                 "target_amount": "amount"})
COSTS = source_yaml("costs.csv", "channel_costs", {"month": "month", "channel": "channel", "cost_type": "type",
                                                   "amount": "amount"})
CAMPAIGNS = source_yaml("campaigns.csv", "campaigns", {"campaign_id": "id", "name": "name", "channel": "channel",
                                                       "start_date": "start", "end_date": "end", "spend": "spend"})


def build_warehouse(tmp: Path, files: dict[str, str], maps: dict[str, str], *, quarantine_ok: bool = False) -> Path:
    """Write ``files`` ({csv name: text}) to ``tmp/in`` and ``maps`` ({mapping name: YAML text}) to
    ``tmp/src``, ingest them into ``tmp/wh`` and return that warehouse folder.

    Fails if any row was quarantined, unless ``quarantine_ok``.
    """
    for folder, texts in (("in", files), ("src", maps)):
        (tmp / folder).mkdir()
        for name, text in texts.items():
            (tmp / folder / name).write_text(text, encoding="utf-8")
    rep = ingest(tmp / "in", tmp / "src", tmp / "wh")
    bad = [(f.file, f.rows_quarantined) for f in rep.files if f.rows_quarantined]
    assert quarantine_ok or not bad, bad
    return tmp / "wh"
