"""Warehouse versions: every ingest builds a new version and publishes it in one atomic step.

::

    <warehouse>                     a symbolic link to the current version, switched by rename(2)
    <warehouse>.versions/
        20261201-101500-123456/     a complete version (``_ingest/COMPLETE`` written last)
        20261201-111500-654321.building/   a build in progress; its builder holds the warehouse lock

Readers open ``<warehouse>`` and always see one whole version: the old one until the switch,
the new one after it. A crash at any point leaves the current version untouched; the next ingest
(holding the lock, so no builder is alive) removes the leftovers. The newest ``keep_versions``
complete versions are kept, so ``saleslab warehouse rollback`` can go back. A warehouse written
by an older SalesLab (a plain folder) becomes the first version on the next publish.

This module writes the warehouse; it only reads Parquet metadata (row counts) for the guards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import SalesLabError
from ..files import fsync_dir

COMPLETE = "COMPLETE"


class Safeguards(BaseModel):
    """What an ingest must pass before it is published (``safeguards:`` in a run parameter file)."""

    model_config = ConfigDict(extra="forbid")

    keep_versions: int = Field(3, ge=1, le=100, description="complete warehouse versions kept for rollback")
    max_shrink: float = Field(0.2, ge=0, le=1, description="refuse to publish a table that loses more than this "
                              "share of its rows (a table going to 0 rows always counts)")
    allow_shrink: bool = Field(False, description="publish even when a table shrinks (a deliberate clean-up)")
    max_quarantine_share: float = Field(0.5, ge=0, le=1, description="refuse to publish when a source has more "
                                        "than this share of its rows quarantined")
    lock_wait_seconds: float = Field(600, ge=0, description="how long an ingest waits for another one to finish")


def versions_dir(warehouse: Path) -> Path:
    w = Path(warehouse)
    return w.with_name(w.name + ".versions")


def _is_complete(folder: Path) -> bool:
    return (folder / "_ingest" / COMPLETE).is_file()


def _versions(warehouse: Path) -> list[Path]:
    d = versions_dir(warehouse)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.is_dir() and not p.name.endswith(".building") and _is_complete(p))


def current(warehouse: Path) -> Path | None:
    """The folder of the current version (or the plain folder of an older warehouse); None when none."""
    w = Path(warehouse)
    if w.is_symlink():
        target = w.resolve()
        return target if target.is_dir() else None
    return w if w.is_dir() else None


def _switch(warehouse: Path, target: Path) -> None:
    """Point ``warehouse`` at ``target`` atomically (a new link renamed over the old one)."""
    w = Path(warehouse)
    tmp = w.with_name(f".{w.name}.link-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(target, w.parent))
    os.replace(tmp, w)
    fsync_dir(w.parent)


def _new_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")


def recover(warehouse: Path, say=None) -> None:
    """Repair what a crash can leave (call with the warehouse lock held): a pointer that is missing
    or dangling points again at the newest complete version; builds of dead ingests and the
    ``.old`` / ``.building`` folders of older SalesLab versions are removed."""
    w = Path(warehouse)
    if (w.is_symlink() and not w.resolve().is_dir()) or (not w.exists() and not w.is_symlink()):
        done = _versions(w)
        if done:
            _switch(w, done[-1])
            if say:
                say(f"  recovered: {w} points again at version {done[-1].name}")
        elif w.is_symlink():
            w.unlink()
    d = versions_dir(w)
    leftovers = [p for p in d.iterdir() if p.name.endswith(".building") or
                 (p.is_dir() and not _is_complete(p))] if d.is_dir() else []
    leftovers += [p for p in (w.with_name(w.name + ".building"), w.with_name(w.name + ".old")) if p.exists()]
    for p in leftovers:
        shutil.rmtree(p, ignore_errors=True)
        if say:
            say(f"  removed the leftovers of an interrupted ingest: {p}")


def new_build(warehouse: Path) -> Path:
    """A fresh, empty build folder for the next version."""
    d = versions_dir(warehouse)
    d.mkdir(parents=True, exist_ok=True)
    build = d / f"{_new_id()}.building"
    build.mkdir()
    return build


def publish(warehouse: Path, build: Path, keep_versions: int = 3) -> Path:
    """Make ``build`` the current version: mark it complete, rename it into place, switch the
    pointer; then drop the oldest versions beyond ``keep_versions``. Returns the version folder."""
    w = Path(warehouse)
    (build / "_ingest").mkdir(exist_ok=True)
    (build / "_ingest" / COMPLETE).write_text(dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                                              encoding="utf-8")
    final = build.with_name(build.name.removesuffix(".building"))
    os.replace(build, final)
    if w.exists() and not w.is_symlink():
        # a warehouse of an older SalesLab: it becomes a version of its own, then the pointer replaces it
        legacy = versions_dir(w) / f"{_new_id()}-legacy"
        (w / "_ingest").mkdir(exist_ok=True)
        (w / "_ingest" / COMPLETE).write_text("legacy", encoding="utf-8")
        os.replace(w, legacy)
    w.parent.mkdir(parents=True, exist_ok=True)
    _switch(w, final)
    prune(w, keep_versions)
    return final


def prune(warehouse: Path, keep_versions: int) -> list[Path]:
    """Remove the oldest complete versions beyond ``keep_versions`` (never the current one)."""
    cur = current(warehouse)
    done = _versions(warehouse)
    drop = [p for p in done[:-max(1, keep_versions)] if cur is None or p.resolve() != cur.resolve()]
    for p in drop:
        shutil.rmtree(p, ignore_errors=True)
    return drop


def table_rows(folder: Path | None, tables, keyring=None) -> dict[str, int]:
    """Rows per table of a warehouse folder, from the Parquet footers (nothing is read; encrypted
    footers are decrypted with ``keyring``)."""
    from ..crypto import num_rows

    out = {}
    for name in tables:
        d = Path(folder) / name if folder else None
        out[name] = sum(num_rows(p, keyring) for p in d.glob("*.parquet")) \
            if d is not None and d.is_dir() else 0
    return out


def list_versions(warehouse: Path) -> list[dict]:
    """The complete versions, oldest first: id, created, current, rows_read, files, order_lines."""
    cur = current(warehouse)
    out = []
    for p in _versions(warehouse):
        acc = {}
        try:
            acc = json.loads((p / "_ingest" / "accounting.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        files = acc.get("files", [])
        out.append({"version": p.name, "created": (p / "_ingest" / COMPLETE).read_text(encoding="utf-8").strip(),
                    "current": cur is not None and p.resolve() == cur.resolve(), "files": len(files),
                    "rows_read": sum(int(f.get("rows_read", 0)) for f in files),
                    "order_lines": int(acc.get("cleaning", {}).get("order_lines", 0) or 0)})
    return out


def rollback(warehouse: Path, to: str | None = None) -> str:
    """Point the warehouse at version ``to`` (default: the one before the current); returns its id."""
    versions = _versions(warehouse)
    names = [p.name for p in versions]
    cur = current(warehouse)
    if to is None:
        idx = next((i for i, p in enumerate(versions) if cur is not None and p.resolve() == cur.resolve()), None)
        if idx is None or idx == 0:
            raise SalesLabError(f"warehouse {warehouse} has no earlier version to roll back to "
                                f"(versions: {', '.join(names) or 'none'})")
        to = names[idx - 1]
    if to not in names:
        raise SalesLabError(f"warehouse {warehouse} has no version {to!r}; versions: {', '.join(names) or 'none'}")
    _switch(Path(warehouse), versions[names.index(to)])
    return to
