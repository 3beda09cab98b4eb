"""The single read path: the warehouse opened as an Ibis backend (DuckDB by default, PySpark in local
mode, or a remote Spark cluster through Spark Connect: ``spark-connect`` with ``sc://HOST:PORT``).

Every analysis reads tables through :meth:`Engine.table`, so access control and auditing are
enforced here, in one place: an engine opened for a user (``identity``, see :mod:`saleslab.access`)
filters every table to the user's rows, masks personal data the user may not see, drops hidden
columns, and records every table read and every query in the audit trail. DuckDB runs in-process with an explicit memory limit,
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

from . import access, schema
from .errors import MissingSource, OutOfMemory, SalesLabError

#: Tables beside the canonical ones that ingestion writes.
EXTRA_TABLES = {"_quarantine": "_quarantine/*.parquet", "_accounting": "_ingest/accounting.parquet",
                "_merged": "_merged/*.parquet", "_outliers": "_outliers/*.parquet", "_fills": "_fills/*.parquet",
                "customer_map": "customer_map/*.parquet", "customer_review": "customer_review/*.parquet"}

#: The engines :func:`connect` opens.
ENGINES = ("duckdb", "pyspark", "spark-connect")
SPARK_ENGINES = ("pyspark", "spark-connect")
#: Every Spark driver / Connect server the project starts in local mode listens here only.
LOOPBACK = "127.0.0.1"

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
    #: the user this engine reads for (None: ungoverned, every row: tests and a local analyst
    #: without an access policy)
    identity: access.Identity | None = None
    #: the audit trail every read and query of a governed engine is recorded in
    trail: object | None = None
    #: the :class:`saleslab.crypto.KeyRing` decrypting the warehouse and stage tables (None: plaintext)
    keyring: object | None = None
    _tables: dict = field(default_factory=dict)
    _scoped: dict = field(default_factory=dict)
    _rows: dict = field(default_factory=dict)

    def _view_name(self, name: str) -> str:
        # unique per warehouse: two engines on one Spark session must not replace each other's views
        tag = hashlib.sha1(str(self.warehouse.resolve()).encode()).hexdigest()[:8]
        return f"wh_{tag}_{name.strip('_')}"

    def table(self, name: str) -> ibis.Table:
        """The warehouse table ``name`` (a canonical table or ``_quarantine`` / ``_accounting``),
        limited to the engine's user's rows and columns when it was opened for a user."""
        if self.identity is None:
            return self._raw(name)
        if name not in self._scoped:
            scope = access.Scope(self.identity, self._raw, self.has)
            t = access.mask(scope.table(name), name, self.identity)
            self.audit("read", table=name)
            self._scoped[name] = t
        return self._scoped[name]

    def has(self, name: str) -> bool:
        """Whether the warehouse holds files of table ``name`` (empty ones included)."""
        pattern = f"{name}/*.parquet" if name in schema.TABLES else EXTRA_TABLES.get(name)
        return pattern is not None and any(self.warehouse.glob(pattern))

    def audit(self, action: str, **what) -> None:
        """Record ``action`` by the engine's user (a no-op for an ungoverned engine). A failed
        audit write fails the action (:class:`saleslab.audit.AuditError`)."""
        if self.trail is not None and self.identity is not None:
            self.trail.record(self.identity.user, action, filter=self.identity.describe(), **what)

    def _raw(self, name: str) -> ibis.Table:
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
        """The files of one warehouse table (``pattern`` under the warehouse) as an Ibis table.

        Encrypted files (Parquet modular encryption, :mod:`saleslab.crypto`) on DuckDB are
        decrypted through a ``pyarrow.dataset`` registered in the connection (DuckDB cannot read
        KMS-wrapped files; filters and projections are pushed into the dataset scan); on Spark see
        :func:`_spark_crypto`.
        """
        path = self.warehouse / pattern
        return read_parquet_files(self.con, path, self._view_name(name), self.keyring)

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
        if self._scope_of(latest.resolve()) != (self.identity.fingerprint if self.identity else None):
            return None  # results are keyed by the scope they were computed for
        return self._result(latest.resolve(), stage, name)

    @staticmethod
    def _scope_of(run_dir: Path) -> str | None:
        """The scope fingerprint a run was computed for (None: ungoverned)."""
        import json

        try:
            manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return (manifest.get("access") or {}).get("fingerprint")

    # ---- the stakeholder pages: aggregates the run precomputed, served per user ------------------
    def serving_table(self, name: str, in_memory: bool | None = None) -> ibis.Table:
        """The precomputed aggregate ``name`` of this run (``<run_dir>/data/serve/<name>.parquet``,
        written by :mod:`saleslab.serve.cube`; encrypted like stage tables), limited to the engine's
        user's rows.

        Served only from a run computed for scope ``all`` (manifest ``access.scope``, or an
        ungoverned run): the rows are keyed by an order's rep_id, customer_id and region, and the
        user's rows are those :meth:`saleslab.access.Scope.order_predicate` selects — the very
        predicate that limits ``orders`` — so a rep's aggregate is exactly the sum over their
        orders. A role hiding ``products.unit_cost`` gets no ``cost`` column. Recorded as a read of
        ``serve/<name>``; a run made for another scope is refused (:class:`access.AccessDenied`).

        ``in_memory``: on DuckDB, hold the user's rows in memory once (None: when the scope is
        narrower than all or the file is encrypted, so that neither the scope's sub-queries nor the
        decryption run in every query); False for a cube only ever read with a selective filter
        (the filter is then pushed into the scan of the sorted file)."""
        key = f"serve/{name}"
        if key in self._scoped:
            return self._scoped[key]
        path = self._serving_path(name)
        t = read_parquet_files(self.con, path, self._view_name(f"serve_{name}"), self.keyring)
        scoped = self.identity is not None and self.identity.scope != "all"
        if self.identity is not None:
            t = access.Scope(self.identity, self._raw, self.has).order_rows(t)
            if "unit_cost" in self.identity.hidden("products") and "cost" in t.columns:
                t = t.drop("cost")
        if in_memory is None:
            in_memory = scoped or (self.keyring is not None and _encrypted(path))
        if self.backend == "duckdb" and in_memory:
            # the user's rows once, in memory: neither the scope's sub-queries over customers and the
            # customer map nor the decryption run again in every query of the page (a plaintext cube
            # read for scope all stays on DuckDB's own Parquet scans)
            t = self.con.create_table(self._view_name(f"serve_{name}_rows"), t, temp=True)
        if self.identity is not None:
            self.audit("read", table=key)
        self._scoped[key] = t
        return t

    def serving_result(self, name: str) -> tuple[str, pd.DataFrame] | None:
        """(stage, table) of a per-customer table an earlier stage saved in this run (as
        :meth:`find_result`), limited to the engine's user's customers (``customer_id`` among
        :meth:`saleslab.access.Scope.customer_ids`: the customers they own and those of their
        orders) — never the company-wide frame for a narrower scope. Served from a run computed
        for scope ``all`` only, and only to a user with the right to personal data when that run
        had it (an ungoverned run counts as having it). None when no stage saved ``name``."""
        self._serving_run()
        if self.run_dir is None:
            return None
        for d in sorted((self.run_dir / "data").glob("*/")):
            path = d / f"{name}.parquet"
            if d.name != "serve" and path.is_file():
                from . import crypto

                df = crypto.read_table(path, self.keyring).to_pandas()
                if self.identity is not None:
                    ids = access.Scope(self.identity, self._raw, self.has).customer_ids()
                    if ids is not None:
                        if "customer_id" not in df.columns:
                            raise access.AccessDenied(f"result {name} has no customer_id: it cannot be limited "
                                                      f"to the customers of user {self.identity.user!r}")
                        keep = set(self.execute(ids.name("cid").as_table().distinct())["cid"])
                        df = df[df["customer_id"].isin(keep)].reset_index(drop=True)
                    self.audit("read", table=f"{d.name}/{name}", rows=len(df))
                return d.name, df
        return None

    def _serving_path(self, name: str) -> Path:
        if not name.replace("_", "").isalnum():
            raise SalesLabError(f"serving table name {name!r}: letters, digits and _ only")
        self._serving_run(pii_matters=False)
        path = self.run_dir / "data" / "serve" / f"{name}.parquet"
        if not path.is_file():
            raise MissingSource(f"run {self.run_dir.name} has no precomputed table serve/{name} (a run made "
                                f"before `saleslab serve` existed: run the pack again)", tables=(f"serve/{name}",),
                                needed_for="the stakeholder pages")
        return path

    def _serving_run(self, pii_matters: bool = True) -> None:
        """Refuse (and record) serving a run's results to this engine's user unless the run was
        computed for scope all (and, when ``pii_matters``, without personal data or for a user
        allowed to see it)."""
        import json

        if self.run_dir is None:
            raise SalesLabError("the stakeholder pages need a run folder (reports/latest): none was given")
        try:
            manifest = json.loads((self.run_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SalesLabError(f"run {self.run_dir.name} has not finished (no manifest.json): nothing to serve "
                                f"yet") from None
        scope = manifest.get("access")
        why = None
        if scope is not None and scope.get("scope") != "all":
            why = f"run {self.run_dir.name} was computed for scope {scope.get('scope')} of user {scope.get('user')}"
        elif pii_matters and self.identity is not None and not self.identity.pii and (scope is None or scope.get("pii")):
            why = f"run {self.run_dir.name} was computed with personal data in clear"
        if why is None:
            return
        if self.trail is not None and self.identity is not None:
            self.trail.record(self.identity.user, "deny", table="serve", outcome="denied", reason=why)
        raise access.AccessDenied(f"{why}: its results are not served to other users")

    def accounting(self) -> dict:
        """The last ingest's accounting (files, rows read / loaded / merged / quarantined, cleaning)."""
        from .ingest.load import read_accounting

        return read_accounting(self.warehouse)

    def ingest_history(self) -> pd.DataFrame:
        """One row per ingest of this warehouse (``saleslab ingest`` keeps the history)."""
        from .ingest.load import read_history

        return read_history(self.warehouse)

    def _result(self, run_dir: Path | None, stage: str, name: str) -> pd.DataFrame | None:
        if run_dir is None:
            return None
        finished = (Path(run_dir) / "manifest.json").is_file()
        if finished and self._scope_of(Path(run_dir)) != (self.identity.fingerprint if self.identity else None):
            return None  # a finished run computed for another scope: its results are not this user's
        path = Path(run_dir) / "data" / stage / f"{name}.parquet"
        if not path.is_file():
            return None
        from . import crypto

        return crypto.read_table(path, self.keyring).to_pandas()  # encrypted or plaintext

    def execute(self, expr) -> pd.DataFrame:
        """Run an Ibis expression and return a pandas frame (only for aggregated results).
        DuckDB running out of memory under its ``memory_limit`` (or of spill room) raises
        :class:`~saleslab.errors.OutOfMemory` naming the limit and the parameters to raise."""
        try:
            out = self.con.execute(expr)
        except Exception as e:  # noqa: BLE001 — only DuckDB's out-of-memory error is translated
            if self.backend != "duckdb" or type(e).__name__ != "OutOfMemoryException":
                raise
            raise OutOfMemory(_duckdb_oom_message(self.con, e)) from None
        if self.trail is not None and self.identity is not None:
            rows = len(out) if hasattr(out, "__len__") and not isinstance(out, str) else 1
            self.audit("query", tables=_tables_of(expr), rows=rows)
        return out

    def close(self) -> None:
        if self.backend == "duckdb":
            self.con.disconnect()  # a Spark session is shared by the process (and a Connect one by the cluster)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _encrypted(path: Path) -> bool:
    from . import crypto

    return crypto.is_encrypted(path)


def _duckdb_oom_message(con, e) -> str:
    """One line for DuckDB's OutOfMemoryException: the limit in force and what to raise."""
    settings = {}
    for name in ("memory_limit", "max_temp_directory_size", "temp_directory"):
        try:
            settings[name] = con.raw_sql(f"SELECT current_setting('{name}')").fetchall()[0][0]
        except Exception:  # noqa: BLE001 — the message must come out even if the connection is gone
            settings[name] = "?"
    first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
    return (f"DuckDB ran out of memory under memory_limit {settings['memory_limit']} (spill folder "
            f"{settings['temp_directory']}, at most {settings['max_temp_directory_size']}): {first} — raise "
            f"duckdb.memory_limit in the run file (notebook parameter duckdb_memory_limit), or "
            f"duckdb.max_temp_directory_size / free disk for spilling")


def _tables_of(expr) -> list[str]:
    """The warehouse tables a query reads, for the audit trail (never the data)."""
    import ibis.expr.operations as ops

    try:
        names = {t.name for t in expr.op().find(ops.PhysicalTable)}
    except Exception:  # noqa: BLE001 — a query whose tables cannot be listed is still recorded
        return []
    return sorted(n.split("_", 2)[2] if n.startswith("wh_") and n.count("_") >= 2 else n for n in names)


def connect(warehouse: str | Path, backend: str = "duckdb", duckdb_config: dict | None = None,
            spark_master: str = "local[2]", spark_driver_memory: str = "2g", run_dir: str | Path | None = None,
            identity: access.Identity | None = None, trail=None, keyring=None,
            spark_remote: str | None = None) -> Engine:
    """Open the warehouse folder as an Ibis backend.

    Parameters
    ----------
    warehouse : folder written by ``saleslab ingest``.
    backend : ``duckdb`` (default, in-process), ``pyspark`` (Spark in local mode in this process: needs
        Java and the ``spark`` extra; driver on loopback) or ``spark-connect`` (a Spark Connect server
        at ``spark_remote``, ``sc://HOST:PORT``: the warehouse folder must be readable under the
        same path here and on the cluster, e.g. a shared mount; see ``docs/spark.md``).
    duckdb_config : ``memory_limit``, ``threads``, ``temp_directory``, ``max_temp_directory_size``.
    run_dir : the run folder whose earlier stages' results :meth:`Engine.stage_result` reads.
    identity, trail : the user the engine reads for and the audit trail (see :func:`governed`);
        without them the engine is ungoverned (every row, nothing recorded).
    keyring : the :class:`saleslab.crypto.KeyRing` (or a key file path) decrypting an encrypted
        warehouse and stage tables; None: plaintext (an encrypted file then fails with one line).
    """
    if keyring is not None and not hasattr(keyring, "write_key"):
        from . import crypto

        keyring = crypto.resolve(keyring)
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
        return Engine(warehouse, "duckdb", con, run, identity=identity, trail=trail, keyring=keyring)
    if backend in SPARK_ENGINES:
        con = spark_backend(backend, spark_master, spark_driver_memory, spark_remote, keyring)
        return Engine(warehouse, backend, con, run, identity=identity, trail=trail, keyring=keyring)
    raise SalesLabError(f"unknown engine {backend!r}; allowed: {', '.join(ENGINES)}")


def spark_backend(engine: str = "pyspark", master: str = "local[2]", driver_memory: str = "2g",
                  remote: str | None = None, keyring=None):
    """The Ibis PySpark backend of engine ``pyspark`` (a local session in this process) or
    ``spark-connect`` (a session on the Spark Connect server ``remote``)."""
    if engine == "spark-connect":
        if not remote:
            raise SalesLabError("the spark-connect engine needs spark_remote: sc://HOST:PORT (run file "
                                "key spark_remote, or --spark-remote)")
        return _spark_connect_backend(remote)
    if engine != "pyspark":
        raise SalesLabError(f"unknown Spark engine {engine!r}; allowed: {', '.join(SPARK_ENGINES)}")
    if keyring is not None:
        _spark_classpath()
    return _spark_backend(master, driver_memory, encrypt_io=keyring is not None)


def scratch_backend(temp_directory: str | Path, memory_limit: str = "2GB", threads: int = 2,
                    engine: str = "duckdb", spark_master: str = "local[2]", spark_driver_memory: str = "2g",
                    spark_remote: str | None = None, keyring=None):
    """The Ibis backend the cleaning layer builds the warehouse with (so that no module but this one
    names a database driver): in-process DuckDB spilling into ``temp_directory``, or Spark
    (``pyspark`` / ``spark-connect``, see :func:`spark_backend`). Close it with :func:`close_scratch`."""
    if engine in SPARK_ENGINES:
        return spark_backend(engine, spark_master, spark_driver_memory, spark_remote, keyring)
    if engine != "duckdb":
        raise SalesLabError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    Path(temp_directory).mkdir(parents=True, exist_ok=True)
    return ibis.duckdb.connect(memory_limit=memory_limit, threads=int(threads), temp_directory=str(temp_directory))


def is_spark(con) -> bool:
    """Whether an Ibis backend of this module is Spark (local or Connect)."""
    return getattr(con, "name", "") == "pyspark"


def scratch_table(con, name: str, obj) -> ibis.Table:
    """Materialise ``obj`` (a pandas frame or an expression of ``con``) as table ``name`` of a scratch
    backend: a DuckDB table, or a cached Spark temporary view (no managed table, no warehouse folder)."""
    if isinstance(obj, pd.DataFrame):
        obj = ibis.memtable(obj)
    if is_spark(con):
        return scratch_cache(con, con.create_view(name, obj, overwrite=True))
    return con.create_table(name, obj)


def scratch_cache(con, table: ibis.Table) -> ibis.Table:
    """Spark: cache a named table of ``con`` (a scratch step reads its inputs many times; without
    it every query re-reads the files). DuckDB: the table as it is (its scans are cheap)."""
    if is_spark(con):
        con.raw_sql(f"CACHE TABLE `{table.get_name()}`")
    return table


def write_parquet(con, expr, path: str | Path, keyring=None) -> None:
    """Write an expression of ``con`` to ONE Parquet file ``path`` (the warehouse's tables are single
    files). DuckDB: its own writer when plaintext, else its Arrow batches into an encrypting writer.
    Spark (which writes folders of part files): the ordered result through Arrow into one file,
    encrypted with ``keyring`` when given."""
    from . import crypto

    if is_spark(con):
        crypto.write_table(_plain_arrow(con.to_pyarrow(expr)), path, keyring)
        return
    if keyring is None:
        con.to_parquet(expr, path)
        return
    with con.to_pyarrow_batches(expr) as reader:
        crypto.write_batches(reader, path, keyring)


def _plain_arrow(table):
    """Arrow types as DuckDB writes them (large strings -> strings), so both engines write one schema."""
    import pyarrow as pa

    fields = [pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type) for f in table.schema]
    return table.cast(pa.schema(fields))


def close_scratch(con) -> None:
    """Close a scratch backend: DuckDB's connection; a Spark session stays (it is the process's or the
    cluster's), its cached scratch tables are dropped."""
    if is_spark(con):
        con._session.catalog.clearCache()
    else:
        con.disconnect()


def read_parquet_files(con, pattern: str | Path, table_name: str, keyring=None) -> ibis.Table:
    """Parquet files (one path or a glob) as a table of the Ibis backend ``con`` (DuckDB or Spark).

    Plaintext files: DuckDB's own reader. Encrypted ones: a ``pyarrow.dataset`` with
    ``ParquetDecryptionConfig`` (the keys of ``keyring``) registered in the connection as
    ``table_name``; without a key an encrypted file fails with one line. Used by the engine and by
    the cleaning layer (only this module names the database).
    """
    from . import crypto

    pattern = Path(pattern)
    if is_spark(con):
        if keyring is not None:
            _spark_crypto(con, keyring, pattern)
        # Spark reads a folder (or file); the 0-schema part carries the schema
        target = str(pattern.parent) if "*" in pattern.name else str(pattern)
        return con.read_parquet(target, table_name=table_name)
    files = sorted(pattern.parent.glob(pattern.name)) if any(c in pattern.name for c in "*?[") else [pattern]
    if not any(crypto.is_encrypted(f) for f in files if f.is_file()):
        return con.read_parquet(str(pattern), table_name=table_name)
    con.con.register(table_name, crypto.dataset(files, keyring))
    return con.table(table_name)


def _spark_crypto(con, keyring, path: Path) -> None:
    """Let Spark decrypt the warehouse's files: parquet-mr's ``PropertiesDrivenCryptoFactory`` with
    SalesLab's Java KMS client (:data:`saleslab.crypto.SPARK_KMS_CLASS`, the same local key wrap as
    pyarrow's files carry) and the key ring's keys in the session's Hadoop configuration. The class
    must be on the driver's class path: :func:`connect` puts it there when it starts the JVM."""
    from . import crypto

    files = sorted(path.parent.glob(path.name)) if "*" in path.name else [path]
    if not any(crypto.is_encrypted(f) for f in files if f.is_file()):
        return
    session = con._session
    if not hasattr(session, "_jvm"):  # Spark Connect: no JVM here; session properties reach the Hadoop conf
        for k, v in crypto.spark_hadoop_conf(keyring).items():
            session.conf.set(k, v)
        return
    try:
        session._jvm.java.lang.Class.forName(crypto.SPARK_KMS_CLASS)
    except Exception:  # noqa: BLE001 — py4j's error for a missing class
        raise SalesLabError("the pyspark engine cannot read this encrypted warehouse: its Spark session was started "
                            "without SalesLab's KMS client on the class path (open the engine with the key before "
                            "any other Spark session starts in this process)") from None
    conf = session.sparkContext._jsc.hadoopConfiguration()
    for k, v in crypto.spark_hadoop_conf(keyring).items():
        conf.set(k, v)


def _spark_classpath() -> None:
    """Put SalesLab's Java KMS client on the class path of the JVM pyspark is about to start (through
    ``PYSPARK_SUBMIT_ARGS``; a JVM already running is left alone, :func:`_spark_crypto` then says so)."""
    import os

    from . import crypto

    try:
        import pyspark
        from pyspark import SparkContext
    except ImportError:
        return
    if SparkContext._active_spark_context is not None:
        return
    classes = crypto.spark_kms_classes(Path(pyspark.__file__).parent / "jars")
    args = os.environ.get("PYSPARK_SUBMIT_ARGS", "pyspark-shell")
    if str(classes) not in args:
        os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-class-path {classes} {args}"


def _spark_backend(master: str, driver_memory: str, encrypt_io: bool = False):
    """``encrypt_io``: an encrypted warehouse — Spark's shuffle, spill and cached blocks on local disk
    are encrypted too (``spark.io.encryption.enabled``), or decrypted rows would land in its temp folder."""
    import os

    if not java_available():
        raise SalesLabError("the pyspark engine needs a Java runtime (install default-jre-headless)")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SalesLabError("the pyspark engine needs the spark extra: pip install -e '.[spark]'") from None
    builder = SparkSession.builder.master(master)
    if master.startswith("local"):
        # a local session listens on loopback only (by default Spark binds its driver to the host's
        # network address); a cluster master (spark://, yarn, k8s://) needs a reachable driver: set
        # spark.driver.host yourself, or use the spark-connect engine (docs/spark.md)
        os.environ["SPARK_LOCAL_IP"] = LOOPBACK  # read by the JVM pyspark starts
        builder = builder.config("spark.driver.host", LOOPBACK).config("spark.driver.bindAddress", LOOPBACK)
    session = (
        builder
        .appName("saleslab")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.io.encryption.enabled", "true" if encrypt_io else "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


def _spark_connect_backend(remote: str):
    """Ibis on a Spark Connect session (``sc://HOST:PORT``; pyspark's ``connect`` extra: grpcio,
    grpcio-status, googleapis-common-protos, zstandard)."""
    if not str(remote).startswith("sc://"):
        raise SalesLabError(f"spark_remote must look like sc://HOST:PORT (got {remote!r})")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SalesLabError("the spark-connect engine needs the spark extra: pip install -e '.[spark]'") from None
    try:
        # the Connect builder itself: pyspark's generic one refuses a remote session in a process that
        # runs a local one too (a test process, a kernel that used both engines)
        from pyspark.sql.connect.session import SparkSession

        session = SparkSession.builder.remote(remote).getOrCreate()
        session.conf.set("spark.sql.session.timeZone", "UTC")
        session.conf.set("spark.sql.ansi.enabled", "false")
        session.conf.set("spark.sql.shuffle.partitions", "4")
    except ImportError as e:
        raise SalesLabError(f"the spark-connect engine needs pyspark's connect extra ({e}): "
                            f"pip install 'pyspark[connect]'") from None
    except Exception as e:  # noqa: BLE001 — grpc's error for an unreachable server
        raise SalesLabError(f"no Spark Connect session on {remote}: {str(e).strip().splitlines()[0]}") from None
    return ibis.pyspark.connect(session)
