"""Fitting from a Parquet file in chunks (synthaug.synthesizers.streamed, synthaug.parquet_source)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyarrow")

import synthaug.parquet_source as parquet_source  # noqa: E402
from synthaug.cli import main  # noqa: E402
from synthaug.cli.tables import STREAMED_MODELS  # noqa: E402
from synthaug.exceptions import ParameterError, PrivacyError, SynthaugWarning  # noqa: E402
from synthaug.parquet_source import ParquetSource, is_parquet_path  # noqa: E402
from synthaug.privacy import DPConfig  # noqa: E402
from synthaug.synthesizers import CTGANSynthesizer, FlowSynthesizer, TVAESynthesizer  # noqa: E402
from synthaug.synthesizers.registry import get_synthesizer  # noqa: E402
from synthaug.synthesizers.streamed import StreamedFit  # noqa: E402
from synthaug.training import streaming  # noqa: E402


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    """``d`` follows ``a`` where ``b`` is ``x`` and opposes it elsewhere: a dependency to learn."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.choice(["x", "y"], n)
    return pd.DataFrame({"a": a, "b": b, "c": rng.integers(0, 4, n), "d": np.where(b == "x", a, -a) + 0.1 * rng.normal(size=n)})


@pytest.fixture
def parquet_file(tmp_path):
    path = tmp_path / "table.parquet"
    _table(6000).to_parquet(path, row_group_size=1000)
    return path


def test_source_counts_rows_and_draws_a_uniform_sample_without_replacement(tmp_path):
    path = tmp_path / "ids.parquet"
    pd.DataFrame({"i": np.arange(10_000)}).to_parquet(path, row_group_size=700)
    source = ParquetSource(path, chunk_rows=300)
    assert source.n_rows == 10_000 and source.columns == ["i"]
    sample = source.uniform_sample(2000, np.random.RandomState(0))["i"].to_numpy()
    assert sample.size == 2000 and np.unique(sample).size == 2000
    assert np.histogram(sample, bins=10, range=(0, 10_000))[0].min() > 140  # ~200 per tenth
    chunks = list(source.epoch_chunks(np.random.RandomState(1)))
    assert max(len(c) for c in chunks) <= 300
    rows = np.concatenate([c["i"].to_numpy() for c in chunks])
    assert np.array_equal(np.sort(rows), np.arange(10_000)) and not np.array_equal(rows, np.arange(10_000))


def test_parquet_paths_are_recognised(tmp_path, parquet_file):
    folder = tmp_path / "parts"
    folder.mkdir()
    assert is_parquet_path(parquet_file) and is_parquet_path(str(parquet_file))
    assert not is_parquet_path(folder) and not is_parquet_path(pd.DataFrame()) and not is_parquet_path("t.csv")
    _table(10).to_parquet(folder / "part-0.parquet")
    assert is_parquet_path(folder)


# the within-level correlations (+1 / -1 in the data) that each model reaches in memory at 30 epochs:
# flow ~0.9, TVAE ~0.2 (0.22 / -0.14 in memory, 0.19 / -0.13 streamed on this table)
@pytest.mark.parametrize(("model_class", "bound"), [(FlowSynthesizer, 0.5), (TVAESynthesizer, 0.08)])
def test_streamed_fit_learns_the_table_holding_one_chunk_at_a_time(model_class, bound, parquet_file, monkeypatch):
    monkeypatch.setattr(parquet_source, "DEFAULT_CHUNK_ROWS", 1500)
    held = []
    original = streaming.RowStore.load

    def recording_load(self, **tensors):
        held.append(next(iter(tensors.values())).shape[0])
        original(self, **tensors)

    monkeypatch.setattr(streaming.RowStore, "load", recording_load)
    model = model_class(epochs=30, random_state=0).fit(parquet_file)
    assert model.n_training_rows_ == 6000 and model.stream_skipped_rows_ == 0
    assert max(held[1:]) <= 1500 and sum(held[1:]) == 30 * 6000  # every row once per epoch, in chunks
    out = model.sample(4000)
    assert list(out.columns) == ["a", "b", "c", "d"] and set(out["b"]) <= {"x", "y"}
    for level, sign in (("x", 1), ("y", -1)):
        rows = out[out["b"] == level]
        assert sign * np.corrcoef(rows["a"], rows["d"])[0, 1] > bound, level


def test_streamed_fit_is_reproducible_for_a_seed(parquet_file):
    first = FlowSynthesizer(epochs=2, random_state=3).fit(parquet_file).sample(50)
    again = FlowSynthesizer(epochs=2, random_state=3).fit(parquet_file).sample(50)
    pd.testing.assert_frame_equal(first, again)


@pytest.mark.filterwarnings("ignore::synthaug.exceptions.RareCategoryWarning")
def test_values_the_sample_never_saw_are_merged_or_skipped(tmp_path, monkeypatch):
    import synthaug.synthesizers.streamed as streamed

    monkeypatch.setattr(streamed, "FIT_SAMPLE_ROWS", 300)
    table = _table(3000)
    table.loc[2998:, "b"] = "z"  # too rare to be in the sample: those rows are skipped
    table.loc[2990, "a"] = np.nan  # a missing value in a column the sample saw complete: skipped
    table["e"] = np.where(np.arange(3000) % 5 == 0, [f"k{i}" for i in range(3000)], "common")  # rare levels: _RARE_
    path = tmp_path / "t.parquet"
    table.to_parquet(path, row_group_size=1000)
    with pytest.warns(SynthaugWarning, match=r"3 of 3000 rows of .* were skipped"):
        model = FlowSynthesizer(epochs=1, random_state=0).fit(path)
    assert model.schema_["b"].categories == ["x", "y"] and not model.schema_["a"].nullable
    assert model.schema_["e"].categories == ["_RARE_", "common"] and model.stream_skipped_rows_ == 3


def test_streamed_fit_refuses_what_it_cannot_do(parquet_file):
    with pytest.raises(PrivacyError, match="Poisson"):
        FlowSynthesizer(epochs=1, dp=DPConfig(epsilon=1.0)).fit(parquet_file)
    with pytest.raises(ParameterError, match="read_parquet"):
        CTGANSynthesizer(epochs=1).fit(parquet_file)
    with pytest.raises(ParameterError, match="read_parquet"):
        get_synthesizer("auto").fit(parquet_file)
    with pytest.raises(Exception, match="y=None"):
        FlowSynthesizer(epochs=1).fit(parquet_file, y=np.zeros(6000))


def test_cli_models_that_stream_are_the_streamed_fit_subclasses():
    from synthaug.synthesizers.registry import available_synthesizers

    streamed = {name for name in available_synthesizers() if isinstance(get_synthesizer(name), StreamedFit)}
    assert streamed == set(STREAMED_MODELS)


def test_cli_synthesize_streams_a_parquet_dataset_folder(tmp_path, capsys):
    folder = tmp_path / "big.parquet"
    folder.mkdir()
    for part in range(3):
        _table(800, seed=part).to_parquet(folder / f"part-{part:05d}.parquet")
    out = tmp_path / "out.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("error", SynthaugWarning)
        code = main(["synthesize", str(folder), "-o", str(out), "--model", "flow", "--epochs", "2", "--quiet"])
    assert code == 0 and "2400 rows x 4 columns, read in chunks" in capsys.readouterr().out
    result = pd.read_parquet(out)
    assert len(result) == 2400 and list(result.columns) == ["a", "b", "c", "d"]


def test_cli_streamed_synthesize_checks_conditions_before_training(tmp_path, parquet_file, capsys):
    out = tmp_path / "o.parquet"
    base = ["synthesize", str(parquet_file), "-o", str(out), "--model", "flow", "--epochs", "1", "--quiet"]
    assert main([*base, "--condition", "nope=1"]) == 2 and "unknown column" in capsys.readouterr().err
    assert main([*base, "--condition", "b=x", "--condition", "c=1"]) == 2  # the flow takes one conditioned column
    assert not out.exists()
