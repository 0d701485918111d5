"""SIGINT and SIGTERM during a streamed sample leave no partial output and no temporary file."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from synthaug.synthesizers import MarginalSynthesizer


def _default_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_sample_cleans_up(tmp_path, signum, code):
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
    model_path = MarginalSynthesizer(random_state=0).fit(data).save(str(tmp_path / "m.synthaug"))
    out = tmp_path / "out.csv"
    argv = ["sample", model_path, "-o", str(out), "--rows", "50000000", "--chunk-size", "8192"]
    # A shell without job control starts background jobs with SIGINT ignored, and Python keeps an ignored
    # SIGINT ignored; reset it so that the child sees Ctrl-C as a terminal user's program would.
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthaug", *argv],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_interrupt,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.csv.*")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert list(tmp_path.glob(".out.csv.*")), "the temporary output never appeared"
        time.sleep(0.5)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # never leave a 50-million-row sampler running after a failure
    assert proc.returncode == code, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.synthaug"]
