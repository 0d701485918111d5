"""Declarative pipelines: private table in; synthetic table, saved model, audit report and privacy ledger out.

:class:`SynthesisPipeline` runs one spec (a dict, or a TOML file read with :mod:`tomllib`): split off
a holdout, fit on the private training part only, sample (or oversample), evaluate against the
holdout, and write every output atomically into one folder. The spec's sections and keys are
described in ``pipelines/README.md`` and checked by :mod:`synthaug.pipeline_spec`; tables are run by
:mod:`synthaug.pipeline_tables`, images by :mod:`synthaug.pipeline_images`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import SpecError
from .pipeline_images import ImageRunner
from .pipeline_outputs import check_output_dir
from .pipeline_result import PipelineResult
from .pipeline_spec import apply_overrides, check_spec, input_kind
from .pipeline_tables import TableRunner


class SynthesisPipeline:
    """One declarative run: holdout split, fit on the training part, sample or oversample, audit, write.

    Parameters:
        spec: the spec as a dict of sections (``input``, ``schema``, ``synthesizer``, ``privacy``,
            ``oversample``, ``evaluate``, ``output``); checked here, errors name the key at fault.
        base_dir: folder that a relative ``input.path`` is taken from (default: the current
            directory; :meth:`from_toml` uses the spec file's folder).

    Attributes:
        spec: the resolved spec (defaults filled in, paths absolute), as written to ``spec.json``.
    """

    def __init__(self, spec: Mapping[str, Any], *, base_dir: str | Path | None = None) -> None:
        cwd = Path.cwd()
        self.spec = check_spec(spec, Path(base_dir) if base_dir is not None else cwd, cwd)

    @classmethod
    def from_toml(
        cls, path: str | Path, *, output_dir: str | Path | None = None, epochs: int | None = None, seed: int | None = None
    ) -> SynthesisPipeline:
        """Read a TOML spec; ``output_dir``, ``epochs`` and ``seed`` override the spec's values when given."""
        path = Path(path)
        if not path.is_file():
            raise SpecError(f"spec file {str(path)!r} does not exist")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SpecError(f"spec file {str(path)!r} is not valid TOML: {exc}") from exc
        return cls(apply_overrides(raw, output_dir=output_dir, epochs=epochs, seed=seed), base_dir=path.parent)

    def load_data(self) -> pd.DataFrame:
        """The input table (the spec's file or built-in dataset)."""
        return TableRunner(self.spec).load()

    def split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(train, holdout)``: a seeded split, stratified on a discrete target."""
        return TableRunner(self.spec).split(frame)

    def load_images(self) -> tuple[np.ndarray, np.ndarray, tuple[float, float] | None]:
        """``(X, y, public pixel range or None)`` from the built-in digits, a class folder or an .npz."""
        return ImageRunner(self.spec).load()

    def run(self, *, overwrite: bool = False, verbose: bool = False) -> PipelineResult:
        """Split, fit on the training part, sample or oversample, evaluate against the holdout, write the outputs.

        ``overwrite``: allow a non-empty output folder (the pipeline's own files are replaced,
        nothing else is touched). ``verbose``: the synthesizer's progress bar.
        """
        check_output_dir(self.spec, overwrite)
        if input_kind(self.spec["input"]) == "images":
            return ImageRunner(self.spec).run(self.load_images(), verbose)
        return TableRunner(self.spec).run(self.load_data(), verbose)


__all__ = ["PipelineResult", "SynthesisPipeline"]
