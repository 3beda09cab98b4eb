"""Shared fixtures: a small demo warehouse, and the engine parity fixture (DuckDB and PySpark)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from saleslab.config import PROJECT_ROOT
from saleslab.engine import connect, java_available

SOURCES = PROJECT_ROOT / "parameters" / "sources"


def spark_ready() -> bool:
    return java_available() and importlib.util.find_spec("pyspark") is not None


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """Small demo exports (seed 7), generated once per test worker."""
    from saleslab.demo import generate

    out = tmp_path_factory.mktemp("demo")
    generate(out, scale="small", seed=7)
    return out


@pytest.fixture(scope="session")
def demo_warehouse(demo_dir, tmp_path_factory) -> Path:
    """The small demo ingested into a warehouse."""
    from saleslab.ingest.load import ingest

    wh = tmp_path_factory.mktemp("wh") / "warehouse"
    ingest(demo_dir / "exports", SOURCES, wh)
    return wh


def _engine_params():
    # on CI (CI=true) PySpark must be there: a missing Java fails the parity tests instead of skipping them
    skip = not spark_ready() and not os.environ.get("CI")
    return ["duckdb", pytest.param("pyspark", marks=[
        pytest.mark.spark,
        pytest.mark.skipif(skip, reason="PySpark parity needs Java and pyspark (make test installs both)"),
    ])]


@pytest.fixture(scope="session", params=_engine_params())
def backend(request) -> str:
    """Parity fixture: every test using it runs on DuckDB and on PySpark (local mode)."""
    return request.param


@pytest.fixture(scope="session")
def open_engine():
    """Open a warehouse on a backend with small, explicit DuckDB limits."""
    def _open(warehouse: Path, backend: str, tmp: Path):
        return connect(warehouse, backend, {"memory_limit": "1GB", "threads": 2, "temp_directory": str(tmp / "duck")})
    return _open


@pytest.fixture(scope="module")
def eng(hand_warehouse, backend, tmp_path_factory, open_engine):
    """The module's hand-made warehouse opened on each backend (parity); a module using it defines ``hand_warehouse``."""
    e = open_engine(hand_warehouse, backend, tmp_path_factory.mktemp("eng"))
    yield e
    e.close()
