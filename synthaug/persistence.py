"""Saving and loading synthesizers without pickles.

A model file is a zip archive holding ``synthaug.json`` (format, model name,
parameters, schema, transformer and training state, all JSON) and
``weights.pt`` (a flat dict of tensors written by ``torch.save`` and read back
with ``torch.load(..., weights_only=True)``, which refuses arbitrary objects).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .atomic import atomic_path
from .exceptions import ModelFileError, PrivacyError
from .privacy.config import DPConfig, check_dp
from .schema import TableSchema

FORMAT = "synthaug-model"
FORMAT_VERSION = 1
_META = "synthaug.json"
_WEIGHTS = "weights.pt"


def _json_default(value: Any) -> Any:
    if isinstance(value, TableSchema):
        return {"__schema__": value.to_dict()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


def _params_to_json(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        if isinstance(value, np.random.RandomState):
            raise ModelFileError(f"parameter {key!r} is a RandomState; use an integer seed to save the model")
        if isinstance(value, TableSchema):
            value = {"__schema__": value.to_dict()}
        elif isinstance(value, DPConfig):
            value = {"__dp__": value.to_dict()}
        out[key] = value
    return out


def _params_from_json(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        if isinstance(value, dict) and "__schema__" in value:
            value = TableSchema.from_dict(value["__schema__"])
        elif isinstance(value, dict) and "__dp__" in value:
            value = DPConfig(**value["__dp__"])
        elif isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out


def save_model(model: Any, path: str | Path) -> str:
    """Write ``model`` (a fitted synthesizer) to ``path`` atomically."""
    from . import __version__

    dp = getattr(model, "dp", None)
    if dp is not None and check_dp(dp).insecure_noise_seed is not None:
        raise PrivacyError(
            "refusing to save a model fitted with DPConfig(insecure_noise_seed=...): its DP noise can be replayed "
            "from the seed, so the file would carry no privacy guarantee; refit without insecure_noise_seed"
        )
    state, tensors = model._get_state()
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "synthaug_version": __version__,
        "model": model.model_name,
        "params": _params_to_json(model.get_params(deep=False)),
        "state": state,
    }
    meta_bytes = json.dumps(meta, default=_json_default, allow_nan=True).encode()
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, buffer)
    with atomic_path(path, suffix=".tmp") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_META, meta_bytes)
            archive.writestr(_WEIGHTS, buffer.getvalue())
    return str(path)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a model file (checks that it is one)."""
    meta, _ = _read(path, weights=False)
    return meta


def _read(path: str | Path, weights: bool = True) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    if not path.is_file():
        raise ModelFileError(f"{str(path)!r} is not a file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{str(path)!r} is not a synthaug model file (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _META not in names or _WEIGHTS not in names:
                raise ModelFileError(f"{str(path)!r} is not a synthaug model file (lacks {_META} or {_WEIGHTS})")
            meta = json.loads(archive.read(_META))
            raw = archive.read(_WEIGHTS) if weights else b""
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise ModelFileError(f"model file {str(path)!r} is corrupt: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{str(path)!r} is not a synthaug model file (format {meta.get('format')!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} has model format version {meta.get('format_version')!r}; this synthaug reads {FORMAT_VERSION}"
        )
    tensors: dict[str, torch.Tensor] = {}
    if weights:
        try:
            tensors = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for bad archives
            raise ModelFileError(f"model weights in {str(path)!r} are corrupt or unsafe: {exc}") from exc
        if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
            raise ModelFileError(f"model weights in {str(path)!r} are not a flat dict of tensors")
    return meta, tensors


def load(path: str | Path, *, device: str | None = None) -> Any:
    """Load a synthesizer saved with ``save``; ``device`` overrides the saved device setting."""
    from .synthesizers.registry import synthesizer_class

    meta, tensors = _read(path)
    try:
        cls = synthesizer_class(meta["model"])
    except (KeyError, ValueError) as exc:
        raise ModelFileError(f"{str(path)!r} holds an unknown model type {meta.get('model')!r}") from exc
    try:
        params = _params_from_json(meta["params"])
        if device is not None:
            params["device"] = device
        model = cls(**params)
        model._set_state(meta["state"], tensors)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"model file {str(path)!r} is inconsistent: {exc}") from exc
    return model
