"""The ``synthaug evaluate`` command."""

from __future__ import annotations

import json

import pytest
from test_evaluation import make_task
from threadpoolctl import threadpool_limits

from synthaug.cli import main


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, (n, seed) in {"real": (200, 0), "synthetic": (200, 2), "holdout": (150, 1)}.items():
        paths[name] = tmp_path / f"{name}.csv"
        make_task(n, seed).to_csv(paths[name], index=False)
    return paths


def test_evaluate_prints_a_summary_and_writes_reports(files, tmp_path, capsys):
    html, js = tmp_path / "r.html", tmp_path / "r.json"
    args = ["evaluate", str(files["real"]), str(files["synthetic"]), "--holdout", str(files["holdout"])]
    args += ["--target", "label", "--sensitive", "group", "--report", str(html), "--json", str(js), "--seed", "1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header == ["metric", "value", "reference", "better"]
    assert "membership_inference_distance" in out and "train_synthetic_test_real" in out
    assert "skipped" not in out
    data = json.loads(js.read_text())
    assert len(data["metrics"]) == 16 and all("reference" in m["details"] for m in data["metrics"])
    assert data["info"]["random_state"] == 1
    assert html.read_text().startswith("<!DOCTYPE html>")
    # existing reports are kept unless --overwrite
    before = js.read_text()
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert js.read_text() == before


def test_evaluate_without_holdout_lists_skipped_metrics(files, capsys):
    assert main(["evaluate", str(files["real"]), str(files["synthetic"])]) == 0
    out = capsys.readouterr().out
    assert "skipped membership_inference_distance: needs a real_holdout" in out
    assert "distance_to_closest_record" in out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--target", "nope"], "target column 'nope' is not a column of real_train"),
        (["--sensitive", "nope"], "sensitive column 'nope' is not a column of real_train"),
    ],
)
def test_evaluate_bad_columns_exit_2(files, capsys, extra, message):
    assert main(["evaluate", str(files["real"]), str(files["synthetic"]), *extra]) == 2
    assert message in capsys.readouterr().err


def test_evaluate_refuses_to_overwrite_an_input(files, capsys):
    before = files["real"].read_bytes()
    assert main(["evaluate", str(files["real"]), str(files["synthetic"]), "--json", str(files["real"]), "--overwrite"]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert files["real"].read_bytes() == before
    assert main(["evaluate", str(files["real"]), str(files["synthetic"]), "--json", "x.json", "--report", "x.json"]) == 2
    assert "are the same file" in capsys.readouterr().err


def test_evaluate_with_a_saved_model_reports_its_privacy_ledger(files, tmp_path, capsys):
    import pandas as pd

    from synthaug import TVAESynthesizer

    real = pd.read_csv(files["real"])
    model_path = TVAESynthesizer(epochs=1, random_state=0).fit(real).save(str(tmp_path / "m.zip"))
    js = tmp_path / "r.json"
    assert main(["evaluate", str(files["real"]), str(files["synthetic"]), "--model", model_path, "--json", str(js)]) == 0
    spent = json.loads(js.read_text())["privacy_spent"]
    assert spent["guarantee"] == "none" and "no formal privacy guarantee" in spent["note"]
