"""Labels of the customer 360° page (domain.md §6): profile, orders, sources, next actions."""

LABELS: dict[str, tuple[str, str]] = {
    # an empty table says why (Stage.labelled(empty=...))
    "c360_empty_followups": ("该客户在截至日前没有 CRM 跟进记录（经销商通常不在 CRM 中跟进）。",
                             "No CRM follow-ups for this customer up to the cut-off (distributors are usually not followed up in the CRM)."),
    "c360_empty_suggestions": ("没有适合该客户的交叉销售建议：其已购商品不在任何达到提升度阈值的关联规则中，或规则推荐的商品已买过。",
                               "No cross-sell suggestion for this customer: none of their products is in a rule at the lift threshold, or they already bought what the rules suggest."),
    "c360_empty_orders": ("该客户在分析期内没有订单。", "The customer has no orders in the analysis period."),
    # profile, orders, follow-ups, sources
    "order_id": ("订单编号", "Order ID"),
    "order_date": ("下单日期", "Order date"),
    "lines": ("行数", "Lines"),
    "quantity": ("数量", "Quantity"),
    "followup_date": ("跟进日期", "Follow-up date"),
    "followup_kind": ("跟进方式", "Follow-up kind"),
    "followup_content": ("跟进内容", "Follow-up notes"),
    "c360_field": ("项目", "Field"),
    "c360_value": ("内容", "Value"),
    "customer_name": ("客户名称", "Customer name"),
    "c360_customer_id": ("客户编号", "Customer ID"),
    "c360_name": ("客户名称", "Name"),
    "c360_customer_type": ("客户类型", "Customer type"),
    "c360_industry": ("行业", "Industry"),
    "c360_employees": ("员工数", "Employees"),
    "c360_region": ("区域", "Region"),
    "c360_city": ("城市", "City"),
    "c360_phone": ("电话", "Phone"),
    "c360_email": ("邮箱", "Email"),
    "c360_owner_rep_id": ("负责销售", "Owner rep"),
    "c360_acquisition_channel": ("获客渠道", "Acquisition channel"),
    "c360_created_date": ("建档日期", "Created"),
    "c360_profile_section": ("客户档案", "Customer profile"),
    "c360_value_section": ("客户价值与流失风险", "Value and churn risk"),
    "c360_followups_section": ("跟进记录", "Follow-ups"),
    "c360_suggestions_section": ("交叉销售建议", "Cross-sell suggestions"),
    "c360_profile_missing": ("客户主数据中无此客户", "Not in the customer master"),
    "c360_reason": ("流失风险原因", "Churn-risk reasons"),
    "c360_reason_from": ("依据", "From"),
    "reason_lifecycle": ("生命周期规则", "Lifecycle rule"),
    "reason_model": ("流失模型", "Churn model"),
    "next_action": ("建议行动", "Next action"),
    "next_action_reason": ("行动依据", "Why"),
    "source_segment": ("细分数据来源", "Segment from"),
    "source_value": ("价值与风险数据来源", "Value and risk from"),
    "run": ("本次运行的前序阶段", "Earlier stage of this run"),
    "computed": ("本页计算", "Computed on this page"),
    # next actions and why
    "act_retention_call": ("一周内电话挽留并给予专属优惠", "Retention call within a week with a personal offer"),
    "act_winback_call": ("负责销售电话挽回", "Win-back call by the owner rep"),
    "act_retention_offer": ("发送挽留优惠券", "Send a retention coupon"),
    "act_winback_campaign": ("纳入低成本唤醒活动", "Add to a low-cost win-back campaign"),
    "act_convert": ("跟进线索促成首单", "Follow up to win the first order"),
    "act_onboard": ("新客关怀,激励第二次购买", "Welcome and a second-purchase incentive"),
    "act_vip_care": ("大客户专属服务与权益", "VIP care: key-account service and perks"),
    "act_upsell": ("交叉销售/升级推荐", "Cross-sell and upsell"),
    "act_maintain": ("常规低成本维护", "Maintain at low cost"),
    "why_act_prospect": ("潜在客户,尚未成交", "Prospect without an order yet"),
    "why_act_churned_high": ("已流失的高价值客户", "Churned high-value customer"),
    "why_act_churned": ("已流失客户", "Churned customer"),
    "why_act_risk_high": ("有流失风险的高价值客户", "High-value customer at risk"),
    "why_act_risk": ("有流失风险", "At risk of churning"),
    "why_act_new": ("新客户", "New customer"),
    "why_act_high_value": ("高价值且活跃", "High value and active"),
    "why_act_potential": ("有增长潜力", "Room to grow"),
    "why_act_regular": ("一般客户,购买正常", "Regular customer buying normally"),
    "source_stage": ("生命周期数据来源", "Lifecycle stage from"),
    # facts of the other stages about this customer (links.py, story.py)
    "c360_links_section": ("各页面对该客户的结论", "What the other pages say about this customer"),
    "c360_trend_section": ("按月销售额与订单数", "Monthly revenue and orders"),
    "link_stage": ("来源页面", "From page"),
    "link_fact": ("结论", "Finding"),
    "link_value": ("内容", "Value"),
    "link_detail": ("依据", "Basis"),
    "link_source": ("数据来源", "Read from"),
    "link_collection_review": ("经销商回款复核", "Distributor collection review"),
    "link_collection_ok": ("回款正常，无需清退复核", "Collection fine: no closure review"),
    "link_rfm_class": ("RFM 分类", "RFM class"),
    "link_tier": ("价值分层", "Value tier"),
    "link_tag": ("规则标签", "Rule tag"),
    "link_no_tag": ("无规则标签", "No rule tag"),
    "link_quadrant": ("价值矩阵象限", "Value-matrix quadrant"),
    "link_churn_probability": ("流失模型风险（概率）", "Churn model risk (probability)"),
    "link_clv": ("预测客户终身价值", "Predicted CLV"),
    "link_credit_grade": ("信用等级", "Credit grade"),
    "link_outstanding": ("应收未收金额", "Receivables outstanding"),
    "link_overdue_90": ("逾期超过 90 天的应收", "Receivables more than 90 days past due"),
    "link_max_days_overdue": ("最长逾期天数", "Longest days past due"),
    "link_alert": ("风险预警", "Risk alert"),
    "c360_points": ("{points} 分", "{points} points"),
    "c360_trend_too_short": ("分析期只有 {months} 个月，按月趋势至少需要 {need} 个月，不绘制趋势图",
                             "the period has {months} month(s); a monthly trend needs at least {need}, so none is drawn"),
    "c360_no_rules": ("没有达到阈值的交叉销售规则，规则表略去。", "No cross-sell rule reaches the thresholds; no rule table."),
    "story_c360_flag_review": ("{stage}页因回款率 {rate} 低于清退阈值建议清退复核",
                               "{stage} flags it for closure review (collection rate {rate}, below the threshold)"),
    "story_c360_flag_credit": ("{stage}页信用等级为 {grade}", "{stage} rates its credit {grade}"),
    "story_c360_verdicts": ("{stage}页按购买评定（{verdicts}）", "{stage} rates its purchases ({verdicts})"),
    "story_c360_links_review_value": (
        "**{name}**：{flags}；而{verdicts}。两者同时成立：客户细分只看买得多不多、近不近、频不频（RFM、毛利、预测价值），"
        "不看回款；回款复核与信用等级看的是开票后是否按期付款。这是一位买得多、付得慢的客户——"
        "宜先催收并收紧信用条件（预付、缩短账期、控制发货额度），再决定是否清退。",
        "**{name}**: {flags}; while {verdicts}. Both hold: segments look only at how much, how recently and how "
        "often it buys (RFM, margin, predicted value), not at payment; the collection review and the credit grade "
        "look at whether it pays its invoices on time. It buys much and pays late — chase the receivables and "
        "tighten its credit terms (prepayment, shorter terms, a shipment limit) before deciding on closure."),
    "story_c360_links_review_value_overdue": (
        "**{name}**：{flags}；而{verdicts}。两者同时成立：客户细分只看买得多不多、近不近、频不频（RFM、毛利、预测价值），"
        "不看回款；回款复核与信用等级看的是开票后是否按期付款，目前逾期超过 90 天的应收为 {overdue}。"
        "这是一位买得多、付得慢的客户——宜先催收并收紧信用条件（预付、缩短账期、控制发货额度），再决定是否清退。",
        "**{name}**: {flags}; while {verdicts}. Both hold: segments look only at how much, how recently and how "
        "often it buys (RFM, margin, predicted value), not at payment; the collection review and the credit grade "
        "look at whether it pays its invoices on time — {overdue} of its receivables are more than 90 days past "
        "due. It buys much and pays late: chase the receivables and tighten its credit terms (prepayment, shorter "
        "terms, a shipment limit) before deciding on closure."),
    "story_c360_links_flagged": ("**{name}**：{flags}，购买方面也不属于高价值客户，复核时可优先处理。",
                                 "**{name}**: {flags}, and its purchases do not make it a high-value customer: "
                                 "a first candidate for the review."),
    "story_c360_links_valuable": ("**{name}**：{verdicts}；回款与信用方面没有被标记，各页结论一致。",
                                  "**{name}**: {verdicts}; neither its collection nor its credit is flagged: the "
                                  "pages agree."),
    "c360_verdict_item": ("{fact}为{value}", "{fact} {value}"),
    "story_c360_watch": ("{stage}页有预警：{alerts}", "{stage} raises an alert: {alerts}"),
    "story_c360_links_valuable_watch": (
        "**{name}**：{verdicts}；{watch}。两者同时成立：细分只看购买，预警看的是回款与信用——买得多并不代表付得及时，"
        "应在维护关系的同时跟进应收。",
        "**{name}**: {verdicts}; {watch}. Both hold: segments look at purchases only, the alert at collection and "
        "credit — buying much does not mean paying on time: keep the relationship and follow up the receivables."),
    "story_c360_links_watch": ("**{name}**：{watch}，请跟进应收。", "**{name}**: {watch}; follow up the receivables."),
    "story_c360_links_plain": ("**{name}**：各页对该客户没有需要特别关注的结论，详见下表。",
                               "**{name}**: no page flags this customer or rates it high value; details below."),
    "story_c360_links_none": ("**{name}**：本次运行的其他页面没有该客户的结论。",
                              "**{name}**: no other page of this run has a finding on this customer."),
}
