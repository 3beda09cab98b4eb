"""The single read path: the warehouse opened as an Ibis backend (DuckDB by default, or PySpark).

Every analysis reads tables through :meth:`Engine.table`, so access control and auditing can
later be enforced here, in one place. DuckDB runs in-process with an explicit memory limit,
thread count and spill directory (without one it spills into ``./.tmp`` of whatever the
working directory is).
"""

from __future__ import annotations

import hashlib

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import pandas as pd

from . import schema
from .errors import MissingSource, SalesLabError

#: Tables beside the canonical ones that ingestion writes.
EXTRA_TABLES = {"_quarantine": "_quarantine/*.parquet", "_accounting": "_ingest/accounting.parquet",
                "_merged": "_merged/*.parquet", "_outliers": "_outliers/*.parquet", "_fills": "_fills/*.parquet",
                "customer_map": "customer_map/*.parquet", "customer_review": "customer_review/*.parquet"}

DEFAULT_DUCKDB = {"memory_limit": "4GB", "threads": 2, "temp_directory": ".tmp/duckdb",
                  "max_temp_directory_size": "50GB"}


def java_available() -> bool:
    """Whether a Java runtime is on PATH (PySpark needs one)."""
    return shutil.which("java") is not None


@dataclass
class Engine:
    """An open warehouse. Use :func:`connect`; close with :meth:`close` or a ``with`` block."""

    warehouse: Path
    backend: str
    con: object
    #: the run folder (``reports/<run-id>``) whose earlier stages' results this engine reads, if any
    run_dir: Path | None = None
    _tables: dict = field(default_factory=dict)
    _rows: dict = field(default_factory=dict)

    def _view_name(self, name: str) -> str:
        # unique per warehouse: two engines on one Spark session must not replace each other's views
        tag = hashlib.sha1(str(self.warehouse.resolve()).encode()).hexdigest()[:8]
        return f"wh_{tag}_{name.strip('_')}"

    def table(self, name: str) -> ibis.Table:
        """The warehouse table ``name`` (a canonical table or ``_quarantine`` / ``_accounting``)."""
        if name not in self._tables:
            if name in schema.TABLES:
                pattern = f"{name}/*.parquet"
            elif name in EXTRA_TABLES:
                pattern = EXTRA_TABLES[name]
            else:
                raise SalesLabError(f"unknown warehouse table {name!r}; known: {', '.join(sorted(schema.TABLES))}")
            if not any(self.warehouse.glob(pattern)):
                raise SalesLabError(
                    f"warehouse {self.warehouse} has no table {name} (run `saleslab ingest` first)")
            self._tables[name] = self._read(name, pattern)
        return self._tables[name]

    def _read(self, name: str, pattern: str) -> ibis.Table:
        """The files of one warehouse table (``pattern`` under the warehouse) as an Ibis table."""
        path = self.warehouse / pattern
        if self.backend == "pyspark":
            # Spark reads a folder (or file); the 0-schema part carries the schema
            target = str(path.parent) if "*" in path.name else str(path)
            return self.con.read_parquet(target, table_name=self._view_name(name))
        return self.con.read_parquet(str(path), table_name=self._view_name(name))

    def rows(self, name: str) -> int:
        """Rows of warehouse table ``name`` (0 when no source provided it)."""
        if name not in self._rows:
            self._rows[name] = int(self.execute(self.table(name).count()))
        return self._rows[name]

    def require(self, *names: str, needed_for: str = "this analysis") -> None:
        """Raise :class:`MissingSource` naming the tables among ``names`` that no source provided
        (a warehouse built from a few exports lacks some: the analyses that need them say so and
        the rest of the stage goes on)."""
        empty = tuple(n for n in names if self.rows(n) == 0)
        if empty:
            raise MissingSource(f"{needed_for} needs {', '.join(empty)}: no source in this warehouse provides "
                                f"{'it' if len(empty) == 1 else 'them'}", tables=empty, needed_for=needed_for)

    # ---- earlier stages' results and run history: the run folder is a source too -------------
    def stage_result(self, stage: str, name: str) -> pd.DataFrame | None:
        """Table ``name`` that stage ``stage`` saved in this run (``<run_dir>/data/<stage>/<name>.parquet``),
        or None when there is no run folder or the stage did not save it."""
        return self._result(self.run_dir, stage, name)

    def find_result(self, name: str) -> tuple[str, pd.DataFrame] | None:
        """(stage, table) of the first stage of this run that saved a table ``name``, or None."""
        if self.run_dir is None:
            return None
        for d in sorted((self.run_dir / "data").glob("*/")):
            df = self._result(self.run_dir, d.name, name)
            if df is not None:
                return d.name, df
        return None

    def previous_result(self, stage: str, name: str) -> pd.DataFrame | None:
        """Table ``name`` of ``stage`` from the previous run (``<reports>/latest`` beside this run's
        folder, when it is another run), or None (first run, interactive run, table not produced)."""
        if self.run_dir is None:
            return None
        latest = self.run_dir.parent / "latest"
        if not latest.exists() or latest.resolve() == self.run_dir.resolve():
            return None
        return self._result(latest.resolve(), stage, name)

    def accounting(self) -> dict:
        """The last ingest's accounting (files, rows read / loaded / merged / quarantined, cleaning)."""
        from .ingest.load import read_accounting

        return read_accounting(self.warehouse)

    def ingest_history(self) -> pd.DataFrame:
        """One row per ingest of this warehouse (``saleslab ingest`` keeps the history)."""
        from .ingest.load import read_history

        return read_history(self.warehouse)

    @staticmethod
    def _result(run_dir: Path | None, stage: str, name: str) -> pd.DataFrame | None:
        if run_dir is None:
            return None
        path = Path(run_dir) / "data" / stage / f"{name}.parquet"
        return pd.read_parquet(path) if path.is_file() else None

    def execute(self, expr) -> pd.DataFrame:
        """Run an Ibis expression and return a pandas frame (only for aggregated results)."""
        return self.con.execute(expr)

    def close(self) -> None:
        if self.backend == "duckdb":
            self.con.disconnect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(warehouse: str | Path, backend: str = "duckdb", duckdb_config: dict | None = None,
            spark_master: str = "local[2]", spark_driver_memory: str = "2g", run_dir: str | Path | None = None) -> Engine:
    """Open the warehouse folder as an Ibis backend.

    Parameters
    ----------
    warehouse : folder written by ``saleslab ingest``.
    backend : ``duckdb`` (default, in-process) or ``pyspark`` (needs Java and the ``spark`` extra).
    duckdb_config : ``memory_limit``, ``threads``, ``temp_directory``, ``max_temp_directory_size``.
    run_dir : the run folder whose earlier stages' results :meth:`Engine.stage_result` reads.
    """
    run = Path(run_dir).resolve() if run_dir else None
    warehouse = Path(warehouse).resolve()
    if not warehouse.is_dir():
        raise SalesLabError(f"warehouse folder {warehouse} does not exist (run `saleslab ingest` first)")
    if backend == "duckdb":
        cfg = {**DEFAULT_DUCKDB, **(duckdb_config or {})}
        Path(cfg["temp_directory"]).mkdir(parents=True, exist_ok=True)
        con = ibis.duckdb.connect(
            database=":memory:",
            memory_limit=cfg["memory_limit"],
            threads=int(cfg["threads"]),
            temp_directory=str(cfg["temp_directory"]),
            max_temp_directory_size=cfg["max_temp_directory_size"],
        )
        return Engine(warehouse, "duckdb", con, run)
    if backend == "pyspark":
        return Engine(warehouse, "pyspark", _spark_backend(spark_master, spark_driver_memory), run)
    raise SalesLabError(f"unknown engine {backend!r}; allowed: duckdb, pyspark")


def scratch_backend(temp_directory: str | Path, memory_limit: str = "2GB", threads: int = 2):
    """An in-process Ibis backend for building the warehouse (the cleaning layer works through it,
    so that no module but this one names a database driver). Spills into ``temp_directory``."""
    Path(temp_directory).mkdir(parents=True, exist_ok=True)
    return ibis.duckdb.connect(memory_limit=memory_limit, threads=int(threads), temp_directory=str(temp_directory))


def _spark_backend(master: str, driver_memory: str):
    if not java_available():
        raise SalesLabError("the pyspark engine needs a Java runtime (install default-jre-headless)")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SalesLabError("the pyspark engine needs the spark extra: pip install -e '.[spark]'") from None
    session = (
        SparkSession.builder.master(master)
        .appName("saleslab")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)
