import subprocess
import sys

import pandas as pd
import pytest

from synthaug.cli import main


@pytest.fixture
def csv(tmp_path, mixed_frame):
    path = tmp_path / "in.csv"
    mixed_frame.to_csv(path, index=False)
    return path


def test_synthesize_with_condition_and_model(csv, tmp_path, capsys):
    out, model = tmp_path / "out.csv", tmp_path / "model.synthaug"
    code = main(
        [
            "synthesize",
            str(csv),
            "-o",
            str(out),
            "--epochs",
            "2",
            "--batch-size",
            "100",
            "--rows",
            "40",
            "--seed",
            "1",
            "--condition",
            "group=b",
            "--save-model",
            str(model),
            "-q",
        ]
    )
    assert code == 0
    frame = pd.read_csv(out)
    assert len(frame) == 40 and (frame["group"] == "b").all()
    assert "wrote 40 synthetic rows" in capsys.readouterr().out
    assert main(["sample", str(model), "-o", str(tmp_path / "more.parquet"), "--rows", "5", "--seed", "2"]) == 0
    assert len(pd.read_parquet(tmp_path / "more.parquet")) == 5


def test_rows_default_to_input_size(csv, tmp_path):
    out = tmp_path / "out.csv"
    assert main(["synthesize", str(csv), "-o", str(out), "--epochs", "1", "--batch-size", "100", "-q"]) == 0
    assert len(pd.read_csv(out)) == len(pd.read_csv(csv))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--condition", "nope=1"], "unknown column 'nope'"),
        (["--condition", "group=zebra"], "value not present"),
        (["--condition", "group"], "COLUMN=VALUE"),
        (["--rows", "0"], "n_samples"),
        (["--model", "ctgan", "--batch-size", "105"], "multiple of pac"),
        (["--model", "gpt"], "unknown synthesizer"),
    ],
)
def test_bad_arguments_exit_2(csv, tmp_path, capsys, args, message):
    code = main(["synthesize", str(csv), "-o", str(tmp_path / "o.csv"), "--epochs", "1", "-q", *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_files_exit_2(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    allnan = tmp_path / "allnan.csv"
    allnan.write_text("a,b\n1,\n2,\n")
    for path, message in (
        (tmp_path / "missing.csv", "does not exist"),
        (empty, "is empty"),
        (header, "header but no rows"),
        (allnan, "'b' is entirely missing"),
    ):
        assert main(["synthesize", str(path), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
        assert message in capsys.readouterr().err


def test_never_overwrites_input_or_existing_output(csv, tmp_path, capsys):
    before = csv.read_bytes()
    assert main(["synthesize", str(csv), "-o", str(csv), "--epochs", "1", "-q"]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert csv.read_bytes() == before
    existing = tmp_path / "exists.csv"
    existing.write_text("keep")
    assert main(["synthesize", str(csv), "-o", str(existing), "--epochs", "1", "-q"]) == 2
    assert existing.read_text() == "keep"


def test_corrupt_model_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.synthaug"
    bad.write_text("not a model")
    assert main(["sample", str(bad), "-o", str(tmp_path / "o.csv"), "--rows", "3"]) == 2
    assert "not a synthaug model file" in capsys.readouterr().err


def test_console_script_demo(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "synthaug.cli", "demo", "--dataset", "iris", "--epochs", "2", "--output-dir", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 150 synthetic rows" in result.stdout
    assert len(pd.read_csv(tmp_path / "iris_synthetic.csv")) == 150


def test_oversample_balances_and_reports_counts(tmp_path, capsys):
    rng = __import__("numpy").random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=120),
            "plan": rng.choice(["a", "b"], 120),
            "label": ["rare"] * 20 + ["common"] * 100,
        }
    )
    source, out = tmp_path / "in.csv", tmp_path / "balanced.csv"
    frame.to_csv(source, index=False)
    code = main(
        ["oversample", str(source), "--target", "label", "-o", str(out), "--model", "tvae", "--epochs", "2", "--seed", "0", "-q"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "before: {'common': 100, 'rare': 20}" in printed and "after:  {'common': 100, 'rare': 100}" in printed
    balanced = pd.read_csv(out)
    assert list(balanced.columns) == ["x", "plan", "label"] and len(balanced) == 200
    pd.testing.assert_frame_equal(balanced.iloc[:120].reset_index(drop=True), pd.read_csv(source))


def test_oversample_without_a_model_uses_the_samplers_default(tmp_path, capsys, monkeypatch):
    from synthaug.synthesizers import DiffusionSynthesizer

    fitted = []
    original = DiffusionSynthesizer.fit
    monkeypatch.setattr(DiffusionSynthesizer, "fit", lambda self, X, y=None: fitted.append(self.epochs) or original(self, X, y))
    rng = __import__("numpy").random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=60), "label": ["rare"] * 12 + ["common"] * 48})
    source, out = tmp_path / "in.csv", tmp_path / "balanced.csv"
    frame.to_csv(source, index=False)
    assert main(["oversample", str(source), "--target", "label", "-o", str(out), "--epochs", "3", "--seed", "0", "-q"]) == 0
    assert fitted == [3] and (pd.read_csv(out)["label"] == "rare").sum() == 48


def test_oversample_under_epsilon_without_a_model_fits_the_private_default(tmp_path, capsys):
    from synthaug.schema import infer_schema

    rng = __import__("numpy").random.default_rng(2)
    frame = pd.DataFrame({"x": rng.uniform(0, 100, 400), "label": ["rare"] * 100 + ["common"] * 300})
    source, out, schema = tmp_path / "in.csv", tmp_path / "balanced.csv", tmp_path / "schema.json"
    frame.to_csv(source, index=False)
    schema.write_text(infer_schema(frame[["x"]], {"x": {"bounds": [0, 100], "public": True}}).to_json())
    args = ["oversample", str(source), "--target", "label", "-o", str(out), "--epochs", "1", "--schema", str(schema)]
    assert main([*args, "--epsilon", "5", "--delta", "1e-4", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "from the noisy class counts" in printed and "differential privacy" in printed
    assert pd.read_csv(out)["x"].iloc[400:].between(0, 100).all()


@pytest.mark.parametrize(
    "label, message",
    [
        (["a"] * 10, "single class"),
        (["a", None] * 5, "missing value"),
    ],
)
def test_oversample_bad_targets(tmp_path, capsys, label, message):
    source = tmp_path / "in.csv"
    pd.DataFrame({"x": range(10), "label": label}).to_csv(source, index=False)
    assert main(["oversample", str(source), "--target", "label", "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    assert message in capsys.readouterr().err
    assert main(["oversample", str(source), "--target", "nope", "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    assert "target column 'nope' is not in the table" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["tvae", "flow", "diffusion", "autoregressive"])
def test_synthesize_other_models(csv, tmp_path, model):
    out = tmp_path / f"{model}.csv"
    assert (
        main(
            [
                "synthesize",
                str(csv),
                "-o",
                str(out),
                "--model",
                model,
                "--epochs",
                "2",
                "--rows",
                "30",
                "--condition",
                "group=a",
                "-q",
            ]
        )
        == 0
    )
    frame = pd.read_csv(out)
    assert len(frame) == 30 and (frame["group"] == "a").all()


def test_synthesize_with_a_range_and_a_category_condition(csv, tmp_path, mixed_frame):
    out = tmp_path / "ranged.csv"
    args = ["synthesize", str(csv), "-o", str(out), "--model", "autoregressive", "--epochs", "2", "--rows", "40"]
    low, high = mixed_frame["income"].quantile([0.2, 0.6])
    assert main([*args, "--condition", f"income={low:.3f}..{high:.3f}", "--condition", "group=b", "-q"]) == 0
    frame = pd.read_csv(out)
    assert len(frame) == 40 and frame["income"].between(round(low, 3), round(high, 3)).all() and (frame["group"] == "b").all()


@pytest.mark.parametrize(
    "conditions, message",
    [(["group=a", "member=True"], "one column at a time"), (["income=1..5"], "only on categorical and boolean columns")],
)
def test_conditions_a_model_cannot_take_are_refused_before_training(csv, tmp_path, capsys, conditions, message):
    args = ["synthesize", str(csv), "-o", str(tmp_path / "o.csv"), "--model", "ctgan", "--epochs", "500", "-q"]
    assert main([*args, *[f"--condition={c}" for c in conditions]]) == 2
    err = capsys.readouterr().err
    assert message in err and "autoregressive" in err
    assert not (tmp_path / "o.csv").exists()


def test_synthesize_with_epsilon_prints_the_spent_budget(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"x": rng.normal(50, 10, n), "group": rng.choice(["a", "b"], n)})
    source, schema, out = tmp_path / "in.csv", tmp_path / "schema.json", tmp_path / "out.csv"
    frame.to_csv(source, index=False)
    from synthaug.schema import infer_schema

    declared = {"group": {"public": True, "categories": ["a", "b"]}, "x": {"bounds": [0, 100], "public": True}}
    schema.write_text(infer_schema(frame, declared).to_json())
    args = ["synthesize", str(source), "-o", str(out), "--model", "tvae", "--epochs", "2", "--batch-size", "100"]
    code = main([*args, "--epsilon", "2", "--delta", "1e-5", "--accountant", "rdp", "--schema", str(schema), "-q"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "differential privacy" in printed and "target epsilon 2" in printed and "rdp accountant" in printed
    spent = float(printed.split("privacy: (")[1].split(",")[0])
    assert 0 < spent <= 2
    synthetic = pd.read_csv(out)
    assert synthetic["x"].between(0, 100).all() and set(synthetic["group"]) <= {"a", "b"}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--epsilon", "0", "--schema", "SCHEMA"], "epsilon must be a positive number"),
        (["--epsilon", "1", "--delta", "0.5", "--schema", "SCHEMA"], "not below 1/n"),
        (["--delta", "1e-6"], "--delta only applies with --epsilon"),
        (["--epsilon", "1", "--schema", "missing.json"], "schema file"),
        (["--epsilon", "1"], "--epsilon needs --schema"),
    ],
)
def test_bad_privacy_arguments_exit_2(csv, tmp_path, capsys, extra, message):
    schema = tmp_path / "schema.json"
    assert main(["schema", str(csv), "-o", str(schema)]) == 0
    extra = [str(schema) if item == "SCHEMA" else item for item in extra]
    code = main(["synthesize", str(csv), "-o", str(tmp_path / "out.csv"), "--epochs", "1", *extra, "-q"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_schema_command_drafts_a_reviewable_schema_and_never_overwrites(csv, tmp_path, capsys):
    from synthaug.schema import TableSchema, infer_schema

    out = tmp_path / "schema.json"
    assert main(["schema", str(csv), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "outside any DP guarantee" in printed and "review" in printed
    drafted = TableSchema.from_json(out.read_text())
    assert drafted == infer_schema(pd.read_csv(csv)) and not any(c.public for c in drafted)
    before = out.read_text()
    assert main(["schema", str(csv), "-o", str(out)]) == 2  # exists: needs --overwrite
    assert out.read_text() == before


def test_synthesize_without_epsilon_says_there_is_no_guarantee(csv, tmp_path, capsys):
    assert main(["synthesize", str(csv), "-o", str(tmp_path / "out.csv"), "--epochs", "1", "--batch-size", "100", "-q"]) == 0
    assert "no formal guarantee" in capsys.readouterr().out


def test_a_synthaug_error_exits_2_with_a_one_line_message(tmp_path, capsys, monkeypatch):
    from synthaug.cli import tables
    from synthaug.exceptions import DataValidationError

    def refuse(args):
        raise DataValidationError("column 'x' is bad\nsee the schema")

    monkeypatch.setattr(tables, "cmd_schema", refuse)
    assert main(["schema", str(tmp_path / "in.csv"), "-o", str(tmp_path / "s.json")]) == 2
    assert capsys.readouterr().err == "synthaug schema: error: column 'x' is bad see the schema\n"


@pytest.mark.parametrize("error", [RuntimeError("boom"), ValueError("a bug, not bad input"), KeyError("lost")])
def test_an_unexpected_error_exits_1_with_its_traceback(tmp_path, capsys, monkeypatch, error):
    from synthaug.cli import tables

    def fail(args):
        raise error

    monkeypatch.setattr(tables, "cmd_schema", fail)
    assert main(["schema", str(tmp_path / "in.csv"), "-o", str(tmp_path / "s.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last)") and f"{type(error).__name__}: " in err
    assert "in fail" in err and err.rstrip().endswith("please report it with the traceback above")


def test_usage_errors_stay_argparse_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["synthesize"])
    assert info.value.code == 2 and "required" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--strategy", "most"], "--strategy must be one of auto, minority"),
        (["--strategy", "-1"], "a positive number, got '-1'"),
        (["--model", "gpt"], "--model: unknown synthesizer 'gpt'"),
        (["--epsilon", "1", "--max-grad-norm", "0", "--schema", "s.json"], "max_grad_norm must be a positive number"),
    ],
)
def test_oversample_flags_the_cli_parses_exit_2(tmp_path, capsys, args, message):
    source = tmp_path / "in.csv"
    pd.DataFrame({"x": range(12), "label": ["rare"] * 3 + ["common"] * 9}).to_csv(source, index=False)
    code = main(["oversample", str(source), "--target", "label", "-o", str(tmp_path / "o.csv"), "--epochs", "1", "-q", *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_parse_strategy_reads_names_and_numbers():
    from synthaug.cli.tables import parse_strategy

    assert parse_strategy("not majority") == "not majority" and parse_strategy("0.5") == 0.5 and parse_strategy("1e0") == 1.0
