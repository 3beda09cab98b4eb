"""What a stage notebook needs: the engine, labels, and a place to put its tables and figures.

A stage writes its tables to ``<run_dir>/data/<stage>/<name>.parquet`` (the hand-over format
between stages, with a ``.csv`` beside it for users who want the numbers in Excel), its
headline figures to ``<run_dir>/data/<stage>/headlines.json`` (shown on the report's index
page) and its charts to ``<run_dir>/figures/``. Run interactively (no ``run_dir``), a stage
writes to ``reports/_scratch/``.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from . import access
from .config import DEFAULT_PALETTE, PROJECT_ROOT
from .engine import Engine, connect
from .errors import InsufficientData, MissingSource, ParameterError
from .params import COMMON_PARAMETERS, from_namespace
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
    #: the validated analysis parameters, one model per area: ``st.params.channels.roi_min``
    params: SimpleNamespace = field(default_factory=SimpleNamespace)
    #: further keyword arguments of :func:`saleslab.engine.connect` (the user's identity, the warehouse key)
    engine_options: dict = field(default_factory=dict)
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = connect(self.warehouse, self.engine_name, self.duckdb_config, run_dir=self.run_dir,
                                   **self.engine_options)
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
        (formula-safe, see :mod:`saleslab.report.export`). The Parquet is encrypted when the stage
        has a key (``encryption_key_file`` or the environment, see :mod:`saleslab.crypto`); the
        plaintext CSV/Excel copies are then written only for a user without the right to personal
        data (whose tables the engine masked)."""
        keyring = self.engine_options.get("keyring")
        if keyring is None:
            df.to_parquet(self.data_dir / f"{name}.parquet", index=False)
        else:
            import pyarrow as pa

            from . import crypto

            crypto.write_table(pa.Table.from_pandas(df, preserve_index=False), self.data_dir / f"{name}.parquet",
                               keyring)
        ident = self.engine_options.get("identity")
        if keyring is None or (ident is not None and not ident.pii):
            # the CSV/Excel copies are plaintext: written when the warehouse is, or when the pack's
            # user sees no personal data in clear (masked by the engine)
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

    @contextlib.contextmanager
    def section(self, name: str):
        """A part of the stage that may lack its inputs: ``with st.section("inventory_turnover"): ...``.

        When the body raises :class:`MissingSource` (a table no source provided) or
        :class:`InsufficientData` (too few rows for a model), the section shows one line in the
        run's language saying what it needs, records it in ``data/<stage>/notes.json`` and the
        stage goes on; any other error still fails the stage.
        """
        try:
            yield
        except (MissingSource, InsufficientData) as e:
            from IPython.display import Markdown, display

            title = self.t(name) if i18n.has(name) else name
            if isinstance(e, MissingSource) and e.tables:
                text = i18n.say("section_missing_source", self.language, section=title,
                                tables=i18n.join_all([self.t(f"table_{t}") if i18n.has(f"table_{t}") else t
                                                      for t in e.tables], self.language))
            else:
                text = i18n.say("section_insufficient_data", self.language, section=title, detail=str(e))
            display(Markdown(f"> {text}"))
            path = self.data_dir / "notes.json"
            notes = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
            notes.append({"section": name, "kind": type(e).__name__, "text": text, "detail": str(e)})
            path.write_text(json.dumps(notes, ensure_ascii=False, indent=1), encoding="utf-8")

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


def open_stage(name: str, namespace: dict | None = None, /, **values) -> Stage:
    """Open a stage from a notebook's parameters, validating them first.

    In a notebook: ``st = open_stage("04_channels", globals())``. The common parameters
    (:data:`saleslab.params.COMMON_PARAMETERS`, strings as papermill injects them) locate the run,
    the warehouse and the language; every analysis parameter found is validated against its area's
    model (so a notebook run directly with papermill gets the same messages as ``saleslab run``)
    and is available as ``st.params.<area>.<name>``.
    """
    ns = {**(namespace or {}), **values}
    where = f"notebook {name}: "
    for key in ("run_dir", "warehouse", "language", "engine", "palette", "duckdb_memory_limit",
                "duckdb_temp_directory", "period_start", "period_end", "as_of", "user", "access_policy",
                "encryption_key_file"):
        if key in ns and not isinstance(ns[key], str):
            raise ParameterError(f"{where}key {key!r}: Input should be a valid string (got {ns[key]!r})")
    language = ns.get("language", "zh-CN")
    if language not in i18n.LANGUAGES:
        raise ParameterError(f"{where}key 'language': Input should be {' or '.join(map(repr, i18n.LANGUAGES))} "
                             f"(got {language!r})")
    engine = ns.get("engine", "duckdb")
    if engine not in ("duckdb", "pyspark"):
        raise ParameterError(f"{where}key 'engine': Input should be 'duckdb' or 'pyspark' (got {engine!r})")
    params = from_namespace({k: v for k, v in ns.items() if k not in COMMON_PARAMETERS}, where)
    run_dir, warehouse = ns.get("run_dir", ""), ns.get("warehouse", "")
    run = Path(run_dir) if run_dir else PROJECT_ROOT / "reports" / "_scratch"
    wh = Path(warehouse) if warehouse else PROJECT_ROOT / "data" / "demo" / "warehouse"
    cfg = {"memory_limit": ns.get("duckdb_memory_limit") or "4GB",
           "temp_directory": ns.get("duckdb_temp_directory") or str(PROJECT_ROOT / ".tmp" / "duckdb")}
    colours = [c.strip() for c in (ns.get("palette") or "").split(",") if c.strip()] or list(DEFAULT_PALETTE)
    options: dict = {}
    from .crypto import keyring_from

    keyring = keyring_from(ns.get("encryption_key_file") or None)  # the key file, else the environment
    if keyring is not None:
        options["keyring"] = keyring
    if ns.get("access_policy"):
        # the stage reads only what its user may see; a user the policy does not know gets nothing
        options["identity"], options["trail"] = access.governed(ns["access_policy"], ns.get("user") or None)
        if not run_dir:  # an interactive run's scratch folder is the scope's own
            run = run / options["identity"].fingerprint
    elif ns.get("user"):
        raise ParameterError(f"{where}key 'user': {ns['user']!r} needs an access_policy (without one there is no "
                             f"scope to apply)")
    run.mkdir(parents=True, exist_ok=True)
    return Stage(name, run.resolve(), wh.resolve(), language, engine, colours, cfg, params, options)
