"""Parameters have one home: each area's model; notebooks, run files and results follow it."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from saleslab.config import NOTEBOOKS, available_stages, declared_parameters
from saleslab.errors import ParameterError
from saleslab.params import (COMMON_PARAMETERS, FACTS, area_models, attach, expected_parameters_cell, field_index,
                             from_namespace, used, validate_thresholds)

ROOT = Path(__file__).resolve().parents[1]


def _cell(stage: str) -> str:
    nb = nbformat.read(NOTEBOOKS / f"{stage}.ipynb", as_version=4)
    return next(c for c in nb.cells if "parameters" in c.metadata.get("tags", [])).source


@pytest.mark.parametrize("stage", available_stages())
def test_notebook_parameters_cell_is_the_one_generated_from_the_models(stage):
    assert _cell(stage) == expected_parameters_cell(_cell(stage)), \
        f"run `python scripts/sync_parameters.py` after changing a parameter model ({stage})"


@pytest.mark.parametrize("stage", available_stages())
def test_every_notebook_parameter_is_common_or_a_model_field_and_the_facts_are_everywhere(stage):
    names = set(declared_parameters(stage))
    index = field_index()
    assert names - set(COMMON_PARAMETERS) - set(index) == set()
    assert set(area_models()[FACTS].model_fields) <= names


def test_every_area_parameter_has_a_help_text_and_a_unique_name():
    index = field_index()  # raises when two areas declare one name
    assert {"roi_min", "returns_basis", "clv_annual_discount", "anomaly_threshold"} <= set(index)
    for area, model in area_models().items():
        for name, f in model.model_fields.items():
            assert f.description and len(f.description) > 10, f"{area}.{name} has no help"
            # the help is the parameters cell's comment: papermill's parameter reader takes a line with
            # a second '=' for one it cannot parse (a warning in every run's log, the parameter unlisted)
            assert "=" not in f.description, f"{area}.{name}: no '=' in its help (papermill misreads the line)"


def test_a_wrong_threshold_names_the_key_and_what_is_allowed_without_parser_noise(capfd):
    with pytest.raises(ParameterError) as e:
        validate_thresholds({"anomaly_treshold": 0.3, "bcg_share_basis": "volume", "clv_horizon_months": 24})
    text = str(e.value)
    assert "unknown threshold 'anomaly_treshold'; allowed: " in text and "anomaly_threshold" in text
    assert "key 'bcg_share_basis': Input should be 'relative' or 'category' (got 'volume')" in text
    assert "key 'clv_horizon_months': Input should be less than or equal to 12 (got 24)" in text
    out = capfd.readouterr()
    assert "Unable to parse" not in out.out + out.err


def test_valid_thresholds_give_every_area_its_model():
    models = validate_thresholds({"anomaly_threshold": 0.3, "roi_min": 1.5})
    assert models["performance"].anomaly_threshold == 0.3 and models["channels"].roi_min == 1.5
    assert models["facts"].returns_basis == "return_date"  # defaults elsewhere


def test_tier_shares_must_add_up_to_one():
    with pytest.raises(ParameterError, match="tier"):
        validate_thresholds({"tier_high_share": 0.5})


def test_notebook_namespace_is_validated_like_the_run_file():
    ns = {"roi_min": 2, "returns_basis": "order_date", "Markdown": object(), "period_start": "2024-01-01"}
    p = from_namespace(ns, "notebook 04_channels: ")
    assert p.channels.roi_min == 2.0 and p.facts.returns_basis == "order_date"
    with pytest.raises(ParameterError, match="notebook 04_channels: key 'roi_min': Input should be a valid number"):
        from_namespace({"roi_min": "high"}, "notebook 04_channels: ")


def test_a_result_carries_the_parameters_it_was_computed_with(tmp_path):
    import pandas as pd

    from saleslab.channels.params import Params

    df = attach(pd.DataFrame({"x": [1]}), Params(roi_min=1.7), returns_basis="order_date")
    df.to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert used(back, "roi_min") == 1.7 and used(back, "returns_basis") == "order_date"
    with pytest.raises(Exception, match="does not record the parameter 'nope'"):
        used(back, "nope")


def test_sync_script_reports_no_difference():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_parameters.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_notebook_run_directly_with_papermill_rejects_a_bad_parameter_in_its_first_code_cell(tmp_path):
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError) as e:
        pm.execute_notebook(str(NOTEBOOKS / "04_channels.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters={"roi_min": "high", "run_dir": str(tmp_path), "warehouse": str(tmp_path)},
                            kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    assert e.value.ename == "ParameterError"
    assert "notebook 04_channels: key 'roi_min': Input should be a valid number" in e.value.evalue
    assert e.value.exec_count == 3  # the parameters cell, the injected one, then the first code cell


def test_cli_lists_the_thresholds_of_an_area_with_their_help(capsys):
    from saleslab.cli import main

    assert main(["thresholds", "--area", "channels"]) == 0
    out = capsys.readouterr().out
    assert "roi_min (float, default 1.2; 04_channels)" in out and "flagged for review" in out
    assert main(["thresholds", "--area", "nope"]) == 1
    assert "unknown area 'nope'; allowed: facts, " in capsys.readouterr().err
