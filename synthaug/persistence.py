"""Saving and loading estimators without pickles.

A model file is a zip archive holding ``synthaug.json`` (format, model name,
parameters, fitted state, all JSON) and ``weights.pt`` (a flat dict of tensors
written by ``torch.save`` and read back with ``torch.load(..., weights_only=True)``,
which refuses arbitrary objects).

This module knows no estimator or parameter type: parameters go through the codecs
their types register in :mod:`synthaug.codecs`, and the class of a saved model is
found through a lookup that is passed in (``resolve``) or installed by the package.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import codecs
from .atomic import atomic_path
from .exceptions import ModelFileError

if TYPE_CHECKING:  # torch is imported where weights are read or written: checking a file needs none of it
    import torch

FORMAT = "synthaug-model"
FORMAT_VERSION = 2  # 2: parameters through synthaug.codecs (tuples tagged); 1: lists read as tuples
READABLE_VERSIONS = (1, 2)
_META = "synthaug.json"
_WEIGHTS = "weights.pt"


@dataclass
class ModelFile:
    """The decoded content of a model file."""

    model: str
    params: dict[str, Any]
    state: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    meta: dict[str, Any]


# --------------------------------------------------------------------------- writing
def _leaf_to_json(value: Any) -> Any:
    """Numpy scalars and arrays as plain JSON values (for values no codec handles)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.random.RandomState):
        raise TypeError("a RandomState cannot be stored; use an integer seed to save the model")
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


def _state_default(value: Any) -> Any:
    codec = codecs.codec_for(value)
    return codecs.tagged(codec.tag, codec.to_json(value)) if codec is not None else _leaf_to_json(value)


def _params_to_json(params: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        try:
            out[key] = codecs.encode(value, _leaf_to_json)
        except TypeError as exc:
            raise ModelFileError(f"parameter {key!r} cannot be saved: {exc}") from exc
    return out


def save_model(model: Any, path: str | Path, params: Mapping[str, Any] | None = None, *, overwrite: bool = False) -> str:
    """Write ``model`` (a fitted estimator) to ``path`` atomically, with ``params`` (default: its
    ``get_params(deep=False)``) as the parameters to rebuild it with. An existing file is replaced
    only with ``overwrite=True``."""
    from . import __version__

    if Path(path).exists() and not overwrite:
        raise ModelFileError(f"{str(path)!r} already exists; pass overwrite=True to replace it")

    params = dict(model.get_params(deep=False) if params is None else params)
    codecs.check_savable(params)
    state, tensors = model._get_state()
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "synthaug_version": __version__,
        "model": model.model_name,
        "params": _params_to_json(params),
        "state": state,
    }
    meta_bytes = json.dumps(meta, default=_state_default, allow_nan=True).encode()
    buffer = io.BytesIO()
    import torch  # here, not at the top: reading a file's metadata needs no torch

    torch.save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, buffer)
    with atomic_path(path, suffix=".tmp") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_META, meta_bytes)
            archive.writestr(_WEIGHTS, buffer.getvalue())
    return str(path)


# --------------------------------------------------------------------------- reading
def _check_path(path: Path) -> None:
    if not path.exists():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    if not path.is_file():
        raise ModelFileError(f"{str(path)!r} is not a file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{str(path)!r} is not a synthaug model file (not a zip archive)")


def _read_archive(path: Path, weights: bool) -> tuple[Any, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _META not in names or _WEIGHTS not in names:
                raise ModelFileError(f"{str(path)!r} is not a synthaug model file (lacks {_META} or {_WEIGHTS})")
            meta = json.loads(archive.read(_META))
            raw = archive.read(_WEIGHTS) if weights else b""
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise ModelFileError(f"model file {str(path)!r} is corrupt: {exc}") from exc
    return meta, raw


def _check_meta(meta: Any, path: Path) -> dict[str, Any]:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelFileError(f"{str(path)!r} is not a synthaug model file (format {found!r})")
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{str(path)!r} has model format version {meta.get('format_version')!r}; "
            f"this synthaug reads {', '.join(map(str, READABLE_VERSIONS))}"
        )
    return meta


def _load_tensors(raw: bytes, path: Path) -> dict[str, torch.Tensor]:
    import torch

    try:
        tensors = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad archives
        raise ModelFileError(f"model weights in {str(path)!r} are corrupt or unsafe: {exc}") from exc
    if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        raise ModelFileError(f"model weights in {str(path)!r} are not a flat dict of tensors")
    return tensors


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The raw JSON metadata of a model file (checks that it is one; weights are not read)."""
    path = Path(path)
    _check_path(path)
    meta, _ = _read_archive(path, weights=False)
    return _check_meta(meta, path)


def _params_from_json(params: Mapping[str, Any], version: int) -> dict[str, Any]:
    if version == 1:
        return {key: codecs.decode_legacy(value) for key, value in params.items()}
    return {key: codecs.decode(value) for key, value in params.items()}


def read_model_file(path: str | Path) -> ModelFile:
    """Read and check a model file: its parameters decoded, its weights loaded without unpickling."""
    path = Path(path)
    _check_path(path)
    meta, raw = _read_archive(path, weights=True)
    meta = _check_meta(meta, path)
    tensors = _load_tensors(raw, path)
    try:
        params = _params_from_json(meta["params"], meta["format_version"])
        return ModelFile(str(meta["model"]), params, meta["state"], tensors, meta)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"model file {str(path)!r} is inconsistent: {exc}") from exc


def load_model(path: str | Path, *, device: str | None = None, resolve: Callable[[str], type] | None = None) -> Any:
    """Load an estimator saved with :func:`save_model`.

    ``resolve`` maps the saved model name to its class (default: the lookup installed in
    :mod:`synthaug.codecs`); ``device`` overrides the saved device setting.
    """
    content = read_model_file(path)
    try:
        cls = (resolve or codecs.model_class)(content.model)
    except (KeyError, ValueError, LookupError) as exc:
        raise ModelFileError(f"{str(path)!r} holds an unknown model type {content.model!r}: {exc}") from exc
    params = dict(content.params)
    if device is not None:
        params["device"] = device
    try:
        model = cls(**params)
        model._set_state(content.state, content.tensors)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"model file {str(path)!r} is inconsistent: {exc}") from exc
    return model


load = load_model  # the name earlier versions exported
