/**
 * The character-CNN text classifier over the backend's ops — training/train_text_classifier.py
 * TextCNN, op for op: embedding → (1, L) row of channels → conv 1×K ReLU → conv 1×K ReLU → mean over
 * positions (a 1×(L − 2K + 2) average pool) → features = ReLU(W₁·h + b₁) → logits = W₂·features + b₂.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import { OpInputError } from '../errors.js';
import type { LoadedTensor } from './load.js';
import type { TextCnnManifest } from './manifest.js';
import type { TextClassifierModel } from './model.js';
import { WeightedModel } from './weights.js';

export class TextCnnClassifier extends WeightedModel<TextCnnManifest> implements TextClassifierModel {
  readonly kind = 'text-classifier' as const;
  readonly length: number;
  readonly numClasses: number;
  readonly featureDim: number;

  constructor(manifest: TextCnnManifest, weights: Map<string, LoadedTensor>, backend: Backend) {
    super(manifest, weights, backend);
    const a = manifest.architecture,
      w = this.w;
    this.length = a.length;
    this.numClasses = a.n_classes;
    this.featureDim = a.hidden;
    w.need('emb.weight', [a.vocab_size, a.emb]);
    w.need('conv1.weight', [1, a.kernel, a.emb, a.channels]);
    w.need('conv1.bias', [a.channels]);
    w.need('conv2.weight', [1, a.kernel, a.channels, a.channels]);
    w.need('conv2.bias', [a.channels]);
    w.need('fc1.weight', [a.hidden, a.channels]);
    w.need('fc1.bias', [a.hidden]);
    w.need('fc2.weight', [a.n_classes, a.hidden]);
    w.need('fc2.bias', [a.n_classes]);
  }

  /** (scoped: a call that throws frees what it allocated) */
  run(tokens: Uint32Array, batch: number): { features: Tensor; logits: Tensor } {
    return this.backend.scoped(() => this.runUnscoped(tokens, batch));
  }

  private runUnscoped(tokens: Uint32Array, batch: number): { features: Tensor; logits: Tensor } {
    this.live('textClassifier');
    const a = this.manifest.architecture,
      be = this.backend,
      w = this.w,
      L = this.length;
    if (!Number.isInteger(batch) || batch < 1 || tokens.length !== batch * L)
      throw new OpInputError(
        'textClassifier',
        `tokens must be (batch, ${L}): got ${tokens.length} ids for batch ${batch}`,
      );
    for (let i = 0; i < tokens.length; i++)
      if (tokens[i] >= a.vocab_size)
        throw new OpInputError(
          'textClassifier',
          `token id ${tokens[i]} at ${i} is outside the vocabulary [0, ${a.vocab_size})`,
        );
    const ids = be.tensor(tokens, [batch, L]);
    const e = be.embedding(ids, w.get('emb.weight')); // (B, L, emb)
    const c1 = be.conv2d(be.reshape(e, [batch, 1, L, a.emb]), w.get('conv1.weight'), {
      bias: w.get('conv1.bias'),
      activation: 'relu',
    });
    const c2 = be.conv2d(c1, w.get('conv2.weight'), { bias: w.get('conv2.bias'), activation: 'relu' });
    const pooled = be.pool2d(c2, { kind: 'avg', size: [1, c2.shape[2]] }); // (B, 1, 1, C)
    const h = be.matmul(be.reshape(pooled, [batch, a.channels]), w.get('fc1.weight'), {
      transB: true,
      bias: w.get('fc1.bias'),
    });
    const features = be.relu(h);
    const logits = be.matmul(features, w.get('fc2.weight'), { transB: true, bias: w.get('fc2.bias') });
    for (const t of [ids, e, c1, c2, pooled, h]) be.free(t);
    return { features, logits };
  }
}
