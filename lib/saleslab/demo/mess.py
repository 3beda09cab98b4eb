"""Writing exports with injected mess, and recording every injected item.

:class:`Truth` collects what was planted; :func:`write_csv` writes one export in chunks,
inserting exact duplicate rows and row-level errors (bad dates, empty ids, non-numeric
values, short rows) and records their physical line numbers.
"""

from __future__ import annotations

import csv
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Err:
    kind: str  # bad_date | missing_id | non_numeric | field_count
    column: str  # header of the export column corrupted ('' for field_count)
    canonical: str  # canonical column name ('' for field_count)
    values: tuple[str, ...] = ("",)


BAD_DATES = ("2024-13-45", "N/A", "2023/02/30", "00000000")
BAD_NUMBERS = ("abc", "N/A", "#VALUE!", "12..5")


def bad_date(col, canon):
    return Err("bad_date", col, canon, BAD_DATES)


def missing_id(col, canon):
    return Err("missing_id", col, canon, ("",))


def non_numeric(col, canon):
    return Err("non_numeric", col, canon, BAD_NUMBERS)


FIELD_COUNT = Err("field_count", "", "", ())


@dataclass
class Truth:
    errors: list = field(default_factory=list)  # (file, line, column, kind, value)
    duplicate_rows: list = field(default_factory=list)  # (file, line, duplicate_of_line)
    duplicate_orders: list = field(default_factory=list)
    outliers: list = field(default_factory=list)
    files: dict = field(default_factory=dict)  # rel path -> data rows written


def file_rng(seed: int, rel: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(rel.encode("utf-8"))])


def write_csv(out: Path, rel: str, header: list[str], n_rows: int,
              chunk: Callable[[int, int], tuple[pd.DataFrame, np.ndarray]], truth: Truth, seed: int, *,
              encoding: str = "utf-8", lineterminator: str = "\n", errors: list[Err] = (),
              error_rate: float = 0.0, dup_rate: float = 0.0, chunk_rows: int = 250_000,
              on_lines: Callable[[int, int, np.ndarray], None] | None = None) -> int:
    """Write ``out/rel`` with ``header`` and rows from ``chunk(start, stop)``.

    ``chunk`` returns the rows (string cells, '' for blank) and a boolean array of rows
    that must stay untouched (outliers, cross-system copies). ``on_lines(start, stop, lines)``
    receives the physical line of every generated row. Returns rows written (with duplicates).
    """
    rng = file_rng(seed, rel)
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    line = 1  # header
    written = 0
    with open(path, "wb") as fh:
        fh.write(_render_row(header, encoding, lineterminator, bom=encoding == "utf-8-sig"))
        enc = "utf-8" if encoding == "utf-8-sig" else encoding
        for start in range(0, max(n_rows, 0), chunk_rows):
            stop = min(n_rows, start + chunk_rows)
            df, protect = chunk(start, stop)
            n = len(df)
            free = ~protect
            # exact duplicate rows, inserted right after the original
            k_dup = int(rng.binomial(n, dup_rate)) if dup_rate else 0
            cand = np.flatnonzero(free)
            dup_idx = np.sort(rng.choice(cand, size=min(k_dup, len(cand)), replace=False)) if k_dup else np.array([], int)
            free[dup_idx] = False
            if len(dup_idx):
                src = np.sort(np.concatenate([np.arange(n), dup_idx]), kind="stable")
            pos = np.arange(n) + np.searchsorted(dup_idx, np.arange(n), side="left")
            lines_of = line + 1 + pos  # physical lines of the original rows
            for d in dup_idx:
                truth.duplicate_rows.append((rel, int(lines_of[d] + 1), int(lines_of[d])))
            if on_lines is not None:
                on_lines(start, stop, lines_of)
            # row-level errors
            truncate = set()
            if errors and error_rate:
                cand = np.flatnonzero(free)
                k_err = min(int(rng.binomial(n, error_rate)), len(cand))
                err_rows = np.sort(rng.choice(cand, size=k_err, replace=False)) if k_err else []
                for r in err_rows:
                    e = errors[int(rng.integers(0, len(errors)))]
                    if e.kind == "field_count":
                        truncate.add(int(r))
                        truth.errors.append((rel, int(lines_of[r]), "", e.kind, ""))
                        continue
                    v = e.values[int(rng.integers(0, len(e.values)))]
                    df.iat[int(r), df.columns.get_loc(e.column)] = v
                    truth.errors.append((rel, int(lines_of[r]), e.canonical, e.kind, v))
            if len(dup_idx):
                df = df.iloc[src]
            text = df.to_csv(header=False, index=False, lineterminator=lineterminator)
            if truncate:
                rows = text.split(lineterminator)
                for r in truncate:
                    p = int(pos[r])
                    vals = list(df.iloc[p])
                    rows[p] = _render_row(vals[: max(1, len(vals) - 2)], None, "").decode()
                text = lineterminator.join(rows)
            fh.write(text.encode(enc))
            line += len(df)
            written += len(df)
    truth.files[rel] = written
    return written


def _render_row(values, encoding, lineterminator, bom=False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=lineterminator).writerow(values)
    s = buf.getvalue()
    if encoding is None:
        return s.encode("utf-8")
    enc = "utf-8" if encoding == "utf-8-sig" else encoding
    return (b"\xef\xbb\xbf" if bom else b"") + s.encode(enc)


FIXED_ZIP_TIME = (2026, 1, 2, 8, 30, 0)


def write_xlsx(out: Path, rel: str, sheets: list[tuple[str, list[list]]], truth: Truth, data_rows: int) -> None:
    """Write an .xlsx workbook byte-identically for identical content.

    ``sheets`` is a list of (sheet title, rows); cells may be str, int, float or date.
    openpyxl stamps the current time into docProps/core.xml and the zip entries; both
    are replaced by a fixed export time.
    """
    import re
    import zipfile

    from openpyxl import Workbook

    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in sorted(zin.infolist(), key=lambda i: i.filename):
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>2026-01-02T08:30:00Z\g<3>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            zout.writestr(zi, data)
    tmp.unlink()
    truth.files[rel] = data_rows
