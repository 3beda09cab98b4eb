"""The customer segments stage's generated narrative (main findings first) and the clusters'
descriptions in words.

Each finding is one template in :mod:`saleslab.customers.labels` (``story_customers_*``), in both
languages; thresholds are those the tables were computed with (:func:`saleslab.params.used`).
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import has, join, say, t


def cluster_description(traits: str, lang: str) -> str:
    """Words for a cluster's traits (:func:`saleslab.customers.cluster_profiles`): "recent, frequent,
    high spend, mostly Online" / "近期购买、高频、高消费、以线上电商为主"."""
    words = []
    for key in [k for k in (traits or "").split(",") if k]:
        if key.startswith("channel:"):
            code = key.split(":", 1)[1]
            words.append(t("trait_mostly", lang).format(t(code, lang) if has(code) else code))
        elif key.startswith("category:"):
            words.append(t("trait_prefers", lang).format(key.split(":", 1)[1]))
        else:
            words.append(t(key, lang))
    if not words:
        return t("trait_average", lang)
    return join(words, lang)


def split_text(split, lang: str) -> str:
    """The value matrix's high/low cut (``value_split``) in words: "median", "mean", "75% quantile"."""
    if split in ("median", "mean"):
        return t(f"split_{split}", lang)
    return say("split_quantile", lang, q=float(split))


def describe_profiles(profiles: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:func:`saleslab.customers.cluster_profiles` with the traits replaced by a description."""
    out = profiles.copy()
    out["description"] = [cluster_description(x, lang) for x in out.pop("traits")]
    out.attrs = dict(profiles.attrs)
    return out


def customers_narrative(seg: pd.DataFrame, summary: pd.DataFrame, lang: str, quadrants: pd.DataFrame | None = None,
                        clusters=None, tags: pd.DataFrame | None = None) -> str:
    """Findings from :func:`saleslab.customers.segment_table` (``seg``) and :func:`~saleslab.customers.rfm_summary`:
    who carries the revenue, the tiers, the churn-risk tag, the value matrix and the clusters
    (:class:`~saleslab.customers.ClusterResult`). The RFM window and the tag thresholds are those
    ``seg`` was computed with.

    ``quadrants`` and ``clusters`` may be :class:`~saleslab.customers.Part` objects: a part that
    could not be computed (its section says why) gives no finding. With ``tags``
    (:func:`~saleslab.customers.rule_tags`) whose follow-up rules were not evaluated (no follow-ups
    in the warehouse), the churn-risk finding names the purchase rule only and says so."""
    from .segments import FOLLOWUP_RULES, value_of

    quadrants, clusters = value_of(quadrants), value_of(clusters)
    months = used(seg, "rfm_window_months")
    n = len(seg)
    if n == 0:
        return say("story_customers_empty", lang, months=months)
    total = float(seg["monetary"].sum())
    iv = summary.set_index("rfm_class").loc["rfm_important_value"]
    lines = [say("story_customers_rfm", lang, months=months, customers=f"{n:,}", revenue=money(total, lang),
                 iv_customers=f"{int(iv['customers']):,}", iv_share=f"{iv['customer_share']:.1%}",
                 iv_revenue_share=f"{iv['revenue_share']:.1%}")]
    if "customer_tier" in seg:
        hi = seg[seg["customer_tier"] == "tier_high_value"]
        risk = seg[seg["customer_tier"] == "tier_churn_risk"]
        lines.append(say("story_customers_tiers", lang, months=months, high=f"{len(hi):,}",
                         high_share=f"{(float(hi['monetary'].sum()) / total if total else 0.0):.1%}",
                         risk=f"{len(risk):,}", days=int(risk["recency_days"].min()) if len(risk) else 0,
                         risk_revenue=money(float(risk["monetary"].sum()), lang)))
    if "tag_churn_risk" in seg and seg["tag_churn_risk"].notna().all():
        tagged = seg[seg["tag_churn_risk"]]
        both = seg[seg["tag_churn_risk"] & seg["tag_high_value"]]
        unevaluated = tags is not None and any(tags[r].isna().any() for r in FOLLOWUP_RULES if r in tags)
        lines.append(say("story_customers_churn_tag_purchases" if unevaluated else "story_customers_churn_tag", lang,
                         tagged=f"{len(tagged):,}", both=f"{len(both):,}",
                         no_followup_months=used(seg, "tag_no_followup_months"),
                         decline=f"{used(seg, 'tag_decline_min'):.0%}"))
    if quadrants is not None and len(quadrants):
        q = quadrants.set_index("quadrant")
        cv = float(q["current_value"].sum())
        share = float(q.loc["quadrant_deepen", "current_value"]) / cv if cv else 0.0
        lines.append(say("story_customers_value_matrix", lang, split=split_text(used(quadrants, "value_split"), lang),
                         deepen=f"{int(q.loc['quadrant_deepen', 'customers']):,}", deepen_share=f"{share:.1%}",
                         develop=f"{int(q.loc['quadrant_develop', 'customers']):,}"))
    if clusters is not None:
        p = clusters.profiles.sort_values("customers", ascending=False)
        groups = [say("story_customers_cluster_item", lang, name=t("cluster", lang), cluster=int(r.cluster),
                      description=cluster_description(r.traits, lang), share=f"{r.customer_share:.0%}")
                  for r in p.itertuples()]
        lines.append(say("story_customers_clusters", lang, k=clusters.k, silhouette=f"{clusters.silhouette:.2f}",
                         k_min=used(clusters.labels, "cluster_k_min"), k_max=used(clusters.labels, "cluster_k_max"),
                         groups=t("story_customers_cluster_sep", lang).join(groups)))
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
