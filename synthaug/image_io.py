"""Reading and writing labelled image sets: a folder of class sub-folders, or an ``.npz`` file.

Layout everywhere: grey images are ``(n, H, W)``, colour images ``(n, 3, H, W)`` (channels first,
as torch expects); labels are a 1-D array of class names. Writes are atomic and never replace
existing output unless asked (``overwrite=True``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from .atomic import atomic_path
from .exceptions import ImageFileError, ParameterError

#: file extensions read from class folders, and the format each one means
IMAGE_EXTENSIONS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".bmp": "bmp"}
# format -> (Pillow format name, file extension, save options)
_SAVE = {"png": ("PNG", ".png", {}), "bmp": ("BMP", ".bmp", {}), "jpeg": ("JPEG", ".jpg", {"quality": 95})}
_16BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Images read by :func:`read_images`.

    ``X``: ``(n, H, W)`` grey or ``(n, 3, H, W)`` RGB (an ``.npz`` may also hold ``(n, 1, H, W)``);
    ``y``: class names (``str``), ``X[i]`` belongs to ``y[i]``; ``source``: ``"folder"`` or ``"npz"``;
    ``format``: for folders ``"png"``, ``"jpeg"`` or ``"bmp"`` when every file has it, ``"mixed"``
    otherwise; ``None`` for ``.npz``.
    """

    X: np.ndarray
    y: np.ndarray
    source: Literal["folder", "npz"]
    path: Path
    format: str | None = None

    @property
    def classes(self) -> list[str]:
        return sorted(np.unique(self.y).tolist())


def read_images(path: str | os.PathLike) -> ImageSet:
    """Read labelled images from a folder of class sub-folders or from an ``.npz`` file.

    **Folder**: one sub-folder per class (its name is the label) holding ``.png``, ``.jpg``/``.jpeg``
    or ``.bmp`` files, read with Pillow in sorted order (classes by name, files by name), so the
    result is deterministic. Hidden entries (names starting with ``.``) and non-image files are
    skipped. Modes: ``L`` -> ``uint8 (n, H, W)``; ``RGB`` -> ``uint8 (n, 3, H, W)``; ``1`` (bilevel)
    -> grey 0/255; ``LA`` -> grey, ``RGBA`` -> RGB (the alpha channel is dropped, colours kept
    as stored); palette (``P``/``PA``) and ``CMYK``/``YCbCr`` -> RGB; 16-bit grey (``I;16``, or ``I``
    with values in 0..65535) -> ``uint16 (n, H, W)``. Every image must have the same size and mode.

    **.npz**: arrays ``X`` (3-D or 4-D channels-first, numeric; its dtype is kept) and ``y``
    (1-D, same length; converted to ``str``). Loaded with ``allow_pickle=False``: object arrays
    are refused.

    Raises :class:`~synthaug.exceptions.ImageFileError` naming the path, file or key at fault.
    """
    path = Path(path)
    if not path.exists():
        raise ImageFileError(f"image input {str(path)!r} does not exist")
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    raise ImageFileError(f"image input {str(path)!r} is neither a folder of class sub-folders nor an .npz file")


def _read_folder(root: Path) -> ImageSet:
    entries = [p for p in sorted(root.iterdir()) if not p.name.startswith(".")]
    if not entries:
        raise ImageFileError(f"image folder {str(root)!r} is empty")
    class_dirs = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not class_dirs:
        raise ImageFileError(
            f"image folder {str(root)!r} has no class sub-folders; put each class's images in a sub-folder "
            f"named after the class (e.g. {str(root / 'cat' / '001.png')!r})"
        )
    if loose:
        raise ImageFileError(
            f"image {str(loose[0])!r} lies directly in {str(root)!r}, outside any class sub-folder; move it into one"
        )
    files: list[Path] = []
    labels: list[str] = []
    for folder in class_dirs:
        images = [
            p
            for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
        ]
        if not images:
            raise ImageFileError(f"class folder {str(folder)!r} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        files += images
        labels += [folder.name] * len(images)
    if len(files) < 2:
        raise ImageFileError(f"image folder {str(root)!r} holds {len(files)} image; at least 2 are needed")

    first = _read_image_file(files[0])
    X = np.empty((len(files), *first.shape), dtype=first.dtype)
    X[0] = first
    for i, file in enumerate(files[1:], start=1):
        image = _read_image_file(file)
        if image.shape != first.shape or image.dtype != first.dtype:
            raise ImageFileError(
                f"image {str(file)!r} is {_describe(image)} but {str(files[0])!r} is {_describe(first)}; "
                "all images must have the same size and mode"
            )
        X[i] = image
    if X.ndim == 4:  # (n, H, W, 3) -> (n, 3, H, W)
        X = np.ascontiguousarray(X.transpose(0, 3, 1, 2))
    formats = {IMAGE_EXTENSIONS[f.suffix.lower()] for f in files}
    fmt = formats.pop() if len(formats) == 1 else "mixed"
    return ImageSet(X=X, y=np.array(labels, dtype=str), source="folder", path=root, format=fmt)


def _describe(image: np.ndarray) -> str:
    kind = "RGB" if image.ndim == 3 else "grey"
    bits = "16-bit" if image.dtype == np.uint16 else "8-bit"
    return f"{image.shape[1]}x{image.shape[0]} pixels (width x height), {bits} {kind}"


def _read_image_file(file: Path) -> np.ndarray:
    """One image as ``(H, W)`` uint8/uint16 or ``(H, W, 3)`` uint8 (modes converted as documented)."""
    from PIL import Image

    try:
        with Image.open(file) as img:
            img.load()  # Image.open is lazy: decode now so that a corrupt file fails here
            mode = img.mode
            if mode == "L":
                return np.asarray(img)
            if mode == "RGB":
                return np.asarray(img)
            if mode in ("1", "LA", "La"):
                return np.asarray(img.convert("L"))
            if mode in ("P", "PA"):
                # palette with transparency goes through RGBA (Pillow warns otherwise); alpha is dropped
                rgba = img.convert("RGBA") if mode == "PA" or "transparency" in img.info else img
                return np.asarray(rgba.convert("RGB"))
            if mode in ("RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"):
                return np.asarray(img.convert("RGB"))
            if mode in _16BIT_MODES:
                return np.asarray(img).astype(np.uint16)
            if mode == "I":
                values = np.asarray(img)
                if values.size and (values.min() < 0 or values.max() > 65535):
                    raise ImageFileError(f"image {str(file)!r}: 32-bit integer pixels outside 0..65535 are not supported")
                return values.astype(np.uint16)
    except ImageFileError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageFileError(f"cannot read image {str(file)!r}: {exc}") from exc
    raise ImageFileError(f"image {str(file)!r} has unsupported mode {mode!r}; use grey (L), RGB or 16-bit grey")


def _read_npz(path: Path) -> ImageSet:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ImageFileError(f"cannot read {str(path)!r} as an .npz archive: {exc}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ImageFileError(f"{str(path)!r} is a single .npy array, not an .npz archive with arrays 'X' and 'y'")
    with archive:
        missing = [key for key in ("X", "y") if key not in archive.files]
        if missing:
            raise ImageFileError(
                f"{str(path)!r} has no array {' or '.join(repr(k) for k in missing)} (it holds {sorted(archive.files)}); "
                "an image .npz needs 'X' (images) and 'y' (labels)"
            )
        arrays = {}
        for key in ("X", "y"):
            try:
                arrays[key] = archive[key]
            except ValueError as exc:  # numpy refuses object (pickled) arrays when allow_pickle=False
                raise ImageFileError(
                    f"{str(path)!r}: array {key!r} is an object array, which could only be loaded by unpickling "
                    "(unsafe, refused); save it with a numeric or string dtype"
                ) from exc
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise ImageFileError(f"{str(path)!r}: cannot read array {key!r}: {exc}") from exc
    X, y = _check_arrays(arrays["X"], arrays["y"], f"{str(path)!r}: ")
    if len(X) < 2:
        raise ImageFileError(f"{str(path)!r}: 'X' holds {len(X)} image; at least 2 are needed")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ImageFileError(f"{str(path)!r}: 'X' holds NaN or infinite values")
    return ImageSet(X=X, y=y, source="npz", path=path, format=None)


def _check_arrays(X, y, where: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate an image array and its labels; labels come back as ``str``."""
    X, y = np.asarray(X), np.asarray(y)
    if X.dtype.kind not in "uif":
        raise ImageFileError(f"{where}'X' has dtype {X.dtype}; images must be integers or floats")
    if X.ndim not in (3, 4):
        raise ImageFileError(
            f"{where}'X' has {X.ndim} dimension(s) {X.shape}; expected (n, H, W) for grey or (n, C, H, W) for colour"
        )
    if X.ndim == 4 and X.shape[1] not in (1, 3):
        hint = " (it looks channels-last: transpose to (n, C, H, W))" if X.shape[-1] in (1, 3) else ""
        raise ImageFileError(f"{where}'X' has shape {X.shape}; channels (axis 1) must be 1 or 3{hint}")
    if 0 in X.shape[1:]:
        raise ImageFileError(f"{where}'X' has shape {X.shape}; images must not be empty")
    if y.ndim != 1:
        raise ImageFileError(f"{where}'y' has shape {y.shape}; labels must be 1-D")
    if len(y) != len(X):
        raise ImageFileError(f"{where}'X' holds {len(X)} images but 'y' holds {len(y)} labels; they must match")
    if y.dtype.kind not in "iubUS":
        raise ImageFileError(f"{where}'y' has dtype {y.dtype}; labels must be integers or strings")
    return X, y.astype(str)


def _to_pixels(X: np.ndarray, pixel_range: tuple[float, float] | None, fmt: str) -> np.ndarray:
    """``(n, H, W)`` or ``(n, H, W, 3)`` uint8/uint16 ready for Pillow."""
    if X.ndim == 4:
        X = X[:, 0] if X.shape[1] == 1 else X.transpose(0, 2, 3, 1)
    if pixel_range is not None:
        low, high = (float(v) for v in pixel_range)
        if not (np.isfinite([low, high]).all() and high > low):
            raise ImageFileError(f"pixel_range must be (low, high) with low < high; got {pixel_range!r}")
        values = X.astype(np.float64)
        if not np.isfinite(values).all():
            raise ImageFileError("images hold NaN or infinite values; cannot write them")
        return np.rint(np.clip((values - low) / (high - low), 0.0, 1.0) * 255.0).astype(np.uint8)
    if X.dtype == np.uint8:
        return X
    if X.dtype == np.uint16:
        if X.ndim == 4:
            raise ImageFileError("16-bit colour images cannot be written (Pillow has no such mode); pass pixel_range to scale")
        if fmt != "png":
            raise ImageFileError(f"16-bit images can only be written as PNG, not {fmt!r}")
        return X
    raise ImageFileError(
        f"images of dtype {X.dtype} are written only with pixel_range=(low, high), which scales [low, high] to 0..255 "
        "(uint8 and uint16 are written as they are)"
    )


def check_class_name(name: str) -> str:
    """``name`` if it is safe as one folder name, else :class:`ImageFileError`."""
    bad = [sep for sep in ("/", "\\", os.sep, os.altsep, "\0") if sep and sep in name]
    if not name or name in (".", "..") or name.startswith(".") or bad or name != name.strip():
        raise ImageFileError(
            f"class name {name!r} cannot be a folder name (empty, '.' or '..', a leading dot, surrounding spaces, "
            "or a path separator); rename the class"
        )
    return name


def write_images(
    out_dir: str | os.PathLike,
    X: np.ndarray,
    y: np.ndarray,
    *,
    fmt: str = "png",
    pixel_range: tuple[float, float] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write images as ``out_dir/<class>/<class>_00000.<ext>`` (one sub-folder per class); returns ``out_dir``.

    ``X`` is ``(n, H, W)``, ``(n, 1, H, W)`` or ``(n, 3, H, W)``. ``uint8`` is written losslessly
    (with ``fmt="png"`` or ``"bmp"``; ``"jpeg"`` is lossy, quality 95); grey ``uint16`` as 16-bit
    PNG. Other dtypes (floats) need ``pixel_range=(low, high)``: values are mapped linearly from
    [low, high] to 0..255, clipped, rounded and written as ``uint8``; with ``pixel_range`` every
    dtype is scaled that way. Class names must be safe folder names (no path separators, not
    ``.``/``..``, no leading dot). Files are numbered in the order of ``X``.

    Atomic: everything is written into a hidden temporary sibling folder, which is then renamed
    to ``out_dir``; on failure nothing appears and an existing ``out_dir`` is left as it was. An
    existing non-empty ``out_dir`` is refused unless ``overwrite=True``; it is then replaced (as a
    whole) only once the new folder is complete.
    """
    from PIL import Image

    target = Path(out_dir)
    fmt = {"jpg": "jpeg"}.get(fmt.lower(), fmt.lower())
    if fmt not in _SAVE:
        raise ImageFileError(f"unsupported image format {fmt!r}; use one of {', '.join(_SAVE)}")
    _check_target_dir(target, overwrite)
    X, labels = _check_arrays(X, y)
    if len(X) == 0:
        raise ImageFileError("no images to write")
    pixels = _to_pixels(X, pixel_range, fmt)
    classes = [check_class_name(name) for name in np.unique(labels).tolist()]
    pil_format, ext, options = _SAVE[fmt]

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        for name in classes:
            rows = np.flatnonzero(labels == name)
            width = max(5, len(str(len(rows) - 1)))
            folder = tmp / name
            folder.mkdir()
            for k, row in enumerate(rows):
                Image.fromarray(pixels[row]).save(folder / f"{name}_{k:0{width}d}{ext}", format=pil_format, **options)
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.is_dir() else 0o755)
        _replace_dir(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _check_target_dir(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise ImageFileError(f"output {str(target)!r} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise ImageFileError(f"output folder {str(target)!r} exists and is not empty; pass overwrite=True to replace it")


def _replace_dir(tmp: Path, target: Path) -> None:
    """Rename the complete folder ``tmp`` to ``target``; an existing ``target`` is removed only afterwards."""
    if not target.exists():
        os.rename(tmp, target)
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    old = holder / target.name
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        shutil.rmtree(holder, ignore_errors=True)
        raise
    shutil.rmtree(holder, ignore_errors=True)


def write_npz(path: str | os.PathLike, X: np.ndarray, y: np.ndarray, *, overwrite: bool = False) -> Path:
    """Write ``X`` (dtype kept) and ``y`` (as ``str``) to a compressed ``.npz``, atomically; returns the path.

    :func:`read_images` reads it back without unpickling. An existing file is replaced only with
    ``overwrite=True``.
    """
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ImageFileError(f"output {str(path)!r} must end with .npz")
    if path.is_dir():
        raise ImageFileError(f"output {str(path)!r} is a folder")
    if path.exists() and not overwrite:
        raise ImageFileError(f"output {str(path)!r} already exists; pass overwrite=True to replace it")
    X, labels = _check_arrays(X, y)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, X=X, y=labels)
    return path


def labels_to_sample(y: np.ndarray, *, per_class: int | None = None, balance: bool = False) -> np.ndarray:
    """The labels to draw, grouped by class in sorted order.

    Default: as many of each class as ``y`` holds (a synthetic copy); ``per_class=N``: N of each;
    ``balance=True``: ``max count - count`` of each class, so that the input plus these is balanced
    (classes already at the maximum get none).
    """
    if per_class is not None and balance:
        raise ParameterError("per_class and balance exclude each other")
    classes, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
    if per_class is not None:
        if int(per_class) < 1:
            raise ParameterError(f"per_class must be at least 1; got {per_class}")
        wanted = np.full_like(counts, int(per_class))
    elif balance:
        wanted = counts.max() - counts
    else:
        wanted = counts
    return np.repeat(classes, wanted)
