"""Ingestion: every source's files -> normalised, validated Parquet tables in the warehouse.

Row accounting (per input file): ``rows_read = rows_loaded + rows_merged + rows_quarantined``,
exactly, and the ingest fails loudly when it does not hold. A row is loaded into every target
table of its mapping or into none; a quarantined row is kept in ``_quarantine`` with file, line,
column, reason code and its raw values; a merged row (an exact repeat of an earlier row of the same
file, or an order another system already exported) is kept in ``_merged`` with the row it merged into.

Two layers. **Per file** (:func:`ingest_file`): read, normalise, validate, write one Parquet part per
table and input file under ``_parts/``. A part is reused by the next ingest when the file's content
hash, its mapping and the ingest code are unchanged (incremental refresh). **Whole warehouse**
(:mod:`saleslab.ingest.clean`): impossible values, cross-system duplicate orders, customer entity
resolution, fills and outlier flags; it writes the final tables. Layout::

    warehouse/_parts/<table>/<source>--<file-stem>-<sha8>.parquet   # per-file layer (cache)
    warehouse/<table>/*.parquet                  # the final tables the engine reads
    warehouse/<table>/0-schema.parquet           # schema only: every table exists
    warehouse/_quarantine/, _merged/, _outliers/, _fills/, customer_map/, customer_review/
    warehouse/_ingest/accounting.json            # per-file accounting (also .parquet)
    warehouse/_ingest/history.jsonl              # one line of totals per ingest (the DQ trend)

Quarantine reason codes: ``missing_required``, ``unparseable_date``, ``unparseable_number``,
``invalid_value``, ``duplicate_key``, ``duplicate_row``, ``conflicting_duplicate``,
``field_count``, ``repeated_header``, ``undecodable``, ``unparseable``, ``file_rejected``, and from the
whole-warehouse layer ``impossible_value``, ``impossible_date``, ``order_quarantined``,
``no_valid_lines``.
Merge rules: ``duplicate_row`` (same file), ``external_ref`` and ``customer_date_lines`` (orders).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import crypto, schema
from ..errors import IngestError, ParameterError, SourceError
from . import normalise as N
from .mapping import SourceMapping, Target, load_mappings
from .reader import Chunk, FileReader, raw_records

QUARANTINE_SCHEMA = pa.schema([
    ("source", pa.string()), ("file", pa.string()), ("line", pa.int64()), ("reason", pa.string()),
    ("column", pa.string()), ("expected", pa.string()), ("raw", pa.string()),
])

#: A merged row: which row of which file it duplicates. ``table`` is null for a whole input row.
MERGED_SCHEMA = pa.schema([
    ("source", pa.string()), ("file", pa.string()), ("line", pa.int64()), ("table", pa.string()),
    ("key", pa.string()), ("rule", pa.string()), ("merged_into_file", pa.string()),
    ("merged_into_line", pa.int64()), ("merged_into_key", pa.string()),
])

PARTS = "_parts"
#: a Chinese resident ID-card number (18 characters, the last a digit or X): scrubbed from raw lines
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
ID_CARD_MARK = "[ID number removed]"
#: the raw text of a line that cannot be matched to its header in a file with columns outside the model
WITHHELD = "[withheld: the file has columns outside the model and this line's fields do not match its header]"
#: Changing any of these files changes how a file is loaded: cached parts are then rebuilt.
_CODE_FILES = ("load.py", "reader.py", "normalise.py", "mapping.py", "regions.py", "text.py")

_REASON_BY_KIND = {
    "date": ("unparseable_date", "a date in one of the source's date formats"),
    "money": ("unparseable_number", "an amount such as 1,234.50"),
    "number": ("unparseable_number", "a number"),
    "share": ("unparseable_number", "a share such as 0.6, 60% or 60"),
    "int": ("unparseable_number", "a whole number"),
    "channel": ("invalid_value", f"one of {', '.join(schema.CHANNELS)}"),
}


@dataclass
class FileAccount:
    source: str
    system: str
    file: str
    sha256: str
    bytes: int
    status: str = "loaded"  # loaded | rejected
    message: str = ""
    encoding: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_merged: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0  # lines the mapping's skip_lines patterns skip (totals, trailers)
    blank_lines: int = 0
    loaded_by_table: dict[str, int] = field(default_factory=dict)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    merged_by_rule: dict[str, int] = field(default_factory=dict)
    values_filled: int = 0
    outliers_flagged: int = 0
    unmapped_regions: int = 0
    #: header columns outside the canonical model (not mapped): never stored, not even in quarantine
    columns_dropped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cache_key: str = ""
    reused: bool = False
    layer1: dict = field(default_factory=dict)  # the per-file figures before the warehouse layer

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_merged + self.rows_quarantined + self.rows_skipped

    def snapshot(self) -> None:
        """Remember the per-file layer's figures (restored when the file's parts are reused)."""
        self.layer1 = {k: (dict(v) if isinstance(v, dict) else v) for k, v in asdict(self).items()
                       if k not in ("layer1", "reused", "values_filled", "outliers_flagged")}


@dataclass
class IngestReport:
    warehouse: Path
    files: list[FileAccount]
    seconds: float

    @property
    def rejected(self) -> list[FileAccount]:
        return [f for f in self.files if f.status == "rejected"]

    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.files),
            "rows_read": sum(f.rows_read for f in self.files),
            "rows_loaded": sum(f.rows_loaded for f in self.files),
            "rows_merged": sum(f.rows_merged for f in self.files),
            "rows_quarantined": sum(f.rows_quarantined for f in self.files),
            "rows_skipped": sum(f.rows_skipped for f in self.files),
            "values_filled": sum(f.values_filled for f in self.files),
            "outliers_flagged": sum(f.outliers_flagged for f in self.files),
            "files_reused": sum(f.reused for f in self.files),
        }


class _KeyIndex:
    """Seen-key set across chunks of one file: uint64 key hashes -> uint64 row hashes."""

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.uint64)
        self.vals = np.empty(0, dtype=np.uint64)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, row hash of the first occurrence) for each key hash."""
        if not len(self.keys):
            return np.zeros(len(keys), bool), np.zeros(len(keys), np.uint64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.keys[pos] == keys, self.vals[pos]

    def add(self, keys: np.ndarray, vals: np.ndarray) -> None:
        k = np.concatenate([self.keys, keys])
        v = np.concatenate([self.vals, vals])
        order = np.argsort(k, kind="stable")
        self.keys, self.vals = k[order], v[order]


def _hash_rows(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame.astype(object).where(frame.notna(), None), index=False).to_numpy()


def _hash_records(rows: list) -> np.ndarray:
    """64-bit hashes of raw records (lists of field texts), for exact-repeat detection within one
    file read by one process (Python's string hash is stable within a process)."""
    return np.fromiter((hash(tuple(r)) for r in rows), dtype=np.int64, count=len(rows)).view(np.uint64)


def _arrow_column(values: pd.Series, kind: str) -> pa.Array:
    typ = schema._ARROW[kind]
    if kind == "int":
        return pa.array(values.astype("Int64"), type=typ, from_pandas=True)
    if kind in ("money", "number", "share"):
        return pa.array(values.astype("float64"), type=typ, from_pandas=True)
    return pa.array(values.astype(object).where(values.notna(), None).tolist(), type=typ)


class _FileLoader:
    """Loads one input file; keeps the writers and per-file key indexes."""

    def __init__(self, mapping: SourceMapping, path: Path, display: str, out: Path, account: FileAccount,
                 keyring: crypto.KeyRing | None = None):
        self.m, self.path, self.display, self.out, self.acc = mapping, path, display, out, account
        self.keyring = keyring
        stem = f"{mapping.source}--{path.stem}-{account.sha256[:8]}"
        self.part_name = f"{stem}.parquet"
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.q_writer: pq.ParquetWriter | None = None
        self.m_writer: pq.ParquetWriter | None = None
        self.row_index = _KeyIndex()
        self.key_index = {t.table: _KeyIndex() for t in mapping.targets}
        self.line_counts: dict[str, int] = {}
        self.keep_cols: list[str] | None = None  # the header's columns that may be stored (the allowlist)
        self.drop_idx: set[int] = set()
        self.width = 0

    # ---- the allowlist: only columns of the canonical model are stored --------------------
    def set_header(self, header: list[str]) -> None:
        """Columns of the file the mapping does not use are dropped (and reported in the accounting):
        they are never stored, also not among a quarantined row's raw values."""
        allowed = self.m.source_columns
        names = _unique(header)
        self.keep_cols = [n for n, h in zip(names, header) if h in allowed]
        self.drop_idx = {i for i, h in enumerate(header) if h not in allowed}
        self.width = len(header)
        self.acc.columns_dropped = [h for h in header if h not in allowed]

    def safe_raw(self, text: str | None) -> str | None:
        """A raw line as it may be stored: without the fields of dropped columns (a line whose fields
        cannot be matched to the header is withheld then), and without ID-card numbers."""
        if text is None:
            return None
        if self.drop_idx:
            fields = _split(text, self.m.delimiter)
            if fields is None or len(fields) != self.width:
                return WITHHELD
            text = self.m.delimiter.join(f for i, f in enumerate(fields) if i not in self.drop_idx)
        return _ID_CARD.sub(ID_CARD_MARK, text)

    # ---- output -------------------------------------------------------------------------
    def _write(self, table: str, arrow: pa.Table) -> None:
        if table not in self.writers:
            self.writers[table] = crypto.parquet_writer(self.out / PARTS / table / self.part_name, arrow.schema,
                                                        self.keyring)
        self.writers[table].write_table(arrow)

    def quarantine(self, rows: list[dict]) -> None:
        if not rows:
            return
        for r in rows:
            self.acc.quarantined_by_reason[r["reason"]] = self.acc.quarantined_by_reason.get(r["reason"], 0) + 1
        self.acc.rows_quarantined += len(rows)
        tbl = pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)
        if self.q_writer is None:
            self.q_writer = crypto.parquet_writer(self.out / PARTS / "_quarantine" / self.part_name,
                                                  QUARANTINE_SCHEMA, self.keyring)
        self.q_writer.write_table(tbl)

    def merge(self, lines: np.ndarray, into: np.ndarray) -> None:
        """Rows that repeat an earlier row of this file exactly: merged into that row."""
        if not len(lines):
            return
        self.acc.rows_merged += len(lines)
        self.acc.merged_by_rule["duplicate_row"] = self.acc.merged_by_rule.get("duplicate_row", 0) + len(lines)
        n = len(lines)
        tbl = pa.table({
            "source": [self.m.source] * n, "file": [self.display] * n, "line": lines.astype(np.int64),
            "table": pa.nulls(n, pa.string()), "key": pa.nulls(n, pa.string()), "rule": ["duplicate_row"] * n,
            "merged_into_file": [self.display] * n, "merged_into_line": into.astype(np.int64),
            "merged_into_key": pa.nulls(n, pa.string())}, schema=MERGED_SCHEMA)
        if self.m_writer is None:
            self.m_writer = crypto.parquet_writer(self.out / PARTS / "_merged" / self.part_name, MERGED_SCHEMA,
                                                  self.keyring)
        self.m_writer.write_table(tbl)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
        self.writers = {}
        if self.q_writer is not None:
            self.q_writer.close()
            self.q_writer = None
        if self.m_writer is not None:
            self.m_writer.close()
            self.m_writer = None

    # ---- rows ---------------------------------------------------------------------------
    def load_chunk(self, chunk: Chunk, header: list[str]) -> None:
        if self.keep_cols is None:
            self.set_header(header)
        self.acc.rows_read += len(chunk.rows) + len(chunk.rejects)
        skip = self.m.skip_pattern
        if skip is not None:
            sep = self.m.delimiter
            keep = [not skip.search(sep.join("" if v is None else str(v) for v in row)) for row in chunk.rows]
            rejects = [r for r in chunk.rejects if not skip.search(r.raw or "")]
            self.acc.rows_skipped += keep.count(False) + len(chunk.rejects) - len(rejects)
            chunk = Chunk([ln for ln, k in zip(chunk.lines, keep) if k], [r for r, k in zip(chunk.rows, keep) if k],
                          rejects)
        self.quarantine([
            dict(source=self.m.source, file=self.display, line=r.line, reason=r.reason, column=None,
                 expected=r.detail, raw=self.safe_raw(r.raw))
            for r in chunk.rejects
        ])
        if not chunk.rows:
            return
        raw = pd.DataFrame(chunk.rows, columns=_unique(header))
        n = len(raw)
        lines = np.asarray(chunk.lines, dtype=np.int64)
        err_reason = np.full(n, None, dtype=object)
        err_col = np.full(n, None, dtype=object)
        err_exp = np.full(n, None, dtype=object)

        # exact duplicate records within the file: merged into their first occurrence
        h = _hash_records(chunk.rows)
        hs = pd.Series(h)
        dup_in_chunk = hs.duplicated().to_numpy()
        seen, prev_line = self.row_index.lookup(h)
        merged = dup_in_chunk | seen
        first_line = pd.Series(lines).groupby(h).transform("first").to_numpy()
        self.merge(lines[merged], np.where(seen, prev_line.astype(np.int64), first_line)[merged])
        self.row_index.add(h[~merged], lines[~merged].astype(np.uint64))

        def flag(mask, reason, column, expected):
            mask = np.asarray(mask, dtype=bool) & (err_reason == None) & ~merged  # noqa: E711
            err_reason[mask], err_col[mask], err_exp[mask] = reason, column, expected

        # which rows each target takes (``where:``); a row no target takes is quarantined
        applies = {t.table: self._applies(t, raw) for t in self.m.targets}
        taken = np.logical_or.reduce([applies[t.table] for t in self.m.targets])
        flag(~taken, "no_target", ", ".join(t.where or "" for t in self.m.targets),
             "a row that one of the mapping's targets takes")

        def flag_for(t):
            return lambda mask, *a: flag(np.asarray(mask, dtype=bool) & applies[t.table], *a)

        frames = {t.table: self._map_target(t, raw, flag_for(t)) for t in self.m.targets}

        # keys: non-distinct targets first, so a rejected line never registers its order header
        for t in sorted(self.m.targets, key=lambda t: t.distinct):
            frame = frames[t.table]
            key_cols = list(t.spec.key)
            ok = (err_reason == None) & ~merged & applies[t.table]  # noqa: E711
            kh = _hash_rows(frame[key_cols])
            idx = self.key_index[t.table]
            if t.distinct:
                rh = _hash_rows(frame)
                ks, rs = kh[ok], rh[ok]
                first = ~pd.Series(ks).duplicated().to_numpy()
                # within the chunk: a repeated key must repeat the same row
                first_rh = pd.Series(rs[first], index=ks[first])
                conflict = rs != first_rh.reindex(ks).to_numpy()
                found, prev = idx.lookup(ks)
                conflict |= found & (prev != rs)
                bad = np.zeros(n, bool)
                bad[np.flatnonzero(ok)[conflict]] = True
                flag(bad, "conflicting_duplicate", ",".join(key_cols), "repeated key with identical values")
                new = first & ~found & ~conflict
                idx.add(ks[new], rs[new])
                keep = np.zeros(n, bool)
                keep[np.flatnonzero(ok)[new]] = True
                frame["_keep"] = keep
            else:
                ks = kh[ok]
                dup = pd.Series(ks).duplicated().to_numpy()
                found, _ = idx.lookup(ks)
                bad = np.zeros(n, bool)
                bad[np.flatnonzero(ok)[dup | found]] = True
                flag(bad, "duplicate_key", ",".join(key_cols), "a key that appears once")
                idx.add(ks[~(dup | found)], np.zeros(int((~(dup | found)).sum()), np.uint64))

        ok = (err_reason == None) & ~merged  # noqa: E711
        for t in self.m.targets:
            frame = frames[t.table]
            keep = ok & applies[t.table] & (frame.pop("_keep").to_numpy() if t.distinct else True)
            if not keep.any():
                continue
            sub = frame[keep]
            cols = {c.name: _arrow_column(sub[c.name], c.kind) for c in t.spec.columns}
            cols["_source"] = pa.array([self.m.source] * len(sub), pa.string())
            cols["_file"] = pa.array([self.display] * len(sub), pa.string())
            cols["_line"] = pa.array(lines[keep], pa.int64())
            self._write(t.table, pa.table(cols, schema=t.spec.arrow_schema()))
            self.acc.loaded_by_table[t.table] = self.acc.loaded_by_table.get(t.table, 0) + len(sub)
        self.acc.rows_loaded += int(ok.sum())

        bad_idx = np.flatnonzero(~ok & ~merged)
        if len(bad_idx):
            recs = raw.iloc[bad_idx][self.keep_cols].to_dict(orient="records")  # the allowlist
            self.quarantine([
                dict(source=self.m.source, file=self.display, line=int(lines[i]), reason=err_reason[i],
                     column=err_col[i], expected=err_exp[i], raw=json.dumps(rec, ensure_ascii=False))
                for i, rec in zip(bad_idx, recs)
            ])

    def _applies(self, t: Target, raw: pd.DataFrame) -> np.ndarray:
        """Rows of ``raw`` that target ``t`` takes: all, or those meeting its ``where:``."""
        cond = t.condition
        if cond is None:
            return np.ones(len(raw), dtype=bool)
        col = raw[cond.column]
        text = col.map(lambda v: "" if v is None else str(v).strip())
        if cond.op in ("empty", "not_empty"):
            empty = (text == "").to_numpy()
            return empty if cond.op == "empty" else ~empty
        if isinstance(cond.value, str):
            eq = (text == cond.value).to_numpy()
            return eq if cond.op == "==" else ~eq
        num, _ = N.parse_number(col, N.NumberFormat(**self.m.number_format.model_dump()))
        v = num.to_numpy()
        with np.errstate(invalid="ignore"):
            res = {"<": v < cond.value, "<=": v <= cond.value, ">": v > cond.value, ">=": v >= cond.value,
                   "==": v == cond.value, "!=": v != cond.value}[cond.op]
        return np.asarray(res, dtype=bool) & ~np.isnan(v) if cond.op != "!=" else np.asarray(res, dtype=bool)

    def _map_target(self, t: Target, raw: pd.DataFrame, flag) -> pd.DataFrame:
        spec = t.spec
        n = len(raw)
        out: dict[str, pd.Series] = {}
        for col in spec.columns:
            if col.name in t.columns:
                cs = t.columns[col.name]
                series = raw[cs.column]
                if cs.values:
                    vm = {k.strip(): v for k, v in cs.values.items()}
                    series = series.map(lambda v: vm.get(v.strip(), v) if isinstance(v, str) else v)
                if cs.kind == "company_name":
                    from .entities import normalise_name

                    series = series.map(lambda v: (normalise_name(v) or v) if isinstance(v, str) and v.strip() else v)
                vals, bad = self._normalise(series, col, cs.unit, cs.formats)
                if cs.negate and col.kind in ("number", "money", "int"):
                    vals = vals.abs()
                if col.kind == "region":
                    self.acc.unmapped_regions += int(bad.sum())
                elif bad.any():
                    reason, expected = _REASON_BY_KIND.get(col.kind, ("invalid_value", col.kind))
                    flag(bad.to_numpy(), reason, f"{cs.column} -> {col.name}", expected)
                out[col.name] = vals
            elif col.name in t.constants:
                vals, bad = self._normalise(pd.Series([str(t.constants[col.name])]), col, None, None)
                if bad.any() or vals.isna().any():
                    raise ParameterError(
                        f"{self.m.path}: constant {col.name}={t.constants[col.name]!r} is not a valid {col.kind}")
                out[col.name] = pd.Series([vals.iloc[0]] * n, index=raw.index, dtype=vals.dtype)
            else:
                out[col.name] = pd.Series([None] * n, index=raw.index, dtype=object)
        frame = pd.DataFrame(out, index=raw.index)
        if t.table == "order_lines":
            self._derive_lines(t, frame)
        for col in spec.columns:
            if col.required:
                src = t.columns[col.name].column if col.name in t.columns else col.name
                flag(frame[col.name].isna().to_numpy(), "missing_required", f"{src} -> {col.name}",
                     f"a value ({col.name} is required)")
        return frame

    def _normalise(self, series: pd.Series, col: schema.Column, unit, formats):
        kind = col.kind
        if kind == "date":
            return N.parse_dates(series, formats or self.m.date_formats)
        fmt = N.NumberFormat(**self.m.number_format.model_dump())
        if kind == "money":
            return N.parse_money(series, unit or self.m.money_unit, fmt)
        if kind == "number":
            return N.parse_number(series, fmt)
        if kind == "share":
            return N.parse_share(series, fmt)
        if kind == "int":
            return N.parse_int(series, fmt)
        if kind == "region":
            return N.norm_region(series)
        if kind == "channel":
            return N.norm_choice(series, schema.CHANNELS)
        if kind == "id":
            return N.norm_id(series)
        return N.norm_text(series)

    def _derive_lines(self, t: Target, frame: pd.DataFrame) -> None:
        """line_no = position of the line within its order in this file; discount 0; net = q*p - d."""
        if "line_no" not in t.columns:
            oid = frame["order_id"]
            pos = oid.groupby(oid, dropna=True).cumcount() + 1
            offset = oid.map(lambda o: self.line_counts.get(o, 0))
            line_no = (pos + offset).astype("Int64")
            frame["line_no"] = line_no.where(oid.notna(), pd.NA)
            last = frame.loc[oid.notna()].groupby("order_id")["line_no"].max()
            self.line_counts.update({k: int(v) for k, v in last.items()})
        if "discount" not in t.columns:
            frame["discount"] = 0.0
        else:
            frame["discount"] = frame["discount"].fillna(0.0)
        if "net_amount" not in t.columns:
            frame["net_amount"] = (frame["quantity"] * frame["unit_price"] - frame["discount"]).round(2)
        if t.amounts_include_tax:
            # the source's amounts include VAT: revenue is kept net of it (a line without a rate keeps its amount)
            rate = frame["tax_rate"].fillna(0.0) if "tax_rate" in frame else 0.0
            for c in ("unit_price", "discount", "net_amount"):
                frame[c] = (frame[c] / (1 + rate)).round(2)


def _split(text: str, delimiter: str) -> list[str] | None:
    """The fields of one raw line (None when it cannot be split)."""
    try:
        return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter or ","), [])
    except (csv.Error, StopIteration):
        return None


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in header:
        if h in seen:
            seen[h] += 1
            out.append(f"{h}.{seen[h]}")
        else:
            seen[h] = 0
            out.append(h)
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files_of(mapping: SourceMapping, input_dir: Path) -> list[Path]:
    found: set[Path] = set()
    for pattern in mapping.files:
        found.update(p for p in input_dir.glob(pattern) if p.is_file())
    return sorted(found)


def _reject_file(mapping: SourceMapping, path: Path, display: str, out: Path, acc: FileAccount,
                 part_name: str, err: SourceError, keyring: crypto.KeyRing | None = None) -> None:
    """A file that cannot be read as its mapping says: drop anything written for it, then keep
    every non-blank line (row) of it in quarantine, so nothing is lost and the accounting balances."""
    for p in (out / PARTS).glob(f"*/{part_name}"):
        p.unlink()
    acc.status, acc.message = "rejected", str(err)
    acc.rows_read = acc.rows_loaded = acc.rows_quarantined = acc.rows_merged = 0
    acc.loaded_by_table, acc.quarantined_by_reason, acc.merged_by_rule = {}, {}, {}
    loader = _FileLoader(mapping, path, display, out, acc, keyring)
    batch: list[dict] = []
    delimiter = mapping.delimiter if mapping.format == "csv" else ","
    try:
        for line, text in raw_records(path, mapping.format):
            if loader.keep_cols is None and line >= mapping.header_row:
                # the header line, if it is one (it names a mapped column): the allowlist applies
                fields = [f.strip().lstrip("\ufeff") for f in (_split(text, delimiter) or [])]
                if set(fields) & mapping.source_columns:
                    loader.set_header(fields)
                    loader.m = mapping.model_copy(update={"delimiter": delimiter})
                else:
                    loader.keep_cols = []
                raw = _ID_CARD.sub(ID_CARD_MARK, text)
            else:
                raw = loader.safe_raw(text)
            batch.append(dict(source=mapping.source, file=display, line=line, reason="file_rejected",
                              column=err.column, expected=err.message, raw=raw))
            if len(batch) >= 100_000:
                loader.quarantine(batch)
                batch = []
        loader.quarantine(batch)
    finally:
        loader.close()
    acc.rows_read = acc.rows_quarantined


def code_version() -> str:
    """Hash of the per-file ingest code: parts written by other code are not reused."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in _CODE_FILES:
        h.update((here / name).read_bytes())
    from .. import schema as _schema
    h.update(Path(_schema.__file__).read_bytes())
    return h.hexdigest()[:16]


def cache_key(mapping: SourceMapping, code: str) -> str:
    """What besides the file's content decides its parts: the mapping and the ingest code."""
    text = mapping.path.read_bytes() if mapping.path and Path(mapping.path).exists() else \
        mapping.model_dump_json().encode()
    return hashlib.sha256(text + code.encode()).hexdigest()[:16]


def ingest_file(mapping: SourceMapping, path: Path, input_dir: Path, out: Path,
                sha256: str | None = None, keyring: crypto.KeyRing | None = None) -> FileAccount:
    """Load one file into ``out/_parts`` (a warehouse being built); never raises for bad content."""
    t0 = time.perf_counter()
    display = path.relative_to(input_dir).as_posix()
    acc = FileAccount(mapping.source, mapping.system, display, sha256 or sha256_file(path), path.stat().st_size)
    loader = _FileLoader(mapping, path, display, out, acc, keyring)
    try:
        reader = FileReader(path, display, mapping)
        acc.encoding = reader.encoding
        for chunk in reader.chunks():
            loader.load_chunk(chunk, reader.header)
        acc.blank_lines = reader.blank_lines
        acc.encoding = reader.encoding or acc.encoding
    except SourceError as e:
        loader.close()
        _reject_file(mapping, path, display, out, acc, loader.part_name, e, keyring)
    finally:
        loader.close()
    acc.seconds = round(time.perf_counter() - t0, 3)
    acc.snapshot()
    return acc


def _reuse(old: Path, old_files: dict, mapping: SourceMapping, path: Path, display: str, sha: str,
           key: str, build: Path) -> FileAccount | None:
    """The previous ingest's parts of this exact file (same content, mapping and code), linked into
    ``build``; None when there are none."""
    prev = old_files.get((mapping.source, display))
    if not prev or prev.get("sha256") != sha or prev.get("cache_key") != key or not prev.get("layer1"):
        return None
    part = f"{mapping.source}--{path.stem}-{sha[:8]}.parquet"
    found = list((old / PARTS).glob(f"*/{part}"))
    l1 = prev["layer1"]
    expected = {t for t, n in l1.get("loaded_by_table", {}).items() if n}
    expected |= {"_quarantine"} if l1.get("rows_quarantined") else set()
    expected |= {"_merged"} if l1.get("rows_merged") else set()
    if not expected <= {p.parent.name for p in found}:
        return None  # a part is missing: read the file again
    for p in found:
        dst = build / PARTS / p.parent.name / part
        try:
            os.link(p, dst)
        except OSError:
            shutil.copy2(p, dst)
    base = {k: v for k, v in prev["layer1"].items() if k in FileAccount.__dataclass_fields__}
    acc = FileAccount(**base)
    acc.layer1, acc.reused, acc.cache_key, acc.seconds = prev["layer1"], True, key, 0.0
    return acc


def _schema_folders(build: Path, keyring: crypto.KeyRing | None = None) -> None:
    for name, tbl in schema.TABLES.items():
        for root in (build / PARTS / name, build / name):
            root.mkdir(parents=True)
            crypto.write_table(tbl.arrow_schema().empty_table(), root / "0-schema.parquet", keyring)
    for name, sch in (("_quarantine", QUARANTINE_SCHEMA), ("_merged", MERGED_SCHEMA)):
        for root in (build / PARTS / name, build / name):
            root.mkdir(parents=True)
            crypto.write_table(sch.empty_table(), root / "0-schema.parquet", keyring)
    (build / "_ingest").mkdir()


def _previous(warehouse: Path) -> dict:
    """(source, file) -> accounting entry of the warehouse's last ingest (empty when none)."""
    try:
        acc = read_accounting(warehouse)
    except (IngestError, json.JSONDecodeError, OSError):
        return {}
    return {(f["source"], f["file"]): f for f in acc.get("files", [])}


def _default_workers(todo_bytes: int) -> int:
    """Two processes for big inputs on a machine with two or more cores; one for small ones
    (starting processes costs more than it saves below some tens of MB). SALESLAB_INGEST_WORKERS
    overrides."""
    env = os.environ.get("SALESLAB_INGEST_WORKERS")
    if env:
        return max(1, int(env))
    return min(2, os.cpu_count() or 1) if todo_bytes > 50_000_000 else 1


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def _some_files(folder: Path, limit: int = 20_000) -> list[Path]:
    """Files under ``folder`` (hidden ones skipped, links to folders not followed), at most ``limit``:
    enough to report what no mapping claims without walking a whole disk given as input folder."""
    out: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if not f.startswith("."):
                out.append(Path(root) / f)
                if len(out) >= limit:
                    return out
    return out


def _plan_files(mappings: list[SourceMapping], input_dir: Path, say) -> tuple[list, dict]:
    """Which file each mapping claims; files no mapping claims, mappings that claim nothing and
    links leading out of the input folder (refused, never read)."""
    claimed: dict[Path, str] = {}
    per_mapping: list[tuple[SourceMapping, list[Path]]] = []
    refused: list[str] = []
    for m in mappings:
        files = []
        for path in _files_of(m, input_dir):
            if not _inside(path, input_dir):
                refused.append(path.relative_to(input_dir).as_posix())
                continue
            files.append(path)
            claimed.setdefault(path, m.source)
        per_mapping.append((m, files))
    every = _some_files(input_dir)
    unmapped = sorted(p.relative_to(input_dir).as_posix() for p in every if p not in claimed and _inside(p, input_dir))
    unused = sorted(m.source for m, files in per_mapping if not files)
    refused = sorted(set(refused) | {p.relative_to(input_dir).as_posix() for p in every if not _inside(p, input_dir)})
    if say:
        for f in refused:
            say(f"  REFUSED {f}: a link that leads out of the input folder {input_dir} (not read)")
        if unmapped:
            say(f"  {len(unmapped)} file(s) no mapping claims (not read): {', '.join(unmapped[:10])}"
                + (" ..." if len(unmapped) > 10 else ""))
        if unused:
            say(f"  {len(unused)} mapping(s) matched no file: {', '.join(unused)}")
    return per_mapping, {"unmapped_files": unmapped, "unused_mappings": unused, "refused_files": refused}


def ingest(input_dir: Path, sources_dir: Path, warehouse: Path,
           progress: Callable[[str], None] | None = None, cleaning=None,
           incremental: bool = True, workers: int | None = None, safeguards=None,
           duckdb_config: dict | None = None, keyring=None, engine: str = "duckdb",
           spark: dict | None = None) -> IngestReport:
    """Read every source's files from ``input_dir`` into a new version of ``warehouse``, then clean it.

    With ``incremental`` (the default), files whose content, mapping and ingest code are unchanged
    since the last ingest of ``warehouse`` are not read again: their per-file parts are reused; the
    whole-warehouse cleaning always runs, so the result equals a full rebuild. ``cleaning`` is a
    :class:`saleslab.ingest.clean.CleaningRules` (defaults when None). ``workers``: processes reading
    files in parallel (default: 2 for inputs above 50 MB on a multi-core machine, else 1).

    One ingest of a warehouse at a time (``<warehouse>.lock``; a second one waits
    ``safeguards.lock_wait_seconds``, then refuses naming the holder). The new version is built
    beside the current one and published in one atomic step (:mod:`saleslab.ingest.store`), so a
    failed or killed ingest never leaves a half-written or emptied warehouse. A missing input
    folder, or one in which no mapping finds a file, is an error. ``safeguards``
    (:class:`saleslab.ingest.store.Safeguards`; the CLI and ``saleslab run`` always pass one) also
    refuse to publish a table that would shrink by more than ``max_shrink`` or a source more than
    ``max_quarantine_share`` of whose rows were quarantined. ``duckdb_config`` (``memory_limit``,
    ``threads``) bounds the cleaning layer as it bounds the analyses. ``engine`` runs the cleaning
    layer on ``duckdb`` (default), ``pyspark`` or ``spark-connect`` (``spark``: ``spark_master``,
    ``spark_driver_memory``, ``spark_remote``); the warehouse is the same on every engine.

    ``keyring`` (a :class:`saleslab.crypto.KeyRing` or a key file path; default: the environment's
    ``SALESLAB_KEY_FILE`` / ``SALESLAB_KEY``, see :mod:`saleslab.crypto`): when a key is configured
    every Parquet file of the new version (parts, tables, quarantine, merged, fills, outliers,
    customer map and review, accounting) is written encrypted; without one, plaintext.
    """
    from ..locks import warehouse_lock
    from . import store

    input_dir, warehouse = Path(input_dir).resolve(), Path(warehouse).absolute()
    if not input_dir.is_dir():
        raise ParameterError(f"input folder {input_dir} does not exist")
    wait = safeguards.lock_wait_seconds if safeguards is not None else 0
    with warehouse_lock(warehouse, wait=wait, progress=progress):
        store.recover(warehouse, progress)
        build = store.new_build(warehouse)
        try:
            report = _ingest_into(build, input_dir, sources_dir, warehouse, progress, cleaning, incremental,
                                  workers, safeguards, duckdb_config, crypto.resolve(keyring), engine, spark)
            store.publish(warehouse, build, safeguards.keep_versions if safeguards is not None else 3)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return report


def _ingest_into(build: Path, input_dir: Path, sources_dir: Path, warehouse: Path, progress, cleaning,
                 incremental: bool, workers, safeguards, duckdb_config=None,
                 keyring: crypto.KeyRing | None = None, engine: str = "duckdb", spark: dict | None = None) -> IngestReport:
    from . import store
    from .clean import CleaningRules, clean_warehouse

    t0 = time.perf_counter()
    rules = cleaning if cleaning is not None else CleaningRules()
    mappings = load_mappings(sources_dir)
    per_mapping, inventory = _plan_files(mappings, input_dir, progress)
    if not any(files for _, files in per_mapping):
        raise IngestError(f"no file in {input_dir} matches any mapping in {Path(sources_dir).resolve()} "
                          f"({len(inventory['unmapped_files'])} other files there); nothing was changed — "
                          f"check input_dir and the mappings' file patterns")
    _schema_folders(build, keyring)
    current = store.current(warehouse)
    previous = _previous(current) if (incremental and current is not None) else {}
    # parts written under another key (or none) are not reused: one table, one key
    code = code_version() + (f"+{keyring.write_key}" if keyring is not None else "")

    # plan: every file is either reused from the last ingest or read again
    plan: list[tuple[SourceMapping, Path, str, str, str, FileAccount | None]] = []
    for m, files in per_mapping:
        if not files and progress:
            progress(f"  {m.source}: no files match {', '.join(m.files)}")
        key = cache_key(m, code)
        for path in files:
            sha = sha256_file(path)
            display = path.relative_to(input_dir).as_posix()
            acc = _reuse(current, previous, m, path, display, sha, key, build) if previous else None
            plan.append((m, path, display, sha, key, acc))

    def reading(acc: FileAccount) -> None:
        # while the files are read: rows read only; the loaded / merged / quarantined split is final
        # after the warehouse-wide layer (orders another export holds, returns without their order)
        if progress:
            state = "REJECTED" if acc.status == "rejected" else ("unchanged" if acc.reused else "read")
            progress(f"  {acc.source:<24} {acc.file:<40} read {acc.rows_read:>9,}  {acc.seconds:6.1f}s  {state}")

    def report(acc: FileAccount) -> None:
        # the figures accounting.json holds (and the data-quality page shows)
        if progress:
            state = "REJECTED" if acc.status == "rejected" else ("unchanged" if acc.reused else "ok")
            extra = (f"  skipped {acc.rows_skipped:,}" if acc.rows_skipped else "") + \
                (f"  regions unresolved {acc.unmapped_regions:,}" if acc.unmapped_regions else "") + \
                (f"  columns dropped (not in the model, not stored): {', '.join(acc.columns_dropped)}"
                 if acc.columns_dropped else "")
            progress(f"  {acc.source:<24} {acc.file:<40} read {acc.rows_read:>9,}  loaded {acc.rows_loaded:>9,}"
                     f"  merged {acc.rows_merged:>6,}  quarantined {acc.rows_quarantined:>7,}"
                     f"  {acc.seconds:6.1f}s  {state}{extra}")

    todo = [i for i, p in enumerate(plan) if p[5] is None]
    results: dict[int, FileAccount] = {i: p[5] for i, p in enumerate(plan) if p[5] is not None}
    for i in sorted(results):
        reading(results[i])
    n_workers = workers if workers is not None else _default_workers(sum(plan[i][1].stat().st_size for i in todo))
    if n_workers > 1 and len(todo) > 1:
        # files are independent: read them in parallel, biggest first so the pool ends together;
        # spawned (not forked) workers: no lock of a running thread pool is inherited; they die
        # with this process (a killed ingest leaves no worker writing)
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        order = sorted(todo, key=lambda i: -plan[i][1].stat().st_size)
        with ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn"), initializer=_die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            futures = {i: pool.submit(ingest_file, plan[i][0], plan[i][1], input_dir, build, plan[i][3], keyring)
                       for i in order}
            for i in order:
                results[i] = futures[i].result()
                reading(results[i])
    else:
        for i in todo:
            results[i] = ingest_file(plan[i][0], plan[i][1], input_dir, build, sha256=plan[i][3], keyring=keyring)
            reading(results[i])
    accounts: list[FileAccount] = []
    for i, p in enumerate(plan):
        acc = results[i]
        if not acc.reused:
            acc.cache_key = p[4]
            acc.layer1["cache_key"] = p[4]
        accounts.append(acc)
    t1 = time.perf_counter()
    summary = clean_warehouse(build, accounts, rules, {m.source: m.priority for m in mappings},
                              {m.source: m.system for m in mappings}, progress=progress,
                              name_sources=frozenset(m.source for m in mappings if m.merge_customers_on_name),
                              duckdb_config=duckdb_config, keyring=keyring, engine=engine, spark=spark)
    summary.update(inventory)
    if progress:
        progress("  row accounting per file (as the data-quality page shows it):")
    for acc in accounts:
        report(acc)
    unbalanced = [a for a in accounts if not a.balanced]
    if unbalanced:
        raise IngestError("row accounting does not balance (read != loaded + merged + quarantined) for: "
                          + ", ".join(f"{a.file} ({a.rows_read} != {a.rows_loaded} + {a.rows_merged} + "
                                      f"{a.rows_quarantined})" for a in unbalanced))
    report = IngestReport(warehouse, accounts, round(time.perf_counter() - t0, 3))
    if safeguards is not None:
        _check_safeguards(report, build, current, safeguards, keyring)
    summary["seconds_clean"] = round(time.perf_counter() - t1, 3)
    _write_accounting(build, report, input_dir, Path(sources_dir).resolve(), summary, keyring)
    _append_history(build, current, report, summary)
    return report


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the ingest that started it dies (Linux: prctl
    PR_SET_PDEATHSIG; elsewhere a no-op, the pool's own shutdown still applies)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # the parent died before the call
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _check_safeguards(report: IngestReport, build: Path, current: Path | None, safeguards,
                      keyring: crypto.KeyRing | None = None) -> None:
    from ..errors import GuardRefused
    from . import store

    problems = []
    by_source: dict[str, list[FileAccount]] = {}
    for a in report.files:
        if a.status != "rejected":  # a rejected file is an error of its own
            by_source.setdefault(a.source, []).append(a)
    # rows the file's own reading quarantined (a wrong date or number format, a broken export); a
    # return of an order that another, absent export holds is the warehouse's business, not the file's
    def read_q(a: FileAccount) -> int:
        return int(a.layer1.get("rows_quarantined", a.rows_quarantined)) if a.layer1 else a.rows_quarantined

    for source, accs in sorted(by_source.items()):
        read = sum(a.rows_read for a in accs)
        quarantined = sum(read_q(a) for a in accs)
        if read and quarantined / read > safeguards.max_quarantine_share:
            worst = max(accs, key=lambda a: read_q(a) / max(a.rows_read, 1))
            reasons = (worst.layer1 or {}).get("quarantined_by_reason") or worst.quarantined_by_reason
            reason = max(reasons.items(), key=lambda kv: kv[1])[0] if reasons else "unknown"
            problems.append(f"source {source}: {quarantined:,} of {read:,} rows quarantined "
                            f"({quarantined / read:.0%} > max_quarantine_share {safeguards.max_quarantine_share:.0%}); "
                            f"worst file {worst.file}, top reason {reason}")
    if current is not None and not safeguards.allow_shrink:
        tables = [t for t in schema.TABLES]
        old, new = store.table_rows(current, tables, keyring), store.table_rows(build, tables, keyring)
        for t in tables:
            if old[t] and new[t] < old[t] * (1 - safeguards.max_shrink):
                problems.append(f"table {t} would shrink from {old[t]:,} to {new[t]:,} rows "
                                f"(more than max_shrink {safeguards.max_shrink:.0%}); pass --allow-shrink if intended")
    if problems:
        raise GuardRefused("the ingest was not published, the current warehouse is unchanged:\n  "
                           + "\n  ".join(problems[:20]))


def _write_accounting(build: Path, report: IngestReport, input_dir: Path, sources_dir: Path,
                      summary: dict | None = None, keyring: crypto.KeyRing | None = None) -> None:
    rows = [asdict(a) for a in report.files]
    (build / "_ingest" / "accounting.json").write_text(
        json.dumps({"input_dir": str(input_dir), "sources_dir": str(sources_dir), "seconds": report.seconds,
                    "cleaning": summary or {}, "files": rows}, ensure_ascii=False, indent=1, default=str),
        encoding="utf-8")
    flat = pd.DataFrame([{k: (", ".join(v) if isinstance(v, list) else v) for k, v in r.items()
                          if not isinstance(v, dict)} for r in rows])
    if flat.empty:
        flat = pd.DataFrame({c: pd.Series(dtype="object") for c in FileAccount.__dataclass_fields__
                             if c not in ("loaded_by_table", "quarantined_by_reason", "merged_by_rule", "layer1")})
    crypto.write_table(pa.Table.from_pandas(flat, preserve_index=False), build / "_ingest" / "accounting.parquet",
                       keyring)


def _append_history(build: Path, current: Path | None, report: IngestReport, summary: dict) -> None:
    """Carry the previous ingests' history over (from the current version) and add this one."""
    old = Path(current) / "_ingest" / "history.jsonl" if current is not None else None
    lines = old.read_text(encoding="utf-8").splitlines() if old is not None and old.exists() else []
    tot = report.totals()
    entry = {"ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": report.seconds, **tot,
             **{k: summary.get(k) for k in ("coverage", "customers", "canonical_customers", "review_pairs",
                                            "duplicate_orders", "outliers")}}
    lines.append(json.dumps(entry, ensure_ascii=False, default=str))
    (build / "_ingest" / "history.jsonl").write_text("\n".join(lines[-500:]) + "\n", encoding="utf-8")


def read_history(warehouse: Path) -> pd.DataFrame:
    """One row per ingest of ``warehouse`` (oldest first): totals, coverage, duplicates, outliers."""
    path = Path(warehouse) / "_ingest" / "history.jsonl"
    if not path.exists():
        return pd.DataFrame()
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return pd.json_normalize(rows)


def read_accounting(warehouse: Path) -> dict:
    """The accounting written by the last ingest of ``warehouse``."""
    path = Path(warehouse) / "_ingest" / "accounting.json"
    if not path.exists():
        raise IngestError(f"{warehouse} has not been ingested yet (no {path.name}); run `saleslab ingest` first")
    return json.loads(path.read_text(encoding="utf-8"))
