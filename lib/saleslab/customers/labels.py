"""Labels of the customer segments stage (domain.md §6): RFM, tiers, rule tags, firmographics,
value matrix, clusters. Also the generic per-customer columns (customer_id, recency_days,
frequency, monetary) that the other customer stages share."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"customer_share", "main_channel_share", "main_category_share"}

LABELS: dict[str, tuple[str, str]] = {
    # stage
    "06_customers": ("客户细分", "Customer segments"),
    # generic per-customer columns
    "customer_id": ("客户编号", "Customer ID"),
    "customers": ("客户数", "Customers"),
    "customer_share": ("客户占比", "Share of customers"),
    "recency_days": ("最近购买距今(天)", "Days since last purchase"),
    "frequency": ("购买次数(订单)", "Frequency (orders)"),
    "monetary": ("消费金额(元)", "Monetary (CNY)"),
    "tenure_days": ("首购至今(天)", "Days since first order"),
    # RFM
    "r_score": ("R评分", "R score"),
    "f_score": ("F评分", "F score"),
    "m_score": ("M评分", "M score"),
    "rfm_class": ("RFM客户类别", "RFM class"),
    "treatment": ("建议策略", "Recommended treatment"),
    "avg_recency_days": ("平均最近购买距今(天)", "Mean days since last purchase"),
    "avg_frequency": ("平均购买次数", "Mean orders"),
    "avg_monetary": ("平均消费金额", "Mean spend"),
    "rfm_important_value": ("重要价值客户", "Important value"),
    "rfm_important_development": ("重要发展客户", "Important development"),
    "rfm_important_retention": ("重要保持客户", "Important retention"),
    "rfm_important_winback": ("重要挽留客户", "Important win-back"),
    "rfm_general_value": ("一般价值客户", "General value"),
    "rfm_general_development": ("一般发展客户", "General development"),
    "rfm_general_retention": ("一般保持客户", "General retention"),
    "rfm_general_winback": ("一般挽留客户", "General win-back"),
    "treat_important_value": ("重点维护：专属客户经理与VIP服务，优先供货",
                              "Keep close: dedicated account manager, VIP service, priority supply"),
    "treat_important_development": ("提升频次：交叉销售、套餐与定期回访",
                                    "Raise frequency: cross-sell, bundles, regular check-ins"),
    "treat_important_retention": ("主动唤回：销售上门或电话了解近况，定向优惠",
                                  "Re-engage: call or visit to learn why they paused, targeted offer"),
    "treat_important_winback": ("重点挽回：专人回访查明流失原因，挽回方案",
                                "Win back: personal follow-up on why they left, a win-back offer"),
    "treat_general_value": ("提升客单价：推荐高端或加购商品", "Upsell: premium items and add-ons"),
    "treat_general_development": ("培养习惯：新客引导、首购后优惠券", "Nurture: onboarding, post-purchase coupons"),
    "treat_general_retention": ("低成本唤醒：短信、邮件、会员日活动", "Low-cost reactivation: SMS, e-mail, member days"),
    "treat_general_winback": ("低成本维护：批量营销，不投入专人", "Low-cost service: mass campaigns only"),
    # tiers
    "customer_tier": ("客户分层", "Customer tier"),
    "tier_high_value": ("高价值客户", "High value"),
    "tier_potential": ("潜力客户", "Potential"),
    "tier_basic": ("基础客户", "Basic"),
    "tier_churn_risk": ("流失风险层（价值分层）", "Churn-risk tier (value tiers)"),
    # tags and their rules
    "tag": ("标签", "Tag"),
    "rule": ("规则", "Rule"),
    "tags": ("客户标签", "Tags"),
    "tag_high_value": ("高价值", "High value"),
    "tag_potential": ("潜力", "Potential"),
    "tag_churn_risk": ("流失风险", "Churn risk"),
    "rule_any": ("任一规则", "Any rule"),
    "rule_revenue": ("近12个月采购额达标", "Last-12-month purchases at threshold"),
    "rule_repeat": ("复购次数达标", "Repeat purchases at threshold"),
    "rule_followups": ("近期多次跟进未成交", "Followed up, no deal yet"),
    "rule_rising": ("采购额上升", "Rising purchases"),
    "rule_no_followup": ("长期未跟进", "No recent follow-up"),
    "rule_decline": ("采购额同比大幅下降", "Purchases down year over year"),
    # firmographics
    "customer_type": ("客户类型", "Customer type"),
    "industry_band": ("行业", "Industry"),
    "size_band": ("企业规模", "Company size"),
    "type_company": ("企业客户", "Company"),
    "type_person": ("个人客户", "Person"),
    "type_unknown": ("无档案", "No master record"),
    "industry_manufacturing": ("制造业", "Manufacturing"),
    "industry_retail": ("零售业", "Retail"),
    "industry_services": ("服务业", "Services"),
    "industry_other": ("其他/未知", "Other / unknown"),
    "size_large": ("大型(≥500人)", "Large (≥ 500)"),
    "size_medium": ("中型(50–499人)", "Medium (50–499)"),
    "size_small": ("小微(<50人)", "Small (< 50)"),
    "size_unknown": ("规模未知", "Size unknown"),
    # value matrix
    "current_value": ("当前价值(近12个月毛利)", "Current value (12-month gross profit)"),
    "potential_value": ("潜在价值", "Potential value"),
    "potential_growth": ("潜在价值(销售额同比变化)", "Potential value (revenue change YoY)"),
    "potential_clv": ("潜在价值(预测CLV)", "Potential value (predicted CLV)"),
    "quadrant": ("价值象限", "Value quadrant"),
    "quadrant_deepen": ("深耕", "Deepen"),
    "quadrant_maintain": ("维护", "Maintain"),
    "quadrant_develop": ("培育", "Develop"),
    "quadrant_low_cost": ("低成本服务", "Low-cost service"),
    # clusters
    "cluster": ("聚类", "Cluster"),
    "k": ("聚类数k", "k"),
    "silhouette": ("轮廓系数", "Silhouette"),
    "inertia": ("簇内平方和", "Inertia"),
    "main_channel": ("主要渠道", "Main channel"),
    "main_channel_share": ("主要渠道占比", "Main channel share"),
    "main_category": ("主要品类", "Main category"),
    "main_category_share": ("主要品类占比", "Main category share"),
    "description": ("特征描述", "Description"),
    "trait_recent": ("近期购买", "recent"),
    "trait_lapsed": ("久未购买", "lapsed"),
    "trait_frequent": ("高频", "frequent"),
    "trait_infrequent": ("低频", "infrequent"),
    "trait_high_spend": ("高消费", "high spend"),
    "trait_low_spend": ("低消费", "low spend"),
    "trait_long_standing": ("老客户", "long-standing"),
    "trait_new": ("新客户", "new"),
    "trait_average": ("各项接近平均", "close to average"),
    "trait_mostly": ("以{}为主", "mostly {}"),
    "trait_prefers": ("偏好{}", "buys more {}"),
    # charts and headlines
    "rfm_class_chart": ("RFM客户类别：客户数与销售额占比", "RFM classes: customers and revenue share"),
    "rfm_heatmap": ("R评分 × F评分：客户数", "R score × F score: customers"),
    "rfm_heatmap_monetary": ("R评分 × F评分：平均消费金额", "R score × F score: mean spend"),
    "tier_chart": ("客户分层与标签", "Tiers and tags"),
    "firmographic_chart": ("行业与规模：销售额占比", "Industry and size: revenue share"),
    "value_matrix_chart": ("客户价值矩阵", "Customer value matrix"),
    "cluster_chart": ("聚类 × RFM类别", "Clusters × RFM classes"),
    "segment_customers": ("细分客户数", "Customers segmented"),
    "important_value_share": ("重要价值客户销售额占比", "Revenue share of important value customers"),
    "high_tier_revenue_share": ("高价值客户销售额占比", "Revenue share of high-value tier"),
    "churn_risk_tagged": ("带流失风险标签客户数（规则）", "Customers with the churn-risk tag (rule)"),
    "clusters_found": ("聚类数", "Clusters"),
    # sections that may lack their inputs (the line saying what they need names them)
    "segments_firmographics": ("企业画像", "Firmographics"),
    "segments_value_matrix": ("价值矩阵", "Value matrix"),
    "segments_clusters": ("聚类", "Clusters"),
    "segments_followup_rules": ("标签的跟进类规则（近期多次跟进未成交、长期未跟进）",
                       "The follow-up rules of the tags (followed up without a deal, not followed up)"),
    "potential_clv_axis": ("潜在价值(预测未来{months}个月CLV)", "Potential value (predicted {months}-month CLV)"),
    "value_split_line": ("高低分界：{split}", "High/low split: {split}"),
    "split_median": ("中位数", "median"),
    "split_mean": ("平均值", "mean"),
    "split_quantile": ("{q:.0%}分位数", "{q:.0%} quantile"),
    # story templates ({name} placeholders; one template per finding, both languages; numbered by the story)
    "story_customers_empty": ("最近 {months} 个月没有可识别客户的购买记录。",
                              "No identified customer bought in the last {months} months."),
    "story_customers_rfm": ("最近 {months} 个月共有 **{customers}** 位客户购买，合计 {revenue}；"
                            "**重要价值客户 {iv_customers} 位（{iv_share}）贡献了 {iv_revenue_share} 的销售额**。",
                            "**{customers}** customers bought in the last {months} months, {revenue} in all; "
                            "**{iv_customers} important value customers ({iv_share}) brought {iv_revenue_share} of "
                            "the revenue**."),
    "story_customers_tiers": ("高价值层 {high} 位客户贡献 **{high_share}** 的销售额；流失风险层 {risk} 位客户已至少 "
                              "{days} 天未购买，最近 {months} 个月贡献 {risk_revenue}。",
                              "The high-value tier's {high} customers brought **{high_share}** of revenue; the {risk} "
                              "churn-risk customers have not bought for {days}+ days and brought {risk_revenue} "
                              "in the last {months} months."),
    "story_customers_churn_tag": ("**{tagged}** 位客户带有流失风险标签（{no_followup_months} 个月未跟进或采购额同比下降 "
                                  "{decline} 以上），其中 {both} 位同时是高价值客户，应优先回访。",
                                  "**{tagged}** customers carry the churn-risk tag (no follow-up for "
                                  "{no_followup_months} months, or purchases down by {decline} or more year over "
                                  "year); {both} of them are also high value: call them first."),
    "story_customers_churn_tag_purchases": ("**{tagged}** 位客户带有流失风险标签（采购额同比下降 {decline} 以上；"
                                            "没有跟进记录，跟进类规则未评估），其中 {both} 位同时是高价值客户，应优先回访。",
                                            "**{tagged}** customers carry the churn-risk tag (purchases down by "
                                            "{decline} or more year over year; without follow-up records the "
                                            "follow-up rules were not evaluated); {both} of them are also high "
                                            "value: call them first."),
    "story_customers_value_matrix": ("价值矩阵（以{split}划分高低）中「深耕」客户 {deepen} 位，占当前毛利的 {deepen_share}；"
                                     "「培育」客户 {develop} 位。",
                                     "In the value matrix (high/low split at the {split}), {deepen} customers to deepen "
                                     "hold {deepen_share} of current gross profit; {develop} customers to develop."),
    "story_customers_clusters": ("聚类在 {k_min}–{k_max} 类中按轮廓系数选出 **{k}** 类（轮廓系数 {silhouette}）：{groups}。",
                                 "Clustering picked **{k}** groups out of {k_min}–{k_max} by silhouette "
                                 "({silhouette}): {groups}."),
    "story_customers_cluster_item": ("{name} {cluster}：{description}（{share}）", "{name} {cluster}: {description} ({share})"),
    "story_customers_cluster_sep": ("；", "; "),
}
