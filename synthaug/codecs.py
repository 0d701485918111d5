"""JSON codecs for parameter types, registered by the types themselves.

A type that may appear among an estimator's parameters registers a tag with a
``to_json``/``from_json`` pair (``register_codec``) in its own module; :func:`encode`
then writes it as ``{"__type__": tag, "value": payload}`` and :func:`decode` rebuilds it.
Tuples are tagged too, so lists come back as lists and tuples as tuples. Decoding only
ever calls registered ``from_json`` functions: no class named in a file is imported.

Types may also register *save checks*, run on an estimator's parameters before they are
stored (``DPConfig`` refuses replayable noise this way). The module holds the *model class
lookup* (model name -> estimator class) that the package wires in (``synthaug/__init__.py``),
so that file formats need not import the layers that define the models. It imports
nothing beyond the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TYPE_KEY, VALUE_KEY = "__type__", "value"
_TUPLE, _DICT = "tuple", "dict"  # built-in tags: tuples, and dicts whose keys clash with TYPE_KEY


@dataclass(frozen=True)
class Codec:
    """How one type is written to and read from JSON."""

    tag: str
    cls: type
    to_json: Callable[[Any], Any]
    from_json: Callable[[Any], Any]


_BY_TAG: dict[str, Codec] = {}
_BY_TYPE: dict[type, Codec] = {}
_SAVE_CHECKS: list[Callable[[dict[str, Any]], None]] = []
_model_lookup: Callable[[str], type] | None = None


def register_codec(cls: type, tag: str, to_json: Callable[[Any], Any], from_json: Callable[[Any], Any]) -> None:
    """Register ``cls`` under ``tag`` (re-registering the same class replaces its codec)."""
    if tag in (_TUPLE, _DICT):
        raise ValueError(f"codec tag {tag!r} is reserved")
    known = _BY_TAG.get(tag)
    if known is not None and known.cls.__qualname__ != cls.__qualname__:
        raise ValueError(f"codec tag {tag!r} is already registered for {known.cls.__qualname__}")
    codec = Codec(tag, cls, to_json, from_json)
    _BY_TAG[tag] = _BY_TYPE[cls] = codec


def codec_for(value: Any) -> Codec | None:
    """The codec registered for ``value``'s type (or a base class of it), if any."""
    for cls in type(value).__mro__:
        if cls in _BY_TYPE:
            return _BY_TYPE[cls]
    return None


def tagged(tag: str, payload: Any) -> dict[str, Any]:
    return {TYPE_KEY: tag, VALUE_KEY: payload}


def encode(value: Any, default: Callable[[Any], Any] | None = None) -> Any:
    """``value`` as JSON-able data; ``default`` converts leaves no codec knows (else TypeError)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v, default) for v in value]
    if isinstance(value, tuple):
        return tagged(_TUPLE, [encode(v, default) for v in value])
    if isinstance(value, dict):
        if TYPE_KEY in value:
            return tagged(_DICT, [[encode(k, default), encode(v, default)] for k, v in value.items()])
        return {_check_key(k): encode(v, default) for k, v in value.items()}
    codec = codec_for(value)
    if codec is not None:
        return tagged(codec.tag, codec.to_json(value))
    if default is not None:
        return default(value)
    raise TypeError(f"no JSON codec for {type(value).__name__}")


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"dict keys must be strings to be stored as JSON, got {key!r}")
    return key


def decode(data: Any) -> Any:
    """Inverse of :func:`encode` (unknown tags raise ValueError)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if TYPE_KEY not in data:
        return {k: decode(v) for k, v in data.items()}
    tag, payload = data[TYPE_KEY], data.get(VALUE_KEY)
    if tag == _TUPLE:
        return tuple(decode(v) for v in payload)
    if tag == _DICT:
        return {decode(k): decode(v) for k, v in payload}
    if tag not in _BY_TAG:
        raise ValueError(f"unknown JSON type tag {tag!r}; known: {sorted(_BY_TAG)}")
    return _BY_TAG[tag].from_json(payload)


def decode_legacy(value: Any) -> Any:
    """A value written by the first model format: ``{"__tag__": payload}`` for registered
    types, lists for every sequence (read back as tuples, as that format did)."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict) and len(value) == 1:
        ((key, payload),) = value.items()
        tag = key[2:-2] if key.startswith("__") and key.endswith("__") else None
        if tag in _BY_TAG:
            return _BY_TAG[tag].from_json(payload)
    return value


def register_save_check(check: Callable[[dict[str, Any]], None]) -> None:
    """Add a check run on an estimator's parameters before they are stored (it raises to refuse)."""
    if check not in _SAVE_CHECKS:
        _SAVE_CHECKS.append(check)


def check_savable(params: dict[str, Any]) -> None:
    """Run every registered save check on ``params``."""
    for check in _SAVE_CHECKS:
        check(params)


# --------------------------------------------------------------------------- model classes
def set_model_lookup(lookup: Callable[[str], type] | None) -> None:
    """Install the function that maps a saved model name to its estimator class."""
    global _model_lookup
    _model_lookup = lookup


def model_class(name: str) -> type:
    """The estimator class saved as ``name`` (through the installed lookup)."""
    if _model_lookup is None:
        raise LookupError("no model class lookup is installed (see synthaug.codecs.set_model_lookup)")
    return _model_lookup(name)
