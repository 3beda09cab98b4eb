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
    "tier_reward": ("奖励档(≥120%)", "Reward tier"),
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
}
