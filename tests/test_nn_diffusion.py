"""Parts of the diffusion model: schedule, token layout, denoiser, losses, reverse process."""

import numpy as np
import pytest
import torch
from opacus.grad_sample import GradSampleModuleFastGradientClipping

from synthaug.nn import build
from synthaug.nn.diffusion import TabularDenoiser, TokenLayout, alpha_bar, time_features
from synthaug.synthesizers.diffusion_sampling import ReverseProcess
from synthaug.training.diffusion import condition_visibility, corrupt, diffusion_losses

CPU = torch.device("cpu")


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_cosine_schedule_runs_from_signal_to_noise():
    t = torch.linspace(0, 1, 101)
    a = alpha_bar(t)
    assert a[0] > 0.999 and a[-1] < 1e-5
    assert torch.all(a[1:] <= a[:-1])


def test_time_features_shape_and_range():
    features = time_features(torch.rand(5, 3), 16)
    assert features.shape == (5, 3, 16) and features.abs().max() <= 1.0


def test_token_layout_one_hot_and_log_probs():
    layout = TokenLayout([3, 2], CPU)
    assert layout.token_dim == 3 + 1 + 2 + 1 and layout.logit_dim == 5
    tokens = torch.tensor([[0, 1], [3, 2]])  # second row: both masked
    hot = layout.one_hot(tokens)
    assert hot.tolist() == [[1, 0, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0, 1]]
    log_p = layout.log_probs(torch.zeros(2, 5))
    np.testing.assert_allclose(log_p.exp()[0, 0, :3], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(log_p.exp()[0, 1, :2], 1 / 2, rtol=1e-6)
    assert log_p[0, 1, 2] == float("-inf")  # the padded slot of the two-level column


@pytest.mark.parametrize("levels", [[3, 2, 4], []])
def test_indexed_forward_matches_the_one_hot_forward(levels):
    layout = TokenLayout(levels, CPU)
    net = build(lambda: TabularDenoiser(2, layout.token_dim, layout.logit_dim, (16, 16)), CPU, _generator())
    numeric = torch.randn(6, 2, generator=_generator(1))
    tokens = (
        torch.stack([torch.randint(n + 1, (6,), generator=_generator(2 + j)) for j, n in enumerate(levels)], 1)
        if levels
        else torch.zeros(6, 0, dtype=torch.long)
    )
    time = torch.full((1,), 0.3)
    expected = net(numeric, layout.one_hot(tokens), time)
    got = net.forward_indexed(numeric, layout.token_offsets + tokens, time)
    for a, b in zip(expected, got, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_token_draws_follow_the_softmax():
    layout = TokenLayout([3, 2], CPU)
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1, 0.05, 0.95]])).expand(40_000, -1)
    rows = torch.arange(40_000)
    first = layout.draw(logits, rows, torch.zeros(40_000, dtype=torch.long), _generator())
    np.testing.assert_allclose((torch.bincount(first, minlength=3).double() / 40_000).numpy(), [0.7, 0.2, 0.1], atol=0.01)
    second = layout.draw(logits, rows, torch.ones(40_000, dtype=torch.long), _generator())
    assert second.max() <= 1 and (second == 1).double().mean() == pytest.approx(0.95, abs=0.01)
    assert layout.draw(logits, rows[:0], rows[:0], _generator()).numel() == 0


def test_corruption_masks_a_share_t_and_spares_visible_tokens():
    layout = TokenLayout([4, 4], CPU)
    codes = torch.zeros((20_000, 2), dtype=torch.long)
    t = torch.full((20_000,), 0.3)
    visible = torch.zeros((20_000, 2), dtype=torch.bool)
    visible[:, 1] = True
    noisy, tokens, velocity, masked = corrupt(torch.zeros(20_000, 1), codes, t, visible, layout, _generator())
    assert masked[:, 0].float().mean() == pytest.approx(0.3, abs=0.02)
    assert not masked[:, 1].any() and (tokens[:, 1] == 0).all()
    assert (tokens[masked] == 4).all()  # the mask token of a four-level column


def test_condition_visibility_keeps_one_conditionable_column_per_conditioned_row():
    layout = TokenLayout([2, 3, 2], CPU)  # the last column: a missing-value indicator, never a condition
    visible = condition_visibility(10_000, layout, 2, 0.25, _generator())
    assert visible.sum(1).max() == 1
    assert not visible[:, 2].any()
    assert visible.any(1).float().mean() == pytest.approx(0.75, abs=0.02)


def _denoiser(n_numeric=2, levels=(3, 2)):
    layout = TokenLayout(list(levels), CPU)
    net = build(lambda: TabularDenoiser(n_numeric, layout.token_dim, layout.logit_dim, (16, 16), time_dim=8), CPU, _generator())
    return net, layout


@pytest.mark.filterwarnings("ignore:Full backward hook")
def test_private_clipping_sees_one_gradient_per_row_whatever_the_noise_draws():
    """Several noise draws per row enter the network as one row with an extra dimension: Opacus's
    per-sample gradient norms must be the norms of each row's whole gradient (what the DP
    guarantee clips), not of each draw's."""
    net, layout = _denoiser()
    numeric = torch.randn(6, 2, generator=_generator(1))
    codes = torch.stack([torch.randint(3, (6,)), torch.randint(2, (6,))], 1)
    kwargs = dict(n_conditional=2, unconditional_share=0.5, noise_draws=5)
    rows = torch.arange(6)
    expected = []
    for row in range(6):  # brute force: each row's loss alone, same draws as the batched call
        losses = diffusion_losses(net, layout, numeric, codes, generator=_generator(7), **kwargs)
        per_row = losses(rows)["loss"]
        grads = torch.autograd.grad(per_row[row], list(net.parameters()), allow_unused=True)
        expected.append(torch.sqrt(sum((g**2).sum() for g in grads if g is not None)).item())
    wrapped = GradSampleModuleFastGradientClipping(net, max_grad_norm=1.0, use_ghost_clipping=True, loss_reduction="sum")
    per_row = diffusion_losses(wrapped, layout, numeric, codes, generator=_generator(7), **kwargs)(rows)["loss"]
    per_row.sum().backward()
    np.testing.assert_allclose(wrapped.get_norm_sample().detach().numpy(), expected, rtol=1e-4)


def test_reverse_process_keeps_fixed_tokens_and_reveals_all_others():
    net, layout = _denoiser()
    process = ReverseProcess(net.eval(), layout, 2, steps=4, guidance=1.5)
    numeric, tokens = process.run(500, {1: torch.ones(500, dtype=torch.long)}, _generator())
    assert numeric.shape == (500, 2) and torch.isfinite(numeric).all()
    assert (tokens[:, 1] == 1).all()
    assert (tokens[:, 0] < 3).all()  # nothing left masked
    assert numeric.abs().max() <= 5.2


def test_one_reverse_step_returns_the_clipped_clean_estimate():
    net, layout = _denoiser()
    process = ReverseProcess(net.eval(), layout, 2, steps=1)
    numeric, tokens = process.run(50, {}, _generator())
    assert (tokens < torch.tensor([3, 2])).all()
    assert numeric.abs().max() <= 5.2
