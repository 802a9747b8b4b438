"""Tiny random-weight transformers + golden vectors for the TypeScript parity tests
(test/fixtures/<name>/). They exercise every path of src/models/transformer.ts — bidirectional with
classes, two-stream with arbitrary orders, the MaM head in both forms ('mean-linear' and
'observed-softplus', the second with partly and wholly unobserved rows) — independently of the trained models.
Weights are F32 for one fixture and F16 for the other, so both loader paths are covered.

  /usr/bin/python3 training/export_test_fixtures.py
"""
import json, os
import torch
from model import Transformer, export_tensors
from export import write_safetensors, file_entry, round_weights_

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), 'test', 'fixtures')
V, T = 11, 12


def perturb_(model, gen):
    # random LayerNorm gains/biases so a wrong norm implementation cannot pass
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'ln' in name:
                p.add_(torch.randn(p.shape, generator=gen) * 0.3)
            elif name == 'q_emb':
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)


def make(name, two_stream, dtype, marginal_form='mean-linear'):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    m = Transformer(V, d=32, layers=2, heads=2, ff=48, max_len=T, n_classes=2, two_stream=two_stream, marginal_head=True,
                    marginal_form=marginal_form, mask_id=V - 1)
    perturb_(m, gen)
    if dtype == torch.float16:
        round_weights_(m)
    m.eval()
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, 'model.safetensors'), export_tensors(m, dtype))
    B = 3
    x = torch.randint(0, V, (B, T), generator=gen)
    if marginal_form == 'observed-softplus':  # row 0 half unobserved, row 1 nothing observed
        x[0, torch.randperm(T, generator=gen)[:T // 2]] = V - 1
        x[1] = V - 1
    cls = torch.tensor([0, 1, 2])
    g = {'x': x.int(), 'cls': cls.int()}
    with torch.no_grad():
        logits, _ = m(x, cls)
        g['logits'] = logits
        g['log_marginal'] = m.log_marginal(x, cls)
        if two_stream:
            order = torch.stack([torch.arange(T), torch.randperm(T, generator=gen), torch.arange(T - 1, -1, -1)])
            g['order'] = order.int()
            g['logits_two_stream'] = m.forward_two_stream(x, cls, order)
    write_safetensors(os.path.join(out, 'golden.safetensors'), g)
    cfg = m.cfg
    manifest = {
        'format': 'samplescope-model/1', 'name': name, 'family': 'test',
        'description': 'random weights, for parity tests only',
        'architecture': {'type': 'transformer', 'attention': 'two-stream' if two_stream else 'bidirectional', 'norm': 'layernorm',
                         'activation': 'gelu_tanh', 'norm_eps': 1e-5, 'positional': 'rope-half-split', **cfg},
        'tokenizer': {'type': 'char', 'vocab': [chr(97 + i) for i in range(V - 1)] + ['[MASK]'], 'mask_id': V - 1},
        'classes': ['a', 'b', 'none'], 'null_class': 2,
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'weights_dtype': 'F16' if dtype == torch.float16 else 'F32',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)


def make_enum(name='tiny-enum'):
    """An enumerable masked-diffusion toy (3 tokens + [MASK], length 4, two classes) with sharp random
    weights, native and — via export_onnx.py --folder — as an ONNX folder: the ONNX adapter's χ² tests."""
    torch.manual_seed(3)
    gen = torch.Generator().manual_seed(4)
    m = Transformer(4, d=8, layers=1, heads=2, ff=16, max_len=4, n_classes=2)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * (1.5 if p.dim() > 1 else 0.3))
    m.eval()
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, 'model.safetensors'), export_tensors(m, torch.float32))
    manifest = {
        'format': 'samplescope-model/1', 'name': name, 'family': 'test',
        'description': 'random weights, enumerable (3 tokens, length 4), for exactness tests only',
        'architecture': {'type': 'transformer', 'attention': 'bidirectional', 'norm': 'layernorm', 'activation': 'gelu_tanh',
                         'norm_eps': 1e-5, 'positional': 'rope-half-split', **m.cfg},
        'tokenizer': {'type': 'char', 'vocab': ['a', 'b', 'c', '[MASK]'], 'mask_id': 3},
        'classes': ['a', 'b', 'none'], 'null_class': 2,
        'files': [file_entry(out, 'model.safetensors', 'weights')],
        'weights_dtype': 'F32',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)


if __name__ == '__main__':
    make('tiny-bidir', False, torch.float32)
    make('tiny-twostream', True, torch.float16)
    make('tiny-mam-softplus', False, torch.float32, 'observed-softplus')
    make_enum()
    print('wrote', OUT)
