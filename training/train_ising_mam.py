"""ising-mam: a marginalization model (Liu et al., "Generative Marginalization Models",
arXiv 2310.12920) for the 10×10 Ising model at β = 0.44 with free boundaries, whose exact
log-probabilities and marginals come from training/ising.py.

One transformer (bidirectional, tokens 0 = −1, 1 = +1, 2 = unobserved) has two heads:
  conditionals p_φ(x_j | x_S)   the token head at unobserved positions, trained by maximum likelihood
                                on exact samples with a random observed subset S (any-order / MDM style);
  marginal     log p_θ(x_S)     the MaM head, trained with the self-consistency loss
                                (log p_θ(x_S) + log p_φ(x_j | x_S) − log p_θ(x_S ∪ {j}))², S = σ(<d),
                                j = σ(d) for a random order σ and step d, with p_φ held fixed in that
                                term, plus the anchor log p_θ(∅) = 0.
Telescoping the self-consistency from ∅ makes log p_θ(x) the any-order AR likelihood of the
conditionals, so it approaches the exact log p as the conditionals do.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_ising_mam.py --minutes 40 --export
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn.functional as F

from ising import Ising, UNOBSERVED
from model import Transformer, export_tensors, random_chain_step
from export import write_safetensors, file_entry, round_weights_, ckpt_dir

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
L, BETA = 10, 0.44
N = L * L
SCALE = float(N)  # the MaM head predicts log p / N; exported weights fold the scale back in
ARCH = dict(d=64, layers=4, heads=4, ff=256, max_len=N, n_classes=0)


def mask_tokens(x, keep):
    return torch.where(keep, x, torch.full_like(x, UNOBSERVED))


def losses(model, x, gen):
    B = x.shape[0]
    in_s, in_sj, j = random_chain_step(B, N, gen)
    xs, xsj = mask_tokens(x, in_s), mask_tokens(x, in_sj)
    empty = torch.full((1, N), UNOBSERVED)
    inp = torch.cat([xs, xsj, empty])
    cls = torch.zeros(inp.shape[0], dtype=torch.long)
    logits, lm = model.forward_with_marginal(inp, cls)
    lm = lm * SCALE
    lg = logits[:B]
    # conditionals: every unobserved position of x_S
    ce = F.cross_entropy(lg.reshape(-1, lg.shape[-1])[:, :2], x.reshape(-1), reduction='none').view(B, N)
    unobs = ~in_s
    l_cond = (ce * unobs).sum() / unobs.sum()
    logp_j = -ce[torch.arange(B), j].detach()
    l_sc = ((lm[:B] + logp_j - lm[B:2 * B]) ** 2).mean()
    l_anchor = lm[2 * B] ** 2
    return l_cond, l_sc, l_anchor


@torch.no_grad()
def evaluate(model, ising, x_full, rng, scale=SCALE):
    """|log p_MaM − log p_exact| per observed spin, on held-out full and partial configurations."""
    model.eval()
    B = x_full.shape[0]
    partial = x_full.copy()
    sizes = rng.integers(1, N, size=B)
    for b in range(B):
        hide = rng.permutation(N)[: N - sizes[b]]
        partial[b, hide] = UNOBSERVED
    out = {}
    for name, xs in [('full', x_full), ('partial', partial)]:
        exact = ising.log_prob(xs)
        t = torch.from_numpy(xs)
        _, lm = model.forward_with_marginal(t, torch.zeros(B, dtype=torch.long))
        lm = lm.double().numpy() * scale
        nobs = (xs != UNOBSERVED).sum(1)
        out[name] = float(np.mean(np.abs(lm - exact) / nobs))
        out[name + '_abs_nats'] = float(np.mean(np.abs(lm - exact)))
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=6000)
    ap.add_argument('--minutes', type=float, default=40)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--export', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ising = Ising(L, BETA)
    rng = np.random.default_rng(0)
    pool = torch.from_numpy(ising.sample(200_000, rng))
    held = ising.sample(512, np.random.default_rng(123))
    torch.manual_seed(0)
    model = Transformer(3, marginal_head=True, **ARCH)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.98), weight_decay=0.0)
    gen = torch.Generator().manual_seed(1)
    ckpt = os.path.join(ckpt_dir(), 'ising-mam.pt')
    state = {'step': 0, 'seconds': 0.0, 'log': []}
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        model.load_state_dict(c['model']); opt.load_state_dict(c['opt']); state = c['state']; gen.set_state(c['gen'])
    t0, s0 = time.time(), state['seconds']
    acc = np.zeros(3)
    while state['step'] < args.steps and time.time() - t0 < args.minutes * 60:
        step = state['step']
        lr = 2e-3 * min(1, step / 200) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(1, step / args.steps))))
        for g in opt.param_groups:
            g['lr'] = lr
        idx = torch.randint(0, pool.shape[0], (args.batch,), generator=gen)
        l_cond, l_sc, l_anchor = losses(model, pool[idx], gen)
        loss = l_cond + 0.05 * l_sc + 0.05 * l_anchor
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state['step'] += 1
        state['seconds'] = s0 + time.time() - t0
        acc += [float(l_cond), float(l_sc), float(l_anchor)]
        if state['step'] % 100 == 0:
            print(f"step {state['step']} cond {acc[0]/100:.4f} sc {acc[1]/100:.4f} anchor {acc[2]/100:.4f} {state['seconds']:.0f}s", flush=True)
            acc[:] = 0
        if state['step'] % 1000 == 0:
            ev = evaluate(model, ising, held[:128], np.random.default_rng(5))
            state['log'].append({'step': state['step'], 'seconds': round(state['seconds']), **ev})
            print('eval', json.dumps(ev), flush=True)
            torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt)
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt)
    if args.export:
        export(model, ising, held, state, args)


def export(model, ising, held, state, args):
    out = os.path.join(ROOT, 'models', 'ising-mam')
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():  # fold the head's scale into its weights: the runtime's head is plain w·h + b
        model.mam.weight.mul_(SCALE)
        model.mam.bias.mul_(SCALE)
    round_weights_(model)
    ev = evaluate(model, ising, held, np.random.default_rng(9), scale=1.0)
    write_safetensors(os.path.join(out, 'model.safetensors'), export_tensors(model), {'model': 'ising-mam'})
    gen = np.random.default_rng(11)
    x = ising.sample(4, gen)
    x[2, gen.permutation(N)[:50]] = UNOBSERVED
    x[3, :] = UNOBSERVED
    t = torch.from_numpy(x)
    with torch.no_grad():
        logits, lm = model.forward_with_marginal(t, torch.zeros(4, dtype=torch.long))
    write_safetensors(os.path.join(out, 'golden.safetensors'), {
        'x': t.int(), 'cls': torch.zeros(4, dtype=torch.int32), 'logits': logits.float(), 'log_marginal': lm.float(),
        'log_prob_exact': torch.from_numpy(ising.log_prob(x)).float()})
    manifest = {
        'format': 'samplescope-model/1', 'name': 'ising-mam', 'family': 'mam',
        'description': 'Marginalization model of the 10x10 Ising model (beta 0.44, free boundaries): conditionals p(x_j | x_S) from the token head, log p(x_S) of any partial configuration in one pass from the marginal head.',
        'architecture': {'type': 'transformer', 'attention': 'bidirectional', 'norm': 'layernorm', 'activation': 'gelu_tanh',
                         'norm_eps': 1e-5, 'positional': 'rope-half-split', **model.cfg},
        'tokenizer': {'type': 'char', 'vocab': ['-', '+', '?'], 'mask_id': UNOBSERVED,
                      'normalisation': 'spins in raster order: 0 = -1, 1 = +1, 2 = unobserved'},
        'classes': ['none'], 'null_class': 0,
        'ising': {'L': L, 'beta': BETA, 'boundary': 'free', 'log_z': ising.log_z, 'energy': '-sum over nearest-neighbour pairs x_i x_j'},
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {'data': 'exact samples from the transfer-matrix sampler (training/ising.py), 200k', 'steps': state['step'],
                     'seconds': round(state['seconds']), 'recipe': 'conditional CE + 0.05 self-consistency + 0.05 anchor; AdamW 2e-3 cosine; batch 64',
                     'command': 'OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_ising_mam.py --export', 'log': state['log']},
        'metrics': {'heldout_full_abs_err_nats_per_spin': round(ev['full'], 4), 'heldout_partial_abs_err_nats_per_observed_spin': round(ev['partial'], 4),
                    'heldout_full_abs_err_nats': round(ev['full_abs_nats'], 3), 'heldout_partial_abs_err_nats': round(ev['partial_abs_nats'], 3),
                    'heldout_configs': int(held.shape[0])},
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
