"""GAN steps' building blocks: the gradient penalty, the per-sample logistic critic loss, the condition loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from synthaug.nn import SpanActivation
from synthaug.training import ConditionHead, ConditionSampler, GANSettings, gradient_penalty, logistic_critic_losses, wgan_step
from synthaug.transform import Span


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _linear_critic(weight: torch.Tensor) -> nn.Linear:
    critic = nn.Linear(weight.numel(), 1)
    with torch.no_grad():
        critic.weight.copy_(weight.reshape(1, -1))
        critic.bias.fill_(0.3)
    return critic


def _rows(n: int = 16, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = _gen(seed)
    return torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen) + 1.0


@pytest.mark.parametrize("pac", [1, 2, 4])
def test_gradient_penalty_vanishes_for_a_unit_norm_linear_critic(pac):
    real, fake = _rows()
    weight = torch.randn(real.shape[1] * pac, generator=_gen(1))
    critic = _linear_critic(weight / weight.norm())
    assert float(gradient_penalty(critic, real, fake, pac, _gen(2)).detach()) == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("norm", [0.0, 0.5, 3.0])
def test_gradient_penalty_of_a_linear_critic_is_its_squared_norm_gap(norm):
    real, fake = _rows()
    weight = torch.randn(real.shape[1], generator=_gen(1))
    critic = _linear_critic(norm * weight / weight.norm())
    penalty = gradient_penalty(critic, real, fake, 1, _gen(2))
    assert float(penalty.detach()) == pytest.approx((norm - 1.0) ** 2, rel=1e-5, abs=1e-10)


def test_gradient_penalty_is_differentiable_in_the_critic():
    real, fake = _rows()
    weight = 2.0 * torch.ones(real.shape[1]) / np.sqrt(real.shape[1])
    critic = _linear_critic(weight)
    gradient_penalty(critic, real, fake, 1, _gen(2)).backward()
    # d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w| = w here (|w| = 2)
    torch.testing.assert_close(critic.weight.grad[0], weight, rtol=1e-5, atol=1e-6)


class _HalfSquaredNorm(nn.Module):
    """Score 0.5 |x|^2 of each packed group: its gradient is the group itself."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x**2).sum(dim=1, keepdim=True)


def test_gradient_penalty_takes_the_norm_over_each_pack():
    x = torch.randn(8, 3, generator=_gen(3))
    # real == fake: every interpolate is x itself, whatever alpha, so the gradient of a pack is the pack
    for pac in (1, 2, 4):
        packs = x.reshape(8 // pac, -1)
        expected = ((packs.norm(dim=1) - 1) ** 2).mean()
        penalty = gradient_penalty(_HalfSquaredNorm(), x, x.clone(), pac, _gen(4))
        torch.testing.assert_close(penalty, expected)


def test_gradient_penalty_interpolates_between_real_and_fake():
    # a critic whose gradient norm is |x|: zero at the origin, so the penalty depends on where the mix lies
    real, fake = torch.zeros(64, 1), torch.full((64, 1), 2.0)
    penalty = gradient_penalty(_HalfSquaredNorm(), real, fake, 1, _gen(5)).detach()
    # interpolates alpha*0 + (1-alpha)*2 with alpha ~ U(0, 1): norm uniform on [0, 2], E[(u - 1)^2] = 1/3
    # (all-real or all-fake rows would give (|0| - 1)^2 = (|2| - 1)^2 = 1)
    assert float(penalty) == pytest.approx(1 / 3, abs=0.1)


def test_logistic_critic_losses_are_softplus_of_fake_then_minus_real():
    scores = torch.tensor([[2.0], [-1.0], [0.5], [3.0], [-4.0]])
    losses = logistic_critic_losses(scores, n_fake=2)
    expected = torch.cat(
        [nn.functional.softplus(torch.tensor([2.0, -1.0])), nn.functional.softplus(-torch.tensor([0.5, 3.0, -4.0]))]
    )
    assert losses.shape == (5,)
    torch.testing.assert_close(losses, expected)
    # a fake row scored low and a real row scored high cost little
    assert losses[1] < losses[0] and losses[3] < losses[4]


def test_logistic_critic_losses_are_per_sample():
    scores = torch.randn(6, 1, generator=_gen(6), requires_grad=True)
    losses = logistic_critic_losses(scores, n_fake=3)
    losses[4].backward()
    grad = scores.grad.reshape(-1)
    assert (grad[torch.arange(6) != 4] == 0).all()
    assert float(grad[4]) == pytest.approx(-float(torch.sigmoid(-scores[4].detach())), rel=1e-6)
    assert logistic_critic_losses(torch.zeros(4), n_fake=4).tolist() == pytest.approx([np.log(2)] * 4)


def _head() -> ConditionHead:
    # output: [tanh, a(3 slots), tanh, b(2 slots)]; the condition has a's 3 slots then b's 2
    return ConditionHead(feature_idx=torch.tensor([1, 2, 3, 5, 6]), segments=torch.tensor([0, 0, 0, 1, 1]), n_segments=2)


def test_condition_head_loss_is_lower_when_the_logits_match_the_condition():
    cond = torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]])
    matching = torch.tensor([[9.0, -3.0, 5.0, -3.0, 9.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, -3.0, 5.0]])
    mismatching = torch.tensor([[9.0, 5.0, -3.0, -3.0, 9.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 5.0, -3.0]])
    head = _head()
    assert float(head.loss(matching, cond)) < 0.01
    assert float(head.loss(mismatching, cond)) > 5.0


def test_condition_head_loss_is_the_mean_cross_entropy_of_the_requested_slots():
    raw = torch.randn(4, 7, generator=_gen(7), dtype=torch.float64)
    cond = torch.zeros(4, 5, dtype=torch.float64)
    cond[[0, 1, 2, 3], [0, 2, 3, 4]] = 1.0
    a = torch.log_softmax(raw[:, 1:4], dim=1)
    b = torch.log_softmax(raw[:, 5:7], dim=1)
    expected = -torch.stack([a[0, 0], a[1, 2], b[2, 0], b[3, 1]]).mean()
    torch.testing.assert_close(_head().loss(raw, cond), expected)
    # the tanh features play no part
    shifted = raw.clone()
    shifted[:, [0, 4]] += 100.0
    torch.testing.assert_close(_head().loss(shifted, cond), expected)


def test_condition_head_without_segments_costs_nothing():
    head = ConditionHead(feature_idx=torch.zeros(0, dtype=torch.long), segments=torch.zeros(0, dtype=torch.long), n_segments=0)
    loss = head.loss(torch.randn(3, 4), torch.zeros(3, 0))
    assert loss.shape == () and float(loss) == 0.0


def test_one_wgan_step_updates_both_networks():
    torch.manual_seed(0)
    spans = [Span(1, "tanh", "x", "value"), Span(2, "softmax", "g", "category")]
    codes = np.array([0, 1] * 20)[:, None]
    data = torch.zeros(40, 3)
    data[:, 0] = torch.linspace(-0.5, 0.5, 40)
    data[torch.arange(40), 1 + torch.as_tensor(codes[:, 0])] = 1.0
    conditions = ConditionSampler.from_codes(codes, [2])
    head = ConditionHead(feature_idx=torch.tensor([1, 2]), segments=torch.tensor([0, 0]), n_segments=1)
    pac, emb = 2, 4
    synthesis = nn.Sequential(nn.Linear(emb + 2, 8), nn.ReLU(), nn.Linear(8, 3))
    critic = nn.Sequential(nn.Linear((3 + 2) * pac, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    before = [p.detach().clone() for p in [*synthesis.parameters(), *critic.parameters()]]
    settings = GANSettings(
        batch_size=8,
        embedding_dim=emb,
        discriminator_steps=2,
        generator_optimizer=torch.optim.Adam(synthesis.parameters()),
        pac=pac,
    )
    step = wgan_step(
        synthesis, critic, SpanActivation(spans), data, conditions, head, settings, torch.optim.Adam(critic.parameters()), _gen(8)
    )
    losses = step(None)
    assert set(losses) == {"critic_loss", "generator_loss"}
    assert all(torch.isfinite(v) for v in losses.values())
    after = [*synthesis.parameters(), *critic.parameters()]
    n_synthesis = len(list(synthesis.parameters()))
    assert any(not torch.equal(b, a) for b, a in zip(before[:n_synthesis], after[:n_synthesis], strict=True))
    assert any(not torch.equal(b, a) for b, a in zip(before[n_synthesis:], after[n_synthesis:], strict=True))
    assert all(p.requires_grad for p in critic.parameters()), "the critic is trainable again after the generator step"
