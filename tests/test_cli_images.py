"""`synthaug synthesize-images`: layouts, counts, refusals. A fake synthesizer stands in for the image models
(so these run without them); one slow test runs the real image VAE once it is installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from synthaug.cli import images as cli_images
from synthaug.cli import main
from synthaug.image_io import read_images, write_images, write_npz


class FakeImageSynthesizer:
    """fit/sample/privacy_spent_/save like the image synthesizers: noisy copies of training images, dtype kept."""

    def __init__(self, **params):
        self.params = params

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X), np.asarray(y)
        dp = self.params.get("dp")
        self.privacy_spent_ = {"epsilon": None} if dp is None else {"epsilon": dp.epsilon * 0.99, "delta": 1e-5}
        return self

    def sample(self, n_samples, *, y=None):
        rng = np.random.default_rng(self.params.get("random_state"))
        self.asked_labels_ = y is not None
        y = rng.choice(self.y_, n_samples) if y is None else np.asarray(y)
        assert len(y) == n_samples
        order = np.argsort(self.y_, kind="stable")
        first = np.searchsorted(self.y_[order], y)  # any training image of the asked class
        counts = np.searchsorted(self.y_[order], y, side="right") - first
        pick = order[first + (rng.random(n_samples) * counts).astype(int)]
        noisy = self.X_[pick].astype(np.float64) + rng.normal(0, 2, self.X_[pick].shape)
        noisy = np.clip(noisy, self.X_.min(), self.X_.max())
        X = np.rint(noisy).astype(self.X_.dtype) if self.X_.dtype.kind in "ui" else noisy.astype(self.X_.dtype)
        return X, y.copy()

    def save(self, path, overwrite=False):
        Path(path).write_text("fake model")


@pytest.fixture
def fake(monkeypatch):
    made: list[FakeImageSynthesizer] = []

    def build(model, **params):
        made.append(FakeImageSynthesizer(model=model, **params))
        return made[-1]

    monkeypatch.setattr(cli_images, "_image_synthesizer", build)
    return made


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (7, 3, 6, 5), dtype=np.uint8)
    return write_images(tmp_path / "in", X, ["cat"] * 5 + ["dog"] * 2)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_folder_in_folder_out_copy(folder, tmp_path, fake, capsys):
    before = snapshot(folder)
    out, model = tmp_path / "out", tmp_path / "model.synthaug"
    code = main(["synthesize-images", str(folder), "-o", str(out), "--model", "gan", "--epochs", "3", "--seed", "4"]
                + ["--save-model", str(model), "-q"])  # fmt: skip
    assert code == 0
    assert snapshot(folder) == before
    back = read_images(out)
    assert back.X.shape == (7, 3, 6, 5) and back.X.dtype == np.uint8 and back.format == "png"
    assert back.y.tolist() == ["cat"] * 5 + ["dog"] * 2
    params = fake[0].params
    assert params["model"] == "gan" and params["epochs"] == 3 and params["random_state"] == 4
    assert params["verbose"] is False and "dp" not in params and "pixel_range" not in params
    assert model.read_text() == "fake model"
    printed = capsys.readouterr().out
    assert "7 images of 2 classes, 6x5 RGB, uint8" in printed
    assert "wrote 7 synthetic images" in printed and "cat: 5, dog: 2" in printed
    assert "privacy: no formal guarantee" in printed


def test_per_class_and_dp(folder, tmp_path, fake, capsys):
    out = tmp_path / "out"
    args = ["synthesize-images", str(folder), "-o", str(out), "--per-class", "3", "--epsilon", "2", "--delta", "1e-5"]
    assert main(args) == 0
    assert read_images(out).y.tolist() == ["cat"] * 3 + ["dog"] * 3
    assert fake[0].params["dp"].epsilon == 2 and fake[0].params["dp"].delta == 1e-5
    assert "(1.980, 1e-05)-differential privacy" in capsys.readouterr().out


def test_dp_copy_draws_labels_from_the_model_and_balance_is_refused(folder, tmp_path, fake, capsys):
    out = tmp_path / "out"
    assert main(["synthesize-images", str(folder), "-o", str(out), "--epsilon", "2", "-q"]) == 0
    assert len(read_images(out).y) == 7 and fake[0].asked_labels_ is False  # not the exact private class counts
    code = main(["synthesize-images", str(folder), "-o", str(tmp_path / "o2"), "--epsilon", "2", "--balance"])
    assert code == 2 and "private under --epsilon" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()


def test_balance_writes_only_the_synthetic_images(folder, tmp_path, fake, capsys):
    out = tmp_path / "out"
    assert main(["synthesize-images", str(folder), "-o", str(out), "--balance", "-q"]) == 0
    back = read_images(out)
    assert back.y.tolist() == ["dog"] * 3  # 5 - 2; cat is the largest class and gets no folder
    assert [p.name for p in out.iterdir()] == ["dog"]
    printed = capsys.readouterr().out
    assert "only the synthetic images" in printed and "every class has 5 images" in printed


def test_balance_of_balanced_classes_is_refused(tmp_path, fake, capsys):
    src = write_npz(tmp_path / "in.npz", np.zeros((4, 2, 2), np.uint8), ["a", "a", "b", "b"])
    assert main(["synthesize-images", str(src), "-o", str(tmp_path / "o.npz"), "--balance"]) == 2
    assert "already balanced (2 images each)" in capsys.readouterr().err
    assert not fake and not (tmp_path / "o.npz").exists()


def test_npz_in_npz_out_keeps_float(tmp_path, fake, capsys):
    X = np.random.default_rng(1).normal(size=(6, 4, 4)).astype(np.float32)
    src = write_npz(tmp_path / "in.npz", X, [0, 1, 0, 1, 0, 2])
    out = tmp_path / "out.npz"
    assert main(["synthesize-images", str(src), "-o", str(out), "--pixel-range", "-5", "5", "-q"]) == 0
    back = read_images(out)
    assert back.source == "npz" and back.X.dtype == np.float32 and back.X.shape == (6, 4, 4)
    assert back.y.tolist() == ["0", "0", "0", "1", "1", "2"]
    assert fake[0].params["pixel_range"] == (-5.0, 5.0)
    # an existing output is refused without --overwrite, and kept
    assert main(["synthesize-images", str(src), "-o", str(out), "--per-class", "1"]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert len(read_images(out).X) == 6
    assert main(["synthesize-images", str(src), "-o", str(out), "--per-class", "1", "--overwrite"]) == 0
    assert len(read_images(out).X) == 3


def test_digits_to_png_folder(tmp_path, fake, capsys):
    out = tmp_path / "digits-out"
    assert main(["synthesize-images", "digits", "-o", str(out), "--per-class", "2", "--model", "flow"]) == 0
    back = read_images(out)
    assert back.X.shape == (20, 8, 8) and back.X.dtype == np.uint8 and back.format == "png"
    assert back.classes == [str(d) for d in range(10)]
    assert fake[0].params["pixel_range"] == (0.0, 16.0) and fake[0].X_.shape == (1797, 8, 8)
    assert fake[0].y_.dtype.kind == "U"
    assert "1797 images of 10 classes, 8x8 grey, float64" in capsys.readouterr().out


@pytest.mark.parametrize(
    "output, extra, message",
    [
        ("in", [], "overlaps the input folder"),
        ("in/cat", ["--overwrite"], "overlaps the input folder"),
        (".", ["--overwrite"], "overlaps the input folder"),
        ("out.npz", [], "not an .npz"),
        ("taken", [], "not empty; pass --overwrite"),
        ("file.txt", ["--overwrite"], "not a folder"),
        ("out", ["--per-class", "0"], "at least 1"),
        ("out", ["--save-model", "in"], "model path"),
    ],
)
def test_refusals_exit_2_and_touch_nothing(folder, tmp_path, fake, capsys, monkeypatch, output, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("mine")
    (tmp_path / "file.txt").write_text("mine")
    before = snapshot(tmp_path)
    assert main(["synthesize-images", "in", "-o", output, "-q", *extra]) == 2
    assert message in capsys.readouterr().err
    assert snapshot(tmp_path) == before and not fake


def test_bad_inputs_exit_2(tmp_path, fake, capsys):
    (tmp_path / "empty").mkdir()
    for source, output, message in [
        (tmp_path / "missing", tmp_path / "o", "does not exist"),
        (tmp_path / "empty", tmp_path / "o", "is empty"),
        (tmp_path / "in.npz", tmp_path / "o", "name it *.npz"),
    ]:
        assert main(["synthesize-images", str(source), "-o", str(output)]) == 2
        assert message in capsys.readouterr().err
    assert not fake


def test_per_class_and_balance_exclude_each_other(folder, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["synthesize-images", str(folder), "-o", str(tmp_path / "o"), "--balance", "--per-class", "2"])
    assert "not allowed with" in capsys.readouterr().err


@pytest.mark.slow
def test_real_image_vae_end_to_end(tmp_path, capsys):
    if importlib.util.find_spec("synthaug.synthesizers.images") is None:
        pytest.skip("synthaug.synthesizers.images is not merged yet")
    out = tmp_path / "digits"
    assert main(["synthesize-images", "digits", "-o", str(out), "--model", "vae", "--epochs", "2", "--per-class", "3"]
                + ["--seed", "0", "-q"]) == 0  # fmt: skip
    back = read_images(out)
    assert back.X.shape == (30, 8, 8) and back.X.dtype == np.uint8
    assert back.classes == [str(d) for d in range(10)]
    assert "privacy: no formal guarantee" in capsys.readouterr().out


def test_demo_on_digits_writes_class_folders_and_reports_the_accuracy_score(tmp_path, capsys):
    from synthaug.cli import main

    code = main(["demo", "--dataset", "digits", "--model", "vae", "--epochs", "1", "--output-dir", str(tmp_path), "-q"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "classification accuracy score" in printed and "image_vae for 1 epochs" in printed
    assert sorted(p.name for p in (tmp_path / "digits_synthetic").iterdir()) == [str(d) for d in range(10)]
