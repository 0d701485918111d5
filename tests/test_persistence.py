import io
import json
import zipfile

import pandas as pd
import pytest
import torch

import synthaug
from synthaug.exceptions import ModelFileError
from synthaug.persistence import read_metadata
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
        fitted.save(path)
    assert path.read_bytes() == b"precious"
