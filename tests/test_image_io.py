"""Image sets in and out: class folders and .npz, errors, atomic writes, built-in digits."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthaug.datasets import DIGITS_PIXEL_RANGE, load_digits_images
from synthaug.exceptions import DataFileError, ImageFileError
from synthaug.image_io import ImageSet, labels_to_sample, read_images, write_images, write_npz


def grey(n: int = 5, h: int = 6, w: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w), dtype=np.uint8)


def rgb(n: int = 5, h: int = 6, w: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3, h, w), dtype=np.uint8)


def labels(n: int) -> np.ndarray:
    """Sorted class names, so that a folder read back returns the same order."""
    return np.array(sorted(["a", "b"] * (n // 2) + ["a"] * (n % 2)))


def save(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path)
    return path


def siblings(folder: Path) -> list[str]:
    """Everything beside ``folder`` in its parent (to see leftover temporary folders)."""
    return sorted(p.name for p in folder.parent.iterdir())


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", ["png", "bmp"])
@pytest.mark.parametrize("make", [grey, rgb])
def test_folder_round_trip_is_lossless(tmp_path, make, fmt):
    X, y = make(), labels(5)
    out = write_images(tmp_path / "out", X, y, fmt=fmt)
    assert out == tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["a", "b"]
    assert sorted(p.name for p in (out / "a").iterdir()) == [f"a_0000{i}.{fmt}" for i in range(3)]
    back = read_images(out)
    assert isinstance(back, ImageSet) and back.source == "folder" and back.format == fmt
    assert back.X.dtype == np.uint8 and back.X.shape == X.shape
    np.testing.assert_array_equal(back.X, X)
    assert back.y.tolist() == y.tolist() and back.y.dtype.kind == "U"
    assert back.classes == ["a", "b"]


def test_uint16_grey_round_trip(tmp_path):
    X = np.random.default_rng(1).integers(0, 65536, (4, 5, 3), dtype=np.uint16)
    back = read_images(write_images(tmp_path / "out", X, labels(4)))
    assert back.X.dtype == np.uint16
    np.testing.assert_array_equal(back.X, X)


@pytest.mark.parametrize(
    "X",
    [grey(), rgb(), np.random.default_rng(2).normal(size=(5, 1, 4, 4)).astype(np.float32)],
    ids=["grey-uint8", "rgb-uint8", "float32-one-channel"],
)
def test_npz_round_trip_keeps_dtype_and_shape(tmp_path, X):
    y = np.array([3, 1, 3, 2, 1])
    path = write_npz(tmp_path / "set.npz", X, y)
    back = read_images(path)
    assert back.source == "npz" and back.format is None and back.path == path
    assert back.X.dtype == X.dtype
    np.testing.assert_array_equal(back.X, X)
    assert back.y.tolist() == ["3", "1", "3", "2", "1"]


def test_plain_npz_written_by_numpy_is_read(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, X=grey(4), y=np.array(["x", "y", "x", "y"]), extra=np.arange(3))
    back = read_images(path)
    assert back.X.shape == (4, 6, 4) and back.y.tolist() == ["x", "y", "x", "y"]


def test_float_images_need_a_pixel_range(tmp_path):
    X = np.array([[[0.0, 8.0], [16.0, 20.0]], [[-1.0, 4.0], [12.0, 2.0]]])
    with pytest.raises(ImageFileError, match="pixel_range"):
        write_images(tmp_path / "out", X, ["a", "b"])
    assert not (tmp_path / "out").exists()
    back = read_images(write_images(tmp_path / "out", X, ["a", "b"], pixel_range=(0, 16)))
    # 0 -> 0, 8 -> 128 (rounded), 16 -> 255, outside the range clipped
    np.testing.assert_array_equal(back.X[0], [[0, 128], [255, 255]])
    np.testing.assert_array_equal(back.X[1], [[0, 64], [191, 32]])


def test_other_integer_dtypes_need_a_pixel_range_or_a_cast(tmp_path):
    with pytest.raises(ImageFileError, match="int64"):
        write_images(tmp_path / "out", grey().astype(np.int64), labels(5))
    with pytest.raises(ImageFileError, match="low < high"):
        write_images(tmp_path / "out", grey(), labels(5), pixel_range=(1, 1))


def test_modes_are_converted_as_documented(tmp_path):
    root = tmp_path / "modes"
    rgba = np.zeros((3, 2, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 0  # fully transparent red: the colour is kept, alpha dropped
    save(root / "c" / "rgba.png", rgba)
    save(root / "c" / "rgb.png", np.full((3, 2, 3), 7, np.uint8))
    save(root / "c" / "palette.png", np.full((3, 2, 3), 51, np.uint8), mode="P")  # a web-palette colour
    back = read_images(root)
    assert back.X.shape == (3, 3, 3, 2)
    assert back.X[0].reshape(3, -1).mean(axis=1).tolist() == [51, 51, 51]  # sorted: palette, rgb, rgba
    assert back.X[1].max() == back.X[1].min() == 7
    assert back.X[2, 0].tolist() == [[200, 200]] * 3 and back.X[2, 1:].max() == 0
    la = tmp_path / "la"
    save(la / "c" / "la.png", np.stack([np.full((2, 2), 9, np.uint8), np.zeros((2, 2), np.uint8)], axis=-1))
    save(la / "c" / "bw.png", np.array([[0, 255], [255, 0]], np.uint8), mode="1")
    back = read_images(la)
    assert back.X.dtype == np.uint8 and back.X.shape == (2, 2, 2)
    assert back.X[0].tolist() == [[0, 255], [255, 0]] and back.X[1].tolist() == [[9, 9], [9, 9]]


def test_jpeg_folder_reads_with_its_format(tmp_path):
    write_images(tmp_path / "jpg", rgb(4, 8, 8), labels(4), fmt="jpg")
    assert sorted(p.name for p in (tmp_path / "jpg" / "b").iterdir()) == ["b_00000.jpg", "b_00001.jpg"]
    back = read_images(tmp_path / "jpg")
    assert back.format == "jpeg" and back.X.shape == (4, 3, 8, 8)


def test_order_is_sorted_and_deterministic(tmp_path):
    root = tmp_path / "set"
    images = grey(6)
    for i, name in [(2, "z/10.png"), (0, "b/2.png"), (5, "z/01.png"), (1, "b/1.png"), (3, "b/3.bmp"), (4, "z/02.png")]:
        save(root / name, images[i])
    (root / ".hidden").mkdir()
    (root / "b" / "notes.txt").write_text("not an image")
    (root / "b" / ".DS_Store").write_bytes(b"\0")
    first, second = read_images(root), read_images(root)
    np.testing.assert_array_equal(first.X, images[[1, 0, 3, 5, 4, 2]])
    assert first.y.tolist() == ["b", "b", "b", "z", "z", "z"]
    np.testing.assert_array_equal(first.X, second.X)
    assert first.format == "mixed"


# ---------------------------------------------------------------- read errors


def test_read_errors_name_the_problem(tmp_path):
    def fails(path, *needles):
        with pytest.raises(ImageFileError) as info:
            read_images(path)
        for needle in needles:
            assert needle in str(info.value), str(info.value)

    fails(tmp_path / "nope", "nope", "does not exist")
    (tmp_path / "empty").mkdir()
    fails(tmp_path / "empty", "empty")
    save(tmp_path / "flat" / "1.png", grey(1)[0])
    fails(tmp_path / "flat", "no class sub-folders")
    save(tmp_path / "loose" / "a" / "1.png", grey(1)[0])
    save(tmp_path / "loose" / "2.png", grey(1)[0])
    fails(tmp_path / "loose", "2.png", "outside any class sub-folder")
    save(tmp_path / "noimg" / "a" / "1.png", grey(1)[0])
    (tmp_path / "noimg" / "b").mkdir()
    (tmp_path / "noimg" / "b" / "readme.txt").write_text("x")
    fails(tmp_path / "noimg", str(tmp_path / "noimg" / "b"), "holds no images")
    save(tmp_path / "one" / "a" / "1.png", grey(1)[0])
    fails(tmp_path / "one", "1 image", "at least 2")
    save(tmp_path / "corrupt" / "a" / "1.png", grey(1)[0])
    (tmp_path / "corrupt" / "a" / "2.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    fails(tmp_path / "corrupt", "cannot read image", "2.png")
    save(tmp_path / "truncated" / "a" / "1.png", grey(1, 40, 40)[0])
    whole = (tmp_path / "truncated" / "a" / "1.png").read_bytes()
    (tmp_path / "truncated" / "a" / "2.png").write_bytes(whole[: len(whole) // 2])
    fails(tmp_path / "truncated", "cannot read image", "2.png")
    save(tmp_path / "sizes" / "a" / "1.png", grey(1, 6, 4)[0])
    save(tmp_path / "sizes" / "b" / "1.png", grey(1, 5, 4)[0])
    fails(tmp_path / "sizes", str(tmp_path / "sizes" / "b" / "1.png"), "4x5 pixels", "4x6 pixels", "same size")
    save(tmp_path / "modes" / "a" / "1.png", grey(1)[0])
    save(tmp_path / "modes" / "a" / "2.png", rgb(1)[0].transpose(1, 2, 0))
    fails(tmp_path / "modes", "2.png", "RGB", "grey")
    (tmp_path / "table.csv").write_text("a\n1\n")
    fails(tmp_path / "table.csv", "table.csv", ".npz")


def test_read_errors_are_data_file_errors(tmp_path):
    with pytest.raises(DataFileError):
        read_images(tmp_path / "missing")
    with pytest.raises(ValueError):
        read_images(tmp_path / "missing")


def npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "arrays, needles",
    [
        ({"y": np.arange(4)}, ["no array 'X'", "holds ['y']"]),
        ({"X": grey(4)}, ["no array 'y'"]),
        ({"images": grey(4)}, ["'X' or 'y'"]),
        ({"X": grey(4)[0], "y": np.arange(6)}, ["2 dimension(s)", "(n, H, W)"]),
        ({"X": grey(4)[..., None, None], "y": np.arange(4)}, ["5 dimension(s)"]),
        ({"X": rgb(4).transpose(0, 2, 3, 1), "y": np.arange(4)}, ["channels", "channels-last"]),
        ({"X": grey(4), "y": np.arange(3)}, ["4 images", "3 labels"]),
        ({"X": grey(4), "y": np.zeros((4, 1))}, ["'y'", "1-D"]),
        ({"X": grey(1), "y": np.arange(1)}, ["1 image", "at least 2"]),
        ({"X": np.full((2, 3, 3), np.nan), "y": np.arange(2)}, ["NaN"]),
        ({"X": np.array(["a", "b"]).reshape(2, 1, 1), "y": np.arange(2)}, ["dtype <U1"]),
    ],
    ids=["no-X", "no-y", "neither", "2d", "5d", "channels-last", "length", "y-2d", "one", "nan", "str-X"],
)
def test_npz_errors_name_the_key(tmp_path, arrays, needles):
    path = npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ImageFileError) as info:
        read_images(path)
    assert "bad.npz" in str(info.value)
    for needle in needles:
        assert needle in str(info.value), str(info.value)


def test_npz_object_arrays_are_refused_not_unpickled(tmp_path):
    y = np.array(["a", 1, None], dtype=object)
    path = npz(tmp_path / "objects.npz", X=grey(3), y=y)
    with pytest.raises(ImageFileError, match=r"objects\.npz.*'y' is an object array.*unpickling"):
        read_images(path)


def test_not_an_npz(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"definitely not a zip")
    with pytest.raises(ImageFileError, match="junk.npz"):
        read_images(tmp_path / "junk.npz")
    np.save(tmp_path / "single.npy", grey(3))
    os.replace(tmp_path / "single.npy", tmp_path / "single.npz")
    with pytest.raises(ImageFileError, match="single .npy array"):
        read_images(tmp_path / "single.npz")


# ---------------------------------------------------------------- write errors, overwrite, atomicity


@pytest.mark.parametrize("name", ["a/b", "..", ".", ".hidden", "", " padded", "a\\b"])
def test_unsafe_class_names_are_refused(tmp_path, name):
    with pytest.raises(ImageFileError, match="cannot be a folder name"):
        write_images(tmp_path / "out", grey(2), [name, "ok"])
    assert siblings(tmp_path / "out") == []


def test_write_argument_errors(tmp_path):
    with pytest.raises(ImageFileError, match="unsupported image format 'gif'"):
        write_images(tmp_path / "out", grey(), labels(5), fmt="gif")
    with pytest.raises(ImageFileError, match="16-bit colour"):
        write_images(tmp_path / "out", rgb().astype(np.uint16), labels(5))
    with pytest.raises(ImageFileError, match="only be written as PNG"):
        write_images(tmp_path / "out", grey().astype(np.uint16), labels(5), fmt="bmp")
    with pytest.raises(ImageFileError, match="5 images but 'y' holds 4"):
        write_images(tmp_path / "out", grey(), labels(4))
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ImageFileError, match="not a folder"):
        write_images(tmp_path / "file", grey(), labels(5))
    assert (tmp_path / "file").read_text() == "mine"


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("user file")
    with pytest.raises(ImageFileError, match="not empty.*overwrite=True"):
        write_images(out, grey(), labels(5))
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    write_images(out, grey(), labels(5), overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["a", "b"]
    assert siblings(out) == ["out"]


def test_an_existing_empty_folder_is_used(tmp_path):
    (tmp_path / "out").mkdir()
    write_images(tmp_path / "out", grey(), labels(5))
    assert len(read_images(tmp_path / "out").X) == 5


def failing_save(monkeypatch, after: int) -> None:
    original, calls = Image.Image.save, []

    def save(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise OSError("disk full (simulated)")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    failing_save(monkeypatch, after=3)
    with pytest.raises(OSError, match="disk full"):
        write_images(tmp_path / "deep" / "out", grey(), labels(5))
    assert siblings(tmp_path / "deep" / "out") == []


def test_failed_overwrite_keeps_the_old_folder(tmp_path, monkeypatch):
    out = write_images(tmp_path / "out", grey(seed=1), labels(5))
    before = read_images(out)
    failing_save(monkeypatch, after=3)
    with pytest.raises(OSError, match="disk full"):
        write_images(out, rgb(), labels(5), overwrite=True)
    monkeypatch.undo()
    after = read_images(out)
    np.testing.assert_array_equal(after.X, before.X)
    assert siblings(out) == ["out"]


def test_write_npz_refuses_overwrite_and_is_atomic(tmp_path, monkeypatch):
    path = write_npz(tmp_path / "set.npz", grey(), labels(5))
    with pytest.raises(ImageFileError, match="already exists.*overwrite=True"):
        write_npz(path, rgb(), labels(5))
    assert read_images(path).X.ndim == 3

    def broken(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError, match="disk full"):
        write_npz(path, rgb(), labels(5), overwrite=True)
    monkeypatch.undo()
    assert read_images(path).X.ndim == 3 and siblings(path) == ["set.npz"]
    write_npz(path, rgb(), labels(5), overwrite=True)
    assert read_images(path).X.shape == (5, 3, 6, 4)
    with pytest.raises(ImageFileError, match="must end with .npz"):
        write_npz(tmp_path / "set.npy", grey(), labels(5))
    with pytest.raises(ImageFileError, match="'X' has dtype object"):
        write_npz(tmp_path / "obj.npz", np.empty((2, 2, 2), dtype=object), labels(2))


# ---------------------------------------------------------------- sampling counts, digits


def test_labels_to_sample():
    y = np.array(["b", "a", "b", "c", "b", "a"])
    assert labels_to_sample(y).tolist() == ["a", "a", "b", "b", "b", "c"]
    assert labels_to_sample(y, per_class=2).tolist() == ["a", "a", "b", "b", "c", "c"]
    assert labels_to_sample(y, balance=True).tolist() == ["a", "c", "c"]
    assert labels_to_sample(np.array([1, 1, 2, 2]), balance=True).size == 0
    with pytest.raises(ValueError, match="at least 1"):
        labels_to_sample(y, per_class=0)
    with pytest.raises(ValueError, match="exclude"):
        labels_to_sample(y, per_class=1, balance=True)


def test_load_digits_images():
    X, y = load_digits_images()
    assert X.shape == (1797, 8, 8) and X.dtype == np.float64
    assert X.min() == DIGITS_PIXEL_RANGE[0] and X.max() == DIGITS_PIXEL_RANGE[1]
    assert np.array_equal(X, np.rint(X))
    assert y.shape == (1797,) and sorted(np.unique(y).tolist()) == list(range(10))


def test_public_api():
    import synthaug

    assert synthaug.read_images is read_images and synthaug.write_images is write_images
    assert synthaug.load_digits_images is load_digits_images
