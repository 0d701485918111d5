"""SynthesisPipeline (library) and `synthaug run` (CLI): outputs, reproducibility, spec errors, shipped pipelines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_mixed_frame

import synthaug
from synthaug.cli import main
from synthaug.exceptions import DataFileError, SpecError
from synthaug.pipeline import SynthesisPipeline
from synthaug.pipeline_spec import apply_overrides

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
OUTPUT_FILES = {"synthetic.csv", "model.synthaug", "report.html", "report.json", "privacy.json", "spec.json"}


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "table.csv"
    path.parent.mkdir()
    make_mixed_frame(n=150, seed=1, missing=False).drop(columns="joined").to_csv(path, index=False)
    return path


def tiny_spec(data: Path, out: Path, **sections) -> dict:
    spec = {
        "input": {"path": str(data), "target": "group", "holdout": 0.3},
        "synthesizer": {"name": "tvae", "params": {"epochs": 2, "batch_size": 50}},
        "output": {"dir": str(out), "seed": 3},
    }
    spec.update(sections)
    return spec


def test_run_writes_every_output_and_a_rerun_reproduces_them(data_csv, tmp_path):
    spec = tiny_spec(data_csv, tmp_path / "run1", output={"dir": str(tmp_path / "run1"), "seed": 3, "rows": 40})
    result = SynthesisPipeline(spec).run()
    assert {p.name for p in (tmp_path / "run1").iterdir()} == OUTPUT_FILES
    assert set(result.files) == {"table", "model", "report_html", "report_json", "privacy", "spec"}
    synthetic = pd.read_csv(result.files["table"])
    assert synthetic.shape == (40, 6)
    assert result.info["n_train"] == 105 and result.info["n_holdout"] == 45
    report = json.loads(result.files["report_json"].read_text())
    assert report["info"]["n_rows"] == {"real_train": 105, "synthetic": 40, "real_holdout": 45}
    assert "train_synthetic_test_real" in {m["name"] for m in report["metrics"]}
    assert json.loads(result.files["privacy"].read_text())["guarantee"] == "none"
    resolved = json.loads(result.files["spec"].read_text())
    assert resolved["input"] == {"path": str(data_csv.resolve()), "target": "group", "holdout": 0.3}
    assert resolved["output"]["rows"] == 40 and resolved["synthesizer"]["params"] == {"epochs": 2, "batch_size": 50}
    assert "no formal guarantee" in result.summary() and "column_shapes" in result.summary()
    assert len(synthaug.load(result.files["model"]).sample(5, random_state=0)) == 5

    rerun = SynthesisPipeline({**resolved, "output": {**resolved["output"], "dir": str(tmp_path / "run2")}}).run()
    assert rerun.files["table"].read_bytes() == result.files["table"].read_bytes()
    assert json.loads(rerun.files["report_json"].read_text())["metrics"] == report["metrics"]


def test_holdout_is_stratified_and_disjoint(data_csv, tmp_path):
    pipeline = SynthesisPipeline(tiny_spec(data_csv, tmp_path / "out"))
    frame = pipeline.load_data()
    train, holdout = pipeline.split(frame)
    shares = frame["group"].value_counts(normalize=True)
    assert (train["group"].value_counts(normalize=True) - shares).abs().max() < 0.02
    assert len(holdout) == 45 and not pd.concat([train, holdout]).duplicated().any()


def test_refuses_a_non_empty_folder_and_overwrite_keeps_other_files(data_csv, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    pipeline = SynthesisPipeline(tiny_spec(data_csv, out))
    with pytest.raises(DataFileError, match="is not empty"):
        pipeline.run()
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    result = pipeline.run(overwrite=True)
    assert len(pd.read_csv(result.files["table"])) == result.info["n_train"] == 105  # rows default to the training size
    assert (out / "notes.txt").read_text() == "mine"
    assert OUTPUT_FILES <= {p.name for p in out.iterdir()}
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left behind


def test_never_writes_over_the_input(tmp_path):
    data = tmp_path / "synthetic.csv"
    make_mixed_frame(n=60, missing=False).to_csv(data, index=False)
    before = data.read_bytes()
    with pytest.raises(DataFileError, match="would overwrite the input"):
        SynthesisPipeline(tiny_spec(data, tmp_path)).run(overwrite=True)
    assert data.read_bytes() == before


@pytest.mark.parametrize("mode", ["conditional", "per_class"])
def test_oversample_writes_the_resampled_table_and_audits_the_new_rows(data_csv, tmp_path, mode):
    out = tmp_path / "out"
    spec = tiny_spec(data_csv, out, oversample={"strategy": "auto", "mode": mode})
    if mode == "per_class":  # [schema] overrides reach each per-class synthesizer
        spec["schema"] = {"age": {"bounds": [18, 90], "public": True}}
    result = SynthesisPipeline(spec).run()
    resampled = pd.read_csv(result.files["table"])
    assert result.files["table"].name == "resampled.csv"
    counts = resampled["group"].value_counts()
    assert counts.nunique() == 1 and list(resampled.columns) == list(pd.read_csv(data_csv).columns)
    info = result.info
    assert info["n_synthetic"] == len(resampled) - info["n_train"]
    report = json.loads(result.files["report_json"].read_text())
    assert report["info"]["n_rows"]["synthetic"] == info["n_synthetic"]
    assert "class counts after" in result.summary()
    if mode == "per_class":
        models = json.loads((out / "models.json").read_text())
        assert sorted(models.values()) == ["b", "c"]
        assert all((out / name).is_file() for name in models)
        assert all(model.schema_["age"].bounds == (18, 90) for model in result.model.synthesizers_.values())
    else:
        assert (out / "model.synthaug").is_file()


@pytest.mark.parametrize(
    "name, params",
    [("diffusion", {"sampling_steps": 5}), ("autoregressive", {"numeric_bins": 16})],
)
def test_diffusion_and_autoregressive_pipelines_copy_and_oversample(data_csv, tmp_path, name, params):
    params = {"epochs": 2, "batch_size": 50, "hidden_dims": [32, 32], **params}
    synthesizer = {"name": name, "params": params}
    copy = SynthesisPipeline(tiny_spec(data_csv, tmp_path / "copy", synthesizer=synthesizer)).run()
    key, value = list(params.items())[-1]
    assert synthaug.load(copy.files["model"]).get_params()[key] == value
    assert len(pd.read_csv(copy.files["table"])) == copy.info["n_train"]
    spec = tiny_spec(data_csv, tmp_path / "over", synthesizer=synthesizer, oversample={"strategy": "auto"})
    resampled = pd.read_csv(SynthesisPipeline(spec).run().files["table"])
    assert resampled["group"].value_counts().nunique() == 1


def test_an_auto_pipeline_saves_the_chosen_model(data_csv, tmp_path):
    params = {"candidates": ["autoregressive", "flow"], "time_budget": 60.0, "epochs": 2, "batch_size": 50}
    result = SynthesisPipeline(tiny_spec(data_csv, tmp_path / "auto", synthesizer={"name": "auto", "params": params})).run()
    assert type(synthaug.load(result.files["model"])).model_name in {"autoregressive", "flow"}
    assert len(pd.read_csv(result.files["table"])) == result.info["n_train"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"outptu": {}}, "unknown spec section [outptu]; allowed sections: input, schema"),
        ({"input": {"dataset": "iris", "targte": "target"}}, "unknown key input.targte; allowed keys in [input]: path, dataset"),
        ({"input": {"dataset": "iris", "path": "x.csv"}}, "exactly one of input.path"),
        ({"input": {"target": "target"}}, "got neither"),
        ({"input": {"dataset": "mnist"}}, "unknown input.dataset 'mnist'; allowed: breast_cancer, diabetes, iris, wine"),
        ({"input": {"dataset": "iris", "holdout": 1.0}}, "input.holdout must be a fraction in (0, 1)"),
        ({"input": {"dataset": "iris", "holdout": "0.3"}}, "input.holdout must be a fraction"),
        ({"input": {"path": "data.xlsx"}}, "must be a .csv or .parquet file"),
        (
            {"synthesizer": {"name": "gpt"}},
            "unknown synthesizer.name 'gpt'; allowed: auto, autoregressive, ctgan, diffusion, flow, image_flow, image_gan, "
            "image_vae, marginal, tvae",
        ),
        ({"synthesizer": {"params": {}}}, "synthesizer.name is required"),
        (
            {"synthesizer": {"name": "tvae", "params": {"epoch": 3}}},
            "unknown synthesizer.params.epoch for tvae; allowed: batch_size",
        ),
        ({"synthesizer": {"name": "tvae", "params": {"random_state": 3}}}, "set by the pipeline (from output.seed)"),
        ({"synthesizer": {"name": "tvae", "params": 3}}, "synthesizer.params must be a table"),
        ({"privacy": {"delta": 1e-5}}, "[privacy] needs privacy.epsilon"),
        ({"privacy": {"epsilon": -1}}, "epsilon must be a positive number"),
        ({"privacy": {"epsilon": 1, "accountant": "gdp"}}, "accountant must be one of prv, rdp"),
        ({"privacy": {"epsilon": "1"}}, "privacy.epsilon must be a number"),
        ({"oversample": {"strategy": "auto"}}, "[oversample] needs input.target"),
        ({"input": {"dataset": "iris", "target": "target"}, "oversample": {"mode": "smote"}}, "oversample.mode must be one of"),
        (
            {
                "input": {"dataset": "iris", "target": "target"},
                "schema": {"sepal length (cm)": {"public": True}},
                "oversample": {},
            },
            "use mode = 'per_class'",
        ),
        ({"input": {"dataset": "iris", "target": "target"}, "oversample": {}, "output": {"dir": "o", "rows": 5}}, "output.rows"),
        ({"output": {"dir": "o", "rows": 0}}, "output.rows must be a positive integer"),
        ({"output": {"dir": "o", "seed": 1.5}}, "output.seed must be an integer"),
        ({"output": {"seed": 1}}, "output.dir is required"),
        ({"output": None}, "spec lacks the [output] section"),
        ({"evaluate": {"sensitive": 3}}, "evaluate.sensitive must be a non-empty string"),
        ({"schema": {"age": {"bound": [0, 1]}}}, "unknown key schema.age.bound; allowed: kind, categories, bounds"),
        ({"schema": {"age": 3}}, "schema.age must be a table"),
        ({"input": {"dataset": "iris", "sep": ";;"}}, "input.sep must be one character"),
        ({"input": {"dataset": "iris", "encoding": "klingon"}}, "unknown encoding 'klingon'"),
    ],
)
def test_invalid_specs_name_the_key_and_the_allowed_values(tmp_path, change, message):
    spec = {"input": {"dataset": "iris"}, "synthesizer": {"name": "tvae"}, "output": {"dir": str(tmp_path)}}
    spec.update(change)
    spec = {k: v for k, v in spec.items() if v is not None}
    with pytest.raises(SpecError) as info:
        SynthesisPipeline(spec)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_data_dependent_errors_are_raised_before_fitting(data_csv, tmp_path):
    for change, message in (
        ({"input": {"path": str(data_csv), "target": "nope"}}, "input.target 'nope' is not a column"),
        ({"evaluate": {"sensitive": "nope"}}, "evaluate.sensitive 'nope' is not a column"),
        ({"schema": {"nope": {"public": True}}}, "override for unknown column 'nope'"),
    ):
        with pytest.raises(SpecError, match=message):
            SynthesisPipeline(tiny_spec(data_csv, tmp_path / "out", **change)).run()
        assert not (tmp_path / "out").exists()


def test_overrides_and_paths_relative_to_the_spec_file(tmp_path, monkeypatch):
    folder = tmp_path / "specs"
    folder.mkdir()
    make_mixed_frame(n=60, missing=False).to_csv(folder / "data.csv", index=False)
    (folder / "p.toml").write_text(
        '[input]\npath = "data.csv"\n[synthesizer]\nname = "flow"\nparams = { epochs = 300 }\n[output]\ndir = "runs/p"\n'
    )
    monkeypatch.chdir(tmp_path)
    plain = SynthesisPipeline.from_toml(folder / "p.toml")
    assert plain.spec["input"]["path"] == str((folder / "data.csv").resolve())
    assert plain.spec["output"] == {"dir": str((tmp_path / "runs" / "p").resolve()), "seed": 0}
    quick = SynthesisPipeline.from_toml(folder / "p.toml", output_dir="elsewhere", epochs=1, seed=7)
    assert quick.spec["synthesizer"]["params"] == {"epochs": 1}
    assert quick.spec["output"] == {"dir": str((tmp_path / "elsewhere").resolve()), "seed": 7}
    assert apply_overrides({"input": {}}, epochs=2) == {"input": {}, "synthesizer": {"params": {"epochs": 2}}}


def test_bad_spec_files(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        SynthesisPipeline.from_toml(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[input\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        SynthesisPipeline.from_toml(bad)


# ---------------------------------------------------------------------------- CLI
def test_cli_run_prints_a_summary(data_csv, tmp_path, capsys, monkeypatch):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[input]\npath = "{data_csv.as_posix()}"\ntarget = "group"\n[synthesizer]\nname = "tvae"\n'
        'params = { epochs = 50, batch_size = 50 }\n[output]\ndir = "ignored"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(spec), "--output", "out", "--epochs", "1", "--seed", "2", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "fitted tvae on 105 training rows" in printed and "column_shapes" in printed
    assert OUTPUT_FILES == {p.name for p in (tmp_path / "out").iterdir()}
    assert json.loads((tmp_path / "out" / "spec.json").read_text())["output"]["seed"] == 2
    assert not (tmp_path / "ignored").exists()

    assert main(["run", str(spec), "--output", "out", "--epochs", "1", "-q"]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert main(["run", str(spec), "--output", "out", "--epochs", "1", "-q", "--overwrite"]) == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("[inputs]\n", "unknown spec section [inputs]"),
        ('[input]\ndataset = "iris"\n[synthesizer]\nname = "gan"\n[output]\ndir = "o"\n', "unknown synthesizer.name 'gan'"),
        ("[input\n", "not valid TOML"),
    ],
)
def test_cli_bad_specs_exit_2(tmp_path, capsys, text, message):
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    assert main(["run", str(spec), "-q"]) == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------------------- shipped pipelines
# slow: about 15 s each on 2 cores even at one epoch, mostly the per-column mixture models of 30 numeric columns
@pytest.mark.slow
@pytest.mark.parametrize("name", ["copy", "dp_copy", "oversample", "dp_marginal"])
def test_shipped_pipelines_run_with_tiny_epochs(name, tmp_path, capsys):
    spec = PIPELINES / f"{name}.toml"
    quick = [] if name == "dp_marginal" else ["--epochs", "1"]  # the marginal model trains no networks
    assert main(["run", str(spec), "--output", str(tmp_path / name), *quick, "-q"]) == 0
    printed = capsys.readouterr().out
    pipeline = SynthesisPipeline.from_toml(spec)
    table = "resampled.csv" if "oversample" in pipeline.spec else "synthetic.csv"
    written = {str(p.relative_to(tmp_path / name)) for p in (tmp_path / name).rglob("*") if p.is_file()}
    expected = OUTPUT_FILES - {"synthetic.csv"} | {table}
    if "privacy" in pipeline.spec:  # the audit reads private rows: kept in audit/, outside the guarantee
        expected = expected - {"report.html", "report.json"} | {"audit/report.html", "audit/report.json"}
    assert expected <= written
    privacy = json.loads((tmp_path / name / "privacy.json").read_text())
    if "privacy" in pipeline.spec:
        assert privacy["epsilon"] <= pipeline.spec["privacy"]["epsilon"] + 1e-9
        assert "differential privacy" in printed
    else:
        assert privacy["epsilon"] is None


# ---------------------------------------------------------------------------- images
IMAGE_FILES = {"synthetic.npz", "synthetic_images", "model.synthaug", "report.html", "report.json", "privacy.json", "spec.json"}


def image_spec(out: Path, **sections) -> dict:
    spec = {
        "input": {"dataset": "digits", "holdout": 0.3},
        "synthesizer": {"name": "image_vae", "params": {"epochs": 1, "base_channels": 8, "latent_dim": 4}},
        "output": {"dir": str(out), "seed": 1},
    }
    spec.update(sections)
    return spec


def test_image_pipeline_writes_images_and_an_image_audit_and_reproduces(tmp_path):
    first = SynthesisPipeline(image_spec(tmp_path / "a")).run()
    assert IMAGE_FILES <= {p.name for p in (tmp_path / "a").iterdir()}
    arrays = np.load(tmp_path / "a" / "synthetic.npz")
    assert arrays["X"].shape == (first.info["n_train"], 8, 8) and arrays["X"].dtype == np.float64
    assert sorted(p.name for p in (tmp_path / "a" / "synthetic_images").iterdir()) == [str(d) for d in range(10)]
    assert {"classification_accuracy_score", "frechet_distance"} <= {r.name for r in first.report.results}
    assert "samples" in first.report.figures()
    assert "training images of shape [8, 8]" in first.summary()
    SynthesisPipeline(image_spec(tmp_path / "b")).run()
    again = np.load(tmp_path / "b" / "synthetic.npz")
    assert np.array_equal(arrays["X"], again["X"]) and np.array_equal(arrays["y"], again["y"])


def test_image_pipeline_from_an_npz_with_dp_and_oversampling(tmp_path):
    from synthaug.image_io import write_npz
    from synthaug.utils.image_checks import make_contract_images

    X, y = make_contract_images(n=90)
    keep = (y != "d") | (np.cumsum(y == "d") <= 12)
    write_npz(tmp_path / "in.npz", X[keep], y[keep])
    spec = image_spec(
        tmp_path / "out",
        input={"path": str(tmp_path / "in.npz"), "holdout": 0.25},
        privacy={"epsilon": 3.0},
        oversample={"strategy": "auto"},
    )
    result = SynthesisPipeline(spec).run()
    resampled = np.load(tmp_path / "out" / "resampled.npz")
    labels, counts = np.unique(resampled["y"], return_counts=True)
    assert list(labels) == ["d", "h", "v"] and resampled["X"].dtype == np.uint8
    # under DP the synthetic counts come from the noisy class histogram (secure noise, unseeded: how many rows
    # each class gains varies run to run, and in a rare run the noise shows "d" as common); the rows written
    # are the real training rows plus exactly the synthetic rows reported
    per_class = result.info["synthetic_per_class"]
    assert sum(per_class.values()) == result.info["n_synthetic"] == len(resampled["y"]) - result.info["n_train"]
    assert 6 <= counts[0] - per_class.get("d", 0) <= 12  # the real "d" rows of the training split
    assert "class_counts_before" not in result.info
    assert 0 < result.privacy_spent["epsilon"] <= 3.0 + 1e-9
    assert "synthetic rows only" in result.privacy_spent["guarantee"]
    # the audit reads private images: apart, marked outside the guarantee, without real images
    audit = tmp_path / "out" / "audit"
    assert (audit / "report.html").read_text().startswith("<!-- OUTSIDE THE PRIVACY GUARANTEE")
    assert (audit / "report.json").read_text().splitlines()[0].startswith('{ "notice": "OUTSIDE THE PRIVACY GUARANTEE')
    assert not (tmp_path / "out" / "report.html").exists()
    assert "real training images left out" in " ".join(result.report.info["warnings"])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"synthesizer": {"name": "tvae"}}, "is a table synthesizer"),
        ({"schema": {"x": {"kind": "categorical"}}}, "[schema] does not apply to an image pipeline"),
        ({"input": {"dataset": "digits", "target": "y"}}, "input.target does not apply to images"),
    ],
)
def test_image_spec_errors(tmp_path, change, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        SynthesisPipeline(image_spec(tmp_path / "x", **change))


def test_table_input_with_an_image_synthesizer_is_refused(data_csv, tmp_path):
    with pytest.raises(SpecError, match="needs images"):
        SynthesisPipeline(tiny_spec(data_csv, tmp_path / "x", synthesizer={"name": "image_flow"}))


@pytest.mark.slow
def test_shipped_digits_pipeline_runs(tmp_path, capsys):
    assert main(["run", str(PIPELINES / "digits.toml"), "--output", str(tmp_path / "d"), "--epochs", "1", "-q"]) == 0
    assert IMAGE_FILES <= {p.name for p in (tmp_path / "d").iterdir()}
    assert "classification_accuracy_score" in capsys.readouterr().out


def test_a_semicolon_csv_with_decimal_commas_runs_with_input_sep_and_decimal(data_csv, tmp_path):
    semicolons = data_csv.with_name("table_de.csv")
    pd.read_csv(data_csv).to_csv(semicolons, sep=";", decimal=",", index=False)
    spec = tiny_spec(semicolons, tmp_path / "out")
    with pytest.raises(DataFileError, match="--sep ';'"):
        SynthesisPipeline(spec).run()
    spec["input"].update(sep=";", decimal=",")
    SynthesisPipeline(spec).run()
    assert pd.read_csv(tmp_path / "out" / "synthetic.csv").shape[1] == pd.read_csv(data_csv).shape[1]
