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

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import schema
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
#: Changing any of these files changes how a file is loaded: cached parts are then rebuilt.
_CODE_FILES = ("load.py", "reader.py", "normalise.py", "mapping.py", "regions.py", "text.py")

_REASON_BY_KIND = {
    "date": ("unparseable_date", "a date in one of the source's date formats"),
    "money": ("unparseable_number", "an amount such as 1,234.50"),
    "number": ("unparseable_number", "a number"),
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
    blank_lines: int = 0
    loaded_by_table: dict[str, int] = field(default_factory=dict)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    merged_by_rule: dict[str, int] = field(default_factory=dict)
    values_filled: int = 0
    outliers_flagged: int = 0
    unmapped_regions: int = 0
    seconds: float = 0.0
    cache_key: str = ""
    reused: bool = False
    layer1: dict = field(default_factory=dict)  # the per-file figures before the warehouse layer

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_merged + self.rows_quarantined

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
    if kind in ("money", "number"):
        return pa.array(values.astype("float64"), type=typ, from_pandas=True)
    return pa.array(values.astype(object).where(values.notna(), None).tolist(), type=typ)


class _FileLoader:
    """Loads one input file; keeps the writers and per-file key indexes."""

    def __init__(self, mapping: SourceMapping, path: Path, display: str, out: Path, account: FileAccount):
        self.m, self.path, self.display, self.out, self.acc = mapping, path, display, out, account
        stem = f"{mapping.source}--{path.stem}-{account.sha256[:8]}"
        self.part_name = f"{stem}.parquet"
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.q_writer: pq.ParquetWriter | None = None
        self.m_writer: pq.ParquetWriter | None = None
        self.row_index = _KeyIndex()
        self.key_index = {t.table: _KeyIndex() for t in mapping.targets}
        self.line_counts: dict[str, int] = {}

    # ---- output -------------------------------------------------------------------------
    def _write(self, table: str, arrow: pa.Table) -> None:
        if table not in self.writers:
            self.writers[table] = pq.ParquetWriter(self.out / PARTS / table / self.part_name, arrow.schema)
        self.writers[table].write_table(arrow)

    def quarantine(self, rows: list[dict]) -> None:
        if not rows:
            return
        for r in rows:
            self.acc.quarantined_by_reason[r["reason"]] = self.acc.quarantined_by_reason.get(r["reason"], 0) + 1
        self.acc.rows_quarantined += len(rows)
        tbl = pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)
        if self.q_writer is None:
            self.q_writer = pq.ParquetWriter(self.out / PARTS / "_quarantine" / self.part_name, QUARANTINE_SCHEMA)
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
            self.m_writer = pq.ParquetWriter(self.out / PARTS / "_merged" / self.part_name, MERGED_SCHEMA)
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
        self.acc.rows_read += len(chunk.rows) + len(chunk.rejects)
        self.quarantine([
            dict(source=self.m.source, file=self.display, line=r.line, reason=r.reason, column=None,
                 expected=r.detail, raw=r.raw)
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

        frames = {t.table: self._map_target(t, raw, flag) for t in self.m.targets}

        # keys: non-distinct targets first, so a rejected line never registers its order header
        for t in sorted(self.m.targets, key=lambda t: t.distinct):
            frame = frames[t.table]
            key_cols = list(t.spec.key)
            ok = (err_reason == None) & ~merged  # noqa: E711
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
            keep = ok & frame.pop("_keep").to_numpy() if t.distinct else ok
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
            recs = raw.iloc[bad_idx].to_dict(orient="records")
            self.quarantine([
                dict(source=self.m.source, file=self.display, line=int(lines[i]), reason=err_reason[i],
                     column=err_col[i], expected=err_exp[i], raw=json.dumps(rec, ensure_ascii=False))
                for i, rec in zip(bad_idx, recs)
            ])

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
                vals, bad = self._normalise(series, col, cs.unit, cs.formats)
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
        if kind == "money":
            return N.parse_money(series, unit or self.m.money_unit)
        if kind == "number":
            return N.parse_number(series)
        if kind == "int":
            return N.parse_int(series)
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
                 part_name: str, err: SourceError) -> None:
    """A file that cannot be read as its mapping says: drop anything written for it, then keep
    every non-blank line (row) of it in quarantine, so nothing is lost and the accounting balances."""
    for p in (out / PARTS).glob(f"*/{part_name}"):
        p.unlink()
    acc.status, acc.message = "rejected", str(err)
    acc.rows_read = acc.rows_loaded = acc.rows_quarantined = acc.rows_merged = 0
    acc.loaded_by_table, acc.quarantined_by_reason, acc.merged_by_rule = {}, {}, {}
    loader = _FileLoader(mapping, path, display, out, acc)
    batch: list[dict] = []
    try:
        for line, text in raw_records(path, mapping.format):
            batch.append(dict(source=mapping.source, file=display, line=line, reason="file_rejected",
                              column=err.column, expected=err.message, raw=text))
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
                sha256: str | None = None) -> FileAccount:
    """Load one file into ``out/_parts`` (a warehouse being built); never raises for bad content."""
    t0 = time.perf_counter()
    display = path.relative_to(input_dir).as_posix()
    acc = FileAccount(mapping.source, mapping.system, display, sha256 or sha256_file(path), path.stat().st_size)
    loader = _FileLoader(mapping, path, display, out, acc)
    try:
        reader = FileReader(path, display, mapping)
        acc.encoding = reader.encoding
        for chunk in reader.chunks():
            loader.load_chunk(chunk, reader.header)
        acc.blank_lines = reader.blank_lines
        acc.encoding = reader.encoding or acc.encoding
    except SourceError as e:
        loader.close()
        _reject_file(mapping, path, display, out, acc, loader.part_name, e)
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


def _schema_folders(build: Path) -> None:
    for name, tbl in schema.TABLES.items():
        for root in (build / PARTS / name, build / name):
            root.mkdir(parents=True)
            pq.write_table(tbl.arrow_schema().empty_table(), root / "0-schema.parquet")
    for name, sch in (("_quarantine", QUARANTINE_SCHEMA), ("_merged", MERGED_SCHEMA)):
        for root in (build / PARTS / name, build / name):
            root.mkdir(parents=True)
            pq.write_table(sch.empty_table(), root / "0-schema.parquet")
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


def ingest(input_dir: Path, sources_dir: Path, warehouse: Path,
           progress: Callable[[str], None] | None = None, cleaning=None,
           incremental: bool = True, workers: int | None = None) -> IngestReport:
    """Read every source's files from ``input_dir`` into a freshly built ``warehouse``, then clean it.

    With ``incremental`` (the default), files whose content, mapping and ingest code are unchanged
    since the last ingest of ``warehouse`` are not read again: their per-file parts are reused; the
    whole-warehouse cleaning always runs, so the result equals a full rebuild. ``cleaning`` is a
    :class:`saleslab.ingest.clean.CleaningRules` (defaults when None). ``workers``: processes reading
    files in parallel (default: 2 for inputs above 50 MB on a multi-core machine, else 1).

    The new warehouse is built beside the old one and swapped in at the end, so a failed
    ingest never leaves a half-written warehouse behind.
    """
    from .clean import CleaningRules, clean_warehouse

    t0 = time.perf_counter()
    input_dir, warehouse = Path(input_dir).resolve(), Path(warehouse).resolve()
    if not input_dir.is_dir():
        raise ParameterError(f"input folder {input_dir} does not exist")
    rules = cleaning if cleaning is not None else CleaningRules()
    mappings = load_mappings(sources_dir)
    build = warehouse.with_name(warehouse.name + ".building")
    if build.exists():
        shutil.rmtree(build)
    _schema_folders(build)
    previous = _previous(warehouse) if incremental else {}
    code = code_version()

    # plan: every file is either reused from the last ingest or read again
    plan: list[tuple[SourceMapping, Path, str, str, str, FileAccount | None]] = []
    for m in mappings:
        files = _files_of(m, input_dir)
        if not files and progress:
            progress(f"  {m.source}: no files match {', '.join(m.files)}")
        key = cache_key(m, code)
        for path in files:
            sha = sha256_file(path)
            display = path.relative_to(input_dir).as_posix()
            acc = _reuse(warehouse, previous, m, path, display, sha, key, build) if previous else None
            plan.append((m, path, display, sha, key, acc))

    def report(acc: FileAccount) -> None:
        if progress:
            state = "REJECTED" if acc.status == "rejected" else ("unchanged" if acc.reused else "ok")
            progress(f"  {acc.source:<24} {acc.file:<40} read {acc.rows_read:>9,}  loaded {acc.rows_loaded:>9,}"
                     f"  merged {acc.rows_merged:>6,}  quarantined {acc.rows_quarantined:>7,}"
                     f"  {acc.seconds:6.1f}s  {state}")

    todo = [i for i, p in enumerate(plan) if p[5] is None]
    results: dict[int, FileAccount] = {i: p[5] for i, p in enumerate(plan) if p[5] is not None}
    for i in sorted(results):
        report(results[i])
    n_workers = workers if workers is not None else _default_workers(sum(plan[i][1].stat().st_size for i in todo))
    if n_workers > 1 and len(todo) > 1:
        # files are independent: read them in parallel, biggest first so the pool ends together;
        # spawned (not forked) workers: no lock of a running thread pool is inherited
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        order = sorted(todo, key=lambda i: -plan[i][1].stat().st_size)
        with ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn")) as pool:
            futures = {i: pool.submit(ingest_file, plan[i][0], plan[i][1], input_dir, build, plan[i][3])
                       for i in order}
            for i in order:
                results[i] = futures[i].result()
                report(results[i])
    else:
        for i in todo:
            results[i] = ingest_file(plan[i][0], plan[i][1], input_dir, build, sha256=plan[i][3])
            report(results[i])
    accounts: list[FileAccount] = []
    for i, p in enumerate(plan):
        acc = results[i]
        if not acc.reused:
            acc.cache_key = p[4]
            acc.layer1["cache_key"] = p[4]
        accounts.append(acc)
    t1 = time.perf_counter()
    summary = clean_warehouse(build, accounts, rules, {m.source: m.priority for m in mappings},
                              {m.source: m.system for m in mappings}, progress=progress)
    unbalanced = [a for a in accounts if not a.balanced]
    if unbalanced:
        raise IngestError("row accounting does not balance (read != loaded + merged + quarantined) for: "
                          + ", ".join(f"{a.file} ({a.rows_read} != {a.rows_loaded} + {a.rows_merged} + "
                                      f"{a.rows_quarantined})" for a in unbalanced))
    report = IngestReport(warehouse, accounts, round(time.perf_counter() - t0, 3))
    summary["seconds_clean"] = round(time.perf_counter() - t1, 3)
    _write_accounting(build, report, input_dir, Path(sources_dir).resolve(), summary)
    _append_history(build, warehouse, report, summary)
    if warehouse.exists():
        old = warehouse.with_name(warehouse.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        warehouse.rename(old)
        build.rename(warehouse)
        shutil.rmtree(old)
    else:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        build.rename(warehouse)
    return report


def _write_accounting(build: Path, report: IngestReport, input_dir: Path, sources_dir: Path,
                      summary: dict | None = None) -> None:
    rows = [asdict(a) for a in report.files]
    (build / "_ingest" / "accounting.json").write_text(
        json.dumps({"input_dir": str(input_dir), "sources_dir": str(sources_dir), "seconds": report.seconds,
                    "cleaning": summary or {}, "files": rows}, ensure_ascii=False, indent=1, default=str),
        encoding="utf-8")
    flat = pd.DataFrame([{k: v for k, v in r.items() if not isinstance(v, dict)} for r in rows])
    if flat.empty:
        flat = pd.DataFrame({c: pd.Series(dtype="object") for c in FileAccount.__dataclass_fields__
                             if c not in ("loaded_by_table", "quarantined_by_reason", "merged_by_rule", "layer1")})
    flat.to_parquet(build / "_ingest" / "accounting.parquet", index=False)


def _append_history(build: Path, warehouse: Path, report: IngestReport, summary: dict) -> None:
    """Carry the previous ingests' history over and add this one (the data-quality trend)."""
    old = Path(warehouse) / "_ingest" / "history.jsonl"
    lines = old.read_text(encoding="utf-8").splitlines() if old.exists() else []
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
