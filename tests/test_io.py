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


def test_chunked_samples_equal_one_sample_and_stream_to_files(tmp_path):
    from conftest import make_mixed_frame

    from synthaug import TVAESynthesizer
    from synthaug.io import write_table_chunks

    model = TVAESynthesizer(epochs=1, batch_size=100, random_state=0).fit(make_mixed_frame(200))
    whole = model.sample(20_000, random_state=5)
    chunks = list(model.iter_samples(20_000, chunk_size=10_000, random_state=5))
    assert [len(c) for c in chunks] == [16_384, 3_616]  # rounded up to the networks' internal batch
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)
    for name in ("s.csv", "s.parquet"):
        path, rows = write_table_chunks(model.iter_samples(20_000, chunk_size=8192, random_state=5), tmp_path / name)
        assert rows == 20_000
        back = pd.read_csv(path) if name.endswith(".csv") else pd.read_parquet(path)
        assert len(back) == 20_000 and list(back.columns) == list(whole.columns)
        assert oct((tmp_path / name).stat().st_mode & 0o777) == oct(0o644)
    with pytest.raises(ValueError, match="chunk_size"):
        next(model.iter_samples(10, chunk_size=0))


def test_a_failed_chunked_write_leaves_nothing(tmp_path):
    from synthaug.io import write_table_chunks

    def broken():
        yield pd.DataFrame({"a": [1, 2]})
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        write_table_chunks(broken(), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []
