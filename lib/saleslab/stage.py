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

    def labelled(self, df: pd.DataFrame, value_columns=(), *, empty: str | None = None, kinds: dict | None = None,
                 define=(), rows: int | None = None):
        """``df`` for reading (:func:`saleslab.report.tables.for_display`): column names and every code
        value in the run's language (``value_columns`` are labelled even when named like ids), booleans
        as 是/否 / Yes/No, money in one unit per column, shares as percentages, counts as integers,
        dates as dates, "—" with its reason in a footnote, names before ids, no index. An empty ``df``
        is one line: the label ``empty`` (why it is empty) or a generic reason. ``kinds``: a column's
        formatter kind where the naming conventions guess wrong; ``define``: headline keys whose
        definitions go under the table; ``rows``: at most this many rows shown, with a footnote
        giving the total."""
        from .report import tables

        return tables.for_display(df, self.language, value_columns, empty=empty, kinds=kinds, define=define,
                                  rows=rows)

    def definitions(self, keys):
        """The definitions of the headline figures ``keys`` (:mod:`saleslab.report.glossary`), as a
        small "定义 · …" / "Definition · …" footnote under the stage's figures."""
        from .report import glossary

        return glossary.footnote(keys, self.language)

    def save_table(self, name: str, df: pd.DataFrame, people: bool = True) -> pd.DataFrame:
        """Write ``df`` as Parquet (for later stages, raw codes) and as CSV and Excel for people
        (labelled in the run's language by :func:`saleslab.report.tables.for_people`; formula-safe,
        see :mod:`saleslab.report.export`). The Parquet is encrypted when the stage
        has a key (``encryption_key_file`` or the environment, see :mod:`saleslab.crypto`); the
        plaintext CSV/Excel copies are then written only for a user without the right to personal
        data (whose tables the engine masked). ``people=False``: a hand-off to later stages only
        (Parquet, no CSV/Excel copy)."""
        keyring = self.engine_options.get("keyring")
        if keyring is None:
            df.to_parquet(self.data_dir / f"{name}.parquet", index=False)
        else:
            import pyarrow as pa

            from . import crypto

            crypto.write_table(pa.Table.from_pandas(df, preserve_index=False), self.data_dir / f"{name}.parquet",
                               keyring)
        ident = self.engine_options.get("identity")
        if people and (keyring is None or (ident is not None and not ident.pii)):
            # the CSV/Excel copies are plaintext: written when the warehouse is, or when the pack's
            # user sees no personal data in clear (masked by the engine)
            from .report import tables

            # for people: labelled columns and codes (the code beside its label), 是/否; the Parquet stays raw
            export.write_table(tables.for_people(df, self.language), self.data_dir, name)
        return df

    def save_part(self, name: str, part, people: bool = True) -> None:
        """:meth:`save_table` of a part's table (:class:`saleslab.parts.Part`) when it could be
        computed; nothing when it could not (the sections that show it say why)."""
        if part.ok:
            self.save_table(name, part.value, people)

    def headline(self, key: str, value, kind: str = "number", previous=None, target=None,
                 group: str | None = None) -> None:
        """Record a headline figure (kind: money | percent | number) for the report's pages.

        ``previous``: the same figure a year earlier (the summary shows the change and an arrow);
        ``target``: its target (the summary shows the gap); ``group``: the summary's card group
        (sales, customers, products, risk, ...) — a figure with a group is a candidate for the
        executive summary, one without stays on its stage's line of the pack.
        """
        path = self.data_dir / "headlines.json"
        items = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        item = {"key": key, "label": self.t(key), "value": _plain(value), "kind": kind}
        for name, v in (("previous", previous), ("target", target), ("group", group)):
            if v is not None:
                item[name] = _plain(v)
        # recorded again (e.g. with its target once that is known): it keeps its place
        at = next((n for n, i in enumerate(items) if i["key"] == key), None)
        if at is None:
            items.append(item)
        else:
            items[at] = item
        path.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")

    FINDING_KINDS = ("movement", "risk", "alert", "action")

    def finding(self, kind: str, text: str, value=None, rank: int | None = None, link: str | None = None) -> None:
        """Record a finding for the executive summary (``data/<stage>/findings.json``).

        ``kind``: movement (a big change and its cause), risk, alert or action; ``text``: one
        sentence in the run's language; ``value``: the amount it is about (sorts the summary);
        ``rank``: its order within the kind (1 first; a finding with the same kind and rank
        replaces the earlier one, so re-running a cell does not duplicate it); ``link``: a page or
        anchor of the pack (default: this stage's page).
        """
        if kind not in self.FINDING_KINDS:
            raise ParameterError(f"finding kind {kind!r}: use one of {', '.join(self.FINDING_KINDS)}")
        path = self.data_dir / "findings.json"
        items = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        if rank is not None:
            items = [i for i in items if not (i["kind"] == kind and i.get("rank") == rank)]
        items.append({"kind": kind, "text": str(text), "value": _plain(value), "rank": rank,
                      "link": link or f"{self.name}.html", "stage": self.name})
        path.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")

    def findings(self, kind: str, items, link: str | None = None) -> None:
        """Record several findings of one ``kind`` at once, ranked in their order: ``items`` is a
        list of ``{"text", "value"}`` (or one such dict) as the areas' story functions return them
        (e.g. :func:`saleslab.performance.story.movement_findings`); this stage's earlier findings
        of that kind are replaced."""
        items = [items] if isinstance(items, dict) else list(items)
        path = self.data_dir / "findings.json"
        kept = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        path.write_text(json.dumps([i for i in kept if i["kind"] != kind], ensure_ascii=False, indent=1),
                        encoding="utf-8")
        for rank, item in enumerate(items, 1):
            self.finding(kind, item["text"], item.get("value"), rank, item.get("link") or link)

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


def _plain(v):
    """A JSON-ready value: numpy scalars as Python numbers, NaN as None."""
    if v is None or isinstance(v, (str, bool)):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f:
        return None
    return int(v) if isinstance(v, int) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu") else f


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
    for key in ("run_dir", "warehouse", "language", "engine", "spark_remote", "palette", "duckdb_memory_limit",
                "duckdb_temp_directory", "period_start", "period_end", "as_of", "user", "access_policy",
                "encryption_key_file"):
        if key in ns and not isinstance(ns[key], str):
            raise ParameterError(f"{where}key {key!r}: Input should be a valid string (got {ns[key]!r})")
    language = ns.get("language", "zh-CN")
    if language not in i18n.LANGUAGES:
        raise ParameterError(f"{where}key 'language': Input should be {' or '.join(map(repr, i18n.LANGUAGES))} "
                             f"(got {language!r})")
    engine = ns.get("engine", "duckdb")
    if engine not in ("duckdb", "pyspark", "spark-connect"):
        raise ParameterError(f"{where}key 'engine': Input should be 'duckdb', 'pyspark' or 'spark-connect' "
                             f"(got {engine!r})")
    if engine == "spark-connect" and not ns.get("spark_remote"):
        raise ParameterError(f"{where}key 'spark_remote': engine spark-connect needs sc://HOST:PORT")
    params = from_namespace({k: v for k, v in ns.items() if k not in COMMON_PARAMETERS}, where)
    run_dir, warehouse = ns.get("run_dir", ""), ns.get("warehouse", "")
    run = Path(run_dir) if run_dir else PROJECT_ROOT / "reports" / "_scratch"
    wh = Path(warehouse) if warehouse else PROJECT_ROOT / "data" / "demo" / "warehouse"
    cfg = {"memory_limit": ns.get("duckdb_memory_limit") or "4GB",
           "temp_directory": ns.get("duckdb_temp_directory") or str(PROJECT_ROOT / ".tmp" / "duckdb")}
    colours = [c.strip() for c in (ns.get("palette") or "").split(",") if c.strip()] or list(DEFAULT_PALETTE)
    options: dict = {"spark_remote": ns["spark_remote"]} if ns.get("spark_remote") else {}
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
