"""Per-row training loss of the any-order autoregressive model, for the training runner.

Every row is a sequence of tokens: a category, a missing-value indicator, or a numeric column's
quantile bin and sub-bin (a pair, the sub-bin always right after its bin). A draw takes a
random order of the columns and a random cut ``k`` (uniform in ``0 .. T - 1``): the first ``k``
tokens of the order are shown, the rest masked, and the network predicts the masked tokens from
the shown ones. Averaged over the masked tokens,
this trains every conditional ``p(column | any subset of columns)`` at once (an order-agnostic
autoregressive model; the mean over masked tokens gives each cut the same weight, as the
order-agnostic likelihood bound does). Sampling then reveals one column at a time in any order,
which is why any set of columns can be conditioned on exactly: they are simply shown first.

Each row is seen with ``order_draws`` independent draws at once and its loss is their mean, so
a row still contributes one gradient (what DP-SGD clips).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..nn.diffusion import TokenLayout


def random_visibility(
    shape: tuple[int, ...], n_paired: int, n_single: int, generator: torch.Generator, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which tokens a draw shows and which it scores, each ``(*shape, n_tokens)`` booleans.

    Tokens are laid out ``[first of each pair | second of each pair | singles]``: a numeric
    column's bin and sub-bin form a pair, always next to each other in the order (bin first).
    The columns (pairs and singles) are put in a random order and the first ``k`` tokens of the
    resulting sequence are shown, ``k`` uniform in ``0 .. n_tokens - 1``. Scored: every masked
    token except a sub-bin whose bin is masked too (sampling draws a sub-bin after its bin only).
    """
    n_columns = n_paired + n_single
    widths = torch.tensor([2] * n_paired + [1] * n_single, device=device)
    order = torch.rand((*shape, n_columns), generator=generator, device=device).argsort(-1)
    ordered_widths = widths[order]
    starts = torch.empty_like(order).scatter_(-1, order, torch.cumsum(ordered_widths, -1) - ordered_widths)
    position = torch.cat([starts[..., :n_paired], starts[..., :n_paired] + 1, starts[..., n_paired:]], -1)
    n_tokens = position.shape[-1]
    shown = position < torch.randint(n_tokens, shape, generator=generator, device=device).unsqueeze(-1)
    scored = ~shown
    scored[..., n_paired : 2 * n_paired] &= shown[..., :n_paired]
    return shown, scored


def any_order_losses(
    net: nn.Module,
    layout: TokenLayout,
    codes: torch.Tensor,
    *,
    n_paired: int = 0,
    order_draws: int,
    generator: torch.Generator,
    indexed_input: bool = False,
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """Per-row losses on the token rows ``codes[rows]``: the mean cross-entropy of the scored
    tokens given the shown ones (:func:`random_visibility`; the first ``2 * n_paired`` token
    columns are the pairs), averaged over ``order_draws`` draws. ``net`` is a
    :class:`~synthaug.nn.diffusion.TabularDenoiser` without numeric inputs whose time input is
    the masked share of the row. ``indexed_input`` feeds the tokens as indices
    (:meth:`~synthaug.nn.diffusion.TabularDenoiser.forward_indexed`: the same outputs at a
    fraction of the input layer's cost), which Opacus cannot follow: only without DP."""
    n_single = layout.n_columns - 2 * n_paired

    def losses(rows: torch.Tensor) -> dict[str, torch.Tensor]:
        shape = (rows.shape[0], order_draws)
        target = codes[rows].unsqueeze(1).expand(*shape, -1)
        shown, scored = random_visibility(shape, n_paired, n_single, generator, codes.device)
        tokens = torch.where(shown, target, layout.mask_ids)
        masked_share = (~shown).sum(-1).to(torch.float32) / layout.n_columns
        if indexed_input:
            flat = (layout.token_offsets + tokens).reshape(-1, layout.n_columns)
            empty = torch.zeros((flat.shape[0], 0), device=codes.device)
            logits = net.forward_indexed(empty, flat, masked_share.reshape(-1))[1].reshape(*shape, -1)
        else:
            empty = torch.zeros((*shape, 0), device=codes.device)
            logits = net(empty, layout.one_hot(tokens), masked_share)[1]
        log_p = layout.log_probs(logits).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        per_draw = -(log_p * scored).sum(-1) / scored.sum(-1)
        return {"loss": per_draw.mean(1)}

    return losses


__all__ = ["any_order_losses", "random_visibility"]
