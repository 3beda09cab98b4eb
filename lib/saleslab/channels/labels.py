"""Labels of the channels stage (domain.md §5): channel KPIs, funnel steps and distributors."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"revenue_share", "retention_rate", "conversion_rate", "funnel_step_rate", "distribution_share",
          "collection_rate"}

LABELS: dict[str, tuple[str, str]] = {
    # stage
    "04_channels": ("渠道分析", "Channel performance"),
    # channel KPIs
    "revenue_share": ("销售额占比", "Revenue share"),
    "new_customers": ("新客户数", "New customers"),
    "retained_customers": ("复购新客户数", "Retained new customers"),
    "retention_rate": ("留存率", "Retention rate"),
    "conversion_rate": ("转化率", "Conversion rate"),
    "conversion_basis": ("转化口径", "Conversion basis"),
    "funnel_entries": ("漏斗入口数", "Funnel entries"),
    "conversions": ("转化数", "Conversions"),
    "acquisition_cost": ("获客投入", "Acquisition spend"),
    "operating_cost": ("运营费用", "Operating cost"),
    "campaign_spend": ("营销活动投入", "Campaign spend"),
    "channel_cost": ("渠道总成本", "Channel cost"),
    "cac": ("获客成本", "CAC"),
    "roi": ("投入产出比", "ROI"),
    "roi_review": ("需复核(投入产出比偏低)", "Review (low ROI)"),
    # funnel
    "funnel_step": ("漏斗环节", "Funnel step"),
    "funnel_step_order": ("环节序号", "Step no."),
    "funnel_count": ("数量", "Count"),
    "funnel_step_rate": ("相对首环节比例", "Share of first step"),
    "web_visits": ("网站访问", "Site visits"),
    "web_clicks": ("商品点击", "Clicks"),
    "crm_leads": ("销售线索", "Leads"),
    "won_leads": ("成交线索", "Won leads"),
    # distributors
    "distributor_id": ("经销商编号", "Distributor"),
    "distributor_name": ("经销商名称", "Distributor name"),
    "distribution_share": ("占经销销售额", "Share of distribution"),
    "invoiced": ("应收金额(到期)", "Invoiced (due)"),
    "collected": ("已回款", "Collected"),
    "collection_rate": ("回款率", "Collection rate"),
    "closure_review": ("建议清退复核", "Closure review"),
    # tables, charts and headlines
    "channel_table": ("渠道绩效", "Channel performance"),
    "channel_revenue_share": ("各渠道销售额占比", "Revenue share by channel"),
    "channel_roi": ("各渠道投入产出比", "ROI by channel"),
    "roi_threshold": ("复核阈值", "Review threshold"),
    "distributor_collection": ("经销商回款率", "Distributor collection rate"),
    "collection_threshold": ("清退阈值", "Closure threshold"),
    "channel_conversion": ("渠道转化漏斗", "Conversion funnel by channel"),
    "channels_flagged": ("需复核渠道数", "Channels to review"),
    "distributors_flagged": ("需清退复核经销商数", "Distributors for closure review"),
    "lowest_roi": ("最低投入产出比", "Lowest ROI"),
    "top_channel_share": ("第一大渠道占比", "Largest channel share"),
    # story templates ({name} placeholders; one template per finding, both languages)
    "story_channels_empty": ("本期间没有渠道销售数据。", "There are no channel sales in this period."),
    "story_channels_top": ("**{channel}** 是最大渠道：销售额 {revenue}，占 **{share}**；毛利率最高的是{best}（{best_margin}）。",
                           "**{channel}** is the largest channel with {revenue}, **{share}** of revenue; "
                           "the highest gross margin is in {best} ({best_margin})."),
    "story_channels_top_share": ("**{channel}** 是最大渠道：销售额 {revenue}，占 **{share}**。",
                                 "**{channel}** is the largest channel with {revenue}, **{share}** of revenue."),
    "story_channels_weak": ("投入产出比低于 {roi_min} 的渠道需复核：**{names}**。",
                            "Channels with ROI below {roi_min} need review: **{names}**."),
    "story_channels_no_weak": ("所有渠道的投入产出比均不低于 {roi_min}。", "Every channel has an ROI of at least {roi_min}."),
    "story_channels_bad_collection": ("回款率低于 {collection_min} 的经销商建议清退复核：**{names}**。",
                                      "Distributors collecting less than {collection_min} are flagged for closure "
                                      "review: **{names}**."),
    "story_channels_no_bad_collection": ("没有经销商的回款率低于 {collection_min}。",
                                         "No distributor collects less than {collection_min}."),
}
