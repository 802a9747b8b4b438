"""text-classifier: tells Moby Dick from Jargon File snippets of the text models' length (128
characters), for text class consistency; its 64-d penultimate layer is the feature space for text
PRDC and Vendi. A small character CNN, written as the TypeScript side runs it (channels-last conv2d
with a 1×5 window over a (1, 128) "image" of 32-d character embeddings):
  emb (96 → 32) → conv 1×5 (32 → 64) ReLU → conv 1×5 (64 → 64) ReLU → mean over the 120 positions
  → fc 64 → 64 ReLU (features) → fc 64 → 2.
Data: prep_text.py's train split, random windows, balanced classes; accuracy on 2,000 random windows
of the held-out split.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_text_classifier.py --steps 1500
"""
import argparse, json, os, time
import torch
import torch.nn as nn
import torch.nn.functional as F

from export import write_safetensors, file_entry, round_weights_
from prep_text import VOCAB, MASK_ID, CLASSES
from train_text import T, load_data, batch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class TextCNN(nn.Module):
    def __init__(self, vocab=len(VOCAB) + 1, emb=32, channels=64, hidden=64, k=5, n_classes=len(CLASSES), length=T):
        super().__init__()
        self.cfg = {'vocab_size': vocab, 'emb': emb, 'channels': channels, 'hidden': hidden, 'kernel': k, 'n_classes': n_classes, 'length': length}
        self.emb = nn.Embedding(vocab, emb)
        self.conv1 = nn.Conv1d(emb, channels, k)
        self.conv2 = nn.Conv1d(channels, channels, k)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)

    def features(self, x):
        h = self.emb(x).transpose(1, 2)  # (B, emb, L)
        h = F.relu(self.conv2(F.relu(self.conv1(h))))
        return F.relu(self.fc1(h.mean(-1)))

    def forward(self, x):
        return self.fc2(self.features(x))

    def export_tensors(self, dtype=torch.float16):
        conv = lambda w: w.permute(2, 1, 0)[None]  # (Cout, Cin, K) → (1, K, Cin, Cout)
        t = {'emb.weight': self.emb.weight, 'conv1.weight': conv(self.conv1.weight), 'conv1.bias': self.conv1.bias,
             'conv2.weight': conv(self.conv2.weight), 'conv2.bias': self.conv2.bias,
             'fc1.weight': self.fc1.weight, 'fc1.bias': self.fc1.bias, 'fc2.weight': self.fc2.weight, 'fc2.bias': self.fc2.bias}
        return {k: v.detach().to(dtype).contiguous() for k, v in t.items()}


@torch.no_grad()
def accuracy(model, data, n=2000, seed=9):
    model.eval()
    g = torch.Generator().manual_seed(seed)
    ok = 0
    for _ in range(n // 200):
        x, cls = batch(data, 'val', 200, g)
        ok += int((model(x).argmax(-1) == cls).sum())
    model.train()
    return ok / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=1500)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = load_data()
    gen = torch.Generator().manual_seed(3)
    model = TextCNN()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=args.steps)
    t0, log = time.time(), []
    for step in range(1, args.steps + 1):
        x, cls = batch(data, 'train', args.batch, gen)
        loss = F.cross_entropy(model(x), cls)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0:
            log.append({'step': step, 'loss': round(float(loss), 4), 'val_accuracy': round(accuracy(model, data, 1000), 4), 'seconds': round(time.time() - t0)})
            print(json.dumps(log[-1]), flush=True)
    export(model, data, args, time.time() - t0, log)


def export(model, data, args, seconds, log):
    out = os.path.join(ROOT, 'models', 'text-classifier')
    os.makedirs(out, exist_ok=True)
    round_weights_(model)
    acc = accuracy(model, data)
    write_safetensors(os.path.join(out, 'model.safetensors'), model.export_tensors(), {'model': 'text-classifier'})
    g = torch.Generator().manual_seed(7)
    x, cls = batch(data, 'val', 4, g)
    model.eval()
    with torch.no_grad():
        feats = model.features(x)
        logits = model.fc2(feats)
    write_safetensors(os.path.join(out, 'golden.safetensors'), {'x': x.int(), 'cls': cls.int(), 'features': feats.float(), 'logits': logits.float()})
    manifest = {
        'format': 'samplescope-model/1', 'name': 'text-classifier', 'family': 'classifier',
        'description': 'Character CNN: Moby Dick vs Jargon File on 128-character snippets; its 64-d penultimate layer is the feature space for text PRDC and Vendi.',
        'architecture': {'type': 'textcnn', 'layout': 'conv weights (1, K, Cin, Cout) over a (1, L) row of embeddings; linear weights (out, in)', **model.cfg},
        'tokenizer': {'type': 'char', 'vocab': VOCAB + ['[MASK]'], 'mask_id': MASK_ID},
        'classes': CLASSES,
        'files': [file_entry(out, 'model.safetensors', 'weights'), file_entry(out, 'golden.safetensors', 'golden')],
        'training': {'data': 'prep_text.py train split, random 128-character windows, balanced', 'recipe': {'optimizer': 'AdamW wd 1e-4, one-cycle lr 2e-3', 'batch': args.batch, 'steps': args.steps},
                     'seconds': round(seconds), 'machine': '2 CPU cores (1 thread), PyTorch fp32',
                     'command': f'OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 training/train_text_classifier.py --steps {args.steps}', 'log': log},
        'metrics': {'val_accuracy': round(acc, 4), 'note': '2,000 random 128-character windows of the held-out 5% of each corpus'},
        'weights_dtype': 'F16',
    }
    json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=1)
    print(json.dumps(manifest['metrics']), flush=True)


if __name__ == '__main__':
    main()
