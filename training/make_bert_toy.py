"""test/fixtures/bert-toy: a tiny BERT-style masked LM with random weights, exported with torch.onnx, and a
WordPiece tokenizer.json made here — the "bring your own model" proof that a network built nothing like ours
(absolute learned positions, post-LN, exact GELU, an MLM head, an attention-mask input, WordPiece) samples under
samplescope's samplers from the "your model" page (test/e2e/your-model.test.ts).

  vocabulary  [PAD] [UNK] [CLS] [SEP] [MASK], the printable ASCII characters (lower-cased letters), the same
              with "##", a few suffixes, and the 400 commonest words of the text models' training split
              (training/.data/text.npz; run training/prep_text.py first)
  tokenizer   HF tokenizer.json: BertNormalizer (lower case), BertPreTokenizer, WordPiece (##), BertProcessing,
              WordPiece decoder
  model       BERT (Devlin et al. arXiv 1810.04805) post-LN encoder: LN(tok + pos), blocks
              x = LN(x + Attn(x | attention_mask)); x = LN(x + W2·gelu(W1·x)); MLM head
              LN(gelu(W·x)) → logits; d 32, 2 layers, 2 heads, ff 64, L ≤ 32; random weights (seed 0)
  graph       inputs input_ids (B, L) int64, attention_mask (B, L) int64 → logits (B, L, V); batch and length
              dynamic; opset 17
  golden      golden.safetensors: two masked rows and PyTorch's logits for them (test/unit/tokenizer-hf.test.ts
              runs the graph through the ONNX adapter against them)

  OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 training/make_bert_toy.py
"""
import collections, json, math, os, re, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from export import write_safetensors, file_entry  # noqa: E402
import bpe  # noqa: E402

OUT = os.path.join(ROOT, 'test', 'fixtures', 'bert-toy')
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
D, LAYERS, HEADS, FF, MAX_LEN = 32, 2, 2, 64, 32


def wordpiece_vocab():
    chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    words = collections.Counter(re.findall(r'[a-z]+', ' '.join(bpe.corpus_text('train').values()).lower()))
    common = [w for w, _ in words.most_common(400) if len(w) > 1]
    suffixes = ['##s', '##ed', '##ing', '##ly', '##er', '##es', '##ion', '##al']
    vocab = []
    for t in SPECIALS + chars + ['##' + c for c in chars if c.isalnum()] + suffixes + common:
        if t not in vocab:
            vocab.append(t)
    return {t: i for i, t in enumerate(vocab)}


def tokenizer_json(vocab):
    sp = lambda t: {'id': vocab[t], 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
                    'normalized': False, 'special': True}
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [sp(t) for t in SPECIALS],
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True,
                       'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {'type': 'BertProcessing', 'sep': ['[SEP]', vocab['[SEP]']], 'cls': ['[CLS]', vocab['[CLS]']]},
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##',
                  'max_input_chars_per_word': 100, 'vocab': vocab},
    }


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)
        self.o = nn.Linear(D, D)
        self.ln1 = nn.LayerNorm(D, eps=1e-12)
        self.w1 = nn.Linear(D, FF)
        self.w2 = nn.Linear(FF, D)
        self.ln2 = nn.LayerNorm(D, eps=1e-12)

    def forward(self, x, bias):
        B, T, _ = x.shape
        q, k, v = self.qkv(x).reshape(B, T, 3, HEADS, D // HEADS).permute(2, 0, 3, 1, 4)
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D // HEADS) + bias, dim=-1)
        x = self.ln1(x + self.o(torch.matmul(a, v).transpose(1, 2).reshape(B, T, D)))
        return self.ln2(x + self.w2(F.gelu(self.w1(x))))


class Bert(nn.Module):
    def __init__(self, V):
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Embedding(MAX_LEN, D)
        self.ln = nn.LayerNorm(D, eps=1e-12)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.head = nn.Linear(D, D)
        self.head_ln = nn.LayerNorm(D, eps=1e-12)
        self.decoder = nn.Linear(D, V)
        for e in (self.tok, self.pos):
            nn.init.normal_(e.weight, std=0.5)
        nn.init.normal_(self.decoder.weight, std=0.5)  # random but not flat: samples differ from uniform

    def forward(self, input_ids, attention_mask):
        T = input_ids.shape[1]
        x = self.ln(self.tok(input_ids) + self.pos.weight[:T][None])
        bias = (1.0 - attention_mask.to(torch.float32))[:, None, None, :] * -1e4
        for b in self.blocks:
            x = b(x, bias)
        return self.decoder(self.head_ln(F.gelu(self.head(x))))


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    vocab = wordpiece_vocab()
    V = len(vocab)
    with open(os.path.join(OUT, 'tokenizer.json'), 'w') as f:
        json.dump(tokenizer_json(vocab), f)
    model = Bert(V).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randint(len(SPECIALS), V, (2, 16), generator=g)
    x = torch.where(torch.rand(x.shape, generator=g) < 0.5, torch.full_like(x, vocab['[MASK]']), x)
    am = torch.ones_like(x)
    with torch.no_grad():
        logits = model(x, am)
    path = os.path.join(OUT, 'model.onnx')
    torch.onnx.export(model, (x, am), path, input_names=['input_ids', 'attention_mask'], output_names=['logits'],
                      opset_version=17, do_constant_folding=True,
                      dynamic_axes={'input_ids': {0: 'batch', 1: 'length'}, 'attention_mask': {0: 'batch', 1: 'length'},
                                    'logits': {0: 'batch', 1: 'length'}})
    write_safetensors(os.path.join(OUT, 'golden.safetensors'), {'x': x.int(), 'logits': logits.float()}, {'model': 'bert-toy'})
    manifest = {
        'format': 'samplescope-model/1', 'name': 'bert-toy', 'family': 'mdm',
        'description': 'A tiny random BERT-style masked LM (absolute positions, post-LN, GELU, MLM head) with a WordPiece '
                       'tokenizer, exported with torch.onnx by training/make_bert_toy.py: a stand-in for a model brought from elsewhere.',
        'architecture': {'type': 'onnx', 'kind': 'masked-diffusion', 'vocab_size': V, 'max_len': MAX_LEN, 'n_classes': 0,
                         'inputs': {'tokens': 'input_ids', 'attention_mask': 'attention_mask'}, 'outputs': {'logits': 'logits'}},
        'tokenizer': {'type': 'hf', 'file': 'tokenizer.json', 'mask_token': '[MASK]', 'pad_token': '[PAD]',
                      'special_tokens': ['[CLS]', '[SEP]', '[UNK]'], 'clean_up_tokenization_spaces': True},
        'classes': ['none'], 'null_class': 0,
        'files': [file_entry(OUT, 'model.onnx', 'onnx'), file_entry(OUT, 'tokenizer.json', 'tokenizer'),
                  file_entry(OUT, 'golden.safetensors', 'golden')],
    }
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f'wrote {os.path.relpath(OUT, ROOT)}: V = {V}, {total / 1e3:.0f} kB')


if __name__ == '__main__':
    main()
