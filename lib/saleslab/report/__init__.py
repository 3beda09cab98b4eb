"""Presentation: labels (i18n), charts, HTML rendering. Compute lives elsewhere."""
