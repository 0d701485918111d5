"""The one training runner: loss means, batches, and what it enforces under DP."""

from __future__ import annotations

import pytest
import torch

from synthaug.exceptions import PrivacyError
from synthaug.training import Callback, FixedSteps, PlainStep, ShuffledBatches, TrainingRunner, likelihood_step
from synthaug.training.runner import private_passes


def test_means_per_row_per_step_and_per_reporting_step():
    calls = []

    def step(batch):
        calls.append(batch)
        losses = {"per_row": torch.tensor([1.0, 3.0]), "scalar": torch.tensor(float(len(calls)))}
        if len(calls) % 2 == 0:
            losses["sometimes"] = torch.tensor(10.0 * len(calls))
        return losses

    history = TrainingRunner(step, FixedSteps(4), epochs=2, desc="t").run()
    assert [r["epoch"] for r in history] == [1, 2]
    assert history[0]["per_row"] == pytest.approx(2.0)
    assert history[0]["scalar"] == pytest.approx((1 + 2 + 3 + 4) / 4)
    assert history[0]["sometimes"] == pytest.approx((20 + 40) / 2)
    assert history[1]["scalar"] == pytest.approx((5 + 6 + 7 + 8) / 4)
    assert calls == [None] * 8


def test_shuffled_batches_cover_the_given_rows_once_per_epoch():
    rows = torch.tensor([3, 5, 7, 9, 11])
    batches = ShuffledBatches(rows, 2, torch.Generator().manual_seed(0))
    epoch = list(batches.epoch_batches())
    assert [b.numel() for b in epoch] == [2, 2, 1]
    assert sorted(torch.cat(epoch).tolist()) == rows.tolist()


def test_likelihood_step_minimises_and_renames_the_loss():
    weight = torch.nn.Parameter(torch.tensor([4.0]))
    data = torch.zeros(8)

    def losses(rows):
        return {"loss": (weight - data[rows]) ** 2, "other": data[rows] + 1.0}

    step = likelihood_step(losses, PlainStep(torch.optim.SGD([weight], lr=0.1)), "nll")
    batches = ShuffledBatches(torch.arange(8), 4, torch.Generator().manual_seed(0))
    history = TrainingRunner(step, batches, epochs=20, desc="t").run()
    assert set(history[0]) == {"epoch", "nll", "other", "seconds"}
    assert history[-1]["nll"] < history[0]["nll"] / 100
    assert abs(float(weight.detach())) < 0.1


def test_after_step_runs_once_after_every_optimiser_step():
    weight = torch.nn.Parameter(torch.tensor([4.0]))
    seen = []

    def losses(rows):
        return {"loss": (weight - 0.0).pow(2).expand(rows.shape[0])}

    step = likelihood_step(losses, PlainStep(torch.optim.SGD([weight], lr=0.1)), after_step=lambda: seen.append(float(weight)))
    batches = ShuffledBatches(torch.arange(8), 4, torch.Generator().manual_seed(0))
    TrainingRunner(step, batches, epochs=3, desc="t").run()
    assert len(seen) == 6  # 2 batches x 3 epochs, each after its update
    assert seen[0] == pytest.approx(4.0 - 0.1 * 8.0)


class _FakePrivate:
    """Stands in for PrivateTraining: Poisson batches and a step count."""

    def __init__(self, steps_per_epoch: int, planned: int) -> None:
        self.steps_per_epoch, self.steps, self.steps_taken = steps_per_epoch, planned, 0

    def epoch_batches(self):
        for _ in range(self.steps_per_epoch):
            self.steps_taken += 1
            yield torch.tensor([0, 1])


class _Reader(Callback):
    reads_private_rows = True


class _Recorder(Callback):
    def __init__(self) -> None:
        self.records = []

    def on_epoch_end(self, record, modules):
        self.records.append(record)


def _losses(batch):
    return {"loss": torch.ones(batch.numel())}


def test_dp_refuses_callbacks_that_read_private_rows_and_other_batches():
    private = _FakePrivate(2, 4)
    with pytest.raises(PrivacyError, match="_Reader"):
        TrainingRunner(_losses, private, epochs=2, desc="t", private=private, callbacks=[_Reader()])
    with pytest.raises(PrivacyError, match="Poisson batches"):
        TrainingRunner(_losses, FixedSteps(2), epochs=2, desc="t", private=private)


def test_dp_callbacks_see_only_the_public_record_and_every_planned_step_is_taken():
    private, recorder = _FakePrivate(2, 4), _Recorder()
    history = TrainingRunner(_losses, private, epochs=2, desc="t", private=private, callbacks=[recorder]).run()
    assert "loss" in history[0], "the runner returns the losses; the synthesizer keeps only the public part"
    assert [set(r) for r in recorder.records] == [{"epoch", "seconds"}] * 2
    short = _FakePrivate(2, 6)
    with pytest.raises(PrivacyError, match="took 4 private steps where 6 were planned"):
        TrainingRunner(_losses, short, epochs=2, desc="t", private=short).run()


def test_private_passes_chain_epochs_of_poisson_batches():
    private = _FakePrivate(3, 6)
    assert private_passes(private, 1) is private
    history = TrainingRunner(_losses, private_passes(private, 2), epochs=1, desc="t", private=private).run()
    assert private.steps_taken == 6 and len(history) == 1
