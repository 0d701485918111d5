"""A small in-process cache of generator fits, keyed by the training data and the exact settings.

Model selection refits a pipeline on the same training folds many times: ``GridSearchCV`` over a
classifier's parameters clones the whole pipeline (the sampler included) for every candidate, so an
instance-level ``warm_start`` never sees its earlier fit. The samplers therefore look their fits up
here: two ``fit_resample`` calls on equal data with equal settings and an integer ``random_state``
would give identical results, so the second returns the first's result instead of training again.
Fits under differential privacy are never cached (each private fit is its own accounted release),
and nothing is cached without an integer seed (the result would not be reproducible anyway).

The cache lives in the process: with ``n_jobs > 1`` each worker holds its own.
"""

from __future__ import annotations

import hashlib
import numbers
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

#: entries kept by default (each holds the fitted generator and the rows it added).
DEFAULT_MAX_ENTRIES = 16


def data_digest(data: Any) -> str:
    """A SHA-256 digest of a frame, series or array: values, dtypes, shape and column names."""
    digest = hashlib.sha256()
    if isinstance(data, pd.Series):
        data = data.to_frame(name=str(data.name))
    if isinstance(data, pd.DataFrame):
        digest.update(repr([(str(c), str(t)) for c, t in data.dtypes.items()]).encode())
        digest.update(np.asarray(pd.util.hash_pandas_object(data, index=False)).tobytes())
        return digest.hexdigest()
    array = np.asarray(data)
    digest.update(f"{array.shape}|{array.dtype}".encode())
    if array.dtype.kind == "O":
        flat = pd.DataFrame(array.reshape(len(array), -1)) if array.ndim else pd.DataFrame([array])
        digest.update(np.asarray(pd.util.hash_pandas_object(flat, index=False)).tobytes())
    else:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def estimator_digest(estimator: Any) -> str:
    """The class and every (deep) parameter of an estimator, as a digest; parameters without a
    value-based ``repr`` (callbacks) make the digest unique to that object, so they never match."""
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    text = f"{type(estimator).__module__}.{type(estimator).__qualname__}|{sorted((k, repr(v)) for k, v in params.items())}"
    return hashlib.sha256(text.encode()).hexdigest()


class FitCache:
    """A thread-safe least-recently-used map from a fit's key to its result."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        """The stored result for ``key`` (marked as recently used), or ``None``."""
        with self._lock:
            if key not in self._entries:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: str, value: Any) -> None:
        """Store ``value``; the least recently used entries go beyond ``max_entries``."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > max(int(self.max_entries), 0):
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry and reset the hit and miss counts."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


#: the cache the samplers share (``synthaug.fit_cache.FIT_CACHE.clear()`` frees its memory).
FIT_CACHE = FitCache()


def cacheable(enabled: bool, random_state: Any) -> bool:
    """Whether a fit may be cached: caching is on and the seed is an integer (results reproducible)."""
    return bool(enabled) and isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)


def fit_key(*parts: Any) -> str:
    """One key from already-computed digests and plain values."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


__all__ = ["DEFAULT_MAX_ENTRIES", "FIT_CACHE", "FitCache", "cacheable", "data_digest", "estimator_digest", "fit_key"]
