/**
 * Masked-diffusion samplers for bidirectional [MASK] models (absorbing state, linear schedule
 * α_t = 1 − t; the network is time-agnostic, so every sampler below differs only in which masked
 * positions it reveals at each pass and how many).
 *
 * - 'fhs' — first-hitting sampler (Zheng et al., arXiv 2409.02908): with m masked tokens at time t,
 *   the next reveal happens at s = t·u^(1/m) (the latest of m i.i.d. uniform unmasking times), at one
 *   masked position chosen uniformly. One pass per token: NFE = number of free positions, exactly.
 *   The sample is then a draw from the any-order mixture E_σ Π_i p(x_σ(i) | x_σ(<i)).
 * - 'ancestral' with `steps: N` — the classic sampler on the grid t_i = (N − i)/N: each masked position
 *   is revealed at a step with probability (t − s)/t, all from the same pass (so several tokens are
 *   drawn conditionally independently — the source of its error at small N). A step that reveals
 *   nothing leaves the input unchanged, so the next step reuses the logits (\`reuseLogits\`, default on):
 *   NFE = number of steps that changed something, at most min(N, free positions) for one row.
 * - 'ancestral' with `tokensPerStep: k` — exactly k positions per pass (the last pass takes the rest),
 *   chosen uniformly ('random') or by the drawn token's probability ('confidence', MaskGIT-style).
 *   k = 1 with 'random' is the any-order mixture again.
 * Guidance, temperature, top-k/top-p and precision apply to every draw; `prompt` fixes positions.
 */
import type { Tensor } from '../backend/tensor.js';
import { OpInputError, SamplerConfigError } from '../errors.js';
import { knobDefault, knobOption } from '../knobs/registry.js';
import type { Model } from '../models/model.js';
import type { CommonOptions, SampleResult, SamplerCheckpoint } from './common.js';
import {
  drawOptions,
  initialTokens,
  makeMaskBias,
  now,
  PositionRng,
  resolveCommon,
  sampleResult,
  stepLogits,
} from './common.js';

export interface MdmOptions extends CommonOptions {
  sampler: 'fhs' | 'ancestral';
  /** ancestral: number of steps on the time grid (stochastic number revealed per step) */
  steps?: number;
  /** ancestral: reveal exactly k positions per pass instead of using the time grid */
  tokensPerStep?: number;
  /** ancestral with tokensPerStep: which positions ('random' default, or 'confidence') */
  order?: 'random' | 'confidence';
  /**
   * ancestral with steps: skip the network when no token changed since the last pass and reuse its
   * logits (exact: the network is time-agnostic; fresh randomness is drawn every step). Default true;
   * false gives the classic one-pass-per-step cost (NFE = steps).
   */
  reuseLogits?: boolean;
  /** continue from a checkpoint taken by onStep of a run with the same options (e.g. after device loss) */
  resume?: SamplerCheckpoint;
}

export interface MdmResult extends SampleResult {
  /** fhs: the reveal time of each pass per row (batch, passes), from 1 down towards 0 */
  revealTimes?: Float32Array;
}

export async function sampleMdm(model: Model, o: MdmOptions): Promise<MdmResult> {
  if (model.attention !== 'bidirectional' || model.maskId === undefined) {
    throw new OpInputError('sampleMdm', `model ${model.name} is not a masked (bidirectional, [MASK]) model`);
  }
  const r = resolveCommon(model, o);
  const { batch: B, length: L } = r;
  const mask = model.maskId;
  const V = model.vocabSize;
  const be = model.backend;
  let mode: 'fhs' | 'grid' | 'k';
  let N = 0,
    k = 0;
  const order = o.order ?? (knobDefault('order', 'mdm', 'ancestral') as 'random');
  const reuse = knobOption('reuseLogits', o.reuseLogits, 'mdm', 'ancestral');
  if (o.sampler === 'fhs') {
    mode = 'fhs';
    if (o.steps !== undefined || o.tokensPerStep !== undefined)
      throw new SamplerConfigError('steps', 'absent for fhs (one pass per token)', o.steps ?? o.tokensPerStep);
  } else if (o.sampler === 'ancestral') {
    if ((o.steps === undefined) === (o.tokensPerStep === undefined))
      throw new SamplerConfigError('steps', 'given, or tokensPerStep given (exactly one of them)', o.steps ?? null);
    if (o.steps !== undefined) {
      mode = 'grid';
      N = knobOption('steps', o.steps, 'mdm', 'ancestral');
    } else {
      mode = 'k';
      k = knobOption('tokensPerStep', o.tokensPerStep, 'mdm', 'ancestral', { maxLength: L });
    }
    knobOption('order', order, 'mdm', 'ancestral');
    if (order === 'confidence' && mode !== 'k')
      throw new SamplerConfigError('order', "'random' with steps (confidence needs tokensPerStep)", order);
  } else {
    throw new SamplerConfigError('sampler', "'fhs' or 'ancestral'", o.sampler);
  }

  const { tokens, free } = initialTokens(r, mask);
  const maxFree = free.reduce((m, f) => Math.max(m, f.length), 0); // no spread: B rows can exceed the argument limit
  const passes = mode === 'fhs' ? maxFree : mode === 'k' ? Math.ceil(maxFree / k) : N;
  let start = 0;
  const rs = o.resume;
  if (rs !== undefined) {
    if (
      rs.sampler !== `mdm:${mode}` ||
      !(rs.tokens instanceof Uint32Array) ||
      rs.tokens.length !== B * L ||
      !Number.isInteger(rs.next) ||
      rs.next < 0 ||
      rs.next > passes ||
      rs.extra?.passes !== passes ||
      !Array.isArray(rs.extra?.t) ||
      (rs.extra.t as number[]).length !== B
    ) {
      throw new SamplerConfigError(
        'resume',
        `a checkpoint of this sampler ('mdm:${mode}', ${B}×${L}, ${passes} passes)`,
        rs.sampler,
      );
    }
    tokens.set(rs.tokens);
    // still undecided, in the original order
    for (let b = 0; b < B; b++) free[b] = free[b].filter((i) => tokens[b * L + i] === mask);
    start = rs.next;
  }
  const rng = new PositionRng(r.key, 1);
  const maskBias = makeMaskBias(model);
  const drawn: Tensor = be.empty([B * L], 'u32');
  const times = mode === 'fhs' ? new Float32Array(B * passes) : undefined;
  const t = rs ? Float64Array.from(rs.extra!.t as number[]) : new Float64Array(B).fill(1);
  const stepTimesMs: number[] = [];
  let nfe = rs ? rs.nfe : 0;
  let logits: Tensor | null = null;
  let changed = true; // did any token change since \`logits\` was computed
  try {
    for (let step = start; step < passes; step++) {
      if (free.every((f) => f.length === 0)) break;
      const t0 = now();
      if (changed || !(reuse && mode === 'grid')) {
        if (logits) be.free(logits);
        const s = await stepLogits(model, tokens, r, maskBias);
        logits = s.logits;
        nfe += s.passes;
      }
      changed = false;
      const flat = be.reshape(logits!, [B * L, V]);
      be.categorical(flat, drawOptions(r, step, drawn));
      const draws = (await be.read(drawn)) as Uint32Array;
      let conf: Float32Array | null = null;
      if (mode === 'k' && order === 'confidence') conf = (await be.read(logits!)) as Float32Array;
      for (let b = 0; b < B; b++) {
        const f = free[b];
        if (f.length === 0) continue;
        let reveal: number[];
        if (mode === 'fhs') {
          const m = f.length;
          const u = rng.uniform(b, 2 * step);
          t[b] = t[b] * Math.pow(1 - u, 1 / m); // s = t·U^(1/m), U = 1 − u ∈ (0, 1]
          times![b * passes + step] = t[b];
          const j = Math.min(m - 1, Math.floor(rng.uniform(b, 2 * step + 1) * m));
          reveal = [f[j]];
        } else if (mode === 'grid') {
          const remaining = N - step; // reveal w.p. (t − s)/t = 1/remaining; the last step takes all
          reveal = f.filter((_, idx) => rng.uniform(b * L + f[idx], step) * remaining < 1);
        } else {
          const n = Math.min(k, f.length);
          if (conf) {
            const score = (i: number) => {
              const row = conf!.subarray((b * L + i) * V, (b * L + i + 1) * V);
              let m = -Infinity;
              for (let v = 0; v < V; v++) if (v !== mask && row[v] > m) m = row[v];
              let z = 0;
              for (let v = 0; v < V; v++) if (v !== mask) z += Math.exp(row[v] - m);
              return Math.exp(row[draws[b * L + i]] - m) / z;
            };
            reveal = [...f].sort((x, y) => score(y) - score(x) || x - y).slice(0, n);
          } else {
            // n distinct positions uniformly: a partial Fisher–Yates shuffle
            const pool = [...f];
            for (let i = 0; i < n; i++) {
              const j = i + Math.min(pool.length - i - 1, Math.floor(rng.uniform(b, step * L + i) * (pool.length - i)));
              [pool[i], pool[j]] = [pool[j], pool[i]];
            }
            reveal = pool.slice(0, n);
          }
        }
        if (reveal.length > 0) changed = true;
        const set = new Set(reveal);
        for (const i of reveal) tokens[b * L + i] = draws[b * L + i];
        free[b] = f.filter((i) => !set.has(i));
      }
      stepTimesMs.push(now() - t0);
      o.onStep?.({
        step,
        nfe,
        tokens: tokens.slice(),
        checkpoint: {
          sampler: `mdm:${mode}`,
          next: step + 1,
          nfe,
          tokens: tokens.slice(),
          extra: { passes, t: Array.from(t) },
        },
      });
    }
  } finally {
    if (logits) be.free(logits);
    be.free(drawn);
    if (maskBias) be.free(maskBias);
  }
  return {
    ...sampleResult(
      r,
      { samples: tokens, nfe, stepTimesMs, backend: be.name },
      {
        sampler: o.sampler,
        steps: mode === 'grid' ? N : undefined,
        reuseLogits: mode === 'grid' ? reuse : undefined,
        tokensPerStep: mode === 'k' ? k : undefined,
        order: mode === 'k' ? order : undefined,
      },
    ),
    revealTimes: times,
  };
}
