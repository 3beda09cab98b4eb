"""One writer at a time: an advisory lock per warehouse and per reports folder.

The lock is ``flock`` on a ``.lock`` file beside the folder it guards: the operating system
releases it when its holder dies (however it dies), so a stale lock of a dead process is taken
over at once, safely. The file records who holds it (pid, host, command, start time) for the
message another process prints while it waits or when it gives up.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from .errors import LockBusy


class Lock:
    """``with Lock(path, "warehouse data/demo/warehouse", wait=600): ...``

    ``wait``: seconds to wait for the holder to finish (0: refuse at once). ``progress`` gets one
    line when the lock is busy.
    """

    def __init__(self, path: Path, what: str, wait: float = 0, progress=None):
        self.path, self.what, self.wait, self.progress = Path(path), what, float(wait), progress
        self._fh = None

    def holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return "another process"
        return (f"pid {info.get('pid', '?')} on {info.get('host', '?')} since {info.get('started', '?')} "
                f"({info.get('command', '?')[:120]})")

    def acquire(self) -> "Lock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        deadline = time.monotonic() + self.wait
        told = False
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self.holder()
                    fh.close()
                    raise LockBusy(f"{self.what} is in use by {holder}; try again when it has finished"
                                   + (f" (waited {self.wait:.0f} s)" if self.wait else "")) from None
                if not told and self.progress:
                    self.progress(f"waiting for {self.what}: in use by {self.holder()}")
                    told = True
                time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                             "command": " ".join(sys.argv)}))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            try:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            finally:
                self._fh.close()
                self._fh = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def warehouse_lock(warehouse: Path, wait: float = 0, progress=None) -> Lock:
    """The lock of a warehouse (``<warehouse>.lock`` beside it)."""
    w = Path(warehouse)
    return Lock(w.with_name(w.name + ".lock"), f"warehouse {w}", wait, progress)


def reports_lock(reports: Path, wait: float = 0, progress=None) -> Lock:
    """The lock of a reports folder (``<reports>/.lock``): one run writes ``latest`` at a time."""
    return Lock(Path(reports) / ".lock", f"reports folder {reports}", wait, progress)
