"""Output heads built from a span layout, vectorised over all spans at once.

Instead of looping over spans (one small op per column per step), the head keeps
index tensors: which output features are ``tanh`` scalars and which belong to
``softmax`` blocks, with a segment id per softmax feature. A segment softmax is
then a handful of scatter/gather ops whatever the number of columns.
"""

from __future__ import annotations

import torch
from torch import nn

from ..transform.spans import Span


def segment_ids(spans: list[Span], activation: str = "softmax") -> tuple[torch.Tensor, torch.Tensor]:
    """Feature indices of all spans with ``activation`` and the segment each belongs to."""
    idx, seg, start, n_seg = [], [], 0, 0
    for span in spans:
        if span.activation == activation:
            idx.extend(range(start, start + span.dim))
            seg.extend([n_seg] * span.dim)
            n_seg += 1
        start += span.dim
    return torch.tensor(idx, dtype=torch.long), torch.tensor(seg, dtype=torch.long)


def segment_log_softmax(logits: torch.Tensor, seg: torch.Tensor, n_seg: int) -> torch.Tensor:
    """Log-softmax of ``logits`` (batch, features) within each segment of features."""
    batch = logits.shape[0]
    index = seg.unsqueeze(0).expand(batch, -1)
    seg_max = torch.full((batch, n_seg), float("-inf"), device=logits.device, dtype=logits.dtype)
    seg_max = seg_max.scatter_reduce(1, index, logits.detach(), reduce="amax", include_self=True)
    shifted = logits - seg_max.gather(1, index)
    sums = torch.zeros((batch, n_seg), device=logits.device, dtype=logits.dtype).scatter_add(1, index, shifted.exp())
    return shifted - sums.log().gather(1, index)


class SpanActivation(nn.Module):
    """Applies ``tanh`` to scalar spans and (Gumbel-)softmax to one-hot spans."""

    def __init__(self, spans: list[Span], tau: float = 0.2) -> None:
        super().__init__()
        self.tau = tau
        self.out_dim = sum(s.dim for s in spans)
        tanh_idx, _ = segment_ids(spans, "tanh")
        soft_idx, soft_seg = segment_ids(spans, "softmax")
        self.n_seg = int(soft_seg.max()) + 1 if soft_seg.numel() else 0
        self.register_buffer("tanh_idx", tanh_idx, persistent=False)
        self.register_buffer("soft_idx", soft_idx, persistent=False)
        self.register_buffer("soft_seg", soft_seg, persistent=False)

    def forward(self, raw: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Activate ``raw``. With a generator, softmax spans get Gumbel noise, so that the
        argmax of each block is an exact draw from its categorical distribution."""
        out = torch.empty_like(raw)
        if self.tanh_idx.numel():
            out[:, self.tanh_idx] = torch.tanh(raw[:, self.tanh_idx])
        if self.soft_idx.numel():
            logits = raw[:, self.soft_idx]
            if generator is not None:
                u = torch.rand(logits.shape, generator=generator, device=raw.device, dtype=raw.dtype)
                logits = logits - torch.log((-torch.log(u.clamp_min(1e-10))).clamp_min(1e-10))
            probs = segment_log_softmax(logits / self.tau, self.soft_seg, self.n_seg).exp()
            out[:, self.soft_idx] = probs
        return out


class SpanLikelihood(nn.Module):
    """Per-row negative log-likelihood of encoded rows under a decoder's output.

    ``tanh`` features: Gaussian around ``tanh(raw)`` with a learnt scale (clamped to
    [0.01, 1]); ``softmax`` spans: categorical cross-entropy.
    """

    min_scale, max_scale = 0.01, 1.0

    def __init__(self, spans: list[Span]) -> None:
        super().__init__()
        tanh_idx, _ = segment_ids(spans, "tanh")
        soft_idx, soft_seg = segment_ids(spans, "softmax")
        self.n_tanh = int(tanh_idx.numel())
        self.n_seg = int(soft_seg.max()) + 1 if soft_seg.numel() else 0
        self.register_buffer("tanh_idx", tanh_idx, persistent=False)
        self.register_buffer("soft_idx", soft_idx, persistent=False)
        self.register_buffer("soft_seg", soft_seg, persistent=False)

    def scale(self, log_scale: torch.Tensor) -> torch.Tensor:
        return log_scale.exp().clamp(self.min_scale, self.max_scale)

    def forward(self, raw: torch.Tensor, target: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
        nll = raw.new_zeros(raw.shape[0])
        if self.n_tanh:
            scale = self.scale(log_scale)
            diff = target[:, self.tanh_idx] - torch.tanh(raw[:, self.tanh_idx])
            nll = nll + (diff**2 / (2 * scale**2) + torch.log(scale)).sum(dim=1)
        if self.n_seg:
            logp = segment_log_softmax(raw[:, self.soft_idx], self.soft_seg, self.n_seg)
            nll = nll - (target[:, self.soft_idx] * logp).sum(dim=1)
        return nll
