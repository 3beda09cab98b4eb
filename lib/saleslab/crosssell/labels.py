"""Labels of the cross-sell analysis (domain.md §6): rule columns, names and story templates."""

LABELS: dict[str, tuple[str, str]] = {
    # rules and recommendations
    "antecedent": ("已购商品编号", "Bought item ID"),
    "consequent": ("推荐商品编号", "Suggested item ID"),
    "pair_baskets": ("同时购买篮数", "Baskets with both"),
    "antecedent_baskets": ("含已购商品篮数", "Baskets with bought item"),
    "consequent_baskets": ("含推荐商品篮数", "Baskets with suggested item"),
    "baskets": ("购物篮总数", "Baskets"),
    "support": ("支持度", "Support"),
    "confidence": ("置信度", "Confidence"),
    "lift": ("提升度", "Lift"),
    "item": ("商品编号", "Item ID"),
    "score": ("推荐得分", "Score"),
    "because": ("依据商品编号", "Because of (ID)"),
    "antecedent_name": ("已购商品", "Bought item"),
    "consequent_name": ("推荐商品", "Suggested item"),
    "item_name": ("推荐商品", "Suggested item"),
    "because_name": ("依据(已购)", "Because they bought"),
    "crosssell_item_label": ("{name}（{item}）", "{name} ({item})"),
    # story templates (thresholds: those the rules were mined with)
    "story_crosssell_no_rules": ("在当前阈值下（最小支持度 {min_support}、最小置信度 {min_confidence}、最小提升度 "
                                 "{min_lift}、至少 {min_pair_baskets} 个购物篮）没有找到交叉销售规则，可降低阈值。",
                                 "No cross-sell rule reaches the thresholds (minimum support {min_support}, confidence "
                                 "{min_confidence}, lift {min_lift}, at least {min_pair_baskets} baskets); lower them."),
    "story_crosssell_strongest": ("支持度不低于 {min_support}、置信度不低于 {min_confidence} 的规则共 **{rules}** 条。"
                                  "最强的是：购买 **{antecedent}** 的客户购买 **{consequent}** 的概率为 {confidence}，"
                                  "是整体水平的 **{lift}** 倍（提升度）。",
                                  "**{rules}** rules reach a support of {min_support} and a confidence of "
                                  "{min_confidence}. The strongest: buyers of **{antecedent}** buy **{consequent}** "
                                  "with {confidence} confidence, **{lift}×** the overall rate (lift)."),
}
