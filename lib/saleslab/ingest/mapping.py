"""Source mappings: one YAML file per export family, validated on load.

The format is documented in ``parameters/sources/README.md``. Loading checks every key
and every canonical table / column name against :mod:`saleslab.schema`, so a typo fails
before any file is read, with the mapping file and key named.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .. import schema
from ..errors import ParameterError, format_validation_error, read_yaml
from .normalise import DEFAULT_DATE_FORMATS, UNITS


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str
    unit: str | None = None
    formats: list[str] | None = None
    values: dict[str, str] | None = None
    negate: bool = False  # a number written negative (a return line's quantity) taken as positive
    kind: Literal["company_name"] | None = None  # an id that is a company's name: normalised like names

    @field_validator("unit")
    @classmethod
    def _unit(cls, v):
        if v is not None and v not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        return v


_WHERE = re.compile(r"^\s*(?P<col>.+?)\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<val>.+?)\s*$")
_WHERE_EMPTY = re.compile(r"^\s*(?P<col>.+?)\s+is\s+(?P<not>not\s+)?empty\s*$", re.IGNORECASE)


class Where(BaseModel):
    """A row condition: ``qty < 0``, ``type == 'return'``, ``close_date is not empty``."""

    column: str
    op: str
    value: str | float | None = None

    @classmethod
    def parse(cls, text: str) -> "Where":
        m = _WHERE_EMPTY.match(text)
        if m:
            return cls(column=m["col"].strip("'\""), op="not_empty" if m["not"] else "empty")
        m = _WHERE.match(text)
        if not m:
            raise ValueError(f"where {text!r}: expected `column op value` (op one of < <= > >= == !=) "
                             f"or `column is [not] empty`")
        val = m["val"]
        if len(val) >= 2 and val[0] == val[-1] and val[0] in "'\"":
            value: str | float = val[1:-1]
        else:
            try:
                value = float(val)
            except ValueError:
                raise ValueError(f"where {text!r}: the value must be a number or a quoted text") from None
        if isinstance(value, str) and m["op"] not in ("==", "!="):
            raise ValueError(f"where {text!r}: {m['op']} compares numbers; quote texts only with == or !=")
        return cls(column=m["col"].strip("'\""), op=m["op"], value=value)


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str
    distinct: bool = False
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    #: only the rows meeting this condition go to this table (e.g. ``qty < 0`` to returns)
    where: str | None = None
    #: order lines: the source's prices and amounts include VAT at ``tax_rate`` (mapped or constant)
    amounts_include_tax: bool = False

    @field_validator("where")
    @classmethod
    def _where(cls, v):
        if v is not None:
            Where.parse(v)
        return v

    @property
    def condition(self) -> "Where | None":
        return Where.parse(self.where) if self.where else None

    @field_validator("columns", mode="before")
    @classmethod
    def _short_form(cls, v):
        return {k: ({"column": str(s)} if isinstance(s, (str, int)) else s) for k, s in (v or {}).items()}

    @model_validator(mode="after")
    def _known_columns(self):
        try:
            tbl = schema.table(self.table)
        except KeyError as e:
            raise ValueError(e.args[0]) from None
        for name in (*self.columns, *self.constants):
            if name not in tbl.column_names:
                raise ValueError(
                    f"table {self.table} has no column {name!r}; columns: {', '.join(tbl.column_names)}"
                )
        both = set(self.columns) & set(self.constants)
        if both:
            raise ValueError(f"columns {sorted(both)} are both mapped and constant")
        derived = DERIVED.get(self.table, ())
        missing = [
            c.name for c in tbl.columns
            if c.required and c.name not in self.columns and c.name not in self.constants and c.name not in derived
        ]
        if missing:
            raise ValueError(f"required columns of {self.table} not mapped: {', '.join(missing)}")
        return self

    @property
    def spec(self) -> schema.Table:
        return schema.table(self.table)


#: Columns ingestion can derive when a source does not map them (see ``ingest.load``).
DERIVED = {"order_lines": ("line_no", "discount", "net_amount")}


class NumberFormatSpec(BaseModel):
    """How the source writes numbers. A value that does not fit is quarantined (``unparseable_number``)."""

    model_config = ConfigDict(extra="forbid")

    decimal: Literal[".", ","] = "."
    thousands: Literal[",", ".", " ", "'", ""] = ","
    accounting_negatives: bool = True  # (1,234.00) means -1234

    @model_validator(mode="after")
    def _distinct(self):
        if self.decimal == self.thousands:
            raise ValueError(f"decimal and thousands separators must differ (both {self.decimal!r})")
        return self


class SourceMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    system: str = ""
    files: list[str]
    format: Literal["csv", "excel"]
    encoding: Literal["auto", "utf-8", "utf-8-sig", "gbk", "gb18030"] = "auto"
    delimiter: str = ","
    sheet: str | int | None = None
    header_row: int = Field(1, ge=1)
    priority: int = 1
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    money_unit: str = "元"
    number_format: NumberFormatSpec = Field(default_factory=NumberFormatSpec)
    #: lines to skip (totals, copyright and report trailers): regular expressions searched in the
    #: raw line; a skipped line is counted as skipped, not quarantined
    skip_lines: list[str] = Field(default_factory=list)
    #: merge this source's customer records on their normalised name alone (a source with no tax
    #: id, phone or e-mail); off by default: names alone are a weak signal
    merge_customers_on_name: bool = False
    targets: list[Target] = Field(min_length=1)
    path: Path | None = Field(None, exclude=True)

    @field_validator("files", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("money_unit")
    @classmethod
    def _unit(cls, v):
        if v not in UNITS:
            raise ValueError(f"money_unit must be one of {', '.join(UNITS)}")
        return v

    @field_validator("skip_lines")
    @classmethod
    def _patterns(cls, v):
        for pat in v:
            try:
                re.compile(pat)
            except re.error as e:
                raise ValueError(f"skip_lines pattern {pat!r} is not a regular expression: {e}") from None
        return v

    @property
    def skip_pattern(self) -> "re.Pattern | None":
        return re.compile("|".join(f"(?:{p})" for p in self.skip_lines)) if self.skip_lines else None

    @property
    def source_columns(self) -> set[str]:
        cols = {spec.column for t in self.targets for spec in t.columns.values()}
        return cols | {t.condition.column for t in self.targets if t.where}


def load_mapping(path: Path) -> SourceMapping:
    """Read and validate one mapping YAML file."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    data.setdefault("source", path.stem)
    try:
        m = SourceMapping.model_validate(data)
    except ValidationError as e:
        raise ParameterError(format_validation_error(path, e)) from None
    m.path = path
    return m


def load_mappings(folder: Path) -> list[SourceMapping]:
    """All mappings in ``folder`` (``*.yaml``), sorted by name; names must be unique."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"sources folder {folder} does not exist")
    maps = [load_mapping(p) for p in sorted(folder.glob("*.yaml"))]
    if not maps:
        raise ParameterError(f"no source mappings (*.yaml) in {folder}")
    seen: dict[str, Path] = {}
    for m in maps:
        if m.source in seen:
            raise ParameterError(f"{m.path}: source name {m.source!r} already used by {seen[m.source]}")
        seen[m.source] = m.path
    return maps
