"""Analysis parameters with one home: each area declares a typed model in its ``params.py``.

An area's model (a pydantic class named ``Params``) holds every threshold its stage uses, with
its default, type, allowed values and a one-line help (the field's ``description``). From these
models, and only from them:

- the run parameter file's ``thresholds:`` are validated (:func:`validate_thresholds`: a wrong
  name lists the allowed ones, a wrong value names the key and what is allowed);
- a stage notebook's ``parameters`` cell is generated (:func:`parameters_cell`) and checked
  (``tests/test_params.py``): same names, types, defaults and help;
- a notebook validates what papermill injected in its first code cell
  (:func:`saleslab.stage.open_stage` with the notebook's ``globals()``), with the same messages;
- results carry the model they were computed with (:func:`attach`), so charts and stories read
  thresholds from the result instead of taking them again.

Field names are unique across areas (``roi_min`` means one thing), so ``thresholds:`` is flat.
The facts layer's choices (:class:`saleslab.facts.Params`: returns basis, achievement basis, price
bands) are parameters of every stage.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from functools import lru_cache
from types import SimpleNamespace

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ParameterError, SalesLabError

#: Parameters every stage notebook shares; the pipeline fills them from the run parameters.
COMMON_PARAMETERS = ("run_dir", "warehouse", "language", "period_start", "period_end", "as_of", "engine",
                     "palette", "duckdb_memory_limit", "duckdb_temp_directory", "user", "access_policy",
                     "encryption_key_file", "spark_remote")
#: The area whose parameters every stage declares (the facts layer's definitions).
FACTS = "facts"


class AreaParams(BaseModel):
    """Base of every area's ``Params``: unknown names are errors; a field's ``description`` is its help."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@lru_cache(maxsize=1)
def area_models() -> dict[str, type[BaseModel]]:
    """``{area: Params}`` for the facts layer and every area package that has a ``params`` module."""
    import saleslab

    from . import facts

    found: dict[str, type[BaseModel]] = {FACTS: facts.Params}
    for m in sorted(pkgutil.iter_modules(saleslab.__path__), key=lambda m: m.name):
        if m.ispkg and importlib.util.find_spec(f"saleslab.{m.name}.params") is not None:
            model = getattr(importlib.import_module(f"saleslab.{m.name}.params"), "Params", None)
            # a package whose params module is not an area's (saleslab.serve.params: the run file's serve: section)
            if isinstance(model, type) and issubclass(model, AreaParams):
                found[m.name] = model
    return found


@lru_cache(maxsize=1)
def field_index() -> dict[str, str]:
    """``{parameter name: area}``; a name declared by two areas is a programming error."""
    out: dict[str, str] = {}
    for area, model in area_models().items():
        for name in model.model_fields:
            if name in out:
                raise RuntimeError(f"parameter {name!r} is declared by both {out[name]} and {area}")
            if name in COMMON_PARAMETERS:
                raise RuntimeError(f"parameter {name!r} of {area} shadows a common stage parameter")
            out[name] = area
    return out


def _type_name(field) -> str:
    ann = field.annotation
    name = getattr(ann, "__name__", None)
    if name in ("int", "float", "str", "bool"):
        return name
    return "str"  # Literal[...] of strings


def describe_field(name: str) -> dict:
    """``{"area", "type", "default", "help"}`` of parameter ``name``."""
    area = field_index()[name]
    f = area_models()[area].model_fields[name]
    return {"area": area, "type": _type_name(f), "default": f.default, "help": f.description or ""}


def describe(name: str) -> str:
    """``name (area, type, default X): help`` for listings and error messages."""
    d = describe_field(name)
    return f"{name} ({d['area']}, {d['type']}, default {d['default']!r}): {d['help']}".rstrip(": ")


def _messages(err: ValidationError, where: str) -> list[str]:
    out = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if not key:  # a rule across several keys (the message names them)
            out.append(f"{where}{msg}")
            continue
        got = e.get("input")
        shown = repr(got) if len(repr(got)) <= 80 else repr(got)[:77] + "..."
        got_txt = "" if e["type"] == "missing" else f" (got {shown})"
        out.append(f"{where}key {key!r}: {msg}{got_txt}")
    return out


def validate_thresholds(values: dict, where: str = "") -> dict[str, BaseModel]:
    """Validate flat ``{name: value}`` against the area models; return ``{area: model}`` for every area
    (defaults where nothing is set). Raises :class:`ParameterError`, one line per problem."""
    index = field_index()
    problems, per_area = [], {}
    for key, value in (values or {}).items():
        if key not in index:
            allowed = ", ".join(sorted(index))
            problems.append(f"{where}unknown threshold {key!r}; allowed: {allowed}")
            continue
        per_area.setdefault(index[key], {})[key] = value
    models = {}
    for area, model in area_models().items():
        try:
            models[area] = model.model_validate(per_area.get(area, {}))
        except ValidationError as e:
            problems += _messages(e, where)
    if problems:
        raise ParameterError("\n".join(problems))
    return models


def stage_areas(names) -> list[str]:
    """The areas whose parameters appear among ``names`` (a notebook's parameters), facts first."""
    index = field_index()
    areas = {index[n] for n in names if n in index}
    return [a for a in area_models() if a in areas or a == FACTS]


def from_namespace(ns: dict, where: str) -> SimpleNamespace:
    """The area models built from the values of a notebook's namespace (``globals()``): every area
    with at least one of its parameters there, validated. ``st.params.<area>.<name>``."""
    index = field_index()
    per_area: dict[str, dict] = {}
    for name, area in index.items():
        if name in ns:
            per_area.setdefault(area, {})[name] = ns[name]
    per_area.setdefault(FACTS, {})
    problems, out = [], {}
    for area, vals in per_area.items():
        try:
            out[area] = area_models()[area].model_validate(vals)
        except ValidationError as e:
            problems += _messages(e, where)
    if problems:
        raise ParameterError("\n".join(problems))
    return SimpleNamespace(**out)


def parameters_cell(areas, common_defaults: dict | None = None) -> str:
    """The text of a stage notebook's ``parameters`` cell for ``areas`` (typed, commented)."""
    lines = []
    for area in areas:
        for name, f in area_models()[area].model_fields.items():
            typ = _type_name(f)
            default = json.dumps(f.default, ensure_ascii=False) if isinstance(f.default, str) else repr(f.default)
            lines.append(f"{name}: {typ} = {default}  # {f.description or ''}".rstrip("# ").rstrip())
    return "\n".join(lines)


def attach(df, params: BaseModel | None = None, **more):
    """Record on ``df`` (a result frame) the parameters it was computed with: ``df.attrs["params"]``,
    a plain dict (kept in the stage's Parquet file). Returns ``df``."""
    d = dict(df.attrs.get("params", {}))
    if params is not None:
        d.update(params.model_dump(mode="json"))
    d.update(more)
    df.attrs["params"] = d
    return df


def used(df, name: str):
    """The value of parameter ``name`` that ``df`` was computed with (see :func:`attach`)."""
    try:
        return df.attrs["params"][name]
    except KeyError:
        raise SalesLabError(f"this table does not record the parameter {name!r} it was computed with "
                            f"(compute it with the area's function, which attaches its parameters)") from None


def _cell_names(source: str) -> list[str]:
    names = []
    for line in source.splitlines():
        head = line.split("#", 1)[0]
        if ":" in head and "=" in head:
            names.append(head.split(":", 1)[0].strip())
    return names


def expected_parameters_cell(source: str) -> str:
    """What a stage notebook's ``parameters`` cell must read, given its current text: its common
    parameter lines unchanged, then the facts layer's and its areas' parameters from the models."""
    common = [ln for ln in source.splitlines() if ln.split(":", 1)[0].strip() in COMMON_PARAMETERS]
    areas = stage_areas(_cell_names(source))
    return "\n".join(common + [parameters_cell(areas)])
