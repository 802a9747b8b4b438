"""text-mam: a marginalization-model head (arXiv 2310.12920) on the text-mdm trunk, so that any
partial text x_S (unobserved characters = [MASK]) gets log p(x_S | class) in one forward pass.

Head ('observed-softplus', training/model.py): log p(x_S) = −Σ_{t∈S} softplus(w · LN_f(h)_t + b). It is a
log-probability by construction — log p(∅) = 0 exactly and log p ≤ 0 for any input — so the anchor term of
the first recipe (log p(∅) = 0 by training) is gone, and what training has to learn is only the
marginalization itself. Starts from the exported final text-mdm weights (models/text-mdm).

Losses per batch (per row an order σ and a step d; S = σ(<d), j = σ(d)):
  self-consistency (log p_θ(x_S) + log p_φ(x_j | x_S) − log p_θ(x_S ∪ {j}))², p_φ held fixed there;
  MDM NELBO on the same S pass (S is a masking of x at rate 1 − d/T), which keeps the conditionals sharp.
Half the rows take σ uniformly at random, half take a contiguous block grown outwards from a random
start (S is then a window of text at any offset: what people score, and what trains offset invariance).
Validation compares the one-pass log p_θ(x_S) with the any-order chain Σ_k log p_φ(x_σ(k) | x_σ(<k))
over S (|S| passes) on held-out partial texts.

--teacher (recipe 3): self-consistency against text-asarm's conditionals instead of the model's own. The
any-subset AR model's chain over S in increasing position order is log p_ψ(x_S) = Σ_k log p_ψ(x_{s_k} | x_{s_<k})
(one two-stream pass with σ = sorted S, then the rest), exact for a prefix; with log p_θ(∅) = 0 that chain of
self-consistency equations sums to the regression ((log p_θ(x_S) − log p_ψ(x_S)) / |S|)², per row one S (half
uniform subsets of any size, half contiguous windows at any offset), plus the MDM NELBO as before. Starts from the
committed models/text-mam; the token head stays the MDM's.

--dense (recipe 4): the same teacher chain, supervised per position as well as in sum. With S in position order the
chain is a sum of per-position terms −log p_ψ(x_t | x_{S<t}), and the head is a sum of per-position costs
softplus(w · LN_f(h)_t + b) ≥ 0, so each observed position's cost is regressed on its own term (T targets per row
instead of one; the sum's regression stays). The lr decays (cosine to 10 %) over --steps; --bf16 autocasts the
passes. Starts from the committed models/text-mam (whatever recipe made it: its manifest names it), or with
--from-mdm from the committed text-mdm export with a fresh head (as recipe 2 does); the committed model is the
second, 6,000 steps on the final text-mdm trunk.

  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_text_mam.py --teacher --minutes 100 --export
  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_text_mam.py --dense --bf16 --from-mdm --steps 6000 --minutes 170 --export

  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_text_mam.py --minutes 90 --export
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn.functional as F

from model import Transformer, export_tensors
from export import write_safetensors, read_safetensors, file_entry, round_weights_, ckpt_dir, weights_sha
from prep_text import VOCAB, MASK_ID, CLASSES
from train_text import ARCH, T, NULL_CLASS, load_data, batch, lr_at

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FORM = 'observed-softplus'
SC_WEIGHT = 0.1
DISTILL_WEIGHT = 4.0
DENSE_WEIGHT = 1.0
TEACHER = 'text-asarm'


def chain_orders(B, gen):
    """(B, T) orders: even rows a uniform permutation, odd rows a contiguous block grown from a random start
    (rightwards to the end, then leftwards), so every prefix σ(<d) of an odd row is a window of text."""
    orders = torch.argsort(torch.rand(B, T, generator=gen), dim=1)
    for b in range(1, B, 2):
        o = int(torch.randint(0, T, (1,), generator=gen))
        orders[b] = torch.cat([torch.arange(o, T), torch.arange(o - 1, -1, -1)])
    return orders


def chain_step(orders, gen):
    B = orders.shape[0]
    d = torch.randint(0, T, (B,), generator=gen)
    rank = torch.empty_like(orders)
    rank.scatter_(1, orders, torch.arange(T)[None, :].expand(B, T))
    in_s = rank < d[:, None]
    return in_s, in_s | (rank == d[:, None]), orders[torch.arange(B), d], d


def losses(model, x, cls, gen):
    """Self-consistency and the MDM NELBO from one batched pass over the S and S ∪ {j} inputs."""
    B = x.shape[0]
    in_s, in_sj, j, d = chain_step(chain_orders(B, gen), gen)
    xs = torch.where(in_s, x, torch.full_like(x, MASK_ID))
    xsj = torch.where(in_sj, x, torch.full_like(x, MASK_ID))
    logits, lm = model.forward_with_marginal(torch.cat([xs, xsj]), torch.cat([cls, cls]))
    rows = torch.arange(B)
    logp_j = torch.log_softmax(logits[rows, j], dim=-1)[rows, x[rows, j]].detach()
    l_sc = ((lm[:B] + logp_j - lm[B:]) ** 2).mean()
    masked = ~in_s
    t = masked.float().mean(1)  # the masking rate of the S rows (≥ 1/T: d < T)
    ce = F.cross_entropy(logits[:B].reshape(-1, logits.shape[-1]), x.reshape(-1), reduction='none').view(B, T)
    l_mdm = ((ce * masked).sum(1) / t).sum() / (B * T)
    return l_sc, l_mdm


def teacher_subsets(B, gen):
    """(B, T) observed masks: even rows a uniform subset of a uniform size 1..T, odd rows a window [o, o + d)."""
    obs = torch.zeros(B, T, dtype=torch.bool)
    for b in range(B):
        if b % 2 == 0:
            d = int(torch.randint(1, T + 1, (1,), generator=gen))
            obs[b, torch.randperm(T, generator=gen)[:d]] = True
        else:
            o = int(torch.randint(0, T, (1,), generator=gen))
            d = int(torch.randint(1, T - o + 1, (1,), generator=gen))
            obs[b, o:o + d] = True
    return obs


@torch.no_grad()
def teacher_terms(teacher, x, cls, obs):
    """(B, T): at each observed t the AS-ARM chain's term log p_ψ(x_t | x_{S<t}) over S in increasing position order
    (σ = sorted S, then the rest), 0 elsewhere; a row's sum is log p_ψ(x_S)."""
    T_ = x.shape[1]
    key = torch.where(obs, 0, T_) + torch.arange(T_)[None, :]  # S first, each part left to right
    order = torch.argsort(key, dim=1)
    logits = teacher.forward_two_stream(x, cls, order)
    lp = torch.log_softmax(logits.float(), -1).gather(-1, x[..., None])[..., 0]
    return lp * obs


def teacher_log_p(teacher, x, cls, obs):
    """log p_ψ(x_S) per row: the AS-ARM chain over S in increasing position order."""
    return teacher_terms(teacher, x, cls, obs).sum(1)


def distill_losses(model, teacher, x, cls, gen, dense=False):
    """The regression of the one-pass log p_θ(x_S) on the teacher's chain, per char squared (and with dense, each
    observed position's cost on its chain term, squared, per observed char), and the MDM NELBO on the same pass."""
    obs = teacher_subsets(x.shape[0], gen)
    terms = teacher_terms(teacher, x, cls, obs)
    target = terms.sum(1)
    xs = torch.where(obs, x, torch.full_like(x, MASK_ID))
    logits, hf = model(xs, cls)
    logits = logits.float()
    costs = model.marginal_costs(hf).float() * obs
    lm = -costs.sum(1)
    size = obs.sum(1).float()
    l_d = (((lm - target) / size) ** 2).mean()
    if dense:
        l_d = l_d + DENSE_WEIGHT / DISTILL_WEIGHT * ((costs + terms) ** 2).sum() / size.sum()
    masked = ~obs
    t = masked.float().mean(1).clamp_min(1.0 / T)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1), reduction='none').view(*x.shape)
    l_mdm = ((ce * masked).sum(1) / t).sum() / (x.shape[0] * T)
    return l_d, l_mdm


@torch.no_grad()
def evaluate_vs_teacher(model, teacher, data, n=32, seed=3):
    """One-pass log p_θ of held-out prefixes (16–64 chars, no class) vs the teacher's exact left-to-right log p,
    per char: mean |Δ|, mean Δ and the Spearman rank correlation (what npm run calibrate:mam measures)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    x, _ = batch(data, 'val', n, gen)
    cls = torch.full((n,), NULL_CLASS)
    k = torch.randint(16, 65, (n,), generator=gen)
    obs = torch.arange(T)[None, :] < k[:, None]
    ref = teacher_log_p(teacher, x, cls, obs) / k
    _, lm = model.forward_with_marginal(torch.where(obs, x, torch.full_like(x, MASK_ID)), cls)
    got = lm / k
    rank = lambda v: torch.argsort(torch.argsort(v)).float()
    ra, rb = rank(got), rank(ref)
    rho = float(((ra - ra.mean()) * (rb - rb.mean())).sum() / ((ra - ra.mean()).norm() * (rb - rb.mean()).norm()))
    model.train()
    return {'vs_teacher_abs_per_char': float((got - ref).abs().mean()), 'vs_teacher_signed_per_char': float((got - ref).mean()),
            'vs_teacher_spearman': rho}


def load_teacher():
    d = os.path.join(ROOT, 'models', TEACHER)
    cfg = json.load(open(os.path.join(d, 'manifest.json')))['architecture']
    teacher = Transformer(cfg['vocab_size'], d=cfg['d_model'], layers=cfg['n_layers'], heads=cfg['n_heads'], ff=cfg['d_ff'],
                          max_len=cfg['max_len'], n_classes=cfg['n_classes'], rope_base=cfg['rope_base'], two_stream=True)
    teacher.load_state_dict(read_safetensors(os.path.join(d, 'model.safetensors')))
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


@torch.no_grad()
def evaluate(model, data, n=8, seed=3):
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
        errs.append(abs(float(lm[0]) - chain) / size)
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
    ap.add_argument('--teacher', action='store_true', help=f'self-consistency against {TEACHER} (recipe 3)')
    ap.add_argument('--dense', action='store_true', help=f'recipe 4: {TEACHER} per position and in sum, lr cosine over --steps')
    ap.add_argument('--bf16', action='store_true', help='bf16 autocast for the training passes; evaluation stays f32')
    ap.add_argument('--from-mdm', action='store_true', help='with --dense: start from the committed text-mdm export (a fresh head) instead of text-mam')
    args = ap.parse_args()
    if args.from_mdm and not args.dense:
        ap.error('--from-mdm starts recipe 4 from text-mdm: it goes with --dense')
    args.teacher = args.teacher or args.dense
    torch.set_num_threads(args.threads)
    data = load_data()
    ckpt = os.path.join(ckpt_dir(), ('text-mam-v5.pt' if args.from_mdm else 'text-mam-v4.pt') if args.dense else 'text-mam-v3.pt' if args.teacher else 'text-mam-v2.pt')
    teacher = load_teacher() if args.teacher else None
    torch.manual_seed(0)
    model = Transformer(len(VOCAB) + 1, marginal_head=True, marginal_form=FORM, mask_id=MASK_ID, **ARCH)
    head = [model.mam.weight, model.mam.bias]
    trunk = [p for n, p in model.named_parameters() if not n.startswith('mam.')]
    opt = torch.optim.AdamW([{'params': trunk, 'lr': 2e-4}, {'params': head, 'lr': 2e-3}], betas=(0.9, 0.98), weight_decay=0.01)
    gen = torch.Generator().manual_seed(5)
    state = {'step': 0, 'seconds': 0.0, 'log': [], 'base': None}
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        model.load_state_dict(c['model']); opt.load_state_dict(c['opt']); state = c['state']; gen.set_state(c['gen'])
    elif args.teacher and not args.from_mdm:
        base_dir = os.path.join(ROOT, 'models', 'text-mam')
        model.load_state_dict(read_safetensors(os.path.join(base_dir, 'model.safetensors')))
        base = json.load(open(os.path.join(base_dir, 'manifest.json')))
        state['base'] = f"models/text-mam export ({base['training']['steps']} steps from {base['training']['base']}; weights sha256 {weights_sha(base)})"
        state['log'].append({'step': 0, 'seconds': 0, **evaluate_vs_teacher(model, teacher, data)})
        print('eval', json.dumps(state['log'][-1]), flush=True)
    else:
        base_dir = os.path.join(ROOT, 'models', 'text-mdm')
        missing = model.load_state_dict(read_safetensors(os.path.join(base_dir, 'model.safetensors')), strict=False)
        assert set(missing.missing_keys) == {'mam.weight', 'mam.bias'}, missing
        base = json.load(open(os.path.join(base_dir, 'manifest.json')))
        state['base'] = f"models/text-mdm final export (step {base['training']['log'][-1]['step']}, weights sha256 {weights_sha(base)})"
        with torch.no_grad():  # every cost starts at ~2 nats per observed char, the trunk's NELBO
            model.mam.weight.zero_()
            model.mam.bias.fill_(float(np.log(np.expm1(2.0))))
    t0, s0 = time.time(), state['seconds']
    base_lr = [g['lr'] for g in opt.param_groups] if 'base_lr' not in state else state['base_lr']
    state['base_lr'] = base_lr
    while state['step'] < args.steps and time.time() - t0 < args.minutes * 60:
        if args.dense:  # cosine to 10 % over the run
            f = lr_at(state['step'], args.steps, base=1.0, warm=0)
            for g, lr in zip(opt.param_groups, base_lr):
                g['lr'] = lr * f
        x, cls = batch(data, 'train', args.batch, gen, drop=0.3 if teacher is not None else 0.1)
        if teacher is not None:
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.bf16):
                l_sc, l_mdm = distill_losses(model, teacher, x, cls, gen, dense=args.dense)
            loss = l_mdm + DISTILL_WEIGHT * l_sc
        else:
            l_sc, l_mdm = losses(model, x, cls, gen)
            loss = l_mdm + SC_WEIGHT * l_sc
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state['step'] += 1
        state['seconds'] = s0 + time.time() - t0
        if state['step'] % 25 == 0:
            print(f"step {state['step']} mdm {float(l_mdm):.3f} sc {float(l_sc):.3f} {state['seconds']:.0f}s", flush=True)
        if state['step'] % 250 == 0:
            ev = evaluate(model, data, n=4)
            if teacher is not None:
                ev.update(evaluate_vs_teacher(model, teacher, data, n=128 if args.dense else 32))
            state['log'].append({'step': state['step'], 'seconds': round(state['seconds']), **ev})
            print('eval', json.dumps(ev), flush=True)
            torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt)
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt)
    if args.export:
        export(model, data, state, args, teacher)


def export(model, data, state, args, teacher=None):
    out = os.path.join(ROOT, 'models', 'text-mam')
    os.makedirs(out, exist_ok=True)
    round_weights_(model)
    ev = evaluate(model, data, n=16, seed=11)
    if teacher is not None:
        ev.update(evaluate_vs_teacher(model, teacher, data, n=128, seed=11))
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
        'description': 'text-mdm trunk with a marginalization-model head: log p(x_S | class) of any partial text in one pass (a log-probability by construction: log p of nothing observed is 0, never positive); the token head gives the any-subset conditionals.',
        'architecture': {'type': 'transformer', 'attention': 'bidirectional', 'norm': 'layernorm', 'activation': 'gelu_tanh',
                         'norm_eps': 1e-5, 'positional': 'rope-half-split', **model.cfg},
        'tokenizer': {'type': 'char', 'vocab': VOCAB + ['[MASK]'], 'mask_id': MASK_ID},
        'classes': CLASSES + ['none'], 'null_class': NULL_CLASS,
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {'base': state['base'], 'steps': state['step'], 'seconds': round(state['seconds']),
                     'recipe': (f'observed-softplus head; MDM NELBO + {DISTILL_WEIGHT} × (log p(x_S) vs {TEACHER} chain over S in position order, per char)² + {DENSE_WEIGHT} × (each observed position\'s cost vs its chain term)² per observed char (half uniform subsets, half windows), class dropped 30 %, AdamW trunk 2e-4 / head 2e-3 cosine to 10 % over {args.steps} steps, batch {args.batch}' + (', bf16 autocast' if args.bf16 else '')
                                if args.dense else
                                f'observed-softplus head; MDM NELBO + {DISTILL_WEIGHT} × self-consistency against {TEACHER} conditionals summed over S in position order (half uniform subsets, half windows), class dropped 30 %, AdamW trunk 2e-4 / head 2e-3, batch {args.batch}'
                                if teacher is not None else
                                f'observed-softplus head; MDM NELBO + {SC_WEIGHT} self-consistency (half random orders, half contiguous windows), AdamW trunk 2e-4 / head 2e-3, batch {args.batch}'),
                     'command': 'OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_text_mam.py' + (f' --dense{" --bf16" if args.bf16 else ""}{" --from-mdm" if args.from_mdm else ""} --steps {args.steps} --minutes {args.minutes:g}' if args.dense else ' --teacher' if teacher is not None else '') + ' --export', 'log': state['log']},
        'metrics': {k: round(v, 4) for k, v in ev.items()},
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
