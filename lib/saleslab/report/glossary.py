"""One name per figure: the definition of every headline figure, in both languages.

Each headline key (``st.headline(key, ...)`` in a stage notebook) has one entry here: what is
counted or summed (the formula in words), the unit, the period and the source tables. The name is
the key's label (:func:`saleslab.report.i18n.t`), so a figure has one name wherever it appears; no
two headline figures share a name in either language (``tests/test_format.py`` checks both).

Four churn-related counts are four different measures and are named so:

* ``churn_risk_tagged`` — the **rule tag** of 06 (purchases halving, or a CRM customer not followed up
  for months who is not buying and growing);
* ``churn_at_risk`` — the **churn model's** predicted probability of 07 above a threshold;
* ``tier_churn_risk`` — the lowest **value tier** of 06 (a share of customers by revenue), not a count
  of risk at all;
* ``lc_at_risk`` — the **lifecycle stage** of 06 (no order for a number of days).

Used by the index page (tooltips), the glossary page and the stage pages (a footnote under a figure:
:func:`footnote`).

>>> definition("revenue", "en").startswith("Sales net of returns")
True
>>> name("churn_at_risk", "zh-CN")
'模型预测高流失风险客户数'
"""

from __future__ import annotations

from . import i18n

_U = {  # unit per kind
    "money": ("元（显示为元、万元或亿元）", "CNY (shown as CNY, CNY K, M or B)"),
    "percent": ("百分比", "percent"),
    "growth": ("百分比（带正负号）", "percent (signed)"),
    "count": ("个数", "count"),
    "days": ("天", "days"),
    "number": ("无单位数值", "a plain number"),
}
_P = {  # periods
    "period": ("报告期（period_start 至 period_end）", "the report period (period_start to period_end)"),
    "as_of": ("截至报告期末（as_of）", "as of the end of the period (as_of)"),
    "latest_month": ("报告期内最近一个完整月份", "the latest month of the report period"),
    "ytd": ("报告期末所在年份的年初至报告期末", "year to date: 1 January to the end of the period"),
    "rfm": ("截至报告期末的 RFM 窗口（rfm_window_months 个月）", "the RFM window ending at the period end (rfm_window_months)"),
    "last_12m": ("截至报告期末的最近 12 个月", "the 12 months ending at the period end"),
    "ingest": ("最近一次入库（全部源文件）", "the latest ingest (every source file)"),
    "holdout": ("报告期末前的留出月份（clv_holdout_months）", "the hold-out months before the period end (clv_holdout_months)"),
    "next_quarter": ("报告期末之后的三个月", "the three months after the period end"),
    "backtest": ("滚动起点回测（forecast_windows 个窗口）", "the rolling-origin back-test (forecast_windows windows)"),
    "horizon": ("报告期末起的 CLV 预测期（clv_horizon_months 个月）", "the CLV horizon after the period end (clv_horizon_months)"),
}

#: key -> (kind, period, source tables, formula zh-CN, formula en)
_ENTRIES: dict[str, tuple[str, str, tuple[str, ...], str, str]] = {
    # 00 data quality
    "rows_read": ("count", "ingest", (), "各源文件读取的数据行数之和（不含表头、合计和页脚行）",
                  "Data rows read from every source file (headers, totals and trailers not counted)"),
    "rows_merged": ("count", "ingest", (), "清洗时识别为跨系统或重复录入并合并掉的行数",
                    "Rows recognised as duplicates (within or across systems) and merged during cleaning"),
    "rows_quarantined": ("count", "ingest", (), "因缺字段、无法解析或数值不可能而隔离、未入库的行数",
                         "Rows kept out of the warehouse (quarantined) for a missing value, an unparseable field "
                         "or an impossible value"),
    "unbalanced_files": ("count", "ingest", (), "读取行数 ≠ 入库 + 合并 + 隔离 + 跳过行数的文件个数（应为 0）",
                         "Files whose rows read differ from rows loaded + merged + quarantined + skipped (should be 0)"),
    "coverage": ("percent", "period", ("order_lines",), "客户、产品、区域与渠道均已知的订单行占全部订单行的比例",
                 "Share of order lines whose customer, product, region and channel are all known"),
    "canonical_customers": ("count", "ingest", ("customers",), "各系统客户记录按信用代码、电话、邮箱和名称归并后的客户个数",
                            "Customers left after merging the systems' customer records by tax ID, phone, e-mail and name"),
    "review_pairs": ("count", "ingest", ("customers",), "仅凭名称或电话相似、需人工核对是否同一客户的客户对数",
                     "Pairs of customer records similar by name or phone only, to be checked by a person"),
    "outliers_flagged": ("count", "ingest", ("order_lines",), "数量或金额远离该产品与该客户常见值、被标记待复核的订单行数（保留，不删除）",
                         "Order lines whose quantity or amount is far from the product's and the customer's usual "
                         "values, flagged for review (kept, not deleted)"),
    # 01 overview
    "revenue": ("money", "period", ("orders", "order_lines", "returns"), "订单行金额（扣除折扣）减去退货金额",
                "Sales net of returns: order-line amounts after discounts minus returned amounts"),
    "gross_margin": ("percent", "period", ("order_lines", "returns", "products"), "（销售额 − 销售成本）÷ 销售额；成本按产品成本价计",
                     "(Revenue − cost of goods) ÷ revenue; cost at the products' unit cost"),
    "orders": ("count", "period", ("orders",), "报告期内下单的有效订单个数（不含已隔离订单）",
               "Valid orders placed in the period (quarantined orders excluded)"),
    "active_customers": ("count", "period", ("orders",), "报告期内至少下过一单的客户个数",
                         "Customers with at least one order in the period"),
    # the stakeholder pages (saleslab serve) show it beside revenue and margin
    "gross_profit": ("money", "period", ("order_lines", "returns", "products"), "销售额 − 销售成本；成本按产品成本价计",
                     "Revenue − cost of goods; cost at the products' unit cost"),
    # 02 performance
    "latest_month_revenue": ("money", "latest_month", ("orders", "order_lines", "returns"), "最近一个月的销售额（扣除退货）",
                             "Revenue (net of returns) of the latest month"),
    "yoy_growth": ("growth", "latest_month", ("orders", "order_lines", "returns"), "最近一个月销售额 ÷ 去年同月销售额 − 1；去年同月为零时不计算",
                   "Latest month's revenue ÷ the same month last year − 1; not computed when last year was zero"),
    "ytd_achievement": ("percent", "ytd", ("targets", "orders", "order_lines", "returns"), "年初至今实际销售额之和 ÷ 同期目标之和",
                        "Sum of actual revenue year to date ÷ sum of the targets of the same months"),
    "collection_rate": ("percent", "ytd", ("invoices", "payments"), "年内已到期发票的回款金额 ÷ 到期应收金额",
                        "Payments received on invoices due this year ÷ the amounts due"),
    "ytd_revenue": ("money", "ytd", ("orders", "order_lines", "returns"), "年初至报告期末的销售额（扣除退货），与去年同期对比",
                    "Revenue (net of returns) from 1 January to the end of the period, compared with the same days last year"),
    "ytd_gross_margin": ("percent", "ytd", ("order_lines", "returns", "products"), "年初至今（销售额 − 销售成本）÷ 销售额，与去年同期对比",
                         "(Revenue − cost of goods) ÷ revenue, year to date, compared with the same days last year"),
    "ytd_orders": ("count", "ytd", ("orders",), "年初至今下单的有效订单个数，与去年同期对比",
                   "Valid orders placed year to date, compared with the same days last year"),
    "ytd_active_customers": ("count", "ytd", ("orders",), "年初至今至少下过一单的客户个数，与去年同期对比",
                             "Customers with at least one order year to date, compared with the same days last year"),
    # 03 products
    "star_product_count": ("count", "period", ("order_lines", "products"), "BCG 矩阵中市场份额与同比增长均高于阈值的产品个数",
                           "Products in the BCG stars quadrant: market share and year-on-year growth both above "
                           "their thresholds"),
    "slow_mover_count": ("count", "as_of", ("inventory", "order_lines"), "有库存但本期销量低于滞销阈值的产品个数",
                         "Products holding stock whose sales in the period are below the slow-mover threshold"),
    "days_of_inventory": ("days", "period", ("inventory", "order_lines", "products"),
                          "平均库存成本 ÷ 本期日均销售成本；几乎没有销售时无意义（显示 —）",
                          "Average inventory at cost ÷ cost of goods sold per day of the period; not meaningful "
                          "(shown —) when almost nothing sells"),
    "sell_through_rate": ("percent", "period", ("inventory", "products", "order_lines"),
                          "分析期最后 sell_through_months 个月（默认 1 个月）内有销售的 SKU 数 ÷ 在售 SKU 数（有库存、已上市或有销售）",
                          "SKUs that sold in the last sell_through_months of the period (1 by default) ÷ SKUs on offer "
                          "(in stock, listed or sold)"),
    # 04 channels
    "channels_flagged": ("count", "period", ("channel_costs", "order_lines"), "投入产出比（销售额 ÷ 渠道成本）低于 roi_min 的渠道个数",
                         "Channels whose ROI (revenue ÷ channel cost) is below roi_min"),
    "lowest_roi": ("number", "period", ("channel_costs", "order_lines"), "各渠道投入产出比（销售额 ÷ 渠道成本）中的最小值",
                   "The smallest channel ROI (revenue ÷ channel cost)"),
    "distributors_flagged": ("count", "period", ("distributors", "invoices", "payments"), "回款率低于 collection_min、建议清退复核的经销商个数",
                             "Distributors collecting less than collection_min of what is due, proposed for a "
                             "closure review"),
    # 05 team
    "team_achievement": ("percent", "period", ("targets", "orders", "order_lines", "reps"), "全部销售人员实际销售额之和 ÷ 目标之和",
                         "Sum of all reps' revenue ÷ sum of their targets"),
    "revenue_per_rep": ("money", "period", ("orders", "order_lines", "reps"), "销售额 ÷ 本期有业绩的销售人员数",
                        "Revenue ÷ reps with sales in the period"),
    "reward_reps": ("count", "period", ("targets", "reps"), "目标达成率达到奖励档的销售人员数",
                    "Reps whose achievement rate reaches the reward tier"),
    "coaching_reps": ("count", "period", ("targets", "reps"), "目标达成率低于辅导档的销售人员数",
                      "Reps whose achievement rate is below the coaching tier"),
    # 06 customers
    "segment_customers": ("count", "rfm", ("orders", "customers"), "RFM 窗口内有购买、参与细分的客户个数",
                          "Customers with purchases in the RFM window, who are segmented"),
    "important_value_share": ("percent", "rfm", ("orders", "order_lines", "returns"), "RFM 类别“重要价值客户”的销售额 ÷ 全部细分客户销售额",
                              "Revenue of the RFM class “important value” ÷ revenue of all segmented customers"),
    "high_tier_revenue_share": ("percent", "rfm", ("orders", "order_lines", "returns"),
                                "价值分层中高价值层（按销售额排名前 tier_high_share 的客户）的销售额占比",
                                "Revenue share of the high-value tier (the top tier_high_share of customers by revenue)"),
    "churn_risk_tagged": ("count", "rfm", ("customers", "followups", "orders"),
                          "规则标签：采购额同比下降一半以上，或（仅对 CRM 覆盖的客户）连续多月无跟进、且并非近期仍在购买并增长，"
                          "而被打上“流失风险”标签的客户数（规则判断，不是模型预测）",
                          "Rule tag: customers tagged churn risk because their purchases fell by half or more year on "
                          "year, or — for customers the CRM covers only — they had no follow-up for months and are not "
                          "buying recently and growing (a rule, not the model's prediction)"),
    "clusters_found": ("count", "rfm", ("orders",), "k-means 聚类按轮廓系数选出的客户群个数",
                       "Customer clusters chosen by k-means with the best silhouette score"),
    "lc_active_buyers": ("count", "as_of", ("orders", "customers"), "有过购买且尚未流失（最近一单距期末少于 lifecycle_churned_days 天）的客户数",
                         "Customers who have bought and have not churned (last order less than lifecycle_churned_days "
                         "days before the period end)"),
    "lc_at_risk": ("count", "as_of", ("orders",), "生命周期阶段：最近一单距期末已超过 lifecycle_at_risk_days 天、但尚未流失的客户数",
                   "Lifecycle stage: customers whose last order is more than lifecycle_at_risk_days days before the "
                   "period end, not yet churned"),
    "lc_repurchase_rate": ("percent", "last_12m", ("orders",), "近 12 个月有购买的客户中，购买两次及以上的比例",
                           "Of customers who bought in the last 12 months, the share who bought at least twice"),
    "lc_monthly_churn_rate": ("percent", "last_12m", ("orders",), "每月新流失客户数 ÷ 月初在册客户数，取近 12 个月平均",
                              "Customers churning in a month ÷ customers active at the start of the month, averaged over "
                              "the last 12 months"),
    # 07 CLV and churn
    "clv_holdout_error": ("growth", "holdout", ("orders", "order_lines", "returns"), "留出期预测购买额之和 ÷ 实际购买额之和 − 1（检验购买模型）",
                          "Predicted purchases over the hold-out months ÷ actual purchases − 1 (a check of the "
                          "purchase model)"),
    "clv_total": ("money", "horizon", ("orders", "order_lines", "returns"), "BG/NBD × Gamma-Gamma 模型预测的全部客户未来毛利贴现值之和",
                  "Sum over customers of the discounted future value predicted by the BG/NBD × Gamma-Gamma models"),
    "clv_mean": ("money", "horizon", ("orders", "order_lines", "returns"), "客户终身价值合计 ÷ 参与计算的客户数",
                 "Total CLV ÷ customers valued"),
    "churn_model_auc": ("number", "holdout", ("orders", "followups"), "流失模型在留出数据上的 ROC 曲线下面积（0.5 为随机，1 为完美）",
                        "Area under the ROC curve of the churn model on held-out data (0.5 is chance, 1 perfect)"),
    "churn_at_risk": ("count", "as_of", ("orders", "followups", "customers"),
                      "模型预测：流失模型给出的流失概率 ≥ churn_risk_min 的客户数（模型判断，不是规则标签）",
                      "Model prediction: customers whose churn probability from the churn model is at least "
                      "churn_risk_min (the model, not the rule tag)"),
    # 08 customer 360
    "cs_rules": ("count", "period", ("order_lines",), "提升度不低于 crosssell_min_lift 的产品关联规则条数（买了 A 的客户也买 B）",
                 "Product association rules (customers who bought A also bought B) with a lift of at least "
                 "crosssell_min_lift"),
    # 09 forecast
    "forecast_next_quarter": ("money", "next_quarter", ("orders", "order_lines", "returns"), "回测选出的模型对未来三个月销售额预测之和（协调后的合计）",
                              "Sum of the next three months' revenue forecast by the back-tested model (reconciled total)"),
    "forecast_growth_yoy": ("growth", "next_quarter", ("orders", "order_lines", "returns"), "下季度预测销售额 ÷ 去年同期实际销售额 − 1",
                            "Next quarter's forecast ÷ actual revenue of the same months last year − 1"),
    "forecast_coverage_80": ("percent", "backtest", ("orders", "order_lines"), "回测中实际值落入 80% 预测区间的比例（应接近 80%）",
                             "Share of back-test actuals inside the 80 % interval (should be close to 80 %)"),
    # 10 funnel
    "funnel_win_rate": ("percent", "period", ("leads", "lead_stages"), "已结线索中赢单的比例（未结线索不计）",
                        "Share of closed leads that were won (open leads not counted)"),
    "funnel_open_leads": ("count", "as_of", ("leads", "lead_stages"), "期末仍未赢单或输单的线索个数",
                          "Leads neither won nor lost at the period end"),
    "funnel_cycle_days": ("days", "period", ("leads", "lead_stages"), "赢单线索从创建到赢单天数的中位数（Kaplan-Meier 估计）",
                          "Median days from creation to win of won leads (Kaplan-Meier estimate)"),
    # 11 campaigns
    "campaign_count": ("count", "period", ("campaigns",), "报告期内开始的营销活动个数", "Campaigns starting in the period"),
    "campaign_spend_total": ("money", "period", ("campaigns",), "这些活动的投入金额之和", "Sum of those campaigns' spend"),
    "campaigns_with_effect": ("count", "period", ("campaigns", "orders", "order_lines"), "增量销售额的区间下限大于零（有正向效果）的活动个数",
                              "Campaigns whose incremental revenue has a lower interval bound above zero"),
    "campaigns_to_review": ("count", "period", ("campaigns", "orders", "order_lines"), "效果不显著或投资回报低于阈值、需复盘的活动个数",
                            "Campaigns without a clear effect or with a return below the threshold, to be reviewed"),
    # 12 risk
    "risk_receivables_overdue": ("money", "as_of", ("invoices", "payments"), "期末已过到期日仍未回款的应收金额之和",
                                 "Amounts invoiced, past their due date and still unpaid at the period end"),
    "bad_debt_rate": ("percent", "as_of", ("invoices", "payments"), "逾期超过 risk_bad_debt_days 天仍未回款的金额 ÷ 开票金额",
                      "Amounts unpaid more than risk_bad_debt_days days past due ÷ amounts invoiced"),
    "risk_high_alerts": ("count", "as_of", ("invoices", "payments", "inventory"), "预警表中级别为“高”的预警条数",
                         "Alerts of the alerts table at level high"),
    # 13 actions
    "actions_open": ("count", "as_of", ("source_action_register",), "行动登记表中状态为进行中或逾期的行动条数",
                     "Actions in the action register that are open or overdue"),
    "actions_overdue": ("count", "as_of", ("source_action_register",), "已过截止日期仍未完成的行动条数",
                        "Actions past their due date and not done"),
    "actions_new": ("count", "period", ("source_action_register",), "本次运行由策略规则新建的行动条数",
                    "Actions created by the strategy rules in this run"),
    "actions_worked": ("count", "period", ("source_action_register",), "经复盘（行动后与行动前对比）结论为有效的策略组数",
                       "Reviewed strategy groups whose verdict (after against before the action) is that it worked"),
}

#: Non-headline measures that share words with a headline and must be told apart (names only).
RELATED = ("tier_churn_risk", "stage_at_risk", "tag_churn_risk")

KEYS = tuple(_ENTRIES)


def kind(key: str) -> str:
    """The formatter kind of the figure ``key`` (:func:`saleslab.report.format.fmt`)."""
    return _ENTRIES[key][0]


def name(key: str, lang: str) -> str:
    """The figure's one name (its label)."""
    return i18n.t(key, lang)


def definition(key: str, lang: str) -> str:
    """The figure's definition: formula in words, unit, period, source tables."""
    knd, period, tables, zh, en = _ENTRIES[key]
    unit = _U[knd][0 if lang == "zh-CN" else 1]
    per = _P[period][0 if lang == "zh-CN" else 1]
    if tables:
        src = i18n.join([i18n.t(f"table_{t}" if i18n.has(f"table_{t}") else t, lang) for t in tables], lang)
    else:
        src = i18n.t("glossary_source_files", lang)
    return i18n.say("glossary_definition", lang, formula=zh if lang == "zh-CN" else en, unit=unit, period=per,
                    source=src)


def entries(lang: str) -> list[tuple[str, str, str]]:
    """Every headline figure as (key, name, definition), in stage order."""
    return [(k, name(k, lang), definition(k, lang)) for k in KEYS]


def footnote(keys, lang: str):
    """A small "定义：…" / "Definition: …" block for the figures ``keys`` (a stage page shows it under
    its figures); a Markdown object for the notebook."""
    from IPython.display import Markdown

    keys = [keys] if isinstance(keys, str) else list(keys)
    lines = [f"<small>{i18n.say('definition_footnote', lang, name=name(k, lang), text=definition(k, lang))}</small>"
             for k in keys]
    return Markdown("  \n".join(lines))
