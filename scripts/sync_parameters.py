#!/usr/bin/env python3
"""Regenerate the ``parameters`` cell of every stage notebook from the area parameter models.

    python scripts/sync_parameters.py          # rewrite the cells
    python scripts/sync_parameters.py --check  # exit 1 when a cell differs (tests/test_params.py does this too)

A notebook's cell is its common parameters (run folder, warehouse, language, period, engine ...,
:data:`saleslab.params.COMMON_PARAMETERS`), then the facts layer's, then those of each area the
notebook already names (:func:`saleslab.params.stage_areas`), each as ``name: type = default  # help``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from saleslab.params import expected_parameters_cell

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    differ = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        want = expected_parameters_cell(cell.source)
        if cell.source != want:
            differ.append(path.name)
            if not args.check:
                cell.source = want
                nbformat.write(nb, path)
    for name in differ:
        print(("differs: " if args.check else "rewritten: ") + name)
    return 1 if (args.check and differ) else 0


if __name__ == "__main__":
    sys.exit(main())
