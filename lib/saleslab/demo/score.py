"""The demo's cleaning scores: :func:`saleslab.quality.accuracy.score` (kept here for the demo tools)."""

from ..quality.accuracy import score  # noqa: F401
