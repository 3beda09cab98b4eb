"""Run parameters are validated before anything runs, with one message per problem."""

import subprocess
import sys
from pathlib import Path

import pytest

from saleslab.config import available_stages, load_params
from saleslab.errors import ParameterError

BASE = """name: t
input_dir: {inp}
warehouse_dir: wh
sources_dir: {src}
period: {{start: 2024-01-01, end: 2024-12-31}}
"""


@pytest.fixture
def write(tmp_path):
    (tmp_path / "in").mkdir()

    def _write(extra: str = "", base: str = BASE) -> Path:
        p = tmp_path / "p.yaml"
        p.write_text(base.format(inp=tmp_path / "in", src=Path(__file__).parents[1] / "parameters" / "sources")
                     + extra, encoding="utf-8")
        return p
    return _write


def test_valid_file_loads_with_defaults(write, tmp_path):
    p = load_params(write())
    assert p.language == "zh-CN" and p.engine == "duckdb" and str(p.as_of) == "2024-12-31"
    assert p.warehouse_path == (tmp_path / "wh").resolve()  # relative to the file's project folder
    assert p.stage_list == available_stages()


@pytest.mark.parametrize("extra, message", [
    ("language: fr\n", "key 'language': Input should be 'zh-CN' or 'en' (got 'fr')"),
    ("colour: red\n", "unknown key 'colour'; allowed keys: name, input_dir"),
    ("duckdb: {memory: 1GB}\n", "unknown key 'duckdb.memory' under 'duckdb'; allowed keys: memory_limit"),
    ("duckdb: {memory_limit: lots}\n", "key 'duckdb.memory_limit': must be a size such as 512MB"),
    ("engine: spark\n", "key 'engine': Input should be 'duckdb', 'pyspark' or 'spark-connect'"),
    ("engine: spark-connect\n", "engine spark-connect needs spark_remote: sc://HOST:PORT"),
    ("spark_remote: http://x:1\n", "key 'spark_remote': String should match pattern"),
    ("stages: [99_nope]\n", "unknown stage(s) 99_nope; allowed: 00_data_quality"),
    ("palette: [red]\n", "colour 'red' is not a #rrggbb hex colour"),
    ("as_of: 2023-05-01\n", "as_of 2023-05-01 is before the period start 2024-01-01"),
    ("duckdb: {threads: many}\n", "key 'duckdb.threads': Input should be a valid integer"),
])
def test_bad_parameters_name_the_key_and_what_is_allowed(write, extra, message):
    with pytest.raises(ParameterError) as e:
        load_params(write(extra))
    assert message in str(e.value)
    assert "p.yaml" in str(e.value)


def test_impossible_period_is_rejected(write):
    base = BASE.replace("{{start: 2024-01-01, end: 2024-12-31}}", "{{start: 2024-02-30, end: 2024-12-31}}")
    with pytest.raises(ParameterError, match="key 'period.start'.*day value is outside expected range"):
        load_params(write(base=base))
    base = BASE.replace("{{start: 2024-01-01, end: 2024-12-31}}", "{{start: 2024-06-01, end: 2024-01-01}}")
    with pytest.raises(ParameterError, match="period end 2024-01-01 is before its start 2024-06-01"):
        load_params(write(base=base))


def test_missing_input_folder_is_named(write, tmp_path):
    (tmp_path / "in").rmdir()
    with pytest.raises(ParameterError, match="key 'input_dir': folder .* does not exist"):
        load_params(write())


def test_cli_reports_bad_parameters_without_traceback(write):
    p = write("language: fr\nfoo: 1\n")
    r = subprocess.run([sys.executable, "-m", "saleslab.cli", "run", "--params", str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "key 'language'" in r.stderr and "unknown key 'foo'" in r.stderr


def test_shipped_parameter_files_are_valid():
    root = Path(__file__).parents[1] / "parameters"
    for name in ("demo.yaml", "monthly.yaml"):
        load_params(root / name, check_input=False)


def test_unknown_threshold_is_rejected(write):
    with pytest.raises(ParameterError, match="unknown threshold 'nope'; allowed: abc_a_share, "):
        load_params(write("thresholds: {nope: 1}\n"))



def test_thresholds_are_typed_by_the_area_models(write, tmp_path):
    from saleslab.config import stage_thresholds

    declared = stage_thresholds()
    assert declared["roi_min"]["area"] == "channels" and declared["roi_min"]["stages"] == ["04_channels"]
    with pytest.raises(ParameterError, match="key 'thresholds.roi_min': Input should be a valid number"):
        load_params(write("thresholds: {roi_min: high}\n"))
    with pytest.raises(ParameterError, match="key 'thresholds.churn_value_basis': Input should be 'spend_12m' or 'clv'"):
        load_params(write("thresholds: {churn_value_basis: margin}\n"))
    p = load_params(write("thresholds: {roi_min: 0.5, anomaly_threshold: 0.3, returns_basis: order_date}\n"))
    assert p.notebook_parameters(tmp_path, "04_channels")["roi_min"] == 0.5
    assert "roi_min" not in p.notebook_parameters(tmp_path, "00_data_quality")
    # the facts layer's choices go to every stage
    assert all(p.notebook_parameters(tmp_path, s)["returns_basis"] == "order_date"
               for s in ("00_data_quality", "04_channels", "08_customer_360"))
    assert p.area_params()["performance"].anomaly_threshold == 0.3
