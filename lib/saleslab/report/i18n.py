"""Every user-facing label in zh-CN and English. Notebooks and charts look labels up here.

>>> t("revenue", "zh-CN"), t("revenue", "en")
('销售额', 'Revenue')
"""

from __future__ import annotations

import importlib
import pkgutil

from ..ingest.regions import region_names
from ..schema import REGIONS
from . import labels as _labels_pkg
from .labels.core import REASONS


def _merge_labels() -> tuple[dict[str, tuple[str, str]], frozenset[str]]:
    merged: dict[str, tuple[str, str]] = {}
    shares: set[str] = set()
    for mod in sorted(m.name for m in pkgutil.iter_modules(_labels_pkg.__path__)):
        module = importlib.import_module(f"{_labels_pkg.__name__}.{mod}")
        for key, pair in module.LABELS.items():
            if key in merged and merged[key] != pair:
                raise ValueError(f"label {key!r} defined twice with different texts (labels/{mod}.py)")
            merged[key] = pair
        shares |= set(getattr(module, "SHARES", ()))
    return merged, frozenset(shares)


#: key -> (zh-CN, en); and the columns holding shares in [0, 1], shown as percentages.
LABELS, SHARE_COLUMNS = _merge_labels()

LANGUAGES = ("zh-CN", "en")


def _pick(pair: tuple[str, str], lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)} (got {lang!r})")
    return pair[0] if lang == "zh-CN" else pair[1]


def t(key: str, lang: str) -> str:
    """The label of ``key`` in ``lang``; region codes and reason codes are labels too."""
    if key in LABELS:
        return _pick(LABELS[key], lang)
    if key in REASONS:
        return _pick(REASONS[key], lang)
    if key in REGIONS:
        return _pick(region_names(key), lang)
    raise KeyError(f"no label for {key!r}; add it to saleslab/report/i18n.py")


def label_columns(df, lang: str):
    """A copy of ``df`` with column names translated (unknown names kept)."""
    return df.rename(columns={c: t(c, lang) for c in df.columns if _has(c)})


def label_values(series, lang: str):
    """Translate code values (channels, regions, reasons); unknown values kept."""
    return series.map(lambda v: t(v, lang) if isinstance(v, str) and _has(v) else v)


def _has(key) -> bool:
    return isinstance(key, str) and (key in LABELS or key in REASONS or key in REGIONS)
