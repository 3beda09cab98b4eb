"""Label tables, one module per domain: each defines ``LABELS = {key: (zh-CN, en)}``.

:mod:`saleslab.report.i18n` merges them; a key defined twice with different texts is an error.
"""
