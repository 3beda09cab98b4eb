"""The team stage's generated narrative: its three biggest findings."""

from __future__ import annotations

import pandas as pd

from ..report.i18n import t


def _people(df: pd.DataFrame, lang: str) -> str:
    sep = "、" if lang == "zh-CN" else ", "
    return sep.join(f"{n if isinstance(n, str) else i} ({i}, {a:.0%})"
                    for i, n, a in zip(df["rep_id"], df["rep_name"], df["achievement_rate"]))


def team_narrative(reps: pd.DataFrame, teams: pd.DataFrame, lang: str, reward_min: float = 1.2,
                   coaching_max: float = 0.6) -> str:
    """Three findings from :func:`saleslab.team.rep_performance` and :func:`~saleslab.team.team_performance`:
    overall achievement and the best team, the reward tier, the coaching list."""
    zh = lang == "zh-CN"
    if reps.empty or reps["target"].isna().all():
        return "本期间没有销售目标数据。" if zh else "There are no sales targets in this period."
    active = reps[reps["target"].notna()]
    revenue, target = float(active["revenue"].sum()), float(active["target"].sum())
    overall = revenue / target if target else 0.0
    best = teams.sort_values("rank").iloc[0] if len(teams) else None
    reward = reps[reps["tier"] == "tier_reward"].sort_values("rank")
    coach = reps[reps["tier"] == "tier_coaching"].sort_values("achievement_rate")
    unit = t("wan_yuan", lang)
    if zh:
        lines = [f"1. 销售代表合计完成目标的 **{overall:.1%}**（{revenue / 1e4:,.1f} / {target / 1e4:,.1f} {unit}）"
                 + (f"；达成率最高的团队是 **{best['team']}**（{best['achievement_rate']:.1%}）。" if best is not None else "。")]
        lines.append(f"2. 达成率不低于 {reward_min:.0%} 的奖励档：**{_people(reward, lang)}**。"
                     if len(reward) else f"2. 没有销售代表达成率达到 {reward_min:.0%}。")
        lines.append(f"3. 达成率不高于 {coaching_max:.0%}、需要辅导：**{_people(coach, lang)}**。"
                     if len(coach) else f"3. 没有销售代表达成率低于 {coaching_max:.0%}。")
    else:
        lines = [f"1. Reps together reached **{overall:.1%}** of target ({revenue / 1e4:,.1f} of {target / 1e4:,.1f} {unit})"
                 + (f"; the best team is **{best['team']}** at {best['achievement_rate']:.1%}." if best is not None else ".")]
        lines.append(f"2. Reward tier (achievement ≥ {reward_min:.0%}): **{_people(reward, lang)}**."
                     if len(reward) else f"2. No rep reached {reward_min:.0%} of target.")
        lines.append(f"3. Coaching list (achievement ≤ {coaching_max:.0%}): **{_people(coach, lang)}**."
                     if len(coach) else f"3. No rep is at or below {coaching_max:.0%} of target.")
    return "\n".join(lines)
