"""Fit smartnoise-synth's MST or AIM on a CSV and write a synthetic CSV (a baseline of ``bench_dp.py``).

Runs in its own environment, never imported by synthaug: smartnoise-synth 1.0.8 pins
``opacus<0.15`` and ``pandas<3`` (against synthaug's opacus 1.x and pandas 3), so ``bench_dp.py
--smartnoise-python ENV/bin/python`` calls this script with that interpreter::

    python -m venv ENV && ENV/bin/pip install smartnoise-synth
    ENV/bin/python benchmarks/_smartnoise_runner.py SPEC.json

SPEC.json: ``{"train": CSV, "out": CSV, "method": "mst"|"aim", "epsilon": float, "rows": int,
"categorical": [names], "continuous": {name: [low, high]}, "bins": int}``. Numeric columns are
binned on the declared bounds (no budget spent on them, as the declared-schema setting of the
benchmark), categories come from the table (declared public there too). Prints one JSON line
with the fit and sample seconds.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from snsynth import Synthesizer
from snsynth.transform import BinTransformer
from snsynth.transform.table import TableTransformer


def main(spec_path: str) -> int:
    with open(spec_path) as handle:
        spec = json.load(handle)
    frame = pd.read_csv(spec["train"])
    continuous = {name: bounds for name, bounds in spec["continuous"].items()}
    constraints = {name: BinTransformer(bins=spec["bins"], lower=low, upper=high) for name, (low, high) in continuous.items()}
    transformer = TableTransformer.create(
        frame, style="cube", categorical_columns=spec["categorical"], continuous_columns=list(continuous), constraints=constraints
    )
    synthesizer = Synthesizer.create(spec["method"], epsilon=float(spec["epsilon"]), verbose=False)
    start = time.perf_counter()
    synthesizer.fit(frame, transformer=transformer, preprocessor_eps=0.0)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    sample = synthesizer.sample(int(spec["rows"]))
    sample_seconds = time.perf_counter() - start
    pd.DataFrame(sample, columns=frame.columns).to_csv(spec["out"], index=False)
    print(json.dumps({"fit_seconds": fit_seconds, "sample_seconds": sample_seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
