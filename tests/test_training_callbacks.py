"""Training callbacks on real synthesizers: early stopping, metric logging, checkpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthaug.exceptions import ParameterError, PrivacyError
from synthaug.privacy import DPConfig
from synthaug.schema import ColumnSpec, TableSchema
from synthaug.synthesizers import CTGANSynthesizer, FlowSynthesizer, TVAESynthesizer
from synthaug.training import Checkpoint, EarlyStopping, LogMetrics


@pytest.fixture(scope="module")
def frame():
    rng = np.random.RandomState(0)
    return pd.DataFrame({"x": rng.normal(size=400), "g": rng.choice(["a", "b", "c"], size=400)})


def _public_schema() -> TableSchema:
    return TableSchema(
        [
            ColumnSpec("x", "continuous", dtype="float64", bounds=(-5.0, 5.0), public=True),
            ColumnSpec("g", "categorical", dtype="object", categories=["a", "b", "c"], public=True),
        ]
    )


def _small(cls, **params):
    return cls(**{"epochs": 30, "batch_size": 100, "device": "cpu", "random_state": 0, **params})


def test_early_stopping_stops_after_patience_and_restores_the_best_weights(frame, tmp_path):
    stop = EarlyStopping(patience=2, min_delta=1e9)  # nothing after epoch 1 counts as an improvement
    checkpoints = Checkpoint(tmp_path, every=1)
    model = _small(FlowSynthesizer, callbacks=[checkpoints, stop]).fit(frame)
    assert [r["epoch"] for r in model.history_] == [1, 2, 3]
    assert all(np.isfinite(r["validation_loss"]) for r in model.history_)
    assert stop.best_epoch_ == 1 and stop.stopped_epoch_ == 3
    best = torch.load(tmp_path / "epoch_0001.pt", weights_only=True)[0]
    for key, value in model.flow_net_.state_dict().items():
        torch.testing.assert_close(value, best[key])


def test_early_stopping_improving_model_runs_all_epochs(frame):
    model = _small(TVAESynthesizer, callbacks=[EarlyStopping(patience=30)]).fit(frame)
    assert len(model.history_) == 30


def test_early_stopping_holds_out_rows_and_changes_nothing_without_it(frame):
    plain = _small(FlowSynthesizer).fit(frame)
    again = _small(FlowSynthesizer, callbacks=[LogMetrics(lambda metrics, step: None)]).fit(frame)
    pd.testing.assert_frame_equal(plain.sample(50, random_state=1), again.sample(50, random_state=1))


def test_early_stopping_is_refused_for_gans_and_under_dp(frame):
    with pytest.raises(ParameterError, match="a GAN has none"):
        _small(CTGANSynthesizer, pac=1, callbacks=[EarlyStopping()]).fit(frame)
    schema = _public_schema()
    model = _small(TVAESynthesizer, dp=DPConfig(epsilon=5.0), schema=schema, callbacks=[EarlyStopping()])
    with pytest.raises(PrivacyError, match="EarlyStopping"):
        model.fit(frame)


def test_log_metrics_gets_every_epoch_and_only_public_numbers_under_dp(frame):
    logged = []
    _small(TVAESynthesizer, epochs=3, callbacks=[LogMetrics(lambda m, step: logged.append((step, m)))]).fit(frame)
    assert [step for step, _ in logged] == [1, 2, 3]
    assert {"reconstruction_loss", "kl_loss", "seconds"} <= set(logged[0][1])
    logged.clear()
    schema = _public_schema()
    _small(TVAESynthesizer, epochs=2, dp=DPConfig(epsilon=5.0), schema=schema,
           callbacks=[LogMetrics(lambda m, step: logged.append(m))]).fit(frame)  # fmt: skip
    assert [set(m) for m in logged] == [{"seconds"}] * 2


def test_checkpoints_every_k_epochs_and_at_the_end(frame, tmp_path):
    checkpoints = Checkpoint(tmp_path / "ckpt", every=2)
    model = _small(TVAESynthesizer, epochs=5, callbacks=[checkpoints]).fit(frame)
    assert [p.name for p in checkpoints.written_] == ["epoch_0002.pt", "epoch_0004.pt", "epoch_0005.pt"]
    last = torch.load(checkpoints.written_[-1], weights_only=True)
    assert len(last) == 2
    for key, value in model.decoder_net_.state_dict().items():
        torch.testing.assert_close(value, last[1][key])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: EarlyStopping(patience=0), "patience"),
        (lambda: EarlyStopping(validation_fraction=1.0), "validation_fraction"),
        (lambda: Checkpoint("x", every=0), "every"),
        (lambda: LogMetrics("not callable"), "callable"),
    ],
)
def test_bad_callback_settings(make, message):
    with pytest.raises(ParameterError, match=message):
        make()


def test_a_model_trained_with_callbacks_saves_without_them(frame, tmp_path):
    from synthaug import load_model

    logged = []
    model = _small(TVAESynthesizer, epochs=2, callbacks=[LogMetrics(lambda m, step: logged.append(m))]).fit(frame)
    loaded = load_model(model.save(str(tmp_path / "m.synthaug")))
    assert loaded.callbacks is None and len(logged) == 2
    pd.testing.assert_frame_equal(loaded.sample(20, random_state=3), model.sample(20, random_state=3))


def test_checkpoints_never_overwrite_an_earlier_run(frame, tmp_path):
    from synthaug.exceptions import DataFileError

    folder = tmp_path / "ckpt"
    _small(TVAESynthesizer, epochs=2, callbacks=[Checkpoint(folder, every=1)]).fit(frame)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(DataFileError, match="already holds epoch_0001.pt"):
        _small(TVAESynthesizer, epochs=2, random_state=1, callbacks=[Checkpoint(folder, every=1)]).fit(frame)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
