"""The papermill chain: ingest, then each stage notebook in order, then the report pack.

Each run writes ``reports/<run-id>/``::

    <stage>.ipynb          executed notebook
    logs/<stage>.log       the kernel's own messages
    <stage>.html           rendering without code cells
    data/<stage>/...       tables (Parquet + CSV) and headline figures the stage recorded
    figures/...            charts as PNG
    index.html             headline figures and links
    manifest.json          parameters, input files with sha256, versions, per-stage timings and row counts

points ``reports/latest`` at it (a full successful run only) and rewrites ``reports/history.html``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__, access
from .config import NOTEBOOKS, PROJECT_ROOT, RunParams, available_stages, dump_params
from .errors import IngestError, ParameterError, SalesLabError, StageFailed
from .ingest import store
from .ingest.load import ingest, read_accounting
from .report import pack, pdf

KERNEL = "python3"


@dataclass
class RunResult:
    run_dir: Path
    manifest: dict


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        commit = out.stdout.strip()
        if not commit:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def new_run_id(reports: Path, name: str, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now()
    base = f"{now:%Y%m%d-%H%M%S}-{name}"
    run_id, n = base, 1
    while (reports / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _kernel_env() -> None:
    # keep Jupyter/IPython state out of $HOME, in the project's scratch folder
    state = PROJECT_ROOT / ".tmp" / "jupyter"
    for var, sub in (("IPYTHONDIR", "ipython"), ("JUPYTER_RUNTIME_DIR", "runtime")):
        if var not in os.environ:
            (state / sub).mkdir(parents=True, exist_ok=True)
            os.environ[var] = str(state / sub)
    # one BLAS/OpenMP thread per kernel: with 2 cores, threaded BLAS oversubscribes them
    # (measured: statsmodels SARIMAX 14 s with the default, 0.55 s with one thread)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


@contextlib.contextmanager
def _stderr_to(log: Path):
    """Send this process's stderr (and so the kernel's, which inherits it) to ``log`` for a while."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log, "ab") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _stage_error(e) -> str:
    src = "\n".join("    " + ln for ln in (getattr(e, "source", "") or "").splitlines()[:8])
    tb = getattr(e, "traceback", None) or []
    last = ""
    if tb:
        last = re.sub(r"\x1b\[[0-9;]*m", "", tb[-1]).strip()
    head = f"cell {getattr(e, 'exec_count', '?')}: {getattr(e, 'ename', type(e).__name__)}: {getattr(e, 'evalue', e)}"
    return f"{head}\n  in:\n{src}" + (f"\n  {last}" if last and last not in head else "")


#: What a kernel started ahead runs before its stage (silently: no output, no execution count): the
#: libraries every stage notebook imports first. Nothing is read and no parameter is known yet.
WARM_UP = ("import matplotlib.pyplot, pandas, ibis\n"
           "from IPython.display import Markdown, display\n"
           "ibis.duckdb\n"
           "import saleslab.stage, saleslab.facts, saleslab.report.charts\n")


class KernelAhead:
    """The kernel of the next stage, started (and its libraries imported, :data:`WARM_UP`) in a
    background thread while the current stage runs: a stage's fixed cost (measured 6.7 s, of which
    kernel start ≈ 1.8 s and imports ≈ 2 s) is then paid beside the stage before it instead of after.

    The kernel starts in ``run_dir`` with the current environment and its stderr in the stage's log,
    like the one papermill would start. :meth:`take` hands it over (``None`` when it could not be
    started or warmed up: the stage then gets a fresh kernel from papermill, as without it);
    :meth:`discard` shuts it down (a failed or interrupted run)."""

    def __init__(self, stage: str, run_dir: Path):
        import threading

        self.stage, self.run_dir = stage, run_dir
        self.km = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name=f"kernel-ahead-{stage}", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        import asyncio

        async def start():
            km = stage_kernel_manager()
            self.km = km
            log = self.run_dir / "logs" / f"{self.stage}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "ab") as fh:
                # papermill's own kernels get the same history argument (nbclient's ipython_hist_file)
                await km.start_kernel(cwd=str(self.run_dir), stderr=fh, extra_arguments=[HISTORY_IN_MEMORY])
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=120)
                msg_id = kc.execute(WARM_UP, silent=True, store_history=False)
                while True:
                    reply = await kc.get_shell_msg(timeout=300)
                    if reply["parent_header"].get("msg_id") == msg_id:
                        break
                if reply["content"].get("status") != "ok":
                    raise RuntimeError(f"warm-up failed: {reply['content'].get('evalue', '')}")
            finally:
                kc.stop_channels()

        try:
            asyncio.run(start())
        except BaseException as e:  # noqa: BLE001 — the stage then starts its own kernel
            self.error = e

    def take(self):
        """The started kernel's manager, or ``None`` (then papermill starts one)."""
        import asyncio

        self._thread.join()
        km, self.km = self.km, None
        if km is not None and (self.error is not None or not asyncio.run(km.is_alive())):
            _shutdown(km)
            km = None
        return km

    def discard(self) -> None:
        self._thread.join()
        km, self.km = self.km, None
        if km is not None:
            _shutdown(km)


#: The IPython history of a stage's kernel stays in memory (as nbclient does for the kernels it starts).
HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"

_STAGE_KM_CLASS = None


def stage_kernel_manager():
    """A kernel manager for one stage: the kernel talks to this process over Unix sockets in a
    private folder (``saleslab-kernel-*`` under the temporary folder, mode 0700), not over TCP, and
    every client made for it is remembered so that :func:`_shutdown` stops them too.

    Why: papermill, given a kernel manager, leaves the kernel client it made running after the
    notebook (nbclient stops it only for a manager it created). A client's heartbeat thread then
    reconnects, every second and for good, to the port the stopped kernel had; over TCP, once any
    other server of the machine is given that port, it receives the client's ZeroMQ greeting
    (measured in CI: Spark's result server, whose collect then failed with "connection reset").
    Sockets in a private folder cannot be taken by anything else, and the clients are stopped."""
    global _STAGE_KM_CLASS
    import tempfile

    if _STAGE_KM_CLASS is None:
        from jupyter_client.manager import AsyncKernelManager

        class StageKernelManager(AsyncKernelManager):
            def client(self, **kwargs):
                kc = super().client(**kwargs)
                self.saleslab_clients.append(kc)
                return kc

        _STAGE_KM_CLASS = StageKernelManager
    # short: a Unix socket's path has at most 107 bytes (the run folder's path may be longer)
    folder = Path(tempfile.mkdtemp(prefix="saleslab-kernel-"))
    km = _STAGE_KM_CLASS(kernel_name=KERNEL, transport="ipc", connection_file=str(folder / "kernel.json"),
                         ip=str(folder / "ipc"))
    km.saleslab_clients = []
    km.saleslab_folder = folder
    return km


def _shutdown(km) -> None:
    """Stop a stage's kernel (:func:`stage_kernel_manager`) and every client made for it, and remove
    its folder (shutdown_kernel removes the connection file and the sockets)."""
    import asyncio
    import shutil

    for kc in km.saleslab_clients:
        with contextlib.suppress(Exception):
            kc.stop_channels()
    try:
        asyncio.run(km.shutdown_kernel(now=True))
    except Exception:  # noqa: BLE001 — already gone, or never started
        pass
    shutil.rmtree(km.saleslab_folder, ignore_errors=True)


def execute_stage(stage: str, params: dict, run_dir: Path, km=None) -> None:
    """Execute one stage notebook into ``run_dir``; raise :class:`StageFailed` on a failing cell.
    ``km``: a kernel started ahead for it (:class:`KernelAhead`); without it papermill starts one
    (:func:`stage_kernel_manager`). Either is shut down here when the stage ends."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    _kernel_env()
    src = NOTEBOOKS / f"{stage}.ipynb"
    out = run_dir / f"{stage}.ipynb"
    if km is None:
        km = stage_kernel_manager()  # papermill starts its kernel
    try:
        with _stderr_to(run_dir / "logs" / f"{stage}.log"):
            pm.execute_notebook(str(src), str(out), parameters=params, kernel_name=KERNEL, cwd=str(run_dir),
                                progress_bar=False, log_output=False, report_mode=False, km=km)
    except PapermillExecutionError as e:
        raise StageFailed(stage, _stage_error(e), out) from None
    finally:
        _shutdown(km)
    keep_language(out, params.get("language", "zh-CN"))


LANGUAGE_TAGS = {"lang-zh-CN": "zh-CN", "lang-en": "en"}


def keep_language(notebook: Path, language: str) -> None:
    """Drop the cells written for the other language (markdown cells tagged ``lang-zh-CN`` /
    ``lang-en``; untagged cells are kept), so a pack has one language. The stage notebooks keep
    both languages for analysts who open them in JupyterLab."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    keep = [c for c in nb.cells
            if all(LANGUAGE_TAGS.get(t, language) == language for t in c.get("metadata", {}).get("tags", []))]
    if len(keep) != len(nb.cells):
        nb.cells = keep
        nbformat.write(nb, notebook)


#: The only HTML the stories write into their Markdown (footnotes); anything else is shown as text.
_ALLOWED_TAG = re.compile(r"</?small>|<br\s*/?>")


def markdown_without_html(text) -> str:
    """A story's Markdown with every ``<`` that does not start an allowed tag (``<small>``, ``<br>``)
    escaped: the stories put names from the data into sentences, and a customer named
    ``<img src=x onerror=...>`` must stay text on the page.

    >>> markdown_without_html("**A<b>** <small>def</small> <img src=x>")
    '**A&lt;b>** <small>def</small> &lt;img src=x>'
    """
    text = "".join(text) if isinstance(text, list) else str(text)
    out, pos = [], 0
    for m in re.finditer(r"<", text):
        out.append(text[pos:m.start()])
        out.append("<" if _ALLOWED_TAG.match(text, m.start()) else "&lt;")
        pos = m.start() + 1
    out.append(text[pos:])
    return "".join(out)


def render_html(notebook: Path, params: RunParams | None = None) -> Path:
    """HTML rendering of an executed notebook without code cells (and without stderr output), in
    the pack's frame (:func:`saleslab.report.pack.stage_page`: stylesheet for phone, tablet and
    print, top bar back to the summary); nothing on the page is fetched from outside the pack."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:  # warnings and engine logs stay in the .ipynb, not in the report
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
            for o in cell.outputs:
                if "text/markdown" in o.get("data", {}):
                    o["data"]["text/markdown"] = markdown_without_html(o["data"]["text/markdown"])
    # the "basic" template: the cells only (the full templates load require.js and MathJax from a CDN)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    lang = params.language if params is not None else \
        nb.metadata.get("papermill", {}).get("parameters", {}).get("language", "zh-CN")
    out = notebook.with_suffix(".html")
    out.write_text(pack.stage_page(body, lang, notebook.stem, params, run_dir=notebook.parent), encoding="utf-8")
    return out


def _table_rows(run_dir: Path, stage: str, keyring=None) -> dict[str, int]:
    from .crypto import num_rows

    d = run_dir / "data" / stage
    return {p.stem: num_rows(p, keyring) for p in sorted(d.glob("*.parquet"))} if d.is_dir() else {}


RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


def check_run_id(run_id: str) -> str:
    """A run id names a folder inside the reports folder: letters, digits, ``-`` and ``_`` (at most
    100), not ``latest``."""
    if not RUN_ID.match(run_id or "") or run_id == "latest":
        raise ParameterError(f"run id {run_id[:120]!r} is not allowed: use letters, digits, - and _ "
                             f"(at most 100, starting with a letter or digit), and not 'latest'")
    return run_id


def run(params: RunParams, progress: Callable[[str], None] = print, run_id: str | None = None) -> RunResult:
    """Run ingest (when ``params.ingest``) and the stage notebooks; write the report pack.

    One run per reports folder at a time (``<reports>/.lock``; another waits
    ``safeguards.lock_wait_seconds``, then refuses naming the holder). The stages read the
    warehouse version that was current when they started, even if an ingest publishes another one
    meanwhile. ``reports/latest`` moves to the new run only when a full run of the scheduled pack
    succeeded (the run file's stages: a ``--stages`` override makes a partial run, which does not). ``reports/history.html`` is rewritten after every run.
    """
    from .locks import reports_lock

    reports = params.reports_path
    reports.mkdir(parents=True, exist_ok=True)
    if run_id is not None:
        check_run_id(run_id)
    name, gov, service = params.name, None, True
    if params.user and not params.policy_path:
        raise ParameterError(f"--user {params.user}: the run file sets no access_policy, so there is no scope to "
                             f"apply (a pack for one user without a policy would show everything)")
    if params.policy_path:
        # refuse a user the policy does not know before anything runs (recorded as denied)
        gov = access.governed(params.policy_path, params.user)
        params = params.model_copy(update={"user": gov[0].user})
        service = gov[0].user == access.load_policy(params.policy_path).service_user
        if not service:
            name = f"{params.name}-{re.sub(r'[^A-Za-z0-9_.-]', '_', gov[0].user)}"
    with reports_lock(reports, wait=params.safeguards.lock_wait_seconds, progress=progress):
        run_id = run_id or new_run_id(reports, name)
        run_dir = reports / run_id
        if run_dir.exists() or run_dir.is_symlink():
            raise ParameterError(f"run id {run_id!r}: {run_dir} already exists; choose another --run-id")
        run_dir.mkdir(parents=True)
        return _run(params, progress, run_id, run_dir, reports, gov, service)


def _run(params: RunParams, progress, run_id: str, run_dir: Path, reports: Path, gov, service: bool) -> RunResult:
    """The run itself; ``gov``: (identity, audit trail) of a governed run, else None; ``service``:
    whether it is the scheduled pack (which ``reports/latest`` points at)."""
    stages = params.stage_list
    started = dt.datetime.now().astimezone()
    manifest: dict = {
        "run_id": run_id, "status": "running", "started": started.isoformat(timespec="seconds"),
        "saleslab_version": __version__, "git_commit": _git_commit(),
        "python": platform.python_version(), "engine": params.engine,
        "parameters": dump_params(params), "stages": [], "inputs": [],
        # a full run (the run file's stages, no --stages override) of the scheduled pack (the service
        # user's) is the one reports/latest points at
        "user": params.user, "service": service, "full": not params.partial,
        "stages_total": len(available_stages()),
    }
    where = "ingest" if params.ingest else "warehouse"  # what the run is doing (named when it fails)
    trail = None
    keyring = params.keyring()
    if gov is not None:
        ident, trail = gov
        manifest["access"] = ident.describe()  # the pack shows this scope only; results are keyed by it
        trail.record(ident.user, "run", run_id=run_id, stages=stages)
    t_run = time.perf_counter()
    total = len(stages) + (1 if params.ingest else 0)
    step = 0
    try:
        if params.ingest:
            step += 1
            progress(f"[{step}/{total}] ingest {params.input_path} -> {params.warehouse_path}")
            if trail is not None:
                trail.record(params.user, "change", table="warehouse", change={"ingest": str(params.input_path)},
                             outcome="started")
            t0 = time.perf_counter()
            rep = ingest(params.input_path, params.sources_path, params.warehouse_path,
                         progress=lambda m: progress("      " + m.strip()), cleaning=params.cleaning,
                         safeguards=params.safeguards, duckdb_config=params.duckdb_config(), keyring=keyring,
                         engine=params.engine, spark=params.spark_config())
            tot = rep.totals()
            if trail is not None:
                trail.record(params.user, "change", table="warehouse", change={"ingest": tot})
            manifest["stages"].append({"stage": "ingest", "status": "ok", "seconds": round(time.perf_counter() - t0, 2),
                                       "rows": tot})
            progress(f"      ingest done in {time.perf_counter() - t0:.1f}s: {tot['rows_read']:,} rows read, "
                     f"{tot['rows_loaded']:,} loaded, {tot['rows_merged']:,} merged, "
                     f"{tot['rows_quarantined']:,} quarantined ({tot['files_reused']} files unchanged)")
            if rep.rejected:
                raise IngestError("rejected file(s):\n" + "\n".join(f"  {a.message}" for a in rep.rejected))
        # the stages read this version, whatever an ingest publishes while they run
        version = store.current(params.warehouse_path)
        if version is None:
            raise IngestError(f"warehouse {params.warehouse_path} does not exist (run `saleslab ingest` first)")
        manifest["warehouse_version"] = version.name
        acc = read_accounting(version)
        manifest["inputs"] = [{"file": f["file"], "source": f["source"], "sha256": f["sha256"], "bytes": f["bytes"],
                               "rows_read": f["rows_read"]} for f in acc["files"]]
        newest = _newest_export(acc)
        if newest is not None:  # process indicator: how old the data were when the run started
            manifest["newest_export"] = newest.isoformat(timespec="seconds")
            manifest["export_age_hours"] = round((started - newest).total_seconds() / 3600, 2)
        ahead = KernelAhead(stages[0], run_dir) if stages else None
        try:
            for i, stage in enumerate(stages):
                where = stage
                step += 1
                progress(f"[{step}/{total}] {stage} ...")
                t0 = time.perf_counter()
                entry = {"stage": stage, "status": "running"}
                manifest["stages"].append(entry)
                km = ahead.take()
                # the next stage's kernel starts while this one runs
                ahead = KernelAhead(stages[i + 1], run_dir) if i + 1 < len(stages) else None
                try:
                    execute_stage(stage, params.notebook_parameters(run_dir, stage) | {"warehouse": str(version)},
                                  run_dir, km=km)
                except StageFailed:
                    entry.update(status="failed", seconds=round(time.perf_counter() - t0, 2))
                    raise
                render_html(run_dir / f"{stage}.ipynb", params)
                entry.update(status="ok", seconds=round(time.perf_counter() - t0, 2), tables=_table_rows(run_dir, stage, keyring))
                progress(f"      {stage} done in {entry['seconds']:.1f}s")
        finally:  # a failed or interrupted run leaves no kernel started ahead
            if ahead is not None:
                ahead.discard()
        # the stakeholder pages' aggregates (saleslab serve reads these, never the order lines)
        where = "serve"
        progress("[serve] the pages' aggregates ...")
        t0 = time.perf_counter()
        from .serve import cube

        manifest["serve"] = {"status": "failed"}  # until built
        built = cube.build_for_run(params, run_dir, version, gov, progress)
        manifest["serve"] = {"status": "skipped" if "skipped" in built else "ok",
                             "seconds": round(time.perf_counter() - t0, 2),
                             **({"reason": built["skipped"]} if "skipped" in built else
                                {"tables": {n: c["rows"] for n, c in built["cubes"].items()}})}
        progress(f"      serve {'skipped: ' + built['skipped'] if 'skipped' in built else 'done'} in "
                 f"{manifest['serve']['seconds']:.1f}s")
        # the pack's pages and PDF are part of the run: a failing PDF (pdf: true without Chromium) fails it
        where = "report"
        manifest["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        pack.write_index(run_dir, manifest | {"status": "ok"}, params)  # the executive summary, stage list, glossary
        pdf.for_run(run_dir, manifest | {"status": "ok"}, params, progress)  # reports/<id>/pack.pdf (run file: pdf)
        manifest["status"] = "ok"
    except BaseException as e:
        manifest["status"] = "failed"
        manifest["failed_stage"] = e.stage if isinstance(e, StageFailed) else where
        manifest["error"] = one_line_error(e)
        e.run_dir = run_dir  # for the failure notice (saleslab.notify)
        raise
    finally:
        if manifest["status"] != "ok" or "finished" not in manifest:
            manifest["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        manifest["seconds"] = round(time.perf_counter() - t_run, 2)
        (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        if manifest["status"] != "ok":
            _write_history(reports, params.language, progress)  # a failed run is listed too
    if service and manifest["full"]:
        _point_latest(reports, run_dir)  # another user's pack is theirs: latest stays the scheduled one
    elif service:
        progress(f"      partial run (--stages {','.join(stages)}): reports/latest is not moved (only a full "
                 f"successful run, the run file's stages, moves it)")
    _write_history(reports, params.language, progress)  # after the front page: the history links to it
    return RunResult(run_dir, manifest)


def one_line_error(e: BaseException) -> str:
    """The error in one line: a failing stage's cell and exception, else the message's first line."""
    text = e.error if isinstance(e, StageFailed) else (str(e) or type(e).__name__)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(e).__name__)
    return first if isinstance(e, (StageFailed, SalesLabError)) else f"{type(e).__name__}: {first}"


def _newest_export(acc: dict) -> dt.datetime | None:
    """The newest input file's modification time (local time zone), from the ingest's accounting."""
    base = Path(acc.get("input_dir") or ".")
    times = []
    for f in acc.get("files", []):
        with contextlib.suppress(OSError):
            times.append((base / f["file"]).stat().st_mtime)
    return dt.datetime.fromtimestamp(max(times)).astimezone() if times else None


def _write_history(reports: Path, language: str, progress) -> None:
    from .report.history import write_history

    try:
        write_history(reports, language)
    except Exception as e:  # noqa: BLE001 — the history page must not hide the run's own outcome
        progress(f"      history page not written: {e}")


def _point_latest(reports: Path, run_dir: Path) -> None:
    latest = reports / "latest"
    tmp = reports / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)
