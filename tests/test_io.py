import pandas as pd
import pytest

from synthaug.exceptions import DataFileError
from synthaug.io import read_table, write_table


def test_csv_and_parquet_round_trip(mixed_frame, tmp_path):
    write_table(mixed_frame, tmp_path / "t.csv")
    back = read_table(tmp_path / "t.csv")
    assert back.shape == mixed_frame.shape
    pytest.importorskip("pyarrow")
    write_table(mixed_frame, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), mixed_frame, check_dtype=False)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "is empty"), (b"a,b\n", "header but no rows"), (b"\n\n", "has no data")],
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        read_table(path)


def test_missing_file_and_extension(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataFileError, match="unsupported file type .xlsx"):
        read_table(tmp_path / "x.xlsx")


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old")

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError):
        write_table(pd.DataFrame({"a": [1]}), target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
