import ast
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import synthaug
from synthaug import persistence
from synthaug.exceptions import ModelFileError, PrivacyError
from synthaug.persistence import FORMAT_VERSION, load_model, read_metadata, save_model
from synthaug.privacy.config import DPConfig
from synthaug.schema import ColumnSpec, TableSchema
from synthaug.synthesizers import CTGANSynthesizer


@pytest.fixture(scope="module")
def fitted():
    frame = pd.DataFrame({"x": [float(i % 7) for i in range(60)], "c": ["a", "b", "c"] * 20})
    return CTGANSynthesizer(epochs=2, batch_size=30, random_state=0).fit(frame)


def test_save_writes_json_and_weights(fitted, tmp_path):
    path = tmp_path / "model.synthaug"
    fitted.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["synthaug.json", "weights.pt"]
        meta = json.loads(archive.read("synthaug.json"))
    assert meta["model"] == "ctgan" and meta["params"]["epochs"] == 2
    assert read_metadata(path)["state"]["transformer"]["schema"]["columns"][1]["categories"] == ["a", "b", "c"]
    assert not list(tmp_path.glob(".*")), "temporary files left behind"


def test_load_round_trip(fitted, tmp_path):
    path = tmp_path / "m.zip"
    fitted.save(path)
    loaded = synthaug.load(path)
    pd.testing.assert_frame_equal(loaded.sample(25, random_state=1), fitted.sample(25, random_state=1))


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        synthaug.load(tmp_path / "none.zip")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not a zip archive"):
        synthaug.load(text)
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(ModelFileError, match="not a synthaug model file"):
        synthaug.load(foreign)


def test_corrupt_file(fitted, tmp_path):
    path = tmp_path / "m.zip"
    fitted.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 200] = b"\x00" * 200
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        synthaug.load(bad)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError):
        synthaug.load(truncated)


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled arbitrary code",))


def test_weights_are_never_unpickled(fitted, tmp_path):
    path = tmp_path / "m.zip"
    fitted.save(path)
    with zipfile.ZipFile(path) as archive:
        meta = archive.read("synthaug.json")
    buffer = io.BytesIO()
    torch.save({"payload": _Evil()}, buffer)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("synthaug.json", meta)
        archive.writestr("weights.pt", buffer.getvalue())
    with pytest.raises(ModelFileError, match="corrupt or unsafe"):
        synthaug.load(evil)


def test_save_does_not_clobber_on_failure(fitted, tmp_path, monkeypatch):
    path = tmp_path / "keep.zip"
    path.write_bytes(b"precious")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        fitted.save(path, overwrite=True)
    assert path.read_bytes() == b"precious"


def test_save_refuses_an_existing_file_unless_told(fitted, tmp_path):
    path = tmp_path / "model.synthaug"
    path.write_bytes(b"precious")
    with pytest.raises(ModelFileError, match="already exists; pass overwrite=True"):
        fitted.save(path)
    assert path.read_bytes() == b"precious"
    fitted.save(path, overwrite=True)
    assert synthaug.load(path).get_params() == fitted.get_params()


class _Toy:
    """The smallest estimator persistence can store (no synthesizer involved)."""

    model_name = "toy"

    def __init__(self, *, hidden=(4,), sizes=None, schema=None, dp=None, device="cpu", random_state=None):
        self.hidden, self.sizes, self.schema, self.dp = hidden, sizes, schema, dp
        self.device, self.random_state = device, random_state

    def get_params(self, deep=False):
        keys = ("hidden", "sizes", "schema", "dp", "device", "random_state")
        return {k: getattr(self, k) for k in keys}

    def _get_state(self):
        return {"n": np.int64(3), "values": np.arange(2.0)}, {"w": torch.arange(3.0)}

    def _set_state(self, state, tensors):
        self.state_, self.w_ = state, tensors["w"]


def _toy_lookup(name):
    if name != "toy":
        raise ValueError(f"unknown model {name!r}")
    return _Toy


def test_parameters_round_trip_with_their_types(tmp_path):
    schema = TableSchema([ColumnSpec("a", "categorical", categories=["x", "y"])])
    toy = _Toy(hidden=[8, 4], sizes=(2, (3, 4)), schema=schema, dp=DPConfig(1.5, accountant="rdp"), random_state=np.int64(7))
    path = save_model(toy, tmp_path / "toy.synthaug")
    loaded = load_model(path, resolve=_toy_lookup, device="meta")
    assert loaded.hidden == [8, 4] and type(loaded.hidden) is list
    assert loaded.sizes == (2, (3, 4)) and type(loaded.sizes[1]) is tuple
    assert loaded.schema == schema and loaded.dp == DPConfig(1.5, accountant="rdp") and loaded.random_state == 7
    assert loaded.device == "meta" and loaded.state_ == {"n": 3, "values": [0.0, 1.0]}
    assert torch.equal(loaded.w_, torch.arange(3.0))
    assert read_metadata(path)["format_version"] == FORMAT_VERSION


def test_first_format_files_still_load(tmp_path):
    path = tmp_path / "v1.synthaug"
    save_model(_Toy(), path)
    with zipfile.ZipFile(path) as archive:
        weights = archive.read("weights.pt")
    schema = {"columns": [{"name": "a", "kind": "continuous"}]}
    meta = {
        "format": "synthaug-model",
        "format_version": 1,
        "model": "toy",
        "params": {"hidden": [16, 8], "schema": {"__schema__": schema}, "dp": {"__dp__": {"epsilon": 2.0}}, "sizes": None},
        "state": {"n": 1},
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("synthaug.json", json.dumps(meta))
        archive.writestr("weights.pt", weights)
    loaded = load_model(path, resolve=_toy_lookup)
    assert loaded.hidden == (16, 8), "the first format read every list as a tuple"
    assert loaded.schema == TableSchema.from_dict(schema) and loaded.dp == DPConfig(2.0)


def test_unstorable_parameters_and_unknown_models(tmp_path):
    with pytest.raises(ModelFileError, match="'random_state'.*integer seed"):
        save_model(_Toy(random_state=np.random.RandomState(0)), tmp_path / "rs.synthaug")
    with pytest.raises(PrivacyError, match="insecure_noise_seed"):
        save_model(_Toy(dp={"epsilon": 1.0, "insecure_noise_seed": 1}), tmp_path / "dp.synthaug")
    assert not list(tmp_path.iterdir())
    path = save_model(_Toy(), tmp_path / "toy.synthaug")
    with pytest.raises(ModelFileError, match="unknown model type 'toy'"):
        load_model(path)  # the package's lookup knows synthesizers only
    meta = read_metadata(path)
    meta["params"]["hidden"] = {"__type__": "no-such-type", "value": 1}
    with zipfile.ZipFile(path) as archive:
        weights = archive.read("weights.pt")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("synthaug.json", json.dumps(meta))
        archive.writestr("weights.pt", weights)
    with pytest.raises(ModelFileError, match="inconsistent.*no-such-type"):
        load_model(path, resolve=_toy_lookup)


def test_persistence_does_not_import_the_synthesizers():
    tree = ast.parse(Path(persistence.__file__).read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert "atomic" in imported and not [m for m in imported if "synthesizers" in m or m in ("schema", "privacy.config")]
    assert "import_module" not in Path(persistence.__file__).read_text()


def test_a_fresh_process_loads_through_persistence(fitted, tmp_path):
    path = tmp_path / "m.synthaug"
    fitted.save(path)
    code = (
        "import sys; from synthaug.persistence import load_model; "
        f"m = load_model({str(path)!r}); print(type(m).__name__, len(m.sample(5, random_state=0)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["CTGANSynthesizer", "5"]
    assert type(synthaug.load_model(path)) is type(fitted) and synthaug.load is synthaug.load_model


def test_a_generator_state_from_another_device_kind_reseeds_deterministically():
    import torch

    from synthaug.synthesizers.core import generator_from_state

    cuda_like = torch.tensor(list(range(16)), dtype=torch.uint8)  # CUDA keeps a 16-byte seed and offset
    draws = [torch.rand(3, generator=generator_from_state(cuda_like, torch.device("cpu"))) for _ in range(2)]
    assert torch.equal(draws[0], draws[1])
    cpu = torch.Generator().manual_seed(5)
    state = cpu.get_state()
    assert torch.equal(torch.rand(3, generator=generator_from_state(state, torch.device("cpu"))), torch.rand(3, generator=cpu))
