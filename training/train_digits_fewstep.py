"""digits-fewstep: a few-step student of digits-diffusion by consistency distillation (Song et al.,
arXiv 2303.01469; the discretisation and loss choices follow the spirit of arXiv 2310.14189, scaled
down to one CPU core).

The student is the same DiT (so the same TypeScript denoiser runs it), initialised from the teacher's
EMA weights. Its consistency function is the x̂0 of its ε-prediction, f(x, t) = (x − √(1−ᾱ_t) ε̂)/√ᾱ_t.
On a grid of N + 1 timesteps τ_0 = 0 < … < τ_N = T − 1, each training pair is x_{τ_{n+1}} ~ q(· | x0)
and x̂_{τ_n} = one deterministic DDIM step of the (conditional or, 10% of the time, unconditional)
teacher; the loss is ‖f_θ(x_{τ_{n+1}}, τ_{n+1}) − f_θ⁻(x̂_{τ_n}, τ_n)‖² with θ⁻ an EMA (0.99) of θ.

Sampling (multistep consistency): x = z; for each chosen timestep t_k: x̂0 = clamp(f(x, t_k));
then x = √ᾱ_{t_{k+1}} x̂0 + √(1−ᾱ_{t_{k+1}}) z'. The TypeScript sampler 'consistency' does exactly this.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_digits_fewstep.py --minutes 40 --export
"""
import argparse, json, math, os, time
import numpy as np
import torch
import torch.nn.functional as F

from export import write_safetensors, read_safetensors, file_entry, round_weights_, ckpt_dir, weights_sha
from image_models import DiT
from prep_digits import load, PACKAGE
from train_digits_diffusion import schedule, classifier, T_STEPS, BETA0, BETA1, NULL

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
N_GRID = 20


def teacher_weights():
    """The teacher: the digits-diffusion checkpoint's EMA if present, else the committed export."""
    ck = os.path.join(ckpt_dir(), 'digits-diffusion.pt')
    sha = weights_sha(json.load(open(os.path.join(ROOT, 'models', 'digits-diffusion', 'manifest.json'))))
    if os.path.exists(ck):  # named by its step and the export committed beside it, not by this machine's path
        c = torch.load(ck)
        return c['ema'], f"digits-diffusion checkpoint EMA at step {c['state']['step']} (f32; committed models/digits-diffusion then: weights sha256 {sha})"
    t = read_safetensors(os.path.join(ROOT, 'models', 'digits-diffusion', 'model.safetensors'))
    return t, f'models/digits-diffusion/model.safetensors (weights sha256 {sha})'


def x0_of(model, x, t, cls, ab):
    a = ab[t][:, None, None, None]
    return (x - (1 - a).sqrt() * model(x, t, cls)) / a.sqrt()


def consistency_timesteps(steps):
    """The timesteps a k-step consistency sampler visits: round((T − 1)(1 − i/k)), i = 0..k−1 (k = 4: 999, 749, 500, 250)."""
    return [int(round((T_STEPS - 1) * (1 - i / steps))) for i in range(steps)]


@torch.no_grad()
def consistency_sample(model, cls, steps, seed=0):
    ab = schedule().float()
    g = torch.Generator().manual_seed(seed)
    B = len(cls)
    x = torch.randn(B, 28, 28, 1, generator=g)
    ts = consistency_timesteps(steps)
    for k, t in enumerate(ts):
        x0 = x0_of(model, x, torch.full((B,), t), cls, ab).clamp(-1, 1)
        if k + 1 < len(ts):
            a = ab[ts[k + 1]]
            x = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn(x.shape, generator=g)
        else:
            x = x0
    return ((x[..., 0] + 1) / 2).clamp(0, 1)


@torch.no_grad()
def fewstep_accuracy(model, steps_list=(1, 2, 4), n_per_class=10):
    clf = classifier()
    cls = torch.arange(10).repeat_interleave(n_per_class)
    return {f'steps={s}': round(float((clf(consistency_sample(model, cls, s, seed=123)).argmax(-1) == cls).float().mean()), 4) for s in steps_list}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--minutes', type=float, default=40)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--export', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    xtr, ytr = (torch.from_numpy(a) for a in load('train'))
    xtr = xtr[..., None] * 2 - 1
    tw, teacher_src = teacher_weights()
    teacher, student, target = DiT(), DiT(), DiT()
    for m in (teacher, student, target):
        m.load_state_dict(tw)
    teacher.eval()
    opt = torch.optim.AdamW(student.parameters(), lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0)
    gen = torch.Generator().manual_seed(4)
    ab = schedule().float()
    grid = torch.linspace(0, T_STEPS - 1, N_GRID + 1).round().long()
    ckpt = os.path.join(ckpt_dir(), 'digits-fewstep.pt')
    state = {'step': 0, 'seconds': 0.0, 'log': [], 'teacher': teacher_src}
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        student.load_state_dict(c['student']); target.load_state_dict(c['target']); opt.load_state_dict(c['opt'])
        state = c['state']; gen.set_state(c['gen'])
        print(f"resumed at step {state['step']}", flush=True)
    save = lambda: torch.save({'student': student.state_dict(), 'target': target.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt)
    t0, s0, run = time.time(), state['seconds'], []
    while state['step'] < args.steps and time.time() - t0 < args.minutes * 60:
        idx = torch.randint(0, len(xtr), (args.batch,), generator=gen)
        x0, cls = xtr[idx], ytr[idx].clone()
        cls[torch.rand(args.batch, generator=gen) < 0.1] = NULL
        n = torch.randint(0, N_GRID, (args.batch,), generator=gen)
        t_hi, t_lo = grid[n + 1], grid[n]
        a_hi, a_lo = ab[t_hi][:, None, None, None], ab[t_lo][:, None, None, None]
        x_hi = a_hi.sqrt() * x0 + (1 - a_hi).sqrt() * torch.randn(x0.shape, generator=gen)
        with torch.no_grad():
            eps_t = teacher(x_hi, t_hi, cls)
            x0_t = (x_hi - (1 - a_hi).sqrt() * eps_t) / a_hi.sqrt()
            x_lo = a_lo.sqrt() * x0_t + (1 - a_lo).sqrt() * eps_t  # one DDIM (η = 0) teacher step
            want = x0_of(target, x_lo, t_lo, cls, ab)
        loss = F.mse_loss(x0_of(student, x_hi, t_hi, cls, ab), want)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for pt, ps in zip(target.parameters(), student.parameters()):
                pt.mul_(0.99).add_(ps, alpha=0.01)
        state['step'] += 1
        state['seconds'] = s0 + time.time() - t0
        run.append(float(loss))
        if state['step'] % 50 == 0:
            print(f"step {state['step']} loss {np.mean(run):.5f} {state['seconds']:.0f}s", flush=True)
            run = []
        if state['step'] % 250 == 0:
            save()
        if state['step'] % 1000 == 0:
            state['log'].append({'step': state['step'], 'seconds': round(state['seconds']), 'classifier_accuracy': fewstep_accuracy(target)})
            print('eval', json.dumps(state['log'][-1]), flush=True)
    save()
    if args.export:
        export(target, teacher, state, args)


def export(model, teacher, state, args):
    out = os.path.join(ROOT, 'models', 'digits-fewstep')
    os.makedirs(out, exist_ok=True)
    round_weights_(model)
    model.eval()
    acc = fewstep_accuracy(model)
    acc_teacher = fewstep_accuracy(teacher)
    write_safetensors(os.path.join(out, 'model.safetensors'), model.export_tensors(), {'model': 'digits-fewstep'})
    g = torch.Generator().manual_seed(9)
    x = torch.randn(4, 28, 28, 1, generator=g)
    t = torch.tensor([999, 749, 249, 0])
    cls = torch.tensor([1, 4, NULL, 9])
    with torch.no_grad():
        eps = model(x, t, cls)
    write_safetensors(os.path.join(out, 'golden.safetensors'), {'x': x, 't': t.int(), 'cls': cls.int(), 'eps': eps.float()})
    base = json.load(open(os.path.join(ROOT, 'models', 'digits-diffusion', 'manifest.json')))
    manifest = {
        'format': 'samplescope-model/1', 'name': 'digits-fewstep', 'family': 'image-consistency',
        'description': 'Few-step student of digits-diffusion by consistency distillation: 1-4 steps of the consistency sampler.',
        'architecture': base['architecture'], 'diffusion': {**base['diffusion'], 'sampler': 'consistency', 'recommended_steps': [1, 2, 4]},
        'classes': base['classes'], 'null_class': base['null_class'],
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {'teacher': state['teacher'], 'data': {'package': f'npm {PACKAGE}'},
                     'recipe': {'method': 'consistency distillation, DDIM teacher step, EMA target 0.99', 'grid': N_GRID,
                                'optimizer': 'AdamW 1e-4', 'batch': args.batch, 'steps': state['step']},
                     'seconds': round(state['seconds']), 'machine': '2 CPU cores (1 thread), PyTorch fp32',
                     'command': 'OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_digits_fewstep.py --export', 'log': state['log']},
        'metrics': {'classifier_accuracy_consistency_pytorch': acc, 'teacher_with_the_same_sampler': acc_teacher,
                    'note': 'digits-classifier accuracy on 100 samples (10 per class, seed 123) of the k-step consistency sampler'},
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
