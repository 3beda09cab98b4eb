"""What a stage notebook needs: the engine, labels, and a place to put its tables and figures.

A stage writes its tables to ``<run_dir>/data/<stage>/<name>.parquet`` (the hand-over format
between stages, with a ``.csv`` beside it for users who want the numbers in Excel), its
headline figures to ``<run_dir>/data/<stage>/headlines.json`` (shown on the report's index
page) and its charts to ``<run_dir>/figures/``. Run interactively (no ``run_dir``), a stage
writes to ``reports/_scratch/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import DEFAULT_PALETTE, PROJECT_ROOT
from .engine import Engine, connect
from .report import export, i18n


@dataclass
class Stage:
    name: str
    run_dir: Path
    warehouse: Path
    language: str = "zh-CN"
    engine_name: str = "duckdb"
    palette: list[str] = field(default_factory=lambda: list(DEFAULT_PALETTE))
    duckdb_config: dict = field(default_factory=dict)
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = connect(self.warehouse, self.engine_name, self.duckdb_config)
        return self._engine

    @property
    def data_dir(self) -> Path:
        d = self.run_dir / "data" / self.name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def t(self, key: str) -> str:
        """Label of ``key`` in this run's language."""
        return i18n.t(key, self.language)

    def labelled(self, df: pd.DataFrame, value_columns=()):
        """``df`` for reading: translated column names and codes in ``value_columns``, numbers
        with thousands separators, shares as percentages, no index."""
        out = df.copy()
        for c in value_columns:
            out[c] = i18n.label_values(out[c], self.language)
        formats = {}
        for c in out.columns:
            if c in i18n.SHARE_COLUMNS:
                formats[c] = "{:.1%}"
            elif pd.api.types.is_float_dtype(out[c]):
                formats[c] = "{:,.2f}"
            elif pd.api.types.is_integer_dtype(out[c]):
                formats[c] = "{:,}"
        out = i18n.label_columns(out, self.language)
        formats = {i18n.label_columns(pd.DataFrame(columns=[c]), self.language).columns[0]: f
                   for c, f in formats.items()}
        return out.style.format(formats, na_rep="–").hide(axis="index")

    def save_table(self, name: str, df: pd.DataFrame) -> pd.DataFrame:
        """Write ``df`` as Parquet (for later stages) and as CSV and Excel for people
        (formula-safe, see :mod:`saleslab.report.export`)."""
        df.to_parquet(self.data_dir / f"{name}.parquet", index=False)
        export.write_table(df, self.data_dir, name)
        return df

    def headline(self, key: str, value, kind: str = "number") -> None:
        """Record a headline figure (kind: money | percent | number) for the report's index page."""
        path = self.data_dir / "headlines.json"
        items = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        items = [i for i in items if i["key"] != key]
        items.append({"key": key, "label": self.t(key), "value": value, "kind": kind})
        path.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")

    def save_figure(self, name: str, fig):
        """Save ``fig`` as PNG under ``<run_dir>/figures`` and return it for display."""
        d = self.run_dir / "figures"
        d.mkdir(parents=True, exist_ok=True)
        fig.savefig(d / f"{self.name}-{name}.png", dpi=110, bbox_inches="tight")
        return fig

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


def open_stage(name: str, run_dir: str = "", warehouse: str = "", language: str = "zh-CN",
               engine: str = "duckdb", palette: str = "", duckdb_memory_limit: str = "4GB",
               duckdb_temp_directory: str = "", **_ignored) -> Stage:
    """Open a stage from a notebook's parameters (strings, as papermill injects them)."""
    if language not in i18n.LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(i18n.LANGUAGES)} (got {language!r})")
    run = Path(run_dir) if run_dir else PROJECT_ROOT / "reports" / "_scratch"
    wh = Path(warehouse) if warehouse else PROJECT_ROOT / "data" / "demo" / "warehouse"
    cfg = {"memory_limit": duckdb_memory_limit,
           "temp_directory": duckdb_temp_directory or str(PROJECT_ROOT / ".tmp" / "duckdb")}
    colours = [c.strip() for c in palette.split(",") if c.strip()] or list(DEFAULT_PALETTE)
    run.mkdir(parents=True, exist_ok=True)
    return Stage(name, run.resolve(), wh.resolve(), language, engine, colours, cfg)
