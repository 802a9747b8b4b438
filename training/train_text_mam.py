"""text-mam: a marginalization-model head (arXiv 2310.12920) on the text-mdm trunk, so that any
partial text x_S (unobserved characters = [MASK]) gets log p(x_S | class) in one forward pass.

Starts from the text-mdm checkpoint. Losses per batch (random σ, step d, S = σ(<d), j = σ(d)):
  MDM NELBO (keeps the conditionals p_φ(x_j | x_S) sharp),
  self-consistency (log p_θ(x_S) + log p_φ(x_j | x_S) − log p_θ(x_S ∪ {j}))², p_φ held fixed there,
  anchor log p_θ(∅ | c) = 0 for every class.
The head predicts log p / T internally; export folds the factor T into its weights.
Validation compares the one-pass log p_θ(x_S) with the any-order chain Σ_k log p_φ(x_σ(k) | x_σ(<k))
over S (|S| passes) on held-out partial texts.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_text_mam.py --minutes 60 --export
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn.functional as F

from model import Transformer, export_tensors, random_chain_step
from export import write_safetensors, file_entry, round_weights_, ckpt_dir
from prep_text import VOCAB, MASK_ID, CLASSES
from train_text import ARCH, T, NULL_CLASS, load_data, batch, mdm_loss

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCALE = float(T)


def sc_loss(model, x, cls, gen):
    B = x.shape[0]
    in_s, in_sj, j = random_chain_step(B, T, gen)
    xs = torch.where(in_s, x, torch.full_like(x, MASK_ID))
    xsj = torch.where(in_sj, x, torch.full_like(x, MASK_ID))
    empty = torch.full((len(CLASSES) + 1, T), MASK_ID)
    inp = torch.cat([xs, xsj, empty])
    c = torch.cat([cls, cls, torch.arange(len(CLASSES) + 1)])
    logits, lm = model.forward_with_marginal(inp, c)
    lm = lm * SCALE
    logp_j = torch.log_softmax(logits[torch.arange(B), j], dim=-1)[torch.arange(B), x[torch.arange(B), j]].detach()
    l_sc = ((lm[:B] + logp_j - lm[B:2 * B]) ** 2).mean()
    l_anchor = (lm[2 * B:] ** 2).mean()
    return l_sc, l_anchor


@torch.no_grad()
def evaluate(model, data, n=8, scale=SCALE, seed=3):
    """Mean |one-pass log p_θ(x_S) − chain estimate| per observed char on held-out partial texts."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    x, cls = batch(data, 'val', n, gen)
    errs, chains = [], []
    for b in range(n):
        size = int(torch.randint(8, 64, (1,), generator=gen))
        obs = torch.randperm(T, generator=gen)[:size]
        cur = torch.full((1, T), MASK_ID)
        chain = 0.0
        for p in obs.tolist():  # a random order over S
            logits, _ = model(cur, cls[b:b + 1])
            chain += float(torch.log_softmax(logits[0, p], -1)[x[b, p]])
            cur[0, p] = x[b, p]
        _, lm = model.forward_with_marginal(cur, cls[b:b + 1])
        errs.append(abs(float(lm[0]) * scale - chain) / size)
        chains.append(-chain / size)
    model.train()
    return {'abs_err_nats_per_observed_char': float(np.mean(errs)), 'chain_nll_nats_per_observed_char': float(np.mean(chains))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=4000)
    ap.add_argument('--minutes', type=float, default=60)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--export', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_data()
    ckpt = os.path.join(ckpt_dir(), 'text-mam.pt')
    torch.manual_seed(0)
    model = Transformer(len(VOCAB) + 1, marginal_head=True, **ARCH)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.98), weight_decay=0.01)
    gen = torch.Generator().manual_seed(5)
    state = {'step': 0, 'seconds': 0.0, 'log': [], 'base_step': None}
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        model.load_state_dict(c['model']); opt.load_state_dict(c['opt']); state = c['state']; gen.set_state(c['gen'])
    else:
        base = torch.load(os.path.join(ckpt_dir(), 'text-mdm.pt'))
        missing = model.load_state_dict(base['model'], strict=False)
        assert set(missing.missing_keys) == {'mam.weight', 'mam.bias'}, missing
        state['base_step'] = base['state']['step']
    t0, s0 = time.time(), state['seconds']
    while state['step'] < args.steps and time.time() - t0 < args.minutes * 60:
        x, cls = batch(data, 'train', args.batch, gen, drop=0.1)
        l_mdm = mdm_loss(model, x, cls, gen)
        l_sc, l_anchor = sc_loss(model, x, cls, gen)
        loss = l_mdm + 0.01 * (l_sc + l_anchor)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state['step'] += 1
        state['seconds'] = s0 + time.time() - t0
        if state['step'] % 50 == 0:
            print(f"step {state['step']} mdm {float(l_mdm):.3f} sc {float(l_sc):.2f} anchor {float(l_anchor):.2f} {state['seconds']:.0f}s", flush=True)
        if state['step'] % 500 == 0:
            ev = evaluate(model, data, n=4)
            state['log'].append({'step': state['step'], 'seconds': round(state['seconds']), **ev})
            print('eval', json.dumps(ev), flush=True)
            torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt)
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt)
    if args.export:
        export(model, data, state, args)


def export(model, data, state, args):
    out = os.path.join(ROOT, 'models', 'text-mam')
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():
        model.mam.weight.mul_(SCALE)
        model.mam.bias.mul_(SCALE)
    round_weights_(model)
    ev = evaluate(model, data, n=16, scale=1.0, seed=11)
    write_safetensors(os.path.join(out, 'model.safetensors'), export_tensors(model), {'model': 'text-mam'})
    gen = torch.Generator().manual_seed(7)
    x, _ = batch(data, 'val', 3, gen)
    keep = torch.rand(x.shape, generator=gen) < torch.tensor([[0.1], [0.5], [1.0]])
    xt = torch.where(keep, x, torch.full_like(x, MASK_ID))
    cls = torch.tensor([0, 1, NULL_CLASS])
    model.eval()
    with torch.no_grad():
        logits, lm = model.forward_with_marginal(xt, cls)
    write_safetensors(os.path.join(out, 'golden.safetensors'), {'x': xt.int(), 'cls': cls.int(), 'logits': logits.float(), 'log_marginal': lm.float()})
    manifest = {
        'format': 'samplescope-model/1', 'name': 'text-mam', 'family': 'mam',
        'description': 'text-mdm trunk with a marginalization-model head: log p(x_S | class) of any partial text in one pass; the token head gives the any-subset conditionals.',
        'architecture': {'type': 'transformer', 'attention': 'bidirectional', 'norm': 'layernorm', 'activation': 'gelu_tanh',
                         'norm_eps': 1e-5, 'positional': 'rope-half-split', **model.cfg},
        'tokenizer': {'type': 'char', 'vocab': VOCAB + ['[MASK]'], 'mask_id': MASK_ID},
        'classes': CLASSES + ['none'], 'null_class': NULL_CLASS,
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {'base': f"text-mdm checkpoint at step {state['base_step']}", 'steps': state['step'], 'seconds': round(state['seconds']),
                     'recipe': 'MDM NELBO + 0.01 (self-consistency + anchor), AdamW 3e-4, batch 32',
                     'command': 'OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_text_mam.py --export', 'log': state['log']},
        'metrics': {k: round(v, 4) for k, v in ev.items()},
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
