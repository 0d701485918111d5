"""Column-by-column sampling from an any-order autoregressive network.

Every token starts masked, except those of conditioned columns, set from the start. The free
columns are then revealed one at a time, in the order given (range-conditioned columns first,
the rest in a random order per batch), each drawn from the network's softmax given all tokens
shown so far, so every row is a draw of the learnt joint given its conditions. A column may be
restricted to a band of its tokens (a numeric range): its softmax is renormalised over the band,
which samples the column given that it falls in the range; shown first, it then conditions the
rest of the row.

The network's input layer is linear in the one-hot tokens, so revealing a token adds one weight
row to the first layer's output instead of recomputing it, and only the revealed column's rows
of the output layer are evaluated: a step costs the hidden layers plus one small head.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..nn.diffusion import TabularDenoiser, TokenLayout

#: each row's lowest and highest allowed token of a column, from the tokens drawn so far
Band = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class ColumnByColumn:
    """Draws token rows from a trained any-order network (see module docstring)."""

    net: TabularDenoiser
    layout: TokenLayout

    @torch.no_grad()
    def run(
        self,
        tokens: torch.Tensor,
        order: list[int],
        bands: Mapping[int, Band],
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Fill the masked ``tokens`` (rows, columns) of the columns in ``order``, in that order;
        ``bands`` maps a column to a function of the tokens drawn so far giving each row's
        inclusive range of tokens that column may take."""
        layout, net = self.layout, self.net
        token_rows = net.proj.weight.T.contiguous()  # (token_dim, width): the input layer's row per one-hot position
        h = F.embedding_bag(layout.token_offsets + tokens, token_rows, mode="sum") + net.proj.bias
        logit_offsets = (torch.cumsum(layout.levels, 0) - layout.levels).tolist()
        n_masked = int((tokens == layout.mask_ids).sum(1).max()) if tokens.numel() else 0
        for column in order:
            time = torch.full((1,), n_masked / layout.n_columns, device=tokens.device)
            hidden = net.hidden(h, time)
            start, width = logit_offsets[column], int(layout.levels[column])
            logits = hidden @ net.out.weight[start : start + width].T + net.out.bias[start : start + width]
            band = bands[column](tokens) if column in bands else None
            if band is not None:
                slots = torch.arange(width, device=tokens.device)
                allowed = (slots >= band[0].unsqueeze(1)) & (slots <= band[1].unsqueeze(1))
                logits = logits.masked_fill(~allowed, float("-inf"))
            drawn = _draw(logits, generator)
            if band is not None:  # a rounding-level overshoot of the last cdf step stays in the band
                drawn = torch.minimum(torch.maximum(drawn, band[0]), band[1])
            offset = int(layout.token_offsets[column])
            h = h + token_rows[offset + drawn] - token_rows[offset + int(layout.mask_ids[column])]
            tokens[:, column] = drawn
            n_masked -= 1
        return tokens


def _draw(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One index per row from the softmax of ``logits`` (rows, k), by inverse-CDF sampling."""
    cdf = torch.cumsum(torch.softmax(logits.double(), dim=-1), dim=-1)
    u = torch.rand((logits.shape[0], 1), generator=generator, device=logits.device, dtype=cdf.dtype)
    return torch.minimum((u > cdf).sum(-1), torch.tensor(logits.shape[1] - 1, device=logits.device))


__all__ = ["Band", "ColumnByColumn"]
