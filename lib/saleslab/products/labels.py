"""Labels of the products stage (domain.md §4): columns of saleslab.products, codes, chart titles."""

#: Columns that hold shares in [0, 1] (shown as percentages).
SHARES = {"revenue_share", "volume_share", "cumulative_share", "product_share", "sell_through_rate",
          "penetration", "market_share", "revenue_growth", "volume_percentile", "margin_percentile"}

LABELS: dict[str, tuple[str, str]] = {
    # columns
    "product_id": ("产品编号", "Product ID"),
    "product_name": ("产品名称", "Product name"),
    "category": ("品类", "Category"),
    "list_price": ("标价", "List price"),
    "unit_cost": ("单位成本", "Unit cost"),
    "volume": ("销量", "Volume"),
    "buyers": ("购买客户数", "Buyers"),
    "product_count": ("产品数", "Products"),
    "product_share": ("产品数占比", "Share of products"),
    "revenue_share": ("销售额占比", "Revenue share"),
    "volume_share": ("销量占比", "Volume share"),
    "cumulative_share": ("累计销售额占比", "Cumulative revenue share"),
    "revenue_rank": ("销售额排名", "Revenue rank"),
    "volume_percentile": ("销量百分位", "Volume percentile"),
    "margin_percentile": ("毛利率百分位", "Margin percentile"),
    "abc_class": ("ABC分类", "ABC class"),
    "bcg_quadrant": ("波士顿矩阵象限", "BCG quadrant"),
    "market_share": ("相对市场份额", "Relative market share"),
    "revenue_growth": ("销售额同比增长", "Revenue growth (YoY)"),
    "previous_revenue": ("上年同期销售额", "Revenue a year earlier"),
    "avg_stock_units": ("平均库存数量", "Average stock (units)"),
    "closing_stock_units": ("期末库存数量", "Closing stock (units)"),
    "avg_inventory_value": ("平均库存金额", "Average inventory value"),
    "inventory_turnover": ("库存周转率", "Inventory turnover"),
    "days_of_inventory": ("库存周转天数", "Days of inventory"),
    "skus_in_stock": ("有库存SKU数", "SKUs in stock"),
    "skus_on_offer": ("在售SKU数（有库存或已上架）", "SKUs on offer (in stock or listed)"),
    "skus_sold": ("动销SKU数", "SKUs sold"),
    "sell_through_rate": ("动销率", "Sell-through rate"),
    "price_band": ("价格带", "Price band"),
    "band_lower": ("价格带下限", "Band lower bound"),
    "penetration": ("市场渗透率", "Penetration"),
    "rank_group": ("排名组", "Group"),
    # codes
    "category_unknown": ("未知品类", "Unknown category"),
    "unknown": ("未知", "Unknown"),
    "top_products": ("销售额前列产品", "Top products"),
    "bottom_products": ("销售额末尾产品", "Bottom products"),
    "bcg_star": ("明星产品", "Star"),
    "bcg_cash_cow": ("金牛产品", "Cash cow"),
    "bcg_question_mark": ("问题产品", "Question mark"),
    "bcg_dog": ("瘦狗产品", "Dog"),
    "abc_a": ("A类", "Class A"),
    "abc_b": ("B类", "Class B"),
    "abc_c": ("C类", "Class C"),
    # stage, headlines, tables and charts
    "03_products": ("产品分析", "Product analysis"),
    "star_product_count": ("明星产品数", "Star products"),
    "slow_mover_count": ("滞销产品数", "Slow movers"),
    "star_products_title": ("明星产品（高销量、高毛利）", "Star products (high volume, high margin)"),
    "slow_movers_title": ("滞销产品（低销量、高库存）", "Slow movers (low sales, high stock)"),
    "bcg_matrix_title": ("波士顿矩阵（增长率 × 相对市场份额）", "BCG matrix (growth × relative market share)"),
    "pareto_title": ("帕累托曲线与ABC分类", "Pareto curve and ABC classes"),
    "top_bottom_title": ("销售额前列与末尾产品", "Top and bottom products by revenue"),
    "slow_days_title": ("滞销产品库存周转天数", "Days of inventory of slow movers"),
    "price_band_title": ("各价格带销售额与毛利率", "Revenue and gross margin by price band"),
    "products_ranked": ("产品（按销售额排序）", "Products (by revenue)"),
    "no_sales": ("无销售", "no sales"),
    "days": ("天", "days"),
    "bubble_is_revenue": ("气泡大小 = 销售额", "bubble size = revenue"),
    # story templates ({name} placeholders; one template per finding, both languages)
    "story_products_empty": ("本期间没有产品销售。", "No product sold in this period."),
    "story_products_concentration": (
        "**销售集中度**：{a_count} 个产品（占 {n} 个产品的 {a_product_share}）贡献了 **{a_share}** 的销售额（A 类）。",
        "**Concentration**: {a_count} of {n} products ({a_product_share}) bring **{a_share}** of revenue (class A)."),
    "story_products_stars": (
        "**明星产品**：{count} 个产品销量与毛利率同时居前，合计贡献 **{share}** 的销售额；"
        "首位是 {name}（{revenue}，毛利率 {margin}）。建议加大曝光。",
        "**Stars**: {count} products combine top volume with top margin and bring **{share}** of revenue; "
        "the first is {name} ({revenue}, margin {margin}). Give them more exposure."),
    "story_products_no_stars": ("**明星产品**：本期没有产品同时达到高销量和高毛利。",
                                "**Stars**: no product reaches both high volume and high margin in this period."),
    "story_products_slow": (
        "**滞销产品**：{count} 个产品销量低、库存高，平均占用库存金额 **{value}**；最慢的 {name} {pace}。"
        "建议捆绑促销或清理库存。",
        "**Slow movers**: {count} products sell little while holding high stock, tying up **{value}** of "
        "inventory on average; the slowest, {name}, {pace}. Consider bundles or clearing the stock."),
    "story_products_pace_no_sales": ("本期没有销售", "did not sell at all"),
    "story_products_pace_beyond_cap": (
        "本期几乎没有销售（销量 {volume}，平均库存 {stock}），按此速度超过 {years} 年才能售完，周转天数无意义",
        "practically did not sell ({volume} units against {stock} in stock on average): more than {years} years "
        "at this pace, so its days of inventory are not meaningful"),
    "days_note": ("周转天数说明", "Days of inventory note"),
    "doi_no_sales": ("本期无销售，周转天数无法计算", "no sales in the period: no days of inventory"),
    "doi_beyond_cap": ("销售近乎为零，周转天数超过上限，无意义", "practically no sales: days beyond the cap, not meaningful"),
    "inventory_days_cap": ("周转天数上限", "Days of inventory cap"),
    "doi_beyond_cap_short": ("几乎无销售", "practically no sales"),
    "sell_through_months": ("动销率统计月数", "Sell-through months"),
    "story_products_pace_days": ("按本期销售速度需 {days} 天才能售完", "would take {days} days to sell at this period's pace"),
    "story_products_no_slow": ("**滞销产品**：本期没有低销量、高库存的产品。",
                               "**Slow movers**: no product combines low sales with high stock in this period."),
    "story_products_definitions": (
        "*口径*：明星产品 = 销量 ≥ {star_volume} 分位且毛利率 ≥ {star_margin} 分位；"
        "滞销产品 = 有库存产品中销量 ≤ {slow_volume} 分位且平均库存 ≥ {slow_stock} 分位；"
        "波士顿矩阵：相对市场份额 = {basis}（≥ {share_threshold} 为高），"
        "增长率 = 期末12个月（期间不足12个月时为整个期间）较上年同期（≥ {growth_threshold} 为高）；"
        "ABC：累计销售额前 {abc_a} 为 A、至 {abc_ab} 为 B、其余为 C；"
        "销售额已扣除退货（{returns}），金额单位为元。",
        "*Definitions*: star = volume ≥ the {star_volume} quantile and gross margin ≥ the {star_margin} quantile; "
        "slow mover = among products in stock, volume ≤ the {slow_volume} quantile and average stock ≥ the "
        "{slow_stock} quantile; BCG: relative market share = {basis} (high from {share_threshold}), growth = the "
        "period's last 12 months (the whole period when shorter) vs the same months a year earlier (high from "
        "{growth_threshold}); ABC: A up to {abc_a} of cumulative revenue, B up to {abc_ab}, C the rest; revenue is "
        "net of returns ({returns}), in CNY."),
    "story_products_bcg_relative": ("产品销售额 / 同品类最大产品销售额",
                                    "product revenue / revenue of the largest product in its category"),
    "story_products_bcg_category": ("产品销售额 / 品类销售额", "product revenue / category revenue"),
    "story_products_returns_return_date": ("退货计入退货日期所在期间", "returns counted on their return date"),
    "story_products_returns_order_date": ("退货计入原订单日期所在期间", "returns counted on their order's date"),
}
