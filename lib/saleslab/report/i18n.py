"""Every user-facing label in zh-CN and English. Notebooks and charts look labels up here.

>>> t("revenue", "zh-CN"), t("revenue", "en")
('销售额', 'Revenue')
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from functools import lru_cache
from pathlib import Path

from .. import __name__ as _ROOT
from ..ingest.regions import region_names
from ..schema import REGIONS
from . import labels as _shared
from .labels import REASONS


def label_modules() -> list[str]:
    """The label modules: the shared one (``saleslab.report.labels``) and every area's ``labels``."""
    import saleslab

    found = [_shared.__name__]
    root = Path(saleslab.__path__[0])
    for m in sorted(pkgutil.iter_modules(saleslab.__path__), key=lambda m: m.name):
        # by file, not importlib.util.find_spec: that imports the area's package (its models: sklearn, scipy ...)
        if m.ispkg and m.name != "report" and (root / m.name / "labels.py").is_file():
            found.append(f"{_ROOT}.{m.name}.labels")
    return found


def _label_module(name: str):
    """The label module ``name`` (``saleslab.<area>.labels``): the imported one when its area is already
    imported, else the file executed on its own (label modules import nothing), so that looking a
    label up does not import every analysis area (a page kernel would pay seconds for sklearn and
    scipy it never uses)."""
    if name in sys.modules or name == _shared.__name__:
        return importlib.import_module(name)
    import saleslab

    path = Path(saleslab.__path__[0]).joinpath(*name.split(".")[1:]).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(f"_saleslab_labels_{name.split('.')[1]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=1)
def _money() -> frozenset[str]:
    # columns holding amounts in 元 (``MONEY`` of every labels module): one unit per column in tables
    found: set[str] = set()
    for name in label_modules():
        found |= set(getattr(_label_module(name), "MONEY", ()))
    return frozenset(found)


@lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, tuple[str, str]], frozenset[str]]:
    # built on first use, not at import: an area's labels are found without the report package
    # importing the areas (the areas import the report package)
    merged: dict[str, tuple[str, str]] = {}
    shares: set[str] = set()
    for name in label_modules():
        module = _label_module(name)
        for key, pair in module.LABELS.items():
            if key in merged and merged[key] != pair:
                raise ValueError(f"label {key!r} defined twice with different texts ({name})")
            merged[key] = pair
        shares |= set(getattr(module, "SHARES", ()))
    return merged, frozenset(shares)


def __getattr__(name: str):
    # LABELS: key -> (zh-CN, en); SHARE_COLUMNS: columns holding shares in [0, 1] (percentages);
    # MONEY_COLUMNS: columns holding amounts in 元
    if name == "LABELS":
        return _registry()[0]
    if name == "SHARE_COLUMNS":
        return _registry()[1]
    if name == "MONEY_COLUMNS":
        return _money()
    raise AttributeError(name)


def has(key) -> bool:
    """Whether ``key`` has a label (a label key, a reason code or a region code)."""
    return _has(key)


LANGUAGES = ("zh-CN", "en")


def _pick(pair: tuple[str, str], lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)} (got {lang!r})")
    return pair[0] if lang == "zh-CN" else pair[1]


def t(key: str, lang: str) -> str:
    """The label of ``key`` in ``lang``; region codes and reason codes are labels too."""
    labels = _registry()[0]
    if key in labels:
        return _pick(labels[key], lang)
    if key in REASONS:
        return _pick(REASONS[key], lang)
    if key in REGIONS:
        return _pick(region_names(key), lang)
    raise KeyError(f"no label for {key!r}; add it to the labels.py of its area (or saleslab/report/labels.py)")


def say(key: str, lang: str, **values) -> str:
    """A sentence from the template ``key`` (one text per language, ``{name}`` placeholders)."""
    return t(key, lang).format(**values)


def join(items, lang: str) -> str:
    """Items of a list in a sentence: 、 in Chinese, a comma in English."""
    return ("、" if lang == "zh-CN" else ", ").join(str(i) for i in items)


def join_all(items, lang: str) -> str:
    """Items that all hold: "a, b and c" in English, "a、b和c" in Chinese."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    if lang == "zh-CN":
        return "、".join(items[:-1]) + "和" + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def label_columns(df, lang: str):
    """A copy of ``df`` with column names translated (unknown names kept)."""
    return df.rename(columns={c: t(c, lang) for c in df.columns if _has(c)})


def label_values(series, lang: str):
    """Translate code values (channels, regions, reasons); unknown values kept."""
    return series.map(lambda v: t(v, lang) if isinstance(v, str) and _has(v) else v)


def _has(key) -> bool:
    return isinstance(key, str) and (key in _registry()[0] or key in REASONS or key in REGIONS)
