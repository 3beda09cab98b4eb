"""The actions database: actions persist between runs in one SQLite file (standard library
``sqlite3``), by default ``actions.sqlite`` in the reports folder, so every run of that folder
shares it.

Schema (``schema_version`` holds the version; :data:`MIGRATIONS` bring an older file up to date,
in order, each in one transaction):

- ``actions``: one row per (rule, target) — ``action_id`` (stable: a hash of rule id and target,
  :func:`saleslab.actions.strategy.action_id`), rule_id, kind, target_type, target, owner_type,
  owner, owner_name, created (the cycle's creation date), first_seen, last_seen, due_date,
  expected_change, outcome_metric, window_days, evidence and scores (JSON), status (``open``,
  ``done``, ``dismissed``), status_date, status_by, note, run_id, cycle;
- ``action_history``: the earlier cycles of an action reopened after its review window (same columns);
- ``action_events``: every change (created, seen_again, reopened, done, dismissed) with its date and user;
- ``populations``: per rule and creation date, every row of the trigger table with its scores and
  whether it was acted on — the pool the review draws its comparison group from.

Rules of the loop: a finding for an open action updates it (evidence, scores, owner, last_seen) —
no duplicate; a ``done`` or ``dismissed`` action is not reopened by the same finding until its
review window (``window_days`` after its creation) has passed; after it, the old cycle goes to
``action_history`` and the action opens again (cycle + 1). A status change is atomic (``BEGIN
IMMEDIATE`` … one commit) and, when an ``audit`` callable is given (a governed run or CLI: the
audit trail), recorded there inside the transaction: an audit write that fails leaves the status
unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Callable

import pandas as pd

from ..errors import InvalidArgument, SalesLabError
from ..periods import as_date

STATUSES = ("open", "done", "dismissed")
_COLUMNS = ("action_id", "rule_id", "kind", "target_type", "target", "owner_type", "owner", "owner_name", "created",
            "first_seen", "last_seen", "due_date", "expected_change", "outcome_metric", "window_days", "evidence",
            "scores", "status", "status_date", "status_by", "note", "run_id", "cycle")

_V1 = """
CREATE TABLE actions (
  action_id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, kind TEXT NOT NULL, target_type TEXT NOT NULL,
  target TEXT NOT NULL, owner_type TEXT, owner TEXT, owner_name TEXT, created TEXT NOT NULL,
  first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, due_date TEXT NOT NULL, expected_change REAL,
  outcome_metric TEXT, window_days INTEGER, evidence TEXT, scores TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'done', 'dismissed')), status_date TEXT, status_by TEXT,
  run_id TEXT);
CREATE TABLE action_events (
  event_id INTEGER PRIMARY KEY AUTOINCREMENT, action_id TEXT NOT NULL, at TEXT NOT NULL, user TEXT,
  event TEXT NOT NULL, from_status TEXT, to_status TEXT, detail TEXT);
CREATE INDEX action_events_action ON action_events (action_id);
"""
_V2 = """
ALTER TABLE actions ADD COLUMN note TEXT;
ALTER TABLE actions ADD COLUMN cycle INTEGER NOT NULL DEFAULT 1;
CREATE TABLE action_history AS SELECT * FROM actions WHERE 0;
CREATE TABLE populations (
  rule_id TEXT NOT NULL, created TEXT NOT NULL, target TEXT NOT NULL, scores TEXT, acted INTEGER NOT NULL,
  PRIMARY KEY (rule_id, created, target));
"""
#: (version, SQL script) in order; a file at version v gets every script after v
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2))
SCHEMA_VERSION = MIGRATIONS[-1][0]


class ActionStore:
    """The actions database at ``path`` (created and migrated on open). Use as a context manager
    or call :meth:`close`."""

    def __init__(self, path: str | Path, audit: Callable[..., None] | None = None, user: str = "saleslab"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.audit, self.user = audit, user
        try:
            self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as e:
            raise SalesLabError(f"actions database {self.path}: cannot be opened ({e})") from None
        self.con.row_factory = sqlite3.Row
        self.con.execute("PRAGMA foreign_keys = ON")
        self.migrate()

    # ---- schema -----------------------------------------------------------------------------
    def version(self) -> int:
        has = self.con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
        if not has:
            return 0
        row = self.con.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def migrate(self, to: int | None = None) -> int:
        """Apply the migrations after the file's version (each atomically); return the new version.
        A file written by a newer SalesLab (a version above :data:`SCHEMA_VERSION`) is refused."""
        target = SCHEMA_VERSION if to is None else to
        current = self.version()
        if current > SCHEMA_VERSION:
            raise SalesLabError(f"actions database {self.path} has schema version {current}; this SalesLab knows "
                                f"up to {SCHEMA_VERSION} (upgrade SalesLab)")
        for version, script in MIGRATIONS:
            if current < version <= target:
                with self._tx():
                    for stmt in (s.strip() for s in script.split(";")):
                        if stmt:
                            self.con.execute(stmt)
                    self.con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                    self.con.execute("DELETE FROM schema_version")
                    self.con.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                current = version
        return current

    @contextlib.contextmanager
    def _tx(self):
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- reading ----------------------------------------------------------------------------
    def actions(self, history: bool = False) -> pd.DataFrame:
        """Every action (its current cycle); with ``history`` also the earlier cycles."""
        cur = pd.read_sql_query("SELECT * FROM actions ORDER BY action_id", self.con)
        if history:
            old = pd.read_sql_query("SELECT * FROM action_history", self.con)
            cur = pd.concat([cur, old], ignore_index=True) if len(old) else cur
        return cur.reindex(columns=list(_COLUMNS))

    def events(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM action_events ORDER BY event_id", self.con)

    def population(self, rule_id: str, created) -> pd.DataFrame:
        return pd.read_sql_query("SELECT target, scores, acted FROM populations WHERE rule_id = ? AND created = ?",
                                 self.con, params=(rule_id, as_date(created).isoformat()))

    # ---- writing ----------------------------------------------------------------------------
    def _event(self, action_id, at, event, before=None, after=None, detail=None, user=None):
        self.con.execute("INSERT INTO action_events (action_id, at, user, event, from_status, to_status, detail) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", (action_id, at, user or self.user, event, before, after, detail))

    def record_findings(self, findings: pd.DataFrame, as_of, run_id: str = "", populations: dict | None = None) -> dict:
        """Create or update the actions of this run's ``findings`` (columns: action_id, rule_id,
        kind, target_type, target, owner_type, owner, owner_name, due_date, expected_change,
        outcome_metric, window_days, evidence, scores) and store the rules' comparison
        ``populations`` ({rule_id: frame of target, scores, triggered}) under ``as_of``.
        Returns counts {"created", "updated", "reopened", "kept_closed"}; one transaction, recorded
        in the audit trail (when the store has one) inside it."""
        day = as_date(as_of).isoformat()
        counts = {"created": 0, "updated": 0, "reopened": 0, "kept_closed": 0}
        with self._tx():
            for f in findings.itertuples(index=False):
                row = self.con.execute("SELECT * FROM actions WHERE action_id = ?", (f.action_id,)).fetchone()
                values = dict(owner_type=f.owner_type, owner=f.owner, owner_name=f.owner_name, evidence=f.evidence,
                              scores=f.scores, expected_change=f.expected_change, outcome_metric=f.outcome_metric,
                              window_days=int(f.window_days))
                if row is None:
                    self._insert(f, day, run_id, cycle=1, first_seen=day)
                    self._event(f.action_id, day, "created", None, "open", f.evidence)
                    counts["created"] += 1
                elif row["status"] == "open":
                    if day >= row["last_seen"]:
                        sets = ", ".join(f"{k} = ?" for k in values)
                        self.con.execute(f"UPDATE actions SET {sets}, last_seen = ? WHERE action_id = ?",
                                         (*values.values(), day, f.action_id))
                        if day > row["last_seen"]:
                            self._event(f.action_id, day, "seen_again", "open", "open", f.evidence)
                    counts["updated"] += 1
                else:
                    window_end = as_date(row["created"]) + dt.timedelta(days=int(row["window_days"] or 0))
                    if as_date(day) <= window_end:
                        counts["kept_closed"] += 1  # not reopened by the same finding within its window
                        continue
                    self.con.execute("INSERT INTO action_history SELECT * FROM actions WHERE action_id = ?",
                                     (f.action_id,))
                    self.con.execute("DELETE FROM actions WHERE action_id = ?", (f.action_id,))
                    self._insert(f, day, run_id, cycle=int(row["cycle"]) + 1, first_seen=row["first_seen"])
                    self._event(f.action_id, day, "reopened", row["status"], "open", f.evidence)
                    counts["reopened"] += 1
            for rule_id, pop in (populations or {}).items():
                self.con.execute("DELETE FROM populations WHERE rule_id = ? AND created = ?", (rule_id, day))
                self.con.executemany(
                    "INSERT INTO populations (rule_id, created, target, scores, acted) VALUES (?, ?, ?, ?, ?)",
                    [(rule_id, day, t, s, int(bool(a))) for t, s, a in zip(pop.target, pop.scores, pop.triggered)])
            changed = counts["created"] + counts["updated"] + counts["reopened"]
            if changed and self.audit is not None:  # inside the transaction: a failed audit write keeps nothing
                self.audit("change", table="actions", rows=changed, change={"findings": counts, "as_of": day,
                                                                            "run_id": run_id})
        return counts

    def _insert(self, f, day: str, run_id: str, cycle: int, first_seen: str) -> None:
        self.con.execute(
            "INSERT INTO actions (action_id, rule_id, kind, target_type, target, owner_type, owner, owner_name, created, "
            "first_seen, last_seen, due_date, expected_change, outcome_metric, window_days, evidence, scores, status, "
            "status_date, status_by, note, run_id, cycle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "'open', ?, ?, NULL, ?, ?)",
            (f.action_id, f.rule_id, f.kind, f.target_type, f.target, f.owner_type, f.owner, f.owner_name, day,
             first_seen, day, str(f.due_date), float(f.expected_change), f.outcome_metric, int(f.window_days),
             f.evidence, f.scores, day, "saleslab", run_id, cycle))

    def set_status(self, action_ids, status: str, user: str | None = None, note: str | None = None,
                   on=None) -> list[str]:
        """Set ``status`` (``done`` or ``dismissed``; ``open`` reopens) on ``action_ids``, all or none:
        one transaction; an unknown id, or an audit write that fails, changes nothing. ``on``: the
        date of the change (today by default). Returns the ids changed (those already in ``status``
        are left alone)."""
        if status not in STATUSES:
            raise InvalidArgument(f"status {status!r} is not allowed; allowed: {', '.join(STATUSES)}")
        ids = list(dict.fromkeys(action_ids))
        if not ids:
            raise InvalidArgument("no action id given")
        day = as_date(on or dt.date.today()).isoformat()
        who = user or self.user
        changed = []
        with self._tx():
            rows = {r["action_id"]: r for r in self.con.execute(
                f"SELECT action_id, status FROM actions WHERE action_id IN ({','.join('?' * len(ids))})", ids)}
            unknown = [i for i in ids if i not in rows]
            if unknown:
                raise InvalidArgument(f"unknown action id(s): {', '.join(unknown)} (see `saleslab actions list`)")
            for i in ids:
                before = rows[i]["status"]
                if before == status:
                    continue
                self.con.execute("UPDATE actions SET status = ?, status_date = ?, status_by = ?, note = COALESCE(?, note) "
                                 "WHERE action_id = ?", (status, day, who, note, i))
                self._event(i, day, status, before, status, note, user=who)
                changed.append(i)
            if changed and self.audit is not None:
                self.audit("change", table="actions", rows=len(changed),
                           change={"status": status, "action_ids": changed, "note": note})
        return changed


def default_path(run_dir: Path) -> Path:
    """The reports folder's database: ``<reports>/actions.sqlite`` (a run folder's parent)."""
    return Path(run_dir).resolve().parent / "actions.sqlite"
