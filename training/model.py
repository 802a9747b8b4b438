"""The transformer the TypeScript runtime implements over its kernels (src/models/transformer.ts).
Every operation here has a kernel twin, so exported weights run identically in the browser:

  embedding      tok_emb[x] + cls_emb[c]          (class id n_classes = "no class", for CFG)
  block × L      pre-norm: x += Wo·attn(RoPE(Wq·LN1(x)), RoPE(Wk·LN1(x)), Wv·LN1(x) | mask)
                           x += W2·gelu_tanh(W1·LN2(x))
  head           logits = Wout·LN_f(x) + b
Attention takes an explicit boolean mask; a query row with no allowed key outputs zeros (the
kernel's definition). RoPE is half-split (x[j], x[j+D/2]) with angle p·base^(-2j/D).

Modes
  bidirectional  (MDM)     mask all-ones; [MASK] tokens in the input.
  two-stream     (AS-ARM)  XLNet two-stream attention for an order σ: the content stream h at
                 position σ(i) sees content σ(≤i); the query stream g (initial value q_emb + class)
                 at σ(i) sees content σ(<i). Logits come from g: p(x_σ(i) | x_σ(<i)) for every i in
                 one pass. Both streams share all weights.
  marginal head  (MaM)     over the content stream with unobserved positions set to [MASK], either
                 'mean-linear'        log p(x_S) = w · mean_t LN_f(h)_t + b   (unconstrained), or
                 'observed-softplus'  log p(x_S) = −Σ_{t ∈ S} softplus(w · LN_f(h)_t + b)
                 — the second is a log-probability by construction: log p(∅) = 0 exactly (empty sum) and
                 log p ≤ 0 for every input, whatever the weights.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


def gelu_tanh(x):
    return F.gelu(x, approximate='tanh')


def rope_table(P, D, base=10000.0):
    half = D // 2
    j = torch.arange(half, dtype=torch.float64)
    p = torch.arange(P, dtype=torch.float64)[:, None]
    ang = p * base ** (-2 * j / D)
    return torch.cos(ang).float(), torch.sin(ang).float()  # (P, D/2) each, rounded to f32 like ropeTable()


def apply_rope(x, pos, cos, sin):
    """x (B, T, H, D), pos (B, T) long."""
    half = x.shape[-1] // 2
    c = cos[pos][:, :, None, :]
    s = sin[pos][:, :, None, :]
    x0, x1 = x[..., :half], x[..., half:]
    return torch.cat([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1)


def attention(q, k, v, mask):
    """q (B, Tq, H, D), k/v (B, Tk, H, D), mask (B|1, Tq, Tk) bool. Fully masked rows -> 0."""
    D = q.shape[-1]
    s = torch.einsum('bqhd,bkhd->bhqk', q, k) / math.sqrt(D)
    m = mask[:, None, :, :]
    s = s.masked_fill(~m, float('-inf'))
    any_ = m.any(dim=-1, keepdim=True)
    p = torch.softmax(torch.where(any_, s, torch.zeros_like(s)), dim=-1)
    p = torch.where(any_ & m, p, torch.zeros_like(p))
    return torch.einsum('bhqk,bkhd->bqhd', p, v)


class Block(nn.Module):
    def __init__(self, d, h, ff):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.wq = nn.Linear(d, d)
        self.wk = nn.Linear(d, d)
        self.wv = nn.Linear(d, d)
        self.wo = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.w1 = nn.Linear(d, ff)
        self.w2 = nn.Linear(ff, d)

    def heads(self, x):
        B, T, d = x.shape
        return x.view(B, T, self.h, d // self.h)

    def attn(self, xq, xkv, pos_q, pos_k, mask, rope):
        cos, sin = rope
        q = apply_rope(self.heads(self.wq(xq)), pos_q, cos, sin)
        k = apply_rope(self.heads(self.wk(xkv)), pos_k, cos, sin)
        v = self.heads(self.wv(xkv))
        o = attention(q, k, v, mask)
        return self.wo(o.reshape(xq.shape))

    def mlp(self, x):
        return self.w2(gelu_tanh(self.w1(self.ln2(x))))

    def forward(self, x, pos, mask, rope):
        a = self.ln1(x)
        x = x + self.attn(a, a, pos, pos, mask, rope)
        return x + self.mlp(x)

    def forward_two_stream(self, h, g, pos, mask_c, mask_q, rope):
        a = self.ln1(h)
        b = self.ln1(g)
        h2 = h + self.attn(a, a, pos, pos, mask_c, rope)
        g2 = g + self.attn(b, a, pos, pos, mask_q, rope)
        return h2 + self.mlp(h2), g2 + self.mlp(g2)


class Transformer(nn.Module):
    def __init__(self, vocab, d=128, layers=6, heads=4, ff=512, max_len=128, n_classes=2, rope_base=10000.0,
                 two_stream=False, marginal_head=False, marginal_form='mean-linear', mask_id=None):
        super().__init__()
        self.cfg = dict(vocab_size=vocab, d_model=d, n_layers=layers, n_heads=heads, d_ff=ff, max_len=max_len,
                        n_classes=n_classes, rope_base=rope_base, two_stream=two_stream, marginal_head=marginal_head)
        if marginal_head and marginal_form != 'mean-linear':
            assert marginal_form == 'observed-softplus' and mask_id is not None, (marginal_form, mask_id)
            self.cfg['marginal_form'] = marginal_form
        self.marginal_form = marginal_form
        self.mask_id = mask_id
        self.tok_emb = nn.Embedding(vocab, d)
        self.cls_emb = nn.Embedding(n_classes + 1, d)
        self.blocks = nn.ModuleList([Block(d, heads, ff) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)
        if two_stream:
            self.q_emb = nn.Parameter(torch.zeros(d))
        if marginal_head:
            self.mam = nn.Linear(d, 1)
        cos, sin = rope_table(max_len, d // heads, rope_base)
        self.register_buffer('rope_cos', cos, persistent=False)
        self.register_buffer('rope_sin', sin, persistent=False)
        nn.init.normal_(self.tok_emb.weight, std=0.02)
        nn.init.normal_(self.cls_emb.weight, std=0.02)

    def rope(self):
        return (self.rope_cos, self.rope_sin)

    def embed(self, x, cls):
        return self.tok_emb(x) + self.cls_emb(cls)[:, None, :]

    def positions(self, B, T, device):
        return torch.arange(T, device=device)[None, :].expand(B, T)

    def forward(self, x, cls, mask=None):
        """Bidirectional (or any mask) content-stream forward: logits (B, T, V) and final hidden."""
        B, T = x.shape
        h = self.embed(x, cls)
        pos = self.positions(B, T, x.device)
        if mask is None:
            mask = torch.ones(1, T, T, dtype=torch.bool, device=x.device)
        for blk in self.blocks:
            h = blk(h, pos, mask, self.rope())
        hf = self.ln_f(h)
        return self.head(hf), hf

    def forward_two_stream(self, x, cls, order):
        """order (B, T): σ as a permutation of positions (order[b, i] = position generated i-th).
        Returns logits (B, T, V) at each position p for p(x_p | x at positions earlier in σ)."""
        B, T = x.shape
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(T, device=x.device)[None, :].expand(B, T))
        mask_c = rank[:, None, :] <= rank[:, :, None]   # (B, Tq, Tk): key j earlier-or-same in σ
        mask_q = rank[:, None, :] < rank[:, :, None]
        h = self.embed(x, cls)
        g = (self.q_emb[None, None, :] + self.cls_emb(cls)[:, None, :]).expand(B, T, -1)
        pos = self.positions(B, T, x.device)
        for blk in self.blocks:
            h, g = blk.forward_two_stream(h, g, pos, mask_c, mask_q, self.rope())
        return self.head(self.ln_f(g))

    def log_marginal(self, x, cls):
        """MaM head: x with unobserved positions = [MASK]; returns (B,) log p(x_observed)."""
        return self.forward_with_marginal(x, cls)[1]

    def forward_with_marginal(self, x, cls):
        """One content pass: token logits (B, T, V) and the MaM head's log-marginal (B,)."""
        logits, hf = self.forward(x, cls)
        if self.marginal_form == 'observed-softplus':
            return logits, -(self.marginal_costs(hf) * (x != self.mask_id)).sum(dim=1)
        return logits, self.mam(hf.mean(dim=1)).squeeze(-1)

    def marginal_costs(self, hf):
        """'observed-softplus' head: each position's cost softplus(w · LN_f(h)_t + b) ≥ 0, (B, T)."""
        return F.softplus(self.mam(hf).squeeze(-1))


def export_tensors(model, dtype=torch.float16):
    """name -> tensor in the layout src/models/transformer.ts loads (nn.Linear weights stay (out, in))."""
    out = {}
    for k, v in model.state_dict().items():
        if k.startswith('rope_'):
            continue
        out[k] = v.detach().to(dtype).contiguous()
    return out


def random_chain_step(B, n, gen):
    """For MaM self-consistency: a random order σ and step d per row; returns boolean masks (B, n) of
    S = σ(<d) and S ∪ {σ(d)}, and the added position j = σ(d)."""
    order = torch.argsort(torch.rand(B, n, generator=gen), dim=1)
    d = torch.randint(0, n, (B,), generator=gen)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(n)[None, :].expand(B, n))
    in_s = rank < d[:, None]
    return in_s, in_s | (rank == d[:, None]), order[torch.arange(B), d]
