"""Weight averaging: torch's AveragedModel with a warmed-up exponential decay."""

import torch
from torch import nn

from synthaug.training.averaging import copy_average_into, exponential_average


def test_average_follows_the_warmed_up_decay():
    live = nn.Linear(1, 1, bias=False)
    average = exponential_average(live, decay=0.5)
    expected = None
    for n, value in enumerate([4.0, 0.0, 2.0, 8.0]):
        with torch.no_grad():
            live.weight.fill_(value)
        average.update_parameters(live)
        rate = min(0.5, (1 + n) / (10 + n))  # the first update copies; update n follows n earlier ones
        expected = value if expected is None else expected * rate + value * (1 - rate)
        assert abs(average.module.weight.item() - expected) < 1e-6


def test_copy_average_into_overwrites_the_live_weights_only():
    live = nn.Linear(2, 1)
    average = exponential_average(live, decay=0.9)
    average.update_parameters(live)
    with torch.no_grad():
        live.weight.add_(1.0)
    copy_average_into(average, live)
    torch.testing.assert_close(live.weight, average.module.weight)
    assert live.weight is not average.module.weight
