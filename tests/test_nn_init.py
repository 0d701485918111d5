import pytest
import torch
from torch import nn

from synthaug.nn import ResidualBlock, SeededDropout, build, leaky_mlp
from synthaug.nn.conv import ImageCriticNet, ImageDecoderNet
from synthaug.nn.flows import ConditionalFlowNet
from synthaug.nn.image_flows import ImageFlowNet


class ScaledLinear(nn.Module):
    """A custom layer that owns a bare parameter and initialises it itself."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, dim)
        self.scale = nn.Parameter(torch.empty(dim))

    def reset_parameters(self) -> None:
        nn.init.uniform_(self.scale, 2.0, 3.0)


class Uncovered(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(3, 3)
        self.offset = nn.Parameter(torch.empty(3))


def _mixed() -> nn.Module:
    return nn.Sequential(
        leaky_mlp(4, (8,), 6, dropout=0.5),
        ResidualBlock(6, 5),
        nn.LayerNorm(11),
        nn.GroupNorm(1, 11),
        ScaledLinear(11),
        nn.Bilinear(11, 11, 2),  # a layer the old initialiser did not know
    )


def _tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _build(factory, seed: int) -> nn.Module:
    return build(factory, torch.device("cpu"), torch.Generator().manual_seed(seed))


FACTORIES = {
    "mixed": _mixed,
    "flow": lambda: ConditionalFlowNet(5, 2, 4, (16,)),
    "image_decoder": lambda: ImageDecoderNet(8, 3, 1, (8, 8), 2, 8),
    "image_critic": lambda: ImageCriticNet(3, 1, (8, 8), 2, 8, norm=True),
    "image_flow": lambda: ImageFlowNet(1, 3, (8, 8), 2, 2, 8),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_every_tensor_is_finite_and_reproducible(name):
    first, second = _tensors(_build(FACTORIES[name], 0)), _tensors(_build(FACTORIES[name], 0))
    assert first.keys() == second.keys()
    for key, value in first.items():
        if value.is_floating_point():
            assert torch.isfinite(value).all(), key
        assert torch.equal(value, second[key]), key


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_different_seeds_give_different_weights(name):
    first, other = _tensors(_build(FACTORIES[name], 0)), _tensors(_build(FACTORIES[name], 1))
    random = [k for k, v in first.items() if v.is_floating_point() and v.numel() > 1 and v.std() > 0]
    assert random and any(not torch.equal(first[k], other[k]) for k in random)


def test_default_initialisation_schemes():
    net = _build(_mixed, 3)
    linear, block, layer_norm = net[0][0], net[1], net[2]
    bound = 1.0 / 4**0.5  # torch's default for a Linear with fan_in 4
    assert linear.weight.abs().max() <= bound and linear.weight.std() > 0
    assert torch.equal(block.norm.running_mean, torch.zeros(5)) and torch.equal(block.norm.running_var, torch.ones(5))
    assert torch.equal(layer_norm.weight, torch.ones(11)) and torch.equal(layer_norm.bias, torch.zeros(11))


def test_custom_reset_parameters_is_called():
    scale = _build(_mixed, 0)[4].scale
    assert ((scale >= 2.0) & (scale <= 3.0)).all()


def test_module_with_uncovered_parameters_raises():
    with pytest.raises(TypeError, match=r"Uncovered.*\['offset'\].*reset_parameters"):
        _build(lambda: nn.Sequential(nn.Linear(3, 3), Uncovered()), 0)


def test_global_rng_is_untouched():
    state = torch.random.get_rng_state()
    _build(_mixed, 0)
    _build(FACTORIES["image_flow"], 1)
    assert torch.equal(state, torch.random.get_rng_state())


def test_post_init_and_generator_hooks():
    generator = torch.Generator().manual_seed(0)
    net = build(_mixed, torch.device("cpu"), generator)
    assert net[0][2].generator is generator and isinstance(net[0][2], SeededDropout)
    flow = _build(FACTORIES["flow"], 0)
    layer = flow.layers[1]
    assert torch.equal(layer.out.weight, torch.zeros_like(layer.out.weight)), "couplings start as the identity"
    assert set(layer.mask.unique().tolist()) <= {0.0, 1.0} and layer.mask.sum() > 0
