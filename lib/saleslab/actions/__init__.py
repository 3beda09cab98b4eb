"""Actions (策略, domain.md §11): strategy rules turn earlier stages' findings into owned actions
with a due date and an expected effect; the actions persist in a database between runs; the
monthly review measures the due ones against similar targets that got no action."""

from .loop import (  # noqa: F401
    ACTION_STATUSES, StageTables, actions_table, database_file, headlines, load, may_record, open_by_owner, open_store, record,
    stage_tables, strategy_file, visible, write_summary,
)
from .params import Params  # noqa: F401
from .review import VERDICTS, matched_effect, outcomes, review  # noqa: F401
from .store import SCHEMA_VERSION, STATUSES, ActionStore  # noqa: F401
from .strategy import Strategy, action_id, evaluate, load_strategy  # noqa: F401
