"""Labels of the data-quality and overview stages, the report frame and shared codes."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"gross_margin", "known_customer", "known_product", "known_region", "coverage"}

LABELS: dict[str, tuple[str, str]] = {
    # headline KPIs (domain.md §3)
    "revenue": ("销售额", "Revenue"),
    "gross_sales": ("销售总额(未扣退货)", "Gross sales (before returns)"),
    "returns": ("退货金额", "Returns"),
    "cost": ("销售成本", "Cost of goods"),
    "gross_profit": ("毛利", "Gross profit"),
    "gross_margin": ("毛利率", "Gross margin"),
    "orders": ("订单数", "Orders"),
    "active_customers": ("活跃客户数", "Active customers"),
    "average_order_value": ("客单价", "Average order value"),
    "month": ("月份", "Month"),
    "yuan": ("元", "CNY"),
    "wan_yuan": ("万元", "10k CNY"),
    # data quality
    "source": ("数据源", "Source"),
    "system": ("系统", "System"),
    "files": ("文件数", "Files"),
    "rows_read": ("读取行数", "Rows read"),
    "rows_loaded": ("入库行数", "Rows loaded"),
    "rows_quarantined": ("隔离行数", "Rows quarantined"),
    "rejected_files": ("拒收文件", "Rejected files"),
    "balanced": ("行数平衡", "Balanced"),
    "reason": ("原因", "Reason"),
    "rows": ("行数", "Rows"),
    "example_file": ("示例文件", "Example file"),
    "example_line": ("示例行号", "Example line"),
    "channel": ("渠道", "Channel"),
    "order_lines": ("订单行数", "Order lines"),
    "known_customer": ("客户已知", "Known customer"),
    "known_product": ("产品已知", "Known product"),
    "known_region": ("区域已知", "Known region"),
    "customer": ("客户", "Customer"),
    "product": ("产品", "Product"),
    "region": ("区域", "Region"),
    "coverage": ("数据覆盖率", "Coverage"),
    # channels
    "online": ("线上电商", "Online"),
    "retail": ("门店零售", "Retail stores"),
    "direct": ("直销", "Direct"),
    "distribution": ("经销", "Distribution"),
    "all": ("合计", "All"),
    # stages and report
    "00_data_quality": ("数据质量", "Data quality"),
    "01_overview": ("经营概览", "Business overview"),
    "report_title": ("销售分析报告", "Sales analysis report"),
    "period": ("期间", "Period"),
    "generated": ("生成时间", "Generated"),
    "stages": ("分析阶段", "Stages"),
    "headlines": ("核心指标", "Headline figures"),
    "revenue_by_month": ("月度销售额与毛利率", "Monthly revenue and gross margin"),
    "quarantine_by_reason": ("隔离原因分布", "Quarantined rows by reason"),
    "coverage_by_channel": ("各渠道数据覆盖率", "Coverage by channel"),
    "monthly_table": ("月度经营数据", "Monthly figures"),
}

# quarantine reason codes (saleslab.ingest.load)
REASONS: dict[str, tuple[str, str]] = {
    "missing_required": ("必填字段为空", "Required value missing"),
    "unparseable_date": ("日期无法解析", "Unparseable date"),
    "unparseable_number": ("数值无法解析", "Unparseable number"),
    "invalid_value": ("取值无效", "Invalid value"),
    "duplicate_key": ("主键重复", "Duplicate key"),
    "duplicate_row": ("整行重复", "Duplicate row"),
    "conflicting_duplicate": ("重复键值不一致", "Conflicting duplicate"),
    "field_count": ("列数不符", "Wrong field count"),
    "repeated_header": ("表头重复", "Header repeated"),
    "undecodable": ("编码无法识别", "Undecodable bytes"),
    "unparseable": ("CSV 格式错误", "CSV syntax error"),
    "file_rejected": ("整个文件被拒收", "Whole file rejected"),
}

