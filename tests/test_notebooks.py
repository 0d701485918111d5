"""The audit notebook: stored executed, and it runs with injected parameters (nbclient)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_evaluation import make_task

nbformat = pytest.importorskip("nbformat")  # the dev extra installs nbformat, nbclient and ipykernel
pytest.importorskip("ipykernel")
NotebookClient = pytest.importorskip("nbclient").NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "audit_report.ipynb"
DEFAULTS: dict[str, object] = {
    "REAL_PATH": None,
    "SYNTHETIC_PATH": None,
    "HOLDOUT_PATH": None,
    "TARGET": None,
    "SENSITIVE": None,
    "DATASET": "breast_cancer",
    "EPOCHS": 1,
    "SEED": 0,
    "REPORT_PATH": None,
    "JSON_PATH": None,
}


def _parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "the notebook needs exactly one cell tagged 'parameters'"
    return cells[0]


def _run(parameters: dict[str, object]) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = _parameters_cell(nb)
    assert set(DEFAULTS) <= set(cell.source.split()), "the test knows every parameter of the notebook"
    values = {**DEFAULTS, **parameters}
    cell.source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError when a cell fails
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts.append(output.get("text", "") + data.get("text/plain", "") + data.get("text/markdown", ""))
    return "\n".join(parts)


def test_the_stored_notebook_is_executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))  # in order, once each
    text = _text(nb)
    assert "membership_inference_distance" in text and "privacy spent" in text
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    assert sum("image/png" in o.get("data", {}) for c in code for o in c.outputs) == 5


@pytest.mark.slow
def test_the_notebook_runs_on_given_files(tmp_path):
    paths = {}
    for name, (n, seed) in {"real": (300, 0), "synthetic": (300, 2), "holdout": (200, 1)}.items():
        paths[name] = tmp_path / f"{name}.csv"
        make_task(n, seed).to_csv(paths[name], index=False)
    html, js = tmp_path / "audit.html", tmp_path / "audit.json"
    nb = _run(
        {
            "REAL_PATH": str(paths["real"]),
            "SYNTHETIC_PATH": str(paths["synthetic"]),
            "HOLDOUT_PATH": str(paths["holdout"]),
            "TARGET": "label",
            "SENSITIVE": "group",
            "REPORT_PATH": str(html),
            "JSON_PATH": str(js),
        }
    )
    text = _text(nb)
    assert "train_synthetic_test_real" in text and "attribute_inference" in text
    assert "privacy spent: None" in text  # no model given
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and js.exists()


@pytest.mark.slow
def test_the_notebook_demonstrates_itself_on_a_built_in_dataset(tmp_path):
    nb = _run({"DATASET": "iris", "EPOCHS": 2})
    text = _text(nb)
    assert "built-in dataset 'iris'" in text
    assert "no formal privacy guarantee" in text or "privacy spent: {" in text
