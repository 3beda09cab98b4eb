"""The actions stage's parameters (domain.md §11: findings become owned actions, reviewed monthly).
The rules themselves (triggers, owners, due days, expected effects) are in the strategy file
(``parameters/strategy.yaml``, :mod:`saleslab.actions.strategy`); the thresholds of the loop are here."""

from __future__ import annotations

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the action loop (each field's description is its help)."""

    actions_database: str = Field(
        "", description="actions database (SQLite file); empty: actions.sqlite in the reports folder (shared by its runs)")
    actions_strategy_file: str = Field(
        "", description="strategy rules file; empty: parameters/strategy.yaml of the project")
    actions_match_k: int = Field(
        3, ge=1, le=20, description="review: each acted-on target is compared with this many most similar targets (nearest on the rule's scores)")
    actions_min_group: int = Field(
        3, ge=2, description="review: an effect is estimated only with at least this many acted-on targets and as many comparison targets")
    actions_confidence: float = Field(
        0.95, gt=0.5, lt=1, description="review: confidence level of the effect's interval")
    actions_top_open: int = Field(
        20, ge=1, description="open actions listed per owner in the stage's table of this month's actions")
