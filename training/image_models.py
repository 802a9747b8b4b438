"""PyTorch definitions of the image models, written op for op like the TypeScript forward
(src/models/denoiser.ts, src/models/classifier.ts) so that exported weights load without
reinterpretation. Images are channels-last (NHWC), as the WGSL kernels use; conv weights are
exported as (KH, KW, Cin, Cout); linear weights stay (out, in) as in the text models (matmul with Bᵀ).

DigitsClassifier — small CNN: conv3×3(1→16) ReLU, maxpool 2, conv3×3(16→32) ReLU, maxpool 2,
  flatten in (y, x, c) order, fc 1568→128 ReLU (the feature layer used for PRDC / Vendi), fc 128→10.

DiT — class-conditional ε-prediction denoiser (Peebles & Xie, arXiv 2212.09748, adaLN-Zero):
  patchify p×p (patch vector order (py, px, c)) → linear → + learned position table;
  cond = MLP(sinusoidal(t)) + class embedding (class `n_classes` = no class, for CFG);
  blocks: x += gate₁ ⊙ attn(modulate(LN(x), shift₁, scale₁)); x += gate₂ ⊙ mlp(modulate(LN(x), shift₂, scale₂)),
  with (shift, scale, gate)×2 = linear(SiLU(cond)) per block; LayerNorm without affine parameters;
  final: modulate(LN(x), shift, scale) → linear → unpatchify.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


def gelu_tanh(x):
    return F.gelu(x, approximate='tanh')


class DigitsClassifier(nn.Module):
    def __init__(self, c1=16, c2=32, hidden=128, n_classes=10):
        super().__init__()
        self.cfg = {'c1': c1, 'c2': c2, 'hidden': hidden, 'n_classes': n_classes, 'image_size': 28, 'channels': 1}
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(7 * 7 * c2, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)

    def features(self, x):
        """x (B, 28, 28) in [0, 1] → (B, hidden) penultimate activations."""
        h = x[:, None]
        h = F.max_pool2d(F.relu(self.conv1(h)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)  # NHWC flatten, as the TS side
        return F.relu(self.fc1(h))

    def forward(self, x):
        return self.fc2(self.features(x))

    def export_tensors(self, dtype=torch.float16):
        conv = lambda w: w.permute(2, 3, 1, 0)  # (Cout, Cin, KH, KW) → (KH, KW, Cin, Cout)
        t = {'conv1.weight': conv(self.conv1.weight), 'conv1.bias': self.conv1.bias,
             'conv2.weight': conv(self.conv2.weight), 'conv2.bias': self.conv2.bias,
             'fc1.weight': self.fc1.weight, 'fc1.bias': self.fc1.bias,
             'fc2.weight': self.fc2.weight, 'fc2.bias': self.fc2.bias}
        return {k: v.detach().to(dtype).contiguous() for k, v in t.items()}


def timestep_embedding(t, dim, max_period=10000.0):
    """Sinusoidal embedding of integer timesteps (B,) → (B, dim): [cos(t·f_i), sin(t·f_i)], f_i = max_period^(−i/half)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
    args = t.double()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1).float()


def patchify(x, p):
    """(B, H, W, C) → (B, (H/p)(W/p), p·p·C), patch vector order (py, px, c)."""
    B, H, W, C = x.shape
    x = x.reshape(B, H // p, p, W // p, p, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, (H // p) * (W // p), p * p * C)


def unpatchify(t, p, H, W, C):
    B = t.shape[0]
    x = t.reshape(B, H // p, W // p, p, p, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, C)


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class DiTBlock(nn.Module):
    def __init__(self, d, h, ff):
        super().__init__()
        self.h = h
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.fc1 = nn.Linear(d, ff)
        self.fc2 = nn.Linear(ff, d)
        self.ada = nn.Linear(d, 6 * d)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, c):
        B, N, d = x.shape
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(F.silu(c)).chunk(6, dim=-1)
        y = modulate(F.layer_norm(x, (d,)), sh1, sc1)
        q, k, v = self.qkv(y).reshape(B, N, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.h), dim=-1) @ v
        x = x + g1[:, None] * self.proj(a.transpose(1, 2).reshape(B, N, d))
        y = modulate(F.layer_norm(x, (d,)), sh2, sc2)
        return x + g2[:, None] * self.fc2(gelu_tanh(self.fc1(y)))


class DiT(nn.Module):
    def __init__(self, image_size=28, channels=1, patch=4, d=96, layers=4, heads=4, ff=384, n_classes=10, t_dim=128):
        super().__init__()
        self.cfg = {'image_size': image_size, 'channels': channels, 'patch': patch, 'd_model': d, 'layers': layers,
                    'heads': heads, 'd_ff': ff, 'n_classes': n_classes, 't_dim': t_dim}
        self.p, self.C, self.S, self.t_dim = patch, channels, image_size, t_dim
        n = (image_size // patch) ** 2
        self.patch_in = nn.Linear(patch * patch * channels, d)
        self.pos = nn.Parameter(torch.randn(n, d) * 0.02)
        self.t1 = nn.Linear(t_dim, d)
        self.t2 = nn.Linear(d, d)
        self.cls = nn.Embedding(n_classes + 1, d)  # index n_classes = no class (CFG)
        self.blocks = nn.ModuleList([DiTBlock(d, heads, ff) for _ in range(layers)])
        self.final_ada = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, patch * patch * channels)
        for m in (self.final_ada, self.out):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def cond(self, t, cls):
        return self.t2(F.silu(self.t1(timestep_embedding(t, self.t_dim)))) + self.cls(cls)

    def forward(self, x, t, cls):
        """x (B, H, W, C) noisy image, t (B,) integer timesteps, cls (B,) → ε̂ (B, H, W, C)."""
        c = self.cond(t, cls)
        h = self.patch_in(patchify(x, self.p)) + self.pos
        for b in self.blocks:
            h = b(h, c)
        sh, sc = self.final_ada(F.silu(c)).chunk(2, dim=-1)
        h = self.out(modulate(F.layer_norm(h, (h.shape[-1],)), sh, sc))
        return unpatchify(h, self.p, self.S, self.S, self.C)

    def export_tensors(self, dtype=torch.float16):
        return {k: v.detach().to(dtype).contiguous() for k, v in self.named_parameters()}
