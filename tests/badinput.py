"""Broken exports for the bad-input tests: seeded, deterministic, each with what it contains by construction.

A plain helper module (imported as ``import badinput``, like ``handmade``). It builds small valid
exports of five source families, damages them with one or more *kinds* of damage, and records for
every file what a correct reader must find, computed from how the file was built (never by
reading it back):

- ``rejected``: True when the file cannot be read as its mapping says (the whole file is
  quarantined), False when it must load, None when either is acceptable;
- ``records``: the number of records (non-blank rows below the header) when the file loads;
  ``nonblank``: the number of non-blank physical lines (rows) kept in quarantine when it is rejected;
- ``lines``: physical start line of every record -> the outcomes it may get (``"loaded"``, a
  quarantine reason code, ``"merged"`` for an exact duplicate that is folded into its first
  occurrence), or None when any outcome is fine (a row whose content the damage made arbitrary);
  ``blank``: lines that are not records and must appear nowhere.

Families (mapping YAML in :data:`MAPPINGS`):

======  =========================================================  ==========================
cust    CRM customers, UTF-8 (BOM optional), free-text address      customers
ord     ERP orders, GBK, amounts with thousands separators          orders
pos     POS receipt lines, header repeated on every line            orders (distinct) + order_lines
semi    reps, semicolon-delimited                                   reps
xls     product workbook, title row above the header (row 2)        products
======  =========================================================  ==========================

Damage kinds (:data:`KINDS`): truncated, wrong_delimiter, some_wrong_delimiter, shifted_columns,
mixed_encoding, undecodable_bytes, repeated_header, repeated_header_bom, blank_lines,
quoted_newline, crlf_mixed, bom, duplicate_rows, formula_injection, nul_bytes, huge_field,
unterminated_quote, header_only, empty; for workbooks: merged_cells, blank_rows, formula_cells,
truncated_zip, header_moved, csv_as_xlsx, extra_first_sheet. :func:`garbage_file` makes the
10 MB single-line garbage file.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

GOOD = frozenset({"loaded"})
DUPLICATE = frozenset({"duplicate_row", "merged"})

FORMULAS = ['=HYPERLINK("http://x.example/?q=1","点击领奖")', "+1", "-2+3", "@SUM(A1)", "=1+1",
            "=cmd|' /C calc'!A0", "-", "+86 138 0000 0000", "@张三"]

MAPPINGS = {
    "cust.yaml": """files: "cust/*.csv"
format: csv
date_formats: ["%Y-%m-%d"]
targets:
  - table: customers
    columns:
      customer_id: 客户编号
      name: 客户名称
      customer_type: {column: 客户类型, values: {企业: company, 个人: person}}
      region: 区域
      city: 城市
      address: 地址
      created_date: 创建日期
""",
    "ord.yaml": """files: "ord/*.csv"
format: csv
date_formats: ["%Y/%m/%d"]
targets:
  - table: orders
    columns:
      order_id: 订单编号
      order_date: 下单日期
      customer_id: 客户编号
      channel: {column: 销售类型, values: {直销: direct, 经销: distribution}}
      region: 区域
      order_amount: 订单金额
""",
    "pos.yaml": """files: "pos/*.csv"
format: csv
date_formats: ["%Y%m%d"]
targets:
  - table: orders
    distinct: true
    columns: {order_id: 小票号, order_date: 交易日期, customer_id: 会员卡号, store_id: 门店编号}
    constants: {channel: retail}
  - table: order_lines
    columns: {order_id: 小票号, product_id: 商品编码, quantity: 数量, unit_price: 单价, discount: 折扣金额}
""",
    "semi.yaml": """files: "semi/*.csv"
format: csv
delimiter: ";"
date_formats: ["%Y-%m-%d"]
targets:
  - table: reps
    columns: {rep_id: 工号, name: 姓名, team: 团队, region: 区域, hire_date: 入职日期}
""",
    "xls.yaml": """files: "xls/*.xlsx"
format: excel
header_row: 2
date_formats: ["%Y-%m-%d", "excel_serial"]
targets:
  - table: products
    columns: {product_id: 产品编码, name: 产品名称, category: 品类, list_price: 标准售价, unit_cost: 单位成本,
              launch_date: 上市日期}
""",
}

#: family -> (folder/extension, delimiter, base encoding, header, table whose ``_line`` shows a loaded record,
#: index of the free-text column that may hold names / formulas)
FAMILIES = {
    "cust": (",", "utf-8", ["客户编号", "客户名称", "客户类型", "区域", "城市", "地址", "创建日期"], "customers", 1),
    "ord": (",", "gbk", ["订单编号", "下单日期", "客户编号", "销售类型", "区域", "订单金额"], "orders", 2),
    "pos": (",", "utf-8", ["小票号", "交易日期", "会员卡号", "门店编号", "商品编码", "数量", "单价", "折扣金额"],
            "order_lines", 4),
    "semi": (";", "utf-8", ["工号", "姓名", "团队", "区域", "入职日期"], "reps", 1),
    "xls": (None, None, ["产品编码", "产品名称", "品类", "标准售价", "单位成本", "上市日期"], "products", 1),
}

CSV_KINDS = ("truncated", "wrong_delimiter", "some_wrong_delimiter", "shifted_columns", "mixed_encoding",
             "undecodable_bytes", "repeated_header", "repeated_header_bom", "blank_lines", "quoted_newline",
             "crlf_mixed", "bom", "formula_injection", "nul_bytes", "huge_field", "unterminated_quote",
             "duplicate_rows", "header_only", "empty")
XLS_KINDS = ("merged_cells", "blank_rows", "repeated_header", "shifted_columns", "formula_injection",
             "formula_cells", "duplicate_rows", "truncated_zip", "header_moved", "csv_as_xlsx", "extra_first_sheet")
KINDS = {f: (XLS_KINDS if f == "xls" else CSV_KINDS) for f in FAMILIES}
#: kinds that make the whole file unreadable: applied alone or with harmless companions only
_FILE_KINDS = {"wrong_delimiter", "empty", "header_only", "truncated_zip", "header_moved", "csv_as_xlsx",
               "extra_first_sheet", "nul_bytes"}

NAMES = ["华信科技有限公司", "东方电器", "李娜", "王强", "Acme Trading", "上海 联创 贸易", "Ｆｕｌｌ宽 名称", "小米之家"]
CITIES = ["上海", "杭州", "广州", "北京", "成都"]
REGIONS = ["华东", "华南", "华北", "西南", "上海市", "East China"]


@dataclass
class Line:
    """One record (or blank line) of a CSV file, before serialisation."""

    fields: list[str] | None = None  # written with the file's delimiter, quoted where needed
    raw: bytes | None = None  # or these exact bytes (without the line end)
    allowed: frozenset[str] | None = GOOD  # outcomes a reader may give it; None: any
    record: bool = True  # False: a blank line, no record
    encoding: str | None = None  # None: the file's encoding
    delimiter: str | None = None  # None: the file's delimiter
    quote: bool = True  # False: fields joined as they are (an unquoted delimiter shifts columns)


@dataclass
class BadFile:
    path: str  # relative to the input folder, e.g. "cust/f0001-truncated.csv"
    family: str
    kinds: tuple[str, ...]
    data: bytes
    rejected: bool | None
    records: int | None  # records when loaded (None: not known by construction)
    nonblank: int | None  # non-blank lines / rows kept in quarantine when rejected
    lines: dict[int, frozenset[str] | None] = field(default_factory=dict)  # record start line -> outcomes
    blank: set[int] = field(default_factory=set)
    lines_known: bool = True  # False: a record's extent depends on the damage (unterminated quote)
    message: tuple[str, ...] = ()  # texts the rejection message must contain (besides the path)
    formulas: int = 0  # formula-like values written into the file

    @property
    def table(self) -> str:
        return FAMILIES[self.family][3]

    @property
    def header_row(self) -> int:
        return 2 if self.family == "xls" else 1


# ---- valid rows ---------------------------------------------------------------------------------
def _rows(family: str, rng: random.Random, n: int) -> list[list]:
    """``n`` valid, mutually distinct data rows (lists of cell values) of ``family``; keys differ between
    files (each file is another export), so the whole-warehouse cleaning has nothing to merge across files."""
    rows: list[list] = []
    tag = f"{rng.randrange(16**6):06X}"
    if family == "cust":
        for i in range(n):
            rows.append([f"K{tag}{i + 1:05d}", rng.choice(NAMES), rng.choice(["企业", "个人"]), rng.choice(REGIONS),
                         rng.choice(CITIES), rng.choice(["", "人民路1号", "中山路 8 号, 3楼", '"金桥"大厦']),
                         f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"])
    elif family == "ord":
        for i in range(n):
            amount = rng.randint(1, 2_000_000) / 100
            rows.append([f"SO{tag}{i + 1:06d}", f"2024/{rng.randint(1, 12)}/{rng.randint(1, 28)}",
                         rng.choice([f"C{tag}1", f"C{tag}2", f"Ｃ{tag}3", ""]), rng.choice(["直销", "经销"]), rng.choice(REGIONS),
                         f"{amount:,.2f}" if rng.random() < 0.5 else f"{amount:.2f}"])
    elif family == "pos":
        i = 0
        while len(rows) < n:
            i += 1
            head = [f"T{tag}{i:06d}", f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
                    rng.choice([f"V{tag}1", f"V{tag}2", ""]), f"S{rng.randint(1, 9)}"]
            for j in rng.sample(range(1, 40), min(n - len(rows), rng.randint(1, 3))):
                rows.append(head + [f"P{j:04d}", str(rng.randint(1, 5)), f"{rng.randint(100, 99999) / 100:.2f}",
                                    rng.choice(["0", "", "1.5"])])
    elif family == "semi":
        for i in range(n):
            rows.append([f"R{tag}{i + 1:04d}", rng.choice(NAMES), rng.choice(["一组", "二组"]), rng.choice(REGIONS),
                         f"2020-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"])
    else:
        import datetime as dt

        for i in range(n):
            rows.append([f"P{tag}{i + 1:04d}", rng.choice(NAMES), rng.choice(["厨房电器", "个护电器"]),
                         rng.randint(10, 5000) + rng.choice([0, 0.5]), rng.randint(5, 3000),
                         rng.choice([dt.datetime(2023, rng.randint(1, 12), 1), None, "2023-05-01"])])
    return rows


# ---- CSV ----------------------------------------------------------------------------------------
def _quote(v: str, delim: str) -> str:
    if any(c in v for c in (delim, '"', "\n", "\r")):
        return '"' + v.replace('"', '""') + '"'
    return v


def _encode(text: str, encoding: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _line_bytes(ln: Line, delim: str, enc: str) -> bytes:
    if ln.raw is not None:
        return ln.raw
    d = ln.delimiter or delim
    text = d.join(_quote(f, d) if ln.quote else f for f in ln.fields)
    return _encode(text, ln.encoding or enc)


def _width(fields: list[str], width: int) -> int:
    """Field count of a record whose empty fields beyond the header's width do not count."""
    n = len(fields)
    while n > width and not fields[n - 1].strip():
        n -= 1
    return n


def _good_indexes(lines: list[Line]) -> list[int]:
    return [i for i, ln in enumerate(lines) if i > 0 and ln.allowed == GOOD and ln.fields is not None
            and ln.raw is None and ln.encoding is None and ln.delimiter is None]


def make_csv(family: str, kinds: tuple[str, ...], seed: int, name: str | None = None) -> BadFile:
    """One CSV export of ``family`` damaged with ``kinds`` (applied in the order of :data:`CSV_KINDS`)."""
    rng = random.Random(f"{family}/{'+'.join(kinds)}/{seed}")
    delim, enc, header, _, text_col = FAMILIES[family]
    kinds = tuple(k for k in CSV_KINDS if k in kinds)
    eols = [b"\r\n"] if family == "ord" else [b"\n"]
    if "crlf_mixed" in kinds:
        eols = [b"\n", b"\r\n"]
    bom = "bom" in kinds or (family == "cust" and rng.random() < 0.5)
    if enc == "gbk":
        bom = False
    rows = [] if "header_only" in kinds else _rows(family, rng, rng.randint(3, 30))
    lines = [Line(list(header), allowed=None)] + [Line([str(v) for v in r]) for r in rows]
    wild = False  # some row has content the damage made arbitrary
    formulas = 0
    other_enc = "utf-8" if enc == "gbk" else "gbk"
    file_delim = delim
    for kind in kinds:
        good = _good_indexes(lines)
        pick = (lambda k: rng.sample(good, min(len(good), k))) if good else (lambda k: [])
        if kind == "wrong_delimiter":
            file_delim = rng.choice([d for d in (",", ";", "\t", "|") if d != delim])
        elif kind == "some_wrong_delimiter":
            for i in pick(rng.randint(1, 3)):
                ln = lines[i]
                ln.delimiter = rng.choice([d for d in (";", "\t", "|") if d != delim])
                text = ln.delimiter.join(_quote(f, ln.delimiter) for f in ln.fields)
                ln.allowed = frozenset({"field_count"}) if delim not in text else None
                wild |= ln.allowed is None
        elif kind == "shifted_columns":
            for i in pick(rng.randint(1, 3)):
                ln = lines[i]
                how = rng.choice(["extra", "drop", "unquoted", "rotate"])
                if how == "extra":
                    ln.fields.insert(rng.randint(1, len(ln.fields)), rng.choice(["x", "备注", "0"]))
                elif how == "drop":
                    del ln.fields[rng.randrange(1, len(ln.fields))]
                elif how == "unquoted":  # a text value with the delimiter in it, not quoted
                    ln.fields[text_col] = ln.fields[text_col] + delim + "分公司"
                    ln.fields = [f.replace('"', "") for f in ln.fields]
                    ln.quote = False
                if how != "rotate":
                    split = delim.join(ln.fields).split(delim) if not ln.quote else list(ln.fields)
                    ln.allowed = frozenset({"field_count"}) if _width(split, len(header)) != len(header) else None
                    wild |= ln.allowed is None
                else:
                    k = rng.randint(1, len(ln.fields) - 1)
                    ln.fields = ln.fields[k:] + ln.fields[:k]
                    ln.allowed, wild = None, True
        elif kind == "mixed_encoding":
            for i in pick(rng.randint(1, max(1, len(good) // 2))):
                ln = lines[i]
                ln.encoding = other_enc
                b = _line_bytes(ln, delim, enc)
                if bom and not b.isascii():
                    # a BOM declares UTF-8: its GBK lines are undecodable (unless they happen to be UTF-8)
                    try:
                        b.decode("utf-8")
                        ln.allowed, wild = None, True
                    except UnicodeDecodeError:
                        ln.allowed = frozenset({"undecodable"})
        elif kind == "undecodable_bytes":
            for i in pick(rng.randint(1, 2)):
                ln = lines[i]
                b = _line_bytes(ln, delim, enc)
                cut = rng.randint(0, len(b))
                ln.raw = b[:cut] + rng.choice([b"\xff", b"\xff\xfe", b"\x80\xff\x81"]) + b[cut:]
                ln.allowed = frozenset({"undecodable"})
        elif kind in ("repeated_header", "repeated_header_bom"):
            for _ in range(rng.randint(1, 3)):
                pos = rng.randint(1, len(lines))
                hdr = Line(list(header), allowed=frozenset({"repeated_header"}))
                if kind == "repeated_header_bom":  # two exports concatenated, the second with its BOM
                    hdr.raw = b"\xef\xbb\xbf" + delim.join(header).encode("utf-8")
                elif rng.random() < 0.3:
                    hdr.fields = [f" {h} " for h in header] + [""]
                lines.insert(pos, hdr)
        elif kind == "blank_lines":
            for _ in range(rng.randint(1, 5)):
                raw = rng.choice([b"", b"   ", delim.encode() * rng.randint(1, 8), b" \t ",
                                  (delim + " ").encode() * 3])
                lines.insert(rng.randint(1, len(lines)), Line(raw=raw, allowed=None, record=False))
        elif kind == "quoted_newline":
            for i in pick(rng.randint(1, 3)):
                ln = lines[i]
                col = 5 if family == "cust" else text_col
                ln.fields[col] = ln.fields[col] + rng.choice(["\n", "\n第二行", "\n\n"])
        elif kind == "duplicate_rows":
            for i in pick(rng.randint(1, 3)):
                lines.insert(rng.randint(i + 1, len(lines)), Line(list(lines[i].fields), allowed=DUPLICATE))
        elif kind == "formula_injection":
            for i in pick(rng.randint(1, 4)):
                lines[i].fields[text_col] = rng.choice(FORMULAS)
                formulas += 1
        elif kind == "nul_bytes":
            for i in pick(1):
                ln = lines[i]
                ln.fields[text_col] = ln.fields[text_col][:1] + "\x00" + ln.fields[text_col][1:]
                ln.allowed, wild = None, True
        elif kind == "huge_field":
            for i in pick(1):
                ln = lines[i]
                ln.fields[text_col] = "长" * rng.randint(140_000, 200_000)
                ln.allowed = frozenset({"unparseable"})
        elif kind == "unterminated_quote":
            for i in pick(1):
                ln = lines[i]
                ln.raw = _line_bytes(ln, delim, enc) + (delim + '"未闭合的引号 ').encode(enc)
                ln.allowed, wild = None, True
    if wild and family == "pos":
        # an arbitrary row may register an order header first: later lines of it then conflict
        for ln in lines[1:]:
            if ln.allowed == GOOD:
                ln.allowed = frozenset({"loaded", "conflicting_duplicate"})

    # serialise: every line with its end; file-level delimiter damage rewrites every line
    blobs, starts, nlines = [], [], []
    phys = 1
    for ln in lines:
        if file_delim != delim and ln.raw is None:
            ln.delimiter = file_delim
        b = _line_bytes(ln, delim, enc)
        if ln.raw is None and (ln.encoding or enc) == "gbk" and not b.isascii() and ln.allowed is not None:
            try:  # read line by line, UTF-8 is tried first: such a line decodes to other text
                b.decode("utf-8")
                ln.allowed = None
            except UnicodeDecodeError:
                pass
        starts.append(phys)
        nlines.append(1 + b.count(b"\n"))
        phys += nlines[-1]
        blobs.append(b)
    ends = [rng.choice(eols) for _ in blobs]
    if rng.random() < 0.2:
        ends[-1] = b""  # no line end after the last line
    if "unterminated_quote" in kinds:
        ends[-1] = b"\n"
    prefix = b"\xef\xbb\xbf" if bom else b""
    data = prefix + b"".join(b + e for b, e in zip(blobs, ends))
    keep = len(lines)
    partial: bytes | None = None
    header_cut = False
    if "empty" in kinds:
        data, keep = b"", 0
    elif "truncated" in kinds:
        cut = rng.choice([rng.randint(0, len(data) - 1), rng.randint(len(data) // 2, len(data) - 1)])
        data = data[:cut]
        off = len(prefix)
        keep = 0
        for b, e in zip(blobs, ends):
            if off + len(b) <= cut:
                keep += 1  # the line's bytes are all there (its end may be cut)
            elif off < cut:
                partial = b[:cut - off]
                header_cut = keep == 0
                break
            else:
                break
            off += len(b) + len(e)
        if cut < len(prefix) + len(blobs[0]):
            header_cut = True

    # what a reader must find
    records: int | None = 0
    out_lines: dict[int, frozenset[str] | None] = {}
    blank: set[int] = set()
    for i in range(1, keep):
        if lines[i].record:
            records += 1
            out_lines[starts[i]] = lines[i].allowed
        else:
            blank.add(starts[i])
    if partial is not None and not header_cut:
        i = keep
        content = partial.translate(None, b" \t\r\n" + delim.encode())
        if b'"' in partial and not content.replace(b'"', b""):
            records = None  # only quotes left: whether that is a record depends on the quoting
        elif content:
            records += 1
            out_lines[starts[i]] = None
        else:
            blank.add(starts[i])
    nonblank = sum(1 for ln in data.split(b"\n") if ln.strip())
    rejected = False
    message: tuple[str, ...] = ()
    if not data:
        rejected, message = True, ("file is empty",)
    elif b"\x00" in data[:4096]:
        rejected, message = True, ("binary content",)
    elif header_cut or file_delim != delim:
        rejected, message = True, ("line 1",)
    lines_known = "unterminated_quote" not in kinds
    if not lines_known:
        records = None
    name = name or f"{family}/{seed:05d}-{'+'.join(kinds) or 'clean'}.csv"
    return BadFile(name, family, kinds, data, rejected, records, nonblank, out_lines, blank, lines_known,
                   message, formulas)


# ---- Excel --------------------------------------------------------------------------------------
def make_xlsx(kinds: tuple[str, ...], seed: int, name: str | None = None) -> BadFile:
    """One product workbook (title row 1, header row 2) damaged with ``kinds``."""
    import openpyxl

    rng = random.Random(f"xls/{'+'.join(kinds)}/{seed}")
    kinds = tuple(k for k in XLS_KINDS if k in kinds)
    header = FAMILIES["xls"][2]
    rows = _rows("xls", rng, rng.randint(3, 25))
    # sheet rows [cells, allowed outcomes, is a record]; row 1 title, row 2 header
    sheet: list[list] = [[["产品主数据 导出时间 2026-01-02"], None, False], [list(header), None, False]]
    sheet += [[list(r), GOOD, True] for r in rows]
    merges: list[tuple[list, list, int, int]] = []  # (first row, last row, first col, last col), rows by identity
    strings: set[tuple[int, int]] = set()  # (id(row), col) cells stored as text although they start with '='
    formulas = 0
    for kind in kinds:
        good = [i for i in range(2, len(sheet)) if sheet[i][1] == GOOD]
        pick = (lambda k: rng.sample(good, min(len(good), k))) if good else (lambda k: [])
        if kind == "merged_cells":
            merges.append((sheet[0], sheet[0], 1, 6))  # the title across the table
            runs = [i for i in good if i + 2 < len(sheet) and sheet[i + 1][1] == GOOD and sheet[i + 2][1] == GOOD]
            if runs:  # category merged down three rows (a grouped report): the two rows below lose it
                i = rng.choice(runs)
                for j in (i + 1, i + 2):
                    sheet[j][0][2] = None
                    sheet[j][1] = frozenset({"missing_required"})
                merges.append((sheet[i], sheet[i + 2], 3, 3))
            # a total row at the bottom, its label merged across three columns
            sheet.append([["合计", None, None, sum(float(r[3]) for r in rows), None, None],
                          frozenset({"missing_required"}), True])
            merges.append((sheet[-1], sheet[-1], 1, 3))
        elif kind == "blank_rows":
            for _ in range(rng.randint(1, 4)):
                sheet.insert(rng.randint(2, len(sheet)), [[None] * rng.randint(1, 6), None, False])
        elif kind == "repeated_header":
            for _ in range(rng.randint(1, 2)):
                sheet.insert(rng.randint(3, len(sheet)), [list(header), frozenset({"repeated_header"}), True])
        elif kind == "shifted_columns":
            for i in pick(rng.randint(1, 2)):
                if rng.random() < 0.5:
                    sheet[i][0].append("多出的一列")
                    sheet[i][1] = frozenset({"field_count"})
                else:
                    sheet[i][0] = [None] + sheet[i][0][:-1]
                    sheet[i][1] = None
        elif kind == "formula_injection":
            for i in pick(rng.randint(1, 3)):
                sheet[i][0][1] = rng.choice(FORMULAS)
                strings.add((id(sheet[i]), 2))
                formulas += 1
        elif kind == "formula_cells":  # real formulas: no cached value in a file openpyxl wrote
            for i in pick(rng.randint(1, 2)):
                sheet[i][0][3] = "=1+2"
                sheet[i][1] = None
        elif kind == "duplicate_rows":
            for i in pick(rng.randint(1, 2)):
                copy = [list(sheet[i][0]), DUPLICATE, True]
                strings |= {(id(copy), c) for (r, c) in strings if r == id(sheet[i])}
                sheet.insert(rng.randint(i + 1, len(sheet)), copy)
    rejected, message = False, ()
    if "header_moved" in kinds:  # a second title line pushes the header down to row 3
        sheet.insert(1, [["单位：元"], None, False])
        rejected, message = True, ("line 2",)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "产品"
    for r, (cells, _, _) in enumerate(sheet, 1):
        for c, v in enumerate(cells, 1):
            if v is not None:
                cell = ws.cell(r, c, v)
                if (id(sheet[r - 1]), c) in strings:
                    cell.data_type = "s"
    row_of = {id(row): r for r, row in enumerate(sheet, 1)}
    for top, bottom, c0, c1 in merges:
        r0, r1 = row_of[id(top)], row_of[id(bottom)]
        covered = [sheet[r - 1][0][c - 1] if c <= len(sheet[r - 1][0]) else None
                   for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)][1:]
        if all(v is None for v in covered):  # merging drops covered values: only merge empty cells
            ws.merge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)
    nonblank = sum(1 for cells, _, _ in sheet if any(v not in (None, "") for v in cells))
    if "extra_first_sheet" in kinds:  # a notes sheet before the data: sheet 0 has no header on row 2
        wb.create_sheet("说明", 0).append(["本文件由 ERP 导出"])
        rejected, message, nonblank = True, ("line 2",), nonblank + 1
    data = _stable_xlsx(wb)
    if "truncated_zip" in kinds:
        data = data[:rng.randint(0, len(data) - 1)]
        rejected, message = True, (("not an Excel workbook",) if data else ("file is empty",))
        nonblank = sum(1 for ln in data.split(b"\n") if ln.strip())
    elif "csv_as_xlsx" in kinds:
        data = "\n".join(",".join("" if v is None else str(v) for v in cells) for cells, _, _ in sheet).encode()
        rejected, message = True, ("not an Excel workbook",)
        nonblank = sum(1 for ln in data.split(b"\n") if ln.strip())
    first = 3 + ("header_moved" in kinds)
    out_lines = {r: allowed for r, (cells, allowed, rec) in enumerate(sheet, 1) if r >= first and rec}
    blank = {r for r, (cells, allowed, rec) in enumerate(sheet, 1) if r >= first and not rec}
    name = name or f"xls/{seed:05d}-{'+'.join(kinds) or 'clean'}.xlsx"
    return BadFile(name, "xls", kinds, data, rejected, len(out_lines), nonblank, out_lines, blank, True,
                   message, formulas)


def _stable_xlsx(wb) -> bytes:
    """The workbook's bytes without the time of writing in them (deterministic output)."""
    import zipfile

    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-01-02T00:00:00Z", body)
            dst.writestr(zipfile.ZipInfo(info.filename, (2026, 1, 2, 0, 0, 0)), body,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ---- many files ---------------------------------------------------------------------------------
def make_file(family: str, kinds: tuple[str, ...], seed: int) -> BadFile:
    return make_xlsx(kinds, seed) if family == "xls" else make_csv(family, kinds, seed)


def generate(seed: int, n: int) -> list[BadFile]:
    """``n`` broken exports: first every (family, kind) alone, then random combinations of 1-3 kinds.

    Deterministic for a given ``seed``; the family mix is about 4 CSV files to 1 workbook.
    """
    rng = random.Random(seed)
    plan = [(f, (k,)) for f in FAMILIES for k in KINDS[f]]
    while len(plan) < n:
        family = rng.choice(["cust", "cust", "ord", "ord", "pos", "pos", "semi", "xls", "xls"])
        kinds = KINDS[family]
        weights = [0.3 if k in _FILE_KINDS or k in ("huge_field", "empty") else 1.0 for k in kinds]
        chosen = set(rng.choices(kinds, weights, k=rng.randint(1, 3)))
        if len(chosen & _FILE_KINDS) > 1:
            chosen -= _FILE_KINDS
            chosen.add(rng.choice(sorted(_FILE_KINDS & set(kinds))))
        plan.append((family, tuple(sorted(chosen))))
    return [make_file(f, k, seed * 100_000 + i) for i, (f, k) in enumerate(plan[:n])]


def garbage_file(seed: int = 0, size: int = 10 * 1024 * 1024, family: str = "cust") -> BadFile:
    """``size`` bytes of random garbage on a single line (no line end, no NUL): rejected, one line kept."""
    rng = random.Random(seed)
    alphabet = bytes(b for b in range(256) if b not in (0, 10, 13))
    data = bytes(alphabet[i % len(alphabet)] for i in rng.randbytes(size))
    return BadFile(f"{family}/garbage-10mb.csv", family, ("garbage",), data, True, None, 1,
                   message=("line 1",))


def write_sources(folder: Path) -> Path:
    """The mappings of the five families, as ``folder/*.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in MAPPINGS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def write_files(folder: Path, files: list[BadFile]) -> Path:
    for f in files:
        p = folder / f.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f.data)
    for fam in FAMILIES:
        (folder / fam).mkdir(parents=True, exist_ok=True)
    return folder
