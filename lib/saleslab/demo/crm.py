"""CRM lead funnel and follow-up records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import N_DAYS

STAGES = ("lead", "needs", "proposal", "contract", "repeat", "lost")
STAGE_ZH = {"lead": "线索获取", "needs": "需求沟通", "proposal": "方案报价", "contract": "合同签订",
            "repeat": "售后复购", "lost": "已流失"}
# source: (p lead->needs, p needs->proposal, p proposal->contract, share of won leads)
SOURCES = {
    "展会": (0.55, 0.50, 0.40, 0.30),
    "线上推广": (0.40, 0.40, 0.30, 0.20),
    "转介绍": (0.75, 0.65, 0.60, 0.25),
    "电话营销": (0.30, 0.40, 0.35, 0.10),
    "官网咨询": (0.60, 0.50, 0.45, 0.15),
}
DURATION = ((3, 21), (5, 30), (7, 45))  # days spent in lead, needs, proposal


def make_leads(rng: np.random.Generator, n_won: int) -> tuple[pd.DataFrame, dict]:
    """Leads with the furthest stage reached and stage-entry days.

    Won leads (contract signed inside the period) come first, one per new company,
    sorted by contract day. Returns (leads, planted funnel description).
    """
    names = list(SOURCES)
    share = np.array([SOURCES[s][3] for s in names])
    src_won = rng.choice(len(names), size=n_won, p=share / share.sum())
    contract = np.sort(rng.integers(5, N_DAYS - 20, n_won))
    d = [rng.integers(lo, hi, n_won) for lo, hi in DURATION]
    won = pd.DataFrame({"source": np.array(names, dtype=object)[src_won], "reached": 3,
                        "d_contract": contract})
    won["d_proposal"] = contract - d[2]
    won["d_needs"] = won.d_proposal - d[1]
    won["d_lead"] = won.d_needs - d[0]
    won["lost_day"] = -1
    lost_parts = []
    for i, s in enumerate(names):
        p1, p2, p3, _ = SOURCES[s]
        pw = p1 * p2 * p3
        n_lost = int(round((src_won == i).sum() * (1 / pw - 1)))
        stop_p = np.array([(1 - p1), p1 * (1 - p2), p1 * p2 * (1 - p3)]) / (1 - pw)
        reached = rng.choice(3, size=n_lost, p=stop_p)
        created = rng.integers(-60, N_DAYS - 10, n_lost)
        dd = [rng.integers(lo, hi, n_lost) for lo, hi in DURATION]
        part = pd.DataFrame({"source": s, "reached": reached, "d_lead": created})
        part["d_needs"] = np.where(reached >= 1, created + dd[0], -99999)
        part["d_proposal"] = np.where(reached >= 2, part.d_needs + dd[1], -99999)
        part["d_contract"] = -99999
        last = np.select([reached == 0, reached == 1, reached == 2], [created, part.d_needs, part.d_proposal])
        part["lost_day"] = last + rng.integers(5, 40, n_lost)
        lost_parts.append(part)
    lost = pd.concat(lost_parts, ignore_index=True)
    lost = lost.iloc[np.argsort(lost.d_lead.to_numpy(), kind="stable")].reset_index(drop=True)
    leads = pd.concat([won, lost], ignore_index=True)
    leads["won"] = np.arange(len(leads)) < n_won
    leads["expected"] = np.round(rng.lognormal(np.log(60_000), 0.8, len(leads)), -2)
    planted = {"lead_funnel": {
        "effect": "stage conversion lead→needs→proposal→contract differs by lead source; 转介绍 referral converts best, 电话营销 cold calls worst",
        "conversion": {s: {"lead_to_needs": v[0], "needs_to_proposal": v[1], "proposal_to_contract": v[2],
                           "lead_to_contract": round(v[0] * v[1] * v[2], 4)} for s, v in SOURCES.items()},
    }}
    return leads, planted


KINDS_ZH = {"visit": "拜访", "call": "电话", "complaint": "投诉", "message": "微信"}
CONTENT = {
    "visit": ["上门拜访，介绍新品", "拜访采购负责人，沟通年度需求", "现场演示产品，客户反馈良好", "拜访客户，确认补货计划"],
    "call": ["电话回访，了解使用情况", "电话沟通报价", "电话确认订单交期", "电话跟进回款进度"],
    "complaint": ["客户投诉产品质量问题", "客户投诉发货延迟", "客户投诉售后响应慢", "客户对价格调整不满"],
    "message": ["微信发送产品资料", "微信沟通促销政策", "微信确认收货"],
}


def followup_events(rng: np.random.Generator, created: np.ndarray, churn: np.ndarray):
    """(customer index, day, kind) of follow-ups: about one a month while active, fewer
    and more complaints in the half-year before churn, rare win-back calls afterwards."""
    D = N_DAYS
    phases = [  # (start, end, rate per day, kind probabilities visit/call/complaint/message)
        (np.maximum(created, 0), np.minimum(churn - 180, D), 0.8 / 30, (0.35, 0.52, 0.05, 0.08)),
        (np.maximum(np.maximum(created, churn - 180), 0), np.minimum(churn, D), 0.35 / 30, (0.15, 0.40, 0.40, 0.05)),
        (np.maximum(churn, 0), np.full_like(churn, D), 0.08 / 30, (0.0, 0.9, 0.05, 0.05)),
    ]
    cs, ds, ks = [], [], []
    kinds = np.array(["visit", "call", "complaint", "message"], dtype=object)
    for a, b, rate, kp in phases:
        span = np.maximum(b - a, 0)
        n = rng.poisson(span * rate)
        c = np.repeat(np.arange(len(created)), n)
        d = a[c] + (rng.random(len(c)) * span[c]).astype(np.int64)
        cs.append(c)
        ds.append(d)
        ks.append(kinds[rng.choice(4, size=len(c), p=kp)])
    return np.concatenate(cs), np.concatenate(ds), np.concatenate(ks)
