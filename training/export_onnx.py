"""Export the committed text-mdm and digits-diffusion weights to ONNX for the benchmark's peers
(onnxruntime-web, WebGPU and wasm EPs; bench/run.ts). Build outputs, not committed: they go to
bench/.onnx/ (which gets its own `*` .gitignore), one file per fixed shape, and the bench creates
the ones it needs when they are missing:

  text-mdm-b<B>-l<L>.onnx          tokens (B, L) int64, cls (B,) int64 → logits (B, L, V)
  digits-diffusion-b<B>.onnx       x (B, 28, 28, 1) f32, temb (B, t_dim) f32, cls (B,) int64 → ε̂ (B, 28, 28, 1)

The graphs compute what src/models/transformer.ts (bidirectional forward) and src/models/denoiser.ts
compute, from the same fp16-stored weights widened to fp32. They are written with plain ops (MatMul,
Softmax, LayerNormalization, Gather, Tanh) so every execution provider runs them whole: the
bidirectional mask is all-ones, so attention is a plain softmax; RoPE tables for the fixed length are
constants; the DiT's sinusoidal timestep embedding is an input computed on the host in f64, exactly
as the TypeScript forward does (timestepEmbedding in src/models/denoiser.ts), so no f64 op enters the
graph. Before writing, each wrapper is checked against the PyTorch model it wraps (max |Δ| printed).

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/export_onnx.py --text-mdm 1x32,64x32 --digits 1,16

--folder SRC OUT writes a whole samplescope ONNX model folder instead (what `loadOnnxModel` /
`loadOnnxDenoiser` load, and the recipe for bringing your own model): model.onnx with a dynamic batch,
and a manifest with architecture.type "onnx" mapping the graph's inputs and outputs to roles
(src/models/onnx/roles.ts), the tokenizer / schedule and classes of SRC, sha256 of the file.
  - a bidirectional transformer → kind "masked-diffusion": tokens, cls → logits, dynamic length
    (≤ max_len; the RoPE tables are sliced to the input's length inside the graph);
  - a DiT → kind "denoiser": x (B, H, W, C), t (B,) int64 integer steps ("timestep": "index"), cls →
    eps; the sinusoidal embedding is computed inside the graph in f32 (max |Δ| vs DiT.forward printed).

--causal-toy OUT writes a tiny causal LM with random weights (seeded; 3 letters + <bos>, length ≤ 4,
one attention block, learned positions fed by a position_ids input) as kind "causal": the enumerable
graph the causal adapter's χ² test samples (test/samplers/onnx-causal.test.ts).

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/export_onnx.py --folder models/text-mdm models/text-mdm-onnx
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/export_onnx.py --folder models/digits-diffusion models/digits-diffusion-onnx
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/export_onnx.py --causal-toy test/fixtures/tiny-causal-onnx
"""
import argparse, json, math, os, shutil, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Transformer, rope_table, gelu_tanh  # noqa: E402
from image_models import DiT, patchify, unpatchify, modulate, timestep_embedding  # noqa: E402
from export import read_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPSET = 17


def load(name, cls, arch_keys):
    d = os.path.join(ROOT, 'models', name)
    with open(os.path.join(d, 'manifest.json')) as f:
        arch = json.load(f)['architecture']
    m = cls(**{k: arch[a] for k, a in arch_keys.items()})
    m.load_state_dict(read_safetensors(os.path.join(d, 'model.safetensors')), strict=False)
    return m.eval()


class MdmOnnx(nn.Module):
    """Bidirectional content-stream forward of Transformer (mask all-ones) for a fixed length T."""

    def __init__(self, m: Transformer, T):
        super().__init__()
        self.m = m
        self.h = m.cfg['n_heads']
        D = m.cfg['d_model'] // self.h
        cos, sin = rope_table(T, D, m.cfg['rope_base'])
        self.register_buffer('cos', cos[None, :, None, :])  # (1, T, 1, D/2)
        self.register_buffer('sin', sin[None, :, None, :])

    def rope(self, x):
        half = x.shape[-1] // 2
        x0, x1 = x[..., :half], x[..., half:]
        T = x.shape[1]  # ≤ the table's length; a dynamic Slice in the graph when the length is dynamic
        cos, sin = self.cos[:, :T], self.sin[:, :T]
        return torch.cat([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)

    def forward(self, tokens, cls):
        m = self.m
        B, T = tokens.shape
        d = m.cfg['d_model']
        D = d // self.h
        x = m.tok_emb(tokens) + m.cls_emb(cls)[:, None, :]
        for blk in m.blocks:
            a = blk.ln1(x)
            q = self.rope(blk.wq(a).reshape(B, T, self.h, D)).permute(0, 2, 1, 3)
            k = self.rope(blk.wk(a).reshape(B, T, self.h, D)).permute(0, 2, 3, 1)
            v = blk.wv(a).reshape(B, T, self.h, D).permute(0, 2, 1, 3)
            p = torch.softmax(torch.matmul(q, k) * (1.0 / math.sqrt(D)), dim=-1)
            o = torch.matmul(p, v).permute(0, 2, 1, 3).reshape(B, T, d)
            x = x + blk.wo(o)
            x = x + blk.w2(gelu_tanh(blk.w1(blk.ln2(x))))
        return m.head(m.ln_f(x))


class AsarmCausalOnnx(MdmOnnx):
    """A two-stream AS-ARM in left-to-right order as a causal LM graph: input s = [bos, x_0 .. x_{L-2}] (B, L), output
    logits (B, L, V) whose row i is p(x_i | x_<i) — the query stream at i over the content x_<i (what samplescope's
    causal adapter expects). The content at L - 1 is a placeholder no query sees."""

    def attn(self, blk, xq, xkv, mask, rows):
        B, T, d = xq.shape
        D = d // self.h
        q = self.rope(blk.wq(xq).reshape(B, T, self.h, D)).permute(0, 2, 1, 3)
        k = self.rope(blk.wk(xkv).reshape(B, T, self.h, D)).permute(0, 2, 3, 1)
        v = blk.wv(xkv).reshape(B, T, self.h, D).permute(0, 2, 1, 3)
        sc = torch.where(mask, torch.matmul(q, k) * (1.0 / math.sqrt(D)), torch.full_like(mask, -1e30, dtype=q.dtype))
        p = torch.softmax(sc, dim=-1) * rows  # rows: 0 where a query has no key (the reference gives 0 there)
        return blk.wo(torch.matmul(p, v).permute(0, 2, 1, 3).reshape(B, T, d))

    def forward(self, tokens, cls):
        m = self.m
        B, T = tokens.shape
        x = torch.cat([tokens[:, 1:], tokens[:, :1]], dim=1)
        idx = torch.arange(T)
        mc = idx[None, :] <= idx[:, None]
        mq = idx[None, :] < idx[:, None]
        ones = torch.ones(1, 1, T, 1)
        rows_q = (idx > 0).float()[None, None, :, None]
        h = m.embed(x, cls)
        g = (m.q_emb[None, None, :] + m.cls_emb(cls)[:, None, :]).expand(B, T, -1)
        for blk in m.blocks:
            a, b = blk.ln1(h), blk.ln1(g)
            h2 = h + self.attn(blk, a, a, mc, ones)
            g2 = g + self.attn(blk, b, a, mq, rows_q)
            h, g = h2 + blk.mlp(h2), g2 + blk.mlp(g2)
        return m.head(m.ln_f(g))


class DitOnnx(nn.Module):
    """DiT.forward with the sinusoidal timestep embedding as an input (the host computes it)."""

    def __init__(self, m: DiT):
        super().__init__()
        self.m = m
        d = m.cfg['d_model']
        # LayerNormalization needs its scale and bias as inputs (the DiT's norms have no affine part)
        self.register_buffer('ones', torch.ones(d))
        self.register_buffer('zeros', torch.zeros(d))
        self.d = d  # a Python int: a traced h.shape[-1] is not a static normalized_shape under a dynamic batch

    def ln(self, h):
        return F.layer_norm(h, (self.d,), self.ones, self.zeros)

    def forward(self, x, temb, cls):
        m = self.m
        c = m.t2(F.silu(m.t1(temb))) + m.cls(cls)
        h = m.patch_in(patchify(x, m.p)) + m.pos
        for b in m.blocks:
            B, N, d = h.shape
            sh1, sc1, g1, sh2, sc2, g2 = b.ada(F.silu(c)).chunk(6, dim=-1)
            y = modulate(self.ln(h), sh1, sc1)
            q, k, v = b.qkv(y).reshape(B, N, 3, b.h, d // b.h).permute(2, 0, 3, 1, 4)
            a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // b.h)), dim=-1)
            h = h + g1[:, None] * b.proj(torch.matmul(a, v).transpose(1, 2).reshape(B, N, d))
            y = modulate(self.ln(h), sh2, sc2)
            h = h + g2[:, None] * b.fc2(gelu_tanh(b.fc1(y)))
        sh, sc = m.final_ada(F.silu(c)).chunk(2, dim=-1)
        h = m.out(modulate(self.ln(h), sh, sc))
        return unpatchify(h, m.p, m.S, m.S, m.C)


class DitOnnxT(DitOnnx):
    """DitOnnx taking the integer timestep: the sinusoidal embedding is computed in the graph, in f32."""

    def __init__(self, m: DiT):
        super().__init__(m)
        half = m.t_dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
        self.register_buffer('freqs', freqs.float())

    def forward(self, x, t, cls):
        args = t.float()[:, None] * self.freqs[None]
        return super().forward(x, torch.cat([torch.cos(args), torch.sin(args)], dim=-1), cls)


class CausalToy(nn.Module):
    """A one-block causal LM: logits at i predict token i + 1 (what a causal graph's manifest promises)."""

    def __init__(self, vocab, max_len, d=16, sharp=4.0):
        super().__init__()
        self.emb, self.pos = nn.Embedding(vocab, d), nn.Embedding(max_len, d)
        self.ln1, self.ln2, self.ln_f = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.head = nn.Linear(d, vocab)
        with torch.no_grad():
            self.head.weight.mul_(sharp)  # far from uniform: the χ² test has power

    def forward(self, tokens, position_ids):
        B, T = tokens.shape
        x = self.emb(tokens) + self.pos(position_ids)
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        s = s.masked_fill(future, -1e9)
        x = x + self.proj(torch.matmul(torch.softmax(s, dim=-1), v))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return self.head(self.ln_f(x))


def write_manifest(out, man, extra_files=(), src=None):
    """Write OUT/manifest.json listing model.onnx; `extra_files` (e.g. an HF tokenizer.json) are copied from SRC
    beside the graph and listed with role "tokenizer"."""
    from export import file_entry
    man['files'] = [file_entry(out, 'model.onnx', 'onnx')]
    for name in extra_files:
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
        man['files'].append(file_entry(out, name, 'tokenizer'))
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(man, f, indent=1)
    print(f'wrote {os.path.relpath(os.path.join(out, "model.onnx"), ROOT)} '
          f'({os.path.getsize(os.path.join(out, "model.onnx")) / 1e6:.2f} MB) and its manifest')


def export_causal_toy(out, seed=2026, L=4):
    torch.manual_seed(seed)
    vocab = ['a', 'b', 'c', '<bos>']
    m = CausalToy(len(vocab), L).eval()
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, len(vocab), (2, L), generator=g)
    pos = torch.arange(L)[None].repeat(2, 1)
    with torch.no_grad():  # causal: changing a later token leaves earlier logits alone
        t2 = tokens.clone()
        t2[:, -1] = (t2[:, -1] + 1) % len(vocab)
        assert (m(tokens, pos)[:, :-1] - m(t2, pos)[:, :-1]).abs().max().item() == 0
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(m, (tokens, pos), os.path.join(out, 'model.onnx'), input_names=['input_ids', 'position_ids'],
                      output_names=['logits'], opset_version=OPSET, do_constant_folding=True,
                      dynamic_axes={'input_ids': {0: 'batch', 1: 'length'}, 'position_ids': {0: 'batch', 1: 'length'},
                                    'logits': {0: 'batch', 1: 'length'}})
    write_manifest(out, {
        'format': 'samplescope-model/1', 'name': 'tiny-causal-onnx', 'family': 'test',
        'description': f'a one-block causal LM with random weights (torch seed {seed}), training/export_onnx.py --causal-toy',
        'architecture': {'type': 'onnx', 'kind': 'causal', 'vocab_size': len(vocab), 'max_len': L, 'n_classes': 0,
                         'bos_id': 3, 'inputs': {'tokens': 'input_ids', 'position_ids': 'position_ids'},
                         'outputs': {'logits': 'logits'}},
        # <bos> is never drawn: it is the tokenizer's special (masked) id
        'tokenizer': {'type': 'char', 'vocab': vocab, 'mask_id': 3}, 'classes': ['none'], 'null_class': 0,
    })


def export_dit_folder(src, out, man):
    a = man['architecture']
    m = DiT(image_size=a['image_size'], channels=a['channels'], patch=a['patch'], d=a['d_model'], layers=a['layers'],
            heads=a['heads'], ff=a['d_ff'], n_classes=a['n_classes'], t_dim=a['t_dim'])
    m.load_state_dict(read_safetensors(os.path.join(src, 'model.safetensors')))
    m.eval()
    w = DitOnnxT(m).eval()
    g = torch.Generator().manual_seed(0)
    T = man['diffusion']['timesteps']
    for B in (2, 5):
        x = torch.randn(B, m.S, m.S, m.C, generator=g)
        t = torch.cat([torch.tensor([T - 1]), torch.randint(0, T, (B - 1,), generator=g)])
        cls = torch.randint(0, a['n_classes'] + 1, (B,), generator=g)
        with torch.no_grad():
            diff = (w(x, t, cls) - m(x, t, cls)).abs().max().item()
        print(f'{man["name"]} B={B}: wrapper (f32 timestep embedding) vs DiT.forward max |Δ| {diff:.2e}')
        assert diff < 1e-3, diff
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(w, (x, t, cls), os.path.join(out, 'model.onnx'), input_names=['x', 't', 'cls'],
                      output_names=['eps'], opset_version=OPSET, do_constant_folding=True,
                      dynamic_axes={'x': {0: 'batch'}, 't': {0: 'batch'}, 'cls': {0: 'batch'}, 'eps': {0: 'batch'}})
    write_manifest(out, {
        'format': 'samplescope-model/1', 'name': man['name'] + '-onnx', 'family': man['family'],
        'description': f"{man['name']} exported to ONNX by training/export_onnx.py --folder (same weights, widened to f32)",
        'architecture': {'type': 'onnx', 'kind': 'denoiser', 'image_size': a['image_size'], 'channels': a['channels'],
                         'n_classes': a['n_classes'], 'timestep': 'index',
                         'inputs': {'x': 'x', 'timestep': 't', 'class': 'cls'}, 'outputs': {'eps': 'eps'}},
        'diffusion': man['diffusion'], 'classes': man['classes'], 'null_class': man['null_class'],
    })


def export(module, args, names, out_name, path):
    torch.onnx.export(module, args, path, input_names=names, output_names=[out_name], opset_version=OPSET,
                      do_constant_folding=True)
    print(f'wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path) / 1e6:.1f} MB)')


def export_asarm_causal_folder(src, out, man):
    """A two-stream AS-ARM folder → a causal ONNX folder (left to right only: sequential sampling, left-to-right
    NLL). [MASK] is the <bos> fed before x_0 (and, as the tokenizer's mask, never drawn)."""
    a = man['architecture']
    m = Transformer(a['vocab_size'], d=a['d_model'], layers=a['n_layers'], heads=a['n_heads'], ff=a['d_ff'], max_len=a['max_len'],
                    n_classes=a['n_classes'], rope_base=a['rope_base'], two_stream=True)
    m.load_state_dict(read_safetensors(os.path.join(src, 'model.safetensors')), strict=False)
    m.eval()
    w = AsarmCausalOnnx(m, a['max_len']).eval()
    bos = man['tokenizer']['mask_id']
    g = torch.Generator().manual_seed(0)
    for B, T in ((2, a['max_len']), (3, max(1, a['max_len'] // 2)), (1, 1)):
        x = torch.randint(0, a['vocab_size'] - 1, (B, T), generator=g)
        cls = torch.randint(0, a['n_classes'] + 1, (B,), generator=g)
        s = torch.cat([torch.full((B, 1), bos), x[:, :-1]], dim=1)
        with torch.no_grad():
            ref = m.forward_two_stream(x, cls, torch.arange(T)[None, :].expand(B, T))
            diff = (w(s, cls) - ref).abs().max().item()
        print(f'{man["name"]} B={B} L={T}: causal wrapper vs forward_two_stream (left to right) max |Δ| {diff:.2e}')
        assert diff < 1e-4, diff
    os.makedirs(out, exist_ok=True)
    tokens = torch.full((2, a['max_len']), bos)
    cls = torch.zeros(2, dtype=torch.long)
    torch.onnx.export(w, (tokens, cls), os.path.join(out, 'model.onnx'), input_names=['tokens', 'cls'],
                      output_names=['logits'], opset_version=OPSET, do_constant_folding=True,
                      dynamic_axes={'tokens': {0: 'batch', 1: 'length'}, 'cls': {0: 'batch'}, 'logits': {0: 'batch', 1: 'length'}})
    write_manifest(out, {
        'format': 'samplescope-model/1', 'name': man['name'] + '-onnx', 'family': 'causal',
        'description': f"{man['name']} in left-to-right order as a causal ONNX graph (training/export_onnx.py --folder; same weights, f32)",
        'architecture': {'type': 'onnx', 'kind': 'causal', 'vocab_size': a['vocab_size'], 'max_len': a['max_len'],
                         'n_classes': a['n_classes'], 'bos_id': bos, 'inputs': {'tokens': 'tokens', 'class': 'cls'},
                         'outputs': {'logits': 'logits'}},
        'tokenizer': man['tokenizer'], 'classes': man['classes'], 'null_class': man['null_class'],
    })
    return 'causal'


def export_folder(src, out):
    """A masked-diffusion text model or DiT folder → an ONNX model folder (dynamic batch; text: and length)."""
    with open(os.path.join(src, 'manifest.json')) as f:
        man = json.load(f)
    a = man['architecture']
    if a['type'] == 'dit':
        return export_dit_folder(src, out, man)
    if a['type'] == 'transformer' and a['attention'] == 'two-stream':
        return export_asarm_causal_folder(src, out, man)
    assert a['type'] == 'transformer' and a['attention'] == 'bidirectional', 'only bidirectional (masked-diffusion) transformers'
    m = Transformer(a['vocab_size'], d=a['d_model'], layers=a['n_layers'], heads=a['n_heads'], ff=a['d_ff'], max_len=a['max_len'],
                    n_classes=a['n_classes'], rope_base=a['rope_base'], marginal_head=a['marginal_head'],
                    marginal_form=a.get('marginal_form', 'mean-linear'), mask_id=man['tokenizer'].get('mask_id'))
    m.load_state_dict(read_safetensors(os.path.join(src, 'model.safetensors')))
    m.eval()
    w = MdmOnnx(m, a['max_len']).eval()
    g = torch.Generator().manual_seed(0)
    for B, T in ((2, a['max_len']), (3, max(1, a['max_len'] // 2))):
        tokens = torch.randint(0, a['vocab_size'], (B, T), generator=g)
        cls = torch.randint(0, a['n_classes'] + 1, (B,), generator=g)
        with torch.no_grad():
            diff = (w(tokens, cls) - m(tokens, cls)[0]).abs().max().item()
        print(f'{man["name"]} B={B} L={T}: wrapper vs Transformer.forward max |Δ| {diff:.2e}')
        assert diff < 1e-4, diff
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, 'model.onnx')
    torch.onnx.export(w, (tokens, cls), path, input_names=['tokens', 'cls'], output_names=['logits'], opset_version=OPSET,
                      do_constant_folding=True, dynamic_axes={'tokens': {0: 'batch', 1: 'length'}, 'cls': {0: 'batch'}, 'logits': {0: 'batch', 1: 'length'}})
    write_manifest(out, {
        'format': 'samplescope-model/1', 'name': man['name'] + '-onnx', 'family': man['family'],
        'description': f"{man['name']} exported to ONNX by training/export_onnx.py --folder (same weights, widened to f32)",
        'architecture': {'type': 'onnx', 'kind': 'masked-diffusion', 'vocab_size': a['vocab_size'], 'max_len': a['max_len'],
                         'n_classes': a['n_classes'], 'inputs': {'tokens': 'tokens', 'class': 'cls'}, 'outputs': {'logits': 'logits'}},
        'tokenizer': man['tokenizer'], 'classes': man['classes'], 'null_class': man['null_class'],
    }, extra_files=[man['tokenizer']['file']] if man['tokenizer']['type'] == 'hf' else [], src=src)


def link_onnx_form(src, out):
    """Name OUT in SRC's manifest as its `onnx_form` when OUT is a sibling folder (the engine's fast CPU path)."""
    if os.path.dirname(os.path.abspath(out)) != os.path.dirname(os.path.abspath(src)):
        return
    path = os.path.join(src, 'manifest.json')
    with open(path) as f:
        man = json.load(f)
    man['onnx_form'] = os.path.basename(os.path.abspath(out))
    with open(path, 'w') as f:
        json.dump(man, f, indent=1)
    print(f'{os.path.relpath(path, ROOT)}: onnx_form = {man["onnx_form"]}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--folder', nargs=2, metavar=('SRC', 'OUT'), help='export a model folder as an ONNX model folder')
    ap.add_argument('--causal-toy', metavar='OUT', help='write the enumerable causal toy ONNX folder')
    ap.add_argument('--text-mdm', default='', help='comma-separated BxL shapes, e.g. 1x32,64x32')
    ap.add_argument('--digits', default='', help='comma-separated batch sizes')
    ap.add_argument('--out', default=os.path.join(ROOT, 'bench', '.onnx'))
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.folder:
        # a causal form serves left to right only: it is not the fast path of an any-order model
        if export_folder(*a.folder) != 'causal':
            link_onnx_form(*a.folder)
        return
    if a.causal_toy:
        return export_causal_toy(a.causal_toy)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, '.gitignore'), 'w') as f:
        f.write('# build outputs of training/export_onnx.py\n*\n')
    g = torch.Generator().manual_seed(0)
    if a.text_mdm:
        keys = {k: k for k in ('vocab_size', 'n_classes', 'rope_base', 'two_stream', 'marginal_head')}
        keys.update(vocab='vocab_size', d='d_model', layers='n_layers', heads='n_heads', ff='d_ff', max_len='max_len')
        del keys['vocab_size']
        m = load('text-mdm', Transformer, keys)
        for shape in a.text_mdm.split(','):
            B, T = (int(s) for s in shape.split('x'))
            w = MdmOnnx(m, T).eval()
            tokens = torch.randint(0, m.cfg['vocab_size'], (B, T), generator=g)
            cls = torch.randint(0, m.cfg['n_classes'] + 1, (B,), generator=g)
            with torch.no_grad():
                diff = (w(tokens, cls) - m(tokens, cls)[0]).abs().max().item()
            print(f'text-mdm B={B} L={T}: wrapper vs Transformer.forward max |Δ| {diff:.2e}')
            assert diff < 1e-4, diff
            export(w, (tokens, cls), ['tokens', 'cls'], 'logits', os.path.join(a.out, f'text-mdm-b{B}-l{T}.onnx'))
    if a.digits:
        keys = dict(image_size='image_size', channels='channels', patch='patch', d='d_model', layers='layers',
                    heads='heads', ff='d_ff', n_classes='n_classes', t_dim='t_dim')
        m = load('digits-diffusion', DiT, keys)
        for B in (int(s) for s in a.digits.split(',')):
            w = DitOnnx(m).eval()
            x = torch.randn(B, m.S, m.S, m.C, generator=g)
            t = torch.randint(0, 1000, (B,), generator=g)
            cls = torch.randint(0, m.cfg['n_classes'] + 1, (B,), generator=g)
            temb = timestep_embedding(t, m.t_dim)
            with torch.no_grad():
                diff = (w(x, temb, cls) - m(x, t, cls)).abs().max().item()
            print(f'digits-diffusion B={B}: wrapper vs DiT.forward max |Δ| {diff:.2e}')
            assert diff < 1e-4, diff
            export(w, (x, temb, cls), ['x', 'temb', 'cls'], 'eps', os.path.join(a.out, f'digits-diffusion-b{B}.onnx'))


if __name__ == '__main__':
    main()
