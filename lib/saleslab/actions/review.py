"""The monthly review of the actions whose due date has passed (domain.md §11: strategies are
reviewed against what happened).

Outcome of a target, measured in the warehouse over the ``window_days`` after the action's
creation date ``c`` (the rule's ``outcome``; through :mod:`saleslab.facts`):

- ``bought_again`` (customer): 1 when the customer has a buying day in (c, c + window] whose value,
  after that day's refunds up to the window's end, is above 0
  (:func:`saleslab.facts.customer_purchases_expr`), else 0;
- ``revenue`` / ``volume`` (customer, product, channel, region, distributor): revenue / volume
  counted in [c + 1, c + window] (:func:`saleslab.facts.revenue_by_expr`; a customer's revenue is
  its purchases' value), 0 when none;
- ``collection`` (customer, distributor): collection rate of the invoices due in [c + 1, c + window]
  (:func:`saleslab.facts.invoices_due_expr`); a target with no invoice due then is left out.

Comparison (per rule and creation date): each action done whose window is over is matched to the
``k`` most similar targets of the rule's population at ``c`` that got no action (the trigger
table's rows that did not meet the rule, stored with their scores, see
:class:`saleslab.actions.store.ActionStore`), nearest on the rule's scores (each score as its
percentile rank in that population, Euclidean distance, with replacement). effect = mean over the
acted-on targets of (own outcome − mean outcome of its matches); its interval: the paired
differences' mean ± t(n−1) × sd/√n at ``actions_confidence`` (a control matched to several targets
counts each time, so the interval is slightly narrow). Done vs not done: the same with the actions
not done (open past their due date, or dismissed) as the comparison pool.

Verdict of an action: ``verdict_not_done`` (not done), ``verdict_too_early`` (its window is not
over at ``as_of``), else its group's (a group with no action done is ``verdict_not_done`` and is
not measured): ``verdict_worked`` (the interval lies above 0),
``verdict_no_effect`` (it includes 0 or lies below it, or too few targets to estimate: see
``review_note``).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from .. import facts
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from .params import Params
from .strategy import Strategy

VERDICTS = ("verdict_worked", "verdict_no_effect", "verdict_too_early", "verdict_not_done")
_KEYS = {"customer": "customer_id", "product": "product_id", "channel": "channel", "region": "region",
         "distributor": "distributor_id"}
REVIEW_COLUMNS = ["action_id", "rule_id", "kind", "target_type", "target", "owner_type", "owner", "status", "created",
                  "due_date", "outcome_metric", "window_end", "outcome", "comparison_outcome", "verdict"]
SUMMARY_COLUMNS = ["rule_id", "kind", "created", "outcome_metric", "window_end", "actions_due", "actions_done",
                   "acted_outcome", "comparison_outcome", "measured_effect", "effect_low", "effect_high", "comparison_targets",
                   "verdict", "review_note", "not_done_outcome", "done_vs_not_done", "done_vs_not_done_low",
                   "done_vs_not_done_high", "expected_change"]


# ---- outcomes -----------------------------------------------------------------------------------
def outcomes(eng, target_type: str, metric: str, created, window_days: int,
             facts_params: FactsParams | None = None) -> pd.DataFrame:
    """target, outcome: ``metric`` of every target of ``target_type`` with data in the window
    (see the module docstring). Targets absent from the frame have outcome 0 (bought_again,
    revenue, volume) or none (collection)."""
    fp = facts_params or FactsParams()
    c = as_date(created)
    first, end = c + dt.timedelta(days=1), c + dt.timedelta(days=int(window_days))
    key = _KEYS[target_type]
    if metric in ("bought_again",) or (metric == "revenue" and target_type == "customer"):
        eng.require("orders", "order_lines", needed_for="actions_review")
        p = facts.customer_purchases_expr(eng, end)
        p = p.filter(p.order_date > c)
        g = eng.execute(p.group_by(target=p.customer_id).aggregate(
            days=(p.value > 0).ifelse(1, 0).sum(), value=p.value.sum()))
        # bought again: a buying day whose value (after its refunds up to the window's end) is above 0
        out = g.assign(outcome=(g["days"] > 0).astype(float) if metric == "bought_again" else g["value"].round(2))
    elif metric == "collection":
        eng.require("invoices", "payments", needed_for="actions_review")
        inv = facts.invoices_due_expr(eng, first, end)
        g = eng.execute(inv.group_by(target=inv[key]).aggregate(amount=inv.amount.sum(), collected=inv.collected.sum()))
        g = g[g["amount"] > 0]
        out = g.assign(outcome=(g["collected"] / g["amount"]).round(6))
    else:
        eng.require("orders", "order_lines", needed_for="actions_review")
        r = facts.revenue_by_expr(eng, first, end, [key], fp.returns_basis)
        g = eng.execute(r.select(target=r[key], revenue=r.revenue, volume=r.volume))
        out = g.assign(outcome=(g[metric].astype(float)).round(2))
    out = out[out["target"].notna()]
    return out.assign(target=out["target"].astype(str))[["target", "outcome"]].reset_index(drop=True)


def _fill(targets: pd.Series, out: pd.DataFrame, metric: str) -> np.ndarray:
    v = targets.map(dict(zip(out["target"], out["outcome"])))
    return (v if metric == "collection" else v.fillna(0.0)).to_numpy(dtype=float)


# ---- matching -------------------------------------------------------------------------------------
def score_matrix(scores: pd.Series, names: list[str]) -> np.ndarray:
    """The JSON ``scores`` as a float matrix (columns ``names``; a missing or non-numeric score is NaN)."""
    rows = [json.loads(s) if isinstance(s, str) and s else {} for s in scores]
    m = pd.DataFrame([{n: r.get(n) for n in names} for r in rows], columns=names)
    return m.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def percentile_ranks(x: np.ndarray) -> np.ndarray:
    """Each column as its percentile rank in (0, 1] (ties: average rank; NaN → 0.5)."""
    out = np.full(x.shape, 0.5)
    for j in range(x.shape[1]):
        col = pd.Series(x[:, j])
        if col.notna().any():
            out[:, j] = col.rank(pct=True).fillna(0.5).to_numpy()
    return out


def matched_effect(y_t, x_t, y_c, x_c, k: int = 3, confidence: float = 0.95, min_group: int = 3) -> dict:
    """Effect of the treated (outcomes ``y_t``, scores ``x_t``) against their ``k`` nearest controls
    (``y_c``, ``x_c``; scores already on one scale), see the module docstring.

    Returns treated, controls (distinct controls used), treated_mean, comparison_mean, effect, low,
    high, matches (per treated: the mean outcome of its matches) and note (``""``,
    ``note_few_targets`` when there are fewer than ``min_group`` treated or controls).
    """
    from scipy import stats

    y_t, y_c = np.asarray(y_t, float), np.asarray(y_c, float)
    ok_t, ok_c = ~np.isnan(y_t), ~np.isnan(y_c)
    y_t, x_t, y_c, x_c = y_t[ok_t], np.asarray(x_t)[ok_t], y_c[ok_c], np.asarray(x_c)[ok_c]
    out = {"treated": int(len(y_t)), "controls": 0, "treated_mean": float(y_t.mean()) if len(y_t) else np.nan,
           "comparison_mean": np.nan, "effect": np.nan, "low": np.nan, "high": np.nan,
           "matches": np.full(int(ok_t.sum()), np.nan), "note": ""}
    if len(y_t) < min_group or len(y_c) < min_group:
        out["note"] = "note_few_targets"
        return out
    k = min(k, len(y_c))
    d = ((x_t[:, None, :] - x_c[None, :, :]) ** 2).sum(axis=2)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    matches = y_c[idx].mean(axis=1)
    diff = y_t - matches
    n = len(diff)
    mean = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    q = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) if n > 1 else np.nan
    out.update(controls=int(len(np.unique(idx))), comparison_mean=float(matches.mean()), effect=mean,
               low=mean - q * se, high=mean + q * se, matches=matches)
    return out


def _verdict(est: dict) -> str:
    return "verdict_worked" if est["low"] == est["low"] and est["low"] > 0 else "verdict_no_effect"


# ---- the review ----------------------------------------------------------------------------------
def review(eng, store, strategy: Strategy, as_of, params: Params | None = None,
           facts_params: FactsParams | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(action_review, action_review_summary) of every action (every cycle) due by ``as_of``.

    action_review: one row per due action — action_id, rule_id, kind, target_type, target,
    owner_type, owner, status (at the review), created, due_date, outcome_metric, window_end,
    outcome, comparison_outcome (mean outcome of its matched no-action targets), verdict.
    action_review_summary: one row per rule and creation date — actions_due, actions_done,
    acted_outcome (mean outcome of the done ones), comparison_outcome, effect, effect_low,
    effect_high, comparison_targets, verdict, review_note, not_done_outcome, done_vs_not_done (+ _low,
    _high), expected_change; worked first, then by effect (largest first).
    A rule no longer in the strategy is reviewed with the metric and window stored on its actions
    and without a comparison population (scores are still in the store).
    """
    params, fp = params or Params(), facts_params or FactsParams()
    day = as_date(as_of)
    acts = store.actions(history=True)
    acts = acts[pd.to_datetime(acts["due_date"]).dt.date <= day] if len(acts) else acts
    rows, summ = [], []
    for (rule_id, created), g in acts.groupby(["rule_id", "created"], sort=True):
        rule = strategy.rule(rule_id)
        metric = g["outcome_metric"].iloc[0]
        window = int(g["window_days"].iloc[0])
        ttype = g["target_type"].iloc[0]
        names = list(rule.scores) if rule else sorted(json.loads(g["scores"].iloc[0] or "{}"))
        c = as_date(created)
        window_end = c + dt.timedelta(days=window)
        early = window_end > day
        done = g["status"].eq("done").to_numpy()
        base = g.assign(window_end=window_end.isoformat(), outcome=np.nan, comparison_outcome=np.nan)
        s = {"rule_id": rule_id, "kind": g["kind"].iloc[0], "created": created, "outcome_metric": metric,
             "window_end": window_end.isoformat(), "actions_due": int(len(g)), "actions_done": int(done.sum()),
             "expected_change": float(g["expected_change"].iloc[0]), "review_note": "", "comparison_targets": 0}
        if early or not done.any():  # nothing to measure yet, or nothing was done (no query then)
            base["verdict"] = np.where(done, "verdict_too_early", "verdict_not_done")
            s.update(verdict="verdict_too_early" if early and done.any() else
                     "verdict_not_done" if not done.any() else "verdict_too_early",
                     review_note="" if done.any() else "note_none_done")
            rows.append(base)
            summ.append(s)
            continue
        pop = store.population(rule_id, created)
        pool = pop[pop["acted"] == 0]
        targets = pd.concat([g["target"], pool["target"]], ignore_index=True)
        out = outcomes(eng, ttype, metric, c, window, fp)
        y_all = _fill(targets, out, metric)
        y_act, y_pool = y_all[: len(g)], y_all[len(g):]
        # scores on one scale: percentile ranks over the population (the actions' own scores when none)
        x_all = percentile_ranks(score_matrix(pd.concat([g["scores"], pool["scores"]], ignore_index=True), names))
        x_act, x_pool = x_all[: len(g)], x_all[len(g):]
        base["outcome"] = y_act
        est = matched_effect(y_act[done], x_act[done], y_pool, x_pool, params.actions_match_k,
                             params.actions_confidence, params.actions_min_group)
        comp = np.full(len(g), np.nan)
        comp[np.flatnonzero(done)[~np.isnan(y_act[done])]] = est["matches"]
        base["comparison_outcome"] = comp
        base["verdict"] = np.where(done, est["note"] and "verdict_no_effect" or _verdict(est), "verdict_not_done")
        dvn = matched_effect(y_act[done], x_act[done], y_act[~done], x_act[~done], params.actions_match_k,
                             params.actions_confidence, params.actions_min_group)
        nd = y_act[~done]
        s.update(acted_outcome=est["treated_mean"], comparison_outcome=est["comparison_mean"], measured_effect=est["effect"],
                 effect_low=est["low"], effect_high=est["high"], comparison_targets=est["controls"],
                 verdict="verdict_no_effect" if est["note"] else _verdict(est), review_note=est["note"],
                 not_done_outcome=float(np.nanmean(nd)) if (~np.isnan(nd)).any() else np.nan,
                 done_vs_not_done=dvn["effect"], done_vs_not_done_low=dvn["low"], done_vs_not_done_high=dvn["high"])
        rows.append(base)
        summ.append(s)
    review_df = pd.concat(rows, ignore_index=True)[REVIEW_COLUMNS] if rows else pd.DataFrame(columns=REVIEW_COLUMNS)
    summary = pd.DataFrame(summ).reindex(columns=SUMMARY_COLUMNS)
    if len(summary):
        order = {v: i for i, v in enumerate(VERDICTS)}
        summary = summary.assign(_v=summary["verdict"].map(order), _e=summary["measured_effect"].fillna(-np.inf))
        summary = summary.sort_values(["_v", "_e", "rule_id"], ascending=[True, False, True]).drop(columns=["_v", "_e"])
        review_df = review_df.assign(_v=review_df["verdict"].map(order)).sort_values(
            ["_v", "rule_id", "owner", "target"]).drop(columns="_v")
    for df in (review_df, summary):
        for col in ("outcome", "comparison_outcome", "acted_outcome", "measured_effect", "effect_low", "effect_high",
                    "not_done_outcome", "done_vs_not_done", "done_vs_not_done_low", "done_vs_not_done_high"):
            if col in df:
                df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64").round(6)
    review_df = review_df.reset_index(drop=True)
    summary = summary.reset_index(drop=True)
    fpd = fp.model_dump(mode="json")
    return attach(review_df, params, as_of=day.isoformat(), **fpd), attach(summary, params, as_of=day.isoformat(), **fpd)
