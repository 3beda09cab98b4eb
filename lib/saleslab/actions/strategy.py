"""The strategy file (``parameters/strategy.yaml``): rules that turn earlier stages' findings into
owned actions (domain.md §11), and their evaluation on this run's stage tables.

A rule names

- its **trigger**: a table an earlier stage of the run saved (``stage``/``table``, read with
  :meth:`saleslab.engine.Engine.stage_result`), the column holding the target's id, and a list of
  conditions that must all hold (``column``, ``op`` one of :data:`OPS`, ``value``); optionally
  ``rank_by`` / ``limit`` to keep the first N targets (the rest of the table stays in the
  comparison population);
- its **scores**: the trigger table's columns the review matches on (similar targets that got no
  action are those nearest on these scores, see :mod:`saleslab.actions.review`);
- its **owner** rule (:data:`OWNER_RULES`): ``customer_rep`` (the customer's owning rep,
  ``customers.owner_rep_id``; a customer without one goes to ``role_customer_service``),
  ``region_supervisor`` (the access policy's supervisor user of the target's region; without a
  policy the role ``role_region_supervisor``), ``channel_manager`` (the strategy file's
  ``channel_manager``: no table names channel managers), ``role:<key>`` (a fixed role) or
  ``column:<name>`` (an owner the trigger table already names, e.g. the risk alerts'
  ``risk_owner``);
- its **due date** (``due_days`` after the run's ``as_of``), its **expected effect** (``change``
  of the outcome metric, in percentage points for ``bought_again`` and ``collection``, as a share
  of the comparison level for ``revenue`` and ``volume``), and its **outcome** (``metric`` of
  :data:`METRICS` measured over ``window_days`` after the action's creation).

The file is validated on load like every parameter file: an error names the key and the allowed
values (:func:`load_strategy`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ParameterError, format_validation_error, read_yaml

OPS = (">=", ">", "<=", "<", "==", "!=", "in", "not in")
TARGET_TYPES = ("customer", "product", "channel", "region", "distributor")
METRICS = ("bought_again", "revenue", "volume", "collection")
#: which outcome metrics each target type can be measured on
METRICS_BY_TARGET = {"customer": ("bought_again", "revenue", "collection"), "product": ("revenue", "volume"),
                     "channel": ("revenue",), "region": ("revenue",), "distributor": ("revenue", "collection")}
OWNER_RULES = ("customer_rep", "region_supervisor", "channel_manager", "role:<key>", "column:<name>")
_OWNER = re.compile(r"^(customer_rep|region_supervisor|channel_manager|role:[a-z][a-z0-9_]*|column:[A-Za-z_][A-Za-z0-9_]*)$")
#: statuses of a rule's evaluation in a run
RULE_STATUSES = ("rule_evaluated", "rule_trigger_missing", "rule_columns_missing")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    column: str = Field(pattern=r"^[^\s].*$")
    op: Literal[">=", ">", "<=", "<", "==", "!=", "in", "not in"]
    value: float | int | bool | str | list[float | int | bool | str]

    @model_validator(mode="after")
    def _shape(self):
        if self.op in ("in", "not in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs a list of values (got {self.value!r})")
        if self.op not in ("in", "not in") and isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} compares with one value, not a list; use 'in' for a list")
        return self

    def text(self) -> str:
        return f"{self.column} {self.op} {self.value!r}"


class Trigger(_Strict):
    stage: str = Field(pattern=r"^[0-9]{2}_[a-z0-9_]+$")
    table: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    target: str  # the column holding the target's id
    when: list[Condition] = Field(min_length=1)
    #: the rule's population (its comparison pool too): the rows meeting these; default every row
    among: list[Condition] = Field(default_factory=list)
    rank_by: str | None = None
    descending: bool = True
    limit: int | None = Field(None, ge=1)


class Expected(_Strict):
    change: float  # of the outcome metric (pp for rates, a share for amounts)


class Outcome(_Strict):
    metric: Literal["bought_again", "revenue", "volume", "collection"]
    window_days: int = Field(90, ge=7, le=730)


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: str = Field(pattern=r"^action_[a-z0-9_]+$")  # a label key: what the action is
    target_type: Literal["customer", "product", "channel", "region", "distributor"]
    trigger: Trigger
    scores: list[str] = Field(min_length=1)
    evidence: list[str] = Field(default_factory=list)  # more trigger columns shown as evidence
    owner: str
    due_days: int = Field(ge=1, le=365)
    expected_effect: Expected
    outcome: Outcome

    @field_validator("owner")
    @classmethod
    def _owner(cls, v):
        if not _OWNER.match(v):
            raise ValueError(f"owner rule {v!r} is not allowed; allowed: {', '.join(OWNER_RULES)}")
        return v

    @model_validator(mode="after")
    def _metric(self):
        allowed = METRICS_BY_TARGET[self.target_type]
        if self.outcome.metric not in allowed:
            raise ValueError(f"rule {self.id}: outcome metric {self.outcome.metric!r} cannot be measured on a "
                             f"{self.target_type}; allowed: {', '.join(allowed)}")
        return self

    @property
    def columns(self) -> list[str]:
        """Trigger-table columns the rule reads (target, conditions, scores, evidence, rank, owner)."""
        cols = [self.trigger.target] + [c.column for c in self.trigger.among + self.trigger.when] + list(self.scores) \
            + list(self.evidence)
        if self.trigger.rank_by:
            cols.append(self.trigger.rank_by)
        if self.owner.startswith("column:"):
            cols.append(self.owner.split(":", 1)[1])
        return list(dict.fromkeys(cols))

    @property
    def evidence_columns(self) -> list[str]:
        return list(dict.fromkeys([c.column for c in self.trigger.when] + list(self.scores) + list(self.evidence)))

    def condition_text(self) -> str:
        return " and ".join(c.text() for c in self.trigger.when)


class Strategy(_Strict):
    version: Literal[1] = 1
    #: who manages channels (no warehouse table names them): a role label key or a user
    channel_manager: str = Field("role_channel_manager", pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        ids = [r.id for r in self.rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"rule id(s) {', '.join(dup)} used twice; rule ids must be unique")
        return self

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def load_strategy(path: str | Path) -> Strategy:
    """Read and validate a strategy file; :class:`ParameterError`, one line per problem naming the key."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"strategy file {path} does not exist")
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected keys and values at the top level")
    try:
        return Strategy.model_validate(data)
    except ValidationError as e:
        raise ParameterError(format_validation_error(path, e)) from None


# ---- evaluation ---------------------------------------------------------------------------------
def _compare(s: pd.Series, c: Condition) -> pd.Series:
    v = c.value
    if c.op == "in":
        return s.isin(v)
    if c.op == "not in":
        return ~s.isin(v) & s.notna()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        s = pd.to_numeric(s, errors="coerce")
    out = {">=": s >= v, ">": s > v, "<=": s <= v, "<": s < v, "==": s == v, "!=": s != v}[c.op]
    return out.fillna(False).astype(bool)


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if v != v else round(float(v), 6)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if v is None or v is pd.NA:
        return None
    return v if isinstance(v, (int, str)) else str(v)


def evaluate_rule(rule: Rule, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rule on its trigger table: (findings, population).

    findings: target, evidence (JSON of the condition, score and evidence columns), scores (JSON of
    the score columns), owner_hint (the ``column:`` owner's value, else None), one row per target
    that meets every condition (the first ``limit`` by ``rank_by`` when set).
    population: target, scores (JSON), triggered (bool) — every row of the table with a target that
    meets the rule's ``among`` conditions (the comparison pool of the review). A target repeated in the table counts once (its first row).
    """
    t = table[table[rule.trigger.target].notna()].drop_duplicates(rule.trigger.target)
    for c in rule.trigger.among:
        t = t[_compare(t[c.column], c)]
    mask = pd.Series(True, index=t.index)
    for c in rule.trigger.when:
        mask &= _compare(t[c.column], c)
    hit = t[mask]
    if rule.trigger.rank_by:
        hit = hit.sort_values([rule.trigger.rank_by, rule.trigger.target], ascending=[not rule.trigger.descending, True],
                              na_position="last")
    if rule.trigger.limit:
        hit = hit.head(rule.trigger.limit)
    def js(df, cols):
        return [json.dumps({c: _plain(r[c]) for c in cols}, ensure_ascii=False) for _, r in df.iterrows()]

    def ids(col):  # the same id whatever the column's dtype: 1001, 1001.0 (a float column with gaps) -> "1001"
        return col.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).to_numpy()

    owner_col = rule.owner.split(":", 1)[1] if rule.owner.startswith("column:") else None
    findings = pd.DataFrame({
        "target": ids(hit[rule.trigger.target]),
        "evidence": js(hit, rule.evidence_columns), "scores": js(hit, rule.scores),
        "owner_hint": hit[owner_col].astype(object).where(hit[owner_col].notna(), None).to_numpy() if owner_col
        else [None] * len(hit)})
    pop = pd.DataFrame({"target": ids(t[rule.trigger.target]), "scores": js(t, rule.scores),
                        "triggered": t.index.isin(hit.index)})
    return findings, pop


def evaluate(eng, strategy: Strategy) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Every rule on this run's stage tables (:meth:`~saleslab.engine.Engine.stage_result`).

    Returns (findings, populations, rules):
    findings: rule_id, kind, target_type, target, evidence, scores, owner_hint;
    populations: {rule_id: population frame of :func:`evaluate_rule`} for the evaluated rules;
    rules: rule_id, kind, target_type, trigger (stage/table), condition, owner_rule, due_days,
    outcome_metric, outcome_window_days, expected_change, rule_status (:data:`RULE_STATUSES`),
    rule_detail (the missing table or columns), triggered (targets found; NaN when not evaluated).
    """
    parts, pops, rows = [], {}, []
    for r in strategy.rules:
        row = {"rule_id": r.id, "kind": r.kind, "target_type": r.target_type,
               "trigger": f"{r.trigger.stage}/{r.trigger.table}", "condition": r.condition_text(),
               "owner_rule": r.owner, "due_days": r.due_days, "outcome_metric": r.outcome.metric,
               "outcome_window_days": r.outcome.window_days, "expected_change": r.expected_effect.change,
               "rule_status": "rule_evaluated", "rule_detail": "", "triggered": np.nan}
        table = eng.stage_result(r.trigger.stage, r.trigger.table)
        if table is None:
            row.update(rule_status="rule_trigger_missing", rule_detail=f"{r.trigger.stage}/{r.trigger.table}")
        else:
            missing = [c for c in r.columns if c not in table.columns]
            if missing:
                row.update(rule_status="rule_columns_missing", rule_detail=", ".join(missing))
            else:
                f, pop = evaluate_rule(r, table)
                pops[r.id] = pop
                parts.append(f.assign(rule_id=r.id, kind=r.kind, target_type=r.target_type))
                row["triggered"] = float(len(f))
        rows.append(row)
    cols = ["rule_id", "kind", "target_type", "target", "evidence", "scores", "owner_hint"]
    findings = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    return findings, pops, pd.DataFrame(rows)


# ---- owners -------------------------------------------------------------------------------------
def supervisors(policy_path) -> dict[str, str]:
    """{region code: supervisor user} from the access policy (users whose role has the ``group``
    scope, by the regions they cover; the first by name when several do); {} without a policy."""
    if not policy_path:
        return {}
    from ..access import load_policy

    pol = load_policy(policy_path)
    out: dict[str, str] = {}
    for name in sorted(pol.users):
        u = pol.users[name]
        if pol.roles[u.role].scope == "group":
            for reg in u.regions:
                out.setdefault(reg, name)
    return out


def assign_owners(eng, findings: pd.DataFrame, strategy: Strategy, policy_path=None) -> pd.DataFrame:
    """``findings`` with owner_type (``owner_rep`` / ``owner_user`` / ``owner_role``), owner and
    owner_name, by each rule's owner rule (see the module docstring). The customers and reps tables
    are read only when a rule needs them; a warehouse without them gives the fallback roles."""
    out = findings.copy()
    out["owner_type"], out["owner"], out["owner_name"] = "owner_role", None, None
    if out.empty:
        return out
    rules = {r.id: r for r in strategy.rules}
    owner_rule = out.rule_id.map(lambda i: rules[i].owner)
    need_cust = out.target_type.eq("customer") & owner_rule.isin(["customer_rep", "region_supervisor"])
    cust = pd.DataFrame(columns=["customer_id", "owner_rep_id", "region"])
    if need_cust.any() and eng.has("customers"):
        c = eng.table("customers")
        ids = sorted(set(out.target[need_cust]))
        cust = eng.execute(c.filter(c.customer_id.isin(ids)).select("customer_id", "owner_rep_id", "region"))
        # one master row per customer: the first with a rep (a duplicate record may lack it)
        cust = cust.sort_values(["customer_id", "owner_rep_id"], na_position="last").drop_duplicates("customer_id")
    rep_of = dict(zip(cust.customer_id, cust.owner_rep_id))
    region_of = dict(zip(cust.customer_id, cust.region))
    reps = {}
    if (owner_rule == "customer_rep").any() and eng.has("reps"):
        r = eng.execute(eng.table("reps").select("rep_id", "name"))
        reps = dict(zip(r.rep_id, r.name))
    sups = supervisors(policy_path) if (owner_rule == "region_supervisor").any() else {}
    types, owners, names = [], [], []
    for rule, row in zip(owner_rule, out.itertuples()):
        if rule == "customer_rep":
            rep = rep_of.get(row.target) if row.target_type == "customer" else None
            if isinstance(rep, str) and rep:
                types.append("owner_rep"), owners.append(rep), names.append(reps.get(rep))
            else:
                types.append("owner_role"), owners.append("role_customer_service"), names.append(None)
        elif rule == "region_supervisor":
            region = row.target if row.target_type == "region" else region_of.get(row.target)
            sup = sups.get(region) if isinstance(region, str) else None
            if sup:
                types.append("owner_user"), owners.append(sup), names.append(None)
            else:
                types.append("owner_role"), owners.append("role_region_supervisor"), names.append(None)
        elif rule == "channel_manager":
            types.append("owner_role"), owners.append(strategy.channel_manager), names.append(None)
        elif rule.startswith("role:"):
            types.append("owner_role"), owners.append(rule.split(":", 1)[1]), names.append(None)
        else:  # column:<name>: the trigger table's own owner (a rep id or a role key)
            hint = row.owner_hint
            if isinstance(hint, str) and hint.startswith("role_"):
                types.append("owner_role"), owners.append(hint), names.append(None)
            elif isinstance(hint, str) and hint:
                types.append("owner_rep"), owners.append(hint), names.append(reps.get(hint))
            else:
                types.append("owner_role"), owners.append("role_customer_service"), names.append(None)
    out["owner_type"], out["owner"], out["owner_name"] = types, owners, names
    return out


def action_id(rule_id: str, target: str) -> str:
    """Stable id of the action of ``rule_id`` on ``target`` (the same in every run)."""
    import hashlib

    return "A" + hashlib.sha1(f"{rule_id}\x1f{target}".encode("utf-8")).hexdigest()[:12]


def due_date(as_of, days: int) -> dt.date:
    from ..periods import as_date

    return as_date(as_of) + dt.timedelta(days=int(days))
