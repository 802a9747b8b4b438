"""ONNX export of a Hugging Face LLaMA-family folder for `npm run bench:hf` (bench/hf/run.ts): the peer
(onnxruntime-web's WebGPU EP) runs the same weights as our runtime.

The model here is an independent minimal LLaMA written from the architecture's definition (RMSNorm with the
weight applied after the normalisation in f32, RoPE with `rope_theta` on rotate-half pairs, grouped-query attention,
optional q/k/v/o bias, SwiGLU MLP, tied or untied head); it loads config.json + model.safetensors (F32/F16/BF16).
Before anything is exported it is checked against the logits transformers itself computed for the tiny fixtures
(test/fixtures/hf/llama-causal and llama-bidir, golden.safetensors: logits_f32 with model.safetensors, logits_f16
with model-f16.safetensors), tolerance 2e-5 + 2e-5·|ref|; a miss aborts the export.

Graphs (opset 17; plain ops: Gather, MatMul, ReduceMean, Sqrt, Sigmoid, Softmax, Range, Where, Expand):
  model.onnx        input_ids (B, L) int64 → logits (B, L, V) f32; weights f32 (an f16 checkpoint widened);
                    dynamic B and L (RoPE angles and the causal mask are computed in the graph from L).
  model-f16.onnx    (--onnx FOLDER --f16) the same with f16 weights and activations; RMSNorm, softmax and SiLU in
                    f32 as HF computes them, logits cast to f32. torch 1.13 has no f16 matmul on the CPU, so the
                    trace computes each MatMul in f32 and rounds (MatMulF16); the graph holds MatMul(f16, f16).
A causal model's logits at i predict token i + 1 of input_ids (HF's convention; our runtime feeds
[bos, x_0 … x_{L−2}] itself, the bench does the same shift for ORT).

Folders for the bench (written under the cache dir, never into the repository):
  --make-tiny OUT   test/fixtures/hf/llama-causal with its f16 weights as model.safetensors and
                    max_position_embeddings 128 (RoPE has no table: the weights are the fixture's, unchanged;
                    only the length the manifest allows grows so the bench can run L = 128).
  --reference DIR   DIR/reference-L128.safetensors: the f64 logits of the bench's first input row (the reference
                    bench:hf validates every implementation against).
  --make-150m OUT   a random LLaMA (12 layers, d 768, 12 heads / 4 KV heads, d_ff 2048, vocab 32000, untied
                    head, rope_theta 10⁴; 124.7M parameters — the issue's "150M" configuration), init N(0, 0.02)
                    as HF's initializer_range, norms 1, seed 17, stored F16; the fixtures' tokenizer.json.

  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/export_hf_onnx.py --check
  ... export_hf_onnx.py --make-150m ~/.cache/samplescope/hf-bench/llama-150m \
      --onnx ~/.cache/samplescope/hf-bench/llama-150m
"""
import argparse, json, math, os, shutil, struct, sys
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import read_safetensors, write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures', 'hf')
OPSET = 17
TOL = (2e-5, 2e-5)  # atol, rtol of the parity check against transformers' golden logits


def causal_of(folder, cfg):
    """What `samplescope convert` decides: manifest.json's architecture.causal, else causal unless the config
    names a mask_token_id (src/models/hf/convert.ts)."""
    man = os.path.join(folder, 'manifest.json')
    if os.path.exists(man):
        with open(man) as f:
            return bool(json.load(f)['architecture']['causal'])
    return cfg.get('mask_token_id') is None


class MatMulF16(torch.autograd.Function):
    """A plain ONNX MatMul on f16 tensors. torch 1.13 has no f16 matmul on the CPU, so the trace computes it in f32
    and rounds; the graph gets MatMul(f16, f16) → f16, as an f16 model on a GPU would run it."""

    @staticmethod
    def forward(ctx, a, b):
        return torch.matmul(a.float(), b.float()).half()

    @staticmethod
    def symbolic(g, a, b):
        return g.op('MatMul', a, b)


def matmul(a, b):
    return MatMulF16.apply(a, b) if a.dtype == torch.float16 else torch.matmul(a, b)


def linear(layer, x):
    y = matmul(x, layer.weight.t())
    return y if layer.bias is None else y + layer.bias


class Block(nn.Module):
    def __init__(self, d, H, Hkv, hd, F, attn_bias, mlp_bias):
        super().__init__()
        self.ln1, self.ln2 = nn.Parameter(torch.ones(d)), nn.Parameter(torch.ones(d))
        self.q = nn.Linear(d, H * hd, bias=attn_bias)
        self.k = nn.Linear(d, Hkv * hd, bias=attn_bias)
        self.v = nn.Linear(d, Hkv * hd, bias=attn_bias)
        self.o = nn.Linear(H * hd, d, bias=attn_bias)
        self.gate = nn.Linear(d, F, bias=mlp_bias)
        self.up = nn.Linear(d, F, bias=mlp_bias)
        self.down = nn.Linear(F, d, bias=mlp_bias)


class Llama(nn.Module):
    def __init__(self, cfg, causal):
        super().__init__()
        d, V = cfg['hidden_size'], cfg['vocab_size']
        self.H, self.Hkv = cfg['num_attention_heads'], cfg.get('num_key_value_heads') or cfg['num_attention_heads']
        self.hd = cfg.get('head_dim') or d // self.H
        self.eps, self.causal = cfg['rms_norm_eps'], causal
        self.tied = cfg.get('tie_word_embeddings', True)
        self.embed = nn.Embedding(V, d)
        self.blocks = nn.ModuleList(
            Block(d, self.H, self.Hkv, self.hd, cfg['intermediate_size'], cfg.get('attention_bias', False),
                  cfg.get('mlp_bias', False)) for _ in range(cfg['num_hidden_layers']))
        self.norm = nn.Parameter(torch.ones(d))
        self.head = None if self.tied else nn.Linear(d, V, bias=False)
        theta = float(cfg.get('rope_theta', 10000.0))
        # inverse frequencies computed in f32 from integer exponents, as HF's default rope init
        self.register_buffer('inv_freq', 1.0 / theta ** (torch.arange(0, self.hd, 2).float() / self.hd))

    def load_hf(self, sd):
        """HF tensor names → this module; refuses what does not match."""
        m = {'model.embed_tokens.weight': 'embed.weight', 'model.norm.weight': 'norm'}
        if not self.tied:
            m['lm_head.weight'] = 'head.weight'
        roles = {'input_layernorm.weight': 'ln1', 'post_attention_layernorm.weight': 'ln2'}
        for r, o in (('self_attn.q_proj', 'q'), ('self_attn.k_proj', 'k'), ('self_attn.v_proj', 'v'),
                     ('self_attn.o_proj', 'o'), ('mlp.gate_proj', 'gate'), ('mlp.up_proj', 'up'),
                     ('mlp.down_proj', 'down')):
            roles[r + '.weight'], roles[r + '.bias'] = o + '.weight', o + '.bias'
        for i in range(len(self.blocks)):
            for r, o in roles.items():
                m[f'model.layers.{i}.{r}'] = f'blocks.{i}.{o}'
        own = dict(self.named_parameters())
        extra = [k for k in sd if k not in m and k != 'lm_head.weight']
        missing = [o for h, o in m.items() if o in own and h not in sd]
        if extra or missing:
            raise SystemExit(f'checkpoint does not match the config: unexpected {extra[:5]}, missing {missing[:5]}')
        with torch.no_grad():
            for h, o in m.items():
                if o in own:
                    if own[o].shape != sd[h].shape:
                        raise SystemExit(f'{h}: shape {tuple(sd[h].shape)}, the config says {tuple(own[o].shape)}')
                    own[o].copy_(sd[h])
        return self

    def rms(self, x, w):
        h = x.float()
        h = h / torch.sqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return w * h.to(x.dtype)

    def forward(self, input_ids):
        B, T = input_ids.shape
        x = self.embed(input_ids)
        pos = torch.arange(T, device=input_ids.device).float()
        freqs = pos[:, None] * self.inv_freq[None, :]
        ang = torch.cat([freqs, freqs], dim=-1)
        cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)  # (T, hd)
        idx = torch.arange(T, device=input_ids.device)
        future = idx[None, :] > idx[:, None]  # (T, T): key j after query i
        G = self.H // self.Hkv

        def rope(t):
            half = self.hd // 2
            rot = torch.cat([-t[..., half:], t[..., :half]], dim=-1)
            return t * cos + rot * sin

        def heads(t, n):
            return t.reshape(B, T, n, self.hd).transpose(1, 2)  # (B, n, T, hd)

        def repeat_kv(t):
            return t[:, :, None].expand(B, self.Hkv, G, T, self.hd).reshape(B, self.H, T, self.hd)

        for b in self.blocks:
            a = self.rms(x, b.ln1)
            q, k, v = rope(heads(linear(b.q, a), self.H)), repeat_kv(rope(heads(linear(b.k, a), self.Hkv))), repeat_kv(
                heads(linear(b.v, a), self.Hkv))
            s = matmul(q, k.transpose(-1, -2)).float() * (1.0 / math.sqrt(self.hd))
            if self.causal:
                s = s.masked_fill(future, float('-inf'))
            p = torch.softmax(s, dim=-1).to(v.dtype)
            o = matmul(p, v).transpose(1, 2).reshape(B, T, self.H * self.hd)
            x = x + linear(b.o, o)
            a = self.rms(x, b.ln2)
            g = linear(b.gate, a)
            x = x + linear(b.down, nn.functional.silu(g.float()).to(g.dtype) * linear(b.up, a))
        h = self.rms(x, self.norm)
        w = self.embed.weight if self.tied else self.head.weight
        return matmul(h, w.t()).float()


def read_tensors(path):
    """name → tensor; F32/F16/BF16 weights as f32, I32 as int64 (export.read_safetensors plus BF16 and I32)."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
    if not any(e.get('dtype') in ('BF16', 'I32') for k, e in header.items() if k != '__metadata__'):
        return read_safetensors(path)
    with open(path, 'rb') as f:
        data = f.read()[8 + n:]
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, end = e['data_offsets']
        raw = np.frombuffer(data[b:end], dtype={'F32': np.float32, 'F16': np.float16, 'BF16': np.uint16,
                                                 'I32': np.int32}[e['dtype']]).reshape(e['shape'])
        if e['dtype'] == 'BF16':
            out[name] = torch.from_numpy((raw.astype(np.uint32) << 16).view(np.float32).copy())
        elif e['dtype'] == 'I32':
            out[name] = torch.from_numpy(raw.astype(np.int64))
        else:
            out[name] = torch.from_numpy(raw.astype(np.float32))
    return out


def load_folder(folder, weights='model.safetensors'):
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    if cfg.get('model_type') not in ('llama', 'mistral', 'qwen2'):
        raise SystemExit(f'{folder}: model_type {cfg.get("model_type")!r} is not LLaMA-family')
    m = Llama(cfg, causal_of(folder, cfg)).eval()
    return m.load_hf(read_tensors(os.path.join(folder, weights))), cfg


def check_fixtures():
    """The parity gate: our minimal LLaMA vs transformers' golden logits on both LLaMA fixtures, f32 and f16."""
    for name in ('llama-causal', 'llama-bidir'):
        d = os.path.join(FIXTURES, name)
        g = read_tensors(os.path.join(d, 'golden.safetensors'))
        for tag, file in (('f32', 'model.safetensors'), ('f16', 'model-f16.safetensors')):
            m, _ = load_folder(d, file)
            with torch.no_grad():
                got = m(g['input_ids'])
            want = g[f'logits_{tag}']
            excess = ((got - want).abs() - (TOL[0] + TOL[1] * want.abs())).max().item()
            print(f'parity {name} {tag}: max |Δ| {(got - want).abs().max().item():.2e} vs transformers '
                  f'(tolerance {TOL[0]:g} + {TOL[1]:g}·|ref|)')
            if excess > 0:
                raise SystemExit(f'parity check failed for {name} {tag}: exceeds the tolerance by {excess:.2e}')


def make_tiny(out):
    src = os.path.join(FIXTURES, 'llama-causal')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(src, 'config.json')) as f:
        cfg = json.load(f)
    cfg['max_position_embeddings'] = 128
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    shutil.copyfile(os.path.join(src, 'model-f16.safetensors'), os.path.join(out, 'model.safetensors'))
    shutil.copyfile(os.path.join(src, 'tokenizer.json'), os.path.join(out, 'tokenizer.json'))
    print(f'wrote {out} (llama-causal, f16 weights, max_position_embeddings 128)')


def make_150m(out):
    os.makedirs(out, exist_ok=True)
    cfg = {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': 32000, 'hidden_size': 768,
           'intermediate_size': 2048, 'num_hidden_layers': 12, 'num_attention_heads': 12, 'num_key_value_heads': 4,
           'head_dim': 64, 'hidden_act': 'silu', 'max_position_embeddings': 2048, 'rms_norm_eps': 1e-5,
           'rope_theta': 10000.0, 'rope_scaling': None, 'attention_bias': False, 'mlp_bias': False,
           'tie_word_embeddings': False, 'bos_token_id': 2, 'eos_token_id': 3, 'pad_token_id': 0,
           'initializer_range': 0.02, 'torch_dtype': 'float16'}
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    torch.manual_seed(17)
    m = Llama(cfg, causal=True)
    sd = {}
    with torch.no_grad():
        for n, p in m.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, cfg['initializer_range'])
    inv = {'embed.weight': 'model.embed_tokens.weight', 'norm': 'model.norm.weight', 'head.weight': 'lm_head.weight'}
    names = {'ln1': 'input_layernorm.weight', 'ln2': 'post_attention_layernorm.weight'}
    for o, r in (('q', 'self_attn.q_proj'), ('k', 'self_attn.k_proj'), ('v', 'self_attn.v_proj'),
                 ('o', 'self_attn.o_proj'), ('gate', 'mlp.gate_proj'), ('up', 'mlp.up_proj'),
                 ('down', 'mlp.down_proj')):
        names[o + '.weight'] = r + '.weight'
    for n, p in m.named_parameters():
        if n.startswith('blocks.'):
            _, i, rest = n.split('.', 2)
            sd[f'model.layers.{i}.{names[rest]}'] = p.detach().half()
        else:
            sd[inv[n]] = p.detach().half()
    write_safetensors(os.path.join(out, 'model.safetensors'), sd, metadata={'format': 'pt'})
    shutil.copyfile(os.path.join(FIXTURES, 'llama-causal', 'tokenizer.json'), os.path.join(out, 'tokenizer.json'))
    print(f'wrote {out}: {sum(t.numel() for t in sd.values()) / 1e6:.1f}M parameters, F16')


def export(folder, f16=False):
    """FOLDER/model.onnx (f32) or, with f16, FOLDER/model-f16.onnx: f16 weights and activations, norms, softmax and
    SiLU in f32 (as HF computes them), logits cast to f32."""
    m, cfg = load_folder(folder)
    ids = torch.randint(5, cfg['vocab_size'], (2, 16), generator=torch.Generator().manual_seed(1))
    name = 'model.onnx'
    if f16:
        with torch.no_grad():
            ref = m(ids)
        m = m.half()
        m.inv_freq = m.inv_freq.float()
        with torch.no_grad():
            d = (m(ids) - ref).abs().max().item()
        print(f'f16 model (traced on the CPU, matmuls in f32 rounded to f16) vs f32: max |Δ| {d:.2e}')
        name = 'model-f16.onnx'
    path = os.path.join(folder, name)
    torch.onnx.export(m, (ids,), path, input_names=['input_ids'], output_names=['logits'],
                      dynamic_axes={'input_ids': {0: 'batch', 1: 'length'}, 'logits': {0: 'batch', 1: 'length'}},
                      opset_version=OPSET, do_constant_folding=True)
    print(f'wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB; causal={m.causal})')


def bench_tokens(row, length, vocab):
    """Row `row` of the bench's token ids (bench/hf/page.ts benchTokens: an LCG seeded 12345 + row, ids in [5, V))."""
    s, out = 12345 + row, []
    for _ in range(length):
        s = (s * 1664525 + 1013904223) % 2**32
        out.append(5 + s % (vocab - 5))
    return out


def reference(folder, length):
    """FOLDER/reference-L<length>.safetensors: the logits of the bench's row 0 computed in f64 by the model above
    (checked against transformers) — what every implementation in bench:hf is validated against. tokens are what
    our runtime is fed; a causal model's input_ids are [bos, tokens[:-1]]."""
    m, cfg = load_folder(folder)
    tokens = torch.tensor([bench_tokens(0, length, cfg['vocab_size'])])
    ids = torch.cat([torch.full((1, 1), cfg['bos_token_id']), tokens[:, :-1]], 1) if m.causal else tokens
    m = m.double()
    m.inv_freq = m.inv_freq.double()
    with torch.no_grad():
        logits = m(ids.long()).float()
    path = os.path.join(folder, f'reference-L{length}.safetensors')
    write_safetensors(path, {'tokens': tokens.to(torch.int32), 'logits': logits},
                      metadata={'what': 'f64 forward of export_hf_onnx.Llama', 'causal': m.causal})
    print(f'wrote {path}: logits {tuple(logits.shape)}, max |logit| {logits.abs().max().item():.3g}')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--check', action='store_true', help='only the parity check against transformers')
    ap.add_argument('--make-tiny', metavar='OUT')
    ap.add_argument('--make-150m', metavar='OUT')
    ap.add_argument('--onnx', metavar='FOLDER', action='append', default=[], help='export FOLDER/model.onnx')
    ap.add_argument('--f16', action='store_true', help='with --onnx: FOLDER/model-f16.onnx instead')
    ap.add_argument('--reference', metavar='FOLDER', action='append', default=[],
                    help='FOLDER/reference-L<length>.safetensors: f64 logits of the bench input row 0')
    ap.add_argument('--length', type=int, default=128)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    check_fixtures()
    if a.make_tiny:
        make_tiny(a.make_tiny)
    if a.make_150m:
        make_150m(a.make_150m)
    for folder in a.onnx:
        export(folder, a.f16)
    for folder in a.reference:
        reference(folder, a.length)


if __name__ == '__main__':
    main()
