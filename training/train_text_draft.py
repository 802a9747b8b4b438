"""text-asarm-draft: a 2-layer draft for speculative decoding of text-asarm in left-to-right order,
distilled from it (Leviathan et al. arXiv 2211.17192 use any smaller model of the same vocabulary; a
draft distilled on the target's own conditionals accepts more, DistillSpec arXiv 2310.08461).

Architecture: text-asarm's (two-stream, d 128, 4 heads, ff 512) with 2 layers instead of 6, so the same
runtime and KV cache run it. Initialised from text-asarm's embeddings, first two blocks, final norm and
head (the self-speculation draft, as a warm start), then trained on left-to-right orders only with

  loss = KL(p_target(· | x_<i) ‖ p_draft(· | x_<i)) summed over positions, nats per char,

the forward KL whose minimiser maximises the expected acceptance Σ_v min(p, q) = 1 − TV only
approximately; we report both. Validation (fixed held-out batches): the draft's own NLL, the KL, and the
expected per-token acceptance E[Σ_v min(p_target, q_draft)] at temperature 1.

  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_text_draft.py --minutes 60 --export
"""
import argparse, json, os, time
import torch
import torch.nn.functional as F

from model import Transformer
from export import read_safetensors, ckpt_dir
from prep_text import VOCAB
import train_text
from train_text import ARCH, T, load_data, batch, lr_at

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LAYERS = 2
NAME = 'text-asarm-draft'


def l2r(B):
    return torch.arange(T)[None].expand(B, T)


def load_target():
    m = Transformer(len(VOCAB) + 1, two_stream=True, **ARCH)
    m.load_state_dict(read_safetensors(os.path.join(ROOT, 'models', 'text-asarm', 'model.safetensors')), strict=False)
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    return m


def init_draft(target):
    d = Transformer(len(VOCAB) + 1, two_stream=True, **{**ARCH, 'layers': LAYERS})
    sd = {k: v for k, v in target.state_dict().items()
          if not k.startswith('blocks.') or int(k.split('.')[1]) < LAYERS}
    d.load_state_dict(sd, strict=False)
    return d


def kl_loss(target, draft, x, cls):
    o = l2r(x.shape[0])
    with torch.no_grad():
        lp = F.log_softmax(target.forward_two_stream(x, cls, o), -1)
    lq = F.log_softmax(draft.forward_two_stream(x, cls, o), -1)
    return (lp.exp() * (lp - lq)).sum(-1).mean(), lp, lq


@torch.no_grad()
def evaluate(target, draft, data, n_batches=10, B=16):
    draft.eval()
    gen = torch.Generator().manual_seed(1234)
    kl = nll = acc = 0.0
    for _ in range(n_batches):
        x, cls = batch(data, 'val', B, gen)
        k, lp, lq = kl_loss(target, draft, x, cls)
        kl += float(k)
        nll += float(F.nll_loss(lq.reshape(-1, lq.shape[-1]), x.reshape(-1)))
        acc += float(torch.minimum(lp.exp(), lq.exp()).sum(-1).mean())
    draft.train()
    return {'kl_nats_per_char': kl / n_batches, 'val_nll_l2r_nats_per_char': nll / n_batches,
            'expected_acceptance_t1': acc / n_batches}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=3000, help='schedule length (lr decays over it)')
    ap.add_argument('--minutes', type=float, default=60)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--eval-every', type=int, default=250)
    ap.add_argument('--export', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = load_data()
    target = load_target()
    draft = init_draft(target)
    opt = torch.optim.AdamW(draft.parameters(), lr=5e-4, betas=(0.9, 0.98), weight_decay=0.01)
    ckpt = os.path.join(ckpt_dir(), f'{NAME}.pt')
    state = {'step': 0, 'seconds': 0.0, 'log': []}
    gen = torch.Generator().manual_seed(43)
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        draft.load_state_dict(c['model'])
        opt.load_state_dict(c['opt'])
        state = c['state']
        gen.set_state(c['gen'])
        print(f'resumed at step {state["step"]}', flush=True)
    else:
        state['log'].append({'step': 0, 'seconds': 0, **evaluate(target, draft, data)})
        print('init (target layers 0-1):', state['log'][-1], flush=True)

    def save():
        torch.save({'model': draft.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt + '.tmp')
        os.replace(ckpt + '.tmp', ckpt)

    t0, s0 = time.time(), state['seconds']
    run, n = 0.0, 0
    while state['step'] < args.steps and time.time() - t0 < args.minutes * 60:
        for g in opt.param_groups:
            g['lr'] = lr_at(state['step'], args.steps, base=5e-4, warm=50)
        x, cls = batch(data, 'train', args.batch, gen, drop=0.1)
        loss, _, _ = kl_loss(target, draft, x, cls)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(draft.parameters(), 1.0)
        opt.step()
        state['step'] += 1
        state['seconds'] = s0 + time.time() - t0
        run, n = run + float(loss), n + 1
        if state['step'] % 25 == 0:
            print(f'step {state["step"]} kl {run / n:.4f} {state["seconds"]:.0f}s', flush=True)
            run, n = 0.0, 0
        if state['step'] % args.eval_every == 0:
            state['log'].append({'step': state['step'], 'seconds': round(state['seconds']), **evaluate(target, draft, data)})
            print('eval', state['log'][-1], flush=True)
            save()
    save()
    if args.export:
        train_text.export(draft, 'asarm', data, state, argparse.Namespace(model=NAME, batch=args.batch, steps=args.steps), {
            'name': NAME,
            'description': 'Two-layer draft for speculative decoding of text-asarm in left-to-right order, distilled from it '
                           '(forward KL on its conditionals). Same vocabulary, tokenizer and classes as text-asarm.',
            'recipe': {'optimizer': 'AdamW(0.9, 0.98), wd 0.01', 'lr': '5e-4 peak, 50 warm-up, cosine to 5e-5',
                       'batch': args.batch, 'condition_dropout': 0.1, 'steps': state['step'], 'schedule_steps': args.steps,
                       'init': 'text-asarm embeddings, blocks 0-1, ln_f, head',
                       'objective': 'KL(p_text-asarm || q_draft), left-to-right order'},
            'command': 'OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_text_draft.py '
                       f'--steps {args.steps} --export',
            'metrics_fn': lambda: {k: round(v, 4) for k, v in evaluate(target, draft, data, n_batches=30).items()},
        })
        man = os.path.join(ROOT, 'models', NAME, 'manifest.json')
        m = json.load(open(man))
        m['draft_for'] = 'text-asarm'
        json.dump(m, open(man, 'w'), indent=1)


if __name__ == '__main__':
    main()
