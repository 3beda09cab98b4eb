"""The cross-sell finding, from templates in :mod:`saleslab.crosssell.labels`; thresholds are those
the rules were mined with (:func:`saleslab.params.used`)."""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.i18n import say


def item_label(item, name, lang: str) -> str:
    """``华信清洁液 H493（P0116）``: the item's name with its id when the name says more than the id."""
    if isinstance(name, str) and name and name != item:
        return say("crosssell_item_label", lang, item=item, name=name)
    return str(item)


def crosssell_narrative(rules: pd.DataFrame, lang: str) -> str:
    """One sentence on :func:`saleslab.crosssell.association_rules`: how many rules reach the
    thresholds and the strongest one (ids with product names), or which thresholds none reaches."""
    thresholds = dict(min_support=f"{used(rules, 'crosssell_min_support'):g}",
                      min_confidence=f"{used(rules, 'crosssell_min_confidence'):g}")
    if rules.empty:
        return say("story_crosssell_no_rules", lang, min_lift=f"{used(rules, 'crosssell_min_lift'):g}",
                   min_pair_baskets=used(rules, "crosssell_min_pair_baskets"), **thresholds)
    top = rules.iloc[0]
    return say("story_crosssell_strongest", lang, rules=f"{len(rules):,}",
               antecedent=item_label(top["antecedent"], top["antecedent_name"], lang),
               consequent=item_label(top["consequent"], top["consequent_name"], lang),
               confidence=f"{top['confidence']:.1%}", lift=f"{top['lift']:.2f}", **thresholds)
