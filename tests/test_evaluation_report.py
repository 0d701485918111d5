"""synthaug.evaluate and AuditReport: the suite, skipped metrics, JSON / Markdown / HTML renderings."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from test_evaluation import make_task
from threadpoolctl import threadpool_limits

import synthaug
from synthaug.evaluation import AuditReport, evaluate


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return {"train": make_task(400, 0), "holdout": make_task(300, 1), "synthetic": make_task(400, 2)}


class _Model:
    privacy_spent_ = {"epsilon": None, "guarantee": "no formal guarantee (trained without differential privacy)"}


@pytest.fixture(scope="module")
def report(data) -> AuditReport:
    return evaluate(data["train"], data["synthetic"], data["holdout"], target="label", sensitive="group", model=_Model())


def test_evaluate_runs_every_metric_with_a_reference(report):
    frame = report.to_frame()
    assert list(frame.columns) == ["section", "metric", "value", "reference", "direction", "skipped"]
    assert report.skipped == {}
    assert len(frame) == 16
    assert frame["reference"].notna().all()
    assert set(frame["section"]) == {"fidelity", "utility", "privacy"}
    assert report["membership_inference_distance"].value == pytest.approx(0.5, abs=0.07)
    assert report.privacy_spent["guarantee"].startswith("no formal guarantee")
    assert report.info["n_rows"] == {"real_train": 400, "synthetic": 400, "real_holdout": 300}


def test_without_holdout_metrics_are_skipped_with_reasons(data):
    report = evaluate(data["train"], data["train"], target="label")
    names = {r.name for r in report.results}
    assert "membership_inference_distance" not in names
    assert "needs a real_holdout" in report.skipped["membership_inference_distance"]
    assert "real_holdout" in report.skipped["train_synthetic_test_real"]
    assert report.skipped["attribute_inference"] == "needs a sensitive column (none given)"
    assert report["exact_copy_rate"].value == 1.0
    assert report["column_shapes"].details["reference"] is None
    frame = report.to_frame()
    skipped = frame[frame["skipped"].notna()]
    assert skipped["value"].isna().all() and "membership_inference_density" in set(skipped["metric"])
    with pytest.raises(KeyError, match="was skipped"):
        report["membership_inference_density"]
    assert "## Skipped" in report.to_markdown()


def test_a_metric_that_cannot_run_is_skipped_not_faked(data):
    synthetic = data["synthetic"].copy()
    synthetic["label"] = "no"  # a single class: no classifier can be trained on it
    report = evaluate(data["train"], synthetic, data["holdout"], target="label")
    assert "only one class" in report.skipped["train_synthetic_test_real"]
    assert "train_synthetic_test_real" not in {r.name for r in report.results}


def test_json_holds_every_metric_and_reference(report, tmp_path):
    path = tmp_path / "report.json"
    text = report.to_json(path)
    data = json.loads(path.read_text())
    assert json.loads(text) == data
    assert {m["name"] for m in data["metrics"]} == {r.name for r in report.results}
    assert all("reference" in m["details"] for m in data["metrics"])
    assert data["privacy_spent"]["epsilon"] is None
    assert data["info"]["target"] == "label"


def test_json_writes_nan_as_null(data):
    report = evaluate(data["train"][["x1", "x2"]], data["synthetic"][["x1", "x2"]])
    metrics = {m["name"]: m for m in json.loads(report.to_json())["metrics"]}
    assert metrics["category_validity"]["value"] is None  # no discrete column: NaN, with a note


def test_html_is_one_self_contained_file_with_plots(report, tmp_path):
    path = tmp_path / "report.html"
    page = report.to_html(path)
    assert path.read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 5  # marginals, pairwise, utility, DCR, membership ROC
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing loaded from elsewhere
    assert "membership_inference_density" in page and "no formal guarantee" in page
    assert "<div>" in report._repr_html_()


def test_markdown_summary(report):
    text = report.to_markdown()
    assert "| detection_auc |" in text and "## Privacy" in text and "## Privacy spent" in text


def test_evaluate_errors_name_the_problem(data):
    train = data["train"]
    with pytest.raises(ValueError, match="target column 'nope' is not a column"):
        evaluate(train, train, target="nope")
    with pytest.raises(ValueError, match="sensitive column 'nope' is not a column"):
        evaluate(train, train, sensitive="nope")
    with pytest.raises(ValueError, match="synthetic is an empty table"):
        evaluate(train, train.iloc[:0])
    with pytest.raises(ValueError, match=r"real_holdout lacks column\(s\) \['x1'\]"):
        evaluate(train, train, train.drop(columns="x1"))


def test_evaluate_is_reproducible_and_leaves_global_rngs_alone(data):
    state = np.random.get_state()[1].copy()
    small = {k: v.iloc[:150] for k, v in data.items()}
    first = evaluate(small["train"], small["synthetic"], small["holdout"], random_state=4)
    again = evaluate(small["train"], small["synthetic"], small["holdout"], random_state=4)
    pd.testing.assert_frame_equal(first.to_frame(), again.to_frame())
    assert np.array_equal(np.random.get_state()[1], state)


def test_lazy_exports_do_not_import_torch_or_matplotlib():
    assert synthaug.evaluate is evaluate and synthaug.AuditReport is AuditReport
    code = "import sys, synthaug; synthaug.evaluate; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_a_holdout_inside_real_train_is_flagged(data):
    train = data["train"]
    report = evaluate(train, data["synthetic"], train.iloc[:200])
    assert "100% of the holdout rows also appear in real_train" in report.info["warnings"][0]
    assert "WARNING: 100% of the holdout rows" in report.summary()
    assert evaluate(train, data["synthetic"]).info["warnings"] == []
