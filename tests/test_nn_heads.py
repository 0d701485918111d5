"""Output heads from a span layout: segment softmax, the activation and the likelihood."""

from __future__ import annotations

import pytest
import torch

from synthaug.nn import SpanActivation, SpanLikelihood, segment_ids, segment_log_softmax
from synthaug.transform import Span

SPANS = [
    Span(1, "tanh", "x", "value"),
    Span(3, "softmax", "x", "mode"),
    Span(1, "tanh", "y", "value"),
    Span(2, "softmax", "g", "category"),
]
TANH = [0, 4]
BLOCKS = [slice(1, 4), slice(5, 7)]


def test_segment_ids_index_the_features_of_each_activation():
    soft_idx, soft_seg = segment_ids(SPANS, "softmax")
    assert soft_idx.tolist() == [1, 2, 3, 5, 6] and soft_seg.tolist() == [0, 0, 0, 1, 1]
    tanh_idx, tanh_seg = segment_ids(SPANS, "tanh")
    assert tanh_idx.tolist() == TANH and tanh_seg.tolist() == [0, 1]


def test_segment_log_softmax_normalises_each_segment():
    gen = torch.Generator().manual_seed(0)
    logits = 5 * torch.randn(6, 7, generator=gen, dtype=torch.float64)
    seg = torch.tensor([0, 0, 1, 1, 1, 2, 2])
    logp = segment_log_softmax(logits, seg, 3)
    for block in [slice(0, 2), slice(2, 5), slice(5, 7)]:
        torch.testing.assert_close(logp[:, block], torch.log_softmax(logits[:, block], dim=1))
        torch.testing.assert_close(logp[:, block].exp().sum(dim=1), torch.ones(6, dtype=torch.float64))


def test_segment_log_softmax_is_stable_for_huge_logits_and_differentiable():
    logits = torch.tensor([[1000.0, 999.0, -1000.0, 0.0]], requires_grad=True)
    logp = segment_log_softmax(logits, torch.tensor([0, 0, 1, 1]), 2)
    assert torch.isfinite(logp).all()
    torch.testing.assert_close(logp[0, :2], torch.log_softmax(torch.tensor([1000.0, 999.0]), dim=0))
    logp[0, 0].backward()
    # d log p_0 / d logits = onehot_0 - softmax within the segment, zero outside it
    p = torch.softmax(torch.tensor([1000.0, 999.0]), dim=0)
    torch.testing.assert_close(logits.grad[0], torch.tensor([1 - p[0], -p[1], 0.0, 0.0]))


def test_span_activation_applies_tanh_and_softmax_per_span():
    activation = SpanActivation(SPANS, tau=1.0)
    assert activation.out_dim == 7
    gen = torch.Generator().manual_seed(1)
    raw = 3 * torch.randn(50, 7, generator=gen)
    out = activation(raw)
    torch.testing.assert_close(out[:, TANH], torch.tanh(raw[:, TANH]))
    assert (out[:, TANH].abs() <= 1).all()
    for block in BLOCKS:
        torch.testing.assert_close(out[:, block], torch.softmax(raw[:, block], dim=1))


def test_a_small_temperature_gives_near_one_hot_blocks():
    activation = SpanActivation(SPANS, tau=0.01)
    raw = torch.tensor([[0.3, 1.0, 2.0, 0.5, -0.2, -1.0, 1.0]])
    out = activation(raw)
    torch.testing.assert_close(out[:, 1:4], torch.tensor([[0.0, 1.0, 0.0]]), atol=1e-6, rtol=0)
    torch.testing.assert_close(out[:, 5:7], torch.tensor([[0.0, 1.0]]), atol=1e-6, rtol=0)


def test_gumbel_noise_draws_from_each_blocks_categorical():
    activation = SpanActivation([Span(3, "softmax", "g", "category")], tau=0.2)
    probs = torch.tensor([0.6, 0.3, 0.1])
    raw = probs.log().expand(20_000, 3).clone()
    out = activation(raw, torch.Generator().manual_seed(2))
    torch.testing.assert_close(out.sum(dim=1), torch.ones(20_000))
    shares = torch.bincount(out.argmax(dim=1), minlength=3) / 20_000
    torch.testing.assert_close(shares, probs, atol=0.015, rtol=0)
    # without a generator the output is deterministic
    torch.testing.assert_close(activation(raw[:2]), activation(raw[:2]))


def test_span_activation_with_only_tanh_or_only_softmax_spans():
    only_tanh = SpanActivation([Span(2, "tanh", "x", "value")])
    raw = torch.tensor([[-10.0, 0.5]])
    torch.testing.assert_close(only_tanh(raw), torch.tanh(raw))
    only_soft = SpanActivation([Span(2, "softmax", "g", "category")], tau=1.0)
    torch.testing.assert_close(only_soft(raw), torch.softmax(raw, dim=1))


def _target(tanh_values, cats):
    target = torch.zeros(len(cats), 7)
    target[:, TANH] = torch.tensor(tanh_values)
    for i, (a, b) in enumerate(cats):
        target[i, 1 + a] = 1.0
        target[i, 5 + b] = 1.0
    return target


def test_span_likelihood_is_lower_for_the_right_target():
    likelihood = SpanLikelihood(SPANS)
    raw = torch.tensor([[0.5, 4.0, 0.0, 0.0, -0.3, 0.0, 3.0]])
    log_scale = torch.log(torch.tensor([0.1, 0.1]))
    right = _target([[float(torch.tanh(torch.tensor(0.5))), float(torch.tanh(torch.tensor(-0.3)))]], [(0, 1)])
    wrong_category = _target(right[:, TANH].tolist(), [(2, 0)])
    wrong_value = _target([[-0.9, 0.9]], [(0, 1)])
    nll_right = likelihood(raw, right, log_scale)
    assert nll_right.shape == (1,)
    assert nll_right < likelihood(raw, wrong_category, log_scale)
    assert nll_right < likelihood(raw, wrong_value, log_scale)


def test_span_likelihood_matches_gaussian_plus_cross_entropy():
    likelihood = SpanLikelihood(SPANS)
    gen = torch.Generator().manual_seed(3)
    raw = torch.randn(4, 7, generator=gen, dtype=torch.float64)
    target = _target([[0.1, -0.2], [0.5, 0.5], [-1.0, 0.0], [0.9, -0.9]], [(0, 0), (1, 1), (2, 0), (1, 0)]).double()
    log_scale = torch.tensor([-1.0, -0.5], dtype=torch.float64)
    scale = log_scale.exp()
    diff = target[:, TANH] - torch.tanh(raw[:, TANH])
    expected = (diff**2 / (2 * scale**2) + scale.log()).sum(dim=1)
    for block in BLOCKS:
        expected = expected - (target[:, block] * torch.log_softmax(raw[:, block], dim=1)).sum(dim=1)
    torch.testing.assert_close(likelihood(raw, target, log_scale), expected)


@pytest.mark.parametrize("log_scale, scale", [(-20.0, 0.01), (5.0, 1.0), (-1.0, 0.36787944)])
def test_span_likelihood_clamps_the_scale(log_scale, scale):
    likelihood = SpanLikelihood(SPANS)
    assert float(likelihood.scale(torch.tensor(log_scale))) == pytest.approx(scale, rel=1e-6)
