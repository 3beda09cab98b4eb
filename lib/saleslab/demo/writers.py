"""Each system's raw export: column headers, encodings, date and money styles.

Every function takes the :class:`Ctx` (output folder, truth collector, seed) and the
simulated data, and writes one export family through :func:`mess.write_csv` /
:func:`mess.write_xlsx`, which plant duplicates and row errors and record them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import fmt
from .mess import Truth, write_csv

ERR_RATE = 0.002  # row-level errors in transaction exports
DUP_RATE = 0.0004  # exact duplicate rows


@dataclass
class Ctx:
    exports: Path
    truth: Truth
    seed: int
    chunk_rows: int = 250_000
    first_line: dict = field(default_factory=dict)  # (file, order id) -> first physical line
    watch: dict = field(default_factory=dict)  # file -> boolean row mask of orders to locate
    progress: object = None

    def say(self, msg: str) -> None:
        if self.progress:
            self.progress(msg)


def emit(ctx: Ctx, rel: str, columns: dict, n: int, *, protect=None, encoding="utf-8", lineterminator="\n",
         errors=(), error_rate=0.0, dup_rate=0.0, order_ids=None, line_no=None, outlier=None,
         watch=None) -> int:
    """Write ``n`` rows whose cells come from ``columns[header](slice)``.

    order_ids / line_no / outlier (arrays over all rows) let the writer record outliers
    and the first line of watched orders (cross-system duplicates) in the truth.
    """
    headers = list(columns)

    def chunk(a, b):
        sl = slice(a, b)
        df = pd.DataFrame({h: _cells(columns[h], sl, b - a) for h in headers})
        pr = np.zeros(b - a, dtype=bool) if protect is None else protect[sl].copy()
        return df, pr

    def on_lines(a, b, lines):
        if outlier is not None:
            o = np.flatnonzero(outlier[a:b] > 0)
            for i in o:
                ctx.truth.outliers.append((rel, int(lines[i]), order_ids[a + i],
                                           int(line_no[a + i]) if line_no is not None else 1, int(outlier[a + i])))
        if watch is not None:
            w = np.flatnonzero(watch[a:b])
            for i in w:
                key = (rel, order_ids[a + i])
                if key not in ctx.first_line:
                    ctx.first_line[key] = int(lines[i])

    ctx.say(f"writing {rel} ({n:,} rows)")
    return write_csv(ctx.exports, rel, headers, n, chunk, ctx.truth, ctx.seed, encoding=encoding,
                     lineterminator=lineterminator, errors=list(errors), error_rate=error_rate,
                     dup_rate=dup_rate, chunk_rows=ctx.chunk_rows,
                     on_lines=on_lines if (outlier is not None or watch is not None) else None)


def _cells(src, sl, n):
    if callable(src):
        v = src(sl)
    elif isinstance(src, str):
        return np.full(n, src, dtype=object)
    else:
        v = src[sl]
    v = np.asarray(v, dtype=object)
    return v


def excel_date(day):
    return fmt.to_date(day)
