"""The next stage's kernel, started while the stage before runs (saleslab.pipeline.KernelAhead).

Real ipykernel processes: the kernel handed over runs in the run's folder with the stage libraries
already imported, silently (no output, no execution count), writes its stderr into the stage's log,
runs the stage notebook through papermill like a fresh one, and is shut down after it; a kernel whose
warm-up fails is not handed over (papermill starts a fresh one); a discarded one is gone. Stage
kernels talk over Unix sockets in a private folder, and no client of a finished stage keeps running
(a leftover heartbeat client reconnecting to a freed TCP port broke a Spark collect in CI).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time

import nbformat
import psutil

from saleslab import pipeline


def _ask(km, code: str) -> str:
    async def go():
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            out = []
            reply = await kc.execute_interactive(code, timeout=60, output_hook=lambda m: out.append(m))
            assert reply["content"]["status"] == "ok", reply["content"]
            return "".join(m["content"].get("text", "") for m in out
                           if m["msg_type"] == "stream" and m["content"].get("name") == "stdout")
        finally:
            kc.stop_channels()

    return asyncio.run(go())


def _pid(km) -> int:
    return km.provisioner.process.pid


def _gone(pid: int, within: float = 20) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.2)
    return False


def test_the_kernel_handed_over_has_the_libraries_and_the_run_folder(tmp_path):
    pipeline._kernel_env()
    km = pipeline.KernelAhead("01_overview", tmp_path).take()
    assert km is not None
    pid = _pid(km)
    try:
        out = _ask(km, "import os, sys\nprint(os.getcwd(), 'saleslab.stage' in sys.modules, "
                       "'pandas' in sys.modules)")
        cwd, stage_loaded, pandas_loaded = out.split()
        assert os.path.samefile(cwd, tmp_path)
        assert stage_loaded == "True" and pandas_loaded == "True"
    finally:
        pipeline._shutdown(km)
    assert _gone(pid)
    assert (tmp_path / "logs" / "01_overview.log").exists()


def test_a_stage_runs_in_the_kernel_started_ahead_and_it_is_shut_down_after(tmp_path, monkeypatch):
    pipeline._kernel_env()
    (tmp_path / "nb").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import os, sys\nprint(os.getpid(), 'saleslab.stage' in sys.modules, x)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "nb" / "probe.ipynb")
    monkeypatch.setattr(pipeline, "NOTEBOOKS", tmp_path / "nb")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    km = pipeline.KernelAhead("probe", run_dir).take()
    pid = _pid(km)
    pipeline.execute_stage("probe", {"x": 7}, run_dir, km=km)
    out = nbformat.read(run_dir / "probe.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert printed.split() == [str(pid), "True", "7"]
    # the warm-up left no execution count behind: the notebook's cells are numbered from 1
    assert [c.execution_count for c in out.cells if c.cell_type == "code"] == [1, 2, 3]
    assert _gone(pid)


def _heartbeats() -> list:
    from jupyter_client.channels import HBChannel

    return [t for t in threading.enumerate() if isinstance(t, HBChannel) and t.is_alive()]


def _probe_notebook(folder):
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import json, os\n"
                                          "from ipykernel.connect import get_connection_info\n"
                                          "print(json.loads(get_connection_info())['transport'], x)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "probe.ipynb")


def test_stage_kernels_use_private_unix_sockets_and_leave_no_client_running(tmp_path, monkeypatch):
    pipeline._kernel_env()
    _probe_notebook(tmp_path / "nb")
    monkeypatch.setattr(pipeline, "NOTEBOOKS", tmp_path / "nb")
    before = len(_heartbeats())
    for n, ahead in enumerate((True, False)):  # a kernel started ahead, then one papermill starts
        run_dir = tmp_path / f"run{n}"
        run_dir.mkdir()
        km = pipeline.KernelAhead("probe", run_dir).take() if ahead else None
        folder = getattr(km, "saleslab_folder", None)
        pipeline.execute_stage("probe", {"x": n}, run_dir, km=km)
        out = nbformat.read(run_dir / "probe.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for c in out.cells if c.cell_type == "code"
                          for o in c.get("outputs", []))
        assert printed.split() == ["ipc", str(n)]
        assert len(_heartbeats()) == before, "a stage's kernel client is still running"
        if folder is not None:
            assert not folder.exists()


def test_a_kernel_whose_warm_up_fails_is_not_handed_over(tmp_path, monkeypatch):
    pipeline._kernel_env()
    monkeypatch.setattr(pipeline, "WARM_UP", "import module_that_does_not_exist_here\n")
    ahead = pipeline.KernelAhead("01_overview", tmp_path)
    ahead._thread.join()
    pid = _pid(ahead.km) if ahead.km is not None else None
    assert ahead.take() is None
    assert "module_that_does_not_exist_here" in str(ahead.error)
    if pid is not None:
        assert _gone(pid)


def test_a_discarded_kernel_is_shut_down(tmp_path):
    pipeline._kernel_env()
    ahead = pipeline.KernelAhead("01_overview", tmp_path)
    ahead._thread.join()
    assert ahead.km is not None, ahead.error
    pid = _pid(ahead.km)
    ahead.discard()
    assert _gone(pid)
