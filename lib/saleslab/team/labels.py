"""Labels of the team stage (domain.md §8): reps, teams, targets, tiers."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"achievement_rate", "collection_rate"}

LABELS: dict[str, tuple[str, str]] = {
    # stage
    "05_team": ("团队绩效", "Team performance"),
    # columns
    "rep_id": ("销售代表编号", "Rep"),
    "rep_name": ("销售代表", "Rep name"),
    "team": ("团队", "Team"),
    "reps": ("人数", "Reps"),
    "gross_sales": ("销售总额(未扣退货)", "Gross sales (before returns)"),
    "returns": ("退货金额", "Returns"),
    "target": ("目标", "Target"),
    "achievement_rate": ("目标达成率", "Achievement rate"),
    "new_customers": ("新客户数", "New customers"),
    "invoiced": ("应收金额(到期)", "Invoiced (due)"),
    "collected": ("已回款", "Collected"),
    "collection_rate": ("回款率", "Collection rate"),
    "revenue_per_rep": ("人均销售额", "Revenue per rep"),
    "rank": ("排名", "Rank"),
    "tier": ("绩效档位", "Tier"),
    # tier codes
    "tier_reward": ("奖励档", "Reward tier"),
    "tier_on_target": ("达标", "On target"),
    "tier_below_target": ("未达标", "Below target"),
    "tier_coaching": ("需辅导", "Coaching"),
    "tier_no_target": ("无目标", "No target"),
    # charts, tables and headlines
    "rep_achievement": ("销售代表目标达成率", "Achievement by rep"),
    "team_comparison": ("团队业绩对比", "Team comparison"),
    "target_line": ("目标线 100%", "Target 100%"),
    "reward_line": ("奖励线", "Reward line"),
    "coaching_line": ("辅导线", "Coaching line"),
    "team_achievement": ("团队目标达成率", "Team achievement rate"),
    "reward_reps": ("奖励档人数", "Reps in reward tier"),
    "coaching_reps": ("需辅导人数", "Reps to coach"),
    "reward_and_coaching": ("奖励与辅导名单", "Reward tier and coaching list"),
    # story templates ({name} placeholders; one template per finding, both languages)
    "story_team_empty": ("本期间没有销售目标数据。", "There are no sales targets in this period."),
    "story_team_no_targets": (
        "本期间没有销售代表的销售目标：下表列出各代表的销售额。{reps} 名有销售的代表合计 **{revenue}**，"
        "人均 **{per_rep}**。目标达成率、奖励档与辅导名单需要销售目标数据。",
        "There are no rep sales targets in this period: the tables show each rep's revenue. {reps} reps with sales "
        "brought **{revenue}**, **{per_rep}** per rep. Achievement, the reward tier and the "
        "coaching list need sales targets."),
    "story_team_no_reps": ("没有订单带有销售代表，也没有销售人员名单：无法按代表统计。",
                           "No order carries a sales rep and there is no rep list: there is nothing to show per rep."),
    "story_team_best": ("达成率最高的团队是 **{team}**（{team_rate}，销售额 {revenue}）。",
                        "The best team is **{team}** at {team_rate} of target ({revenue})."),
    "story_team_best_by_revenue": ("没有团队目标：销售额最高的团队是 **{team}**（{revenue}，人均 {per_rep}）。",
                                   "No team has a target: the team with the most revenue is **{team}** ({revenue}"
                                   ", {per_rep} per rep)."),
    "story_team_overall": ("1. 销售代表合计完成目标的 **{overall}**（{basis} {actual} / 目标 {target}）；"
                           "达成率最高的团队是 **{team}**（{team_rate}）。",
                           "1. Reps together reached **{overall}** of target ({basis} {actual} of {target}); "
                           "the best team is **{team}** at {team_rate}."),
    "story_team_overall_no_team": ("1. 销售代表合计完成目标的 **{overall}**（{basis} {actual} / 目标 {target}）。",
                                   "1. Reps together reached **{overall}** of target ({basis} {actual} of {target})."),
    "story_team_basis_net": ("扣除退货后的销售额", "revenue net of returns"),
    "story_team_basis_gross": ("未扣退货的销售总额", "gross sales before returns"),
    "story_team_reward": ("2. 达成率不低于 {reward_min} 的奖励档：**{names}**。",
                          "2. Reward tier (achievement ≥ {reward_min}): **{names}**."),
    "story_team_no_reward": ("2. 没有销售代表达成率达到 {reward_min}。", "2. No rep reached {reward_min} of target."),
    "story_team_coaching": ("3. 达成率不高于 {coaching_max}、需要辅导：**{names}**。",
                            "3. Coaching list (achievement ≤ {coaching_max}): **{names}**."),
    "story_team_no_coaching": ("3. 没有销售代表达成率不高于 {coaching_max}。",
                               "3. No rep is at or below {coaching_max} of target."),
}
