"""Tables written for people: CSV (UTF-8 with BOM, opens in Excel) and .xlsx, made safe to open.

A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is run as
a formula by spreadsheet programs (CSV/Excel formula injection, e.g. ``=HYPERLINK(...)`` in a
customer name). Such cells are prefixed with a single quote, which spreadsheets show as text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_575
#: Longer tables get the CSV copy only: writing .xlsx costs about 1 s per 1,000 rows (openpyxl;
#: measured: 37,841 rows × 20 columns 34 s under load, the CSV 1.3 s), which made the Excel copies
#: 76–81 % of stages 06 and 07 on the large demo; a table that long is for a machine, not a reader.
XLSX_MAX_ROWS = 20_000


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot be read as formulas.

    >>> neutralise(pd.DataFrame({"name": ["=HYPERLINK(1)", "ok", "-x"], "n": [-1, 2, 3]}))["name"].tolist()
    ["'=HYPERLINK(1)", 'ok', "'-x"]
    """
    out = df.copy()
    # column names too: a pivot by customer name makes names into headers
    out.columns = ["'" + c if isinstance(c, str) and c.startswith(FORMULA_START) else c for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v)
    return out


def write_table(df: pd.DataFrame, folder: Path, name: str, excel: bool = True) -> list[Path]:
    """Write ``name``.csv (and ``name``.xlsx when it fits a worksheet) into ``folder``."""
    safe = neutralise(df)
    paths = [folder / f"{name}.csv"]
    safe.to_csv(paths[0], index=False, encoding="utf-8-sig")
    if excel and len(safe) <= min(EXCEL_MAX_ROWS, XLSX_MAX_ROWS):
        paths.append(folder / f"{name}.xlsx")
        safe.to_excel(paths[1], index=False, sheet_name=name[:31])
    return paths
