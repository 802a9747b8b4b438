/**
 * The digits CNN over the backend's ops — training/image_models.py DigitsClassifier, op for op:
 *   conv3×3(pad 1) ReLU, maxpool 2, conv3×3(pad 1) ReLU, maxpool 2, flatten (y, x, c),
 *   features = ReLU(W₁·h + b₁), logits = W₂·features + b₂.   (NHWC throughout)
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/tensor.js';
import { OpInputError } from '../errors.js';
import type { LoadedTensor } from './load.js';
import type { CnnManifest } from './manifest.js';
import type { ClassifierModel } from './model.js';
import { WeightedModel } from './weights.js';

export class CnnClassifier extends WeightedModel<CnnManifest> implements ClassifierModel {
  readonly kind = 'classifier' as const;
  readonly imageSize: number;
  readonly numClasses: number;
  readonly featureDim: number;

  constructor(manifest: CnnManifest, weights: Map<string, LoadedTensor>, backend: Backend) {
    super(manifest, weights, backend);
    const a = manifest.architecture,
      w = this.w;
    this.imageSize = a.image_size;
    this.numClasses = a.n_classes;
    this.featureDim = a.hidden;
    const flat = (a.image_size / 4) ** 2 * a.c2;
    w.need('conv1.weight', [3, 3, a.channels, a.c1]);
    w.need('conv1.bias', [a.c1]);
    w.need('conv2.weight', [3, 3, a.c1, a.c2]);
    w.need('conv2.bias', [a.c2]);
    w.need('fc1.weight', [a.hidden, flat]);
    w.need('fc1.bias', [a.hidden]);
    w.need('fc2.weight', [a.n_classes, a.hidden]);
    w.need('fc2.bias', [a.n_classes]);
  }

  /** (scoped: a call that throws frees what it allocated) */
  run(images: Tensor): { features: Tensor; logits: Tensor } {
    return this.backend.scoped(() => this.runUnscoped(images));
  }

  private runUnscoped(images: Tensor): { features: Tensor; logits: Tensor } {
    this.live('classifier');
    const be = this.backend,
      w = this.w,
      S = this.imageSize,
      C = this.manifest.architecture.channels;
    const sh = images.shape;
    const ok =
      (sh.length === 3 && C === 1 && sh[1] === S && sh[2] === S) ||
      (sh.length === 4 && sh[1] === S && sh[2] === S && sh[3] === C);
    if (!ok)
      throw new OpInputError(
        'classifier',
        `images must be (batch, ${S}, ${S}${C === 1 ? '' : `, ${C}`})${C === 1 ? ' or (batch, S, S, 1)' : ''}, got [${sh.join(', ')}]`,
      );
    if (images.dtype !== 'f32') throw new OpInputError('classifier', `images must be f32, got ${images.dtype}`);
    const B = sh[0];
    const x = be.reshape(images, [B, S, S, C]);
    const c1 = be.conv2d(x, w.get('conv1.weight'), { bias: w.get('conv1.bias'), pad: 1, activation: 'relu' });
    const p1 = be.pool2d(c1, { kind: 'max', size: 2 });
    const c2 = be.conv2d(p1, w.get('conv2.weight'), { bias: w.get('conv2.bias'), pad: 1, activation: 'relu' });
    const p2 = be.pool2d(c2, { kind: 'max', size: 2 });
    const h = be.matmul(be.reshape(p2, [B, p2.size / B]), w.get('fc1.weight'), {
      transB: true,
      bias: w.get('fc1.bias'),
    });
    const features = be.relu(h);
    const logits = be.matmul(features, w.get('fc2.weight'), { transB: true, bias: w.get('fc2.bias') });
    for (const t of [c1, p1, c2, p2, h]) be.free(t);
    return { features, logits };
  }
}
