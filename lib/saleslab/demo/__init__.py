"""Demo export generator: three years (2023-01-01 .. 2025-12-31) of the fictional
appliance maker 华信电器 (small kitchen / personal-care / cleaning appliances and
consumables, sold online, in its own stores, direct to companies and through
distributors), written as the *raw exports* of its systems plus an answer key.

::

    out_dir/exports/crm/         customers.csv contacts.csv reps.csv leads.csv lead_stages.csv followups.csv
    out_dir/exports/erp/         orders_YYYY.csv order_lines_YYYY.csv (GBK) invoices.csv payments.csv
                                 returns.csv inventory.csv products.xlsx
    out_dir/exports/pos/         pos_YYYYMM.csv members.csv stores.csv
    out_dir/exports/ecommerce/   orders_YYYY.csv members.csv traffic.csv
    out_dir/exports/distributor/ distributors.csv sell_in_YYYY.csv receivables.csv collections.csv
    out_dir/exports/marketing/   campaigns.xlsx channel_costs.csv
    out_dir/exports/targets/     targets.xlsx
    out_dir/truth/               planted.json ground_truth.json errors.csv duplicate_rows.csv
                                 duplicate_orders.csv outliers.csv customer_entities.csv
                                 customer_params.csv monthly_revenue.csv

Output is byte-identical for a given (scale, seed): every random draw comes from
``numpy.random.default_rng(seed)`` (or a child generator seeded from it and a fixed
label), and no wall-clock time is written anywhere.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

from .config import SCALES

__all__ = ["generate", "SCALES"]


def generate(out_dir: Path, scale: str = "small", seed: int = 42,
             progress: Callable[[str], None] | None = None) -> dict:
    """Write the demo exports to ``out_dir/exports`` and the answer key to ``out_dir/truth``.

    Parameters
    ----------
    out_dir : folder to write into (``exports/`` and ``truth/`` inside it are replaced)
    scale : ``small`` (≈ 50 k order lines), ``medium`` (≈ 1 M) or ``large`` (≈ 10 M)
    seed : seed of the random generator
    progress : optional callable receiving short progress messages

    Returns
    -------
    dict with ``files`` (path relative to ``exports/`` -> data rows written), ``order_lines``
    (lines over the four selling systems, copies included), ``order_lines_genuine``,
    ``scale``, ``seed`` and ``seconds``.
    """
    from . import exports, truth
    from .build import Demo
    from .mess import Truth
    from .writers import Ctx

    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    out = Path(out_dir)
    for sub in ("exports", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    (out / "exports").mkdir(parents=True, exist_ok=True)
    demo = Demo(SCALES[scale], seed, say)
    ctx = Ctx(out / "exports", Truth(), seed, progress=progress)
    exports.write_crm(ctx, demo)
    exports.write_erp(ctx, demo)
    exports.write_pos(ctx, demo)
    exports.write_ecommerce(ctx, demo)
    exports.write_distributor(ctx, demo)
    demo.planted.update(exports.write_marketing(ctx, demo))
    demo.planted.update(exports.write_targets(ctx, demo))
    from . import retention

    demo.planted.update(retention.plant(ctx, demo))  # appended last, its own random stream
    say("writing truth")
    gt = truth.write(out, demo, ctx, scale, seed, time.perf_counter() - t0)
    seconds = round(time.perf_counter() - t0, 2)
    say(f"done in {seconds} s")
    return {
        "scale": scale, "seed": seed, "out_dir": str(out), "files": gt["files"],
        "order_lines": gt["order_lines_generated"], "order_lines_genuine": gt["order_lines_genuine"],
        "seconds": seconds,
    }
