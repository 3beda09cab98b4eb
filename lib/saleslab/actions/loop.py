"""One turn of the loop: this run's findings become owned actions in the database, and the
actions table of the run (every action's current cycle, open ones first by owner and due date)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import PROJECT_ROOT
from ..errors import InsufficientData, MissingSource
from ..params import attach
from ..periods import as_date
from .params import Params
from .store import ActionStore, default_path
from .strategy import Strategy, action_id, assign_owners, due_date, evaluate, load_strategy

ACTION_STATUSES = ("status_overdue", "status_open", "status_done", "status_dismissed")
ACTION_COLUMNS = ["action_id", "kind", "rule_id", "target_type", "target", "owner_type", "owner", "owner_name",
                  "created", "due_date", "action_status", "expected_change", "outcome_metric", "window_days",
                  "evidence", "last_seen", "cycle"]


def strategy_file(params: Params | None = None) -> Path:
    """The strategy file: ``actions_strategy_file``, else ``parameters/strategy.yaml`` of the project."""
    p = (params or Params()).actions_strategy_file
    return Path(p) if p else PROJECT_ROOT / "parameters" / "strategy.yaml"


def database_file(run_dir, params: Params | None = None) -> Path:
    """The actions database: ``actions_database``, else ``actions.sqlite`` in the reports folder."""
    p = (params or Params()).actions_database
    return Path(p) if p else default_path(Path(run_dir))


def open_store(eng, run_dir, params: Params | None = None) -> ActionStore:
    """The run's actions database; changes are recorded in the engine's audit trail when governed."""
    user = eng.identity.user if getattr(eng, "identity", None) is not None else "saleslab"
    return ActionStore(database_file(run_dir, params), audit=eng.audit, user=user)


def may_record(eng) -> bool:
    """Only a run that sees every row records actions (a scoped user's run would see part of the
    findings and must not close or create actions for the others): ungoverned or scope ``all``."""
    ident = getattr(eng, "identity", None)
    return ident is None or ident.scope == "all"


def visible(eng, actions: pd.DataFrame) -> pd.DataFrame:
    """The actions a scoped user may see (the database is not behind the engine's row filter, so
    the filter is applied here, failing closed): everything for scope ``all`` (or no governance);
    otherwise only actions on a customer or distributor the engine shows the user, or owned by
    them or by a rep in their scope — company-level targets (products, channels, regions) of
    other owners are not shown."""
    ident = getattr(eng, "identity", None)
    if ident is None or ident.scope == "all" or actions.empty:
        return actions
    seen: set[str] = set()
    for table, col in (("customers", "customer_id"), ("distributors", "distributor_id"), ("orders", "customer_id")):
        if eng.has(table):
            t = eng.table(table)
            if col in t.columns:
                seen |= set(eng.execute(t.select(col).distinct())[col].dropna().astype(str))
    owners = {ident.user} | ({ident.rep_id} if ident.rep_id else set())
    if eng.has("reps"):
        owners |= set(eng.execute(eng.table("reps").select("rep_id"))["rep_id"].dropna().astype(str))
    keep = (actions["target_type"].isin(["customer", "distributor"]) & actions["target"].astype(str).isin(seen)) \
        | actions["owner"].astype(str).isin(owners)
    return actions[keep.to_numpy()].reset_index(drop=True)


def record(eng, store: ActionStore, strategy: Strategy, as_of, run_id: str = "", policy_path=None,
           write: bool = True) -> pd.DataFrame:
    """Evaluate the strategy on this run's stage tables and create / update the actions
    (:meth:`ActionStore.record_findings`). Returns the rules table of
    :func:`saleslab.actions.strategy.evaluate` with, per rule, ``actions_new``, ``actions_updated``,
    ``actions_kept_closed`` (done or dismissed, within their review window) and ``actions_reopened``.
    With ``write`` False nothing is stored (a scoped run, see :func:`may_record`)."""
    findings, pops, rules = evaluate(eng, strategy)
    findings = assign_owners(eng, findings, strategy, policy_path)
    by_id = {r.id: r for r in strategy.rules}
    if len(findings):
        findings["action_id"] = [action_id(r, t) for r, t in zip(findings.rule_id, findings.target)]
        findings["due_date"] = [due_date(as_of, by_id[r].due_days).isoformat() for r in findings.rule_id]
        findings["expected_change"] = [by_id[r].expected_effect.change for r in findings.rule_id]
        findings["outcome_metric"] = [by_id[r].outcome.metric for r in findings.rule_id]
        findings["window_days"] = [by_id[r].outcome.window_days for r in findings.rule_id]
    before = store.actions().set_index("action_id")  # read in a scoped run too: its counts say what exists
    day = as_date(as_of)

    def fate(aid: str) -> str:
        if aid not in before.index:
            return "actions_new"
        row = before.loc[aid]
        if row["status"] == "open":
            return "actions_updated"
        end = as_date(row["created"]) + pd.Timedelta(days=int(row["window_days"] or 0))
        return "actions_kept_closed" if day <= end else "actions_reopened"

    fates = pd.Series([fate(a) for a in findings["action_id"]], dtype=object) if len(findings) else pd.Series(dtype=object)
    for col in ("actions_new", "actions_updated", "actions_kept_closed", "actions_reopened"):
        counts = findings.loc[fates.to_numpy() == col, "rule_id"].value_counts() if len(findings) else pd.Series(dtype=int)
        rules[col] = rules["rule_id"].map(counts).where(rules["rule_status"] == "rule_evaluated").astype(float)
        rules.loc[rules["rule_status"] == "rule_evaluated", col] = rules[col].fillna(0.0)
    if write:
        store.record_findings(findings, as_of, run_id, pops)
    return attach(rules, None, as_of=day.isoformat())


def actions_table(store: ActionStore, as_of) -> pd.DataFrame:
    """Every action's current cycle: action_id, kind, rule_id, target_type, target, owner_type,
    owner, owner_name, created, due_date, action_status (status_overdue: open past its due date;
    status_open, status_done, status_dismissed), expected_change, outcome_metric, window_days,
    evidence (JSON), last_seen, cycle — overdue and open first, then by owner and due date."""
    a = store.actions()
    day = as_date(as_of).isoformat()
    status = np.where(a["status"].eq("open") & (a["due_date"] < day), "status_overdue", "status_" + a["status"].astype(str))
    a = a.assign(action_status=status)
    order = {s: i for i, s in enumerate(ACTION_STATUSES)}
    a = a.assign(_s=a["action_status"].map(order)).sort_values(["_s", "owner", "due_date", "kind", "target"])
    out = a[ACTION_COLUMNS].reset_index(drop=True)
    out["expected_change"] = out["expected_change"].astype("float64")
    out["window_days"] = out["window_days"].astype("int64")
    out["cycle"] = out["cycle"].astype("int64")
    return attach(out, None, as_of=day)


def open_by_owner(actions: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """Open actions (overdue ones too) per owner and kind: owner_type, owner, owner_name, kind,
    open_actions, overdue_actions, next_due — the owners with most open actions first; at most
    ``top`` owners."""
    o = actions[actions["action_status"].isin(["status_open", "status_overdue"])]
    if o.empty:
        return pd.DataFrame(columns=["owner_type", "owner", "owner_name", "kind", "open_actions", "overdue_actions",
                                     "next_due"])
    g = o.assign(_over=o["action_status"].eq("status_overdue").astype(int)).groupby(
        ["owner_type", "owner", "kind"], dropna=False).agg(
        owner_name=("owner_name", "first"), open_actions=("action_id", "size"), overdue_actions=("_over", "sum"),
        next_due=("due_date", "min")).reset_index()
    totals = g.groupby("owner")["open_actions"].sum()
    keep = totals.sort_values(ascending=False, kind="stable").head(top).index
    g = g[g["owner"].isin(keep)].assign(_t=g["owner"].map(totals))
    g = g.sort_values(["_t", "owner", "next_due"], ascending=[False, True, True]).drop(columns="_t")
    return g[["owner_type", "owner", "owner_name", "kind", "open_actions", "overdue_actions", "next_due"]].reset_index(drop=True)


def headlines(actions: pd.DataFrame, rules: pd.DataFrame, summary: pd.DataFrame | None) -> dict:
    """actions_open (open, overdue included), actions_overdue, actions_new (created in this run),
    actions_worked (reviewed groups whose verdict is worked)."""
    st = actions["action_status"]
    new = float(rules["actions_new"].fillna(0).sum()) if "actions_new" in rules else 0.0
    worked = int((summary["verdict"] == "verdict_worked").sum()) if summary is not None and len(summary) else 0
    return {"actions_open": int(st.isin(["status_open", "status_overdue"]).sum()),
            "actions_overdue": int((st == "status_overdue").sum()), "actions_new": int(new),
            "actions_worked": worked}


def load(params: Params | None = None) -> Strategy:
    """The validated strategy file of the run (:func:`strategy_file`)."""
    return load_strategy(strategy_file(params))


@dataclass
class StageTables:
    """The stage's tables after :func:`record`: actions, by_owner, review, summary, and the
    headline figures. A table that is empty or could not be computed raises
    from :meth:`get` (an :class:`InsufficientData` or the :class:`MissingSource` that stopped it),
    so that ``with st.section(...)`` says why in one line."""

    actions: pd.DataFrame
    by_owner: pd.DataFrame
    review: pd.DataFrame | None
    summary: pd.DataFrame | None
    heads: dict
    errors: dict = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame:
        if name in self.errors:
            raise self.errors[name]
        df = getattr(self, name)
        if df is None or df.empty:
            raise InsufficientData(f"no rows: {name}", needed_for=name)
        return df


def stage_tables(eng, store: ActionStore, strategy: Strategy, rules: pd.DataFrame, as_of, params: Params | None = None,
                 facts_params=None, lang: str = "zh-CN") -> StageTables:
    """Everything the stage shows after :func:`record`: the actions table, open actions by owner,
    the review of the due actions (:func:`saleslab.actions.review.review`; a missing warehouse
    table is kept as the review's error; nothing due: an :class:`InsufficientData` saying so in
    ``lang``) and the headline figures. The texts (evidence, summary lines) are
    :mod:`saleslab.actions.story`'s."""
    from ..report.i18n import say
    from .review import review

    params = params or Params()
    errors: dict = {}
    acts = visible(eng, actions_table(store, as_of))
    by_owner = open_by_owner(acts, params.actions_top_open)
    rev = summ = None
    try:
        if not may_record(eng):  # the review compares groups across the company: for users who see every row
            raise InsufficientData(say("story_actions_review_scoped", lang), needed_for="actions_review")
        rev, summ = review(eng, store, strategy, as_of, params, facts_params)
    except (MissingSource, InsufficientData) as e:
        errors["review"] = errors["summary"] = e
    if summ is not None and summ.empty:
        errors["review"] = errors["summary"] = InsufficientData(say("story_actions_no_review", lang),
                                                                needed_for="actions_review")
    return StageTables(acts, by_owner, rev, summ, headlines(acts, rules, summ), errors)


def write_summary(data_dir, lines: list[dict]) -> Path:
    """``<data_dir>/summary.json``: the summary lines ``[{"key", "text"}]`` in the run's language
    (read by the executive summary)."""
    import json

    path = Path(data_dir) / "summary.json"
    path.write_text(json.dumps(lines, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
