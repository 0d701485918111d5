"""Input errors are answered before torch (or scikit-learn's estimators) are imported: at once."""

import subprocess
import sys

import pytest

PROBE = "import sys; from synthaug.cli import main; rc = main(sys.argv[1:]); print('torch' in sys.modules, rc)"


@pytest.mark.parametrize(
    "args",
    [
        ["synthesize", "{missing}.csv", "-o", "{tmp}/out.csv"],
        ["synthesize", "{missing}.csv", "-o", "{tmp}/out.txt"],
        ["oversample", "{missing}.csv", "--target", "y", "-o", "{tmp}/out.csv"],
        ["oversample", "{missing}.csv", "--target", "y", "-o", "{tmp}/out.csv", "--model", "gpt"],
        ["sample", "{missing}.synthaug", "-o", "{tmp}/out.csv", "--rows", "3"],
        ["sample", "{bad}", "-o", "{tmp}/out.csv", "--rows", "3"],
        ["schema", "{missing}.csv", "-o", "{tmp}/schema.json"],
        ["synthesize-images", "{missing}", "-o", "{tmp}/images"],
        ["run", "{missing}.toml"],
    ],
)
def test_an_input_error_returns_without_importing_torch(tmp_path, args):
    bad = tmp_path / "bad.synthaug"
    bad.write_text("[1, 2]")
    values = {"missing": str(tmp_path / "missing"), "tmp": str(tmp_path), "bad": str(bad)}
    argv = [a.format(**values) for a in args]
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "2"], result.stdout + result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_an_impossible_condition_is_refused_before_torch(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("age,dept\n" + "".join(f"{20 + i % 40},{'HR' if i % 3 else 'IT'}\n" for i in range(60)))
    for extra, message in (
        (["--model", "ctgan", "--condition", "age=30"], "numeric column 'age'"),
        (["--model", "flow", "--condition", "dept=HR", "--condition", "age=30"], "numeric column 'age'"),
        (["--model", "tvae", "--condition", "dept=Sales"], "not present in the data"),
    ):
        argv = ["synthesize", str(path), "-o", str(tmp_path / "out.csv"), *extra]
        result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
        assert result.stdout.split() == ["False", "2"], result.stdout + result.stderr
        assert message in result.stderr


def test_the_condition_table_agrees_with_the_classes():
    from synthaug.synthesizers.condition_support import CONDITION_SUPPORT
    from synthaug.synthesizers.registry import available_synthesizers, synthesizer_class

    tables = [n for n in available_synthesizers() if n != "auto" and not n.startswith("image_")]
    assert sorted(CONDITION_SUPPORT) == sorted(tables)
    for name, (class_name, multi, ranges) in CONDITION_SUPPORT.items():
        cls = synthesizer_class(name)
        assert (cls.__name__, cls.multi_column_conditions, cls.range_conditions) == (class_name, multi, ranges)
