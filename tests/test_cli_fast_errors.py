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
