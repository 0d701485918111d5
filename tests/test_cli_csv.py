"""CSV reading that does not guess wrong in silence: --sep, --decimal, --encoding and clear refusals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthaug.cli import main
from synthaug.exceptions import DataFileError
from synthaug.io import read_table


def _frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"stadt": rng.choice(["Köln", "Zürich"], n), "lohn": rng.normal(3000, 500, n).round(2)})


def test_a_semicolon_csv_is_refused_with_the_flags_to_pass(tmp_path, capsys):
    path = tmp_path / "de.csv"
    _frame().to_csv(path, sep=";", decimal=",", index=False)
    assert main(["schema", str(path), "-o", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err
    assert "parsed as one column" in err and "--sep ';'" in err and "--decimal ','" in err
    assert not (tmp_path / "s.json").exists()
    assert main(["schema", str(path), "-o", str(tmp_path / "s.json"), "--sep", ";", "--decimal", ","]) == 0
    kinds = {c["name"]: c["kind"] for c in json.loads((tmp_path / "s.json").read_text())["columns"]}
    assert kinds == {"stadt": "categorical", "lohn": "continuous"}


def test_synthesize_writes_the_input_s_separator_and_decimal(tmp_path):
    path, out = tmp_path / "de.csv", tmp_path / "out.csv"
    _frame().to_csv(path, sep=";", decimal=",", index=False)
    argv = ["synthesize", str(path), "-o", str(out), "--model", "marginal", "--sep", ";", "--decimal", ",", "-q"]
    assert main(argv) == 0
    back = pd.read_csv(out, sep=";", decimal=",")
    assert list(back.columns) == ["stadt", "lohn"] and back["lohn"].dtype == float


def test_rows_longer_than_the_header_are_refused(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("a,b\n1,2,3\n4,5,6\n")
    with pytest.raises(DataFileError, match="more fields than the header"):
        read_table(path)


def test_encoding(tmp_path, capsys):
    path = tmp_path / "latin.csv"
    _frame().to_csv(path, index=False, encoding="latin-1")
    assert main(["schema", str(path), "-o", str(tmp_path / "s.json")]) == 2
    assert "--encoding latin-1" in capsys.readouterr().err
    assert main(["schema", str(path), "-o", str(tmp_path / "s.json"), "--encoding", "latin-1"]) == 0
    columns = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["columns"]
    assert "Köln" in columns[0]["categories"]
    assert main(["schema", str(path), "-o", str(tmp_path / "t.json"), "--encoding", "klingon"]) == 2
    assert main(["schema", str(path), "-o", str(tmp_path / "t.json"), "--sep", ";;"]) == 2
    assert "one character" in capsys.readouterr().err


def test_tabs_by_name(tmp_path):
    path = tmp_path / "t.csv"
    _frame().to_csv(path, sep="\t", index=False)
    with pytest.raises(DataFileError, match=r"--sep '\\t'"):
        read_table(path)
    assert main(["schema", str(path), "-o", str(tmp_path / "s.json"), "--sep", "tab"]) == 0
