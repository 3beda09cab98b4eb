"""Fetch plotly.js's partial bundle (bar, scatter) for the stakeholder pages' charts.

``make install`` runs this after pip. It asks npm for the package pinned in
``saleslab.serve.charts.PLOTLY_BASIC`` (``npm pack``: npm's own registry settings and cache apply),
checks the tarball against the pinned integrity hash and puts the one file the server needs into
``<venv>/share/saleslab/`` (atomically). Nothing to do when the file is there. Without npm or a
registry it says so in one line and exits 0: the pages then use the full plotly.js of plotly's wheel
(the same charts, a slower first render; see docs/serve.md, "Offline").
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def main() -> int:
    from saleslab.serve.charts import PLOTLY_BASIC, basic_bundle_path

    dest = basic_bundle_path()
    if dest.is_file():
        return 0
    spec = f"{PLOTLY_BASIC['package']}@{PLOTLY_BASIC['version']}"
    fallback = "the pages will use the full plotly.js of plotly's wheel (slower first render)"
    npm = shutil.which("npm")
    if npm is None:
        print(f"  note: npm not found, {spec} not fetched: {fallback}")
        return 0
    print(f"==> fetching {spec} (the pages' charts) with npm")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            out = subprocess.run([npm, "pack", spec, "--pack-destination", tmp, "--silent"], capture_output=True,
                                 text=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            print(f"  note: npm pack {spec} timed out: {fallback}")
            return 0
        tarballs = list(Path(tmp).glob("*.tgz"))
        if out.returncode != 0 or len(tarballs) != 1:
            last = (out.stderr.strip().splitlines() or ["no tarball"])[-1]
            print(f"  note: npm pack {spec} failed ({last}): {fallback}")
            return 0
        data = tarballs[0].read_bytes()
        algo, _, expected = PLOTLY_BASIC["integrity"].partition("-")
        got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
        if got != expected:
            print(f"error: {tarballs[0].name}: integrity {algo}-{got}, expected {PLOTLY_BASIC['integrity']}",
                  file=sys.stderr)
            return 1
        with tarfile.open(tarballs[0]) as tar:
            member = tar.extractfile(f"package/{PLOTLY_BASIC['file']}")
            body = member.read() if member else b""
        if not body:
            print(f"error: {tarballs[0].name} has no package/{PLOTLY_BASIC['file']}", file=sys.stderr)
            return 1
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.write_bytes(body)
    os.replace(part, dest)
    print(f"  {dest} ({len(body) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
