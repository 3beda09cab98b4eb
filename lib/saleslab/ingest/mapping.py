"""Source mappings: one YAML file per export family, validated on load.

The format is documented in ``parameters/sources/README.md``. Loading checks every key
and every canonical table / column name against :mod:`saleslab.schema`, so a typo fails
before any file is read, with the mapping file and key named.
"""

from __future__ import annotations

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

    @field_validator("unit")
    @classmethod
    def _unit(cls, v):
        if v is not None and v not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        return v


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str
    distinct: bool = False
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)

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

    @property
    def source_columns(self) -> set[str]:
        return {spec.column for t in self.targets for spec in t.columns.values()}


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
