"""The DiffUIR network (`UnetRes`), written from `shared/spec/diffuir.md` §2.

Module names mirror the official code so that the official state dicts load unchanged (`unet0.*`, 276 keys
for every variant). The arithmetic follows the official order of operations, which is what makes the
float32 CPU output bit-identical to the reference inference.

Tensor contract of `UnetRes.forward(x, time)`:
- `x`: float (B, 6, H, W) = channel concat [x_t, x_cond], both RGB in [-1, 1] (x_t may exceed it);
- `time`: float (B,), the value Ā_t·1000 (not the integer step);
- returns float (B, 3, H, W): the predicted residual x_cond − x_clean, unclamped.
Any H, W ≥ 16 works: the input is reflect-padded right/bottom to a multiple of 16 and cropped back.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

HEADS = 4
DIM_HEAD = 32
GROUPS = 8
PAD_MULTIPLE = 16  # 2 ** len(dim_mults) in the official code, for all four variants


@dataclass(frozen=True)
class NetConfig:
    """Hyper-parameters that define a DiffUIR variant (everything else is fixed by the official scripts)."""

    dim: int
    dim_mults: tuple[int, ...]

    @property
    def dims(self) -> list[int]:
        return [self.dim] + [self.dim * m for m in self.dim_mults]

    @property
    def time_dim(self) -> int:
        return 4 * self.dim


VARIANTS: dict[str, NetConfig] = {
    "T": NetConfig(32, (1, 1, 1, 1)),
    "S": NetConfig(32, (1, 2, 2, 4)),
    "B": NetConfig(64, (1, 2, 2, 4)),
    "L": NetConfig(64, (1, 2, 4, 8)),
}


def _eps(x: torch.Tensor) -> float:
    return 1e-5 if x.dtype == torch.float32 else 1e-3


class WeightStandardizedConv2d(nn.Conv2d):
    """3×3 conv whose weight is standardised per output channel at every call (official behaviour).

    `freeze()` caches the standardised weight for inference; the result is bit-identical because the
    same operations run once instead of at every call.
    """

    _frozen: torch.Tensor | None = None

    def standardized_weight(self, dtype: torch.dtype) -> torch.Tensor:
        w = self.weight
        eps = 1e-5 if dtype == torch.float32 else 1e-3
        mean = w.mean(dim=(1, 2, 3), keepdim=True)
        var = torch.var(w, dim=(1, 2, 3), unbiased=False, keepdim=True)
        return (w - mean) * (var + eps).rsqrt()

    def freeze(self, frozen: bool = True) -> None:
        self._frozen = self.standardized_weight(self.weight.dtype).detach() if frozen else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self._frozen
        if w is None or w.dtype != x.dtype or w.device != x.device:
            w = self.standardized_weight(x.dtype)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class LayerNorm(nn.Module):
    """Channel LayerNorm with a gain and no bias."""

    def __init__(self, dim: int):
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = torch.var(x, dim=1, unbiased=False, keepdim=True)
        mean = torch.mean(x, dim=1, keepdim=True)
        return (x - mean) * (var + _eps(x)).rsqrt() * self.g


class PreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module):
        super().__init__()
        self.fn = fn
        self.norm = LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn: nn.Module):
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + x


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        c = math.log(10000) / (half - 1)
        freqs = torch.exp(torch.arange(half, device=x.device) * -c)
        emb = x[:, None] * freqs[None, :]
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class Block(nn.Module):
    def __init__(self, dim: int, dim_out: int):
        super().__init__()
        self.proj = WeightStandardizedConv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(GROUPS, dim_out)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, scale_shift=None) -> torch.Tensor:
        x = self.norm(self.proj(x))
        if scale_shift is not None:
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return self.act(x)


class ResnetBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int, time_emb_dim: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
        self.block1 = Block(dim, dim_out)
        self.block2 = Block(dim_out, dim_out)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        t = self.mlp(temb)
        scale_shift = t[:, :, None, None].chunk(2, dim=1)
        h = self.block1(x, scale_shift=scale_shift)
        h = self.block2(h)
        return h + self.res_conv(x)


def _split_heads(t: torch.Tensor) -> torch.Tensor:
    b, c, h, w = t.shape
    return t.reshape(b, HEADS, c // HEADS, h * w)


class LinearAttention(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        hidden = HEADS * DIM_HEAD
        self.scale = DIM_HEAD**-0.5
        self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(hidden, dim, 1), LayerNorm(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        q, k, v = map(_split_heads, self.to_qkv(x).chunk(3, dim=1))
        q = q.softmax(dim=-2)
        k = k.softmax(dim=-1)
        q = q * self.scale
        v = v / (h * w)
        context = torch.einsum("b h d n, b h e n -> b h d e", k, v)
        out = torch.einsum("b h d e, b h d n -> b h e n", context, q)
        return self.to_out(out.reshape(b, HEADS * DIM_HEAD, h, w))


class Attention(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        hidden = HEADS * DIM_HEAD
        self.scale = DIM_HEAD**-0.5
        self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        q, k, v = map(_split_heads, self.to_qkv(x).chunk(3, dim=1))
        q = q * self.scale
        sim = torch.einsum("b h d i, b h d j -> b h i j", q, k)
        attn = sim.softmax(dim=-1)
        out = torch.einsum("b h i j, b h d j -> b h i d", attn, v)
        out = out.permute(0, 1, 3, 2).reshape(b, HEADS * DIM_HEAD, h, w)
        return self.to_out(out)


def _downsample(ci: int, co: int) -> nn.Module:
    return nn.Conv2d(ci, co, 4, 2, 1)


def _upsample(ci: int, co: int) -> nn.Module:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ci, co, 3, padding=1))


class Unet(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        dims, td = config.dims, config.time_dim
        in_out = list(itertools.pairwise(dims))
        last = len(in_out) - 1
        self.init_conv = nn.Conv2d(6, dims[0], 7, padding=3)
        self.time_mlp = nn.Sequential(
            SinusoidalPosEmb(config.dim), nn.Linear(config.dim, td), nn.GELU(), nn.Linear(td, td)
        )
        self.downs = nn.ModuleList(
            nn.ModuleList([
                ResnetBlock(ci, ci, td),
                ResnetBlock(ci, ci, td),
                Residual(PreNorm(ci, LinearAttention(ci))),
                _downsample(ci, co) if i < last else nn.Conv2d(ci, co, 3, padding=1),
            ])
            for i, (ci, co) in enumerate(in_out)
        )
        self.ups = nn.ModuleList(
            nn.ModuleList([
                ResnetBlock(co + ci, co, td),
                ResnetBlock(co + ci, co, td),
                Residual(PreNorm(co, LinearAttention(co))),
                _upsample(co, ci) if j < last else nn.Conv2d(co, ci, 3, padding=1),
            ])
            for j, (ci, co) in enumerate(reversed(in_out))
        )
        mid = dims[-1]
        self.mid_block1 = ResnetBlock(mid, mid, td)
        self.mid_attn = Residual(PreNorm(mid, Attention(mid)))
        self.mid_block2 = ResnetBlock(mid, mid, td)
        self.final_res_block = ResnetBlock(dims[0] * 2, dims[0], td)
        self.final_conv = nn.Conv2d(dims[0], 3, 1)

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        H, W = x.shape[-2:]
        ph, pw = (-H) % PAD_MULTIPLE, (-W) % PAD_MULTIPLE
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        x = self.init_conv(x)
        r = x.clone()
        t = self.time_mlp(time)
        skips = []
        for block1, block2, attn, down in self.downs:
            x = block1(x, t)
            skips.append(x)
            x = attn(block2(x, t))
            skips.append(x)
            x = down(x)
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, t)), t)
        for block1, block2, attn, up in self.ups:
            x = block1(torch.cat((x, skips.pop()), dim=1), t)
            x = block2(torch.cat((x, skips.pop()), dim=1), t)
            x = up(attn(x))
        x = self.final_res_block(torch.cat((x, r), dim=1), t)
        return self.final_conv(x)[..., :H, :W]


class UnetRes(nn.Module):
    """The official wrapper; it only adds the `unet0.` key prefix (objective `pred_res`)."""

    def __init__(self, config: NetConfig | str):
        super().__init__()
        self.config = VARIANTS[config] if isinstance(config, str) else config
        self.unet0 = Unet(self.config)

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        return self.unet0(x, time)

    def freeze_weights(self, frozen: bool = True) -> None:
        """Cache derived weights (standardised convs) for inference; call again after changing weights."""
        for m in self.modules():
            if isinstance(m, WeightStandardizedConv2d):
                m.freeze(frozen)


def expected_shapes(config: NetConfig) -> dict[str, tuple[int, ...]]:
    """Key → shape of a state dict for `config`, without allocating the weights."""
    with torch.device("meta"):
        net = UnetRes(config)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def count_flops(config: NetConfig, height: int, width: int) -> int:
    """Multiply-adds ×2 of one network evaluation at (height, width), counted from the layer shapes.

    Counts convolutions, linear layers and the attention products; element-wise work (norms,
    activations) is left out, as FLOP counters usually do.
    """
    flops = 0
    hooks = []

    def conv_hook(m, inp, out):
        nonlocal flops
        k = m.weight[0].numel()  # in/groups · kh · kw
        flops += 2 * out.numel() * k

    def lin_hook(m, inp, out):
        nonlocal flops
        flops += 2 * out.numel() * m.in_features

    def lin_attn_hook(m, inp, out):
        nonlocal flops
        b, _, h, w = inp[0].shape
        flops += 2 * 2 * b * HEADS * DIM_HEAD * DIM_HEAD * h * w  # context + output

    def attn_hook(m, inp, out):
        nonlocal flops
        b, _, h, w = inp[0].shape
        n = h * w
        flops += 2 * 2 * b * HEADS * n * n * DIM_HEAD  # q·k and attn·v

    net = UnetRes(config)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, LinearAttention):
            hooks.append(m.register_forward_hook(lin_attn_hook))
        elif isinstance(m, Attention):
            hooks.append(m.register_forward_hook(attn_hook))
    ph, pw = -(-height // PAD_MULTIPLE) * PAD_MULTIPLE, -(-width // PAD_MULTIPLE) * PAD_MULTIPLE
    with torch.inference_mode():
        net(torch.zeros(1, 6, ph, pw), torch.zeros(1))
    for h in hooks:
        h.remove()
    return flops
