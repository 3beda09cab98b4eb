"""The import rules of the house (`.importlinter`), checked with import-linter on every test run."""

import configparser
import pkgutil
import subprocess
import sys
from pathlib import Path

import saleslab

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / ".importlinter", encoding="utf-8")
    return cfg


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_every_area_package_is_under_the_contracts():
    cfg = _contracts()
    areas = sorted(m.name for m in pkgutil.iter_modules(saleslab.__path__)
                   if m.ispkg and (Path(saleslab.__path__[0]) / m.name / "params.py").exists())
    assert len(areas) >= 11
    for contract in ("importlinter:contract:drivers", "importlinter:contract:demo",
                     "importlinter:contract:shared-presentation"):
        named = {ln.strip() for ln in cfg[contract].get("source_modules", "").splitlines() + 
                 cfg[contract].get("forbidden_modules", "").splitlines()}
        missing = [a for a in areas if f"saleslab.{a}" not in named]
        assert not missing, f"{contract} does not name {missing}"
    drawn = {ln.strip() for ln in cfg["importlinter:contract:compute-does-not-draw"]["forbidden_modules"].splitlines()}
    for a in areas:
        for part in ("charts", "story"):
            if (Path(saleslab.__path__[0]) / a / f"{part}.py").exists():
                assert f"saleslab.{a}.{part}" in drawn, f"saleslab.{a}.{part} is not forbidden to compute modules"
