"""Parallel sampling to a Parquet dataset: same rows for a seed whatever the partitions or engine."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from synthaug import get_synthesizer
from synthaug.cli import main
from synthaug.distributed import partition_blocks, sample_to_parquet
from synthaug.exceptions import ConditionError, DataFileError, ParameterError

pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame(
        {
            "emp_id": [f"E{i:05d}" for i in rng.permutation(n)],
            "x": rng.normal(size=n),
            "dept": rng.choice(["hr", "it", "ops"], n),
            "k": rng.integers(0, 5, n),
        }
    )


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, frame) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = get_synthesizer("tvae", epochs=2, random_state=0).fit(frame)
    return model.save(str(tmp_path_factory.mktemp("model") / "model.synth"))


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            yield client


def _draw(model_path, path, **kwargs):
    options = {"block_rows": 128, "random_state": 7, **kwargs}
    result = sample_to_parquet(model_path, 1000, path, **options)
    return result, pq.read_table(path)


def test_partitions_split_the_blocks_contiguously():
    assert partition_blocks(8, 3) == [(0, 3), (3, 5), (5, 8)]
    assert partition_blocks(2, 4) == [(0, 1), (1, 2)]  # never an empty partition


def test_same_rows_for_a_seed_whatever_the_partitions(tmp_path, model_path, frame):
    tables = [_draw(model_path, tmp_path / f"p{p}", partitions=p)[1] for p in (1, 2, 4)]
    assert all(t.equals(tables[0]) for t in tables[1:])
    assert len(list((tmp_path / "p4").iterdir())) == 4
    out = tables[0].to_pandas()
    assert len(out) == 1000 and list(out.columns) == list(frame.columns)
    assert out["emp_id"].is_unique and not out["emp_id"].isin(set(frame["emp_id"])).any()  # unique across blocks
    assert set(out["dept"]) <= set(frame["dept"])
    other = _draw(model_path, tmp_path / "seed8", partitions=2, random_state=8)[1]
    assert not other.equals(tables[0])


def test_dask_writes_the_same_rows_as_the_local_engine(tmp_path, model_path, dask_client):
    local = _draw(model_path, tmp_path / "local", partitions=1)[1]
    for partitions in (2, 4):
        out = tmp_path / f"dask{partitions}"
        result, table = _draw(model_path, out, engine="dask", partitions=partitions, client=dask_client)
        assert result["partitions"] == partitions and result["rows"] == 1000
        assert table.equals(local)


def test_ray_writes_the_same_rows_as_the_local_engine(tmp_path, model_path):
    pytest.importorskip("ray")
    local = _draw(model_path, tmp_path / "local", partitions=1)[1]
    assert _draw(model_path, tmp_path / "ray", engine="ray", partitions=3, workers=2)[1].equals(local)


def test_conditions_hold_in_every_partition(tmp_path, model_path):
    table = _draw(model_path, tmp_path / "it", partitions=3, conditions={"dept": "it"})[1].to_pandas()
    assert (table["dept"] == "it").all() and len(table) == 1000


def test_a_failing_partition_leaves_nothing_behind(tmp_path, model_path):
    with pytest.raises(ConditionError, match="dept"):
        _draw(model_path, tmp_path / "out", partitions=2, conditions={"dept": "nowhere"})
    assert list(tmp_path.iterdir()) == []  # no dataset, no temporary folder


def test_existing_outputs_are_replaced_only_when_told(tmp_path, model_path):
    _draw(model_path, tmp_path / "out", partitions=2)
    with pytest.raises(DataFileError, match="exists"):
        _draw(model_path, tmp_path / "out", partitions=2)
    _, table = _draw(model_path, tmp_path / "out", partitions=1, overwrite=True, random_state=3)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["part-00000.parquet"] and table.num_rows == 1000
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(DataFileError, match="more than part"):
        _draw(model_path, mine, overwrite=True)
    assert (mine / "notes.txt").read_text() == "keep"


@pytest.mark.parametrize(
    "kwargs, name", [({"engine": "spark"}, "engine"), ({"partitions": 0}, "partitions"), ({"block_rows": -1}, "block_rows")]
)
def test_bad_parameters_name_the_parameter(tmp_path, model_path, kwargs, name):
    with pytest.raises(ParameterError, match=name):
        _draw(model_path, tmp_path / "out", **kwargs)


@pytest.mark.slow
def test_cli_samples_on_dask_workers(tmp_path, model_path, capsys):
    out = tmp_path / "synthetic.parquet"
    args = ["sample", model_path, "-o", str(out), "--rows", "700", "--seed", "1", "--engine", "dask", "--workers", "2"]
    assert main(args) == 0
    assert "wrote 700 synthetic rows" in capsys.readouterr().out
    assert pq.read_table(out).num_rows == 700
    assert main(args) == 2  # exists: refused without --overwrite
    assert main([*args[:3], str(tmp_path / "out.csv"), *args[4:]]) == 2  # a dataset is Parquet
