"""Team (团队, domain.md §8): achievement per rep and team, new customers, collection, reward and coaching lists."""

from .params import Params  # noqa: F401
from .performance import (  # noqa: F401
    TIERS, rep_performance, team_performance, with_targets, reward_list, coaching_list, team_totals,
)
