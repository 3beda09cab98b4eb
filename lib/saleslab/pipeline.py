"""The papermill chain: ingest, then each stage notebook in order, then the report pack.

Each run writes ``reports/<run-id>/``::

    <stage>.ipynb          executed notebook
    logs/<stage>.log       the kernel's own messages
    <stage>.html           rendering without code cells
    data/<stage>/...       tables (Parquet + CSV) and headline figures the stage recorded
    figures/...            charts as PNG
    index.html             headline figures and links
    manifest.json          parameters, input files with sha256, versions, per-stage timings and row counts

and points ``reports/latest`` at it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
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
from .config import NOTEBOOKS, PROJECT_ROOT, RunParams, dump_params
from .errors import IngestError, ParameterError, StageFailed
from .ingest import store
from .ingest.load import ingest, read_accounting
from .report import i18n

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


def execute_stage(stage: str, params: dict, run_dir: Path) -> None:
    """Execute one stage notebook into ``run_dir``; raise :class:`StageFailed` on a failing cell."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    _kernel_env()
    src = NOTEBOOKS / f"{stage}.ipynb"
    out = run_dir / f"{stage}.ipynb"
    try:
        with _stderr_to(run_dir / "logs" / f"{stage}.log"):
            pm.execute_notebook(str(src), str(out), parameters=params, kernel_name=KERNEL, cwd=str(run_dir),
                                progress_bar=False, log_output=False, report_mode=False)
    except PapermillExecutionError as e:
        raise StageFailed(stage, _stage_error(e), out) from None
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


def render_html(notebook: Path) -> Path:
    """HTML rendering of an executed notebook without code cells (and without stderr output)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:  # warnings and engine logs stay in the .ipynb, not in the report
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    out = notebook.with_suffix(".html")
    out.write_text(body, encoding="utf-8")
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
    meanwhile. ``reports/latest`` moves to the new run only when the run succeeded.
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
    }
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
                         safeguards=params.safeguards, duckdb_config=params.duckdb_config(), keyring=keyring)
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
        for stage in stages:
            step += 1
            progress(f"[{step}/{total}] {stage} ...")
            t0 = time.perf_counter()
            entry = {"stage": stage, "status": "running"}
            manifest["stages"].append(entry)
            try:
                execute_stage(stage, params.notebook_parameters(run_dir, stage) | {"warehouse": str(version)}, run_dir)
            except StageFailed:
                entry.update(status="failed", seconds=round(time.perf_counter() - t0, 2))
                raise
            render_html(run_dir / f"{stage}.ipynb")
            entry.update(status="ok", seconds=round(time.perf_counter() - t0, 2), tables=_table_rows(run_dir, stage, keyring))
            progress(f"      {stage} done in {entry['seconds']:.1f}s")
        manifest["status"] = "ok"
    except BaseException:
        manifest["status"] = "failed"
        raise
    finally:
        manifest["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        manifest["seconds"] = round(time.perf_counter() - t_run, 2)
        (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    write_index(run_dir, manifest, params)
    if service:
        _point_latest(reports, run_dir)  # another user's pack is theirs: latest stays the scheduled one
    return RunResult(run_dir, manifest)


def _point_latest(reports: Path, run_dir: Path) -> None:
    latest = reports / "latest"
    tmp = reports / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)


def _fmt(value, kind: str, lang: str) -> str:
    if value is None:
        return "–"
    if kind == "money":
        return f"{value / 1e4:,.1f} {i18n.t('wan_yuan', lang)}"
    if kind == "percent":
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else html.escape(str(value))


def write_index(run_dir: Path, manifest: dict, params: RunParams) -> Path:
    """The report pack's front page: headline figures first, then links to every stage."""
    lang = params.language
    tr = lambda k: html.escape(i18n.t(k, lang))  # noqa: E731
    cards, links = [], []
    for entry in manifest["stages"]:
        stage = entry["stage"]
        if stage == "ingest":
            continue
        hl = run_dir / "data" / stage / "headlines.json"
        for item in json.loads(hl.read_text(encoding="utf-8")) if hl.exists() else []:
            cards.append(f'<div class="card"><div class="v">{_fmt(item["value"], item["kind"], lang)}</div>'
                         f'<div class="k">{html.escape(item["label"])}</div></div>')
        tables = " ".join(f'{html.escape(t)} (<a href="data/{stage}/{html.escape(t)}.csv">csv</a>'
                          f' · <a href="data/{stage}/{html.escape(t)}.xlsx">xlsx</a>)'
                          for t in entry.get("tables", {}))
        links.append(f'<tr><td><a href="{stage}.html">{tr(stage)}</a></td><td>{stage}</td>'
                     f'<td><a href="{stage}.ipynb">ipynb</a></td><td>{entry.get("seconds", "")}s</td>'
                     f'<td>{tables}</td></tr>')
    period = f"{params.period.start} – {params.period.end}"
    page = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{tr('report_title')} {html.escape(manifest['run_id'])}</title>
<style>
body{{font-family:"Microsoft YaHei","PingFang SC","WenQuanYi Micro Hei","Noto Sans CJK SC",sans-serif;margin:2rem;color:#222}}
.cards{{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}}
.card{{border:1px solid #ddd;border-radius:8px;padding:1rem 1.4rem;min-width:10rem}}
.card .v{{font-size:1.6rem;font-weight:600;color:{params.palette[0]}}}
.card .k{{color:#666}} table{{border-collapse:collapse}} td,th{{padding:.3rem .8rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}}
td:nth-child(-n+4){{white-space:nowrap}}
</style></head><body>
<h1>{tr('report_title')}</h1>
<p>{tr('period')}: {period} · {tr('generated')}: {html.escape(manifest.get('finished', ''))} · run {html.escape(manifest['run_id'])}</p>
<h2>{tr('headlines')}</h2><div class="cards">{''.join(cards)}</div>
<h2>{tr('stages')}</h2><table>{''.join(links)}</table>
<p><a href="manifest.json">manifest.json</a></p>
</body></html>"""
    out = run_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    return out
