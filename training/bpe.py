"""A byte-level BPE trainer that writes a Hugging Face `tokenizer.json` (the `tokenizers` Python package is not
installed here and PyPI is out of reach, so the algorithm is written out; the JSON is HF's format and
test/unit/tokenizer-hf.test.ts loads it with the JS library and checks that it encodes the validation text to
exactly the ids this file produces).

Scheme (GPT-2 / RoBERTa, Sennrich et al. arXiv 1508.07909 with Radford et al.'s byte-level alphabet):
  pre-tokenizer  ByteLevel with GPT-2's split regex (contractions, ' ?letters', ' ?digits', ' ?other', spaces);
                 the corpus is printable ASCII (training/prep_text.py), where \\p{L} = [A-Za-z] and \\p{N} = [0-9]
  alphabet       all 256 bytes through GPT-2's bytes→unicode map (space → 'Ġ'), so any text encodes
  merges         the most frequent adjacent pair over the pre-tokenized words, ties broken by the pair's
                 first occurrence order (deterministic), until the vocabulary has `vocab_size - len(specials)`
  special tokens appended after the merges ([MASK] for the masked-diffusion model)
Encoding applies the merges by rank (lowest first, leftmost first), as the HF BPE model does.

  /usr/bin/python3 training/bpe.py --vocab 2048 --out /tmp/tokenizer.json   # trains on training/.data/text.npz
"""
import argparse, collections, json, os, re
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")
GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


B2U = bytes_to_unicode()


def pieces(text):
    """Pre-tokenize: GPT-2 split, then each piece's bytes through the byte→unicode map."""
    return [''.join(B2U[b] for b in p.encode('utf-8')) for p in SPLIT.findall(text)]


def train(text, vocab_size, specials):
    words = collections.Counter(pieces(text))
    alphabet = [B2U[b] for b in range(256)]
    n_merges = vocab_size - len(alphabet) - len(specials)
    assert n_merges > 0, vocab_size
    wlist = [list(w) for w in words]
    freq = [words[w] for w in words]
    pair_count = collections.Counter()
    where = collections.defaultdict(set)  # pair -> word indices containing it
    for i, w in enumerate(wlist):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += freq[i]
            where[(a, b)].add(i)
    merges = []
    for _ in range(n_merges):
        if not pair_count:
            break
        best = max(pair_count.items(), key=lambda kv: (kv[1], kv[0]))[0]  # most frequent; ties by the larger pair (deterministic)
        if pair_count[best] < 2:
            break
        merges.append(best)
        a, b = best
        ab = a + b
        for i in list(where[best]):
            w = wlist[i]
            f = freq[i]
            for x, y in zip(w, w[1:]):  # remove the word's old pairs
                pair_count[(x, y)] -= f
                if pair_count[(x, y)] <= 0:
                    del pair_count[(x, y)]
                where[(x, y)].discard(i)
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(ab)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            wlist[i] = out
            for x, y in zip(out, out[1:]):
                pair_count[(x, y)] += f
                where[(x, y)].add(i)
        where.pop(best, None)
    vocab = {s: i for i, s in enumerate(alphabet)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    for s in specials:
        vocab[s] = len(vocab)
    return vocab, merges


class Encoder:
    """Applies the merges by rank, per pre-tokenized piece (cached): the HF BPE model's algorithm."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.rank = {m: r for r, m in enumerate(merges)}
        self.cache = {}

    def word(self, w):
        if w in self.cache:
            return self.cache[w]
        s = list(w)
        while len(s) > 1:
            r, j = min((self.rank.get((s[k], s[k + 1]), 1 << 30), k) for k in range(len(s) - 1))
            if r == 1 << 30:
                break
            s[j:j + 2] = [s[j] + s[j + 1]]
        ids = [self.vocab[t] for t in s]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        out = []
        for p in pieces(text):
            out.extend(self.word(p))
        return out


def tokenizer_json(vocab, merges, specials):
    """HF tokenizers' serialisation (version 1.0) of a byte-level BPE with special tokens."""
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{'id': vocab[s], 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True} for s in specials],
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        'post_processor': None,
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }


def corpus_text(split):
    """The text of training/.data/text.npz (char ids 0..94 = ASCII 32..126) for each class, one split."""
    from prep_text import CLASSES
    z = np.load(os.path.join(HERE, '.data', 'text.npz'))
    return {c: (z[f'{c}_{split}'].astype(np.uint8) + 32).tobytes().decode('ascii') for c in CLASSES}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--vocab', type=int, default=2048)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    text = ' '.join(corpus_text('train').values())
    vocab, merges = train(text, a.vocab, ['[MASK]'])
    with open(a.out, 'w') as f:
        json.dump(tokenizer_json(vocab, merges, ['[MASK]']), f, ensure_ascii=False)
    enc = Encoder(vocab, merges)
    for c, t in corpus_text('val').items():
        print(f'{c} val: {len(t)} chars, {len(enc.encode(t))} tokens')


if __name__ == '__main__':
    main()
