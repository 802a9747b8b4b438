"""digits-guided: a guidance-distilled student of digits-diffusion (Meng et al., "On Distillation of
Guided Diffusion Models", arXiv 2210.03142, stage one; the λ interpolation of Diversity-Rewarded CFG
Distillation, arXiv 2410.06084, then mixes its weights with the teacher's).

The student is the same DiT (the same TypeScript denoiser runs it), initialised from the teacher, and
trained so that ONE conditional pass reproduces the teacher's guided ε at scale w (python convention
ε_c + w(ε_c − ε_u); samplescope's s = w + 1):

  loss = ‖ε_student(x_t, t, c) − [ε_c + w(ε_c − ε_u)]_teacher‖²,  x_t ~ q(x_t | x_0), t uniform,

with 10% of the rows on the null class, whose target is the teacher's unconditional ε_u, so the student
keeps an unconditional mode. Sampling it with plain conditioning (s = 1) costs half the passes of the
guided teacher. Validation: digits-classifier accuracy of DDIM-50 samples, student at w = 0 vs the
teacher at w = 3 (the seed papers' "consistency" axis), seed 123, 10 per class.

  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_digits_guided.py --minutes 40 --export
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn.functional as F

from export import write_safetensors, file_entry, round_weights_, ckpt_dir
from image_models import DiT
from prep_digits import load, PACKAGE
from train_digits_diffusion import schedule, guided_accuracy, T_STEPS, NULL
from train_digits_fewstep import teacher_weights

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NAME = 'digits-guided'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--w', type=float, default=3.0, help='guidance scale distilled (python convention; s = w + 1)')
    ap.add_argument('--steps', type=int, default=4000)
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
    teacher, student = DiT(), DiT()
    teacher.load_state_dict(tw)
    student.load_state_dict(tw)
    teacher.eval()
    opt = torch.optim.AdamW(student.parameters(), lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0)
    gen = torch.Generator().manual_seed(5)
    ab = schedule().float()
    ckpt = os.path.join(ckpt_dir(), f'{NAME}.pt')
    state = {'step': 0, 'seconds': 0.0, 'log': [], 'teacher': teacher_src, 'w': args.w}
    if os.path.exists(ckpt):
        c = torch.load(ckpt)
        student.load_state_dict(c['student'])
        opt.load_state_dict(c['opt'])
        state = c['state']
        gen.set_state(c['gen'])
        print(f"resumed at step {state['step']}", flush=True)

    def save():
        torch.save({'student': student.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt + '.tmp')
        os.replace(ckpt + '.tmp', ckpt)

    t0, s0, run = time.time(), state['seconds'], []
    while state['step'] < args.steps and time.time() - t0 < args.minutes * 60:
        idx = torch.randint(0, len(xtr), (args.batch,), generator=gen)
        x0, cls = xtr[idx], ytr[idx].clone()
        uncond = torch.rand(args.batch, generator=gen) < 0.1
        cls[uncond] = NULL
        t = torch.randint(0, T_STEPS, (args.batch,), generator=gen)
        a = ab[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn(x0.shape, generator=gen)
        with torch.no_grad():
            both = teacher(torch.cat([xt, xt]), torch.cat([t, t]), torch.cat([cls, torch.full_like(cls, NULL)]))
            ec, eu = both[: args.batch], both[args.batch:]
            want = torch.where(uncond[:, None, None, None], eu, ec + args.w * (ec - eu))
        loss = F.mse_loss(student(xt, t, cls), want)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        state['step'] += 1
        state['seconds'] = s0 + time.time() - t0
        run.append(float(loss))
        if state['step'] % 50 == 0:
            print(f"step {state['step']} loss {np.mean(run):.5f} {state['seconds']:.0f}s", flush=True)
            run = []
        if state['step'] % 250 == 0:
            save()
        if state['step'] % 1000 == 0:
            state['log'].append({'step': state['step'], 'seconds': round(state['seconds']),
                                 'classifier_accuracy': guided_accuracy(student, ws=(0.0,))})
            print('eval', json.dumps(state['log'][-1]), flush=True)
    save()
    if args.export:
        export(student, teacher, state, args)


def export(model, teacher, state, args):
    out = os.path.join(ROOT, 'models', NAME)
    os.makedirs(out, exist_ok=True)
    round_weights_(model)
    model.eval()
    acc = guided_accuracy(model, ws=(0.0, 1.0))
    acc_teacher = guided_accuracy(teacher, ws=(0.0, args.w))
    write_safetensors(os.path.join(out, 'model.safetensors'), model.export_tensors(), {'model': NAME})
    g = torch.Generator().manual_seed(9)
    x = torch.randn(4, 28, 28, 1, generator=g)
    t = torch.tensor([999, 749, 249, 0])
    cls = torch.tensor([1, 4, NULL, 9])
    with torch.no_grad():
        eps = model(x, t, cls)
    write_safetensors(os.path.join(out, 'golden.safetensors'), {'x': x, 't': t.int(), 'cls': cls.int(), 'eps': eps.float()})
    base = json.load(open(os.path.join(ROOT, 'models', 'digits-diffusion', 'manifest.json')))
    manifest = {
        'format': 'samplescope-model/1', 'name': NAME, 'family': base['family'],
        'description': f"Guidance-distilled student of digits-diffusion: one conditional pass reproduces the teacher's guided ε at "
                       f"s = {args.w + 1:g} (w = {args.w:g}); sample it with plain conditioning (guidance 1) at half the teacher's passes.",
        'architecture': base['architecture'], 'diffusion': base['diffusion'],
        'classes': base['classes'], 'null_class': base['null_class'],
        'guidance_distilled': {'teacher': 'digits-diffusion', 'scale_s': args.w + 1, 'w': args.w},
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {'teacher': state['teacher'], 'data': {'package': f'npm {PACKAGE}'},
                     'recipe': {'method': 'guidance distillation (arXiv 2210.03142 stage one): MSE to the teacher guided ε on q(x_t | x_0)',
                                'w': args.w, 'null_class_rows': 0.1, 'optimizer': 'AdamW 1e-4', 'batch': args.batch,
                                'steps': state['step']},
                     'seconds': round(state['seconds']), 'machine': '2 CPU cores (1 thread), PyTorch fp32',
                     'command': 'OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/train_digits_guided.py --export',
                     'log': state['log']},
        'metrics': {'classifier_accuracy_ddim50_pytorch': acc, 'teacher_guided': acc_teacher,
                    'note': 'digits-classifier accuracy on 100 DDIM-50 (eta 0) samples, 10 per class, seed 123; '
                            'the student at w = 0 is one pass per step, the teacher at w = 3 two'},
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
