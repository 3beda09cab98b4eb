"""Readers: CSV and Excel exports -> header + raw records with their line numbers.

Records are counted here, not by a parsing library, so that every record in the file is
either handed on or rejected with a reason (pandas' ``on_bad_lines="skip"`` drops rows
silently). A *record* is a non-blank CSV record (which may span several physical lines when
quoted) or a non-empty worksheet row below the header. Lines are 1-based physical line
numbers (CSV) or worksheet row numbers (Excel).

Structural problems of a single record (wrong field count, undecodable bytes, the header
repeated mid-file) become :class:`Reject` entries; problems of the whole file (empty, not
the format its mapping says, header row or mapped columns missing) raise
:class:`~saleslab.errors.SourceError`.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import SourceError
from .mapping import SourceMapping

CHUNK_ROWS = 100_000  # rows per chunk: bounds the memory of each reading process


@dataclass
class Reject:
    line: int
    reason: str
    detail: str
    raw: str


@dataclass
class Chunk:
    lines: list[int]
    rows: list[list[str]]
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class FileReader:
    """Iterates a file's records in chunks; ``header`` is known after construction."""

    path: Path
    display: str
    mapping: SourceMapping
    header: list[str] = field(init=False)
    blank_lines: int = field(init=False, default=0)
    encoding: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if self.path.stat().st_size == 0:
            raise SourceError(self.display, "file is empty", expected="a header row and data rows")
        if self.mapping.format == "csv":
            self._records = self._csv_records()
        else:
            self._records = self._excel_records()
        self.header = self._read_header()
        missing = sorted(self.mapping.source_columns - set(self.header))
        if missing:
            raise SourceError(
                self.display,
                f"mapped column(s) {', '.join(map(repr, missing))} not in the header",
                line=self.mapping.header_row,
                expected=f"header with these columns; found {', '.join(map(repr, self.header))}",
            )

    # ---- header -------------------------------------------------------------------------
    def _read_header(self) -> list[str]:
        for line, fields in self._records:
            if isinstance(fields, Reject):
                raise SourceError(self.display, f"header row cannot be read: {fields.detail}", line=line)
            if line < self.mapping.header_row:
                continue
            header = [h.strip().lstrip("\ufeff") for h in fields]
            while header and header[-1] == "":
                header.pop()
            if not header:
                raise SourceError(self.display, "header row is empty", line=line)
            return header
        raise SourceError(
            self.display, "no header row found", line=self.mapping.header_row,
            expected=f"a header on line {self.mapping.header_row}",
        )

    # ---- records ------------------------------------------------------------------------
    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        width = len(self.header)
        header_key = [h.strip() for h in self.header]
        chunk = Chunk([], [])
        for line, fields in self._records:
            if isinstance(fields, Reject):
                chunk.rejects.append(fields)
            else:
                while len(fields) > width and fields[-1].strip() == "":
                    fields.pop()
                if not "".join(fields).strip():
                    self.blank_lines += 1
                    continue
                if len(fields) != width:
                    chunk.rejects.append(Reject(
                        line, "field_count", f"{len(fields)} fields, header has {width}",
                        self.mapping.delimiter.join(fields)))
                # the header again (after a BOM too: two exports concatenated, each with its BOM)
                elif (fields[0].strip().lstrip("\ufeff") == header_key[0]
                      and [f.strip().lstrip("\ufeff") for f in fields] == header_key):
                    chunk.rejects.append(Reject(line, "repeated_header", "header repeated mid-file",
                                                self.mapping.delimiter.join(fields)))
                else:
                    chunk.lines.append(line)
                    chunk.rows.append(fields)
            if len(chunk.rows) + len(chunk.rejects) >= size:
                yield chunk
                chunk = Chunk([], [])
        if chunk.rows or chunk.rejects:
            yield chunk

    def _decoded_lines(self) -> Iterator[tuple[int, str | Reject]]:
        data = self.path.read_bytes()
        head = data[:4096]
        if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
            raise SourceError(self.display, "this is an Excel/zip file, not a CSV text file",
                              expected="a CSV file (or set format: excel in the mapping)")
        if b"\x00" in head:
            raise SourceError(self.display, "binary content (NUL bytes), not a CSV text file",
                              expected="a CSV text file")
        enc = self.mapping.encoding
        if enc == "auto":
            if data.startswith(b"\xef\xbb\xbf"):
                enc = "utf-8-sig"
            else:
                try:
                    text = data.decode("utf-8")
                    enc = "utf-8"
                except UnicodeDecodeError:
                    enc = "per-line"
        self.encoding = enc
        codecs: tuple[str, ...] = ("utf-8", "gb18030")
        if enc != "per-line":
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                # the declared encoding does not fit every line: decode line by line with it,
                # rejecting the lines that fail (the header failing rejects the file)
                codecs = (enc,)
                self.encoding = f"per-line:{enc}"
            else:
                for i, ln in enumerate(io.StringIO(text, newline=""), 1):
                    yield i, ln
                return
        # mixed or legacy encodings: each line UTF-8 if it decodes as such, else GB18030
        for i, raw in enumerate(data.splitlines(keepends=True), 1):
            for codec in codecs:
                try:
                    yield i, raw.decode(codec)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                yield i, Reject(i, "undecodable", f"bytes are not {' or '.join(c.upper() for c in codecs)}",
                                raw.decode("utf-8", errors="replace"))

    def _csv_records(self) -> Iterator[tuple[int, list[str] | Reject]]:
        skipped: list[int] = []  # fed-line count at each undecodable line, for physical numbering
        pending: list[Reject] = []

        def text_lines():
            fed = 0
            for _, ln in self._decoded_lines():
                if isinstance(ln, Reject):
                    skipped.append(fed)
                    pending.append(ln)
                    continue
                fed += 1
                yield ln

        def physical(fed_index: int) -> int:  # 1-based fed line -> 1-based physical line
            return fed_index + bisect.bisect_left(skipped, fed_index)

        reader = csv.reader(text_lines(), delimiter=self.mapping.delimiter)
        done = 0  # fed lines consumed before the current record
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                yield physical(done + 1), Reject(physical(done + 1), "unparseable", f"CSV syntax: {e}", "")
                done = reader.line_num
                continue
            start = physical(done + 1)
            done = reader.line_num
            while pending:
                r = pending.pop(0)
                yield r.line, r
            if not fields:
                self.blank_lines += 1
            else:
                yield start, fields
        while pending:
            r = pending.pop(0)
            yield r.line, r

    def _excel_records(self) -> Iterator[tuple[int, list[str]]]:
        import zipfile

        from openpyxl import load_workbook

        try:
            wb = load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
            raise SourceError(self.display, f"not an Excel workbook ({type(e).__name__}: {e})",
                              expected="an .xlsx workbook (or format: csv in the mapping)") from None
        sheet = self.mapping.sheet
        try:
            ws = wb.worksheets[sheet] if isinstance(sheet, int) else (wb[sheet] if sheet else wb.worksheets[0])
        except (KeyError, IndexError):
            raise SourceError(self.display, f"no sheet {sheet!r}",
                              expected=f"one of {', '.join(map(repr, wb.sheetnames))}") from None

        def gen():
            i = 0
            try:
                for i, row in enumerate(ws.iter_rows(values_only=True), 1):
                    yield i, [_cell_text(v) for v in row]
            except Exception as e:  # noqa: BLE001 - a damaged workbook fails in many ways
                raise SourceError(self.display, f"workbook cannot be read past row {i} ({type(e).__name__}: {e})",
                                  line=i + 1, expected="an undamaged .xlsx workbook") from None
            finally:
                wb.close()

        return gen()


def _cell_text(v) -> str:
    """Excel cell value -> the text a CSV export would have shown."""
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d") if v.time() == dt.time(0) else v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def raw_records(path: Path, fmt: str, limit: int = 2000) -> Iterator[tuple[int, str]]:
    """(line, text) of every non-blank line (CSV) or row (Excel) of a file that cannot be parsed
    as its mapping says, so that a rejected file's records are still kept in quarantine."""
    if fmt == "excel":
        try:
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True, data_only=True)
            rows = []
            for ws in wb.worksheets:
                for i, row in enumerate(ws.iter_rows(values_only=True), 1):
                    cells = [_cell_text(v) for v in row]
                    if any(c.strip() for c in cells):
                        rows.append((i, ",".join(cells)[:limit]))
            wb.close()
            yield from rows
            return
        except Exception:  # noqa: BLE001 - not a workbook after all: fall back to its bytes
            pass
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, 1):
            if raw.strip():
                yield i, raw[:limit].decode("utf-8", errors="replace")


__all__ = ["Chunk", "FileReader", "Reject", "raw_records"]
