"""An inference-only, faster form of the DiffUIR network with the same meaning as `engine.network`.

`FastUnet(net)` reads the weights of a reference `UnetRes` and precomputes everything that does not depend
on the input; its forward pass computes the same function, in a different order of operations, so its
float32 output agrees with the reference to rounding (≤ 1e-4 is tested; typically ~1e-6). The reference
network stays the one that reproduces the official code bit for bit (`optimize=False` in the API).

What changes, and why none of it changes the arithmetic's meaning:
- layout: feature maps are channels-last (NHWC), which oneDNN convolutions and the per-pixel channel
  reductions (LayerNorm, the attention projections) run much faster in on CPU; CUDA prefers it too;
- weight standardisation: done once here (float32, eps 1e-5) instead of at every call;
- GroupNorm + time scale/shift: folded into the GroupNorm affine (`w·(s+1)`, `b·(s+1)+shift`) for one
  sample, one in-place multiply-add for a batch; SiLU and the residual additions run in place;
- channel LayerNorm: `F.layer_norm` over the contiguous channel axis (one fused kernel instead of
  var/mean/sub/mul); the pre-norm gain is folded into the q/k/v projection weights;
- linear attention: `v` is never materialised (context = softmax(k)·xᵀ·W_vᵀ/N), and the head-wise output
  product and `to_out` are one (128 → C) matrix per sample, so the 128-channel output map disappears;
- mid attention: `F.scaled_dot_product_attention` (a fused, memory-efficient kernel: no N×N matrix);
- time embedding: SiLU(temb) computed once for all ResnetBlocks.

`precision="bfloat16"|"float16"` runs the convolutions and matrix products in that type (weights still
standardised in float32 first); it is meant for GPUs and changes results by ~1e-2, reported by the bench.
"""

from __future__ import annotations

import copy
import weakref

import torch
import torch.nn.functional as F
from torch import nn

from engine.network import (
    DIM_HEAD,
    GROUPS,
    HEADS,
    PAD_MULTIPLE,
    Attention,
    LinearAttention,
    ResnetBlock,
    UnetRes,
)

PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
EPS = 1e-5  # the float32 eps of the reference norms and weight standardisation

__all__ = ["PRECISIONS", "FastUnet", "optimized", "release"]


def _cl(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous(memory_format=torch.channels_last)


def _std_weight(w: torch.Tensor) -> torch.Tensor:
    """The reference standardisation (float32, same ops), so the weights are bit-identical to `freeze()`."""
    w = w.detach().float()
    mean = w.mean(dim=(1, 2, 3), keepdim=True)
    var = torch.var(w, dim=(1, 2, 3), unbiased=False, keepdim=True)
    return (w - mean) * (var + EPS).rsqrt()


class _Conv(nn.Module):
    """A plain convolution with its weight stored channels-last in the compute dtype."""

    def __init__(self, conv: nn.Conv2d, dtype, weight: torch.Tensor | None = None):
        super().__init__()
        w = conv.weight.detach() if weight is None else weight
        self.register_buffer("weight", _cl(w.to(dtype)))
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().to(dtype))
        self.stride, self.padding = conv.stride, conv.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


def _group_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """GroupNorm mean and 1/std per (sample, channel) of a channels-last map, summed accurately.

    PyTorch's channels-last GroupNorm kernel accumulates sums sequentially over the pixels, which loses
    ~1e-3 on a 1024² tile; cascade sums over the pixel axis and the two-pass variance stay at ~1e-7.
    """
    b, c, h, w = x.shape
    n, per = h * w, c // GROUPS
    xt = _tokens(x)  # (B, N, C)
    mean = xt.sum(dim=1, dtype=torch.float32).reshape(b, GROUPS, per).sum(-1) / (n * per)  # (B, G)
    mean = mean.repeat_interleave(per, dim=1)  # (B, C)
    var = (xt - mean[:, None, :].to(xt.dtype)).square_().sum(dim=1, dtype=torch.float32)
    var = var.reshape(b, GROUPS, per).sum(-1) / (n * per)
    return mean, (var + EPS).rsqrt().repeat_interleave(per, dim=1)


# Below this many pixels the native kernel is accurate (≤ 1e-6) and its single pass is faster.
NATIVE_GROUP_NORM_PIXELS = 128 * 128


def _group_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                scale: torch.Tensor | None = None, shift: torch.Tensor | None = None) -> torch.Tensor:
    """GroupNorm(x)·weight + bias, then ·scale + shift (per sample, the time modulation), fused."""
    b, _, h, w = x.shape
    if h * w <= NATIVE_GROUP_NORM_PIXELS:
        if b == 1 or scale is None:
            if scale is not None:
                weight, bias = weight * scale[0], bias * scale[0] + shift[0]
            return F.group_norm(x, GROUPS, weight, bias, EPS)
        y = F.group_norm(x, GROUPS, None, None, EPS)
        return y.mul_((weight * scale)[:, :, None, None]).add_((bias * scale + shift)[:, :, None, None])
    mean, rstd = _group_stats(x)  # (B, C) each, float32
    a = weight.float() * rstd
    add = bias.float() - mean * a
    if scale is not None:
        a, add = a * scale.float(), add * scale.float() + shift.float()
    return torch.addcmul(add.to(x.dtype)[:, :, None, None], x, a.to(x.dtype)[:, :, None, None])


class _ResBlock(nn.Module):
    def __init__(self, block: ResnetBlock, dtype):
        super().__init__()
        self.mlp = _Linear(block.mlp[1], dtype)
        self.conv1 = _Conv(block.block1.proj, dtype, _std_weight(block.block1.proj.weight))
        self.conv2 = _Conv(block.block2.proj, dtype, _std_weight(block.block2.proj.weight))
        for name, gn in (("gn1", block.block1.norm), ("gn2", block.block2.norm)):
            self.register_buffer(f"{name}_w", gn.weight.detach().to(dtype))
            self.register_buffer(f"{name}_b", gn.bias.detach().to(dtype))
        self.res = _Conv(block.res_conv, dtype) if isinstance(block.res_conv, nn.Conv2d) else None

    def forward(self, x: torch.Tensor, temb_act: torch.Tensor) -> torch.Tensor:
        scale, shift = self.mlp(temb_act).chunk(2, dim=1)  # (B, C) each
        h = _group_norm(self.conv1(x), self.gn1_w, self.gn1_b, scale + 1, shift)
        F.silu(h, inplace=True)
        h = _group_norm(self.conv2(h), self.gn2_w, self.gn2_b)
        F.silu(h, inplace=True)
        return h.add_(self.res(x) if self.res is not None else x)


class _Linear(nn.Module):
    def __init__(self, lin: nn.Linear, dtype):
        super().__init__()
        self.register_buffer("weight", lin.weight.detach().to(dtype))
        self.register_buffer("bias", lin.bias.detach().to(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) channels-last → (B, H·W, C) view (row-major pixels, the reference's token order)."""
    b, c, h, w = x.shape
    return _cl(x).permute(0, 2, 3, 1).reshape(b, h * w, c)


def _image(tokens: torch.Tensor, h: int, w: int) -> torch.Tensor:
    b, _, c = tokens.shape
    return tokens.reshape(b, h, w, c).permute(0, 3, 1, 2)  # a channels-last NCHW view


class _LinearAttnBlock(nn.Module):
    """x + LN_out(to_out(LinearAttention(LN_pre(x)))) — `Residual(PreNorm(LinearAttention))`."""

    def __init__(self, residual: nn.Module, dtype):
        super().__init__()
        pre: nn.Module = residual.fn
        attn: LinearAttention = pre.fn
        g = pre.norm.g.detach().reshape(1, -1)  # (1, C): LN_pre's gain, folded into the projections
        wqkv = attn.to_qkv.weight.detach()[:, :, 0, 0] * g  # (384, C)
        hidden = HEADS * DIM_HEAD
        self.register_buffer("w_q", wqkv[:hidden].to(dtype))
        self.register_buffer("w_k", wqkv[hidden:2 * hidden].to(dtype))
        self.register_buffer("w_v", wqkv[2 * hidden:].reshape(HEADS, DIM_HEAD, -1).to(dtype))  # (h, e, C)
        w_out = attn.to_out[0].weight.detach()[:, :, 0, 0]  # (C, 128), input channel = head·32 + e
        c = w_out.shape[0]
        self.register_buffer("w_out", (w_out.reshape(c, HEADS, DIM_HEAD).permute(1, 2, 0) * attn.scale).to(dtype))
        self.register_buffer("b_out", attn.to_out[0].bias.detach().to(dtype))
        self.register_buffer("g_out", attn.to_out[1].g.detach().reshape(-1).to(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        n = h * w
        xt = _tokens(x)  # (B, N, C)
        xn = F.layer_norm(xt, (c,), None, None, EPS)
        q = F.linear(xn, self.w_q).reshape(b, n, HEADS, DIM_HEAD).softmax(dim=-1)  # softmax over d
        # softmax(k) over the pixels without a strided softmax: e = exp(k − max_n k), and one product with
        # [x̂, 1] gives both Σ_n e[d,n]·x̂[c,n] and the normaliser Σ_n e[d,n] (last column).
        k = F.linear(xn, self.w_k)  # (B, N, 128)
        k.sub_(k.amax(dim=1, keepdim=True)).exp_()
        ones = xn.new_ones(b, n, 1)
        kx = torch.matmul(k.transpose(1, 2), torch.cat((xn, ones), dim=2))  # (B, 128, C + 1)
        kx = (kx[..., :c] / kx[..., c:]).reshape(b, HEADS, DIM_HEAD, c)  # Σ_n softmax(k)[d,n]·x̂[c,n]
        context = torch.matmul(kx, self.w_v.transpose(1, 2)) / n  # (B, h, d, e) = Σ_n k[d,n]·v[e,n]/N
        m = torch.matmul(context, self.w_out).reshape(b, HEADS * DIM_HEAD, c)  # (B, 128, C), scale folded in
        y = torch.baddbmm(self.b_out, q.reshape(b, n, HEADS * DIM_HEAD), m)
        y = F.layer_norm(y, (c,), self.g_out, None, EPS)
        return _image(y.add_(xt), h, w)


class _MidAttnBlock(nn.Module):
    """x + to_out(Attention(LN(x))) with a fused attention kernel."""

    def __init__(self, residual: nn.Module, dtype):
        super().__init__()
        pre: nn.Module = residual.fn
        attn: Attention = pre.fn
        g = pre.norm.g.detach().reshape(1, -1)
        self.register_buffer("w_qkv", (attn.to_qkv.weight.detach()[:, :, 0, 0] * g).to(dtype))  # (384, C)
        self.register_buffer("w_out", attn.to_out.weight.detach()[:, :, 0, 0].to(dtype))  # (C, 128)
        self.register_buffer("b_out", attn.to_out.bias.detach().to(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        n = h * w
        xt = _tokens(x)
        xn = F.layer_norm(xt, (c,), None, None, EPS)
        qkv = F.linear(xn, self.w_qkv).reshape(b, n, 3, HEADS, DIM_HEAD).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])  # scale = DIM_HEAD ** -0.5, as reference
        y = F.linear(out.transpose(1, 2).reshape(b, n, HEADS * DIM_HEAD), self.w_out, self.b_out)
        return _image(y.add_(xt), h, w)


class FastUnet(nn.Module):
    """Same call as `UnetRes`: `(x (B, 6, H, W), time (B,)) → residual (B, 3, H, W)`, in float32."""

    def __init__(self, net: UnetRes, precision: str = "float32"):
        super().__init__()
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        dtype = PRECISIONS[precision]
        self.config, self.precision, self.dtype = net.config, precision, dtype
        u = net.unet0
        self.time_mlp = copy.deepcopy(u.time_mlp)  # tiny, float32
        self.init_conv = _Conv(u.init_conv, dtype)
        self.downs = nn.ModuleList(
            nn.ModuleList([_ResBlock(b1, dtype), _ResBlock(b2, dtype), _LinearAttnBlock(a, dtype), _Conv(d, dtype)])
            for b1, b2, a, d in u.downs
        )
        self.ups = nn.ModuleList(
            nn.ModuleList([_ResBlock(b1, dtype), _ResBlock(b2, dtype), _LinearAttnBlock(a, dtype),
                           _Conv(up[1] if isinstance(up, nn.Sequential) else up, dtype)])
            for b1, b2, a, up in u.ups
        )
        self.up_nearest = [isinstance(up, nn.Sequential) for *_, up in u.ups]
        self.mid_block1 = _ResBlock(u.mid_block1, dtype)
        self.mid_attn = _MidAttnBlock(u.mid_attn, dtype)
        self.mid_block2 = _ResBlock(u.mid_block2, dtype)
        self.final_res_block = _ResBlock(u.final_res_block, dtype)
        self.final_conv = _Conv(u.final_conv, dtype)

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        H, W = x.shape[-2:]
        ph, pw = (-H) % PAD_MULTIPLE, (-W) % PAD_MULTIPLE
        x = _cl(x.to(self.dtype))
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        x = self.init_conv(x)
        r = x
        t = F.silu(self.time_mlp(time.float())).to(self.dtype)  # every ResnetBlock's mlp starts with SiLU
        skips = []
        for block1, block2, attn, down in self.downs:
            x = block1(x, t)
            skips.append(x)
            x = attn(block2(x, t))
            skips.append(x)
            x = down(x)
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, t)), t)
        for (block1, block2, attn, conv), nearest in zip(self.ups, self.up_nearest):
            x = block1(torch.cat((x, skips.pop()), dim=1), t)
            x = block2(torch.cat((x, skips.pop()), dim=1), t)
            x = attn(x)
            if nearest:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = conv(x)
        x = self.final_res_block(torch.cat((x, r), dim=1), t)
        return self.final_conv(x)[..., :H, :W].float()


# One optimised copy per (reference network, device, precision), made on first use and dropped with the
# reference network. The reference's weights are read once: call `release(net)` after changing them.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def optimized(net, precision: str = "float32"):
    """The `FastUnet` for `net` on the device its weights are on (cached); other modules come back as they are
    (wrappers such as the evaluation's memo network or test doubles keep their own behaviour)."""
    if not isinstance(net, UnetRes):
        return net
    device = next(net.parameters()).device
    per_net = _CACHE.setdefault(net, {})
    key = (str(device), precision)
    fast = per_net.get(key)
    if fast is None:
        with torch.no_grad():
            fast = FastUnet(net, precision).to(device).eval()
        per_net[key] = fast
    return fast


def release(net, device: str | None = None) -> None:
    """Forget the optimised copies of `net` (all, or those on `device`), e.g. to free GPU memory."""
    per_net = _CACHE.get(net)
    if per_net is None:
        return
    for key in [k for k in per_net if device is None or k[0].startswith(device)]:
        del per_net[key]
